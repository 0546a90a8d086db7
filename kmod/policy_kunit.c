// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the S3-FIFO eviction policy (policy.c).
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/sizes.h>

#include "policy.h"

struct env {
	struct mc_policy p;
	struct mc_policy_node *nodes;
	bool *busy;
	u32 nr;
};

static void env_destroy(void *arg)
{
	mc_policy_destroy(arg);
}

static struct env *env_new(struct kunit *test, u32 capacity, u32 ghost)
{
	struct env *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->nr = capacity;
	e->nodes = kunit_kcalloc(test, capacity, sizeof(*e->nodes), GFP_KERNEL);
	e->busy = kunit_kcalloc(test, capacity, sizeof(*e->busy), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e->nodes);
	KUNIT_ASSERT_NOT_NULL(test, e->busy);
	KUNIT_ASSERT_EQ(test, mc_policy_init(&e->p, ghost), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, env_destroy,
							&e->p), 0);
	mc_policy_set_capacity(&e->p, capacity);
	return e;
}

static bool env_can_evict(struct mc_policy_node *n, void *arg)
{
	struct env *e = arg;

	return !e->busy[n - e->nodes];
}

/* Index of the evicted node, or -1 for NULL. */
static int env_evict(struct env *e)
{
	struct mc_policy_node *n = mc_policy_evict(&e->p, env_can_evict, e);

	return n ? (int)(n - e->nodes) : -1;
}

static void env_insert(struct env *e, u32 i, u64 key)
{
	mc_policy_insert(&e->p, &e->nodes[i], key, 0, SZ_4K);
}

/*
 * Puts node i into main through the ghost. The small FIFO must be empty; a
 * capacity of 0 makes it over its share, so that it is evicted from first.
 */
static void put_in_main(struct kunit *test, struct env *e, u32 i, u64 key)
{
	KUNIT_ASSERT_EQ(test, e->p.nr_small, 0u);
	mc_policy_set_capacity(&e->p, 0);
	env_insert(e, i, key);
	KUNIT_ASSERT_EQ(test, env_evict(e), (int)i);
	mc_policy_set_capacity(&e->p, e->nr);
	env_insert(e, i, key);
	KUNIT_ASSERT_EQ(test, e->nodes[i].queue, MC_Q_MAIN);
}

static void policy_small_fifo_order(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);
	u32 i;

	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	for (i = 0; i < 10; i++)
		env_insert(e, i, 100 + i);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 10u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
	for (i = 0; i < 10; i++) {
		KUNIT_EXPECT_EQ(test, env_evict(e), (int)i);
		KUNIT_EXPECT_EQ(test, e->nodes[i].queue, MC_Q_NONE);
		KUNIT_EXPECT_EQ(test, e->p.nr_small, 9u - i);
	}
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	KUNIT_EXPECT_TRUE(test, list_empty(&e->p.small));
}

static void policy_referenced_small_moves_to_main(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);
	u32 i;

	for (i = 0; i < 10; i++)
		env_insert(e, i, 100 + i);
	mc_policy_hit(&e->nodes[3], 8 * SZ_4K, SZ_4K);
	KUNIT_EXPECT_EQ(test, e->nodes[3].freq, 1);

	for (i = 0; i < 9; i++) {
		if (i == 3)
			continue;
		KUNIT_EXPECT_EQ(test, env_evict(e), (int)i);
	}
	/* It outlived the rest of the small FIFO, in main from now on. */
	KUNIT_EXPECT_EQ(test, e->nodes[3].queue, MC_Q_MAIN);
	KUNIT_EXPECT_EQ(test, e->nodes[3].freq, 0);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 1u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 1u);
	/* Small is down to its share (1 of 10): main's unreferenced tail goes. */
	KUNIT_EXPECT_EQ(test, env_evict(e), 3);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
	KUNIT_EXPECT_EQ(test, env_evict(e), 9);
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
}

