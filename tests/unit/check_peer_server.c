// SPDX-License-Identifier: MIT
/*
 * Unit tests for the owner's side of the peer protocol (peer/server.c),
 * over real connections on loopback TCP: one Blob fetch per extent for any
 * number of askers, waiters served when the bytes arrive, wrong bytes and
 * stray PUTs never stored, turns passed on when a fetcher fails, stalls or
 * goes away.
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
#include "crc.h"
#include "peer_fixture.h"
#include "server.h"

#define LEN 65536

/* ---- an in-memory store ---- */

struct held {
	struct mc_extent_key key;
	uint8_t *bytes;
	uint32_t crc;
	int pins;
};

static struct store {
	struct held h[16];
	int n;
	bool full;		/* reserve() fails */
	int commits, bad_commits;
	int reserved;		/* reserve() given, not yet committed */
} st;

static struct held *find(const struct mc_extent_key *k)
{
	for (int i = 0; i < st.n; i++)
		if (mc_extent_key_eq(&st.h[i].key, k))
			return &st.h[i];
	return NULL;
}

static const void *store_get(void *arg, const struct mc_extent_key *key, uint32_t *len,
			     uint32_t *crc)
{
	struct held *h = find(key);

	(void)arg;
	if (!h)
		return NULL;
	h->pins++;
	*len = LEN;
	*crc = h->crc;
	return h->bytes;
}

static void store_release(void *arg, const void *bytes)
{
	(void)arg;
	for (int i = 0; i < st.n; i++)
		if (st.h[i].bytes == bytes)
			st.h[i].pins--;
}

static void *store_reserve(void *arg, const struct mc_extent_key *key, uint32_t len)
{
	(void)arg;
	(void)key;
	if (st.full)
		return NULL;
	st.reserved++;
	return malloc(len);
}

static void store_commit(void *arg, const struct mc_extent_key *key, void *buf, uint32_t len,
			 uint32_t crc, bool ok)
{
	(void)arg;
	ck_assert_uint_eq(len, LEN);
	st.reserved--;
	if (!ok) {
		st.bad_commits++;
		free(buf);
		return;
	}
	st.commits++;
	st.h[st.n].key = *key;
	st.h[st.n].bytes = buf;
	st.h[st.n].crc = crc;
	st.n++;
}

static const struct mc_extent_store_ops store_ops = {
	store_get, store_release, store_reserve, store_commit,
};

/* ---- clients ---- */

struct client {
	struct mc_peer_conn *c;
	int fd;			/* the client's socket, for raw writes */
	bool ready, closed;
	int turns, datas, nacks, waits, locs, holders;
	struct mc_peer_msg last;
	bool last_ok;
	uint8_t buf[LEN];
};

static void c_ready(void *arg, struct mc_peer_conn *c)
{
	(void)c;
	((struct client *)arg)->ready = true;
}

static void c_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct client *cl = arg;

	(void)c;
	cl->last = *m;
	cl->turns += m->type == MAICACHE_PEER_TURN;
	cl->nacks += m->type == MAICACHE_PEER_NACK;
	cl->waits += m->type == MAICACHE_PEER_WAIT;
	cl->locs += m->type == MAICACHE_PEER_LOC;
	cl->holders += m->type == MAICACHE_PEER_HOLDER;
}

static void *c_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	(void)c;
	(void)m;
	return ((struct client *)arg)->buf;
}

static void c_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
		      void *buf, bool ok)
{
	struct client *cl = arg;

	(void)c;
	(void)buf;
	cl->last = *m;
	cl->last_ok = ok;
	cl->datas++;
}

static void c_sent(void *arg, struct mc_peer_conn *c, const void *p)
{
	(void)arg;
	(void)c;
	(void)p;
}

static void c_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	(void)c;
	(void)err;
	(void)why;
	((struct client *)arg)->closed = true;
	((struct client *)arg)->c = NULL;
}

