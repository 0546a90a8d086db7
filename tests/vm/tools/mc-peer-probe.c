// SPDX-License-Identifier: MIT
/*
 * mc-peer-probe: the peer transport (peer/conn.c) between two real nodes.
 *
 *   mc-peer-probe serve ADDR PORT KEYFILE
 *	answers GETs with DATA: extent i of a synthetic blob (a pattern a
 *	fetcher can check), and streams raw bytes on PORT+1 for the baseline.
 *   mc-peer-probe fetch ADDR PORT KEYFILE MIB
 *	authenticates, fetches MIB extents of 1 MiB (4 in flight), checks
 *	every CRC32C and every byte, then reads MIB MiB of the raw stream;
 *	prints both rates and their ratio (one run: compare ratios only).
 *	Exit 0 only when every byte matched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "crc.h"
#include "loop.h"

#define EXT (1U << 20)
#define INFLIGHT 4

static struct mc_loop *loop;
static struct mc_group group;
static uint8_t *extent_bytes;		/* serve: the extent being sent */

static void fill(uint8_t *buf, uint64_t index)
{
	for (uint32_t i = 0; i < EXT; i += 8) {
		uint64_t w = index * 0x9e3779b97f4a7c15ULL ^ i;

		memcpy(buf + i, &w, 8);
	}
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "mc-peer-probe: %s: %s\n", what, why);
	exit(1);
}

/* ---- serve ---- */

static int serving_done;

static void s_ready(void *a, struct mc_peer_conn *c) { (void)a; (void)c; }
static void s_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct mc_peer_msg d = { .type = MAICACHE_PEER_DATA, .seq = m->seq };
	uint8_t *buf = malloc(EXT);

	(void)a;
	if (m->type != MAICACHE_PEER_GET || !buf) {
		free(buf);
		return;
	}
	fill(buf, m->get.index);
	d.data.key = m->get;
	d.data.len = EXT;
	d.data.crc32c = mc_crc32c(buf, EXT);
	if (mc_peer_conn_send(c, &d, buf))
		free(buf);
}
static void *s_buf(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{ (void)a; (void)c; (void)m; return NULL; }
static void s_payload(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m, void *b, bool ok)
{ (void)a; (void)c; (void)m; (void)b; (void)ok; }
static void s_sent(void *a, struct mc_peer_conn *c, const void *p) { (void)a; (void)c; free((void *)p); }
static void s_close(void *a, struct mc_peer_conn *c, int err, const char *why)
{
	(void)a;
	(void)c;
	fprintf(stderr, "mc-peer-probe: serve: connection closed: %d %s\n", err, why);
	serving_done = 1;
}

static const struct mc_peer_conn_ops serve_ops = { s_ready, s_msg, s_buf, s_payload, s_sent, s_close };

static int serve(const char *addr, const char *port)
{
	struct mc_node_id me;
	struct mc_peer_conn *c;
	char err[256], rport[16];
	unsigned int p;
	int lfd, rfd, fd, ret;
	struct pollfd pf;

	memset(me.b, 0xa0, sizeof(me.b));
	lfd = mc_peer_tcp_listen(addr, port, &p, err, sizeof(err));
	snprintf(rport, sizeof(rport), "%u", p + 1);
	rfd = mc_peer_tcp_listen(addr, rport, NULL, err, sizeof(err));
	if (lfd < 0 || rfd < 0)
		die("listen", err);
	printf("serving on %s:%s (raw stream on %s)\n", addr, port, rport);
	fflush(stdout);
	pf.fd = lfd;
	pf.events = POLLIN;
	if (poll(&pf, 1, 180000) != 1)
		die("serve", "no fetcher came");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ret = mc_peer_conn_new(&c, loop, fd, false, &group, &me, &serve_ops, NULL);
	if (ret)
		die("serve", strerror(-ret));
	while (!serving_done)
		if (mc_loop_run_once(loop, 100) < 0)
			die("serve", "loop failed");
	/* The raw baseline: the fetcher connects after the peer part. */
	pf.fd = rfd;
	if (poll(&pf, 1, 60000) != 1)
		die("serve", "no raw reader came");
	fd = accept4(rfd, NULL, NULL, SOCK_CLOEXEC);
	extent_bytes = malloc(EXT);
	memset(extent_bytes, 0x5a, EXT);
	for (;;) {
		ssize_t n = send(fd, extent_bytes, EXT, MSG_NOSIGNAL);

		if (n <= 0)
			break;
	}
	close(fd);
	printf("served\n");
	return 0;
}

/* ---- fetch ---- */

static uint64_t next_index, got, want, bad;
static bool ready, closed;
static uint8_t *bufs[INFLIGHT];
static uint64_t buf_index[INFLIGHT];

static void f_ready(void *a, struct mc_peer_conn *c) { (void)a; (void)c; ready = true; }
static void f_msg(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m) { (void)a; (void)c; (void)m; bad++; }
static void *f_buf(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	(void)a;
	(void)c;
	return m->seq < INFLIGHT + 0ULL ? NULL : bufs[m->seq % INFLIGHT];
}

static void ask(struct mc_peer_conn *c, uint64_t slot)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET };

	if (next_index >= want)
		return;
	m.get.extent_shift = 20;
	memset(m.get.blob, 0x42, sizeof(m.get.blob));
	m.get.index = next_index++;
	m.seq = INFLIGHT + slot + INFLIGHT * m.get.index;	/* seq % INFLIGHT: the buffer */
	buf_index[slot] = m.get.index;
	if (mc_peer_conn_send(c, &m, NULL))
		die("fetch", "cannot send GET");
}

