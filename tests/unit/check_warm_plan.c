// SPDX-License-Identifier: MIT
/*
 * Unit tests for what maicachectl warmup fetches (tools/warm_plan.c): byte
 * ranges to extents, FIEMAP extents to device extents, merging, --range.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "warm_plan.h"
#include "check_run.h"

#define K 1024ULL
#define M (1024ULL * 1024)

static struct fiemap_extent fe(uint64_t physical, uint64_t len, uint32_t flags)
{
	struct fiemap_extent e;

	memset(&e, 0, sizeof(e));
	e.fe_physical = physical;
	e.fe_length = len;
	e.fe_flags = flags;
	return e;
}

/* A range covers every extent it touches, never one more. */
START_TEST(bytes_to_extents)
{
	struct mc_warm_plan p;

	mc_plan_init(&p, 16 * M, 1 * M);
	ck_assert_uint_eq(p.extent_shift, 20);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 0, 1), 0);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 3 * M - 1, 2), 0);	/* straddles 2|3 */
	ck_assert_int_eq(mc_plan_add_bytes(&p, 10 * M, 1 * M), 0);	/* exactly 10 */
	ck_assert_int_eq(mc_plan_add_bytes(&p, 5 * M, 0), 0);		/* nothing */
	mc_plan_finish(&p);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_uint_eq(p.runs[0].first, 0);
	ck_assert_uint_eq(p.runs[0].last, 0);
	ck_assert_uint_eq(p.runs[1].first, 2);
	ck_assert_uint_eq(p.runs[1].last, 3);
	ck_assert_uint_eq(p.runs[2].first, 10);
	ck_assert_uint_eq(p.runs[2].last, 10);
	ck_assert_uint_eq(mc_plan_extents(&p), 4);
	ck_assert_uint_eq(mc_plan_bytes(&p), 4 * M);
	mc_plan_free(&p);
}
END_TEST

START_TEST(bytes_past_the_device)
{
	struct mc_warm_plan p;

	mc_plan_init(&p, 16 * M, 64 * K);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 16 * M, 1), -ERANGE);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 15 * M, 1 * M + 1), -ERANGE);
	ck_assert_int_eq(mc_plan_add_bytes(&p, ~0ULL, 2), -ERANGE);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 15 * M, 1 * M), 0);
	mc_plan_finish(&p);
	ck_assert_uint_eq(mc_plan_extents(&p), 16);
	ck_assert_uint_eq(p.runs[0].last, 255);
	mc_plan_free(&p);
}
END_TEST

/* Overlapping, touching and repeated runs merge; others stay apart, sorted. */
START_TEST(runs_merge)
{
	struct mc_warm_plan p;
	int i;

	mc_plan_init(&p, 1024 * M, 1 * M);
	/* Many times the same extents, out of order: more than one allocation. */
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(mc_plan_add_bytes(&p, (uint64_t)(i % 7) * M, M), 0);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 100 * M, 5 * M), 0);	/* 100..104 */
	ck_assert_int_eq(mc_plan_add_bytes(&p, 105 * M, 1 * M), 0);	/* touches: 105 */
	ck_assert_int_eq(mc_plan_add_bytes(&p, 102 * M, 10 * M), 0);	/* inside and past */
	ck_assert_int_eq(mc_plan_add_bytes(&p, 50 * M, 1), 0);
	mc_plan_finish(&p);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_uint_eq(p.runs[0].first, 0);
	ck_assert_uint_eq(p.runs[0].last, 6);
	ck_assert_uint_eq(p.runs[1].first, 50);
	ck_assert_uint_eq(p.runs[1].last, 50);
	ck_assert_uint_eq(p.runs[2].first, 100);
	ck_assert_uint_eq(p.runs[2].last, 111);
	ck_assert_uint_eq(mc_plan_extents(&p), 7 + 1 + 12);
	mc_plan_free(&p);
}
END_TEST

/* The device's last extent is short: its bytes are what the device has. */
START_TEST(short_last_extent)
{
	struct mc_warm_plan p;

	mc_plan_init(&p, 10 * M + 4 * K, 1 * M);
	ck_assert_int_eq(mc_plan_add_bytes(&p, 9 * M, 1 * M + 4 * K), 0);
	mc_plan_finish(&p);
	ck_assert_uint_eq(mc_plan_extents(&p), 2);
	ck_assert_uint_eq(mc_plan_bytes(&p), 1 * M + 4 * K);
	ck_assert_uint_eq(mc_plan_run_bytes(&p, 10, 10), 4 * K);
	mc_plan_free(&p);
}
END_TEST

