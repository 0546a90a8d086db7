// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicachectl top's arithmetic (tools/top_calc.c):
 * percentiles from the kernel's log2 fill-latency histogram, and a
 * device's row over an interval.
 */
#include <check.h>
#include <string.h>

#include "top_calc.h"
#include "check_run.h"

#define NB MAICACHE_FILL_LATENCY_BUCKETS

START_TEST(quantile_empty)
{
	uint64_t b[NB] = { 0 };

	ck_assert_double_eq(mc_hist_quantile_us(b, NB, 0.5), -1);
	ck_assert_double_eq(mc_hist_quantile_us(b, NB, 0.99), -1);
}
END_TEST

/* Bucket b holds [2^(b-1), 2^b) us: linear inside it. */
START_TEST(quantile_one_bucket)
{
	uint64_t b[NB] = { 0 };

	b[11] = 100;				/* [1024, 2048) us */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.5), 1536, 1e-9);
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.99), 1024 + 1024 * 0.99, 1e-9);
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 1), 2048, 1e-9);
	memset(b, 0, sizeof(b));
	b[0] = 4;				/* under 1 us */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.5), 0.5, 1e-9);
}
END_TEST

START_TEST(quantile_across_buckets)
{
	uint64_t b[NB] = { 0 };

	b[4] = 90;				/* [8, 16) us */
	b[10] = 9;				/* [512, 1024) */
	b[15] = 1;				/* [16384, 32768) */
	/* p50: rank 50 of the first 90, in [8, 16). */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.5), 8 + 8 * 50.0 / 90, 1e-9);
	/* p90: exactly the top of the first bucket. */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.9), 16, 1e-9);
	/* p95: rank 95, the 5th of 9 in [512, 1024). */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.95), 512 + 512 * 5.0 / 9, 1e-9);
	/* p99: rank 99, the top of [512, 1024); p99.5 in the slow one. */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.99), 1024, 1e-9);
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.995), 16384 + 16384 * 0.5, 1e-9);
}
END_TEST

/* The last bucket is open-ended: a quantile there is its lower bound. */
START_TEST(quantile_open_bucket)
{
	uint64_t b[NB] = { 0 };

	b[1] = 1;
	b[NB - 1] = 99;
	ck_assert_double_eq(mc_hist_quantile_us(b, NB, 0.5), (double)(1ULL << (NB - 2)));
	/* Rank 1 of the one fill in [1, 2) us: the top of its bucket. */
	ck_assert_double_eq_tol(mc_hist_quantile_us(b, NB, 0.01), 2, 1e-9);
}
END_TEST

static void stats(struct mc_dev_stats *s, uint64_t hits, uint64_t misses, uint64_t bytes_hit,
		  uint64_t bytes_filled)
{
	memset(s, 0, sizeof(*s));
	s->hits = hits;
	s->misses = misses;
	s->bytes_hit = bytes_hit;
	s->bytes_filled = bytes_filled;
}

START_TEST(row_over_interval)
{
	struct mc_dev_stats a, b;
	struct mc_top_row r;

	stats(&a, 1000, 100, 1ULL << 30, 1ULL << 28);
	a.fill_latency[10] = 95;		/* 95 of the 100 fills ended */
	stats(&b, 1900, 200, (1ULL << 30) + (200ULL << 20), (1ULL << 28) + (50ULL << 20));
	b.fill_latency[10] = 95 + 60;
	b.fill_latency[12] = 35;		/* 2 still in flight */
	mc_top_row(&a, &b, 2.0, &r);
	ck_assert_uint_eq(r.hits, 900);
	ck_assert_uint_eq(r.misses, 100);
	ck_assert_double_eq_tol(r.hit_ratio, 0.9, 1e-12);
	ck_assert_double_eq_tol(r.dram_bps, 100.0 * (1 << 20), 1e-6);
	ck_assert_double_eq_tol(r.fill_bps, 25.0 * (1 << 20), 1e-6);
	ck_assert_uint_eq(r.in_flight, 10);
	ck_assert_uint_eq(r.fills, 95);
	/* Of the interval's fills only: 60 in [512, 1024), 35 in [2048, 4096). */
	ck_assert_double_eq_tol(r.p50_us, 512 + 512 * 47.5 / 60, 1e-9);
	ck_assert_double_eq_tol(r.p99_us, 2048 + 2048 * (94.05 - 60) / 35, 1e-9);
}
END_TEST

