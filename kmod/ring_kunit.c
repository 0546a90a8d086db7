// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the extent index, fill coalescing, eviction, the miss
 * ring's handling of what the daemon writes, the read path on top of
 * them, held extents (held.c) and warmup (warm.c). The ring is driven the
 * way the daemon drives it: miss entries are read from the shared region
 * and completions written into it, then kicked. The suites share that
 * fixture, hence one file.
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
	unsigned int old_readahead_kb;
	bool old_part_fills;
};

static struct mc_cmd *test_cmd(struct ring_test *t, int i)
{
	struct mc_cmd *cmd = &t->cmd[i];

	memset(cmd, 0, sizeof(*cmd));
	cmd->dev = &t->dev;
	/* As mc_read_start() does: its own count keeps the read from ending. */
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
	/* The tests count the fills they cause: readahead only where one asks. */
	t->old_readahead_kb = mc_readahead_kb;
	mc_readahead_kb = 0;
	/* Whole extents unless a test asks for parts. */
	t->old_part_fills = mc_part_fills;
	mc_part_fills = false;
	KUNIT_ASSERT_EQ(test, mc_pool_create(TEST_POOL, mc_cache_unindex, &pool), 0);
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
	xa_init(&t->dev.parts);
	mc_read_dev_init(&t->dev);
	mc_readahead_dev_init(&t->dev);
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
	WRITE_ONCE(t->dev.dying, true);
	flush_delayed_work(&t->dev.retry_work);
	mc_cache_fail_dev(&t->dev);
	mc_read_drain(&t->dev);
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
	mc_readahead_kb = t->old_readahead_kb;
	mc_part_fills = t->old_part_fills;
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

	KUNIT_EXPECT_EQ(test, mc_read_get(a, 2, 4096, 4096), MC_WAITING);
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

	KUNIT_EXPECT_EQ(test, mc_read_get(a, 5, 0, 512), MC_WAITING);
	KUNIT_EXPECT_EQ(test, mc_read_get(b, 5, 8192, 512), MC_WAITING);
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), 0, 0);
	release_cmd(a);
	KUNIT_EXPECT_EQ(test, mc_read_get(b, 0, 0, 4096), MC_GOT);
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 1, 0, 4096), MC_WAITING);
	daemon_complete(le64_to_cpu(miss_entry(0)->id), EIO, 0);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 1));
	release_cmd(a);
	KUNIT_EXPECT_EQ(test, mc_read_get(b, 1, 0, 4096), MC_WAITING);
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

	/* Eight extents fill the eight slots; each test_cmd keeps its slot. */
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_EQ(test, mc_read_get(test_cmd(t, i), i, 0, 4096),
				MC_WAITING);
		consume_misses();
		daemon_complete(le64_to_cpu(miss_entry(i)->id), 0, 0);
	}
	KUNIT_EXPECT_EQ(test, mc_read_get(test_cmd(t, 8), 8, 0, 4096),
			-EBUSY);
	for (i = 1; i < 8; i++)
		release_cmd(&t->cmd[i]);
	KUNIT_EXPECT_EQ(test, mc_read_get(test_cmd(t, 9), 8, 0, 4096),
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
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
	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_read_get(b, 1, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_read_get(c, 2, 0, 4096), MC_WAITING);
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
	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
	KUNIT_EXPECT_EQ(test, misses_posted(), 0U);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 2ULL);

	/* The daemon comes to its senses: the miss goes out and completes. */
	mc_ring.cpl_hdr->miss_tail = 0;
	KUNIT_ASSERT_EQ(test, mc_read_get(b, 1, 0, 4096), MC_WAITING);
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
	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_read_get(b, 1, 0, 4096), MC_WAITING);
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 4, 0, 4096), MC_WAITING);
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
	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
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
	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
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

	KUNIT_ASSERT_EQ(test, mc_read_get(a, 0, 0, 4096), MC_WAITING);
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

/* Device bytes hold a pattern of their offset, as tests/filler does. */
static u8 test_pattern(u64 pos)
{
	return pos ^ (pos >> 8) ^ (pos >> 16);
}

/* What the daemon does for the i-th miss: fill the slot, then complete. */
static void daemon_fill(u32 i, u32 status)
{
	struct maicache_miss *m = miss_entry(i);
	u32 shift = le32_to_cpu(m->flags) & MAICACHE_MISS_PART ?
		    MAICACHE_PART_SHIFT : le32_to_cpu(m->extent_shift);
	u64 base = le64_to_cpu(m->extent) << shift;
	u8 *mem = mc_pool_addr(mc_pool, le64_to_cpu(m->slot_off));
	u32 k;

	for (k = 0; k < le32_to_cpu(m->len); k++)
		mem[k] = test_pattern(base + k);
	daemon_complete(le64_to_cpu(m->id), status, 0);
}

#define TEST_READ_PAGES	4

/* A read into fresh zeroed pages, as a filesystem would send it. */
struct test_read {
	struct bio bio;
	struct bio_vec bvec[TEST_READ_PAGES];
	struct page *page[TEST_READ_PAGES];
	u64 pos;
	int ended;
	blk_status_t status;
};

static void test_read_endio(struct bio *bio)
{
	struct test_read *r = container_of(bio, struct test_read, bio);

	r->status = bio->bi_status;
	r->ended++;
}

static void test_read_free(void *data)
{
	struct test_read *r = data;
	int i;

	for (i = 0; i < TEST_READ_PAGES; i++)
		if (r->page[i])
			__free_page(r->page[i]);
}

