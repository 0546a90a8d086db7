// SPDX-License-Identifier: MIT
/*
 * Unit tests for group-wide single flight (peer/flight.c): one fetcher per
 * extent, waiters answered when the bytes arrive, the turn passed on when
 * a fetcher fails, dies or outlives its lease.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_run.h"
#include "flight.h"

struct seen {
	int n;
	struct mc_flight_who who[64];
	enum mc_flight_verdict v[64];
};

static void record(void *arg, const struct mc_extent_key *key,
		   struct mc_flight_who who, enum mc_flight_verdict v)
{
	struct seen *s = arg;

	(void)key;
	ck_assert_int_lt(s->n, 64);
	s->who[s->n] = who;
	s->v[s->n++] = v;
}

static struct mc_extent_key key(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = i };

	memset(k.blob, 7, sizeof(k.blob));
	return k;
}

static struct mc_flight *table(unsigned int waiters, unsigned int extents)
{
	struct mc_flight_opts o = { .lease_ms = 1000, .max_waiters = waiters,
				    .max_extents = extents };
	struct mc_flight *t;

	ck_assert_int_eq(mc_flight_new(&t, &o), 0);
	return t;
}

static int A, B, C;
#define WHO(c, s) ((struct mc_flight_who){ .conn = &(c), .seq = (s) })

START_TEST(one_fetch_many_waiters)
{
	struct mc_flight *t = table(8, 8);
	struct mc_extent_key k = key(1);
	struct seen s = { 0 };

	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(A, 1), 0), MC_FLIGHT_FETCH);
	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(B, 1), 5), MC_FLIGHT_WAIT);
	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(C, 9), 6), MC_FLIGHT_WAIT);
	ck_assert_uint_eq(mc_flight_count(t), 1);
	/* A PUT from someone without the turn changes nothing. */
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(B, 1), 1, 7, record, &s), -ESRCH);
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(A, 2), 1, 7, record, &s), -ESRCH);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(A, 1), 1, 8, record, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_ptr_eq(s.who[0].conn, &B);
	ck_assert_ptr_eq(s.who[1].conn, &C);
	ck_assert_uint_eq(s.who[1].seq, 9);
	ck_assert_int_eq(s.v[0], MC_FLIGHT_SERVE);
	ck_assert_int_eq(s.v[1], MC_FLIGHT_SERVE);
	ck_assert_uint_eq(mc_flight_count(t), 0);
	mc_flight_free(t);
}
END_TEST

START_TEST(failed_fetch_passes_the_turn)
{
	struct mc_flight *t = table(8, 8);
	struct mc_extent_key k = key(2);
	struct seen s = { 0 };

	mc_flight_ask(t, &k, WHO(A, 1), 0);
	mc_flight_ask(t, &k, WHO(B, 2), 0);
	mc_flight_ask(t, &k, WHO(C, 3), 0);
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(A, 1), 0, 100, record, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.who[0].conn, &B);
	ck_assert_int_eq(s.v[0], MC_FLIGHT_FETCH);
	/* The new lease runs from the failure. */
	ck_assert_uint_eq(mc_flight_next_deadline(t), 1100);
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(B, 2), 1, 200, record, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_ptr_eq(s.who[1].conn, &C);
	ck_assert_int_eq(s.v[1], MC_FLIGHT_SERVE);
	mc_flight_free(t);
}
END_TEST

START_TEST(stalled_fetcher_loses_its_turn)
{
	struct mc_flight *t = table(8, 8);
	struct mc_extent_key k = key(3), other = key(4);
	struct seen s = { 0 };

	mc_flight_ask(t, &k, WHO(A, 1), 0);
	mc_flight_ask(t, &k, WHO(B, 1), 10);
	mc_flight_ask(t, &other, WHO(C, 1), 500);	/* lease to 1500 */
	mc_flight_expire(t, 999, record, &s);
	ck_assert_int_eq(s.n, 0);
	mc_flight_expire(t, 1000, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.who[0].conn, &B);
	ck_assert_int_eq(s.v[0], MC_FLIGHT_FETCH);
	/* A's late PUT is refused; B's counts. */
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(A, 1), 1, 1200, record, &s), -ESRCH);
	/* No waiter: the expired extent is dropped, the next asker fetches. */
	mc_flight_expire(t, 1500, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(mc_flight_ask(t, &other, WHO(A, 5), 1600), MC_FLIGHT_FETCH);
	mc_flight_free(t);
}
END_TEST

START_TEST(dead_connection_is_forgotten)
{
	struct mc_flight *t = table(8, 8);
	struct mc_extent_key k = key(5), k2 = key(6);
	struct seen s = { 0 };

	mc_flight_ask(t, &k, WHO(A, 1), 0);
	mc_flight_ask(t, &k, WHO(B, 1), 0);
	mc_flight_ask(t, &k, WHO(A, 2), 0);	/* A waits on it too */
	mc_flight_ask(t, &k, WHO(C, 1), 0);
	mc_flight_ask(t, &k2, WHO(B, 2), 0);
	mc_flight_ask(t, &k2, WHO(A, 3), 0);
	mc_flight_forget(t, &A, 50, record, &s);
	/* k: the turn went to B (A's wait is gone); k2: A's wait is gone. */
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.who[0].conn, &B);
	ck_assert_uint_eq(s.who[0].seq, 1);
	ck_assert_int_eq(mc_flight_done(t, &k, WHO(B, 1), 1, 60, record, &s), 0);
	ck_assert_int_eq(s.n, 2);	/* only C is served */
	ck_assert_ptr_eq(s.who[1].conn, &C);
	ck_assert_int_eq(mc_flight_done(t, &k2, WHO(B, 2), 1, 60, record, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(mc_flight_count(t), 0);
	mc_flight_free(t);
}
END_TEST

START_TEST(bounded)
{
	struct mc_flight *t = table(2, 2);
	struct mc_extent_key k = key(7), k2 = key(8), k3 = key(9);
	struct mc_flight_opts bad = { .lease_ms = 0, .max_waiters = 1, .max_extents = 1 };
	struct mc_flight *u;

	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(A, 1), 0), MC_FLIGHT_FETCH);
	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(B, 1), 0), MC_FLIGHT_WAIT);
	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(B, 2), 0), MC_FLIGHT_WAIT);
	ck_assert_int_eq(mc_flight_ask(t, &k, WHO(C, 1), 0), MC_FLIGHT_BUSY);
	ck_assert_int_eq(mc_flight_ask(t, &k2, WHO(C, 2), 0), MC_FLIGHT_FETCH);
	ck_assert_int_eq(mc_flight_ask(t, &k3, WHO(C, 3), 0), MC_FLIGHT_BUSY);
	ck_assert_int_eq(mc_flight_new(&u, &bad), -EINVAL);
	bad.lease_ms = 600001;
	ck_assert_int_eq(mc_flight_new(&u, &bad), -EINVAL);
	mc_flight_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("flight");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, one_fetch_many_waiters);
	tcase_add_test(tc, failed_fetch_passes_the_turn);
	tcase_add_test(tc, stalled_fetcher_loses_its_turn);
	tcase_add_test(tc, dead_connection_is_forgotten);
	tcase_add_test(tc, bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
