// SPDX-License-Identifier: MIT
/*
 * maicached's miss-ring client against plain memory standing in for the
 * kernel: misses copied out in order, completions in any order, a full
 * completion ring backs up without losing or reordering anything, one kick
 * per flush, and indices left by a crashed daemon repaired.
 */
#include <check.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "miss_ring.h"
#include "check_run.h"

#define MISS_N 8
#define CPL_N 4

struct fake {
	uint8_t miss[MAICACHE_RING_ENTRIES_OFF + MISS_N * sizeof(struct maicache_miss)];
	uint8_t cpl[MAICACHE_RING_ENTRIES_OFF + CPL_N * sizeof(struct maicache_cpl)];
	uint8_t pool[65536];
	uint32_t khead;		/* kernel's miss head */
	uint32_t kcpl_tail;	/* kernel's completion tail */
	uint64_t seen[64];	/* completions the "kernel" consumed */
	unsigned int nseen;
	unsigned int kicks;
};

static struct fake *fk;

static struct maicache_miss_hdr *mhdr(void)
{
	return (struct maicache_miss_hdr *)fk->miss;
}

static struct maicache_cpl_hdr *chdr(void)
{
	return (struct maicache_cpl_hdr *)fk->cpl;
}

static void kernel_post(uint64_t id, uint64_t cookie, uint64_t extent)
{
	struct maicache_miss *m = (void *)(fk->miss + MAICACHE_RING_ENTRIES_OFF);
	struct maicache_miss *e = &m[fk->khead & (MISS_N - 1)];

	e->id = htole64(id);
	e->cookie = htole64(cookie);
	e->extent = htole64(extent);
	e->slot_off = htole64(4096);
	e->len = htole32(512);
	e->extent_shift = htole32(16);
	e->dev_id = htole32(3);
	fk->khead++;
	mhdr()->head = htole32(fk->khead);
}

/* The kernel side of a kick: consume completions up to cpl.head. */
static int fake_kick(struct mc_miss_ring *r)
{
	struct maicache_cpl *c = (void *)(fk->cpl + MAICACHE_RING_ENTRIES_OFF);
	uint32_t head = le32toh(chdr()->head);

	(void)r;
	fk->kicks++;
	while (fk->kcpl_tail != head) {
		ck_assert_uint_lt(fk->nseen, 64);
		fk->seen[fk->nseen++] = le64toh(c[fk->kcpl_tail & (CPL_N - 1)].id);
		fk->kcpl_tail++;
	}
	mhdr()->cpl_tail = htole32(fk->kcpl_tail);
	return 0;
}

static void setup(void)
{
	fk = calloc(1, sizeof(*fk));
	mhdr()->magic = htole32(MAICACHE_RING_MAGIC);
	mhdr()->version = htole32(MAICACHE_RING_VERSION);
	mhdr()->miss_entries = htole32(MISS_N);
	mhdr()->cpl_entries = htole32(CPL_N);
	mhdr()->pool_size = htole64(sizeof(fk->pool));
}

static void teardown(void)
{
	free(fk);
}

static void start(struct mc_miss_ring *r)
{
	memset(r, 0, sizeof(*r));
	r->kick = fake_kick;
	mc_miss_ring_start(r, fk->miss, fk->cpl, fk->pool);
}

START_TEST(pop_in_order_and_give_entries_back)
{
	struct mc_miss_ring r;
	struct mc_miss m;

	start(&r);
	ck_assert(!mc_miss_ring_pop(&r, &m));
	kernel_post(0x100000001ULL, 0xabc, 7);
	kernel_post(0x100000002ULL, 0xabc, 8);
	/* The second names a part. */
	((struct maicache_miss *)(fk->miss + MAICACHE_RING_ENTRIES_OFF))[1].flags =
		htole32(MAICACHE_MISS_PART);
	ck_assert(mc_miss_ring_has_misses(&r));
	ck_assert(mc_miss_ring_pop(&r, &m));
	ck_assert_uint_eq(m.id, 0x100000001ULL);
	ck_assert_uint_eq(m.cookie, 0xabc);
	ck_assert_uint_eq(m.extent, 7);
	ck_assert_uint_eq(m.slot_off, 4096);
	ck_assert_uint_eq(m.len, 512);
	ck_assert_uint_eq(m.extent_shift, 16);
	ck_assert_uint_eq(m.dev_id, 3);
	ck_assert_uint_eq(m.flags, 0);
	/* The entry is given back as soon as it is copied. */
	ck_assert_uint_eq(le32toh(chdr()->miss_tail), 1);
	ck_assert(mc_miss_ring_pop(&r, &m));
	ck_assert_uint_eq(m.extent, 8);
	ck_assert_uint_eq(m.flags, MAICACHE_MISS_PART);
	ck_assert(!mc_miss_ring_pop(&r, &m));
	ck_assert(!mc_miss_ring_has_misses(&r));
	mc_miss_ring_free(&r);
}
END_TEST

