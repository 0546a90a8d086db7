// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a blob URL as a user gives it to attach, SAS included
 * (azure/az_url.c). A URL that parses names an account, a container and a
 * blob, and its loggable form carries no query; one that does not says
 * why, and never quotes the query (it may be a SAS) in the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "az_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct az_url u;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "", base[AZ_URL_MAX], *url = malloc(size + 1);
	const char *q;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = 0;
	q = strchr(url, '?');
	if (az_url_parse(url, &u, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		/*
		 * The query (from the first '?': a SAS) never shows in the
		 * message; one long enough to be a secret is looked for.
		 */
		if (q && strlen(q) >= 12 && strstr(err, q))
			__builtin_trap();
	} else {
		if (!u.host[0] || !u.container[0] || !u.blob[0])
			__builtin_trap();
		if (az_url_base(&u, base, sizeof(base)) >= 0 && strchr(base, '?'))
			__builtin_trap();
	}
	free(url);
	return 0;
}
