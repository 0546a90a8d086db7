// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what a Blob endpoint (or anything answering in its
 * place) sends back that the client parses (azure/az_resp.c): the
 * Content-Range header of a ranged GET, and the XML body of an error. The
 * first byte picks which. A range that parses is in order; a partial
 * answer is taken only when it is exactly the range asked for; an error
 * code is a bounded, printable string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "az_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[64], msg[256], *text;
	uint64_t first, last, total;

	if (!size)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	if (data[0] & 1) {
		if (!az_content_range(text, &first, &last, &total) &&
		    (first > last || last >= total))
			__builtin_trap();
		if (!az_check_partial(text, 4096, 65536, UINT64_MAX, 65536, msg, sizeof(msg)) &&
		    (az_content_range(text, &first, &last, &total) ||
		     first != 4096 || last != 4096 + 65536 - 1))
			__builtin_trap();
	} else if (!az_xml_error_code(text, size - 1, code, sizeof(code))) {
		if (strlen(code) >= sizeof(code))
			__builtin_trap();
		for (const char *c = code; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				__builtin_trap();
	}
	free(text);
	return 0;
}
