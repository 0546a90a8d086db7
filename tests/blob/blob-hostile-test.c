// SPDX-License-Identifier: MIT
/*
 * The blob client (azure/blob.c) through tests/blob/hostile-proxy.py, which
 * spoils Azurite's answers one fault at a time:
 *
 *   blob-hostile-test AZURITE_PORT PROXY_PORT [ENGINE]
 *
 * One case per fault: a reset or cut-short body, a lying Content-Length or
 * Content-Range, a body dripped slower than the deadline, 503 and 500
 * storms with and without Retry-After, a flipped byte, a dropped
 * Content-MD5. Each asserts the outcome (the blob's bytes, or the error,
 * within the deadline), how many GETs reached the proxy, the client's
 * retry and corrupt counters, and for Retry-After the time between the 503
 * and the next attempt as the proxy saw it. Prints PASS/FAIL per check;
 * exits 1 on any failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "az_sign.h"
#include "blob-put.h"
#include "blob-test.h"
#include "blob.h"
#include "loop.h"

#define CONTAINER "maicache-hostile"
#define BLOB_SIZE ((size_t)(5u << 20) + 12345)
#define READ_OFF 12345u
#define READ_LEN ((size_t)1u << 20)

static struct mc_loop *loop;
static char proxy_base[64];
static unsigned char *data, *buf;
static unsigned char key[64];

/* ---- the proxy's control ---- */

struct text {
	char s[16384];
	size_t n;
};

static size_t take(char *p, size_t size, size_t nmemb, void *arg)
{
	struct text *t = arg;
	size_t n = size * nmemb, room = sizeof(t->s) - 1 - t->n;

	if (n > room)
		n = room;
	memcpy(t->s + t->n, p, n);
	t->n += n;
	t->s[t->n] = '\0';
	return size * nmemb;
}