static const struct mc_peer_conn_ops client_ops = {
	c_ready, c_msg, c_buf, c_payload, c_sent, c_close,
};

/* ---- the fixture ---- */

static struct mc_loop *loop;
static struct mc_group group;
static struct mc_peer_server *srv;
static struct client A, B, C;
static uint8_t data[LEN];
static char dir[64];

#define RUN_UNTIL(cond) do {						\
	uint64_t end_ = mc_now_ms() + 5000;				\
	while (!(cond) && mc_now_ms() < end_)				\
		ck_assert_int_ge(mc_loop_run_once(loop, 20), 0);	\
	ck_assert_msg((cond), "timed out waiting for " #cond);		\
} while (0)

/* Let the loop run a little: for asserting that nothing arrives. */
static void settle(void)
{
	uint64_t end = mc_now_ms() + 200;

	while (mc_now_ms() < end)
		mc_loop_run_once(loop, 20);
}

static void connect_client(struct client *cl, uint8_t id)
{
	struct mc_node_id me, owner;
	struct mc_peer_conn *sc;
	int cfd, afd = fixture_tcp_pair(&cfd);

	memset(cl, 0, sizeof(*cl));
	memset(me.b, id, sizeof(me.b));
	memset(owner.b, 0xee, sizeof(owner.b));
	cl->fd = cfd;
	ck_assert_int_eq(mc_peer_conn_new(&cl->c, loop, cfd, true, &group, &me, &client_ops, cl), 0);
	ck_assert_int_eq(mc_peer_conn_new(&sc, loop, afd, false, &group, &owner,
					  &mc_peer_server_conn_ops, srv), 0);
	RUN_UNTIL(cl->ready);
}

static void setup(void)
{
	struct mc_flight_opts fo = { .lease_ms = 1000, .max_waiters = 8, .max_extents = 64 };
	char err[256];

	strcpy(dir, "/tmp/mc-srv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	group = fixture_group(dir, "g", FIXTURE_KEY);
	ck_assert_int_eq(mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err)), 0);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(mc_peer_server_new(&srv, &fo, &store_ops, &st), 0);
	for (int i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	connect_client(&A, 1);
	connect_client(&B, 2);
	connect_client(&C, 3);
}

static void teardown(void)
{
	char cmd[128];

	if (A.c)
		mc_peer_conn_close(A.c);
	if (B.c)
		mc_peer_conn_close(B.c);
	if (C.c)
		mc_peer_conn_close(C.c);
	settle();		/* the server's sides see the closes */
	mc_peer_server_free(srv);
	mc_loop_free(loop);
	for (int i = 0; i < st.n; i++) {
		ck_assert_int_eq(st.h[i].pins, 0);	/* nothing left pinned */
		free(st.h[i].bytes);
	}
	mc_group_wipe(&group);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct mc_extent_key key(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 16, .index = i };

	memset(k.blob, 5, sizeof(k.blob));
	return k;
}

static void get(struct client *cl, uint64_t seq, uint64_t k)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET, .seq = seq };

	m.get = key(k);
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, NULL), 0);
}

static void put(struct client *cl, uint64_t seq, uint64_t k, bool good)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_PUT, .seq = seq };

	m.data.key = key(k);
	m.data.len = LEN;
	m.data.crc32c = mc_crc32c(data, LEN) ^ (good ? 0 : 1);
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, data), 0);
}

