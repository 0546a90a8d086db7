// SPDX-License-Identifier: MIT
/*
 * Unit tests for the requester's side (peer/client.c) against the owner's
 * side (peer/server.c) and two bad members, over loopback TCP: a turn is
 * fetched from the source and handed to the owner; the next requester gets
 * the owner's bytes; wrong bytes, a silent member and a missing connection
 * cost a step in the placement order, never a wrong byte or an error.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "client.h"
#include "crc.h"
#include "peer_fixture.h"
#include "server.h"

#define LEN 65536

static struct mc_loop *loop;
static struct mc_group group;
static char dir[64];
static uint8_t data[LEN], garbage[LEN];

#define RUN_UNTIL(cond) do {						\
	uint64_t end_ = mc_now_ms() + 5000;				\
	while (!(cond) && mc_now_ms() < end_)				\
		ck_assert_int_ge(mc_loop_run_once(loop, 20), 0);	\
	ck_assert_msg((cond), "timed out waiting for " #cond);		\
} while (0)

/* ---- the owner's store ---- */

static struct {
	struct mc_extent_key key[8];
	uint8_t *bytes[8];
	int n;
} st;

static const void *s_get(void *arg, const struct mc_extent_key *k, uint32_t *len, uint32_t *crc)
{
	(void)arg;
	for (int i = 0; i < st.n; i++)
		if (mc_extent_key_eq(&st.key[i], k)) {
			*len = LEN;
			*crc = mc_crc32c(st.bytes[i], LEN);
			return st.bytes[i];
		}
	return NULL;
}

static void s_release(void *arg, const void *b) { (void)arg; (void)b; }

static void *s_reserve(void *arg, const struct mc_extent_key *k, uint32_t len)
{
	(void)arg;
	(void)k;
	return malloc(len);
}

static void s_commit(void *arg, const struct mc_extent_key *k, void *buf, uint32_t len,
		     uint32_t crc, bool ok)
{
	(void)arg;
	(void)len;
	(void)crc;
	if (!ok) {
		free(buf);
		return;
	}
	st.key[st.n] = *k;
	st.bytes[st.n++] = buf;
}

static const struct mc_extent_store_ops store_ops = { s_get, s_release, s_reserve, s_commit };

/* ---- the members: an owner (a real server), one that lies, one that is silent ---- */

enum { OWNER, LIAR, SILENT, SENDER, NMEMBERS };
static struct mc_node_id ids[NMEMBERS];
static struct mc_placement place;
static struct mc_peer_server *srv;
static struct mc_peer_conn *to[NMEMBERS];	/* the requester's connections */
static bool have_conn[NMEMBERS];

static void liar_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct mc_peer_msg d = { .type = MAICACHE_PEER_DATA, .seq = m->seq };

	(void)arg;
	d.data.key = m->get;
	d.data.len = LEN;
	d.data.crc32c = mc_crc32c(data, LEN);	/* the right checksum, the wrong bytes */
	mc_peer_conn_send(c, &d, garbage);
}

/* A busy owner: every GET is sent to OWNER as a holder; what comes back is kept. */
static struct {
	int copies, haves;
	uint32_t copy_flags;
	uint8_t have_from[MAICACHE_PEER_ID_SIZE];
} sender;

static void sender_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct mc_peer_msg h = { .type = MAICACHE_PEER_HOLDER, .seq = m->seq };

	(void)arg;
	if (m->type == MAICACHE_PEER_HAVE) {
		sender.haves++;
		memcpy(sender.have_from, m->holder.node_id, sizeof(sender.have_from));
		return;
	}
	if (m->type == MAICACHE_PEER_GET_COPY) {
		/* Asked again after the holder failed: nothing here either. */
		struct mc_peer_msg n = { .type = MAICACHE_PEER_NACK, .seq = m->seq };

		sender.copies++;
		sender.copy_flags = m->copy.flags;
		n.nack.key = m->copy.key;
		n.nack.code = MAICACHE_PEER_NACK_FAILED;
		mc_peer_conn_send(c, &n, NULL);
		return;
	}
	h.holder.key = m->get;
	memcpy(h.holder.node_id, ids[OWNER].b, sizeof(h.holder.node_id));
	mc_peer_conn_send(c, &h, NULL);
}

