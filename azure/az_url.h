/* SPDX-License-Identifier: MIT */
/*
 * Blob URLs, in the two forms the service and its emulator use:
 *
 *   https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB/with/slashes
 *   http://127.0.0.1:10000/ACCOUNT/CONTAINER/BLOB          (path style)
 *
 * Path style applies when the host is an IP address, "localhost", or has
 * no ".blob." label (an emulator under a container name, say). The query,
 * if any, is kept as it came: it is a SAS.
 *
 * The request path keeps the user's percent-escapes and escapes whatever
 * else is not safe in a URL (spaces, '#', '?' cannot appear unescaped in
 * the blob name of a URL anyway). The Shared Key signature covers exactly
 * this path, as the service documents: "the resource's encoded URI path".
 */
#ifndef MAICACHE_AZ_URL_H
#define MAICACHE_AZ_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "az_cred.h"

#define AZ_HOST_MAX		256
#define AZ_CONTAINER_MAX	64	/* names are 3-63 characters */
#define AZ_URL_MAX		(16 + AZ_HOST_MAX + 3 * AZ_PATH_MAX)

struct az_url {
	bool https;
	bool path_style;
	bool loopback;			/* 127.0.0.0/8, ::1 or localhost */
	char host[AZ_HOST_MAX];		/* host[:port] as written */
	char account[AZ_ACCOUNT_MAX];	/* "-secondary" removed */
	char container[AZ_CONTAINER_MAX];
	char blob[AZ_PATH_MAX];		/* decoded blob name */
	char path[3 * AZ_PATH_MAX];	/* request path, encoded, from '/' */
	char query[AZ_SAS_MAX];		/* no '?'; "" when none */
};

/* 0, or -EINVAL with a message naming what is wrong (the query is never
 * copied into messages: it may be a SAS). */
int az_url_parse(const char *url, struct az_url *u, char *err, size_t errlen);

/* scheme://host/path, no query: safe to log. */
int az_url_base(const struct az_url *u, char *out, size_t len);

#endif /* MAICACHE_AZ_URL_H */
