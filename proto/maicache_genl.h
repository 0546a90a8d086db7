/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * maicache generic-netlink control ABI.
 *
 * Family "maicache". Every command needs CAP_SYS_ADMIN. Attributes a command
 * does not use are ignored; malformed ones are rejected with an extack
 * message naming the attribute. Integers are host-endian, as usual for
 * netlink. Enumerations only ever grow: values are never renumbered.
 */
#ifndef _UAPI_LINUX_MAICACHE_GENL_H
#define _UAPI_LINUX_MAICACHE_GENL_H

#define MAICACHE_GENL_NAME		"maicache"
/* Bumped when a command changes meaning; new commands/attributes don't. */
#define MAICACHE_GENL_VERSION		1
#define MAICACHE_GENL_MCAST_EVENTS	"events"

#define MAICACHE_EXTENT_SIZE_MIN	(64U * 1024)
#define MAICACHE_EXTENT_SIZE_MAX	(4U * 1024 * 1024)
#define MAICACHE_EXTENT_SIZE_DEFAULT	(1024U * 1024)
#define MAICACHE_BLOCK_SIZE_DEFAULT	512U

enum maicache_cmd {
	MAICACHE_CMD_UNSPEC,
	/*
	 * Reply: MAICACHE_ATTR_VERSION, MAICACHE_ATTR_VERSION_MAJOR/MINOR/PATCH,
	 * MAICACHE_ATTR_GENL_VERSION.
	 */
	MAICACHE_CMD_GET_VERSION,
	/*
	 * Create /dev/maicacheN. Needs DEV_SIZE and DEV_COOKIE; DEV_BLOCK_SIZE
	 * (default 512), DEV_EXTENT_SIZE (default 1 MiB), DEV_READ_ONLY
	 * (default 1), DEV_ID (default: lowest free) and VOLUME_NAME
	 * (default: none; the rule is in maicache_volume_name.h) and
	 * DEV_WHOLE_EXTENTS (default 0: random reads fill 64 KiB parts;
	 * 1: every fill is a whole extent, as a cache group's device wants)
	 * are optional. The name is the device's for its life: to change it,
	 * remove the device and add it again. Reply: the device, as DEV_GET
	 * (VOLUME_NAME only when it has one).
	 */
	MAICACHE_CMD_DEV_ADD,
	/* Remove the device DEV_ID; I/O in flight fails with EIO. */
	MAICACHE_CMD_DEV_DEL,
	/* One device (DEV_ID) or, as a dump, every device. */
	MAICACHE_CMD_DEV_GET,
	/* Resize the pool to POOL_SIZE bytes; only while no device exists. */
	MAICACHE_CMD_POOL_SET,
	/*
	 * Pool and daemon state: POOL_*, DAEMON_ATTACHED, BAD_COMPLETIONS,
	 * PINS, MAX_PINS.
	 */
	MAICACHE_CMD_POOL_GET,

