// SPDX-License-Identifier: MIT
/*
 * mc-bad-peer: a hostile member of a cache group, for the multi-VM tests.
 *
 *   mc-bad-peer wrongkey ADDR PORT GROUP KEYFILE
 *	connects with a key the group does not hold; exit 0 when the daemon
 *	closes the connection with nothing sent but its handshake.
 *   mc-bad-peer garbage ADDR PORT
 *	three connections: random bytes, a HELLO cut short, a header with a
 *	bad magic; exit 0 when the daemon closes each one.
 *   mc-bad-peer corrupt ADDR PORT GROUP KEYFILE NODE_ID SECS
 *	serves as member NODE_ID for SECS seconds, answering every GET with
 *	an extent of wrong bytes (their CRC32C does not match); prints how
 *	many it sent.
 *   mc-bad-peer rdma ADDR PORT
 *	RDMA connection requests to the daemon's RDMA listener: one with a
 *	token it never gave out, one with random private data, one with
 *	none; exit 0 when each is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rdma/rdma_cma.h>

#include "conn.h"
#include "crc.h"
#include "loop.h"

static struct mc_loop *loop;
static struct mc_group group;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "mc-bad-peer: %s: %s\n", what, why);
	exit(1);
}

static int dial(const char *addr, const char *port)
{
	char err[256];
	int fd = mc_peer_tcp_connect(addr, port, err, sizeof(err));
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	int so = 0;
	socklen_t sl = sizeof(so);

	if (fd < 0)
		die("connect", err);
	if (poll(&pf, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) || so)
		die("connect", so ? strerror(so) : "timed out");
	return fd;
}

/* ---- wrongkey ---- */

static bool w_closed, w_ready;
static unsigned int w_msgs;

static void w_on_ready(void *a, struct mc_peer_conn *c) { (void)a; (void)c; w_ready = true; }
static void w_on_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{ (void)a; (void)c; (void)m; w_msgs++; }
static void *w_buf(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{ (void)a; (void)c; (void)m; return NULL; }
static void w_payload(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m, void *b, bool ok)
{ (void)a; (void)c; (void)m; (void)b; (void)ok; w_msgs++; }
static void w_sent(void *a, struct mc_peer_conn *c, const void *p) { (void)a; (void)c; (void)p; }
static void w_close(void *a, struct mc_peer_conn *c, int err, const char *why)
{
	(void)a;
	(void)c;
	printf("closed: %d %s\n", err, why);
	w_closed = true;
}

static const struct mc_peer_conn_ops wrong_ops = { w_on_ready, w_on_msg, w_buf, w_payload, w_sent, w_close };

static int wrongkey(const char *addr, const char *port)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET, .seq = 1 };
	struct mc_peer_conn *c;
	struct mc_node_id me;
	uint64_t end = mc_now_ms() + 10000;

	memset(me.b, 0xbd, sizeof(me.b));
	if (mc_peer_conn_new(&c, loop, dial(addr, port), true, &group, &me, &wrong_ops, NULL))
		die("wrongkey", "cannot start");
	/* A GET, held until a handshake that must fail. */
	m.get.extent_shift = 18;
	mc_peer_conn_send(c, &m, NULL);
	while (!w_closed && mc_now_ms() < end)
		mc_loop_run_once(loop, 100);
	if (!w_closed)
		die("wrongkey", "the daemon kept the connection open");
	printf("wrong key: %s, %u frames after the handshake\n", w_ready ? "ACCEPTED" : "refused", w_msgs);
	return !w_ready && !w_msgs ? 0 : 1;
}

/* ---- garbage ---- */

/* Send n bytes then wait for the daemon to close: true when it did. */
static bool closed_after(const char *addr, const char *port, const void *p, size_t n)
{
	int fd = dial(addr, port);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char sink[4096];
	uint64_t end = mc_now_ms() + 10000;
	ssize_t r;

	if (send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
		die("garbage", strerror(errno));
	/* A cut-short frame: no more bytes come, and the daemon must not wait forever. */
	shutdown(fd, SHUT_WR);
	while (mc_now_ms() < end) {
		if (poll(&pf, 1, 500) != 1)
			continue;
		r = recv(fd, sink, sizeof(sink), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			close(fd);
			return true;
		}
	}
	close(fd);
	return false;
}

static int garbage(const char *addr, const char *port)
{
	uint8_t junk[4096], frame[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_msg hello = { .type = MAICACHE_PEER_HELLO };
	size_t n;
	int bad = 0;

	srandom(7);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)random();
	bad += !closed_after(addr, port, junk, sizeof(junk));
	memset(hello.hello.node_id, 0x42, sizeof(hello.hello.node_id));
	n = mc_peer_encode(&hello, frame, sizeof(frame));
	if (!n)
		die("garbage", "cannot encode a HELLO");
	bad += !closed_after(addr, port, frame, n / 2);
	frame[0] ^= 0xff;
	bad += !closed_after(addr, port, frame, n);
	printf("garbage: %d of 3 connections left open\n", bad);
	return bad ? 1 : 0;
}

/* ---- corrupt ---- */

static unsigned long corrupt_sent;

static void c_on_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct mc_peer_msg d = { .type = MAICACHE_PEER_DATA, .seq = m->seq };
	uint32_t len;
	uint8_t *buf;

	(void)a;
	if (m->type != MAICACHE_PEER_GET)
		return;
	len = 1U << m->get.extent_shift;
	buf = malloc(len);
	if (!buf)
		return;
	memset(buf, 0xe5, len);
	d.data.key = m->get;
	d.data.len = len;
	d.data.crc32c = mc_crc32c(buf, len) ^ 0x1;	/* wrong bytes for their checksum */
	if (mc_peer_conn_send(c, &d, buf))
		free(buf);
	else
		corrupt_sent++;
}

