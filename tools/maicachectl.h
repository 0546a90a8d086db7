/* SPDX-License-Identifier: MIT */
/*
 * Shared by maicachectl's files: maicachectl.c (module), ctl_volumes.c
 * (daemon), ctl_peers.c (cache group), ctl_warmup.c and ctl_top.c (warmup,
 * the live view).
 */
#ifndef MAICACHECTL_H
#define MAICACHECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_msg.h"

extern bool json;

int fail(const char *err);
int parse_size(const char *opt, const char *s, uint64_t *out);
int parse_u32(const char *opt, const char *s, uint32_t *out);

/* ctl_volumes.c */
void mc_ctl_set_socket(const char *path);
/* A connection to the daemon's control socket, or -1 with err. */
int mc_ctl_open(char *err, size_t errlen);
/* ,"key":N from a number field of the daemon's message; null if it is not one. */
void json_u64(const struct mc_msg *m, const char *field, const char *key);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);

/* What maicached says about its volumes; ok false when it cannot be asked. */
struct mc_vols {
	bool ok;
	char why[600];
	struct mc_msg *daemon;	/* the first reply: counts and counters */
	struct mc_msg *v;
	size_t n;
};

int mc_vols_get(struct mc_vols *vs, bool stats);
void mc_vols_free(struct mc_vols *vs);
const struct mc_msg *mc_vols_by_id(const struct mc_vols *vs, uint32_t id);
/* Append a volume's fields to a device (JSON) or print its lines (text). */
void mc_vol_print(const struct mc_msg *v);
void mc_daemon_print(const struct mc_vols *vs);

/* ctl_warmup.c, ctl_top.c */
int cmd_warmup(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* ctl_peers.c */
int cmd_peers(int argc, char **argv);
/* The group's counters of a stats or peers reply (nothing outside a group). */
void mc_group_print(const struct mc_msg *m);

#endif /* MAICACHECTL_H */
