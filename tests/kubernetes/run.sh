#!/bin/bash
# SPDX-License-Identifier: MIT
# The Kubernetes deployment renders offline and holds what it relies on:
# deploy/kubernetes and deploy/overlays/example rendered with every kubectl
# there is (the one on PATH, and Debian 12's kubernetes-client, kustomize
# v2.0.3, which scripts/deps.sh unpacks into the cache), each rendering
# checked by check_manifests.py; and a broken overlay (tests/kubernetes/
# broken) must fail exactly the checks it breaks. PASS/FAIL lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MAICACHE_CACHE:-$root/.cache}
here=$root/tests/kubernetes
agent=$root/build/user/maicache-agent
out=$root/build/kubernetes
mkdir -p "$out"

[ -x "$agent" ] || { echo "FAIL kubernetes: $agent is not built (make user)"; exit 1; }
kubectls=()
command -v kubectl >/dev/null && kubectls+=("$(command -v kubectl)")
deb=$cache/kubernetes-client/usr/bin/kubectl
[ -x "$deb" ] && kubectls+=("$deb")
[ ${#kubectls[@]} -gt 0 ] || { echo "FAIL kubernetes: no kubectl (make deps)"; exit 1; }

# render KUBECTL DIR FILE: kubectl kustomize DIR into FILE; its own deprecation
# warnings (stderr) are kept beside it.
render() {
	"$1" kustomize "$2" >"$3" 2>"$3.err" || { echo "  $(cat "$3.err")" >&2; return 1; }
}

for k in "${kubectls[@]}"; do
	v=$("$k" version --client 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1)
	for dir in deploy/kubernetes deploy/overlays/example; do
		label="$dir (kubectl $v)"
		f=$out/$(tr / - <<<"$dir")-$v.yaml
		if ! render "$k" "$root/$dir" "$f"; then
			echo "FAIL $label: kubectl kustomize failed"
			continue
		fi
		echo "PASS $label: kubectl kustomize renders it"
		python3 "$here/check_manifests.py" "$label" "$f" "$agent"
	done

	# The broken overlay: exactly these checks fail, and the checker says so.
	label="broken overlay (kubectl $v)"
	f=$out/broken-$v.yaml
	if ! render "$k" "$here/broken" "$f"; then
		echo "FAIL $label: kubectl kustomize failed"
		continue
	fi
	res=$(python3 "$here/check_manifests.py" broken "$f" "$agent")
	rc=$?
	fails=$(grep '^FAIL' <<<"$res" | sed 's/^FAIL broken: //' | sort | tr '\n' '|')
	want="maicache-agent --check-file accepts the ConfigMap's datasets|maicached's memory holds the pool and 256Mi more|the mount root is the host's, with Bidirectional propagation|"
	if [ "$rc" -ne 0 ] && [ "$fails" = "$want" ] && grep -q "sas: a secret does not belong" <<<"$res"; then
		echo "PASS $label: fails the three checks it breaks"
	else
		echo "FAIL $label: want exit 1 and FAILs '$want', got exit $rc and '$fails'"
		echo "$res" | sed 's/^/  /'
	fi
done
