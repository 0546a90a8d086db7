// SPDX-License-Identifier: MIT
/* See server.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "fanout.h"
#include "list.h"
#include "loop.h"
#include "server.h"

/* What the PUT being read on a connection is for. */
enum put_fate { PUT_STORE, PUT_STRAY, PUT_NOROOM, PUT_HELD };

/* Per connection: the PUT whose payload is being read. */
struct conn_state {
	struct mc_list link;
	struct mc_peer_conn *c;
	enum put_fate fate;
	/* PUT_STORE: the store's room, given back if the payload never comes. */
	void *room;
	struct mc_extent_key key;
	uint32_t len;
};

/*
 * A DATA payload from the store, pinned until sent; or a LOC, pinned
 * until the reader's DONE or the end of its lease.
 */
struct sending {
	struct mc_list link;
	struct mc_peer_conn *c;
	const void *bytes;
	uint64_t lease_end_ms;		/* LOC: when the pin ends without DONE; else 0 */
	struct mc_extent_key key;
	uint64_t seq;			/* the request's: names the send to the fan-out */
};

struct mc_peer_server {
	struct mc_flight *fl;
	struct mc_flight_opts fo;
	const struct mc_extent_store_ops *store;
	void *store_arg;
	struct mc_list conns, sending;
	struct mc_list locals;	/* the node's own misses waiting (WAIT) */
	uint64_t local_seq;
	uint8_t *scratch;	/* payloads read only to be dropped */
	bool rdma;		/* GET_RDMA answered with LOC: store bytes are readable at rkey */
	uint32_t rkey;
	struct mc_fanout *fan;	/* NULL: every held extent is sent to every asker */
	struct mc_peer_server_stats stats;
};

int mc_peer_server_new(struct mc_peer_server **out, const struct mc_flight_opts *fo,
		       const struct mc_extent_store_ops *store, void *store_arg)
{
	struct mc_peer_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->scratch = malloc(MAICACHE_PEER_PAYLOAD_MAX);
	ret = s->scratch ? mc_flight_new(&s->fl, fo) : -ENOMEM;
	if (ret) {
		free(s->scratch);
		free(s);
		return ret;
	}
	s->fo = *fo;
	s->store = store;
	s->store_arg = store_arg;
	mc_list_init(&s->conns);
	mc_list_init(&s->sending);
	mc_list_init(&s->locals);
	*out = s;
	return 0;
}

void mc_peer_server_free(struct mc_peer_server *s)
{
	struct conn_state *cs, *tmp;
	struct sending *sd, *stmp;

	if (!s)
		return;
	mc_list_for_each_safe(cs, tmp, &s->conns, link) {
		mc_list_del(&cs->link);
		free(cs);
	}
	mc_list_for_each_safe(sd, stmp, &s->sending, link) {
		mc_list_del(&sd->link);
		s->store->release(s->store_arg, sd->bytes);
		free(sd);
	}
	mc_flight_free(s->fl);
	mc_fanout_free(s->fan);
	free(s->scratch);
	free(s);
}

int mc_peer_server_set_fanout(struct mc_peer_server *s, const struct mc_fanout_opts *o)
{
	struct mc_fanout *fan;
	int ret = mc_fanout_new(&fan, o);

	if (ret)
		return ret;
	mc_fanout_free(s->fan);
	s->fan = fan;
	return 0;
}

const struct mc_peer_server_stats *mc_peer_server_stats(const struct mc_peer_server *s)
{
	return &s->stats;
}

const struct mc_fanout_stats *mc_peer_server_fanout_stats(const struct mc_peer_server *s)
{
	return s->fan ? mc_fanout_stats(s->fan) : NULL;
}

static struct conn_state *state_of(struct mc_peer_server *s, struct mc_peer_conn *c,
				   bool create)
{
	struct conn_state *cs;

	mc_list_for_each(cs, &s->conns, link)
		if (cs->c == c)
			return cs;
	if (!create)
		return NULL;
	cs = calloc(1, sizeof(*cs));
	if (cs) {
		cs->c = c;
		mc_list_add_tail(&s->conns, &cs->link);
	}
	return cs;
}

