// SPDX-License-Identifier: MIT
/*
 * Blob service answers: Content-Range checks and error classification.
 */
#define _GNU_SOURCE	/* memmem */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "errmsg.h"
#include "az_resp.h"
#include "az_sign.h"

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Decimal digits into *v; NULL on no digits or overflow. */
static const char *parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *start = s;

	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return NULL;
		x = x * 10 + d;
	}
	if (s == start)
		return NULL;
	*v = x;
	return s;
}

int az_content_range(const char *v, uint64_t *first, uint64_t *last,
		     uint64_t *total)
{
	const char *s;

	if (!v)
		return -EPROTO;
	s = skip_spaces(v);
	if (strncasecmp(s, "bytes", 5) || (s[5] != ' ' && s[5] != '\t'))
		return -EPROTO;
	s = skip_spaces(s + 5);
	s = parse_u64(s, first);
	if (!s || *s++ != '-')
		return -EPROTO;
	s = parse_u64(s, last);
	if (!s || *s++ != '/')
		return -EPROTO;
	s = parse_u64(s, total);
	if (!s || *skip_spaces(s))
		return -EPROTO;
	if (*first > *last || *last >= *total)
		return -EPROTO;
	return 0;
}

int az_check_partial(const char *content_range, uint64_t off, uint64_t len,
		     uint64_t size, uint64_t body_len, char *msg, size_t msglen)
{
	uint64_t first, last, total;

	if (!content_range) {
		return mc_errf(msg, msglen, -EPROTO, "206 answer without Content-Range");
	}
	if (az_content_range(content_range, &first, &last, &total)) {
		return mc_errf(msg, msglen, -EPROTO, "malformed Content-Range '%.64s'",
			 content_range);
	}
	if (len == 0 || first != off || last != off + len - 1) {
		snprintf(msg, msglen,
			 "answer covers bytes %llu-%llu, asked for %llu-%llu",
			 (unsigned long long)first, (unsigned long long)last,
			 (unsigned long long)off,
			 (unsigned long long)(off + len - (len ? 1 : 0)));
		return -EPROTO;
	}
	/* Another size is another blob (or a lie): its bytes are not ours. */
	if (size != UINT64_MAX && total != size) {
		return mc_errf(msg, msglen, -EPROTO, "answer says the blob has %llu bytes, attached with %llu",
			 (unsigned long long)total, (unsigned long long)size);
	}
	if (body_len != UINT64_MAX && body_len != len) {
		return mc_errf(msg, msglen, -EPROTO, "body of %llu bytes, asked for %llu",
			 (unsigned long long)body_len, (unsigned long long)len);
	}
	return 0;
}

int az_content_md5(const char *v, unsigned char md5[AZ_MD5_LEN])
{
	unsigned char raw[AZ_MD5_LEN + 2];
	char again[32];

	/* 16 bytes are 24 characters of base64, the last two "==". */
	if (!v || strlen(v) != 24)
		return -EPROTO;
	if (az_b64_decode(v, raw, sizeof(raw)) != AZ_MD5_LEN)
		return -EPROTO;
	/*
	 * Only the one spelling an encoder gives: unused low bits of the last
	 * character set would decode to the same bytes, from a sender that
	 * does not encode the way the service does.
	 */
	if (az_b64_encode(raw, AZ_MD5_LEN, again, sizeof(again)) != 24 ||
	    strcmp(again, v))
		return -EPROTO;
	memcpy(md5, raw, AZ_MD5_LEN);
	return 0;
}

int az_retry_after(const char *v, int64_t now, uint64_t *ms)
{
	const char *s;
	uint64_t secs;
	time_t t;

	if (!v)
		return -EPROTO;
	s = skip_spaces(v);
	if (*s >= '0' && *s <= '9') {
		s = parse_u64(s, &secs);
		/* Too many digits for a u64 is still "a very long time". */
		if (!s) {
			secs = UINT64_MAX;
			for (s = skip_spaces(v); *s >= '0' && *s <= '9'; s++)
				;
		}
		if (*skip_spaces(s))
			return -EPROTO;
	} else {
		/* An IMF-fixdate; curl's parser takes the obsolete forms too. */
		if (!*s)
			return -EPROTO;
		t = curl_getdate(s, NULL);
		if (t == (time_t)-1)
			return -EPROTO;
		/* Unsigned: the difference of any two int64s fits. */
		secs = (int64_t)t > now ? (uint64_t)t - (uint64_t)now : 0;
	}
	if (secs > AZ_RETRY_AFTER_MAX_S)
		secs = AZ_RETRY_AFTER_MAX_S;
	*ms = secs * 1000;
	return 0;
}

