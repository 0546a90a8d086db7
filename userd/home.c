// SPDX-License-Identifier: MIT
/*
 * See home.h. The tier reuses the group's parts: a peer client whose
 * members are the registry's gateways (ranked per region here), and on a
 * gateway a peer server over the group's store. Connections to gateways
 * carry this node's requests; accepted ones carry other groups' requests
 * to this gateway. No RDMA and no fan-out across groups yet: one transfer
 * per group and extent, over TCP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "conn.h"
#include "daemon.h"
#include "errmsg.h"
#include "home.h"
#include "homes.h"
#include "members.h"
#include "placement.h"
#include "tier_read.h"

#define HOME_NAME	"maicache-home"	/* the name the cluster key is bound to */
#define TICK_MS		200
#define REDIAL_MS	1000
#define ACCEPT_MAX	4096

/* This node's connection to gateway i (h->gw.m[i]). */
struct gw_link {
	struct mc_home *h;
	const struct mc_member *m;
	struct mc_peer_conn *c;
	uint64_t redial_ms;
};

struct accepted {
	struct mc_list link;
	struct mc_home *h;
	struct mc_peer_conn *c;
};

/* One extent read through the tier. */
struct hread {
	struct mc_list link;
	struct mc_home *h;
	struct mc_source *src;
	uint64_t off;
	mc_source_cb cb;
	void *arg;
	struct mc_tier_read t;		/* t.f.arg is &t */
};

struct mc_home {
	struct mc_daemon *d;
	struct mc_group grp;
	struct mc_node_id me;
	struct mc_members gw;
	struct gw_link *links;
	size_t self;			/* in gw, or SIZE_MAX */
	struct mc_homes homes;		/* this node's region, then home_regions' */
	int listen_fd;
	struct mc_peer_server *srv;	/* a gateway's */
	struct mc_peer_client *cl;
	struct mc_list accepted, reads;
	unsigned int naccepted;
	struct mc_timer tick;
};

/* ---- reads ---- */

static struct hread *hread_of(struct mc_tier_read *t)
{
	return (struct hread *)((char *)t - offsetof(struct hread, t));
}

static void read_end(struct hread *r, int res)
{
	mc_tier_cancel(&r->t);
	mc_list_del(&r->link);
	r->cb(r->arg, res, res && r->t.msg[0] ? r->t.msg : NULL);
	free(r);
}

/* A TURN from the home, no gateway left, or this gateway's own turn: Blob. */
static int blob_read(struct mc_tier_read *t, mc_source_cb cb)
{
	struct hread *r = hread_of(t);

	return mc_source_read(r->src, &t->rq, r->off, t->f.dst, t->f.len, cb, t);
}

/* This gateway is the extent's home: its own single flight. */
static void cl_local(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	mc_tier_local(f->arg);
}

static void cl_source(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	mc_tier_source(f->arg);
}

static void cl_done(void *arg, struct mc_peer_fetch *f, int res)
{
	(void)arg;
	read_end(hread_of(f->arg), res);
}

static void log_close(struct mc_home *h, int err, const char *who, const char *why)
{
	if (err && err != -ECANCELED)
		mc_log(h->d, MC_LOG_INFO, "home tier: %s: connection closed: %s", who,
		       why && *why ? why : strerror(-err));
}

/* ---- connections to gateways ---- */

static void out_ready(void *arg, struct mc_peer_conn *c)
{
	struct gw_link *l = arg;

	/* Someone else at the gateway's address: talk to the gateway only. */
	if (memcmp(mc_peer_conn_peer(c)->b, l->m->id.b, sizeof(l->m->id.b))) {
		mc_log(l->h->d, MC_LOG_WARN, "home tier: %s:%s is not the gateway listed: closing",
		       l->m->host, l->m->port);
		mc_peer_conn_close(c);
	}
}

