// SPDX-License-Identifier: MIT
/*
 * See group.h. Outgoing connections carry this node's requests (GET, PUT)
 * and their answers; accepted ones carry the peers' requests to this
 * node's server. A frame of the wrong kind on either closes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "conn.h"
#include "daemon.h"
#include "errmsg.h"
#include "etcd.h"
#include "etcd_session.h"
#include "group.h"
#include "home.h"
#include "key.h"
#include "mem_store.h"
#include "pool_store.h"
#include "members.h"
#include "placement.h"
#include "rdma.h"
#include "server.h"
#include "tier_read.h"

#define TICK_MS		200	/* fetch turns whose lease ended pass on */
#define REDIAL_MS	1000	/* a member that failed is not dialled sooner */
#define ACCEPT_MAX	4096	/* peers' connections at once */
#define SHARE_SAMPLES	20000	/* keys drawn to measure each member's share */
#define TOKEN_MS	60000	/* an RDMA offer's token is good this long, once */
/*
 * RDMA links kept each way (a queue pair and a completion queue each): past
 * it the least recently used link this node made is closed, and a peer's
 * request is refused; those members are served over TCP.
 */
#define RDMA_LINKS_MAX	64
#define FANOUT_HOLDER_MS 30000	/* a node that got a hot extent is handed out this long */

/* One member, placement order (p.nodes[i]): this node's connection to it. */
struct link {
	struct mc_group_node *g;
	const struct mc_member *m;	/* in g->members */
	struct mc_peer_conn *c;		/* outgoing, or NULL */
	uint64_t redial_ms;
	uint64_t uid;			/* names it to RDMA callbacks */
	struct mc_rdma_link *rl;	/* RDMA to the member, or NULL */
	bool rl_up;
	uint64_t rl_used_ms;		/* last GET_RDMA over it */
	double share;
	/* Of connections closed; live ones are added when shown. */
	uint64_t got_bytes, bad_data, served_bytes;
};

/* A peer's connection to this node. */
struct accepted {
	struct mc_list link;
	struct mc_group_node *g;
	struct mc_peer_conn *c;
	uint64_t uid;			/* names it to RDMA callbacks */
	uint8_t token[MC_RDMA_TOKEN_SIZE];	/* offered over c */
	uint64_t token_until;		/* 0: none, or used */
	struct mc_rdma_link *rl;	/* the peer's RDMA link, or NULL */
};

struct mc_group_node {
	struct mc_daemon *d;
	struct mc_group grp;
	struct mc_node_id me;
	char me_hex[33];
	struct mc_members members;
	struct mc_placement p;
	size_t self;			/* index in p.nodes, or SIZE_MAX */
	struct link **links;		/* p.n of them; kept across changes by id */
	struct mc_etcd_session *etcd;	/* or the static file */
	uint64_t changes;		/* membership changes applied */

	int listen_fd;
	struct mc_rdma *rdma;		/* NULL: TCP only */
	bool rdma_gone;			/* its device went away */
	uint64_t rdma_dropped, rdma_full;	/* links past RDMA_LINKS_MAX */
	uint64_t uids;
	struct mc_mem_store *mem;	/* group_store memory, or: */
	struct mc_pool_store *pool;	/* group_store pool */
	struct mc_peer_server *srv;
	struct mc_peer_client *cl;
	struct mc_home *home;		/* the tier between groups, or NULL */
	struct mc_list accepted;
	unsigned int naccepted;
	struct mc_list reads;
	struct mc_timer tick;

	uint64_t auth_failures, bad_frames, cut_short, accepted_total, refused;
};

/* One miss read through the group. */
struct gread {
	struct mc_list link;
	struct mc_group_node *g;
	struct mc_source *src;
	uint64_t off;
	mc_source_cb cb;
	void *arg;
	struct mc_tier_read t;		/* t.f.arg is &t */
};

static struct gread *gread_of(struct mc_tier_read *t)
{
	return (struct gread *)((char *)t - offsetof(struct gread, t));
}

/* ---- the end of a read ---- */

static void read_end(struct gread *r, int res)
{
	mc_source_cb cb = r->cb;
	void *arg = r->arg;

	mc_tier_cancel(&r->t);
	mc_list_del(&r->link);
	cb(arg, res, res && r->t.msg[0] ? r->t.msg : NULL);
	free(r);
}

/* What the group reads from the source for itself: through the home tier if there is one. */
static int group_source(struct mc_tier_read *t, mc_source_cb cb)
{
	struct gread *r = gread_of(t);

	if (r->g->home)
		return mc_home_read(r->g->home, &t->f.key, r->src, r->off, t->f.dst, t->f.len, cb, t);
	return mc_source_read(r->src, &t->rq, r->off, t->f.dst, t->f.len, cb, t);
}

/* This node owns the extent, or is next in line: its own flight (tier_read.h). */
static void cl_local(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	mc_tier_local(f->arg);
}

/* A peer's turn, or no member left. */
static void cl_source(void *arg, struct mc_peer_fetch *f)
{
	(void)arg;
	mc_tier_source(f->arg);
}

