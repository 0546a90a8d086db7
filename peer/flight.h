/* SPDX-License-Identifier: MIT */
/*
 * Single flight, group-wide: the owner of an extent that it does not hold
 * lets one requester at a time fetch it from Blob (with that requester's
 * own credentials: none leaves its node) and keeps the others waiting
 * until the bytes arrive. A fetcher that fails, dies or outlives its lease
 * loses the turn, and the oldest waiter gets it.
 *
 * Pure state: no I/O and no clock (times are passed in); the peer server
 * turns the verdicts into TURN, DATA and NACK frames. A requester is named
 * by a struct mc_flight_who (its connection and its request's seq).
 */
#ifndef MAICACHE_PEER_FLIGHT_H
#define MAICACHE_PEER_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "list.h"

struct mc_flight_who {
	void *conn;
	uint64_t seq;
	bool rdma;		/* the requester can READ (GET_RDMA): not part of its name */
	bool no_holder;		/* a holder failed it: never sent to one (fanout.h); nor this */
};

enum mc_flight_verdict {
	MC_FLIGHT_FETCH,	/* your turn: fetch from Blob, PUT it within the lease */
	MC_FLIGHT_WAIT,		/* someone fetches it: you are told when it is here */
	MC_FLIGHT_SERVE,	/* it is here: serve the requester from the pool */
	MC_FLIGHT_BUSY,		/* too many waiters for this extent: try later */
};

/*
 * A verdict for a requester asked earlier (done, expire, forget). It may
 * call mc_flight_ask() and nothing else of the table (it sends frames).
 */
typedef void (*mc_flight_cb)(void *arg, const struct mc_extent_key *key,
			     struct mc_flight_who who, enum mc_flight_verdict v);

struct mc_flight_opts {
	uint32_t lease_ms;		/* a fetch turn (1..600000) */
	unsigned int max_waiters;	/* per extent; more get BUSY */
	unsigned int max_extents;	/* in flight at once; more get BUSY */
};

struct mc_flight;

int mc_flight_new(struct mc_flight **out, const struct mc_flight_opts *o);
void mc_flight_free(struct mc_flight *t);

/*
 * who asks for key, which the owner does not hold. FETCH (the turn is
 * who's until now_ms + lease), WAIT (queued), or BUSY; -ENOMEM.
 */
int mc_flight_ask(struct mc_flight *t, const struct mc_extent_key *key,
		  struct mc_flight_who who, uint64_t now_ms);

/*
 * The fetch of key by who ended: ok, the bytes are in the owner's pool, and
 * every waiter gets SERVE; else the oldest waiter gets FETCH (a new lease
 * from now_ms). Returns -ESRCH, and does nothing, unless who holds the turn
 * (a stale or forged PUT).
 */
int mc_flight_done(struct mc_flight *t, const struct mc_extent_key *key,
		   struct mc_flight_who who, int ok, uint64_t now_ms,
		   mc_flight_cb cb, void *arg);

/* True when who holds the fetch turn of key. */
bool mc_flight_is_fetcher(const struct mc_flight *t, const struct mc_extent_key *key,
			  struct mc_flight_who who);

/* Turns whose lease ended by now_ms pass to the oldest waiter (FETCH). */
void mc_flight_expire(struct mc_flight *t, uint64_t now_ms, mc_flight_cb cb,
		      void *arg);

/* A connection is gone: its waits are dropped and its turns passed on. */
void mc_flight_forget(struct mc_flight *t, void *conn, uint64_t now_ms,
		      mc_flight_cb cb, void *arg);

/* Extents in flight; the earliest lease end (UINT64_MAX with none). */
size_t mc_flight_count(const struct mc_flight *t);
uint64_t mc_flight_next_deadline(const struct mc_flight *t);

#endif /* MAICACHE_PEER_FLIGHT_H */
