// SPDX-License-Identifier: MIT
/*
 * Control messages: key=value lines, escaped so that any NUL-free value
 * survives the trip. See ctl_msg.h for the format.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ctl_msg.h"
#include "errmsg.h"
#include "parse.h"

static const char hexdigits[] = "0123456789ABCDEF";

static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '%';
}

static size_t escaped_len(const char *val)
{
	size_t n = 0;

	for (; *val; val++)
		n += needs_escape((unsigned char)*val) ? 3 : 1;
	return n;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

/* Length of a valid key in s (up to the first byte not a key char), or 0. */
static size_t key_span(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && key_char(s[n]))
		n++;
	return n;
}

static bool valid_key(const char *key)
{
	size_t n;

	if (!key)
		return false;
	n = key_span(key, MC_MSG_KEY_MAX);
	return n > 0 && n < MC_MSG_KEY_MAX && key[n] == '\0';
}

static int find(const struct mc_msg *m, const char *key, size_t keylen)
{
	for (unsigned int i = 0; i < m->nfields; i++) {
		const char *k = m->arena + m->field[i].key;

		if (strncmp(k, key, keylen) == 0 && k[keylen] == '\0')
			return (int)i;
	}
	return -1;
}

static int fail(struct mc_msg *m, int res)
{
	if (!m->error)
		m->error = res;
	return res;
}

void mc_msg_init(struct mc_msg *m)
{
	m->nfields = 0;
	m->error = 0;
	m->used = 0;
	m->enc_len = 0;
}

void mc_msg_wipe(struct mc_msg *m)
{
	explicit_bzero(m->arena, m->used);
	mc_msg_init(m);
}

/*
 * Start a field: check the key, copy it into the arena. The value goes
 * right after it; finish_field() commits both.
 */
static int start_field(struct mc_msg *m, const char *key)
{
	size_t klen;

	if (!valid_key(key))
		return -EINVAL;
	klen = strlen(key);
	if (find(m, key, klen) >= 0)
		return -EEXIST;
	if (m->nfields == MC_MSG_FIELDS)
		return -E2BIG;
	/* "key=" and "\n" alone must fit */
	if (m->enc_len + klen + 2 > MC_MSG_MAX)
		return -E2BIG;
	memcpy(m->arena + m->used, key, klen + 1);
	return 0;
}

static int finish_field(struct mc_msg *m, size_t klen, size_t vlen)
{
	const char *val = m->arena + m->used + klen + 1;
	size_t enc = klen + 1 + escaped_len(val) + 1;

	if (m->enc_len + enc > MC_MSG_MAX)
		return -E2BIG;
	m->field[m->nfields].key = (uint32_t)m->used;
	m->field[m->nfields].val = (uint32_t)(m->used + klen + 1);
	m->nfields++;
	m->used += klen + 1 + vlen + 1;
	m->enc_len += enc;
	return 0;
}

int mc_msg_add(struct mc_msg *m, const char *key, const char *val)
{
	size_t klen, vlen;
	int res;

	if (!val)
		return fail(m, -EINVAL);
	res = start_field(m, key);
	if (res)
		return fail(m, res);
	klen = strlen(key);
	vlen = strlen(val);
	/* The raw arena never outgrows the encoding, but check before copying. */
	if (m->used + klen + 1 + vlen + 1 > sizeof(m->arena))
		return fail(m, -E2BIG);
	memcpy(m->arena + m->used + klen + 1, val, vlen + 1);
	res = finish_field(m, klen, vlen);
	return res ? fail(m, res) : 0;
}

