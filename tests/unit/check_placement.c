// SPDX-License-Identifier: MIT
/*
 * Unit tests for placement (peer/placement.c) and the persisted node id
 * (peer/node_id.c): every node computes the same owner; a leaving node
 * moves only its own keys, a joining one takes only keys it now owns.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "key.h"
#include "placement.h"

#define KEYS 20000

static void make_ids(struct mc_node_id *ids, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < sizeof(ids[i].b); b++)
			ids[i].b[b] = (uint8_t)(mc_mix64(seed + i * 131 + b) >> 8);
}

static uint64_t key_hash(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = i };

	memset(k.blob, 0x42, sizeof(k.blob));
	return mc_extent_key_hash(&k);
}

/* The id of the owner of key i. */
static struct mc_node_id owner_of(const struct mc_placement *p, uint64_t i)
{
	ssize_t o = mc_placement_owner(p, key_hash(i));

	ck_assert_int_ge(o, 0);
	return p->nodes[o].id;
}

static int id_eq(struct mc_node_id a, struct mc_node_id b)
{
	return !memcmp(a.b, b.b, sizeof(a.b));
}

START_TEST(same_answer_whatever_the_order)
{
	struct mc_node_id ids[8], rev[8];
	struct mc_placement a = { 0 }, b = { 0 };

	make_ids(ids, 8, 1);
	for (int i = 0; i < 8; i++)
		rev[i] = ids[7 - i];
	ck_assert_int_eq(mc_placement_set(&a, ids, 8), 0);
	ck_assert_int_eq(mc_placement_set(&b, rev, 8), 0);
	for (uint64_t k = 0; k < 1000; k++)
		ck_assert(id_eq(owner_of(&a, k), owner_of(&b, k)));
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(mc_placement_find(&a, &ids[i]) >= 0, 1);
	ck_assert_int_eq(mc_placement_find(&a, &(struct mc_node_id){ { 0 } }), -1);
	mc_placement_free(&a);
	mc_placement_free(&b);
}
END_TEST

START_TEST(duplicates_and_empty)
{
	struct mc_node_id ids[3];
	struct mc_placement p = { 0 };
	size_t out[4];

	make_ids(ids, 3, 2);
	ck_assert_int_eq(mc_placement_set(&p, ids, 3), 0);
	ids[2] = ids[0];
	ck_assert_int_eq(mc_placement_set(&p, ids, 3), -EEXIST);
	ck_assert_uint_eq(p.n, 3);	/* left as it was */
	ck_assert_int_eq(mc_placement_set(&p, NULL, 0), 0);
	ck_assert_int_eq(mc_placement_owner(&p, 5), -1);
	ck_assert_uint_eq(mc_placement_rank(&p, 5, out, 4), 0);
	mc_placement_free(&p);
}
END_TEST

START_TEST(rank_is_the_failover_order)
{
	struct mc_node_id ids[6];
	struct mc_placement p = { 0 }, q = { 0 };
	size_t r[MC_PLACEMENT_RANK_MAX], r2[MC_PLACEMENT_RANK_MAX];

	make_ids(ids, 6, 3);
	ck_assert_int_eq(mc_placement_set(&p, ids, 6), 0);
	for (uint64_t k = 0; k < 2000; k++) {
		ck_assert_uint_eq(mc_placement_rank(&p, key_hash(k), r, 10), 6);
		ck_assert_int_eq((ssize_t)r[0], mc_placement_owner(&p, key_hash(k)));
		for (int i = 0; i < 6; i++)
			for (int j = i + 1; j < 6; j++)
				ck_assert_uint_ne(r[i], r[j]);
		/* Without the owner, the second choice owns the key. */
		struct mc_node_id rest[5];
		int n = 0;

		for (int i = 0; i < 6; i++)
			if (i != (int)r[0])
				rest[n++] = p.nodes[i].id;
		ck_assert_int_eq(mc_placement_set(&q, rest, 5), 0);
		ck_assert_uint_eq(mc_placement_rank(&q, key_hash(k), r2, 1), 1);
		ck_assert(id_eq(q.nodes[r2[0]].id, p.nodes[r[1]].id));
	}
	mc_placement_free(&p);
	mc_placement_free(&q);
}
END_TEST

