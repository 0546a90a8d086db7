// SPDX-License-Identifier: MIT
/*
 * See client.h. Each fetch asks one member at a time under a timer; every
 * step (and done()) runs from the loop, so no callback runs inside a call
 * of the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "crc.h"
#include "key.h"

#define LOC_BUCKETS	4096		/* power of two */
#define LOC_MAX		65536		/* locations remembered at most */

/*
 * Where an extent was last READ from: a repeat miss READs it there again,
 * unpinned, and keeps the bytes only if their CRC32C is still the one the
 * owner named and their CRC-64 the one this node computed (a slot evicted
 * or reused since fails them: one retry).
 */
struct loc {
	struct mc_list chain;		/* bucket */
	struct mc_list lru;
	struct mc_extent_key key;
	struct mc_peer_conn *c;		/* the member's connection it came over */
	uint64_t addr;
	uint32_t rkey, len, crc;
	uint64_t crc64;			/* of the bytes READ there: 96 bits with crc */
};

struct mc_peer_client {
	struct mc_loop *loop;
	struct mc_peer_client_opts o;
	const struct mc_peer_client_ops *ops;
	void *arg;
	struct mc_list fetches;
	uint64_t seq;
	uint8_t *scratch;		/* answers nobody waits for: read and dropped */
	bool stopping;			/* mc_peer_client_stop(): fetches move no more */
	struct mc_list loc_buckets[LOC_BUCKETS];
	struct mc_list loc_lru;		/* least recently used first */
	size_t nloc;
	struct mc_peer_client_stats stats;
};

int mc_peer_client_new(struct mc_peer_client **out, struct mc_loop *loop,
		       const struct mc_peer_client_opts *o,
		       const struct mc_peer_client_ops *ops, void *arg)
{
	struct mc_peer_client *cl;

	if (!o->answer_ms || !o->tries || o->tries > MC_PLACEMENT_RANK_MAX)
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->scratch = malloc(MAICACHE_PEER_PAYLOAD_MAX);
	if (!cl->scratch) {
		free(cl);
		return -ENOMEM;
	}
	cl->loop = loop;
	cl->o = *o;
	cl->ops = ops;
	cl->arg = arg;
	mc_list_init(&cl->fetches);
	for (size_t i = 0; i < LOC_BUCKETS; i++)
		mc_list_init(&cl->loc_buckets[i]);
	mc_list_init(&cl->loc_lru);
	*out = cl;
	return 0;
}

void mc_peer_client_stop(struct mc_peer_client *cl)
{
	cl->stopping = true;
}

void mc_peer_client_free(struct mc_peer_client *cl)
{
	struct mc_peer_fetch *f, *tmp;

	if (!cl)
		return;
	struct loc *l, *ltmp;

	mc_list_for_each_safe(f, tmp, &cl->fetches, link) {
		mc_timer_cancel(cl->loop, &f->timer);
		mc_list_del(&f->link);
	}
	mc_list_for_each_safe(l, ltmp, &cl->loc_lru, lru)
		free(l);
	free(cl->scratch);
	free(cl);
}

const struct mc_peer_client_stats *mc_peer_client_stats(const struct mc_peer_client *cl)
{
	return &cl->stats;
}

static void finish(struct mc_peer_fetch *f, int res)
{
	struct mc_peer_client *cl = f->cl;

	mc_timer_cancel(cl->loop, &f->timer);
	mc_list_del(&f->link);
	f->asked = NULL;
	cl->ops->done(cl->arg, f, res);
}

static void to_source(struct mc_peer_fetch *f)
{
	struct mc_peer_client *cl = f->cl;

	mc_timer_cancel(cl->loop, &f->timer);
	f->asked = NULL;
	cl->ops->source(cl->arg, f);
}

static void step(struct mc_peer_fetch *f);
static void timed_out(void *arg);
static bool ask_copy(struct mc_peer_fetch *f, struct mc_peer_conn *c, uint32_t flags);

