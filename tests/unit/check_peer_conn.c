// SPDX-License-Identifier: MIT
/*
 * Unit tests for peer connections (peer/conn.c) over TCP on loopback, on
 * both event-loop engines: the handshake, frames both ways, payloads read
 * straight into the buffer the owner names and checked against their
 * CRC32C; and everything a bad peer can do (wrong key, garbage, a frame
 * before the handshake, a truncated frame, a payload nobody wants) ends the
 * connection with the reason, never a crash.
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
#include "conn.h"
#include "crc.h"
#include "loop.h"
#include "peer_fixture.h"

#define BIG (1U << 20)

struct side {
	struct mc_peer_conn *c;
	bool ready;
	bool closed;
	int close_err;
	char why[160];
	int msgs;
	struct mc_peer_msg last;
	uint8_t *buf;		/* payloads land here; NULL refuses them */
	int payloads;
	bool last_ok;
	int sent;
};

static void on_ready(void *arg, struct mc_peer_conn *c)
{
	(void)c;
	((struct side *)arg)->ready = true;
}

static void on_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct side *s = arg;

	(void)c;
	s->msgs++;
	s->last = *m;
}

static void *payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	(void)c;
	(void)m;
	return ((struct side *)arg)->buf;
}

static void on_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
		       void *buf, bool ok)
{
	struct side *s = arg;

	(void)c;
	ck_assert_ptr_eq(buf, s->buf);
	s->payloads++;
	s->last = *m;
	s->last_ok = ok;
}

static void on_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	(void)c;
	(void)payload;
	((struct side *)arg)->sent++;
}

static void on_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	struct side *s = arg;

	(void)c;
	s->closed = true;
	s->close_err = err;
	snprintf(s->why, sizeof(s->why), "%s", why);
	s->c = NULL;
}

static const struct mc_peer_conn_ops ops = {
	.on_ready = on_ready, .on_msg = on_msg, .payload_buf = payload_buf,
	.on_payload = on_payload, .on_sent = on_sent, .on_close = on_close,
};

static char dir[64];
static struct mc_loop *loop;

static struct mc_group group(const char *key)
{
	return fixture_group(dir, "test-group", key);
}

#define KEY1 "0123456789abcdef0123456789abcdef0123456789abcdef\n"
#define KEY2 "fedcba9876543210fedcba9876543210fedcba9876543210\n"

static void setup_engine(int engine)
{
	char err[256];

	strcpy(dir, "/tmp/mc-conn-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(mc_loop_new(&loop, engine ? MC_ENGINE_AIO : MC_ENGINE_AUTO, 64,
				  err, sizeof(err)) == 0, "%s", err);
}

static void teardown_engine(void)
{
	char cmd[128];

	mc_loop_free(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run the loop until cond holds or 5 s pass. */
#define RUN_UNTIL(cond) do {						\
	uint64_t end_ = mc_now_ms() + 5000;				\
	while (!(cond) && mc_now_ms() < end_)				\
		ck_assert_int_ge(mc_loop_run_once(loop, 50), 0);	\
	ck_assert_msg((cond), "timed out waiting for " #cond);		\
} while (0)

static struct mc_node_id id_of(uint8_t v)
{
	struct mc_node_id id;

	memset(id.b, v, sizeof(id.b));
	return id;
}

static struct mc_extent_key a_key(void)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = 3 };

	memset(k.blob, 9, sizeof(k.blob));
	return k;
}

static void connect_pair(struct side *a, struct side *b, const struct mc_group *ga,
			 const struct mc_group *gb)
{
	struct mc_node_id ia = id_of(1), ib = id_of(2);
	int cfd, afd = fixture_tcp_pair(&cfd);

	ck_assert_int_eq(mc_peer_conn_new(&a->c, loop, cfd, true, ga, &ia, &ops, a), 0);
	ck_assert_int_eq(mc_peer_conn_new(&b->c, loop, afd, false, gb, &ib, &ops, b), 0);
}

