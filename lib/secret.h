/* SPDX-License-Identifier: MIT */
/*
 * The one reader of small secret files: account keys, SAS tokens and
 * bearer tokens (azure/), the cache group's key (peer/). Nothing here logs
 * or echoes a secret.
 */
#ifndef MAICACHE_SECRET_H
#define MAICACHE_SECRET_H

#include <stddef.h>

/* The file must not be readable or writable by group or others. */
#define MC_SECRET_PRIVATE	0x1

/*
 * Read path into buf, trimmed of surrounding white space. It must be a
 * regular file of fewer than size bytes, hold no NUL byte and not be empty
 * (and with MC_SECRET_PRIVATE, be mode 0600 or stricter). 0, or a negative
 * errno with "WHAT PATH: ..." in err; buf is wiped on error.
 */
int mc_secret_file_read(const char *path, const char *what, char *buf,
			size_t size, unsigned int flags, char *err, size_t errlen);

#endif /* MAICACHE_SECRET_H */
