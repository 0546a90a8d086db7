/* SPDX-License-Identifier: MIT */
/*
 * maicached's state: the event loop, the module's ring and netlink family,
 * the control socket, and the attached volumes (one per /dev/maicacheN it
 * serves, each with its source).
 *
 *   maicached.c   main(): options, start-up, the loop, shutdown
 *   vol.c         volumes: attach, re-attach after a restart, detach, stale
 *   fill.c        misses: take them off the ring, read the source, complete
 *   group.c       the cache group: misses of shared sources via peers
 *   home.c        the tier between groups: a group's fetcher asks the home first
 *   tier_read.c   what a read through either tier shares (own flight, source)
 *   pool_store.c  the extents kept for the group, in the kernel's pool
 *   ctl_server.c  the control socket maicachectl talks to
 *   metrics.c     GET /metrics for Prometheus (metrics_text.c: its text)
 *
 * Calls go one way: maicached.c -> ctl_server.c -> vol.c, and fill.c ->
 * group.c -> vol.c's sources; group.c -> home.c, pool_store.c. Volumes know neither the control protocol nor the miss path.
 */
#ifndef MAICACHE_DAEMON_H
#define MAICACHE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "list.h"
#include "loop.h"
#include "miss_ring.h"
#include "nlclient.h"
#include "prefault.h"
#include "ring_map.h"
#include "source.h"

enum mc_vol_state {
	MC_VOL_OPENING,		/* source being opened: misses are held */
	MC_VOL_READY,
	MC_VOL_STALE,		/* source changed: misses fail with EIO */
	MC_VOL_FAILED,		/* source cannot be opened: misses fail */
	MC_VOL_DETACHING,	/* device removed, fills still running */
};

#define MC_VOL_NAME_MAX	MAICACHE_VOLUME_NAME_MAX	/* --name, NUL included */

/* An attach that waits for its source calls back the requester. */
struct mc_vol;
typedef void (*mc_vol_attach_cb)(void *arg, int res, const char *msg,
				 const struct mc_vol *v);

struct mc_vol {
	struct mc_daemon *d;
	struct mc_list link;		/* d->vols */
	enum mc_vol_state state;
	uint64_t cookie;
	uint32_t dev_id;
	bool has_dev;		/* /dev/maicacheN exists */
	char name[MC_VOL_NAME_MAX];
	char url[MC_URL_MAX];	/* as attached; may hold a SAS: never logged */
	char shown_url[MC_URL_MAX]; /* without the query */
	uint32_t extent_size;
	uint64_t dev_size;
	char etag[MC_VERSION_MAX];
	struct mc_source_args *args;	/* the source's, e.g. a credential */
	struct mc_source *src;
	struct mc_source *opening;	/* the source while it opens */

	/* An attach waiting for the source: told when it is done. */
	mc_vol_attach_cb attach_cb;
	void *attach_arg;

	unsigned int inflight;
	uint64_t fills, fill_bytes, fill_errors;
	char last_error[256];
};

struct mc_daemon {
	struct mc_config cfg;
	struct mc_loop *loop;
	struct mc_sources *sources;
	struct mc_nl *nl;

	struct mc_ring_map map;		/* /dev/maicache and its regions */
	struct mc_miss_ring ring;
	bool ring_watched;
	bool ring_closing;		/* shutdown: post no more completions */
	struct mc_prefault prefault;	/* the pool's pages mapped ahead */

	int sig_fd;
	int ctl_fd;
	struct mc_group_node *group;	/* the cache group, or NULL (group.c) */
	struct mc_metrics *metrics;	/* GET /metrics, or NULL (metrics.c) */
	struct mc_list vols;

	/* Misses of volumes still opening their source (fill.c). */
	struct mc_miss *held;
	size_t nheld, held_cap;

	bool stopping;
	unsigned int inflight;		/* fills running, all volumes */
	uint64_t unknown_misses;	/* misses for a cookie with no volume */
	uint64_t bad_misses;		/* misses that fail the sanity checks */
	uint64_t start_ms;
};

/* log.c: one line on stderr when level is within the configured one. */
void mc_log(struct mc_daemon *d, enum mc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* fill.c */
void mc_fill_ring_ready(void *arg, int fd, unsigned int revents);
/* Serve (or fail) held misses whose volume is no longer opening; per loop turn. */
void mc_fill_run_held(struct mc_daemon *d);
void mc_fill_free(struct mc_daemon *d);

/* vol.c */
struct mc_vol_spec {
	const char *url;
	const char *name;		/* NULL or "": none */
	uint32_t extent_size;		/* 0: the default */
	bool has_id;			/* ask for /dev/maicache<id> */
	uint32_t id;
	struct mc_source_args *args;	/* taken over, in any case */
};

/*
 * Attach a source as a new device. 0: cb runs once with the result (maybe
 * inside this call, and with v set on success). A negative errno with a
 * message: refused at once, and cb never runs.
 */
int mc_vol_attach(struct mc_daemon *d, struct mc_vol_spec *spec,
		  mc_vol_attach_cb cb, void *arg, char *err, size_t errlen);
/*
 * Remove the device and forget the volume. Without @force, -EBUSY while a
 * mount (or another exclusive user) holds the device (lib/dev_claim.h).
 */
int mc_vol_detach(struct mc_vol *v, bool force, char *err, size_t errlen);
/* Detach nothing, but drop every volume from memory (shutdown). */
void mc_vol_free_all(struct mc_daemon *d);
/*
 * Shutdown, while the loop still runs: close every source (fills still
 * running end with -ECANCELED, opens stop) and answer waiting attaches.
 */
void mc_vol_cancel_all(struct mc_daemon *d);
struct mc_vol *mc_vol_by_cookie(struct mc_daemon *d, uint64_t cookie);
/* By "N", "/dev/maicacheN", "maicacheN", name or URL. */
struct mc_vol *mc_vol_find(struct mc_daemon *d, const char *what);
/* The source answered 412 (or another fatal error): stop filling. */
void mc_vol_mark_stale(struct mc_vol *v, const char *msg);
/* Re-attach every volume of the state directory; at start-up. */
int mc_vol_restore(struct mc_daemon *d);
/* A fill of v finished: free a detached volume once the last one is done. */
void mc_vol_fill_done(struct mc_vol *v);
const char *mc_vol_state_name(enum mc_vol_state s);

/* What a volume shows (lists, replies); strings live as long as v. */
struct mc_vol_info {
	uint32_t dev_id;
	const char *name, *url, *kind, *state, *etag, *auth, *last_error;
	uint64_t size, data_size, extent_size, cookie;
	uint64_t fills, fill_bytes, fill_errors;
	unsigned int inflight;
};

void mc_vol_info(const struct mc_vol *v, struct mc_vol_info *out);
unsigned int mc_vol_count(struct mc_daemon *d);
/* fn for every volume that is not being detached, newest first. */
void mc_vol_for_each(struct mc_daemon *d,
		     void (*fn)(void *arg, const struct mc_vol_info *info),
		     void *arg);

#endif /* MAICACHE_DAEMON_H */
