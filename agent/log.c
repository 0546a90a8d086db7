// SPDX-License-Identifier: MIT
/*
 * maicache-agent's log; see log.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void mc_agent_log(enum mc_agent_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info" };
	va_list ap;

	fprintf(stderr, "maicache-agent: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
