// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicachectl's progress lines (tools/progress.c): sizes,
 * durations, the rate over a window, the ETA and the bar.
 */
#include <check.h>
#include <string.h>

#include "progress.h"
#include "check_run.h"

#define M (1024ULL * 1024)

START_TEST(bytes_formatted)
{
	static const struct {
		double in;
		const char *out;
	} cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" }, { 1536, "1.50 KiB" },
		{ 10 * 1024, "10.0 KiB" }, { 512 * 1024, "512 KiB" }, { 12.3 * M, "12.3 MiB" },
		{ 4096.0 * M, "4.00 GiB" }, { 1024.0 * 1024 * M, "1.00 TiB" }, { -5, "0 B" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_fmt_bytes(buf, sizeof(buf), cases[i].in);
		ck_assert_str_eq(buf, cases[i].out);
	}
}
END_TEST

START_TEST(durations_formatted)
{
	char buf[32];

	mc_fmt_duration(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "0:00");
	mc_fmt_duration(buf, sizeof(buf), 7.4);
	ck_assert_str_eq(buf, "0:07");
	mc_fmt_duration(buf, sizeof(buf), 754);
	ck_assert_str_eq(buf, "12:34");
	mc_fmt_duration(buf, sizeof(buf), 3723);
	ck_assert_str_eq(buf, "1:02:03");
	mc_fmt_duration(buf, sizeof(buf), -1);
	ck_assert_str_eq(buf, "--:--");
	mc_fmt_duration(buf, sizeof(buf), 1.0 / 0.0);
	ck_assert_str_eq(buf, "--:--");
}
END_TEST

START_TEST(eta_from_rate)
{
	ck_assert_double_eq(mc_eta(0, 100, 10), 10);
	ck_assert_double_eq(mc_eta(60, 100, 20), 2);
	ck_assert_double_eq(mc_eta(100, 100, 0), 0);
	ck_assert_double_eq(mc_eta(150, 100, 0), 0);
	ck_assert_double_eq(mc_eta(10, 100, 0), -1);
}
END_TEST

/* The rate is over the window's samples, not since the start. */
START_TEST(rate_over_window)
{
	struct mc_rate r;
	int i;

	mc_rate_init(&r, 3.0);
	ck_assert_double_eq(mc_rate_get(&r), 0);
	mc_rate_add(&r, 0, 0);
	ck_assert_double_eq(mc_rate_get(&r), 0);
	/* 10 units/s for 10 s, then 100 units/s: 3 s later the rate is 100. */
	for (i = 1; i <= 10; i++)
		mc_rate_add(&r, i, (uint64_t)i * 10);
	ck_assert_double_eq_tol(mc_rate_get(&r), 10, 1e-9);
	for (i = 1; i <= 3; i++)
		mc_rate_add(&r, 10 + i, 100 + (uint64_t)i * 100);
	ck_assert_double_eq_tol(mc_rate_get(&r), 100, 1e-9);
	/* More samples than the ring holds, 4 a second: still the window's rate. */
	for (i = 1; i <= 400; i++)
		mc_rate_add(&r, 13 + i * 0.25, 400 + (uint64_t)i * 5);
	ck_assert_double_eq_tol(mc_rate_get(&r), 20, 1e-9);
	/* A counter that went back gives no rate rather than a huge one. */
	mc_rate_init(&r, 3.0);
	mc_rate_add(&r, 0, 100);
	mc_rate_add(&r, 1, 50);
	ck_assert_double_eq(mc_rate_get(&r), 0);
}
END_TEST

START_TEST(progress_line)
{
	char buf[160];

	ck_assert_str_eq(mc_progress_line(buf, sizeof(buf), 10, 35 * M, 100 * M, 5 * M),
			 "[###.......]   35%  35.0 MiB / 100 MiB  5.00 MiB/s  ETA 0:13");
	ck_assert_str_eq(mc_progress_line(buf, sizeof(buf), 4, 8 * M, 8 * M, 0),
			 "[####]  100%  8.00 MiB / 8.00 MiB  0 B/s  ETA 0:00");
	ck_assert_str_eq(mc_progress_line(buf, sizeof(buf), 4, 0, 8 * M, 0),
			 "[....]    0%  0 B / 8.00 MiB  0 B/s  ETA --:--");
	/* More done than planned (readers' fills counted) shows as all. */
	ck_assert_str_eq(mc_progress_line(buf, sizeof(buf), 0, 9 * M, 8 * M, 0),
			 "100%  9.00 MiB / 8.00 MiB  0 B/s  ETA 0:00");
	/* Nothing to do is done. */
	ck_assert_str_eq(mc_progress_line(buf, sizeof(buf), 2, 0, 0, 0),
			 "[##]  100%  0 B / 0 B  0 B/s  ETA 0:00");
	/* A short buffer is cut, never overrun. */
	ck_assert_str_eq(mc_progress_line(buf, 8, 30, 1, 2, 0), " 50%  1");
}
END_TEST

static Suite *progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_add_test(tc, bytes_formatted);
	tcase_add_test(tc, durations_formatted);
	tcase_add_test(tc, eta_from_rate);
	tcase_add_test(tc, rate_over_window);
	tcase_add_test(tc, progress_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(progress_suite());
}
