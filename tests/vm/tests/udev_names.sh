#!/bin/bash
# Stable names: the real systemd-udevd with dist/60-maicache.rules from the
# tree makes /dev/disk/by-maicache/<name> for each volume attached with
# --name, pointing at its /dev/maicacheN and reading its bytes; a volume
# without a name gets no link; a detached volume's link goes away, the
# others stay; attaching again under another name moves the link; a daemon
# restart keeps it (the module kept the device), and a daemon that finds
# its devices gone makes them again with their names; names breaking the
# rule are refused with the rule's message and create nothing.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$MAICACHE_ROOT/tests/vm/lib.sh"
# shellcheck source=tests/vm/maicache.sh
. "$MAICACHE_ROOT/tests/vm/maicache.sh"
# shellcheck source=tests/vm/daemon.sh
. "$MAICACHE_ROOT/tests/vm/daemon.sh"

links=/dev/disk/by-maicache
udevd=/lib/systemd/systemd-udevd

udev_cleanup() {
	udevadm control --exit 2>/dev/null || true
}
# After daemon_cleanup has removed the devices: their links go with udevd.
trap 'mc_cleanup; udev_cleanup' EXIT

# udevadm does nothing in a chroot ("Running in chroot, ignoring request"),
# which the VM's root is: settle would not wait and control would not stop.
export SYSTEMD_IGNORE_CHROOT=1

# /etc is the host's, read-only over 9p; udevd also reads /run/udev/rules.d,
# which is the VM's own tmpfs.
[[ -x $udevd ]] || die "no $udevd (apt-get install udev)"
mkdir -p /run/udev/rules.d
cp "$MAICACHE_ROOT/dist/60-maicache.rules" /run/udev/rules.d/
"$udevd" --daemon 2>>"$MAICACHE_OUT/udevd.log" || die "systemd-udevd did not start"

# link_of NAME: where /dev/disk/by-maicache/NAME points ("" if absent).
link_of() { readlink -f "$links/$1" 2>/dev/null || true; }
# names_now: the links there are, sorted, one line.
names_now() { find "$links" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort | xargs; }
# settle: wait until udevd has handled every event; it must really wait.
settle() {
	local out
	out=$(udevadm settle --timeout=30 2>&1) || die "udevadm settle failed: $out"
	[[ -z $out ]] || die "udevadm settle said: $out"
}
settle

# expect_names "A B" LABEL: after settle, the links are A B. A remove can
# still be on its way to udevd when settle returns (settle waits for the
# events udevd has queued), so wait up to 10 s for it before failing.
expect_names() {
	local i
	settle
	for ((i = 0; i < 100; i++)); do
		[[ $(names_now) == "$1" ]] && return 0
		sleep 0.1
		settle
	done
	ls -l "$links" /run/udev/links/* /dev/maicache* 2>&1 || true
	udevadm info --export-db | grep -B2 -A12 'maicache[0-9]' || true
	assert_eq "$(names_now)" "$1" "$2"
}

a=/tmp/a.img b=/tmp/b.img c=/tmp/c.img
head -c $((3 << 20)) /dev/urandom >"$a"
head -c $(((2 << 20) + 4096)) /dev/urandom >"$b"
head -c $((1 << 20)) /dev/urandom >"$c"

start_daemon
echo "== attach two named volumes and one without a name"
dev_a=$(attach "file://$a" --name train-set)
dev_b=$(attach "file://$b" --name eval.v2)
dev_c=$(attach "file://$c")
settle
echo "$dev_a $dev_b $dev_c; links: $(names_now)"
ls -l "$links"/ || true
assert_eq "$(cat "/sys/block/${dev_a#/dev/}/maicache/name")" "train-set" "sysfs name of $dev_a"
assert_eq "$(cat "/sys/block/${dev_b#/dev/}/maicache/name")" "eval.v2" "sysfs name of $dev_b"
assert_eq "$(cat "/sys/block/${dev_c#/dev/}/maicache/name")" "" "sysfs name of the unnamed $dev_c"
assert_eq "$(link_of train-set)" "$dev_a" "link train-set"
assert_eq "$(link_of eval.v2)" "$dev_b" "link eval.v2"
expect_names "eval.v2 train-set" "links (none for the unnamed volume)"

echo "== read through the links"
cmp "$links/train-set" "$a" || die "train-set does not read as $a"
cmp -n "$(stat -c %s "$b")" "$links/eval.v2" "$b" || die "eval.v2 does not read as $b"

echo "== names the rule refuses"
# shellcheck disable=SC2016 # x$y is a name, not an expansion
for bad in .hidden .. -rf a/b "two words" 'x$y' "$(printf 'n%.0s' {1..64})"; do
	out=$("$ctl" attach "file://$c" --name "$bad" 2>&1) &&
		die "attach --name '$bad' worked"
	echo "--name '$bad': $out"
	grep -q -- "--name: volume name" <<<"$out" || die "--name '$bad': no rule in '$out'"
done
head -c $((1 << 20)) /dev/urandom >/tmp/d.img
out=$("$ctl" attach file:///tmp/d.img --name train-set 2>&1) && die "a second train-set was attached"
grep -q "already attached as $dev_a named train-set" <<<"$out" || die "duplicate name: '$out'"
expect_names "eval.v2 train-set" "links after the refused attaches"

echo "== detach eval.v2: its link goes, train-set's stays"
"$ctl" detach eval.v2
expect_names "train-set" "links after the detach"
[[ ! -e $dev_b ]] || die "$dev_b still there after detach"
assert_eq "$(link_of train-set)" "$dev_a" "link train-set after eval.v2's detach"

echo "== attach b again as eval.v3: a new link, none for the old name"
dev_b=$(attach "file://$b" --name eval.v3)
expect_names "eval.v3 train-set" "links after attaching again"
assert_eq "$(link_of eval.v3)" "$dev_b" "link eval.v3"
cmp -n "$(stat -c %s "$b")" "$links/eval.v3" "$b" || die "eval.v3 does not read as $b"

echo "== a daemon restart keeps the devices and their links"
stop_daemon
start_daemon
expect_names "eval.v3 train-set" "links after a restart"
assert_eq "$(link_of train-set)" "$dev_a" "link train-set after a restart"
cmp "$links/train-set" "$a" || die "train-set does not read as $a after a restart"

echo "== devices lost while the daemon is down (a module reload): made again with their names"
stop_daemon
"$ctl" list
for id in $("$ctl" --json list | json_num id); do
	echo "maicachectl remove $id"
	"$ctl" remove "$id"
done
expect_names "" "links once the devices are gone"
start_daemon
expect_names "eval.v3 train-set" "links after the daemon made the devices again"
assert_eq "$(link_of train-set)" "$dev_a" "link train-set after the devices were made again"
cmp "$links/train-set" "$a" || die "train-set does not read as $a after it was made again"
tail -n +"$(grep -n -- '--- start' "$dlog" | tail -1 | cut -d: -f1)" "$dlog" |
	grep -q "re-attached file://$a" || die "this daemon did not say it re-attached $a"

echo "== detach everything: no link left"
"$ctl" detach train-set
"$ctl" detach eval.v3
"$ctl" detach "$dev_c"
expect_names "" "links at the end"
stop_daemon
echo "udev_names: links made, read through, moved and removed with their volumes"
