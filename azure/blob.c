// SPDX-License-Identifier: MIT
/*
 * The Azure Blob client of maicached (see blob.h): Get Blob Properties and
 * ranged Get Blob on libcurl's multi interface, driven by the daemon's loop.
 *
 * Life of a request: mc_blob_read() queues it (FIFO) and returns; up to
 * max_parallel run at once, each on an easy handle taken from a free list
 * (the multi handle keeps the connections, so handles and connections are
 * reused). curl tells us which sockets to watch (mc_loop_watch) and when to
 * call it back (one mc_timer). When a transfer ends, the answer is checked
 * and classified (az_resp.c); transient failures wait a jittered backoff on
 * the request's own timer (retry.c) and queue again. The result reaches the
 * caller through a 0 ms timer, so callbacks always run from the loop and
 * never inside mc_blob_read() or inside a curl callback.
 *
 * Secrets: the account key only feeds HMAC, SAS and bearer tokens only go
 * into the request; none of them is put in a message. curl's own trace
 * (opts.verbose) prints request headers and URLs, SAS and tokens included,
 * so it is for debugging only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "errmsg.h"
#include "az_resp.h"
#include "az_sign.h"
#include "az_url.h"
#include "blob.h"
#include "cred.h"
#include "curl_loop.h"
#include "secret.h"
#include "list.h"
#include "retry.h"

#define MSG_MAX		512
#define ERRBODY_MAX	2048
#define TOKEN_MAX	16384
#define WHAT_MAX	256	/* how much of the URL messages repeat */
/*
 * libcurl hands a body over in pieces of its receive buffer, a recv() and
 * an on_body() call each: 16 KiB by default, 64 or more pieces per 1 MiB
 * extent. At 256 KiB as few as 4, for 256 KiB per request in flight.
 */
#define RECV_BUF	(256 * 1024L)

enum req_kind { REQ_PROPS, REQ_READ };
enum req_state { RQ_QUEUED, RQ_RUNNING, RQ_BACKOFF, RQ_DONE };

struct req {
	struct mc_list blob_link;		/* b->reqs, always */
	struct mc_list queue_link;		/* c->queue, while QUEUED */
	struct mc_blob *b;
	enum req_kind kind;
	enum req_state state;
	uint64_t off;
	char *dst;
	size_t len;
	mc_blob_read_cb read_cb;
	mc_blob_props_cb props_cb;
	void *arg;
	unsigned int retries;
	uint64_t start_ms;
	struct mc_timer timer;		/* backoff, then delivery */
	CURL *easy;
	struct curl_slist *hdrs;

	/* The answer of the current attempt. */
	long status;
	size_t got;
	bool range_checked;
	int abort_res;			/* why the write callback stopped it */
	uint64_t clen;
	bool have_clen;
	char etag[128];
	char content_range[96];
	char error_code[64];
	char content_md5[32];		/* of this body (the range asked) */
	char blob_md5[32];		/* x-ms-blob-content-md5: the whole blob's */
	char retry_after[64];
	bool want_md5;			/* asked for the range's Content-MD5 */
	bool hashing;			/* md takes the body of this attempt */
	EVP_MD_CTX *md;
	char errbody[ERRBODY_MAX];
	size_t errbody_len;

	/* The outcome, for the delivery timer. */
	int res;
	char msg[MSG_MAX];
	struct mc_blob_props props;
};

struct mc_blob_client {
	struct mc_loop *loop;
	struct mc_blob_opts opts;
	struct mc_curl_loop *curl;
	struct mc_list queue;		/* requests waiting for a slot */
	struct mc_list blobs;
	unsigned int running;
	CURL **idle;			/* easy handles to reuse */
	unsigned int n_idle;
	struct mc_rng rng;
	struct mc_blob_stats stats;
};

struct mc_blob {
	struct mc_list link;		/* c->blobs */
	struct mc_blob_client *c;
	struct az_url url;
	struct az_cred cred;
	enum az_auth auth;		/* in effect: NONE with a query is SAS */
	const char *query;		/* SAS to append, or NULL */
	char base[AZ_URL_MAX];		/* URL without query */
	char what[WHAT_MAX];		/* base, shortened for messages */
	bool pinned;
	struct mc_blob_props pin;
	bool closing;
	struct mc_list reqs;
	struct mc_blob_stats stats;
	char *token;			/* bearer token, cached */
	struct stat token_st;
};

void mc_blob_opts_default(struct mc_blob_opts *o)
{
	*o = (struct mc_blob_opts){
		.max_parallel = 16,
		.max_retries = 5,
		.backoff_base_ms = 100,
		.backoff_max_ms = 5000,
		.request_timeout_ms = 30000,
		.deadline_ms = 60000,
		.verify_md5 = true,
		.verbose = false,
	};
}