/* ---- remembered locations ---- */

static struct mc_list *loc_bucket(struct mc_peer_client *cl, const struct mc_extent_key *k)
{
	return &cl->loc_buckets[mc_extent_key_hash(k) & (LOC_BUCKETS - 1)];
}

static struct loc *loc_find(struct mc_peer_client *cl, const struct mc_extent_key *k)
{
	struct loc *l;

	mc_list_for_each(l, loc_bucket(cl, k), chain)
		if (mc_extent_key_eq(&l->key, k))
			return l;
	return NULL;
}

static void loc_drop(struct mc_peer_client *cl, struct loc *l)
{
	mc_list_del(&l->chain);
	mc_list_del(&l->lru);
	cl->nloc--;
	free(l);
}

static void loc_remember(struct mc_peer_client *cl, const struct mc_peer_fetch *f,
			 struct mc_peer_conn *c, uint64_t addr, uint32_t rkey)
{
	struct loc *l = loc_find(cl, &f->key);

	if (l)
		loc_drop(cl, l);
	if (cl->nloc == LOC_MAX)
		loc_drop(cl, mc_list_first(&cl->loc_lru, struct loc, lru));
	l = malloc(sizeof(*l));
	if (!l)
		return;
	l->key = f->key;
	l->c = c;
	l->addr = addr;
	l->rkey = rkey;
	l->len = f->len;
	l->crc = f->loc_crc;
	l->crc64 = mc_crc64(f->dst, f->len);
	mc_list_add_tail(loc_bucket(cl, &f->key), &l->chain);
	mc_list_add_tail(&cl->loc_lru, &l->lru);
	cl->nloc++;
}

/* The direct READ ended: the bytes count only if their CRC32C still holds. */
static void direct_done(void *arg, int status)
{
	struct mc_peer_fetch *f = arg;
	struct mc_peer_client *cl = f->cl;

	f->reading = false;
	if (cl->stopping)
		return;
	mc_timer_cancel(cl->loop, &f->timer);
	/*
	 * Both checksums: a slot reused since holds other bytes, and a 32-bit
	 * match by chance must not pass for the extent.
	 */
	if (!status && mc_crc32c(f->dst, f->len) == f->loc_crc &&
	    mc_crc64(f->dst, f->len) == f->loc_crc64) {
		cl->stats.direct_reads++;
		cl->stats.rdma_bytes += f->len;
		cl->stats.from_peers++;
		if (f->loc_from)
			loc_remember(cl, f, f->loc_from, f->loc_addr, f->loc_rkey);
		f->loc_from = NULL;
		finish(f, 0);
		return;
	}
	/* Evicted, reused or unreachable since: ask as if never read (one retry). */
	cl->stats.direct_stale++;
	f->loc_from = NULL;
	step(f);
}

/* READ f where its extent was last found, with no round trip; false if none. */
static bool try_direct(struct mc_peer_fetch *f)
{
	struct mc_peer_client *cl = f->cl;
	struct loc *l = loc_find(cl, &f->key);
	struct mc_rdma_link *rl;

	if (!l)
		return false;
	rl = l->len == f->len && cl->ops->rdma_to ? cl->ops->rdma_to(cl->arg, l->c) : NULL;
	if (!rl || mc_rdma_read(rl, f->dst, f->len, l->addr, l->rkey, direct_done, f)) {
		loc_drop(cl, l);
		return false;
	}
	f->reading = true;
	f->loc_from = l->c;
	f->loc_addr = l->addr;
	f->loc_rkey = l->rkey;
	f->loc_crc = l->crc;
	f->loc_crc64 = l->crc64;
	/* Taken out: put back only if the READ finds the same bytes. */
	loc_drop(cl, l);
	mc_timer_arm(cl->loop, &f->timer, cl->o.answer_ms, timed_out, f);
	return true;
}