bool az_error_code_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

int az_xml_error_code(const char *body, size_t n, char *out, size_t len)
{
	static const char open[] = "<Code>", close[] = "</Code>";
	const char *s, *e, *end = body + n;
	size_t k;

	if (!body || !len)
		return -ENOENT;
	s = memmem(body, n, open, sizeof(open) - 1);
	if (!s)
		return -ENOENT;
	s += sizeof(open) - 1;
	e = memmem(s, (size_t)(end - s), close, sizeof(close) - 1);
	if (!e || e == s)
		return -ENOENT;
	k = (size_t)(e - s);
	if (k >= len)
		k = len - 1;
	memcpy(out, s, k);
	out[k] = '\0';
	if (!az_error_code_ok(out)) {
		out[0] = '\0';
		return -ENOENT;
	}
	return 0;
}

static const char *auth_hint(enum az_auth auth)
{
	switch (auth) {
	case AZ_AUTH_SHARED_KEY:
		return "check the account key (--account-key-file / AZURE_STORAGE_KEY)";
	case AZ_AUTH_SAS:
		return "check the SAS (--sas / AZURE_STORAGE_SAS_TOKEN): expired, or not signed for this blob and for reading?";
	case AZ_AUTH_BEARER:
		return "check the token file (--token-file): token expired, or the identity lacks the Storage Blob Data Reader role?";
	case AZ_AUTH_NONE:
	default:
		return "the container is not public: give an account key or a SAS";
	}
}

static bool code_is(const struct az_failure *f, const char *code)
{
	return f->error_code && !strcmp(f->error_code, code);
}

static const char *code_or(const struct az_failure *f, const char *dflt)
{
	return f->error_code && *f->error_code ? f->error_code : dflt;
}

static int curl_failure(const struct az_failure *f, bool *retry, char *msg,
			size_t msglen)
{
	const char *what = f->what ? f->what : "blob";
	const char *why = curl_easy_strerror((CURLcode)f->curl_code);

	*retry = false;
	switch (f->curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return mc_errf(msg, msglen, -ENXIO, "unknown account/host for %s (%s): check the account name in the URL",
			 what, why);
	case CURLE_OPERATION_TIMEDOUT:
		*retry = true;
		return mc_errf(msg, msglen, -ETIMEDOUT, "%s: timed out (%s)", what, why);
	case CURLE_COULDNT_CONNECT:
		*retry = true;
		return mc_errf(msg, msglen, -ETIMEDOUT, "%s: cannot connect (%s)", what, why);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		*retry = true;
		return mc_errf(msg, msglen, -EIO, "%s: connection failed (%s)", what, why);
	/*
	 * Bytes that are no HTTP answer: curl names a reply without a status
	 * line HTTP/0.9 and refuses it as an unsupported protocol (the URL's
	 * scheme was checked at open, so it means nothing else here). Broken
	 * in between, or a connection left with someone else's bytes: worth
	 * another attempt on a fresh one.
	 */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		*retry = true;
		return mc_errf(msg, msglen, -EIO, "%s: not an HTTP answer (%s)", what, why);
	case CURLE_PEER_FAILED_VERIFICATION:
		return mc_errf(msg, msglen, -EACCES, "%s: TLS certificate of the host not trusted (%s)",
			 what, why);
	case CURLE_OUT_OF_MEMORY:
		return mc_errf(msg, msglen, -ENOMEM, "%s: out of memory", what);
	case CURLE_ABORTED_BY_CALLBACK:
		return mc_errf(msg, msglen, -ECANCELED, "%s: cancelled", what);
	case CURLE_WRITE_ERROR:
		return mc_errf(msg, msglen, -EPROTO, "%s: answer longer than asked", what);
	default:
		return mc_errf(msg, msglen, -EIO, "%s: transfer failed (%s)", what, why);
	}
}

