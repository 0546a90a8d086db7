// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: maicached's reading of the miss ring the kernel writes
 * (lib/ring_hdr.c, lib/miss_ring.c). The input is the MISS header as the
 * kernel would map it, the CPL indices a previous daemon left, then a
 * script of what the kernel and the daemon do: the kernel posts misses
 * (fuzzed entries) and consumes completions at each kick; the daemon pops,
 * completes in any order and flushes. The regions are heap blocks of
 * exactly the size the header gives, so ASan sees any read past them.
 *
 * A header mc_hdr_check() refuses is never mapped. With the first script
 * byte even the kernel is sane and the fuzzer checks the ring's promises:
 * misses come out once each, in order, as written; completions reach the
 * kernel once each, in the order posted, none lost (the backlog included)
 * and never more than the ring holds. With it odd the kernel is hostile
 * (indices jump anywhere, the daemon restarts on what it left) and only
 * memory safety and the bounds of the counters are checked.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "miss_ring.h"
#include "ring_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENTRIES_LIMIT	1024	/* beyond this the fuzzer only checks sizes */
#define IDS_MAX		4096

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	uint8_t v = 0;

	if (in->left) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

static uint32_t take32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)take8(in) << (8 * i);
	return v;
}

struct world {
	struct maicache_miss_hdr *mh;	/* the kernel's view: writable here */
	struct maicache_miss *me;
	struct maicache_cpl_hdr *ch;
	struct maicache_cpl *ce;
	uint32_t nmiss, ncpl;
	bool hostile;
	/* sane mode's record of what happened */
	uint64_t next_id;		/* the id of the next miss posted */
	uint64_t next_pop;		/* the id the next pop must give */
	uint64_t popped[IDS_MAX];	/* popped, not yet completed */
	size_t npopped;
	uint64_t completed[IDS_MAX];	/* in the order completed */
	size_t ncompleted;
	size_t nconsumed;		/* of completed[], seen by the kernel */
};

/*
 * The kernel's side of a kick: consume every completion up to cpl.head, as
 * the module's reap does (kmod/ring.c); it reaps at kicks only, so the
 * daemon's promise of order with a backlog is checked under that rule.
 */
static int kick(struct mc_miss_ring *r)
{
	struct world *w = r->priv;
	uint32_t tail = le32toh(w->mh->cpl_tail);
	uint32_t head = le32toh(__atomic_load_n(&w->ch->head, __ATOMIC_ACQUIRE));

	if (w->hostile)
		return 0;
	if (head - tail > w->ncpl)
		__builtin_trap();	/* posted more than the ring holds */
	for (; tail != head; tail++) {
		const struct maicache_cpl *c = &w->ce[tail & (w->ncpl - 1)];

		if (w->nconsumed >= w->ncompleted ||
		    le64toh(c->id) != w->completed[w->nconsumed])
			__builtin_trap();	/* lost, repeated or reordered */
		w->nconsumed++;
	}
	w->mh->cpl_tail = htole32(tail);
	return 0;
}

static void kernel_post(struct world *w, struct mc_miss_ring *r, struct input *in)
{
	unsigned int n = take8(in) % 8 + 1;
	uint32_t head = le32toh(w->mh->head);

	if (w->hostile && (take8(in) & 1)) {
		w->mh->head = htole32(take32(in));
		return;
	}
	for (unsigned int i = 0; i < n && in->left; i++) {
		struct maicache_miss *m = &w->me[head & (w->nmiss - 1)];

		if (!w->hostile &&
		    head - le32toh(w->ch->miss_tail) >= w->nmiss)
			break;	/* a sane kernel waits for space */
		for (size_t b = 0; b < sizeof(*m); b++)
			((uint8_t *)m)[b] = take8(in);
		if (!w->hostile)
			m->id = htole64(w->next_id++);
		head++;
	}
	__atomic_store_n(&w->mh->head, htole32(head), __ATOMIC_RELEASE);
	(void)r;
}

static void daemon_pop(struct world *w, struct mc_miss_ring *r, struct input *in)
{
	unsigned int n = take8(in) % 8 + 1;
	struct mc_miss m;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t tail = r->miss_tail;
		bool had = mc_miss_ring_has_misses(r);

		if (!mc_miss_ring_pop(r, &m)) {
			if (!w->hostile && had)
				__builtin_trap();	/* a miss waiting, none given */
			break;
		}
		if (r->miss_tail != tail + 1 ||
		    le32toh(w->ch->miss_tail) != r->miss_tail)
			__builtin_trap();	/* the entry was not given back */
		if (w->hostile)
			continue;
		{
			const struct maicache_miss *e = &w->me[tail & (w->nmiss - 1)];

			if (m.id != w->next_pop || m.cookie != le64toh(e->cookie) ||
			    m.extent != le64toh(e->extent) ||
			    m.slot_off != le64toh(e->slot_off) ||
			    m.len != le32toh(e->len) ||
			    m.extent_shift != le32toh(e->extent_shift) ||
			    m.dev_id != le32toh(e->dev_id))
				__builtin_trap();	/* not the miss written */
		}
		w->next_pop++;
		if (w->npopped < IDS_MAX)
			w->popped[w->npopped++] = m.id;
	}
}