START_TEST(completions_any_order_one_kick_per_flush)
{
	struct mc_miss_ring r;

	start(&r);
	ck_assert_int_eq(mc_miss_ring_flush(&r), 0);
	ck_assert_uint_eq(fk->kicks, 0);	/* nothing to say: no kick */
	mc_miss_ring_complete(&r, 30, 0);
	mc_miss_ring_complete(&r, 10, 5);
	ck_assert_uint_eq(fk->kicks, 0);	/* nothing visible before flush */
	ck_assert_uint_eq(le32toh(chdr()->head), 0);
	ck_assert_int_eq(mc_miss_ring_flush(&r), 0);
	ck_assert_uint_eq(fk->kicks, 1);
	ck_assert_uint_eq(fk->nseen, 2);
	ck_assert_uint_eq(fk->seen[0], 30);
	ck_assert_uint_eq(fk->seen[1], 10);
	mc_miss_ring_free(&r);
}
END_TEST

START_TEST(full_ring_backs_up_in_order)
{
	struct mc_miss_ring r;
	unsigned int i;

	start(&r);
	/* Three ringfuls and a bit: one flush, a kick per ringful. */
	for (i = 0; i < 3 * CPL_N + 1; i++)
		ck_assert_int_eq(mc_miss_ring_complete(&r, 1000 + i, 0), 0);
	ck_assert_uint_eq(r.nbacklog, 3 * CPL_N + 1 - CPL_N);
	ck_assert_int_eq(mc_miss_ring_flush(&r), 0);
	ck_assert_uint_eq(r.nbacklog, 0);
	ck_assert_uint_eq(fk->kicks, 4);
	ck_assert_uint_eq(fk->nseen, 3 * CPL_N + 1);
	for (i = 0; i < fk->nseen; i++)
		ck_assert_uint_eq(fk->seen[i], 1000 + i);
	ck_assert_uint_ge(r.ring_full, 1);
	mc_miss_ring_free(&r);
}
END_TEST

START_TEST(restart_takes_over_indices)
{
	struct mc_miss_ring r;
	struct mc_miss m;

	start(&r);
	kernel_post(1, 1, 1);
	kernel_post(2, 1, 2);
	ck_assert(mc_miss_ring_pop(&r, &m));
	mc_miss_ring_complete(&r, 1, 0);
	/* Published, never kicked: the next daemon owes the kick. */
	chdr()->head = htole32(r.cpl_head);
	mc_miss_ring_free(&r);

	start(&r);
	ck_assert_uint_eq(r.resyncs, 0);
	ck_assert(r.unkicked);
	ck_assert(mc_miss_ring_pop(&r, &m));
	ck_assert_uint_eq(m.id, 2);
	ck_assert_int_eq(mc_miss_ring_flush(&r), 0);
	ck_assert_uint_eq(fk->nseen, 1);
	ck_assert_uint_eq(fk->seen[0], 1);
	mc_miss_ring_free(&r);
}
END_TEST

START_TEST(garbage_indices_repaired)
{
	struct mc_miss_ring r;
	struct mc_miss m;

	kernel_post(1, 1, 1);
	chdr()->miss_tail = htole32(0x80000000U);
	chdr()->head = htole32(0x40000000U);
	start(&r);
	ck_assert_uint_eq(r.resyncs, 2);
	ck_assert_uint_eq(r.miss_tail, fk->khead);
	ck_assert_uint_eq(r.cpl_head, fk->kcpl_tail);
	ck_assert(!mc_miss_ring_pop(&r, &m));
	/* A head more than a ring ahead is never read as entries. */
	fk->khead += 100;
	mhdr()->head = htole32(fk->khead);
	ck_assert(!mc_miss_ring_pop(&r, &m));
	ck_assert_uint_eq(r.miss_tail, fk->khead);
	ck_assert_uint_eq(r.resyncs, 3);
	mc_miss_ring_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("miss_ring");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pop_in_order_and_give_entries_back);
	tcase_add_test(tc, completions_any_order_one_kick_per_flush);
	tcase_add_test(tc, full_ring_backs_up_in_order);
	tcase_add_test(tc, restart_takes_over_indices);
	tcase_add_test(tc, garbage_indices_repaired);
	suite_add_tcase(s, tc);
	return mc_check_run(s);
}
