// SPDX-License-Identifier: MIT
/*
 * Ring logic of the test filler: consume misses, fill slots, post
 * completions, and (with --hostile) post garbage the kernel must reject.
 * See filler.h. No io_uring and no mmap here: the caller provides both.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "filler.h"

static void flog(struct mc_filler *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void flog(struct mc_filler *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (f->log)
		f->log(f, buf);
}

/* splitmix64: small, seedable, good enough for garbage. */
uint64_t mc_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* The pattern. */

void mc_pattern_fill(void *buf, uint64_t cookie, uint64_t dev_off, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w = htole64(mc_pattern_word(cookie, dev_off + i));

		memcpy(p + i, &w, 8);
	}
	if (i < len) {
		uint64_t w = htole64(mc_pattern_word(cookie, dev_off + i));

		memcpy(p + i, &w, len - i);
	}
}

long mc_pattern_check(const void *buf, uint64_t cookie, uint64_t dev_off,
		      size_t len, uint64_t *expected, uint64_t *got)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i += 8) {
		size_t n = len - i < 8 ? len - i : 8;
		uint64_t want = htole64(mc_pattern_word(cookie, dev_off + i));
		uint64_t have = 0;

		memcpy(&have, p + i, n);
		if (memcmp(&have, &want, n) == 0)
			continue;
		/* Compare only the bytes present in a tail. */
		want = le64toh(want);
		have = le64toh(have);
		if (n < 8)
			want &= (1ULL << (8 * n)) - 1;
		*expected = want;
		*got = have;
		return (long)(i / 8);
	}
	return -1;
}

/* ------------------------------------------------------------------------ */
/* The ring. */

void mc_filler_start(struct mc_filler *f, const void *miss, void *cpl,
		     void *pool)
{
	struct mc_miss_ring *r = &f->ring;
	uint32_t old_tail = le32toh(((const struct maicache_cpl_hdr *)cpl)->miss_tail);
	uint32_t old_head = le32toh(((const struct maicache_cpl_hdr *)cpl)->head);
	int fixed;

	f->rng = f->seed;
	fixed = mc_miss_ring_start(r, miss, cpl, pool);
	if (fixed & MC_RING_FIXED_MISS_TAIL)
		flog(f, "warning: cpl.miss_tail %u does not fit miss.head %u (ring of %u): starting at the head",
		     old_tail, load_acquire32(&r->mhdr->head), r->miss_entries);
	if (fixed & MC_RING_FIXED_CPL_HEAD)
		flog(f, "warning: cpl.head %u does not fit miss.cpl_tail %u (ring of %u): dropping unconsumed completions",
		     old_head, load_acquire32(&r->mhdr->cpl_tail), r->cpl_entries);
}

uint32_t mc_filler_pending(const struct mc_filler *f)
{
	return mc_miss_ring_pending(&f->ring);
}

bool mc_filler_done(const struct mc_filler *f)
{
	return f->exit_after && f->c.misses >= f->exit_after;
}

static void post(struct mc_filler *f, uint64_t id, uint32_t status, uint32_t flags)
{
	mc_miss_ring_post(&f->ring, id, status, flags);
}

static int kick(struct mc_filler *f, bool wait)
{
	int err = f->kick(f, wait);

	if (err && f->hostile) {
		/* Garbage may well make the kernel refuse a kick: go on. */
		flog(f, "kick refused: %s (hostile mode: going on)", strerror(-err));
		err = 0;
	}
	if (!err) {
		f->c.kicks++;
		f->ring.unkicked = false;
	}
	return err;
}

static struct mc_source *find_source(struct mc_filler *f, uint64_t cookie)
{
	for (size_t i = 0; i < f->nsources; i++)
		if (f->sources[i].cookie == cookie)
			return &f->sources[i];
	return NULL;
}

static void warn_cookie(struct mc_filler *f, uint64_t cookie)
{
	for (unsigned int i = 0; i < f->nwarned; i++)
		if (f->warned_cookies[i] == cookie)
			return;
	if (f->nwarned < sizeof(f->warned_cookies) / sizeof(f->warned_cookies[0]))
		f->warned_cookies[f->nwarned++] = cookie;
	flog(f, "no --source for cookie %" PRIu64 " (0x%" PRIx64 ") and no --pattern: failing its misses with EIO",
	     cookie, cookie);
}

