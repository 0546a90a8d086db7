// SPDX-License-Identifier: MIT
/*
 * Unit tests for the ring logic of the test filler (tests/filler/filler.c),
 * against a small model of the kernel side in plain memory: it posts misses,
 * consumes completions on each kick and rejects what a careful kernel would.
 * No kernel, no io_uring, no libnl.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "filler.h"
#include "check_run.h"

#define POOL_SLOTS 64
#define SLOT_SHIFT 16	/* 64 KiB slots; extents of the tests are small */
#define MAX_ENTRIES 64
/* Room for MAX_ENTRIES of either kind, in whole pages. */
#define REGION_SIZE (MAICACHE_RING_ENTRIES_OFF + 4096)

/* The kernel, as far as the filler can tell. */
struct fake {
	struct maicache_miss_hdr *mh;
	struct maicache_cpl_hdr *ch;
	struct maicache_miss *misses;
	struct maicache_cpl *cpls;
	uint8_t *pool;
	uint32_t miss_entries, cpl_entries;

	/* Per slot: the generation of its outstanding miss, 0 when none. */
	uint32_t live_gen[POOL_SLOTS];
	uint32_t next_gen;
	uint64_t cookie[POOL_SLOTS], extent[POOL_SLOTS];
	uint32_t len[POOL_SLOTS];
	/* Results. */
	uint32_t status[POOL_SLOTS];
	unsigned int done[POOL_SLOTS];	/* completions accepted per slot */
	unsigned long good, bad, bad_index, kicks;
	unsigned int consume_max;	/* completions taken per kick, 0: all */
	char log[4096];
	unsigned int logs;
};

static void fake_log(struct mc_filler *f, const char *msg)
{
	struct fake *k = f->priv;
	size_t n = strlen(k->log);

	snprintf(k->log + n, sizeof(k->log) - n, "%s\n", msg);
	k->logs++;
}

static int fake_kick(struct mc_filler *f, bool wait)
{
	struct fake *k = f->priv;
	uint32_t head = le32toh(__atomic_load_n(&k->ch->head, __ATOMIC_ACQUIRE));
	uint32_t tail = le32toh(k->mh->cpl_tail);
	unsigned int taken = 0;

	uint32_t mtail = le32toh(__atomic_load_n(&k->ch->miss_tail, __ATOMIC_ACQUIRE));

	(void)wait;
	k->kicks++;
	if (head - tail > k->cpl_entries ||
	    le32toh(k->mh->head) - mtail > k->miss_entries) {
		k->bad_index++;
		return -EINVAL;
	}
	while (tail != head && (!k->consume_max || taken < k->consume_max)) {
		struct maicache_cpl *c = &k->cpls[tail & (k->cpl_entries - 1)];
		uint64_t id = le64toh(c->id);
		uint32_t slot = (uint32_t)id, gen = (uint32_t)(id >> 32);
		uint32_t st = le32toh(c->status);

		tail++;
		taken++;
		if (slot >= POOL_SLOTS || !k->live_gen[slot] || k->live_gen[slot] != gen ||
		    le32toh(c->flags) || st >= 4096) {
			k->bad++;
			continue;
		}
		k->live_gen[slot] = 0;
		k->status[slot] = st;
		k->done[slot]++;
		k->good++;
	}
	__atomic_store_n(&k->mh->cpl_tail, htole32(tail), __ATOMIC_RELEASE);
	return 0;
}

/* A kernel that hears kicks but consumes nothing. */
static int lazy_kick(struct mc_filler *f, bool wait)
{
	struct fake *k = f->priv;

	(void)wait;
	k->kicks++;
	return 0;
}

static int give_up(struct mc_filler *f)
{
	(void)f;
	return 1;
}