static void stat_add(struct mc_blob *b, size_t field, uint64_t n)
{
	*(uint64_t *)((char *)&b->stats + field) += n;
	*(uint64_t *)((char *)&b->c->stats + field) += n;
}

#define STAT(b, f, n) stat_add(b, offsetof(struct mc_blob_stats, f), n)

/* ---- easy handles ---- */

static CURL *easy_get(struct mc_blob_client *c)
{
	if (c->n_idle)
		return c->idle[--c->n_idle];
	return curl_easy_init();
}

static void easy_put(struct mc_blob_client *c, CURL *e)
{
	if (c->n_idle < c->opts.max_parallel)
		c->idle[c->n_idle++] = e;
	else
		curl_easy_cleanup(e);
}

/* ---- answers ---- */

static void copy_value(char *dst, size_t len, const char *v, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static void parse_status_line(struct req *q, const char *line)
{
	const char *sp = strchr(line, ' ');

	/* A new response (after 100 Continue, say): forget the old one. */
	q->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	q->have_clen = false;
	q->etag[0] = q->content_range[0] = q->error_code[0] = '\0';
	q->content_md5[0] = q->blob_md5[0] = q->retry_after[0] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct req *q = arg;
	size_t n = size * nmemb, name_len;
	const char *colon, *v, *end = p + n;

	while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if ((size_t)(end - p) > 5 && !strncmp(p, "HTTP/", 5)) {
		char line[64];

		copy_value(line, sizeof(line), p, (size_t)(end - p));
		parse_status_line(q, line);
		return n;
	}
	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return n;
	name_len = (size_t)(colon - p);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (name_len == 14 && !strncasecmp(p, "Content-Length", 14)) {
		char num[32];

		copy_value(num, sizeof(num), v, (size_t)(end - v));
		q->clen = strtoull(num, NULL, 10);
		q->have_clen = num[0] >= '0' && num[0] <= '9';
	} else if (name_len == 4 && !strncasecmp(p, "ETag", 4)) {
		copy_value(q->etag, sizeof(q->etag), v, (size_t)(end - v));
	} else if (name_len == 13 && !strncasecmp(p, "Content-Range", 13)) {
		copy_value(q->content_range, sizeof(q->content_range), v,
			   (size_t)(end - v));
	} else if (name_len == 11 && !strncasecmp(p, "Content-MD5", 11)) {
		copy_value(q->content_md5, sizeof(q->content_md5), v,
			   (size_t)(end - v));
	} else if (name_len == 21 && !strncasecmp(p, "x-ms-blob-content-md5", 21)) {
		copy_value(q->blob_md5, sizeof(q->blob_md5), v, (size_t)(end - v));
	} else if (name_len == 11 && !strncasecmp(p, "Retry-After", 11)) {
		copy_value(q->retry_after, sizeof(q->retry_after), v,
			   (size_t)(end - v));
	} else if (name_len == 15 && !strncasecmp(p, "x-ms-error-code", 15)) {
		copy_value(q->error_code, sizeof(q->error_code), v,
			   (size_t)(end - v));
		/* Not a code the service would send: not repeated in messages. */
		if (!az_error_code_ok(q->error_code))
			q->error_code[0] = '\0';
	}
	return n;
}

/* The first body byte of a success: is it the range that was asked for? */
static int check_range(struct req *q)
{
	int r;

	if (q->status == 206) {
		r = az_check_partial(q->content_range[0] ? q->content_range : NULL,
				     q->off, q->len,
				     q->b->pinned ? q->b->pin.size : UINT64_MAX,
				     UINT64_MAX, q->msg, sizeof(q->msg));
		if (r)
			return r;
		/*
		 * A Content-Length other than the range is a framing lie: the
		 * body ends elsewhere than the bytes do, and what follows on
		 * the connection would be read as the next answer. Stopped
		 * here, the transfer is aborted and curl closes the
		 * connection instead of reusing it; the next attempt may fare
		 * better.
		 */
		if (q->have_clen && q->clen != q->len) {
			snprintf(q->msg, sizeof(q->msg),
				 "Content-Length %llu for a range of %zu bytes",
				 (unsigned long long)q->clen, q->len);
			return -EAGAIN;
		}
		return 0;
	}
	/* 200: the whole blob, acceptable only if that is what was asked. */
	if (q->off == 0 && q->have_clen && q->clen == q->len &&
	    (!q->b->pinned || q->clen == q->b->pin.size))
		return 0;
	snprintf(q->msg, sizeof(q->msg),
		 "answer %ld with the whole blob, asked for bytes %llu-%llu",
		 q->status, (unsigned long long)q->off,
		 (unsigned long long)(q->off + q->len - 1));
	return -EPROTO;
}

/*
 * Which MD5 the body can be checked against, once the headers are in: the
 * range's own Content-MD5 when it was asked for (ranges up to 4 MiB), else,
 * for a read of the whole blob, the blob's stored MD5 (x-ms-blob-content-md5,
 * or Content-MD5 of a 200). NULL: nothing to check the bytes against.
 */
static const char *expected_md5(const struct req *q)
{
	if (q->want_md5)
		return q->content_md5;
	if (q->off != 0)
		return NULL;
	if (q->status == 200)
		return q->content_md5[0] ? q->content_md5 : NULL;
	if (q->b->pinned && q->len == q->b->pin.size && q->blob_md5[0])
		return q->blob_md5;
	return NULL;
}

static bool will_verify(const struct req *q)
{
	return q->b->c->opts.verify_md5 && expected_md5(q);
}

static bool hash_begin(struct req *q)
{
	if (!q->md)
		q->md = EVP_MD_CTX_new();
	return q->md && EVP_DigestInit_ex(q->md, EVP_md5(), NULL);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct req *q = arg;
	size_t n = size * nmemb;

	if (q->status < 200 || q->status >= 300) {
		size_t room = sizeof(q->errbody) - 1 - q->errbody_len;

		n = n < room ? n : room;
		memcpy(q->errbody + q->errbody_len, p, n);
		q->errbody_len += n;
		q->errbody[q->errbody_len] = '\0';
		return size * nmemb;
	}
	if (q->kind != REQ_READ)
		return n;
	if (!q->range_checked) {
		q->range_checked = true;
		q->abort_res = check_range(q);
		if (q->abort_res)
			return 0;
		q->hashing = will_verify(q);
		if (q->hashing && !hash_begin(q)) {
			snprintf(q->msg, sizeof(q->msg), "cannot start MD5");
			q->abort_res = -ENOMEM;
			return 0;
		}
	}
	if (n > q->len - q->got) {
		snprintf(q->msg, sizeof(q->msg),
			 "answer longer than the %zu bytes asked for", q->len);
		q->abort_res = -EPROTO;
		return 0;
	}
	/*
	 * Straight into dst: it holds a good copy only once the read
	 * succeeds; on any failure the caller must not use it (blob.h).
	 */
	memcpy(q->dst + q->got, p, n);
	q->got += n;
	if (q->hashing && !EVP_DigestUpdate(q->md, p, n)) {
		snprintf(q->msg, sizeof(q->msg), "MD5 failed");
		q->abort_res = -ENOMEM;
		return 0;
	}
	return n;
}

/* ---- credentials ---- */

static int load_token(struct mc_blob *b, char *msg, size_t msglen)
{
	const char *path = b->cred.token_file;
	char why[512];
	struct stat st;
	char *tok;
	int ret;

	if (stat(path, &st) < 0) {
		return mc_errf(msg, msglen, -EACCES, "%s: cannot read the token file %.200s: %s", b->what,
			 path, strerror(errno));
	}
	if (b->token && st.st_ino == b->token_st.st_ino &&
	    st.st_size == b->token_st.st_size &&
	    st.st_mtim.tv_sec == b->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == b->token_st.st_mtim.tv_nsec)
		return 0;
	tok = calloc(1, TOKEN_MAX);
	if (!tok)
		return -ENOMEM;
	ret = mc_secret_file_read(path, "token file", tok, TOKEN_MAX, 0, why, sizeof(why));
	if (!ret && strpbrk(tok, "\r\n")) {
		snprintf(why, sizeof(why), "token file %.200s has several lines", path);
		ret = -EINVAL;
	}
	if (ret) {
		OPENSSL_cleanse(tok, TOKEN_MAX);
		free(tok);
		return mc_errf(msg, msglen, -EACCES, "%.200s: %.300s", b->what, why);
	}
	if (b->token) {
		OPENSSL_cleanse(b->token, TOKEN_MAX);
		free(b->token);
	}
	b->token = tok;
	b->token_st = st;
	return 0;
}

static int add_header(struct curl_slist **l, const char *fmt, const char *a,
		      const char *v)
{
	char line[TOKEN_MAX + 64];
	struct curl_slist *n;

	snprintf(line, sizeof(line), fmt, a, v);
	n = curl_slist_append(*l, line);
	OPENSSL_cleanse(line, sizeof(line));
	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* The headers of one attempt, Authorization last (it signs the others). */
static int build_headers(struct req *q, char *msg, size_t msglen)
{
	struct mc_blob *b = q->b;
	struct az_hdr h[5];
	size_t nh = 0, i;
	char date[AZ_DATE_LEN], range[64], auth[AZ_AUTH_LEN];
	int r = 0;

	az_http_date(time(NULL), date);
	h[nh++] = (struct az_hdr){ "x-ms-date", date };
	h[nh++] = (struct az_hdr){ "x-ms-version", AZ_API_VERSION };
	if (q->kind == REQ_READ) {
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
			 (unsigned long long)q->off,
			 (unsigned long long)(q->off + q->len - 1));
		h[nh++] = (struct az_hdr){ "x-ms-range", range };
		if (q->want_md5)
			h[nh++] = (struct az_hdr){ "x-ms-range-get-content-md5", "true" };
		if (b->pinned)
			h[nh++] = (struct az_hdr){ "If-Match", b->pin.etag };
	}
	for (i = 0; i < nh && !r; i++)
		r = add_header(&q->hdrs, "%s: %s", h[i].name, h[i].value);
	if (r)
		return r;

	if (b->auth == AZ_AUTH_SHARED_KEY) {
		const struct az_sign_req sr = {
			.verb = q->kind == REQ_READ ? "GET" : "HEAD",
			.account = b->url.account, .path = b->url.path,
			.query = b->query, .hdrs = h, .nhdrs = nh,
		};

		r = az_sign_shared_key(&sr, b->cred.key, b->cred.key_len, auth,
				       sizeof(auth));
		if (r < 0) {
			snprintf(msg, msglen, "%s: cannot sign the request (%s)",
				 b->what, strerror(-r));
			return r;
		}
		return add_header(&q->hdrs, "%s: %s", "Authorization", auth);
	}
	if (b->auth == AZ_AUTH_BEARER) {
		r = load_token(b, msg, msglen);
		if (r)
			return r;
		return add_header(&q->hdrs, "%s: Bearer %s", "Authorization",
				  b->token);
	}
	return 0;
}

/* ---- attempts ---- */

static void deliver(void *arg);
static void pump(struct mc_blob_client *c);

/* The outcome is known: hand it to the caller from the loop. */
static void complete(struct req *q, int res)
{
	struct mc_blob *b = q->b;

	q->res = res;
	q->state = RQ_DONE;
	if (res && res != -ECANCELED)
		STAT(b, errors, 1);
	mc_timer_arm(b->c->loop, &q->timer, 0, deliver, q);
}

static void attempt_reset(struct req *q)
{
	q->status = 0;
	q->got = 0;
	q->range_checked = false;
	q->hashing = false;
	q->abort_res = 0;
	q->have_clen = false;
	q->etag[0] = q->content_range[0] = q->error_code[0] = '\0';
	q->content_md5[0] = q->blob_md5[0] = q->retry_after[0] = '\0';
	q->errbody[0] = '\0';
	q->errbody_len = 0;
	q->msg[0] = '\0';
}

static int setup_easy(struct req *q, uint64_t timeout_ms)
{
	struct mc_blob *b = q->b;
	struct mc_blob_client *c = b->c;
	char url[AZ_URL_MAX + AZ_SAS_MAX + 2];
	CURL *e = q->easy;
	bool ok;

	snprintf(url, sizeof(url), "%s%s%s", b->base, b->query ? "?" : "",
		 b->query ? b->query : "");
	curl_easy_reset(e);
	ok = !curl_easy_setopt(e, CURLOPT_URL, url) &&
	     !curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") &&
	     !curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) &&
	     !curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs) &&
	     !curl_easy_setopt(e, CURLOPT_NOBODY, (long)(q->kind == REQ_PROPS)) &&
	     !curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) &&
	     !curl_easy_setopt(e, CURLOPT_HEADERDATA, q) &&
	     !curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) &&
	     !curl_easy_setopt(e, CURLOPT_WRITEDATA, q) &&
	     !curl_easy_setopt(e, CURLOPT_PRIVATE, q) &&
	     !curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) &&
	     !curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUF) &&
	     !curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) &&
	     !curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) &&
	     /* Would print the Authorization header and the SAS: debug only. */
	     !curl_easy_setopt(e, CURLOPT_VERBOSE, (long)c->opts.verbose);
	OPENSSL_cleanse(url, sizeof(url));
	return ok ? 0 : -ENOMEM;
}

