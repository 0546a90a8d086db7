// SPDX-License-Identifier: MIT
/* See etcd.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "errmsg.h"
#include "etcd.h"

#define MEMBERS_DIR	"/members/"
#define KEY_MAX		MC_ETCD_KEY_MAX
_Static_assert(MC_ETCD_PREFIX_MAX + sizeof(MEMBERS_DIR) + 32 <= KEY_MAX,
	       "a member key fits");
#define VALUE_MAX	512
#define WATCH_BUF_MAX	(16U << 20)	/* one watch message, at most */

/* ---- base64 (etcd's keys and values) ---- */

static char *b64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Strict standard base64 into out (at most cap bytes); the length or -1. */
static long unb64(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s), pad = 0;
	unsigned char tmp[((KEY_MAX > VALUE_MAX ? KEY_MAX : VALUE_MAX) + 3) / 3 * 3 + 3];
	int got;

	if (n % 4 || n / 4 * 3 > sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	if (pad && s[n - 1] != '=')
		return -1;
	got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad || (size_t)got - pad > cap)
		return -1;
	memcpy(out, tmp, (size_t)got - pad);
	return (long)(got - (int)pad);
}

/* ---- requests ---- */

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static json_t *b64_string(const void *data, size_t len)
{
	char *s = b64(data, len);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

static json_t *i64_string(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

char *mc_etcd_lease_grant_req(unsigned int ttl_s)
{
	return dump(json_pack("{s:I}", "TTL", (json_int_t)ttl_s));
}

char *mc_etcd_keepalive_req(int64_t lease)
{
	return dump(json_pack("{s:o}", "ID", i64_string(lease)));
}

static int member_key(const char *prefix, const struct mc_node_id *id, char *out,
		      size_t len)
{
	char hex[33];

	mc_node_id_hex(id, hex);
	return snprintf(out, len, "%s" MEMBERS_DIR "%s", prefix, hex) < (int)len ? 0 : -1;
}

char *mc_etcd_member_put_req(const char *prefix, const struct mc_member *me,
			     int64_t lease)
{
	char key[KEY_MAX], addr[MC_MEMBER_ADDR_MAX + 10], *value;
	json_t *v;

	if (member_key(prefix, &me->id, key, sizeof(key)))
		return NULL;
	snprintf(addr, sizeof(addr), strchr(me->host, ':') ? "[%s]:%s" : "%s:%s",
		 me->host, me->port);
	v = json_pack("{s:s}", "addr", addr);
	if (v && me->region[0])
		json_object_set_new(v, "region", json_string(me->region));
	value = dump(v);
	if (!value)
		return NULL;
	v = json_pack("{s:o,s:o,s:o}", "key", b64_string(key, strlen(key)),
		      "value", b64_string(value, strlen(value)), "lease", i64_string(lease));
	free(value);
	return dump(v);
}

/* The range [PREFIX/members/, PREFIX/members0) as base64 strings in o. */
static json_t *members_range(const char *prefix, json_t *o)
{
	char from[KEY_MAX], to[KEY_MAX];
	size_t n;

	if (!o || snprintf(from, sizeof(from), "%s" MEMBERS_DIR, prefix) >= (int)sizeof(from)) {
		json_decref(o);
		return NULL;
	}
	strcpy(to, from);
	n = strlen(to);
	to[n - 1]++;		/* '/' + 1: just past every key under the directory */
	if (!json_object_get(o, "key"))
		json_object_set_new(o, "key", b64_string(from, strlen(from)));
	json_object_set_new(o, "range_end", b64_string(to, strlen(to)));
	return o;
}

char *mc_etcd_members_range_req(const char *prefix, const struct mc_etcd_page *prev,
				unsigned int limit)
{
	unsigned char after[KEY_MAX + 1];
	json_t *o = json_pack("{s:I,s:b}", "limit", (json_int_t)limit, "serializable", 1);

	if (o && prev) {
		/* The smallest key after the last one: the same with a 0 byte appended. */
		memcpy(after, prev->last, prev->last_len);
		after[prev->last_len] = 0;
		json_object_set_new(o, "key", b64_string(after, prev->last_len + 1));
		json_object_set_new(o, "revision", i64_string(prev->revision));
	}
	return dump(members_range(prefix, o));
}

char *mc_etcd_members_watch_req(const char *prefix, int64_t start_rev)
{
	json_t *r = members_range(prefix, json_pack("{s:o}", "start_revision",
						    i64_string(start_rev)));

	return dump(r ? json_pack("{s:o}", "create_request", r) : NULL);
}

/* ---- answers ---- */

/* A 64-bit number etcd sends as a string (or, leniently, a JSON integer). */
static int get_i64(json_t *o, const char *field, int64_t *v)
{
	json_t *j = json_object_get(o, field);
	const char *s;
	char *end;

	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	errno = 0;
	*v = strtoll(s, &end, 10);
	return (!*s || *end || errno) ? -1 : 0;
}

static json_t *parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);

	if (!o)
		mc_errf(err, errlen, -EPROTO, "etcd answered with JSON that does not parse: %s",
			je.text);
	else if (!json_is_object(o)) {
		json_decref(o);
		o = NULL;
		mc_errf(err, errlen, -EPROTO, "etcd answered with JSON that is not an object");
	}
	return o;
}