static void out_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct gw_link *l = arg;

	if (m->type == MAICACHE_PEER_RDMA_OFFER)
		return;		/* no RDMA across groups yet */
	if (!mc_peer_client_msg(l->h->cl, c, m))
		mc_peer_conn_close(c);
}

static void *out_payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct gw_link *l = arg;
	void *buf = NULL;

	return mc_peer_client_payload_buf(l->h->cl, c, m, &buf) ? buf : NULL;
}

static void out_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
			void *buf, bool crc_ok)
{
	struct gw_link *l = arg;

	mc_peer_client_payload(l->h->cl, c, m, buf, crc_ok);
}

static void out_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	struct gw_link *l = arg;

	if (l->h->cl)
		mc_peer_client_sent(l->h->cl, c, payload);
}

static void out_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	struct gw_link *l = arg;
	char who[MC_MEMBER_ADDR_MAX + 16];

	l->c = NULL;
	if (err)
		l->redial_ms = mc_now_ms() + REDIAL_MS;
	snprintf(who, sizeof(who), "gateway %s:%s", l->m->host, l->m->port);
	log_close(l->h, err, who, why);
	if (l->h->cl)
		mc_peer_client_closed(l->h->cl, c);
}

static const struct mc_peer_conn_ops out_ops = {
	.on_ready	= out_ready,
	.on_msg		= out_msg,
	.payload_buf	= out_payload_buf,
	.on_payload	= out_payload,
	.on_sent	= out_sent,
	.on_close	= out_close,
};

static struct mc_peer_conn *cl_conn_to(void *arg, size_t i)
{
	struct mc_home *h = arg;
	struct gw_link *l;
	char err[256];
	int fd;

	if (i >= h->gw.n || i == h->self)
		return NULL;
	l = &h->links[i];
	if (l->c || mc_now_ms() < l->redial_ms)
		return l->c;
	fd = mc_peer_tcp_connect(l->m->host, l->m->port, err, sizeof(err));
	if (fd < 0 || mc_peer_conn_new(&l->c, h->d->loop, fd, true, &h->grp, &h->me,
				       &out_ops, l)) {
		l->c = NULL;
		l->redial_ms = mc_now_ms() + REDIAL_MS;
		return NULL;
	}
	return l->c;
}

static const struct mc_peer_client_ops client_ops = {
	.conn_to	= cl_conn_to,
	.source		= cl_source,
	.done		= cl_done,
	.local		= cl_local,
};

/* ---- other groups' requests to this gateway ---- */

static void in_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct accepted *a = arg;

	if (!mc_peer_server_msg(a->h->srv, c, m))
		mc_peer_conn_close(c);
}

static void *in_payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct accepted *a = arg;
	void *buf = NULL;

	return mc_peer_server_payload_buf(a->h->srv, c, m, &buf) ? buf : NULL;
}

static void in_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
		       void *buf, bool crc_ok)
{
	struct accepted *a = arg;

	mc_peer_server_payload(a->h->srv, c, m, buf, crc_ok);
}

static void in_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	struct accepted *a = arg;

	mc_peer_server_sent(a->h->srv, c, payload);
}

static void in_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	struct accepted *a = arg;

	log_close(a->h, err, "another group's connection", why);
	mc_peer_server_closed(a->h->srv, c);
	mc_list_del(&a->link);
	a->h->naccepted--;
	free(a);
}

static const struct mc_peer_conn_ops in_ops = {
	.on_msg		= in_msg,
	.payload_buf	= in_payload_buf,
	.on_payload	= in_payload,
	.on_sent	= in_sent,
	.on_close	= in_close,
};

static void listen_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_home *h = arg;
	struct accepted *a;
	int cfd;

	(void)revents;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		a = h->naccepted < ACCEPT_MAX ? calloc(1, sizeof(*a)) : NULL;
		if (!a) {
			close(cfd);
			continue;
		}
		a->h = h;
		if (mc_peer_conn_new(&a->c, h->d->loop, cfd, false, &h->grp, &h->me, &in_ops, a)) {
			free(a);
			continue;
		}
		mc_list_add_tail(&h->accepted, &a->link);
		h->naccepted++;
	}
}

