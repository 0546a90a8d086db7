/* SPDX-License-Identifier: MIT */
/*
 * The requester's side of the peer protocol: one miss of an extent the
 * node does not hold, fetched from the group before Blob.
 *
 *   ask the owner (GET), then the next members in placement order (this
 *   node among them: local(), its own single flight);
 *   DATA whose CRC32C matches       -> done, the bytes are in the slot
 *   LOC (asked GET_RDMA over a link -> RDMA-READ into the slot, DONE to the
 *   to that member that is up)         owner; then as DATA (a failed read:
 *                                      next member)
 *
 * Where an extent was READ from is remembered (bounded, per connection): a
 * later miss of it READs there first with no round trip, unpinned, and
 * keeps the bytes only if they still match the CRC32C the owner named and
 * the CRC-64 this node computed of them (96 bits); a stale location costs
 * that one READ.
 *   DATA that does not              -> counted against that peer, next
 *   WAIT                            -> another node fetches it: wait out
 *                                      the lease the owner names
 *   TURN                            -> fetch from the source (Blob, with
 *                                      this node's own credentials), PUT
 *                                      the bytes to the owner, done
 *   NACK, no connection, no answer  -> next member
 *   HOLDER (the owner sends this    -> GET_COPY (COPY_HELD) to that member,
 *   many at once: fanout.h)            answered as by the owner; with the
 *                                      bytes in, HAVE to the owner. A holder
 *                                      that fails (NACK, no answer, wrong
 *                                      bytes): the owner again, COPY_NO_HOLDER
 *   no member left                  -> fetch from the source, done
 *
 * A reader never sees an error a peer caused: the worst case is the
 * source, after at most `tries` bounded waits. After a TURN, done() comes
 * once the PUT is sent, so the slot is not reused while the owner reads it
 * (until the kernel can pin slots). Answers are matched by
 * (connection, seq), and only the member asked may answer: anything else
 * is dropped and counted.
 */
#ifndef MAICACHE_PEER_CLIENT_H
#define MAICACHE_PEER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "list.h"
#include "loop.h"
#include "placement.h"
#include "rdma.h"

struct mc_peer_client;
struct mc_peer_fetch;

struct mc_peer_client_ops {
	/* A connection to member (an index of the placement), or NULL. */
	struct mc_peer_conn *(*conn_to)(void *arg, size_t member);
	/* Read the extent from the source into f's dst; then mc_peer_fetch_sourced(). */
	void (*source)(void *arg, struct mc_peer_fetch *f);
	/*
	 * The miss is over: 0 (dst holds the bytes) or the source's negative
	 * errno. With 0, this node may be named a holder (HAVE) as soon as
	 * done() returns: the bytes must be readable from this node by then.
	 */
	void (*done)(void *arg, struct mc_peer_fetch *f, int res);
	/*
	 * This node is the member to ask next (the owner, or the first one
	 * after owners that failed): its own single flight, then
	 * mc_peer_fetch_local_done(). NULL: this node is skipped.
	 */
	void (*local)(void *arg, struct mc_peer_fetch *f);
	/* The RDMA link that is up to c's member, or NULL (TCP only). Optional. */
	struct mc_rdma_link *(*rdma_to)(void *arg, struct mc_peer_conn *c);
	/*
	 * A connection to the member with this id (a holder), or NULL (not a
	 * member, or this node). Optional: without it a HOLDER answer sends
	 * the request back to the owner.
	 */
	struct mc_peer_conn *(*conn_to_node)(void *arg, const struct mc_node_id *id);
};

struct mc_peer_client_opts {
	uint32_t answer_ms;	/* wait for one member's answer (a TURN: its lease) */
	unsigned int tries;	/* members asked at most, 1..MC_PLACEMENT_RANK_MAX */
};

struct mc_peer_client_stats {
	uint64_t fetches, from_peers, from_source, turns, waits;
	uint64_t local;			/* this node's turn in the order came */
	uint64_t bad_data;		/* DATA that failed its CRC32C */
	uint64_t nacks, timeouts, no_conn, strays;
	uint64_t rdma_reads, rdma_bytes, rdma_errors;	/* LOCs read */
	uint64_t direct_reads, direct_stale;	/* READs where an extent was found before */
	uint64_t holder_asks, from_holders, holder_fails;	/* fan-out */
};