static void nack(struct mc_peer_conn *c, uint64_t seq, const struct mc_extent_key *key,
		 uint32_t code)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_NACK, .seq = seq };

	m.nack.key = *key;
	m.nack.code = code;
	/* A full queue or a closing connection: the requester times out. */
	mc_peer_conn_send(c, &m, NULL);
}

void mc_peer_server_set_rdma(struct mc_peer_server *s, bool on, uint32_t rkey)
{
	s->rdma = on;
	s->rkey = rkey;
}

/*
 * Send bytes (len, crc), pinned by get(), to c: DATA with the payload, or,
 * for a GET_RDMA, LOC naming where to READ them. The pin is the send's.
 */
static void send_held(struct mc_peer_server *s, struct mc_flight_who who,
		      const struct mc_extent_key *key, const void *bytes, uint32_t len,
		      uint32_t crc)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_DATA, .seq = who.seq };
	bool loc = who.rdma && s->rdma;
	struct sending *sd = calloc(1, sizeof(*sd));
	int ret;

	if (loc) {
		m.type = MAICACHE_PEER_LOC;
		m.loc.key = *key;
		m.loc.len = len;
		m.loc.crc32c = crc;
		m.loc.addr = (uint64_t)(uintptr_t)bytes;
		m.loc.rkey = s->rkey;
		m.loc.lease_ms = s->fo.lease_ms;
	} else {
		m.data.key = *key;
		m.data.len = len;
		m.data.crc32c = crc;
	}
	ret = sd ? mc_peer_conn_send(who.conn, &m, loc ? NULL : bytes) : -ENOMEM;
	if (ret) {
		free(sd);
		s->store->release(s->store_arg, bytes);
		return;
	}
	sd->c = who.conn;
	sd->bytes = bytes;
	sd->lease_end_ms = loc ? mc_now_ms() + s->fo.lease_ms : 0;
	sd->key = *key;
	sd->seq = who.seq;
	mc_list_add_tail(&s->sending, &sd->link);
	s->stats.served++;
	s->stats.locs += loc;
}

static void fan_verdict(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
			enum mc_fanout_verdict v, const struct mc_node_id *holder);

static void send_wait(struct mc_peer_server *s, struct mc_peer_conn *c, uint64_t seq,
		      const struct mc_extent_key *key)
{
	struct mc_peer_msg w = { .type = MAICACHE_PEER_WAIT, .seq = seq };

	/* The owner is alive: the requester waits out the lease, not less. */
	w.turn.key = *key;
	w.turn.lease_ms = s->fo.lease_ms;
	mc_peer_conn_send(c, &w, NULL);
	s->stats.waits++;
}

/*
 * Send bytes the store holds (pinned by get()) to who, unless the fan-out
 * sends who elsewhere or makes it wait. may_redirect false: a holder's own
 * request, or one a holder failed.
 */
static void offer(struct mc_peer_server *s, struct mc_flight_who who,
		  const struct mc_extent_key *key, const void *bytes, uint32_t len,
		  uint32_t crc, bool may_redirect)
{
	struct mc_node_id holder;
	int v = MC_FANOUT_SERVE;

	if (s->fan)
		v = mc_fanout_ask(s->fan, key, who, mc_peer_conn_peer(who.conn), may_redirect,
				  mc_now_ms(), &holder);
	if (v == MC_FANOUT_SERVE) {
		send_held(s, who, key, bytes, len, crc);
		return;
	}
	s->store->release(s->store_arg, bytes);
	fan_verdict(s, key, who, v < 0 ? MC_FANOUT_BUSY : (enum mc_fanout_verdict)v, &holder);
}

/* Serve key to who from the store, or say it is not here. */
static void serve(struct mc_peer_server *s, struct mc_flight_who who,
		  const struct mc_extent_key *key, bool may_redirect)
{
	uint32_t len, crc;
	const void *bytes = s->store->get(s->store_arg, key, &len, &crc);

	if (!bytes) {
		nack(who.conn, who.seq, key, MAICACHE_PEER_NACK_FAILED);
		return;
	}
	offer(s, who, key, bytes, len, crc, may_redirect);
}

