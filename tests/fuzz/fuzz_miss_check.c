// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the daemon's check of each miss the kernel sends
 * (userd/miss_check.c), the last guard before it writes a source's bytes
 * at d->ring.pool + slot_off. The input is a volume (extent size, device
 * size), the pool's size and a miss entry, every field raw.
 *
 * Property: the check's verdict is that of a reference written from
 * miss_check.h in 128-bit arithmetic, where nothing can wrap; an accepted
 * miss's slot lies within the pool, the device bytes it names within the
 * device, and its length is 1 to one extent or part. A check that let one
 * byte through past the pool would be a write outside the mapping.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maicache_ring.h"
#include "miss_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef unsigned __int128 u128;

struct input {
	uint32_t extent_shift;	/* of the volume: 12..22 as attach allows */
	uint64_t dev_size;
	uint64_t pool_size;
	struct mc_miss m;
};

static bool reference_ok(uint32_t ext, uint64_t dev, uint64_t pool, const struct mc_miss *m)
{
	u128 unit = m->flags & MAICACHE_MISS_PART ? (u128)1 << MAICACHE_PART_SHIFT : ext;

	if (m->extent_shift >= 32 || ((u128)1 << m->extent_shift) != ext)
		return false;
	if (m->flags & ~MAICACHE_MISS_PART)
		return false;
	if (unit > ext || m->len == 0 || m->len > unit)
		return false;
	if ((u128)m->slot_off + m->len > pool)
		return false;
	return (u128)m->extent * unit + m->len <= dev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	uint32_t ext;
	const char *why;
	bool ok;

	if (size < sizeof(in))
		return 0;
	memcpy(&in, data, sizeof(in));
	ext = 1U << (12 + in.extent_shift % 11);
	/* Small values too, where the boundaries are: a byte says which. */
	if (size > sizeof(in) && data[sizeof(in)] & 1)
		in.m.extent_shift = 12 + in.m.extent_shift % 11;
	if (size > sizeof(in) && data[sizeof(in)] & 2)
		in.m.len %= 2 * ext + 1;
	if (size > sizeof(in) && data[sizeof(in)] & 4)
		in.dev_size %= 64ULL * ext;
	if (size > sizeof(in) && data[sizeof(in)] & 8)
		in.m.extent %= 128;

	why = mc_miss_check(ext, in.dev_size, in.pool_size, &in.m);
	ok = reference_ok(ext, in.dev_size, in.pool_size, &in.m);
	if (ok != !why)
		abort();
	if (!why) {
		u128 unit = mc_miss_unit(ext, &in.m);

		if ((u128)in.m.slot_off + in.m.len > in.pool_size ||
		    (u128)in.m.extent * unit + in.m.len > in.dev_size ||
		    in.m.len == 0 || in.m.len > unit)
			abort();
	} else if (!*why) {
		abort();
	}
	return 0;
}
