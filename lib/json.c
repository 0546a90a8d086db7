// SPDX-License-Identifier: MIT
/* See json.h. */
#include "json.h"

void mc_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void mc_json_member(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",\"%s\":", key);
	mc_json_str(f, val);
}
