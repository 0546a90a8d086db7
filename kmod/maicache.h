/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maicache: internal declarations shared by the module's source files.
 *
 * Objects and who owns them:
 *   mc_pool   host DRAM carved into 4 MiB segments; each segment serves one
 *             extent-size class and is cut into slots of that size.
 *   mc_slot   one cached extent, or one 64 KiB part of an extent (a random
 *             read's fill, read.c); indexed by (device, extent) in the
 *             device's extents xarray, or by (device, part) in its parts
 *             xarray; reference counted (see below).
 *   mc_dev    one /dev/maicacheN.
 *   mc_ring   the miss ring shared with the daemon (/dev/maicache).
 *   mc_pin    a readable slot the daemon is sending to a peer (held.c).
 *
 * Slot references: the device index holds one while the slot is in it; each
 * read using the slot holds one; a fill holds one from the miss until the
 * daemon completes it (the daemon may write into the slot until then). A
 * slot is reused only when its count falls to zero, or when the evictor
 * claims a READY slot by moving the count from 1 (index only) to 0. A pin
 * holds one too, so a pinned slot is never evicted.
 */
#ifndef MAICACHE_H
#define MAICACHE_H

#include <linux/blkdev.h>
#include <linux/kref.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "maicache_genl.h"
#include "maicache_ring.h"
#include "maicache_volume_name.h"
#include "policy.h"

#define MC_UNIT_SHIFT		16	/* smallest extent: 64 KiB */
#define MC_SEG_SHIFT		22	/* largest extent, and the segment: 4 MiB */
#define MC_NR_CLASSES		(MC_SEG_SHIFT - MC_UNIT_SHIFT + 1)
#define MC_MAX_IO_BYTES		SZ_1M	/* larger bios are split */
#define MC_MAX_DEVS		BIT(16)
/* A read of MC_MAX_IO_BYTES spans at most this many extents. */
#define MC_MAX_IO_EXTENTS	((MC_MAX_IO_BYTES >> MC_UNIT_SHIFT) + 1)

enum mc_slot_state {
	MC_SLOT_FREE,
	MC_SLOT_FILLING,	/* miss queued or with the daemon */
	MC_SLOT_READY,
	MC_SLOT_FAILED,		/* fill failed or device gone; leaving */
};

struct mc_dev;
struct mc_cmd;

/*
 * A waiter for one extent's fill: done() runs once when the fill ends,
 * with 0 or a negative errno. The cache knows no more of its readers.
 */
struct mc_wait {
	struct list_head link;
	void (*done)(struct mc_wait *w, int status);
};

/* read.c's waiter: one per extent of a slow-path read. */
struct mc_read_wait {
	struct mc_wait w;
	struct mc_cmd *cmd;
};

struct mc_slot {
	struct mc_policy_node pnode;	/* policy queue, or class free list */
	atomic_t ref;
	u8 state;			/* enum mc_slot_state */
	u8 class;
	bool fill_sent;			/* on the ring's in-flight list */
	bool held_fill;			/* taken by the daemon (held.c) */
	bool part;			/* extent is a part index (dev->parts) */
	unsigned long flags;		/* MC_SLOT_PREFETCHED */
	u32 gen;			/* bumped on every reuse */
	u32 len;			/* valid bytes: short for the last extent */
	struct mc_dev *dev;
	u64 extent;			/* or the part's index, when part */
	spinlock_t lock;		/* state, waiters, fill fields */
	struct list_head waiters;	/* mc_wait, while FILLING */
	struct list_head fill_link;	/* ring pending or in-flight list */
	u64 fill_start_ns;
	unsigned long fill_deadline;	/* jiffies, while no daemon */
};

/* Fetched ahead of its readers and not read yet (readahead.c). */
#define MC_SLOT_PREFETCHED	0

/*
 * Parts: a random read fills the 64 KiB of an extent it reads, not the
 * whole extent. Part p covers device bytes [p << MAICACHE_PART_SHIFT,
 * (p + 1) << MAICACHE_PART_SHIFT). Their policy keys have MC_PART_KEY set
 * so that a part's ghost never matches an extent's.
 */
#define MC_PART_KEY		BIT_ULL(43)

struct mc_class {
	spinlock_t lock;		/* all below, the policy, slot reuse */
	struct mc_policy policy;
	struct list_head free;		/* free slots of owned segments */
	u32 nr_segments;
	u32 nr_used;			/* slots not free */
};

/*
 * The pool's owner takes a slot out of its index when the pool takes the
 * slot back: evicted for another extent, or freed at device removal.
 * Called under the slot's class lock; the pool knows nothing of indexes.
 */
typedef void (*mc_unindex_fn)(struct mc_slot *slot, bool evicted);

struct mc_pool {
	struct kref kref;		/* module + each mapping */
	mc_unindex_fn unindex;
	void **seg_mem;			/* per segment: its kernel address */
	u32 nr_contig;			/* segments in the linear map */
	u64 size;			/* multiple of the segment size */
	u32 nr_segments;
	u32 nr_units;			/* 64 KiB units; slots[] entries */
	struct mc_slot *slots;		/* one per unit; a slot uses its first */
	s8 *seg_class;			/* per segment: class, or -1 when free */
	u8 *seg_used;			/* per segment: slots not free */
	spinlock_t seg_lock;		/* seg_class changes */
	struct mc_class classes[MC_NR_CLASSES];
};

struct mc_stats {
	u64 hits;
	u64 misses;
	u64 bytes_hit;
	u64 bytes_filled;
	u64 evictions;
	u64 fill_errors;
	u64 fill_latency[MAICACHE_FILL_LATENCY_BUCKETS];
	u64 prefetched;			/* extents fetched ahead */
	u64 prefetch_used;		/* of them, read since */
	u64 prefetch_unused;		/* of them, evicted unread */
	u64 fill_latency_ns;		/* the fills of fill_latency[], summed */
	u64 warmed;			/* extents fetched by a warmup */
};

/* readahead.c: one sequential stream of a device. */
#define MC_RA_STREAMS	4
struct mc_ra_stream {
	u64 next;			/* the extent a continuing read enters; 0: none */
	u64 ahead;			/* the first extent not fetched ahead */
	u64 end;			/* the byte after its furthest read */
	u32 window;			/* extents kept ahead */
	u64 used;			/* the device's tick when last read */
};

struct mc_ra {
	spinlock_t lock;		/* all below */
	u64 tick;
	struct mc_ra_stream s[MC_RA_STREAMS];
};

struct mc_dev {
	u32 id;
	char name[DISK_NAME_LEN];
	char volume_name[MAICACHE_VOLUME_NAME_MAX];	/* "": none */
	bool held;			/* no disk: extents held for the group */
	atomic_t nr_pins;		/* held.c; removal waits for none */
	u64 cookie;
	u64 size;
	u32 block_size;
	u8 extent_shift;
	u64 key_base;			/* unique per device ever made */
	struct xarray extents;		/* extent index -> struct mc_slot */
	struct xarray parts;		/* part index -> struct mc_slot */
	bool whole_extents;		/* never fill parts (a group's device) */
	struct mc_stats __percpu *stats;
	struct gendisk *disk;		/* NULL for a held device */
	bool dying;			/* being removed: new reads fail */
	bool stale;			/* source changed: no new fills */
	struct list_head list;		/* mc_devs, under mc_devs_lock */

	atomic_t nr_cmds;		/* reads on the slow path */
	spinlock_t retry_lock;
	struct list_head retry;		/* mc_cmd that found the pool busy */
	struct delayed_work retry_work;

	struct mc_ra ra;		/* readahead.c */
};

/*
 * A read that could not be served at once from the pool: the extents it
 * reads and how many are still filling. Reads that are all hits never
 * need one (read.c).
 */
struct mc_cmd {
	struct bio *bio;
	struct mc_dev *dev;
	atomic_t pending;
	blk_status_t status;
	u8 nr;
	bool acct;			/* block-layer iostats on */
	unsigned long acct_start;
	struct list_head retry_link;
	struct mc_slot *slot[MC_MAX_IO_EXTENTS];
	struct mc_read_wait wait[MC_MAX_IO_EXTENTS];
};

/* pool.c */
extern struct mc_pool *mc_pool;
int mc_pool_create(u64 size, mc_unindex_fn unindex, struct mc_pool **out);
int mc_pool_replace(struct mc_pool *pool);
void mc_pool_put(struct mc_pool *pool);
struct mc_slot *mc_pool_alloc_slot(struct mc_pool *pool, struct mc_dev *dev,
				   u64 extent, bool part, u32 off, u32 len);
void mc_slot_put(struct mc_slot *slot);
bool mc_slot_reclaim(struct mc_slot *slot, struct mc_dev *dev, u64 extent,
		     bool part);
bool mc_pool_mapped(struct mc_pool *pool);
u64 mc_slot_offset(struct mc_slot *slot);
struct mc_slot *mc_slot_from_index(struct mc_pool *pool, u32 index);
u32 mc_slot_index(struct mc_slot *slot);
u64 mc_pool_used_bytes(struct mc_pool *pool);
int mc_pool_mmap(struct mc_pool *pool, struct vm_area_struct *vma);
struct page *mc_pool_page(struct mc_pool *pool, u64 off);
void *mc_seg_alloc(bool contig, u32 *nr_contig);
void mc_seg_free(void *mem);

/* The kernel address of the pool's byte @off; slots never span segments. */
static inline void *mc_pool_addr(struct mc_pool *pool, u64 off)
{
	return pool->seg_mem[off >> MC_SEG_SHIFT] +
	       (off & (BIT_ULL(MC_SEG_SHIFT) - 1));
}

static inline void *mc_slot_mem(struct mc_slot *slot)
{
	return mc_pool_addr(mc_pool, (u64)(slot - mc_pool->slots) << MC_UNIT_SHIFT);
}

/* log2 of the bytes a slot of @dev holds: an extent's, or a part's. */
static inline u8 mc_slot_shift(const struct mc_dev *dev, bool part)
{
	return part ? MAICACHE_PART_SHIFT : dev->extent_shift;
}

/* The part holding byte @off of @extent. */
static inline u64 mc_part_of(const struct mc_dev *dev, u64 extent, u32 off)
{
	return ((extent << dev->extent_shift) + off) >> MAICACHE_PART_SHIFT;
}

/* The index a slot of @dev is found in. */
static inline struct xarray *mc_dev_index(struct mc_dev *dev, bool part)
{
	return part ? &dev->parts : &dev->extents;
}

/* cache.c */
enum { MC_GOT, MC_WAITING };		/* mc_cache_get() */
int mc_cache_get(struct mc_dev *dev, u64 extent, u32 off, u32 len, bool part,
		 struct mc_wait *w, struct mc_slot **slotp);
void mc_cache_unindex(struct mc_slot *slot, bool evicted);
struct mc_slot *mc_cache_get_ready(struct mc_dev *dev, u64 extent, bool part);
bool mc_cache_hit(struct mc_dev *dev, struct mc_slot *slot, u32 off, u32 len);
void mc_slot_resolve(struct mc_slot *slot, int status);
void mc_cache_fail_dev(struct mc_dev *dev);
void mc_cache_drop_dev(struct mc_dev *dev);
int mc_cache_take(struct mc_dev *dev, u64 extent, u32 len,
		  struct mc_slot **slotp);
int mc_cache_prefetch(struct mc_dev *dev, u64 extent);
enum { MC_ABSENT, MC_FILLING, MC_READY };	/* mc_cache_state() */
int mc_cache_state(struct mc_dev *dev, u64 extent);
int mc_cache_warm(struct mc_dev *dev, u64 extent);

/* warm.c */
struct mc_warm_result {
	u32 queued;			/* fills sent */
	u32 ready;			/* extents found cached */
	u32 filling;			/* extents found filling */
	u64 next;			/* the first extent not looked at */
	bool busy;			/* stopped for want of room */
};

int mc_warm(struct mc_dev *dev, u64 first, u64 last,
	    struct mc_warm_result *res);

/* readahead.c */
extern unsigned int mc_readahead_kb;
void mc_readahead(struct mc_dev *dev, u64 pos, u64 end);
bool mc_readahead_follows(struct mc_dev *dev, u64 pos);
void mc_readahead_dev_init(struct mc_dev *dev);

/* read.c */
extern bool mc_part_fills;
void mc_submit_bio(struct bio *bio);
void mc_read_bio(struct mc_dev *dev, struct bio *bio);
void mc_cmd_finish(struct mc_cmd *cmd);
int mc_read_get(struct mc_cmd *cmd, u64 extent, u32 off, u32 len);
void mc_read_dev_init(struct mc_dev *dev);
void mc_read_drain(struct mc_dev *dev);
int mc_read_init(void);
void mc_read_exit(void);

/* ring.c */
int mc_ring_init(void);
void mc_ring_exit(void);
void mc_ring_queue_fill(struct mc_slot *slot);
bool mc_ring_needs_kick(void);
void mc_ring_kick(void);
int mc_ring_hold_idle(void);
void mc_ring_release_hold(void);
void mc_ring_drop_orphans(void);
bool mc_ring_attached(u32 *pid);
u64 mc_ring_bad_completions(void);
int mc_ring_daemon_check(void);
int mc_ring_start_fill(struct mc_slot *slot, u64 *id);
void mc_ring_cancel_fill(u64 id);
extern unsigned int mc_daemon_timeout_ms;

/* dev.c */
extern struct mutex mc_devs_lock;
extern struct list_head mc_devs;
int mc_dev_add(u32 id, u64 size, u32 block_size, u32 extent_size,
	       u64 cookie, bool held, bool whole_extents,
	       const char *volume_name, struct mc_dev **out);
int mc_dev_del(u32 id);
struct mc_dev *mc_dev_find(u32 id);
struct mc_dev *mc_dev_find_volume(const char *volume_name);
void mc_dev_stats(struct mc_dev *dev, struct mc_stats *sum);
void mc_dev_account_fill(struct mc_dev *dev, u64 start_ns, u32 bytes,
			 bool ok);
u64 mc_stats_fills_in_flight(const struct mc_stats *s);

/* Extents of the device, the last one maybe short. */
static inline u64 mc_dev_nr_extents(const struct mc_dev *dev)
{
	return (dev->size + BIT_ULL(dev->extent_shift) - 1) >> dev->extent_shift;
}

int mc_dev_init(void);
void mc_dev_exit(void);

/* held.c */
struct mc_held_pin {
	u32 id;
	u64 off;
	u32 len;
	u32 gen;
};

int mc_held_fill(struct mc_dev *dev, u64 extent, u32 len, u64 *id, u64 *off);
int mc_held_pin(struct mc_dev *dev, u64 extent, struct mc_held_pin *pin);
int mc_held_unpin(u32 id);
void mc_held_daemon_gone(u32 pid);
u32 mc_held_nr_pins(void);
extern unsigned int mc_max_pins;

/* nl.c */
int maicache_nl_init(void);
void maicache_nl_exit(void);
int maicache_nl_fill_version(struct sk_buff *skb);
int maicache_nl_fill_stats(struct sk_buff *skb, const struct mc_stats *s);
int maicache_nl_fill_warm(struct sk_buff *skb, const struct mc_warm_result *r);
void maicache_nl_notify_dev(struct mc_dev *dev, u8 cmd);
void maicache_nl_notify_daemon(u32 pid, u8 cmd);

#endif /* MAICACHE_H */
