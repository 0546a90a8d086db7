// SPDX-License-Identifier: MIT
/*
 * peer/etcd.c against a real etcd (tests/etcd/run.sh starts one): a member
 * registers under a lease, is listed, keeps its lease alive; a watcher sees
 * a second member join and leave, and the first one's key go when its lease
 * is left to expire. Plain libcurl here; the daemon drives the same JSON
 * from its event loop. One PASS or FAIL line per check.
 *
 *   etcd-client-test http://127.0.0.1:PORT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "check_line.h"
#include "etcd.h"

#define PREFIX "/maicache/test-group"
#define PAGED "/maicache/test-paged"

static const char *base;

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(true, ok, name, fmt, ap);
	va_end(ap);
}

struct buf {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	char *p = realloc(b->p, b->n + sz * nm + 1);

	if (!p)
		return 0;
	memcpy(p + b->n, data, sz * nm);
	b->p = p;
	b->n += sz * nm;
	p[b->n] = 0;
	return sz * nm;
}

/* POST body to base + path; the answer in out (free it). */
static int post(const char *path, char *body, struct buf *out)
{
	CURL *c = curl_easy_init();
	char url[256];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	free(body);
	return rc == CURLE_OK && out->p ? 0 : -EIO;
}

static struct mc_member member(const char *hex, const char *addr)
{
	struct mc_member m = { 0 };

	mc_node_id_parse(hex, 32, &m.id);
	mc_member_parse_addr(addr, &m);
	strcpy(m.region, "local");
	return m;
}

#define WATCH_GONE_MAX 8

struct watch {
	struct mc_etcd_watch w;
	struct mc_members ms;
	int puts, dels, errors;
	struct mc_node_id gone[WATCH_GONE_MAX];	/* the first deletes, in order */
	char err[256];
};

static void on_event(void *arg, const struct mc_node_id *id, const struct mc_member *m)
{
	struct watch *wa = arg;

	if (m)
		wa->puts++;
	else if (wa->dels++ < WATCH_GONE_MAX)
		wa->gone[wa->dels - 1] = *id;
	mc_members_apply(&wa->ms, id, m);
}

/* The watch saw the key of id deleted. */
static bool saw_gone(const struct watch *wa, const struct mc_node_id *id)
{
	int i;

	for (i = 0; i < wa->dels && i < WATCH_GONE_MAX; i++)
		if (!memcmp(&wa->gone[i], id, sizeof(*id)))
			return true;
	return false;
}

static size_t watch_data(char *data, size_t sz, size_t nm, void *arg)
{
	struct watch *wa = arg;

	if (mc_etcd_watch_feed(&wa->w, data, sz * nm, on_event, wa, wa->err, sizeof(wa->err)))
		wa->errors++;
	return sz * nm;
}

/* Drive the watch until cond or seconds pass. */
#define PUMP(m, secs, cond) do {					\
	time_t end_ = time(NULL) + (secs);				\
	int running_;							\
	while (!(cond) && time(NULL) < end_) {				\
		curl_multi_perform((m), &running_);			\
		curl_multi_poll((m), NULL, 0, 100, NULL);		\
	}								\
} while (0)

static bool put(const char *prefix, const struct mc_member *m, int64_t lease)
{
	struct buf r;
	bool ok = !post("/v3/kv/put", mc_etcd_member_put_req(prefix, m, lease), &r) &&
		  !strstr(r.p, "error");

	free(ok ? r.p : NULL);
	return ok;
}

/* One page of PAGED after prev into ms; the page's place into page. */
static bool list_page(const struct mc_etcd_page *prev, unsigned int limit,
		      struct mc_members *ms, struct mc_etcd_page *page)
{
	char err[256];
	struct buf r;
	bool ok = !post("/v3/kv/range", mc_etcd_members_range_req(PAGED, prev, limit), &r) &&
		  !mc_etcd_members_parse(r.p, r.n, PAGED, ms, page, err, sizeof(err));

	if (!ok)
		fprintf(stderr, "etcd-client-test: a page of the list: %s\n", err);
	free(r.p);
	return ok;
}

/* The list in pages of one member: one snapshot, whatever is put between pages. */
static void list_in_pages(const struct mc_member *a, int64_t lease)
{
	struct mc_member c = member("1c00000000000000000000000000000c", "127.0.0.1:7119");
	struct mc_member d = member("2d00000000000000000000000000000d", "127.0.0.1:7120");
	struct mc_members ms = { 0 }, now = { 0 };
	struct mc_etcd_page first = { 0 }, second, all = { 0 };
	bool ok = put(PAGED, a, lease) && put(PAGED, &c, lease);

	ok = ok && list_page(NULL, 1, &ms, &first);
	check(ok && ms.n == 1 && first.more && !strcmp(ms.m[0].port, "7119"),
	      "a first page of one member says that more follow", "%zu members", ms.n);
	second = first;
	ok = ok && put(PAGED, &d, lease) && list_page(&first, 1, &ms, &second);
	check(ok && ms.n == 2 && !second.more && second.revision == first.revision &&
	      !strcmp(ms.m[1].port, "7117"),
	      "the next page comes from the same revision: a member put since is not in it",
	      "%zu members, more %d", ms.n, second.more);
	ok = ok && list_page(NULL, 500, &now, &all);
	check(ok && now.n == 3 && all.revision > first.revision,
	      "a new list has the member put since", "%zu members", now.n);
	mc_members_free(&ms);
	mc_members_free(&now);
}