static struct test_read *test_read(struct kunit *test, u64 pos, u32 len)
{
	struct test_read *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_LE(test, len, TEST_READ_PAGES * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_read_free, r), 0);
	bio_init(&r->bio, NULL, r->bvec, TEST_READ_PAGES, REQ_OP_READ);
	r->bio.bi_iter.bi_sector = pos >> SECTOR_SHIFT;
	r->bio.bi_end_io = test_read_endio;
	r->pos = pos;
	for (i = 0; len; i++) {
		u32 n = min_t(u32, len, PAGE_SIZE);

		r->page[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, r->page[i]);
		__bio_add_page(&r->bio, r->page[i], n, 0);
		len -= n;
	}
	return r;
}

/* Bytes of the read that differ from the device's pattern. */
static u32 test_read_errors(struct test_read *r)
{
	u32 len = r->bio.bi_iter.bi_size, k, bad = 0;

	for (k = 0; k < len; k++) {
		u8 *p = page_address(r->page[k / PAGE_SIZE]);

		bad += p[k % PAGE_SIZE] != test_pattern(r->pos + k);
	}
	return bad;
}

/* A read across two extents waits for both; the second is served inline. */
static void read_hits_served_inline(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, TEST_EXTENT - 4096, 8192);
	struct test_read *b = test_read(test, TEST_EXTENT - 4096, 8192);
	struct mc_stats s;

	mc_read_bio(&t->dev, &a->bio);
	KUNIT_EXPECT_EQ(test, a->ended, 0);
	KUNIT_ASSERT_EQ(test, misses_posted(), 2U);
	daemon_fill(0, 0);
	KUNIT_EXPECT_EQ(test, a->ended, 0);
	daemon_fill(1, 0);
	KUNIT_EXPECT_EQ(test, a->ended, 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(a), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 0);

	mc_read_bio(&t->dev, &b->bio);
	KUNIT_EXPECT_EQ(test, b->ended, 1);
	KUNIT_EXPECT_EQ(test, b->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(b), 0U);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.misses, 2ULL);
	KUNIT_EXPECT_EQ(test, s.hits, 2ULL);
	KUNIT_EXPECT_EQ(test, s.bytes_hit, 16384ULL);
}

/*
 * Readahead (readahead.c): a read that enters the next extent fetches the
 * ones after it; the first read of one fetched ahead moves the window on
 * and counts it used; random reads fetch nothing ahead.
 */
static void readahead_follows_a_sequential_stream(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 0, 4096);
	struct test_read *b = test_read(test, TEST_EXTENT, 4096);
	struct test_read *c = test_read(test, 2 * TEST_EXTENT, 4096);
	struct test_read *r1 = test_read(test, 9 * TEST_EXTENT, 4096);
	struct test_read *r2 = test_read(test, 12 * TEST_EXTENT + 8192, 4096);
	struct mc_stats s;
	u32 i;

	mc_readahead_kb = 8192;
	mc_read_bio(&t->dev, &a->bio);
	/* One extent is no stream yet. */
	KUNIT_ASSERT_EQ(test, misses_posted(), 1U);
	mc_read_bio(&t->dev, &b->bio);
	/* b's extent and two after it: a pool of 8 slots allows a window of 2. */
	KUNIT_ASSERT_EQ(test, misses_posted(), 4U);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(1)->extent), 1ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(2)->extent), 2ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(3)->extent), 3ULL);
	for (i = 0; i < 3; i++)
		daemon_fill(i, 0);
	KUNIT_EXPECT_EQ(test, a->ended + b->ended, 2);

	/* Extent 2 was fetched ahead: a hit, and the window moves to extent 4. */
	mc_read_bio(&t->dev, &c->bio);
	KUNIT_EXPECT_EQ(test, c->ended, 1);
	KUNIT_EXPECT_EQ(test, c->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(c), 0U);
	KUNIT_ASSERT_EQ(test, misses_posted(), 5U);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(4)->extent), 4ULL);
	/* A hit that fetched ahead woke the daemon for that fill. */
	KUNIT_EXPECT_FALSE(test, READ_ONCE(mc_ring.unwoken));

	/* Reads elsewhere are streams of their own, with nothing ahead. */
	mc_read_bio(&t->dev, &r1->bio);
	mc_read_bio(&t->dev, &r2->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 7U);
	for (i = 3; i < 7; i++)
		daemon_fill(i, 0);
	KUNIT_EXPECT_EQ(test, r1->ended + r2->ended, 2);
	KUNIT_EXPECT_EQ(test, test_read_errors(r2), 0U);
	mc_dev_stats(&t->dev, &s);
	/* Misses are every extent sent to the daemon, fetched ahead or not. */
	KUNIT_EXPECT_EQ(test, s.misses, 7ULL);
	KUNIT_EXPECT_EQ(test, s.prefetched, 3ULL);
	KUNIT_EXPECT_EQ(test, s.prefetch_used, 1ULL);
	KUNIT_EXPECT_EQ(test, s.prefetch_unused, 0ULL);
}

/* Misses under a block plug wake the daemon once, when it is flushed. */
static void read_misses_wake_once_per_plug(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 0, 4096);
	struct test_read *b = test_read(test, TEST_EXTENT, 4096);
	struct test_read *c = test_read(test, 2 * TEST_EXTENT, 4096);
	struct blk_plug plug;

	blk_start_plug(&plug);
	mc_read_bio(&t->dev, &a->bio);
	mc_read_bio(&t->dev, &b->bio);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(mc_ring.unwoken));
	blk_finish_plug(&plug);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(mc_ring.unwoken));

	/* Without a plug, at once. */
	mc_read_bio(&t->dev, &c->bio);
	KUNIT_EXPECT_EQ(test, misses_posted(), 3U);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(mc_ring.unwoken));
	daemon_fill(0, 0);
	daemon_fill(1, 0);
	daemon_fill(2, 0);
	KUNIT_EXPECT_EQ(test, a->ended + b->ended + c->ended, 3);
}

