/* SPDX-License-Identifier: MIT */
/*
 * Node ids to indices: the fan-out's holders and lends are found by the
 * node they name in constant time, however many there are (a hot extent in
 * a group of 5,000 nodes has thousands). Open addressing with linear
 * probing, at most half full; no allocation but the table's.
 */
#ifndef MAICACHE_PEER_IDMAP_H
#define MAICACHE_PEER_IDMAP_H

#include <stdint.h>

#include "placement.h"

struct mc_idmap {
	struct mc_idmap_slot {
		struct mc_node_id id;
		uint32_t idx;
		uint32_t used;
	} *slot;
	uint32_t cap, n;		/* cap: 0 or a power of two */
};

/* The index put for id, or -1. */
int64_t mc_idmap_get(const struct mc_idmap *m, const struct mc_node_id *id);
/* id names idx (added, or changed): 0 or -ENOMEM (then m is as it was). */
int mc_idmap_put(struct mc_idmap *m, const struct mc_node_id *id, uint32_t idx);
/* id names nothing any more (nothing happens if it did not). */
void mc_idmap_del(struct mc_idmap *m, const struct mc_node_id *id);
/* Empty, keeping the table; _free() gives it back. */
void mc_idmap_clear(struct mc_idmap *m);
void mc_idmap_free(struct mc_idmap *m);

#endif /* MAICACHE_PEER_IDMAP_H */
