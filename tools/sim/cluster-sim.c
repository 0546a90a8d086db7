// SPDX-License-Identifier: MIT
/*
 * cluster-sim: a checkpoint herd on a cluster of cache groups, run by the
 * code the daemons run: placement (peer/placement.c) picks each extent's
 * owner in its group, single flight (peer/flight.c) lets one node of the
 * group fetch it from Blob, and fan-out (peer/fanout.c, a table on every
 * node) decides who sends it to whom. Around that code, a discrete-event
 * model of what it drives:
 *
 *   NICs   every node sends and receives at --nic-gbps; a transfer holds
 *          the sender's egress and the receiver's ingress for its length
 *          (each link one transfer at a time, first come first served)
 *   Blob   one storage account for the cluster: --blob-gbps of egress and
 *          --blob-rps GETs a second at most (a GET past the rate waits),
 *          --blob-ms of latency per GET; --blob-mibps caps one GET (a page
 *          blob's 60 MiB/s; a block blob's is the account's, the default)
 *   nodes  every node reads the same --extents extents at t = 0, --window
 *          at a time, in order; a message (GET, HOLDER, HAVE) costs
 *          --rtt-us
 *
 * It reports the time for every node to have every extent against the
 * lower bound (what each node must receive over its NIC, plus one Blob
 * read), the most any node sent, the Blob GETs per extent and their peak
 * rate, and what the fan-out did. Without --home groups do not share
 * extents: each fetches every extent from Blob once, which the GETs per
 * extent show. With --home (the tier between groups, userd/home.h) the
 * first --gateways nodes of each group are gateways; an extent's home is
 * the gateway placement ranks first over all of them, and a group's
 * fetcher asks the home (its single flight: the real flight code again)
 * before Blob, so the cluster reads each extent from Blob once.
 *
 *   cluster-sim [--nodes N] [--group-size G] [--extents E] [--extent-mib S]
 *               [--fanout K] [--window W] [--nic-gbps B] [--blob-gbps A]
 *               [--blob-rps R] [--blob-mibps P] [--blob-ms L] [--rtt-us T]
 *               [--home] [--gateways W] [--churn P] [--quiet]
 *
 * --churn P: P percent of the nodes (never a gateway) leave once a quarter
 * of all the reads are done, and come back, empty, at half: every member
 * sees each change at once (etcd's delete and put events; their lag is not
 * modelled); what was asked of a leaver goes to the next in line (its
 * connections closed), what was on its way to it is lost, and a node that
 * comes back reads everything again. The report counts the keys that
 * moved; the extra Blob GETs and bytes show against a run without.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fanout.h"
#include "flight.h"
#include "key.h"
#include "placement.h"

struct cfg {
	size_t nodes, group_size, extents, window;
	double extent_bytes, nic_bps, blob_bps, blob_rps, blob_blob_bps, blob_s, rtt_s;
	unsigned int fanout;
	size_t gateways;
	bool home, quiet;
	double churn;		/* percent of nodes */
};

/* ---- events ---- */

enum ev_type {
	EV_ASK,		/* node asks a node for an extent (may_redirect in arg) */
	EV_BLOB_DONE,	/* node's Blob GET ended: it PUTs to the owner */
	EV_ARRIVE,	/* a transfer ended: the receiver has the extent */
	EV_HOME_ASK,	/* a group's fetcher asks the extent's home gateway */
	EV_HOME_PUT,	/* the home's turn-holder's bytes reached the gateway */
	EV_HOME_DATA,	/* the home's bytes reached a group's fetcher */
	EV_PUT,		/* a group's fetcher's bytes reached the extent's owner */
	EV_PASS,	/* a turn given to a node that left passes on (arg: at a home) */
};

struct ev {
	double t;
	uint32_t type, node, peer, extent;
	uint32_t arg;
	uint32_t epoch, peer_epoch;	/* of node and peer when it was queued */
};

static struct ev *heap;
static size_t nheap, heap_cap;

static void push(struct ev e)
{
	size_t i;

	if (nheap == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1 << 16;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		if (!heap) {
			perror("cluster-sim");
			exit(1);
		}
	}
	i = nheap++;
	while (i && heap[(i - 1) / 2].t > e.t) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = e;
}

static struct ev pop(void)
{
	struct ev top = heap[0], last = heap[--nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1].t < heap[c].t)
			c++;
		if (heap[c].t >= last.t)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap)
		heap[i] = last;
	return top;
}

/* ---- the cluster ---- */

struct node {
	struct mc_fanout *fan;		/* made on first use: most nodes serve little */
	struct mc_flight *fl;		/* the same, for the extents it owns */
	bool down;			/* left (--churn) */
	uint32_t epoch;			/* left or came back this many times */
	double egress_free, ingress_free;
	uint8_t *has;			/* per extent */
	size_t next, inflight, done;
	uint64_t sent, recv;		/* bytes */
	struct mc_node_id id;
};

struct group {
	size_t first, n;		/* nodes [first, first + n) */
	struct mc_placement p;
	uint32_t *owner;		/* per extent: a cluster node index */
	uint8_t *held;			/* per extent: the owner has it */
};

