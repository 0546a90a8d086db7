// SPDX-License-Identifier: MIT
/*
 * The io_uring engine of the event loop.
 *
 * Readiness is a one-shot IORING_OP_POLL_ADD per watched fd, re-armed after
 * each dispatch while the fd is still watched; re-arming a condition that
 * still holds completes at once, which makes it level-triggered. A stopped
 * or replaced poll is removed with IORING_OP_POLL_REMOVE (the request holds
 * a reference to the file, so a closed pipe or socket would otherwise stay
 * open); whatever it reports late carries an old generation and is dropped.
 *
 * SQEs are only prepared by the calls that produce them and submitted
 * together by the next wait, so submission never runs a callback.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "errmsg.h"
#include "loop_engine.h"

/*
 * user_data: the address of an I/O operation (malloc'ed, so the low bits
 * are clear), or a tag in the low two bits: a poll carries its fd and
 * generation, a removal or cancellation needs no answer.
 */
enum {
	UD_IO = 0,
	UD_POLL = 1,
	UD_IGNORE = 2,
	UD_TAG_MASK = 3,
};

/* Room for polls and removals prepared between two waits. */
#define URING_EXTRA_ENTRIES 64
#define URING_MAX_ENTRIES 32768

static uint64_t poll_ud(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint64_t)(uint32_t)fd << 2 | UD_POLL;
}

/* An SQE, flushing the submission queue first if it is full. */
static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe && io_uring_submit(ring) >= 0)
		sqe = io_uring_get_sqe(ring);
	return sqe;
}

static const unsigned char needed_ops[] = {
	IORING_OP_READ, IORING_OP_WRITE, IORING_OP_POLL_ADD,
	IORING_OP_POLL_REMOVE, IORING_OP_ASYNC_CANCEL,
};

/*
 * A ring that was set up can still be unusable: a seccomp profile may
 * allow io_uring_setup but not io_uring_enter, or the kernel may lack an
 * opcode. Find out now, while falling back is still possible.
 */
static int uring_probe(struct io_uring *ring, char *err, size_t errlen)
{
	struct io_uring_probe *probe;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	size_t i;
	int rc;

	if (!(ring->features & IORING_FEAT_NODROP)) {
		return mc_errf(err, errlen, -EOPNOTSUPP, "io_uring lacks IORING_FEAT_NODROP");
	}
	probe = calloc(1, sizeof(*probe) + 256 * sizeof(probe->ops[0]));
	if (!probe) {
		return mc_errf(err, errlen, -ENOMEM, "io_uring: out of memory");
	}
	rc = io_uring_register_probe(ring, probe, 256);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_register: %s", strerror(-rc));
		free(probe);
		return rc;
	}
	for (i = 0; i < sizeof(needed_ops); i++) {
		if (!io_uring_opcode_supported(probe, needed_ops[i])) {
			snprintf(err, errlen, "io_uring lacks opcode %u",
				 needed_ops[i]);
			free(probe);
			return -EOPNOTSUPP;
		}
	}
	free(probe);

	sqe = io_uring_get_sqe(ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
	rc = io_uring_submit_and_wait(ring, 1);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_enter: %s", strerror(-rc));
		return rc;
	}
	if (!io_uring_peek_cqe(ring, &cqe))
		io_uring_cqe_seen(ring, cqe);
	return 0;
}

static int uring_init(struct mc_loop *l, unsigned int depth, char *err,
		      size_t errlen)
{
	unsigned int entries = depth + URING_EXTRA_ENTRIES;
	struct io_uring *ring;
	int rc;

	ring = calloc(1, sizeof(*ring));
	if (!ring) {
		return mc_errf(err, errlen, -ENOMEM, "io_uring: out of memory");
	}
	if (entries > URING_MAX_ENTRIES)
		entries = URING_MAX_ENTRIES;
	rc = io_uring_queue_init(entries, ring, 0);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_setup: %s", strerror(-rc));
		free(ring);
		return rc;
	}
	rc = uring_probe(ring, err, errlen);
	if (rc) {
		io_uring_queue_exit(ring);
		free(ring);
		return rc;
	}
	l->engine = ring;
	return 0;
}

/* Cancel what is in flight and wait for every answer: buffers are in use. */
static void uring_fini(struct mc_loop *l)
{
	struct io_uring *ring = l->engine;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct mc_io *op;
	uint64_t ud;
	int rc;

	mc_list_for_each(op, &l->running, link) {
		sqe = sqe_get(ring);
		if (!sqe)
			break;
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
		io_uring_sqe_set_data64(sqe, UD_IGNORE);
	}
	while (!mc_list_empty(&l->running)) {
		rc = io_uring_submit_and_wait(ring, 1);
		if (rc < 0 && rc != -EINTR)
			break;
		while (!io_uring_peek_cqe(ring, &cqe)) {
			ud = cqe->user_data;
			io_uring_cqe_seen(ring, cqe);
			if ((ud & UD_TAG_MASK) == UD_IO)
				mc_loop_io_drop(l, (struct mc_io *)(uintptr_t)ud);
		}
	}
	io_uring_queue_exit(ring);
	free(ring);
}

