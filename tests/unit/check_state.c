// SPDX-License-Identifier: MIT
/*
 * Unit tests for the daemon's device records: round trip, atomic replace,
 * permissions, corrupt files skipped, and record validation.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "az_cred.h"
#include "ctl_msg.h"
#include "state.h"
#include "check_run.h"

static char tmpdir[64];
static char statedir[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check_state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* two levels that do not exist yet */
	snprintf(statedir, sizeof(statedir), "%s/var/maicache", tmpdir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The source's arguments as the daemon gets them: from cred.* fields. */
static struct mc_source_args *args_of(const struct az_cred *c, const char *url)
{
	struct mc_msg *m = malloc(sizeof(*m));
	struct mc_source_args *a = NULL;
	char err[256] = "";

	ck_assert_ptr_nonnull(m);
	mc_msg_init(m);
	ck_assert_int_eq(az_cred_to_msg(c, m, "cred."), 0);
	ck_assert_msg(mc_source_args_from_msg(url, m, &a, err, sizeof(err)) == 0, "%s", err);
	mc_msg_wipe(m);
	free(m);
	return a;
}

/* Two records are the same when they encode to the same message. */
static void assert_same_record(const struct mc_dev_record *a,
			       const struct mc_dev_record *b)
{
	static char ea[MC_MSG_MAX], eb[MC_MSG_MAX];
	struct mc_msg *ma = malloc(sizeof(*ma)), *mb = malloc(sizeof(*mb));
	long la, lb;

	mc_msg_init(ma);
	mc_msg_init(mb);
	ck_assert_int_eq(mc_dev_record_to_msg(a, ma), 0);
	ck_assert_int_eq(mc_dev_record_to_msg(b, mb), 0);
	la = mc_msg_encode(ma, ea, sizeof(ea));
	lb = mc_msg_encode(mb, eb, sizeof(eb));
	ck_assert_int_gt(la, 0);
	ck_assert_int_eq(la, lb);
	ck_assert_mem_eq(ea, eb, (size_t)la);
	ck_assert_uint_eq(a->cookie, b->cookie);
	ck_assert_uint_eq(a->stale, b->stale);
	mc_msg_wipe(ma);
	mc_msg_wipe(mb);
	free(ma);
	free(mb);
}

static void record_free(struct mc_dev_record *r)
{
	mc_dev_record_clear(r);
	free(r);
}

static struct mc_dev_record *make_record(uint64_t cookie, enum az_auth kind)
{
	struct mc_dev_record *r = calloc(1, sizeof(*r));
	struct az_cred cred = { 0 };

	ck_assert_ptr_nonnull(r);
	r->cookie = cookie;
	r->dev_id = (uint32_t)(cookie % 1000);
	snprintf(r->name, sizeof(r->name), "train-%llu", (unsigned long long)cookie);
	snprintf(r->url, sizeof(r->url),
		 "https://acct1.blob.core.windows.net/data/shard-%llu.bin",
		 (unsigned long long)cookie);
	r->extent_size = 1 << 20;
	r->size = 10ULL << 30;
	strcpy(r->etag, "\"0x8DC0A1B2C3D4E5F\"");
	cred.kind = kind;
	strcpy(cred.account, "acct1");
	strcpy(cred.origin, "AZURE_STORAGE_KEY");
	if (kind == AZ_AUTH_SHARED_KEY) {
		for (int i = 0; i < 64; i++)
			cred.key[i] = (unsigned char)(i * 7 + cookie);
		cred.key_len = 64;
	} else if (kind == AZ_AUTH_SAS) {
		strcpy(cred.sas, "sv=2022-11-02&sp=r&sig=abc%2B");
		r->stale = true;	/* a stale volume stays stale */
	} else if (kind == AZ_AUTH_BEARER) {
		strcpy(cred.token_file, "/run/secrets/token");
	}
	r->args = args_of(&cred, r->url);
	az_cred_wipe(&cred);
	return r;
}

static const char *record_path(uint64_t cookie)
{
	static char path[256];

	ck_assert_int_eq(mc_state_path(statedir, cookie, path, sizeof(path)), 0);
	return path;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(path_format)
{
	char buf[64];

	ck_assert_int_eq(mc_state_path("/var/lib/maicache", 0x5eed, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/lib/maicache/dev-0000000000005eed.conf");
	ck_assert_int_eq(mc_state_path("/var/lib/maicache", 0x5eed, buf, 20), -ENAMETOOLONG);
}
END_TEST

START_TEST(save_load_round_trip)
{
	struct mc_dev_record *a = make_record(0xfeedface12345678ULL, (enum az_auth)_i);
	struct mc_dev_record b;
	char err[512] = "";

	ck_assert_msg(mc_state_save(statedir, a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(mc_state_load(record_path(a->cookie), &b, err, sizeof(err)) == 0,
		      "%s", err);
	assert_same_record(a, &b);
	mc_dev_record_clear(&b);
	record_free(a);
}
END_TEST

START_TEST(permissions)
{
	struct mc_dev_record *a = make_record(1, AZ_AUTH_SHARED_KEY);
	char parent[160], err[512] = "";
	mode_t old = umask(0);	/* the modes must not depend on the umask */

	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	umask(old);
	snprintf(parent, sizeof(parent), "%s/var", tmpdir);
	ck_assert_uint_eq(mode_of(parent), 0700);
	ck_assert_uint_eq(mode_of(statedir), 0700);
	ck_assert_uint_eq(mode_of(record_path(1)), 0600);
	/* an existing directory is used as it is */
	ck_assert_int_eq(chmod(statedir, 0750), 0);
	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	ck_assert_uint_eq(mode_of(statedir), 0750);
	record_free(a);
}
END_TEST

START_TEST(atomic_replace)
{
	struct mc_dev_record *a = make_record(7, AZ_AUTH_SAS), b;
	char err[512] = "";
	struct stat st1, st2;

	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(record_path(7), &st1), 0);
	strcpy(a->etag, "\"0x2\"");
	a->dev_id = 42;
	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(record_path(7), &st2), 0);
	/* a new file renamed over the old one, not the old one rewritten */
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(mc_state_load(record_path(7), &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.etag, "\"0x2\"");
	ck_assert_uint_eq(b.dev_id, 42);
	mc_dev_record_clear(&b);
	/* no temporary file is left behind */
	ck_assert_int_eq(count_entries(statedir), 1);
	record_free(a);
}
END_TEST

START_TEST(remove_record)
{
	struct mc_dev_record *a = make_record(9, AZ_AUTH_NONE);
	char err[512] = "";

	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	ck_assert_int_eq(mc_state_remove(statedir, 9, err, sizeof(err)), 0);
	ck_assert_int_eq(access(record_path(9), F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(mc_state_remove(statedir, 9, err, sizeof(err)), 0);
	record_free(a);
}
END_TEST

struct seen {
	int good, bad;
	uint64_t cookies[8];
	char errors[8][512];
};

static void collect(void *arg, const char *path, struct mc_dev_record *r,
		    const char *error)
{
	struct seen *s = arg;

	ck_assert_ptr_nonnull(path);
	ck_assert((r == NULL) != (error == NULL));
	if (r) {
		ck_assert_int_lt(s->good, 8);
		s->cookies[s->good++] = r->cookie;
	} else {
		ck_assert_int_lt(s->bad, 8);
		snprintf(s->errors[s->bad++], sizeof(s->errors[0]), "%s", error);
	}
}

static void put(const char *name, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", statedir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static bool has_error(const struct seen *s, const char *want)
{
	for (int i = 0; i < s->bad; i++)
		if (strstr(s->errors[i], want))
			return true;
	return false;
}

START_TEST(load_all_skips_corrupt)
{
	struct mc_dev_record *a = make_record(3, AZ_AUTH_SHARED_KEY);
	struct mc_dev_record *b = make_record(0x10, AZ_AUTH_SAS);
	struct seen s = { 0 };
	char err[512] = "", path[256], link_target[256];
	int n;

	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	ck_assert_int_eq(mc_state_save(statedir, b, err, sizeof(err)), 0);
	put("dev-0000000000000001.conf", "format=maicache-dev/1\ncookie=1\n");
	put("dev-0000000000000002.conf", "garbage without equals\n");
	put("dev-0000000000000004.conf", "");
	/* a valid record under another cookie's name */
	snprintf(path, sizeof(path), "%s/dev-0000000000000005.conf", statedir);
	snprintf(link_target, sizeof(link_target), "%s", record_path(3));
	ck_assert_int_eq(link(link_target, path), 0);
	/* not records: ignored */
	put("README", "x");
	put("dev-00000000000000AB.conf", "x");
	put("dev-1.conf", "x");
	/* a save interrupted before its rename: removed */
	put(".dev-0000000000000003.conf.Ab12Cd", "format=maicache-dev/1\n");

	n = mc_state_load_all(statedir, collect, &s, err, sizeof(err));
	ck_assert_msg(n == 2, "%d: %s", n, err);
	ck_assert_int_eq(s.good, 2);
	ck_assert_uint_eq(s.cookies[0], 3);	/* name order */
	ck_assert_uint_eq(s.cookies[1], 0x10);
	ck_assert_int_eq(s.bad, 4);
	ck_assert_msg(has_error(&s, "dev-0000000000000001.conf: dev_id is missing"),
		      "%s", s.errors[0]);
	ck_assert_msg(has_error(&s, "dev-0000000000000002.conf: line 1: missing '='"),
		      "%s", s.errors[1]);
	ck_assert_msg(has_error(&s, "dev-0000000000000004.conf: format is not maicache-dev/1"),
		      "%s", s.errors[2]);
	ck_assert_msg(has_error(&s, "dev-0000000000000005.conf: holds cookie 0x0000000000000003"),
		      "%s", s.errors[3]);
	snprintf(path, sizeof(path), "%s/.dev-0000000000000003.conf.Ab12Cd", statedir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/README", statedir);
	ck_assert_int_eq(access(path, F_OK), 0);
	record_free(a);
	record_free(b);
}
END_TEST

START_TEST(load_all_creates_dir)
{
	struct seen s = { 0 };
	char err[512] = "";

	ck_assert_int_eq(mc_state_load_all(statedir, collect, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(mode_of(statedir), 0700);
	ck_assert_int_eq(s.good + s.bad, 0);
}
END_TEST

START_TEST(load_all_bad_dir)
{
	struct seen s = { 0 };
	char err[512] = "", file[160];
	int fd;

	snprintf(file, sizeof(file), "%s/file", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ck_assert_int_eq(mc_state_load_all(file, collect, &s, err, sizeof(err)), -ENOTDIR);
	ck_assert_msg(strstr(err, "not a directory"), "%s", err);
	snprintf(file, sizeof(file), "%s/file/sub", tmpdir);
	ck_assert_int_eq(mc_state_load_all(file, collect, &s, err, sizeof(err)), -ENOTDIR);
	ck_assert_msg(strstr(err, "state directory"), "%s", err);
}
END_TEST

START_TEST(symlinked_record_refused)
{
	struct mc_dev_record *a = make_record(3, AZ_AUTH_NONE), b;
	char err[512] = "", path[256];

	ck_assert_int_eq(mc_state_save(statedir, a, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/dev-0000000000000006.conf", statedir);
	ck_assert_int_eq(symlink(record_path(3), path), 0);
	ck_assert_int_eq(mc_state_load(path, &b, err, sizeof(err)), -ELOOP);
	record_free(a);
}
END_TEST

static const struct {
	const char *field;
	const char *value;	/* NULL: remove the field */
	const char *want;
} bad_field[] = {
	{ "format", "maicache-dev/2", "format is not maicache-dev/1" },
	{ "cookie", "-1", "cookie is not a number" },
	{ "dev_id", "4294967296", "dev_id 4294967296 is out of range" },
	{ "extent_size", "65535", "extent_size 65535 is not a power of two from 65536 to 4194304" },
	{ "extent_size", "8388608", "extent_size 8388608 is not a power of two" },
	{ "extent_size", "196608", "extent_size 196608 is not a power of two" },
	{ "size", "0", "size is 0" },
	{ "size", NULL, "size is missing" },
	{ "url", "", "url is empty" },
	{ "url", "http://x/\n", "url holds a control character" },
	{ "etag", NULL, "etag is missing" },
	{ "stale", "2", "stale is not 0 or 1" },
	{ "stale", "yes", "stale is not 0 or 1" },
	{ "name", NULL, "name is missing" },
	{ "cred.auth", "root", "cred.auth must be none" },
	{ "cred.key", "%%%", "cred.key is not valid base64" },
};

START_TEST(record_validation)
{
	struct mc_dev_record *a = make_record(11, AZ_AUTH_SHARED_KEY), b;
	struct mc_msg *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
	char err[512] = "";

	mc_msg_init(m);
	ck_assert_int_eq(mc_dev_record_to_msg(a, m), 0);
	/* rebuild with one field changed or dropped */
	mc_msg_init(m2);
	for (unsigned int i = 0; i < mc_msg_count(m); i++) {
		const char *k = mc_msg_key(m, i);

		if (strcmp(k, bad_field[_i].field))
			ck_assert_int_eq(mc_msg_add(m2, k, mc_msg_val(m, i)), 0);
		else if (bad_field[_i].value)
			ck_assert_int_eq(mc_msg_add(m2, k, bad_field[_i].value), 0);
	}
	ck_assert_int_eq(mc_dev_record_from_msg(&b, m2, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad_field[_i].want), "want '%s', got '%s'",
		      bad_field[_i].want, err);
	ck_assert_uint_eq(b.cookie, 0);
	ck_assert_ptr_null(b.args);
	/* the unchanged message is fine */
	ck_assert_msg(mc_dev_record_from_msg(&b, m, err, sizeof(err)) == 0, "%s", err);
	mc_dev_record_clear(&b);
	record_free(a);
	free(m);
	free(m2);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, path_format);
	tcase_add_loop_test(tc, save_load_round_trip, AZ_AUTH_NONE, AZ_AUTH_BEARER + 1);
	tcase_add_test(tc, permissions);
	tcase_add_test(tc, atomic_replace);
	tcase_add_test(tc, remove_record);
	tcase_add_test(tc, load_all_skips_corrupt);
	tcase_add_test(tc, load_all_creates_dir);
	tcase_add_test(tc, load_all_bad_dir);
	tcase_add_test(tc, symlinked_record_refused);
	tcase_add_loop_test(tc, record_validation, 0,
			    sizeof(bad_field) / sizeof(bad_field[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(state_suite());
}