static struct cfg C;
static struct node *nodes;
static struct group *groups;
static size_t ngroups;
static double now, blob_free, blob_gate, finish_t;
static uint64_t blob_gets, msgs, redirects, holder_serves, queued_verdicts;
static uint64_t gets_in_second[4096];
static size_t complete_nodes;
/* The second tier: per extent its home gateway, whether it holds it, who fetches. */
static uint32_t *home_gw, *home_fetcher;
static uint8_t *home_held;
static struct mc_flight **home_fl;	/* per node: a gateway's, made on first use */
static uint64_t home_sends, home_asks;
#define NOBODY UINT32_MAX
/*
 * Per node and extent: whom it waits on; the owner whose turn it has (its
 * PUT goes there); the owner that sent it to a holder (its HAVE goes
 * there). Kept as the daemon keeps them, so that churn moves nothing else.
 */
static uint32_t *asked, *turn_from, *lend_from;
static uint64_t delivered, churn_left, churn_moved_leave, churn_moved_join, churn_reasked;
static double churn_leave_t, churn_join_t;
static int churn_phase;		/* 0 before, 1 left, 2 back */

static struct mc_extent_key ext_key(uint32_t e)
{
	struct mc_extent_key k = { .extent_shift = 22, .index = e };

	memset(k.blob, 0xc7, sizeof(k.blob));	/* one checkpoint blob */
	return k;
}

static struct group *group_of(uint32_t node)
{
	return &groups[node / C.group_size];
}

static struct mc_fanout *fan_of(uint32_t n)
{
	struct mc_fanout_opts o = {
		.serve_max = C.fanout ? C.fanout : 1024,
		.holders = C.fanout ? 1024 : 0,
		.holder_ms = 30000,
		.lend_ms = 4000,
		.max_waiters = 1 << 20,
		.max_extents = 1 << 16,
	};

	o.self = nodes[n].id;
	if (!nodes[n].fan && mc_fanout_new(&nodes[n].fan, &o)) {
		fprintf(stderr, "cluster-sim: cannot make a fan-out table\n");
		exit(1);
	}
	return nodes[n].fan;
}

static struct mc_flight *flight_of(uint32_t n)
{
	struct mc_flight_opts fo = { .lease_ms = 600000, .max_waiters = 1 << 20,
				     .max_extents = 1 << 20 };

	if (!nodes[n].fl && mc_flight_new(&nodes[n].fl, &fo)) {
		fprintf(stderr, "cluster-sim: cannot make a flight table\n");
		exit(1);
	}
	return nodes[n].fl;
}

static uint32_t *asked_of(uint32_t n, uint32_t e)
{
	return &asked[(size_t)n * C.extents + e];
}

static uint32_t *turn_of(uint32_t n, uint32_t e)
{
	return &turn_from[(size_t)n * C.extents + e];
}

static uint32_t *lend_of(uint32_t n, uint32_t e)
{
	return &lend_from[(size_t)n * C.extents + e];
}

static uint32_t node_of(const struct mc_node_id *id)
{
	uint32_t n;

	memcpy(&n, id->b, sizeof(n));
	return n;
}

/*
 * A transfer of extent e from src to dst: it leaves when src's egress is
 * free and arrives when dst's ingress has taken it too (each serializes
 * its own side, so a busy receiver does not hold up the sender's other
 * transfers: the fabric buffers, as a lossless RoCE fabric does).
 */
static void transfer_as(uint32_t src, uint32_t dst, uint32_t e, uint32_t type)
{
	double t = now + C.rtt_s, len = C.extent_bytes / C.nic_bps, arrive;

	if (nodes[src].egress_free > t)
		t = nodes[src].egress_free;
	nodes[src].egress_free = t + len;
	arrive = t + len;
	if (nodes[dst].ingress_free + len > arrive)
		arrive = nodes[dst].ingress_free + len;
	nodes[dst].ingress_free = arrive;
	nodes[src].sent += (uint64_t)C.extent_bytes;
	nodes[dst].recv += (uint64_t)C.extent_bytes;
	push((struct ev){ .t = arrive, .type = type, .node = dst, .peer = src, .extent = e,
			  .epoch = nodes[dst].epoch, .peer_epoch = nodes[src].epoch });
}

static void transfer(uint32_t src, uint32_t dst, uint32_t e)
{
	transfer_as(src, dst, e, EV_ARRIVE);
}

/* A Blob GET: the account's request gate and egress, the blob's own limit, latency. */
static void blob_get(uint32_t n, uint32_t e)
{
	double start = now > blob_gate ? now : blob_gate;
	double len = C.extent_bytes / C.blob_bps;
	double per_blob = C.blob_blob_bps ? C.extent_bytes / C.blob_blob_bps : 0;
	double t;

	blob_gate = start + 1.0 / C.blob_rps;
	t = start > blob_free ? start : blob_free;
	blob_free = t + len;
	t += len > per_blob ? len : per_blob;
	blob_gets++;
	if ((size_t)start < sizeof(gets_in_second) / sizeof(gets_in_second[0]))
		gets_in_second[(size_t)start]++;
	*asked_of(n, e) = n;
	push((struct ev){ .t = t + C.blob_s, .type = EV_BLOB_DONE, .node = n, .extent = e,
			  .epoch = nodes[n].epoch });
}

static struct mc_flight *home_flight(uint32_t gw)
{
	struct mc_flight_opts fo = { .lease_ms = 600000, .max_waiters = 1 << 20,
				     .max_extents = 1 << 20 };