static int auth_failure(const struct az_failure *f, char *msg, size_t msglen)
{
	const char *what = f->what ? f->what : "blob";
	const char *code = code_or(f, "no error code");

	if (f->error_code && !strncmp(f->error_code, "AuthorizationPermission", 23))
		snprintf(msg, msglen, "%s: permission denied (%ld %s): the credential may not read blobs; %s",
			 what, f->status, code, auth_hint(f->auth));
	else if (code_is(f, "AuthorizationFailure") ||
		 code_is(f, "AuthorizationResourceTypeMismatch") ||
		 code_is(f, "AuthorizationServiceMismatch") ||
		 code_is(f, "AuthorizationSourceIPMismatch") ||
		 code_is(f, "AuthorizationProtocolMismatch"))
		snprintf(msg, msglen, "%s: not authorised (%ld %s): %s",
			 what, f->status, code, auth_hint(f->auth));
	else
		snprintf(msg, msglen, "%s: authentication failed (%ld %s): %s",
			 what, f->status, code, auth_hint(f->auth));
	return -EACCES;
}

static int status_4xx(const struct az_failure *f, bool *retry, char *msg,
		      size_t msglen)
{
	const char *what = f->what ? f->what : "blob";
	const char *code = code_or(f, "no error code");

	switch (f->status) {
	case 401:
	case 403:
		return auth_failure(f, msg, msglen);
	case 404:
		if (code_is(f, "ContainerNotFound"))
			snprintf(msg, msglen, "%s: container not found (404 ContainerNotFound): check the container name in the URL", what);
		else if (code_is(f, "BlobNotFound"))
			snprintf(msg, msglen, "%s: blob not found (404 BlobNotFound): check the blob name in the URL", what);
		else
			snprintf(msg, msglen, "%s: not found (404 %s): check the account, container and blob names in the URL",
				 what, code);
		return -ENOENT;
	case 408:
		*retry = true;
		return mc_errf(msg, msglen, -ETIMEDOUT, "%s: the service timed out (408 %s)", what, code);
	case 409:
		if (code_is(f, "BlobArchived"))
			snprintf(msg, msglen, "%s: the blob is in the archive tier (409 BlobArchived): rehydrate it to hot or cool first",
				 what);
		else
			snprintf(msg, msglen, "%s: conflict (409 %s)", what, code);
		return -EIO;
	case 412:
		return mc_errf(msg, msglen, -ESTALE, "%s: the blob changed since it was attached (412 %s, attached ETag %s): attach it again",
			 what, code, f->etag ? f->etag : "none");
	case 416:
		return mc_errf(msg, msglen, -ERANGE, "%s: range outside the blob (416 %s)", what, code);
	case 429:
		*retry = true;
		return mc_errf(msg, msglen, -EIO, "%s: throttled by the service (429 %s)", what, code);
	case 400:
		if (code_is(f, "InvalidAuthenticationInfo") ||
		    code_is(f, "AuthenticationFailed"))
			return auth_failure(f, msg, msglen);
		if (code_is(f, "InvalidAccount") || code_is(f, "AccountNotFound"))
			break;
		/* fall through */
	default:
		return mc_errf(msg, msglen, -EIO, "%s: request refused (%ld %s)", what,
			 f->status, code);
	}
	return mc_errf(msg, msglen, -ENXIO, "%s: unknown account (%ld %s): check the account name in the URL",
		 what, f->status, code);
}

int az_classify(const struct az_failure *f, bool *retry, char *msg,
		size_t msglen)
{
	const char *what = f->what ? f->what : "blob";

	*retry = false;
	if (msglen)
		msg[0] = '\0';
	if (f->curl_code != CURLE_OK && f->curl_code != CURLE_HTTP_RETURNED_ERROR)
		return curl_failure(f, retry, msg, msglen);
	if (f->status >= 200 && f->status < 300)
		return 0;
	if (f->status >= 400 && f->status < 500)
		return status_4xx(f, retry, msg, msglen);
	if (f->status >= 500) {
		*retry = true;
		if (code_is(f, "OperationTimedOut")) {
			return mc_errf(msg, msglen, -ETIMEDOUT, "%s: the service timed out (%ld OperationTimedOut)",
				 what, f->status);
		}
		return mc_errf(msg, msglen, -EIO, "%s: service error (%ld %s)", what,
			 f->status, code_or(f, "no error code"));
	}
	return mc_errf(msg, msglen, -EIO, "%s: unexpected answer (HTTP %ld)", what, f->status);
}
