// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a static membership file (peer/members.c). A file with
 * any error is refused whole, with a message naming the line; one that is
 * taken holds only valid members, no id twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_members ms = { 0 };
	char err[256] = "", *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (mc_members_parse(text, "fuzz", &ms, err, sizeof(err))) {
		if (!strstr(err, "fuzz"))
			__builtin_trap();	/* the message names the source */
	} else {
		for (size_t i = 0; i < ms.n; i++) {
			if (!ms.m[i].host[0] || !ms.m[i].port[0] ||
			    (ms.m[i].region[0] && !mc_member_region_ok(ms.m[i].region)))
				__builtin_trap();
			for (size_t j = 0; j < i; j++)
				if (!memcmp(ms.m[i].id.b, ms.m[j].id.b, sizeof(ms.m[i].id.b)))
					__builtin_trap();
		}
	}
	mc_members_free(&ms);
	free(text);
	return 0;
}
