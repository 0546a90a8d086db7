// SPDX-License-Identifier: MIT
/*
 * The engine-independent part of the event loop: engine choice, the fd
 * registry, the I/O queue beyond depth, timers and dispatch.
 *
 * Callbacks run only from mc_loop_run_once(): an engine reports readiness
 * and completions from its wait(), and an I/O that fails at submission is
 * parked on the done list until the next run, so no callback ever runs
 * inside mc_loop_read(), mc_loop_write() or mc_loop_watch().
 *
 * Every registration of an fd has its own generation: an event the engine
 * saw for an older one (stopped, replaced, or an fd closed and reused) does
 * not match and is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop_engine.h"

#define NSEC_PER_MSEC 1000000ULL
#define MC_LOOP_MAX_DEPTH 65536
/* Far enough to never fire, small enough not to overflow a deadline. */
#define MC_TIMER_MAX_MS (UINT64_MAX / 4 / NSEC_PER_MSEC)

uint64_t mc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t mc_now_ms(void)
{
	return mc_now_ns() / NSEC_PER_MSEC;
}

int mc_engine_parse(const char *s, enum mc_engine *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		*out = MC_ENGINE_AUTO;
	else if (!strcmp(s, "io_uring") || !strcmp(s, "uring"))
		*out = MC_ENGINE_URING;
	else if (!strcmp(s, "aio"))
		*out = MC_ENGINE_AIO;
	else
		return -EINVAL;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int engine_start(struct mc_loop *l, const struct mc_engine_ops *ops,
			char *err, size_t errlen)
{
	int rc;

	l->ops = ops;
	rc = ops->init(l, l->depth, err, errlen);
	if (rc)
		l->ops = NULL;
	return rc;
}

int mc_loop_new(struct mc_loop **out, enum mc_engine engine, unsigned int depth,
		char *err, size_t errlen)
{
	struct mc_loop *l;
	char why[160];
	int rc;

	*out = NULL;
	set_err(err, errlen, "%s", "");
	if (depth == 0 || depth > MC_LOOP_MAX_DEPTH) {
		set_err(err, errlen, "event loop depth %u: must be 1..%u",
			depth, MC_LOOP_MAX_DEPTH);
		return -EINVAL;
	}
	if (engine != MC_ENGINE_AUTO && engine != MC_ENGINE_URING &&
	    engine != MC_ENGINE_AIO) {
		set_err(err, errlen, "unknown event loop engine %d", (int)engine);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		set_err(err, errlen, "event loop: out of memory");
		return -ENOMEM;
	}
	l->depth = depth;
	mc_list_init(&l->queued);
	mc_list_init(&l->running);
	mc_list_init(&l->done);
	mc_list_init(&l->timers);

	if (engine != MC_ENGINE_AIO) {
		rc = engine_start(l, &mc_engine_uring, l->fallback,
				  sizeof(l->fallback));
		if (rc && engine == MC_ENGINE_URING)
			set_err(err, errlen, "%s", l->fallback);
		if (!rc || engine == MC_ENGINE_URING)
			goto out;
	}
	rc = engine_start(l, &mc_engine_aio, why, sizeof(why));
	if (rc && l->fallback[0])
		set_err(err, errlen, "%s; %s", l->fallback, why);
	else if (rc)
		set_err(err, errlen, "%s", why);
	else if (l->fallback[0])
		set_err(err, errlen,
			"io_uring unavailable (%s): using libaio+epoll",
			l->fallback);
out:
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

static void io_list_free(struct mc_list *list)
{
	struct mc_io *op;

	while ((op = mc_list_first(list, struct mc_io, link))) {
		mc_list_del(&op->link);
		free(op);
	}
}

void mc_loop_free(struct mc_loop *l)
{
	struct mc_timer *t;

	if (!l)
		return;
	l->ops->fini(l);
	io_list_free(&l->running);
	io_list_free(&l->queued);
	io_list_free(&l->done);
	while ((t = mc_list_first(&l->timers, struct mc_timer, link))) {
		mc_list_del(&t->link);
		t->deadline_ns = 0;
	}
	free(l->watches);
	free(l);
}

const char *mc_loop_engine_name(const struct mc_loop *l)
{
	return l->ops->name;
}

const char *mc_loop_fallback_reason(const struct mc_loop *l)
{
	return l->fallback[0] ? l->fallback : NULL;
}

unsigned int mc_loop_io_inflight(const struct mc_loop *l)
{
	return l->inflight;
}

/* ---- fd registry ---- */

static int watches_grow(struct mc_loop *l, int fd)
{
	unsigned int n = l->nwatches ? l->nwatches : 64;
	struct mc_watch *w;

	if ((unsigned int)fd < l->nwatches)
		return 0;
	while (n <= (unsigned int)fd)
		n *= 2;
	w = realloc(l->watches, n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + l->nwatches, 0, (n - l->nwatches) * sizeof(*w));
	l->watches = w;
	l->nwatches = n;
	return 0;
}

struct mc_watch *mc_loop_watch_live(struct mc_loop *l, int fd, uint32_t gen)
{
	struct mc_watch *w;

	if (fd < 0 || (unsigned int)fd >= l->nwatches)
		return NULL;
	w = &l->watches[fd];
	return w->events && w->gen == gen ? w : NULL;
}

/* End w's registration; events seen for it are stale from now on. */
static void watch_stop(struct mc_loop *l, int fd, struct mc_watch *w)
{
	unsigned int old_events = w->events;
	uint32_t old_gen = w->gen;

	w->events = 0;
	w->gen++;
	w->cb = NULL;
	w->arg = NULL;
	l->ops->watch(l, fd, w, old_events, old_gen);
}

void mc_loop_forget(struct mc_loop *l, int fd)
{
	if (fd < 0 || (unsigned int)fd >= l->nwatches ||
	    !l->watches[fd].events)
		return;
	watch_stop(l, fd, &l->watches[fd]);
}

int mc_loop_watch(struct mc_loop *l, int fd, unsigned int events,
		  mc_fd_cb cb, void *arg)
{
	unsigned int old_events;
	struct mc_watch *w;
	uint32_t old_gen;
	int rc;

	if (fd < 0)
		return -EBADF;
	if (events & ~(unsigned int)(POLLIN | POLLOUT))
		return -EINVAL;
	if (!events) {
		mc_loop_forget(l, fd);
		return 0;
	}
	if (!cb)
		return -EINVAL;
	if (fcntl(fd, F_GETFD) < 0)
		return -errno;
	rc = watches_grow(l, fd);
	if (rc)
		return rc;

	w = &l->watches[fd];
	if (w->events == events) {
		/* Same request to the kernel: only the callback changes. */
		w->cb = cb;
		w->arg = arg;
		return 0;
	}
	old_events = w->events;
	old_gen = w->gen;
	w->events = events;
	w->gen++;
	w->cb = cb;
	w->arg = arg;
	w->failed = false;
	rc = l->ops->watch(l, fd, w, old_events, old_gen);
	if (rc) {
		w->events = 0;
		w->gen++;
		w->cb = NULL;
		w->arg = NULL;
	}
	return rc;
}

int mc_loop_fd_ready(struct mc_loop *l, int fd, uint32_t gen,
		     unsigned int revents)
{
	struct mc_watch *w = mc_loop_watch_live(l, fd, gen);
	int ran = 0;

	if (!w)
		return 0;
	revents &= w->events | POLLERR | POLLHUP;
	if (revents) {
		w->cb(w->arg, fd, revents);
		ran = 1;
		w = &l->watches[fd];	/* the callback may have grown the array */
	}
	if (l->ops->rearm && w->events && !w->armed && !w->failed)
		l->ops->rearm(l, fd, w);
	return ran;
}

/* ---- I/O ---- */

/* Hand op to the engine; a refusal becomes a result for the next run. */
static void io_start(struct mc_loop *l, struct mc_io *op)
{
	int rc;

	mc_list_add_tail(&l->running, &op->link);
	l->inflight++;
	rc = l->ops->submit(l, op);
	if (rc < 0) {
		mc_list_del(&op->link);
		l->inflight--;
		op->res = rc;
		mc_list_add_tail(&l->done, &op->link);
	}
}

static void io_pump(struct mc_loop *l)
{
	struct mc_io *op;

	while (l->inflight < l->depth && (op = mc_list_first(&l->queued, struct mc_io, link))) {
		mc_list_del(&op->link);
		io_start(l, op);
	}
}

static int io_new(struct mc_loop *l, int fd, void *buf, size_t len,
		  uint64_t off, bool write, unsigned int flags, mc_io_cb cb,
		  void *arg)
{
	struct mc_io *op;

	if (!cb || len > INT_MAX || off > INT64_MAX || (flags & ~MC_IO_PARALLEL))
		return -EINVAL;
	op = malloc(sizeof(*op) + l->ops->io_priv_size);
	if (!op)
		return -ENOMEM;
	op->fd = fd;
	op->write = write;
	op->flags = flags;
	op->buf = buf;
	op->len = len;
	op->off = off;
	op->cb = cb;
	op->arg = arg;
	op->res = 0;
	/* Behind anything already queued, so I/O starts in order. */
	mc_list_add_tail(&l->queued, &op->link);
	io_pump(l);
	return 0;
}

int mc_loop_read(struct mc_loop *l, int fd, void *buf, size_t len,
		 uint64_t off, mc_io_cb cb, void *arg)
{
	return io_new(l, fd, buf, len, off, false, 0, cb, arg);
}

int mc_loop_read_flags(struct mc_loop *l, int fd, void *buf, size_t len,
		       uint64_t off, unsigned int flags, mc_io_cb cb, void *arg)
{
	return io_new(l, fd, buf, len, off, false, flags, cb, arg);
}

int mc_loop_write(struct mc_loop *l, int fd, const void *buf, size_t len,
		  uint64_t off, mc_io_cb cb, void *arg)
{
	return io_new(l, fd, (void *)buf, len, off, true, 0, cb, arg);
}

int mc_loop_io_done(struct mc_loop *l, struct mc_io *op, ssize_t res)
{
	mc_list_del(&op->link);
	l->inflight--;
	io_pump(l);
	op->cb(op->arg, res);
	free(op);
	return 1;
}

void mc_loop_io_drop(struct mc_loop *l, struct mc_io *op)
{
	mc_list_del(&op->link);
	l->inflight--;
	free(op);
}

/* Deliver the submission failures parked before this run. */
static int done_run(struct mc_loop *l)
{
	struct mc_list list;
	struct mc_io *op;
	int n = 0;

	mc_list_init(&list);
	mc_list_splice_tail(&list, &l->done);
	while ((op = mc_list_first(&list, struct mc_io, link))) {
		mc_list_del(&op->link);
		op->cb(op->arg, op->res);
		free(op);
		n++;
	}
	return n;
}

/* ---- timers: a list sorted by deadline, ties in arming order ---- */

void mc_timer_cancel(struct mc_loop *l, struct mc_timer *t)
{
	(void)l;
	if (!t->deadline_ns)
		return;
	mc_list_del(&t->link);
	t->deadline_ns = 0;
}

void mc_timer_arm(struct mc_loop *l, struct mc_timer *t, uint64_t ms,
		  mc_timer_cb cb, void *arg)
{
	struct mc_timer *pos;

	mc_timer_cancel(l, t);
	if (ms > MC_TIMER_MAX_MS)
		ms = MC_TIMER_MAX_MS;
	t->cb = cb;
	t->arg = arg;
	t->deadline_ns = mc_now_ns() + ms * NSEC_PER_MSEC;
	mc_list_for_each(pos, &l->timers, link)
		if (pos->deadline_ns > t->deadline_ns)
			break;
	/* Before the first later one, or at the tail. */
	mc_list_add_before(&t->link, &pos->link);
}

static int timers_run(struct mc_loop *l)
{
	uint64_t now = mc_now_ns();
	struct mc_timer *t;
	int n = 0;

	/* Re-read the head each time: a callback may arm or cancel any timer. */
	while ((t = mc_list_first(&l->timers, struct mc_timer, link)) &&
	       t->deadline_ns <= now) {
		mc_list_del(&t->link);
		t->deadline_ns = 0;
		if (t->cb) {
			t->cb(t->arg);
			n++;
		}
	}
	return n;
}

/* How long the engine may sleep: the caller's limit, the next timer. */
static int64_t wait_ns(struct mc_loop *l, int timeout_ms)
{
	int64_t ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	uint64_t now, next;
	int64_t left;

	if (!mc_list_empty(&l->done))
		return 0;
	if (!mc_list_empty(&l->timers)) {
		now = mc_now_ns();
		next = mc_list_first(&l->timers, struct mc_timer, link)->deadline_ns;
		left = next > now ? (int64_t)(next - now) : 0;
		if (ns < 0 || left < ns)
			ns = left;
	}
	return ns;
}

int mc_loop_run_once(struct mc_loop *l, int timeout_ms)
{
	int n;

	n = l->ops->wait(l, wait_ns(l, timeout_ms));
	if (n < 0)
		return n;
	n += done_run(l);
	n += timers_run(l);
	return n;
}