	/* Notifications on the "events" multicast group. */
	MAICACHE_CMD_EVT_DEV_ADDED,		/* DEV_ID, DEV_NAME, DEV_COOKIE */
	MAICACHE_CMD_EVT_DEV_REMOVED,		/* DEV_ID, DEV_NAME, DEV_COOKIE */
	MAICACHE_CMD_EVT_DAEMON_ATTACHED,	/* DAEMON_PID */
	MAICACHE_CMD_EVT_DAEMON_DETACHED,	/* DAEMON_PID */
	/*
	 * Change a device (DEV_ID). DEV_STALE 1: its source changed under it
	 * (the daemon saw the blob's ETag change); extents already cached
	 * stay readable (one version, the old), every read that needs a fill
	 * fails with EIO at once. Setting it back to 0 is refused: a stale
	 * device is detached and attached again.
	 */
	MAICACHE_CMD_DEV_SET,
	MAICACHE_CMD_EVT_DEV_STALE,		/* DEV_ID, DEV_NAME, DEV_COOKIE */
	/*
	 * Held extents: the extents a node keeps in its pool for its cache
	 * group, of blobs it may never have attached. They live on held
	 * devices (DEV_ADD with DEV_HELD 1: no block device, ids from
	 * MAICACHE_HELD_DEV_ID_MIN, chosen by the module; DEV_BLOCK_SIZE and
	 * DEV_ID are refused). Held extents share the pool and its eviction
	 * policy with every other extent.
	 *
	 * EXTENT_FILL, EXTENT_PIN and EXTENT_UNPIN are for the attached daemon
	 * only (the process holding /dev/maicache open; anyone else gets
	 * EPERM, and ENOTCONN when no daemon is attached): what they hold
	 * ends when that daemon detaches.
	 *
	 * Take a slot for extent EXTENT of the held device DEV_ID, to be
	 * filled with EXTENT_LEN bytes (1 .. the extent size; the extent must
	 * start below DEV_SIZE). Reply: FILL_ID and SLOT_OFF. The daemon
	 * writes the bytes at SLOT_OFF of the pool region and completes
	 * FILL_ID on the ring like any miss (maicache_ring.h): the ring's
	 * checks are the only way bytes become readable. EEXIST: the extent
	 * is held or filling already; EBUSY: no slot free now; EOPNOTSUPP: not
	 * a held device. A fill the daemon has not completed when it detaches
	 * fails.
	 */
	MAICACHE_CMD_EXTENT_FILL,
	/*
	 * Pin extent EXTENT of device DEV_ID (held or not) while the daemon
	 * sends it: the slot is neither evicted nor reused until the pin ends.
	 * Reply: PIN_ID, SLOT_OFF, EXTENT_LEN, SLOT_GEN. ENOENT: the extent is
	 * not readable (absent or filling); ENOSPC: the daemon holds MAX_PINS
	 * pins. A device with pins cannot be removed (EBUSY).
	 */
	MAICACHE_CMD_EXTENT_PIN,
	/* End the pin PIN_ID (ENOENT: no such pin). */
	MAICACHE_CMD_EXTENT_UNPIN,
	/*
	 * Warmup: fetch extents EXTENT .. EXTENT_LAST of the disk device
	 * DEV_ID into the pool with no reader waiting, as misses the daemon
	 * fills (maicachectl warmup). Reply: WARM_QUEUED (fills sent now),
	 * WARM_READY (extents cached already), WARM_FILLING (extents being
	 * filled already, by a reader, readahead or an earlier call),
	 * WARM_NEXT (the first extent this call did not look at: EXTENT_LAST
	 * + 1 when it looked at all of them) and WARM_BUSY (1: it stopped
	 * early for want of room, see below; call again once fills arrive).
	 *
	 * Bounded, so that a warmup never crowds out readers: one call looks
	 * at most at MAICACHE_WARM_EXTENTS_MAX extents, and queues a fill
	 * only while the device has fewer than its warmup share of fills in
	 * flight: a MAICACHE_WARM_POOL_SHARE-th of the slots of its extent
	 * size the pool holds (at least one), counting every fill of the
	 * device, readers' misses and readahead included. A pool with no
	 * slot to give stops it too (WARM_BUSY). Extents fetched so enter the
	 * eviction policy as any new extent does, in the small FIFO: a
	 * warmup does not push the main FIFO's hot set out.
	 *
	 * Any CAP_SYS_ADMIN caller. Refused: a held device (EOPNOTSUPP), a
	 * stale one (ESTALE), EXTENT_LAST before EXTENT (EINVAL), either
	 * past the device's last extent (ERANGE), no daemon attached to fill
	 * them (ENOTCONN).
	 */
	MAICACHE_CMD_EXTENT_WARM,
	__MAICACHE_CMD_MAX,
};

#define MAICACHE_CMD_MAX (__MAICACHE_CMD_MAX - 1)

