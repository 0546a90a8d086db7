/* SPDX-License-Identifier: MIT */
/*
 * The owner's side of the peer protocol: what a node answers to the GETs
 * and PUTs of the extents it owns, over its connections (conn.h).
 *
 *   GET, held        DATA from the store (zero copy; pinned until sent)
 *   GET_RDMA, held   LOC: where to RDMA-READ it (pinned until DONE or the
 *                    end of the lease); DATA when RDMA is off here
 *   GET, not held    the first asker gets TURN (a lease), later ones WAIT
 *                    (told so, and answered when the bytes are in);
 *                    too many: NACK BUSY
 *   PUT by the turn  read into room the store reserves, CRC32C checked:
 *                    good, the store commits it and every waiter gets DATA;
 *                    bad, it is dropped, NACK BAD_DATA, the turn passes on
 *   PUT by another   read and dropped, NACK BAD_DATA (a late or forged PUT
 *                    never reaches the store)
 *   GET_COPY         as GET; with COPY_HELD (a holder's request) NACK
 *                    NOT_HELD when not held, never a turn
 *   HAVE             the fan-out's report: the sender got it from a holder
 *
 * With fan-out on (mc_peer_server_set_fanout(), fanout.h) a held extent
 * is sent to at most K requesters at once: the others are answered HOLDER
 * (ask that member) or WAIT (queued: DATA, LOC or HOLDER follows), and a
 * send that ends makes its reader a holder. Requests with COPY_HELD or
 * COPY_NO_HOLDER are never answered HOLDER.
 *
 * A connection that closes loses its waits and its turns (flight.h). The
 * store is where the node keeps extents for the group: the pool (through
 * the kernel) in the daemon, memory in the tests.
 */
#ifndef MAICACHE_PEER_SERVER_H
#define MAICACHE_PEER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "fanout.h"
#include "flight.h"
#include "list.h"

struct mc_extent_store_ops {
	/* key's bytes if held, pinned until release(); else NULL. */
	const void *(*get)(void *arg, const struct mc_extent_key *key, uint32_t *len,
			   uint32_t *crc32c);
	void (*release)(void *arg, const void *bytes);
	/* Room for len incoming bytes of key, or NULL (none: the PUT is dropped). */
	void *(*reserve)(void *arg, const struct mc_extent_key *key, uint32_t len);
	/* The reserved bytes arrived: ok, they match their CRC32C and may be served. */
	void (*commit)(void *arg, const struct mc_extent_key *key, void *buf,
		       uint32_t len, uint32_t crc32c, bool ok);
};

struct mc_peer_server_stats {
	uint64_t gets, served, turns, waits, busy;
	uint64_t locs, dones, stray_dones, lapsed;	/* RDMA: LOCs, DONEs, pins lapsed */
	uint64_t puts, bad_puts, stray_puts;
	uint64_t local_gets, local_served, local_turns;	/* the node's own misses */
	uint64_t copies, not_held;			/* GET_COPY asked, NACK NOT_HELD */
	uint64_t holders, fan_waits, haves;		/* HOLDER, fan-out WAIT, HAVE */
};

struct mc_peer_server;

int mc_peer_server_new(struct mc_peer_server **out, const struct mc_flight_opts *fo,
		       const struct mc_extent_store_ops *store, void *store_arg);
void mc_peer_server_free(struct mc_peer_server *s);
/*
 * Answer GET_RDMA with LOC (on): every byte the store holds can be read by
 * a linked peer at rkey (rdma.h), at its own address.
 */
void mc_peer_server_set_rdma(struct mc_peer_server *s, bool on, uint32_t rkey);
/* Fan-out on (opts as fanout.h): 0 or -EINVAL, -ENOMEM (then as before). */
int mc_peer_server_set_fanout(struct mc_peer_server *s, const struct mc_fanout_opts *o);

/*
 * The owner's part of a connection's callbacks (conn.h), for a daemon whose
 * connections carry both its requests and its peers': requests (GET, PUT)
 * go here, answers (DATA, TURN, NACK) to the requesting side. The *_msg and
 * *_payload_buf functions return false for a frame that is not the
 * server's. mc_peer_server_sent() releases a DATA payload it sent (false for
 * a payload that is not the server's); mc_peer_server_closed() must be
 * called for every connection that closes.
 */
bool mc_peer_server_msg(struct mc_peer_server *s, struct mc_peer_conn *c,
			const struct mc_peer_msg *m);
bool mc_peer_server_payload_buf(struct mc_peer_server *s, struct mc_peer_conn *c,
				const struct mc_peer_msg *m, void **buf);
void mc_peer_server_payload(struct mc_peer_server *s, struct mc_peer_conn *c,
			    const struct mc_peer_msg *m, void *buf, bool crc_ok);
bool mc_peer_server_sent(struct mc_peer_server *s, struct mc_peer_conn *c,
			 const void *payload);
void mc_peer_server_closed(struct mc_peer_server *s, struct mc_peer_conn *c);

/* Callbacks for connections that only serve (arg: the server). */
extern const struct mc_peer_conn_ops mc_peer_server_conn_ops;

/*
 * The owner's own misses on extents it owns go through the same single
 * flight as its peers' GETs (a node cannot connect to itself: the
 * handshake refuses a peer with its own id).
 */
enum mc_peer_local_verdict {
	MC_PEER_LOCAL_SERVED,	/* dst holds the bytes, copied from the store */
	MC_PEER_LOCAL_FETCH,	/* the turn: read the source into dst, then _local_put() */
	MC_PEER_LOCAL_SOURCE,	/* read the source; the group keeps nothing (busy) */
	MC_PEER_LOCAL_WAIT,	/* a peer fetches it: cb() comes with one of the above */
};

struct mc_peer_local {
	struct mc_extent_key key;
	void *dst;
	uint32_t len;
	void (*cb)(void *arg, struct mc_peer_local *lr, enum mc_peer_local_verdict v);
	void *arg;
	/* Private. */
	struct mc_list link;
	uint64_t seq;
};

/*
 * Ask for lr->key. WAIT: cb() comes from a later call of the server (a
 * peer's PUT, a tick, another local put), never from inside this one.
 */
enum mc_peer_local_verdict mc_peer_server_local_get(struct mc_peer_server *s,
						    struct mc_peer_local *lr);
/* After FETCH: the source read ended (res 0: dst holds the bytes). */
void mc_peer_server_local_put(struct mc_peer_server *s, struct mc_peer_local *lr, int res);
/* A WAIT no longer wanted (shutdown): cb() never comes (a turn given meanwhile lapses). */
void mc_peer_server_local_cancel(struct mc_peer_server *s, struct mc_peer_local *lr);

/* Pass on the turns whose lease ended (call every few hundred ms). */
void mc_peer_server_tick(struct mc_peer_server *s, uint64_t now_ms);

const struct mc_peer_server_stats *mc_peer_server_stats(const struct mc_peer_server *s);
/* NULL with fan-out off. */
const struct mc_fanout_stats *mc_peer_server_fanout_stats(const struct mc_peer_server *s);

#endif /* MAICACHE_PEER_SERVER_H */
