// SPDX-License-Identifier: MIT
/*
 * Unit tests for userd/prefault.c: the thread maps every page of a shared
 * mapping it was given (mincore() sees them resident, where before it saw
 * none), stops early when asked, and reports the errno that ended a walk
 * over memory it cannot populate; stop() is safe twice and unstarted.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prefault.h"
#include "check_run.h"

/* Pages of [p, p + len) mapped in, by mincore(). */
static size_t resident(void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = len / page, i, in = 0;
	unsigned char *vec = calloc(n, 1);

	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore(p, len, vec), 0);
	for (i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	return in;
}

static void *shared_map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

START_TEST(maps_every_page)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* Not a whole number of chunks: the last one is short. */
	size_t len = (200u << 20) + 3 * page;
	struct mc_prefault pf;
	char *p = shared_map(len, PROT_READ | PROT_WRITE);

	ck_assert_uint_eq(resident(p, len), 0);
	ck_assert_int_eq(mc_prefault_start(&pf, p, len), 0);
	/* stop() asks it to end early: wait for the walk to end first. */
	while (!__atomic_load_n(&pf.ended, __ATOMIC_ACQUIRE))
		usleep(1000);
	ck_assert_int_eq(mc_prefault_stop(&pf), 0);
	ck_assert_uint_eq(pf.done, len);
	ck_assert_uint_eq(resident(p, len), len / page);
	ck_assert_int_eq(mc_prefault_stop(&pf), 0);
	munmap(p, len);
}
END_TEST

START_TEST(stops_early)
{
	size_t len = 1u << 30;	/* shared memory, reserved but never all touched */
	struct mc_prefault pf;
	char *p = shared_map(len, PROT_READ | PROT_WRITE);

	ck_assert_int_eq(mc_prefault_start(&pf, p, len), 0);
	ck_assert_int_eq(mc_prefault_stop(&pf), 0);
	ck_assert_uint_lt(pf.done, len);
	ck_assert_uint_eq(pf.done % (64u << 20), 0);
	munmap(p, len);
}
END_TEST

START_TEST(reports_what_ended_it)
{
	size_t len = 8u << 20;
	struct mc_prefault pf;
	char *p = shared_map(len, PROT_READ);

	ck_assert_int_eq(mc_prefault_start(&pf, p, len), 0);
	/* A stop() before the first chunk would end it with no error. */
	while (!__atomic_load_n(&pf.ended, __ATOMIC_ACQUIRE))
		usleep(1000);
	ck_assert_int_ne(mc_prefault_stop(&pf), 0);
	ck_assert_uint_eq(pf.done, 0);
	ck_assert_uint_eq(resident(p, len), 0);
	munmap(p, len);
}
END_TEST

START_TEST(stop_unstarted)
{
	struct mc_prefault pf = { 0 };

	ck_assert_int_eq(mc_prefault_stop(&pf), 0);
}
END_TEST

static Suite *prefault_suite(void)
{
	Suite *s = suite_create("prefault");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, maps_every_page);
	tcase_add_test(tc, stops_early);
	tcase_add_test(tc, reports_what_ended_it);
	tcase_add_test(tc, stop_unstarted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(prefault_suite());
}
