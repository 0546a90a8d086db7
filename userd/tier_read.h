/* SPDX-License-Identifier: MIT */
/*
 * One miss read through a tier of peers: the cache group (group.c) or the
 * tier between groups (home.c). Both drive a requester's fetch
 * (peer/client.h) whose members may include this node; what they share is
 * here, so that it is written once:
 *
 *   local()    this node is the member to ask: its own server's single
 *              flight (mc_peer_server_local_*): the bytes held (copied,
 *              done later, never inside the call), a turn (the source,
 *              then the bytes to the store), the source without keeping
 *              them, or a wait for the peer that fetches
 *   source()   a peer gave the turn, or no member is left: the source read
 *              the tier names, then mc_peer_fetch_sourced()
 *
 * The caller embeds a struct mc_tier_read, sets f (key, dst, len; f.arg
 * is the tier read), srv, loop and source, and calls these from its
 * client's ops. The source's message for a failed read is kept in msg.
 */
#ifndef MAICACHE_TIER_READ_H
#define MAICACHE_TIER_READ_H

#include <stdbool.h>

#include "client.h"
#include "loop.h"
#include "server.h"
#include "source.h"

struct mc_tier_read;

/* Start the source read of t into t->f.dst, cb(t, ...) later: the contract of mc_source_read(). */
typedef int (*mc_tier_source_fn)(struct mc_tier_read *t, mc_source_cb cb);

struct mc_tier_read {
	struct mc_peer_fetch f;
	struct mc_peer_server *srv;	/* whose flight local() joins */
	struct mc_loop *loop;
	mc_tier_source_fn source;
	struct mc_source_req rq;	/* for source(), when it reads a source itself */
	char msg[200];			/* the source's message for a failed read */
	/* Private. */
	struct mc_peer_local lr;
	struct mc_timer defer;
	bool local, local_put;
};

/* The client's local() and source() for t (f->arg). */
void mc_tier_local(struct mc_tier_read *t);
void mc_tier_source(struct mc_tier_read *t);
/* t is going away unfinished (shutdown): nothing of it runs later. */
void mc_tier_cancel(struct mc_tier_read *t);

#endif /* MAICACHE_TIER_READ_H */
