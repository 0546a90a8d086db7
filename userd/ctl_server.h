/* SPDX-License-Identifier: MIT */
/* The control socket of maicached; see ctl_server.c for the requests. */
#ifndef MAICACHE_CTL_SERVER_H
#define MAICACHE_CTL_SERVER_H

#include <stddef.h>

#include "daemon.h"

int mc_ctl_listen(struct mc_daemon *d, char *err, size_t errlen);
void mc_ctl_close(struct mc_daemon *d);

#endif /* MAICACHE_CTL_SERVER_H */