/* Reads of one extent share its fill; a failed fill fails all of them. */
static void read_failed_fill_fails_reads(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 0, 4096);
	struct test_read *b = test_read(test, 8192, 512);

	mc_read_bio(&t->dev, &a->bio);
	mc_read_bio(&t->dev, &b->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 1U);
	daemon_fill(0, EIO);
	KUNIT_EXPECT_EQ(test, a->ended, 1);
	KUNIT_EXPECT_EQ(test, b->ended, 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, b->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 0);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 0));
	KUNIT_EXPECT_TRUE(test, xa_empty(&t->dev.parts));
}

/* The i-th miss names part @part (or extent @part with flags 0), len bytes. */
static void expect_miss(struct kunit *test, u32 i, u32 flags, u64 index,
			u32 len)
{
	KUNIT_EXPECT_EQ(test, le32_to_cpu(miss_entry(i)->flags), flags);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(i)->extent), index);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(miss_entry(i)->len), len);
}

/*
 * Random reads within one 64 KiB part fill that part, and later reads of
 * it are hits served inline; a read across parts, one that continues a
 * stream, one of a whole-extent device and any read with part_fills off
 * fill the extent.
 */
static void read_random_fills_parts(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u64 e3 = 3 * TEST_EXTENT;
	struct test_read *a = test_read(test, e3 + 70000 - 70000 % 512, 4096);
	struct test_read *b = test_read(test, e3 + SZ_64K + 8192, 4096);
	struct test_read *c = test_read(test, 9 * TEST_EXTENT + SZ_64K - 4096, 8192);
	struct test_read *d = test_read(test, 4 * TEST_EXTENT + 4096, 4096);
	struct test_read *e = test_read(test, 12 * TEST_EXTENT, 4096);
	struct test_read *f = test_read(test, 6 * TEST_EXTENT, 4096);
	struct test_read *g = test_read(test, 16 * TEST_EXTENT - 8192, 4096);
	struct mc_stats s;
	u32 i;

	mc_part_fills = true;
	mc_read_bio(&t->dev, &a->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 1U);
	expect_miss(test, 0, MAICACHE_MISS_PART, 3 * 16 + 1, SZ_64K);
	daemon_fill(0, 0);
	KUNIT_EXPECT_EQ(test, a->ended, 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(a), 0U);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 3));

	/* The same part again: a hit, inline, no fill. */
	mc_read_bio(&t->dev, &b->bio);
	KUNIT_EXPECT_EQ(test, b->ended, 1);
	KUNIT_EXPECT_EQ(test, test_read_errors(b), 0U);
	KUNIT_EXPECT_EQ(test, misses_posted(), 1U);

	/* Across two parts: the extent. */
	mc_read_bio(&t->dev, &c->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 2U);
	expect_miss(test, 1, 0, 9, TEST_EXTENT);

	/* Extent 4 follows a's stream (extent 3): sequential, the extent. */
	mc_read_bio(&t->dev, &d->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 3U);
	expect_miss(test, 2, 0, 4, TEST_EXTENT);

	/* A group's device fills whole extents only. */
	t->dev.whole_extents = true;
	mc_read_bio(&t->dev, &e->bio);
	t->dev.whole_extents = false;
	KUNIT_ASSERT_EQ(test, misses_posted(), 4U);
	expect_miss(test, 3, 0, 12, TEST_EXTENT);

	mc_part_fills = false;
	mc_read_bio(&t->dev, &f->bio);
	mc_part_fills = true;
	KUNIT_ASSERT_EQ(test, misses_posted(), 5U);
	expect_miss(test, 4, 0, 6, TEST_EXTENT);
	for (i = 1; i < 5; i++)
		daemon_fill(i, 0);

	/* The device's last part is as short as the device. */
	t->dev.size -= 4096;
	mc_read_bio(&t->dev, &g->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 6U);
	expect_miss(test, 5, MAICACHE_MISS_PART, 255, SZ_64K - 4096);
	daemon_fill(5, 0);
	KUNIT_EXPECT_EQ(test, test_read_errors(g), 0U);

	KUNIT_EXPECT_EQ(test, c->ended + d->ended + e->ended + f->ended + g->ended, 5);
	KUNIT_EXPECT_EQ(test, test_read_errors(c) + test_read_errors(d) +
			test_read_errors(e) + test_read_errors(f), 0U);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.misses, 6ULL);
	/* What the amplification is measured by: two parts and four extents. */
	KUNIT_EXPECT_EQ(test, s.bytes_filled,
			2ULL * SZ_64K - 4096 + 4ULL * TEST_EXTENT);
}

/*
 * A class with no segment takes a free one before another class's: the
 * first part fill of a pool half full of idle extents evicts none of them.
 */
static void pool_free_segment_before_stealing(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *p = test_read(test, 14 * TEST_EXTENT + 4096, 4096);
	struct mc_stats s;
	u32 i;

	mc_part_fills = true;
	/* Four extents, each read across two parts: one 4 MiB segment. */
	for (i = 0; i < 4; i++) {
		struct test_read *r = test_read(test, 4 * i * TEST_EXTENT + SZ_64K - 4096,
						8192);

		mc_read_bio(&t->dev, &r->bio);
		daemon_fill(i, 0);
		KUNIT_ASSERT_EQ(test, r->ended, 1);
	}
	mc_read_bio(&t->dev, &p->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 5U);
	expect_miss(test, 4, MAICACHE_MISS_PART, 14 * 16, SZ_64K);
	daemon_fill(4, 0);
	KUNIT_EXPECT_EQ(test, test_read_errors(p), 0U);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.evictions, 0ULL);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_NOT_NULL(test, xa_load(&t->dev.extents, 4 * i));
}

