// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the strict number parsers (lib/parse.c) that read the
 * daemon's configuration and maicachectl's options. The input is the
 * string (up to its first NUL). Each parser is checked against a slow
 * reference written here from parse.h's contract: the same verdict
 * (0, -EINVAL or -ERANGE) and, when accepted, the same value; an accepted
 * decimal prints back to the input without its leading zeros.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Digits [s, e) times mul, by 128-bit arithmetic: 0 or -ERANGE. */
static int ref_value(const char *s, const char *e, uint64_t mul, uint64_t *out)
{
	unsigned __int128 v = 0;

	for (; s < e; s++) {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > UINT64_MAX)
			return -ERANGE;
	}
	v *= mul;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static const char *digits_end(const char *s)
{
	while (*s >= '0' && *s <= '9')
		s++;
	return s;
}

static int ref_uint(const char *s, uint64_t *out)
{
	const char *e = digits_end(s);

	if (e == s || *e)
		return -EINVAL;
	return ref_value(s, e, 1, out);
}

static int ref_size(const char *s, uint64_t *out)
{
	const char *e = digits_end(s);
	uint64_t mul;

	if (e == s)
		return -EINVAL;
	switch (*e) {
	case '\0': mul = 1; break;
	case 'k': case 'K': mul = 1ULL << 10; break;
	case 'm': case 'M': mul = 1ULL << 20; break;
	case 'g': case 'G': mul = 1ULL << 30; break;
	case 't': case 'T': mul = 1ULL << 40; break;
	default: return -EINVAL;
	}
	if (*e && e[1])
		return -EINVAL;
	return ref_value(s, e, mul, out);
}

static int ref_ms(const char *s, uint64_t *out)
{
	const char *e = digits_end(s);
	uint64_t mul;

	if (e == s)
		return -EINVAL;
	if (!*e || !strcmp(e, "ms"))
		mul = 1;
	else if (!strcmp(e, "s"))
		mul = 1000;
	else
		return -EINVAL;
	return ref_value(s, e, mul, out);
}

/*
 * The parsers may give -ERANGE for digits that overflow before looking at
 * a bad suffix; parse.h promises only "not of the form" or "over
 * UINT64_MAX", so either refusal is right for a string that is both.
 */
static void same(int got, uint64_t gv, int want, uint64_t wv, const char *s,
		 int (*form)(const char *, uint64_t *))
{
	if (!want) {
		if (got || gv != wv)
			__builtin_trap();
		return;
	}
	if (!got)
		__builtin_trap();	/* accepted what the reference refuses */
	if (got != -EINVAL && got != -ERANGE)
		__builtin_trap();
	if (got != want) {
		/* Only a mix of both faults may differ: not of the form
		 * once the digits are taken as 0. */
		char z[64];
		const char *e = digits_end(s);
		uint64_t v;

		if (strlen(e) + 2 > sizeof(z))
			return;
		snprintf(z, sizeof(z), "0%s", e);
		if (form(z, &v) != -EINVAL)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t gv = 0, wv = 0;
	int got, want;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	got = mc_parse_uint(s, &gv);
	want = ref_uint(s, &wv);
	same(got, gv, want, wv, s, ref_uint);
	if (!got) {
		char back[32];
		const char *p = s;

		while (p[0] == '0' && p[1])
			p++;
		snprintf(back, sizeof(back), "%" PRIu64, gv);
		if (strcmp(back, p))
			__builtin_trap();	/* does not print back */
	}

	gv = wv = 0;
	got = mc_parse_size(s, &gv);
	want = ref_size(s, &wv);
	same(got, gv, want, wv, s, ref_size);

	gv = wv = 0;
	got = mc_parse_ms(s, &gv);
	want = ref_ms(s, &wv);
	same(got, gv, want, wv, s, ref_ms);

	for (size_t i = 0; i < size; i++) {
		int h = mc_hexval(s[i]);
		const char *digits = "0123456789abcdef";

		if (h < -1 || h > 15)
			__builtin_trap();
		if (h >= 0 && (s[i] | 0x20) != digits[h] && s[i] != digits[h])
			__builtin_trap();
		if (h < 0 && s[i] && strchr("0123456789abcdefABCDEF", s[i]))
			__builtin_trap();
	}
	free(s);
	return 0;
}
