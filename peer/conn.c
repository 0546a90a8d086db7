// SPDX-License-Identifier: MIT
/*
 * See conn.h. One receive state machine (header, fixed part, payload) and
 * one queue of frames to send, both driven by the fd's readiness.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "crc.h"
#include "errmsg.h"
#include "list.h"

/* Bytes taken off the socket per wakeup, so one busy peer cannot starve the loop. */
#define READ_BUDGET	(8U << 20)

enum rx_state { RX_HDR, RX_FIXED, RX_PAYLOAD };

struct out_frame {
	struct mc_list link;
	uint8_t head[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	size_t head_len;
	const uint8_t *payload;
	size_t payload_len;
	size_t sent;			/* of head_len + payload_len */
};

struct mc_peer_conn {
	struct mc_loop *loop;
	int fd;
	const struct mc_peer_conn_ops *ops;
	void *arg;
	struct mc_peer_hs hs;
	bool ready;
	unsigned int events;		/* as watched */

	enum rx_state rx;
	uint8_t rbuf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	size_t rgot, rwant;
	struct mc_peer_hdr h;
	struct mc_peer_msg m;
	uint8_t *pbuf;

	struct mc_list outq;
	struct mc_list held;		/* sent before the handshake ended */
	struct mc_peer_conn_stats stats;

	/* A close asked from inside a callback waits for it to return. */
	unsigned int busy;
	bool closed;
	int close_err;
	char close_why[160];
};

static void conn_ready(void *arg, int fd, unsigned int revents);

static void drop_frames(struct mc_peer_conn *c, struct mc_list *q)
{
	struct out_frame *f, *tmp;

	mc_list_for_each_safe(f, tmp, q, link) {
		mc_list_del(&f->link);
		if (f->payload && c->ops->on_sent)
			c->ops->on_sent(c->arg, c, f->payload);
		free(f);
	}
}

static void conn_free(struct mc_peer_conn *c)
{
	mc_loop_forget(c->loop, c->fd);
	close(c->fd);
	drop_frames(c, &c->outq);
	drop_frames(c, &c->held);
	c->ops->on_close(c->arg, c, c->close_err, c->close_why);
	explicit_bzero(&c->hs, sizeof(c->hs));
	free(c);
}

/* Mark c closed; freed now, or when the callback running returns. */
static void conn_fail(struct mc_peer_conn *c, int err, const char *why)
{
	if (c->closed)
		return;
	c->closed = true;
	c->close_err = err;
	snprintf(c->close_why, sizeof(c->close_why), "%s", why ? why : "");
	if (!c->busy)
		conn_free(c);
}

/* Run a callback; false when it closed the connection (c is then gone). */
#define CALL(c, expr) ({						\
	bool alive_;							\
	(c)->busy++;							\
	expr;								\
	(c)->busy--;							\
	alive_ = !(c)->closed;						\
	if (!alive_ && !(c)->busy)					\
		conn_free(c);						\
	alive_;								\
})

static int watch(struct mc_peer_conn *c)
{
	unsigned int ev = POLLIN | (mc_list_empty(&c->outq) ? 0 : POLLOUT);

	if (ev == c->events)
		return 0;
	c->events = ev;
	return mc_loop_watch(c->loop, c->fd, ev, conn_ready, c);
}

static int queue_on(struct mc_peer_conn *c, struct mc_list *q,
		    const struct mc_peer_msg *m, const void *payload)
{
	struct out_frame *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->head_len = mc_peer_encode(m, f->head, sizeof(f->head));
	if (!f->head_len) {
		free(f);
		return -EINVAL;
	}
	if (m->type == MAICACHE_PEER_DATA || m->type == MAICACHE_PEER_PUT) {
		if (!payload) {
			free(f);
			return -EINVAL;
		}
		f->payload = payload;
		f->payload_len = m->data.len;
	}
	mc_list_add_tail(q, &f->link);
	return q == &c->outq ? watch(c) : 0;
}

static int queue(struct mc_peer_conn *c, const struct mc_peer_msg *m,
		 const void *payload)
{
	return queue_on(c, &c->outq, m, payload);
}

int mc_peer_conn_send(struct mc_peer_conn *c, const struct mc_peer_msg *m,
		      const void *payload)
{
	if (c->closed)
		return -ENOTCONN;
	if (m->type == MAICACHE_PEER_HELLO || m->type == MAICACHE_PEER_AUTH)
		return -EINVAL;
	/* Held until the peer is authenticated; nothing leaves before. */
	return queue_on(c, c->ready ? &c->outq : &c->held, m, payload);
}

