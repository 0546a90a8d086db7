// SPDX-License-Identifier: MIT
/* See parse.h. */
#include <errno.h>
#include <string.h>

#include "parse.h"

#define SEC 1000ULL

/* Leading decimal digits into *v; the rest of s in *end. */
static int parse_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	*end = s;
	return 0;
}

static int scale(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int mc_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *end, *u;
	uint64_t v;
	int res;

	res = parse_digits(s, &v, &end);
	if (res)
		return res;
	if (!*end) {
		*out = v;
		return 0;
	}
	/* memchr, not strchr: strchr finds the terminator for ' ' (0x20
	 * cleared is NUL), which made "1 " a petabyte. */
	u = end[1] ? NULL : memchr(units, *end & ~0x20, sizeof(units) - 1);
	if (!u)
		return -EINVAL;
	return scale(v, 1ULL << (10 * (u - units + 1)), out);
}

int mc_parse_ms(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int res;

	res = parse_digits(s, &v, &end);
	if (res)
		return res;
	if (!*end || !strcmp(end, "ms")) {
		*out = v;
		return 0;
	}
	if (!strcmp(end, "s"))
		return scale(v, SEC, out);
	return -EINVAL;
}

int mc_parse_uint(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int res;

	res = parse_digits(s, &v, &end);
	if (res)
		return res;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int mc_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
