// SPDX-License-Identifier: MIT
/* See idmap.h. Deletion shifts the following run back: no tombstones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "key.h"

static uint32_t home(const struct mc_idmap *m, const struct mc_node_id *id)
{
	uint64_t a, b;

	memcpy(&a, id->b, sizeof(a));
	memcpy(&b, id->b + sizeof(a), sizeof(b));
	return (uint32_t)mc_mix64(a ^ mc_mix64(b)) & (m->cap - 1);
}

static int64_t slot_of(const struct mc_idmap *m, const struct mc_node_id *id)
{
	if (!m->cap)
		return -1;
	for (uint32_t i = home(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slot[i].used)
			return -1;
		if (!memcmp(m->slot[i].id.b, id->b, sizeof(id->b)))
			return i;
	}
}

int64_t mc_idmap_get(const struct mc_idmap *m, const struct mc_node_id *id)
{
	int64_t s = slot_of(m, id);

	return s < 0 ? -1 : (int64_t)m->slot[s].idx;
}

static void place(struct mc_idmap *m, const struct mc_node_id *id, uint32_t idx)
{
	uint32_t i = home(m, id);

	while (m->slot[i].used)
		i = (i + 1) & (m->cap - 1);
	m->slot[i] = (struct mc_idmap_slot){ .id = *id, .idx = idx, .used = 1 };
	m->n++;
}

static int grow(struct mc_idmap *m)
{
	struct mc_idmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->slot = calloc(m->cap, sizeof(*m->slot));
	if (!m->slot) {
		*m = old;
		return -ENOMEM;
	}
	m->n = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.slot[i].used)
			place(m, &old.slot[i].id, old.slot[i].idx);
	free(old.slot);
	return 0;
}

int mc_idmap_put(struct mc_idmap *m, const struct mc_node_id *id, uint32_t idx)
{
	int64_t s = slot_of(m, id);

	if (s >= 0) {
		m->slot[s].idx = idx;
		return 0;
	}
	if (2 * (m->n + 1) > m->cap && grow(m))
		return -ENOMEM;
	place(m, id, idx);
	return 0;
}

void mc_idmap_del(struct mc_idmap *m, const struct mc_node_id *id)
{
	int64_t s = slot_of(m, id);
	uint32_t i, j;

	if (s < 0)
		return;
	i = (uint32_t)s;
	m->slot[i].used = 0;
	m->n--;
	/* Move back every later entry of the run that may sit in the hole. */
	for (j = (i + 1) & (m->cap - 1); m->slot[j].used; j = (j + 1) & (m->cap - 1)) {
		uint32_t h = home(m, &m->slot[j].id);

		/* j stays if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		m->slot[i] = m->slot[j];
		m->slot[j].used = 0;
		i = j;
	}
}

void mc_idmap_clear(struct mc_idmap *m)
{
	if (m->cap)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

void mc_idmap_free(struct mc_idmap *m)
{
	free(m->slot);
	*m = (struct mc_idmap){ 0 };
}