START_TEST(one_fetch_serves_everyone)
{
	get(&A, 1, 10);
	RUN_UNTIL(A.turns == 1);
	ck_assert_uint_eq(A.last.seq, 1);
	ck_assert_uint_eq(A.last.turn.lease_ms, 1000);
	get(&B, 7, 10);
	settle();
	RUN_UNTIL(B.waits == 1);		/* told to wait, out the lease */
	ck_assert_uint_eq(B.last.seq, 7);
	ck_assert_uint_eq(B.last.turn.lease_ms, 1000);
	ck_assert_int_eq(B.turns + B.datas + B.nacks, 0);
	put(&A, 1, 10, true);
	RUN_UNTIL(B.datas == 1);
	ck_assert(B.last_ok);
	ck_assert_uint_eq(B.last.seq, 7);
	ck_assert_mem_eq(B.buf, data, LEN);
	ck_assert_int_eq(st.commits, 1);
	/* Held now: answered at once, no turn. */
	get(&C, 3, 10);
	RUN_UNTIL(C.datas == 1);
	ck_assert_int_eq(C.turns, 0);
	ck_assert_mem_eq(C.buf, data, LEN);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->turns, 1);
	ck_assert_int_eq(A.nacks, 0);
}
END_TEST

START_TEST(wrong_bytes_are_never_stored)
{
	get(&A, 1, 11);
	RUN_UNTIL(A.turns == 1);
	get(&B, 2, 11);
	put(&A, 1, 11, false);
	RUN_UNTIL(A.nacks == 1 && B.turns == 1);
	ck_assert_uint_eq(A.last.nack.code, MAICACHE_PEER_NACK_BAD_DATA);
	ck_assert_int_eq(st.commits, 0);
	ck_assert_int_eq(st.bad_commits, 1);
	ck_assert_uint_eq(B.last.seq, 2);	/* B fetches instead */
	put(&B, 2, 11, true);
	settle();
	ck_assert_int_eq(st.commits, 1);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->bad_puts, 1);
}
END_TEST

START_TEST(stray_put_is_refused)
{
	get(&A, 1, 12);
	RUN_UNTIL(A.turns == 1);
	put(&C, 9, 12, true);		/* C has no turn */
	put(&A, 2, 12, true);		/* A, but not under its turn's seq */
	RUN_UNTIL(C.nacks == 1 && A.nacks == 1);
	ck_assert_uint_eq(C.last.nack.code, MAICACHE_PEER_NACK_BAD_DATA);
	ck_assert_int_eq(st.commits, 0);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->stray_puts, 2);
	put(&A, 1, 12, true);
	settle();
	ck_assert_int_eq(st.commits, 1);
}
END_TEST

START_TEST(stalled_or_gone_fetcher_passes_the_turn)
{
	get(&A, 1, 13);
	RUN_UNTIL(A.turns == 1);
	get(&B, 2, 13);
	settle();
	mc_peer_server_tick(srv, mc_now_ms() + 2000);	/* A's lease is over */
	RUN_UNTIL(B.turns == 1);
	ck_assert_uint_eq(B.last.seq, 2);
	/* A late PUT from A: refused. */
	put(&A, 1, 13, true);
	RUN_UNTIL(A.nacks == 1);
	ck_assert_int_eq(st.commits, 0);

	get(&C, 4, 14);
	RUN_UNTIL(C.turns == 1);
	get(&A, 5, 14);
	settle();
	mc_peer_conn_close(C.c);	/* the fetcher goes away */
	RUN_UNTIL(A.turns == 2);
	ck_assert_uint_eq(A.last.seq, 5);
}
END_TEST

START_TEST(no_room_passes_the_turn)
{
	get(&A, 1, 15);
	RUN_UNTIL(A.turns == 1);
	get(&B, 2, 15);
	st.full = true;
	put(&A, 1, 15, true);
	RUN_UNTIL(A.nacks == 1 && B.turns == 1);
	ck_assert_uint_eq(A.last.nack.code, MAICACHE_PEER_NACK_BUSY);
	ck_assert_int_eq(st.commits, 0);
}
END_TEST

