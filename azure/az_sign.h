/* SPDX-License-Identifier: MIT */
/*
 * Azure Storage "Shared Key" authorisation of Blob service requests
 * (the 2009-09-19-and-later format), the service SAS of a blob, HMAC-SHA256
 * and base64 with OpenSSL's libcrypto.
 *
 * StringToSign = VERB \n Content-Encoding \n Content-Language \n
 *	Content-Length (empty when 0) \n Content-MD5 \n Content-Type \n Date \n
 *	If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n
 *	Range \n CanonicalizedHeaders CanonicalizedResource
 *
 * CanonicalizedHeaders: every x-ms-* header, name lowercased, sorted by name,
 * runs of whitespace in the value folded to one space and the value trimmed,
 * each "name:value\n".
 * CanonicalizedResource: "/" account, then the request's path exactly as it
 * is sent (percent-encoded), then for each query parameter, sorted by
 * lowercased name: "\nname:value", names and values URL-decoded, the values
 * of a repeated name sorted and comma-joined.
 *
 * Everything writes into caller buffers and returns the length written or a
 * negative errno: -ENOSPC (buffer too small), -EINVAL (bad input).
 */
#ifndef MAICACHE_AZ_SIGN_H
#define MAICACHE_AZ_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The x-ms-version sent with every request (and signed into SAS tokens). */
#define AZ_API_VERSION	"2021-08-06"

/* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL. */
#define AZ_DATE_LEN	30
/* "SharedKey " + account + ":" + base64(32 bytes). */
#define AZ_AUTH_LEN	(16 + 64 + 48)

struct az_hdr {
	const char *name;	/* any case */
	const char *value;
};

struct az_sign_req {
	const char *verb;		/* "GET", "HEAD", "PUT" */
	const char *account;
	const char *path;		/* as sent: "/container/blob%20name" */
	const char *query;		/* as sent, no '?'; NULL or "" for none */
	const struct az_hdr *hdrs;	/* every header of the request */
	size_t nhdrs;
};

int az_canon_headers(const struct az_hdr *hdrs, size_t n, char *out, size_t len);
int az_canon_resource(const char *account, const char *path, const char *query,
		      char *out, size_t len);
int az_string_to_sign(const struct az_sign_req *r, char *out, size_t len);

/* "SharedKey account:base64(HMAC-SHA256(key, string-to-sign))". */
int az_sign_shared_key(const struct az_sign_req *r, const unsigned char *key,
		       size_t key_len, char *out, size_t len);

/* base64(HMAC-SHA256(key, msg)). */
int az_hmac_b64(const unsigned char *key, size_t key_len, const char *msg,
		size_t msg_len, char *out, size_t len);

int az_b64_encode(const unsigned char *in, size_t n, char *out, size_t len);
/*
 * Strict decoder for account keys: standard alphabet, padded to a multiple
 * of four, no whitespace inside. Returns the decoded length, -EINVAL for
 * input that is not base64, -ENOSPC when out is too small.
 */
int az_b64_decode(const char *in, unsigned char *out, size_t len);

/* RFC 1123 date, as x-ms-date wants it; independent of the locale. */
void az_http_date(time_t t, char out[AZ_DATE_LEN]);

/* Percent-decode src (n bytes) into out; -EINVAL on a bad %XX escape. */
int az_url_decode(const char *src, size_t n, char *out, size_t len);
/* Percent-encode everything but unreserved characters (RFC 3986). */
int az_url_encode(const char *src, char *out, size_t len);

/*
 * A service SAS for one blob (sr=b), version AZ_API_VERSION, HTTPS and
 * HTTP allowed: the query string "sv=..&sr=b&sp=..&st=..&se=..&spr=..&sig=..".
 * perms like "r" or "rw"; start/expiry like "2026-01-01T00:00:00Z" (start
 * may be NULL); blob is the decoded blob name.
 */
int az_sas_blob(const char *account, const unsigned char *key, size_t key_len,
		const char *container, const char *blob, const char *perms,
		const char *start, const char *expiry, char *out, size_t len);

#endif /* MAICACHE_AZ_SIGN_H */