static void fake_init(struct fake *k, struct mc_filler *f, uint32_t me, uint32_t ce)
{
	memset(k, 0, sizeof(*k));
	memset(f, 0, sizeof(*f));
	k->mh = aligned_alloc(4096, REGION_SIZE);
	k->ch = aligned_alloc(4096, REGION_SIZE);
	k->pool = aligned_alloc(4096, (size_t)POOL_SLOTS << SLOT_SHIFT);
	ck_assert_ptr_nonnull(k->mh);
	ck_assert_ptr_nonnull(k->ch);
	ck_assert_ptr_nonnull(k->pool);
	memset(k->mh, 0, MAICACHE_RING_ENTRIES_OFF);
	memset(k->ch, 0, MAICACHE_RING_ENTRIES_OFF);
	memset(k->pool, 0xee, (size_t)POOL_SLOTS << SLOT_SHIFT);
	k->mh->magic = htole32(MAICACHE_RING_MAGIC);
	k->mh->version = htole32(MAICACHE_RING_VERSION);
	k->mh->miss_entries = htole32(me);
	k->mh->cpl_entries = htole32(ce);
	k->mh->pool_size = htole64((uint64_t)POOL_SLOTS << SLOT_SHIFT);
	k->mh->miss_entry_size = htole32(sizeof(struct maicache_miss));
	k->mh->cpl_entry_size = htole32(sizeof(struct maicache_cpl));
	k->miss_entries = me;
	k->cpl_entries = ce;
	k->misses = (void *)((uint8_t *)k->mh + MAICACHE_RING_ENTRIES_OFF);
	k->cpls = (void *)((uint8_t *)k->ch + MAICACHE_RING_ENTRIES_OFF);
	k->next_gen = 7;

	ck_assert_ptr_null(mc_hdr_check(k->mh));
	f->priv = k;
	f->kick = fake_kick;
	f->stall = give_up;
	f->log = fake_log;
}

static void fake_free(struct fake *k)
{
	free(k->mh);
	free(k->ch);
	free(k->pool);
}

/* Start the ring at index base (both directions), as after long uptime. */
static void fake_set_base(struct fake *k, uint32_t base)
{
	k->mh->head = k->mh->cpl_tail = htole32(base);
	k->ch->head = k->ch->miss_tail = htole32(base);
}

static void fake_miss(struct fake *k, uint32_t slot, uint64_t cookie, uint64_t extent,
		      uint32_t len)
{
	uint32_t head = le32toh(k->mh->head);
	struct maicache_miss *m = &k->misses[head & (k->miss_entries - 1)];

	ck_assert_uint_lt(slot, POOL_SLOTS);
	ck_assert_uint_eq(k->live_gen[slot], 0);
	ck_assert_uint_le(head - le32toh(k->ch->miss_tail), k->miss_entries - 1);
	k->live_gen[slot] = k->next_gen++;
	k->cookie[slot] = cookie;
	k->extent[slot] = extent;
	k->len[slot] = len;
	k->status[slot] = 0xdead;
	m->id = htole64((uint64_t)k->live_gen[slot] << 32 | slot);
	m->cookie = htole64(cookie);
	m->extent = htole64(extent);
	m->slot_off = htole64((uint64_t)slot << SLOT_SHIFT);
	m->len = htole32(len);
	m->extent_shift = htole32(SLOT_SHIFT);
	m->dev_id = htole32(0);
	m->flags = 0;
	__atomic_store_n(&k->mh->head, htole32(head + 1), __ATOMIC_RELEASE);
}

static void assert_pattern(struct fake *k, uint32_t slot)
{
	uint64_t exp, got;
	long bad = mc_pattern_check(k->pool + ((size_t)slot << SLOT_SHIFT), k->cookie[slot],
				    k->extent[slot] << SLOT_SHIFT, k->len[slot], &exp, &got);

	ck_assert_msg(bad < 0, "slot %u word %ld: expected %llx got %llx", slot, bad,
		      (unsigned long long)exp, (unsigned long long)got);
}

/* ------------------------------------------------------------------------ */