/* Remaining time of the request's deadline; UINT64_MAX when none. */
static uint64_t time_left(const struct req *q)
{
	uint64_t d = q->b->c->opts.deadline_ms, el = mc_now_ms() - q->start_ms;

	if (!d)
		return UINT64_MAX;
	return el >= d ? 0 : d - el;
}

static void start_attempt(struct req *q)
{
	struct mc_blob *b = q->b;
	struct mc_blob_client *c = b->c;
	uint64_t left = time_left(q), timeout = c->opts.request_timeout_ms;
	int r;

	attempt_reset(q);
	if (left == 0) {
		snprintf(q->msg, sizeof(q->msg), "%s: deadline of %llu ms passed",
			 b->what, (unsigned long long)c->opts.deadline_ms);
		complete(q, -ETIMEDOUT);
		return;
	}
	if (!timeout || timeout > left)
		timeout = left == UINT64_MAX ? 0 : left;
	r = build_headers(q, q->msg, sizeof(q->msg));
	if (!r) {
		q->easy = easy_get(c);
		r = q->easy ? setup_easy(q, timeout) : -ENOMEM;
	}
	if (!r)
		r = mc_curl_loop_add(c->curl, q->easy);
	if (r) {
		if (q->easy)
			easy_put(c, q->easy);
		q->easy = NULL;
		curl_slist_free_all(q->hdrs);
		q->hdrs = NULL;
		if (!q->msg[0])
			snprintf(q->msg, sizeof(q->msg), "%s: cannot start the request (%s)",
				 b->what, strerror(-r));
		complete(q, r);
		return;
	}
	q->state = RQ_RUNNING;
	c->running++;
	if (q->kind == REQ_READ)
		STAT(b, gets, 1);
	else
		STAT(b, heads, 1);
}

