// SPDX-License-Identifier: MIT
/*
 * The daemon's check of each miss the kernel sends (userd/miss_check.c): an
 * extent or a 64 KiB part must lie within its volume and its slot within
 * the pool, or the miss is refused with a reason, before any byte is read.
 */
#include <check.h>
#include <string.h>

#include "maicache_ring.h"
#include "miss_check.h"
#include "check_run.h"

#define POOL (64ULL << 20)
#define EXT (1U << 20)
#define PART (1U << MAICACHE_PART_SHIFT)

static struct { uint32_t extent_size; uint64_t dev_size; } vol;

static void setup(void)
{
	memset(&vol, 0, sizeof(vol));
	vol.extent_size = EXT;
	/* 3.5 extents: the last extent is short, its last part too. */
	vol.dev_size = 3ULL * EXT + EXT / 2 - 4096;
}

static struct mc_miss miss(uint64_t extent, uint32_t len, uint32_t flags)
{
	struct mc_miss m = {
		.id = 1, .extent = extent, .slot_off = 4 * EXT, .len = len,
		.extent_shift = 20, .dev_id = 0, .flags = flags,
	};
	return m;
}

static void refused(struct mc_miss m, const char *why)
{
	const char *got = mc_miss_check(vol.extent_size, vol.dev_size, POOL, &m);

	ck_assert_msg(got && strstr(got, why), "want '%s', got '%s'", why, got ? got : "(accepted)");
}

START_TEST(extents_within_the_volume)
{
	struct mc_miss m = miss(0, EXT, 0);

	ck_assert_ptr_null(mc_miss_check(vol.extent_size, vol.dev_size, POOL, &m));
	m = miss(3, EXT / 2 - 4096, 0);
	ck_assert_ptr_null(mc_miss_check(vol.extent_size, vol.dev_size, POOL, &m));
	refused(miss(3, EXT / 2, 0), "past the end");
	refused(miss(4, 4096, 0), "past the end");
	refused(miss(0, EXT + 1, 0), "more than an extent");
	refused(miss(0, 0, 0), "length is 0");
}
END_TEST

START_TEST(parts_within_the_volume)
{
	/* Part 16 is the first of extent 1; the last part is 4 KiB short. */
	uint64_t last = vol.dev_size / PART;
	struct mc_miss m = miss(16, PART, MAICACHE_MISS_PART);

	ck_assert_ptr_null(mc_miss_check(vol.extent_size, vol.dev_size, POOL, &m));
	m = miss(last, PART - 4096, MAICACHE_MISS_PART);
	ck_assert_ptr_null(mc_miss_check(vol.extent_size, vol.dev_size, POOL, &m));
	refused(miss(last, PART, MAICACHE_MISS_PART), "past the end");
	refused(miss(last + 1, 4096, MAICACHE_MISS_PART), "past the end");
	/* A part's length is a part's at most, not an extent's. */
	refused(miss(16, PART + 4096, MAICACHE_MISS_PART), "more than a part");
	/* A part index read as an extent's lies far past the end. */
	refused(miss(last, 4096, 0), "past the end");
}
END_TEST

START_TEST(bad_fields_refused)
{
	struct mc_miss m = miss(0, 4096, 0);

	refused(miss(0, 4096, 1U << 5), "unknown flags");
	m.extent_shift = 21;
	refused(m, "extent size differs");
	m = miss(0, 4096, 0);
	m.slot_off = POOL - 2048;
	refused(m, "slot outside the pool");
	m.slot_off = POOL + 4096;
	refused(m, "slot outside the pool");
	/* A 64 KiB volume has no part smaller than its extent: refused too. */
	vol.extent_size = PART / 2;
	m = miss(0, 4096, MAICACHE_MISS_PART);
	m.extent_shift = 15;
	refused(m, "part larger than");
}
END_TEST

START_TEST(end_of_device_does_not_wrap)
{
	/*
	 * The last part of a device of 2^64 - 1 bytes ends one byte short;
	 * its start plus its length is 2^64, which as a sum wraps to 0 and
	 * was taken for a part within the device (found by fuzz_miss_check,
	 * seed regress-device-end-wraps).
	 */
	uint64_t last = UINT64_MAX / PART;

	vol.dev_size = UINT64_MAX;
	refused(miss(last, PART, MAICACHE_MISS_PART), "past the end");
	ck_assert_ptr_null(mc_miss_check(vol.extent_size, vol.dev_size, POOL,
					 &(struct mc_miss){ .extent = last, .slot_off = 0,
							    .len = PART - 1, .extent_shift = 20,
							    .flags = MAICACHE_MISS_PART }));
	refused(miss(UINT64_MAX / EXT, EXT, 0), "past the end");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fill");
	TCase *tc = tcase_create("miss checks");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, extents_within_the_volume);
	tcase_add_test(tc, parts_within_the_volume);
	tcase_add_test(tc, bad_fields_refused);
	tcase_add_test(tc, end_of_device_does_not_wrap);
	suite_add_tcase(s, tc);
	return mc_check_run(s);
}
