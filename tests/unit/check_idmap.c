// SPDX-License-Identifier: MIT
/*
 * Unit tests for the node id map (peer/idmap.c): what is put is found,
 * changed and deleted, through growth and deletions in the middle of
 * probe runs, checked against a plain array after every step.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_run.h"
#include "idmap.h"
#include "key.h"

#define N 3000

static struct mc_node_id id(uint32_t i)
{
	struct mc_node_id x;

	memset(x.b, 0, sizeof(x.b));
	memcpy(x.b, &i, sizeof(i));
	return x;
}

START_TEST(put_get_del)
{
	struct mc_idmap m = { 0 };
	struct mc_node_id a = id(1), b = id(2);

	ck_assert_int_eq(mc_idmap_get(&m, &a), -1);
	mc_idmap_del(&m, &a);			/* nothing there: nothing happens */
	ck_assert_int_eq(mc_idmap_put(&m, &a, 7), 0);
	ck_assert_int_eq(mc_idmap_put(&m, &b, 9), 0);
	ck_assert_int_eq(mc_idmap_get(&m, &a), 7);
	ck_assert_int_eq(mc_idmap_put(&m, &a, 8), 0);	/* changed, not added */
	ck_assert_uint_eq(m.n, 2);
	ck_assert_int_eq(mc_idmap_get(&m, &a), 8);
	mc_idmap_del(&m, &a);
	ck_assert_int_eq(mc_idmap_get(&m, &a), -1);
	ck_assert_int_eq(mc_idmap_get(&m, &b), 9);
	mc_idmap_clear(&m);
	ck_assert_int_eq(mc_idmap_get(&m, &b), -1);
	mc_idmap_free(&m);
}
END_TEST

/* Random puts and deletes against an array that says what must be there. */
START_TEST(agrees_with_an_array)
{
	static int64_t want[N];
	struct mc_idmap m = { 0 };
	uint64_t r = 12345;

	for (int i = 0; i < N; i++)
		want[i] = -1;
	for (int step = 0; step < 40000; step++) {
		uint32_t i;
		struct mc_node_id x;

		r = mc_mix64(r + step);
		i = (uint32_t)(r % N);
		x = id(i);
		if (r >> 60 < 10) {
			ck_assert_int_eq(mc_idmap_put(&m, &x, (uint32_t)step), 0);
			want[i] = step;
		} else {
			mc_idmap_del(&m, &x);
			want[i] = -1;
		}
		if (step % 997 == 0) {
			for (uint32_t j = 0; j < N; j++) {
				struct mc_node_id y = id(j);

				ck_assert_int_eq(mc_idmap_get(&m, &y), want[j]);
			}
		}
	}
	ck_assert_uint_le(2 * m.n, m.cap);	/* at most half full */
	mc_idmap_free(&m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("idmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, put_get_del);
	tcase_add_test(tc, agrees_with_an_array);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
