/* SPDX-License-Identifier: MIT */
/*
 * Hot-extent fan-out: when many nodes want one extent at once, its owner
 * does not send it to them all. The owner sends an extent to at most
 * serve_max (K) requesters at a time; a requester beyond those is handed a
 * holder, a node that already has the extent and sends it to at most K
 * requesters at a time as well. A node becomes a holder when it reports
 * that it has the extent (HAVE: its own kernel serves it by then), after
 * this node sent it, a holder this node named sent it, or it fetched it
 * for the group; it is handed out for holder_ms. Each of those is a lend
 * (this node's own sends and fetches are lends from itself) that lasts
 * until the requester reports HAVE or asks again, or for lend_ms. With
 * every holder busy the requester queues (told WAIT) and is answered as
 * places and holders come free.
 *
 * Each transfer time every node that has the extent sends it to K more, so
 * the copies grow (K + 1)-fold: N nodes have it after about log_(K+1)(N)
 * transfer times, and no node sends more than K copies of it at once. The
 * owner's part is a small message per requester.
 *
 * A holder that no longer has the extent (evicted) says so; the requester
 * then asks again with may_redirect false: the holder is forgotten and the
 * requester is served here, in turn.
 *
 * Pure state, as flight.h: no I/O and no clock. Requesters are named by a
 * struct mc_flight_who (connection, seq) and by their node id, which is
 * what is handed out once they have the extent.
 */
#ifndef MAICACHE_PEER_FANOUT_H
#define MAICACHE_PEER_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flight.h"
#include "key.h"
#include "placement.h"

#define MC_FANOUT_HOLDERS_MAX	65536	/* per extent */

struct mc_fanout_opts {
	struct mc_node_id self;		/* this node: HAVE from it is of its own sends */
	unsigned int serve_max;		/* K: sends of one extent at once (1..1024) */
	unsigned int holders;		/* holders kept per extent (0: no fan-out) */
	uint32_t holder_ms;		/* a holder is handed out this long (1..600000) */
	uint32_t lend_ms;		/* a lend without HAVE ends after (1..600000) */
	unsigned int max_waiters;	/* queued per extent; more get BUSY */
	unsigned int max_extents;	/* tracked at once; past it, sends are not limited */
};

enum mc_fanout_verdict {
	MC_FANOUT_SERVE,	/* send it now; mc_fanout_end() when the send ends */
	MC_FANOUT_HOLDER,	/* send the requester to the holder named */
	MC_FANOUT_QUEUE,	/* every place and holder busy: a verdict comes */
	MC_FANOUT_BUSY,		/* the queue is full: try later */
};

/*
 * A verdict for a requester that queued: SERVE (mc_fanout_end() follows
 * the send) or HOLDER; BUSY when it is dropped (mc_fanout_forget_key()).
 * Given out once the table is consistent: it may call any function of the
 * table.
 */
typedef void (*mc_fanout_cb)(void *arg, const struct mc_extent_key *key,
			     struct mc_flight_who who, enum mc_fanout_verdict v,
			     const struct mc_node_id *holder);

struct mc_fanout_stats {
	uint64_t served, redirected, queued, busy;
	uint64_t untracked;		/* served past max_extents, with no limit */
	uint64_t haves, holders_added, holders_dropped;	/* dropped: expired or failed */
	uint64_t lends_lapsed;
	unsigned int peak;		/* the most sends of one extent at once, ever */
};

struct mc_fanout;

int mc_fanout_new(struct mc_fanout **out, const struct mc_fanout_opts *o);
void mc_fanout_free(struct mc_fanout *t);

/*
 * who (node) asks for key, which this node holds. SERVE, HOLDER (*holder
 * set: never node itself), QUEUE or BUSY; -ENOMEM. may_redirect false (a
 * holder failed it): never HOLDER, and the holder it was lent to is
 * forgotten.
 */
int mc_fanout_ask(struct mc_fanout *t, const struct mc_extent_key *key,
		  struct mc_flight_who who, const struct mc_node_id *node,
		  bool may_redirect, uint64_t now_ms, struct mc_node_id *holder);

/*
 * The send to who, after a SERVE, ended: ok, who has the bytes now (sent
 * over TCP, or READ and DONE) and becomes a holder once it says HAVE;
 * else not (the connection closed, the lease lapsed). Waiters get the
 * place and the holders that are free.
 */
void mc_fanout_end(struct mc_fanout *t, const struct mc_extent_key *key,
		   struct mc_flight_who who, bool ok, uint64_t now_ms,
		   mc_fanout_cb cb, void *arg);

/*
 * node has key, from the holder `from` (HAVE; from is self for this node's
 * own sends and a fetch for the group): its lend ends, node is a holder.
 * A HAVE that matches no lend is ignored.
 */
void mc_fanout_have(struct mc_fanout *t, const struct mc_extent_key *key,
		    const struct mc_node_id *node, const struct mc_node_id *from,
		    uint64_t now_ms, mc_fanout_cb cb, void *arg);

/*
 * node fetched key from the source and PUT it here (checked): a lend from
 * this node, so that its HAVE makes it a holder.
 */
void mc_fanout_held(struct mc_fanout *t, const struct mc_extent_key *key,
		    const struct mc_node_id *node, uint64_t now_ms, mc_fanout_cb cb, void *arg);

/* Lends and holders past their time end; waiters get what came free. */
void mc_fanout_expire(struct mc_fanout *t, uint64_t now_ms, mc_fanout_cb cb, void *arg);

/* A connection is gone: its queued requests are dropped (no verdict). */
void mc_fanout_forget(struct mc_fanout *t, void *conn);

/*
 * The extent is no longer held here (evicted): every waiter gets BUSY and
 * the holders are forgotten.
 */
void mc_fanout_forget_key(struct mc_fanout *t, const struct mc_extent_key *key,
			  mc_fanout_cb cb, void *arg);

/* Sends of key now; holders of it; extents tracked. */
unsigned int mc_fanout_sending(const struct mc_fanout *t, const struct mc_extent_key *key);
unsigned int mc_fanout_holders(const struct mc_fanout *t, const struct mc_extent_key *key);
size_t mc_fanout_count(const struct mc_fanout *t);
const struct mc_fanout_stats *mc_fanout_stats(const struct mc_fanout *t);

#endif /* MAICACHE_PEER_FANOUT_H */