/* Release what the attempt held on curl's side. */
static void detach(struct req *q)
{
	struct mc_blob_client *c = q->b->c;

	mc_curl_loop_remove(c->curl, q->easy);
	easy_put(c, q->easy);
	q->easy = NULL;
	curl_slist_free_all(q->hdrs);
	q->hdrs = NULL;
	c->running--;
}

/*
 * The body against its MD5. A mismatch is a body damaged somewhere on the
 * way: counted, retried, and never handed out as good data. A range asked
 * with its Content-MD5 that came without one (or with a malformed one) is
 * treated the same: the service always sends it, so something in between
 * dropped it, and the bytes cannot be vouched for.
 */
static int verify_body(struct req *q, bool *retry)
{
	struct mc_blob *b = q->b;
	const char *want = expected_md5(q);
	unsigned char exp[AZ_MD5_LEN], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;

	if (!b->c->opts.verify_md5 || !want) {
		STAT(b, unverified, 1);
		return 0;
	}
	if (!q->hashing || !EVP_DigestFinal_ex(q->md, got, &got_len) ||
	    got_len != AZ_MD5_LEN) {
		snprintf(q->msg, sizeof(q->msg), "cannot compute the body's MD5");
		return -ENOMEM;
	}
	if (!want[0] || az_content_md5(want, exp)) {
		snprintf(q->msg, sizeof(q->msg), "asked for the range's Content-MD5 and got %s '%.32s'",
			 want[0] ? "a malformed" : "none", want);
	} else if (CRYPTO_memcmp(exp, got, AZ_MD5_LEN)) {
		snprintf(q->msg, sizeof(q->msg), "body of %zu bytes does not match its %s %.32s",
			 q->len, want == q->blob_md5 ? "x-ms-blob-content-md5" : "Content-MD5",
			 want);
	} else {
		return 0;
	}
	STAT(b, corrupt, 1);
	*retry = true;
	return -EIO;
}

