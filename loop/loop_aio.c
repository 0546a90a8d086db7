// SPDX-License-Identifier: MIT
/*
 * The libaio + epoll engine of the event loop, for hosts without io_uring.
 *
 * Readiness is a level-triggered epoll set; each registration's epoll data
 * carries its fd and generation. I/O goes through io_submit() with every
 * iocb signalling one eventfd, which sits in the same epoll set, so a
 * single epoll_wait() covers fds, completions and (as its timeout) timers.
 *
 * io_submit() on a buffered file or a character device does the I/O before
 * it returns; the completion still only reaches its callback from wait().
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libaio.h>

#include "errmsg.h"
#include "loop_engine.h"

/* The eventfd's epoll data; a watch's is gen << 32 | fd, never all ones. */
#define EV_AIO UINT64_MAX
#define AIO_BATCH 64

struct aio_engine {
	io_context_t ctx;
	int epfd;
	int efd;
};

static void aio_close(struct aio_engine *a)
{
	if (a->ctx)
		io_destroy(a->ctx);	/* waits for the I/O in flight */
	if (a->efd >= 0)
		close(a->efd);
	if (a->epfd >= 0)
		close(a->epfd);
	free(a);
}

static int aio_init(struct mc_loop *l, unsigned int depth, char *err,
		    size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_AIO };
	struct aio_engine *a;
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a) {
		return mc_errf(err, errlen, -ENOMEM, "aio: out of memory");
	}
	a->epfd = -1;
	a->efd = -1;
	rc = io_setup((int)depth, &a->ctx);
	if (rc < 0) {
		/* EAGAIN: the depth is above what fs.aio-max-nr leaves. */
		snprintf(err, errlen, "io_setup(%u): %s", depth, strerror(-rc));
		a->ctx = 0;
		goto fail;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->efd, &ev) < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll_ctl(eventfd): %s", strerror(errno));
		goto fail;
	}
	l->engine = a;
	return 0;
fail:
	aio_close(a);
	return rc;
}

static void aio_fini(struct mc_loop *l)
{
	struct mc_io *op;

	aio_close(l->engine);
	while ((op = mc_list_first(&l->running, struct mc_io, link)))
		mc_loop_io_drop(l, op);
}

static int aio_watch(struct mc_loop *l, int fd, struct mc_watch *w,
		     unsigned int old_events, uint32_t old_gen)
{
	struct aio_engine *a = l->engine;
	struct epoll_event ev = {
		.events = w->events,
		.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd,
	};
	int op = old_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	int rc;

	(void)old_gen;
	if (!w->events) {
		/* Fails harmlessly when the fd was closed first. */
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	rc = epoll_ctl(a->epfd, op, fd, &ev);
	/* The set may not match our registry after a close and reuse. */
	if (rc < 0 && errno == ENOENT)
		rc = epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (rc < 0 && errno == EEXIST)
		rc = epoll_ctl(a->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (rc < 0) {
		rc = -errno;
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
		return rc;
	}
	return 0;
}

static int aio_submit(struct mc_loop *l, struct mc_io *op)
{
	struct aio_engine *a = l->engine;
	struct iocb *cb = (struct iocb *)op->priv;
	int rc;

	if (op->write)
		io_prep_pwrite(cb, op->fd, op->buf, op->len, (long long)op->off);
	else
		io_prep_pread(cb, op->fd, op->buf, op->len, (long long)op->off);
	io_set_eventfd(cb, a->efd);
	cb->data = op;
	rc = io_submit(a->ctx, 1, &cb);
	if (rc == 1)
		return 0;
	return rc < 0 ? rc : -EAGAIN;
}

static int aio_reap(struct mc_loop *l)
{
	struct aio_engine *a = l->engine;
	struct io_event evs[AIO_BATCH];
	struct timespec now = { 0, 0 };
	uint64_t count;
	int got, i, n = 0;
	ssize_t r;

	/* Reset before reaping: a later completion signals again. */
	r = read(a->efd, &count, sizeof(count));
	(void)r;
	do {
		got = io_getevents(a->ctx, 0, AIO_BATCH, evs, &now);
		for (i = 0; i < got; i++)
			n += mc_loop_io_done(l, evs[i].data, (long)evs[i].res);
	} while (got == AIO_BATCH);
	return n;
}

static int aio_wait(struct mc_loop *l, int64_t timeout_ns)
{
	struct aio_engine *a = l->engine;
	struct epoll_event evs[AIO_BATCH];
	int ms = -1, got, i, n = 0;
	uint64_t u;

	if (timeout_ns >= 0) {
		/* Round up: waking before a timer is due would spin. */
		int64_t up = (timeout_ns + 999999) / 1000000;

		ms = up > INT_MAX ? INT_MAX : (int)up;
	}
	got = epoll_wait(a->epfd, evs, AIO_BATCH, ms);
	if (got < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < got; i++) {
		u = evs[i].data.u64;
		if (u == EV_AIO)
			n += aio_reap(l);
		else
			n += mc_loop_fd_ready(l, (int)(uint32_t)u,
					      (uint32_t)(u >> 32),
					      evs[i].events);
	}
	return n;
}

const struct mc_engine_ops mc_engine_aio = {
	.name = "aio",
	.io_priv_size = sizeof(struct iocb),
	.init = aio_init,
	.fini = aio_fini,
	.watch = aio_watch,
	.rearm = NULL,
	.submit = aio_submit,
	.wait = aio_wait,
};
