// SPDX-License-Identifier: MIT
/*
 * Unit tests for the static membership file (peer/members.c): good files
 * load in id order, and every kind of bad line is refused with file:line,
 * leaving the previous membership in place.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "members.h"

#define ID1 "3f9a1c0e5b7d2468ace0135792468ace"
#define ID2 "0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6"

START_TEST(good_file)
{
	struct mc_members ms = { 0 };
	struct mc_placement p = { 0 };
	struct mc_node_id id;
	char err[256] = "";

	ck_assert_msg(mc_members_parse("# the group\n"
				       ID1 "  10.1.0.5:7117  westeurope\n"
				       "\n"
				       "   " ID2 "\t[fd00::7]:7117   # a comment\n",
				       "m", &ms, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ms.n, 2);
	/* Sorted by id. */
	ck_assert_str_eq(ms.m[0].host, "fd00::7");
	ck_assert_str_eq(ms.m[0].port, "7117");
	ck_assert_str_eq(ms.m[0].region, "");
	ck_assert_str_eq(ms.m[1].host, "10.1.0.5");
	ck_assert_str_eq(ms.m[1].region, "westeurope");
	ck_assert_int_eq(mc_node_id_parse(ID1, 32, &id), 0);
	ck_assert_ptr_eq(mc_members_find(&ms, &id), &ms.m[1]);
	ck_assert_int_eq(mc_members_placement(&ms, &p), 0);
	ck_assert_uint_eq(p.n, 2);
	mc_placement_free(&p);
	mc_members_free(&ms);
}
END_TEST

static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ ID1 "\n", "m:1: want NODE-ID ADDRESS:PORT [REGION]" },
	{ ID1 " 10.0.0.1:1 eu extra\n", "m:1: want NODE-ID" },
	{ "\n" ID1 "x 10.0.0.1:1\n", "m:2: '" ID1 "x' is not a node id" },
	{ "3f9a1c0e5b7d2468ace0135792468acg 10.0.0.1:1\n", "is not a node id" },
	{ ID1 " 10.0.0.1\n", "not a numeric address with a port" },
	{ ID1 " 10.0.0.1:0\n", "not a numeric address" },
	{ ID1 " 10.0.0.1:65536\n", "not a numeric address" },
	{ ID1 " node5.example:7117\n", "not a numeric address" },
	{ ID1 " [fd00::7:7117\n", "not a numeric address" },
	{ ID1 " fd00::7:7117\n", "not a numeric address" },
	{ ID1 " 10.0.0.1:7117 West_Europe\n", "region 'West_Europe'" },
	{ ID1 " 10.0.0.1:1\n" ID1 " 10.0.0.2:1\n", "is listed twice" },
};

START_TEST(bad_lines)
{
	struct mc_members ms = { 0 };
	char err[256] = "";

	/* A membership already in place survives the bad file. */
	ck_assert_int_eq(mc_members_parse(ID2 " 10.9.9.9:9\n", "m", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(mc_members_parse(bad[_i].text, "m", &ms, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad[_i].want), "want '%s', got '%s'", bad[_i].want, err);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_str_eq(ms.m[0].host, "10.9.9.9");
	mc_members_free(&ms);
}
END_TEST

START_TEST(load_from_file)
{
	char path[] = "/tmp/mc-members-XXXXXX", err[256] = "";
	struct mc_members ms = { 0 };
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "%s 127.0.0.1:7117\n", ID1);
	fclose(f);
	ck_assert_msg(mc_members_load(path, &ms, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ms.n, 1);
	remove(path);
	ck_assert_int_eq(mc_members_load(path, &ms, err, sizeof(err)), -ENOENT);
	ck_assert_uint_eq(ms.n, 1);
	ck_assert_int_eq(mc_members_load("/tmp", &ms, err, sizeof(err)), -EINVAL);
	mc_members_free(&ms);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("members");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, good_file);
	tcase_add_loop_test(tc, bad_lines, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, load_from_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
