/* SPDX-License-Identifier: MIT */
/*
 * The daemon's check of a miss the kernel sent, before it reads a byte for
 * it: the kernel is trusted no more than it must be. A miss names an
 * extent, or with MAICACHE_MISS_PART a 64 KiB part, of a volume whose
 * extents are extent_size bytes (a power of two) in dev_size bytes, and a
 * slot of the pool of pool_size bytes to fill.
 *
 * NULL when the miss is sound: its extent size is the volume's, its length
 * is 1 to one extent or part, the device bytes it names
 * [extent * unit, + len) lie within dev_size and its slot
 * [slot_off, + len) within the pool. Otherwise a reason for the log; the
 * miss is then completed with EIO. Never overflows on any input.
 */
#ifndef MAICACHE_MISS_CHECK_H
#define MAICACHE_MISS_CHECK_H

#include <stdint.h>

#include "miss_ring.h"

const char *mc_miss_check(uint32_t extent_size, uint64_t dev_size,
			  uint64_t pool_size, const struct mc_miss *m);

/* The bytes a sound miss's extent index counts in: an extent or a part. */
uint64_t mc_miss_unit(uint32_t extent_size, const struct mc_miss *m);

#endif /* MAICACHE_MISS_CHECK_H */
