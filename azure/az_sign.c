// SPDX-License-Identifier: MIT
/*
 * Azure Storage Shared Key signing and the helpers it needs (base64,
 * HMAC-SHA256, URL coding, RFC 1123 dates); see az_sign.h for the format.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "az_sign.h"
#include "parse.h"

#define MAX_SIGNED_HDRS	64
#define MAX_QUERY_PARAMS 64

/* An output buffer that remembers running out of room. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static void sb_init(struct sbuf *s, char *out, size_t cap)
{
	s->p = out;
	s->len = 0;
	s->cap = cap;
	s->full = cap == 0;
	if (cap)
		out[0] = '\0';
}

static void sb_put(struct sbuf *s, const char *src, size_t n)
{
	if (s->full || n >= s->cap - s->len) {
		s->full = true;
		return;
	}
	memcpy(s->p + s->len, src, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void sb_puts(struct sbuf *s, const char *src)
{
	sb_put(s, src, strlen(src));
}

static int sb_result(const struct sbuf *s)
{
	return s->full ? -ENOSPC : (int)s->len;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Append v with whitespace runs folded to one space and both ends trimmed. */
static void sb_put_folded(struct sbuf *s, const char *v)
{
	bool space = false, any = false;

	for (; *v; v++) {
		if (is_lws(*v)) {
			space = any;
			continue;
		}
		if (space)
			sb_put(s, " ", 1);
		sb_put(s, v, 1);
		space = false;
		any = true;
	}
}

static void sb_put_lower(struct sbuf *s, const char *v)
{
	for (; *v; v++) {
		char c = (*v >= 'A' && *v <= 'Z') ? *v - 'A' + 'a' : *v;

		sb_put(s, &c, 1);
	}
}

static int cmp_hdr_name(const void *a, const void *b)
{
	const struct az_hdr *x = *(const struct az_hdr *const *)a;
	const struct az_hdr *y = *(const struct az_hdr *const *)b;

	return strcasecmp(x->name, y->name);
}

int az_canon_headers(const struct az_hdr *hdrs, size_t n, char *out, size_t len)
{
	const struct az_hdr *ms[MAX_SIGNED_HDRS];
	size_t i, k = 0;
	struct sbuf s;

	for (i = 0; i < n; i++) {
		if (strncasecmp(hdrs[i].name, "x-ms-", 5))
			continue;
		if (k == MAX_SIGNED_HDRS)
			return -E2BIG;
		ms[k++] = &hdrs[i];
	}
	qsort(ms, k, sizeof(ms[0]), cmp_hdr_name);
	sb_init(&s, out, len);
	for (i = 0; i < k; i++) {
		/* Azure answers 400 to a repeated header: refuse to sign one. */
		if (i && !strcasecmp(ms[i - 1]->name, ms[i]->name))
			return -EINVAL;
		sb_put_lower(&s, ms[i]->name);
		sb_put(&s, ":", 1);
		sb_put_folded(&s, ms[i]->value ? ms[i]->value : "");
		sb_put(&s, "\n", 1);
	}
	return sb_result(&s);
}

/* plus: '+' means a space (query strings, as the service reads them). */
static int url_decode(const char *src, size_t n, bool plus, char *out, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = mc_hexval(src[i + 1]);
			lo = mc_hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && c == '+') {
			c = ' ';
		}
		if (o + 1 >= len)
			return -ENOSPC;
		out[o++] = c;
	}
	if (!len)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}

int az_url_decode(const char *src, size_t n, char *out, size_t len)
{
	return url_decode(src, n, false, out, len);
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int az_url_encode(const char *src, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sbuf s;

	sb_init(&s, out, len);
	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (unreserved(c))
			sb_put(&s, src, 1);
		else
			sb_put(&s, esc, 3);
	}
	return sb_result(&s);
}

struct qparam {
	char *name;
	char *value;
};

