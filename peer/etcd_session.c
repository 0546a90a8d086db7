// SPDX-License-Identifier: MIT
/*
 * See etcd_session.h. One unary request (grant, put, list) at a time, a
 * keepalive beside it, and the watch stream; every answer is parsed by
 * etcd.c and anything unexpected is a failure that is retried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_loop.h"
#include "errmsg.h"
#include "etcd.h"
#include "etcd_session.h"
#include "retry.h"

#define BODY_MAX	(64U << 20)	/* a list of 65,536 members fits */
/*
 * A request is given up after REQ_TIMEOUT_MS and sent again: each retry is
 * load on an etcd that is already slow, so this is long against etcd's
 * usual milliseconds. The member list comes in pages of LIST_PAGE members
 * (about 60 KiB of JSON) and a page waits up to LIST_TIMEOUT_MS: when a
 * whole group boots at once, etcd serves N lists of N members, and a page
 * queues behind the others. As single answers cut at 5 s, at 2,000 members
 * they were retried and sent again and etcd fell behind for good
 * (tools/bench/etcd-bench.sh: 28,728 failed requests, 137 s until all saw
 * all, 4 GiB resident in etcd).
 */
#define REQ_TIMEOUT_MS	10000
#define LIST_TIMEOUT_MS	60000
#define LIST_PAGE	500
#define CONNECT_MS	2000
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

enum kind { K_GRANT, K_PUT, K_LIST, K_KEEPALIVE, K_WATCH };

static const char *const kind_names[] = {
	[K_GRANT] = "lease grant", [K_PUT] = "member put", [K_LIST] = "member list",
	[K_KEEPALIVE] = "lease keepalive", [K_WATCH] = "watch",
};

struct req {
	struct mc_etcd_session *s;
	enum kind kind;
	CURL *e;
	char *body;
	size_t len, cap;
	bool aborted;			/* the write callback stopped it */
	char why[200];
};

struct mc_etcd_session {
	struct mc_loop *loop;
	struct mc_curl_loop *curl;
	char endpoint[MC_ETCD_URL_MAX];
	char prefix[MC_ETCD_PREFIX_MAX];
	unsigned int ttl_s;
	unsigned int list_page;
	struct mc_member me;
	const struct mc_etcd_session_ops *ops;
	void *arg;

	int64_t lease;
	bool registered, listed;
	struct mc_members ms;
	struct mc_members listing;	/* the pages so far */
	struct mc_etcd_page page;	/* the last page read; more: the list goes on */
	int64_t rev;			/* watch from here */
	struct mc_etcd_watch w;

	struct req *unary, *keep, *watch;
	struct mc_timer step_timer, keep_timer;
	unsigned int retries;		/* since etcd last answered */
	struct mc_rng rng;		/* the backoff's jitter */
	bool down;			/* said so in the log */
	struct mc_etcd_session_stats st;
};

static void say(struct mc_etcd_session *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct mc_etcd_session *s, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->ops->log(s->arg, level, msg);
}

static void req_free(struct req *q)
{
	if (!q)
		return;
	if (q->e)
		curl_easy_cleanup(q->e);
	free(q->body);
	free(q);
}

/* ---- sending ---- */

static void on_event(void *arg, const struct mc_node_id *id, const struct mc_member *m)
{
	struct mc_etcd_session *s = arg;

	s->st.events++;
	if (mc_members_apply(&s->ms, id, m) == 0)
		s->ops->members(s->arg, &s->ms);
}

static size_t on_body(char *data, size_t sz, size_t nm, void *arg)
{
	struct req *q = arg;
	struct mc_etcd_session *s = q->s;
	size_t n = sz * nm;
	char *p;

	if (q->kind == K_WATCH) {
		if (!mc_etcd_watch_feed(&s->w, data, n, on_event, s, q->why, sizeof(q->why)))
			return n;
		q->aborted = true;
		return 0;
	}
	if (n > BODY_MAX - q->len) {
		snprintf(q->why, sizeof(q->why), "answer larger than %u bytes", BODY_MAX);
		q->aborted = true;
		return 0;
	}
	if (q->len + n + 1 > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;

		while (cap < q->len + n + 1)
			cap *= 2;
		p = realloc(q->body, cap);
		if (!p) {
			snprintf(q->why, sizeof(q->why), "out of memory");
			q->aborted = true;
			return 0;
		}
		q->body = p;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, n);
	q->len += n;
	q->body[q->len] = 0;
	return n;
}

