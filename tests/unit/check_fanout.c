// SPDX-License-Identifier: MIT
/*
 * Unit tests for hot-extent fan-out (peer/fanout.c): at most K sends of an
 * extent at once, finished requesters handed out as holders, the queue
 * served as places come free, and a herd of nodes spreading an extent in
 * about log_(K+1)(N) transfer times.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "fanout.h"

struct seen {
	int n;
	struct mc_flight_who who[64];
	enum mc_fanout_verdict v[64];
	struct mc_node_id holder[64];
};

static void record(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		   enum mc_fanout_verdict v, const struct mc_node_id *holder)
{
	struct seen *s = arg;

	(void)key;
	ck_assert_int_lt(s->n, 64);
	s->who[s->n] = who;
	s->v[s->n] = v;
	s->holder[s->n++] = *holder;
}

static struct mc_extent_key key(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = i };

	memset(k.blob, 7, sizeof(k.blob));
	return k;
}

static struct mc_node_id node(int n)
{
	struct mc_node_id id;

	memset(id.b, 0, sizeof(id.b));
	id.b[0] = (uint8_t)n;
	id.b[1] = (uint8_t)(n >> 8);
	return id;
}

#define SELF 99		/* the node whose table it is */

static struct mc_fanout *table_of(int self, unsigned int k, unsigned int holders,
				  unsigned int waiters, unsigned int extents)
{
	struct mc_fanout_opts o = { .self = node(self), .serve_max = k, .holders = holders,
				    .holder_ms = 1000, .lend_ms = 300, .max_waiters = waiters,
				    .max_extents = extents };
	struct mc_fanout *t;

	ck_assert_int_eq(mc_fanout_new(&t, &o), 0);
	return t;
}

static struct mc_fanout *table(unsigned int k, unsigned int holders, unsigned int waiters,
			       unsigned int extents)
{
	return table_of(SELF, k, holders, waiters, extents);
}

static int conns[8];
#define WHO(c) ((struct mc_flight_who){ .conn = &conns[c], .seq = 100 + (c) })

/* Node c asks for k over connection c. */
static int ask(struct mc_fanout *t, const struct mc_extent_key *k, int c, bool redirect,
	       uint64_t now, struct mc_node_id *h)
{
	struct mc_node_id id = node(c);

	return mc_fanout_ask(t, k, WHO(c), &id, redirect, now, h);
}

static bool is_node(const struct mc_node_id *id, int n)
{
	struct mc_node_id want = node(n);

	return !memcmp(id->b, want.b, sizeof(want.b));
}

static void have(struct mc_fanout *t, const struct mc_extent_key *k, int n, int from,
		 uint64_t now, struct seen *s)
{
	struct mc_node_id id = node(n), f = node(from);

	mc_fanout_have(t, k, &id, &f, now, record, s);
}

/* c's send ended well, and c said HAVE: a holder. */
static void ended(struct mc_fanout *t, const struct mc_extent_key *k, int c, uint64_t now,
		  struct seen *s)
{
	mc_fanout_end(t, k, WHO(c), true, now, record, s);
	have(t, k, c, SELF, now, s);
}

