// SPDX-License-Identifier: MIT
/*
 * The blob client (userd/blob.c) against a real Azurite:
 *
 *   blob-client-test PORT AZURITE_PID [ENGINE]
 *
 * Uploads test data, then checks properties, ranged reads and their data,
 * parallel reads beyond max_parallel, the error classes (404, wrong key,
 * changed blob, past the end, refused connection, a stopped service), SAS
 * and anonymous access, cancellation, and recovery after the service
 * continues. Prints PASS/FAIL per check; exits 1 on any failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "az_sign.h"
#include "blob-put.h"
#include "blob-test.h"
#include "blob.h"
#include "loop.h"

#define CONTAINER "maicache-test"
#define BLOB_SIZE ((size_t)(5u << 20) + 12345)

static struct mc_loop *loop;
static struct bp_account acct;
static char endpoint[64];
static bool in_call;	/* inside an mc_blob_* call: callbacks must not run */

struct op {
	bool done;
	int res;
	char msg[512];
	struct mc_blob_props props;
	bool called_inside;
};

static void read_cb(void *arg, int res, const char *msg)
{
	struct op *o = arg;

	o->called_inside |= in_call;
	o->done = true;
	o->res = res;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static void props_cb(void *arg, int res, const struct mc_blob_props *p,
		     const char *msg)
{
	struct op *o = arg;

	o->called_inside |= in_call;
	o->done = true;
	o->res = res;
	if (p)
		o->props = *p;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static bool wait_ops(struct op *ops, size_t n, uint64_t timeout_ms)
{
	uint64_t end = mc_now_ms() + timeout_ms;

	for (;;) {
		size_t i;

		for (i = 0; i < n && ops[i].done; i++)
			;
		if (i == n)
			return true;
		if (mc_now_ms() > end)
			return false;
		mc_loop_run_once(loop, 100);
	}
}

static struct mc_blob_client *client(unsigned int par, unsigned int retries,
				     uint64_t req_ms, uint64_t deadline_ms)
{
	struct mc_blob_opts o;
	struct mc_blob_client *c;
	char err[256];

	mc_blob_opts_default(&o);
	o.max_parallel = par;
	o.max_retries = retries;
	o.backoff_base_ms = 50;
	o.backoff_max_ms = 400;
	o.request_timeout_ms = req_ms;
	o.deadline_ms = deadline_ms;
	if (mc_blob_client_new(&c, loop, &o, err, sizeof(err))) {
		fprintf(stderr, "client: %s\n", err);
		exit(2);
	}
	return c;
}

static struct az_cred key_cred(const unsigned char *key)
{
	struct az_cred cr = { .kind = AZ_AUTH_SHARED_KEY, .key_len = 64 };

	strcpy(cr.account, DEV_ACCOUNT);
	memcpy(cr.key, key, 64);
	return cr;
}

static struct mc_blob *open_blob(struct mc_blob_client *c, const char *base,
				 const char *name, const struct az_cred *cr)
{
	char url[1024], err[512];
	struct mc_blob *b;
	int r;

	snprintf(url, sizeof(url), "%s/" DEV_ACCOUNT "/%s", base, name);
	r = mc_blob_open(c, url, cr, &b, err, sizeof(err));
	if (r) {
		check(false, "open", "%s: %s", url, err);
		return NULL;
	}
	return b;
}

static int get_props(struct mc_blob *b, struct op *o)
{
	memset(o, 0, sizeof(*o));
	in_call = true;
	if (mc_blob_get_props(b, props_cb, o))
		return -EINVAL;
	in_call = false;
	if (!wait_ops(o, 1, 30000))
		return -EINTR;
	return o->res;
}

static int read_one(struct mc_blob *b, uint64_t off, void *dst, size_t len,
		    struct op *o, uint64_t timeout_ms)
{
	memset(o, 0, sizeof(*o));
	in_call = true;
	if (mc_blob_read(b, off, dst, len, read_cb, o))
		return -EINVAL;
	in_call = false;
	if (!wait_ops(o, 1, timeout_ms))
		return -EINTR;
	return o->res;
}

static unsigned char *data, *buf;

static void test_props_and_ranges(struct mc_blob *b)
{
	static const size_t sizes[] = { 1, 4096, 65536, 1u << 20, (3u << 20) + 7 };
	struct op o;
	int r = get_props(b, &o);
	bool all = true;
	char what[768] = "";

	check(r == 0 && o.props.size == BLOB_SIZE && o.props.etag[0] == '"',
	      "properties", "res %d size %llu etag %s %s", r,
	      (unsigned long long)o.props.size, o.props.etag, o.msg);
	check(!o.called_inside, "callback from the loop, not inside the call", NULL);
	mc_blob_pin(b, &o.props);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint64_t offs[] = { 0, 777 + i * 4099, BLOB_SIZE - sizes[i] };

		for (size_t k = 0; k < 3; k++) {
			memset(buf, 0xa5, sizes[i]);
			r = read_one(b, offs[k], buf, sizes[i], &o, 30000);
			if (r || memcmp(buf, data + offs[k], sizes[i])) {
				all = false;
				snprintf(what, sizeof(what), "%zu bytes at %llu: res %d %s",
					 sizes[i], (unsigned long long)offs[k], r, o.msg);
			}
		}
	}
	check(all, "ranged reads (incl. the partial last range) match", "%s", what);
	memset(buf, 0, BLOB_SIZE);
	r = read_one(b, 0, buf, BLOB_SIZE, &o, 30000);
	check(r == 0 && !memcmp(buf, data, BLOB_SIZE), "whole blob in one read",
	      "res %d %s", r, o.msg);
	r = read_one(b, BLOB_SIZE - 10, buf, 20, &o, 5000);
	check(r == -ERANGE, "read past the end -> -ERANGE", "res %d %s", r, o.msg);
	r = read_one(b, 5, buf, 0, &o, 5000);
	check(r == 0, "empty read", "res %d", r);
}

static void test_parallel(struct mc_blob_client *c, struct mc_blob *b)
{
	enum { N = 64, LEN = 65536 };
	static struct op ops[N];
	static unsigned char bufs[N][LEN];
	struct mc_blob_stats before, after;
	uint64_t offs[N];
	int bad = 0;

	mc_blob_client_stats(c, &before);
	memset(ops, 0, sizeof(ops));
	in_call = true;
	for (int i = 0; i < N; i++) {
		offs[i] = ((uint64_t)i * 81919) % (BLOB_SIZE - LEN);
		if (mc_blob_read(b, offs[i], bufs[i], LEN, read_cb, &ops[i]))
			bad++;
	}
	in_call = false;
	if (!wait_ops(ops, N, 60000))
		bad++;
	for (int i = 0; i < N; i++)
		if (ops[i].res || ops[i].called_inside ||
		    memcmp(bufs[i], data + offs[i], LEN))
			bad++;
	mc_blob_client_stats(c, &after);
	check(!bad, "64 parallel reads with max_parallel 4 all correct",
	      "%d bad", bad);
	check(after.gets - before.gets == N && after.bytes - before.bytes == (uint64_t)N * LEN,
	      "stats count the reads", "gets %llu bytes %llu",
	      (unsigned long long)(after.gets - before.gets),
	      (unsigned long long)(after.bytes - before.bytes));
}

/*
 * mc_blob_read_split: a read in pieces lands whole and right, one GET per
 * piece (one for a read no larger than a piece, or with piece 0); a piece
 * past the end fails the read with -ERANGE, once, after every piece ended.
 */
static void test_split(struct mc_blob_client *c, struct mc_blob *b)
{
	static const struct { uint64_t off; size_t len, piece; unsigned int gets; } cases[] = {
		{ 0, (3u << 20) + 7, 1u << 20, 4 },
		{ 4097, 1u << 20, 65536, 16 },
		{ 12345, 65536, 65536, 1 },
		{ 0, 1u << 20, 0, 1 },
		{ 65536, 100000, 4096, 25 },
	};
	struct mc_blob_stats before, after;
	char what[768] = "";
	bool all = true;
	struct op o;
	int r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_blob_client_stats(c, &before);
		memset(buf, 0xa5, cases[i].len);
		memset(&o, 0, sizeof(o));
		in_call = true;
		r = mc_blob_read_split(b, cases[i].off, buf, cases[i].len, cases[i].piece, read_cb, &o);
		in_call = false;
		if (!r)
			r = wait_ops(&o, 1, 60000) ? o.res : -EINTR;
		mc_blob_client_stats(c, &after);
		if (r || o.called_inside || memcmp(buf, data + cases[i].off, cases[i].len) ||
		    after.gets - before.gets != cases[i].gets) {
			all = false;
			snprintf(what, sizeof(what), "%zu bytes at %llu in pieces of %zu: res %d, %llu GETs (want %u) %s",
				 cases[i].len, (unsigned long long)cases[i].off, cases[i].piece, r,
				 (unsigned long long)(after.gets - before.gets), cases[i].gets, o.msg);
		}
	}
	check(all, "split reads land whole, one GET per piece", "%s", what);
	memset(&o, 0, sizeof(o));
	in_call = true;
	r = mc_blob_read_split(b, BLOB_SIZE - (1u << 20) - 10, buf, (1u << 20) + 20, 65536, read_cb, &o);
	in_call = false;
	if (!r)
		r = wait_ops(&o, 1, 60000) ? o.res : -EINTR;
	check(r == -ERANGE && !o.called_inside && strstr(o.msg, "past"),
	      "a split read whose last piece runs past the end -> -ERANGE", "res %d %s", r, o.msg);
}