static int check_success(struct req *q, bool *retry)
{
	if (q->kind == REQ_PROPS) {
		if (!q->have_clen || !q->etag[0]) {
			snprintf(q->msg, sizeof(q->msg), "%s: properties without %s",
				 q->b->what, q->etag[0] ? "Content-Length" : "ETag");
			return -EPROTO;
		}
		q->props.size = q->clen;
		copy_value(q->props.etag, sizeof(q->props.etag), q->etag,
			   strlen(q->etag));
		return 0;
	}
	if (!q->range_checked) {
		int r = check_range(q);

		*retry = r == -EAGAIN;
		if (r)
			return r == -EAGAIN ? -EIO : r;
	}
	if (q->got != q->len) {
		/* Cut short on the way (a dropped connection, a Content-Length
		 * that lied): another attempt may well get all of it. */
		snprintf(q->msg, sizeof(q->msg), "body of %zu bytes, asked for %zu",
			 q->got, q->len);
		*retry = true;
		return -EIO;
	}
	return verify_body(q, retry);
}

/* Prefix the message with the blob it is about. */
static void name_msg(struct req *q)
{
	char detail[MSG_MAX];

	memcpy(detail, q->msg, sizeof(detail));
	snprintf(q->msg, sizeof(q->msg), "%.*s: %.*s", WHAT_MAX - 1, q->b->what,
		 MSG_MAX - WHAT_MAX - 4, detail);
}

/* The outcome of a finished attempt; *retry for transient failures. */
static int judge(struct req *q, CURLcode rc, bool *retry)
{
	struct mc_blob *b = q->b;
	struct az_failure f = {
		.status = q->status, .curl_code = (int)rc, .auth = b->auth,
		.what = b->what, .etag = b->pinned ? b->pin.etag : NULL,
	};
	char code[64];
	int r;

	*retry = false;
	if (q->abort_res == -EAGAIN) {
		name_msg(q);
		*retry = true;
		return -EIO;
	}
	if (q->abort_res) {
		name_msg(q);
		return q->abort_res;
	}
	curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &f.status);
	q->status = f.status;
	if (q->error_code[0])
		f.error_code = q->error_code;
	else if (!az_xml_error_code(q->errbody, q->errbody_len, code, sizeof(code)))
		f.error_code = code;
	r = az_classify(&f, retry, q->msg, sizeof(q->msg));
	if (q->status == 412)
		STAT(b, stale, 1);
	if (r)
		return r;
	STAT(b, bytes, q->got);
	r = check_success(q, retry);
	if (r && q->kind == REQ_READ)
		name_msg(q);
	return r;
}