START_TEST(k_sends_then_holders)
{
	struct mc_fanout *t = table(2, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	ck_assert_int_eq(ask(t, &k, 1, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k, 2, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_uint_eq(mc_fanout_sending(t, &k), 2);
	/* Two sends at once, no holder yet: the third queues. */
	ck_assert_int_eq(ask(t, &k, 3, true, 0, &h), MC_FANOUT_QUEUE);
	ended(t, &k, 1, 10, &s);
	/* The place goes to node 3; node 1 is a holder now. */
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.v[0], MC_FANOUT_SERVE);
	ck_assert_ptr_eq(s.who[0].conn, &conns[3]);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 1);
	/* Node 1 takes K (2) requesters, then it is busy too. */
	ck_assert_int_eq(ask(t, &k, 4, true, 11, &h), MC_FANOUT_HOLDER);
	ck_assert(is_node(&h, 1));
	ck_assert_int_eq(ask(t, &k, 5, true, 11, &h), MC_FANOUT_HOLDER);
	ck_assert(is_node(&h, 1));
	ck_assert_int_eq(ask(t, &k, 6, true, 12, &h), MC_FANOUT_QUEUE);
	ck_assert_uint_eq(mc_fanout_sending(t, &k), 2);
	/* Node 4 has it from node 1: node 6 goes to node 1 or node 4. */
	s.n = 0;
	have(t, &k, 4, 1, 20, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 2);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.v[0], MC_FANOUT_HOLDER);
	ck_assert_ptr_eq(s.who[0].conn, &conns[6]);
	ck_assert(is_node(&s.holder[0], 1) || is_node(&s.holder[0], 4));
	ck_assert_uint_eq(mc_fanout_stats(t)->redirected, 3);
	ck_assert_uint_eq(mc_fanout_stats(t)->haves, 2);	/* node 1's and node 4's */
	mc_fanout_free(t);
}
END_TEST

START_TEST(finished_node_takes_the_queue)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	ck_assert_int_eq(ask(t, &k, 1, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k, 2, true, 0, &h), MC_FANOUT_QUEUE);
	ck_assert_int_eq(ask(t, &k, 3, true, 0, &h), MC_FANOUT_QUEUE);
	ck_assert_int_eq(ask(t, &k, 4, true, 0, &h), MC_FANOUT_QUEUE);
	mc_fanout_end(t, &k, WHO(1), true, 5, record, &s);
	/* Node 2 gets the free place; node 1 is no holder until it says HAVE. */
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.v[0], MC_FANOUT_SERVE);
	ck_assert_ptr_eq(s.who[0].conn, &conns[2]);
	have(t, &k, 1, SELF, 5, &s);
	/* Then node 3 is sent to node 1 (K = 1). */
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.v[1], MC_FANOUT_HOLDER);
	ck_assert_ptr_eq(s.who[1].conn, &conns[3]);
	ck_assert(is_node(&s.holder[1], 1));
	/* Node 4 still waits: the send to node 2 ends with an error. */
	s.n = 0;
	mc_fanout_end(t, &k, WHO(2), false, 6, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.v[0], MC_FANOUT_SERVE);
	ck_assert_ptr_eq(s.who[0].conn, &conns[4]);
	/* A failed send made no holder: node 1 is still the only one. */
	ck_assert_uint_eq(mc_fanout_stats(t)->holders_added, 1);
	mc_fanout_free(t);
}
END_TEST

/* K = 1: node 1 got k (ended at t1) and is a holder; node 2 has the place from t2 on. */
static void holder_and_busy(struct mc_fanout *t, const struct mc_extent_key *k, struct seen *s,
			    uint64_t t1, uint64_t t2)
{
	struct mc_node_id h;

	ck_assert_int_eq(ask(t, k, 1, true, 0, &h), MC_FANOUT_SERVE);
	ended(t, k, 1, t1, s);
	ck_assert_int_eq(ask(t, k, 2, true, t2, &h), MC_FANOUT_SERVE);
}

START_TEST(never_sent_to_itself)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	holder_and_busy(t, &k, &s, 1, 2);
	/* Node 1 evicted it and asks again: not sent to itself. */
	ck_assert_int_eq(ask(t, &k, 1, true, 3, &h), MC_FANOUT_QUEUE);
	/* A requester that may not be redirected waits for a place. */
	ck_assert_int_eq(ask(t, &k, 3, false, 3, &h), MC_FANOUT_QUEUE);
	ended(t, &k, 2, 4, &s);
	/* Node 1 gets the place; node 3 waits on. */
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.who[0].conn, &conns[1]);
	ck_assert_int_eq(s.v[0], MC_FANOUT_SERVE);
	mc_fanout_free(t);
}
END_TEST