static void timed_out(void *arg)
{
	struct mc_peer_fetch *f = arg;

	/* The NIC may still write into dst: nobody else may until it is done. */
	if (f->reading) {
		mc_timer_arm(f->cl->loop, &f->timer, f->cl->o.answer_ms, timed_out, f);
		return;
	}
	if (f->asked)
		f->cl->stats.timeouts++;
	f->asked = NULL;
	step(f);
}

/* GET_COPY with flags (and COPY_RDMA over a link) to c; false if not sent. */
static bool ask_copy(struct mc_peer_fetch *f, struct mc_peer_conn *c, uint32_t flags)
{
	struct mc_peer_client *cl = f->cl;
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET_COPY, .seq = ++cl->seq };

	if (!c)
		return false;
	if (cl->ops->rdma_to && cl->ops->rdma_to(cl->arg, c))
		flags |= MAICACHE_PEER_COPY_RDMA;
	m.copy.key = f->key;
	m.copy.flags = flags;
	if (mc_peer_conn_send(c, &m, NULL)) {
		cl->stats.no_conn++;
		return false;
	}
	f->asked = c;
	f->seq = m.seq;
	mc_timer_arm(cl->loop, &f->timer, cl->o.answer_ms, timed_out, f);
	return true;
}

/* HOLDER: ask the member named, or the owner again if there is none. */
static void to_holder(struct mc_peer_client *cl, struct mc_peer_conn *c,
		      struct mc_peer_fetch *f, const struct mc_peer_msg *m)
{
	struct mc_peer_conn *hc = NULL;

	mc_timer_cancel(cl->loop, &f->timer);
	f->asked = NULL;
	f->fan_owner = c;
	memcpy(f->holder.b, m->holder.node_id, sizeof(f->holder.b));
	if (cl->ops->conn_to_node)
		hc = cl->ops->conn_to_node(cl->arg, &f->holder);
	cl->stats.holder_asks++;
	if (hc && hc != c && ask_copy(f, hc, MAICACHE_PEER_COPY_HELD)) {
		f->at_holder = true;
		return;
	}
	f->at_holder = true;	/* as a holder that failed */
	step(f);
}

/*
 * Where the HAVE for f goes once its bytes are in the kernel: to the owner
 * that sent us to a holder (from: that holder), or to the member that sent
 * or took them itself (from: that member). Taken before finish(), which
 * may free f.
 */
struct have_to {
	struct mc_peer_conn *c;
	struct mc_node_id from;
	struct mc_extent_key key;
};

static struct have_to have_to(struct mc_peer_fetch *f, struct mc_peer_conn *src)
{
	struct have_to h = { .key = f->key };

	f->cl->stats.from_peers++;
	if (f->at_holder && f->fan_owner) {
		f->cl->stats.from_holders++;
		h.c = f->fan_owner;
		h.from = f->holder;
	} else if (src) {
		h.c = src;
		h.from = *mc_peer_conn_peer(src);
	}
	return h;
}

/* After finish(): the bytes are readable here, so this node may be named a holder. */
static void send_have(struct mc_peer_client *cl, const struct have_to *h)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_HAVE, .seq = ++cl->seq };

	if (!h->c)
		return;
	m.holder.key = h->key;
	memcpy(m.holder.node_id, h->from.b, sizeof(m.holder.node_id));
	mc_peer_conn_send(h->c, &m, NULL);
}

