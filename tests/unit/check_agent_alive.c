// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicache-agent's heartbeat (agent/alive.h): the limit of
 * a recent beat, a beat written and found recent, an old one and a missing
 * one refused with their reasons, a state directory it cannot write.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"
#include "check_run.h"

static char dir[64];
static char file[128];

static void setup(void)
{
	strcpy(dir, "/tmp/check_agent_alive.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/%s", dir, MC_ALIVE_FILE);
}

static void teardown(void)
{
	unlink(file);
	rmdir(dir);
}

START_TEST(recent_limit)
{
	uint64_t now = 1000000000, limit = 3 * 30000 + MC_ALIVE_SLACK_MS;

	ck_assert(mc_agent_beat_recent(now, now, 30000));
	ck_assert(mc_agent_beat_recent(now - limit, now, 30000));
	ck_assert(!mc_agent_beat_recent(now - limit - 1, now, 30000));
	/* A clock stepped back leaves the beat in the future: still recent. */
	ck_assert(mc_agent_beat_recent(now + 60000, now, 30000));
	/* The limit follows the interval. */
	ck_assert(!mc_agent_beat_recent(now - 20000, now, 1000));
	ck_assert(mc_agent_beat_recent(now - 12000, now, 1000));
}
END_TEST

START_TEST(beat_then_alive)
{
	char msg[512];

	ck_assert_int_eq(mc_agent_beat(dir), 0);
	ck_assert_int_eq(mc_agent_alive(dir, 30000, msg, sizeof(msg)), 0);
	ck_assert_msg(strstr(msg, "ms ago"), "%s", msg);
	/* A second beat over the same file. */
	ck_assert_int_eq(mc_agent_beat(dir), 0);
	ck_assert_int_eq(mc_agent_alive(dir, 30000, msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(old_beat_refused)
{
	struct timespec old[2];
	char msg[512];

	ck_assert_int_eq(mc_agent_beat(dir), 0);
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 3 * 30 + MC_ALIVE_SLACK_MS / 1000 + 5;
	old[1] = old[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, file, old, 0), 0);
	ck_assert_int_eq(mc_agent_alive(dir, 30000, msg, sizeof(msg)), 1);
	ck_assert_msg(strstr(msg, "last pass ended 105 s ago") && strstr(msg, "3 intervals of 30000 ms"),
		      "%s", msg);
	/* The agent's next pass makes it alive again. */
	ck_assert_int_eq(mc_agent_beat(dir), 0);
	ck_assert_int_eq(mc_agent_alive(dir, 30000, msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(no_beat_refused)
{
	char msg[512];

	ck_assert_int_eq(mc_agent_alive(dir, 30000, msg, sizeof(msg)), 1);
	ck_assert_msg(strstr(msg, "has not finished a pass yet"), "%s", msg);
	ck_assert_int_eq(mc_agent_alive("/nonexistent/maicache-agent", 30000, msg, sizeof(msg)), 1);
}
END_TEST

START_TEST(unwritable_dir)
{
	ck_assert_int_lt(mc_agent_beat("/nonexistent/maicache-agent"), 0);
	/* A symlink in its place is not followed. */
	ck_assert_int_eq(symlink("/tmp", file), 0);
	ck_assert_int_lt(mc_agent_beat(dir), 0);
}
END_TEST

static Suite *alive_suite(void)
{
	Suite *s = suite_create("agent_alive");
	TCase *tc = tcase_create("alive");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, recent_limit);
	tcase_add_test(tc, beat_then_alive);
	tcase_add_test(tc, old_beat_refused);
	tcase_add_test(tc, no_beat_refused);
	tcase_add_test(tc, unwritable_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(alive_suite());
}