START_TEST(frames_and_payloads)
{
	struct mc_group g = group(KEY1);
	struct side a = { 0 }, b = { 0 };
	struct mc_peer_msg m = { 0 };
	uint8_t *data = malloc(BIG);
	struct mc_node_id ib = id_of(2);

	a.buf = calloc(1, BIG);
	for (uint32_t i = 0; i < BIG; i++)
		data[i] = (uint8_t)(i * 2654435761U >> 24);
	connect_pair(&a, &b, &g, &g);
	m.type = MAICACHE_PEER_GET;
	m.get = a_key();
	/* Sent before the handshake ends: held, and delivered after it. */
	m.seq = 40;
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), 0);
	RUN_UNTIL(a.ready && b.ready && b.msgs == 1);
	ck_assert_mem_eq(mc_peer_conn_peer(a.c)->b, ib.b, sizeof(ib.b));
	ck_assert_uint_eq(b.last.seq, 40);

	m.seq = 41;
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), 0);
	RUN_UNTIL(b.msgs == 2);
	ck_assert_uint_eq(b.last.type, MAICACHE_PEER_GET);
	ck_assert_uint_eq(b.last.seq, 41);
	ck_assert(mc_extent_key_eq(&b.last.get, &m.get));

	/* A whole extent back, into a's buffer. */
	memset(&m, 0, sizeof(m));
	m.type = MAICACHE_PEER_DATA;
	m.seq = 41;
	m.data.key = a_key();
	m.data.len = BIG;
	m.data.crc32c = mc_crc32c(data, BIG);
	ck_assert_int_eq(mc_peer_conn_send(b.c, &m, data), 0);
	RUN_UNTIL(a.payloads == 1 && b.sent == 1);
	ck_assert(a.last_ok);
	ck_assert_mem_eq(a.buf, data, BIG);

	/* Wrong bytes (a checksum that does not match) are flagged, not trusted. */
	m.seq = 42;
	m.data.crc32c ^= 1;
	ck_assert_int_eq(mc_peer_conn_send(b.c, &m, data), 0);
	RUN_UNTIL(a.payloads == 2);
	ck_assert(!a.last_ok);
	ck_assert_uint_eq(mc_peer_conn_stats(a.c)->bad_crc, 1);
	/* Handshake frames are not for sending by hand. */
	m.type = MAICACHE_PEER_HELLO;
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), -EINVAL);
	/* A DATA without its payload is refused on the way out. */
	m.type = MAICACHE_PEER_DATA;
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), -EINVAL);

	/* A clean close reaches the other side as one. */
	mc_peer_conn_close(a.c);
	ck_assert(a.closed);
	RUN_UNTIL(b.closed);
	ck_assert_int_eq(b.close_err, 0);
	free(data);
	free(a.buf);
	mc_group_wipe(&g);
}
END_TEST

/* A side with no on_ready (an accepting side that offers nothing) still works. */
START_TEST(on_ready_is_optional)
{
	static const struct mc_peer_conn_ops quiet_ops = {
		.on_msg = on_msg, .payload_buf = payload_buf, .on_payload = on_payload,
		.on_close = on_close,
	};
	struct mc_group g = group(KEY1);
	struct side a = { 0 }, b = { 0 };
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET, .seq = 7 };
	struct mc_node_id ia = id_of(1), ib = id_of(2);
	int cfd, afd = fixture_tcp_pair(&cfd);

	ck_assert_int_eq(mc_peer_conn_new(&a.c, loop, cfd, true, &g, &ia, &ops, &a), 0);
	ck_assert_int_eq(mc_peer_conn_new(&b.c, loop, afd, false, &g, &ib, &quiet_ops, &b), 0);
	m.get = a_key();
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), 0);
	RUN_UNTIL(a.ready && b.msgs == 1);
	ck_assert_uint_eq(b.last.seq, 7);
	ck_assert(!b.closed);
	mc_peer_conn_close(a.c);
	RUN_UNTIL(b.closed);
	mc_group_wipe(&g);
}
END_TEST

START_TEST(wrong_key_gets_nothing)
{
	struct mc_group g1 = group(KEY1), g2 = group(KEY2);
	struct side a = { 0 }, b = { 0 };
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET, .seq = 7 };

	connect_pair(&a, &b, &g1, &g2);
	/* Held for a handshake that fails: it never leaves. */
	m.get = a_key();
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, NULL), 0);
	RUN_UNTIL(a.closed && b.closed);
	ck_assert(!a.ready && !b.ready);
	/* The acceptor judges the key, and closes on the connector. */
	ck_assert_int_eq(b.close_err, -EACCES);
	ck_assert_int_lt(a.close_err, 0);
	ck_assert_msg(strstr(b.why, "wrong group key"), "%s", b.why);
	ck_assert_int_eq(b.msgs, 0);
}
END_TEST

