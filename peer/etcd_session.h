/* SPDX-License-Identifier: MIT */
/*
 * One member's session with etcd, on the daemon's event loop (HTTP through
 * loop/curl_loop.h, the JSON of etcd.h):
 *
 *   register   grant a lease (the TTL), put PREFIX/members/<id> under it
 *   list       range over the prefix in pages, all at the first page's
 *              revision: the membership, and that revision
 *   watch      a stream from that revision on: joins and leaves
 *   keep alive every TTL/3; a lease etcd says has expired is granted
 *              anew and the key put again (the node rejoins, same id)
 *
 * etcd going away is not the group going away: the session keeps the
 * membership it last saw (members() is not called with less), says so once
 * through log(), retries with a bounded, jittered backoff (a page that did
 * not come is asked for again, the list goes on from there), and when etcd answers again
 * registers (if the lease is gone), lists and watches anew. A watch that
 * breaks or that etcd cancels (compaction) is followed by a fresh list.
 *
 * Everything etcd answers is checked (etcd.h); a bad answer counts as a
 * failure and is retried, never trusted.
 */
#ifndef MAICACHE_PEER_ETCD_SESSION_H
#define MAICACHE_PEER_ETCD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "members.h"

#define MC_ETCD_URL_MAX		256

struct mc_etcd_session;

struct mc_etcd_session_opts {
	const char *endpoint;		/* "http://host:port" of etcd's client port */
	const char *prefix;		/* the group's keys, e.g. "/maicache/train" */
	unsigned int ttl_s;		/* the lease: 2..600 */
	struct mc_member me;		/* this node: its id and peer address */
	unsigned int list_page;		/* members per page of the list; 0: 500 */
};

struct mc_etcd_session_ops {
	/* The membership changed: ms is sorted by id; copy what is kept. */
	void (*members)(void *arg, const struct mc_members *ms);
	/* A state change worth a log line: level 0 error, 1 warning, 2 info. */
	void (*log)(void *arg, int level, const char *msg);
};

struct mc_etcd_session_stats {
	bool registered;		/* the lease is believed alive */
	bool reachable;			/* etcd answered the last request */
	int64_t lease;
	uint64_t grants, keepalives, lists, pages, events, watches;
	uint64_t failures;		/* requests that failed or were answered badly */
	uint64_t skipped;		/* entries that were not valid members */
};

/* Start the session (the first request goes out from the loop). 0 or a negative errno. */
int mc_etcd_session_new(struct mc_etcd_session **out, struct mc_loop *loop,
			const struct mc_etcd_session_opts *o,
			const struct mc_etcd_session_ops *ops, void *arg,
			char *err, size_t errlen);
/* Stop; the member's key goes when its lease ends (no request is waited for). */
void mc_etcd_session_free(struct mc_etcd_session *s);
void mc_etcd_session_stats(const struct mc_etcd_session *s,
			   struct mc_etcd_session_stats *out);

#endif /* MAICACHE_PEER_ETCD_SESSION_H */