static void test_errors(struct mc_blob_client *c, const unsigned char *key)
{
	struct az_cred cr = key_cred(key), wrong;
	struct mc_blob *b;
	struct op o;
	int r;

	b = open_blob(c, endpoint, CONTAINER "/no/such/blob", &cr);
	r = get_props(b, &o);
	check(r == -ENOENT, "missing blob -> -ENOENT", "res %d %s", r, o.msg);
	mc_blob_close(b);

	b = open_blob(c, endpoint, "no-such-container/blob", &cr);
	r = get_props(b, &o);
	check(r == -ENOENT, "missing container -> -ENOENT", "res %d %s", r, o.msg);
	mc_blob_close(b);

	wrong = cr;
	wrong.key[7] ^= 1;
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &wrong);
	r = get_props(b, &o);
	check(r == -EACCES, "wrong key -> -EACCES (HEAD)", "res %d %s", r, o.msg);
	r = read_one(b, 0, buf, 100, &o, 10000);
	check(r == -EACCES && strstr(o.msg, "AZURE_STORAGE_KEY"),
	      "wrong key -> -EACCES (GET) naming the option", "res %d %s", r, o.msg);
	mc_blob_close(b);

	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", NULL);
	r = get_props(b, &o);
	check(r < 0, "anonymous on a private container fails", "res %d %s", r, o.msg);
	mc_blob_close(b);
}

