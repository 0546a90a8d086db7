// SPDX-License-Identifier: MIT
/*
 * The control socket of maicached: a SOCK_SEQPACKET Unix socket, mode 0600,
 * root only (checked again with SO_PEERCRED: credentials travel on it).
 * Each connection sends requests (ctl_msg.h) and reads replies:
 *
 *   op=attach url= [extent_size=] [name=] [id=] cred.*  -> ok, dev, id, size, etag
 *   op=detach dev= [force=1]                            -> ok
 *   op=list                                             -> ok, count, then one message per volume
 *   op=stats                                            -> ok + daemon counters, then volumes
 *   op=peers                                            -> ok + group counters, then one message per member
 *
 * A failed request answers ok=0 with errno= and error= (a message for the
 * user, naming what to fix). An attach answers once its source is open.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "ctl_msg.h"
#include "ctl_server.h"
#include "group.h"

/* One request per connection: maicachectl connects for each command. */
struct mc_ctl_conn {
	struct mc_daemon *d;
	int fd;
	bool busy;		/* an attach is waiting for its source */
	bool in_handler;	/* mc_ctl_done() must not free it yet */
	bool done;
};

static void conn_free(struct mc_ctl_conn *c)
{
	mc_loop_forget(c->d->loop, c->fd);
	close(c->fd);
	free(c);
}

static void send_msg(struct mc_ctl_conn *c, struct mc_msg *m)
{
	int ret = mc_msg_send(c->fd, m);

	if (ret && ret != -EPIPE && ret != -ECONNRESET)
		mc_log(c->d, MC_LOG_WARN, "control: cannot send a reply: %s", strerror(-ret));
}

static void mc_ctl_reply_error(struct mc_ctl_conn *c, int err, const char *msg)
{
	struct mc_msg *m = malloc(sizeof(*m));

	if (m) {
		mc_msg_init(m);
		mc_msg_add(m, "ok", "0");
		mc_msg_add_u64(m, "errno", (uint64_t)(err < 0 ? -err : err));
		mc_msg_add(m, "error", msg && *msg ? msg : strerror(err < 0 ? -err : err));
		send_msg(c, m);
		free(m);
	}
}

/* The request of c is answered: end the connection (after the handler). */
static void mc_ctl_done(struct mc_ctl_conn *c)
{
	if (c->in_handler)
		c->done = true;
	else
		conn_free(c);
}

static void vol_to_msg(const struct mc_vol_info *v, struct mc_msg *m)
{
	mc_msg_add_u64(m, "id", v->dev_id);
	mc_msg_addf(m, "dev", "/dev/maicache%u", v->dev_id);
	mc_msg_add(m, "name", v->name);
	mc_msg_add(m, "url", v->url);
	mc_msg_add(m, "kind", v->kind);
	mc_msg_add(m, "state", v->state);
	mc_msg_add_u64(m, "size", v->size);
	mc_msg_add_u64(m, "extent_size", v->extent_size);
	mc_msg_add_u64(m, "cookie", v->cookie);
	mc_msg_add(m, "etag", v->etag);
	mc_msg_add(m, "auth", v->auth);
	mc_msg_add_u64(m, "fills", v->fills);
	mc_msg_add_u64(m, "fill_bytes", v->fill_bytes);
	mc_msg_add_u64(m, "fill_errors", v->fill_errors);
	mc_msg_add_u64(m, "inflight", v->inflight);
	mc_msg_add(m, "last_error", v->last_error);
}

struct send_ctx {
	struct mc_ctl_conn *c;
	struct mc_msg *m;
};

static void send_vol(void *arg, const struct mc_vol_info *info)
{
	struct send_ctx *ctx = arg;

	mc_msg_init(ctx->m);
	vol_to_msg(info, ctx->m);
	send_msg(ctx->c, ctx->m);
}

