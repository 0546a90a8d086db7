// SPDX-License-Identifier: MIT
/*
 * See fanout.h. Extents sit in a hash table of lists and on one list,
 * least recently asked first, from which an idle entry (nothing sent,
 * nobody queued) is dropped to make room. Holders and lends are arrays
 * indexed by node id (idmap.h); the holders with a free place wait in a
 * queue, so a hand-out costs the same with one holder or thousands.
 * Verdicts for waiters are collected while the entry changes and given
 * out after, so a callback sees the table whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "idmap.h"

#define NBUCKETS	1024	/* a power of two */

struct fan_req {
	struct mc_flight_who who;
	struct mc_node_id node;
	bool may_redirect;
};

struct fan_holder {
	struct mc_node_id node;
	uint64_t until_ms;
	unsigned int lent;		/* requesters sent to it, not yet HAVE */
};

/* A requester sent to a holder, until it reports HAVE. */
struct fan_lend {
	struct mc_node_id node, holder;
	uint64_t until_ms;
};

struct fan_entry {
	struct mc_list link;		/* bucket */
	struct mc_list lru;
	struct mc_extent_key key;
	struct fan_req *sends;		/* serve_max places */
	unsigned int nsends;
	struct fan_req *waiters;	/* oldest first */
	unsigned int nwaiters, wcap;
	struct fan_holder *holders;
	unsigned int nholders, hcap;
	struct mc_idmap hmap;		/* holder node -> index */
	struct mc_node_id *freeq;	/* holders with a free place, in turn (a ring) */
	unsigned int fq_head, fq_n, fq_cap;
	struct fan_lend *lends;
	unsigned int nlends, lcap;
	struct mc_idmap lmap;		/* requester node -> its lend */
	uint64_t expire_ms;		/* no lend or holder ends before */
};

struct mc_fanout {
	struct mc_fanout_opts o;
	size_t count;
	struct mc_list lru;
	struct mc_list buckets[NBUCKETS];
	struct mc_fanout_stats st;
};

/* The verdicts a change gives out, once the entry is consistent. */
struct fan_verdict {
	struct mc_flight_who who;
	enum mc_fanout_verdict v;
	struct mc_node_id holder;
};

struct fan_out {
	struct fan_verdict *v;
	unsigned int n;
};

int mc_fanout_new(struct mc_fanout **out, const struct mc_fanout_opts *o)
{
	struct mc_fanout *t;

	if (!o->serve_max || o->serve_max > 1024 || o->holders > MC_FANOUT_HOLDERS_MAX ||
	    !o->holder_ms || o->holder_ms > 600000 || !o->lend_ms || o->lend_ms > 600000 ||
	    !o->max_waiters || !o->max_extents)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->o = *o;
	mc_list_init(&t->lru);
	for (size_t i = 0; i < NBUCKETS; i++)
		mc_list_init(&t->buckets[i]);
	*out = t;
	return 0;
}

static void entry_free(struct mc_fanout *t, struct fan_entry *e)
{
	mc_list_del(&e->link);
	mc_list_del(&e->lru);
	free(e->sends);
	free(e->waiters);
	free(e->holders);
	free(e->lends);
	free(e->freeq);
	mc_idmap_free(&e->hmap);
	mc_idmap_free(&e->lmap);
	free(e);
	t->count--;
}

void mc_fanout_free(struct mc_fanout *t)
{
	struct fan_entry *e, *tmp;

	if (!t)
		return;
	mc_list_for_each_safe(e, tmp, &t->lru, lru)
		entry_free(t, e);
	free(t);
}

static struct mc_list *bucket(const struct mc_fanout *t, const struct mc_extent_key *k)
{
	return (struct mc_list *)&t->buckets[mc_extent_key_hash(k) & (NBUCKETS - 1)];
}

static struct fan_entry *find(const struct mc_fanout *t, const struct mc_extent_key *k)
{
	struct fan_entry *e;

	mc_list_for_each(e, bucket(t, k), link)
		if (mc_extent_key_eq(&e->key, k))
			return e;
	return NULL;
}

static bool same_node(const struct mc_node_id *a, const struct mc_node_id *b)
{
	return !memcmp(a->b, b->b, sizeof(a->b));
}