static void f_payload(void *a, struct mc_peer_conn *c, const struct mc_peer_msg *m, void *b, bool ok)
{
	static uint8_t *want_bytes;
	uint64_t slot = m->seq % INFLIGHT;

	(void)a;
	if (!want_bytes)
		want_bytes = malloc(EXT);
	fill(want_bytes, m->data.key.index);
	if (!ok || m->data.key.index != buf_index[slot] || memcmp(b, want_bytes, EXT))
		bad++;
	got++;
	ask(c, slot);
}
static void f_sent(void *a, struct mc_peer_conn *c, const void *p) { (void)a; (void)c; (void)p; }
static void f_close(void *a, struct mc_peer_conn *c, int err, const char *why)
{
	(void)a;
	(void)c;
	if (got < want)
		fprintf(stderr, "mc-peer-probe: fetch: closed early: %d %s\n", err, why);
	closed = true;
}

static const struct mc_peer_conn_ops fetch_ops = { f_ready, f_msg, f_buf, f_payload, f_sent, f_close };

static int connect_retry(const char *addr, const char *port)
{
	char err[256];

	/* The server node may still be booting. */
	for (int i = 0; i < 600; i++) {
		int fd = mc_peer_tcp_connect(addr, port, err, sizeof(err));
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		int so = 0;
		socklen_t sl = sizeof(so);

		if (fd >= 0 && poll(&pf, 1, 2000) == 1 &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) && !so)
			return fd;
		if (fd >= 0)
			close(fd);
		usleep(200000);
	}
	die("connect", "the server never answered");
	return -1;
}

static int fetch(const char *addr, const char *port, uint64_t mib)
{
	struct mc_node_id me;
	struct mc_peer_conn *c;
	uint64_t t0, t1, t2, raw = 0;
	char rport[16];
	int fd, ret;
	static uint8_t sink[1 << 16];

	memset(me.b, 0xb0, sizeof(me.b));
	want = mib;
	for (int i = 0; i < INFLIGHT; i++)
		bufs[i] = malloc(EXT);
	fd = connect_retry(addr, port);
	ret = mc_peer_conn_new(&c, loop, fd, true, &group, &me, &fetch_ops, NULL);
	if (ret)
		die("fetch", strerror(-ret));
	while (!ready && !closed)
		mc_loop_run_once(loop, 100);
	if (!ready)
		die("fetch", "the handshake failed");
	t0 = mc_now_ms();
	for (int i = 0; i < INFLIGHT; i++)
		ask(c, (uint64_t)i);
	while (got < want && !closed)
		mc_loop_run_once(loop, 100);
	t1 = mc_now_ms();
	mc_peer_conn_close(c);
	snprintf(rport, sizeof(rport), "%u", (unsigned int)atoi(port) + 1);
	fd = connect_retry(addr, rport);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);	/* plain blocking reads */
	t2 = mc_now_ms();
	while (raw < mib * EXT) {
		ssize_t n = recv(fd, sink, sizeof(sink), 0);

		if (n <= 0)
			break;
		raw += (uint64_t)n;
	}
	t2 = mc_now_ms() - t2;
	close(fd);
	printf("peer fetch: %" PRIu64 " of %" PRIu64 " extents, %" PRIu64 " bad, %.1f MB/s; raw TCP %.1f MB/s; peer/raw %.2f\n",
	       got, want, bad, got * 1.048576 * 1000 / (double)(t1 - t0 ? t1 - t0 : 1),
	       raw / 1e3 / (double)(t2 ? t2 : 1),
	       (got * 1.048576 * 1000 / (double)(t1 - t0 ? t1 - t0 : 1)) /
	       (raw / 1e3 / (double)(t2 ? t2 : 1)));
	return got == want && !bad && raw >= mib * EXT ? 0 : 1;
}

int main(int argc, char **argv)
{
	char err[256];

	if (argc < 5 || (strcmp(argv[1], "serve") && strcmp(argv[1], "fetch")) ||
	    (!strcmp(argv[1], "fetch") && argc != 6)) {
		fprintf(stderr, "usage: mc-peer-probe serve ADDR PORT KEYFILE | fetch ADDR PORT KEYFILE MIB\n");
		return 2;
	}
	if (mc_group_load(&group, "probe", argv[4], err, sizeof(err)))
		die("group key", err);
	if (mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err)))
		die("loop", err);
	if (!strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	return fetch(argv[2], argv[3], strtoull(argv[5], NULL, 10));
}
