/* SPDX-License-Identifier: MIT */
/*
 * maicached's state: the event loop, the module's ring and netlink family,
 * the control socket, and the attached volumes (one per /dev/maicacheN it
 * serves, each with its source).
 *
 *   maicached.c   main(): options, start-up, the loop, shutdown
 *   vol.c         volumes: attach, re-attach after a restart, detach, stale
 *   fill.c        misses: take them off the ring, read the source, complete
 *   ctl_server.c  the control socket maicachectl talks to
 */
#ifndef MAICACHE_DAEMON_H
#define MAICACHE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "az_cred.h"
#include "az_url.h"
#include "blob.h"
#include "config.h"
#include "loop.h"
#include "miss_ring.h"
#include "nlclient.h"
#include "source.h"

enum mc_vol_state {
	MC_VOL_OPENING,		/* source being opened: misses are held */
	MC_VOL_READY,
	MC_VOL_STALE,		/* source changed: misses fail with EIO */
	MC_VOL_FAILED,		/* source cannot be opened: misses fail */
	MC_VOL_DETACHING,	/* device removed, fills still running */
};

struct mc_ctl_conn;

struct mc_vol {
	struct mc_daemon *d;
	struct mc_vol *next;
	enum mc_vol_state state;
	uint64_t cookie;
	uint32_t dev_id;
	bool has_dev;		/* /dev/maicacheN exists */
	char name[64];
	char url[AZ_URL_MAX];	/* as attached; may hold a SAS: never logged */
	char shown_url[AZ_URL_MAX]; /* without the query */
	uint32_t extent_size;
	uint64_t dev_size;
	char etag[128];
	struct az_cred cred;
	struct mc_source *src;
	struct mc_source *opening;	/* the source while it opens */

	/* Misses that came in while the source was opening. */
	struct mc_miss *held;
	size_t nheld, held_cap;

	/* An attach waiting for the source: its reply goes here. */
	struct mc_ctl_conn *waiter;

	unsigned int inflight;
	uint64_t fills, fill_bytes, fill_errors;
	char last_error[256];
};

struct mc_daemon {
	struct mc_config cfg;
	struct mc_loop *loop;
	struct mc_blob_client *blob;
	struct mc_nl *nl;

	int ring_fd;
	void *miss_map, *cpl_map, *pool_map;
	size_t miss_len, cpl_len, pool_len;
	struct mc_miss_ring ring;
	bool ring_watched;

	int sig_fd;
	int ctl_fd;
	struct mc_vol *vols;

	bool stopping;
	unsigned int inflight;		/* fills running, all volumes */
	uint64_t unknown_misses;	/* misses for a cookie with no volume */
	uint64_t bad_misses;		/* misses that fail the sanity checks */
	uint64_t start_ms;
};

/* Logging: level names as in the config (error, warn, info, debug). */
void mc_log(struct mc_daemon *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* fill.c */
void mc_fill_ring_ready(void *arg, int fd, unsigned int revents);
/* Serve (or fail) the misses a volume held while its source opened. */
void mc_fill_release_held(struct mc_vol *v);

/* vol.c */
struct mc_msg;
/* An attach request; replies through the connection, now or later. */
void mc_vol_attach(struct mc_daemon *d, struct mc_ctl_conn *c,
		   const struct mc_msg *req);
/* Remove the device and forget the volume. */
int mc_vol_detach(struct mc_vol *v, char *err, size_t errlen);
/* Detach nothing, but drop every volume from memory (shutdown). */
void mc_vol_free_all(struct mc_daemon *d);
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

#endif /* MAICACHE_DAEMON_H */
