/* SPDX-License-Identifier: MIT */
/*
 * The ring logic of the test filler (mc-filler), kept free of io_uring and of
 * mmap so that tests/unit/check_filler.c can drive it against plain memory.
 *
 * The caller maps the three regions of /dev/maicache (or of any stand-in),
 * sets the options and the callbacks in struct mc_filler, calls
 * mc_filler_start() with the regions, then mc_filler_batch() whenever the
 * miss ring may hold work. Entries and indices are handled by lib/'s ring
 * client (miss_ring.h), the one the daemon uses.
 */
#ifndef MC_FILLER_H
#define MC_FILLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maicache_ring.h"
#include "miss_ring.h"
#include "ring_hdr.h"

/* Word at device byte offset o: o ^ (cookie * MC_PATTERN_MULT), little-endian. */
#define MC_PATTERN_MULT 0x9E3779B97F4A7C15ULL

static inline uint64_t mc_pattern_word(uint64_t cookie, uint64_t off)
{
	return off ^ (cookie * MC_PATTERN_MULT);
}

/* Write the pattern for device bytes [dev_off, dev_off + len) into buf. */
void mc_pattern_fill(void *buf, uint64_t cookie, uint64_t dev_off, size_t len);
/*
 * Check buf against the pattern; returns the index of the first differing
 * 8-byte word (or tail) and its expected and actual values, or -1 when all
 * match. dev_off must be a multiple of 8.
 */
long mc_pattern_check(const void *buf, uint64_t cookie, uint64_t dev_off,
		      size_t len, uint64_t *expected, uint64_t *got);

struct mc_source {
	uint64_t cookie;
	const char *path;
	int fd;
};

struct mc_counters {
	uint64_t misses;	/* completions posted for real misses */
	uint64_t bytes;		/* bytes filled successfully */
	uint64_t errors;	/* real misses completed with an error */
	uint64_t hostile_posted; /* hostile_cpl + hostile_idx */
	uint64_t hostile_cpl;	/* garbage completion entries */
	uint64_t hostile_idx;	/* index games (bogus cpl.head or cpl.miss_tail) */
	uint64_t batches;
	uint64_t kicks;
	uint64_t ring_full;	/* times the completion ring was full */
};

#define MC_RECENT_IDS 64

struct mc_filler {
	struct mc_miss_ring ring;	/* lib/'s ring client: indices, entries */

	/* Options. */
	struct mc_source *sources;
	size_t nsources;
	bool pattern;
	uint64_t fail_every;	/* 0: never */
	uint64_t exit_after;	/* 0: never */
	bool hostile;
	uint64_t seed;

	/*
	 * Callbacks. kick() posts one 8-byte write to the device; with wait it
	 * returns only once the kernel has seen it. 0 or a negative errno.
	 * stall() is called while the completion ring stays full after a
	 * waited kick; nonzero gives up (the batch ends early).
	 */
	int (*kick)(struct mc_filler *f, bool wait);
	int (*stall)(struct mc_filler *f);
	void (*log)(struct mc_filler *f, const char *msg);
	void *priv;

	/* State. */
	uint64_t rng;
	uint64_t seen;		/* real misses consumed, for --fail-every */
	uint64_t recent[MC_RECENT_IDS]; /* ids completed, for duplicates */
	unsigned int nrecent;
	uint64_t warned_cookies[16];
	unsigned int nwarned;
	struct mc_counters c;
};

/*
 * Attach to the regions and take over the ring indices left in the CPL
 * region (a restarted filler resumes where the last one stopped); repairs
 * them, with a warning, when they cannot be right. Call after setting the
 * options.
 */
void mc_filler_start(struct mc_filler *f, const void *miss, void *cpl,
		     void *pool);

/*
 * Complete every miss posted so far (up to --exit-after), then kick once.
 * Returns the number of real misses completed, or a negative errno when a
 * kick failed.
 */
long mc_filler_batch(struct mc_filler *f);

/* True once --exit-after is reached. */
bool mc_filler_done(const struct mc_filler *f);

/* Misses waiting in the ring (kernel head minus our tail). */
uint32_t mc_filler_pending(const struct mc_filler *f);

uint64_t mc_rand(uint64_t *state);

#endif