	if (!home_fl[gw] && mc_flight_new(&home_fl[gw], &fo)) {
		fprintf(stderr, "cluster-sim: cannot make a home flight\n");
		exit(1);
	}
	return home_fl[gw];
}

/* The group's turn to read e is n's: the home first, with a home. */
static void fetch(uint32_t n, uint32_t e)
{
	if (nodes[n].down)
		return;
	if (!C.home) {
		blob_get(n, e);
		return;
	}
	home_asks++;
	msgs += home_gw[e] != n;
	*asked_of(n, e) = n;
	push((struct ev){ .t = now + (home_gw[e] != n ? C.rtt_s / 2 : 0), .type = EV_HOME_ASK,
			  .node = n, .peer = home_gw[e], .extent = e, .epoch = nodes[n].epoch,
			  .peer_epoch = nodes[home_gw[e]].epoch });
}

static void ask(uint32_t n, uint32_t target, uint32_t e, bool redirect)
{
	if (nodes[n].down)
		return;		/* gone: nothing it asked matters */
	msgs++;
	*asked_of(n, e) = target;
	push((struct ev){ .t = now + C.rtt_s / 2, .type = EV_ASK, .node = n, .peer = target,
			  .extent = e, .arg = redirect, .epoch = nodes[n].epoch,
			  .peer_epoch = nodes[target].epoch });
}

/* The node at `at` answered for a queued requester (who.conn is the requester). */
static void fan_cb(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		   enum mc_fanout_verdict v, const struct mc_node_id *holder)
{
	uint32_t at = (uint32_t)(uintptr_t)arg;
	uint32_t n = (uint32_t)((struct node *)who.conn - nodes);

	queued_verdicts++;
	if (v == MC_FANOUT_SERVE)
		transfer(at, n, (uint32_t)key->index);
	else if (v == MC_FANOUT_HOLDER) {
		*lend_of(n, (uint32_t)key->index) = at;
		ask(n, node_of(holder), (uint32_t)key->index, false);
	} else {
		ask(n, group_of(n)->owner[key->index], (uint32_t)key->index, false);
	}
}

static void got(uint32_t n, uint32_t from, uint32_t e);

static struct mc_flight_who who_of(uint32_t n, uint32_t e)
{
	return (struct mc_flight_who){ .conn = &nodes[n], .seq = e };
}

/* Flight verdicts at an owner: a waiter's turn, or the bytes are here. */
static void flight_cb(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		      enum mc_flight_verdict v)
{
	uint32_t owner = (uint32_t)(uintptr_t)arg;
	uint32_t n = (uint32_t)(((struct node *)who.conn) - nodes);

	if (v == MC_FLIGHT_FETCH && nodes[n].down) {
		/* A turn for one that left: it passes on, outside this call. */
		push((struct ev){ .t = now, .type = EV_PASS, .node = owner, .peer = n,
				  .extent = (uint32_t)key->index, .epoch = nodes[owner].epoch });
	} else if (v == MC_FLIGHT_FETCH) {
		*turn_of(n, (uint32_t)key->index) = owner;
		fetch(n, (uint32_t)key->index);
	} else if (v == MC_FLIGHT_SERVE && n == owner)
		got(n, n, (uint32_t)key->index);	/* its own read: from its store */
	else if (v == MC_FLIGHT_SERVE)
		ask(n, owner, (uint32_t)key->index, true);
}

/* Extent e at owner o is asked by n (redirect: it may be sent to a holder). */
static void on_ask(const struct ev *ev)
{
	uint32_t n = ev->node, at = ev->peer, e = ev->extent;
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);
	struct mc_node_id holder;
	int v;

	if (nodes[at].down) {
		/* Gone (a holder the owner still names): the owner, no holder again. */
		ask(n, g->owner[e], e, false);
		return;
	}
	if (at == g->owner[e] && !g->held[e]) {
		v = mc_flight_ask(flight_of(at), &k, who_of(n, e), (uint64_t)(now * 1000));
		if (v == MC_FLIGHT_FETCH) {
			*turn_of(n, e) = at;
			fetch(n, e);
		}
		return;		/* WAIT: flight_cb() asks again when it is here */
	}
	if (at != g->owner[e] && !nodes[at].has[e]) {
		/* A holder without it (cannot happen here: nothing is evicted). */
		ask(n, g->owner[e], e, false);
		return;
	}
	v = mc_fanout_ask(fan_of(at), &k, who_of(n, e), &nodes[n].id, ev->arg != 0,
			  (uint64_t)(now * 1000), &holder);
	if (v == MC_FANOUT_SERVE) {
		holder_serves += at != g->owner[e];
		transfer(at, n, e);
	} else if (v == MC_FANOUT_HOLDER) {
		redirects++;
		*lend_of(n, e) = at;
		ask(n, node_of(&holder), e, false);
	}
}