static void test_sas(struct mc_blob_client *c, const unsigned char *key)
{
	struct az_cred cr = { .kind = AZ_AUTH_SAS };
	char url[4096], err[256];
	struct mc_blob *b;
	struct op o;
	int r;

	az_sas_blob(DEV_ACCOUNT, key, 64, CONTAINER, "data/one.bin", "r", NULL,
		    "2099-01-01T00:00:00Z", cr.sas, sizeof(cr.sas));
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	r = read_one(b, 1000, buf, 4096, &o, 10000);
	check(r == 0 && !memcmp(buf, data + 1000, 4096), "service SAS read",
	      "res %d %s", r, o.msg);
	mc_blob_close(b);

	snprintf(url, sizeof(url), "%s/" DEV_ACCOUNT "/" CONTAINER "/data/one.bin?%s",
		 endpoint, cr.sas);
	r = mc_blob_open(c, url, NULL, &b, err, sizeof(err));
	if (!r) {
		r = read_one(b, 0, buf, 4096, &o, 10000);
		mc_blob_close(b);
	}
	check(r == 0 && !memcmp(buf, data, 4096), "SAS in the URL", "res %d %s", r, o.msg);

	az_sas_blob(DEV_ACCOUNT, key, 64, CONTAINER, "data/one.bin", "r", NULL,
		    "2001-01-01T00:00:00Z", cr.sas, sizeof(cr.sas));
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	r = read_one(b, 0, buf, 4096, &o, 10000);
	check(r == -EACCES, "expired SAS -> -EACCES", "res %d %s", r, o.msg);
	mc_blob_close(b);
}

