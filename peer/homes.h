/* SPDX-License-Identifier: MIT */
/*
 * Where an extent's home is, for the tier between groups (userd/home.h):
 * pure state over the registry's gateways (a members list: id, address,
 * region), like placement.c, so the daemon and its tests rank alike.
 *
 * The home of a key is the gateway rendezvous placement ranks first over
 * the gateways of this node's region; after it, the first of each region
 * the caller lists, in that order. A region with no gateway is an error
 * when the ranking is made, never a silent skip.
 */
#ifndef MAICACHE_PEER_HOMES_H
#define MAICACHE_PEER_HOMES_H

#include <stddef.h>
#include <stdint.h>

#include "members.h"
#include "placement.h"

struct mc_homes {
	size_t nregions;		/* [0] this node's, then the listed ones */
	struct mc_homes_region {
		char name[MC_MEMBER_REGION_MAX];
		struct mc_placement p;
		size_t *gw;		/* p's index -> the gateway's in the list */
	} *regions;
};

/*
 * Make h over gw (not copied: indices into it are what rank() returns),
 * for region, then the regions of after ("a,b": "" for none). 0; -ENOENT
 * with the region that lists no gateway in bad[MC_MEMBER_REGION_MAX];
 * -EINVAL for an empty or too long name; -ENOMEM. h is empty on error.
 */
int mc_homes_init(struct mc_homes *h, const struct mc_members *gw, const char *region,
		  const char *after, char *bad);
void mc_homes_free(struct mc_homes *h);

/* The gateways to ask for key_hash, best first, into out (one per region): how many. */
size_t mc_homes_rank(const struct mc_homes *h, uint64_t key_hash, size_t *out, size_t max);

#endif /* MAICACHE_PEER_HOMES_H */
