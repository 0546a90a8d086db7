/* SPDX-License-Identifier: MIT */
/*
 * Strict parsers of numbers given by users (the daemon's configuration,
 * maicachectl's options): the whole string or nothing. Each returns 0,
 * -EINVAL (not of the form) or -ERANGE (over UINT64_MAX).
 */
#ifndef MAICACHE_PARSE_H
#define MAICACHE_PARSE_H

#include <stdint.h>

/* Decimal digits only. */
int mc_parse_uint(const char *s, uint64_t *out);
/* Digits with an optional K, M, G or T (either case; powers of 1024). */
int mc_parse_size(const char *s, uint64_t *out);
/* Digits with an optional "ms" or "s"; bare means milliseconds. */
int mc_parse_ms(const char *s, uint64_t *out);

/* The value of a hex digit (either case), or -1. */
int mc_hexval(char c);

#endif /* MAICACHE_PARSE_H */
