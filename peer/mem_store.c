// SPDX-License-Identifier: MIT
/*
 * See mem_store.h. Extents hang in hash chains (by the key's placement
 * hash) and on one LRU list; reserved room is on neither until committed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "key.h"
#include "list.h"
#include "mem_store.h"

#define BUCKETS		4096	/* power of two */

struct extent {
	struct mc_list chain;		/* bucket; empty while reserved or dropped */
	struct mc_list lru;
	struct mc_extent_key key;
	uint32_t len, crc32c;
	unsigned int pins;
	bool listed;			/* in the chains and the LRU: servable */
	uint8_t data[];
};

struct mc_mem_store {
	struct mc_list buckets[BUCKETS];
	struct mc_list lru;		/* least recently served first */
	struct mc_mem_store_stats st;
};

int mc_mem_store_new(struct mc_mem_store **out, uint64_t capacity)
{
	struct mc_mem_store *s;
	size_t i;

	if (capacity < MAICACHE_PEER_PAYLOAD_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < BUCKETS; i++)
		mc_list_init(&s->buckets[i]);
	mc_list_init(&s->lru);
	s->st.capacity = capacity;
	*out = s;
	return 0;
}

static void unlist(struct mc_mem_store *s, struct extent *e)
{
	mc_list_del(&e->chain);
	mc_list_del(&e->lru);
	e->listed = false;
	s->st.extents--;
}

static void put_extent(struct mc_mem_store *s, struct extent *e)
{
	s->st.bytes -= e->len;
	free(e);
}

void mc_mem_store_free(struct mc_mem_store *s)
{
	struct extent *e, *tmp;

	if (!s)
		return;
	mc_list_for_each_safe(e, tmp, &s->lru, lru) {
		unlist(s, e);
		put_extent(s, e);
	}
	free(s);
}

static struct mc_list *bucket(struct mc_mem_store *s, const struct mc_extent_key *k)
{
	return &s->buckets[mc_extent_key_hash(k) & (BUCKETS - 1)];
}

static struct extent *find(struct mc_mem_store *s, const struct mc_extent_key *k)
{
	struct extent *e;

	mc_list_for_each(e, bucket(s, k), chain)
		if (mc_extent_key_eq(&e->key, k))
			return e;
	return NULL;
}

static struct extent *of_bytes(const void *bytes)
{
	return (struct extent *)((uint8_t *)bytes - offsetof(struct extent, data));
}

static const void *store_get(void *arg, const struct mc_extent_key *key, uint32_t *len,
			     uint32_t *crc32c)
{
	struct mc_mem_store *s = arg;
	struct extent *e = find(s, key);

	if (!e) {
		s->st.misses++;
		return NULL;
	}
	s->st.hits++;
	e->pins++;
	mc_list_del(&e->lru);
	mc_list_add_tail(&s->lru, &e->lru);
	*len = e->len;
	*crc32c = e->crc32c;
	return e->data;
}

static void store_release(void *arg, const void *bytes)
{
	struct extent *e = of_bytes(bytes);

	/* A pinned extent that was replaced or dropped is freed by its last release. */
	if (!--e->pins && !e->listed)
		put_extent(arg, e);
}

/* Drop unpinned extents, oldest first, until len more bytes fit. */
static bool make_room(struct mc_mem_store *s, uint32_t len)
{
	struct extent *e, *tmp;

	mc_list_for_each_safe(e, tmp, &s->lru, lru) {
		if (s->st.bytes + len <= s->st.capacity)
			break;
		if (e->pins)
			continue;
		unlist(s, e);
		put_extent(s, e);
		s->st.evicted++;
	}
	return s->st.bytes + len <= s->st.capacity;
}

static void *store_reserve(void *arg, const struct mc_extent_key *key, uint32_t len)
{
	struct mc_mem_store *s = arg;
	struct extent *e;

	if (!len || len > MAICACHE_PEER_PAYLOAD_MAX || !make_room(s, len)) {
		s->st.full++;
		return NULL;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return NULL;
	mc_list_init(&e->chain);
	mc_list_init(&e->lru);
	e->key = *key;
	e->len = len;
	e->pins = 0;
	e->listed = false;
	s->st.bytes += len;
	return e->data;
}

static void store_commit(void *arg, const struct mc_extent_key *key, void *buf,
			 uint32_t len, uint32_t crc32c, bool ok)
{
	struct mc_mem_store *s = arg;
	struct extent *e = of_bytes(buf), *old;

	if (!ok || len != e->len || !mc_extent_key_eq(key, &e->key)) {
		put_extent(s, e);
		return;
	}
	old = find(s, key);
	if (old) {
		unlist(s, old);
		if (!old->pins)
			put_extent(s, old);
	}
	e->crc32c = crc32c;
	e->listed = true;
	mc_list_add_tail(bucket(s, key), &e->chain);
	mc_list_add_tail(&s->lru, &e->lru);
	s->st.extents++;
	s->st.stored++;
}

const struct mc_extent_store_ops mc_mem_store_ops = {
	.get		= store_get,
	.release	= store_release,
	.reserve	= store_reserve,
	.commit		= store_commit,
};

void mc_mem_store_stats(const struct mc_mem_store *s, struct mc_mem_store_stats *out)
{
	*out = s->st;
}