static void on_backoff(void *arg)
{
	struct req *q = arg;

	q->state = RQ_QUEUED;
	/* Older than anything queued since: it goes first. */
	mc_list_add_head(&q->b->c->queue, &q->queue_link);
	pump(q->b->c);
}

static void finished(struct req *q, CURLcode rc)
{
	struct mc_blob *b = q->b;
	struct mc_blob_client *c = b->c;
	const struct mc_retry_policy pol = {
		.max_retries = c->opts.max_retries,
		.base_ms = c->opts.backoff_base_ms,
		.max_ms = c->opts.backoff_max_ms,
		.deadline_ms = c->opts.deadline_ms,
	};
	bool retry, asked = false;
	int res = judge(q, rc, &retry);
	uint64_t after_ms = 0;
	int64_t delay;
	size_t n;

	detach(q);
	if (res && retry) {
		/* The service says when to come back: not sooner than that. */
		if (q->status >= 400 && q->retry_after[0] &&
		    !az_retry_after(q->retry_after, (int64_t)time(NULL), &after_ms))
			asked = after_ms > 0;
		delay = mc_retry_next_after(&pol, q->retries,
					    mc_now_ms() - q->start_ms, after_ms,
					    &c->rng);
		if (delay >= 0) {
			q->retries++;
			STAT(b, retries, 1);
			q->state = RQ_BACKOFF;
			mc_timer_arm(c->loop, &q->timer, (uint64_t)delay,
				     on_backoff, q);
			return;
		}
		n = strlen(q->msg);
		if (asked && q->retries < pol.max_retries)
			snprintf(q->msg + n, sizeof(q->msg) - n,
				 " (gave up after %u %s: Retry-After %llu ms is past the deadline)",
				 q->retries, q->retries == 1 ? "retry" : "retries",
				 (unsigned long long)after_ms);
		else
			snprintf(q->msg + n, sizeof(q->msg) - n, " (gave up after %u %s)",
				 q->retries, q->retries == 1 ? "retry" : "retries");
	}
	complete(q, res);
}

/* ---- curl <-> loop ---- */

static void transfer_done(void *arg, CURL *e, CURLcode rc)
{
	struct mc_blob_client *c = arg;
	struct req *q = NULL;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
	if (q)
		finished(q, rc);
	pump(c);
}

static void pump(struct mc_blob_client *c)
{
	while (c->running < c->opts.max_parallel && !mc_list_empty(&c->queue)) {
		struct req *q = mc_list_entry(c->queue.next, struct req, queue_link);

		mc_list_del(&q->queue_link);
		start_attempt(q);
	}
}

static void req_free(struct req *q)
{
	EVP_MD_CTX_free(q->md);
	free(q);
}

static void deliver(void *arg)
{
	struct req *q = arg;
	enum req_kind kind = q->kind;
	mc_blob_read_cb read_cb = q->read_cb;
	mc_blob_props_cb props_cb = q->props_cb;
	void *cb_arg = q->arg;
	struct mc_blob_props props = q->props;
	char msg[MSG_MAX];
	int res = q->res;

	memcpy(msg, q->msg, sizeof(msg));
	mc_list_del(&q->blob_link);
	req_free(q);
	/* Nothing of q is touched after this: the callback may close all. */
	if (kind == REQ_READ)
		read_cb(cb_arg, res, res ? msg : NULL);
	else
		props_cb(cb_arg, res, res ? NULL : &props, res ? msg : NULL);
}

/* ---- the API ---- */