static void nop_ready(void *a, struct mc_peer_conn *c) { (void)a; (void)c; }
static void nop_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m) { (void)a; (void)c; (void)m; }
static void *nop_buf(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m) { (void)a; (void)c; (void)m; return NULL; }
static void nop_payload(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m, void *b, bool ok)
{ (void)a; (void)c; (void)m; (void)b; (void)ok; }
static void nop_sent(void *a, struct mc_peer_conn *c, const void *p) { (void)a; (void)c; (void)p; }
static void nop_close(void *a, struct mc_peer_conn *c, int e, const char *w) { (void)a; (void)c; (void)e; (void)w; }

static const struct mc_peer_conn_ops liar_ops = { nop_ready, liar_msg, nop_buf, nop_payload, nop_sent, nop_close };
static const struct mc_peer_conn_ops sender_ops = { nop_ready, sender_msg, nop_buf, nop_payload, nop_sent, nop_close };
static const struct mc_peer_conn_ops silent_ops = { nop_ready, nop_msg, nop_buf, nop_payload, nop_sent, nop_close };

/* ---- the requester ---- */

static struct mc_peer_client *cl;
static int dones, last_res, sourced;

static struct mc_peer_conn *conn_to(void *arg, size_t member)
{
	(void)arg;
	for (int i = 0; i < NMEMBERS; i++)
		if (mc_placement_find(&place, &ids[i]) == (ssize_t)member)
			return have_conn[i] ? to[i] : NULL;
	return NULL;
}

static struct mc_peer_conn *conn_to_node(void *arg, const struct mc_node_id *id)
{
	(void)arg;
	for (int i = 0; i < NMEMBERS; i++)
		if (!memcmp(ids[i].b, id->b, sizeof(id->b)))
			return have_conn[i] ? to[i] : NULL;
	return NULL;
}

static bool hold_source;		/* a slow source: the test finishes the read */
static struct mc_peer_fetch *held_fetch;

static void source(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	sourced++;
	memcpy(f->dst, data, LEN);
	if (hold_source) {
		held_fetch = f;
		return;
	}
	mc_peer_fetch_sourced(f, 0);
}

static void done(void *arg, struct mc_peer_fetch *f, int res)
{
	(void)arg;
	(void)f;
	dones++;
	last_res = res;
}

static int locals;

/* This node's own flight, as the daemon runs it: here, the bytes at once. */
static void local(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	locals++;
	memcpy(f->dst, data, LEN);
	mc_peer_fetch_local_done(f, 0);
}

static const struct mc_peer_client_ops client_ops = { conn_to, source, done, NULL, NULL,
						       conn_to_node };
static const struct mc_peer_client_ops client_local_ops = { conn_to, source, done, local, NULL,
							     conn_to_node };

static void r_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	ck_assert(mc_peer_client_msg(a, c, m));
}

static void *r_buf(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	void *buf = NULL;

	ck_assert(mc_peer_client_payload_buf(a, c, m, &buf));
	return buf;
}

static void r_payload(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m, void *b, bool ok)
{
	mc_peer_client_payload(a, c, m, b, ok);
}

static void r_sent(void *a, struct mc_peer_conn *c, const void *p)
{
	mc_peer_client_sent(a, c, p);
}

static void r_close(void *a, struct mc_peer_conn *c, int e, const char *w)
{
	(void)e;
	(void)w;
	mc_peer_client_closed(a, c);
}

static const struct mc_peer_conn_ops req_ops = { nop_ready, r_msg, r_buf, r_payload, r_sent, r_close };

static void pair(int member, const struct mc_peer_conn_ops *ops, void *arg)
{
	struct mc_node_id me;
	struct mc_peer_conn *sc;
	int cfd, afd = fixture_tcp_pair(&cfd);

	memset(me.b, 0x99, sizeof(me.b));
	ck_assert_int_eq(mc_peer_conn_new(&to[member], loop, cfd, true, &group, &me, &req_ops, cl), 0);
	ck_assert_int_eq(mc_peer_conn_new(&sc, loop, afd, false, &group, &ids[member], ops, arg), 0);
	have_conn[member] = true;
}

