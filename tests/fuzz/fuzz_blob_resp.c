// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what a Blob endpoint (or anything answering in its
 * place) sends back that the client parses (azure/az_resp.c): the
 * Content-Range header of a ranged GET, the XML body of an error, the
 * Content-MD5 of a body and the Retry-After of a 503. The first byte picks
 * which (its low two bits). A range that parses is in order; a partial
 * answer is taken only when it is exactly the range asked for, and of the
 * pinned size when one is given; an error code is a bounded, printable
 * string; an MD5 that parses is 24 characters that encode its 16 bytes
 * back; a Retry-After is never longer than the cap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "az_resp.h"
#include "az_sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[64], msg[256], *text, b64[32];
	uint64_t first, last, total, ms;
	unsigned char md5[AZ_MD5_LEN];

	if (!size)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	switch (data[0] & 3) {
	case 1:
		if (!az_content_range(text, &first, &last, &total) &&
		    (first > last || last >= total))
			__builtin_trap();
		if (!az_check_partial(text, 4096, 65536, UINT64_MAX, 65536, msg, sizeof(msg)) &&
		    (az_content_range(text, &first, &last, &total) ||
		     first != 4096 || last != 4096 + 65536 - 1))
			__builtin_trap();
		if (!az_check_partial(text, 4096, 65536, 1u << 20, 65536, msg, sizeof(msg)) &&
		    (az_content_range(text, &first, &last, &total) ||
		     total != 1u << 20))
			__builtin_trap();
		break;
	case 2:
		if (!az_content_md5(text, md5) &&
		    (strlen(text) != 24 ||
		     az_b64_encode(md5, sizeof(md5), b64, sizeof(b64)) != 24 ||
		     strcmp(b64, text)))
			__builtin_trap();
		break;
	case 3:
		/* A fixed now: the same input gives the same answer. */
		if (!az_retry_after(text, 1445412480, &ms) &&
		    ms > AZ_RETRY_AFTER_MAX_S * 1000ull)
			__builtin_trap();
		break;
	default:
		if (!az_xml_error_code(text, size - 1, code, sizeof(code))) {
			if (strlen(code) >= sizeof(code))
				__builtin_trap();
			for (const char *c = code; *c; c++)
				if (*c < 0x20 || *c > 0x7e)
					__builtin_trap();
		}
		break;
	}
	free(text);
	return 0;
}