/* The store took the extent in meanwhile (another server over it): served, not a new turn. */
START_TEST(put_of_what_the_store_holds_serves_the_waiters)
{
	get(&A, 1, 16);
	RUN_UNTIL(A.turns == 1);
	get(&B, 2, 16);
	RUN_UNTIL(B.waits == 1);
	st.h[st.n].key = key(16);
	st.h[st.n].bytes = malloc(LEN);
	memcpy(st.h[st.n].bytes, data, LEN);
	st.h[st.n].crc = mc_crc32c(data, LEN);
	st.n++;
	st.full = true;		/* as a store refuses a second copy */
	put(&A, 1, 16, true);
	RUN_UNTIL(B.datas == 1);
	ck_assert(B.last_ok);
	ck_assert_mem_eq(B.buf, data, LEN);
	settle();
	ck_assert_int_eq(B.turns, 0);
	ck_assert_int_eq(A.nacks, 0);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->turns, 1);
}
END_TEST

static void get_rdma(struct client *cl, uint64_t seq, uint64_t k)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET_RDMA, .seq = seq };

	m.get = key(k);
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, NULL), 0);
}

static void done_msg(struct client *cl, uint64_t seq, uint64_t k, uint64_t addr)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_DONE, .seq = seq };

	m.done.key = key(k);
	m.done.addr = addr;
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, NULL), 0);
}

/* GET_RDMA: LOC names the pinned bytes; DONE, the lease or a close unpins. */
START_TEST(rdma_get_pins_until_done)
{
	struct held *h;

	get_rdma(&A, 1, 20);		/* RDMA off here: answered as a GET */
	RUN_UNTIL(A.turns == 1);
	put(&A, 1, 20, true);
	RUN_UNTIL(st.commits == 1);
	get_rdma(&B, 2, 20);
	RUN_UNTIL(B.datas == 1);
	ck_assert_int_eq(B.locs, 0);

	mc_peer_server_set_rdma(srv, true, 0x1234);
	h = find(&st.h[0].key);
	get_rdma(&B, 3, 20);
	RUN_UNTIL(B.locs == 1);
	ck_assert_uint_eq(B.last.seq, 3);
	ck_assert_uint_eq(B.last.loc.addr, (uint64_t)(uintptr_t)h->bytes);
	ck_assert_uint_eq(B.last.loc.rkey, 0x1234);
	ck_assert_uint_eq(B.last.loc.len, LEN);
	ck_assert_uint_eq(B.last.loc.crc32c, mc_crc32c(data, LEN));
	ck_assert_uint_eq(B.last.loc.lease_ms, 1000);
	ck_assert_int_eq(h->pins, 1);
	done_msg(&B, 3, 20, (uint64_t)(uintptr_t)h->bytes + 1);	/* not what LOC said */
	settle();
	ck_assert_int_eq(h->pins, 1);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->stray_dones, 1);
	done_msg(&B, 3, 20, (uint64_t)(uintptr_t)h->bytes);
	RUN_UNTIL(h->pins == 0);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->dones, 1);

	/* No DONE: the pin ends with the lease. */
	get_rdma(&C, 4, 20);
	RUN_UNTIL(C.locs == 1);
	ck_assert_int_eq(h->pins, 1);
	mc_peer_server_tick(srv, mc_now_ms() + 500);
	ck_assert_int_eq(h->pins, 1);
	mc_peer_server_tick(srv, mc_now_ms() + 2000);
	ck_assert_int_eq(h->pins, 0);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->lapsed, 1);

	/* A reader that goes away sends no DONE: its pins end with it. */
	get_rdma(&C, 5, 20);
	RUN_UNTIL(C.locs == 2);
	ck_assert_int_eq(h->pins, 1);
	mc_peer_conn_close(C.c);
	C.c = NULL;
	RUN_UNTIL(h->pins == 0);
}
END_TEST

static void get_copy(struct client *cl, uint64_t seq, uint64_t k, uint32_t flags)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET_COPY, .seq = seq };

	m.copy.key = key(k);
	m.copy.flags = flags;
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, NULL), 0);
}

static void have_msg(struct client *cl, uint64_t seq, uint64_t k, const uint8_t *from);