/* The group's counters, prefixed group_ (none outside a group). */
static void group_counters(struct mc_daemon *d, struct mc_msg *m)
{
	struct mc_group_info gi;

	if (!mc_group_info(d, &gi))
		return;
	mc_msg_add(m, "group", gi.name);
	mc_msg_add(m, "group_node_id", gi.node_id);
	mc_msg_add(m, "group_listen", gi.listen);
	mc_msg_add_u64(m, "group_members", gi.members);
	mc_msg_add_u64(m, "group_in_members", gi.in_members);
#define U(f) mc_msg_add_u64(m, "group_" #f, gi.f)
	U(fetches); U(from_peers); U(from_source); U(turns); U(waits);
	U(bad_data); U(nacks); U(timeouts); U(no_conn);
	U(gets_served); U(served); U(served_bytes); U(puts); U(bad_puts); U(stray_puts);
	U(local_gets); U(local_served);
	mc_msg_add(m, "group_store", gi.store);
	U(store_bytes); U(store_capacity); U(store_extents); U(store_evicted);
	U(store_pinned); U(store_full); U(store_errors);
	U(rdma); U(rdma_port); U(rdma_links); U(rdma_rejected); U(rdma_dropped); U(rdma_full);
	U(rdma_reads); U(rdma_bytes); U(rdma_errors); U(rdma_direct); U(rdma_stale);
	U(rdma_locs); U(rdma_dones); U(rdma_lapsed);
	U(fanout); U(fan_redirected); U(fan_queued); U(fan_haves); U(fan_peak);
	U(holder_asks); U(from_holders); U(holder_fails); U(holder_served);
	U(holder_copies); U(holder_not_held);
	U(auth_failures); U(bad_frames); U(cut_short); U(accepted); U(refused);
	U(membership_changes);
	mc_msg_add_u64(m, "group_home", gi.home);
	if (gi.home) {
#define H(f) mc_msg_add_u64(m, "home_" #f, gi.hi.f)
		H(gateways); H(regions); H(reads); H(from_home); H(turns); H(fallbacks);
		H(local); H(waits); H(nacks); H(timeouts); H(no_conn);
		H(gets_served); H(served); H(puts);
		mc_msg_add_u64(m, "home_gateway", (uint64_t)gi.hi.gateway);
#undef H
	}
	mc_msg_add(m, "group_membership", gi.etcd ? "etcd" : "file");
	if (gi.etcd) {
		U(etcd_reachable); U(etcd_registered); U(etcd_failures); U(etcd_events);
	}
#undef U
}

static void op_list(struct mc_ctl_conn *c, struct mc_msg *m, bool stats)
{
	struct send_ctx ctx = { .c = c, .m = m };
	struct mc_daemon *d = c->d;
	struct mc_source_stats ss;

	mc_msg_init(m);
	mc_msg_add(m, "ok", "1");
	mc_msg_add_u64(m, "count", mc_vol_count(d));
	if (stats) {
		mc_sources_stats(d->sources, &ss);
		mc_msg_add_u64(m, "pid", (uint64_t)getpid());
		mc_msg_add(m, "engine", mc_loop_engine_name(d->loop));
		mc_msg_add_u64(m, "uptime_ms", mc_now_ms() - d->start_ms);
		mc_msg_add_u64(m, "inflight", d->inflight);
		mc_msg_add_u64(m, "blob_gets", ss.blob_gets);
		mc_msg_add_u64(m, "blob_heads", ss.blob_heads);
		mc_msg_add_u64(m, "blob_retries", ss.blob_retries);
		mc_msg_add_u64(m, "blob_bytes", ss.blob_bytes);
		mc_msg_add_u64(m, "blob_errors", ss.blob_errors);
		mc_msg_add_u64(m, "blob_stale", ss.blob_stale);
		mc_msg_add_u64(m, "blob_corrupt", ss.blob_corrupt);
		mc_msg_add_u64(m, "blob_unverified", ss.blob_unverified);
		mc_msg_add_u64(m, "unknown_misses", d->unknown_misses);
		mc_msg_add_u64(m, "bad_misses", d->bad_misses);
		mc_msg_add_u64(m, "ring_kicks", d->ring.kicks);
		mc_msg_add_u64(m, "ring_full", d->ring.ring_full);
		group_counters(d, m);
	}
	send_msg(c, m);
	mc_vol_for_each(d, send_vol, &ctx);
}

