// SPDX-License-Identifier: MIT
/*
 * placement-sim: the cache group's placement code (peer/placement.c, the
 * same object the daemon links) over synthetic members and extents. For
 * each group size it reports the ownership load (max/mean, and the
 * largest share one node owns), the keys that move when one member
 * leaves, and the keys that move when one joins, against the ideal 1/N.
 *
 *   placement-sim [--keys-per-node K] [N...]     (default: 10 100 5000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "key.h"
#include "placement.h"

static void make_ids(struct mc_node_id *ids, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < sizeof(ids[i].b); b++)
			ids[i].b[b] = (uint8_t)(mc_mix64(seed * 1000003 + i * 131 + b) >> 11);
}

/* Extent i of a 1 MiB-extent blob. */
static uint64_t key_hash(uint64_t i)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = i };

	mc_blob_digest("https://acct.blob.core.windows.net", "data", "shard.tar",
		       "\"0x8DC\"", k.blob);
	return mc_extent_key_hash(&k);
}

static int id_eq(const struct mc_node_id *a, const struct mc_node_id *b)
{
	return !memcmp(a->b, b->b, sizeof(a->b));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(size_t n, size_t per_node)
{
	size_t keys = n * per_node, max = 0, moved_leave = 0, moved_join = 0, leaver_owned = 0;
	struct mc_node_id *ids = calloc(n + 1, sizeof(*ids));
	struct mc_placement all = { 0 }, less = { 0 }, more = { 0 };
	size_t *load = calloc(n, sizeof(*load));
	double t0 = now_s();

	make_ids(ids, n + 1, n);
	/* all: ids[0..n); less: without ids[0]; more: with ids[n] too. */
	if (!ids || !load || mc_placement_set(&all, ids, n) ||
	    mc_placement_set(&less, ids + 1, n - 1) || mc_placement_set(&more, ids, n + 1)) {
		fprintf(stderr, "placement-sim: out of memory\n");
		exit(1);
	}
	for (size_t k = 0; k < keys; k++) {
		uint64_t h = key_hash(k);
		const struct mc_node_id *o = &all.nodes[mc_placement_owner(&all, h)].id;
		const struct mc_node_id *ol = &less.nodes[mc_placement_owner(&less, h)].id;
		const struct mc_node_id *om = &more.nodes[mc_placement_owner(&more, h)].id;

		load[mc_placement_find(&all, o)]++;
		if (id_eq(o, &ids[0]))
			leaver_owned++;
		moved_leave += !id_eq(o, ol);
		moved_join += !id_eq(o, om);
	}
	for (size_t i = 0; i < n; i++)
		if (load[i] > max)
			max = load[i];
	printf("N=%-5zu keys=%-8zu load max/mean %.3f  leave: %.6f of keys moved (ideal %.6f, leaver owned %.6f)  join: %.6f moved (ideal %.6f)  %.1fs\n",
	       n, keys, (double)max * n / keys, (double)moved_leave / keys, 1.0 / n,
	       (double)leaver_owned / keys, (double)moved_join / keys, 1.0 / (n + 1),
	       now_s() - t0);
	fflush(stdout);
	mc_placement_free(&all);
	mc_placement_free(&less);
	mc_placement_free(&more);
	free(load);
	free(ids);
}

int main(int argc, char **argv)
{
	size_t per_node = 200;
	int i = 1, ran = 0;

	if (argc > 2 && !strcmp(argv[1], "--keys-per-node")) {
		per_node = strtoull(argv[2], NULL, 10);
		i = 3;
	}
	if (!per_node) {
		fprintf(stderr, "usage: placement-sim [--keys-per-node K] [N...]\n");
		return 2;
	}
	for (; i < argc; i++, ran++) {
		size_t n = strtoull(argv[i], NULL, 10);

		if (n < 2) {
			fprintf(stderr, "placement-sim: N must be at least 2\n");
			return 2;
		}
		run(n, per_node);
	}
	if (!ran) {
		run(10, per_node);
		run(100, per_node);
		run(5000, per_node);
	}
	return 0;
}
