// SPDX-License-Identifier: MIT
/*
 * maicached's side of the miss ring; see miss_ring.h and docs/ring.md.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "miss_ring.h"
#include "ring_hdr.h"

int mc_miss_ring_start(struct mc_miss_ring *r, const void *miss, void *cpl,
		       void *pool)
{
	const struct maicache_miss_hdr *h = miss;
	uint32_t mhead, kcpl_tail;
	int repairs = 0;

	r->mhdr = h;
	r->misses = (const void *)((const uint8_t *)miss + MAICACHE_RING_ENTRIES_OFF);
	r->chdr = cpl;
	r->cpls = (void *)((uint8_t *)cpl + MAICACHE_RING_ENTRIES_OFF);
	r->pool = pool;
	r->pool_size = le64toh(h->pool_size);
	r->miss_entries = le32toh(h->miss_entries);
	r->cpl_entries = le32toh(h->cpl_entries);

	mhead = load_acquire32(&h->head);
	kcpl_tail = load_acquire32(&h->cpl_tail);
	r->cpl_head = le32toh(__atomic_load_n(&r->chdr->head, __ATOMIC_RELAXED));
	r->miss_tail = le32toh(__atomic_load_n(&r->chdr->miss_tail, __ATOMIC_RELAXED));
	/* A crashed daemon may have left anything here. */
	if (mhead - r->miss_tail > r->miss_entries) {
		r->miss_tail = mhead;
		repairs |= MC_RING_FIXED_MISS_TAIL;
		r->resyncs++;
	}
	if (r->cpl_head - kcpl_tail > r->cpl_entries) {
		r->cpl_head = kcpl_tail;
		repairs |= MC_RING_FIXED_CPL_HEAD;
		r->resyncs++;
	}
	mc_miss_ring_publish(r);
	/* Completions the last daemon posted but never kicked. */
	r->unkicked = r->cpl_head != kcpl_tail;
	return repairs;
}

void mc_miss_ring_free(struct mc_miss_ring *r)
{
	free(r->backlog);
	r->backlog = NULL;
	r->nbacklog = r->backlog_cap = 0;
}

bool mc_miss_ring_has_misses(const struct mc_miss_ring *r)
{
	return mc_miss_ring_pending(r) != 0;
}

uint32_t mc_miss_ring_pending(const struct mc_miss_ring *r)
{
	return load_acquire32(&r->mhdr->head) - r->miss_tail;
}

void mc_miss_ring_publish(struct mc_miss_ring *r)
{
	store_release32(&r->chdr->head, r->cpl_head);
	store_release32(&r->chdr->miss_tail, r->miss_tail);
}

bool mc_miss_ring_pop(struct mc_miss_ring *r, struct mc_miss *out)
{
	uint32_t head = load_acquire32(&r->mhdr->head);
	const struct maicache_miss *m;

	if (head == r->miss_tail)
		return false;
	if (head - r->miss_tail > r->miss_entries) {
		/* Cannot happen with a sane kernel; never read garbage. */
		r->miss_tail = head;
		r->resyncs++;
		store_release32(&r->chdr->miss_tail, r->miss_tail);
		return false;
	}
	m = &r->misses[r->miss_tail & (r->miss_entries - 1)];
	out->id = le64toh(m->id);
	out->cookie = le64toh(m->cookie);
	out->extent = le64toh(m->extent);
	out->slot_off = le64toh(m->slot_off);
	out->len = le32toh(m->len);
	out->extent_shift = le32toh(m->extent_shift);
	out->dev_id = le32toh(m->dev_id);
	out->flags = le32toh(m->flags);
	r->miss_tail++;
	/* The copy is done: the kernel may reuse the entry. */
	store_release32(&r->chdr->miss_tail, r->miss_tail);
	return true;
}

uint32_t mc_miss_ring_cpl_space(const struct mc_miss_ring *r)
{
	uint32_t used = r->cpl_head - load_acquire32(&r->mhdr->cpl_tail);

	return used > r->cpl_entries ? 0 : r->cpl_entries - used;
}

void mc_miss_ring_post(struct mc_miss_ring *r, uint64_t id, uint32_t status,
		       uint32_t flags)
{
	struct maicache_cpl *c = &r->cpls[r->cpl_head & (r->cpl_entries - 1)];

	c->id = htole64(id);
	c->status = htole32(status);
	c->flags = htole32(flags);
	r->cpl_head++;
	r->unkicked = true;
}

static int backlog_push(struct mc_miss_ring *r, uint64_t id, uint32_t status)
{
	if (r->nbacklog == r->backlog_cap) {
		size_t cap = r->backlog_cap ? r->backlog_cap * 2 : 64;
		struct mc_cpl_pending *b = realloc(r->backlog, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		r->backlog = b;
		r->backlog_cap = cap;
	}
	r->backlog[r->nbacklog].id = id;
	r->backlog[r->nbacklog].status = status;
	r->nbacklog++;
	r->ring_full++;
	return 0;
}

/* Move backlog entries into the ring while there is space, oldest first. */
static void backlog_drain(struct mc_miss_ring *r)
{
	size_t n = 0;

	while (n < r->nbacklog && mc_miss_ring_cpl_space(r)) {
		mc_miss_ring_post(r, r->backlog[n].id, r->backlog[n].status, 0);
		n++;
	}
	if (!n)
		return;
	memmove(r->backlog, r->backlog + n, (r->nbacklog - n) * sizeof(*r->backlog));
	r->nbacklog -= n;
}

int mc_miss_ring_complete(struct mc_miss_ring *r, uint64_t id, uint32_t status)
{
	/* Keep the order: nothing overtakes the backlog. */
	if (r->nbacklog || !mc_miss_ring_cpl_space(r))
		return backlog_push(r, id, status);
	mc_miss_ring_post(r, id, status, 0);
	return 0;
}

int mc_miss_ring_flush(struct mc_miss_ring *r)
{
	int err;

	/* Each kick lets the kernel consume a ringful: bounded by the backlog. */
	do {
		backlog_drain(r);
		if (!r->unkicked)
			return 0;
		store_release32(&r->chdr->head, r->cpl_head);
		err = r->kick(r);
		if (err)
			return err;
		r->kicks++;
		r->unkicked = false;
	} while (r->nbacklog && mc_miss_ring_cpl_space(r));
	return 0;
}