/* {"error": ...} or {"code": ..., "message": ...}: the gateway's errors. */
static int etcd_error(json_t *o, char *err, size_t errlen)
{
	json_t *e = json_object_get(o, "error");
	json_t *msg = json_object_get(json_is_object(e) ? e : o, "message");

	if (!e && !json_object_get(o, "code"))
		return 0;
	return mc_errf(err, errlen, -EPROTO, "etcd refused: %s",
		       json_is_string(msg) ? json_string_value(msg) :
		       json_is_string(e) ? json_string_value(e) : "(no message)");
}

int mc_etcd_lease_parse(const char *body, size_t len, int64_t *lease,
			int64_t *ttl, char *err, size_t errlen)
{
	json_t *o = parse(body, len, err, errlen), *r;
	int ret;

	if (!o)
		return -EPROTO;
	ret = etcd_error(o, err, errlen);
	/* keepalive wraps its answer in "result". */
	r = json_object_get(o, "result");
	if (!json_is_object(r))
		r = o;
	if (!ret && (get_i64(r, "ID", lease) || *lease <= 0))
		ret = mc_errf(err, errlen, -EPROTO, "etcd's lease answer has no lease ID");
	if (!ret && (get_i64(r, "TTL", ttl) || *ttl < 0))
		*ttl = 0;	/* an expired lease is answered without TTL */
	json_decref(o);
	return ret;
}

/* A member from an etcd key and value; 0 or -1 (not one). */
static int member_from_kv(const char *prefix, const char *key_b64, const char *val_b64,
			  struct mc_node_id *id, struct mc_member *m)
{
	unsigned char key[KEY_MAX + 1], val[VALUE_MAX + 1];
	size_t plen = strlen(prefix) + sizeof(MEMBERS_DIR) - 1;
	json_t *v, *addr, *region;
	long kn, vn;
	int ret = -1;

	kn = unb64(key_b64, key, KEY_MAX);
	if (kn < 0 || (size_t)kn != plen + 32 || memcmp(key, prefix, strlen(prefix)) ||
	    memcmp(key + strlen(prefix), MEMBERS_DIR, sizeof(MEMBERS_DIR) - 1) ||
	    mc_node_id_parse((const char *)key + plen, 32, id))
		return -1;
	if (!m)
		return 0;	/* a delete names only the key */
	memset(m, 0, sizeof(*m));
	m->id = *id;
	vn = val_b64 ? unb64(val_b64, val, VALUE_MAX) : -1;
	if (vn <= 0)
		return -1;
	v = json_loadb((const char *)val, (size_t)vn, 0, NULL);
	addr = json_object_get(v, "addr");
	region = json_object_get(v, "region");
	if (json_is_object(v) && json_is_string(addr) &&
	    !mc_member_parse_addr(json_string_value(addr), m) &&
	    (!region || (json_is_string(region) && mc_member_region_ok(json_string_value(region))))) {
		if (region)
			snprintf(m->region, sizeof(m->region), "%s", json_string_value(region));
		ret = 0;
	}
	json_decref(v);
	return ret;
}

static int str_of(json_t *o, const char *field, const char **out)
{
	json_t *j = json_object_get(o, field);

	*out = json_is_string(j) ? json_string_value(j) : NULL;
	return *out ? 0 : -1;
}

/*
 * The last key of a page is where the next starts: it must be in the range
 * asked for and after the last key of the page before, or a list could go
 * round for ever on answers that do not move on.
 */