static bool control(const char *path, struct text *out)
{
	char url[512];
	long status = 0;
	CURL *e = curl_easy_init();
	CURLcode rc;

	out->n = 0;
	out->s[0] = '\0';
	snprintf(url, sizeof(url), "%s/_proxy/%s", proxy_base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	return rc == CURLE_OK && status == 200;
}

/* Clear the proxy's counters and give it the faults of the next GETs. */
static void plan(const char *faults, bool sticky)
{
	char path[256];
	struct text t;

	snprintf(path, sizeof(path), "reset");
	if (!control(path, &t)) {
		check(false, "proxy reset", NULL);
		exit(1);
	}
	snprintf(path, sizeof(path), "plan?f=%s&sticky=%d", faults, sticky);
	if (!control(path, &t)) {
		check(false, "proxy plan", "%s", faults);
		exit(1);
	}
}

struct proxy_get {
	char fault[32];
	double arrived, answered;
};

/* The GETs the proxy saw since the last plan(); their number. */
static int proxy_gets(struct proxy_get *g, int max)
{
	struct text t;
	char *line, *save = NULL;
	int n = 0;

	if (!control("stats", &t))
		return -1;
	for (line = strtok_r(t.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct proxy_get x;

		if (sscanf(line, "get %31s %lf %lf", x.fault, &x.arrived, &x.answered) == 3) {
			if (n < max)
				g[n] = x;
			n++;
		}
	}
	return n;
}

/* ---- the client ---- */

struct op {
	bool done;
	int res;
	char msg[512];
	struct mc_blob_props props;
};

static void read_cb(void *arg, int res, const char *msg)
{
	struct op *o = arg;

	o->done = true;
	o->res = res;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static void props_cb(void *arg, int res, const struct mc_blob_props *p,
		     const char *msg)
{
	struct op *o = arg;

	o->done = true;
	o->res = res;
	if (p)
		o->props = *p;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static bool wait_op(struct op *o, uint64_t timeout_ms)
{
	uint64_t end = mc_now_ms() + timeout_ms;

	while (!o->done) {
		if (mc_now_ms() > end)
			return false;
		mc_loop_run_once(loop, 100);
	}
	return true;
}

struct setup {
	unsigned int retries;
	uint64_t req_ms, deadline_ms;
	bool no_md5;			/* verify_md5 off */
};

struct run {
	struct mc_blob_client *c;
	struct mc_blob *b;
	struct op o;
	int res;
	uint64_t ms;			/* the read, start to callback */
	struct mc_blob_stats st;
	int gets;			/* as the proxy counted them */
	struct proxy_get g[16];
};

static void close_run(struct run *r)
{
	mc_blob_close(r->b);
	mc_blob_client_free(r->c);
}

/* A client and a pinned blob through the proxy. */
static bool open_run(struct run *r, const struct setup *s)
{
	struct az_cred cr = { .kind = AZ_AUTH_SHARED_KEY, .key_len = 64 };
	struct mc_blob_opts o;
	char url[512], err[512];

	memset(r, 0, sizeof(*r));
	mc_blob_opts_default(&o);
	o.max_parallel = 2;
	o.max_retries = s->retries;
	o.backoff_base_ms = 50;
	o.backoff_max_ms = 200;
	o.request_timeout_ms = s->req_ms;
	o.deadline_ms = s->deadline_ms;
	o.verify_md5 = !s->no_md5;
	strcpy(cr.account, DEV_ACCOUNT);
	memcpy(cr.key, key, 64);
	if (mc_blob_client_new(&r->c, loop, &o, err, sizeof(err))) {
		check(false, "client", "%s", err);
		return false;
	}
	snprintf(url, sizeof(url), "%s/" DEV_ACCOUNT "/" CONTAINER "/data/one.bin",
		 proxy_base);
	if (mc_blob_open(r->c, url, &cr, &r->b, err, sizeof(err))) {
		check(false, "open", "%s", err);
		return false;
	}
	/* HEADs always pass the proxy. */
	if (mc_blob_get_props(r->b, props_cb, &r->o) || !wait_op(&r->o, 10000) ||
	    r->o.res || r->o.props.size != BLOB_SIZE) {
		check(false, "properties through the proxy", "res %d %s", r->o.res, r->o.msg);
		return false;
	}
	mc_blob_pin(r->b, &r->o.props);
	return true;
}


/* Read [off, off + len) under the faults of plan; fills r. */
static void read_run(struct run *r, const struct setup *s, const char *faults,
		     bool sticky, uint64_t off, size_t len)
{
	uint64_t t0;

	if (!open_run(r, s)) {
		if (r->c)
			close_run(r);
		r->res = 1;
		return;
	}
	plan(faults, sticky);
	memset(buf, 0x5a, len);
	memset(&r->o, 0, sizeof(r->o));
	t0 = mc_now_ms();
	if (mc_blob_read(r->b, off, buf, len, read_cb, &r->o))
		r->o.res = -EINVAL;
	else if (!wait_op(&r->o, s->deadline_ms + 10000))
		r->o.res = -EINTR;
	r->ms = mc_now_ms() - t0;
	r->res = r->o.res;
	mc_blob_stats(r->b, &r->st);
	r->gets = proxy_gets(r->g, 16);
	close_run(r);
}

static bool same(uint64_t off, size_t len)
{
	return !memcmp(buf, data + off, len);
}

static const struct setup normal = { .retries = 3, .req_ms = 3000, .deadline_ms = 8000 };

/* A fault on the first answer only: retried once, the right bytes. */
static void once(const char *fault, bool corrupt)
{
	char name[128];
	struct run r;

	snprintf(name, sizeof(name), "%s once -> one retry, the blob's bytes", fault);
	read_run(&r, &normal, fault, false, READ_OFF, READ_LEN);
	check(r.res == 0 && same(READ_OFF, READ_LEN) && r.gets == 2 &&
	      r.st.retries == 1 && r.st.corrupt == (corrupt ? 1 : 0) &&
	      r.st.unverified == 0,
	      name, "res %d gets %d (%s, %s, %s) retries %llu corrupt %llu unverified %llu in %llu ms %s",
	      r.res, r.gets, r.gets > 0 ? r.g[0].fault : "-", r.gets > 1 ? r.g[1].fault : "-",
	      r.gets > 2 ? r.g[2].fault : "-", (unsigned long long)r.st.retries,
	      (unsigned long long)r.st.corrupt, (unsigned long long)r.st.unverified,
	      (unsigned long long)r.ms, r.o.msg);
}

/* A fault on every answer: the error after all retries, no good data. */
static void always(const char *fault, int want, bool corrupt)
{
	char name[128];
	struct run r;

	snprintf(name, sizeof(name), "%s always -> %s after %u retries", fault,
		 want == -EIO ? "-EIO" : "error", normal.retries);
	read_run(&r, &normal, fault, true, READ_OFF, READ_LEN);
	check(r.res == want && r.gets == (int)normal.retries + 1 &&
	      r.st.retries == normal.retries && r.st.errors == 1 &&
	      r.st.corrupt == (corrupt ? normal.retries + 1 : 0) &&
	      r.ms < normal.deadline_ms,
	      name, "res %d gets %d retries %llu corrupt %llu in %llu ms %s", r.res,
	      r.gets, (unsigned long long)r.st.retries, (unsigned long long)r.st.corrupt,
	      (unsigned long long)r.ms, r.o.msg);
}

/* A lie about the range: a protocol break, failed at once. */
static void range_lie(const char *fault)
{
	char name[128];
	struct run r;

	snprintf(name, sizeof(name), "%s -> -EPROTO at once, no retry", fault);
	read_run(&r, &normal, fault, false, READ_OFF, READ_LEN);
	check(r.res == -EPROTO && r.gets == 1 && r.st.retries == 0, name,
	      "res %d gets %d retries %llu %s", r.res, r.gets,
	      (unsigned long long)r.st.retries, r.o.msg);
}

static void test_drip(void)
{
	const struct setup s = { .retries = 5, .req_ms = 800, .deadline_ms = 2000 };
	struct run r;

	read_run(&r, &s, "drip:100", true, READ_OFF, 4096);
	check(r.res == -ETIMEDOUT && r.gets >= 2 && r.ms >= s.deadline_ms - 100 &&
	      r.ms <= s.deadline_ms + 500 && r.st.errors == 1,
	      "body dripped slower than the deadline -> -ETIMEDOUT at the deadline",
	      "res %d gets %d in %llu ms (deadline %llu) %s", r.res, r.gets,
	      (unsigned long long)r.ms, (unsigned long long)s.deadline_ms, r.o.msg);
}

/* Three 503s (or 500s) and then the answer: three retries. */
static void test_storm(const char *status)
{
	char faults[64], name[128];
	struct run r;

	snprintf(faults, sizeof(faults), "%s,%s,%s", status, status, status);
	snprintf(name, sizeof(name), "storm of three %s -> three retries, the blob's bytes",
		 status);
	read_run(&r, &normal, faults, false, READ_OFF, READ_LEN);
	check(r.res == 0 && same(READ_OFF, READ_LEN) && r.gets == 4 &&
	      r.st.retries == 3, name, "res %d gets %d retries %llu %s", r.res,
	      r.gets, (unsigned long long)r.st.retries, r.o.msg);
}

/*
 * Retry-After: 1 on a 503: the next attempt comes no sooner than 1 s after
 * the 503 went out (the client's own backoff here is 25..50 ms), and not
 * much later. The proxy stamps "answered" once its write of the 503 has
 * returned, which may be a little after the client had the answer and
 * started its wait: 998 ms was seen on a loaded host. A few ms of that
 * skew are allowed, nowhere near the backoff the client would use alone.
 */
#define PROXY_SKEW_MS	20

static void test_retry_after(void)
{
	struct run r;
	double gap;

	read_run(&r, &normal, "503:1,503:1", false, READ_OFF, READ_LEN);
	gap = r.gets >= 3 ? r.g[1].arrived - r.g[0].answered : -1;
	check(r.res == 0 && same(READ_OFF, READ_LEN) && r.gets == 3 &&
	      r.st.retries == 2 && gap >= 1000 - PROXY_SKEW_MS && gap < 1500 &&
	      r.g[2].arrived - r.g[1].answered >= 1000 - PROXY_SKEW_MS,
	      "503 with Retry-After: 1 -> the retry waits 1 s",
	      "res %d gets %d, first wait %.0f ms, second %.0f ms %s", r.res, r.gets,
	      gap, r.gets >= 3 ? r.g[2].arrived - r.g[1].answered : -1.0, r.o.msg);
}

/* Retry-After past the deadline: fail now, not sleep into the deadline. */
static void test_retry_after_past_deadline(void)
{
	const struct setup s = { .retries = 5, .req_ms = 2000, .deadline_ms = 3000 };
	struct run r;

	read_run(&r, &s, "503:10", true, READ_OFF, READ_LEN);
	check(r.res == -EIO && r.gets == 1 && r.st.retries == 0 && r.ms < 1000 &&
	      strstr(r.o.msg, "Retry-After"),
	      "503 with Retry-After: 10, deadline 3 s -> -EIO at once",
	      "res %d gets %d in %llu ms %s", r.res, r.gets, (unsigned long long)r.ms,
	      r.o.msg);
}

/* A 503 storm with Retry-After that outlasts max_retries. */
static void test_storm_retry_after(void)
{
	const struct setup s = { .retries = 2, .req_ms = 2000, .deadline_ms = 8000 };
	struct run r;

	read_run(&r, &s, "500:1", true, READ_OFF, 4096);
	check(r.res == -EIO && r.gets == 3 && r.st.retries == 2 &&
	      r.ms >= 2000 && r.ms < 3000,
	      "500 storm with Retry-After: 1 -> -EIO after 2 retries, 1 s apart",
	      "res %d gets %d in %llu ms %s", r.res, r.gets, (unsigned long long)r.ms,
	      r.o.msg);
}

/*
 * Reads longer than 4 MiB cannot ask for their Content-MD5. The whole blob
 * is checked against the blob's stored MD5 (x-ms-blob-content-md5); any
 * other long range only by its Content-Range and length, and counted.
 */
static void test_long_reads(void)
{
	struct run r;

	read_run(&r, &normal, "flip", false, 0, BLOB_SIZE);
	check(r.res == 0 && same(0, BLOB_SIZE) && r.gets == 2 && r.st.corrupt == 1 &&
	      r.st.unverified == 0,
	      "whole blob (> 4 MiB) with a flipped byte -> caught by x-ms-blob-content-md5, retried",
	      "res %d gets %d corrupt %llu unverified %llu %s", r.res, r.gets,
	      (unsigned long long)r.st.corrupt, (unsigned long long)r.st.unverified,
	      r.o.msg);
	read_run(&r, &normal, "pass", false, 1, BLOB_SIZE - 1);
	check(r.res == 0 && same(1, BLOB_SIZE - 1) && r.gets == 1 &&
	      r.st.unverified == 1,
	      "a 5 MiB range that is not the whole blob -> counted as unverified",
	      "res %d gets %d unverified %llu %s", r.res, r.gets,
	      (unsigned long long)r.st.unverified, r.o.msg);
}

/*
 * verify_md5 off: nothing to catch a flipped byte, and the stats say so.
 * (Also shows the flip case above can fail: the proxy does flip bytes.)
 */
static void test_md5_off(void)
{
	const struct setup s = { .retries = 3, .req_ms = 3000, .deadline_ms = 8000,
				 .no_md5 = true };
	struct run r;

	read_run(&r, &s, "flip", false, READ_OFF, READ_LEN);
	check(r.res == 0 && !same(READ_OFF, READ_LEN) && r.gets == 1 &&
	      r.st.corrupt == 0 && r.st.unverified == 1,
	      "verify_md5 off: a flipped byte goes through, counted unverified",
	      "res %d gets %d corrupt %llu unverified %llu %s", r.res, r.gets,
	      (unsigned long long)r.st.corrupt, (unsigned long long)r.st.unverified,
	      r.o.msg);
}

int main(int argc, char **argv)
{
	enum mc_engine engine = MC_ENGINE_AUTO;
	char endpoint[64], err[256];
	struct bp_account acct;
	struct run r;
	long st;

	if (argc < 3) {
		fprintf(stderr, "usage: %s AZURITE_PORT PROXY_PORT [ENGINE]\n", argv[0]);
		return 2;
	}
	if (argc > 3 && mc_engine_parse(argv[3], &engine)) {
		fprintf(stderr, "unknown engine '%s'\n", argv[3]);
		return 2;
	}
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%s", argv[1]);
	snprintf(proxy_base, sizeof(proxy_base), "http://127.0.0.1:%s", argv[2]);
	if (az_b64_decode(DEV_KEY, key, sizeof(key)) != 64)
		return 2;
	acct = (struct bp_account){ .endpoint = endpoint, .name = DEV_ACCOUNT,
				    .key_len = 64 };
	memcpy(acct.key, key, 64);
	if (mc_loop_new(&loop, engine, 64, err, sizeof(err))) {
		fprintf(stderr, "loop: %s\n", err);
		return 2;
	}
	printf("engine %s\n", mc_loop_engine_name(loop));
	data = malloc(BLOB_SIZE);
	buf = malloc(BLOB_SIZE);
	fill(data, BLOB_SIZE, 7);
	st = bp_create_container(&acct, CONTAINER);
	check(st == 201 || st == 409, "create container", "HTTP %ld", st);
	st = bp_put_blob(&acct, CONTAINER, "data/one.bin", data, BLOB_SIZE);
	check(st == 201, "put blob", "HTTP %ld", st);

	read_run(&r, &normal, "pass", false, READ_OFF, READ_LEN);
	check(r.res == 0 && same(READ_OFF, READ_LEN) && r.gets == 1 &&
	      r.st.retries == 0 && r.st.corrupt == 0 && r.st.unverified == 0,
	      "pass through -> the blob's bytes, verified, one GET",
	      "res %d gets %d %s", r.res, r.gets, r.o.msg);

	once("reset", false);
	once("truncate", false);
	once("clen-short", false);
	once("clen-long", false);
	once("flip", true);
	once("strip-md5", true);
	once("junk", false);
	always("reset", -EIO, false);
	always("truncate", -EIO, false);
	always("flip", -EIO, true);
	always("503", -EIO, false);
	range_lie("range-start");
	range_lie("range-end");
	range_lie("range-total");
	test_drip();
	test_storm("503");
	test_storm("500");
	test_retry_after();
	test_retry_after_past_deadline();
	test_storm_retry_after();
	test_long_reads();
	test_md5_off();

	mc_loop_free(loop);
	free(data);
	free(buf);
	printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
