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
 * header (NULL when missing). size is the blob's size when known (pinned),
 * else UINT64_MAX; TOTAL must then equal it. body_len is the bytes received
 * so far, or UINT64_MAX to check only the headers. 0, or -EPROTO with a
 * message.
 */
int az_check_partial(const char *content_range, uint64_t off, uint64_t len,
		     uint64_t size, uint64_t body_len, char *msg, size_t msglen);

/*
 * The largest range for which the service computes a Content-MD5 when asked
 * with x-ms-range-get-content-md5: true (Azure answers 400 beyond it).
 */
#define AZ_RANGE_MD5_MAX	(4u << 20)
#define AZ_MD5_LEN		16

/*
 * A Content-MD5 (or x-ms-blob-content-md5) value: base64 of exactly 16
 * bytes, standard alphabet, padded, no spaces inside. 0, or -EPROTO.
 */
int az_content_md5(const char *v, unsigned char md5[AZ_MD5_LEN]);

/*
 * Retry-After (RFC 9110 10.2.3): delta-seconds, or an HTTP-date that is
 * taken relative to now (a date in the past means 0). The wait in *ms,
 * capped at AZ_RETRY_AFTER_MAX_S seconds. 0, or -EPROTO when it is neither.
 */
#define AZ_RETRY_AFTER_MAX_S	3600u
int az_retry_after(const char *v, int64_t now, uint64_t *ms);

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