/*
 * A segment whose slots are all free again goes back to the pool: once a
 * device's parts are dropped, extents use the whole pool and evict nothing
 * (the part class kept its segment, and extents evicted each other in the
 * other half of the pool).
 */
static void pool_freed_segment_goes_back(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_stats s;
	u32 i;

	mc_part_fills = true;
	for (i = 0; i < 4; i++) {
		struct test_read *r = test_read(test, 3 * i * TEST_EXTENT + 4096, 4096);

		mc_read_bio(&t->dev, &r->bio);
		KUNIT_ASSERT_EQ(test, misses_posted(), i + 1);
		expect_miss(test, i, MAICACHE_MISS_PART, 3 * i * 16, SZ_64K);
		daemon_fill(i, 0);
		KUNIT_ASSERT_EQ(test, r->ended, 1);
	}
	KUNIT_EXPECT_EQ(test, mc_pool->classes[0].nr_segments, 1U);
	mc_cache_drop_dev(&t->dev);
	KUNIT_EXPECT_EQ(test, mc_pool->classes[0].nr_segments, 0U);
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), 0ULL);

	mc_part_fills = false;
	for (i = 0; i < 8; i++) {
		struct test_read *r = test_read(test, i * TEST_EXTENT, 4096);

		mc_read_bio(&t->dev, &r->bio);
		KUNIT_ASSERT_EQ(test, misses_posted(), i + 5);
		daemon_fill(i + 4, 0);
		KUNIT_ASSERT_EQ(test, r->ended, 1);
		KUNIT_EXPECT_EQ(test, test_read_errors(r), 0U);
	}
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.evictions, 0ULL);
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), TEST_POOL);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_NOT_NULL(test, xa_load(&t->dev.extents, i));
}

/*
 * Random reads that fall in one extent or in neighbouring ones are no
 * stream: each fills its part. A read that starts where the last ended is.
 */
static void read_neighbour_random_reads_fill_parts(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u64 r3 = 4 * TEST_EXTENT + 300 * SZ_1K;
	struct test_read *r[] = {
		test_read(test, 3 * TEST_EXTENT + 8192, 4096),
		test_read(test, 3 * TEST_EXTENT + 600 * SZ_1K, 4096),
		test_read(test, r3, 4096),
		test_read(test, r3 + 4096, 4096),
	};
	u32 i;

	mc_part_fills = true;
	for (i = 0; i < ARRAY_SIZE(r); i++)
		mc_read_bio(&t->dev, &r[i]->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 4U);
	expect_miss(test, 0, MAICACHE_MISS_PART, 48, SZ_64K);
	expect_miss(test, 1, MAICACHE_MISS_PART, 48 + 9, SZ_64K);
	expect_miss(test, 2, MAICACHE_MISS_PART, 64 + 4, SZ_64K);
	/* It continues r[2]: sequential, so the whole extent. */
	expect_miss(test, 3, 0, 4, TEST_EXTENT);
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		daemon_fill(i, 0);
		KUNIT_EXPECT_EQ(test, r[i]->ended, 1);
		KUNIT_EXPECT_EQ(test, test_read_errors(r[i]), 0U);
	}
}

/* A cached extent serves its bytes before any part of it. */
static void read_prefers_extent_to_part(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 2 * TEST_EXTENT + 4096, 4096);
	struct test_read *b = test_read(test, 2 * TEST_EXTENT + SZ_64K + SZ_64K - 4096, 8192);
	struct test_read *c = test_read(test, 2 * TEST_EXTENT + 8192, 4096);
	struct mc_slot *part;

	mc_part_fills = true;
	mc_read_bio(&t->dev, &a->bio);			/* part 32 */
	daemon_fill(0, 0);
	part = xa_load(&t->dev.parts, 32);
	KUNIT_ASSERT_NOT_NULL(test, part);
	/* b crosses parts 33 and 34: the whole extent, with part 32 cached. */
	mc_read_bio(&t->dev, &b->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 2U);
	expect_miss(test, 1, 0, 2, TEST_EXTENT);
	daemon_fill(1, 0);
	KUNIT_EXPECT_EQ(test, test_read_errors(b), 0U);
	/* c is in part 32 too: served from the extent, not the spoiled part. */
	memset(mc_slot_mem(part), 0xff, SZ_64K);
	mc_read_bio(&t->dev, &c->bio);
	KUNIT_EXPECT_EQ(test, c->ended, 1);
	KUNIT_EXPECT_EQ(test, test_read_errors(c), 0U);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
}

/* Fill the pool's eight slots with extents 0-7, each held by a test_cmd. */
static void hold_all_slots(struct kunit *test, struct ring_test *t)
{
	int i;

	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_EQ(test, mc_read_get(test_cmd(t, i), i, 0, 4096),
				MC_WAITING);
		if (i < 7)
			daemon_fill(i, 0);
	}
}