START_TEST(failed_holder_is_forgotten)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	holder_and_busy(t, &k, &s, 1, 2);
	ck_assert_int_eq(ask(t, &k, 3, true, 2, &h), MC_FANOUT_HOLDER);
	ck_assert(is_node(&h, 1));
	/* Node 1 no longer had it: node 3 asks again, and is not sent back. */
	ck_assert_int_eq(ask(t, &k, 3, false, 3, &h), MC_FANOUT_QUEUE);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 0);
	ck_assert_uint_eq(mc_fanout_stats(t)->holders_dropped, 1);
	mc_fanout_free(t);
}
END_TEST

START_TEST(lends_and_holders_expire)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	holder_and_busy(t, &k, &s, 0, 10);
	ck_assert_int_eq(ask(t, &k, 3, true, 500, &h), MC_FANOUT_HOLDER);
	ck_assert_int_eq(ask(t, &k, 4, true, 600, &h), MC_FANOUT_QUEUE);
	/* Node 3 never says HAVE: lend_ms (300) on, node 1 takes node 4. */
	mc_fanout_expire(t, 799, record, &s);
	ck_assert_int_eq(s.n, 0);
	mc_fanout_expire(t, 800, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.v[0], MC_FANOUT_HOLDER);
	ck_assert_ptr_eq(s.who[0].conn, &conns[4]);
	ck_assert_uint_eq(mc_fanout_stats(t)->lends_lapsed, 1);
	/* holder_ms (1000) after it got it, node 1 is handed out no more. */
	mc_fanout_expire(t, 1000, record, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 0);
	ck_assert_int_eq(ask(t, &k, 5, true, 1001, &h), MC_FANOUT_QUEUE);
	mc_fanout_free(t);
}
END_TEST

START_TEST(have_needs_a_lend)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	ck_assert_int_eq(ask(t, &k, 1, true, 0, &h), MC_FANOUT_SERVE);
	ended(t, &k, 1, 0, &s);
	/* Nobody sent node 5 anywhere: its HAVE makes it no holder. */
	have(t, &k, 5, 1, 1, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 1);
	ck_assert_int_eq(ask(t, &k, 2, true, 2, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k, 3, true, 2, &h), MC_FANOUT_HOLDER);
	/* Sent to node 1, it claims node 4: not counted either. */
	have(t, &k, 3, 4, 3, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 1);
	have(t, &k, 3, 1, 3, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 2);
	ck_assert_uint_eq(mc_fanout_stats(t)->haves, 2);	/* node 1's and node 3's */
	mc_fanout_free(t);
}
END_TEST

START_TEST(fetcher_is_a_holder)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id fetcher = node(6), h;
	struct seen s = { 0 };

	/* Node 6 fetched it for the group: a holder once it says HAVE. */
	mc_fanout_held(t, &k, &fetcher, 0, record, &s);
	ck_assert_int_eq(s.n, 0);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 0);
	have(t, &k, 6, SELF, 0, &s);
	ck_assert_uint_eq(mc_fanout_holders(t, &k), 1);
	ck_assert_int_eq(ask(t, &k, 1, true, 1, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k, 2, true, 1, &h), MC_FANOUT_HOLDER);
	ck_assert(is_node(&h, 6));
	mc_fanout_free(t);
}
END_TEST

