/* SPDX-License-Identifier: MIT */
/*
 * Group membership in etcd, as JSON for etcd's v3 gateway (the JSON form of
 * its gRPC API, answered on the client port: POST /v3/lease/grant,
 * /v3/lease/keepalive, /v3/kv/put, /v3/kv/range, /v3/watch). Requests are
 * built and answers parsed here with jansson; the transport is the
 * caller's. Keys and values are base64 in the JSON, 64-bit numbers are
 * strings.
 *
 * Layout: each member puts PREFIX/members/<node id, 32 hex digits> with a
 * value {"addr":"10.1.0.5:7117","region":"westeurope"} under its own lease
 * (TTL configurable) and keeps the lease alive; every member lists the
 * prefix and watches it from the listed revision, so joins and leaves (a
 * lease that expires deletes its key) reach every node.
 *
 * Everything etcd answers is checked like any other input: a body that is
 * not the JSON expected, a key outside the prefix, a value that is not a
 * member, is an error with a message (a bad member is skipped and counted,
 * never trusted).
 */
#ifndef MAICACHE_PEER_ETCD_H
#define MAICACHE_PEER_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "members.h"

#define MC_ETCD_PREFIX_MAX	256
#define MC_ETCD_KEY_MAX		(MC_ETCD_PREFIX_MAX + 48)	/* a key under the prefix */

/* Request bodies; each returns a string to free(), or NULL (no memory). */
char *mc_etcd_lease_grant_req(unsigned int ttl_s);
char *mc_etcd_keepalive_req(int64_t lease);
/* PUT of the member's own key, bound to lease. */
char *mc_etcd_member_put_req(const char *prefix, const struct mc_member *me,
			     int64_t lease);
/*
 * The member list is read in pages of at most limit keys, each a small
 * answer that etcd serves between other requests (a whole group listing
 * itself at once is N answers of N members). One page's place in the list:
 */
struct mc_etcd_page {
	int64_t revision;		/* the snapshot the list is read at */
	bool more;			/* keys follow the last one */
	unsigned char last[MC_ETCD_KEY_MAX];	/* the last key of the page */
	size_t last_len;
	unsigned int skipped;		/* entries that were not valid members */
};

/*
 * A page of the member keys under the prefix: the first at the newest
 * revision (prev NULL), or the one after prev at prev's revision, so that
 * the pages are one snapshot. Serializable: the etcd member asked answers
 * from its own store without a round of consensus; what a lagging member
 * has not seen yet comes with the watch, which starts after the revision.
 */
char *mc_etcd_members_range_req(const char *prefix, const struct mc_etcd_page *prev,
				unsigned int limit);
/* Watch of the member keys from start_rev on. */
char *mc_etcd_members_watch_req(const char *prefix, int64_t start_rev);

/* Grant or keepalive answer: the lease and its TTL (0: it expired). */
int mc_etcd_lease_parse(const char *body, size_t len, int64_t *lease,
			int64_t *ttl, char *err, size_t errlen);

/*
 * A range answer (one page): its members added to acc and its place in
 * page. A first page is parsed into a page zeroed, a later one into the
 * page before it: the revision is the first page's (etcd answers a read at
 * a revision with its newest in the header), and the one to watch from is
 * page->revision + 1 once no more follow. 0, or -EPROTO with a message (acc unchanged), or -ENOMEM
 * when the list does not fit (MC_MEMBERS_MAX, or memory).
 */
int mc_etcd_members_parse(const char *body, size_t len, const char *prefix,
			  struct mc_members *acc, struct mc_etcd_page *page,
			  char *err, size_t errlen);

/* A watch stream: feed it bytes, events come out. */
struct mc_etcd_watch {
	char prefix[MC_ETCD_PREFIX_MAX];
	char *buf;
	size_t len, cap;
	int64_t revision;		/* of the last event applied */
	unsigned int skipped;		/* events that were not valid members */
};

/*
 * One event: a member put (m set) or deleted (m NULL, id set). The callee
 * applies it to its membership.
 */
typedef void (*mc_etcd_event_cb)(void *arg, const struct mc_node_id *id,
				 const struct mc_member *m);

void mc_etcd_watch_init(struct mc_etcd_watch *w, const char *prefix);
void mc_etcd_watch_free(struct mc_etcd_watch *w);
/*
 * Bytes of the watch's response body, in any pieces (the gateway ends each
 * message with a newline). 0, or -EPROTO with a
 * message for a message that is not a watch result, or a watch etcd
 * cancelled (compacted: list again and watch anew).
 */
int mc_etcd_watch_feed(struct mc_etcd_watch *w, const char *data, size_t len,
		       mc_etcd_event_cb cb, void *arg, char *err, size_t errlen);

/* Apply an event to a membership kept sorted (used by watchers). */
int mc_members_apply(struct mc_members *ms, const struct mc_node_id *id,
		     const struct mc_member *m);

#endif /* MAICACHE_PEER_ETCD_H */