static void next_reads(uint32_t n)
{
	struct node *nd = &nodes[n];

	if (nd->down)
		return;
	while (nd->inflight < C.window && nd->next < C.extents) {
		uint32_t e = (uint32_t)nd->next++;
		struct group *g = group_of(n);

		nd->inflight++;
		if (g->owner[e] == n && g->held[e]) {
			nd->has[e] = 1;
			nd->inflight--;
			nd->done++;
			continue;
		}
		if (g->owner[e] == n) {
			/* The owner's own miss goes through its flight like a peer's. */
			struct mc_extent_key k = ext_key(e);

			*asked_of(n, e) = n;
			if (mc_flight_ask(flight_of(n), &k, who_of(n, e), (uint64_t)(now * 1000)) ==
			    MC_FLIGHT_FETCH) {
				*turn_of(n, e) = n;
				fetch(n, e);
			}
			continue;
		}
		ask(n, g->owner[e], e, true);
	}
	if (nd->done == C.extents) {
		complete_nodes++;
		finish_t = now;
	}
}

/*
 * n has e from `from` (an owner, a holder, or the owner it PUT to): HAVE
 * to the owner that sent it to a holder, or else to from.
 */
static void have(uint32_t n, uint32_t from, uint32_t e)
{
	uint32_t to = *lend_of(n, e) != NOBODY ? *lend_of(n, e) : from;
	struct mc_extent_key k = ext_key(e);

	*lend_of(n, e) = NOBODY;
	if (n == to || nodes[to].down)
		return;
	msgs++;
	mc_fanout_have(fan_of(to), &k, &nodes[n].id, &nodes[from].id,
		       (uint64_t)(now * 1000), fan_cb, (void *)(uintptr_t)to);
}

/* n has extent e now, from `from` (or from Blob: from == n). */
static void got(uint32_t n, uint32_t from, uint32_t e)
{
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	/* A send ends when its bytes are there, wanted or not (a second copy after churn). */
	if (from != n && nodes[from].fan)
		mc_fanout_end(nodes[from].fan, &k, who_of(n, e), true, (uint64_t)(now * 1000),
			      fan_cb, (void *)(uintptr_t)from);
	if (nodes[n].down)
		return;
	/*
	 * Its own fetch, as the owner it is or was (or the bytes came from the
	 * owner before it, after churn): its flight's waiters are served.
	 */
	if (from == n || n == g->owner[e]) {
		if (n == g->owner[e])
			g->held[e] = 1;
		if (nodes[n].fl)
			mc_flight_done(nodes[n].fl, &k, who_of(n, e), 1, (uint64_t)(now * 1000),
				       flight_cb, (void *)(uintptr_t)n);
	}
	if (nodes[n].has[e])
		return;
	nodes[n].has[e] = 1;
	nodes[n].inflight--;
	nodes[n].done++;
	*asked_of(n, e) = NOBODY;
	delivered++;
	if (from != n)
		have(n, from, e);
	next_reads(n);
}

/* n, its group's fetcher, has e (from Blob or from the home). */
static void sourced(uint32_t n, uint32_t e)
{
	uint32_t o = *turn_of(n, e);
	struct mc_extent_key k = ext_key(e);

	*turn_of(n, e) = NOBODY;
	if (o == n || o == NOBODY || nodes[o].down) {
		got(n, n, e);
		return;
	}
	/* The fetcher has it, and PUTs it to the owner that gave the turn: a holder. */
	mc_fanout_held(fan_of(o), &k, &nodes[n].id, (uint64_t)(now * 1000), fan_cb,
		       (void *)(uintptr_t)o);
	*lend_of(n, e) = NOBODY;
	got(n, o, e);
	transfer_as(n, o, e, EV_PUT);
}

static void home_cb(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		    enum mc_flight_verdict v);

/* The home gateway gw has e now (its turn-holder's PUT, or its own read). */
static void home_done(uint32_t gw, uint32_t fetcher, uint32_t e)
{
	struct mc_extent_key k = ext_key(e);

	home_held[e] = 1;
	mc_flight_done(home_flight(gw), &k, who_of(fetcher, e), 1, (uint64_t)(now * 1000),
		       home_cb, (void *)(uintptr_t)gw);
}

/* Verdicts at a home gateway: a waiter's turn (Blob), or the bytes. */
static void home_cb(void *arg, const struct mc_extent_key *key, struct mc_flight_who who,
		    enum mc_flight_verdict v)
{
	uint32_t gw = (uint32_t)(uintptr_t)arg, e = (uint32_t)key->index;
	uint32_t n = (uint32_t)(((struct node *)who.conn) - nodes);

	if (v == MC_FLIGHT_FETCH && nodes[n].down) {
		push((struct ev){ .t = now, .type = EV_PASS, .node = gw, .peer = n, .extent = e,
				  .arg = 1, .epoch = nodes[gw].epoch });
	} else if (v == MC_FLIGHT_FETCH) {
		home_fetcher[e] = n;
		blob_get(n, e);
	} else if (v == MC_FLIGHT_SERVE && n == gw) {
		sourced(n, e);
	} else if (v == MC_FLIGHT_SERVE) {
		home_sends++;
		transfer_as(gw, n, e, EV_HOME_DATA);
	}
}

static void on_home_ask(const struct ev *ev)
{
	uint32_t n = ev->node, gw = ev->peer, e = ev->extent;
	struct mc_extent_key k = ext_key(e);

	if (home_held[e]) {
		home_cb((void *)(uintptr_t)gw, &k, who_of(n, e), MC_FLIGHT_SERVE);
		return;
	}
	if (mc_flight_ask(home_flight(gw), &k, who_of(n, e), (uint64_t)(now * 1000)) ==
	    MC_FLIGHT_FETCH)
		home_cb((void *)(uintptr_t)gw, &k, who_of(n, e), MC_FLIGHT_FETCH);
	/* WAIT: home_cb() serves it once the gateway has it. */
}