static const char *const paths[] = {
	[K_GRANT] = "/v3/lease/grant", [K_PUT] = "/v3/kv/put", [K_LIST] = "/v3/kv/range",
	[K_KEEPALIVE] = "/v3/lease/keepalive", [K_WATCH] = "/v3/watch",
};

/* Send one request with body json (taken). NULL when it could not start. */
static struct req *send_req(struct mc_etcd_session *s, enum kind kind, char *json)
{
	struct req *q = calloc(1, sizeof(*q));
	char url[MC_ETCD_URL_MAX + 32];

	if (!q || !json || !(q->e = curl_easy_init())) {
		free(json);
		req_free(q);
		return NULL;
	}
	q->s = s;
	q->kind = kind;
	snprintf(url, sizeof(url), "%s%s", s->endpoint, paths[kind]);
	curl_easy_setopt(q->e, CURLOPT_URL, url);
	curl_easy_setopt(q->e, CURLOPT_COPYPOSTFIELDS, json);
	curl_easy_setopt(q->e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(q->e, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->e, CURLOPT_PRIVATE, q);
	curl_easy_setopt(q->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	curl_easy_setopt(q->e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (kind == K_WATCH) {
		/* A stream with no end: a dead etcd is found by TCP keepalive. */
		curl_easy_setopt(q->e, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(q->e, CURLOPT_TCP_KEEPIDLE, 5L);
		curl_easy_setopt(q->e, CURLOPT_TCP_KEEPINTVL, 2L);
	} else if (kind == K_KEEPALIVE) {
		/* Past two thirds of the TTL the next one is due and the lease nearly gone. */
		curl_easy_setopt(q->e, CURLOPT_TIMEOUT_MS, (long)s->ttl_s * 2000 / 3);
	} else {
		curl_easy_setopt(q->e, CURLOPT_TIMEOUT_MS,
				 (long)(kind == K_LIST ? LIST_TIMEOUT_MS : REQ_TIMEOUT_MS));
	}
	free(json);
	if (mc_curl_loop_add(s->curl, q->e)) {
		req_free(q);
		return NULL;
	}
	return q;
}

/* ---- the steps ---- */

static void step(void *arg);

/* A request failed: said once per outage. */
static void note_down(struct mc_etcd_session *s, const char *what, const char *why)
{
	s->st.failures++;
	s->st.reachable = false;
	if (!s->down) {
		s->down = true;
		say(s, 1, "etcd at %s: %s failed (%s): keeping the membership last seen (%zu members), retrying",
		    s->endpoint, what, why, s->ms.n);
	}
}

static void retry_later(struct mc_etcd_session *s, const char *what, const char *why)
{
	/* Jittered: the members of a group that failed together do not retry together. */
	static const struct mc_retry_policy backoff = {
		.base_ms = BACKOFF_MIN_MS, .max_ms = BACKOFF_MAX_MS,
	};

	note_down(s, what, why);
	mc_timer_arm(s->loop, &s->step_timer, mc_retry_delay(&backoff, s->retries, &s->rng),
		     step, s);
	if (s->retries < 32)
		s->retries++;
}

static void answered(struct mc_etcd_session *s)
{
	s->st.reachable = true;
	s->retries = 0;
	if (s->down) {
		s->down = false;
		say(s, 2, "etcd at %s answers again", s->endpoint);
	}
}

static void step(void *arg)
{
	struct mc_etcd_session *s = arg;
	enum kind k;
	char *json;

	if (s->unary)
		return;
	if (!s->lease) {
		k = K_GRANT;
		json = mc_etcd_lease_grant_req(s->ttl_s);
	} else if (!s->registered) {
		k = K_PUT;
		json = mc_etcd_member_put_req(s->prefix, &s->me, s->lease);
	} else if (!s->listed) {
		k = K_LIST;
		if (!s->page.more)
			memset(&s->page, 0, sizeof(s->page));	/* a new list */
		json = mc_etcd_members_range_req(s->prefix, s->page.more ? &s->page : NULL,
						 s->list_page);
	} else {
		if (!s->watch) {
			mc_etcd_watch_free(&s->w);
			mc_etcd_watch_init(&s->w, s->prefix);
			s->watch = send_req(s, K_WATCH, mc_etcd_members_watch_req(s->prefix, s->rev));
			if (!s->watch)
				retry_later(s, kind_names[K_WATCH], "cannot start the request");
			else
				s->st.watches++;
		}
		return;
	}
	s->unary = send_req(s, k, json);
	if (!s->unary)
		retry_later(s, kind_names[k], "cannot start the request");
}

static void keepalive(void *arg)
{
	struct mc_etcd_session *s = arg;

	mc_timer_arm(s->loop, &s->keep_timer, s->ttl_s * 1000U / 3, keepalive, s);
	if (s->registered && !s->keep)
		s->keep = send_req(s, K_KEEPALIVE, mc_etcd_keepalive_req(s->lease));
}


/* The answer of a unary request or keepalive: 0, or -EPROTO with why. */
static int judge(struct req *q, CURLcode rc)
{
	long status = 0;

	if (q->aborted)
		return -EPROTO;
	if (rc != CURLE_OK) {
		snprintf(q->why, sizeof(q->why), "%s", curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(q->e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(q->why, sizeof(q->why), "HTTP %ld: %.120s", status, q->body ? q->body : "");
		return -EPROTO;
	}
	return 0;
}

/*
 * One page of the member list: the next is asked for, or the list is whole.
 * A page that did not come is asked for again; one etcd refused (its
 * revision compacted, most likely) or that does not parse starts the list
 * over.
 */
static int list_page_done(struct mc_etcd_session *s, struct req *q, int ret)
{
	if (!ret)
		ret = mc_etcd_members_parse(q->body, q->len, s->prefix, &s->listing, &s->page,
					    q->why, sizeof(q->why));
	if (ret) {
		if (ret != -EIO) {
			mc_members_free(&s->listing);
			memset(&s->page, 0, sizeof(s->page));
		}
		return ret;
	}
	s->st.pages++;
	s->st.skipped += s->page.skipped;
	if (s->page.more)
		return 0;
	mc_members_free(&s->ms);
	s->ms = s->listing;
	memset(&s->listing, 0, sizeof(s->listing));
	s->rev = s->page.revision + 1;	/* the first revision not listed */
	s->listed = true;
	s->st.lists++;
	s->ops->members(s->arg, &s->ms);
	return 0;
}

static void unary_done(struct mc_etcd_session *s, struct req *q, CURLcode rc)
{
	int64_t lease = 0, ttl = 0;
	int ret = judge(q, rc);

	s->unary = NULL;
	if (!ret && q->kind == K_GRANT) {
		ret = mc_etcd_lease_parse(q->body, q->len, &lease, &ttl, q->why, sizeof(q->why));
		if (!ret && (lease == 0 || ttl <= 0))
			ret = -EPROTO, snprintf(q->why, sizeof(q->why), "a grant with no lease");
		if (!ret) {
			s->lease = lease;
			s->st.lease = lease;
			s->st.grants++;
		}
	} else if (!ret && q->kind == K_PUT) {
		s->registered = true;
		s->st.registered = true;
		say(s, 2, "etcd at %s: registered under %s with lease %" PRIx64 " (TTL %u s)",
		    s->endpoint, s->prefix, (uint64_t)s->lease, s->ttl_s);
	} else if (q->kind == K_LIST) {
		ret = list_page_done(s, q, ret);
	}
	if (ret) {
		/* A put refused (its lease gone while etcd was away): a new lease. */
		if (q->kind == K_PUT)
			s->lease = 0;
		retry_later(s, kind_names[q->kind], q->why);
		return;
	}
	answered(s);
	step(s);
}

static void keepalive_done(struct mc_etcd_session *s, struct req *q, CURLcode rc)
{
	int64_t lease = 0, ttl = 0;
	int ret = judge(q, rc);

	s->keep = NULL;
	if (!ret)
		ret = mc_etcd_lease_parse(q->body, q->len, &lease, &ttl, q->why, sizeof(q->why));
	if (ret) {
		/* The lease may well be alive: etcd is only away. */
		note_down(s, kind_names[K_KEEPALIVE], q->why);
		return;
	}
	answered(s);
	s->st.keepalives++;
	if (ttl <= 0) {
		say(s, 1, "etcd at %s: lease %" PRIx64 " expired: registering again",
		    s->endpoint, (uint64_t)s->lease);
		s->lease = 0;
		s->registered = s->st.registered = false;
		step(s);
	}
}

static void watch_done(struct mc_etcd_session *s, struct req *q, CURLcode rc)
{
	s->watch = NULL;
	/* Ended, broken or cancelled by etcd: list again, then watch anew. */
	s->listed = false;
	retry_later(s, kind_names[K_WATCH], q->aborted ? q->why :
		    rc == CURLE_OK ? "the stream ended" : curl_easy_strerror(rc));
}

static void transfer_done(void *arg, CURL *e, CURLcode rc)
{
	struct mc_etcd_session *s = arg;
	struct req *q = NULL;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
	if (!q)
		return;
	if (q->kind == K_KEEPALIVE)
		keepalive_done(s, q, rc);
	else if (q->kind == K_WATCH)
		watch_done(s, q, rc);
	else
		unary_done(s, q, rc);
	req_free(q);
}

/* ---- the API ---- */

int mc_etcd_session_new(struct mc_etcd_session **out, struct mc_loop *loop,
			const struct mc_etcd_session_opts *o,
			const struct mc_etcd_session_ops *ops, void *arg,
			char *err, size_t errlen)
{
	struct mc_etcd_session *s;
	uint64_t seed;

	if (strncmp(o->endpoint, "http://", 7) && strncmp(o->endpoint, "https://", 8))
		return mc_errf(err, errlen, -EINVAL, "etcd endpoint '%s' is not an http:// or https:// URL",
			       o->endpoint);
	if (strlen(o->endpoint) >= MC_ETCD_URL_MAX || strlen(o->prefix) >= MC_ETCD_PREFIX_MAX - 64 ||
	    o->prefix[0] != '/')
		return mc_errf(err, errlen, -EINVAL, "etcd endpoint or prefix too long, or a prefix not starting with /");
	if (o->ttl_s < 2 || o->ttl_s > 600)
		return mc_errf(err, errlen, -EINVAL, "lease TTL %u s is out of range (2-600)", o->ttl_s);
	s = calloc(1, sizeof(*s));
	if (!s || mc_curl_loop_new(&s->curl, loop, 4, transfer_done, s)) {
		free(s);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	s->loop = loop;
	strcpy(s->endpoint, o->endpoint);
	strcpy(s->prefix, o->prefix);
	s->ttl_s = o->ttl_s;
	s->list_page = o->list_page ? o->list_page : LIST_PAGE;
	/* Each member its own draws: the id, and the time for one restarted. */
	memcpy(&seed, o->me.id.b, sizeof(seed));
	mc_rng_seed(&s->rng, seed ^ mc_now_ns());
	s->me = o->me;
	s->ops = ops;
	s->arg = arg;
	mc_etcd_watch_init(&s->w, s->prefix);
	mc_timer_arm(loop, &s->step_timer, 0, step, s);
	mc_timer_arm(loop, &s->keep_timer, s->ttl_s * 1000U / 3, keepalive, s);
	*out = s;
	return 0;
}

void mc_etcd_session_free(struct mc_etcd_session *s)
{
	struct req *qs[3];

	if (!s)
		return;
	qs[0] = s->unary;
	qs[1] = s->keep;
	qs[2] = s->watch;
	for (int i = 0; i < 3; i++) {
		if (qs[i])
			mc_curl_loop_remove(s->curl, qs[i]->e);
		req_free(qs[i]);
	}
	mc_timer_cancel(s->loop, &s->step_timer);
	mc_timer_cancel(s->loop, &s->keep_timer);
	mc_curl_loop_free(s->curl);
	mc_etcd_watch_free(&s->w);
	mc_members_free(&s->ms);
	mc_members_free(&s->listing);
	free(s);
}

void mc_etcd_session_stats(const struct mc_etcd_session *s, struct mc_etcd_session_stats *out)
{
	*out = s->st;
	out->skipped += s->w.skipped;
}