enum maicache_attr {
	MAICACHE_ATTR_UNSPEC,
	MAICACHE_ATTR_VERSION,		/* string, e.g. "0.1.0" */
	MAICACHE_ATTR_VERSION_MAJOR,	/* u32 */
	MAICACHE_ATTR_VERSION_MINOR,	/* u32 */
	MAICACHE_ATTR_VERSION_PATCH,	/* u32 */
	MAICACHE_ATTR_GENL_VERSION,	/* u32, MAICACHE_GENL_VERSION */
	MAICACHE_ATTR_PAD,
	MAICACHE_ATTR_DEV_ID,		/* u32: N of /dev/maicacheN */
	MAICACHE_ATTR_DEV_NAME,		/* string, e.g. "maicache0" */
	MAICACHE_ATTR_DEV_SIZE,		/* u64 bytes, multiple of block size */
	MAICACHE_ATTR_DEV_BLOCK_SIZE,	/* u32: 512, 1024, 2048 or 4096 */
	MAICACHE_ATTR_DEV_EXTENT_SIZE,	/* u32: power of two, 64 KiB..4 MiB */
	MAICACHE_ATTR_DEV_READ_ONLY,	/* u8: must be 1 (writes unsupported) */
	MAICACHE_ATTR_DEV_COOKIE,	/* u64: names the source to the daemon */
	MAICACHE_ATTR_DEV_STATS,	/* nested, enum maicache_stat */
	MAICACHE_ATTR_POOL_SIZE,	/* u64 bytes */
	MAICACHE_ATTR_POOL_USED,	/* u64 bytes held by cached extents */
	MAICACHE_ATTR_DAEMON_ATTACHED,	/* u8 */
	MAICACHE_ATTR_DAEMON_PID,	/* u32 */
	MAICACHE_ATTR_BAD_COMPLETIONS,	/* u64: rejected ring completions */
	MAICACHE_ATTR_DAEMON_TIMEOUT_MS, /* u32: 100 ms .. 1 h */
	MAICACHE_ATTR_DEV_STALE,	/* u8: 1 once the source changed */
	MAICACHE_ATTR_DEV_HELD,		/* u8: 1 for a held device (no disk) */
	MAICACHE_ATTR_EXTENT,		/* u64: extent index within the device */
	MAICACHE_ATTR_EXTENT_LEN,	/* u32: bytes of the extent */
	MAICACHE_ATTR_SLOT_OFF,		/* u64: byte offset in the pool region */
	MAICACHE_ATTR_SLOT_GEN,		/* u32: the slot's generation */
	MAICACHE_ATTR_FILL_ID,		/* u64: the ring id to complete */
	MAICACHE_ATTR_PIN_ID,		/* u32 */
	MAICACHE_ATTR_PINS,		/* u32: pins the daemon holds */
	MAICACHE_ATTR_MAX_PINS,		/* u32: the most it may hold */
	MAICACHE_ATTR_VOLUME_NAME,	/* string: maicache_volume_name.h */
	MAICACHE_ATTR_DEV_WHOLE_EXTENTS, /* u8: 1: never fill parts */
	MAICACHE_ATTR_EXTENT_LAST,	/* u64: last extent of a range, inclusive */
	MAICACHE_ATTR_WARM_QUEUED,	/* u32: fills an EXTENT_WARM sent */
	MAICACHE_ATTR_WARM_READY,	/* u32: extents it found cached */
	MAICACHE_ATTR_WARM_FILLING,	/* u32: extents it found filling */
	MAICACHE_ATTR_WARM_NEXT,	/* u64: first extent it did not look at */
	MAICACHE_ATTR_WARM_BUSY,	/* u8: 1 if it stopped for want of room */
	__MAICACHE_ATTR_MAX,
};

#define MAICACHE_ATTR_MAX (__MAICACHE_ATTR_MAX - 1)

/*
 * Every attribute's netlink type is written once, in maicache_genl_attrs.h;
 * the module builds its request policy from it and the client its reply
 * policy.
 */

/* Inside MAICACHE_ATTR_DEV_STATS; all u64. */
enum maicache_stat {
	MAICACHE_STAT_UNSPEC,
	MAICACHE_STAT_PAD,
	MAICACHE_STAT_HITS,		/* extents of reads served from DRAM */
	MAICACHE_STAT_MISSES,		/* extents sent to the daemon */
	MAICACHE_STAT_BYTES_HIT,	/* bytes copied out of DRAM */
	MAICACHE_STAT_BYTES_FILLED,	/* bytes the daemon filled */
	MAICACHE_STAT_EVICTIONS,
	MAICACHE_STAT_FILL_ERRORS,
	/*
	 * Nested, u64 each: attribute b + 1 counts fills that took
	 * [2^(b-1), 2^b) microseconds, b = 0 those under 1 us; the last
	 * bucket is open-ended.
	 */
	MAICACHE_STAT_FILL_LATENCY,
	MAICACHE_STAT_PREFETCHED,	/* of the misses, extents fetched ahead of a reader */
	MAICACHE_STAT_PREFETCH_USED,	/* of them, read since */
	MAICACHE_STAT_PREFETCH_UNUSED,	/* of them, evicted or dropped unread */
	MAICACHE_STAT_FILL_LATENCY_NS,	/* nanoseconds of the fills FILL_LATENCY counts */
	MAICACHE_STAT_WARMED,		/* of the misses, extents fetched by EXTENT_WARM */
	__MAICACHE_STAT_MAX,
};

#define MAICACHE_STAT_MAX (__MAICACHE_STAT_MAX - 1)

#define MAICACHE_FILL_LATENCY_BUCKETS	24

/*
 * EXTENT_WARM's bounds: extents one call looks at, and the share of the
 * pool's slots (1/N) a device's fills in flight may hold before a call
 * queues no more.
 */
#define MAICACHE_WARM_EXTENTS_MAX	1024
#define MAICACHE_WARM_POOL_SHARE	16

/* Held devices' ids: never a /dev/maicacheN. */
#define MAICACHE_HELD_DEV_ID_MIN	65536U

/* MAICACHE_ATTR_DAEMON_TIMEOUT_MS: how long misses wait for a daemon. */
#define MAICACHE_DAEMON_TIMEOUT_MIN_MS	100
#define MAICACHE_DAEMON_TIMEOUT_MAX_MS	3600000

#endif /* _UAPI_LINUX_MAICACHE_GENL_H */