static void test_stale(struct mc_blob_client *c, const unsigned char *key)
{
	struct az_cred cr = key_cred(key);
	struct mc_blob_stats st;
	struct mc_blob *b;
	struct op o;
	int r;

	b = open_blob(c, endpoint, CONTAINER "/data/changing.bin", &cr);
	get_props(b, &o);
	mc_blob_pin(b, &o.props);
	r = read_one(b, 0, buf, 1000, &o, 10000);
	check(r == 0 && !memcmp(buf, data + 1, 1000), "read of the pinned version",
	      "res %d %s", r, o.msg);
	bp_put_blob(&acct, CONTAINER, "data/changing.bin", data + 2, 4096);
	r = read_one(b, 0, buf, 1000, &o, 10000);
	mc_blob_stats(b, &st);
	check(r == -ESTALE && st.stale == 1 && st.retries == 0,
	      "blob overwritten after pin -> -ESTALE, no retry", "res %d stale %llu %s",
	      r, (unsigned long long)st.stale, o.msg);
	mc_blob_close(b);
}

static void test_cancel(struct mc_blob_client *c, const unsigned char *key)
{
	struct az_cred cr = key_cred(key);
	struct op ops[8];
	struct mc_blob *b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	int ok = 0;

	memset(ops, 0, sizeof(ops));
	for (int i = 0; i < 8; i++)
		mc_blob_read(b, (uint64_t)i * 4096, buf + i * 4096, 4096, read_cb, &ops[i]);
	mc_loop_run_once(loop, 0);
	mc_blob_close(b);
	for (int i = 0; i < 8; i++)
		ok += ops[i].done && ops[i].res == -ECANCELED;
	check(ok == 8, "close cancels outstanding reads with -ECANCELED", "%d of 8", ok);
}

static void test_refused(const unsigned char *key, int dead_port)
{
	struct mc_blob_client *c = client(4, 3, 1000, 10000);
	struct az_cred cr = key_cred(key);
	char base[64];
	struct mc_blob_stats st;
	struct mc_blob *b;
	struct op o;
	int r;

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", dead_port);
	b = open_blob(c, base, CONTAINER "/data/one.bin", &cr);
	r = read_one(b, 0, buf, 100, &o, 20000);
	mc_blob_stats(b, &st);
	check(r == -ETIMEDOUT && st.retries == 3 && st.gets == 4,
	      "connection refused -> retries then -ETIMEDOUT", "res %d retries %llu gets %llu %s",
	      r, (unsigned long long)st.retries, (unsigned long long)st.gets, o.msg);
	mc_blob_client_free(c);
}

static void test_stopped(const unsigned char *key, pid_t azurite)
{
	struct mc_blob_client *c = client(4, 10, 400, 2500);
	struct az_cred cr = key_cred(key);
	struct mc_blob_stats st;
	struct mc_blob *b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	struct op o;
	uint64_t t0;
	int r;

	r = read_one(b, 0, buf, 4096, &o, 10000);	/* a warm connection */
	if (kill(azurite, SIGSTOP)) {
		check(false, "stop Azurite", "%s", strerror(errno));
		return;
	}
	t0 = mc_now_ms();
	r = read_one(b, 4096, buf, 4096, &o, 10000);
	t0 = mc_now_ms() - t0;
	mc_blob_stats(b, &st);
	kill(azurite, SIGCONT);
	check(r == -ETIMEDOUT && st.retries >= 1 && t0 <= 2500 + 500,
	      "stopped service -> retries then -ETIMEDOUT within the deadline",
	      "res %d after %llu ms, %llu retries: %s", r, (unsigned long long)t0,
	      (unsigned long long)st.retries, o.msg);
	r = read_one(b, 8192, buf, 4096, &o, 10000);
	check(r == 0 && !memcmp(buf, data + 8192, 4096),
	      "reads work again after the service continues", "res %d %s", r, o.msg);
	mc_blob_close(b);
	mc_blob_client_free(c);
}

/*
 * A bearer token is read with the credential code's one secret-file reader:
 * a file with a NUL byte, or a directory, is refused like any secret file
 * (before, the blob client had a reader of its own without these checks).
 * Loopback over http is allowed for bearer (an emulator).
 */
static void test_token_files(struct mc_blob_client *c)
{
	struct az_cred cr = { .kind = AZ_AUTH_BEARER };
	static const char nul[] = "eyJ0eXAi\0trailing";
	char path[] = "/tmp/mc-token-XXXXXX";
	struct mc_blob *b;
	struct op o;
	int fd, r;
	FILE *f;

	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fwrite(nul, 1, sizeof(nul) - 1, f) != sizeof(nul) - 1 || fclose(f)) {
		check(false, "token file", "cannot write %s", path);
		return;
	}
	strcpy(cr.token_file, path);
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	r = b ? read_one(b, 0, buf, 4096, &o, 10000) : -1;
	check(r == -EACCES && strstr(o.msg, "NUL byte"), "bearer token file with a NUL byte refused",
	      "res %d %s", r, o.msg);
	if (b)
		mc_blob_close(b);
	strcpy(cr.token_file, "/tmp");
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	r = b ? read_one(b, 0, buf, 4096, &o, 10000) : -1;
	check(r == -EACCES && strstr(o.msg, "not a regular file"),
	      "bearer token file that is a directory refused", "res %d %s", r, o.msg);
	if (b)
		mc_blob_close(b);
	remove(path);
}

