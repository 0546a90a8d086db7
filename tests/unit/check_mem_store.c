// SPDX-License-Identifier: MIT
/*
 * Unit tests for the group's memory store (peer/mem_store.c): bytes are
 * servable only once committed good, the byte bound holds, the extent
 * served least recently goes first, and a pinned extent is never freed or
 * dropped under a sender.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "check_run.h"
#include "maicache_peer.h"
#include "mem_store.h"

#define EXT	MAICACHE_PEER_PAYLOAD_MAX

static const struct mc_extent_store_ops *ops = &mc_mem_store_ops;

static struct mc_extent_key key(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 22, .index = i };

	memset(k.blob, 9, sizeof(k.blob));
	return k;
}

/* Store extent i filled with byte b; good or not. */
static void *store(struct mc_mem_store *s, uint64_t i, uint8_t b, bool good)
{
	struct mc_extent_key k = key(i);
	void *buf = ops->reserve(s, &k, EXT);

	if (buf) {
		memset(buf, b, EXT);
		ops->commit(s, &k, buf, EXT, 0x1234 + b, good);
	}
	return buf;
}

static bool held(struct mc_mem_store *s, uint64_t i, uint8_t b)
{
	struct mc_extent_key k = key(i);
	uint32_t len, crc;
	const uint8_t *p = ops->get(s, &k, &len, &crc);
	bool ok;

	if (!p)
		return false;
	ok = len == EXT && crc == 0x1234U + b && p[0] == b && p[EXT - 1] == b;
	ops->release(s, p);
	return ok;
}

START_TEST(only_good_bytes_are_served)
{
	struct mc_mem_store *s;
	struct mc_mem_store_stats st;
	struct mc_extent_key k = key(1);
	uint32_t len, crc;
	void *buf;

	ck_assert_int_eq(mc_mem_store_new(&s, 1000), -EINVAL);
	ck_assert_int_eq(mc_mem_store_new(&s, 4ULL * EXT), 0);
	buf = ops->reserve(s, &k, EXT);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_null(ops->get(s, &k, &len, &crc));	/* reserved: not yet */
	ops->commit(s, &k, buf, EXT, 1, false);
	ck_assert_ptr_null(ops->get(s, &k, &len, &crc));
	mc_mem_store_stats(s, &st);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_ptr_nonnull(store(s, 1, 7, true));
	ck_assert(held(s, 1, 7));
	/* A newer copy replaces the old one. */
	ck_assert_ptr_nonnull(store(s, 1, 8, true));
	ck_assert(held(s, 1, 8));
	mc_mem_store_stats(s, &st);
	ck_assert_uint_eq(st.extents, 1);
	ck_assert_uint_eq(st.bytes, EXT);
	mc_mem_store_free(s);
}
END_TEST

START_TEST(bounded_least_recent_first)
{
	struct mc_mem_store *s;
	struct mc_mem_store_stats st;

	ck_assert_int_eq(mc_mem_store_new(&s, 3ULL * EXT), 0);
	store(s, 1, 1, true);
	store(s, 2, 2, true);
	store(s, 3, 3, true);
	ck_assert(held(s, 1, 1));		/* 1 is now the most recent */
	store(s, 4, 4, true);			/* 2 goes */
	ck_assert(!held(s, 2, 2));
	ck_assert(held(s, 1, 1) && held(s, 3, 3) && held(s, 4, 4));
	mc_mem_store_stats(s, &st);
	ck_assert_uint_eq(st.bytes, 3ULL * EXT);
	ck_assert_uint_eq(st.evicted, 1);
	mc_mem_store_free(s);
}
END_TEST

START_TEST(pinned_is_never_dropped)
{
	struct mc_mem_store *s;
	struct mc_mem_store_stats st;
	struct mc_extent_key k1 = key(1), k2 = key(2);
	const uint8_t *p1, *p2;
	uint32_t len, crc;

	ck_assert_int_eq(mc_mem_store_new(&s, 2ULL * EXT), 0);
	store(s, 1, 1, true);
	store(s, 2, 2, true);
	p1 = ops->get(s, &k1, &len, &crc);
	p2 = ops->get(s, &k2, &len, &crc);
	/* Both pinned: no room for a third. */
	ck_assert_ptr_null(store(s, 3, 3, true));
	mc_mem_store_stats(s, &st);
	ck_assert_uint_eq(st.full, 1);
	/* Replaced while pinned: the sender's bytes stay as they were. */
	ops->release(s, p2);
	ck_assert_ptr_nonnull(store(s, 1, 9, true));	/* 2 made room */
	ck_assert_uint_eq(p1[0], 1);
	ck_assert_uint_eq(p1[EXT - 1], 1);
	ck_assert(held(s, 1, 9));
	ops->release(s, p1);			/* the old copy is freed now */
	mc_mem_store_stats(s, &st);
	ck_assert_uint_eq(st.bytes, EXT);
	mc_mem_store_free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mem_store");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, only_good_bytes_are_served);
	tcase_add_test(tc, bounded_least_recent_first);
	tcase_add_test(tc, pinned_is_never_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