/* Grow *arr (of *cap elements of size) to hold one more; false: no memory. */
static bool grow(void **arr, unsigned int *cap, unsigned int n, size_t size)
{
	unsigned int c = *cap ? *cap * 2 : 4;
	void *p;

	if (n < *cap)
		return true;
	p = realloc(*arr, c * size);
	if (!p)
		return false;
	*arr = p;
	*cap = c;
	return true;
}

/* Room for one more entry: the least recently asked idle one goes. */
static bool make_room(struct mc_fanout *t)
{
	struct fan_entry *e;

	if (t->count < t->o.max_extents)
		return true;
	mc_list_for_each(e, &t->lru, lru) {
		/* Lends do not keep it: their HAVEs then count for nothing. */
		if (!e->nsends && !e->nwaiters) {
			entry_free(t, e);
			return true;
		}
	}
	return false;
}

static struct fan_entry *entry_new(struct mc_fanout *t, const struct mc_extent_key *k)
{
	struct fan_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->sends = calloc(t->o.serve_max, sizeof(*e->sends));
	if (!e->sends) {
		free(e);
		return NULL;
	}
	e->key = *k;
	e->expire_ms = UINT64_MAX;
	mc_list_add_tail(bucket(t, k), &e->link);
	mc_list_add_tail(&t->lru, &e->lru);
	t->count++;
	return e;
}

/* The free-place queue: a ring that grows (a stale entry is skipped when popped). */
static void fq_push(struct fan_entry *e, const struct mc_node_id *node)
{
	if (e->fq_n == e->fq_cap) {
		unsigned int cap = e->fq_cap ? e->fq_cap * 2 : 8;
		struct mc_node_id *q = malloc(cap * sizeof(*q));

		if (!q)
			return;		/* that holder is not handed out again */
		for (unsigned int i = 0; i < e->fq_n; i++)
			q[i] = e->freeq[(e->fq_head + i) % e->fq_cap];
		free(e->freeq);
		e->freeq = q;
		e->fq_cap = cap;
		e->fq_head = 0;
	}
	e->freeq[(e->fq_head + e->fq_n++) % e->fq_cap] = *node;
}

static struct mc_node_id fq_pop(struct fan_entry *e)
{
	struct mc_node_id id = e->freeq[e->fq_head];

	e->fq_head = (e->fq_head + 1) % e->fq_cap;
	e->fq_n--;
	return id;
}

static void note_expiry(struct fan_entry *e, uint64_t until_ms)
{
	if (until_ms < e->expire_ms)
		e->expire_ms = until_ms;
}

static struct fan_holder *holder_of(struct fan_entry *e, const struct mc_node_id *node)
{
	int64_t i = mc_idmap_get(&e->hmap, node);

	return i < 0 ? NULL : &e->holders[i];
}

static void drop_holder(struct mc_fanout *t, struct fan_entry *e, struct fan_holder *h)
{
	unsigned int i = (unsigned int)(h - e->holders), last = --e->nholders;

	mc_idmap_del(&e->hmap, &h->node);
	if (i != last) {
		e->holders[i] = e->holders[last];
		/* Only changes an index that is there: cannot fail. */
		mc_idmap_put(&e->hmap, &e->holders[i].node, i);
	}
	t->st.holders_dropped++;
}

static void add_holder(struct mc_fanout *t, struct fan_entry *e, const struct mc_node_id *node,
		       uint64_t now_ms)
{
	struct fan_holder *h = holder_of(e, node);

	if (!h) {
		if (e->nholders >= t->o.holders ||
		    !grow((void **)&e->holders, &e->hcap, e->nholders, sizeof(*h)) ||
		    mc_idmap_put(&e->hmap, node, e->nholders))
			return;
		h = &e->holders[e->nholders++];
		h->node = *node;
		h->lent = 0;
		fq_push(e, node);
		t->st.holders_added++;
	}
	h->until_ms = now_ms + t->o.holder_ms;
	note_expiry(e, h->until_ms);
}