/* Fill the slot of one miss; returns the completion status. */
static uint32_t fill(struct mc_filler *f, const struct mc_miss *m)
{
	struct mc_miss_ring *r = &f->ring;
	uint64_t id = m->id, cookie = m->cookie;
	uint64_t extent = m->extent, slot = m->slot_off;
	/* A part (a random read's fill) is named by its 64 KiB index. */
	uint32_t len = m->len, shift = m->flags & MAICACHE_MISS_PART ? MAICACHE_PART_SHIFT
								      : m->extent_shift;
	struct mc_source *src;
	uint64_t dev_off;
	uint8_t *dst;

	f->seen++;
	if (shift >= 64 || extent > (UINT64_MAX >> shift) ||
	    slot > r->pool_size || len > r->pool_size - slot) {
		flog(f, "bad miss id 0x%" PRIx64 ": extent %" PRIu64 " shift %u slot_off %" PRIu64
		     " len %u (pool %" PRIu64 "): failing it with EIO",
		     id, extent, shift, slot, len, r->pool_size);
		return EIO;
	}
	if (f->fail_every && f->seen % f->fail_every == 0)
		return EIO;
	dev_off = extent << shift;
	dst = r->pool + slot;
	src = find_source(f, cookie);
	if (src) {
		size_t done = 0;

		while (done < len) {
			ssize_t n = pread(src->fd, dst + done, len - done, (off_t)(dev_off + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				flog(f, "%s: read of %u bytes at %" PRIu64 " failed: %s",
				     src->path, len, dev_off, strerror(errno));
				return EIO;
			}
			if (n == 0) {
				flog(f, "%s: short read: %zu of %u bytes at %" PRIu64 " (source too small?)",
				     src->path, done, len, dev_off);
				return EIO;
			}
			done += (size_t)n;
		}
	} else if (f->pattern) {
		mc_pattern_fill(dst, cookie, dev_off, len);
	} else {
		warn_cookie(f, cookie);
		return EIO;
	}
	f->c.bytes += len;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Hostile mode: completions the kernel has to reject. */

static void remember(struct mc_filler *f, uint64_t id)
{
	f->recent[f->nrecent++ % MC_RECENT_IDS] = id;
}

static uint64_t a_done_id(struct mc_filler *f)
{
	unsigned int n = f->nrecent < MC_RECENT_IDS ? f->nrecent : MC_RECENT_IDS;

	if (!n)
		return mc_rand(&f->rng);
	return f->recent[mc_rand(&f->rng) % n];
}

/*
 * One garbage completion. None of them may name a miss that is still
 * outstanding: that would legitimately fail (or falsely complete) a real
 * fill. So garbage uses random 64-bit ids, ids of misses already completed
 * (their real completion is earlier in the ring), and those ids with the
 * generation scrambled far from any near-future value.
 */
static void post_garbage(struct mc_filler *f)
{
	uint64_t done = a_done_id(f), rnd = mc_rand(&f->rng);
	uint64_t gen_flip = (uint64_t)(0x80000000U | (uint32_t)rnd) << 32;
	uint32_t beyond = (uint32_t)((f->ring.pool_size >> 16) + 1 + (rnd >> 40) % 4096);

	switch (mc_rand(&f->rng) % 9) {
	case 0:	/* random id */
		post(f, mc_rand(&f->rng), 0, 0);
		break;
	case 1:	/* wrong generation */
		post(f, done ^ gen_flip, 0, 0);
		break;
	case 2:	/* slot index beyond the pool, real generation */
		post(f, (done & 0xffffffff00000000ULL) | beyond, 0, 0);
		break;
	case 3:	/* index ~0 */
		post(f, (done & 0xffffffff00000000ULL) | 0xffffffffU, 0, 0);
		break;
	case 4:	/* duplicate */
		post(f, done, 0, 0);
		break;
	case 5:	/* duplicate, status not an errno */
		post(f, done, 0xffffffffU, 0);
		break;
	case 6:	/* duplicate, status out of range */
		post(f, done, 100000, 0);
		break;
	case 7:	/* duplicate, flags set */
		post(f, done, 0, (uint32_t)rnd | 1);
		break;
	default: /* random id, plausible error */
		post(f, mc_rand(&f->rng), EIO, 0);
		break;
	}
	f->c.hostile_posted++;
	f->c.hostile_cpl++;
}

/*
 * Index games, only between batches with nothing of ours in flight: cpl.head
 * far ahead, or cpl.miss_tail to a value that cannot be valid (ahead of
 * anything the kernel posted, or more than a ring behind), each shown to the
 * kernel with a kick, then put back and kicked again.
 */
static int hostile_indices(struct mc_filler *f)
{
	struct mc_miss_ring *r = &f->ring;
	uint64_t roll = mc_rand(&f->rng);
	int err;

	if (roll % 4 == 0) {
		uint32_t bogus = r->cpl_head + 0x40000000U + (uint32_t)((roll >> 8) % 0x10000000U);

		if ((err = kick(f, true)))
			return err;
		store_release32(&r->chdr->head, bogus);
		err = kick(f, true);	/* may well be refused */
		store_release32(&r->chdr->head, r->cpl_head);
		f->c.hostile_posted++;
		f->c.hostile_idx++;
		if (err)
			return err;
		if ((err = kick(f, true)))
			return err;
	}
	if ((roll >> 4) % 4 == 0) {
		uint32_t bogus = (roll >> 40) & 1
			? r->miss_tail + 0x40000000U + (uint32_t)((roll >> 8) % 0x10000000U)
			: r->miss_tail - r->miss_entries - 1 - (uint32_t)((roll >> 8) % 0x1000U);

		if ((err = kick(f, true)))
			return err;
		store_release32(&r->chdr->miss_tail, bogus);
		err = kick(f, true);	/* may well be refused */
		store_release32(&r->chdr->miss_tail, r->miss_tail);
		f->c.hostile_posted++;
		f->c.hostile_idx++;
		if (err)
			return err;
		if ((err = kick(f, true)))
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */

/* Wait until n completion entries are free; false if stall() gave up. */
static int wait_space(struct mc_filler *f, uint32_t n, bool *gave_up)
{
	int err;

	*gave_up = false;
	if (mc_miss_ring_cpl_space(&f->ring) >= n)
		return 0;
	f->c.ring_full++;
	for (;;) {
		mc_miss_ring_publish(&f->ring);
		if ((err = kick(f, true)))
			return err;
		if (mc_miss_ring_cpl_space(&f->ring) >= n)
			return 0;
		if (f->stall && f->stall(f)) {
			*gave_up = true;
			return 0;
		}
	}
}

long mc_filler_batch(struct mc_filler *f)
{
	struct mc_miss_ring *r = &f->ring;
	uint32_t head = load_acquire32(&r->mhdr->head);
	long completed = 0;
	bool gave_up = false;
	int err;

	if (head - r->miss_tail > r->miss_entries) {
		flog(f, "warning: miss.head %u is more than a ring (%u) ahead of our tail %u: skipping to it",
		     head, r->miss_entries, r->miss_tail);
		r->miss_tail = head;
		mc_miss_ring_publish(&f->ring);
		return 0;
	}
	while (r->miss_tail != head && !mc_filler_done(f)) {
		uint32_t extra = f->hostile ? (uint32_t)(mc_rand(&f->rng) % 4) : 0;
		struct mc_miss m;
		uint32_t status;

		if (extra >= r->cpl_entries)
			extra = 0;
		if ((err = wait_space(f, 1 + extra, &gave_up)))
			return err;
		if (gave_up)
			break;
		if (!mc_miss_ring_pop(r, &m))
			break;
		status = fill(f, &m);
		post(f, m.id, status, 0);
		f->c.misses++;
		if (status)
			f->c.errors++;
		remember(f, m.id);
		completed++;
		for (uint32_t i = 0; i < extra; i++)
			post_garbage(f);
	}
	mc_miss_ring_publish(&f->ring);
	if (r->unkicked) {
		if ((err = kick(f, false)))
			return err;
	}
	if (completed)
		f->c.batches++;
	if (f->hostile && completed && (err = hostile_indices(f)))
		return err;
	return completed;
}