static void have_msg(struct client *cl, uint64_t seq, uint64_t k, const uint8_t *from)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_HAVE, .seq = seq };

	m.holder.key = key(k);
	memcpy(m.holder.node_id, from, sizeof(m.holder.node_id));
	ck_assert_int_eq(mc_peer_conn_send(cl->c, &m, NULL), 0);
}

/*
 * Fan-out with K = 1, and RDMA on; self gets the server's own id (0xee,
 * connect_client()): a HAVE from it is of the server's own send or a fetch.
 */
static void fanout_on(uint8_t self[MAICACHE_PEER_ID_SIZE])
{
	struct mc_fanout_opts fo = { .serve_max = 1, .holders = 8, .holder_ms = 5000,
				     .lend_ms = 1000, .max_waiters = 8, .max_extents = 64 };

	memset(self, 0xee, MAICACHE_PEER_ID_SIZE);
	memcpy(fo.self.b, self, MAICACHE_PEER_ID_SIZE);
	ck_assert_int_eq(mc_peer_server_set_fanout(srv, &fo), 0);
	mc_peer_server_set_rdma(srv, true, 0x1234);
}

/* Fan-out, K = 1: one send at a time, then holders, then the queue. */
START_TEST(fanout_hands_out_holders)
{
	uint8_t holder[MAICACHE_PEER_ID_SIZE], self[MAICACHE_PEER_ID_SIZE];
	uint64_t addr;

	fanout_on(self);
	/* A fetches it for the group: a holder once it says it has it. */
	get(&A, 1, 30);
	RUN_UNTIL(A.turns == 1);
	put(&A, 1, 30, true);
	RUN_UNTIL(st.commits == 1);
	have_msg(&A, 9, 30, self);
	RUN_UNTIL(mc_peer_server_fanout_stats(srv)->haves == 1);
	addr = (uint64_t)(uintptr_t)st.h[0].bytes;
	/* B READs it: the one place is B's until its DONE. */
	get_rdma(&B, 2, 30);
	RUN_UNTIL(B.locs == 1);
	/* C is sent to A, which then has its K (1) requesters. */
	get(&C, 3, 30);
	RUN_UNTIL(C.holders == 1);
	ck_assert_uint_eq(C.last.seq, 3);
	memcpy(holder, C.last.holder.node_id, sizeof(holder));
	ck_assert_int_eq(holder[0], 1);
	/* A asks again (it evicted it): never sent to itself, it waits. */
	get(&A, 4, 30);
	RUN_UNTIL(A.waits == 1);
	settle();
	ck_assert_int_eq(A.datas + A.holders, 0);
	/* C has it from A: A is free again and C a holder; A is sent to C. */
	have_msg(&C, 5, 30, holder);
	RUN_UNTIL(A.holders == 1);
	/* A HAVE nobody was lent for counts for nothing. */
	have_msg(&B, 6, 30, holder);
	settle();
	ck_assert_uint_eq(A.last.seq, 4);
	ck_assert_int_eq(A.last.holder.node_id[0], 3);
	ck_assert_uint_eq(mc_peer_server_fanout_stats(srv)->haves, 2);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->holders, 2);
	/* A holder's request for what it does not hold: NACK NOT_HELD, no turn. */
	get_copy(&A, 7, 31, MAICACHE_PEER_COPY_HELD);
	RUN_UNTIL(A.nacks == 1);
	ck_assert_uint_eq(A.last.nack.code, MAICACHE_PEER_NACK_NOT_HELD);
	ck_assert_int_eq(A.turns, 1);
	ck_assert_uint_eq(mc_peer_server_stats(srv)->not_held, 1);
	/* Sent back by a holder that failed it: queued here, never a HOLDER. */
	get_copy(&C, 8, 30, MAICACHE_PEER_COPY_NO_HOLDER);
	RUN_UNTIL(C.waits == 1);
	settle();
	ck_assert_int_eq(C.holders, 1);
	ck_assert_int_eq(C.datas, 0);
	/* B is done: C gets the place and the bytes. */
	done_msg(&B, 2, 30, addr);
	RUN_UNTIL(C.datas == 1);
	ck_assert(C.last_ok);
	ck_assert_uint_eq(C.last.seq, 8);
	ck_assert_mem_eq(C.buf, data, LEN);
	ck_assert_uint_eq(mc_peer_server_fanout_stats(srv)->peak, 1);
}
END_TEST

