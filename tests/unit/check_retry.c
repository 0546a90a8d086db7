// SPDX-License-Identifier: MIT
/*
 * Unit tests for userd/retry.c: the cap grows by doubling up to max, the
 * jittered delay stays in [cap / 2, cap] and really varies, the retry count
 * and the deadline bound the attempts, and a seed repeats its delays.
 */
#include <check.h>
#include <stdlib.h>

#include "retry.h"
#include "check_run.h"

static const struct mc_retry_policy pol = {
	.max_retries = 5, .base_ms = 100, .max_ms = 5000, .deadline_ms = 0,
};

START_TEST(cap_growth)
{
	ck_assert_uint_eq(mc_retry_cap(&pol, 0), 100);
	ck_assert_uint_eq(mc_retry_cap(&pol, 1), 200);
	ck_assert_uint_eq(mc_retry_cap(&pol, 2), 400);
	ck_assert_uint_eq(mc_retry_cap(&pol, 5), 3200);
	ck_assert_uint_eq(mc_retry_cap(&pol, 6), 5000);
	ck_assert_uint_eq(mc_retry_cap(&pol, 1000), 5000);
}
END_TEST

START_TEST(cap_no_overflow)
{
	const struct mc_retry_policy big = {
		.max_retries = 100, .base_ms = UINT64_MAX / 3,
		.max_ms = UINT64_MAX,
	};

	ck_assert_uint_eq(mc_retry_cap(&big, 0), UINT64_MAX / 3);
	ck_assert_uint_eq(mc_retry_cap(&big, 1), UINT64_MAX / 3 * 2);
	ck_assert_uint_eq(mc_retry_cap(&big, 2), UINT64_MAX);
	ck_assert_uint_eq(mc_retry_cap(&big, 200), UINT64_MAX);
}
END_TEST

/* Equal jitter: every delay in [cap/2, cap], both ends of the range seen
 * nearly, and the mean near 3/4 cap. */
START_TEST(jitter_range)
{
	struct mc_rng r;
	unsigned int n, retry;

	mc_rng_seed(&r, 42);
	for (retry = 0; retry < 8; retry++) {
		uint64_t cap = mc_retry_cap(&pol, retry), lo = UINT64_MAX, hi = 0;
		double sum = 0;

		for (n = 0; n < 4000; n++) {
			uint64_t d = mc_retry_delay(&pol, retry, &r);

			ck_assert_uint_ge(d, cap / 2);
			ck_assert_uint_le(d, cap);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += (double)d;
		}
		ck_assert_uint_le(lo, cap / 2 + cap / 50);
		ck_assert_uint_ge(hi, cap - cap / 50);
		ck_assert_double_le(abs((int)(sum / n) - (int)(cap * 3 / 4)), cap / 20.0);
	}
}
END_TEST

START_TEST(seed_repeats)
{
	struct mc_rng a, b, c;
	int same_as_other = 0, n;

	mc_rng_seed(&a, 7);
	mc_rng_seed(&b, 7);
	mc_rng_seed(&c, 8);
	for (n = 0; n < 100; n++) {
		uint64_t x = mc_retry_delay(&pol, 6, &a);

		ck_assert_uint_eq(x, mc_retry_delay(&pol, 6, &b));
		same_as_other += x == mc_retry_delay(&pol, 6, &c);
	}
	ck_assert_int_lt(same_as_other, 10);
}
END_TEST

START_TEST(upto_bounds)
{
	struct mc_rng r;
	int seen[3] = { 0 }, n;

	mc_rng_seed(&r, 1);
	for (n = 0; n < 300; n++) {
		uint64_t x = mc_rng_upto(&r, 2);

		ck_assert_uint_le(x, 2);
		seen[x]++;
	}
	ck_assert(seen[0] && seen[1] && seen[2]);
	ck_assert_uint_eq(mc_rng_upto(&r, 0), 0);
	(void)mc_rng_upto(&r, UINT64_MAX);
}
END_TEST

START_TEST(max_retries_bound)
{
	struct mc_rng r;
	unsigned int done;

	mc_rng_seed(&r, 3);
	for (done = 0; done < pol.max_retries; done++)
		ck_assert_int_ge(mc_retry_next(&pol, done, 0, &r), 0);
	ck_assert_int_eq(mc_retry_next(&pol, pol.max_retries, 0, &r), -1);
	ck_assert_int_eq(mc_retry_next(&pol, pol.max_retries + 1, 0, &r), -1);
}
END_TEST

START_TEST(no_retries)
{
	const struct mc_retry_policy none = { .max_retries = 0, .base_ms = 1, .max_ms = 1 };
	struct mc_rng r;

	mc_rng_seed(&r, 3);
	ck_assert_int_eq(mc_retry_next(&none, 0, 0, &r), -1);
}
END_TEST

/* The next attempt must begin before the deadline, else no retry. */
START_TEST(deadline_bound)
{
	struct mc_retry_policy p = pol;
	struct mc_rng r;
	int64_t d;

	p.deadline_ms = 1000;
	mc_rng_seed(&r, 5);
	ck_assert_int_eq(mc_retry_next(&p, 0, 1000, &r), -1);
	ck_assert_int_eq(mc_retry_next(&p, 0, 5000, &r), -1);
	/* Retry 0 waits 50..100 ms: always fits with 899 ms left... */
	d = mc_retry_next(&p, 0, 101, &r);
	ck_assert(d >= 50 && d <= 100);
	/* ...never with 49 ms left. */
	ck_assert_int_eq(mc_retry_next(&p, 0, 951, &r), -1);
	/* Retry 4 waits 800..1600 ms: never fits with 150 ms left. */
	ck_assert_int_eq(mc_retry_next(&p, 4, 850, &r), -1);
	p.deadline_ms = 0;
	ck_assert_int_ge(mc_retry_next(&p, 4, 1000000, &r), 800);
}
END_TEST

/* Retry-After raises the delay; within max_retries and the deadline. */
START_TEST(retry_after_floor)
{
	struct mc_retry_policy p = pol;
	struct mc_rng r;
	int64_t d;

	mc_rng_seed(&r, 9);
	/* Below the jittered delay it changes nothing (50..100 ms)... */
	d = mc_retry_next_after(&p, 0, 0, 10, &r);
	ck_assert(d >= 50 && d <= 100);
	/* ...above it, it is the delay, even past max_ms. */
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 0, 2000, &r), 2000);
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 0, 60000, &r), 60000);
	ck_assert_int_eq(mc_retry_next_after(&p, p.max_retries, 0, 2000, &r), -1);
	p.deadline_ms = 3000;
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 500, 2000, &r), 2000);
	/* Asks for more than is left: no retry at all, not a sleep into it. */
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 1000, 2000, &r), -1);
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 1001, 2000, &r), -1);
	ck_assert_int_eq(mc_retry_next_after(&p, 0, 0, 3000, &r), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cap_growth);
	tcase_add_test(tc, cap_no_overflow);
	tcase_add_test(tc, jitter_range);
	tcase_add_test(tc, seed_repeats);
	tcase_add_test(tc, upto_bounds);
	tcase_add_test(tc, max_retries_bound);
	tcase_add_test(tc, no_retries);
	tcase_add_test(tc, deadline_bound);
	tcase_add_test(tc, retry_after_floor);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
