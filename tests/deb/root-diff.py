#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What an overlay's upper layer changed against its lower layers.

Usage: root-diff.py PREFIX UPPER LOWER [PREFIX UPPER LOWER ...]

UPPER is the upper directory of an overlay mounted at PREFIX in a root,
LOWER a read-only view of the same lower layers. Everything that changed in
the overlay is in UPPER, so walking it finds every difference. One line per
difference, sorted by path:

  added PATH TYPE      in the overlay, not in the lower layers
  removed PATH         a whiteout: in the lower layers, gone from the overlay
  hidden PATH          in the lower layers, under a directory made again
  modified PATH        a file or a link whose content differs
  meta PATH WAS NOW    type, mode or owner differ

A directory copied up only because something below it changed (its times
differ) is no difference.
"""
import os
import stat
import sys

OPAQUE = "trusted.overlay.opaque"


def kind(st):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"),
                       (stat.S_ISLNK, "link"), (stat.S_ISCHR, "chr"),
                       (stat.S_ISBLK, "blk"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "sock")):
        if test(st.st_mode):
            return name
    return "?"


def meta(st):
    return "%s:%o:%d:%d" % (kind(st), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def lstat_or_none(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def same_content(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return False
            if not ca:
                return True


def is_opaque(path):
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def walk_lower(lower, rel, prefix, out, tag):
    """Every entry of the lower layers under rel, as TAG lines."""
    for entry in sorted(os.listdir(os.path.join(lower, rel))):
        r = os.path.join(rel, entry)
        out.append((os.path.join(prefix, r), "%s %s" % (tag, os.path.join(prefix, r))))
        if os.path.isdir(os.path.join(lower, r)) and not os.path.islink(os.path.join(lower, r)):
            walk_lower(lower, r, prefix, out, tag)


def walk(upper, lower, rel, prefix, opaque, out):
    here_u = os.path.join(upper, rel)
    names = sorted(os.listdir(here_u))
    if opaque and os.path.isdir(os.path.join(lower, rel)):
        for gone in sorted(set(os.listdir(os.path.join(lower, rel))) - set(names)):
            r = os.path.join(rel, gone)
            out.append((os.path.join(prefix, r), "hidden %s" % os.path.join(prefix, r)))
            lp = os.path.join(lower, r)
            if os.path.isdir(lp) and not os.path.islink(lp):
                walk_lower(lower, r, prefix, out, "hidden")
    for name in names:
        r = os.path.join(rel, name)
        path = os.path.join(prefix, r)
        u = os.lstat(os.path.join(upper, r))
        lp = os.path.join(lower, r)
        low = lstat_or_none(lp)
        if stat.S_ISCHR(u.st_mode) and u.st_rdev == 0:
            if low is not None:
                out.append((path, "removed %s" % path))
                if stat.S_ISDIR(low.st_mode):
                    walk_lower(lower, r, prefix, out, "removed")
            continue
        if low is None:
            out.append((path, "added %s %s" % (path, kind(u))))
            if stat.S_ISDIR(u.st_mode):
                walk(upper, lower, r, prefix, False, out)
            continue
        if meta(u) != meta(low):
            out.append((path, "meta %s %s %s" % (path, meta(low), meta(u))))
        elif stat.S_ISREG(u.st_mode):
            if not same_content(os.path.join(upper, r), lp):
                out.append((path, "modified %s" % path))
        elif stat.S_ISLNK(u.st_mode):
            if os.readlink(os.path.join(upper, r)) != os.readlink(lp):
                out.append((path, "modified %s" % path))
        if stat.S_ISDIR(u.st_mode):
            sub_opaque = opaque or is_opaque(os.path.join(upper, r))
            if stat.S_ISDIR(low.st_mode):
                walk(upper, lower, r, prefix, sub_opaque, out)
            else:
                walk(upper, lower, r, prefix, False, out)


def main(argv):
    if len(argv) < 3 or len(argv) % 3:
        sys.exit(__doc__.split("\n\n")[1])
    out = []
    for i in range(0, len(argv), 3):
        prefix, upper, lower = argv[i:i + 3]
        for d in (upper, lower):
            if not os.path.isdir(d):
                sys.exit("root-diff: %s is not a directory" % d)
        walk(upper, lower, "", prefix, False, out)
    for _, line in sorted(out):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