static int page_moves_on(struct mc_etcd_page *page, const char *prefix,
			 const unsigned char *last, size_t n, char *err, size_t errlen)
{
	size_t plen = strlen(prefix), dlen = sizeof(MEMBERS_DIR) - 1;
	size_t common = n < page->last_len ? n : page->last_len;
	int cmp = memcmp(last, page->last, common);

	if (n <= plen + dlen || memcmp(last, prefix, plen) || memcmp(last + plen, MEMBERS_DIR, dlen))
		return mc_errf(err, errlen, -EPROTO,
			       "etcd's range answer has a key outside %s" MEMBERS_DIR, prefix);
	if (page->last_len && (cmp < 0 || (cmp == 0 && n <= page->last_len)))
		return mc_errf(err, errlen, -EPROTO,
			       "etcd's range answer does not move on from the page before");
	memcpy(page->last, last, n);
	page->last_len = n;
	return 0;
}

int mc_etcd_members_parse(const char *body, size_t len, const char *prefix,
			  struct mc_members *acc, struct mc_etcd_page *page,
			  char *err, size_t errlen)
{
	json_t *o = parse(body, len, err, errlen), *kvs, *kv, *more;
	struct mc_members ms = { 0 };
	struct mc_node_id id;
	struct mc_member m;
	unsigned char last[sizeof(page->last)];
	const char *k, *v = NULL;
	int64_t rev;
	long last_len;
	size_t i;
	int ret;

	page->skipped = 0;
	if (!o)
		return -EPROTO;
	ret = etcd_error(o, err, errlen);
	if (!ret && (get_i64(json_object_get(o, "header"), "revision", &rev) || rev <= 0))
		ret = mc_errf(err, errlen, -EPROTO, "etcd's range answer has no revision");
	if (!ret && !page->revision)
		page->revision = rev;	/* a first page: the list's snapshot */
	kvs = json_object_get(o, "kvs");
	more = json_object_get(o, "more");
	if (!ret && kvs && !json_is_array(kvs))
		ret = mc_errf(err, errlen, -EPROTO, "etcd's range answer: kvs is not a list");
	if (!ret && more && !json_is_boolean(more))
		ret = mc_errf(err, errlen, -EPROTO, "etcd's range answer: more is not true or false");
	page->more = json_is_true(more);
	if (!ret && page->more && !json_array_size(kvs))
		ret = mc_errf(err, errlen, -EPROTO, "etcd's range answer has more keys after none");
	json_array_foreach(kvs, i, kv) {
		if (ret)
			break;
		if (str_of(kv, "key", &k)) {
			ret = mc_errf(err, errlen, -EPROTO, "etcd's range answer: an entry without a key");
			break;
		}
		if (i == json_array_size(kvs) - 1) {
			/* Where the next page starts: a key too long to hold stops the list. */
			last_len = unb64(k, last, sizeof(last));
			if (last_len < 0) {
				ret = mc_errf(err, errlen, -EPROTO, "etcd holds a key under %s" MEMBERS_DIR
					      " that is not base64 or longer than %d bytes: remove it",
					      prefix, KEY_MAX);
				break;
			}
			ret = page_moves_on(page, prefix, last, (size_t)last_len, err, errlen);
			if (ret)
				break;
		}
		if (str_of(kv, "value", &v) || member_from_kv(prefix, k, v, &id, &m)) {
			page->skipped++;
			continue;
		}
		if (mc_members_apply(&ms, &id, &m))
			ret = mc_errf(err, errlen, -ENOMEM, "the member list does not fit");
	}
	json_decref(o);
	for (i = 0; !ret && i < ms.n; i++)
		if (mc_members_apply(acc, &ms.m[i].id, &ms.m[i]))
			ret = mc_errf(err, errlen, -ENOMEM, "the member list does not fit (%zu members)",
				      acc->n);
	mc_members_free(&ms);
	return ret;
}

/* ---- watch ---- */

void mc_etcd_watch_init(struct mc_etcd_watch *w, const char *prefix)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->prefix, sizeof(w->prefix), "%s", prefix);
}