START_TEST(pattern_words)
{
	uint8_t buf[29];
	uint64_t w, exp, got;

	mc_pattern_fill(buf, 0, 0, sizeof(buf));
	memcpy(&w, buf + 8, 8);
	ck_assert_uint_eq(le64toh(w), 8);
	mc_pattern_fill(buf, 3, 4096, sizeof(buf));
	memcpy(&w, buf, 8);
	ck_assert_uint_eq(le64toh(w), 4096 ^ (3 * 0x9E3779B97F4A7C15ULL));
	/* The 5-byte tail holds the low bytes of the word at 4096 + 24. */
	w = htole64((4096 + 24) ^ (3 * 0x9E3779B97F4A7C15ULL));
	ck_assert_mem_eq(buf + 24, &w, 5);
	ck_assert_int_eq(mc_pattern_check(buf, 3, 4096, sizeof(buf), &exp, &got), -1);
	buf[27] ^= 1;
	ck_assert_int_eq(mc_pattern_check(buf, 3, 4096, sizeof(buf), &exp, &got), 3);
	ck_assert_uint_ne(exp, got);
	buf[27] ^= 1;
	buf[9] ^= 0x80;
	ck_assert_int_eq(mc_pattern_check(buf, 3, 4096, sizeof(buf), &exp, &got), 1);
	ck_assert_uint_eq(exp, 4104 ^ (3 * 0x9E3779B97F4A7C15ULL));
	ck_assert_uint_eq(exp ^ got, 0x8000);
}
END_TEST

START_TEST(header_checks)
{
	struct maicache_miss_hdr h = {
		.magic = htole32(MAICACHE_RING_MAGIC),
		.version = htole32(MAICACHE_RING_VERSION),
		.miss_entries = htole32(256),
		.cpl_entries = htole32(128),
		.pool_size = htole64(1 << 30),
		.miss_entry_size = htole32(sizeof(struct maicache_miss)),
		.cpl_entry_size = htole32(sizeof(struct maicache_cpl)),
	};
	struct maicache_miss_hdr b;

	ck_assert_ptr_null(mc_hdr_check(&h));
	ck_assert_uint_eq(sizeof(struct maicache_miss), 48);
	ck_assert_uint_eq(sizeof(struct maicache_cpl), 16);
	ck_assert_uint_eq(mc_miss_region_size(&h, 4096), 4096 + 3 * 4096);
	ck_assert_uint_eq(mc_cpl_region_size(&h, 4096), 4096 + 4096 / 2 * 1 + 2048);
	h.cpl_entries = htole32(1);
	ck_assert_uint_eq(mc_cpl_region_size(&h, 4096), 8192);
	h.cpl_entries = htole32(128);

	b = h; b.magic = htole32(0x12345678);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "magic"));
	/* A module of the ring before parts: refused, not misread. */
	b = h; b.version = htole32(1);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "version 1"));
	b = h; b.version = htole32(3);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "version 3"));
	b = h; b.miss_entry_size = htole32(64);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "entry sizes"));
	b = h; b.cpl_entry_size = htole32(24);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "entry sizes"));
	b = h; b.miss_entries = htole32(100);
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "powers of two"));
	b = h; b.cpl_entries = 0;
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "powers of two"));
	b = h; b.pool_size = 0;
	ck_assert_ptr_nonnull(strstr(mc_hdr_check(&b), "pool"));
}
END_TEST

START_TEST(batch_fills_and_kicks_once)
{
	struct fake k;
	struct mc_filler f;

	fake_init(&k, &f, 16, 16);
	f.pattern = true;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	ck_assert(!f.ring.unkicked);
	for (uint32_t i = 0; i < 8; i++)
		fake_miss(&k, i, 42 + i % 2, 100 + i, i == 7 ? 1000 : 65536);
	ck_assert_uint_eq(mc_filler_pending(&f), 8);
	ck_assert_int_eq(mc_filler_batch(&f), 8);
	ck_assert_uint_eq(k.kicks, 1);
	ck_assert_uint_eq(k.good, 8);
	ck_assert_uint_eq(k.bad, 0);
	for (uint32_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(k.done[i], 1);
		ck_assert_uint_eq(k.status[i], 0);
		assert_pattern(&k, i);
	}
	/* The short last extent left the rest of its slot alone. */
	ck_assert_uint_eq(k.pool[(7 << SLOT_SHIFT) + 1000], 0xee);
	ck_assert_uint_eq(le32toh(k.ch->miss_tail), 8);
	ck_assert_uint_eq(le32toh(k.ch->head), 8);
	ck_assert_uint_eq(f.c.misses, 8);
	ck_assert_uint_eq(f.c.bytes, 7 * 65536 + 1000);
	ck_assert_uint_eq(f.c.batches, 1);
	/* Nothing to do: no kick. */
	ck_assert_int_eq(mc_filler_batch(&f), 0);
	ck_assert_uint_eq(k.kicks, 1);
	fake_free(&k);
}
END_TEST