static void send_member(void *arg, const struct mc_group_member_info *mi)
{
	struct send_ctx *ctx = arg;
	struct mc_msg *m = ctx->m;

	mc_msg_init(m);
	mc_msg_add(m, "node_id", mi->node_id);
	mc_msg_addf(m, "addr", strchr(mi->host, ':') ? "[%s]:%s" : "%s:%s", mi->host, mi->port);
	mc_msg_add(m, "region", mi->region);
	mc_msg_add(m, "state", mi->state);
	/* Parts per million: the protocol carries whole numbers. */
	mc_msg_add_u64(m, "share_ppm", (uint64_t)(mi->share * 1e6 + 0.5));
	if (mi->owned_extents != UINT64_MAX)
		mc_msg_add_u64(m, "owned_extents", mi->owned_extents);
	mc_msg_add_u64(m, "got_bytes", mi->got_bytes);
	mc_msg_add_u64(m, "bad_data", mi->bad_data);
	mc_msg_add_u64(m, "served_bytes", mi->served_bytes);
	send_msg(ctx->c, m);
}

static void op_peers(struct mc_ctl_conn *c, struct mc_msg *m)
{
	struct send_ctx ctx = { .c = c, .m = m };
	struct mc_group_info gi;

	if (!mc_group_info(c->d, &gi)) {
		mc_ctl_reply_error(c, -ENOENT, "this daemon is in no cache group (config key group)");
		return;
	}
	mc_msg_init(m);
	mc_msg_add(m, "ok", "1");
	mc_msg_add_u64(m, "count", gi.members);
	group_counters(c->d, m);
	send_msg(c, m);
	mc_group_for_each_member(c->d, send_member, &ctx);
}

/* The attach's result: reply, and end the connection. */
static void attach_done(void *arg, int res, const char *msg,
			const struct mc_vol *v)
{
	struct mc_ctl_conn *c = arg;
	struct mc_vol_info info;
	struct mc_msg *m;

	if (res) {
		mc_ctl_reply_error(c, res, msg);
	} else if ((m = malloc(sizeof(*m)))) {
		mc_vol_info(v, &info);
		mc_msg_init(m);
		mc_msg_add(m, "ok", "1");
		mc_msg_addf(m, "dev", "/dev/maicache%u", info.dev_id);
		mc_msg_add_u64(m, "id", info.dev_id);
		mc_msg_add_u64(m, "size", info.size);
		mc_msg_add_u64(m, "data_size", info.data_size);
		mc_msg_add(m, "etag", info.etag);
		send_msg(c, m);
		free(m);
	}
	mc_ctl_done(c);
}

/* op=attach url= [extent_size=] [name=] [id=] cred.* */
static void op_attach(struct mc_ctl_conn *c, struct mc_msg *m)
{
	struct mc_vol_spec spec = { 0 };
	char err[512];
	uint64_t n;
	int ret;

	spec.url = mc_msg_get(m, "url");
	spec.name = mc_msg_get(m, "name");
	if (!spec.url || !*spec.url) {
		mc_ctl_reply_error(c, -EINVAL, "attach needs url=");
		return;
	}
	ret = mc_msg_get_u64(m, "extent_size", &n);
	if (ret == -ENOENT) {
		n = 0;
	} else if (ret || !n || n > UINT32_MAX) {
		mc_ctl_reply_error(c, -EINVAL, "extent_size: not a number of bytes");
		return;
	}
	spec.extent_size = (uint32_t)n;
	ret = mc_msg_get_u64(m, "id", &n);
	if (!ret && n <= UINT32_MAX) {
		spec.has_id = true;
		spec.id = (uint32_t)n;
	} else if (ret != -ENOENT) {
		mc_ctl_reply_error(c, -EINVAL, "id: not a device number");
		return;
	}
	ret = mc_source_args_from_msg(spec.url, m, &spec.args, err, sizeof(err));
	if (!ret)
		ret = mc_vol_attach(c->d, &spec, attach_done, c, err, sizeof(err));
	if (!ret) {
		c->busy = true;		/* attach_done() replies, now or later */
		return;
	}
	mc_ctl_reply_error(c, ret, err);
}