static int cmp_qparam(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

/*
 * Split query into decoded, lowercased-name parameters, stored in scratch
 * (at least strlen(query) + 2 bytes per parameter count... see caller).
 */
static int split_query(const char *query, char *scratch, size_t scratch_len,
		       struct qparam *p, size_t *np)
{
	size_t n = 0, used = 0;
	const char *q = query;

	while (*q) {
		const char *end = strchr(q, '&');
		const char *eq;
		size_t plen = end ? (size_t)(end - q) : strlen(q);
		int r;

		if (plen) {
			if (n == MAX_QUERY_PARAMS)
				return -E2BIG;
			eq = memchr(q, '=', plen);
			p[n].name = scratch + used;
			r = url_decode(q, eq ? (size_t)(eq - q) : plen, true,
				       scratch + used, scratch_len - used);
			if (r < 0)
				return r;
			for (char *c = p[n].name; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
			used += (size_t)r + 1;
			p[n].value = scratch + used;
			r = eq ? url_decode(eq + 1, plen - (size_t)(eq + 1 - q), true,
					    scratch + used, scratch_len - used)
			       : url_decode("", 0, true, scratch + used,
					    scratch_len - used);
			if (r < 0)
				return r;
			used += (size_t)r + 1;
			n++;
		}
		q += plen + (end ? 1 : 0);
	}
	*np = n;
	return 0;
}

int az_canon_resource(const char *account, const char *path, const char *query,
		      char *out, size_t len)
{
	struct qparam p[MAX_QUERY_PARAMS];
	size_t n = 0, i, scratch_len;
	char *scratch = NULL;
	struct sbuf s;
	int r = 0;

	if (!account || !*account)
		return -EINVAL;
	sb_init(&s, out, len);
	sb_put(&s, "/", 1);
	sb_puts(&s, account);
	sb_puts(&s, path && *path ? path : "/");
	if (!query || !*query)
		return sb_result(&s);

	/* Decoding only shrinks; two NULs per parameter at most. */
	scratch_len = strlen(query) + 2 * MAX_QUERY_PARAMS + 2;
	scratch = malloc(scratch_len);
	if (!scratch)
		return -ENOMEM;
	r = split_query(query, scratch, scratch_len, p, &n);
	if (r < 0)
		goto out;
	qsort(p, n, sizeof(p[0]), cmp_qparam);
	for (i = 0; i < n; i++) {
		bool same = i && !strcmp(p[i - 1].name, p[i].name);

		if (same) {
			sb_put(&s, ",", 1);
		} else {
			sb_put(&s, "\n", 1);
			sb_puts(&s, p[i].name);
			sb_put(&s, ":", 1);
		}
		sb_puts(&s, p[i].value);
	}
	r = sb_result(&s);
out:
	free(scratch);
	return r;
}

static const char *hdr_get(const struct az_sign_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (!strcasecmp(r->hdrs[i].name, name))
			return r->hdrs[i].value ? r->hdrs[i].value : "";
	return "";
}

int az_string_to_sign(const struct az_sign_req *r, char *out, size_t len)
{
	static const char *const std_hdrs[] = {
		"Content-Encoding", "Content-Language", "Content-Length",
		"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
		"If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
	};
	struct sbuf s;
	size_t i;
	int n;

	if (!r->verb || !*r->verb)
		return -EINVAL;
	sb_init(&s, out, len);
	sb_puts(&s, r->verb);
	sb_put(&s, "\n", 1);
	for (i = 0; i < sizeof(std_hdrs) / sizeof(std_hdrs[0]); i++) {
		const char *v = hdr_get(r, std_hdrs[i]);

		/* Since 2015-02-21 a zero length is signed as an empty line. */
		if (!strcmp(std_hdrs[i], "Content-Length") && !strcmp(v, "0"))
			v = "";
		sb_puts(&s, v);
		sb_put(&s, "\n", 1);
	}
	if (s.full)
		return -ENOSPC;
	n = az_canon_headers(r->hdrs, r->nhdrs, s.p + s.len, s.cap - s.len);
	if (n < 0)
		return n;
	s.len += (size_t)n;
	n = az_canon_resource(r->account, r->path, r->query, s.p + s.len,
			      s.cap - s.len);
	if (n < 0)
		return n;
	s.len += (size_t)n;
	return sb_result(&s);
}

int az_hmac_b64(const unsigned char *key, size_t key_len, const char *msg,
		size_t msg_len, char *out, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
		  msg_len, mac, &mac_len))
		return -EIO;
	return az_b64_encode(mac, mac_len, out, len);
}

int az_sign_shared_key(const struct az_sign_req *r, const unsigned char *key,
		       size_t key_len, char *out, size_t len)
{
	char sig[64];
	char *sts;
	size_t cap = 8192;
	int n;
	struct sbuf s;

	sts = malloc(cap);
	if (!sts)
		return -ENOMEM;
	n = az_string_to_sign(r, sts, cap);
	if (n >= 0)
		n = az_hmac_b64(key, key_len, sts, (size_t)n, sig, sizeof(sig));
	/* The string to sign holds no secret, but keep the heap tidy. */
	free(sts);
	if (n < 0)
		return n;
	sb_init(&s, out, len);
	sb_puts(&s, "SharedKey ");
	sb_puts(&s, r->account);
	sb_put(&s, ":", 1);
	sb_puts(&s, sig);
	return sb_result(&s);
}