/* N members, one leaves: only its keys move; one joins: only to it. */
START_TEST(leave_and_join_move_only_what_they_must)
{
	size_t n = (size_t)_i;
	struct mc_node_id *ids = calloc(n + 1, sizeof(*ids));
	struct mc_placement all = { 0 }, less = { 0 };
	size_t moved = 0, owned = 0;

	make_ids(ids, n + 1, 4 + n);
	ck_assert_int_eq(mc_placement_set(&all, ids, n + 1), 0);
	ck_assert_int_eq(mc_placement_set(&less, ids, n), 0);	/* ids[n] absent */
	for (uint64_t k = 0; k < KEYS; k++) {
		struct mc_node_id before = owner_of(&less, k), after = owner_of(&all, k);

		if (id_eq(after, ids[n]))
			owned++;
		if (!id_eq(before, after)) {
			moved++;
			/* The only keys that move are the newcomer's. */
			ck_assert(id_eq(after, ids[n]));
		}
	}
	ck_assert_uint_eq(moved, owned);
	/* About 1/(N+1) of the keys, within 25 %. */
	ck_assert_msg(moved * (n + 1) > KEYS * 3 / 4 && moved * (n + 1) < KEYS * 5 / 4,
		      "%zu of %d keys moved to member %zu", moved, KEYS, n + 1);
	mc_placement_free(&all);
	mc_placement_free(&less);
	free(ids);
}
END_TEST

START_TEST(balance_at_ten_nodes)
{
	struct mc_node_id ids[10];
	struct mc_placement p = { 0 };
	size_t load[10] = { 0 }, max = 0;

	make_ids(ids, 10, 9);
	ck_assert_int_eq(mc_placement_set(&p, ids, 10), 0);
	for (uint64_t k = 0; k < 200000; k++)
		load[mc_placement_owner(&p, key_hash(k))]++;
	for (int i = 0; i < 10; i++)
		if (load[i] > max)
			max = load[i];
	/* 20,000 keys per node on average: the max within 3 %. */
	ck_assert_msg(max < 20600, "max load %zu for a mean of 20000", max);
	mc_placement_free(&p);
}
END_TEST

START_TEST(node_id_persists)
{
	char dir[] = "/tmp/mc-nodeid-XXXXXX", path[64], hex[33], hex2[33], err[256];
	struct mc_node_id a, b;
	struct stat st;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/node_id", dir);
	ck_assert_int_eq(mc_node_id_load(path, false, &a, err, sizeof(err)), -ENOENT);
	ck_assert_msg(mc_node_id_load(path, true, &a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(mc_node_id_load(path, true, &b, err, sizeof(err)), 0);
	mc_node_id_hex(&a, hex);
	mc_node_id_hex(&b, hex2);
	ck_assert_str_eq(hex, hex2);	/* a restart keeps the id */
	ck_assert_uint_eq(strlen(hex), 32);
	/* A damaged file is an error, and is not replaced. */
	f = fopen(path, "w");
	fputs("not-an-id\n", f);
	fclose(f);
	ck_assert_int_eq(mc_node_id_load(path, true, &b, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not 32 hex digits"), "%s", err);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(hex2, sizeof(hex2), f));
	fclose(f);
	ck_assert_str_eq(hex2, "not-an-id\n");
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, same_answer_whatever_the_order);
	tcase_add_test(tc, duplicates_and_empty);
	tcase_add_test(tc, rank_is_the_failover_order);
	tcase_add_loop_test(tc, leave_and_join_move_only_what_they_must, 10, 11);
	tcase_add_loop_test(tc, leave_and_join_move_only_what_they_must, 100, 101);
	tcase_add_test(tc, balance_at_ten_nodes);
	tcase_add_test(tc, node_id_persists);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
