// SPDX-License-Identifier: MIT
/*
 * maicachectl's side of the control socket; see ctl_client.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "ctl_client.h"

const char *mc_ctl_socket_path(const char *path)
{
	const char *env = getenv("MAICACHE_SOCKET");

	if (path)
		return path;
	return env && *env ? env : MC_SOCKET_DEFAULT;
}

int mc_ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return mc_errf(err, errlen, -ENAMETOOLONG, "socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		if (errno == ENOENT || errno == ECONNREFUSED)
			snprintf(err, errlen,
				 "maicached is not running (no one listens on %s; --socket or MAICACHE_SOCKET name another)",
				 path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

int mc_ctl_call(int fd, const struct mc_msg *req, struct mc_msg *reply,
		char *err, size_t errlen)
{
	const char *ok, *msg;
	uint64_t e;
	int ret;

	ret = mc_msg_send(fd, req);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot send to maicached: %s",
				strerror(-ret));
	ret = mc_msg_recv(fd, reply, err, errlen);
	if (ret == -ECONNRESET)
		snprintf(err, errlen, "maicached closed the connection without an answer");
	if (ret)
		return ret;
	ok = mc_msg_get(reply, "ok");
	if (ok && !strcmp(ok, "1"))
		return 0;
	msg = mc_msg_get(reply, "error");
	snprintf(err, errlen, "%s", msg ? msg : "maicached refused the request");
	if (mc_msg_get_u64(reply, "errno", &e) || !e || e > 4095)
		e = EIO;
	return -(int)e;
}
