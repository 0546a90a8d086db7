/* SPDX-License-Identifier: MIT */
/*
 * The extents a node keeps for its group, in the daemon's memory: the store
 * its peer server answers from (server.h). Bounded in bytes; the extent
 * served least recently goes first when room is needed.
 *
 * An extent is pinned while a DATA payload is sent from it and is never
 * dropped or freed then (a newer copy of the same key replaces it for
 * later readers, and it is freed when the last send ends). Room reserved
 * for a PUT becomes servable only when commit() says its CRC32C checked
 * out; until then no reader can see it.
 *
 * The kernel's pool holds what the node's own devices read; this store is
 * the node's share of the group's data, which it may never have attached
 * (docs/peers.md says why it is not yet in the pool).
 */
#ifndef MAICACHE_PEER_MEM_STORE_H
#define MAICACHE_PEER_MEM_STORE_H

#include <stdint.h>

#include "server.h"

struct mc_mem_store;

struct mc_mem_store_stats {
	uint64_t capacity, bytes;	/* bytes reserved or held */
	uint64_t extents;		/* held, servable */
	uint64_t hits, misses;		/* get() */
	uint64_t stored, evicted;
	uint64_t full;			/* reserve() with no room left */
};

/* A store of at most capacity bytes (at least one MAICACHE_PEER_PAYLOAD_MAX). */
int mc_mem_store_new(struct mc_mem_store **out, uint64_t capacity);
/* Every pin must have been released. */
void mc_mem_store_free(struct mc_mem_store *st);

/* The store's side of the peer server (arg: the store). */
extern const struct mc_extent_store_ops mc_mem_store_ops;

void mc_mem_store_stats(const struct mc_mem_store *st, struct mc_mem_store_stats *out);

#endif /* MAICACHE_PEER_MEM_STORE_H */
