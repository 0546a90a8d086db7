/* SPDX-License-Identifier: MIT */
/*
 * One line per check for the programs tests/etcd/run.sh runs: "PASS name"
 * or "FAIL name: detail" (tests/run-all.sh counts the lines). detail is
 * printed on PASS too when verbose is set, as the client test does.
 */
#ifndef MC_ETCD_CHECK_LINE_H
#define MC_ETCD_CHECK_LINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int failures;

static inline void check_line(bool verbose, bool ok, const char *name, const char *fmt, va_list ap)
{
	printf("%s %s", ok ? "PASS" : "FAIL", name);
	if (fmt && (verbose || !ok)) {
		printf(": ");
		vprintf(fmt, ap);
	}
	printf("\n");
	failures += !ok;
}

#endif /* MC_ETCD_CHECK_LINE_H */
