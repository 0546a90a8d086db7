// SPDX-License-Identifier: MIT
/* See miss_check.h. */
#include "maicache_ring.h"
#include "miss_check.h"

uint64_t mc_miss_unit(uint32_t extent_size, const struct mc_miss *m)
{
	return m->flags & MAICACHE_MISS_PART ? 1ULL << MAICACHE_PART_SHIFT
					     : (uint64_t)extent_size;
}

const char *mc_miss_check(uint32_t extent_size, uint64_t dev_size,
			  uint64_t pool_size, const struct mc_miss *m)
{
	uint64_t ext = extent_size;
	uint64_t unit = mc_miss_unit(extent_size, m);

	if (m->extent_shift >= 32 || (1ULL << m->extent_shift) != ext)
		return "extent size differs from the volume's";
	if (m->flags & ~MAICACHE_MISS_PART)
		return "unknown flags";
	if (unit > ext)
		return "a part larger than the volume's extent";
	if (m->len == 0 || m->len > unit)
		return m->flags & MAICACHE_MISS_PART ? "length is 0 or more than a part"
						      : "length is 0 or more than an extent";
	if (m->slot_off > pool_size || m->len > pool_size - m->slot_off)
		return "slot outside the pool";
	/* No sum that can wrap: past the first test, extent * unit <= dev_size. */
	if (m->extent > dev_size / unit || m->len > dev_size - m->extent * unit)
		return "extent past the end of the device";
	return NULL;
}
