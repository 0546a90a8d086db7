// SPDX-License-Identifier: MIT
/*
 * Blob URL parsing: scheme, host, account, container, blob and SAS query.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "az_sign.h"
#include "az_url.h"

#define SHOWN_MAX 200	/* how much of a bad URL an error message repeats */

struct parse {
	const char *url;
	size_t base_len;	/* up to '?' or the end: never the SAS */
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "<what>: URL '<url without query>'" */
static int fail(struct parse *p, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (!p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	n = strlen(p->err);
	snprintf(p->err + n, p->errlen - n, " in URL '%.*s%s'",
		 (int)(p->base_len < SHOWN_MAX ? p->base_len : SHOWN_MAX),
		 p->url, p->base_len > SHOWN_MAX ? "..." : "");
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Characters a URL path may carry as they are (RFC 3986 pchar and '/'). */
static bool path_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       is_digit((char)c) || (c && strchr("-._~!$&'()*+,;=:@/", c));
}

static int split_host(struct parse *p, const char *auth, size_t n,
		      struct az_url *u, char *name, size_t name_len)
{
	const char *colon = NULL, *end = auth + n;
	size_t hlen;

	if (n == 0)
		return fail(p, "no host");
	if (memchr(auth, '@', n))
		return fail(p, "user name or password (the '@' part) not supported; give credentials with the account key or SAS options");
	if (n >= sizeof(u->host))
		return fail(p, "host name too long");
	memcpy(u->host, auth, n);
	u->host[n] = '\0';

	if (auth[0] == '[') {
		const char *rb = memchr(auth, ']', n);

		if (!rb)
			return fail(p, "unterminated IPv6 address");
		hlen = (size_t)(rb - auth - 1);
		auth++;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return fail(p, "bad host");
			colon = rb + 1;
		}
	} else {
		colon = memchr(auth, ':', n);
		hlen = colon ? (size_t)(colon - auth) : n;
	}
	if (colon) {
		const char *d;
		unsigned long port = 0;

		for (d = colon + 1; d < end; d++) {
			if (!is_digit(*d) || port > 65535)
				return fail(p, "bad port");
			port = port * 10 + (unsigned long)(*d - '0');
		}
		if (d == colon + 1 || port == 0 || port > 65535)
			return fail(p, "bad port");
	}
	if (hlen == 0 || hlen >= name_len)
		return fail(p, "no host");
	memcpy(name, auth, hlen);
	name[hlen] = '\0';
	/* Host names are case-insensitive: compare them in lower case. */
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
	return 0;
}

static bool is_ip(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

static bool is_loopback(const char *name)
{
	unsigned char a[16];

	if (!strcmp(name, "localhost"))
		return true;
	if (inet_pton(AF_INET, name, a) == 1)
		return a[0] == 127;
	return !strcmp(name, "::1");
}

/* Copy segment [s, s + n) decoded into out; names what it is on error. */
static int take_segment(struct parse *p, const char *what, const char *s,
			size_t n, char *out, size_t len)
{
	int r;

	if (n == 0)
		return fail(p, "no %s", what);
	r = az_url_decode(s, n, out, len);
	if (r == -ENOSPC)
		return fail(p, "%s too long", what);
	if (r < 0)
		return fail(p, "bad percent-escape in the %s", what);
	/* A %00 would cut the name short: another blob, or none (found by fuzz_blob_url). */
	if ((size_t)r != strlen(out))
		return fail(p, "a NUL byte (%%00) in the %s", what);
	return 0;
}

static int check_account(struct parse *p, const char *a)
{
	const char *c;

	for (c = a; *c; c++)
		if (!(is_digit(*c) || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || *c == '-'))
			return fail(p, "invalid account name '%s'", a);
	return 0;
}

static int check_container(struct parse *p, const char *c)
{
	size_t n = strlen(c), i;

	if (!strcmp(c, "$root") || !strcmp(c, "$web") || !strcmp(c, "$logs"))
		return 0;
	for (i = 0; i < n; i++)
		if (!(is_digit(c[i]) || (c[i] >= 'a' && c[i] <= 'z') || c[i] == '-'))
			break;
	if (n < 3 || n > 63 || i < n)
		return fail(p, "invalid container name '%s' (3-63 lowercase letters, digits and hyphens)", c);
	return 0;
}

/* The path as sent: the user's escapes kept, unsafe bytes escaped. */
static int encode_path(struct parse *p, const char *s, size_t n,
		       char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 4 > len)
			return fail(p, "path too long");
		if (c == '%' || path_safe(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int parse_path(struct parse *p, const char *path, size_t n,
		      struct az_url *u)
{
	const char *s = path + 1, *end = path + n, *slash;
	int r;

	if (n == 0 || *path != '/')
		return fail(p, "no container");
	if (u->path_style) {
		slash = memchr(s, '/', (size_t)(end - s));
		r = take_segment(p, "account (path-style URLs are http://HOST:PORT/ACCOUNT/CONTAINER/BLOB)",
				 s, slash ? (size_t)(slash - s) : (size_t)(end - s),
				 u->account, sizeof(u->account));
		if (r)
			return r;
		if (!slash)
			return fail(p, "no container");
		s = slash + 1;
	}
	slash = memchr(s, '/', (size_t)(end - s));
	r = take_segment(p, "container", s,
			 slash ? (size_t)(slash - s) : (size_t)(end - s),
			 u->container, sizeof(u->container));
	if (r)
		return r;
	r = check_container(p, u->container);
	if (r)
		return r;
	if (!slash || slash + 1 == end)
		return fail(p, "no blob name (the URL names a container)");
	s = slash + 1;
	r = take_segment(p, "blob name", s, (size_t)(end - s), u->blob,
			 sizeof(u->blob));
	if (r)
		return r;
	return encode_path(p, path, n, u->path, sizeof(u->path));
}

static int parse_scheme(struct parse *p, const char *url, struct az_url *u,
			const char **rest)
{
	const char *sep = strstr(url, "://");
	size_t n;

	if (!sep || sep > url + p->base_len)
		return fail(p, "not a URL (expected https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB)");
	n = (size_t)(sep - url);
	if (n == 5 && !strncasecmp(url, "https", 5))
		u->https = true;
	else if (n == 4 && !strncasecmp(url, "http", 4))
		u->https = false;
	else
		return fail(p, "unsupported scheme '%.*s' (use https:// or http://)",
			    (int)(n < 16 ? n : 16), url);
	*rest = sep + 3;
	return 0;
}

/* Account from the first label of ACCOUNT.blob.HOST; "-secondary" is the
 * read-only replica of the same account, which signs as the primary. */
static int vhost_account(struct parse *p, const char *name, struct az_url *u)
{
	size_t n = strcspn(name, ".");
	static const char sec[] = "-secondary";

	if (n >= sizeof(u->account))
		return fail(p, "account name too long");
	memcpy(u->account, name, n);
	u->account[n] = '\0';
	if (n > strlen(sec) && !strcmp(u->account + n - strlen(sec), sec))
		u->account[n - strlen(sec)] = '\0';
	return 0;
}

int az_url_parse(const char *url, struct az_url *u, char *err, size_t errlen)
{
	struct parse p = { .url = url, .err = err, .errlen = errlen };
	char name[AZ_HOST_MAX];
	const char *auth = NULL, *path, *q;
	int r;

	memset(u, 0, sizeof(*u));
	if (errlen)
		err[0] = '\0';
	if (!url)
		url = p.url = "";
	q = strchr(url, '?');
	p.base_len = q ? (size_t)(q - url) : strlen(url);
	if (memchr(url, '#', p.base_len) || (q && strchr(q, '#')))
		return fail(&p, "a '#' fragment (escape '#' in blob names as %%23)");
	r = parse_scheme(&p, url, u, &auth);
	if (r)
		return r;
	path = auth + strcspn(auth, "/?");
	r = split_host(&p, auth, (size_t)(path - auth), u, name, sizeof(name));
	if (r)
		return r;
	u->loopback = is_loopback(name);
	u->path_style = is_ip(name) || !strcmp(name, "localhost") ||
			!strstr(name, ".blob.");
	if (!u->path_style) {
		r = vhost_account(&p, name, u);
		if (r)
			return r;
	}
	r = parse_path(&p, path, (size_t)(url + p.base_len - path), u);
	if (r)
		return r;
	r = check_account(&p, u->account);
	if (r)
		return r;
	if (q) {
		if (strlen(q + 1) >= sizeof(u->query))
			return fail(&p, "query (SAS) too long");
		strcpy(u->query, q + 1);
	}
	return 0;
}

int az_url_base(const struct az_url *u, char *out, size_t len)
{
	int n = snprintf(out, len, "%s://%s%s", u->https ? "https" : "http",
			 u->host, u->path);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
