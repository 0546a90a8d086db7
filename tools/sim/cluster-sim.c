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
 *               [--home] [--gateways W] [--quiet]
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
};

/* ---- events ---- */

enum ev_type {
	EV_ASK,		/* node asks a node for an extent (may_redirect in arg) */
	EV_BLOB_DONE,	/* node's Blob GET ended: it PUTs to the owner */
	EV_ARRIVE,	/* a transfer ended: the receiver has the extent */
	EV_HOME_ASK,	/* a group's fetcher asks the extent's home gateway */
	EV_HOME_PUT,	/* the home's turn-holder's bytes reached the gateway */
	EV_HOME_DATA,	/* the home's bytes reached a group's fetcher */
};

struct ev {
	double t;
	uint32_t type, node, peer, extent;
	uint32_t arg;
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
	double egress_free, ingress_free;
	uint8_t *has;			/* per extent */
	size_t next, inflight, done;
	uint64_t sent, recv;		/* bytes */
	struct mc_node_id id;
};

struct group {
	size_t first, n;		/* nodes [first, first + n) */
	struct mc_placement p;
	struct mc_flight *fl;
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
	push((struct ev){ .t = arrive, .type = type, .node = dst, .peer = src, .extent = e });
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
	push((struct ev){ .t = t + C.blob_s, .type = EV_BLOB_DONE, .node = n, .extent = e });
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
	if (!C.home) {
		blob_get(n, e);
		return;
	}
	home_asks++;
	msgs += home_gw[e] != n;
	push((struct ev){ .t = now + (home_gw[e] != n ? C.rtt_s / 2 : 0), .type = EV_HOME_ASK,
			  .node = n, .peer = home_gw[e], .extent = e });
}

static void ask(uint32_t n, uint32_t target, uint32_t e, bool redirect)
{
	msgs++;
	push((struct ev){ .t = now + C.rtt_s / 2, .type = EV_ASK, .node = n, .peer = target,
			  .extent = e, .arg = redirect });
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
	else if (v == MC_FANOUT_HOLDER)
		ask(n, node_of(holder), (uint32_t)key->index, false);
	else
		ask(n, group_of(n)->owner[key->index], (uint32_t)key->index, false);
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

	if (v == MC_FLIGHT_FETCH)
		fetch(n, (uint32_t)key->index);
	else if (v == MC_FLIGHT_SERVE && n == owner)
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

	if (at == g->owner[e] && !g->held[e]) {
		v = mc_flight_ask(g->fl, &k, who_of(n, e), (uint64_t)(now * 1000));
		if (v == MC_FLIGHT_FETCH)
			fetch(n, e);
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
		ask(n, node_of(&holder), e, false);
	}
}

static void next_reads(uint32_t n)
{
	struct node *nd = &nodes[n];

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

			if (mc_flight_ask(g->fl, &k, who_of(n, e), (uint64_t)(now * 1000)) ==
			    MC_FLIGHT_FETCH)
				fetch(n, e);
			continue;
		}
		ask(n, g->owner[e], e, true);
	}
	if (nd->done == C.extents) {
		complete_nodes++;
		finish_t = now;
	}
}

/* n tells e's owner it has e, from `from` (the owner itself, or a holder). */
static void have(uint32_t n, uint32_t from, uint32_t e)
{
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	if (n == g->owner[e])
		return;
	msgs++;
	mc_fanout_have(fan_of(g->owner[e]), &k, &nodes[n].id, &nodes[from].id,
		       (uint64_t)(now * 1000), fan_cb, (void *)(uintptr_t)g->owner[e]);
}