START_TEST(gone_and_evicted)
{
	struct mc_fanout *t = table(1, 4, 8, 8);
	struct mc_extent_key k = key(1);
	struct mc_node_id h;
	struct seen s = { 0 };

	ck_assert_int_eq(ask(t, &k, 1, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k, 2, true, 0, &h), MC_FANOUT_QUEUE);
	ck_assert_int_eq(ask(t, &k, 3, true, 0, &h), MC_FANOUT_QUEUE);
	/* Node 2's connection closed: it gets nothing. */
	mc_fanout_forget(t, &conns[2]);
	/* The extent was evicted: node 3 is told BUSY. */
	mc_fanout_forget_key(t, &k, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_ptr_eq(s.who[0].conn, &conns[3]);
	ck_assert_int_eq(s.v[0], MC_FANOUT_BUSY);
	/* An end that is no send of the table's changes nothing. */
	s.n = 0;
	mc_fanout_end(t, &k, WHO(5), true, 1, record, &s);
	ck_assert_uint_eq(mc_fanout_sending(t, &k), 1);
	mc_fanout_end(t, &k, WHO(1), true, 1, record, &s);
	ck_assert_int_eq(s.n, 0);
	ck_assert_uint_eq(mc_fanout_sending(t, &k), 0);
	mc_fanout_free(t);
}
END_TEST

START_TEST(bounded)
{
	struct mc_fanout *t = table(1, 0, 1, 2);
	struct mc_extent_key k1 = key(1), k2 = key(2), k3 = key(3);
	struct mc_fanout_opts bad = { .serve_max = 0, .holder_ms = 1, .max_waiters = 1,
				      .max_extents = 1 };
	struct mc_fanout *u;
	struct mc_node_id h;
	struct seen s = { 0 };

	ck_assert_int_eq(ask(t, &k1, 1, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_int_eq(ask(t, &k1, 2, true, 0, &h), MC_FANOUT_QUEUE);
	ck_assert_int_eq(ask(t, &k1, 3, true, 0, &h), MC_FANOUT_BUSY);
	ck_assert_int_eq(ask(t, &k2, 3, true, 0, &h), MC_FANOUT_SERVE);
	/* Both entries busy: a third extent is served, unlimited. */
	ck_assert_int_eq(ask(t, &k3, 4, true, 0, &h), MC_FANOUT_SERVE);
	ck_assert_uint_eq(mc_fanout_stats(t)->untracked, 1);
	ck_assert_uint_eq(mc_fanout_count(t), 2);
	/* With no holders kept (holders 0) a finished send makes none. */
	mc_fanout_end(t, &k2, WHO(3), true, 1, record, &s);
	ck_assert_uint_eq(mc_fanout_stats(t)->holders_added, 0);
	/* k2 is idle now and makes way for k3. */
	ck_assert_int_eq(ask(t, &k3, 5, true, 2, &h), MC_FANOUT_SERVE);
	ck_assert_uint_eq(mc_fanout_sending(t, &k3), 1);
	ck_assert_uint_eq(mc_fanout_sending(t, &k2), 0);
	ck_assert_int_eq(mc_fanout_new(&u, &bad), -EINVAL);
	bad.serve_max = 1;
	bad.holders = MC_FANOUT_HOLDERS_MAX + 1;
	ck_assert_int_eq(mc_fanout_new(&u, &bad), -EINVAL);
	mc_fanout_free(t);
}
END_TEST

/*
 * A herd: N nodes ask node 0 for an extent at once; each transfer takes one
 * round. Every node runs its own table: node 0 schedules, holders serve
 * the requesters it sends them (may_redirect false there), and every
 * receiver reports HAVE to node 0. Measured: rounds until all have it, and no node
 * ever sending more than K at once.
 */
#define HERD_N	200

struct herd {
	struct mc_fanout *t[HERD_N];
	int conn[HERD_N];		/* node i's requests are named &conn[i] */
	bool has[HERD_N];
	int from[HERD_N];		/* the node sending to i, or -1 */
	int ask_next[HERD_N];		/* the node i asks in the next round, or -1 */
	unsigned int max_sending;
};

static int id_num(const struct mc_node_id *id)
{
	return id->b[0] | id->b[1] << 8;
}

/* Verdicts for queued requesters; who.seq names the table that queued it. */
static void herd_cb(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		    enum mc_fanout_verdict v, const struct mc_node_id *holder)
{
	struct herd *h = arg;
	int i = (int)((int *)who.conn - h->conn);

	(void)key;
	if (v == MC_FANOUT_SERVE)
		h->from[i] = (int)who.seq;
	else if (v == MC_FANOUT_HOLDER)
		h->ask_next[i] = id_num(holder);
	else
		h->ask_next[i] = 0;
}

static void herd_ask(struct herd *h, const struct mc_extent_key *k, int i, int target)
{
	struct mc_flight_who who = { .conn = &h->conn[i], .seq = (uint64_t)target };
	struct mc_node_id id = node(i), holder;
	int v;

	ck_assert(h->has[target]);
	v = mc_fanout_ask(h->t[target], k, who, &id, target == 0, 0, &holder);
	ck_assert_int_ge(v, 0);
	if (v == MC_FANOUT_SERVE)
		h->from[i] = target;
	else if (v == MC_FANOUT_HOLDER)
		h->ask_next[i] = id_num(&holder);	/* asked next round: a round trip */
	else
		ck_assert_int_eq(v, MC_FANOUT_QUEUE);
}

static int herd_rounds(unsigned int k)
{
	static struct herd h;
	struct mc_extent_key key1 = key(1);
	int rounds = 0, have_it = 1;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < HERD_N; i++) {
		h.t[i] = table_of(i, k, HERD_N, HERD_N, 4);
		h.from[i] = -1;
		h.ask_next[i] = i ? 0 : -1;
	}
	h.has[0] = true;
	while (have_it < HERD_N) {
		int sending[HERD_N] = { 0 }, ending[HERD_N];

		ck_assert_int_lt(rounds, 1000);
		rounds++;
		for (int i = 1; i < HERD_N; i++) {
			int target = h.ask_next[i];

			if (target < 0 || h.has[i] || h.from[i] >= 0)
				continue;
			h.ask_next[i] = -1;
			herd_ask(&h, &key1, i, target);
		}
		for (int i = 1; i < HERD_N; i++)
			if (h.from[i] >= 0)
				sending[h.from[i]]++;
		for (int i = 0; i < HERD_N; i++)
			if ((unsigned int)sending[i] > h.max_sending)
				h.max_sending = (unsigned int)sending[i];
		/* The round's transfers end (the sends that start now are the next round's). */
		memcpy(ending, h.from, sizeof(ending));
		for (int i = 1; i < HERD_N; i++) {
			int src = ending[i];
			struct mc_node_id id = node(i), from = node(src);

			if (src < 0)
				continue;
			h.has[i] = true;
			have_it++;
			h.from[i] = -1;
			mc_fanout_end(h.t[src], &key1,
				      (struct mc_flight_who){ .conn = &h.conn[i], .seq = (uint64_t)src },
				      true, 0, herd_cb, &h);
			/* To node 0, from whoever sent it (node 0 itself too). */
			mc_fanout_have(h.t[0], &key1, &id, &from, 0, herd_cb, &h);
		}
	}
	ck_assert_uint_le(h.max_sending, k);
	ck_assert_uint_eq(mc_fanout_stats(h.t[0])->peak, k);
	for (int i = 0; i < HERD_N; i++)
		mc_fanout_free(h.t[i]);
	return rounds;
}

START_TEST(herd_spreads_like_a_tree)
{
	for (unsigned int k = 1; k <= 4; k++) {
		int rounds = herd_rounds(k), bound = 0;

		for (unsigned int reach = 1; reach < HERD_N; reach *= k + 1)
			bound++;
		/* Waiters are answered as transfers end, so a hop to a holder costs no round. */
		printf("fan-out: %d nodes, K = %u: all have it after %d rounds "
		       "(log_(K+1)(N) = %d; the owner alone: %u)\n",
		       HERD_N, k, rounds, bound, (HERD_N - 1 + k - 1) / k);
		ck_assert_int_le(rounds, bound + 1);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fanout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, k_sends_then_holders);
	tcase_add_test(tc, finished_node_takes_the_queue);
	tcase_add_test(tc, never_sent_to_itself);
	tcase_add_test(tc, failed_holder_is_forgotten);
	tcase_add_test(tc, lends_and_holders_expire);
	tcase_add_test(tc, have_needs_a_lend);
	tcase_add_test(tc, fetcher_is_a_holder);
	tcase_add_test(tc, gone_and_evicted);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, herd_spreads_like_a_tree);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
