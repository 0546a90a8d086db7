/* SPDX-License-Identifier: MIT */
/*
 * Blob service answers: Content-Range of ranged reads, the service's error
 * code, and the mapping of (HTTP status, error code, curl result) to the
 * errno classes of blob.h with a message for the user and whether the
 * request is worth retrying.
 */
#ifndef MAICACHE_AZ_RESP_H
#define MAICACHE_AZ_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "az_cred.h"

/*
 * "bytes FIRST-LAST/TOTAL" (RFC 9110; the unit case-insensitive, TOTAL may
 * not be "*" here: a 206 from the Blob service always carries the size).
 * 0, or -EPROTO when malformed or FIRST > LAST or LAST >= TOTAL.
 */
int az_content_range(const char *v, uint64_t *first, uint64_t *last,
		     uint64_t *total);

/*
 * Does a 206 answer fit the request [off, off + len)? content_range is the
 * header (NULL when missing). body_len is the bytes received so far, or
 * UINT64_MAX to check only the headers. 0, or -EPROTO with a message.
 */
int az_check_partial(const char *content_range, uint64_t off, uint64_t len,
		     uint64_t body_len, char *msg, size_t msglen);

/*
 * <Code>...</Code> of an XML error body into out (cut to len - 1); 0, or
 * -ENOENT when there is none or it is not an error code.
 */
int az_xml_error_code(const char *body, size_t n, char *out, size_t len);

/*
 * An error code as the service names them ("BlobNotFound"): letters and
 * digits only. Anything else an answer calls its code is not repeated to
 * the user (control characters in a log line, a terminal escape).
 */
bool az_error_code_ok(const char *s);

struct az_failure {
	long status;		/* HTTP status; 0 when no answer came */
	int curl_code;		/* CURLcode of the transfer */
	const char *error_code;	/* x-ms-error-code or <Code>; may be NULL */
	enum az_auth auth;	/* to say which credential to check */
	const char *what;	/* "host/container/blob", for messages */
	const char *etag;	/* the pinned ETag, for 412; may be NULL */
};

/*
 * 0 when the answer is a success (2xx and CURLE_OK); else a negative errno
 * of blob.h, *retry set for transient failures, and msg filled.
 */
int az_classify(const struct az_failure *f, bool *retry, char *msg,
		size_t msglen);

#endif /* MAICACHE_AZ_RESP_H */