/* A send ends: ok, the reader has the bytes (a holder from now on). */
static void end_send(struct mc_peer_server *s, struct sending *sd, bool ok)
{
	struct mc_flight_who who = { .conn = sd->c, .seq = sd->seq };
	struct mc_extent_key key = sd->key;

	mc_list_del(&sd->link);
	s->store->release(s->store_arg, sd->bytes);
	free(sd);
	if (s->fan)
		mc_fanout_end(s->fan, &key, who, ok, mc_now_ms(), fan_verdict, s);
}

/*
 * The fan-out's word for a requester: after SERVE a send the table
 * counts (its end is end_send()'s), HOLDER, WAIT, or NACK BUSY.
 */
static void fan_verdict(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
			enum mc_fanout_verdict v, const struct mc_node_id *holder)
{
	struct mc_peer_server *s = arg;
	struct mc_peer_msg m = { .type = MAICACHE_PEER_HOLDER, .seq = who.seq };
	uint32_t len, crc;
	const void *bytes;

	switch (v) {
	case MC_FANOUT_SERVE:
		bytes = s->store->get(s->store_arg, key, &len, &crc);
		if (bytes) {
			send_held(s, who, key, bytes, len, crc);
			return;
		}
		/* Evicted meanwhile: the place ends, and nobody waits for it here. */
		nack(who.conn, who.seq, key, MAICACHE_PEER_NACK_FAILED);
		mc_fanout_end(s->fan, key, who, false, mc_now_ms(), fan_verdict, s);
		mc_fanout_forget_key(s->fan, key, fan_verdict, s);
		return;
	case MC_FANOUT_HOLDER:
		m.holder.key = *key;
		memcpy(m.holder.node_id, holder->b, sizeof(m.holder.node_id));
		if (!mc_peer_conn_send(who.conn, &m, NULL))
			s->stats.holders++;
		return;
	case MC_FANOUT_QUEUE:
		send_wait(s, who.conn, who.seq, key);
		s->stats.fan_waits++;
		return;
	case MC_FANOUT_BUSY:
		s->stats.busy++;
		nack(who.conn, who.seq, key, MAICACHE_PEER_NACK_BUSY);
		return;
	}
}

/* DONE: the reader READ a LOC's bytes; the pin ends. */
static void done(struct mc_peer_server *s, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct sending *sd;

	mc_list_for_each(sd, &s->sending, link) {
		if (sd->c == c && sd->lease_end_ms && (uint64_t)(uintptr_t)sd->bytes == m->done.addr) {
			end_send(s, sd, true);
			s->stats.dones++;
			return;
		}
	}
	s->stats.stray_dones++;
}

static void turn(struct mc_peer_server *s, struct mc_peer_conn *c, uint64_t seq,
		 const struct mc_extent_key *key)
{
	struct mc_peer_msg m = { .type = MAICACHE_PEER_TURN, .seq = seq };

	m.turn.key = *key;
	m.turn.lease_ms = s->fo.lease_ms;
	if (!mc_peer_conn_send(c, &m, NULL))
		s->stats.turns++;
}

static void local_verdict(struct mc_peer_server *s, const struct mc_extent_key *key,
			  uint64_t seq, enum mc_flight_verdict v);

static void verdict(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		    enum mc_flight_verdict v)
{
	struct mc_peer_server *s = arg;

	/* The node's own requests are named by the server itself. */
	if (who.conn == s)
		local_verdict(s, key, who.seq, v);
	else if (v == MC_FLIGHT_FETCH)
		turn(s, who.conn, who.seq, key);
	else if (v == MC_FLIGHT_SERVE)
		serve(s, who, key, !who.no_holder);
}

/* HAVE: c's node got key from the holder we sent it to. */
static void have(struct mc_peer_server *s, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	struct mc_node_id from;

	s->stats.haves++;
	if (!s->fan)
		return;
	memcpy(from.b, m->holder.node_id, sizeof(from.b));
	mc_fanout_have(s->fan, &m->holder.key, mc_peer_conn_peer(c), &from, mc_now_ms(),
		       fan_verdict, s);
}