static void cl_done(void *arg, struct mc_peer_fetch *f, int res)
{
	struct mc_group_node *g = arg;

	read_end(gread_of(f->arg), res);
	/*
	 * With fan-out a HAVE may follow at once, and a holder's peers pin the
	 * extent: the kernel takes the completion now, not at the end of the
	 * loop's turn (a GET_COPY could come before that and find it not
	 * ready). Without fan-out nobody is sent here, and the loop's one kick
	 * per turn stays the only one.
	 */
	if (!res && g->d->cfg.peer_fanout) {
		int ret = mc_miss_ring_flush(&g->d->ring);

		if (ret && ret != -EAGAIN)
			mc_log(g->d, MC_LOG_WARN, "kick failed: %s", strerror(-ret));
	}
}

/* ---- connections ---- */

static void count_close(struct mc_group_node *g, int err)
{
	if (err == -EACCES)
		g->auth_failures++;
	else if (err == -EPROTO)
		g->bad_frames++;
	else if (err == -ECONNRESET)
		g->cut_short++;		/* mid-frame or mid-handshake */
}

static void out_ready(void *arg, struct mc_peer_conn *c)
{
	struct link *l = arg;
	char want[33], got[33];

	/* Someone else at the member's address: talk to the member only. */
	if (memcmp(mc_peer_conn_peer(c)->b, l->m->id.b, sizeof(l->m->id.b))) {
		mc_node_id_hex(&l->m->id, want);
		mc_node_id_hex(mc_peer_conn_peer(c), got);
		mc_log(l->g->d, MC_LOG_WARN, "peer %s:%s is node %s, not member %s: closing",
		       l->m->host, l->m->port, got, want);
		mc_peer_conn_close(c);
	}
}

/* At RDMA_LINKS_MAX links made by this node, close the least recently used. */
static void drop_lru_link(struct mc_group_node *g)
{
	struct link *lru = NULL;
	size_t n = 0;

	for (size_t i = 0; i < g->p.n; i++) {
		struct link *l = g->links[i];

		if (!l->rl)
			continue;
		n++;
		if (!lru || l->rl_used_ms < lru->rl_used_ms)
			lru = l;
	}
	if (n < RDMA_LINKS_MAX || !lru)
		return;
	mc_rdma_link_close(lru->rl);
	lru->rl = NULL;
	lru->rl_up = false;
	g->rdma_dropped++;
}

/* The member offers RDMA: connect with its token, if this node has RDMA too. */
static void rdma_offered(struct link *l, const struct mc_peer_msg *m)
{
	struct mc_group_node *g = l->g;
	char addr[MC_MEMBER_ADDR_MAX + 16];

	if (!g->rdma || l->rl)
		return;
	drop_lru_link(g);
	snprintf(addr, sizeof(addr), strchr(l->m->host, ':') ? "[%s]:%u" : "%s:%u", l->m->host,
		 m->offer.port);
	if (mc_rdma_connect(g->rdma, addr, m->offer.token, (void *)(uintptr_t)l->uid, &l->rl))
		l->rl = NULL;
}

static void out_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct link *l = arg;

	if (m->type == MAICACHE_PEER_RDMA_OFFER) {
		rdma_offered(l, m);
		return;
	}
	/* Peers send their requests on their own connections. */
	if (!mc_peer_client_msg(l->g->cl, c, m))
		mc_peer_conn_close(c);
}

static void *out_payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct link *l = arg;
	void *buf = NULL;

	return mc_peer_client_payload_buf(l->g->cl, c, m, &buf) ? buf : NULL;
}

static void out_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
			void *buf, bool crc_ok)
{
	struct link *l = arg;

	mc_peer_client_payload(l->g->cl, c, m, buf, crc_ok);
}

static void out_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	struct link *l = arg;

	if (l->g->cl)		/* gone: the group is stopping */
		mc_peer_client_sent(l->g->cl, c, payload);
}

static void out_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	struct link *l = arg;
	const struct mc_peer_conn_stats *st = mc_peer_conn_stats(c);

	l->got_bytes += st->payload_in;
	l->bad_data += st->bad_crc;
	l->c = NULL;
	/* The RDMA link goes with the connection that offered it. */
	if (l->rl)
		mc_rdma_link_close(l->rl);
	l->rl = NULL;
	l->rl_up = false;
	count_close(l->g, err);
	if (err) {
		l->redial_ms = mc_now_ms() + REDIAL_MS;
		mc_log(l->g->d, MC_LOG_INFO, "peer %s:%s: connection closed: %s", l->m->host,
		       l->m->port, why && *why ? why : strerror(-err));
	}
	if (l->g->cl)
		mc_peer_client_closed(l->g->cl, c);
}

static const struct mc_peer_conn_ops out_ops = {
	.on_ready	= out_ready,
	.on_msg		= out_msg,
	.payload_buf	= out_payload_buf,
	.on_payload	= out_payload,
	.on_sent	= out_sent,
	.on_close	= out_close,
};

/* The client's way to member i: the kept connection, or a new one. */
static struct mc_peer_conn *cl_conn_to(void *arg, size_t i)
{
	struct mc_group_node *g = arg;
	struct link *l;
	char err[256];
	int fd;

	/* A fetch ranked before a membership change may name a member gone since. */
	if (i >= g->p.n || i == g->self)
		return NULL;
	l = g->links[i];
	if (l->c || mc_now_ms() < l->redial_ms)
		return l->c;
	fd = mc_peer_tcp_connect(l->m->host, l->m->port, err, sizeof(err));
	if (fd < 0 || mc_peer_conn_new(&l->c, g->d->loop, fd, true, &g->grp, &g->me,
				       &out_ops, l)) {
		l->c = NULL;
		l->redial_ms = mc_now_ms() + REDIAL_MS;
		return NULL;
	}
	/* Frames sent now wait for the handshake (conn.h). */
	return l->c;
}