int mc_blob_client_new(struct mc_blob_client **out, struct mc_loop *loop,
		       const struct mc_blob_opts *opts, char *err, size_t errlen)
{
	struct mc_blob_client *c;

	*out = NULL;
	if (!opts->max_parallel) {
		return mc_errf(err, errlen, -EINVAL, "max_parallel must be at least 1");
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		return mc_errf(err, errlen, -ENOMEM, "cannot initialise libcurl");
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->idle = calloc(opts->max_parallel, sizeof(*c->idle));
	/* Room to keep one idle connection per slot. */
	if (!c || !c->idle ||
	    mc_curl_loop_new(&c->curl, loop, (long)opts->max_parallel + 4, transfer_done, c)) {
		if (c)
			free(c->idle);
		free(c);
		curl_global_cleanup();
		return mc_errf(err, errlen, -ENOMEM, "out of memory for the blob client");
	}
	c->loop = loop;
	c->opts = *opts;
	mc_list_init(&c->queue);
	mc_list_init(&c->blobs);
	mc_rng_seed(&c->rng, mc_now_ns() ^ ((uint64_t)getpid() << 32) ^
			     (uint64_t)(uintptr_t)c);
	*out = c;
	return 0;
}

void mc_blob_client_free(struct mc_blob_client *c)
{
	if (!c)
		return;
	while (!mc_list_empty(&c->blobs))
		mc_blob_close(mc_list_entry(c->blobs.next, struct mc_blob, link));
	/* Easy handles go after the multi handle that may still hold them. */
	mc_curl_loop_free(c->curl);
	while (c->n_idle)
		curl_easy_cleanup(c->idle[--c->n_idle]);
	free(c->idle);
	free(c);
	curl_global_cleanup();
}

void mc_blob_client_stats(const struct mc_blob_client *c,
			  struct mc_blob_stats *out)
{
	*out = c->stats;
}

static int check_cred(struct mc_blob *b, const struct az_cred *cred,
		      char *err, size_t errlen)
{
	switch (cred->kind) {
	case AZ_AUTH_SHARED_KEY:
		if (!cred->key_len || cred->key_len > sizeof(cred->key)) {
			return mc_errf(err, errlen, -EINVAL, "%s: shared key credential without a key", b->what);
		}
		if (cred->account[0] && strcmp(cred->account, b->url.account)) {
			return mc_errf(err, errlen, -EINVAL, "%s: the account key is for account '%s' but the URL names account '%s'",
				 b->what, cred->account, b->url.account);
		}
		break;
	case AZ_AUTH_SAS:
		if (!cred->sas[0]) {
			return mc_errf(err, errlen, -EINVAL, "%s: empty SAS", b->what);
		}
		if (b->url.query[0]) {
			return mc_errf(err, errlen, -EINVAL, "%s: a SAS was given and the URL has a query too: give the SAS once",
				 b->what);
		}
		break;
	case AZ_AUTH_BEARER:
		if (!cred->token_file[0]) {
			return mc_errf(err, errlen, -EINVAL, "%s: bearer credential without a token file", b->what);
		}
		if (!b->url.https && !b->url.loopback) {
			return mc_errf(err, errlen, -EINVAL, "%s: bearer tokens are only sent over https (or to a loopback emulator)",
				 b->what);
		}
		break;
	case AZ_AUTH_NONE:
		break;
	default:
		return mc_errf(err, errlen, -EINVAL, "%s: unknown credential kind %d", b->what, (int)cred->kind);
	}
	return 0;
}

int mc_blob_open(struct mc_blob_client *c, const char *url,
		 const struct az_cred *cred, struct mc_blob **out,
		 char *err, size_t errlen)
{
	static const struct az_cred anonymous = { .kind = AZ_AUTH_NONE };
	struct mc_blob *b;
	int r;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		return mc_errf(err, errlen, -ENOMEM, "out of memory for a blob");
	}
	r = az_url_parse(url, &b->url, err, errlen);
	if (!r && az_url_base(&b->url, b->base, sizeof(b->base)) < 0) {
		snprintf(err, errlen, "URL too long");
		r = -EINVAL;
	}
	if (!r) {
		size_t n = strlen(b->base);

		copy_value(b->what, sizeof(b->what), b->base, n);
		if (n >= sizeof(b->what))
			memcpy(b->what + sizeof(b->what) - 4, "...", 4);
		r = check_cred(b, cred ? cred : &anonymous, err, errlen);
	}
	if (r) {
		free(b);
		return r;
	}
	b->cred = cred ? *cred : anonymous;
	b->auth = b->cred.kind;
	if (b->auth == AZ_AUTH_SAS) {
		b->query = b->cred.sas;
	} else if (b->url.query[0]) {
		b->query = b->url.query;
		if (b->auth == AZ_AUTH_NONE)
			b->auth = AZ_AUTH_SAS;
	}
	b->c = c;
	mc_list_init(&b->reqs);
	mc_list_add_tail(&c->blobs, &b->link);
	*out = b;
	return 0;
}

/* Take q out of whatever it waits on; it is then only on b->reqs. */
static void cancel(struct req *q)
{
	struct mc_blob_client *c = q->b->c;

	switch (q->state) {
	case RQ_QUEUED:
		mc_list_del(&q->queue_link);
		break;
	case RQ_RUNNING:
		detach(q);
		break;
	case RQ_BACKOFF:
	case RQ_DONE:
		mc_timer_cancel(c->loop, &q->timer);
		break;
	}
}