/*
 * Without an SQE even after a flush the ring is failing; the watch then
 * stays silent (failed) until its events change, and wait() reports why.
 */
static int poll_arm(struct mc_loop *l, int fd, struct mc_watch *w)
{
	struct io_uring_sqe *sqe = sqe_get(l->engine);

	if (!sqe) {
		w->failed = true;
		return -EBUSY;
	}
	io_uring_prep_poll_add(sqe, fd, w->events);
	io_uring_sqe_set_data64(sqe, poll_ud(fd, w->gen));
	w->armed = true;
	return 0;
}

static void uring_rearm(struct mc_loop *l, int fd, struct mc_watch *w)
{
	poll_arm(l, fd, w);
}

static int uring_watch(struct mc_loop *l, int fd, struct mc_watch *w,
		       unsigned int old_events, uint32_t old_gen)
{
	struct io_uring *ring = l->engine;
	struct io_uring_sqe *sqe;

	(void)old_events;
	if (w->armed) {
		w->armed = false;
		sqe = sqe_get(ring);
		if (sqe) {
			io_uring_prep_poll_remove(sqe, poll_ud(fd, old_gen));
			io_uring_sqe_set_data64(sqe, UD_IGNORE);
		}
	}
	if (!w->events) {
		/* Now, so the poll's file reference is gone before close(). */
		io_uring_submit(ring);
		return 0;
	}
	return poll_arm(l, fd, w);
}

static int uring_submit(struct mc_loop *l, struct mc_io *op)
{
	struct io_uring_sqe *sqe = sqe_get(l->engine);

	if (!sqe)
		return -EBUSY;
	if (op->write)
		io_uring_prep_write(sqe, op->fd, op->buf, op->len, op->off);
	else
		io_uring_prep_read(sqe, op->fd, op->buf, op->len, op->off);
	/*
	 * Forced async work may start a worker of its own; work io_uring
	 * punts by itself waits for the one running worker unless it sleeps.
	 */
	if (op->flags & MC_IO_PARALLEL)
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	io_uring_sqe_set_data(sqe, op);
	return 0;
}

static int poll_done(struct mc_loop *l, int fd, uint32_t gen, int res)
{
	struct mc_watch *w = mc_loop_watch_live(l, fd, gen);

	if (!w)
		return 0;	/* for a registration that has ended */
	w->armed = false;
	if (res < 0) {
		/* Re-arming would fail the same way: report once, stop. */
		w->failed = true;
		return mc_loop_fd_ready(l, fd, gen, POLLERR);
	}
	return mc_loop_fd_ready(l, fd, gen, (unsigned int)res);
}

static int cqe_dispatch(struct mc_loop *l, uint64_t ud, int res)
{
	switch (ud & UD_TAG_MASK) {
	case UD_IO:
		return mc_loop_io_done(l, (struct mc_io *)(uintptr_t)ud, res);
	case UD_POLL:
		return poll_done(l, (int)((ud >> 2) & 0x3fffffff),
				 (uint32_t)(ud >> 32), res);
	default:
		return 0;
	}
}

/* Only the CQEs present now: callbacks cause more, for the next run. */
static int uring_reap(struct mc_loop *l)
{
	struct io_uring *ring = l->engine;
	unsigned int budget = io_uring_cq_ready(ring);
	struct io_uring_cqe *cqe;
	int n = 0;
	uint64_t ud;
	int res;

	while (budget-- && !io_uring_peek_cqe(ring, &cqe)) {
		ud = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		n += cqe_dispatch(l, ud, res);
	}
	return n;
}

static int uring_wait(struct mc_loop *l, int64_t timeout_ns)
{
	struct io_uring *ring = l->engine;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int rc;

	if (timeout_ns < 0) {
		rc = io_uring_submit_and_wait(ring, 1);
	} else if (timeout_ns == 0) {
		rc = io_uring_submit_and_get_events(ring);
	} else {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
	}
	if (rc < 0 && rc != -ETIME && rc != -EINTR)
		return rc;
	return uring_reap(l);
}

const struct mc_engine_ops mc_engine_uring = {
	.name = "io_uring",
	.io_priv_size = 0,
	.init = uring_init,
	.fini = uring_fini,
	.watch = uring_watch,
	.rearm = uring_rearm,
	.submit = uring_submit,
	.wait = uring_wait,
};