static struct mc_rdma_link *cl_rdma_to(void *arg, struct mc_peer_conn *c)
{
	struct mc_group_node *g = arg;

	for (size_t i = 0; i < g->p.n; i++) {
		struct link *l = g->links[i];

		if (l->c != c)
			continue;
		if (!l->rl_up)
			return NULL;
		l->rl_used_ms = mc_now_ms();
		return l->rl;
	}
	return NULL;
}

/* A holder the fan-out named: a member's connection, never this node's. */
static struct mc_peer_conn *cl_conn_to_node(void *arg, const struct mc_node_id *id)
{
	struct mc_group_node *g = arg;
	ssize_t i = mc_placement_find(&g->p, id);

	return i < 0 ? NULL : cl_conn_to(g, (size_t)i);
}

static const struct mc_peer_client_ops client_ops = {
	.conn_to	= cl_conn_to,
	.source		= cl_source,
	.done		= cl_done,
	.local		= cl_local,
	.rdma_to	= cl_rdma_to,
	.conn_to_node	= cl_conn_to_node,
};

static struct link *link_of(struct mc_group_node *g, const struct mc_node_id *id)
{
	ssize_t i = mc_placement_find(&g->p, id);

	return i < 0 ? NULL : g->links[i];
}

/* An authenticated peer may read this node's pool: offer it a one-time token. */
static void in_ready(void *arg, struct mc_peer_conn *c)
{
	struct accepted *a = arg;
	struct mc_peer_msg m = { .type = MAICACHE_PEER_RDMA_OFFER };

	if (!a->g->rdma || !mc_rdma_alive(a->g->rdma) ||
	    getrandom(a->token, sizeof(a->token), 0) != (ssize_t)sizeof(a->token))
		return;
	a->token_until = mc_now_ms() + TOKEN_MS;
	memcpy(m.offer.token, a->token, sizeof(a->token));
	m.offer.port = mc_rdma_port(a->g->rdma);
	mc_peer_conn_send(c, &m, NULL);
}

static void in_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct accepted *a = arg;

	if (!mc_peer_server_msg(a->g->srv, c, m))
		mc_peer_conn_close(c);	/* an answer to a request never made */
}

static void *in_payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct accepted *a = arg;
	void *buf = NULL;

	return mc_peer_server_payload_buf(a->g->srv, c, m, &buf) ? buf : NULL;
}

static void in_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
		       void *buf, bool crc_ok)
{
	struct accepted *a = arg;

	mc_peer_server_payload(a->g->srv, c, m, buf, crc_ok);
}

static void in_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	struct accepted *a = arg;

	mc_peer_server_sent(a->g->srv, c, payload);
}

static void in_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	struct accepted *a = arg;
	struct mc_group_node *g = a->g;
	struct link *l = link_of(g, mc_peer_conn_peer(c));

	if (l)
		l->served_bytes += mc_peer_conn_stats(c)->payload_out;
	count_close(g, err);
	if (err && err != -ECANCELED)
		mc_log(g->d, MC_LOG_INFO, "a peer's connection closed: %s",
		       why && *why ? why : strerror(-err));
	mc_peer_server_closed(g->srv, c);
	if (a->rl)
		mc_rdma_link_close(a->rl);
	mc_list_del(&a->link);
	g->naccepted--;
	free(a);
}

static const struct mc_peer_conn_ops in_ops = {
	.on_ready	= in_ready,
	.on_msg		= in_msg,
	.payload_buf	= in_payload_buf,
	.on_payload	= in_payload,
	.on_sent	= in_sent,
	.on_close	= in_close,
};

static void listen_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_group_node *g = arg;
	struct accepted *a;
	int cfd;

	(void)revents;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		a = g->naccepted < ACCEPT_MAX ? calloc(1, sizeof(*a)) : NULL;
		if (!a) {
			g->refused++;
			close(cfd);
			continue;
		}
		a->g = g;
		a->uid = ++g->uids;
		if (mc_peer_conn_new(&a->c, g->d->loop, cfd, false, &g->grp, &g->me, &in_ops, a)) {
			free(a);
			g->refused++;
			continue;
		}
		mc_list_add_tail(&g->accepted, &a->link);
		g->naccepted++;
		g->accepted_total++;
	}
}

static void tick(void *arg)
{
	struct mc_group_node *g = arg;

	mc_peer_server_tick(g->srv, mc_now_ms());
	/* The RDMA device went away: no LOC names memory nobody can read. */
	if (g->rdma && !mc_rdma_alive(g->rdma) && !g->rdma_gone) {
		g->rdma_gone = true;
		mc_peer_server_set_rdma(g->srv, false, 0);
		mc_log(g->d, MC_LOG_WARN, "the RDMA device went away: TCP only from now on");
	}
	mc_timer_arm(g->d->loop, &g->tick, TICK_MS, tick, g);
}

/* ---- start and stop ---- */

