// SPDX-License-Identifier: MIT
/* See errmsg.h. */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

int mc_errf(char *err, size_t errlen, int res, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return res;
}
