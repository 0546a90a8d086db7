// SPDX-License-Identifier: MIT
/*
 * See flight.h. Extents in flight sit in a hash table of lists; each keeps
 * its fetcher, the lease end and its waiters, oldest first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flight.h"

#define NBUCKETS	1024	/* a power of two */

struct flight {
	struct mc_list link;		/* bucket */
	struct mc_extent_key key;
	struct mc_flight_who fetcher;
	uint64_t lease_end_ms;
	struct mc_flight_who *waiters;	/* oldest first */
	unsigned int nwaiters, cap;
};

struct mc_flight {
	struct mc_flight_opts o;
	size_t count;
	struct mc_list buckets[NBUCKETS];
};

int mc_flight_new(struct mc_flight **out, const struct mc_flight_opts *o)
{
	struct mc_flight *t;

	if (!o->lease_ms || o->lease_ms > 600000 || !o->max_waiters || !o->max_extents)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->o = *o;
	for (size_t i = 0; i < NBUCKETS; i++)
		mc_list_init(&t->buckets[i]);
	*out = t;
	return 0;
}

static void flight_free(struct mc_flight *t, struct flight *f)
{
	mc_list_del(&f->link);
	free(f->waiters);
	free(f);
	t->count--;
}

void mc_flight_free(struct mc_flight *t)
{
	struct flight *f, *tmp;

	if (!t)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		mc_list_for_each_safe(f, tmp, &t->buckets[i], link)
			flight_free(t, f);
	free(t);
}

static struct mc_list *bucket(const struct mc_flight *t, const struct mc_extent_key *k)
{
	return (struct mc_list *)&t->buckets[mc_extent_key_hash(k) & (NBUCKETS - 1)];
}

static struct flight *find(const struct mc_flight *t, const struct mc_extent_key *k)
{
	struct flight *f;

	mc_list_for_each(f, bucket(t, k), link)
		if (mc_extent_key_eq(&f->key, k))
			return f;
	return NULL;
}

static int same(struct mc_flight_who a, struct mc_flight_who b)
{
	return a.conn == b.conn && a.seq == b.seq;
}

bool mc_flight_is_fetcher(const struct mc_flight *t, const struct mc_extent_key *key,
			  struct mc_flight_who who)
{
	const struct flight *f = find(t, key);

	return f && same(f->fetcher, who);
}

int mc_flight_ask(struct mc_flight *t, const struct mc_extent_key *key,
		  struct mc_flight_who who, uint64_t now_ms)
{
	struct flight *f = find(t, key);

	if (!f) {
		if (t->count >= t->o.max_extents)
			return MC_FLIGHT_BUSY;
		f = calloc(1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		f->key = *key;
		f->fetcher = who;
		f->lease_end_ms = now_ms + t->o.lease_ms;
		mc_list_add_tail(bucket(t, key), &f->link);
		t->count++;
		return MC_FLIGHT_FETCH;
	}
	if (f->nwaiters >= t->o.max_waiters)
		return MC_FLIGHT_BUSY;
	if (f->nwaiters == f->cap) {
		unsigned int cap = f->cap ? f->cap * 2 : 4;
		struct mc_flight_who *w = realloc(f->waiters, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		f->waiters = w;
		f->cap = cap;
	}
	f->waiters[f->nwaiters++] = who;
	return MC_FLIGHT_WAIT;
}

/* The turn of f passes to its oldest waiter; f goes when none is left. */
static void pass_turn(struct mc_flight *t, struct flight *f, uint64_t now_ms,
		      mc_flight_cb cb, void *arg)
{
	struct mc_extent_key key = f->key;

	if (!f->nwaiters) {
		flight_free(t, f);
		return;
	}
	f->fetcher = f->waiters[0];
	memmove(f->waiters, f->waiters + 1, --f->nwaiters * sizeof(*f->waiters));
	f->lease_end_ms = now_ms + t->o.lease_ms;
	cb(arg, &key, f->fetcher, MC_FLIGHT_FETCH);
}

int mc_flight_done(struct mc_flight *t, const struct mc_extent_key *key,
		   struct mc_flight_who who, int ok, uint64_t now_ms,
		   mc_flight_cb cb, void *arg)
{
	struct flight *f = find(t, key);
	struct mc_flight_who *w;
	unsigned int n;

	if (!f || !same(f->fetcher, who))
		return -ESRCH;
	if (!ok) {
		pass_turn(t, f, now_ms, cb, arg);
		return 0;
	}
	/* Callbacks may ask again: take the waiters out first. */
	w = f->waiters;
	n = f->nwaiters;
	f->waiters = NULL;
	f->nwaiters = f->cap = 0;
	flight_free(t, f);
	for (unsigned int i = 0; i < n; i++)
		cb(arg, key, w[i], MC_FLIGHT_SERVE);
	free(w);
	return 0;
}

void mc_flight_expire(struct mc_flight *t, uint64_t now_ms, mc_flight_cb cb,
		      void *arg)
{
	struct flight *f, *tmp;

	for (size_t i = 0; i < NBUCKETS; i++)
		mc_list_for_each_safe(f, tmp, &t->buckets[i], link)
			if (f->lease_end_ms <= now_ms)
				pass_turn(t, f, now_ms, cb, arg);
}

void mc_flight_forget(struct mc_flight *t, void *conn, uint64_t now_ms,
		      mc_flight_cb cb, void *arg)
{
	struct flight *f, *tmp;
	unsigned int i, kept;

	for (size_t b = 0; b < NBUCKETS; b++) {
		mc_list_for_each_safe(f, tmp, &t->buckets[b], link) {
			for (i = kept = 0; i < f->nwaiters; i++)
				if (f->waiters[i].conn != conn)
					f->waiters[kept++] = f->waiters[i];
			f->nwaiters = kept;
			if (f->fetcher.conn == conn)
				pass_turn(t, f, now_ms, cb, arg);
		}
	}
}

size_t mc_flight_count(const struct mc_flight *t)
{
	return t->count;
}

uint64_t mc_flight_next_deadline(const struct mc_flight *t)
{
	uint64_t next = UINT64_MAX;
	const struct flight *f;

	for (size_t i = 0; i < NBUCKETS; i++)
		mc_list_for_each(f, &t->buckets[i], link)
			if (f->lease_end_ms < next)
				next = f->lease_end_ms;
	return next;
}