/* A read that finds every slot busy is retried, and served, later. */
static void read_busy_pool_retries(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 8 * TEST_EXTENT + 512, 4096);
	int i;

	hold_all_slots(test, t);
	daemon_fill(7, 0);
	mc_read_bio(&t->dev, &a->bio);
	KUNIT_EXPECT_EQ(test, a->ended, 0);
	KUNIT_EXPECT_EQ(test, misses_posted(), 8U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 1);

	for (i = 0; i < 8; i++)
		release_cmd(&t->cmd[i]);
	flush_delayed_work(&t->dev.retry_work);
	KUNIT_ASSERT_EQ(test, misses_posted(), 9U);
	daemon_fill(8, 0);
	KUNIT_EXPECT_EQ(test, a->ended, 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(a), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 0);
}

/* Removal ends reads waiting for a fill or for a retry with EIO. */
static void read_removal_ends_reads(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 8 * TEST_EXTENT, 4096);
	struct test_read *b = test_read(test, 0, 4096);
	struct test_read *c = test_read(test, 7 * TEST_EXTENT, 4096);
	int i;

	hold_all_slots(test, t);		/* extent 7 still filling */
	mc_read_bio(&t->dev, &a->bio);		/* the pool is busy: retry */
	mc_read_bio(&t->dev, &b->bio);		/* a hit, served inline */
	mc_read_bio(&t->dev, &c->bio);		/* waits for extent 7 */
	KUNIT_EXPECT_EQ(test, b->ended, 1);
	KUNIT_EXPECT_EQ(test, b->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, misses_posted(), 8U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 2);

	/* As mc_dev_del() does. */
	WRITE_ONCE(t->dev.dying, true);
	flush_delayed_work(&t->dev.retry_work);
	KUNIT_EXPECT_EQ(test, a->ended, 1);
	KUNIT_EXPECT_EQ(test, a->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, c->ended, 0);
	mc_cache_fail_dev(&t->dev);
	mc_read_drain(&t->dev);
	KUNIT_EXPECT_EQ(test, c->ended, 1);
	KUNIT_EXPECT_EQ(test, c->status, BLK_STS_IOERR);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_cmds), 0);
	for (i = 0; i < 8; i++)
		release_cmd(&t->cmd[i]);
}

static struct kunit_case read_cases[] = {
	KUNIT_CASE(read_hits_served_inline),
	KUNIT_CASE(readahead_follows_a_sequential_stream),
	KUNIT_CASE(read_misses_wake_once_per_plug),
	KUNIT_CASE(read_failed_fill_fails_reads),
	KUNIT_CASE(read_random_fills_parts),
	KUNIT_CASE(read_neighbour_random_reads_fill_parts),
	KUNIT_CASE(read_prefers_extent_to_part),
	KUNIT_CASE(pool_free_segment_before_stealing),
	KUNIT_CASE(pool_freed_segment_goes_back),
	KUNIT_CASE(read_busy_pool_retries),
	KUNIT_CASE(read_removal_ends_reads),
	{}
};

/* Held extents (held.c): the fixture's device made a held one. */
static int held_test_init(struct kunit *test)
{
	int ret = ring_test_init(test);
	struct ring_test *t = test->priv;

	t->dev.held = true;
	atomic_set(&t->dev.nr_pins, 0);
	return ret;
}

/* Fill extent @i of the held device with @len bytes of @b and complete. */
static void held_put(struct kunit *test, u64 i, u32 len, u8 b, u32 status)
{
	struct ring_test *t = test->priv;
	u64 id, off;

	KUNIT_ASSERT_EQ(test, mc_held_fill(&t->dev, i, len, &id, &off), 0);
	memset(mc_pool_addr(mc_pool, off), b, len);
	daemon_complete(id, status, 0);
}

/* A fill posts no miss; its completion makes the bytes pinnable. */
static void held_fill_then_pin(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_held_pin pin;
	struct mc_stats s;
	u64 id, off;
	u8 *mem;

	KUNIT_ASSERT_EQ(test, mc_held_fill(&t->dev, 2, 1000, &id, &off), 0);
	KUNIT_EXPECT_EQ(test, misses_posted(), 0U);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 2, &pin), -ENOENT);
	mem = mc_pool_addr(mc_pool, off);
	memset(mem, 0x5a, 1000);
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 0ULL);

	KUNIT_ASSERT_EQ(test, mc_held_pin(&t->dev, 2, &pin), 0);
	KUNIT_EXPECT_EQ(test, pin.off, off);
	KUNIT_EXPECT_EQ(test, pin.len, 1000U);
	KUNIT_EXPECT_EQ(test, pin.gen, (u32)(id >> 32));
	KUNIT_EXPECT_EQ(test, mc_held_nr_pins(), 1U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_pins), 1);
	KUNIT_EXPECT_EQ(test, mc_held_unpin(pin.id), 0);
	KUNIT_EXPECT_EQ(test, mc_held_nr_pins(), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_pins), 0);
	KUNIT_EXPECT_EQ(test, mc_held_unpin(pin.id), -ENOENT);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.bytes_filled, 1000ULL);
	KUNIT_EXPECT_EQ(test, s.hits, 1ULL);
}

/* What the daemon names is checked; nothing it names twice is taken twice. */
static void held_fill_rejects(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u64 id, off, last = (t->dev.size - 1) / TEST_EXTENT;

	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 0, 0, &id, &off), -EINVAL);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 0, TEST_EXTENT + 1, &id, &off),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, last + 1, 1, &id, &off), -ERANGE);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, U64_MAX, 1, &id, &off), -ERANGE);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 1, 4096, &id, &off), 0);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 1, 4096, &id, &off), -EEXIST);
	t->dev.held = false;
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 3, 4096, &id, &off), -EOPNOTSUPP);
	t->dev.held = true;
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), (u64)TEST_EXTENT);
}

