// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicache-agent's datasets file (agent/datasets.h): every
 * key, the checks of a section and between sections, each bad input with
 * the line and key its message must name, and the record written and read
 * back.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets.h"
#include "check_run.h"

#define ROOT	"/mnt/maicache"

static char tmpdir[64];
static char path[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check_datasets.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/datasets", tmpdir);
}

static void teardown(void)
{
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(tmpdir);
}

static int parse(const char *text, struct mc_datasets *out, char *err, size_t len)
{
	return mc_datasets_parse(text, strlen(text), "datasets", ROOT, out, err, len);
}

static const char good[] =
	"# two datasets\n"
	"\n"
	"[dataset imagenet]\n"
	"source = https://acct.blob.core.windows.net/datasets/imagenet.erofs\n"
	"  mount   =   /mnt/maicache/imagenet  \n"
	"fstype = erofs\n"
	"extent_size = 4M\n"
	"sas_file = /etc/maicache-agent/secrets/imagenet.sas\n"
	"\t# a comment inside a section\n"
	"[ dataset  eval.v2 ]\r\n"
	"source = file:///srv/images/eval.ext4\r\n"
	"mount = /mnt/maicache/eval/v2\r\n"
	"options = norecovery\n"
	"[dataset public]\n"
	"source = http://127.0.0.1:10000/devstoreaccount1/c/public.img\n"
	"mount = /mnt/maicache/public\n"
	"anonymous = yes";	/* no final newline */

START_TEST(every_key)
{
	struct mc_datasets s;
	const struct mc_dataset *d;
	char err[512] = "";

	ck_assert_msg(parse(good, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 3);
	d = &s.ds[0];
	ck_assert_str_eq(d->name, "imagenet");
	ck_assert_str_eq(d->source, "https://acct.blob.core.windows.net/datasets/imagenet.erofs");
	ck_assert_str_eq(d->mount, "/mnt/maicache/imagenet");
	ck_assert_str_eq(d->fstype, "erofs");
	ck_assert_uint_eq(d->extent_size, 4U << 20);
	ck_assert_str_eq(d->sas_file, "/etc/maicache-agent/secrets/imagenet.sas");
	ck_assert_str_eq(d->options, "");
	ck_assert(!d->anonymous);
	ck_assert_uint_eq(d->line, 3);
	d = mc_datasets_find(&s, "eval.v2");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->source, "file:///srv/images/eval.ext4");
	ck_assert_str_eq(d->mount, "/mnt/maicache/eval/v2");
	ck_assert_str_eq(d->fstype, "auto");
	ck_assert_str_eq(d->options, "norecovery");
	ck_assert_uint_eq(d->extent_size, 0);
	ck_assert_uint_eq(d->line, 10);
	d = mc_datasets_find(&s, "public");
	ck_assert_ptr_nonnull(d);
	ck_assert(d->anonymous);
	ck_assert_ptr_null(mc_datasets_find(&s, "imagenet2"));
	mc_datasets_free(&s);
}
END_TEST