/* End lend i; its holder gets the place back (failed: the holder goes). */
static void end_lend(struct mc_fanout *t, struct fan_entry *e, unsigned int i, bool failed)
{
	struct fan_holder *h = holder_of(e, &e->lends[i].holder);
	unsigned int last = --e->nlends;

	if (h && failed) {
		drop_holder(t, e, h);
	} else if (h && h->lent) {
		/* Full until now: back in the queue. */
		if (h->lent-- == t->o.serve_max)
			fq_push(e, &h->node);
	}
	mc_idmap_del(&e->lmap, &e->lends[i].node);
	if (i != last) {
		e->lends[i] = e->lends[last];
		mc_idmap_put(&e->lmap, &e->lends[i].node, i);
	}
}

static int lend_of(const struct fan_entry *e, const struct mc_node_id *node)
{
	return (int)mc_idmap_get(&e->lmap, node);
}

static void expire_entry(struct mc_fanout *t, struct fan_entry *e, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	unsigned int i = 0;

	if (now_ms < e->expire_ms)
		return;
	while (i < e->nlends) {
		if (e->lends[i].until_ms > now_ms) {
			if (e->lends[i].until_ms < next)
				next = e->lends[i].until_ms;
			i++;
			continue;
		}
		end_lend(t, e, i, false);
		t->st.lends_lapsed++;
	}
	i = 0;
	while (i < e->nholders) {
		if (e->holders[i].until_ms <= now_ms) {
			drop_holder(t, e, &e->holders[i]);
			continue;
		}
		if (e->holders[i].until_ms < next)
			next = e->holders[i].until_ms;
		i++;
	}
	e->expire_ms = next;
}

/* node is lent to holder (or to this node itself) until lend_ms from now. */
static bool add_lend(struct mc_fanout *t, struct fan_entry *e, const struct mc_node_id *node,
		     const struct mc_node_id *holder, uint64_t now_ms)
{
	int l = lend_of(e, node);
	struct fan_lend *nl;

	if (l >= 0)
		end_lend(t, e, (unsigned int)l, false);	/* the latest counts */
	if (!grow((void **)&e->lends, &e->lcap, e->nlends, sizeof(*e->lends)) ||
	    mc_idmap_put(&e->lmap, node, e->nlends))
		return false;
	nl = &e->lends[e->nlends++];
	*nl = (struct fan_lend){ .node = *node, .holder = *holder,
				 .until_ms = now_ms + t->o.lend_ms };
	note_expiry(e, nl->until_ms);
	return true;
}

/*
 * The next holder in turn with a free place that is not node, lent to node
 * until lend_ms from now; false with none (or no memory for the lend).
 */
static bool lend(struct mc_fanout *t, struct fan_entry *e, const struct mc_node_id *node,
		 uint64_t now_ms, struct mc_node_id *out)
{
	for (unsigned int tries = e->fq_n; tries && e->fq_n; tries--) {
		struct mc_node_id id = fq_pop(e);
		struct fan_holder *h = holder_of(e, &id);

		if (!h || h->lent >= t->o.serve_max)
			continue;	/* gone, or full: stale */
		if (same_node(&h->node, node)) {
			fq_push(e, &id);
			continue;
		}
		if (!add_lend(t, e, node, &h->node, now_ms)) {
			fq_push(e, &id);
			return false;
		}
		if (++h->lent < t->o.serve_max)
			fq_push(e, &id);
		*out = h->node;
		t->st.redirected++;
		return true;
	}
	return false;
}

static bool serve_place(struct mc_fanout *t, struct fan_entry *e, const struct fan_req *r)
{
	if (e->nsends >= t->o.serve_max)
		return false;
	e->sends[e->nsends++] = *r;
	t->st.served++;
	if (e->nsends > t->st.peak)
		t->st.peak = e->nsends;
	return true;
}