/* FIEMAP's physical bytes are the filesystem's: a partition moves them. */
START_TEST(fiemap_in_a_partition)
{
	struct mc_warm_plan p;
	struct fiemap_extent e;

	mc_plan_init(&p, 64 * M, 1 * M);
	e = fe(3 * M + 4 * K, 8 * K, 0);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 1 * M, 32 * M), 0);
	/* Data inline in metadata, not aligned: still bytes on the device. */
	e = fe(20 * M + 100, 60, FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED |
				  FIEMAP_EXTENT_LAST);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 1 * M, 32 * M), 0);
	mc_plan_finish(&p);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_uint_eq(p.runs[0].first, 4);
	ck_assert_uint_eq(p.runs[0].last, 4);
	ck_assert_uint_eq(p.runs[1].first, 21);
	ck_assert_uint_eq(p.runs[1].last, 21);
	mc_plan_free(&p);
}
END_TEST

/* Extents with nothing on the device to fetch are counted, not fetched. */
START_TEST(fiemap_unmapped_and_unwritten)
{
	struct mc_warm_plan p;
	struct fiemap_extent e;

	mc_plan_init(&p, 64 * M, 1 * M);
	e = fe(0, 4 * M, FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 0, 64 * M), 0);
	e = fe(8 * M, 4 * M, FIEMAP_EXTENT_UNWRITTEN);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 0, 64 * M), 0);
	e = fe(2 * M, 4 * M, FIEMAP_EXTENT_UNKNOWN);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 0, 64 * M), 0);
	mc_plan_finish(&p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(mc_plan_extents(&p), 0);
	ck_assert_uint_eq(p.unmapped, 2);
	ck_assert_uint_eq(p.unwritten, 1);
	mc_plan_free(&p);
}
END_TEST

/*
 * An encoded (compressed) extent's length is logical and may run past the
 * filesystem: cut there. One that starts outside it is refused.
 */
START_TEST(fiemap_encoded_and_outside)
{
	struct mc_warm_plan p;
	struct fiemap_extent e;

	mc_plan_init(&p, 64 * M, 1 * M);
	e = fe(30 * M, 16 * M, FIEMAP_EXTENT_ENCODED);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 16 * M, 32 * M), 0);
	e = fe(32 * M, 4 * K, 0);
	ck_assert_int_eq(mc_plan_add_fiemap(&p, &e, 16 * M, 32 * M), -ERANGE);
	mc_plan_finish(&p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_uint_eq(p.runs[0].first, 46);
	ck_assert_uint_eq(p.runs[0].last, 47);
	mc_plan_free(&p);
}
END_TEST

START_TEST(range_parses)
{
	uint64_t a, b;
	char err[256];

	ck_assert_int_eq(mc_parse_range("0-1M", 16 * M, &a, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 1 * M);
	ck_assert_int_eq(mc_parse_range("4M-", 16 * M, &a, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(a, 4 * M);
	ck_assert_uint_eq(b, 16 * M);
	ck_assert_int_eq(mc_parse_range("100-16M", 16 * M, &a, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(a, 100);
	ck_assert_uint_eq(b, 16 * M);
	ck_assert_int_eq(mc_parse_range("1g-2G", 4096 * M, &a, &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(a, 1024 * M);
	ck_assert_uint_eq(b, 2048 * M);
}
END_TEST

/* Each bad form is refused with a message that says what is wrong. */
static const struct {
	const char *in, *msg;
} bad_ranges[] = {
	{ "", "is not START-END" },
	{ "1M", "is not START-END" },
	{ "-1M", "is not START-END" },
	{ "x-1M", "'x' is not a size" },
	{ "1M-y", "'y' is not a size" },
	{ "1M-2M-3M", "'2M-3M' is not a size" },
	{ " 1-2", "' 1' is not a size" },
	{ "2M-1M", "is empty" },
	{ "1M-1M", "is empty" },
	{ "16M-", "is empty" },
	{ "0-17M", "reaches past the end of the device (16777216 bytes)" },
	{ "0-99999999999999999999", "is not a size" },
	{ "123456789012345678901234567890123-", "is not START-END" },
};

START_TEST(range_refused)
{
	uint64_t a = 7, b = 7;
	char err[256] = "";

	ck_assert_int_eq(mc_parse_range(bad_ranges[_i].in, 16 * M, &a, &b, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, bad_ranges[_i].msg), "'%s': '%s' lacks '%s'",
		      bad_ranges[_i].in, err, bad_ranges[_i].msg);
	ck_assert_msg(!strncmp(err, "--range: ", 9), "'%s' does not name --range", err);
}
END_TEST

static Suite *warm_plan_suite(void)
{
	Suite *s = suite_create("warm_plan");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, bytes_to_extents);
	tcase_add_test(tc, bytes_past_the_device);
	tcase_add_test(tc, runs_merge);
	tcase_add_test(tc, short_last_extent);
	suite_add_tcase(s, tc);
	tc = tcase_create("fiemap");
	tcase_add_test(tc, fiemap_in_a_partition);
	tcase_add_test(tc, fiemap_unmapped_and_unwritten);
	tcase_add_test(tc, fiemap_encoded_and_outside);
	suite_add_tcase(s, tc);
	tc = tcase_create("range");
	tcase_add_test(tc, range_parses);
	tcase_add_loop_test(tc, range_refused, 0, sizeof(bad_ranges) / sizeof(bad_ranges[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(warm_plan_suite());
}