static void on_blob_done(const struct ev *ev)
{
	uint32_t n = ev->node, e = ev->extent;

	if (C.home && home_fetcher[e] == n) {
		/* The cluster's read: the home keeps it for every group. */
		home_fetcher[e] = NOBODY;
		if (home_gw[e] == n)
			home_done(n, n, e);
		else
			transfer_as(n, home_gw[e], e, EV_HOME_PUT);
	}
	sourced(n, e);
}

/* The fetcher's PUT: the owner (if it still is) holds it; its waiters are answered. */
static void on_put(const struct ev *ev)
{
	uint32_t o = ev->node, e = ev->extent;
	struct group *g = group_of(o);
	struct mc_extent_key k = ext_key(e);

	if (g->owner[e] == o)
		g->held[e] = 1;
	mc_flight_done(flight_of(o), &k, who_of(ev->peer, e), 1, (uint64_t)(now * 1000),
		       flight_cb, (void *)(uintptr_t)o);
}

static void on_pass(const struct ev *ev)
{
	struct mc_extent_key k = ext_key(ev->extent);

	if (ev->arg)
		mc_flight_done(home_flight(ev->node), &k, who_of(ev->peer, ev->extent), 0,
			       (uint64_t)(now * 1000), home_cb, (void *)(uintptr_t)ev->node);
	else if (nodes[ev->node].fl)
		mc_flight_done(nodes[ev->node].fl, &k, who_of(ev->peer, ev->extent), 0,
			       (uint64_t)(now * 1000), flight_cb, (void *)(uintptr_t)ev->node);
}

/* ---- churn ---- */

static bool churns(uint32_t n)
{
	if (C.home && n - group_of(n)->first < C.gateways)
		return false;	/* gateways stay: the registry is static */
	return mc_mix64((uint64_t)n ^ 0x6368726eULL) % 10000 < (uint64_t)(C.churn * 100);
}

/* g's placement over its members that are up; the keys whose owner changed. */
static uint64_t replace(struct group *g)
{
	struct mc_node_id *ids = calloc(g->n, sizeof(*ids));
	uint64_t moved = 0;
	size_t n = 0;

	if (!ids) {
		perror("cluster-sim");
		exit(1);
	}
	for (size_t i = 0; i < g->n; i++)
		if (!nodes[g->first + i].down)
			ids[n++] = nodes[g->first + i].id;
	mc_placement_free(&g->p);
	if (mc_placement_set(&g->p, ids, n)) {
		fprintf(stderr, "cluster-sim: cannot place the group again\n");
		exit(1);
	}
	free(ids);
	for (uint32_t e = 0; e < C.extents; e++) {
		struct mc_extent_key k = ext_key(e);
		uint32_t o = node_of(&g->p.nodes[mc_placement_owner(&g->p, mc_extent_key_hash(&k))].id);

		moved += o != g->owner[e];
		g->owner[e] = o;
		/* What a new owner holds is what it read itself. */
		g->held[e] = nodes[o].has[e];
	}
	return moved;
}

/* Ask again what n asked of a node that left: the next in line, the new owner. */
static void reask(uint32_t n, uint32_t e, bool was_owner)
{
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	churn_reasked++;
	if (g->owner[e] != n) {
		ask(n, g->owner[e], e, was_owner);
		return;
	}
	if (g->held[e]) {
		got(n, n, e);
		return;
	}
	*asked_of(n, e) = n;
	if (mc_flight_ask(flight_of(n), &k, who_of(n, e), (uint64_t)(now * 1000)) ==
	    MC_FLIGHT_FETCH) {
		*turn_of(n, e) = n;
		fetch(n, e);
	}
}

static void leave(void)
{
	uint32_t *old = malloc(C.extents * sizeof(*old));

	if (!old) {
		perror("cluster-sim");
		exit(1);
	}
	churn_leave_t = now;
	for (uint32_t n = 0; n < C.nodes; n++) {
		struct node *nd = &nodes[n];

		if (!churns(n))
			continue;
		churn_left++;
		nd->down = true;
		nd->epoch++;
		mc_fanout_free(nd->fan);
		nd->fan = NULL;
		mc_flight_free(nd->fl);
		nd->fl = NULL;
		if (nd->done == C.extents)
			complete_nodes--;
		delivered -= nd->done;
		memset(nd->has, 0, C.extents);
		nd->next = nd->inflight = nd->done = 0;
	}
	/* The homes forget them too (each gateway's flight: the first nodes of groups). */
	for (size_t gi = 0; C.home && gi < ngroups; gi++)
		for (size_t i = 0; i < C.gateways && i < groups[gi].n; i++) {
			uint32_t gw = (uint32_t)(groups[gi].first + i);

			for (uint32_t x = 0; home_fl[gw] && x < C.nodes; x++)
				if (nodes[x].down)
					mc_flight_forget(home_fl[gw], &nodes[x], (uint64_t)(now * 1000),
							 home_cb, (void *)(uintptr_t)gw);
		}
	for (size_t gi = 0; gi < ngroups; gi++) {
		struct group *g = &groups[gi];

		memcpy(old, g->owner, C.extents * sizeof(*old));
		churn_moved_leave += replace(g);
		for (size_t i = 0; i < g->n; i++) {
			uint32_t m = (uint32_t)(g->first + i);

			if (nodes[m].down)
				continue;
			/* Its connections to the leavers closed: waits and turns end. */
			for (size_t j = 0; j < g->n; j++) {
				uint32_t x = (uint32_t)(g->first + j);

				if (!nodes[x].down)
					continue;
				if (nodes[m].fl)
					mc_flight_forget(nodes[m].fl, &nodes[x], (uint64_t)(now * 1000),
							 flight_cb, (void *)(uintptr_t)m);
				if (nodes[m].fan)
					mc_fanout_forget(nodes[m].fan, &nodes[x]);
			}
			for (uint32_t e = 0; e < C.extents; e++) {
				uint32_t a = *asked_of(m, e);

				if (a != NOBODY && nodes[a].down)
					reask(m, e, old[e] == a);
			}
		}
	}
	free(old);
}