/* A part of a 1 MiB extent is filled from its own 64 KiB of the device. */
START_TEST(part_miss_filled_at_its_part)
{
	struct fake k;
	struct mc_filler f;
	struct maicache_miss *m;

	fake_init(&k, &f, 16, 16);
	f.pattern = true;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	/* Part 37: the sixth of extent 2 of a device with 1 MiB extents. */
	fake_miss(&k, 3, 42, 37, 65536);
	m = &k.misses[0];
	m->extent_shift = htole32(20);
	m->flags = htole32(MAICACHE_MISS_PART);
	ck_assert_int_eq(mc_filler_batch(&f), 1);
	ck_assert_uint_eq(k.status[3], 0);
	/* assert_pattern() reads it at 37 << 16, the part's offset. */
	assert_pattern(&k, 3);
	fake_free(&k);
}
END_TEST

START_TEST(indices_wrap)
{
	struct fake k;
	struct mc_filler f;
	uint32_t slot = 0;

	fake_init(&k, &f, 4, 4);
	f.pattern = true;
	fake_set_base(&k, 0xfffffffa);
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 3; i++) {
			fake_miss(&k, slot, 9, slot, 4096);
			slot = (slot + 1) % POOL_SLOTS;
		}
		ck_assert_int_eq(mc_filler_batch(&f), 3);
	}
	ck_assert_uint_eq(k.good, 30);
	ck_assert_uint_eq(k.bad, 0);
	ck_assert_uint_eq(k.kicks, 10);
	ck_assert_uint_eq(le32toh(k.ch->miss_tail), 0xfffffffa + 30);
	for (uint32_t i = 0; i < 30; i++)
		assert_pattern(&k, i);
	fake_free(&k);
}
END_TEST

START_TEST(full_completion_ring)
{
	struct fake k;
	struct mc_filler f;

	fake_init(&k, &f, 16, 2);
	f.pattern = true;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	for (uint32_t i = 0; i < 15; i++)
		fake_miss(&k, i, 5, i, 512);
	ck_assert_int_eq(mc_filler_batch(&f), 15);
	ck_assert_uint_eq(k.good, 15);
	ck_assert_uint_gt(f.c.ring_full, 0);
	ck_assert_uint_gt(k.kicks, 1);
	for (uint32_t i = 0; i < 15; i++)
		assert_pattern(&k, i);

	/* A kernel that consumes nothing: the filler never overruns the ring. */
	k.consume_max = 0;
	f.kick = lazy_kick;
	for (uint32_t i = 15; i < 20; i++)
		fake_miss(&k, i, 5, i, 512);
	ck_assert_int_eq(mc_filler_batch(&f), 2);
	ck_assert_uint_eq(f.ring.cpl_head - le32toh(k.mh->cpl_tail), 2);
	ck_assert_uint_eq(mc_filler_pending(&f), 3);
	ck_assert_uint_eq(le32toh(k.ch->head), f.ring.cpl_head);
	ck_assert_uint_eq(le32toh(k.ch->miss_tail), f.ring.miss_tail);
	/* Once the kernel catches up, the rest goes through. */
	f.kick = fake_kick;
	ck_assert_int_eq(fake_kick(&f, true), 0);
	ck_assert_int_eq(mc_filler_batch(&f), 3);
	ck_assert_uint_eq(k.good, 20);
	for (uint32_t i = 15; i < 20; i++)
		assert_pattern(&k, i);
	fake_free(&k);
}
END_TEST