void mc_etcd_watch_free(struct mc_etcd_watch *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static int watch_message(struct mc_etcd_watch *w, json_t *o, mc_etcd_event_cb cb,
			 void *arg, char *err, size_t errlen)
{
	json_t *r = json_object_get(o, "result"), *events, *ev;
	struct mc_node_id id;
	struct mc_member m;
	const char *type, *k, *v;
	int64_t rev;
	size_t i;
	int ret = etcd_error(o, err, errlen);

	if (ret)
		return ret;
	if (!json_is_object(r))
		return mc_errf(err, errlen, -EPROTO, "etcd's watch sent a message without result");
	if (json_is_true(json_object_get(r, "canceled")))
		return mc_errf(err, errlen, -EPROTO, "etcd cancelled the watch%s",
			       json_object_get(r, "compact_revision") ?
			       " (compacted): list and watch again" : "");
	events = json_object_get(r, "events");
	if (events && !json_is_array(events))
		return mc_errf(err, errlen, -EPROTO, "etcd's watch: events is not a list");
	json_array_foreach(events, i, ev) {
		json_t *kv = json_object_get(ev, "kv");
		bool del;

		if (str_of(ev, "type", &type))
			type = "PUT";	/* the default value is left out */
		del = !strcmp(type, "DELETE");
		if ((!del && strcmp(type, "PUT")) || str_of(kv, "key", &k)) {
			w->skipped++;
			continue;
		}
		if (!get_i64(kv, "mod_revision", &rev) && rev > w->revision)
			w->revision = rev;
		if (del) {
			if (member_from_kv(w->prefix, k, NULL, &id, NULL))
				w->skipped++;
			else
				cb(arg, &id, NULL);
			continue;
		}
		if (str_of(kv, "value", &v) || member_from_kv(w->prefix, k, v, &id, &m))
			w->skipped++;
		else
			cb(arg, &id, &m);
	}
	return 0;
}

int mc_etcd_watch_feed(struct mc_etcd_watch *w, const char *data, size_t len,
		       mc_etcd_event_cb cb, void *arg, char *err, size_t errlen)
{
	size_t off = 0;
	int ret = 0;

	/* Nothing new (and no buffer yet, maybe): nothing to look at. */
	if (!len)
		return 0;
	if (w->len + len > WATCH_BUF_MAX)
		return mc_errf(err, errlen, -EPROTO, "etcd's watch sent a message over %u bytes",
			       WATCH_BUF_MAX);
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *nb;

		while (cap < w->len + len)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb)
			return mc_errf(err, errlen, -ENOMEM, "out of memory");
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	/* The gateway ends every message of a stream with a newline. */
	while (!ret) {
		char *nl = memchr(w->buf + off, '\n', w->len - off);
		json_error_t je;
		json_t *o;
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - (w->buf + off));
		if (strspn(w->buf + off, " \t\r") >= n) {
			off += n + 1;	/* a blank line */
			continue;
		}
		o = json_loadb(w->buf + off, n, 0, &je);
		off += n + 1;
		if (!o) {
			ret = mc_errf(err, errlen, -EPROTO,
				      "etcd's watch sent JSON that does not parse: %s", je.text);
			break;
		}
		ret = json_is_object(o) ? watch_message(w, o, cb, arg, err, errlen) :
		      mc_errf(err, errlen, -EPROTO, "etcd's watch sent JSON that is not an object");
		json_decref(o);
	}
	memmove(w->buf, w->buf + off, w->len - off);
	w->len -= off;
	return ret;
}

/* ---- membership updates ---- */

static int id_cmp(const struct mc_node_id *a, const struct mc_node_id *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

int mc_members_apply(struct mc_members *ms, const struct mc_node_id *id,
		     const struct mc_member *m)
{
	size_t lo = 0, hi = ms->n;
	struct mc_member *grown;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (id_cmp(&ms->m[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ms->n && !id_cmp(&ms->m[lo].id, id)) {
		if (m)
			ms->m[lo] = *m;
		else
			memmove(&ms->m[lo], &ms->m[lo + 1], (--ms->n - lo) * sizeof(*ms->m));
		return 0;
	}
	if (!m)
		return 0;
	if (ms->n == MC_MEMBERS_MAX)
		return -E2BIG;
	grown = realloc(ms->m, (ms->n + 1) * sizeof(*ms->m));
	if (!grown)
		return -ENOMEM;
	ms->m = grown;
	memmove(&ms->m[lo + 1], &ms->m[lo], (ms->n - lo) * sizeof(*ms->m));
	ms->m[lo] = *m;
	ms->n++;
	return 0;
}