/* Raw bytes at an accepting connection; how it closes. */
static void raw_at_server(const void *bytes, size_t n, bool then_close, struct side *b)
{
	struct mc_group g = group(KEY1);
	struct mc_node_id ib = id_of(2);
	int cfd, afd = fixture_tcp_pair(&cfd);

	ck_assert_int_eq(mc_peer_conn_new(&b->c, loop, afd, false, &g, &ib, &ops, b), 0);
	ck_assert_int_eq(send(cfd, bytes, n, MSG_NOSIGNAL), (ssize_t)n);
	if (then_close)
		shutdown(cfd, SHUT_WR);
	RUN_UNTIL(b->closed);
	close(cfd);
	mc_group_wipe(&g);
}

START_TEST(garbage_closes)
{
	struct side b = { 0 };
	char junk[64];

	memset(junk, 'x', sizeof(junk));
	raw_at_server(junk, sizeof(junk), false, &b);
	ck_assert_int_eq(b.close_err, -EPROTO);
	ck_assert_msg(strstr(b.why, "bad magic"), "%s", b.why);
	ck_assert(!b.ready);
}
END_TEST

START_TEST(frame_before_handshake_closes)
{
	struct side b = { 0 };
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET };
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	size_t n;

	m.get = a_key();
	n = mc_peer_encode(&m, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	raw_at_server(buf, n, false, &b);
	ck_assert_int_eq(b.close_err, -EPROTO);
	ck_assert_msg(strstr(b.why, "before HELLO"), "%s", b.why);
	ck_assert_int_eq(b.msgs, 0);
}
END_TEST

START_TEST(truncated_frame_closes)
{
	struct side b = { 0 };
	struct mc_peer_msg m = { .type = MAICACHE_PEER_HELLO };
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];

	ck_assert_uint_gt(mc_peer_encode(&m, buf, sizeof(buf)), 0);
	raw_at_server(buf, 30, true, &b);	/* header and 6 bytes of body */
	ck_assert_int_eq(b.close_err, -ECONNRESET);
	ck_assert_msg(strstr(b.why, "mid-frame"), "%s", b.why);
}
END_TEST

START_TEST(unwanted_payload_closes)
{
	struct mc_group g = group(KEY1);
	struct side a = { 0 }, b = { 0 };
	struct mc_peer_msg m = { .type = MAICACHE_PEER_PUT };
	static uint8_t data[4096];

	connect_pair(&a, &b, &g, &g);	/* b.buf NULL: b wants no payload */
	RUN_UNTIL(a.ready && b.ready);
	m.data.key = a_key();
	m.data.len = sizeof(data);
	m.data.crc32c = mc_crc32c(data, sizeof(data));
	ck_assert_int_eq(mc_peer_conn_send(a.c, &m, data), 0);
	RUN_UNTIL(b.closed && a.closed);
	ck_assert_int_eq(b.close_err, -ENOBUFS);
	ck_assert_int_eq(b.payloads, 0);
	mc_group_wipe(&g);
}
END_TEST

static void setup_uring(void) { setup_engine(0); }
static void setup_aio(void) { setup_engine(1); }

static Suite *suite(void)
{
	Suite *s = suite_create("peer_conn");

	for (int e = 0; e < 2; e++) {
		TCase *tc = tcase_create(e ? "aio" : "auto");

		tcase_add_checked_fixture(tc, e ? setup_aio : setup_uring, teardown_engine);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, frames_and_payloads);
	tcase_add_test(tc, on_ready_is_optional);
		tcase_add_test(tc, wrong_key_gets_nothing);
		tcase_add_test(tc, garbage_closes);
		tcase_add_test(tc, frame_before_handshake_closes);
		tcase_add_test(tc, truncated_frame_closes);
		tcase_add_test(tc, unwanted_payload_closes);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