/* Each member's share of the keys, drawn from the placement itself. */
static void measure_shares(struct mc_group_node *g)
{
	ssize_t o;

	for (size_t i = 0; i < g->p.n; i++)
		g->links[i]->share = 0;
	for (uint64_t i = 0; i < SHARE_SAMPLES; i++) {
		o = mc_placement_owner(&g->p, mc_mix64(i + 1));
		if (o >= 0)
			g->links[o]->share += 1.0 / SHARE_SAMPLES;
	}
}

static int copy_members(struct mc_members *dst, const struct mc_members *src)
{
	dst->n = src->n;
	dst->m = malloc((src->n ? src->n : 1) * sizeof(*dst->m));
	if (!dst->m)
		return -ENOMEM;
	memcpy(dst->m, src->m, src->n * sizeof(*dst->m));
	return 0;
}

/*
 * Make ms the membership: a new placement, connections kept to members
 * that stay and closed to those that left. On error the old one stays.
 */
static bool same_members(const struct mc_members *a, const struct mc_members *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->m, b->m, a->n * sizeof(*a->m)));
}

static int set_members(struct mc_group_node *g, const struct mc_members *src)
{
	struct mc_members ms;
	struct mc_placement p = { 0 };
	struct link **links, *l;
	size_t kept = 0, left = 0;
	ssize_t self;
	int ret;

	/* A list after a watch broke is most often what was known. */
	if (g->changes && same_members(&g->members, src))
		return 0;
	if (copy_members(&ms, src))
		return -ENOMEM;
	ret = mc_members_placement(&ms, &p);
	links = ret ? NULL : calloc(p.n ? p.n : 1, sizeof(*links));
	if (!ret && !links)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < p.n; i++) {
		l = link_of(g, &p.nodes[i].id);
		if (l) {
			kept++;
		} else if (!(l = calloc(1, sizeof(*l)))) {
			ret = -ENOMEM;
			break;
		} else {
			l->uid = ++g->uids;
		}
		l->g = g;
		links[i] = l;
	}
	if (ret) {
		for (size_t i = 0; links && i < p.n; i++)
			if (links[i] && !link_of(g, &p.nodes[i].id))
				free(links[i]);
		free(links);
		mc_placement_free(&p);
		mc_members_free(&ms);
		return ret;
	}
	/* Members that left: their connections close (while their entries are valid). */
	for (size_t i = 0; i < g->p.n; i++) {
		l = g->links[i];
		if (mc_placement_find(&p, &g->p.nodes[i].id) >= 0)
			continue;
		left++;
		if (l->c)
			mc_peer_conn_close(l->c);
		if (l->rl)
			mc_rdma_link_close(l->rl);
		free(l);
	}
	free(g->links);
	mc_placement_free(&g->p);
	mc_members_free(&g->members);
	g->members = ms;
	g->p = p;
	g->links = links;
	for (size_t i = 0; i < p.n; i++)
		links[i]->m = mc_members_find(&g->members, &p.nodes[i].id);
	self = mc_placement_find(&g->p, &g->me);
	g->self = self < 0 ? SIZE_MAX : (size_t)self;
	measure_shares(g);
	if (g->changes++)
		mc_log(g->d, MC_LOG_INFO, "group %s: %zu members (%zu joined, %zu left)%s",
		       g->d->cfg.group, p.n, p.n - kept, left,
		       self < 0 ? "; this node is not one of them" : "");
	return 0;
}

static void etcd_members(void *arg, const struct mc_members *ms)
{
	struct mc_group_node *g = arg;

	if (set_members(g, ms))
		mc_log(g->d, MC_LOG_WARN, "group %s: cannot apply a membership of %zu: keeping the last",
		       g->d->cfg.group, ms->n);
}

static void etcd_log(void *arg, int level, const char *msg)
{
	struct mc_group_node *g = arg;

	mc_log(g->d, level == 0 ? MC_LOG_ERROR : level == 1 ? MC_LOG_WARN : MC_LOG_INFO,
	       "group %s: %s", g->d->cfg.group, msg);
}

static const struct mc_etcd_session_ops etcd_ops = {
	.members	= etcd_members,
	.log		= etcd_log,
};

static int membership(struct mc_group_node *g, char *err, size_t errlen)
{
	const struct mc_config *cfg = &g->d->cfg;
	struct mc_etcd_session_opts eo = {
		.endpoint = cfg->group_etcd,
		.ttl_s = (unsigned int)((cfg->group_lease_ttl_ms + 999) / 1000),
	};
	char prefix[MC_ETCD_PREFIX_MAX];
	struct mc_members ms = { 0 };
	int ret;

	if (cfg->group_members[0]) {
		ret = mc_members_load(cfg->group_members, &ms, err, errlen);
		if (!ret)
			ret = set_members(g, &ms);
		mc_members_free(&ms);
		if (ret == -EEXIST)
			return mc_errf(err, errlen, ret, "%s: a node id is listed twice",
				       cfg->group_members);
		if (ret)
			return ret == -ENOMEM ? mc_errf(err, errlen, ret, "out of memory") : ret;
		if (g->self == SIZE_MAX)
			mc_log(g->d, MC_LOG_WARN, "this node (%s) is not in %s: it asks the group but owns nothing",
			       g->me_hex, cfg->group_members);
		return 0;
	}
	/* etcd: no member until the first list; misses go to the source meanwhile. */
	ret = set_members(g, &ms);
	if (ret)
		return mc_errf(err, errlen, ret, "out of memory");
	eo.me.id = g->me;
	if (mc_member_parse_addr(cfg->peer_advertise[0] ? cfg->peer_advertise : cfg->peer_listen,
				 &eo.me))
		return mc_errf(err, errlen, -EINVAL, "peer_advertise: bad address");
	eo.me.id = g->me;
	snprintf(prefix, sizeof(prefix), "/maicache/groups/%s", cfg->group);
	eo.prefix = prefix;
	return mc_etcd_session_new(&g->etcd, g->d->loop, &eo, &etcd_ops, g, err, errlen);
}