static void setup(void)
{
	struct mc_flight_opts fo = { .lease_ms = 2000, .max_waiters = 8, .max_extents = 64 };
	struct mc_peer_client_opts co = { .answer_ms = 300, .tries = 3 };
	char err[256];

	strcpy(dir, "/tmp/mc-cli-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	group = fixture_group(dir, "g", FIXTURE_KEY);
	ck_assert_int_eq(mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err)), 0);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < LEN; i++) {
		data[i] = (uint8_t)(i * 13 + 1);
		garbage[i] = (uint8_t)~data[i];
	}
	for (int i = 0; i < NMEMBERS; i++)
		memset(ids[i].b, 0x11 * (i + 1), sizeof(ids[i].b));
	ck_assert_int_eq(mc_placement_set(&place, ids, NMEMBERS), 0);
	ck_assert_int_eq(mc_peer_server_new(&srv, &fo, &store_ops, NULL), 0);
	ck_assert_int_eq(mc_peer_client_new(&cl, loop, &co, &client_ops, NULL), 0);
	pair(OWNER, &mc_peer_server_conn_ops, srv);
	pair(LIAR, &liar_ops, NULL);
	pair(SILENT, &silent_ops, NULL);
	pair(SENDER, &sender_ops, NULL);
	memset(&sender, 0, sizeof(sender));
	dones = sourced = 0;
	/* Let the handshakes finish. */
	for (uint64_t end = mc_now_ms() + 300; mc_now_ms() < end;)
		mc_loop_run_once(loop, 20);
}

static void teardown(void)
{
	char cmd[128];

	for (int i = 0; i < NMEMBERS; i++)
		if (have_conn[i])
			mc_peer_conn_close(to[i]);
	for (uint64_t end = mc_now_ms() + 200; mc_now_ms() < end;)
		mc_loop_run_once(loop, 20);
	mc_peer_client_free(cl);
	mc_peer_server_free(srv);
	mc_loop_free(loop);
	mc_placement_free(&place);
	for (int i = 0; i < st.n; i++)
		free(st.bytes[i]);
	mc_group_wipe(&group);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A key whose placement order starts with the given members. */
static struct mc_extent_key key_ranked(int first, int second)
{
	struct mc_extent_key k = { .extent_shift = 16 };
	size_t r[3];

	memset(k.blob, 0x5c, sizeof(k.blob));
	for (k.index = 0;; k.index++) {
		mc_placement_rank(&place, mc_extent_key_hash(&k), r, 3);
		if (r[0] == (size_t)mc_placement_find(&place, &ids[first]) &&
		    (second < 0 || r[1] == (size_t)mc_placement_find(&place, &ids[second])))
			return k;
	}
}

static void fetch(struct mc_peer_fetch *f, struct mc_extent_key k, void *dst)
{
	memset(f, 0, sizeof(*f));
	f->key = k;
	f->dst = dst;
	f->len = LEN;
	mc_peer_fetch_start(cl, f, &place, SIZE_MAX);
}

START_TEST(turn_then_peer)
{
	static uint8_t a[LEN], b[LEN];
	struct mc_extent_key k = key_ranked(OWNER, -1);
	struct mc_peer_fetch f1, f2;

	fetch(&f1, k, a);
	ck_assert_int_eq(dones, 0);	/* never inside the call */
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_int_eq(sourced, 1);	/* the turn went to the source... */
	RUN_UNTIL(st.n == 1);		/* ...and the bytes to the owner */
	ck_assert_mem_eq(st.bytes[0], data, LEN);
	fetch(&f2, k, b);
	RUN_UNTIL(dones == 2);
	ck_assert_int_eq(sourced, 1);	/* one source read for both */
	ck_assert_mem_eq(b, data, LEN);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->from_peers, 1);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->turns, 1);
}
END_TEST

