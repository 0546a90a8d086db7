// SPDX-License-Identifier: MIT
/*
 * The default configuration the maicache package installs as
 * /etc/maicache/maicached.conf (dist/maicached.conf): it loads as it is;
 * its "# key = value" lines are the daemon's defaults, so that taking the
 * "# " away changes nothing; its "#   key = EXAMPLE" lines are values the
 * daemon accepts; and every key the daemon knows is in it, once.
 */
#include <check.h>
#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "check_run.h"

#ifndef MC_DIST_CONF
#error "MC_DIST_CONF: the path of dist/maicached.conf (Makefile)"
#endif

enum line_kind { L_OTHER, L_DEFAULT, L_EXAMPLE };

struct conf_line {
	enum line_kind kind;
	char key[64];
	char value[256];
	unsigned int lineno;
};

static struct conf_line lines[256];
static size_t nlines;
static char tmpdir[64], out_path[128];

/* "# key = value" (a default) or "#   key = value" (an example). */
static enum line_kind classify(const char *s, char *key, char *value)
{
	static const char *const pat[] = {
		[L_DEFAULT] = "^# ([a-z_0-9]+) = (.+)$",
		[L_EXAMPLE] = "^#   ([a-z_0-9]+) = (.+)$",
	};

	for (int k = L_DEFAULT; k <= L_EXAMPLE; k++) {
		regmatch_t m[3];
		regex_t re;
		int hit;

		ck_assert_int_eq(regcomp(&re, pat[k], REG_EXTENDED), 0);
		hit = !regexec(&re, s, 3, m, 0);
		regfree(&re);
		if (!hit)
			continue;
		ck_assert_int_lt(m[1].rm_eo - m[1].rm_so, 64);
		ck_assert_int_lt(m[2].rm_eo - m[2].rm_so, 256);
		memcpy(key, s + m[1].rm_so, m[1].rm_eo - m[1].rm_so);
		key[m[1].rm_eo - m[1].rm_so] = '\0';
		memcpy(value, s + m[2].rm_so, m[2].rm_eo - m[2].rm_so);
		value[m[2].rm_eo - m[2].rm_so] = '\0';
		return k;
	}
	return L_OTHER;
}

static void setup(void)
{
	char buf[1024];
	FILE *f = fopen(MC_DIST_CONF, "r");

	ck_assert_msg(f, "cannot open %s", MC_DIST_CONF);
	nlines = 0;
	while (fgets(buf, sizeof(buf), f)) {
		struct conf_line *l = &lines[nlines];

		ck_assert_uint_lt(nlines, sizeof(lines) / sizeof(lines[0]));
		buf[strcspn(buf, "\n")] = '\0';
		l->lineno = nlines + 1;
		l->kind = classify(buf, l->key, l->value);
		nlines++;
	}
	fclose(f);
	strcpy(tmpdir, "/tmp/check_dist_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(out_path, sizeof(out_path), "%s/maicached.conf", tmpdir);
}

static void teardown(void)
{
	unlink(out_path);
	rmdir(tmpdir);
}

START_TEST(loads_as_shipped)
{
	struct mc_config got, want;
	char err[512] = "";

	mc_config_defaults(&want);
	ck_assert_msg(!mc_config_load(MC_DIST_CONF, &got, err, sizeof(err)), "%s", err);
	ck_assert_msg(!memcmp(&got, &want, sizeof(got)), "the file as shipped is not the defaults");
}
END_TEST

/* The file with every default line uncommented: the daemon's defaults. */
START_TEST(defaults_are_the_daemons)
{
	struct mc_config got, want;
	char err[512] = "";
	FILE *f = fopen(out_path, "w");
	unsigned int n = 0;

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < nlines; i++) {
		if (lines[i].kind != L_DEFAULT)
			continue;
		fprintf(f, "%s = %s\n", lines[i].key, lines[i].value);
		n++;
	}
	fclose(f);
	ck_assert_uint_gt(n, 20);
	mc_config_defaults(&want);
	ck_assert_msg(!mc_config_load(out_path, &got, err, sizeof(err)), "%s", err);
	/* One key at a time, to name the one that differs. */
	for (size_t i = 0; i < nlines; i++) {
		struct mc_config one;

		if (lines[i].kind != L_DEFAULT)
			continue;
		mc_config_defaults(&one);
		ck_assert_msg(!mc_config_set(&one, lines[i].key, lines[i].value, err, sizeof(err)),
			      "line %u: %s", lines[i].lineno, err);
		ck_assert_msg(!memcmp(&one, &want, sizeof(one)),
			      "line %u: %s = %s is not the daemon's default",
			      lines[i].lineno, lines[i].key, lines[i].value);
	}
	ck_assert(!memcmp(&got, &want, sizeof(got)));
}
END_TEST

START_TEST(examples_are_accepted)
{
	char err[512] = "";
	unsigned int n = 0;

	for (size_t i = 0; i < nlines; i++) {
		struct mc_config c;

		if (lines[i].kind != L_EXAMPLE)
			continue;
		mc_config_defaults(&c);
		ck_assert_msg(!mc_config_set(&c, lines[i].key, lines[i].value, err, sizeof(err)),
			      "line %u: %s", lines[i].lineno, err);
		n++;
	}
	ck_assert_uint_gt(n, 5);
}
END_TEST

START_TEST(every_key_once)
{
	const char *name;
	size_t k;

	for (k = 0; (name = mc_config_key_name(k)); k++) {
		unsigned int seen = 0;

		for (size_t i = 0; i < nlines; i++)
			if (lines[i].kind != L_OTHER && !strcmp(lines[i].key, name))
				seen++;
		ck_assert_msg(seen == 1, "key %s is in %s %u times (want once)", name,
			      MC_DIST_CONF, seen);
	}
	ck_assert_uint_gt(k, 30);
	/* And nothing the daemon does not know. */
	for (size_t i = 0; i < nlines; i++) {
		bool known = false;

		if (lines[i].kind == L_OTHER)
			continue;
		for (k = 0; (name = mc_config_key_name(k)); k++)
			known |= !strcmp(lines[i].key, name);
		ck_assert_msg(known, "line %u: %s is no key of the daemon", lines[i].lineno,
			      lines[i].key);
	}
}
END_TEST

/* The classifier sees what the test relies on, and what it must not. */
START_TEST(classify_lines)
{
	char key[64], value[256];

	ck_assert_int_eq(classify("# engine = auto", key, value), L_DEFAULT);
	ck_assert_str_eq(key, "engine");
	ck_assert_str_eq(value, "auto");
	ck_assert_int_eq(classify("#   group = train-eu", key, value), L_EXAMPLE);
	ck_assert_str_eq(key, "group");
	ck_assert_int_eq(classify("# Event loop: io_uring, aio or auto.", key, value), L_OTHER);
	ck_assert_int_eq(classify("## The daemon", key, value), L_OTHER);
	ck_assert_int_eq(classify("engine = auto", key, value), L_OTHER);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dist_conf");
	TCase *tc = tcase_create("dist_conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_as_shipped);
	tcase_add_test(tc, defaults_are_the_daemons);
	tcase_add_test(tc, examples_are_accepted);
	tcase_add_test(tc, every_key_once);
	tcase_add_test(tc, classify_lines);
	suite_add_tcase(s, tc);
	return mc_check_run(s);
}