int az_b64_encode(const unsigned char *in, size_t n, char *out, size_t len)
{
	size_t need = 4 * ((n + 2) / 3);

	if (n > (size_t)INT32_MAX / 2 || need + 1 > len)
		return -ENOSPC;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int az_b64_decode(const char *in, unsigned char *out, size_t len)
{
	size_t n = strlen(in), i, pad = 0, raw_len;
	unsigned char *raw;
	int r;

	if (n == 0 || n % 4 || n > (size_t)INT32_MAX / 2)
		return -EINVAL;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!b64_char(in[i]))
			return -EINVAL;
	raw_len = n / 4 * 3;
	if (raw_len - pad > len)
		return -ENOSPC;
	raw = malloc(raw_len);
	if (!raw)
		return -ENOMEM;
	r = EVP_DecodeBlock(raw, (const unsigned char *)in, (int)n);
	if (r < 0 || (size_t)r != raw_len) {
		r = -EINVAL;
	} else {
		r = (int)(raw_len - pad);
		memcpy(out, raw, (size_t)r);
	}
	/* raw may hold an account key. */
	OPENSSL_cleanse(raw, raw_len);
	free(raw);
	return r;
}

void az_http_date(time_t t, char out[AZ_DATE_LEN])
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;

	gmtime_r(&t, &tm);
	/* The modulos only tell the compiler how wide each field is. */
	snprintf(out, AZ_DATE_LEN, "%.3s, %02u %.3s %04u %02u:%02u:%02u GMT",
		 days[(unsigned int)tm.tm_wday % 7],
		 (unsigned int)tm.tm_mday % 100,
		 months[(unsigned int)tm.tm_mon % 12],
		 (unsigned int)(tm.tm_year + 1900) % 10000,
		 (unsigned int)tm.tm_hour % 100, (unsigned int)tm.tm_min % 100,
		 (unsigned int)tm.tm_sec % 100);
}

static void sb_put_encoded(struct sbuf *s, const char *v)
{
	char tmp[512];

	if (az_url_encode(v, tmp, sizeof(tmp)) < 0)
		s->full = true;
	else
		sb_puts(s, tmp);
}

int az_sas_blob(const char *account, const unsigned char *key, size_t key_len,
		const char *container, const char *blob, const char *perms,
		const char *start, const char *expiry, char *out, size_t len)
{
	static const char proto[] = "https,http";
	char sig[64];
	struct sbuf s;
	char *sts;
	size_t cap = 8192;
	int r;

	if (!account || !container || !blob || !perms || !expiry)
		return -EINVAL;
	sts = malloc(cap);
	if (!sts)
		return -ENOMEM;
	/* Version 2020-12-06 and later: sixteen lines. */
	sb_init(&s, sts, cap);
	sb_puts(&s, perms);
	sb_puts(&s, "\n");
	sb_puts(&s, start ? start : "");
	sb_puts(&s, "\n");
	sb_puts(&s, expiry);
	sb_puts(&s, "\n/blob/");
	sb_puts(&s, account);
	sb_puts(&s, "/");
	sb_puts(&s, container);
	sb_puts(&s, "/");
	sb_puts(&s, blob);
	sb_puts(&s, "\n\n\n");		/* identifier, IP range */
	sb_puts(&s, proto);
	sb_puts(&s, "\n" AZ_API_VERSION "\nb\n");
	sb_puts(&s, "\n\n\n\n\n\n");	/* snapshot, scope, rscc..rsct */
	r = sb_result(&s);
	if (r >= 0)
		r = az_hmac_b64(key, key_len, sts, (size_t)r, sig, sizeof(sig));
	free(sts);
	if (r < 0)
		return r;

	sb_init(&s, out, len);
	sb_puts(&s, "sv=" AZ_API_VERSION "&sr=b&sp=");
	sb_put_encoded(&s, perms);
	if (start) {
		sb_puts(&s, "&st=");
		sb_put_encoded(&s, start);
	}
	sb_puts(&s, "&se=");
	sb_put_encoded(&s, expiry);
	sb_puts(&s, "&spr=");
	sb_put_encoded(&s, proto);
	sb_puts(&s, "&sig=");
	sb_put_encoded(&s, sig);
	return sb_result(&s);
}