bool mc_peer_server_msg(struct mc_peer_server *s, struct mc_peer_conn *c,
			const struct mc_peer_msg *m)
{
	bool copy = m->type == MAICACHE_PEER_GET_COPY;
	uint32_t flags = copy ? m->copy.flags : 0;
	const struct mc_extent_key *key = copy ? &m->copy.key : &m->get;
	struct mc_flight_who who = { .conn = c, .seq = m->seq,
				     .rdma = m->type == MAICACHE_PEER_GET_RDMA ||
					     (flags & MAICACHE_PEER_COPY_RDMA),
				     .no_holder = flags & MAICACHE_PEER_COPY_NO_HOLDER };
	bool redirect = !(flags & (MAICACHE_PEER_COPY_HELD | MAICACHE_PEER_COPY_NO_HOLDER));
	uint32_t len, crc;
	const void *held;
	int v;

	if (m->type == MAICACHE_PEER_DONE) {
		done(s, c, m);
		return true;
	}
	if (m->type == MAICACHE_PEER_HAVE) {
		have(s, c, m);
		return true;
	}
	if (m->type != MAICACHE_PEER_GET && m->type != MAICACHE_PEER_GET_RDMA && !copy)
		return false;
	s->stats.gets++;
	s->stats.copies += copy;
	held = s->store->get(s->store_arg, key, &len, &crc);
	if (held) {
		offer(s, who, key, held, len, crc, redirect);
		return true;
	}
	/* A holder's request: never a turn here, it goes back to the owner. */
	if (flags & MAICACHE_PEER_COPY_HELD) {
		s->stats.not_held++;
		nack(c, m->seq, key, MAICACHE_PEER_NACK_NOT_HELD);
		return true;
	}
	v = mc_flight_ask(s->fl, key, who, mc_now_ms());
	if (v == MC_FLIGHT_FETCH) {
		turn(s, c, m->seq, key);
	} else if (v == MC_FLIGHT_WAIT) {
		send_wait(s, c, m->seq, key);
	} else {
		s->stats.busy++;
		nack(c, m->seq, key, MAICACHE_PEER_NACK_BUSY);
	}
	return true;
}

/*
 * The store holds key already: another server over the same store (a
 * home gateway's and its group's) took the same bytes in first. Its
 * reserve() refuses a second copy, and a flight ends served, not failed.
 */
static bool store_holds(struct mc_peer_server *s, const struct mc_extent_key *key)
{
	uint32_t len, crc;
	const void *held = s->store->get(s->store_arg, key, &len, &crc);

	if (held)
		s->store->release(s->store_arg, held);
	return held != NULL;
}

bool mc_peer_server_payload_buf(struct mc_peer_server *s, struct mc_peer_conn *c,
				const struct mc_peer_msg *m, void **buf)
{
	struct mc_flight_who who = { .conn = c, .seq = m->seq };
	struct conn_state *cs;

	if (m->type != MAICACHE_PEER_PUT)
		return false;
	cs = state_of(s, c, true);
	*buf = s->scratch;
	if (!cs)
		return true;	/* no memory: read and drop it */
	cs->fate = PUT_STRAY;
	if (!mc_flight_is_fetcher(s->fl, &m->data.key, who))
		return true;
	*buf = s->store->reserve(s->store_arg, &m->data.key, m->data.len);
	cs->fate = PUT_STORE;
	cs->room = *buf;
	cs->key = m->data.key;
	cs->len = m->data.len;
	if (!*buf) {
		/* No room: the turn passes on; the bytes are read and dropped. */
		*buf = s->scratch;
		cs->fate = store_holds(s, &m->data.key) ? PUT_HELD : PUT_NOROOM;
		mc_flight_done(s->fl, &m->data.key, who, cs->fate == PUT_HELD, mc_now_ms(),
			       verdict, s);
	}
	return true;
}

