// SPDX-License-Identifier: MIT
/* See homes.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homes.h"

static int region_init(struct mc_homes_region *rg, const struct mc_members *gw,
		       const char *name, size_t len)
{
	struct mc_node_id *ids;
	size_t n = 0;
	int ret;

	if (!len || len >= sizeof(rg->name))
		return -EINVAL;
	memcpy(rg->name, name, len);
	rg->name[len] = '\0';
	ids = calloc(gw->n ? gw->n : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < gw->n; i++)
		if (!strcmp(gw->m[i].region, rg->name))
			ids[n++] = gw->m[i].id;
	ret = n ? mc_placement_set(&rg->p, ids, n) : -ENOENT;
	free(ids);
	if (ret)
		return ret;
	rg->gw = calloc(rg->p.n, sizeof(*rg->gw));
	if (!rg->gw)
		return -ENOMEM;
	for (size_t i = 0; i < rg->p.n; i++)
		rg->gw[i] = (size_t)(mc_members_find(gw, &rg->p.nodes[i].id) - gw->m);
	return 0;
}

int mc_homes_init(struct mc_homes *h, const struct mc_members *gw, const char *region,
		  const char *after, char *bad)
{
	size_t max = 2;
	const char *s, *end;
	int ret;

	memset(h, 0, sizeof(*h));
	for (s = after; *s; s++)
		max += *s == ',';
	h->regions = calloc(max, sizeof(*h->regions));
	if (!h->regions)
		return -ENOMEM;
	ret = region_init(&h->regions[h->nregions++], gw, region, strlen(region));
	for (s = after; !ret && *s; s = *end ? end + 1 : end) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		ret = region_init(&h->regions[h->nregions++], gw, s, (size_t)(end - s));
	}
	if (ret == -ENOENT)
		memcpy(bad, h->regions[h->nregions - 1].name, MC_MEMBER_REGION_MAX);
	if (ret)
		mc_homes_free(h);
	return ret;
}

void mc_homes_free(struct mc_homes *h)
{
	for (size_t i = 0; h->regions && i < h->nregions; i++) {
		mc_placement_free(&h->regions[i].p);
		free(h->regions[i].gw);
	}
	free(h->regions);
	memset(h, 0, sizeof(*h));
}

size_t mc_homes_rank(const struct mc_homes *h, uint64_t key_hash, size_t *out, size_t max)
{
	size_t n = 0, top;

	for (size_t i = 0; i < h->nregions && n < max; i++)
		if (mc_placement_rank(&h->regions[i].p, key_hash, &top, 1))
			out[n++] = h->regions[i].gw[top];
	return n;
}
