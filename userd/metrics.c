// SPDX-License-Identifier: MIT
/*
 * GET /metrics on the daemon's loop (metrics.h): libmicrohttpd in external
 * epoll mode, the snapshot taken while the request is answered.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon.h"
#include "errmsg.h"
#include "group.h"
#include "members.h"
#include "metrics.h"
#include "metrics_text.h"

#define METRICS_CONNECTIONS	16	/* scrapers at once */
#define METRICS_IDLE_S		10	/* a connection that sends nothing */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct mc_metrics {
	struct mc_daemon *d;
	struct MHD_Daemon *mhd;
	int epoll_fd;			/* MHD's: the loop watches it */
	struct mc_timer timer;		/* MHD_get_timeout() */
};

/* The module's devices, collected by mc_nl_dev_list(). */
struct dev_list {
	struct mc_daemon *d;
	struct mc_metrics_dev *v;
	size_t n, cap;
};

static void metrics_run(struct mc_metrics *m);

static void on_timer(void *arg)
{
	metrics_run(arg);
}

static void on_ready(void *arg, int fd, unsigned int revents)
{
	(void)fd;
	(void)revents;
	metrics_run(arg);
}

/* MHD does its work, then says when it wants to run again without an event. */
static void metrics_run(struct mc_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->mhd);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
		mc_timer_arm(m->d->loop, &m->timer, ms, on_timer, m);
	else
		mc_timer_cancel(m->d->loop, &m->timer);
}

static int add_dev(const struct mc_dev_info *dev, void *arg)
{
	struct dev_list *l = arg;
	struct mc_metrics_dev *md;
	struct mc_vol *v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	md = &l->v[l->n++];
	memset(md, 0, sizeof(*md));
	md->dev = *dev;
	v = dev->held ? NULL : mc_vol_by_cookie(l->d, dev->cookie);
	if (v && v->has_dev && v->dev_id == dev->id && v->state != MC_VOL_DETACHING) {
		md->has_vol = true;
		md->vol_name = v->name;
		md->vol_state = mc_vol_state_name(v->state);
		md->vol_fills = v->fills;
		md->vol_fill_bytes = v->fill_bytes;
		md->vol_fill_errors = v->fill_errors;
	}
	return 0;
}

static void count_vols(struct mc_daemon *d, struct mc_metrics_snap *s)
{
	struct mc_vol *v;

	mc_list_for_each(v, &d->vols, link) {
		switch (v->state) {
		case MC_VOL_OPENING:
			s->vols[MC_METRICS_VOL_OPENING]++;
			break;
		case MC_VOL_READY:
			s->vols[MC_METRICS_VOL_READY]++;
			break;
		case MC_VOL_STALE:
			s->vols[MC_METRICS_VOL_STALE]++;
			break;
		case MC_VOL_FAILED:
			s->vols[MC_METRICS_VOL_FAILED]++;
			break;
		case MC_VOL_DETACHING:
			break;
		}
	}
}

static void group_snap(struct mc_daemon *d, struct mc_metrics_snap *s)
{
	struct mc_group_info gi;
	struct mc_metrics_group *g = &s->group;

	s->has_group = mc_group_info(d, &gi);
	if (!s->has_group)
		return;
	g->members = gi.members;
	g->fetches = gi.fetches;
	g->from_peers = gi.from_peers;
	g->from_source = gi.from_source;
	g->timeouts = gi.timeouts;
	g->nacks = gi.nacks;
	g->bad_data = gi.bad_data;
	g->served = gi.served;
	g->served_bytes = gi.served_bytes;
	g->auth_failures = gi.auth_failures;
	g->store_bytes = gi.store_bytes;
	g->store_capacity = gi.store_capacity;
	g->store_extents = gi.store_extents;
	g->store_evicted = gi.store_evicted;
}