int mc_fanout_ask(struct mc_fanout *t, const struct mc_extent_key *key,
		  struct mc_flight_who who, const struct mc_node_id *node,
		  bool may_redirect, uint64_t now_ms, struct mc_node_id *holder)
{
	struct fan_req r = { .who = who, .node = *node, .may_redirect = may_redirect };
	struct fan_entry *e = find(t, key);
	int l;

	if (!e) {
		e = make_room(t) ? entry_new(t, key) : NULL;
		if (!e) {
			/* Every entry busy (or no memory): served, unlimited. */
			t->st.untracked++;
			t->st.served++;	/* the peak is of tracked sends only */
			return MC_FANOUT_SERVE;
		}
	}
	mc_list_del(&e->lru);
	mc_list_add_tail(&t->lru, &e->lru);
	expire_entry(t, e, now_ms);
	/* Asked again: the holder it was sent to failed it (or it gave up). */
	l = lend_of(e, node);
	if (l >= 0)
		end_lend(t, e, (unsigned int)l, !may_redirect);
	if (serve_place(t, e, &r))
		return MC_FANOUT_SERVE;
	if (may_redirect && lend(t, e, node, now_ms, holder))
		return MC_FANOUT_HOLDER;
	if (e->nwaiters >= t->o.max_waiters) {
		t->st.busy++;
		return MC_FANOUT_BUSY;
	}
	if (!grow((void **)&e->waiters, &e->wcap, e->nwaiters, sizeof(r)))
		return -ENOMEM;
	e->waiters[e->nwaiters++] = r;
	t->st.queued++;
	return MC_FANOUT_QUEUE;
}

/* Take waiter i out of the queue, keeping the order. */
static struct fan_req take_waiter(struct fan_entry *e, unsigned int i)
{
	struct fan_req r = e->waiters[i];

	memmove(&e->waiters[i], &e->waiters[i + 1], (e->nwaiters - i - 1) * sizeof(r));
	e->nwaiters--;
	return r;
}

/* Waiters get free places, then free holders, oldest first, into out. */
static void dispatch(struct mc_fanout *t, struct fan_entry *e, uint64_t now_ms,
		     struct fan_out *out)
{
	unsigned int i = 0;

	if (!e->nwaiters)
		return;
	out->v = calloc(e->nwaiters, sizeof(*out->v));
	if (!out->v)
		return;		/* they time out and ask again */
	while (i < e->nwaiters) {
		struct fan_verdict *v = &out->v[out->n];
		struct fan_req *w = &e->waiters[i];

		if (serve_place(t, e, w)) {
			*v = (struct fan_verdict){ .who = w->who, .v = MC_FANOUT_SERVE };
		} else if (!e->fq_n) {
			break;		/* no place and no free holder: nothing to give */
		} else if (w->may_redirect && lend(t, e, &w->node, now_ms, &v->holder)) {
			v->who = w->who;
			v->v = MC_FANOUT_HOLDER;
		} else {
			i++;
			continue;
		}
		out->n++;
		take_waiter(e, i);
	}
}

static void give_out(const struct mc_extent_key *key, struct fan_out *out, mc_fanout_cb cb,
		     void *arg)
{
	struct mc_extent_key k = *key;	/* the entry may go in a callback */

	for (unsigned int i = 0; i < out->n; i++)
		cb(arg, &k, out->v[i].who, out->v[i].v, &out->v[i].holder);
	free(out->v);
}

void mc_fanout_end(struct mc_fanout *t, const struct mc_extent_key *key,
		   struct mc_flight_who who, bool ok, uint64_t now_ms,
		   mc_fanout_cb cb, void *arg)
{
	struct fan_entry *e = find(t, key);
	struct fan_out out = { 0 };
	unsigned int i;

	if (!e)
		return;
	for (i = 0; i < e->nsends; i++)
		if (e->sends[i].who.conn == who.conn && e->sends[i].who.seq == who.seq)
			break;
	if (i == e->nsends)
		return;		/* not a send of this table's (untracked) */
	expire_entry(t, e, now_ms);
	/* A holder once it says so: its own kernel serves the bytes by then. */
	if (ok)
		add_lend(t, e, &e->sends[i].node, &t->o.self, now_ms);
	e->sends[i] = e->sends[--e->nsends];
	dispatch(t, e, now_ms, &out);
	give_out(key, &out, cb, arg);
}