void mc_peer_conn_close(struct mc_peer_conn *c)
{
	conn_fail(c, -ECANCELED, "closed");
}

const struct mc_node_id *mc_peer_conn_peer(const struct mc_peer_conn *c)
{
	return &c->hs.peer;
}

const struct mc_peer_conn_stats *mc_peer_conn_stats(const struct mc_peer_conn *c)
{
	return &c->stats;
}

/* ---- sending ---- */

/* Send what the socket takes; false when the connection was closed. */
static bool flush(struct mc_peer_conn *c)
{
	struct out_frame *f;
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov };
	ssize_t n;

	while ((f = mc_list_first(&c->outq, struct out_frame, link))) {
		size_t total = f->head_len + f->payload_len;

		mh.msg_iovlen = 0;
		if (f->sent < f->head_len) {
			iov[mh.msg_iovlen].iov_base = f->head + f->sent;
			iov[mh.msg_iovlen++].iov_len = f->head_len - f->sent;
		}
		if (f->payload_len) {
			size_t done = f->sent > f->head_len ? f->sent - f->head_len : 0;

			iov[mh.msg_iovlen].iov_base = (void *)(f->payload + done);
			iov[mh.msg_iovlen++].iov_len = f->payload_len - done;
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			conn_fail(c, -errno, strerror(errno));
			return false;
		}
		f->sent += (size_t)n;
		if (f->sent < total)
			break;
		mc_list_del(&f->link);
		c->stats.frames_out++;
		c->stats.payload_out += f->payload_len;
		if (f->payload && c->ops->on_sent &&
		    !CALL(c, c->ops->on_sent(c->arg, c, f->payload))) {
			free(f);
			return false;
		}
		free(f);
	}
	if (watch(c)) {
		conn_fail(c, -EIO, "cannot watch the socket");
		return false;
	}
	return true;
}

/* ---- receiving ---- */

static void expect(struct mc_peer_conn *c, enum rx_state st, size_t want)
{
	c->rx = st;
	c->rgot = 0;
	c->rwant = want;
}

/* The handshake's frames; false when the connection was closed. */
static bool handshake(struct mc_peer_conn *c)
{
	struct mc_peer_msg out;
	const char *why = NULL;
	int ret = mc_peer_hs_input(&c->hs, &c->m, &out, &why);

	if (ret < 0) {
		conn_fail(c, ret, why);
		return false;
	}
	if (ret == 1 && queue(c, &out, NULL)) {
		conn_fail(c, -ENOMEM, "cannot queue AUTH");
		return false;
	}
	if (c->hs.state == MC_HS_DONE) {
		c->ready = true;
		mc_list_splice_tail(&c->outq, &c->held);
		if (watch(c)) {
			conn_fail(c, -EIO, "cannot watch the socket");
			return false;
		}
		if (!c->ops->on_ready)
			return true;
		return CALL(c, c->ops->on_ready(c->arg, c));
	}
	return true;
}

/* A whole fixed part is in: act on it; false when closed. */
static bool got_fixed(struct mc_peer_conn *c)
{
	const char *why = NULL;

	if (mc_peer_body_decode(&c->h, c->rbuf + MAICACHE_PEER_HDR_SIZE, c->rwant, &c->m, &why)) {
		conn_fail(c, -EPROTO, why);
		return false;
	}
	c->stats.frames_in++;
	if (!c->ready)
		return handshake(c) && (expect(c, RX_HDR, MAICACHE_PEER_HDR_SIZE), true);
	switch (c->m.type) {
	case MAICACHE_PEER_HELLO:
	case MAICACHE_PEER_AUTH:
		conn_fail(c, -EPROTO, "handshake frame after the handshake");
		return false;
	case MAICACHE_PEER_DATA:
	case MAICACHE_PEER_PUT:
		if (!CALL(c, c->pbuf = c->ops->payload_buf(c->arg, c, &c->m)))
			return false;
		if (!c->pbuf) {
			conn_fail(c, -ENOBUFS, "payload refused");
			return false;
		}
		expect(c, RX_PAYLOAD, c->m.data.len);
		return true;
	default:
		expect(c, RX_HDR, MAICACHE_PEER_HDR_SIZE);
		return CALL(c, c->ops->on_msg(c->arg, c, &c->m));
	}
}

