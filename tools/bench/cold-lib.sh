# shellcheck shell=bash
# What the cold-read scripts (cold-bench.sh, cold-profile.sh) share, run
# INSIDE the VM after tests/vm/lib.sh. Sourced, not run.

# loop_on_file IMG: a read-only loop device on IMG, with direct I/O where
# the file system takes it (tmpfs from 6.6 on; before, loop reads through
# the page cache and its loop/dio says 0). Prints the device.
loop_on_file() {
	vm_modprobe loop
	losetup --find --show --read-only --direct-io=on "$1" 2>/dev/null ||
		losetup --find --show --read-only "$1" || die "losetup on $1 failed"
}
