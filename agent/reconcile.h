/* SPDX-License-Identifier: MIT */
/*
 * maicache-agent's reconcile: make the node hold what the datasets file
 * says, and only that, whatever it holds now.
 *
 * The agent keeps a record of the datasets it attached (STATE_DIR/state,
 * in the datasets file's format, written before each attach), so that a
 * restarted agent knows what is its own. One pass:
 *
 *   1. each recorded dataset the file no longer has, or has differently,
 *      is unmounted and detached, and leaves the record;
 *   2. each dataset of the file is recorded, attached unless maicached
 *      already serves a volume of its name from its source (one of
 *      another source is left alone, with an error), and mounted unless
 *      its device is already mounted there.
 *
 * What is right is left as it is: a second pass does nothing, and so does
 * the first pass of a restarted agent. A dataset that fails (its source,
 * its device, its mount) is logged with the reason and retried at the next
 * pass; the others go on.
 */
#ifndef MAICACHE_AGENT_RECONCILE_H
#define MAICACHE_AGENT_RECONCILE_H

#include <stdbool.h>

#include "datasets.h"

struct mc_agent_err;

struct mc_agent {
	const char *socket;		/* maicached's control socket; NULL: default */
	char state_path[MC_DS_PATH_MAX];
	unsigned int device_timeout_ms;
	struct mc_datasets want;	/* the datasets file, as last loaded */
	struct mc_datasets have;	/* the record */
	struct mc_agent_err *errs;	/* the last error of each dataset, logged once */
};

/* Load the record (a missing one is empty). 0 or -errno with a message. */
int mc_agent_init(struct mc_agent *a, const char *state_dir, char *err, size_t errlen);
void mc_agent_free(struct mc_agent *a);

/*
 * One pass. The number of datasets that are not right, or -1 when
 * maicached cannot be asked (logged).
 */
int mc_agent_reconcile(struct mc_agent *a);

/*
 * Unmount and detach every recorded dataset, trying again for up to
 * grace_ms while a mount is busy. The number left behind (logged).
 */
int mc_agent_teardown(struct mc_agent *a, unsigned int grace_ms);

/*
 * For each dataset of want, one line on stdout: ready, or what is wrong.
 * The number that are not ready, or -1 when maicached cannot be asked.
 */
int mc_agent_check(const char *socket, const struct mc_datasets *want);

#endif /* MAICACHE_AGENT_RECONCILE_H */