void mc_peer_server_payload(struct mc_peer_server *s, struct mc_peer_conn *c,
			    const struct mc_peer_msg *m, void *buf, bool crc_ok)
{
	struct mc_flight_who who = { .conn = c, .seq = m->seq };
	struct conn_state *cs = state_of(s, c, false);
	enum put_fate fate = cs ? cs->fate : PUT_STRAY;

	if (fate == PUT_STRAY) {
		s->stats.stray_puts++;
		nack(c, m->seq, &m->data.key, MAICACHE_PEER_NACK_BAD_DATA);
		return;
	}
	if (fate == PUT_HELD)
		return;		/* the waiters were served from what is held */
	if (fate == PUT_NOROOM) {
		nack(c, m->seq, &m->data.key, MAICACHE_PEER_NACK_BUSY);
		return;
	}
	cs->room = NULL;
	s->store->commit(s->store_arg, &m->data.key, buf, m->data.len, m->data.crc32c, crc_ok);
	if (!crc_ok) {
		s->stats.bad_puts++;
		nack(c, m->seq, &m->data.key, MAICACHE_PEER_NACK_BAD_DATA);
	} else {
		s->stats.puts++;
		/* The fetcher has the bytes too: the waiters may be sent to it. */
		if (s->fan)
			mc_fanout_held(s->fan, &m->data.key, mc_peer_conn_peer(c), mc_now_ms(),
				       fan_verdict, s);
	}
	mc_flight_done(s->fl, &m->data.key, who, crc_ok, mc_now_ms(), verdict, s);
}

bool mc_peer_server_sent(struct mc_peer_server *s, struct mc_peer_conn *c,
			 const void *payload)
{
	struct sending *sd;

	mc_list_for_each(sd, &s->sending, link) {
		if (sd->c == c && sd->bytes == payload && !sd->lease_end_ms) {
			end_send(s, sd, true);
			return true;
		}
	}
	return false;
}

void mc_peer_server_closed(struct mc_peer_server *s, struct mc_peer_conn *c)
{
	struct conn_state *cs = state_of(s, c, false);
	struct sending *sd, *tmp;

	if (cs) {
		/* Closed in the middle of a PUT's payload: the room is not used. */
		if (cs->room)
			s->store->commit(s->store_arg, &cs->key, cs->room, cs->len, 0, false);
		mc_list_del(&cs->link);
		free(cs);
	}
	mc_flight_forget(s->fl, c, mc_now_ms(), verdict, s);
	if (s->fan)
		mc_fanout_forget(s->fan, c);
	/* A reader that is gone sends no DONE. */
	mc_list_for_each_safe(sd, tmp, &s->sending, link)
		if (sd->c == c && sd->lease_end_ms)
			end_send(s, sd, false);
}

void mc_peer_server_tick(struct mc_peer_server *s, uint64_t now_ms)
{
	struct sending *sd, *tmp;

	mc_flight_expire(s->fl, now_ms, verdict, s);
	if (s->fan)
		mc_fanout_expire(s->fan, now_ms, fan_verdict, s);
	/* A LOC whose reader never said DONE: the pin ends with its lease. */
	mc_list_for_each_safe(sd, tmp, &s->sending, link) {
		if (sd->lease_end_ms && sd->lease_end_ms <= now_ms) {
			end_send(s, sd, false);
			s->stats.lapsed++;
		}
	}
}

/* ---- the node's own misses ---- */

/* Copy key's bytes from the store into lr->dst; false if not held as asked. */
static bool local_copy(struct mc_peer_server *s, struct mc_peer_local *lr)
{
	uint32_t len, crc;
	const void *bytes = s->store->get(s->store_arg, &lr->key, &len, &crc);
	bool ok = bytes && len == lr->len;

	if (ok) {
		memcpy(lr->dst, bytes, len);
		s->stats.local_served++;
	}
	if (bytes)
		s->store->release(s->store_arg, bytes);
	return ok;
}

enum mc_peer_local_verdict mc_peer_server_local_get(struct mc_peer_server *s,
						    struct mc_peer_local *lr)
{
	struct mc_flight_who who = { .conn = s };
	int v;