static void rejoin(void)
{
	churn_join_t = now;
	for (uint32_t n = 0; n < C.nodes; n++)
		if (nodes[n].down) {
			nodes[n].down = false;
			nodes[n].epoch++;
		}
	for (size_t gi = 0; gi < ngroups; gi++)
		churn_moved_join += replace(&groups[gi]);
	for (uint32_t n = 0; n < C.nodes; n++)
		if (churns(n))
			next_reads(n);	/* it comes back empty and reads it all */
}

/* A quarter of all reads done: the churn leaves; half: it comes back. */
static void churn_step(void)
{
	uint64_t total = (uint64_t)C.nodes * C.extents;

	if (churn_phase == 0 && delivered * 4 >= total) {
		churn_phase = 1;
		leave();
	} else if (churn_phase == 1 && delivered * 2 >= total) {
		churn_phase = 2;
		rejoin();
	}
}

/* ---- set-up and report ---- */

/* The gateways (the first of each group) and each extent's home among them. */
static void setup_home(void)
{
	size_t per = C.gateways < C.group_size ? C.gateways : C.group_size, n = 0;
	struct mc_node_id *gw = calloc(ngroups * per, sizeof(*gw));
	struct mc_placement hp = { 0 };

	home_gw = calloc(C.extents, sizeof(*home_gw));
	home_fetcher = calloc(C.extents, sizeof(*home_fetcher));
	home_held = calloc(C.extents, 1);
	home_fl = calloc(C.nodes, sizeof(*home_fl));
	if (!gw || !home_gw || !home_fetcher || !home_held || !home_fl) {
		perror("cluster-sim");
		exit(1);
	}
	for (size_t gi = 0; gi < ngroups; gi++)
		for (size_t i = 0; i < per && i < groups[gi].n; i++)
			gw[n++] = nodes[groups[gi].first + i].id;
	if (mc_placement_set(&hp, gw, n)) {
		fprintf(stderr, "cluster-sim: cannot place the gateways\n");
		exit(1);
	}
	for (uint32_t e = 0; e < C.extents; e++) {
		struct mc_extent_key k = ext_key(e);

		home_gw[e] = node_of(&hp.nodes[mc_placement_owner(&hp, mc_extent_key_hash(&k))].id);
		home_fetcher[e] = NOBODY;
	}
	mc_placement_free(&hp);
	free(gw);
}

static void setup(void)
{
	struct mc_node_id *ids;

	ngroups = (C.nodes + C.group_size - 1) / C.group_size;
	nodes = calloc(C.nodes, sizeof(*nodes));
	groups = calloc(ngroups, sizeof(*groups));
	ids = calloc(C.group_size, sizeof(*ids));
	if (!nodes || !groups || !ids) {
		perror("cluster-sim");
		exit(1);
	}
	for (size_t i = 0; i < C.nodes; i++) {
		uint32_t n = (uint32_t)i;

		memcpy(nodes[i].id.b, &n, sizeof(n));
		for (size_t b = sizeof(n); b < sizeof(nodes[i].id.b); b++)
			nodes[i].id.b[b] = (uint8_t)(mc_mix64(i * 7919 + b) >> 17);
		nodes[i].has = calloc(C.extents, 1);
		if (!nodes[i].has) {
			perror("cluster-sim");
			exit(1);
		}
	}
	for (size_t gi = 0; gi < ngroups; gi++) {
		struct group *g = &groups[gi];

		g->first = gi * C.group_size;
		g->n = C.nodes - g->first < C.group_size ? C.nodes - g->first : C.group_size;
		for (size_t i = 0; i < g->n; i++)
			ids[i] = nodes[g->first + i].id;
		g->owner = calloc(C.extents, sizeof(*g->owner));
		g->held = calloc(C.extents, 1);
		if (!g->owner || !g->held || mc_placement_set(&g->p, ids, g->n)) {
			fprintf(stderr, "cluster-sim: cannot set up group %zu\n", gi);
			exit(1);
		}
		for (uint32_t e = 0; e < C.extents; e++) {
			struct mc_extent_key k = ext_key(e);
			ssize_t o = mc_placement_owner(&g->p, mc_extent_key_hash(&k));

			/* p->nodes is sorted by id: find the cluster index it names. */
			g->owner[e] = node_of(&g->p.nodes[o].id);
		}
	}
	free(ids);
	asked = malloc((size_t)C.nodes * C.extents * sizeof(*asked));
	turn_from = malloc((size_t)C.nodes * C.extents * sizeof(*turn_from));
	lend_from = malloc((size_t)C.nodes * C.extents * sizeof(*lend_from));
	if (!asked || !turn_from || !lend_from) {
		perror("cluster-sim");
		exit(1);
	}
	/* NOBODY everywhere. */
	memset(asked, 0xff, (size_t)C.nodes * C.extents * sizeof(*asked));
	memset(turn_from, 0xff, (size_t)C.nodes * C.extents * sizeof(*turn_from));
	memset(lend_from, 0xff, (size_t)C.nodes * C.extents * sizeof(*lend_from));
	if (C.home)
		setup_home();
}