/* Ask the next member, or go to the source when none is left. */
static void step(struct mc_peer_fetch *f)
{
	struct mc_peer_client *cl = f->cl;
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET };
	struct mc_peer_conn *c;

	if (!f->tried_direct) {
		f->tried_direct = true;
		if (try_direct(f))
			return;
	}
	/* The holder failed us: the owner again, which then serves us itself. */
	if (f->at_holder) {
		f->at_holder = false;
		cl->stats.holder_fails++;
		if (ask_copy(f, f->fan_owner, MAICACHE_PEER_COPY_NO_HOLDER))
			return;
	}
	f->fan_owner = NULL;

	while (f->next < f->nrank) {
		if (f->rank[f->next] == f->self) {
			/* This node's own flight: it answers through _local_done(). */
			f->next++;
			f->asked = NULL;
			mc_timer_cancel(cl->loop, &f->timer);
			cl->stats.local++;
			cl->ops->local(cl->arg, f);
			return;
		}
		c = cl->ops->conn_to(cl->arg, f->rank[f->next++]);
		m.type = c && cl->ops->rdma_to && cl->ops->rdma_to(cl->arg, c) ?
			 MAICACHE_PEER_GET_RDMA : MAICACHE_PEER_GET;
		m.seq = ++cl->seq;
		m.get = f->key;
		if (!c || mc_peer_conn_send(c, &m, NULL)) {
			cl->stats.no_conn++;
			continue;
		}
		f->asked = c;
		f->seq = m.seq;
		mc_timer_arm(cl->loop, &f->timer, cl->o.answer_ms, timed_out, f);
		return;
	}
	cl->stats.from_source++;
	to_source(f);
}

static void kickoff(void *arg)
{
	step(arg);
}

void mc_peer_fetch_start_ranked(struct mc_peer_client *cl, struct mc_peer_fetch *f,
				const size_t *rank, size_t n, size_t self_index)
{
	f->cl = cl;
	f->asked = NULL;
	f->turn = false;
	f->owner = NULL;
	f->put_pending = false;
	f->reading = false;
	f->tried_direct = false;
	f->loc_from = NULL;
	f->fan_owner = NULL;
	f->at_holder = false;
	f->seq = 0;
	f->next = f->nrank = 0;
	f->self = cl->ops->local ? self_index : SIZE_MAX;
	memset(&f->timer, 0, sizeof(f->timer));
	for (size_t i = 0; i < n && f->nrank < cl->o.tries; i++)
		if (rank[i] != self_index || f->self != SIZE_MAX)
			f->rank[f->nrank++] = rank[i];
	mc_list_add_tail(&cl->fetches, &f->link);
	cl->stats.fetches++;
	/* Never inside the caller's call. */
	mc_timer_arm(cl->loop, &f->timer, 0, kickoff, f);
}

void mc_peer_fetch_start(struct mc_peer_client *cl, struct mc_peer_fetch *f,
			 const struct mc_placement *p, size_t self_index)
{
	size_t rank[MC_PLACEMENT_RANK_MAX], n;
	bool skip_self = !cl->ops->local && self_index != SIZE_MAX;

	n = mc_placement_rank(p, mc_extent_key_hash(&f->key), rank, cl->o.tries + skip_self);
	mc_peer_fetch_start_ranked(cl, f, rank, n, self_index);
}

void mc_peer_fetch_sourced(struct mc_peer_fetch *f, int res)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_PUT };
	struct mc_peer_conn *owner = f->owner;

	f->owner = NULL;
	if (res || !owner) {
		finish(f, res);
		return;
	}
	/* Hand the bytes to the owner for the group; done once they are sent. */
	m.seq = f->seq;
	m.data.key = f->key;
	m.data.len = f->len;
	m.data.crc32c = mc_crc32c(f->dst, f->len);
	if (mc_peer_conn_send(owner, &m, f->dst)) {
		finish(f, 0);
		return;
	}
	f->put_pending = true;
}

void mc_peer_fetch_local_done(struct mc_peer_fetch *f, int res)
{
	finish(f, res);
}

/* The fetch waiting for c's answer to seq, or NULL. */
static struct mc_peer_fetch *find(struct mc_peer_client *cl, struct mc_peer_conn *c,
				  uint64_t seq)
{
	struct mc_peer_fetch *f;

	mc_list_for_each(f, &cl->fetches, link)
		if (f->asked == c && f->seq == seq)
			return f;
	return NULL;
}

