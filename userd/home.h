/* SPDX-License-Identifier: MIT */
/*
 * The second tier (docs/scale.md): groups of groups, so that a whole
 * cluster reads each extent from Blob once while membership stays inside
 * each group.
 *
 * A registry (home_registry: the members file format of peer/members.h,
 * written once per group, not per node) lists the gateways of every group
 * with their regions. An extent's home is the gateway ranked first for it
 * by rendezvous over the gateways of this node's region (region); after
 * it, one gateway of each region home_regions names, in that order
 * (another region only where configured: the WAN costs); then Blob.
 *
 * Only the node that holds its group's fetch turn for an extent (it would
 * read Blob for its group) asks the home, over a connection authenticated
 * with the cluster key (home_key). A gateway answers as an owner does
 * (peer/server.h) from its pool store:
 *
 *   it holds the extent         DATA
 *   another node fetches it     WAIT, then DATA once it is in
 *   nobody has it               TURN: the asker reads Blob and PUTs the
 *                               bytes to the gateway, which keeps them
 *                               for every other group
 *   refused, no answer, down    the next in the rank, then Blob: counted
 *                               as a fallback, the read goes on
 *
 * The gateway that is home for an extent is itself asked through its
 * server's own single flight. Bytes a gateway sends are CRC32C-checked
 * before they reach the kernel, as in the group.
 */
#ifndef MAICACHE_HOME_H
#define MAICACHE_HOME_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "server.h"
#include "source.h"

struct mc_daemon;
struct mc_home;

struct mc_home_info {
	uint64_t gateways, regions;		/* listed; regions asked */
	int gateway;				/* this node is one */
	uint64_t reads;				/* extents asked of the home tier */
	uint64_t from_home, turns, fallbacks;	/* got; fetched for all; Blob after failure */
	uint64_t local;				/* this node was the home */
	uint64_t waits, nacks, timeouts, no_conn;
	uint64_t gets_served, served, puts;	/* as a gateway */
};

/*
 * Start the tier of d's config (nothing when home_registry is ""), over
 * the extent store a gateway serves from (the group's). 0, or a negative
 * errno with err set.
 */
int mc_home_start(struct mc_home **out, struct mc_daemon *d, const struct mc_node_id *me,
		  const struct mc_extent_store_ops *store, void *store_arg, char *err,
		  size_t errlen);
/* Reads in flight end with -ECANCELED; connections close. */
void mc_home_stop(struct mc_home *h);

/*
 * Read [off, off + len) of src (extent key) into dst through the home
 * tier: the contract of mc_source_read() (cb later, once; a negative errno
 * returned means cb never runs).
 */
int mc_home_read(struct mc_home *h, const struct mc_extent_key *key, struct mc_source *src,
		 uint64_t off, void *dst, size_t len, mc_source_cb cb, void *arg);

void mc_home_info(const struct mc_home *h, struct mc_home_info *o);

#endif /* MAICACHE_HOME_H */
