// SPDX-License-Identifier: MIT
/*
 * Unit tests for userd/az_url.c: both URL forms, path encoding, SAS query,
 * and the error messages of bad URLs (which must never repeat the SAS).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "az_url.h"
#include "check_run.h"

static struct az_url u;
static char err[512];

START_TEST(vhost_form)
{
	ck_assert_int_eq(az_url_parse("https://myacct.blob.core.windows.net/data/dir/sub/file.bin",
				      &u, err, sizeof(err)), 0);
	ck_assert(u.https);
	ck_assert(!u.path_style);
	ck_assert(!u.loopback);
	ck_assert_str_eq(u.host, "myacct.blob.core.windows.net");
	ck_assert_str_eq(u.account, "myacct");
	ck_assert_str_eq(u.container, "data");
	ck_assert_str_eq(u.blob, "dir/sub/file.bin");
	ck_assert_str_eq(u.path, "/data/dir/sub/file.bin");
	ck_assert_str_eq(u.query, "");
}
END_TEST

START_TEST(path_style_forms)
{
	ck_assert_int_eq(az_url_parse("http://127.0.0.1:10000/devstoreaccount1/c01/a/b",
				      &u, err, sizeof(err)), 0);
	ck_assert(!u.https);
	ck_assert(u.path_style);
	ck_assert(u.loopback);
	ck_assert_str_eq(u.host, "127.0.0.1:10000");
	ck_assert_str_eq(u.account, "devstoreaccount1");
	ck_assert_str_eq(u.container, "c01");
	ck_assert_str_eq(u.blob, "a/b");
	ck_assert_str_eq(u.path, "/devstoreaccount1/c01/a/b");

	ck_assert_int_eq(az_url_parse("HTTP://LocalHost:10000/acct/cont/b", &u,
				      err, sizeof(err)), 0);
	ck_assert(u.path_style && u.loopback);
	ck_assert_str_eq(u.account, "acct");

	/* An emulator reached by a service name: no ".blob." label. */
	ck_assert_int_eq(az_url_parse("http://azurite:10000/acct/cont/b", &u,
				      err, sizeof(err)), 0);
	ck_assert(u.path_style && !u.loopback);
	ck_assert_str_eq(u.account, "acct");

	ck_assert_int_eq(az_url_parse("http://[::1]:10000/acct/cont/b", &u,
				      err, sizeof(err)), 0);
	ck_assert(u.path_style && u.loopback);
	ck_assert_str_eq(u.host, "[::1]:10000");

	ck_assert_int_eq(az_url_parse("http://10.1.2.3/acct/cont/b", &u,
				      err, sizeof(err)), 0);
	ck_assert(u.path_style && !u.loopback);
}
END_TEST

START_TEST(secondary_signs_as_primary)
{
	ck_assert_int_eq(az_url_parse("https://acct-secondary.blob.core.windows.net/cont/b",
				      &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.account, "acct");
	ck_assert_str_eq(u.host, "acct-secondary.blob.core.windows.net");
}
END_TEST

START_TEST(encoding_kept_and_added)
{
	ck_assert_int_eq(az_url_parse("https://a1.blob.core.windows.net/cont/x%2By z%C3%A9",
				      &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.blob, "x+y z\xc3\xa9");
	ck_assert_str_eq(u.path, "/cont/x%2By%20z%C3%A9");
}
END_TEST

START_TEST(sas_query_kept)
{
	ck_assert_int_eq(az_url_parse("https://a1.blob.core.windows.net/cont/b?sv=2021-08-06&sig=abc%2B",
				      &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.query, "sv=2021-08-06&sig=abc%2B");
	ck_assert_str_eq(u.path, "/cont/b");
	az_url_base(&u, err, sizeof(err));
	ck_assert_str_eq(err, "https://a1.blob.core.windows.net/cont/b");
}
END_TEST

/* Each bad URL fails with a message that names the problem. */
static void bad(const char *url, const char *needle)
{
	ck_assert_int_eq(az_url_parse(url, &u, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, needle), "'%s': message '%s' lacks '%s'",
		      url, err, needle);
}

START_TEST(errors)
{
	bad("ftp://a.blob.core.windows.net/c/b", "unsupported scheme 'ftp'");
	bad("a.blob.core.windows.net/c/b", "not a URL");
	bad("https://a.blob.core.windows.net", "no container");
	bad("https://a.blob.core.windows.net/", "no container");
	bad("https://a.blob.core.windows.net/cont", "no blob name");
	bad("https://a.blob.core.windows.net/cont/", "no blob name");
	bad("http://127.0.0.1:10000/acct", "no container");
	bad("http://127.0.0.1:10000/", "no account");
	bad("http://127.0.0.1:10000/acct/cont", "no blob name");
	bad("https://a.blob.core.windows.net/Bad_Name/b", "invalid container name 'Bad_Name'");
	bad("https://a.blob.core.windows.net/ab/b", "invalid container name 'ab'");
	bad("https://a.blob.core.windows.net/cont/b%zz", "bad percent-escape");
	bad("https://a.blob.core.windows.net/cont/%00b", "a NUL byte (%00) in the blob name");
	bad("https://a.blob.core.windows.net/cont/b%00tail", "a NUL byte (%00) in the blob name");
	bad("http://127.0.0.1:10000/ac%00ct/cont/b", "a NUL byte (%00)");
	bad("https://u:p@a.blob.core.windows.net/cont/b", "'@'");
	bad("http://127.0.0.1:99999/acct/cont/b", "bad port");
	bad("http://127.0.0.1:/acct/cont/b", "bad port");
	bad("https:///cont/b", "no host");
	bad("https://a.blob.core.windows.net/cont/b#frag", "fragment");
	bad("http://127.0.0.1/ac%2Fct/cont/b", "invalid account name");
}
END_TEST

START_TEST(errors_hide_the_sas)
{
	bad("ftp://a.blob.core.windows.net/c/b?sig=SECRET", "ftp");
	ck_assert_ptr_null(strstr(err, "SECRET"));
	bad("https://a.blob.core.windows.net/cont?sig=SECRET", "no blob name");
	ck_assert_ptr_null(strstr(err, "SECRET"));
	ck_assert_ptr_null(strstr(err, "?"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("az_url");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vhost_form);
	tcase_add_test(tc, path_style_forms);
	tcase_add_test(tc, secondary_signs_as_primary);
	tcase_add_test(tc, encoding_kept_and_added);
	tcase_add_test(tc, sas_query_kept);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, errors_hide_the_sas);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