void mc_fanout_have(struct mc_fanout *t, const struct mc_extent_key *key,
		    const struct mc_node_id *node, const struct mc_node_id *from,
		    uint64_t now_ms, mc_fanout_cb cb, void *arg)
{
	struct fan_entry *e = find(t, key);
	struct fan_out out = { 0 };
	int l;

	if (!e)
		return;
	expire_entry(t, e, now_ms);
	l = lend_of(e, node);
	/* Only a lend makes a HAVE count: nobody adds itself unasked. */
	if (l < 0 || !same_node(&e->lends[l].holder, from))
		return;
	end_lend(t, e, (unsigned int)l, false);
	add_holder(t, e, node, now_ms);
	t->st.haves++;
	dispatch(t, e, now_ms, &out);
	give_out(key, &out, cb, arg);
}

void mc_fanout_held(struct mc_fanout *t, const struct mc_extent_key *key,
		    const struct mc_node_id *node, uint64_t now_ms, mc_fanout_cb cb, void *arg)
{
	struct fan_entry *e = find(t, key);
	struct fan_out out = { 0 };

	if (!e) {
		e = make_room(t) ? entry_new(t, key) : NULL;
		if (!e)
			return;
	}
	expire_entry(t, e, now_ms);
	add_lend(t, e, node, &t->o.self, now_ms);
	dispatch(t, e, now_ms, &out);
	give_out(key, &out, cb, arg);
}

void mc_fanout_expire(struct mc_fanout *t, uint64_t now_ms, mc_fanout_cb cb, void *arg)
{
	struct fan_entry *e;
	struct mc_extent_key *keys = NULL;
	struct fan_out *outs = NULL;
	size_t n = 0, cap = 0, i;

	/* Verdicts are given out after the walk: a callback may drop entries. */
	mc_list_for_each(e, &t->lru, lru) {
		unsigned int lends = e->nlends;

		expire_entry(t, e, now_ms);
		if (e->nlends == lends || !e->nwaiters)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 8;
			struct mc_extent_key *k = realloc(keys, c * sizeof(*k));
			struct fan_out *o = k ? realloc(outs, c * sizeof(*o)) : NULL;

			if (k)
				keys = k;
			if (!o)
				break;	/* no memory: they time out and ask again */
			outs = o;
			cap = c;
		}
		keys[n] = e->key;
		outs[n] = (struct fan_out){ 0 };
		dispatch(t, e, now_ms, &outs[n++]);
	}
	for (i = 0; i < n; i++)
		give_out(&keys[i], &outs[i], cb, arg);
	free(keys);
	free(outs);
}

void mc_fanout_forget(struct mc_fanout *t, void *conn)
{
	struct fan_entry *e;

	mc_list_for_each(e, &t->lru, lru) {
		unsigned int i = 0;

		while (i < e->nwaiters) {
			if (e->waiters[i].who.conn == conn)
				take_waiter(e, i);
			else
				i++;
		}
	}
}

void mc_fanout_forget_key(struct mc_fanout *t, const struct mc_extent_key *key,
			  mc_fanout_cb cb, void *arg)
{
	struct fan_entry *e = find(t, key);
	struct fan_out out = { 0 };

	if (!e)
		return;
	t->st.holders_dropped += e->nholders;
	e->nholders = 0;
	e->nlends = 0;
	e->fq_n = 0;
	mc_idmap_clear(&e->hmap);
	mc_idmap_clear(&e->lmap);
	out.v = e->nwaiters ? calloc(e->nwaiters, sizeof(*out.v)) : NULL;
	for (unsigned int i = 0; out.v && i < e->nwaiters; i++)
		out.v[out.n++] = (struct fan_verdict){ .who = e->waiters[i].who,
						       .v = MC_FANOUT_BUSY };
	e->nwaiters = 0;
	give_out(key, &out, cb, arg);
}

unsigned int mc_fanout_sending(const struct mc_fanout *t, const struct mc_extent_key *key)
{
	const struct fan_entry *e = find(t, key);

	return e ? e->nsends : 0;
}

unsigned int mc_fanout_holders(const struct mc_fanout *t, const struct mc_extent_key *key)
{
	const struct fan_entry *e = find(t, key);

	return e ? e->nholders : 0;
}

size_t mc_fanout_count(const struct mc_fanout *t)
{
	return t->count;
}

const struct mc_fanout_stats *mc_fanout_stats(const struct mc_fanout *t)
{
	return &t->st;
}