int mc_msg_addf(struct mc_msg *m, const char *key, const char *fmt, ...)
{
	size_t klen, room;
	va_list ap;
	int n, res;

	res = start_field(m, key);
	if (res)
		return fail(m, res);
	klen = strlen(key);
	room = sizeof(m->arena) - m->used - klen - 1;
	va_start(ap, fmt);
	n = vsnprintf(m->arena + m->used + klen + 1, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail(m, -EINVAL);
	if ((size_t)n >= room)
		return fail(m, -E2BIG);
	/* a %c of 0 would end the value early: measure what is there */
	res = finish_field(m, klen, strlen(m->arena + m->used + klen + 1));
	return res ? fail(m, res) : 0;
}

int mc_msg_add_u64(struct mc_msg *m, const char *key, uint64_t v)
{
	return mc_msg_addf(m, key, "%llu", (unsigned long long)v);
}

const char *mc_msg_get(const struct mc_msg *m, const char *key)
{
	int i;

	if (!key)
		return NULL;
	i = find(m, key, strlen(key));
	return i < 0 ? NULL : m->arena + m->field[i].val;
}

int mc_msg_get_u64(const struct mc_msg *m, const char *key, uint64_t *v)
{
	const char *s = mc_msg_get(m, key);
	unsigned int base = 10;
	uint64_t x = 0;

	if (!s)
		return -ENOENT;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d = mc_hexval(*s);

		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (x > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		x = x * base + (uint64_t)d;
	}
	*v = x;
	return 0;
}

unsigned int mc_msg_count(const struct mc_msg *m)
{
	return m->nfields;
}

const char *mc_msg_key(const struct mc_msg *m, unsigned int i)
{
	return i < m->nfields ? m->arena + m->field[i].key : NULL;
}

const char *mc_msg_val(const struct mc_msg *m, unsigned int i)
{
	return i < m->nfields ? m->arena + m->field[i].val : NULL;
}

long mc_msg_encode(const struct mc_msg *m, char *buf, size_t len)
{
	size_t pos = 0;

	if (m->error)
		return m->error;
	if (len < m->enc_len)
		return -ENOSPC;
	for (unsigned int i = 0; i < m->nfields; i++) {
		const char *k = m->arena + m->field[i].key;
		const unsigned char *v;
		size_t klen = strlen(k);

		memcpy(buf + pos, k, klen);
		pos += klen;
		buf[pos++] = '=';
		for (v = (const unsigned char *)m->arena + m->field[i].val; *v; v++) {
			if (needs_escape(*v)) {
				buf[pos++] = '%';
				buf[pos++] = hexdigits[*v >> 4];
				buf[pos++] = hexdigits[*v & 0xf];
			} else {
				buf[pos++] = (char)*v;
			}
		}
		buf[pos++] = '\n';
	}
	return (long)pos;
}

/*
 * Decode the value in [s, end) into dst (NUL-terminated); the number of
 * bytes written without the NUL, or -1 with *at set to the faulty offset.
 */
static long unescape(const char *s, const char *end, char *dst, size_t *at,
		     const char **why)
{
	size_t n = 0;

	for (const char *p = s; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			int hi = p + 1 < end ? mc_hexval(p[1]) : -1;
			int lo = p + 2 < end ? mc_hexval(p[2]) : -1;

			if (hi < 0 || lo < 0) {
				*at = (size_t)(p - s);
				*why = "bad escape (want %XX with two hex digits)";
				return -1;
			}
			if (hi == 0 && lo == 0) {
				*at = (size_t)(p - s);
				*why = "escaped NUL byte";
				return -1;
			}
			dst[n++] = (char)(hi << 4 | lo);
			p += 2;
		} else if (c < 0x20 || c == 0x7f) {
			*at = (size_t)(p - s);
			*why = "raw control byte (must be %-escaped)";
			return -1;
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return (long)n;
}

static int decode_line(struct mc_msg *m, const char *line, size_t len,
		       unsigned int lineno, char *err, size_t errlen)
{
	const char *eq = memchr(line, '=', len);
	const char *why = NULL;
	size_t klen, at = 0;
	char *dst;
	long vlen;

	if (!eq)
		return mc_errf(err, errlen, -EBADMSG, "line %u: missing '='", lineno);
	klen = (size_t)(eq - line);
	if (klen == 0 || klen >= MC_MSG_KEY_MAX || key_span(line, klen) != klen)
		return mc_errf(err, errlen, -EBADMSG,
			   "line %u: bad key (want 1-%d of [a-z0-9_.])",
			   lineno, MC_MSG_KEY_MAX - 1);
	if (find(m, line, klen) >= 0)
		return mc_errf(err, errlen, -EBADMSG, "line %u: duplicate key '%.*s'",
			   lineno, (int)klen, line);
	if (m->nfields == MC_MSG_FIELDS)
		return mc_errf(err, errlen, -EBADMSG, "line %u: more than %d fields",
			   lineno, MC_MSG_FIELDS);

	dst = m->arena + m->used;
	memcpy(dst, line, klen);
	dst[klen] = '\0';
	vlen = unescape(eq + 1, line + len, dst + klen + 1, &at, &why);
	if (vlen < 0)
		return mc_errf(err, errlen, -EBADMSG, "line %u: %s in the value of '%.*s' at byte %zu",
			   lineno, why, (int)klen, line, at);
	if (finish_field(m, klen, (size_t)vlen))
		return mc_errf(err, errlen, -EBADMSG, "line %u: message too big", lineno);
	return 0;
}

int mc_msg_decode(struct mc_msg *m, const char *buf, size_t len,
		  char *err, size_t errlen)
{
	unsigned int lineno = 0;
	size_t pos = 0;

	mc_msg_init(m);
	if (len > MC_MSG_MAX)
		return mc_errf(err, errlen, -EBADMSG, "message of %zu bytes is over the %d byte limit",
			   len, MC_MSG_MAX);
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		int res;

		lineno++;
		if (!nl) {
			mc_msg_wipe(m);
			return mc_errf(err, errlen, -EBADMSG, "line %u: no newline at the end",
				   lineno);
		}
		res = decode_line(m, line, (size_t)(nl - line), lineno, err, errlen);
		if (res) {
			/* the arena may hold part of a value past m->used */
			explicit_bzero(m->arena, pos + (size_t)(nl - line));
			mc_msg_init(m);
			return res;
		}
		pos += (size_t)(nl - line) + 1;
	}
	return 0;
}

int mc_msg_send(int fd, const struct mc_msg *m)
{
	char *buf;
	long len;
	ssize_t n;
	int res = 0;

	/* an empty packet would read as end of connection */
	if (!m->error && m->nfields == 0)
		return -EINVAL;
	buf = malloc(MC_MSG_MAX);
	if (!buf)
		return -ENOMEM;
	len = mc_msg_encode(m, buf, MC_MSG_MAX);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	do
		n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		res = -errno;
	else if (n != len)
		res = -EIO;	/* a packet socket sends all or nothing */
	explicit_bzero(buf, (size_t)len);
	free(buf);
	return res;
}

int mc_msg_recv(int fd, struct mc_msg *m, char *err, size_t errlen)
{
	/* one byte over the limit tells an oversized packet even without MSG_TRUNC */
	char *buf = malloc(MC_MSG_MAX + 1);
	struct iovec iov = { .iov_base = buf, .iov_len = MC_MSG_MAX + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int res;

	mc_msg_init(m);
	if (!buf)
		return -ENOMEM;
	do
		n = recvmsg(fd, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		res = -errno;
		snprintf(err, errlen, "receiving a control message: %s",
			 strerror(-res));
	} else if (n == 0) {
		res = -ECONNRESET;
		snprintf(err, errlen, "connection closed by the peer");
	} else if ((mh.msg_flags & MSG_TRUNC) || n > MC_MSG_MAX) {
		res = -EMSGSIZE;
		snprintf(err, errlen,
			 "control message of %zd bytes is over the %d byte limit",
			 n, MC_MSG_MAX);
	} else {
		res = mc_msg_decode(m, buf, (size_t)n, err, errlen);
	}
	if (n > 0)
		explicit_bzero(buf, n > MC_MSG_MAX ? MC_MSG_MAX + 1 : (size_t)n);
	free(buf);
	return res;
}