/*
 * A requester a holder failed (COPY_NO_HOLDER) that waits in the single
 * flight is not sent to a holder when the bytes arrive either.
 */
START_TEST(no_holder_waiter_is_never_sent_to_a_holder)
{
	uint8_t self[MAICACHE_PEER_ID_SIZE];

	fanout_on(self);
	/* A fetches it and says HAVE: A is a holder. */
	get(&A, 1, 40);
	RUN_UNTIL(A.turns == 1);
	put(&A, 1, 40, true);
	RUN_UNTIL(st.commits == 1);
	have_msg(&A, 2, 40, self);
	RUN_UNTIL(mc_peer_server_fanout_stats(srv)->haves == 1);
	/* Evicted here (A still counts as a holder): B fetches it again. */
	free(st.h[0].bytes);
	st.n = 0;
	get(&B, 3, 40);
	RUN_UNTIL(B.turns == 1);
	/* A READs it when it comes (the one place); C came back from a holder. */
	get_rdma(&A, 4, 40);
	RUN_UNTIL(A.waits == 1);
	get_copy(&C, 5, 40, MAICACHE_PEER_COPY_NO_HOLDER);
	RUN_UNTIL(C.waits == 1);
	put(&B, 3, 40, true);
	RUN_UNTIL(A.locs == 1);
	settle();
	ck_assert_int_eq(C.holders, 0);	/* not sent to A */
	ck_assert_int_eq(C.waits, 2);		/* queued for the place */
	done_msg(&A, 4, 40, A.last.loc.addr);
	RUN_UNTIL(C.datas == 1);
	ck_assert_uint_eq(C.last.seq, 5);
	ck_assert_mem_eq(C.buf, data, LEN);
}
END_TEST

/* A fetcher that goes away in the middle of its PUT's payload. */
START_TEST(put_cut_short_gives_the_room_back)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_PUT, .seq = 1 };
	uint8_t frame[256];
	size_t n;

	get(&A, 1, 16);
	RUN_UNTIL(A.turns == 1);
	get(&B, 2, 16);
	settle();
	m.data.key = key(16);
	m.data.len = LEN;
	m.data.crc32c = mc_crc32c(data, LEN);
	n = mc_peer_encode(&m, frame, sizeof(frame));
	ck_assert_uint_gt(n, 0);
	/* The frame and half the payload, written behind the connection's back. */
	ck_assert_int_eq(write(A.fd, frame, n), (ssize_t)n);
	ck_assert_int_eq(write(A.fd, data, LEN / 2), LEN / 2);
	RUN_UNTIL(st.reserved == 1);
	mc_peer_conn_close(A.c);
	A.c = NULL;
	RUN_UNTIL(B.turns == 1);	/* the turn passes on */
	ck_assert_int_eq(st.reserved, 0);
	ck_assert_int_eq(st.bad_commits, 1);
	ck_assert_int_eq(st.commits, 0);
}
END_TEST

/* ---- the owner's own misses ---- */

struct local {
	struct mc_peer_local lr;
	int calls;
	enum mc_peer_local_verdict v;
	uint8_t buf[LEN];
};

static void local_cb(void *arg, struct mc_peer_local *lr, enum mc_peer_local_verdict v)
{
	struct local *l = arg;

	ck_assert_ptr_eq(lr, &l->lr);
	l->calls++;
	l->v = v;
}

static void local_init(struct local *l, uint64_t k)
{
	memset(l, 0, sizeof(*l));
	l->lr.key = key(k);
	l->lr.dst = l->buf;
	l->lr.len = LEN;
	l->lr.cb = local_cb;
	l->lr.arg = l;
}

