// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the extent index, fill coalescing, eviction and the miss
 * ring's handling of what the daemon writes. The ring is driven the way the
 * daemon drives it: miss entries are read from the shared region and
 * completions written into it, then kicked.
 */
#include "ring.c"

#include <kunit/test.h>
#include <linux/delay.h>

/* Stand-in for the netlink part left out of this build. */
void maicache_nl_notify_daemon(u32 pid, u8 cmd)
{
}

#define TEST_POOL	(8ULL << 20)	/* two segments */
#define TEST_EXTENT	SZ_1M

struct ring_test {
	struct mc_dev dev;
	struct mc_cmd cmd[10];
	struct mc_pool *old_pool;
};

static struct mc_cmd *test_cmd(struct ring_test *t, int i)
{
	struct mc_cmd *cmd = &t->cmd[i];

	memset(cmd, 0, sizeof(*cmd));
	/* As queue_rq does: its own count keeps the request from finishing. */
	atomic_set(&cmd->pending, 1);
	return cmd;
}

static void release_cmd(struct mc_cmd *cmd)
{
	while (cmd->nr)
		mc_slot_put(cmd->slot[--cmd->nr]);
}

static int ring_test_init(struct kunit *test)
{
	struct ring_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct mc_pool *pool;

	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_EQ(test, mc_pool_create(TEST_POOL, &pool), 0);
	t->old_pool = mc_pool;
	mc_pool = pool;
	mc_ring_reset(&mc_ring);
	atomic64_set(&mc_ring.bad_completions, 0);
	t->dev.id = 3;
	t->dev.cookie = 0xc0ffee;
	t->dev.size = 16ULL << 20;
	t->dev.extent_shift = ilog2(TEST_EXTENT);
	t->dev.key_base = 1ULL << 44;
	xa_init(&t->dev.extents);
	t->dev.stats = alloc_percpu(struct mc_stats);
	KUNIT_ASSERT_NOT_NULL(test, t->dev.stats);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
	test->priv = t;
	return 0;
}

static void ring_test_exit(struct kunit *test)
{
	struct ring_test *t = test->priv;

	mc_ring_release(NULL, NULL);
	mc_cache_fail_dev(&t->dev);
	mc_cache_drop_dev(&t->dev);
	/* Orphaned fills hold slots: drop them as a new daemon would. */
	spin_lock(&mc_ring.lock);
	list_splice_init(&mc_ring.pending, &mc_ring.inflight);
	spin_unlock(&mc_ring.lock);
	while (!list_empty(&mc_ring.inflight)) {
		struct mc_slot *s = list_first_entry(&mc_ring.inflight,
						     struct mc_slot, fill_link);

		list_del_init(&s->fill_link);
		mc_slot_put(s);
	}
	cancel_delayed_work_sync(&mc_ring.timeout_work);
	free_percpu(t->dev.stats);
	mc_pool_put(mc_pool);
	mc_pool = t->old_pool;
}

static u32 misses_posted(void)
{
	return le32_to_cpu(mc_ring.miss_hdr->head);
}

static struct maicache_miss *miss_entry(u32 i)
{
	return &mc_ring.miss[i & (mc_ring.entries - 1)];
}

/* What the daemon does: post one completion and kick. */
static void daemon_complete(u64 id, u32 status, u32 flags)
{
	u32 head = le32_to_cpu(mc_ring.cpl_hdr->head);
	struct maicache_cpl *e = &mc_ring.cpl[head & (mc_ring.entries - 1)];

	e->id = cpu_to_le64(id);
	e->status = cpu_to_le32(status);
	e->flags = cpu_to_le32(flags);
	mc_ring.cpl_hdr->head = cpu_to_le32(head + 1);
	mc_ring_reap(&mc_ring);
}

static void consume_misses(void)
{
	mc_ring.cpl_hdr->miss_tail = mc_ring.miss_hdr->head;
}

static void index_miss_posts_one_fill(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);
	struct maicache_miss *m;

	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, a, 2, 4096, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, misses_posted(), 1U);
	m = miss_entry(0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(m->cookie), 0xc0ffeeULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(m->extent), 2ULL);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(m->len), TEST_EXTENT);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(m->dev_id), 3U);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(m->slot_off), mc_slot_offset(a->slot[0]));
	KUNIT_EXPECT_EQ(test, atomic_read(&a->pending), 2);
	release_cmd(a);
}

