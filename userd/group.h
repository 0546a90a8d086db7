/* SPDX-License-Identifier: MIT */
/*
 * maicached's part in its cache group (docs/peers.md): the peer server
 * that answers for the extents this node owns, the requester that asks
 * the owner before Blob, the connections between them, and the membership
 * they are placed over.
 *
 * A miss of a shared source (a blob: mc_source.shared) is read through
 * mc_group_read() instead of the source:
 *
 *   this node owns the extent   the server's single flight: held -> copied
 *                               from the group store; else this node
 *                               fetches from Blob (or waits for the peer
 *                               that does) and keeps the bytes for the group
 *   a peer owns it              GET to the owner, then the next members in
 *                               placement order (peer/client.h); the
 *                               bytes land in the pool slot, CRC32C checked
 *   nobody answers              the source, with this node's credentials
 *
 * A reader sees only the source's errors, never a peer's. Connections to
 * peers are made on first use and kept (one per member); a member that
 * refuses or fails is not dialled again for a second.
 */
#ifndef MAICACHE_GROUP_H
#define MAICACHE_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "home.h"
#include "source.h"

struct mc_daemon;
struct mc_vol;

/* Join the group of d's config (nothing when cfg.group is ""). 0 or a negative errno. */
int mc_group_start(struct mc_daemon *d, char *err, size_t errlen);
/*
 * Leave: reads still waiting on peers end with -ECANCELED; connections
 * close. Call once the sources are closed (their reads have ended).
 */
void mc_group_stop(struct mc_daemon *d);

/*
 * SIGHUP: read the static membership file (group_members) again and apply
 * it as a membership change; a file that does not load is logged and the
 * membership stays as it was. Nothing with etcd (it watches) or no group.
 */
void mc_group_reload(struct mc_daemon *d);

/* Whether v's misses go through the group. */
bool mc_group_serves(const struct mc_daemon *d, const struct mc_vol *v);

/*
 * Read [off, off + len) of v, one extent or its tail, into dst (a pool
 * slot) through the group: the contract of mc_source_read() (cb later,
 * once; a negative errno returned means cb never runs).
 */
int mc_group_read(struct mc_daemon *d, struct mc_vol *v, uint64_t off, void *dst,
		  size_t len, mc_source_cb cb, void *arg);

/* What maicachectl peers and stats show. */
struct mc_group_info {
	const char *name;
	char node_id[33];
	const char *listen;
	size_t members;
	bool in_members;		/* this node is one of them (owns extents) */
	uint64_t fetches, from_peers, from_source, turns, waits;
	uint64_t bad_data, nacks, timeouts, no_conn;
	uint64_t gets_served, served, served_bytes, puts, bad_puts, stray_puts;
	uint64_t local_gets, local_served;
	const char *store;		/* "pool" (the kernel's, shared) or "memory" */
	uint64_t store_bytes, store_capacity, store_extents, store_evicted;
	uint64_t store_pinned, store_full, store_errors;	/* pool only */
	bool rdma;			/* RDMA on (peer_rdma, a device) */
	uint64_t rdma_port, rdma_links, rdma_rejected;
	uint64_t rdma_dropped, rdma_full;	/* past the bound of links each way */
	uint64_t rdma_reads, rdma_bytes, rdma_errors;	/* this node's READs */
	uint64_t rdma_direct, rdma_stale;	/* READs at a remembered location */
	uint64_t fanout;			/* K, 0: off */
	uint64_t fan_redirected, fan_queued, fan_haves, fan_peak;	/* as the owner */
	uint64_t holder_asks, from_holders, holder_fails;	/* as a requester */
	uint64_t holder_served;			/* from this node's own devices, as a holder */
	uint64_t holder_copies, holder_not_held;	/* GET_COPYs asked of it, NOT_HELD answers */
	uint64_t rdma_locs, rdma_dones, rdma_lapsed;	/* peers' READs of this node */
	uint64_t auth_failures, bad_frames, cut_short, accepted, refused;
	uint64_t membership_changes;
	bool etcd;			/* membership from etcd, else a file */
	bool etcd_reachable, etcd_registered;
	uint64_t etcd_failures, etcd_events;
	bool home;			/* the tier between groups is on */
	struct mc_home_info hi;
};

struct mc_group_member_info {
	char node_id[33];
	const char *host, *port, *region;
	const char *state;		/* self, connected, connecting, idle, down */
	double share;			/* of the keys this member owns */
	uint64_t owned_extents;		/* of the attached blobs; UINT64_MAX: not counted */
	uint64_t got_bytes, bad_data, served_bytes;
};

/* False when d is in no group. */
bool mc_group_info(struct mc_daemon *d, struct mc_group_info *out);
void mc_group_for_each_member(struct mc_daemon *d,
			      void (*fn)(void *arg, const struct mc_group_member_info *m),
			      void *arg);

#endif /* MAICACHE_GROUP_H */
