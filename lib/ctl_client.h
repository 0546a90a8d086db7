/* SPDX-License-Identifier: MIT */
/*
 * maicachectl's side of maicached's control socket (ctl_server.c): connect,
 * send one request, read its replies.
 */
#ifndef MAICACHE_CTL_CLIENT_H
#define MAICACHE_CTL_CLIENT_H

#include <stddef.h>

#include "ctl_msg.h"

#define MC_SOCKET_DEFAULT	"/run/maicache/maicached.sock"
#define MC_SOCKET_PATH_MAX	108	/* sizeof(sun_path), NUL included */

/* path NULL: $MAICACHE_SOCKET, else MC_SOCKET_DEFAULT. */
const char *mc_ctl_socket_path(const char *path);

/* A connected socket, or a negative errno with a message for the user. */
int mc_ctl_connect(const char *path, char *err, size_t errlen);

/*
 * Send req and read the first reply into reply. 0 when the daemon said
 * ok=1; its negative errno and error= message when it said ok=0; or a
 * transport error. Further replies (list, stats) follow with mc_msg_recv().
 */
int mc_ctl_call(int fd, const struct mc_msg *req, struct mc_msg *reply,
		char *err, size_t errlen);

#endif /* MAICACHE_CTL_CLIENT_H */