void mc_blob_close(struct mc_blob *b)
{
	struct mc_blob_client *c;

	if (!b || b->closing)
		return;
	c = b->c;
	b->closing = true;
	while (!mc_list_empty(&b->reqs)) {
		struct req *q = mc_list_entry(b->reqs.next, struct req, blob_link);
		char msg[MSG_MAX];

		cancel(q);
		mc_list_del(&q->blob_link);
		snprintf(msg, sizeof(msg), "%s: cancelled", b->what);
		if (q->kind == REQ_READ)
			q->read_cb(q->arg, -ECANCELED, msg);
		else
			q->props_cb(q->arg, -ECANCELED, NULL, msg);
		req_free(q);
	}
	mc_list_del(&b->link);
	if (b->token) {
		OPENSSL_cleanse(b->token, TOKEN_MAX);
		free(b->token);
	}
	OPENSSL_cleanse(&b->cred, sizeof(b->cred));
	OPENSSL_cleanse(b->url.query, sizeof(b->url.query));
	free(b);
	pump(c);
}

void mc_blob_stats(const struct mc_blob *b, struct mc_blob_stats *out)
{
	*out = b->stats;
}

void mc_blob_pin(struct mc_blob *b, const struct mc_blob_props *props)
{
	b->pin = *props;
	b->pinned = true;
}

static struct req *req_new(struct mc_blob *b, enum req_kind kind, void *arg)
{
	struct req *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->b = b;
	q->kind = kind;
	q->arg = arg;
	q->start_ms = mc_now_ms();
	mc_list_init(&q->queue_link);
	mc_list_add_tail(&b->reqs, &q->blob_link);
	return q;
}

static void enqueue(struct req *q)
{
	q->state = RQ_QUEUED;
	mc_list_add_tail(&q->b->c->queue, &q->queue_link);
	pump(q->b->c);
}

int mc_blob_get_props(struct mc_blob *b, mc_blob_props_cb cb, void *arg)
{
	struct req *q;

	if (!b || !cb)
		return -EINVAL;
	if (b->closing)
		return -ECANCELED;
	q = req_new(b, REQ_PROPS, arg);
	if (!q)
		return -ENOMEM;
	q->props_cb = cb;
	enqueue(q);
	return 0;
}

int mc_blob_read(struct mc_blob *b, uint64_t off, void *dst, size_t len,
		 mc_blob_read_cb cb, void *arg)
{
	struct req *q;

	if (!b || !cb || (!dst && len))
		return -EINVAL;
	if (b->closing)
		return -ECANCELED;
	q = req_new(b, REQ_READ, arg);
	if (!q)
		return -ENOMEM;
	q->read_cb = cb;
	q->off = off;
	q->dst = dst;
	q->len = len;
	q->want_md5 = b->c->opts.verify_md5 && len <= AZ_RANGE_MD5_MAX;
	if (b->pinned && (off > b->pin.size || len > b->pin.size - off)) {
		snprintf(q->msg, sizeof(q->msg),
			 "%s: read of %zu bytes at %llu past the end of the blob (%llu bytes)",
			 b->what, len, (unsigned long long)off,
			 (unsigned long long)b->pin.size);
		complete(q, -ERANGE);
	} else if (len == 0) {
		complete(q, 0);
	} else {
		enqueue(q);
	}
	return 0;
}

/* ---- a read in parallel pieces ---- */

struct split_read {
	mc_blob_read_cb cb;
	void *arg;
	unsigned int pending;	/* pieces not ended, plus the starter's own */
	int res;		/* the first failure */
	char msg[512];
};

static void split_end(struct split_read *s)
{
	if (--s->pending)
		return;
	s->cb(s->arg, s->res, s->res ? s->msg : NULL);
	free(s);
}

static void split_piece_done(void *arg, int res, const char *msg)
{
	struct split_read *s = arg;

	if (res && !s->res) {
		s->res = res;
		snprintf(s->msg, sizeof(s->msg), "%s", msg ? msg : strerror(-res));
	}
	split_end(s);
}

int mc_blob_read_split(struct mc_blob *b, uint64_t off, void *dst, size_t len,
		       size_t piece, mc_blob_read_cb cb, void *arg)
{
	struct split_read *s;
	size_t done, n;
	int ret = 0;

	if (!piece || len <= piece)
		return mc_blob_read(b, off, dst, len, cb, arg);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	s->pending = 1;
	for (done = 0; done < len; done += n) {
		n = len - done < piece ? len - done : piece;
		ret = mc_blob_read(b, off + done, (char *)dst + done, n, split_piece_done, s);
		if (ret)
			break;
		s->pending++;
	}
	if (ret && !done) {
		free(s);
		return ret;
	}
	if (ret) {
		s->res = ret;
		snprintf(s->msg, sizeof(s->msg), "%s: cannot start the read of bytes %" PRIu64 "-%" PRIu64 " (%s)",
			 b->what, off + done, off + len - 1, strerror(-ret));
	}
	/* Pieces end from the loop, never in mc_blob_read(): one is still out. */
	split_end(s);
	return 0;
}