static void c_sent(void *a, struct mc_peer_conn *c, const void *p) { (void)a; (void)c; free((void *)p); }
static void c_close(void *a, struct mc_peer_conn *c, int err, const char *why)
{ (void)a; (void)c; (void)err; (void)why; }

static const struct mc_peer_conn_ops corrupt_ops = { w_on_ready, c_on_msg, w_buf, w_payload, c_sent, c_close };

static struct mc_node_id corrupt_id;

static void c_accept(void *arg, int lfd, unsigned int revents)
{
	struct mc_peer_conn *c;
	int fd;

	(void)arg;
	(void)revents;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		mc_peer_conn_new(&c, loop, fd, false, &group, &corrupt_id, &corrupt_ops, NULL);
}

static int corrupt(const char *addr, const char *port, const char *id, unsigned int secs)
{
	char err[256];
	uint64_t end = mc_now_ms() + secs * 1000ULL;
	int lfd;

	if (mc_node_id_parse(id, strlen(id), &corrupt_id))
		die("corrupt", "bad node id");
	lfd = mc_peer_tcp_listen(addr, port, NULL, err, sizeof(err));
	if (lfd < 0)
		die("listen", err);
	if (mc_loop_watch(loop, lfd, POLLIN, c_accept, NULL))
		die("corrupt", "cannot watch");
	printf("serving wrong bytes as %s on %s:%s\n", id, addr, port);
	fflush(stdout);
	while (mc_now_ms() < end)
		mc_loop_run_once(loop, 100);
	printf("corrupt: sent %lu extents of wrong bytes\n", corrupt_sent);
	return 0;
}

/* One synchronous RDMA connection request with pd (len bytes); true if refused. */
static bool rdma_refused(const char *addr, const char *port, const void *pd, uint8_t len)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct rdma_conn_param p = { .private_data = pd, .private_data_len = len,
				     .initiator_depth = 1, .retry_count = 3 };
	struct rdma_cm_id *id;
	bool refused;

	if (rdma_getaddrinfo(addr, port, &hints, &res)) {
		perror("rdma_getaddrinfo");
		return false;
	}
	if (rdma_create_ep(&id, res, NULL, &qa)) {
		perror("rdma_create_ep");
		rdma_freeaddrinfo(res);
		return false;
	}
	refused = rdma_connect(id, &p) && errno == ECONNREFUSED;
	if (!refused)
		fprintf(stderr, "mc-bad-peer: an RDMA request was not refused (%s)\n",
			strerror(errno));
	rdma_destroy_ep(id);
	rdma_freeaddrinfo(res);
	return refused;
}

static int rdma_requests(const char *addr, const char *port)
{
	struct { uint32_t magic; uint16_t version, reserved; uint8_t token[16]; } forged = {
		.magic = 0x4452434dU, .version = 1,
	};
	uint8_t junk[48];
	int bad = 0;

	for (size_t i = 0; i < sizeof(forged.token); i++)
		forged.token[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	bad += !rdma_refused(addr, port, &forged, sizeof(forged));
	bad += !rdma_refused(addr, port, junk, sizeof(junk));
	bad += !rdma_refused(addr, port, NULL, 0);
	printf("rdma: %d of 3 requests refused\n", 3 - bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	char err[256];

	if (mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err)))
		die("loop", err);
	if (argc == 4 && !strcmp(argv[1], "garbage"))
		return garbage(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "rdma"))
		return rdma_requests(argv[2], argv[3]);
	if ((argc == 6 && !strcmp(argv[1], "wrongkey")) ||
	    (argc == 8 && !strcmp(argv[1], "corrupt"))) {
		if (mc_group_load(&group, argv[4], argv[5], err, sizeof(err)))
			die("group key", err);
		if (argc == 6)
			return wrongkey(argv[2], argv[3]);
		return corrupt(argv[2], argv[3], argv[6], (unsigned int)atoi(argv[7]));
	}
	fprintf(stderr, "usage: mc-bad-peer wrongkey ADDR PORT GROUP KEYFILE | garbage ADDR PORT |\n"
		"       corrupt ADDR PORT GROUP KEYFILE NODE_ID SECS\n");
	return 2;
}