static void usage(void)
{
	fprintf(stderr, "usage: cluster-sim [--nodes N] [--group-size G] [--extents E] "
		"[--extent-mib S] [--fanout K] [--window W] [--nic-gbps B] [--blob-gbps A] "
		"[--blob-rps R] [--blob-mibps P] [--blob-ms L] [--rtt-us T] [--home] "
		"[--gateways W] [--churn P] [--quiet]\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", 1, NULL, 'n' }, { "group-size", 1, NULL, 'g' },
		{ "extents", 1, NULL, 'e' }, { "extent-mib", 1, NULL, 's' },
		{ "fanout", 1, NULL, 'k' }, { "window", 1, NULL, 'w' },
		{ "nic-gbps", 1, NULL, 'b' }, { "blob-gbps", 1, NULL, 'a' },
		{ "blob-rps", 1, NULL, 'r' }, { "blob-mibps", 1, NULL, 'p' },
		{ "blob-ms", 1, NULL, 'l' }, { "rtt-us", 1, NULL, 't' },
		{ "home", 0, NULL, 'H' }, { "gateways", 1, NULL, 'G' }, { "churn", 1, NULL, 'c' },
		{ "quiet", 0, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	int c;

	C = (struct cfg){ .nodes = 1000, .group_size = 5000, .extents = 64, .window = 8,
			  .extent_bytes = 4 << 20, .nic_bps = 200e9 / 8, .blob_bps = 120e9 / 8,
			  .blob_rps = 20000, .blob_s = 0.02,
			  .rtt_s = 10e-6, .fanout = 4, .gateways = 1 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		double v = optarg ? strtod(optarg, NULL) : 0;

		switch (c) {
		case 'n': C.nodes = (size_t)v; break;
		case 'g': C.group_size = (size_t)v; break;
		case 'e': C.extents = (size_t)v; break;
		case 's': C.extent_bytes = v * (1 << 20); break;
		case 'k': C.fanout = (unsigned int)v; break;
		case 'w': C.window = (size_t)v; break;
		case 'b': C.nic_bps = v * 1e9 / 8; break;
		case 'a': C.blob_bps = v * 1e9 / 8; break;
		case 'r': C.blob_rps = v; break;
		case 'p': C.blob_blob_bps = v * (1 << 20); break;
		case 'l': C.blob_s = v / 1000; break;
		case 't': C.rtt_s = v / 1e6; break;
		case 'H': C.home = true; break;
		case 'G': C.gateways = (size_t)v; break;
		case 'c': C.churn = v; break;
		case 'q': C.quiet = true; break;
		default: usage();
		}
	}
	if (optind != argc || C.nodes < 2 || C.nodes > (1U << 24) || !C.group_size ||
	    !C.extents || C.extents > (1U << 20) || !C.window || C.fanout > 1024 ||
	    C.extent_bytes < 65536 || C.nic_bps <= 0 || C.blob_bps <= 0 || C.blob_rps <= 0 ||
	    C.blob_blob_bps < 0 || !C.gateways || C.churn < 0 || C.churn > 50)
		usage();
}

int main(int argc, char **argv)
{
	double bound, wall0 = (double)clock() / CLOCKS_PER_SEC;
	uint64_t max_sent = 0, total_sent = 0, events = 0;
	unsigned int peak = 0;
	uint64_t peak_rps = 0;
	size_t last_report = 0;

	parse(argc, argv);
	setup();
	for (uint32_t n = 0; n < C.nodes; n++)
		next_reads(n);
	while (nheap) {
		struct ev ev = pop();

		now = ev.t;
		events++;
		/* Queued for a node that is gone, or left or came back since: lost. */
		if (ev.epoch != nodes[ev.node].epoch || nodes[ev.node].down) {
			/* A send to it: the sender's place ends with the connection. */
			if (ev.type == EV_ARRIVE && ev.peer_epoch == nodes[ev.peer].epoch &&
			    nodes[ev.peer].fan) {
				struct mc_extent_key k = ext_key(ev.extent);

				mc_fanout_end(nodes[ev.peer].fan, &k, who_of(ev.node, ev.extent), false,
					      (uint64_t)(now * 1000), fan_cb,
					      (void *)(uintptr_t)ev.peer);
			}
			continue;
		}
		/* Asked of one that left or came back since: its connection closed. */
		if (ev.type == EV_ASK && ev.peer_epoch != nodes[ev.peer].epoch) {
			if (*asked_of(ev.node, ev.extent) == ev.peer)
				reask(ev.node, ev.extent, false);
			continue;
		}
		if (ev.type == EV_ASK)
			on_ask(&ev);
		else if (ev.type == EV_BLOB_DONE)
			on_blob_done(&ev);
		else if (ev.type == EV_HOME_ASK)
			on_home_ask(&ev);
		else if (ev.type == EV_HOME_PUT)
			home_done(ev.node, ev.peer, ev.extent);
		else if (ev.type == EV_HOME_DATA)
			sourced(ev.node, ev.extent);
		else if (ev.type == EV_PUT)
			on_put(&ev);
		else if (ev.type == EV_PASS)
			on_pass(&ev);
		else
			got(ev.node, ev.peer, ev.extent);
		if (C.churn)
			churn_step();
		if (!C.quiet && (complete_nodes >= last_report + C.nodes / 10 ||
				 !(events & ((1 << 22) - 1)))) {
			last_report = complete_nodes;
			fprintf(stderr, "cluster-sim: %zu of %zu nodes done at %.3f s simulated "
				"(%.0f s of CPU)\n", complete_nodes, C.nodes, now,
				(double)clock() / CLOCKS_PER_SEC - wall0);
		}
	}
	for (size_t i = 0; i < C.nodes; i++) {
		const struct mc_fanout_stats *fs = nodes[i].fan ? mc_fanout_stats(nodes[i].fan) : NULL;

		if (nodes[i].done != C.extents) {
			fprintf(stderr, "cluster-sim: node %zu has %zu of %zu extents: stuck\n", i,
				nodes[i].done, C.extents);
			/* What it waits for, and on whom: the first few. */
			for (uint32_t e = 0, shown = 0; e < C.extents && shown < 4; e++) {
				uint32_t a = *asked_of((uint32_t)i, e);

				if (nodes[i].has[e])
					continue;
				shown++;
				fprintf(stderr, "  extent %u: waits on %u (owner %u, which %s it)\n", e, a,
					group_of((uint32_t)i)->owner[e],
					nodes[group_of((uint32_t)i)->owner[e]].has[e] ? "has" : "has not");
			}
			return 1;
		}
		total_sent += nodes[i].sent;
		if (nodes[i].sent > max_sent)
			max_sent = nodes[i].sent;
		if (fs && fs->peak > peak)
			peak = fs->peak;
	}
	for (size_t s = 0; s < sizeof(gets_in_second) / sizeof(gets_in_second[0]); s++)
		if (gets_in_second[s] > peak_rps)
			peak_rps = gets_in_second[s];
	/* Each node receives every extent it does not fetch; one Blob read first. */
	bound = C.extents * C.extent_bytes / C.nic_bps + C.blob_s +
		C.extent_bytes / (C.blob_blob_bps && C.blob_blob_bps < C.blob_bps ?
				  C.blob_blob_bps : C.blob_bps);
	printf("cluster-sim: %zu nodes in %zu groups of up to %zu, %zu extents of %.0f MiB "
	       "(%.2f GiB), fan-out K = %u, NIC %.0f Gb/s\n", C.nodes, ngroups, C.group_size,
	       C.extents, C.extent_bytes / (1 << 20), C.extents * C.extent_bytes / (1 << 30),
	       C.fanout, C.nic_bps * 8 / 1e9);
	printf("  every node has every extent after %.3f s; lower bound %.3f s: %.2fx\n",
	       finish_t, bound, finish_t / bound);
	printf("  Blob: %llu GETs, %.2f per extent (%zu groups, %s); "
	       "peak %llu GETs in one second (account limit %.0f/s)\n",
	       (unsigned long long)blob_gets, (double)blob_gets / C.extents, ngroups,
	       C.home ? "the tier between groups on" : "no tier between groups",
	       (unsigned long long)peak_rps, C.blob_rps);
	if (C.home)
		printf("  home: %llu asks of a home by groups' fetchers, %llu sends by home gateways "
		       "(%zu per group)\n", (unsigned long long)home_asks,
		       (unsigned long long)home_sends, C.gateways);
	printf("  sends: the most any node sent %.2f GiB, the mean %.2f GiB (%.2fx); "
	       "at most %u sends of one extent at once on any node; %.1f GiB between nodes in all\n",
	       max_sent / (double)(1 << 30), total_sent / (double)C.nodes / (1 << 30),
	       total_sent ? max_sent / (total_sent / (double)C.nodes) : 0, peak,
	       total_sent / (double)(1 << 30));
	printf("  fan-out: %llu requesters sent to holders, %llu sends by holders, %llu "
	       "answers to queued requesters; %llu control messages (%.1f per node and extent)\n",
	       (unsigned long long)redirects, (unsigned long long)holder_serves,
	       (unsigned long long)queued_verdicts, (unsigned long long)msgs,
	       (double)msgs / C.nodes / C.extents);
	if (C.churn)
		printf("  churn: %llu nodes left at %.3f s and came back at %.3f s; keys moved %llu "
		       "when they left, %llu when they came back (of %zu: %zu in each of %zu groups); "
		       "%llu asks went to the next in line\n", (unsigned long long)churn_left,
		       churn_leave_t, churn_join_t, (unsigned long long)churn_moved_leave,
		       (unsigned long long)churn_moved_join, C.extents * ngroups, C.extents, ngroups,
		       (unsigned long long)churn_reasked);
	printf("  simulated %llu events in %.1f s of CPU\n", (unsigned long long)events,
	       (double)clock() / CLOCKS_PER_SEC - wall0);
	return 0;
}
