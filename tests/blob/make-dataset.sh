#!/bin/bash
# Generate a deterministic test dataset: many small files in nested
# directories and a few large ones, plus SHA256SUMS (sha256sum format,
# paths relative to DIR).
#
#   tests/blob/make-dataset.sh [options] DIR SEED
#     --small N        number of small files, 1..64 KiB each   (default 1500)
#     --large N        number of large files                    (default 3)
#     --large-mib A-B  size range of the large files in MiB     (default 8-16)
#     --max-mib M      refuse a dataset larger than M MiB       (default 100)
#
# The same SEED and options give the same names, sizes and bytes on any
# machine: everything comes from one AES-128-CTR keystream (openssl) keyed
# by SHA-256 of the seed. The first bytes of the stream pick the sizes, the
# rest are the files' contents in order. Defaults make about 85 MiB; the
# VM tests run under emulation and usually want less.
#
# DIR must not exist or be empty. Prints the number of files and bytes.
set -euo pipefail

die() { printf 'make-dataset: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

small=1500 large=3 large_lo=8 large_hi=16 max_mib=100
while (($#)); do
	case $1 in
	--small) small=${2:?}; shift 2 ;;
	--large) large=${2:?}; shift 2 ;;
	--large-mib) [[ ${2:-} =~ ^([0-9]+)-([0-9]+)$ ]] || die "--large-mib wants A-B (MiB), got '${2:-}'"
		large_lo=${BASH_REMATCH[1]} large_hi=${BASH_REMATCH[2]}; shift 2 ;;
	--max-mib) max_mib=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
(($# == 2)) || usage
dir=$1 seed=$2
[[ -n $seed ]] || die "SEED is empty"
for v in small large max_mib; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "--${v//_/-} wants a number, got '${!v}'"
done
((large_lo >= 1 && large_lo <= large_hi)) || die "--large-mib $large_lo-$large_hi: want 1 <= A <= B"
if [[ -e $dir ]]; then
	[[ -d $dir && -z $(ls -A "$dir") ]] || die "$dir exists and is not an empty directory"
fi
mkdir -p "$dir"

# 32 bytes of SHA-256: 16 for the key, 16 for the initial counter block.
hash=$(printf 'maicache-dataset:%s' "$seed" | sha256sum | cut -c1-64)

# The splitter reads the keystream on stdin. Every size is drawn before any
# content so that the layout does not depend on the sizes drawn. openssl
# fails with a broken pipe when the splitter stops reading: only the
# splitter's status counts.
set +o pipefail
openssl enc -aes-128-ctr -K "${hash:0:32}" -iv "${hash:32:32}" </dev/zero 2>/dev/null |
	python3 -c '
import os, sys
small, large, lo, hi, max_mib, top = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
src = sys.stdin.buffer
def draw(n):
    return int.from_bytes(src.read(4), "little") % n
files = []
for i in range(small):
    size = 1024 + draw(63 * 1024 + 1)
    path = "small/d%02d/e%02d/f%05d.bin" % (draw(8), draw(16), i)
    files.append((path, size))
for i in range(large):
    size = (lo << 20) + draw(((hi - lo) << 20) + 1)
    files.append(("large/big%02d.bin" % i, size))
total = sum(s for _, s in files)
if total > max_mib << 20:
    sys.exit("make-dataset: %d bytes is more than --max-mib %d" % (total, max_mib))
for path, size in files:
    full = os.path.join(top, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        left = size
        while left:
            chunk = src.read(min(left, 1 << 20))
            if not chunk:
                sys.exit("make-dataset: keystream ended early")
            f.write(chunk)
            left -= len(chunk)
print("%d files, %d bytes" % (len(files), total))
' "$small" "$large" "$large_lo" "$large_hi" "$max_mib" "$dir" ||
	die "generating the files failed"
set -o pipefail

cd "$dir"
sums=$(find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0r sha256sum)
printf '%s\n' "$sums" >SHA256SUMS
# Fixed times too, so that images made from the dataset are the same bytes.
find . -print0 | xargs -0 touch -h -d @1700000000
