/* SPDX-License-Identifier: MIT */
/* The control socket of maicached; see ctl_server.c for the requests. */
#ifndef MAICACHE_CTL_SERVER_H
#define MAICACHE_CTL_SERVER_H

#include <stddef.h>

#include "ctl_msg.h"
#include "daemon.h"

int mc_ctl_listen(struct mc_daemon *d, char *err, size_t errlen);
void mc_ctl_close(struct mc_daemon *d);

/* Answer the request of c; then mc_ctl_done() ends the connection. */
void mc_ctl_reply(struct mc_ctl_conn *c, struct mc_msg *m);
void mc_ctl_reply_error(struct mc_ctl_conn *c, int err, const char *msg);
void mc_ctl_done(struct mc_ctl_conn *c);

#endif /* MAICACHE_CTL_SERVER_H */