/* The READ a LOC asked for ended: tell the owner, then as DATA. */
static void read_done(void *arg, int status)
{
	struct mc_peer_fetch *f = arg;
	struct mc_peer_client *cl = f->cl;
	struct mc_peer_msg m = { .type = MAICACHE_PEER_DONE, .seq = f->seq };
	struct mc_peer_conn *c = f->loc_from;
	struct have_to h;

	f->reading = false;
	if (f->loc_from) {
		m.done.key = f->key;
		m.done.addr = f->loc_addr;
		mc_peer_conn_send(f->loc_from, &m, NULL);
		f->loc_from = NULL;
	}
	/* The transport is going away with the daemon: nothing more to do. */
	if (cl->stopping)
		return;
	mc_timer_cancel(cl->loop, &f->timer);
	f->asked = NULL;
	if (status) {
		cl->stats.rdma_errors++;
		step(f);
		return;
	}
	if (mc_crc32c(f->dst, f->len) != f->loc_crc) {
		/* Wrong bytes never reach the kernel, as with DATA. */
		cl->stats.bad_data++;
		step(f);
		return;
	}
	cl->stats.rdma_reads++;
	cl->stats.rdma_bytes += f->len;
	h = have_to(f, c);
	if (c)
		loc_remember(cl, f, c, f->loc_addr, f->loc_rkey);
	finish(f, 0);
	send_have(cl, &h);
}

/* LOC: READ the extent from where the owner pinned it. */
static void loc(struct mc_peer_client *cl, struct mc_peer_conn *c, struct mc_peer_fetch *f,
		const struct mc_peer_msg *m)
{
	struct mc_rdma_link *l = cl->ops->rdma_to ? cl->ops->rdma_to(cl->arg, c) : NULL;
	struct mc_peer_msg d = { .type = MAICACHE_PEER_DONE, .seq = m->seq };

	if (l && m->loc.len == f->len &&
	    !mc_rdma_read(l, f->dst, f->len, m->loc.addr, m->loc.rkey, read_done, f)) {
		f->reading = true;
		f->loc_from = c;
		f->loc_addr = m->loc.addr;
		f->loc_rkey = m->loc.rkey;
		f->loc_crc = m->loc.crc32c;
		return;
	}
	/* Not readable here (the link went down, or a wrong length): unpin, next. */
	d.done.key = f->key;
	d.done.addr = m->loc.addr;
	mc_peer_conn_send(c, &d, NULL);
	cl->stats.rdma_errors++;
	mc_timer_cancel(cl->loop, &f->timer);
	f->asked = NULL;
	step(f);
}

bool mc_peer_client_msg(struct mc_peer_client *cl, struct mc_peer_conn *c,
			const struct mc_peer_msg *m)
{
	struct mc_peer_fetch *f;

	if (m->type == MAICACHE_PEER_LOC) {
		f = find(cl, c, m->seq);
		if (!f || f->turn || f->reading || !mc_extent_key_eq(&m->loc.key, &f->key))
			cl->stats.strays++;
		else
			loc(cl, c, f, m);
		return true;
	}
	if (m->type == MAICACHE_PEER_HOLDER) {
		f = find(cl, c, m->seq);
		/* Only the member asked first sends us on, and only once. */
		if (!f || f->turn || f->reading || f->at_holder || f->fan_owner ||
		    !mc_extent_key_eq(&m->holder.key, &f->key))
			cl->stats.strays++;
		else
			to_holder(cl, c, f, m);
		return true;
	}
	if (m->type != MAICACHE_PEER_TURN && m->type != MAICACHE_PEER_NACK &&
	    m->type != MAICACHE_PEER_WAIT)
		return false;
	f = find(cl, c, m->seq);
	if (!f || f->turn || f->reading ||
	    !mc_extent_key_eq(m->type == MAICACHE_PEER_NACK ? &m->nack.key : &m->turn.key,
			      &f->key)) {
		cl->stats.strays++;
		return true;
	}
	if (m->type == MAICACHE_PEER_WAIT) {
		/* Another node fetches it: wait for the owner as long as the fetcher may take. */
		cl->stats.waits++;
		mc_timer_arm(cl->loop, &f->timer, (uint64_t)m->turn.lease_ms + cl->o.answer_ms,
			     timed_out, f);
		return true;
	}
	if (m->type == MAICACHE_PEER_NACK) {
		cl->stats.nacks++;
		mc_timer_cancel(cl->loop, &f->timer);
		f->asked = NULL;
		step(f);
		return true;
	}
	if (f->at_holder) {
		/* A holder gives no turns: as if it had failed us. */
		cl->stats.strays++;
		mc_timer_cancel(cl->loop, &f->timer);
		f->asked = NULL;
		step(f);
		return true;
	}
	/* Our turn: the source, then a PUT to this owner. */
	cl->stats.turns++;
	f->turn = true;
	f->owner = c;
	to_source(f);
	return true;
}