/* Bytes of the current part are in; move on. False when closed. */
static bool advance(struct mc_peer_conn *c)
{
	const char *why = NULL;
	bool ok;

	switch (c->rx) {
	case RX_HDR:
		if (mc_peer_hdr_decode(c->rbuf, &c->h, &why)) {
			conn_fail(c, -EPROTO, why);
			return false;
		}
		expect(c, RX_FIXED, mc_peer_fixed_len(c->h.type));
		return true;
	case RX_FIXED:
		return got_fixed(c);
	case RX_PAYLOAD:
		ok = mc_crc32c(c->pbuf, c->m.data.len) == c->m.data.crc32c;
		c->stats.payload_in += c->m.data.len;
		c->stats.bad_crc += !ok;
		expect(c, RX_HDR, MAICACHE_PEER_HDR_SIZE);
		return CALL(c, c->ops->on_payload(c->arg, c, &c->m, c->pbuf, ok));
	}
	return true;
}

/* Read what is there, within the budget; false when closed. */
static bool receive(struct mc_peer_conn *c)
{
	size_t budget = READ_BUDGET;
	uint8_t *dst;
	ssize_t n;

	while (budget) {
		if (c->rx == RX_PAYLOAD)
			dst = c->pbuf + c->rgot;
		else if (c->rx == RX_HDR)
			dst = c->rbuf + c->rgot;
		else
			dst = c->rbuf + MAICACHE_PEER_HDR_SIZE + c->rgot;
		n = recv(c->fd, dst, c->rwant - c->rgot, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n < 0) {
			conn_fail(c, -errno, strerror(errno));
			return false;
		}
		if (n == 0) {
			if (c->rx == RX_HDR && !c->rgot && c->ready)
				conn_fail(c, 0, "closed by the peer");
			else
				conn_fail(c, -ECONNRESET, "closed by the peer mid-frame");
			return false;
		}
		c->rgot += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		if (c->rgot == c->rwant && !advance(c))
			return false;
	}
	return true;
}

static void conn_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_peer_conn *c = arg;

	(void)fd;
	if ((revents & POLLOUT) && !flush(c))
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		receive(c);
}

int mc_peer_conn_new(struct mc_peer_conn **out, struct mc_loop *loop, int fd,
		     bool connector, const struct mc_group *g,
		     const struct mc_node_id *me, const struct mc_peer_conn_ops *ops,
		     void *arg)
{
	struct mc_peer_conn *c = calloc(1, sizeof(*c));
	struct mc_peer_msg hello;
	int one = 1, ret;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->loop = loop;
	c->fd = fd;
	c->ops = ops;
	c->arg = arg;
	mc_list_init(&c->outq);
	mc_list_init(&c->held);
	expect(c, RX_HDR, MAICACHE_PEER_HDR_SIZE);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail;
	}
	/* Frames are small and latency-bound; a failure on a non-TCP socket is fine. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = mc_peer_hs_start(&c->hs, g, me, connector, &hello);
	if (!ret)
		ret = queue(c, &hello, NULL);
	if (ret)
		goto fail;
	*out = c;
	return 0;
fail:
	mc_loop_forget(loop, fd);
	close(fd);
	free(c);
	return ret;
}

/* ---- sockets ---- */

static int resolve(const char *host, const char *port, bool passive,
		   struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	int rc = getaddrinfo(host, port, &hints, res);

	if (rc)
		return mc_errf(err, errlen, -EINVAL, "%s:%s: %s", host ? host : "*", port,
			       gai_strerror(rc));
	return 0;
}

int mc_peer_tcp_connect(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo *ai;
	int fd, ret;

	ret = resolve(host, port, false, &ai, err, errlen);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = mc_errf(err, errlen, -errno, "socket: %s", strerror(errno));
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		ret = mc_errf(err, errlen, -errno, "connect %s:%s: %s", host, port,
			      strerror(errno));
		close(fd);
	} else {
		ret = fd;
	}
	freeaddrinfo(ai);
	return ret;
}

int mc_peer_tcp_listen(const char *host, const char *port, unsigned int *bound,
		       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addrinfo *ai;
	int fd, one = 1, ret;

	ret = resolve(host, port, true, &ai, err, errlen);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return mc_errf(err, errlen, -errno, "socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		ret = mc_errf(err, errlen, -errno, "listen on %s:%s: %s", host ? host : "*",
			      port, strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return ret;
	}
	freeaddrinfo(ai);
	if (bound && !getsockname(fd, (struct sockaddr *)&ss, &sl))
		*bound = ntohs(ss.ss_family == AF_INET6 ?
			       ((struct sockaddr_in6 *)&ss)->sin6_port :
			       ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}