START_TEST(waiter_outlasts_the_answer_timeout)
{
	static uint8_t a[LEN], b[LEN];
	struct mc_extent_key k = key_ranked(OWNER, -1);
	struct mc_peer_fetch f1, f2;

	hold_source = true;
	fetch(&f1, k, a);
	RUN_UNTIL(sourced == 1);	/* f1 has the turn, and a slow source */
	fetch(&f2, k, b);
	RUN_UNTIL(mc_peer_client_stats(cl)->waits == 1);
	/* Well past answer_ms (300): the owner said WAIT, so f2 waits on. */
	for (uint64_t end = mc_now_ms() + 800; mc_now_ms() < end;)
		mc_loop_run_once(loop, 20);
	ck_assert_int_eq(dones, 0);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->timeouts, 0);
	hold_source = false;
	mc_peer_fetch_sourced(held_fetch, 0);
	RUN_UNTIL(dones == 2);
	ck_assert_int_eq(last_res, 0);
	ck_assert_int_eq(sourced, 1);	/* one source read for both */
	ck_assert_mem_eq(b, data, LEN);
}
END_TEST

START_TEST(this_node_next_in_line_runs_its_own_flight)
{
	static uint8_t a[LEN];
	struct mc_extent_key k = key_ranked(LIAR, SILENT);
	struct mc_peer_client *cl2;
	struct mc_peer_client_opts co = { .answer_ms = 300, .tries = 3 };
	struct mc_peer_fetch f;
	size_t self = (size_t)mc_placement_find(&place, &ids[SILENT]);

	/*
	 * This node plays SILENT, second in line: when the owner fails it (the
	 * connections answer the fixture's other client, so this one times
	 * out) the next step is its own flight, not a GET to OWNER.
	 */
	ck_assert_int_eq(mc_peer_client_new(&cl2, loop, &co, &client_local_ops, NULL), 0);
	memset(&f, 0, sizeof(f));
	f.key = k;
	f.dst = a;
	f.len = LEN;
	locals = 0;
	mc_peer_fetch_start(cl2, &f, &place, self);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_int_eq(locals, 1);
	ck_assert_int_eq(sourced, 0);
	ck_assert_mem_eq(a, data, LEN);
	ck_assert_uint_eq(mc_peer_client_stats(cl2)->local, 1);
	ck_assert_uint_eq(mc_peer_client_stats(cl2)->timeouts, 1);
	mc_peer_client_free(cl2);
}
END_TEST

START_TEST(lying_peer_is_skipped)
{
	static uint8_t a[LEN], b[LEN];
	struct mc_extent_key k = key_ranked(LIAR, OWNER);
	struct mc_peer_fetch f;

	/* The owner holds it already. */
	st.key[0] = k;
	st.bytes[0] = malloc(LEN);
	memcpy(st.bytes[0], data, LEN);
	st.n = 1;
	fetch(&f, k, a);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_mem_eq(a, data, LEN);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->bad_data, 1);
	ck_assert_int_eq(sourced, 0);
	(void)b;
}
END_TEST

START_TEST(silent_peer_times_out)
{
	static uint8_t a[LEN];
	struct mc_extent_key k = key_ranked(SILENT, OWNER);
	struct mc_peer_fetch f;

	fetch(&f, k, a);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->timeouts, 1);
	ck_assert_int_eq(sourced, 1);	/* the owner gave the turn */
	ck_assert_mem_eq(a, data, LEN);
}
END_TEST

START_TEST(nobody_reachable_means_the_source)
{
	static uint8_t a[LEN];
	struct mc_extent_key k = key_ranked(OWNER, -1);
	struct mc_peer_fetch f;

	for (int i = 0; i < NMEMBERS; i++)
		have_conn[i] = false;	/* conn_to() says none */
	fetch(&f, k, a);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_int_eq(sourced, 1);
	ck_assert_int_eq(st.n, 0);	/* no owner to hand it to */
	ck_assert_uint_eq(mc_peer_client_stats(cl)->no_conn, 3);
	for (int i = 0; i < NMEMBERS; i++)
		have_conn[i] = true;
}
END_TEST

