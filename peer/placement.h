/* SPDX-License-Identifier: MIT */
/*
 * Which node of a cache group owns an extent: rendezvous (highest random
 * weight) hashing over the live members. Every node computes the same
 * answer from the same membership and key, with no table to agree on; when
 * a member leaves, only the keys it owned move (each to its second choice),
 * and when one joins it takes about 1/N of the keys from the others and
 * nothing else moves. The ranking beyond the owner is the failover order:
 * an owner that does not answer is replaced by the next node, which is
 * also the owner the key will have if that node leaves.
 *
 * Members are named by their persisted node ids (mc_node_id_load()), so a restart
 * keeps a daemon's keys. The cost is one mix per member per lookup, a few
 * microseconds at 5,000 members: against a 1 MiB transfer that is noise,
 * and docs/peers.md records the load balance measured by tools/sim.
 */
#ifndef MAICACHE_PEER_PLACEMENT_H
#define MAICACHE_PEER_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maicache_peer.h"

#define MC_PLACEMENT_RANK_MAX	16

struct mc_node_id {
	uint8_t b[MAICACHE_PEER_ID_SIZE];
};

struct mc_placement {
	size_t n;
	struct mc_place_node {
		struct mc_node_id id;
		uint64_t seed;		/* from the id: its draw for every key */
	} *nodes;			/* sorted by id */
};

/*
 * Make p the placement over ids (copied and sorted; n may be 0). 0, or
 * -EEXIST for an id given twice, -ENOMEM. p is left as it was on error.
 */
int mc_placement_set(struct mc_placement *p, const struct mc_node_id *ids, size_t n);
void mc_placement_free(struct mc_placement *p);

/* Index of id in p->nodes, or -1. */
ssize_t mc_placement_find(const struct mc_placement *p, const struct mc_node_id *id);

/* The owner of the key (an index into p->nodes), or -1 with no member. */
ssize_t mc_placement_owner(const struct mc_placement *p, uint64_t key_hash);

/*
 * The k best members for the key, best first, into out[]: the owner, then
 * the failover order. k is at most MC_PLACEMENT_RANK_MAX. Returns how many
 * were written (k, or n if fewer).
 */
size_t mc_placement_rank(const struct mc_placement *p, uint64_t key_hash,
			 size_t *out, size_t k);

/*
 * The node's id from path (32 hex digits and a newline), created with a
 * random id (mode 0600, written atomically) when create is set and the file
 * does not exist. 0, or a negative errno with a message: a file that exists
 * but is not an id is an error, never replaced.
 */
int mc_node_id_load(const char *path, bool create, struct mc_node_id *id,
		    char *err, size_t errlen);
/* Exactly n == 32 hex digits (either case) at s -> id. 0 or -EINVAL. */
int mc_node_id_parse(const char *s, size_t n, struct mc_node_id *id);
/* 32 lowercase hex digits and a NUL. */
void mc_node_id_hex(const struct mc_node_id *id, char out[33]);

#endif /* MAICACHE_PEER_PLACEMENT_H */
