// SPDX-License-Identifier: GPL-2.0
/* Temporary: proves the KUnit runner reports both outcomes. */
#include <kunit/test.h>
#include "maicache_version.h"

static void demo_pass(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, MAICACHE_VERSION, "0.1.0");
}

static void demo_fail(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 2);
}

static struct kunit_case demo_cases[] = {
	KUNIT_CASE(demo_pass),
	KUNIT_CASE(demo_fail),
	{}
};

static struct kunit_suite demo_suite = {
	.name = "maicache_demo",
	.test_cases = demo_cases,
};
kunit_test_suite(demo_suite);

MODULE_LICENSE("GPL");