static void daemon_complete(struct world *w, struct mc_miss_ring *r, struct input *in)
{
	uint8_t pick = take8(in);
	uint32_t status = take8(in);
	uint64_t id;

	if (w->hostile) {
		if (mc_miss_ring_complete(r, take32(in), status))
			__builtin_trap();
		return;
	}
	if (!w->npopped || w->ncompleted >= IDS_MAX)
		return;
	/* Fills end in any order. */
	pick %= w->npopped;
	id = w->popped[pick];
	w->popped[pick] = w->popped[--w->npopped];
	w->completed[w->ncompleted++] = id;
	if (mc_miss_ring_complete(r, id, status))
		__builtin_trap();
}

static void check_counters(const struct world *w, const struct mc_miss_ring *r)
{
	if (mc_miss_ring_cpl_space(r) > w->ncpl)
		__builtin_trap();
	if (!w->hostile && mc_miss_ring_pending(r) > w->nmiss)
		__builtin_trap();
}

static void run(struct world *w, struct input *in)
{
	struct mc_miss_ring r;

	memset(&r, 0, sizeof(r));
	r.kick = kick;
	r.priv = w;
	mc_miss_ring_start(&r, w->mh, w->ch, NULL);
	if (!w->hostile && r.cpl_head != le32toh(w->mh->cpl_tail))
		__builtin_trap();	/* sane start: nothing was left unconsumed */
	while (in->left) {
		switch (take8(in) % 5) {
		case 0:
			kernel_post(w, &r, in);
			break;
		case 1:
			daemon_pop(w, &r, in);
			break;
		case 2:
			daemon_complete(w, &r, in);
			break;
		case 3:
			if (mc_miss_ring_flush(&r))
				__builtin_trap();
			break;
		case 4:
			if (!w->hostile)
				break;
			/* A new daemon takes over whatever was left. */
			mc_miss_ring_free(&r);
			memset(&r, 0, sizeof(r));
			r.kick = kick;
			r.priv = w;
			mc_miss_ring_start(&r, w->mh, w->ch, NULL);
			break;
		}
		check_counters(w, &r);
	}
	if (!w->hostile) {
		/* Every completion, backlog included, reaches the kernel. */
		for (int i = 0; i < 64 && w->nconsumed < w->ncompleted; i++)
			if (mc_miss_ring_flush(&r))
				__builtin_trap();
		if (w->nconsumed != w->ncompleted || r.nbacklog)
			__builtin_trap();
	}
	mc_miss_ring_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	struct maicache_miss_hdr h;
	struct input in = { data, size };
	uint8_t *miss, *cpl;
	size_t msize, csize;

	if (size < sizeof(h) + 8)
		return 0;
	memcpy(&h, data, sizeof(h));
	in.p += sizeof(h);
	in.left -= sizeof(h);
	if (mc_hdr_check(&h))
		return 0;	/* the daemon refuses it: nothing is mapped */
	msize = mc_miss_region_size(&h, 4096);
	csize = mc_cpl_region_size(&h, 4096);
	if (msize < MAICACHE_RING_ENTRIES_OFF +
		    (size_t)le32toh(h.miss_entries) * sizeof(struct maicache_miss) ||
	    csize < MAICACHE_RING_ENTRIES_OFF +
		    (size_t)le32toh(h.cpl_entries) * sizeof(struct maicache_cpl))
		__builtin_trap();	/* a region smaller than its entries */
	if (le32toh(h.miss_entries) > ENTRIES_LIMIT || le32toh(h.cpl_entries) > ENTRIES_LIMIT)
		return 0;
	/* Exactly the entries, no page rounding, so ASan sees overruns. */
	msize = MAICACHE_RING_ENTRIES_OFF + le32toh(h.miss_entries) * sizeof(struct maicache_miss);
	csize = MAICACHE_RING_ENTRIES_OFF + le32toh(h.cpl_entries) * sizeof(struct maicache_cpl);
	miss = calloc(1, msize);
	cpl = calloc(1, csize);
	if (!miss || !cpl)
		abort();
	memset(&w, 0, sizeof(w));
	w.mh = (void *)miss;
	w.me = (void *)(miss + MAICACHE_RING_ENTRIES_OFF);
	w.ch = (void *)cpl;
	w.ce = (void *)(cpl + MAICACHE_RING_ENTRIES_OFF);
	w.nmiss = le32toh(h.miss_entries);
	w.ncpl = le32toh(h.cpl_entries);
	memcpy(w.mh, &h, sizeof(h));
	w.ch->head = htole32(take32(&in));
	w.ch->miss_tail = htole32(take32(&in));
	w.hostile = take8(&in) & 1;
	if (!w.hostile) {
		/* A sane kernel: nothing in flight, the indices where it left them. */
		w.ch->miss_tail = w.mh->head;
		w.ch->head = w.mh->cpl_tail;
	}
	run(&w, &in);
	free(miss);
	free(cpl);
	return 0;
}
