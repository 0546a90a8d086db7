/* SPDX-License-Identifier: MIT */
/*
 * The extents a node keeps for its group, in the kernel's pool: the store
 * its peer server answers from (peer/server.h) when group_store is "pool".
 * They live on held devices (proto/maicache_genl.h), one per blob and
 * extent size, made on first use, so the group's extents and the node's
 * own share one DRAM budget and one eviction policy.
 *
 *   reserve()   EXTENT_FILL: a slot of the held device, written in place
 *               by the peer connection (or the node's own copy)
 *   commit()    the fill completed on the ring (status 0 only when the
 *               CRC32C checked out): the kernel's checks of the daemon's
 *               answers stay the only way bytes become readable
 *   get()       EXTENT_PIN: the slot cannot be evicted or reused while a
 *               DATA payload is sent from it; release() unpins
 *
 * The CRC32C a fetcher sent with an extent is kept per pool slot and
 * generation, so the owner passes on the fetcher's checksum, computed
 * before the bytes ever left it; a slot whose checksum is not known (it
 * cannot happen short of a bug) is checksummed again.
 *
 * Held devices hold nothing a later daemon could name (the blob's digest
 * is not in the kernel): the store removes its own when it is freed, and
 * mc_pool_store_sweep() those a crashed daemon left.
 */
#ifndef MAICACHE_USERD_POOL_STORE_H
#define MAICACHE_USERD_POOL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

struct mc_daemon;
struct mc_pool_store;

struct mc_pool_store_stats {
	uint64_t devices;		/* held devices now */
	uint64_t hits, misses;		/* get() */
	uint64_t device_hits;		/* hits in this node's own devices (a holder's) */
	uint64_t stored, failed;	/* fills completed good, and bad */
	uint64_t full;			/* reserve() refused: no slot, or no device */
	uint64_t errors;		/* the module refused something unexpected */
	uint32_t pinned;		/* slots pinned now */
	/* From the module's counters of the held devices: */
	uint64_t extents;		/* held now */
	uint64_t bytes;			/* their slots' size */
	uint64_t evicted;
};

/* Most held devices at once; past it the least recently used one goes. */
#define MC_POOL_STORE_MAX_DEVICES	4096

int mc_pool_store_new(struct mc_pool_store **out, struct mc_daemon *d);
/* Every pin must have been released; removes the store's held devices. */
void mc_pool_store_free(struct mc_pool_store *ps);

/* The store's side of the peer server (arg: the store). */
extern const struct mc_extent_store_ops mc_pool_store_ops;

/* Asks the module for each held device's counters. */
void mc_pool_store_stats(struct mc_pool_store *ps, struct mc_pool_store_stats *out);

/* Remove every held device (at start-up: a previous daemon's). The count removed. */
int mc_pool_store_sweep(struct mc_daemon *d);

#endif /* MAICACHE_USERD_POOL_STORE_H */
