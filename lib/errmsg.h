/* SPDX-License-Identifier: MIT */
/*
 * The error convention of the daemon's libraries: a negative errno returned,
 * and a message for the user written into the caller's buffer.
 */
#ifndef MAICACHE_ERRMSG_H
#define MAICACHE_ERRMSG_H

#include <stddef.h>

/* Format into err (when err and errlen are set) and return res. */
int mc_errf(char *err, size_t errlen, int res, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* MAICACHE_ERRMSG_H */