/* Concurrent misses on one extent share one fill. */
static void index_misses_coalesce(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1);

	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, a, 5, 0, 512), MC_WAITING);
	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, b, 5, 8192, 512), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), 1U);
	KUNIT_EXPECT_PTR_EQ(test, a->slot[0], b->slot[0]);

	daemon_complete(le64_to_cpu(miss_entry(0)->id), 0, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->pending), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->pending), 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, a->slot[0]->state, MC_SLOT_READY);
	release_cmd(a);
	release_cmd(b);
}

static void index_hit_after_fill(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1);
	struct mc_stats s;

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), 0, 0);
	release_cmd(a);
	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, b, 0, 0, 4096), MC_GOT);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->pending), 1);
	KUNIT_EXPECT_EQ(test, misses_posted(), 1U);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.hits, 1ULL);
	KUNIT_EXPECT_EQ(test, s.misses, 1ULL);
	release_cmd(b);
}

/* A failed fill fails its readers and is not cached. */
static void index_failed_fill_not_cached(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1);

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 1, 0, 4096), MC_WAITING);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), EIO, 0);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 1));
	release_cmd(a);
	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, b, 1, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 0ULL);
	release_cmd(b);
}

/* Busy slots are never evicted; idle ones are when the pool is full. */
static void index_evicts_idle_only(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_stats s;
	int i;

	/* Eight extents fill the eight slots; each request keeps its slot. */
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, test_cmd(t, i), i, 0, 4096),
				MC_WAITING);
		consume_misses();
		daemon_complete(le64_to_cpu(miss_entry(i)->id), 0, 0);
	}
	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, test_cmd(t, 8), 8, 0, 4096),
			-EBUSY);
	for (i = 1; i < 8; i++)
		release_cmd(&t->cmd[i]);
	KUNIT_EXPECT_EQ(test, mc_cache_get(&t->dev, test_cmd(t, 9), 8, 0, 4096),
			MC_WAITING);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.evictions, 1ULL);
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), TEST_POOL);
	/* The busy extent 0 is still there. */
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&t->dev.extents, 0), t->cmd[0].slot[0]);
	release_cmd(&t->cmd[0]);
	release_cmd(&t->cmd[9]);
}

static void ring_rejects_wrong_generation(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);
	u64 id;

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	id = le64_to_cpu(miss_entry(0)->id);
	daemon_complete(id + (1ULL << 32), 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 1ULL);
	KUNIT_EXPECT_EQ(test, a->slot[0]->state, MC_SLOT_FILLING);
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, a->slot[0]->state, MC_SLOT_READY);
	/* A second completion of the same fill is stale. */
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 2ULL);
	release_cmd(a);
}

static void ring_rejects_bad_slots(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);
	u64 good, ids[6];
	unsigned int i;

	/* Put segment 0 in use: slots of 1 MiB at units 0, 16, 32, 48. */
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	good = le64_to_cpu(miss_entry(0)->id);
	daemon_complete(good, 0, 0);
	KUNIT_ASSERT_EQ(test, mc_ring_bad_completions(), 0ULL);

	ids[0] = 0xffffffffULL;			/* beyond the pool */
	ids[1] = 128;				/* just beyond the pool */
	ids[2] = good + 1;			/* inside a slot */
	ids[3] = good + 17;			/* inside another slot */
	ids[4] = 64;				/* a segment not in use */
	ids[5] = good;				/* no fill in flight any more */
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		daemon_complete(ids[i], 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), (u64)ARRAY_SIZE(ids));
	KUNIT_EXPECT_EQ(test, a->slot[0]->state, MC_SLOT_READY);
	release_cmd(a);
}

/* A malformed answer to a real miss fails that fill, and only it. */
static void ring_malformed_completion_fails_fill(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1), *c = test_cmd(t, 2);

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, b, 1, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, c, 2, 0, 4096), MC_WAITING);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), 100000, 0);
	daemon_complete(le64_to_cpu(miss_entry(1)->id), 0, 1);
	daemon_complete(le64_to_cpu(miss_entry(2)->id), 0, 0);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, b->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, c->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 2ULL);
	release_cmd(a);
	release_cmd(b);
	release_cmd(c);
}

/* Garbage indices are counted and skipped; the ring keeps working. */
static void ring_survives_garbage_indices(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1);

	mc_ring.cpl_hdr->head = cpu_to_le32(0x80000000);
	mc_ring_reap(&mc_ring);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 1ULL);

	mc_ring.cpl_hdr->miss_tail = cpu_to_le32(0x40000000);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), 0U);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 2ULL);

	/* The daemon comes to its senses: the miss goes out and completes. */
	mc_ring.cpl_hdr->miss_tail = 0;
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, b, 1, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), 0, 0);
	daemon_complete(le64_to_cpu(miss_entry(1)->id), 0, 0);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, b->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->pending), 1);
	release_cmd(a);
	release_cmd(b);
}

