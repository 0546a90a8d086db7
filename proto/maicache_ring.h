/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * maicache miss ring: the shared-memory ABI between the kernel module and
 * the daemon. See docs/ring.md for the picture.
 *
 * The daemon opens /dev/maicache (one daemon at a time: a second open gets
 * EBUSY) and maps three regions of it by offset:
 *
 *   MAICACHE_MMAP_MISS  read-only: header + miss entries (kernel -> daemon)
 *   MAICACHE_MMAP_CPL   read-write: completion indices + entries (daemon -> kernel)
 *   MAICACHE_MMAP_POOL  read-write: the DRAM pool; slot_off addresses it
 *
 * All fields are little-endian and fixed width; all locations are offsets,
 * never pointers, so a restarted daemon can map them anywhere. Ring indices
 * are free-running u32 counters; an entry lives at (index & (entries - 1)).
 *
 * Kernel -> daemon: the kernel writes miss entries, then advances miss.head
 * (release). The daemon reads entries up to head, then advances cpl.miss_tail
 * to give the space back. poll() on the fd reports POLLIN while
 * miss.head != cpl.miss_tail.
 *
 * Daemon -> kernel: the daemon writes completion entries, advances cpl.head
 * (release), then kicks the kernel with a write() of 8 bytes (any value) on
 * the fd; one kick covers every completion posted before it. The kernel
 * consumes entries up to cpl.head and advances miss.cpl_tail.
 *
 * The kernel trusts nothing in the CPL region: indices out of range, unknown
 * ids, stale generations and bad statuses are counted and dropped; a bad
 * completion fails at most the fill it names.
 */
#ifndef _UAPI_LINUX_MAICACHE_RING_H
#define _UAPI_LINUX_MAICACHE_RING_H

#include <linux/types.h>

#define MAICACHE_RING_MAGIC	0x4d435247	/* "MCRG" */
#define MAICACHE_RING_VERSION	2

#define MAICACHE_MMAP_MISS	0x0ULL
#define MAICACHE_MMAP_CPL	0x10000000ULL
#define MAICACHE_MMAP_POOL	0x100000000ULL

/* Offsets below are within their own region. */
#define MAICACHE_RING_ENTRIES_OFF	4096

/* Region MAICACHE_MMAP_MISS, page 0. Written by the kernel only. */
struct maicache_miss_hdr {
	__le32 magic;		/* MAICACHE_RING_MAGIC */
	__le32 version;		/* MAICACHE_RING_VERSION */
	__le32 miss_entries;	/* power of two */
	__le32 cpl_entries;	/* power of two */
	__le64 pool_size;	/* bytes in the MAICACHE_MMAP_POOL region */
	__le32 miss_entry_size;	/* sizeof(struct maicache_miss) */
	__le32 cpl_entry_size;	/* sizeof(struct maicache_cpl) */
	__le64 attach_seq;	/* bumped on every daemon attach */
	__u8 pad0[24];
	__le32 head;		/* next miss index the kernel will write */
	__u8 pad1[60];
	__le32 cpl_tail;	/* completions consumed by the kernel */
	__u8 pad2[60];
};

/* Region MAICACHE_MMAP_CPL, page 0. Written by the daemon only. */
struct maicache_cpl_hdr {
	__le32 head;		/* next completion index the daemon will write */
	__u8 pad0[60];
	__le32 miss_tail;	/* misses consumed by the daemon */
	__u8 pad1[60];
};

/*
 * A part: the miss names 64 KiB of an extent, not the extent. Its extent
 * field is then the part's index, bytes [extent << MAICACHE_PART_SHIFT,
 * + len) of the device, and len is at most 1 << MAICACHE_PART_SHIFT. The
 * kernel fills parts for random reads (docs/kmod.md), never for a device
 * added with MAICACHE_ATTR_DEV_WHOLE_EXTENTS.
 */
#define MAICACHE_MISS_PART	(1U << 0)
#define MAICACHE_PART_SHIFT	16

/*
 * One extent (or part) to fill: write len bytes at slot_off, then
 * complete id.
 */
struct maicache_miss {
	__le64 id;		/* echo in the completion */
	__le64 cookie;		/* the device's source cookie */
	__le64 extent;		/* extent (or part) index within the device */
	__le64 slot_off;	/* byte offset of the slot in the pool region */
	__le32 len;		/* bytes to fill; short for the last extent */
	__le32 extent_shift;	/* log2 of the device's extent size */
	__le32 dev_id;		/* N of /dev/maicacheN */
	__le32 flags;		/* MAICACHE_MISS_PART or zero */
};

struct maicache_cpl {
	__le64 id;		/* from the miss */
	__le32 status;		/* 0: slot filled; else a positive errno */
	__le32 flags;		/* zero */
};

#endif /* _UAPI_LINUX_MAICACHE_RING_H */