/* A failed fill leaves nothing behind: the extent can be filled again. */
static void held_failed_fill_refillable(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_held_pin pin;
	u64 id, off;

	held_put(test, 4, 512, 1, EIO);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 4));
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 4, &pin), -ENOENT);
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), 0ULL);
	/* A fill the daemon never learnt of (its reply lost) is cancelled. */
	KUNIT_ASSERT_EQ(test, mc_held_fill(&t->dev, 4, 512, &id, &off), 0);
	mc_ring_cancel_fill(id);
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), 0ULL);
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 1ULL);
	held_put(test, 4, 512, 1, 0);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 4, &pin), 0);
}

/* A pinned extent is never evicted; the others go when room is needed. */
static void held_pin_blocks_eviction(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_held_pin pin;
	u8 *mem;
	int i;

	for (i = 0; i < 8; i++)
		held_put(test, i, TEST_EXTENT, i, 0);
	KUNIT_ASSERT_EQ(test, mc_held_pin(&t->dev, 0, &pin), 0);
	/* Sixteen more extents cycle through the seven unpinned slots. */
	for (i = 8; i < 16; i++)
		held_put(test, i, TEST_EXTENT, i, 0);
	mem = mc_pool_addr(mc_pool, pin.off);
	KUNIT_EXPECT_EQ(test, mem[0], 0);
	KUNIT_EXPECT_EQ(test, mem[TEST_EXTENT - 1], 0);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&t->dev.extents, 0),
			    mc_slot_from_index(mc_pool, pin.off >> MC_UNIT_SHIFT));
	KUNIT_EXPECT_EQ(test, mc_held_unpin(pin.id), 0);
}

static void held_pins_bounded(struct kunit *test)
{
	struct ring_test *t = test->priv;
	unsigned int saved = mc_max_pins;
	struct mc_held_pin a, b, c;

	held_put(test, 0, 4096, 0, 0);
	mc_max_pins = 2;
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 0, &a), 0);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 0, &b), 0);
	KUNIT_EXPECT_NE(test, a.id, b.id);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 0, &c), -ENOSPC);
	KUNIT_EXPECT_EQ(test, mc_held_nr_pins(), 2U);
	mc_max_pins = saved;
	KUNIT_EXPECT_EQ(test, mc_held_unpin(a.id), 0);
	KUNIT_EXPECT_EQ(test, mc_held_unpin(b.id), 0);
}

/* The daemon's fills fail and its pins end when it detaches. */
static void held_daemon_gone(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_held_pin pin;
	u64 id, off;

	held_put(test, 0, 4096, 0, 0);
	KUNIT_ASSERT_EQ(test, mc_held_pin(&t->dev, 0, &pin), 0);
	KUNIT_ASSERT_EQ(test, mc_held_fill(&t->dev, 1, 4096, &id, &off), 0);
	mc_ring_release(NULL, NULL);
	KUNIT_EXPECT_EQ(test, mc_held_nr_pins(), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->dev.nr_pins), 0);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 1));
	KUNIT_EXPECT_TRUE(test, list_empty(&mc_ring.pending));
	/* Only extent 0 is left, idle. */
	KUNIT_EXPECT_EQ(test, mc_pool_used_bytes(mc_pool), (u64)TEST_EXTENT);
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 1, 4096, &id, &off), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 0, &pin), -ENOTCONN);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
	/* The next daemon's completion of the old fill is refused. */
	daemon_complete(id, 0, 0);
	KUNIT_EXPECT_EQ(test, mc_ring_bad_completions(), 1ULL);
}

/* Another process than the attached daemon is refused. */
static void held_other_process_refused(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_held_pin pin;
	u64 id, off;

	held_put(test, 0, 4096, 0, 0);
	KUNIT_ASSERT_EQ(test, mc_held_pin(&t->dev, 0, &pin), 0);
	mc_ring.pid++;
	KUNIT_EXPECT_EQ(test, mc_held_fill(&t->dev, 1, 4096, &id, &off), -EPERM);
	KUNIT_EXPECT_EQ(test, mc_held_pin(&t->dev, 0, &pin), -EPERM);
	KUNIT_EXPECT_EQ(test, mc_held_unpin(pin.id), -EPERM);
	mc_ring.pid--;
	KUNIT_EXPECT_EQ(test, mc_held_unpin(pin.id), 0);
}

static struct kunit_case held_cases[] = {
	KUNIT_CASE(held_fill_then_pin),
	KUNIT_CASE(held_fill_rejects),
	KUNIT_CASE(held_failed_fill_refillable),
	KUNIT_CASE(held_pin_blocks_eviction),
	KUNIT_CASE(held_pins_bounded),
	KUNIT_CASE(held_daemon_gone),
	KUNIT_CASE(held_other_process_refused),
	{}
};

/*
 * Warmup (warm.c): extents fetched with no reader, within the device's
 * share of fills in flight and the per-call bound. The fixture's device
 * read with 64 KiB extents: 128 slots of the 8 MiB pool, a share of 8.
 */
static void warm_small_extents(struct ring_test *t)
{
	t->dev.extent_shift = 16;
}

/* What the daemon does with every miss posted since @from: fill it. */
static u32 daemon_fill_from(u32 from)
{
	u32 i, n = misses_posted();

	for (i = from; i < n; i++)
		daemon_fill(i, 0);
	return n;
}