static void tick(void *arg)
{
	struct mc_home *h = arg;

	mc_peer_server_tick(h->srv, mc_now_ms());
	mc_timer_arm(h->d->loop, &h->tick, TICK_MS, tick, h);
}

/* ---- start and stop ---- */

static int regions_build(struct mc_home *h, char *err, size_t errlen)
{
	const struct mc_config *cfg = &h->d->cfg;
	char bad[MC_MEMBER_REGION_MAX] = "";
	int ret = mc_homes_init(&h->homes, &h->gw, cfg->region, cfg->home_regions, bad);

	if (ret == -ENOENT)
		return mc_errf(err, errlen, -EINVAL, "%s lists no gateway in region %s",
			       cfg->home_registry, bad);
	if (ret == -EINVAL)
		return mc_errf(err, errlen, ret, "home_regions: '%s' holds an empty region",
			       cfg->home_regions);
	if (ret)
		return mc_errf(err, errlen, ret, "out of memory");
	return 0;
}

static int gateway_start(struct mc_home *h, const struct mc_extent_store_ops *store,
			 void *store_arg, char *err, size_t errlen)
{
	const struct mc_config *cfg = &h->d->cfg;
	struct mc_flight_opts fo = {
		.lease_ms = (uint32_t)cfg->fetch_lease_ms,
		.max_waiters = 64,
		.max_extents = 4096,
	};
	struct mc_member addr;
	unsigned int bound;
	int ret;

	if (!cfg->home_listen[0])
		return mc_errf(err, errlen, -EINVAL,
			       "this node is a gateway in %s: set home_listen, the address it serves other groups on",
			       cfg->home_registry);
	ret = mc_peer_server_new(&h->srv, &fo, store, store_arg);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot set up the gateway: %s", strerror(-ret));
	if (mc_member_parse_addr(cfg->home_listen, &addr))
		return mc_errf(err, errlen, -EINVAL, "home_listen: bad address");
	h->listen_fd = mc_peer_tcp_listen(addr.host, addr.port, &bound, err, errlen);
	if (h->listen_fd < 0)
		return h->listen_fd;
	ret = mc_loop_watch(h->d->loop, h->listen_fd, POLLIN, listen_ready, h);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot watch the gateway socket: %s", strerror(-ret));
	mc_timer_arm(h->d->loop, &h->tick, TICK_MS, tick, h);
	return 0;
}

int mc_home_start(struct mc_home **out, struct mc_daemon *d, const struct mc_node_id *me,
		  const struct mc_extent_store_ops *store, void *store_arg, char *err,
		  size_t errlen)
{
	const struct mc_config *cfg = &d->cfg;
	struct mc_peer_client_opts co = {
		.answer_ms = (uint32_t)cfg->peer_timeout_ms,
		.tries = MC_PLACEMENT_RANK_MAX,
	};
	struct mc_home *h;
	const struct mc_member *self;
	int ret;

	*out = NULL;
	if (!cfg->home_registry[0])
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	*out = h;
	h->d = d;
	h->me = *me;
	h->listen_fd = -1;
	h->self = SIZE_MAX;
	mc_list_init(&h->accepted);
	mc_list_init(&h->reads);
	ret = mc_group_load(&h->grp, HOME_NAME, cfg->home_key, err, errlen);
	if (ret)
		return ret;
	ret = mc_members_load(cfg->home_registry, &h->gw, err, errlen);
	if (ret)
		return ret;
	h->links = calloc(h->gw.n ? h->gw.n : 1, sizeof(*h->links));
	if (!h->links)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < h->gw.n; i++) {
		h->links[i].h = h;
		h->links[i].m = &h->gw.m[i];
	}
	ret = regions_build(h, err, errlen);
	if (ret)
		return ret;
	self = mc_members_find(&h->gw, me);
	if (!self && cfg->home_listen[0])
		mc_log(d, MC_LOG_WARN, "home_listen %s is set, but %s does not list this node as a gateway: not listening",
		       cfg->home_listen, cfg->home_registry);
	if (self) {
		h->self = (size_t)(self - h->gw.m);
		ret = gateway_start(h, store, store_arg, err, errlen);
		if (ret)
			return ret;
	}
	ret = mc_peer_client_new(&h->cl, d->loop, &co, &client_ops, h);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot set up the home tier: %s", strerror(-ret));
	mc_log(d, MC_LOG_INFO, "home tier: %zu gateways in %s, region %s%s%s%s", h->gw.n,
	       cfg->home_registry, cfg->region, cfg->home_regions[0] ? ", then " : "",
	       cfg->home_regions, self ? "; this node is a gateway" : "");
	return 0;
}