START_TEST(own_miss_fetches_once_for_the_group)
{
	static struct local me, again;

	/* The owner misses first: its turn; a peer asking meanwhile waits. */
	local_init(&me, 20);
	ck_assert_int_eq(mc_peer_server_local_get(srv, &me.lr), MC_PEER_LOCAL_FETCH);
	get(&A, 1, 20);
	RUN_UNTIL(A.waits == 1);
	ck_assert_int_eq(A.turns + A.datas + A.nacks, 0);
	memcpy(me.buf, data, LEN);
	mc_peer_server_local_put(srv, &me.lr, 0);
	RUN_UNTIL(A.datas == 1);
	ck_assert(A.last_ok);
	ck_assert_mem_eq(A.buf, data, LEN);
	ck_assert_int_eq(st.commits, 1);
	/* Held now: a second own miss is a copy from the store. */
	local_init(&again, 20);
	ck_assert_int_eq(mc_peer_server_local_get(srv, &again.lr), MC_PEER_LOCAL_SERVED);
	ck_assert_mem_eq(again.buf, data, LEN);
	ck_assert_int_eq(me.calls + again.calls, 0);
}
END_TEST

START_TEST(own_miss_waits_for_a_peer)
{
	static struct local me, other;

	get(&A, 1, 21);
	RUN_UNTIL(A.turns == 1);
	local_init(&me, 21);
	ck_assert_int_eq(mc_peer_server_local_get(srv, &me.lr), MC_PEER_LOCAL_WAIT);
	put(&A, 1, 21, true);
	RUN_UNTIL(me.calls == 1);
	ck_assert_int_eq(me.v, MC_PEER_LOCAL_SERVED);
	ck_assert_mem_eq(me.buf, data, LEN);

	/* A fetcher that fails: the waiting owner gets the turn. */
	get(&B, 2, 22);
	RUN_UNTIL(B.turns == 1);
	local_init(&me, 22);
	ck_assert_int_eq(mc_peer_server_local_get(srv, &me.lr), MC_PEER_LOCAL_WAIT);
	put(&B, 2, 22, false);
	RUN_UNTIL(me.calls == 1);
	ck_assert_int_eq(me.v, MC_PEER_LOCAL_FETCH);
	/* A failed source read passes the turn on to the next waiter. */
	get(&C, 3, 22);
	settle();
	mc_peer_server_local_put(srv, &me.lr, -EIO);
	RUN_UNTIL(C.turns == 1);
	ck_assert_int_eq(st.commits, 1);

	/* A cancelled wait is never called back. */
	get(&A, 4, 23);
	RUN_UNTIL(A.turns == 2);
	local_init(&other, 23);
	ck_assert_int_eq(mc_peer_server_local_get(srv, &other.lr), MC_PEER_LOCAL_WAIT);
	mc_peer_server_local_cancel(srv, &other.lr);
	put(&A, 4, 23, true);
	settle();
	ck_assert_int_eq(other.calls, 0);
	ck_assert_int_eq(st.commits, 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("peer_server");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, one_fetch_serves_everyone);
	tcase_add_test(tc, wrong_bytes_are_never_stored);
	tcase_add_test(tc, stray_put_is_refused);
	tcase_add_test(tc, stalled_or_gone_fetcher_passes_the_turn);
	tcase_add_test(tc, no_room_passes_the_turn);
	tcase_add_test(tc, put_of_what_the_store_holds_serves_the_waiters);
	tcase_add_test(tc, put_cut_short_gives_the_room_back);
	tcase_add_test(tc, rdma_get_pins_until_done);
	tcase_add_test(tc, fanout_hands_out_holders);
	tcase_add_test(tc, no_holder_waiter_is_never_sent_to_a_holder);
	tcase_add_test(tc, own_miss_fetches_once_for_the_group);
	tcase_add_test(tc, own_miss_waits_for_a_peer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