static void test_open_errors(struct mc_blob_client *c)
{
	struct az_cred cr = { .kind = AZ_AUTH_BEARER };
	struct mc_blob *b;
	char err[512];
	int r;

	strcpy(cr.token_file, "/nonexistent");
	r = mc_blob_open(c, "http://10.0.0.1:10000/acct/cont/blob", &cr, &b, err, sizeof(err));
	check(r == -EINVAL && strstr(err, "https"), "bearer over plain http refused",
	      "res %d %s", r, err);
	r = mc_blob_open(c, "ftp://x.blob.core.windows.net/c/b", NULL, &b, err, sizeof(err));
	check(r == -EINVAL && strstr(err, "unsupported scheme 'ftp'"),
	      "bad URL refused with a message", "%s", err);
}

int main(int argc, char **argv)
{
	enum mc_engine engine = MC_ENGINE_AUTO;
	struct mc_blob_client *c;
	struct az_cred cr;
	struct mc_blob *b;
	unsigned char key[64];
	char err[256];
	long st;

	if (argc < 4) {
		fprintf(stderr, "usage: %s PORT AZURITE_PID DEAD_PORT [ENGINE]\n", argv[0]);
		return 2;
	}
	if (argc > 4 && mc_engine_parse(argv[4], &engine)) {
		fprintf(stderr, "unknown engine '%s'\n", argv[4]);
		return 2;
	}
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%s", argv[1]);
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
	fill(data, BLOB_SIZE, 42);
	st = bp_create_container(&acct, CONTAINER);
	check(st == 201 || st == 409, "create container", "HTTP %ld", st);
	st = bp_put_blob(&acct, CONTAINER, "data/one.bin", data, BLOB_SIZE);
	check(st == 201, "put blob", "HTTP %ld", st);
	st = bp_put_blob(&acct, CONTAINER, "dir/with%20space%2Bplus.bin", data, 4096);
	check(st == 201, "put blob with an escaped name", "HTTP %ld", st);
	st = bp_put_blob(&acct, CONTAINER, "data/changing.bin", data + 1, 4096);
	check(st == 201, "put blob to change later", "HTTP %ld", st);

	c = client(4, 3, 10000, 60000);
	cr = key_cred(key);
	b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
	if (!b)
		return 1;
	test_props_and_ranges(b);
	test_parallel(c, b);
	test_split(c, b);
	mc_blob_close(b);
	{
		struct op o;
		int r;

		b = open_blob(c, endpoint, CONTAINER "/dir/with space+plus.bin", &cr);
		r = read_one(b, 0, buf, 4096, &o, 10000);
		check(r == 0 && !memcmp(buf, data, 4096),
		      "blob name with a space and '+' (escaped and signed)", "res %d %s", r, o.msg);
		mc_blob_close(b);
	}
	{
		/* Unpinned: the range goes to the service as asked. */
		struct op o;
		int r;

		b = open_blob(c, endpoint, CONTAINER "/data/one.bin", &cr);
		r = read_one(b, BLOB_SIZE + 100, buf, 10, &o, 10000);
		check(r == -ERANGE, "unpinned read starting past the end -> 416 -> -ERANGE",
		      "res %d %s", r, o.msg);
		r = read_one(b, BLOB_SIZE - 10, buf, 20, &o, 10000);
		check(r == -EPROTO, "unpinned read across the end -> clipped 206 -> -EPROTO",
		      "res %d %s", r, o.msg);
		mc_blob_close(b);
	}
	test_errors(c, key);
	test_sas(c, key);
	test_stale(c, key);
	test_cancel(c, key);
	test_open_errors(c);
	test_token_files(c);
	mc_blob_client_free(c);
	test_refused(key, atoi(argv[3]));
	test_stopped(key, (pid_t)atoi(argv[2]));

	mc_loop_free(loop);
	free(data);
	free(buf);
	printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