START_TEST(source_file_short_read_and_fail_every)
{
	char path[] = "/tmp/check_filler.XXXXXX";
	struct mc_source src;
	struct fake k;
	struct mc_filler f;
	uint8_t data[3 * 4096];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(write(fd, data, sizeof(data)), sizeof(data));
	src.cookie = 77;
	src.path = "testsrc";
	src.fd = fd;

	fake_init(&k, &f, 16, 16);
	f.sources = &src;
	f.nsources = 1;
	f.fail_every = 4;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	/* Extents of 64 KiB: only extent 0 exists; its first 4 KiB twice. */
	fake_miss(&k, 0, 77, 0, 4096);
	fake_miss(&k, 1, 77, 0, sizeof(data));
	fake_miss(&k, 2, 77, 0, sizeof(data) + 1);	/* short read */
	fake_miss(&k, 3, 77, 0, 4096);			/* 4th: fail-every */
	fake_miss(&k, 4, 77, 1, 4096);			/* past the end */
	fake_miss(&k, 5, 12345, 0, 4096);		/* unknown cookie */
	fake_miss(&k, 6, 12345, 1, 4096);		/* warned once */
	ck_assert_int_eq(mc_filler_batch(&f), 7);
	ck_assert_uint_eq(k.good, 7);
	ck_assert_uint_eq(k.status[0], 0);
	ck_assert_mem_eq(k.pool, data, 4096);
	ck_assert_uint_eq(k.status[1], 0);
	ck_assert_mem_eq(k.pool + (1 << SLOT_SHIFT), data, sizeof(data));
	ck_assert_uint_eq(k.status[2], EIO);
	ck_assert_uint_eq(k.status[3], EIO);
	ck_assert_uint_eq(k.pool[3 << SLOT_SHIFT], 0xee);
	ck_assert_uint_eq(k.status[4], EIO);
	ck_assert_uint_eq(k.status[5], EIO);
	ck_assert_uint_eq(k.status[6], EIO);
	ck_assert_uint_eq(f.c.errors, 5);
	ck_assert_uint_eq(f.c.bytes, 4096 + sizeof(data));
	ck_assert_ptr_nonnull(strstr(k.log, "testsrc: short read"));
	ck_assert_ptr_nonnull(strstr(k.log, "no --source for cookie 12345"));
	ck_assert_ptr_null(strstr(strstr(k.log, "no --source for cookie 12345") + 1,
				  "no --source for cookie 12345"));
	close(fd);
	fake_free(&k);
}
END_TEST

START_TEST(bad_miss_fails_only_itself)
{
	struct fake k;
	struct mc_filler f;
	struct maicache_miss *m;

	fake_init(&k, &f, 16, 16);
	f.pattern = true;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	fake_miss(&k, 0, 1, 0, 4096);
	fake_miss(&k, 1, 1, 1, 4096);
	m = &k.misses[1];
	m->slot_off = htole64(((uint64_t)POOL_SLOTS << SLOT_SHIFT) - 100);	/* runs off the pool */
	fake_miss(&k, 2, 1, 2, 4096);
	ck_assert_int_eq(mc_filler_batch(&f), 3);
	ck_assert_uint_eq(k.status[0], 0);
	ck_assert_uint_eq(k.status[1], EIO);
	ck_assert_uint_eq(k.status[2], 0);
	ck_assert_ptr_nonnull(strstr(k.log, "bad miss"));
	fake_free(&k);
}
END_TEST

START_TEST(exit_after_and_resume)
{
	struct fake k;
	struct mc_filler f, g;

	fake_init(&k, &f, 16, 16);
	f.pattern = true;
	f.exit_after = 4;
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	for (uint32_t i = 0; i < 10; i++)
		fake_miss(&k, i, 3, i, 128);
	ck_assert_int_eq(mc_filler_batch(&f), 4);
	ck_assert(mc_filler_done(&f));
	ck_assert_int_eq(mc_filler_batch(&f), 0);
	ck_assert_uint_eq(le32toh(k.ch->miss_tail), 4);
	ck_assert_uint_eq(k.good, 4);

	/* The next filler picks up where this one stopped. */
	memset(&g, 0, sizeof(g));
	g.priv = &k;
	g.kick = fake_kick;
	g.log = fake_log;
	g.pattern = true;
	mc_filler_start(&g, k.mh, k.ch, k.pool);
	ck_assert_uint_eq(g.ring.miss_tail, 4);
	ck_assert_uint_eq(mc_filler_pending(&g), 6);
	ck_assert_int_eq(mc_filler_batch(&g), 6);
	ck_assert_uint_eq(k.good, 10);
	for (uint32_t i = 0; i < 10; i++) {
		ck_assert_uint_eq(k.done[i], 1);
		assert_pattern(&k, i);
	}
	fake_free(&k);
}
END_TEST

