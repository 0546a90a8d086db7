/* SPDX-License-Identifier: MIT */
/*
 * Checks and sizes of the miss ring's header (proto/maicache_ring.h), shared
 * by maicached and the test filler.
 */
#ifndef MAICACHE_RING_HDR_H
#define MAICACHE_RING_HDR_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#include "maicache_ring.h"

/* Ring indices are shared with the kernel: acquire what it published. */
static inline uint32_t load_acquire32(const __le32 *p)
{
	return le32toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

/* Publish an index after the entries it covers are written. */
static inline void store_release32(__le32 *p, uint32_t v)
{
	__atomic_store_n(p, htole32(v), __ATOMIC_RELEASE);
}

/* Byte sizes of the MISS and CPL regions for a validated header. */
size_t mc_miss_region_size(const struct maicache_miss_hdr *h, size_t page);
size_t mc_cpl_region_size(const struct maicache_miss_hdr *h, size_t page);
/*
 * NULL when the header is one this build speaks, else a message saying
 * what is wrong (static storage).
 */
const char *mc_hdr_check(const struct maicache_miss_hdr *h);

#endif /* MAICACHE_RING_HDR_H */
