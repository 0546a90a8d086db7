// SPDX-License-Identifier: MIT
/*
 * The extents a warmup fetches: runs from byte ranges and FIEMAP extents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "parse.h"
#include "warm_plan.h"

void mc_plan_init(struct mc_warm_plan *p, uint64_t dev_size, uint32_t extent_size)
{
	memset(p, 0, sizeof(*p));
	p->dev_size = dev_size;
	while (extent_size > 1u << p->extent_shift)
		p->extent_shift++;
}

void mc_plan_free(struct mc_warm_plan *p)
{
	free(p->runs);
	p->runs = NULL;
	p->n = p->cap = 0;
}

static int plan_push(struct mc_warm_plan *p, uint64_t first, uint64_t last)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct mc_extent_run *runs = realloc(p->runs, cap * sizeof(*runs));

		if (!runs)
			return -ENOMEM;
		p->runs = runs;
		p->cap = cap;
	}
	p->runs[p->n].first = first;
	p->runs[p->n].last = last;
	p->n++;
	return 0;
}

int mc_plan_add_bytes(struct mc_warm_plan *p, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (off >= p->dev_size || len > p->dev_size - off)
		return -ERANGE;
	return plan_push(p, off >> p->extent_shift, (off + len - 1) >> p->extent_shift);
}

int mc_plan_add_fiemap(struct mc_warm_plan *p, const struct fiemap_extent *fe,
		       uint64_t part_start, uint64_t part_size)
{
	uint64_t len = fe->fe_length;

	if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC)) {
		p->unmapped++;
		return 0;
	}
	if (fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
		p->unwritten++;
		return 0;
	}
	if (fe->fe_physical >= part_size)
		return -ERANGE;
	if (len > part_size - fe->fe_physical)
		len = part_size - fe->fe_physical;
	return mc_plan_add_bytes(p, part_start + fe->fe_physical, len);
}

static int run_cmp(const void *a, const void *b)
{
	const struct mc_extent_run *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

void mc_plan_finish(struct mc_warm_plan *p)
{
	size_t i, out = 0;

	if (!p->n)
		return;
	qsort(p->runs, p->n, sizeof(*p->runs), run_cmp);
	for (i = 1; i < p->n; i++) {
		struct mc_extent_run *cur = &p->runs[out];

		if (p->runs[i].first <= cur->last + 1) {
			if (p->runs[i].last > cur->last)
				cur->last = p->runs[i].last;
		} else {
			p->runs[++out] = p->runs[i];
		}
	}
	p->n = out + 1;
}

uint64_t mc_plan_extents(const struct mc_warm_plan *p)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		n += p->runs[i].last - p->runs[i].first + 1;
	return n;
}

uint64_t mc_plan_run_bytes(const struct mc_warm_plan *p, uint64_t first, uint64_t last)
{
	uint64_t start = first << p->extent_shift;
	uint64_t end = (last + 1) << p->extent_shift;

	if (end > p->dev_size)
		end = p->dev_size;
	return end > start ? end - start : 0;
}

uint64_t mc_plan_bytes(const struct mc_warm_plan *p)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		n += mc_plan_run_bytes(p, p->runs[i].first, p->runs[i].last);
	return n;
}

int mc_parse_range(const char *s, uint64_t dev_size, uint64_t *start, uint64_t *end,
		   char *err, size_t errlen)
{
	const char *dash = strchr(s, '-');
	char first[32];
	size_t n;

	if (!dash || (n = (size_t)(dash - s)) == 0 || n >= sizeof(first))
		return mc_errf(err, errlen, -EINVAL,
			       "--range: '%s' is not START-END (bytes of the device, e.g. 0-1G or 512M-)",
			       s);
	memcpy(first, s, n);
	first[n] = '\0';
	if (mc_parse_size(first, start))
		return mc_errf(err, errlen, -EINVAL, "--range: '%s' is not a size (e.g. 0, 64K, 1G)",
			       first);
	if (!dash[1])
		*end = dev_size;
	else if (mc_parse_size(dash + 1, end))
		return mc_errf(err, errlen, -EINVAL, "--range: '%s' is not a size (e.g. 0, 64K, 1G)",
			       dash + 1);
	if (*end <= *start)
		return mc_errf(err, errlen, -EINVAL,
			       "--range: '%s' is empty: the end (exclusive) must be past the start", s);
	if (*end > dev_size)
		return mc_errf(err, errlen, -EINVAL,
			       "--range: '%s' reaches past the end of the device (%llu bytes)", s,
			       (unsigned long long)dev_size);
	return 0;
}