/* n has extent e now, from `from` (or from Blob: from == n). */
static void got(uint32_t n, uint32_t from, uint32_t e)
{
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	if (nodes[n].has[e])
		return;
	nodes[n].has[e] = 1;
	nodes[n].inflight--;
	nodes[n].done++;
	if (from != n) {
		mc_fanout_end(fan_of(from), &k, who_of(n, e), true, (uint64_t)(now * 1000), fan_cb,
			      (void *)(uintptr_t)from);
		have(n, from, e);
	}
	if (n == g->owner[e] && !g->held[e]) {
		g->held[e] = 1;
		mc_flight_done(g->fl, &k, who_of(n, e), 1, (uint64_t)(now * 1000), flight_cb,
			       (void *)(uintptr_t)n);
	}
	next_reads(n);
}

/* n, its group's fetcher, has e (from Blob or from the home). */
static void sourced(uint32_t n, uint32_t e)
{
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	if (g->owner[e] == n) {
		got(n, n, e);
		return;
	}
	/* The fetcher has it, and PUTs it to the owner: a holder from now on. */
	mc_fanout_held(fan_of(g->owner[e]), &k, &nodes[n].id, (uint64_t)(now * 1000), fan_cb,
		       (void *)(uintptr_t)g->owner[e]);
	got(n, n, e);
	transfer(n, g->owner[e], e);
	have(n, g->owner[e], e);
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

	if (v == MC_FLIGHT_FETCH) {
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

static void on_arrive(const struct ev *ev)
{
	uint32_t n = ev->node, e = ev->extent;
	struct group *g = group_of(n);
	struct mc_extent_key k = ext_key(e);

	if (n != g->owner[e] || g->held[e]) {
		got(n, ev->peer, e);
		return;
	}
	/* The fetcher's PUT: the owner holds it, and its waiters are answered. */
	g->held[e] = 1;
	mc_flight_done(g->fl, &k, who_of(ev->peer, e), 1, (uint64_t)(now * 1000), flight_cb,
		       (void *)(uintptr_t)n);
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
	struct mc_flight_opts fo = { .lease_ms = 600000, .max_waiters = 1 << 20,
				     .max_extents = 1 << 20 };
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
		if (!g->owner || !g->held || mc_placement_set(&g->p, ids, g->n) ||
		    mc_flight_new(&g->fl, &fo)) {
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
	if (C.home)
		setup_home();
}

static void usage(void)
{
	fprintf(stderr, "usage: cluster-sim [--nodes N] [--group-size G] [--extents E] "
		"[--extent-mib S] [--fanout K] [--window W] [--nic-gbps B] [--blob-gbps A] "
		"[--blob-rps R] [--blob-mibps P] [--blob-ms L] [--rtt-us T] [--home] "
		"[--gateways W] [--quiet]\n");
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
		{ "home", 0, NULL, 'H' }, { "gateways", 1, NULL, 'G' },
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
		case 'q': C.quiet = true; break;
		default: usage();
		}
	}
	if (optind != argc || C.nodes < 2 || C.nodes > (1U << 24) || !C.group_size ||
	    !C.extents || C.extents > (1U << 20) || !C.window || C.fanout > 1024 ||
	    C.extent_bytes < 65536 || C.nic_bps <= 0 || C.blob_bps <= 0 || C.blob_rps <= 0 ||
	    C.blob_blob_bps < 0 || !C.gateways)
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
		else
			on_arrive(&ev);
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
	       "at most %u sends of one extent at once on any node\n",
	       max_sent / (double)(1 << 30), total_sent / (double)C.nodes / (1 << 30),
	       total_sent ? max_sent / (total_sent / (double)C.nodes) : 0, peak);
	printf("  fan-out: %llu requesters sent to holders, %llu sends by holders, %llu "
	       "answers to queued requesters; %llu control messages (%.1f per node and extent)\n",
	       (unsigned long long)redirects, (unsigned long long)holder_serves,
	       (unsigned long long)queued_verdicts, (unsigned long long)msgs,
	       (double)msgs / C.nodes / C.extents);
	printf("  simulated %llu events in %.1f s of CPU\n", (unsigned long long)events,
	       (double)clock() / CLOCKS_PER_SEC - wall0);
	return 0;
}