/* The caller's order, not the placement's: the home tier ranks its own. */
START_TEST(ranked_fetch_asks_in_the_callers_order)
{
	static uint8_t a[LEN], b[LEN];
	struct mc_extent_key k = key_ranked(LIAR, SILENT);
	size_t owner = (size_t)mc_placement_find(&place, &ids[OWNER]);
	struct mc_peer_fetch f;

	st.key[0] = k;
	st.bytes[0] = malloc(LEN);
	memcpy(st.bytes[0], data, LEN);
	st.n = 1;
	memset(&f, 0, sizeof(f));
	f.key = k;
	f.dst = a;
	f.len = LEN;
	mc_peer_fetch_start_ranked(cl, &f, &owner, 1, SIZE_MAX);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_mem_eq(a, data, LEN);
	/* Neither the liar nor the silent member, first in placement, was asked. */
	ck_assert_uint_eq(mc_peer_client_stats(cl)->bad_data, 0);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->timeouts, 0);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->from_peers, 1);
	ck_assert_int_eq(sourced, 0);
	/* Nobody ranked: straight to the source. */
	memset(&f, 0, sizeof(f));
	f.key = k;
	f.dst = b;
	f.len = LEN;
	mc_peer_fetch_start_ranked(cl, &f, NULL, 0, SIZE_MAX);
	RUN_UNTIL(dones == 2);
	ck_assert_int_eq(last_res, 0);
	ck_assert_int_eq(sourced, 1);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->from_source, 1);
	ck_assert_mem_eq(b, data, LEN);
}
END_TEST

/* The owner (SENDER) is busy and names a holder (OWNER), which has it. */
START_TEST(holder_serves_and_the_owner_hears_have)
{
	static uint8_t a[LEN];
	struct mc_extent_key k = key_ranked(SENDER, -1);
	struct mc_peer_fetch f;

	st.key[0] = k;
	st.bytes[0] = malloc(LEN);
	memcpy(st.bytes[0], data, LEN);
	st.n = 1;
	fetch(&f, k, a);
	RUN_UNTIL(dones == 1 && sender.haves == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_mem_eq(a, data, LEN);
	ck_assert_int_eq(sourced, 0);
	ck_assert_mem_eq(sender.have_from, ids[OWNER].b, MAICACHE_PEER_ID_SIZE);
	ck_assert_int_eq(sender.copies, 0);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->holder_asks, 1);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->from_holders, 1);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->copies, 1);
}
END_TEST

/* The holder named no longer has it: back to the owner, never sent round again. */
START_TEST(failed_holder_sends_back_to_the_owner)
{
	static uint8_t a[LEN];
	struct mc_extent_key k = key_ranked(SENDER, OWNER);
	struct mc_peer_fetch f;

	fetch(&f, k, a);
	RUN_UNTIL(dones == 1);
	ck_assert_int_eq(last_res, 0);
	ck_assert_mem_eq(a, data, LEN);
	/* OWNER said NOT_HELD (no turn), SENDER was asked again with NO_HOLDER... */
	ck_assert_uint_eq(mc_peer_server_stats(srv)->not_held, 1);
	ck_assert_int_eq(sender.copies, 1);
	ck_assert_uint_eq(sender.copy_flags & ~MAICACHE_PEER_COPY_RDMA,
			  MAICACHE_PEER_COPY_NO_HOLDER);
	ck_assert_uint_eq(mc_peer_client_stats(cl)->holder_fails, 1);
	/* ...NACKed, and the next member, OWNER, gave the turn: the source once. */
	ck_assert_int_eq(sourced, 1);
	ck_assert_int_eq(sender.haves, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("peer_client");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, turn_then_peer);
	tcase_add_test(tc, waiter_outlasts_the_answer_timeout);
	tcase_add_test(tc, lying_peer_is_skipped);
	tcase_add_test(tc, this_node_next_in_line_runs_its_own_flight);
	tcase_add_test(tc, silent_peer_times_out);
	tcase_add_test(tc, nobody_reachable_means_the_source);
	tcase_add_test(tc, ranked_fetch_asks_in_the_callers_order);
	tcase_add_test(tc, holder_serves_and_the_owner_hears_have);
	tcase_add_test(tc, failed_holder_sends_back_to_the_owner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
