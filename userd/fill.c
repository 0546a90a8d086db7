// SPDX-License-Identifier: MIT
/*
 * The miss path of maicached: take misses off the ring, check them, read
 * the extent from the volume's source straight into its pool slot, and post
 * the completion. The loop flushes completions (one kick) after each turn.
 *
 * The kernel already coalesces concurrent misses on one extent into one
 * fill, so one miss here is one source read: one GET per extent per node.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

struct fill {
	struct mc_vol *vol;
	uint64_t id;
	uint32_t len;
};

static void complete(struct mc_daemon *d, uint64_t id, uint32_t status)
{
	/* Unmapped at shutdown: the next daemon gets the fill again. */
	if (!d->cpl_map)
		return;
	if (mc_miss_ring_complete(&d->ring, id, status))
		/* Lost only if memory is gone; the kernel times the fill out. */
		mc_log(d, 0, "out of memory posting completion %" PRIx64, id);
}

static void fill_done(void *arg, int res, const char *msg)
{
	struct fill *f = arg;
	struct mc_vol *v = f->vol;
	struct mc_daemon *d = v->d;

	d->inflight--;
	v->inflight--;
	if (!res) {
		v->fills++;
		v->fill_bytes += f->len;
	} else {
		v->fill_errors++;
		snprintf(v->last_error, sizeof(v->last_error), "%s",
			 msg ? msg : strerror(-res));
		if (res == -ESTALE)
			mc_vol_mark_stale(v, msg);
		else if (res != -ECANCELED)
			mc_log(d, 1, "/dev/maicache%u: fill of %u bytes failed: %s",
			       v->dev_id, f->len, v->last_error);
	}
	complete(d, f->id, res ? EIO : 0);
	free(f);
	mc_vol_fill_done(v);
}

/* The kernel is trusted no more than it must be: check what a miss names. */
static const char *miss_check(struct mc_daemon *d, const struct mc_vol *v,
			      const struct mc_miss *m)
{
	uint64_t ext = (uint64_t)v->extent_size;

	if (m->extent_shift >= 32 || (1ULL << m->extent_shift) != ext)
		return "extent size differs from the volume's";
	if (m->len == 0 || m->len > ext)
		return "length is 0 or more than an extent";
	if (m->slot_off > d->ring.pool_size || m->len > d->ring.pool_size - m->slot_off)
		return "slot outside the pool";
	if (m->extent > v->dev_size / ext || m->extent * ext + m->len > v->dev_size)
		return "extent past the end of the device";
	return NULL;
}

static void start_fill(struct mc_vol *v, const struct mc_miss *m)
{
	struct mc_daemon *d = v->d;
	const char *why = miss_check(d, v, m);
	struct fill *f;
	int ret;

	if (why) {
		d->bad_misses++;
		mc_log(d, 1, "/dev/maicache%u: miss %" PRIx64 " rejected: %s",
		       v->dev_id, m->id, why);
		complete(d, m->id, EIO);
		return;
	}
	f = malloc(sizeof(*f));
	if (!f) {
		complete(d, m->id, ENOMEM);
		return;
	}
	f->vol = v;
	f->id = m->id;
	f->len = m->len;
	d->inflight++;
	v->inflight++;
	ret = mc_source_read(v->src, m->extent * v->extent_size,
			     d->ring.pool + m->slot_off, m->len, fill_done, f);
	if (ret) {
		d->inflight--;
		v->inflight--;
		v->fill_errors++;
		mc_log(d, 1, "/dev/maicache%u: cannot start a fill: %s", v->dev_id,
		       strerror(-ret));
		complete(d, m->id, EIO);
		free(f);
	}
}

static int hold(struct mc_vol *v, const struct mc_miss *m)
{
	if (v->nheld == v->held_cap) {
		size_t cap = v->held_cap ? v->held_cap * 2 : 16;
		struct mc_miss *h = realloc(v->held, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		v->held = h;
		v->held_cap = cap;
	}
	v->held[v->nheld++] = *m;
	return 0;
}

static void dispatch(struct mc_daemon *d, const struct mc_miss *m)
{
	struct mc_vol *v = mc_vol_by_cookie(d, m->cookie);

	if (!v || v->state == MC_VOL_DETACHING) {
		if (!d->unknown_misses++)
			mc_log(d, 1, "miss for cookie 0x%" PRIx64 " (/dev/maicache%u), which no attached source backs: failing it (reported once)",
			       m->cookie, m->dev_id);
		complete(d, m->id, EIO);
		return;
	}
	switch (v->state) {
	case MC_VOL_OPENING:
		if (hold(v, m))
			complete(d, m->id, ENOMEM);
		return;
	case MC_VOL_READY:
		start_fill(v, m);
		return;
	default:
		v->fill_errors++;
		complete(d, m->id, EIO);
		return;
	}
}

void mc_fill_ring_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_daemon *d = arg;
	struct mc_miss m;

	(void)fd;
	if (revents & (POLLERR | POLLNVAL)) {
		mc_log(d, 0, "the miss ring reports an error (revents 0x%x): stopping",
		       revents);
		d->stopping = true;
		return;
	}
	while (!d->stopping && mc_miss_ring_pop(&d->ring, &m))
		dispatch(d, &m);
}

void mc_fill_release_held(struct mc_vol *v)
{
	struct mc_miss *held = v->held;
	size_t n = v->nheld, i;

	v->held = NULL;
	v->nheld = v->held_cap = 0;
	for (i = 0; i < n; i++)
		dispatch(v->d, &held[i]);
	free(held);
}
