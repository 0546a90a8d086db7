// SPDX-License-Identifier: MIT
/*
 * Unit tests for where an extent's home is (peer/homes.c): the gateway of
 * this node's region that placement ranks first, then one of each region
 * listed after, in that order; every region's gateways share its homes;
 * a region with no gateway, or an empty name, is refused.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_run.h"
#include "homes.h"
#include "key.h"

/* 4 gateways in eu, 2 in us, 1 in asia. */
static const char *const region_of[] = { "eu", "eu", "eu", "eu", "us", "us", "asia" };
#define NGW (sizeof(region_of) / sizeof(region_of[0]))

static struct mc_member gws[NGW];
static struct mc_members gw = { gws, NGW };

static void setup(void)
{
	for (size_t i = 0; i < NGW; i++) {
		memset(&gws[i], 0, sizeof(gws[i]));
		memset(gws[i].id.b, 0x30 + (int)i, sizeof(gws[i].id.b));
		strcpy(gws[i].host, "10.0.0.1");
		strcpy(gws[i].port, "7118");
		strcpy(gws[i].region, region_of[i]);
	}
}

/* The home among region r's gateways, computed here with placement alone. */
static size_t owner_in(const char *r, uint64_t hash)
{
	struct mc_node_id ids[NGW];
	struct mc_placement p = { 0 };
	size_t n = 0, at = SIZE_MAX;
	ssize_t o;

	for (size_t i = 0; i < NGW; i++)
		if (!strcmp(region_of[i], r))
			ids[n++] = gws[i].id;
	ck_assert_int_eq(mc_placement_set(&p, ids, n), 0);
	o = mc_placement_owner(&p, hash);
	for (size_t i = 0; i < NGW; i++)
		if (!memcmp(gws[i].id.b, p.nodes[o].id.b, sizeof(gws[i].id.b)))
			at = i;
	mc_placement_free(&p);
	return at;
}

START_TEST(own_region_then_the_listed_ones)
{
	struct mc_homes h;
	char bad[MC_MEMBER_REGION_MAX] = "";
	size_t out[4], n, hits[NGW] = { 0 };

	ck_assert_int_eq(mc_homes_init(&h, &gw, "eu", "us,asia", bad), 0);
	ck_assert_uint_eq(h.nregions, 3);
	for (uint64_t k = 0; k < 4000; k++) {
		uint64_t hash = mc_mix64(k + 1);

		n = mc_homes_rank(&h, hash, out, 4);
		ck_assert_uint_eq(n, 3);
		ck_assert_str_eq(gws[out[0]].region, "eu");
		ck_assert_str_eq(gws[out[1]].region, "us");
		ck_assert_uint_eq(out[2], 6);
		ck_assert_uint_eq(out[0], owner_in("eu", hash));
		ck_assert_uint_eq(out[1], owner_in("us", hash));
		hits[out[0]]++;
		/* Fewer places: the best first. */
		ck_assert_uint_eq(mc_homes_rank(&h, hash, out, 1), 1);
		ck_assert_str_eq(gws[out[0]].region, "eu");
	}
	/* Every gateway of the region is a home for its share. */
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(hits[i] > 800 && hits[i] < 1200, "gateway %zu: %zu of 4000", i, hits[i]);
	mc_homes_free(&h);
	ck_assert_uint_eq(h.nregions, 0);
}
END_TEST

START_TEST(only_this_region_unless_listed)
{
	struct mc_homes h;
	char bad[MC_MEMBER_REGION_MAX] = "";
	size_t out[4];

	ck_assert_int_eq(mc_homes_init(&h, &gw, "us", "", bad), 0);
	for (uint64_t k = 0; k < 200; k++) {
		ck_assert_uint_eq(mc_homes_rank(&h, mc_mix64(k), out, 4), 1);
		ck_assert_str_eq(gws[out[0]].region, "us");
	}
	mc_homes_free(&h);
}
END_TEST

START_TEST(a_region_without_gateways_is_refused)
{
	struct mc_homes h;
	char bad[MC_MEMBER_REGION_MAX] = "";

	ck_assert_int_eq(mc_homes_init(&h, &gw, "eu", "us,mars", bad), -ENOENT);
	ck_assert_str_eq(bad, "mars");
	ck_assert_uint_eq(h.nregions, 0);
	ck_assert_int_eq(mc_homes_init(&h, &gw, "mars", "", bad), -ENOENT);
	ck_assert_str_eq(bad, "mars");
	ck_assert_int_eq(mc_homes_init(&h, &gw, "eu", "us,,asia", bad), -EINVAL);
	ck_assert_int_eq(mc_homes_init(&h, &gw, "", "", bad), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("homes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, own_region_then_the_listed_ones);
	tcase_add_test(tc, only_this_region_unless_listed);
	tcase_add_test(tc, a_region_without_gateways_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
