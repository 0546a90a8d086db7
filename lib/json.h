/* SPDX-License-Identifier: MIT */
/*
 * JSON output of the command-line tools: strings are always written through
 * mc_json_str(), which quotes and escapes them (RFC 8259), so that a value
 * from outside (an ETag, a URL, an error message) can never break the
 * document. Numbers and literals are printed by the caller.
 */
#ifndef MAICACHE_JSON_H
#define MAICACHE_JSON_H

#include <stdio.h>

/* "s" with '"', '\\' and control bytes escaped; NULL writes null. */
void mc_json_str(FILE *f, const char *s);
/* ,"key":"value" (a member after the first of an object). */
void mc_json_member(FILE *f, const char *key, const char *val);

#endif /* MAICACHE_JSON_H */