/* The exposition into *out (malloc'd), or a negative errno with err. */
static int render(struct mc_daemon *d, char **out, size_t *len, char *err, size_t errlen)
{
	struct dev_list l = { .d = d };
	struct mc_metrics_snap s;
	char nlerr[256];
	FILE *f;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = mc_nl_dev_list(d->nl, add_dev, &l, nlerr, sizeof(nlerr));
	if (ret) {
		free(l.v);
		return mc_errf(err, errlen, ret, "device list: %s", nlerr);
	}
	s.devs = l.v;
	s.ndevs = l.n;
	s.has_pool = !mc_nl_pool_get(d->nl, &s.pool, nlerr, sizeof(nlerr));
	if (!s.has_pool)
		mc_log(d, MC_LOG_WARN, "metrics: pool: %s", nlerr);
	mc_sources_stats(d->sources, &s.src);
	s.uptime_ms = mc_now_ms() - d->start_ms;
	s.inflight = d->inflight;
	s.unknown_misses = d->unknown_misses;
	s.bad_misses = d->bad_misses;
	s.ring_kicks = d->ring.kicks;
	s.ring_full = d->ring.ring_full;
	count_vols(d, &s);
	group_snap(d, &s);

	f = open_memstream(out, len);
	if (!f) {
		free(l.v);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	ret = mc_metrics_format(f, &s);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	free(l.v);
	if (ret) {
		free(*out);
		*out = NULL;
		return mc_errf(err, errlen, ret, "cannot format the metrics");
	}
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     char *body, size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *text)
{
	char *body = strdup(text);

	return body ? reply(conn, status, body, strlen(body), "text/plain; charset=utf-8")
		    : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	static int seen;
	struct mc_metrics *m = cls;
	char err[512], msg[600];
	char *body = NULL;
	size_t len = 0;

	(void)version;
	(void)upload_data;
	/* The first call has the headers only: answer on the second. */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;	/* a body to a GET: ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (render(m->d, &body, &len, err, sizeof(err))) {
		mc_log(m->d, MC_LOG_WARN, "metrics: %s", err);
		snprintf(msg, sizeof(msg), "maicached: %s\n", err);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
	}
	return reply(conn, MHD_HTTP_OK, body, len, METRICS_CONTENT_TYPE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct mc_metrics *m = cls;
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	mc_log(m->d, MC_LOG_DEBUG, "metrics: %s", buf);
}

/* A listening socket on addr ("host:port", "[v6]:port"), or -errno with err. */
static int listen_on(const char *addr, int *family, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *ai;
	struct mc_member mm;
	int fd, one = 1, ret;

	if (mc_member_parse_addr(addr, &mm))
		return mc_errf(err, errlen, -EINVAL, "metrics_listen %s: not a numeric address:port",
			       addr);
	ret = getaddrinfo(mm.host, mm.port, &hints, &ai);
	if (ret)
		return mc_errf(err, errlen, -EINVAL, "metrics_listen %s: %s", addr,
			       gai_strerror(ret));
	*family = ai->ai_family;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		freeaddrinfo(ai);
		return mc_errf(err, errlen, ret, "metrics_listen %s: socket: %s", addr,
			       strerror(-ret));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, METRICS_CONNECTIONS)) {
		ret = -errno;
		freeaddrinfo(ai);
		close(fd);
		return mc_errf(err, errlen, ret, "metrics_listen %s: %s", addr, strerror(-ret));
	}
	freeaddrinfo(ai);
	return fd;
}

int mc_metrics_start(struct mc_daemon *d, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct mc_metrics *m;
	int fd, family = AF_INET, ret;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (!d->cfg.metrics_listen[0])
		return 0;
	fd = listen_on(d->cfg.metrics_listen, &family, err, errlen);
	if (fd < 0)
		return fd;
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return mc_errf(err, errlen, -ENOMEM, "metrics: out of memory");
	}
	m->d = d;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Port 0: the socket is MHD_OPTION_LISTEN_SOCKET's, bound above. */
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_IDLE_S,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				  MHD_OPTION_END);
	if (!m->mhd) {
		close(fd);
		free(m);
		return mc_errf(err, errlen, -EIO, "metrics_listen %s: libmicrohttpd did not start",
			       d->cfg.metrics_listen);
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	m->epoll_fd = info ? info->epoll_fd : -1;
	ret = m->epoll_fd < 0 ? -EIO : mc_loop_watch(d->loop, m->epoll_fd, POLLIN, on_ready, m);
	if (ret) {
		MHD_stop_daemon(m->mhd);
		free(m);
		return mc_errf(err, errlen, ret, "metrics_listen %s: cannot watch its epoll fd",
			       d->cfg.metrics_listen);
	}
	d->metrics = m;
	metrics_run(m);
	mc_log(d, MC_LOG_INFO, "metrics on http://%s/metrics", d->cfg.metrics_listen);
	return 0;
}

void mc_metrics_stop(struct mc_daemon *d)
{
	struct mc_metrics *m = d->metrics;

	if (!m)
		return;
	mc_loop_forget(d->loop, m->epoll_fd);
	mc_timer_cancel(d->loop, &m->timer);
	/* Closes the listening socket too. */
	MHD_stop_daemon(m->mhd);
	free(m);
	d->metrics = NULL;
}