START_TEST(start_repairs_indices)
{
	struct fake k;
	struct mc_filler f;

	fake_init(&k, &f, 16, 16);
	f.pattern = true;
	fake_miss(&k, 0, 1, 0, 64);
	k.ch->miss_tail = htole32(1000);	/* ahead of the kernel */
	k.ch->head = htole32(0x80000000);	/* far from cpl_tail */
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	ck_assert_uint_eq(f.ring.miss_tail, 1);
	ck_assert_uint_eq(f.ring.cpl_head, 0);
	ck_assert_uint_eq(le32toh(k.ch->head), 0);
	ck_assert_uint_eq(k.logs, 2);
	fake_free(&k);

	/* Leftover completions are kept and want a kick. */
	fake_init(&k, &f, 16, 16);
	fake_miss(&k, 0, 1, 0, 64);
	k.cpls[0].id = k.misses[0].id;
	k.ch->head = htole32(1);
	k.ch->miss_tail = htole32(1);
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	ck_assert(f.ring.unkicked);
	ck_assert_uint_eq(f.ring.cpl_head, 1);
	ck_assert_uint_eq(mc_filler_pending(&f), 0);
	fake_free(&k);
}
END_TEST

/* Garbage must all be rejected and never cost a real miss its fill. */
static void hostile_run(uint64_t seed)
{
	struct fake k;
	struct mc_filler f;
	unsigned long real = 0;
	uint64_t rng = seed;

	fake_init(&k, &f, 8, 16);
	f.pattern = true;
	f.hostile = true;
	f.seed = seed;
	f.stall = NULL;
	fake_set_base(&k, 0xffffff00);
	mc_filler_start(&f, k.mh, k.ch, k.pool);
	for (int round = 0; round < 300; round++) {
		uint32_t n = 1 + (uint32_t)(mc_rand(&rng) % 7);
		uint32_t base = (uint32_t)(round * 7) % (POOL_SLOTS - 8);

		for (uint32_t i = 0; i < n; i++)
			fake_miss(&k, base + i, 11 + i, round * 8 + i, 256);
		ck_assert_int_eq(mc_filler_batch(&f), n);
		real += n;
		/* Every real miss done exactly once, with status 0 and its data. */
		for (uint32_t i = 0; i < n; i++) {
			ck_assert_uint_eq(k.live_gen[base + i], 0);
			ck_assert_uint_eq(k.status[base + i], 0);
			assert_pattern(&k, base + i);
			k.done[base + i] = 0;
		}
		ck_assert_uint_eq(k.good, real);
		ck_assert_uint_eq(le32toh(k.ch->miss_tail), le32toh(k.mh->head));
		ck_assert_uint_eq(le32toh(k.ch->head), f.ring.cpl_head);
	}
	ck_assert_uint_gt(f.c.hostile_posted, 100);
	ck_assert_uint_gt(k.bad, 100);
	ck_assert_uint_gt(k.bad_index, 10);
	/* Each garbage entry and each index game was seen and refused. */
	ck_assert_uint_eq(k.bad + k.bad_index, f.c.hostile_posted);
	fake_free(&k);
}

START_TEST(hostile_garbage_is_harmless)
{
	hostile_run(1);
	hostile_run(0xdeadbeef);
}
END_TEST

static Suite *filler_suite(void)
{
	Suite *s = suite_create("filler");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, pattern_words);
	tcase_add_test(tc, header_checks);
	tcase_add_test(tc, batch_fills_and_kicks_once);
	tcase_add_test(tc, part_miss_filled_at_its_part);
	tcase_add_test(tc, indices_wrap);
	tcase_add_test(tc, full_completion_ring);
	tcase_add_test(tc, source_file_short_read_and_fail_every);
	tcase_add_test(tc, bad_miss_fails_only_itself);
	tcase_add_test(tc, exit_after_and_resume);
	tcase_add_test(tc, start_repairs_indices);
	tcase_add_test(tc, hostile_garbage_is_harmless);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(filler_suite());
}