static void warm_fills_within_share(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *r = test_read(test, 3 * SZ_64K + 512, 4096);
	struct mc_warm_result res;
	struct mc_stats s;
	u32 i;

	warm_small_extents(t);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 0, 255, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 8U);
	KUNIT_EXPECT_EQ(test, res.ready + res.filling, 0U);
	KUNIT_EXPECT_EQ(test, res.next, 8ULL);
	KUNIT_EXPECT_TRUE(test, res.busy);
	KUNIT_ASSERT_EQ(test, misses_posted(), 8U);
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(i)->extent), (u64)i);
		KUNIT_EXPECT_EQ(test, le32_to_cpu(miss_entry(i)->len), SZ_64K);
	}
	/* Woken once for the call, as for a plugged batch. */
	KUNIT_EXPECT_FALSE(test, READ_ONCE(mc_ring.unwoken));
	/* Over its share: nothing more until fills arrive. */
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 8, 255, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 0U);
	KUNIT_EXPECT_EQ(test, res.next, 8ULL);
	KUNIT_EXPECT_TRUE(test, res.busy);

	daemon_fill_from(0);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 8, 11, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 4U);
	KUNIT_EXPECT_EQ(test, res.next, 12ULL);
	KUNIT_EXPECT_FALSE(test, res.busy);
	daemon_fill_from(8);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 0, 11, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, 12U);
	KUNIT_EXPECT_EQ(test, res.queued + res.filling, 0U);
	KUNIT_EXPECT_EQ(test, res.next, 12ULL);
	KUNIT_EXPECT_FALSE(test, res.busy);
	KUNIT_EXPECT_EQ(test, misses_posted(), 12U);

	/* A warmed extent reads as a hit, and is no readahead's. */
	mc_read_bio(&t->dev, &r->bio);
	KUNIT_EXPECT_EQ(test, r->ended, 1);
	KUNIT_EXPECT_EQ(test, r->status, BLK_STS_OK);
	KUNIT_EXPECT_EQ(test, test_read_errors(r), 0U);
	mc_dev_stats(&t->dev, &s);
	KUNIT_EXPECT_EQ(test, s.misses, 12ULL);
	KUNIT_EXPECT_EQ(test, s.warmed, 12ULL);
	KUNIT_EXPECT_EQ(test, s.hits, 1ULL);
	KUNIT_EXPECT_EQ(test, s.bytes_filled, 12ULL * SZ_64K);
	KUNIT_EXPECT_EQ(test, s.prefetched + s.prefetch_used + s.prefetch_unused, 0ULL);
	KUNIT_EXPECT_EQ(test, mc_stats_fills_in_flight(&s), 0ULL);
}

/* Readers' fills count against the share; an extent they fill is FILLING. */
static void warm_share_counts_readers(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_warm_result res;
	int i;

	warm_small_extents(t);
	KUNIT_ASSERT_EQ(test, mc_read_get(test_cmd(t, 0), 2, 0, 4096), MC_WAITING);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 0, 3, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 3U);
	KUNIT_EXPECT_EQ(test, res.filling, 1U);
	KUNIT_EXPECT_EQ(test, res.next, 4ULL);
	KUNIT_EXPECT_FALSE(test, res.busy);
	KUNIT_EXPECT_EQ(test, misses_posted(), 4U);
	for (i = 1; i < 5; i++)
		KUNIT_ASSERT_EQ(test, mc_read_get(test_cmd(t, i), 10 + i, 0, 4096),
				MC_WAITING);
	/* 8 in flight, 4 of them readers': the share is full. */
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 4, 9, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 0U);
	KUNIT_EXPECT_EQ(test, res.next, 4ULL);
	KUNIT_EXPECT_TRUE(test, res.busy);
	daemon_fill_from(0);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 0, 9, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, 4U);
	KUNIT_EXPECT_EQ(test, res.queued, 6U);
	for (i = 0; i < 5; i++)
		release_cmd(&t->cmd[i]);
}

/* A pool whose every slot is in use stops a warmup, which queues nothing. */
static void warm_busy_pool(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct mc_warm_result res;
	struct mc_stats s;
	int i;

	hold_all_slots(test, t);
	daemon_fill(7, 0);
	mc_dev_stats(&t->dev, &s);
	KUNIT_ASSERT_EQ(test, mc_stats_fills_in_flight(&s), 0ULL);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 6, 9, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, 2U);
	KUNIT_EXPECT_EQ(test, res.queued, 0U);
	KUNIT_EXPECT_EQ(test, res.next, 8ULL);
	KUNIT_EXPECT_TRUE(test, res.busy);
	KUNIT_EXPECT_EQ(test, misses_posted(), 8U);
	for (i = 0; i < 8; i++)
		release_cmd(&t->cmd[i]);
	/* Idle slots are evicted for it, one at a time: a share of 1. */
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 8, 9, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 1U);
	KUNIT_EXPECT_TRUE(test, res.busy);
	KUNIT_EXPECT_EQ(test, misses_posted(), 9U);
}

/* One call looks at MAICACHE_WARM_EXTENTS_MAX extents at most. */
static void warm_call_bounded(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u32 cached = MAICACHE_WARM_EXTENTS_MAX + 6, posted = 0;
	struct mc_warm_result res;
	struct mc_pool *pool;
	u64 next = 0;

	/* 2048 slots of 64 KiB: room for more than one call looks at. */
	KUNIT_ASSERT_EQ(test, mc_pool_create(128ULL << 20, mc_cache_unindex, &pool), 0);
	mc_pool_put(mc_pool);
	mc_pool = pool;
	warm_small_extents(t);
	t->dev.size = 128ULL << 20;
	while (next < cached) {
		KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, next, cached - 1, &res), 0);
		KUNIT_ASSERT_EQ(test, res.queued, min_t(u32, 128, cached - next));
		next = res.next;
		for (; posted < misses_posted(); posted++)
			daemon_complete(le64_to_cpu(miss_entry(posted)->id), 0, 0);
	}
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 0, cached, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, (u32)MAICACHE_WARM_EXTENTS_MAX);
	KUNIT_EXPECT_EQ(test, res.next, (u64)MAICACHE_WARM_EXTENTS_MAX);
	KUNIT_EXPECT_FALSE(test, res.busy);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, res.next, cached, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, 6U);
	KUNIT_EXPECT_EQ(test, res.queued, 1U);
	KUNIT_EXPECT_EQ(test, res.next, (u64)cached + 1);
	KUNIT_EXPECT_EQ(test, misses_posted(), cached + 1);
}