static void op_detach(struct mc_ctl_conn *c, struct mc_msg *m)
{
	const char *what = mc_msg_get(m, "dev"), *force;
	char err[512];
	struct mc_vol *v;
	int ret;

	if (!what) {
		mc_ctl_reply_error(c, -EINVAL, "detach needs dev= (a device, id, name or URL)");
		return;
	}
	v = mc_vol_find(c->d, what);
	if (!v) {
		snprintf(err, sizeof(err),
			 "'%.300s' is not attached: see `maicachectl list`", what);
		mc_ctl_reply_error(c, -ENOENT, err);
		return;
	}
	/* force=1: even from under a mount (its readers get EIO). */
	force = mc_msg_get(m, "force");
	if (force && strcmp(force, "1")) {
		mc_ctl_reply_error(c, -EINVAL, "detach: force= takes 1");
		return;
	}
	ret = mc_vol_detach(v, force != NULL, err, sizeof(err));
	if (ret) {
		mc_ctl_reply_error(c, ret, err);
		return;
	}
	mc_msg_init(m);
	mc_msg_add(m, "ok", "1");
	send_msg(c, m);
}

static void handle(struct mc_ctl_conn *c, struct mc_msg *m)
{
	const char *op = mc_msg_get(m, "op");

	if (!op) {
		mc_ctl_reply_error(c, -EINVAL, "request without op=");
	} else if (!strcmp(op, "attach")) {
		op_attach(c, m);
	} else if (!strcmp(op, "detach")) {
		op_detach(c, m);
	} else if (!strcmp(op, "list")) {
		op_list(c, m, false);
	} else if (!strcmp(op, "stats")) {
		op_list(c, m, true);
	} else if (!strcmp(op, "peers")) {
		op_peers(c, m);
	} else {
		char err[128];

		snprintf(err, sizeof(err), "unknown op '%.32s'", op);
		mc_ctl_reply_error(c, -EOPNOTSUPP, err);
	}
}

static void conn_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_ctl_conn *c = arg;
	struct mc_msg *m;
	char err[256];
	int ret;

	(void)fd;
	(void)revents;
	if (c->busy)
		return;
	m = malloc(sizeof(*m));
	if (!m) {
		conn_free(c);
		return;
	}
	ret = mc_msg_recv(c->fd, m, err, sizeof(err));
	if (ret == -EAGAIN) {
		free(m);
		return;
	}
	if (ret) {
		if (ret != -ECONNRESET) {
			mc_log(c->d, MC_LOG_WARN, "control: bad request: %s", err);
			mc_ctl_reply_error(c, ret, err);
		}
		free(m);
		conn_free(c);
		return;
	}
	c->in_handler = true;
	handle(c, m);
	c->in_handler = false;
	free(m);
	/* An attach keeps the connection until its reply: mc_ctl_done(). */
	if (c->busy && !c->done)
		mc_loop_watch(c->d->loop, c->fd, 0, NULL, NULL);
	else
		conn_free(c);
}

static bool peer_is_root(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) && cr.uid == 0;
}

static void listen_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_daemon *d = arg;
	struct mc_ctl_conn *c;
	int cfd;

	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (!peer_is_root(cfd)) {
		mc_log(d, MC_LOG_WARN, "control: refused a connection from a non-root peer");
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->d = d;
	c->fd = cfd;
	if (mc_loop_watch(d->loop, cfd, POLLIN, conn_ready, c)) {
		close(cfd);
		free(c);
	}
}

int mc_ctl_listen(struct mc_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		return mc_errf(err, errlen, -ENAMETOOLONG, "socket path '%s' is too long", path);
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "socket: %s", strerror(errno));
	/* A socket file left by a daemon that died: nobody listens on it. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	ret = mc_loop_watch(d->loop, fd, POLLIN, listen_ready, d);
	if (ret) {
		snprintf(err, errlen, "cannot watch the control socket: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	d->ctl_fd = fd;
	return 0;
}

void mc_ctl_close(struct mc_daemon *d)
{
	if (d->ctl_fd < 0)
		return;
	mc_loop_forget(d->loop, d->ctl_fd);
	close(d->ctl_fd);
	unlink(d->cfg.socket);
	d->ctl_fd = -1;
}
