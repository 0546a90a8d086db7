/* SPDX-License-Identifier: MIT */
/*
 * maicache-agent's side of maicached's control socket (lib/ctl_client.h):
 * the volumes the daemon serves, attach and detach. Credentials for a blob
 * source are resolved here, in the agent's environment, as maicachectl
 * attach resolves them (azure/cred.h).
 */
#ifndef MAICACHE_AGENT_VOLUMES_H
#define MAICACHE_AGENT_VOLUMES_H

#include <stddef.h>

#include "datasets.h"

#define MC_AGENT_DEV_MAX	32	/* "/dev/maicacheN" */

struct mc_agent_vol {
	char name[MAICACHE_VOLUME_NAME_MAX];
	char url[MC_DS_URL_MAX];	/* as the daemon shows it (no query) */
	char dev[MC_AGENT_DEV_MAX];
	char state[16];			/* opening, ready, stale, failed */
};

struct mc_agent_vols {
	size_t n;
	struct mc_agent_vol *v;
};

/* The daemon's volumes: 0, or a negative errno with a message. */
int mc_agent_list(const char *socket, struct mc_agent_vols *out,
		  char *err, size_t errlen);
void mc_agent_vols_free(struct mc_agent_vols *vs);
const struct mc_agent_vol *mc_agent_vol_named(const struct mc_agent_vols *vs,
					      const char *name);

/* Attach d under its name; its device path in dev. 0 or -errno with a message. */
int mc_agent_attach(const char *socket, const struct mc_dataset *d,
		    char *dev, size_t devlen, char *err, size_t errlen);
int mc_agent_detach(const char *socket, const char *name, char *err, size_t errlen);

#endif /* MAICACHE_AGENT_VOLUMES_H */