/* ---- RDMA links (peer/rdma.h) ---- */

static struct accepted *accepted_by_uid(struct mc_group_node *g, uint64_t uid)
{
	struct accepted *a;

	mc_list_for_each(a, &g->accepted, link)
		if (a->uid == uid)
			return a;
	return NULL;
}

static struct link *link_by_uid(struct mc_group_node *g, uint64_t uid)
{
	for (size_t i = 0; i < g->p.n; i++)
		if (g->links[i]->uid == uid)
			return g->links[i];
	return NULL;
}

/* A request must carry a token this node offered, unused and in time. */
static bool rdma_accept(void *arg, const uint8_t token[MC_RDMA_TOKEN_SIZE], void **link_arg)
{
	struct mc_group_node *g = arg;
	uint64_t now = mc_now_ms();
	struct accepted *a;
	size_t n = 0;

	mc_list_for_each(a, &g->accepted, link)
		n += a->rl != NULL;
	if (n >= RDMA_LINKS_MAX) {
		g->rdma_full++;
		return false;
	}
	mc_list_for_each(a, &g->accepted, link) {
		if (a->token_until > now && !a->rl &&
		    !memcmp(a->token, token, MC_RDMA_TOKEN_SIZE)) {
			a->token_until = 0;
			*link_arg = (void *)(uintptr_t)a->uid;
			return true;
		}
	}
	return false;
}

static void rdma_up(void *arg, struct mc_rdma_link *rl, void *link_arg)
{
	struct mc_group_node *g = arg;
	uint64_t uid = (uintptr_t)link_arg;
	struct accepted *a = accepted_by_uid(g, uid);
	struct link *l = a ? NULL : link_by_uid(g, uid);

	if (a)
		a->rl = rl;			/* a peer's link: it reads from here */
	else if (l && l->rl == rl)
		l->rl_up = true;		/* ours: GET_RDMA from now on */
	else
		mc_rdma_link_close(rl);		/* its connection is gone */
}

static void rdma_down(void *arg, struct mc_rdma_link *rl, void *link_arg, int err)
{
	struct mc_group_node *g = arg;
	uint64_t uid = (uintptr_t)link_arg;
	struct accepted *a = accepted_by_uid(g, uid);
	struct link *l = a ? NULL : link_by_uid(g, uid);

	if (a && a->rl == rl)
		a->rl = NULL;
	if (l && l->rl == rl) {
		l->rl = NULL;
		l->rl_up = false;
		if (err != -ECANCELED)
			mc_log(g->d, MC_LOG_INFO, "peer %s:%s: RDMA link down (%s): TCP from now on",
			       l->m->host, l->m->port, strerror(-err));
	}
}

static const struct mc_rdma_ops rdma_ops = {
	.accept	= rdma_accept,
	.up	= rdma_up,
	.down	= rdma_down,
};

/* RDMA where the node's peer address has a device (peer_rdma auto); else TCP only. */
static void start_rdma(struct mc_group_node *g)
{
	const struct mc_config *cfg = &g->d->cfg;
	struct mc_member addr;
	char where[MC_MEMBER_ADDR_MAX + 8], err[512];

	if (cfg->peer_rdma == MC_PEER_RDMA_OFF)
		return;
	if (cfg->group_store != MC_GROUP_STORE_POOL) {
		mc_log(g->d, MC_LOG_INFO, "RDMA off: peers read the pool, and group_store is memory");
		return;
	}
	if (mc_member_parse_addr(cfg->peer_advertise[0] ? cfg->peer_advertise : cfg->peer_listen,
				 &addr))
		return;
	snprintf(where, sizeof(where), strchr(addr.host, ':') ? "[%s]:0" : "%s:0", addr.host);
	if (mc_rdma_new(&g->rdma, g->d->loop, where, g->d->ring.pool, g->d->ring.pool_size,
			&rdma_ops, g, err, sizeof(err))) {
		g->rdma = NULL;
		mc_log(g->d, MC_LOG_INFO, "RDMA off, TCP only: %s", err);
		return;
	}
	mc_peer_server_set_rdma(g->srv, true, mc_rdma_rkey(g->rdma));
	mc_log(g->d, MC_LOG_INFO, "RDMA on %s, port %u", addr.host, mc_rdma_port(g->rdma));
}

static int listen_peers(struct mc_group_node *g, char *err, size_t errlen)
{
	struct mc_member addr;
	unsigned int bound;
	int ret;

	if (mc_member_parse_addr(g->d->cfg.peer_listen, &addr))
		return mc_errf(err, errlen, -EINVAL, "peer_listen: bad address");
	g->listen_fd = mc_peer_tcp_listen(addr.host, addr.port, &bound, err, errlen);
	if (g->listen_fd < 0)
		return g->listen_fd;
	ret = mc_loop_watch(g->d->loop, g->listen_fd, POLLIN, listen_ready, g);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot watch the peer socket: %s", strerror(-ret));
	return 0;
}