/* One miss; the caller's memory, valid until done(). */
struct mc_peer_fetch {
	struct mc_extent_key key;
	void *dst;
	uint32_t len;			/* bytes of the extent (the slot's) */
	void *arg;			/* the caller's */
	/* Private. */
	struct mc_peer_client *cl;
	struct mc_list link;
	size_t rank[MC_PLACEMENT_RANK_MAX];
	size_t nrank, next, self;
	struct mc_peer_conn *asked;	/* the member asked now, or NULL */
	uint64_t seq;
	bool turn;			/* the owner gave us the fetch */
	struct mc_peer_conn *owner;	/* with turn: where the PUT goes, or NULL */
	bool put_pending;		/* the PUT is queued: done() once sent */
	bool reading;			/* an RDMA READ into dst is in flight */
	bool tried_direct;		/* a remembered location was tried */
	struct mc_peer_conn *loc_from;	/* where its DONE goes, or NULL */
	uint64_t loc_addr;
	uint32_t loc_rkey, loc_crc;
	uint64_t loc_crc64;
	struct mc_peer_conn *fan_owner;	/* sent us to a holder: HAVE or a retry goes there */
	struct mc_node_id holder;	/* the holder asked */
	bool at_holder;			/* asked is that holder */
	struct mc_timer timer;
};

int mc_peer_client_new(struct mc_peer_client **out, struct mc_loop *loop,
		       const struct mc_peer_client_opts *o,
		       const struct mc_peer_client_ops *ops, void *arg);
/*
 * Shut down: _stop(), then free the RDMA transport (which ends the reads
 * in flight), then _free().
 */
void mc_peer_client_stop(struct mc_peer_client *cl);
void mc_peer_client_free(struct mc_peer_client *cl);

/*
 * Start f (key, dst, len set) over placement p, in which this node is
 * self_index (SIZE_MAX: not a member). Every member asked, this node
 * included, counts against tries: when this node's turn comes local()
 * runs (so that the node next in line after a failed owner is the one
 * that holds the flight for everybody). done() runs later, never inside
 * this call.
 */
void mc_peer_fetch_start(struct mc_peer_client *cl, struct mc_peer_fetch *f,
			 const struct mc_placement *p, size_t self_index);
/*
 * The same over members the caller ranked: rank[0..n) in the order to ask
 * (at most tries of them are), self_index as above.
 */
void mc_peer_fetch_start_ranked(struct mc_peer_client *cl, struct mc_peer_fetch *f,
				const size_t *rank, size_t n, size_t self_index);
/* The local() part ended: 0 (dst holds the bytes) or a negative errno. */
void mc_peer_fetch_local_done(struct mc_peer_fetch *f, int res);
/* The source read that source() asked for ended: ok, dst holds the bytes. */
void mc_peer_fetch_sourced(struct mc_peer_fetch *f, int res);

/*
 * The requester's part of a connection's callbacks: answers (DATA, TURN,
 * NACK). False for a frame that is not the client's (a request).
 * mc_peer_client_closed() for every connection that closes; _sent() for a
 * PUT payload that went out (false if it was not the client's).
 */
bool mc_peer_client_msg(struct mc_peer_client *cl, struct mc_peer_conn *c,
			const struct mc_peer_msg *m);
bool mc_peer_client_payload_buf(struct mc_peer_client *cl, struct mc_peer_conn *c,
				const struct mc_peer_msg *m, void **buf);
void mc_peer_client_payload(struct mc_peer_client *cl, struct mc_peer_conn *c,
			    const struct mc_peer_msg *m, void *buf, bool crc_ok);
bool mc_peer_client_sent(struct mc_peer_client *cl, struct mc_peer_conn *c,
			 const void *payload);
void mc_peer_client_closed(struct mc_peer_client *cl, struct mc_peer_conn *c);

const struct mc_peer_client_stats *mc_peer_client_stats(const struct mc_peer_client *cl);

#endif /* MAICACHE_PEER_CLIENT_H */
