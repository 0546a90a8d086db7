/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maicache eviction policy: S3-FIFO over the slots of one extent-size class.
 *
 * A new extent enters the small FIFO, or the main FIFO when its key is in the
 * ghost FIFO (it was evicted from small recently and came back). Leaving the
 * small FIFO, an extent re-referenced since it entered moves to main, others
 * are evicted and remembered in the ghost FIFO. Main is a CLOCK: a referenced
 * extent is reinserted with its count decremented. A one-pass scan thus only
 * ever churns the small FIFO (about 10% of the class), never main.
 *
 * A reference that continues a sequential read of the extent where the last
 * read stopped is not a re-reference: reading a 1 MiB extent in 128 KiB
 * requests is one use, not eight.
 *
 * Locking: the caller serialises every call except mc_policy_hit(), which is
 * lockless and may race benignly (a lost count only).
 */
#ifndef MAICACHE_POLICY_H
#define MAICACHE_POLICY_H

#ifdef __KERNEL__
#include <linux/list.h>
#include <linux/types.h>
#else
#include "policy_user.h"	/* user-space build: tools/policy-sim */
#endif

#define MC_FREQ_MAX		3
/* The small FIFO's share of the class, in percent. */
#define MC_SMALL_PERCENT	10

enum mc_policy_queue {
	MC_Q_NONE,
	MC_Q_SMALL,
	MC_Q_MAIN,
};

/* Embedded in each cache slot. */
struct mc_policy_node {
	struct list_head link;
	u64 key;		/* identifies the extent, for the ghost FIFO */
	u32 next_off;		/* where a sequential reader would continue */
	u8 queue;		/* enum mc_policy_queue */
	u8 freq;		/* 0..MC_FREQ_MAX */
};

struct mc_ghost_entry {
	struct hlist_node hnode;
	u64 key;
	bool used;
};

/* Keys of extents recently evicted from the small FIFO; FIFO-replaced. */
struct mc_ghost {
	struct mc_ghost_entry *entries;	/* capacity entries, a ring */
	struct hlist_head *buckets;	/* nr_buckets, a power of two */
	u32 capacity;
	u32 nr_buckets;
	u32 next;			/* ring position to overwrite next */
};

struct mc_policy {
	struct list_head small;		/* head: newest; tail: next to leave */
	struct list_head main;
	u32 nr_small;
	u32 nr_main;
	u32 capacity;			/* slots the class owns */
	struct mc_ghost ghost;
};

/* Returns 0 or -ENOMEM. ghost_capacity: keys remembered (>= 1). */
int mc_policy_init(struct mc_policy *p, u32 ghost_capacity);
void mc_policy_destroy(struct mc_policy *p);
void mc_policy_set_capacity(struct mc_policy *p, u32 capacity);

/* A slot now caches key, first read [off, off + len). */
void mc_policy_insert(struct mc_policy *p, struct mc_policy_node *n, u64 key,
		      u32 off, u32 len);
/* A cache hit on [off, off + len) of the extent. Lockless. */
void mc_policy_hit(struct mc_policy_node *n, u32 off, u32 len);
/* The slot leaves the cache for another reason (fill error, device gone). */
void mc_policy_remove(struct mc_policy *p, struct mc_policy_node *n);

/*
 * Choose and unlink a victim. can_evict() is asked about each candidate and
 * must claim it (return true) or refuse (in use); a refused node is rotated
 * to the head of its queue. Returns NULL when nothing can be evicted.
 */
struct mc_policy_node *mc_policy_evict(struct mc_policy *p,
				       bool (*can_evict)(struct mc_policy_node *n,
							 void *arg),
				       void *arg);

#endif /* MAICACHE_POLICY_H */
