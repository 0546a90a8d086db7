/* SPDX-License-Identifier: MIT */
/*
 * The main() of every unit test: run the suite with the verbosity of
 * $CK_VERBOSITY (tests/run-all.sh asks for "verbose" to count each case)
 * and exit non-zero on any failure.
 */
#ifndef MC_CHECK_RUN_H
#define MC_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int mc_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* MC_CHECK_RUN_H */