static void policy_ghost_hit_reinserts_into_main(struct kunit *test)
{
	struct env *e = env_new(test, 10, 2);

	env_insert(e, 0, 7);
	KUNIT_ASSERT_EQ(test, env_evict(e), 0);
	/* Key 7 is in the ghost: back it comes, straight into main. */
	env_insert(e, 0, 7);
	KUNIT_EXPECT_EQ(test, e->nodes[0].queue, MC_Q_MAIN);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 1u);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 0u);
	env_insert(e, 1, 8);
	KUNIT_EXPECT_EQ(test, e->nodes[1].queue, MC_Q_SMALL);

	/* Small is within its share: main's tail goes, and not to the ghost. */
	KUNIT_ASSERT_EQ(test, env_evict(e), 0);
	/* The ghost entry was used up by the first return. */
	env_insert(e, 0, 7);
	KUNIT_EXPECT_EQ(test, e->nodes[0].queue, MC_Q_SMALL);

	/* A ghost of 2 keys forgets the oldest of 3. */
	mc_policy_remove(&e->p, &e->nodes[0]);
	mc_policy_remove(&e->p, &e->nodes[1]);
	env_insert(e, 0, 20);
	env_insert(e, 1, 21);
	env_insert(e, 2, 22);
	KUNIT_ASSERT_EQ(test, env_evict(e), 0);
	KUNIT_ASSERT_EQ(test, env_evict(e), 1);
	KUNIT_ASSERT_EQ(test, env_evict(e), 2);
	env_insert(e, 0, 20);
	env_insert(e, 1, 21);
	env_insert(e, 2, 22);
	KUNIT_EXPECT_EQ(test, e->nodes[0].queue, MC_Q_SMALL);
	KUNIT_EXPECT_EQ(test, e->nodes[1].queue, MC_Q_MAIN);
	KUNIT_EXPECT_EQ(test, e->nodes[2].queue, MC_Q_MAIN);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 1u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 2u);
}

static void policy_main_clock_decrements_freq(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);

	put_in_main(test, e, 0, 100);
	put_in_main(test, e, 1, 101);
	put_in_main(test, e, 2, 102);
	KUNIT_ASSERT_EQ(test, e->p.nr_main, 3u);
	KUNIT_ASSERT_EQ(test, e->p.nr_small, 0u);

	mc_policy_hit(&e->nodes[0], 5 * SZ_4K, SZ_4K);
	mc_policy_hit(&e->nodes[0], 9 * SZ_4K, SZ_4K);
	mc_policy_hit(&e->nodes[1], 5 * SZ_4K, SZ_4K);
	KUNIT_ASSERT_EQ(test, e->nodes[0].freq, 2);
	KUNIT_ASSERT_EQ(test, e->nodes[1].freq, 1);

	/* 0 and 1 are rotated with a count less; 2 was never referenced. */
	KUNIT_EXPECT_EQ(test, env_evict(e), 2);
	KUNIT_EXPECT_EQ(test, e->nodes[0].freq, 1);
	KUNIT_EXPECT_EQ(test, e->nodes[1].freq, 0);
	KUNIT_EXPECT_EQ(test, env_evict(e), 1);
	KUNIT_EXPECT_EQ(test, e->nodes[0].freq, 0);
	KUNIT_EXPECT_EQ(test, env_evict(e), 0);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
}

static void policy_refusal_rotates(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);
	u32 i;

	for (i = 0; i < 4; i++)
		env_insert(e, i, 100 + i);
	e->busy[0] = true;
	e->busy[1] = true;
	KUNIT_EXPECT_EQ(test, env_evict(e), 2);
	KUNIT_EXPECT_EQ(test, e->nodes[0].queue, MC_Q_SMALL);
	KUNIT_EXPECT_EQ(test, e->nodes[1].queue, MC_Q_SMALL);
	KUNIT_EXPECT_EQ(test, env_evict(e), 3);
	/* Only busy ones are left. */
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 2u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
	/* Freed, they go in the order the rotations left them. */
	e->busy[0] = false;
	e->busy[1] = false;
	KUNIT_EXPECT_EQ(test, env_evict(e), 0);
	KUNIT_EXPECT_EQ(test, env_evict(e), 1);

	/* A busy main node is refused and rotated too. */
	put_in_main(test, e, 5, 105);
	put_in_main(test, e, 6, 106);
	e->busy[5] = true;
	KUNIT_EXPECT_EQ(test, env_evict(e), 6);
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 1u);

	/* Small over its share but all busy: main still yields a victim. */
	e->busy[5] = false;
	for (i = 0; i < 3; i++) {
		env_insert(e, i, 200 + i);
		e->busy[i] = true;
	}
	KUNIT_EXPECT_EQ(test, env_evict(e), 5);
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 3u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
}

