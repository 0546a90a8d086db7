// SPDX-License-Identifier: MIT
/* See placement.h. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "placement.h"

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct mc_node_id));
}

static uint64_t id_seed(const struct mc_node_id *id)
{
	uint64_t lo, hi;

	memcpy(&lo, id->b, 8);
	memcpy(&hi, id->b + 8, 8);
	return mc_mix64(le64toh(lo) ^ mc_mix64(le64toh(hi)));
}

/* The member's draw for the key: the highest wins. */
static uint64_t score(const struct mc_place_node *n, uint64_t key_hash)
{
	return mc_mix64(n->seed ^ key_hash);
}

int mc_placement_set(struct mc_placement *p, const struct mc_node_id *ids, size_t n)
{
	struct mc_place_node *nodes = NULL;
	size_t i;

	if (n) {
		nodes = calloc(n, sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		nodes[i].id = ids[i];
	if (n)
		qsort(nodes, n, sizeof(*nodes), id_cmp);
	for (i = 0; i < n; i++) {
		if (i && !id_cmp(&nodes[i - 1].id, &nodes[i].id)) {
			free(nodes);
			return -EEXIST;
		}
		nodes[i].seed = id_seed(&nodes[i].id);
	}
	free(p->nodes);
	p->nodes = nodes;
	p->n = n;
	return 0;
}

void mc_placement_free(struct mc_placement *p)
{
	free(p->nodes);
	p->nodes = NULL;
	p->n = 0;
}

ssize_t mc_placement_find(const struct mc_placement *p, const struct mc_node_id *id)
{
	const struct mc_place_node *hit;

	if (!p->n)
		return -1;
	hit = bsearch(id, p->nodes, p->n, sizeof(*p->nodes), id_cmp);
	return hit ? hit - p->nodes : -1;
}

ssize_t mc_placement_owner(const struct mc_placement *p, uint64_t key_hash)
{
	size_t best;

	return mc_placement_rank(p, key_hash, &best, 1) ? (ssize_t)best : -1;
}

size_t mc_placement_rank(const struct mc_placement *p, uint64_t key_hash,
			 size_t *out, size_t k)
{
	uint64_t top[16];
	size_t have = 0, i, j;

	if (k > sizeof(top) / sizeof(top[0]))
		k = sizeof(top) / sizeof(top[0]);
	if (!k)
		return 0;
	/* Keep the k highest draws, sorted, by insertion: k is small. */
	for (i = 0; i < p->n; i++) {
		uint64_t s = score(&p->nodes[i], key_hash);

		if (have == k && s <= top[k - 1])
			continue;
		j = have < k ? have++ : k - 1;
		for (; j && top[j - 1] < s; j--) {
			top[j] = top[j - 1];
			out[j] = out[j - 1];
		}
		top[j] = s;
		out[j] = i;
	}
	return have;
}
