/* SPDX-License-Identifier: MIT */
/*
 * maicached's side of the miss ring (proto/maicache_ring.h): take misses
 * out of the shared ring, post completions in any order, kick the kernel
 * once per batch. Fills run asynchronously, so a miss is copied out and its
 * ring entry given back at once; the kernel keeps the fill on its in-flight
 * list until the completion arrives (or the daemon goes away, when it hands
 * the fill to the next daemon).
 *
 * The regions may be /dev/maicache or plain memory (the unit tests): this
 * file does no mmap and no I/O but the kick.
 */
#ifndef MAICACHE_MISS_RING_H
#define MAICACHE_MISS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maicache_ring.h"

/* A miss in host byte order. */
struct mc_miss {
	uint64_t id;
	uint64_t cookie;
	uint64_t extent;
	uint64_t slot_off;
	uint32_t len;
	uint32_t extent_shift;
	uint32_t dev_id;
	uint32_t flags;		/* MAICACHE_MISS_PART: extent is a part index */
};

struct mc_cpl_pending {
	uint64_t id;
	uint32_t status;
};

struct mc_miss_ring {
	const struct maicache_miss_hdr *mhdr;
	const struct maicache_miss *misses;
	struct maicache_cpl_hdr *chdr;
	struct maicache_cpl *cpls;
	uint8_t *pool;
	uint64_t pool_size;
	uint32_t miss_entries;
	uint32_t cpl_entries;

	uint32_t miss_tail;	/* next miss to take (ours) */
	uint32_t cpl_head;	/* next completion slot (ours) */
	bool unkicked;		/* completions posted since the last kick */

	/* Completions that found the ring full, oldest first. */
	struct mc_cpl_pending *backlog;
	size_t nbacklog, backlog_cap;

	/* 0 or a negative errno; posts one 8-byte write to the device. */
	int (*kick)(struct mc_miss_ring *r);
	void *priv;

	uint64_t kicks;
	uint64_t ring_full;	/* completions that had to wait for space */
	uint64_t resyncs;	/* indices repaired (see mc_miss_ring_start) */
};

/* What mc_miss_ring_start() had to repair, as bits. */
#define MC_RING_FIXED_MISS_TAIL	0x1	/* cpl.miss_tail did not fit miss.head */
#define MC_RING_FIXED_CPL_HEAD	0x2	/* cpl.head did not fit miss.cpl_tail */

/*
 * Point r at mapped regions (header validated with mc_hdr_check()) and take
 * over the indices a previous daemon left in the CPL region, repairing them
 * when they cannot be right (a crashed daemon may have left anything).
 * Returns the MC_RING_FIXED_* bits of what was repaired, 0 for nothing.
 */
int mc_miss_ring_start(struct mc_miss_ring *r, const void *miss, void *cpl,
		       void *pool);
void mc_miss_ring_free(struct mc_miss_ring *r);

/* Copy out the next miss and give its entry back; false when none. */
bool mc_miss_ring_pop(struct mc_miss_ring *r, struct mc_miss *out);

/*
 * Post a completion (status 0 or a positive errno). When the ring is full it
 * waits in the backlog until mc_miss_ring_flush() finds space. -ENOMEM only.
 */
int mc_miss_ring_complete(struct mc_miss_ring *r, uint64_t id, uint32_t status);

/*
 * Publish what was posted and kick the kernel once; retries the backlog
 * after the kick (the kernel consumes completions inside the kick). Returns
 * 0 or the kick's negative errno.
 */
int mc_miss_ring_flush(struct mc_miss_ring *r);

/* True when misses wait in the ring. */
bool mc_miss_ring_has_misses(const struct mc_miss_ring *r);

/*
 * The pieces under mc_miss_ring_complete() and _flush(), for a caller that
 * kicks in its own way (the test filler, which also posts garbage on
 * purpose): misses posted by the kernel and not taken; completion entries
 * free; write one entry (no space check, no backlog); make the entries and
 * the miss tail visible to the kernel (it reads them at the next kick).
 */
uint32_t mc_miss_ring_pending(const struct mc_miss_ring *r);
uint32_t mc_miss_ring_cpl_space(const struct mc_miss_ring *r);
void mc_miss_ring_post(struct mc_miss_ring *r, uint64_t id, uint32_t status,
		       uint32_t flags);
void mc_miss_ring_publish(struct mc_miss_ring *r);

#endif /* MAICACHE_MISS_RING_H */