static void policy_remove_keeps_counters(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);
	u32 i;

	put_in_main(test, e, 0, 100);
	put_in_main(test, e, 1, 101);
	for (i = 2; i < 6; i++)
		env_insert(e, i, 100 + i);
	KUNIT_ASSERT_EQ(test, e->p.nr_small, 4u);
	KUNIT_ASSERT_EQ(test, e->p.nr_main, 2u);

	mc_policy_remove(&e->p, &e->nodes[3]);
	KUNIT_EXPECT_EQ(test, e->nodes[3].queue, MC_Q_NONE);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 3u);
	mc_policy_remove(&e->p, &e->nodes[0]);
	KUNIT_EXPECT_EQ(test, e->nodes[0].queue, MC_Q_NONE);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 1u);
	/* Removing twice changes nothing. */
	mc_policy_remove(&e->p, &e->nodes[3]);
	mc_policy_remove(&e->p, &e->nodes[0]);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 3u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 1u);

	/* A removed key is not in the ghost. */
	env_insert(e, 3, 103);
	KUNIT_EXPECT_EQ(test, e->nodes[3].queue, MC_Q_SMALL);
	mc_policy_remove(&e->p, &e->nodes[3]);

	/* Drain: the removed nodes never come back out. */
	KUNIT_EXPECT_EQ(test, env_evict(e), 2);
	KUNIT_EXPECT_EQ(test, env_evict(e), 4);
	/* Small is down to its share: main goes next. */
	KUNIT_EXPECT_EQ(test, env_evict(e), 1);
	KUNIT_EXPECT_EQ(test, env_evict(e), 5);
	KUNIT_EXPECT_EQ(test, env_evict(e), -1);
	KUNIT_EXPECT_EQ(test, e->p.nr_small, 0u);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, 0u);
}

static void policy_sequential_continuation(struct kunit *test)
{
	struct env *e = env_new(test, 10, 10);
	struct mc_policy_node *n = &e->nodes[0];
	u32 off;

	mc_policy_insert(&e->p, n, 1, 0, SZ_128K);
	KUNIT_EXPECT_EQ(test, n->next_off, (u32)SZ_128K);
	/* Reading on where the last read stopped is the same use. */
	for (off = SZ_128K; off < SZ_1M; off += SZ_128K)
		mc_policy_hit(n, off, SZ_128K);
	KUNIT_EXPECT_EQ(test, n->freq, 0);
	KUNIT_EXPECT_EQ(test, n->next_off, (u32)SZ_1M);

	/* Reading it again from the start is a re-reference. */
	mc_policy_hit(n, 0, SZ_4K);
	KUNIT_EXPECT_EQ(test, n->freq, 1);
	mc_policy_hit(n, SZ_4K, SZ_4K);
	KUNIT_EXPECT_EQ(test, n->freq, 1);
	mc_policy_hit(n, 0, SZ_4K);
	mc_policy_hit(n, 0, SZ_4K);
	mc_policy_hit(n, 0, SZ_4K);
	mc_policy_hit(n, 0, SZ_4K);
	KUNIT_EXPECT_EQ(test, n->freq, MC_FREQ_MAX);
}

#define SCAN_CAP	100
#define SCAN_HOT	50

static void policy_scan_resistance(struct kunit *test)
{
	struct env *e = env_new(test, SCAN_CAP, SCAN_CAP);
	u32 used = 0, i, off, resident = 0;
	int slot;

	/* A hot set, each member referenced again after its first read. */
	for (i = 0; i < SCAN_HOT; i++)
		env_insert(e, used++, i);
	for (i = 0; i < SCAN_HOT; i++)
		mc_policy_hit(&e->nodes[i], 64 * SZ_4K, SZ_4K);

	/* One pass over 10x the capacity, each extent read sequentially. */
	for (i = 0; i < 10 * SCAN_CAP; i++) {
		if (used < SCAN_CAP) {
			slot = used++;
		} else {
			slot = env_evict(e);
			KUNIT_ASSERT_GE(test, slot, 0);
			KUNIT_ASSERT_GE(test, e->nodes[slot].key, (u64)SCAN_HOT);
		}
		mc_policy_insert(&e->p, &e->nodes[slot], 1000 + i, 0, SZ_128K);
		for (off = SZ_128K; off < SZ_1M; off += SZ_128K)
			mc_policy_hit(&e->nodes[slot], off, SZ_128K);
		KUNIT_ASSERT_EQ(test, e->p.nr_small + e->p.nr_main, used);
	}

	for (i = 0; i < SCAN_CAP; i++)
		if (e->nodes[i].key < SCAN_HOT &&
		    e->nodes[i].queue != MC_Q_NONE)
			resident++;
	KUNIT_EXPECT_EQ(test, resident, (u32)SCAN_HOT);
	KUNIT_EXPECT_EQ(test, e->p.nr_main, (u32)SCAN_HOT);
}

static struct kunit_case policy_cases[] = {
	KUNIT_CASE(policy_small_fifo_order),
	KUNIT_CASE(policy_referenced_small_moves_to_main),
	KUNIT_CASE(policy_ghost_hit_reinserts_into_main),
	KUNIT_CASE(policy_main_clock_decrements_freq),
	KUNIT_CASE(policy_refusal_rotates),
	KUNIT_CASE(policy_remove_keeps_counters),
	KUNIT_CASE(policy_sequential_continuation),
	KUNIT_CASE(policy_scan_resistance),
	{}
};

static struct kunit_suite policy_suite = {
	.name = "maicache-policy",
	.test_cases = policy_cases,
};

kunit_test_suite(policy_suite);

MODULE_LICENSE("GPL");