/* A full miss ring holds fills back until the daemon makes room. */
static void ring_full_waits(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u32 used = mc_ring.entries - 1;
	struct mc_cmd *a = test_cmd(t, 0), *b = test_cmd(t, 1);

	/* Pretend the daemon has not consumed entries-1 earlier misses. */
	mc_ring.miss_head = used;
	mc_ring.miss_hdr->head = cpu_to_le32(used);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, b, 1, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), mc_ring.entries);
	KUNIT_EXPECT_FALSE(test, list_empty(&mc_ring.pending));
	consume_misses();
	mc_ring_poll(NULL, NULL);
	KUNIT_EXPECT_EQ(test, misses_posted(), mc_ring.entries + 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&mc_ring.pending));
	release_cmd(a);
	release_cmd(b);
}

/* Fills in flight when the daemon goes are re-sent to the next one. */
static void ring_reattach_resends(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);
	u64 id;

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 4, 0, 4096), MC_WAITING);
	id = le64_to_cpu(miss_entry(0)->id);
	mc_ring_release(NULL, NULL);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, misses_posted(), 1U);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(0)->id), id);
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, a->slot[0]->state, MC_SLOT_READY);
	release_cmd(a);
}

/* With no daemon, a fill fails after the timeout, not before. */
static void ring_no_daemon_times_out(struct kunit *test)
{
	struct ring_test *t = test->priv;
	unsigned int saved = mc_daemon_timeout_ms;
	struct mc_cmd *a = test_cmd(t, 0);

	mc_ring_release(NULL, NULL);
	mc_daemon_timeout_ms = 50;
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	msleep(200);
	flush_delayed_work(&mc_ring.timeout_work);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_TRUE(test, list_empty(&mc_ring.pending));
	mc_daemon_timeout_ms = saved;
	release_cmd(a);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
}

/* A removed device's fills no daemon holds free their slots at once. */
static void ring_removal_frees_pending_fills(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);

	mc_ring_release(NULL, NULL);
	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	release_cmd(a);
	mc_cache_fail_dev(&t->dev);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	mc_ring_drop_orphans();
	KUNIT_EXPECT_TRUE(test, list_empty(&mc_ring.pending));
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), 0ULL);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
}

/* One a daemon holds stays until the daemon goes, then is freed. */
static void ring_removal_keeps_held_fill_until_detach(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_cmd *a = test_cmd(t, 0);

	KUNIT_ASSERT_EQ(test, mc_cache_get(&t->dev, a, 0, 0, 4096), MC_WAITING);
	release_cmd(a);
	mc_cache_fail_dev(&t->dev);
	mc_ring_drop_orphans();
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), (u64)TEST_EXTENT);
	mc_ring_release(NULL, NULL);
	KUNIT_EXPECT_TRUE(test, list_empty(&mc_ring.pending));
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), 0ULL);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
}

static struct kunit_case ring_cases[] = {
	KUNIT_CASE(index_miss_posts_one_fill),
	KUNIT_CASE(index_misses_coalesce),
	KUNIT_CASE(index_hit_after_fill),
	KUNIT_CASE(index_failed_fill_not_cached),
	KUNIT_CASE(index_evicts_idle_only),
	KUNIT_CASE(ring_rejects_wrong_generation),
	KUNIT_CASE(ring_rejects_bad_slots),
	KUNIT_CASE(ring_malformed_completion_fails_fill),
	KUNIT_CASE(ring_survives_garbage_indices),
	KUNIT_CASE(ring_full_waits),
	KUNIT_CASE(ring_reattach_resends),
	KUNIT_CASE(ring_no_daemon_times_out),
	KUNIT_CASE(ring_removal_frees_pending_fills),
	KUNIT_CASE(ring_removal_keeps_held_fill_until_detach),
	{}
};

static int ring_suite_init(struct kunit_suite *suite)
{
	return mc_ring_init();
}

static void ring_suite_exit(struct kunit_suite *suite)
{
	mc_ring_exit();
}

static struct kunit_suite ring_suite = {
	.name = "maicache-ring",
	.suite_init = ring_suite_init,
	.suite_exit = ring_suite_exit,
	.init = ring_test_init,
	.exit = ring_test_exit,
	.test_cases = ring_cases,
};

kunit_test_suite(ring_suite);

MODULE_LICENSE("GPL");