int main(int argc, char **argv)
{
	struct mc_member a = member("3f9a1c0e5b7d2468ace0135792468ace", "127.0.0.1:7117");
	struct mc_member b = member("0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "127.0.0.1:7118");
	struct mc_members ms = { 0 };
	struct watch wa = { 0 };
	int64_t lease, ttl, rev, lease_b, ttl_b;
	struct mc_etcd_page page;
	char err[256], url[256];
	struct buf r;
	CURLM *multi;
	CURL *wh;
	int ok;

	if (argc != 2) {
		fprintf(stderr, "usage: %s http://127.0.0.1:PORT\n", argv[0]);
		return 2;
	}
	base = argv[1];
	curl_global_init(CURL_GLOBAL_DEFAULT);

	ok = !post("/v3/lease/grant", mc_etcd_lease_grant_req(2), &r) &&
	     !mc_etcd_lease_parse(r.p, r.n, &lease, &ttl, err, sizeof(err));
	check(ok && ttl == 2, "lease granted", "%s", ok ? r.p : err);
	free(r.p);
	ok = !post("/v3/kv/put", mc_etcd_member_put_req(PREFIX, &a, lease), &r);
	check(ok && !strstr(r.p, "error"), "member registered under its lease", "%s", r.p);
	free(r.p);
	memset(&page, 0, sizeof(page));
	ok = !post("/v3/kv/range", mc_etcd_members_range_req(PREFIX, NULL, 500), &r) &&
	     !mc_etcd_members_parse(r.p, r.n, PREFIX, &ms, &page, err, sizeof(err));
	rev = page.revision;
	check(ok && ms.n == 1 && !strcmp(ms.m[0].port, "7117") && !strcmp(ms.m[0].region, "local") &&
	      !page.more && !page.skipped, "the member is listed", "%s", ok ? r.p : err);
	free(r.p);
	list_in_pages(&a, lease);
	ok = !post("/v3/lease/keepalive", mc_etcd_keepalive_req(lease), &r) &&
	     !mc_etcd_lease_parse(r.p, r.n, &lease, &ttl, err, sizeof(err));
	check(ok && ttl == 2, "keepalive renews the lease", "%s", ok ? r.p : err);
	free(r.p);

	/* The watch from the listed revision on. */
	mc_etcd_watch_init(&wa.w, PREFIX);
	multi = curl_multi_init();
	wh = curl_easy_init();
	snprintf(url, sizeof(url), "%s/v3/watch", base);
	char *wreq = mc_etcd_members_watch_req(PREFIX, rev + 1);

	curl_easy_setopt(wh, CURLOPT_URL, url);
	curl_easy_setopt(wh, CURLOPT_POSTFIELDS, wreq);
	curl_easy_setopt(wh, CURLOPT_WRITEFUNCTION, watch_data);
	curl_easy_setopt(wh, CURLOPT_WRITEDATA, &wa);
	curl_multi_add_handle(multi, wh);
	PUMP(multi, 2, 0);

	ok = !post("/v3/lease/grant", mc_etcd_lease_grant_req(30), &r) &&
	     !mc_etcd_lease_parse(r.p, r.n, &lease_b, &ttl_b, err, sizeof(err));
	free(r.p);
	ok = ok && !post("/v3/kv/put", mc_etcd_member_put_req(PREFIX, &b, lease_b), &r);
	free(ok ? r.p : NULL);
	PUMP(multi, 5, wa.puts >= 1);
	check(wa.puts == 1 && wa.ms.n == 1 && !strcmp(wa.ms.m[0].port, "7118"),
	      "the watch sees a member join", "%d puts, %zu members", wa.puts, wa.ms.n);
	ok = !post("/v3/lease/revoke", strdup("{\"ID\":\"0\"}"), &r);
	free(ok ? r.p : NULL);
	{
		char body[64];

		snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", (long long)lease_b);
		ok = !post("/v3/lease/revoke", strdup(body), &r);
		free(ok ? r.p : NULL);
	}
	/*
	 * By the member, not by the count: on a loaded host a's lease (2 s,
	 * not kept alive from here) may run out in the same pump, and the
	 * watch then sees both deletes at once.
	 */
	PUMP(multi, 5, saw_gone(&wa, &b.id));
	check(saw_gone(&wa, &b.id) && wa.ms.n == 0, "a revoked lease: the member leaves",
	      "%d deletes, %zu members", wa.dels, wa.ms.n);
	/* Member a's lease (2 s) is no longer kept alive: it expires. */
	PUMP(multi, 10, saw_gone(&wa, &a.id));
	check(saw_gone(&wa, &a.id) && wa.dels == 2, "an expired lease: its member leaves",
	      "%d deletes", wa.dels);
	ok = !post("/v3/lease/keepalive", mc_etcd_keepalive_req(lease), &r) &&
	     !mc_etcd_lease_parse(r.p, r.n, &lease, &ttl, err, sizeof(err));
	check(ok && ttl == 0, "keepalive of an expired lease says so (TTL 0)", "%s", ok ? r.p : err);
	free(r.p);
	check(!wa.errors && wa.w.skipped == 0, "the watch stream parsed cleanly", "%s", wa.err);

	curl_multi_remove_handle(multi, wh);
	curl_easy_cleanup(wh);
	curl_multi_cleanup(multi);
	free(wreq);
	mc_etcd_watch_free(&wa.w);
	mc_members_free(&wa.ms);
	mc_members_free(&ms);
	curl_global_cleanup();
	printf("%d failed\n", failures);
	return failures ? 1 : 0;
}
