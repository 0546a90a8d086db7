// SPDX-License-Identifier: MIT
/*
 * maicached's log: one line per event on stderr (the journal under
 * systemd), filtered by the configured level. Never given a secret.
 */
#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"

void mc_log(struct mc_daemon *d, enum mc_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > d->cfg.log_level)
		return;
	fprintf(stderr, "maicached: %s: ", mc_log_level_name(level));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