	s->stats.local_gets++;
	if (local_copy(s, lr))
		return MC_PEER_LOCAL_SERVED;
	lr->seq = who.seq = ++s->local_seq;
	v = mc_flight_ask(s->fl, &lr->key, who, mc_now_ms());
	if (v == MC_FLIGHT_FETCH) {
		s->stats.local_turns++;
		return MC_PEER_LOCAL_FETCH;
	}
	if (v != MC_FLIGHT_WAIT)
		return MC_PEER_LOCAL_SOURCE;
	mc_list_add_tail(&s->locals, &lr->link);
	return MC_PEER_LOCAL_WAIT;
}

void mc_peer_server_local_put(struct mc_peer_server *s, struct mc_peer_local *lr, int res)
{
	struct mc_flight_who who = { .conn = s, .seq = lr->seq };
	void *buf;

	/* A turn that passed on (lease over) was another's by now. */
	if (!mc_flight_is_fetcher(s->fl, &lr->key, who))
		return;
	buf = res ? NULL : s->store->reserve(s->store_arg, &lr->key, lr->len);
	if (buf) {
		memcpy(buf, lr->dst, lr->len);
		s->store->commit(s->store_arg, &lr->key, buf, lr->len,
				 mc_crc32c(buf, lr->len), true);
		s->stats.puts++;
	}
	mc_flight_done(s->fl, &lr->key, who, buf || (!res && store_holds(s, &lr->key)),
		       mc_now_ms(), verdict, s);
}

void mc_peer_server_local_cancel(struct mc_peer_server *s, struct mc_peer_local *lr)
{
	struct mc_peer_local *it;

	mc_list_for_each(it, &s->locals, link) {
		if (it == lr) {
			mc_list_del(&lr->link);
			return;
		}
	}
}

static void local_verdict(struct mc_peer_server *s, const struct mc_extent_key *key,
			  uint64_t seq, enum mc_flight_verdict v)
{
	(void)key;
	struct mc_peer_local *lr, *found = NULL;

	mc_list_for_each(lr, &s->locals, link) {
		if (lr->seq == seq) {
			found = lr;
			break;
		}
	}
	/*
	 * Cancelled: a turn it was given passes on when its lease ends (the
	 * table may not be changed from inside its own callback).
	 */
	if (!found)
		return;
	mc_list_del(&found->link);
	if (v == MC_FLIGHT_FETCH) {
		s->stats.local_turns++;
		found->cb(found->arg, found, MC_PEER_LOCAL_FETCH);
	} else if (v == MC_FLIGHT_SERVE && local_copy(s, found)) {
		found->cb(found->arg, found, MC_PEER_LOCAL_SERVED);
	} else {
		found->cb(found->arg, found, MC_PEER_LOCAL_SOURCE);
	}
}

/* ---- connections that only serve ---- */

static void only_ready(void *arg, struct mc_peer_conn *c)
{
	(void)arg;
	(void)c;
}

static void only_msg(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	if (!mc_peer_server_msg(arg, c, m))
		mc_peer_conn_close(c);	/* an answer to a request never made */
}

static void *only_payload_buf(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m)
{
	void *buf = NULL;

	return mc_peer_server_payload_buf(arg, c, m, &buf) ? buf : NULL;
}

static void only_payload(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
			 void *buf, bool ok)
{
	mc_peer_server_payload(arg, c, m, buf, ok);
}

static void only_sent(void *arg, struct mc_peer_conn *c, const void *payload)
{
	mc_peer_server_sent(arg, c, payload);
}

static void only_close(void *arg, struct mc_peer_conn *c, int err, const char *why)
{
	(void)err;
	(void)why;
	mc_peer_server_closed(arg, c);
}

const struct mc_peer_conn_ops mc_peer_server_conn_ops = {
	.on_ready	= only_ready,
	.on_msg		= only_msg,
	.payload_buf	= only_payload_buf,
	.on_payload	= only_payload,
	.on_sent	= only_sent,
	.on_close	= only_close,
};