bool mc_peer_client_payload_buf(struct mc_peer_client *cl, struct mc_peer_conn *c,
				const struct mc_peer_msg *m, void **buf)
{
	struct mc_peer_fetch *f;

	if (m->type != MAICACHE_PEER_DATA)
		return false;
	f = find(cl, c, m->seq);
	*buf = f && !f->turn && !f->reading && m->data.len == f->len &&
	       mc_extent_key_eq(&m->data.key, &f->key) ? f->dst : cl->scratch;
	return true;
}

void mc_peer_client_payload(struct mc_peer_client *cl, struct mc_peer_conn *c,
			    const struct mc_peer_msg *m, void *buf, bool crc_ok)
{
	struct mc_peer_fetch *f = find(cl, c, m->seq);
	struct have_to h;

	if (buf == cl->scratch || !f) {
		cl->stats.strays++;
		return;
	}
	mc_timer_cancel(cl->loop, &f->timer);
	if (!crc_ok) {
		/* Wrong bytes never reach the kernel: the next member, or the source, overwrites them. */
		cl->stats.bad_data++;
		f->asked = NULL;
		step(f);
		return;
	}
	h = have_to(f, c);
	finish(f, 0);
	send_have(cl, &h);
}

bool mc_peer_client_sent(struct mc_peer_client *cl, struct mc_peer_conn *c,
			 const void *payload)
{
	struct mc_peer_fetch *f;

	mc_list_for_each(f, &cl->fetches, link) {
		if (f->put_pending && f->dst == payload) {
			/* The fetcher for the group: a holder too, once its kernel has it. */
			struct have_to h = { .c = c, .key = f->key };

			h.from = *mc_peer_conn_peer(c);
			finish(f, 0);
			send_have(cl, &h);
			return true;
		}
	}
	return false;
}

void mc_peer_client_closed(struct mc_peer_client *cl, struct mc_peer_conn *c)
{
	struct mc_peer_fetch *f, *tmp;

	struct loc *l, *ltmp;

	/* Its member's memory is no longer this connection's to name. */
	mc_list_for_each_safe(l, ltmp, &cl->loc_lru, lru)
		if (l->c == c)
			loc_drop(cl, l);
	mc_list_for_each_safe(f, tmp, &cl->fetches, link) {
		if (f->owner == c)
			f->owner = NULL;	/* no PUT to a gone owner */
		if (f->loc_from == c)
			f->loc_from = NULL;	/* no DONE either */
		if (f->fan_owner == c)
			f->fan_owner = NULL;	/* no HAVE or retry there */
		if (f->asked == c && f->reading) {
			/* The read's end moves the fetch on. */
			f->asked = NULL;
			continue;
		}
		if (f->asked == c) {
			f->asked = NULL;
			mc_timer_arm(cl->loop, &f->timer, 0, kickoff, f);
		}
	}
}