void mc_group_reload(struct mc_daemon *d)
{
	struct mc_group_node *g = d->group;
	const char *path = d->cfg.group_members;
	struct mc_members ms = { 0 };
	char err[512];
	int ret;

	if (!g || !path[0])
		return;
	ret = mc_members_load(path, &ms, err, sizeof(err));
	if (!ret)
		ret = set_members(g, &ms);
	mc_members_free(&ms);
	if (ret == -EEXIST)
		snprintf(err, sizeof(err), "%.400s: a node id is listed twice", path);
	else if (ret == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
	if (ret) {
		mc_log(d, MC_LOG_WARN, "SIGHUP: membership kept as it was: %s", err);
		return;
	}
	mc_log(d, MC_LOG_INFO, "SIGHUP: %s read again: %zu members%s", path, g->p.n,
	       g->self == SIZE_MAX ? " (this node is not one of them)" : "");
}

int mc_group_start(struct mc_daemon *d, char *err, size_t errlen)
{
	const struct mc_config *cfg = &d->cfg;
	struct mc_flight_opts fo = {
		.lease_ms = (uint32_t)cfg->fetch_lease_ms,
		.max_waiters = 64,
		.max_extents = 4096,
	};
	struct mc_peer_client_opts co = {
		.answer_ms = (uint32_t)cfg->peer_timeout_ms,
		.tries = cfg->peer_tries,
	};
	/*
	 * A lend lasts about one transfer (a peer's answer time, twice); a
	 * holder is handed out for 30 s after it got the extent, by when an
	 * extent a whole job starts on has long spread.
	 */
	struct mc_fanout_opts fan = {
		.serve_max = cfg->peer_fanout,
		.holders = 1024,
		.holder_ms = FANOUT_HOLDER_MS,
		.lend_ms = (uint32_t)(2 * cfg->peer_timeout_ms),
		.max_waiters = 256,
		.max_extents = 4096,
	};
	char path[MC_CONFIG_PATH_MAX + 16];
	struct mc_group_node *g;
	int ret;

	if (!cfg->group[0])
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	g->d = d;
	g->listen_fd = -1;
	mc_list_init(&g->accepted);
	mc_list_init(&g->reads);
	d->group = g;
	snprintf(path, sizeof(path), "%s/node.id", cfg->state_dir);
	ret = mc_node_id_load(path, true, &g->me, err, errlen);
	if (ret)
		return ret;
	mc_node_id_hex(&g->me, g->me_hex);
	ret = mc_group_load(&g->grp, cfg->group, cfg->group_key, err, errlen);
	if (ret)
		return ret;
	ret = membership(g, err, errlen);
	if (ret)
		return ret;
	if (cfg->group_store == MC_GROUP_STORE_MEMORY) {
		ret = mc_mem_store_new(&g->mem, cfg->group_store_size);
		if (!ret)
			ret = mc_peer_server_new(&g->srv, &fo, &mc_mem_store_ops, g->mem);
	} else {
		ret = mc_pool_store_new(&g->pool, d);
		if (!ret)
			ret = mc_peer_server_new(&g->srv, &fo, &mc_pool_store_ops, g->pool);
	}
	fan.self = g->me;
	if (!ret && cfg->peer_fanout)
		ret = mc_peer_server_set_fanout(g->srv, &fan);
	if (!ret)
		ret = mc_peer_client_new(&g->cl, d->loop, &co, &client_ops, g);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot set up the group: %s", strerror(-ret));
	ret = listen_peers(g, err, errlen);
	if (!ret)
		ret = g->mem ? mc_home_start(&g->home, d, &g->me, &mc_mem_store_ops, g->mem, err, errlen)
			     : mc_home_start(&g->home, d, &g->me, &mc_pool_store_ops, g->pool, err, errlen);
	if (ret)
		return ret;
	start_rdma(g);
	mc_timer_arm(d->loop, &g->tick, TICK_MS, tick, g);
	mc_log(d, MC_LOG_INFO, "group %s: node %s, %zu members, peers on %s", cfg->group,
	       g->me_hex, g->p.n, cfg->peer_listen);
	return 0;
}

void mc_group_stop(struct mc_daemon *d)
{
	struct mc_group_node *g = d->group;
	struct accepted *a, *atmp;
	struct gread *r, *rtmp;

	if (!g)
		return;
	if (g->listen_fd >= 0) {
		mc_loop_forget(d->loop, g->listen_fd);
		close(g->listen_fd);
	}
	/*
	 * Reads still waiting on peers (none reads its source now): the
	 * client and server forget them first, so nothing touches their
	 * slots later.
	 */
	mc_etcd_session_free(g->etcd);
	g->etcd = NULL;
	/*
	 * The home tier's reads end first: each ends the group read waiting
	 * on it through the group's client, which is still there.
	 */
	mc_home_stop(g->home);
	g->home = NULL;
	/* RDMA reads in flight end before the client and the pool go. */
	if (g->cl)
		mc_peer_client_stop(g->cl);
	mc_rdma_free(g->rdma);
	g->rdma = NULL;
	mc_peer_client_free(g->cl);
	g->cl = NULL;
	mc_list_for_each_safe(r, rtmp, &g->reads, link) {
		snprintf(r->t.msg, sizeof(r->t.msg), "the daemon is stopping");
		read_end(r, -ECANCELED);
	}
	for (size_t i = 0; g->links && i < g->p.n; i++) {
		if (g->links[i]->c)
			mc_peer_conn_close(g->links[i]->c);
		free(g->links[i]);
	}
	mc_list_for_each_safe(a, atmp, &g->accepted, link)
		mc_peer_conn_close(a->c);
	mc_timer_cancel(d->loop, &g->tick);
	mc_peer_server_free(g->srv);
	mc_mem_store_free(g->mem);
	mc_pool_store_free(g->pool);
	free(g->links);
	mc_placement_free(&g->p);
	mc_members_free(&g->members);
	mc_group_wipe(&g->grp);
	free(g);
	d->group = NULL;
}

/* ---- reads ---- */

bool mc_group_serves(const struct mc_daemon *d, const struct mc_vol *v)
{
	uint32_t es = v->extent_size;

	return d->group && v->src && v->src->shared && !(es & (es - 1)) &&
	       es >= 1U << MC_EXTENT_SHIFT_MIN && es <= 1U << MC_EXTENT_SHIFT_MAX;
}

/* The key of extent i of v (a volume the group serves). */
static struct mc_extent_key vol_key(const struct mc_vol *v, uint64_t i)
{
	struct mc_extent_key key = { 0 };

	memcpy(key.blob, v->src->ident, sizeof(key.blob));
	key.extent_shift = (uint32_t)__builtin_ctz(v->extent_size);
	key.index = i;
	return key;
}

int mc_group_read(struct mc_daemon *d, struct mc_vol *v, uint64_t off, void *dst,
		  size_t len, mc_source_cb cb, void *arg)
{
	struct mc_group_node *g = d->group;
	struct mc_extent_key key;
	struct gread *r;

	if (!mc_group_serves(d, v) || len > v->extent_size || off % v->extent_size)
		return -EINVAL;
	key = vol_key(v, off / v->extent_size);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->g = g;
	r->src = v->src;
	r->off = off;
	r->cb = cb;
	r->arg = arg;
	mc_list_add_tail(&g->reads, &r->link);
	r->t.f.key = key;
	r->t.f.dst = dst;
	r->t.f.len = (uint32_t)len;
	r->t.f.arg = &r->t;
	r->t.srv = g->srv;
	r->t.loop = d->loop;
	r->t.source = group_source;
	/* The owner first, this node's own flight in its place in the order. */
	mc_peer_fetch_start(g->cl, &r->t.f, &g->p, g->self);
	return 0;
}

/* ---- what is shown ---- */

static void store_info(struct mc_group_node *g, struct mc_group_info *o)
{
	if (g->mem) {
		struct mc_mem_store_stats ms;

		mc_mem_store_stats(g->mem, &ms);
		o->store = "memory";
		o->store_bytes = ms.bytes;
		o->store_capacity = ms.capacity;
		o->store_extents = ms.extents;
		o->store_evicted = ms.evicted;
	} else {
		struct mc_pool_store_stats ps;

		mc_pool_store_stats(g->pool, &ps);
		o->store = "pool";
		o->store_bytes = ps.bytes;
		o->store_capacity = g->d->ring.pool_size;
		o->store_extents = ps.extents;
		o->store_evicted = ps.evicted;
		o->store_pinned = ps.pinned;
		o->store_full = ps.full;
		o->store_errors = ps.errors;
	}
}

static void fan_info(struct mc_group_node *g, struct mc_group_info *o)
{
	const struct mc_peer_client_stats *cs = mc_peer_client_stats(g->cl);
	const struct mc_fanout_stats *fs = mc_peer_server_fanout_stats(g->srv);

	o->fanout = fs ? g->d->cfg.peer_fanout : 0;
	o->fan_redirected = fs ? fs->redirected : 0;
	o->fan_queued = fs ? fs->queued : 0;
	o->fan_haves = fs ? fs->haves : 0;
	o->fan_peak = fs ? fs->peak : 0;
	o->holder_asks = cs->holder_asks;
	o->from_holders = cs->from_holders;
	o->holder_fails = cs->holder_fails;
	o->holder_copies = mc_peer_server_stats(g->srv)->copies;
	o->holder_not_held = mc_peer_server_stats(g->srv)->not_held;
	if (g->pool) {
		struct mc_pool_store_stats ps;

		mc_pool_store_stats(g->pool, &ps);
		o->holder_served = ps.device_hits;
	}
}

bool mc_group_info(struct mc_daemon *d, struct mc_group_info *o)
{
	struct mc_group_node *g = d->group;
	const struct mc_peer_client_stats *cs;
	const struct mc_peer_server_stats *ss;
	uint64_t served_bytes = 0;
	struct accepted *a;

	memset(o, 0, sizeof(*o));
	if (!g)
		return false;
	cs = mc_peer_client_stats(g->cl);
	ss = mc_peer_server_stats(g->srv);
	for (size_t i = 0; i < g->p.n; i++)
		served_bytes += g->links[i]->served_bytes;
	mc_list_for_each(a, &g->accepted, link)
		served_bytes += mc_peer_conn_stats(a->c)->payload_out;
	o->name = d->cfg.group;
	memcpy(o->node_id, g->me_hex, sizeof(o->node_id));
	o->listen = d->cfg.peer_listen;
	o->members = g->p.n;
	o->in_members = g->self != SIZE_MAX;
	o->fetches = cs->fetches;
	o->from_peers = cs->from_peers;
	o->from_source = cs->from_source;
	o->turns = cs->turns;
	o->waits = cs->waits;
	o->bad_data = cs->bad_data;
	o->nacks = cs->nacks;
	o->timeouts = cs->timeouts;
	o->no_conn = cs->no_conn;
	o->gets_served = ss->gets;
	o->served = ss->served;
	o->served_bytes = served_bytes;
	o->puts = ss->puts;
	o->bad_puts = ss->bad_puts;
	o->stray_puts = ss->stray_puts;
	o->local_gets = ss->local_gets;
	o->local_served = ss->local_served;
	store_info(g, o);
	o->home = g->home != NULL;
	if (g->home)
		mc_home_info(g->home, &o->hi);
	o->rdma_reads = cs->rdma_reads;
	o->rdma_bytes = cs->rdma_bytes;
	o->rdma_errors = cs->rdma_errors;
	o->rdma_direct = cs->direct_reads;
	o->rdma_stale = cs->direct_stale;
	fan_info(g, o);
	o->rdma_locs = ss->locs;
	o->rdma_dones = ss->dones;
	o->rdma_lapsed = ss->lapsed;
	if (g->rdma) {
		const struct mc_rdma_stats *rs = mc_rdma_stats(g->rdma);

		o->rdma = mc_rdma_alive(g->rdma);
		o->rdma_port = mc_rdma_port(g->rdma);
		o->rdma_links = rs->links_up - rs->links_down;
		o->rdma_rejected = rs->rejected;
		o->rdma_dropped = g->rdma_dropped;
		o->rdma_full = g->rdma_full;
	}
	o->membership_changes = g->changes ? g->changes - 1 : 0;
	if (g->etcd) {
		struct mc_etcd_session_stats es;

		mc_etcd_session_stats(g->etcd, &es);
		o->etcd = true;
		o->etcd_reachable = es.reachable;
		o->etcd_registered = es.registered;
		o->etcd_failures = es.failures;
		o->etcd_events = es.events;
	}
	o->auth_failures = g->auth_failures;
	o->bad_frames = g->bad_frames;
	o->cut_short = g->cut_short;
	o->accepted = g->accepted_total;
	o->refused = g->refused;
	return true;
}

static const char *link_state(const struct mc_group_node *g, size_t i)
{
	const struct link *l = g->links[i];

	if (i == g->self)
		return "self";
	if (l->c)
		return "connected";
	return mc_now_ms() < l->redial_ms ? "down" : "idle";
}

/*
 * How many extents of the attached shared volumes each member owns, into
 * owned[] (p.n of them); false when that is too much work for a listing.
 */
#define OWNED_WORK_MAX	(64ULL << 20)	/* member-extent pairs */

static bool count_owned(struct mc_daemon *d, uint64_t *owned)
{
	struct mc_group_node *g = d->group;
	uint64_t total = 0, n;
	struct mc_vol *v;
	struct mc_extent_key k;
	ssize_t o;

	mc_list_for_each(v, &d->vols, link)
		if (v->state == MC_VOL_READY && mc_group_serves(d, v))
			total += (v->dev_size + v->extent_size - 1) / v->extent_size;
	if (!g->p.n || total * g->p.n > OWNED_WORK_MAX)
		return false;
	mc_list_for_each(v, &d->vols, link) {
		if (v->state != MC_VOL_READY || !mc_group_serves(d, v))
			continue;
		n = (v->dev_size + v->extent_size - 1) / v->extent_size;
		for (uint64_t i = 0; i < n; i++) {
			k = vol_key(v, i);
			o = mc_placement_owner(&g->p, mc_extent_key_hash(&k));
			if (o >= 0)
				owned[o]++;
		}
	}
	return true;
}

void mc_group_for_each_member(struct mc_daemon *d,
			      void (*fn)(void *arg, const struct mc_group_member_info *m),
			      void *arg)
{
	struct mc_group_node *g = d->group;
	struct mc_group_member_info mi;
	const struct mc_peer_conn_stats *st;
	struct accepted *a;
	uint64_t *owned = g && g->p.n ? calloc(g->p.n, sizeof(*owned)) : NULL;
	bool have_owned = owned && count_owned(d, owned);

	for (size_t i = 0; g && i < g->p.n; i++) {
		const struct link *l = g->links[i];

		memset(&mi, 0, sizeof(mi));
		mc_node_id_hex(&g->p.nodes[i].id, mi.node_id);
		mi.host = l->m->host;
		mi.port = l->m->port;
		mi.region = l->m->region;
		mi.state = link_state(g, i);
		mi.share = l->share;
		mi.owned_extents = have_owned ? owned[i] : UINT64_MAX;
		mi.got_bytes = l->got_bytes;
		mi.bad_data = l->bad_data;
		mi.served_bytes = l->served_bytes;
		if (l->c) {
			st = mc_peer_conn_stats(l->c);
			mi.got_bytes += st->payload_in;
			mi.bad_data += st->bad_crc;
		}
		mc_list_for_each(a, &g->accepted, link)
			if (!memcmp(mc_peer_conn_peer(a->c)->b, g->p.nodes[i].id.b,
				    sizeof(g->p.nodes[i].id.b)))
				mi.served_bytes += mc_peer_conn_stats(a->c)->payload_out;
		fn(arg, &mi);
	}
	free(owned);
}
