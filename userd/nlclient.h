/* SPDX-License-Identifier: MIT */
/*
 * Client of the maicache generic netlink family, shared by maicached and
 * maicachectl.
 */
#ifndef MAICACHE_NLCLIENT_H
#define MAICACHE_NLCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "maicache_genl.h"

struct mc_nl;

struct mc_version {
	char version[32];
	uint32_t major, minor, patch;
	uint32_t genl_version;
};

/*
 * Connect and resolve the family. On failure returns NULL and writes a
 * message that tells the user what to do into err.
 */
struct mc_nl *mc_nl_open(char *err, size_t errlen);
void mc_nl_close(struct mc_nl *nl);

/* 0 or a negative errno; err explains it. */
int mc_nl_get_version(struct mc_nl *nl, struct mc_version *out,
		      char *err, size_t errlen);

/* Decode a GET_VERSION reply already parsed into tb. 0 or -EPROTO. */
int mc_version_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
			  struct mc_version *out);

#endif /* MAICACHE_NLCLIENT_H */