void mc_home_stop(struct mc_home *h)
{
	struct accepted *a, *atmp;
	struct hread *r, *rtmp;

	if (!h)
		return;
	if (h->listen_fd >= 0) {
		mc_loop_forget(h->d->loop, h->listen_fd);
		close(h->listen_fd);
	}
	if (h->cl)
		mc_peer_client_stop(h->cl);
	mc_peer_client_free(h->cl);
	h->cl = NULL;
	mc_list_for_each_safe(r, rtmp, &h->reads, link) {
		snprintf(r->t.msg, sizeof(r->t.msg), "the daemon is stopping");
		read_end(r, -ECANCELED);
	}
	for (size_t i = 0; h->links && i < h->gw.n; i++)
		if (h->links[i].c)
			mc_peer_conn_close(h->links[i].c);
	mc_list_for_each_safe(a, atmp, &h->accepted, link)
		mc_peer_conn_close(a->c);
	mc_timer_cancel(h->d->loop, &h->tick);
	mc_peer_server_free(h->srv);
	mc_homes_free(&h->homes);
	free(h->links);
	mc_members_free(&h->gw);
	mc_group_wipe(&h->grp);
	free(h);
}

int mc_home_read(struct mc_home *h, const struct mc_extent_key *key, struct mc_source *src,
		 uint64_t off, void *dst, size_t len, mc_source_cb cb, void *arg)
{
	size_t order[MC_PLACEMENT_RANK_MAX], n;
	struct hread *r;

	if (len > UINT32_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->h = h;
	r->src = src;
	r->off = off;
	r->cb = cb;
	r->arg = arg;
	r->t.f.key = *key;
	r->t.f.dst = dst;
	r->t.f.len = (uint32_t)len;
	r->t.f.arg = &r->t;
	r->t.srv = h->srv;	/* NULL unless a gateway: only a gateway is ever local() */
	r->t.loop = h->d->loop;
	r->t.source = blob_read;
	mc_list_add_tail(&h->reads, &r->link);
	n = mc_homes_rank(&h->homes, mc_extent_key_hash(key), order, MC_PLACEMENT_RANK_MAX);
	mc_peer_fetch_start_ranked(h->cl, &r->t.f, order, n, h->self);
	return 0;
}

void mc_home_info(const struct mc_home *h, struct mc_home_info *o)
{
	const struct mc_peer_client_stats *cs = mc_peer_client_stats(h->cl);

	memset(o, 0, sizeof(*o));
	o->gateways = h->gw.n;
	o->regions = h->homes.nregions;
	o->gateway = h->srv != NULL;
	o->reads = cs->fetches;
	o->from_home = cs->from_peers;
	o->turns = cs->turns;
	o->fallbacks = cs->from_source;
	o->local = cs->local;
	o->waits = cs->waits;
	o->nacks = cs->nacks;
	o->timeouts = cs->timeouts;
	o->no_conn = cs->no_conn;
	if (h->srv) {
		const struct mc_peer_server_stats *ss = mc_peer_server_stats(h->srv);

		o->gets_served = ss->gets;
		o->served = ss->served;
		o->puts = ss->puts;
	}
}
