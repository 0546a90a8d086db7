// SPDX-License-Identifier: MIT
/*
 * The miss path of maicached: take misses off the ring, check them, read
 * the extent from the volume's source straight into its pool slot, and post
 * the completion. The loop flushes completions (one kick) after each turn.
 *
 * The kernel already coalesces concurrent misses on one extent into one
 * fill, so one miss here is one source read: one GET per extent per node.
 * In a cache group a blob's misses go to the group first (group.h), which
 * makes it one GET per extent per group.
 *
 * A miss for a volume still opening its source is held here and served
 * after the loop turn in which the volume left OPENING (mc_fill_run_held()):
 * volumes never call back into the miss path.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "group.h"
#include "miss_check.h"

struct fill {
	struct mc_vol *vol;
	uint64_t id;
	uint32_t len;
	struct mc_source_req rq;
};

static void complete(struct mc_daemon *d, uint64_t id, uint32_t status)
{
	/* Shutting down: the kernel hands the fill to the next daemon. */
	if (d->ring_closing)
		return;
	if (mc_miss_ring_complete(&d->ring, id, status))
		/* Lost only if memory is gone; the kernel times the fill out. */
		mc_log(d, MC_LOG_ERROR, "out of memory posting completion %" PRIx64, id);
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
			mc_log(d, MC_LOG_WARN, "/dev/maicache%u: fill of %u bytes failed: %s",
			       v->dev_id, f->len, v->last_error);
	}
	complete(d, f->id, res ? EIO : 0);
	free(f);
	mc_vol_fill_done(v);
}

static void start_fill(struct mc_vol *v, const struct mc_miss *m)
{
	struct mc_daemon *d = v->d;
	const char *why = mc_miss_check(v->extent_size, v->dev_size, d->ring.pool_size, m);
	struct fill *f;
	int ret;

	if (why) {
		d->bad_misses++;
		mc_log(d, MC_LOG_WARN, "/dev/maicache%u: miss %" PRIx64 " rejected: %s",
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
	/*
	 * The group shares whole extents: a part (which a group's device is
	 * added not to ask for, vol.c) comes from the source.
	 */
	if (mc_group_serves(d, v) && !(m->flags & MAICACHE_MISS_PART))
		ret = mc_group_read(d, v, m->extent * v->extent_size,
				    d->ring.pool + m->slot_off, m->len, fill_done, f);
	else
		ret = mc_source_read(v->src, &f->rq, m->extent * mc_miss_unit(v->extent_size, m),
				     d->ring.pool + m->slot_off, m->len, fill_done, f);
	if (ret) {
		d->inflight--;
		v->inflight--;
		v->fill_errors++;
		mc_log(d, MC_LOG_WARN, "/dev/maicache%u: cannot start a fill: %s", v->dev_id,
		       strerror(-ret));
		complete(d, m->id, EIO);
		free(f);
	}
}

static int hold(struct mc_daemon *d, const struct mc_miss *m)
{
	if (d->nheld == d->held_cap) {
		size_t cap = d->held_cap ? d->held_cap * 2 : 16;
		struct mc_miss *h = realloc(d->held, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		d->held = h;
		d->held_cap = cap;
	}
	d->held[d->nheld++] = *m;
	return 0;
}

static void dispatch(struct mc_daemon *d, const struct mc_miss *m)
{
	struct mc_vol *v = mc_vol_by_cookie(d, m->cookie);

	if (!v || v->state == MC_VOL_DETACHING) {
		if (!d->unknown_misses++)
			mc_log(d, MC_LOG_WARN, "miss for cookie 0x%" PRIx64 " (/dev/maicache%u), which no attached source backs: failing it (reported once)",
			       m->cookie, m->dev_id);
		complete(d, m->id, EIO);
		return;
	}
	switch (v->state) {
	case MC_VOL_OPENING:
		if (hold(d, m))
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
		mc_log(d, MC_LOG_ERROR, "the miss ring reports an error (revents 0x%x): stopping",
		       revents);
		d->stopping = true;
		return;
	}
	while (!d->stopping && mc_miss_ring_pop(&d->ring, &m))
		dispatch(d, &m);
}

void mc_fill_run_held(struct mc_daemon *d)
{
	size_t i, kept = 0, n = d->nheld;
	struct mc_miss m;
	struct mc_vol *v;

	/* A miss dispatch() holds again (it cannot here) would land past n. */
	for (i = 0; i < n; i++) {
		m = d->held[i];
		v = mc_vol_by_cookie(d, m.cookie);
		if (v && v->state == MC_VOL_OPENING)
			d->held[kept++] = m;
		else
			dispatch(d, &m);
	}
	memmove(d->held + kept, d->held + n, (d->nheld - n) * sizeof(*d->held));
	d->nheld = kept + (d->nheld - n);
}

void mc_fill_free(struct mc_daemon *d)
{
	free(d->held);
	d->held = NULL;
	d->nheld = d->held_cap = 0;
}