START_TEST(empty_file_is_no_datasets)
{
	struct mc_datasets s;
	char err[256] = "";

	ck_assert_int_eq(parse("", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(parse("# nothing yet\n\n   \n", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	mc_datasets_free(&s);
}
END_TEST

/* A bad file, and what its message must say (file:line, dataset, key). */
static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{ "source = file:///a\n", "datasets:1: source: outside a [dataset NAME] section" },
	{ "[dataset a]\nsource file:///a\n", "datasets:2: dataset a: missing '='" },
	{ "[dataset a\n", "datasets:1: a section line ends with ']'" },
	{ "[volume a]\n", "datasets:1: not a [dataset NAME] section" },
	{ "[dataset]\n", "datasets:1: not a [dataset NAME] section" },
	{ "[dataset a/b]\n", "datasets:1: dataset 'a/b': volume name may hold only" },
	{ "[dataset -a]\n", "datasets:1: dataset '-a': volume name must not start with" },
	{ "[dataset a b]\n", "datasets:1: dataset 'a b': volume name may hold only" },
	{ "[dataset aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
	  "volume name longer than 63 bytes" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\n[dataset a]\n",
	  "datasets:4: dataset a is already defined on line 1" },
	{ "[dataset a]\nmount = /mnt/maicache/a\n", "datasets:1: dataset a: no source" },
	{ "[dataset a]\nsource = file:///a\n", "datasets:1: dataset a: no mount" },
	{ "[dataset a]\nsource = file:///a\n[dataset b]\n", "datasets:1: dataset a: no mount" },
	{ "[dataset a]\nsource = s3://bucket/a\n", "datasets:2: dataset a: source: 's3://bucket/a' is not https://" },
	{ "[dataset a]\nsource = file:a.img\n", "datasets:2: dataset a: source: 'file:a.img' is not" },
	{ "[dataset a]\nsource = https://x.blob.core.windows.net/c/b?sv=1&sig=2\n",
	  "datasets:2: dataset a: source: a SAS in the URL is a secret" },
	{ "[dataset a]\nsource = file:///a b\n", "source: the URL holds a space" },
	{ "[dataset a]\nsource = file:///a\nsource = file:///b\n",
	  "datasets:3: dataset a: source: already set on line 2" },
	{ "[dataset a]\nsource =\n", "datasets:2: dataset a: source: no value" },
	{ "[dataset a]\nmount = mnt/a\n", "datasets:2: dataset a: mount: 'mnt/a' not an absolute path" },
	{ "[dataset a]\nmount = /mnt/maicache/a/\n", "mount: '/mnt/maicache/a/' ends with '/'" },
	{ "[dataset a]\nmount = /mnt/maicache//a\n", "mount: '/mnt/maicache//a' holds '//'" },
	{ "[dataset a]\nmount = /mnt/maicache/../etc\n", "holds a '..' component" },
	{ "[dataset a]\nmount = /mnt/maicache/./a\n", "holds a '.' component" },
	{ "[dataset a]\nmount = /\n", "mount: '/' is / itself" },
	{ "[dataset a]\nsource = file:///a\nmount = /data/a\n",
	  "datasets:3: dataset a: mount: /data/a is not under /mnt/maicache" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache2/a\n",
	  "mount: /mnt/maicache2/a is not under /mnt/maicache" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache\n",
	  "datasets:3: dataset a: mount: /mnt/maicache is the mount root itself" },
	{ "[dataset a]\nfstype = btrfs\n", "datasets:2: dataset a: fstype: 'btrfs' is not auto, erofs, ext4, squashfs or xfs" },
	{ "[dataset a]\nfstype = erofs # the image\n", "fstype: 'erofs # the image' is not auto" },
	{ "[dataset a]\noptions = ro, noload\n", "datasets:2: dataset a: options: mount options are one word" },
	{ "[dataset a]\nextent_size = 3M\n", "datasets:2: dataset a: extent_size: '3M' is not a power of two from 64K to 4M" },
	{ "[dataset a]\nextent_size = 32K\n", "extent_size: '32K' is not a power of two" },
	{ "[dataset a]\nextent_size = 8M\n", "extent_size: '8M' is not a power of two" },
	{ "[dataset a]\nextent_size = lots\n", "extent_size: 'lots' is not a power of two" },
	{ "[dataset a]\nanonymous = maybe\n", "datasets:2: dataset a: anonymous: 'maybe' is not yes or no" },
	{ "[dataset a]\nsize = 1G\n", "datasets:2: dataset a: unknown key 'size' (source, mount," },
	{ "[dataset a]\nkey = c2VjcmV0\n", "datasets:2: dataset a: key: a secret does not belong in the datasets file: put it in a file (a Secret) and name it with account_key_file" },
	{ "[dataset a]\nsas = sv=1&sig=2\n", "dataset a: sas: a secret does not belong in the datasets file: put it in a file (a Secret) and name it with sas_file" },
	{ "[dataset a]\nconnection_string = AccountName=x\n", "connection_string: a secret does not belong" },
	{ "[dataset a]\nsource = https://x.blob.core.windows.net/c/b\nmount = /mnt/maicache/a\n"
	  "sas_file = /s/a.sas\ntoken_file = /s/a.token\n",
	  "datasets:5: dataset a: token_file: sas_file is already set on line 4: at most one credential" },
	{ "[dataset a]\nsource = https://x.blob.core.windows.net/c/b\nmount = /mnt/maicache/a\n"
	  "anonymous = yes\naccount_key_file = /s/k\n",
	  "datasets:5: dataset a: account_key_file: anonymous is already set on line 4" },
	{ "[dataset a]\nsource = https://x.blob.core.windows.net/c/b\nmount = /mnt/maicache/a\n"
	  "token_file = /s/t\nsas_file = /s/a.sas\n",
	  "datasets:5: dataset a: sas_file: token_file is already set on line 4" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\nsas_file = /s/a.sas\n",
	  "datasets:4: dataset a: sas_file: a file source takes no credential" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\n"
	  "[dataset b]\nsource = file:///a\nmount = /mnt/maicache/b\n",
	  "datasets:5: dataset b: source: also dataset a's (line 1): a source is attached once" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\n"
	  "[dataset b]\nsource = file:///b\nmount = /mnt/maicache/a\n",
	  "datasets:6: dataset b: mount: /mnt/maicache/a is also dataset a's mount /mnt/maicache/a (line 1)" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a/b\n"
	  "[dataset b]\nsource = file:///b\nmount = /mnt/maicache/a\n",
	  "datasets:6: dataset b: mount: /mnt/maicache/a holds dataset a's mount /mnt/maicache/a/b" },
	{ "[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\n"
	  "[dataset b]\nsource = file:///b\nmount = /mnt/maicache/a/x\n",
	  "mount: /mnt/maicache/a/x is inside dataset a's mount" },
};

START_TEST(rejects)
{
	struct mc_datasets s = { .n = 99 };
	char err[1024] = "";

	ck_assert_msg(parse(bad[_i].text, &s, err, sizeof(err)) == -EINVAL,
		      "accepted: %s", bad[_i].text);
	ck_assert_msg(strstr(err, bad[_i].msg), "for\n%s\nwant '%s'\ngot  '%s'",
		      bad[_i].text, bad[_i].msg, err);
	/* A file with an error loads nothing. */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(s.ds);
}
END_TEST

/* Two sections apart on the same prefix are no nesting: /a and /ab. */
START_TEST(prefix_is_not_nesting)
{
	static const char text[] =
		"[dataset a]\nsource = file:///a\nmount = /mnt/maicache/a\n"
		"[dataset ab]\nsource = file:///ab\nmount = /mnt/maicache/ab\n";
	struct mc_datasets s;
	char err[512] = "";

	ck_assert_msg(parse(text, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 2);
	mc_datasets_free(&s);
	/* Without a mount root, any absolute path. */
	static const char anywhere[] = "[dataset a]\nsource = file:///a\nmount = /data/a\n"
		"[dataset b]\nsource = https://x.blob.core.windows.net/c/b\nmount = /data/b\n"
		"anonymous = no\ntoken_file = /s/t\n";

	ck_assert_msg(mc_datasets_parse(anywhere, strlen(anywhere), "x", NULL, &s, err,
					sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.ds[1].token_file, "/s/t");
	mc_datasets_free(&s);
}
END_TEST

START_TEST(bad_bytes)
{
	static const char nul[] = "[dataset a]\nsource = file:///a\0b\nmount = /mnt/maicache/a\n";
	char *big = malloc(9000 + 64);
	struct mc_datasets s;
	char err[512] = "";

	ck_assert_int_eq(mc_datasets_parse(nul, sizeof(nul) - 1, "datasets", ROOT, &s, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "datasets:2: dataset a: holds a NUL byte"), "%s", err);
	strcpy(big, "[dataset a]\nsource = file:///");
	memset(big + strlen(big), 'x', 9000);
	big[29 + 9000] = '\0';
	ck_assert_int_eq(parse(big, &s, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "datasets:2: dataset a: line longer than 8192 bytes"), "%s", err);
	free(big);
	ck_assert_int_eq(parse("[dataset a]\nsource = file:///\x01x\n", &s, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "control character"), "%s", err);
}
END_TEST

START_TEST(too_many)
{
	size_t cap = (MC_DS_MAX + 1) * 96, len = 0;
	char *text = malloc(cap);
	struct mc_datasets s;
	char err[512] = "";

	for (int i = 0; i <= MC_DS_MAX; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"[dataset d%d]\nsource = file:///d%d\nmount = /mnt/maicache/d%d\n",
					i, i, i);
	ck_assert_int_eq(parse(text, &s, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "dataset d256: too many datasets (at most 256)"), "%s", err);
	/* One fewer loads. */
	*strstr(text, "[dataset d256]") = '\0';
	ck_assert_msg(parse(text, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n, MC_DS_MAX);
	mc_datasets_free(&s);
	free(text);
}
END_TEST

static void write_file(const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

START_TEST(load_file)
{
	struct mc_datasets s;
	char err[512] = "";
	char *big;

	ck_assert_int_eq(mc_datasets_load(path, ROOT, &s, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "No such file or directory") && strstr(err, path), "%s", err);
	ck_assert_int_eq(mc_datasets_load(tmpdir, ROOT, &s, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
	write_file(good, strlen(good));
	ck_assert_msg(mc_datasets_load(path, ROOT, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 3);
	mc_datasets_free(&s);
	/* Errors name the file. */
	write_file("[dataset a]\nfstype = zfs\n", 25);
	ck_assert_int_eq(mc_datasets_load(path, ROOT, &s, err, sizeof(err)), -EINVAL);
	ck_assert_msg(!strncmp(err, path, strlen(path)) && strstr(err, ":2: dataset a: fstype"), "%s", err);
	big = calloc(1, MC_DS_FILE_MAX + 1);
	memset(big, '#', MC_DS_FILE_MAX + 1);
	write_file(big, MC_DS_FILE_MAX + 1);
	ck_assert_int_eq(mc_datasets_load(path, ROOT, &s, err, sizeof(err)), -EFBIG);
	ck_assert_msg(strstr(err, "larger than 1 MiB"), "%s", err);
	free(big);
}
END_TEST

/* The record: written in the file's format, read back the same. */
START_TEST(save_and_load)
{
	struct mc_datasets s, back;
	char err[512] = "";
	struct stat st;

	ck_assert_msg(parse(good, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(mc_datasets_save(path, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_msg(mc_datasets_load(path, NULL, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n, s.n);
	for (size_t i = 0; i < s.n; i++)
		ck_assert_msg(mc_dataset_same(&s.ds[i], &back.ds[i]), "dataset %zu", i);
	mc_datasets_free(&back);
	/* Remove one, save, and only the others come back. */
	mc_datasets_remove(&s, "eval.v2");
	ck_assert_uint_eq(s.n, 2);
	ck_assert_ptr_null(mc_datasets_find(&s, "eval.v2"));
	ck_assert_str_eq(s.ds[1].name, "public");
	ck_assert_int_eq(mc_datasets_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(mc_datasets_load(path, NULL, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n, 2);
	ck_assert_ptr_null(mc_datasets_find(&back, "eval.v2"));
	mc_datasets_free(&back);
	/* Nothing recorded is an empty file, which loads. */
	mc_datasets_free(&s);
	ck_assert_int_eq(mc_datasets_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(mc_datasets_load(path, NULL, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n, 0);
	/* A directory that is not there: an error naming it. */
	ck_assert_int_eq(mc_datasets_save("/nonexistent-dir/state", &s, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "/nonexistent-dir/state.tmp"), "%s", err);
}
END_TEST

START_TEST(same_compares_every_field)
{
	struct mc_datasets s;
	struct mc_dataset a, b;
	char err[512] = "";

	ck_assert_int_eq(parse(good, &s, err, sizeof(err)), 0);
	a = s.ds[0];
	b = a;
	b.line = 99;
	ck_assert(mc_dataset_same(&a, &b));
	b = a; strcpy(b.source, "file:///other"); ck_assert(!mc_dataset_same(&a, &b));
	b = a; strcpy(b.mount, "/mnt/maicache/x"); ck_assert(!mc_dataset_same(&a, &b));
	b = a; strcpy(b.fstype, "auto"); ck_assert(!mc_dataset_same(&a, &b));
	b = a; strcpy(b.options, "norecovery"); ck_assert(!mc_dataset_same(&a, &b));
	b = a; b.extent_size = 1 << 20; ck_assert(!mc_dataset_same(&a, &b));
	b = a; strcpy(b.sas_file, "/s/other"); ck_assert(!mc_dataset_same(&a, &b));
	b = a; b.anonymous = true; ck_assert(!mc_dataset_same(&a, &b));
	mc_datasets_free(&s);
}
END_TEST

static Suite *datasets_suite(void)
{
	Suite *s = suite_create("datasets");
	TCase *tc = tcase_create("datasets");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, empty_file_is_no_datasets);
	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, prefix_is_not_nesting);
	tcase_add_test(tc, bad_bytes);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, save_and_load);
	tcase_add_test(tc, same_compares_every_field);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(datasets_suite());
}
