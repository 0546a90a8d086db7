// SPDX-License-Identifier: MIT
/*
 * Checks and sizes of the miss ring's header; see ring_hdr.h.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ring_hdr.h"

static size_t round_up(size_t v, size_t page)
{
	return (v + page - 1) / page * page;
}

size_t mc_miss_region_size(const struct maicache_miss_hdr *h, size_t page)
{
	return round_up(MAICACHE_RING_ENTRIES_OFF +
			(size_t)le32toh(h->miss_entries) * le32toh(h->miss_entry_size),
			page);
}

size_t mc_cpl_region_size(const struct maicache_miss_hdr *h, size_t page)
{
	return round_up(MAICACHE_RING_ENTRIES_OFF +
			(size_t)le32toh(h->cpl_entries) * le32toh(h->cpl_entry_size),
			page);
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Far more than any sane ring, small enough that sizes cannot overflow. */
#define MC_MAX_ENTRIES (1U << 24)

const char *mc_hdr_check(const struct maicache_miss_hdr *h)
{
	static char msg[256];
	uint32_t magic = le32toh(h->magic), version = le32toh(h->version);
	uint32_t me = le32toh(h->miss_entries), ce = le32toh(h->cpl_entries);
	uint32_t mes = le32toh(h->miss_entry_size), ces = le32toh(h->cpl_entry_size);

	if (magic != MAICACHE_RING_MAGIC)
		snprintf(msg, sizeof(msg),
			 "bad ring magic 0x%08x (want 0x%08x): not a maicache ring",
			 magic, MAICACHE_RING_MAGIC);
	else if (version != MAICACHE_RING_VERSION)
		snprintf(msg, sizeof(msg),
			 "ring version %u, this build speaks %u: rebuild against the module's proto/maicache_ring.h",
			 version, MAICACHE_RING_VERSION);
	else if (mes != sizeof(struct maicache_miss) || ces != sizeof(struct maicache_cpl))
		snprintf(msg, sizeof(msg),
			 "entry sizes miss %u / cpl %u, this build has %zu / %zu: rebuild against the module's proto/maicache_ring.h",
			 mes, ces, sizeof(struct maicache_miss), sizeof(struct maicache_cpl));
	else if (!pow2(me) || !pow2(ce) || me > MC_MAX_ENTRIES || ce > MC_MAX_ENTRIES)
		snprintf(msg, sizeof(msg),
			 "ring sizes miss %u / cpl %u are not powers of two up to %u",
			 me, ce, MC_MAX_ENTRIES);
	else if (le64toh(h->pool_size) == 0)
		snprintf(msg, sizeof(msg), "the pool is empty (pool_size 0): set a pool size first");
	else
		return NULL;
	return msg;
}
