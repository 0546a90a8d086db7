/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the Blob test programs share (tests/blob/run.sh runs them against
 * Azurite): Azurite's well-known development account, one PASS/FAIL line
 * per check counted in failures, and a seeded byte pattern for blobs.
 */
#ifndef MAICACHE_TESTS_BLOB_TEST_H
#define MAICACHE_TESTS_BLOB_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static int failures;

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s", ok ? "PASS" : "FAIL", name);
	if (fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed;

	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (unsigned char)(x >> 56);
	}
}

#endif
