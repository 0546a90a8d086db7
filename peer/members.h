/* SPDX-License-Identifier: MIT */
/*
 * The members of a cache group as the daemon sees them: node id, the
 * address its peer server listens on, and its region. They come from
 * etcd (a lease-bound key per member under the group's prefix) or, on
 * machines without etcd, from a static file:
 *
 *   # one member per line: node id, address:port, optional region
 *   3f9a1c0e5b7d2468ace0135792468ace  10.1.0.5:7117  westeurope
 *   0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6  [fd00::7]:7117
 *
 * Every entry is checked (32 hex digits, a numeric address with a port,
 * a region of [a-z0-9-]); an error names file:line, and a file with any
 * error is refused whole, so a typo never shrinks the group silently.
 */
#ifndef MAICACHE_PEER_MEMBERS_H
#define MAICACHE_PEER_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "placement.h"

#define MC_MEMBER_ADDR_MAX	64	/* "[v6]:port" with room */
#define MC_MEMBER_REGION_MAX	32
#define MC_MEMBERS_MAX		65536

struct mc_member {
	struct mc_node_id id;
	char host[MC_MEMBER_ADDR_MAX];	/* numeric IPv4 or IPv6, no brackets */
	char port[8];
	char region[MC_MEMBER_REGION_MAX];	/* "" when not given */
};

struct mc_members {
	struct mc_member *m;
	size_t n;
};

/*
 * Parse "host:port" or "[v6]:port" (numeric host, port 1..65535) into m.
 * 0 or -EINVAL.
 */
int mc_member_parse_addr(const char *s, struct mc_member *m);

/* A region name: 1 to 31 of [a-z0-9-]. */
bool mc_member_region_ok(const char *r);

/* Load a static membership file into out (replaced only on success). */
int mc_members_load(const char *path, struct mc_members *out, char *err,
		    size_t errlen);
/* The same from text; what names the source in messages. */
int mc_members_parse(const char *text, const char *what, struct mc_members *out,
		     char *err, size_t errlen);
void mc_members_free(struct mc_members *ms);

/* The member with id, or NULL. */
const struct mc_member *mc_members_find(const struct mc_members *ms,
					const struct mc_node_id *id);

/* The placement over the members' ids. 0 or mc_placement_set()'s error. */
int mc_members_placement(const struct mc_members *ms, struct mc_placement *p);

#endif /* MAICACHE_PEER_MEMBERS_H */