/*
 * A part a random read cached is no cached extent: a warmup fetches the
 * whole extent, which then serves reads.
 */
static void warm_whole_extent_over_a_part(struct kunit *test)
{
	struct ring_test *t = test->priv;
	struct test_read *a = test_read(test, 3 * TEST_EXTENT + 8192, 4096);
	struct test_read *b = test_read(test, 3 * TEST_EXTENT + 5 * SZ_64K, 4096);
	struct mc_warm_result res;

	mc_part_fills = true;
	mc_read_bio(&t->dev, &a->bio);
	KUNIT_ASSERT_EQ(test, misses_posted(), 1U);
	KUNIT_ASSERT_TRUE(test, le32_to_cpu(miss_entry(0)->flags) & MAICACHE_MISS_PART);
	daemon_fill(0, 0);
	KUNIT_ASSERT_EQ(test, a->ended, 1);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 3, 3, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 1U);
	KUNIT_EXPECT_EQ(test, res.ready, 0U);
	KUNIT_ASSERT_EQ(test, misses_posted(), 2U);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(miss_entry(1)->flags) & MAICACHE_MISS_PART, 0U);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(miss_entry(1)->extent), 3ULL);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(miss_entry(1)->len), TEST_EXTENT);
	daemon_fill(1, 0);
	/* Another part of the extent: served by the extent, no fill. */
	mc_read_bio(&t->dev, &b->bio);
	KUNIT_EXPECT_EQ(test, b->ended, 1);
	KUNIT_EXPECT_EQ(test, test_read_errors(b), 0U);
	KUNIT_EXPECT_EQ(test, misses_posted(), 2U);
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, 3, 3, &res), 0);
	KUNIT_EXPECT_EQ(test, res.ready, 1U);
}

/* What a warmup refuses queues nothing. */
static void warm_refusals(struct kunit *test)
{
	struct ring_test *t = test->priv;
	u64 last = (t->dev.size - 1) / TEST_EXTENT;
	struct mc_warm_result res;

	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 3, 2, &res), -EINVAL);
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 0, last + 1, &res), -ERANGE);
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, last + 1, last + 1, &res), -ERANGE);
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 0, U64_MAX, &res), -ERANGE);
	t->dev.held = true;
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 0, 0, &res), -EOPNOTSUPP);
	t->dev.held = false;
	mc_ring_release(NULL, NULL);
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 0, 0, &res), -ENOTCONN);
	KUNIT_ASSERT_EQ(test, mc_ring_open(NULL, NULL), 0);
	t->dev.stale = true;
	KUNIT_EXPECT_EQ(test, mc_warm(&t->dev, 0, 0, &res), -ESTALE);
	t->dev.stale = false;
	KUNIT_EXPECT_EQ(test, misses_posted(), 0U);
	KUNIT_EXPECT_NULL(test, xa_load(&t->dev.extents, 0));
	/* The last extent itself is in range. */
	KUNIT_ASSERT_EQ(test, mc_warm(&t->dev, last, last, &res), 0);
	KUNIT_EXPECT_EQ(test, res.queued, 1U);
	KUNIT_EXPECT_EQ(test, res.next, last + 1);
}

static struct kunit_case warm_cases[] = {
	KUNIT_CASE(warm_fills_within_share),
	KUNIT_CASE(warm_share_counts_readers),
	KUNIT_CASE(warm_busy_pool),
	KUNIT_CASE(warm_call_bounded),
	KUNIT_CASE(warm_whole_extent_over_a_part),
	KUNIT_CASE(warm_refusals),
	{}
};

static int ring_suite_init(struct kunit_suite *suite)
{
	int ret = mc_read_init();

	if (ret)
		return ret;
	ret = mc_ring_init();
	if (ret)
		mc_read_exit();
	return ret;
}

static void ring_suite_exit(struct kunit_suite *suite)
{
	mc_ring_exit();
	mc_read_exit();
}

static struct kunit_suite ring_suite = {
	.name = "maicache-ring",
	.suite_init = ring_suite_init,
	.suite_exit = ring_suite_exit,
	.init = ring_test_init,
	.exit = ring_test_exit,
	.test_cases = ring_cases,
};

static struct kunit_suite read_suite = {
	.name = "maicache-read",
	.suite_init = ring_suite_init,
	.suite_exit = ring_suite_exit,
	.init = ring_test_init,
	.exit = ring_test_exit,
	.test_cases = read_cases,
};

static struct kunit_suite held_suite = {
	.name = "maicache-held",
	.suite_init = ring_suite_init,
	.suite_exit = ring_suite_exit,
	.init = held_test_init,
	.exit = ring_test_exit,
	.test_cases = held_cases,
};

static struct kunit_suite warm_suite = {
	.name = "maicache-warm",
	.suite_init = ring_suite_init,
	.suite_exit = ring_suite_exit,
	.init = ring_test_init,
	.exit = ring_test_exit,
	.test_cases = warm_cases,
};

kunit_test_suites(&ring_suite, &read_suite, &held_suite, &warm_suite);

MODULE_LICENSE("GPL");