/* No read in the interval: no hit ratio, no percentile, zero rates. */
START_TEST(row_idle)
{
	struct mc_dev_stats a;
	struct mc_top_row r;

	stats(&a, 5, 5, 100, 100);
	a.fill_latency[3] = 5;
	mc_top_row(&a, &a, 1.0, &r);
	ck_assert_double_eq(r.hit_ratio, -1);
	ck_assert_double_eq(r.dram_bps, 0);
	ck_assert_double_eq(r.fill_bps, 0);
	ck_assert_uint_eq(r.in_flight, 0);
	ck_assert_double_eq(r.p50_us, -1);
	ck_assert_double_eq(r.p99_us, -1);
}
END_TEST

/* A device made again under the same id counts from zero, not negative. */
START_TEST(row_device_made_again)
{
	struct mc_dev_stats a, b;
	struct mc_top_row r;

	stats(&a, 1000, 1000, 1 << 30, 1 << 30);
	a.fill_latency[5] = 1000;
	stats(&b, 3, 1, 12288, 4096);
	b.fill_latency[5] = 1;
	mc_top_row(&a, &b, 1.0, &r);
	ck_assert_uint_eq(r.hits, 3);
	ck_assert_uint_eq(r.misses, 1);
	ck_assert_double_eq_tol(r.hit_ratio, 0.75, 1e-12);
	ck_assert_double_eq(r.dram_bps, 12288);
	ck_assert_double_eq(r.fill_bps, 4096);
	ck_assert_uint_eq(r.fills, 1);
}
END_TEST

/* misses less ended fills; never below zero when read across a fill's end. */
START_TEST(fills_in_flight)
{
	struct mc_dev_stats s;

	stats(&s, 0, 10, 0, 0);
	s.fill_latency[0] = 3;
	s.fill_latency[NB - 1] = 4;
	ck_assert_uint_eq(mc_dev_fills_in_flight(&s), 3);
	s.fill_latency[7] = 5;
	ck_assert_uint_eq(mc_dev_fills_in_flight(&s), 0);
}
END_TEST

START_TEST(us_formatted)
{
	char buf[16];

	mc_fmt_us(buf, sizeof(buf), -1);
	ck_assert_str_eq(buf, "-");
	mc_fmt_us(buf, sizeof(buf), 850);
	ck_assert_str_eq(buf, "850 us");
	mc_fmt_us(buf, sizeof(buf), 1234);
	ck_assert_str_eq(buf, "1.23 ms");
	mc_fmt_us(buf, sizeof(buf), 45600);
	ck_assert_str_eq(buf, "45.6 ms");
	mc_fmt_us(buf, sizeof(buf), 456000);
	ck_assert_str_eq(buf, "456 ms");
	mc_fmt_us(buf, sizeof(buf), 2050000);
	ck_assert_str_eq(buf, "2.05 s");
}
END_TEST

static Suite *top_suite(void)
{
	Suite *s = suite_create("top_calc");
	TCase *tc = tcase_create("quantile");

	tcase_add_test(tc, quantile_empty);
	tcase_add_test(tc, quantile_one_bucket);
	tcase_add_test(tc, quantile_across_buckets);
	tcase_add_test(tc, quantile_open_bucket);
	suite_add_tcase(s, tc);
	tc = tcase_create("row");
	tcase_add_test(tc, row_over_interval);
	tcase_add_test(tc, row_idle);
	tcase_add_test(tc, row_device_made_again);
	tcase_add_test(tc, fills_in_flight);
	tcase_add_test(tc, us_formatted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(top_suite());
}
