// SPDX-License-Identifier: MIT
/*
 * Unit tests for the event loop. Every behaviour runs on both engines
 * (the loop index _i picks io_uring or aio); timing checks are lower
 * bounds the loop guarantees, with generous upper bounds.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "../vm/tools/seccomp_no_uring.h"
#include "check_run.h"

static const enum mc_engine engines[] = { MC_ENGINE_URING, MC_ENGINE_AIO };
static const char *const engine_names[] = { "io_uring", "aio" };
#define NENGINES 2

/* Enough runs for anything that is ready to be dispatched. */
#define MAX_RUNS 50

/* A loop on engine i; NULL (with the reason printed) without io_uring. */
static struct mc_loop *loop_on(int i, unsigned int depth)
{
	struct mc_loop *l;
	char err[256];
	int rc;

	rc = mc_loop_new(&l, engines[i], depth, err, sizeof(err));
	if (rc && engines[i] == MC_ENGINE_URING &&
	    (rc == -ENOSYS || rc == -EPERM)) {
		printf("skipping the io_uring case: %s\n", err);
		return NULL;
	}
	ck_assert_msg(rc == 0, "mc_loop_new(%s): %d %s", engine_names[i], rc,
		      err);
	ck_assert_str_eq(mc_loop_engine_name(l), engine_names[i]);
	ck_assert_str_eq(err, "");
	return l;
}

static void xwrite(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
}

static void xpipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

/* Run until *count reaches want, at most MAX_RUNS runs of up to 1 s. */
static void run_until(struct mc_loop *l, const int *count, int want)
{
	int runs;

	for (runs = 0; *count < want && runs < MAX_RUNS; runs++)
		ck_assert_int_ge(mc_loop_run_once(l, 1000), 0);
	ck_assert_int_ge(*count, want);
}

static uint64_t ms_since(uint64_t start_ns)
{
	return (mc_now_ns() - start_ns) / 1000000;
}

struct io_rec {
	struct mc_loop *l;
	int calls;
	ssize_t res;
	unsigned int max_inflight;
};

static void io_cb(void *arg, ssize_t res)
{
	struct io_rec *r = arg;
	unsigned int n = mc_loop_io_inflight(r->l);

	r->calls++;
	r->res = res;
	if (n > r->max_inflight)
		r->max_inflight = n;
}

/* ---- readiness ---- */

struct fd_rec {
	struct mc_loop *l;
	int calls;
	unsigned int revents;
	int drain;		/* bytes read per call; 0 leaves the data */
	bool stop_self;
	int stop_other;		/* another fd to stop, or -1 */
};

static void fd_rec_init(struct fd_rec *r, struct mc_loop *l)
{
	memset(r, 0, sizeof(*r));
	r->l = l;
	r->stop_other = -1;
}

static void fd_cb(void *arg, int fd, unsigned int revents)
{
	struct fd_rec *r = arg;
	char buf[64];

	r->calls++;
	r->revents = revents;
	if (r->drain)
		ck_assert_int_eq(read(fd, buf, (size_t)r->drain), r->drain);
	if (r->stop_self)
		ck_assert_int_eq(mc_loop_watch(r->l, fd, 0, NULL, NULL), 0);
	if (r->stop_other >= 0)
		mc_loop_forget(r->l, r->stop_other);
}

START_TEST(pollin_level_triggered)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec r;
	int p[2], k;

	if (!l)
		return;
	fd_rec_init(&r, l);
	xpipe(p);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &r), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 0);

	/* Data left in the pipe: one callback per run, with no new writes. */
	xwrite(p[1], "abc", 3);
	for (k = 1; k <= 3; k++) {
		ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
		ck_assert_int_eq(r.calls, k);
		ck_assert_uint_eq(r.revents, POLLIN);
	}
	/* Each call drains one byte: two more calls, then silence. */
	r.drain = 1;
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(r.calls, 6);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 6);

	mc_loop_forget(l, p[0]);
	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(pollout_follows_space)
{
	struct mc_loop *l = loop_on(_i, 8);
	char buf[4096] = { 0 };
	struct fd_rec r;
	int p[2];

	if (!l)
		return;
	fd_rec_init(&r, l);
	xpipe(p);
	ck_assert_int_eq(mc_loop_watch(l, p[1], POLLOUT, fd_cb, &r), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_uint_eq(r.revents, POLLOUT);

	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 1);

	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(r.calls, 2);
	ck_assert_uint_eq(r.revents, POLLOUT);

	mc_loop_forget(l, p[1]);
	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(watch_replaces_callback_and_events)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec a, b;
	int s[2];

	if (!l)
		return;
	fd_rec_init(&a, l);
	fd_rec_init(&b, l);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s), 0);

	/* Same events, new callback: only the new one runs. */
	ck_assert_int_eq(mc_loop_watch(l, s[0], POLLOUT, fd_cb, &a), 0);
	ck_assert_int_eq(mc_loop_watch(l, s[0], POLLOUT, fd_cb, &b), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(b.calls, 1);

	/* New events: the always-true POLLOUT is no longer reported. */
	ck_assert_int_eq(mc_loop_watch(l, s[0], POLLIN, fd_cb, &a), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	xwrite(s[1], "x", 1);
	a.drain = 1;
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_uint_eq(a.revents, POLLIN);
	ck_assert_int_eq(b.calls, 1);

	mc_loop_forget(l, s[0]);
	mc_loop_free(l);
	close(s[0]);
	close(s[1]);
}
END_TEST

/* The engine already saw the event when the callback is replaced. */
START_TEST(replace_after_event_seen)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec a, b;
	int p[2];

	if (!l)
		return;
	fd_rec_init(&a, l);
	fd_rec_init(&b, l);
	xpipe(p);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &a), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 0), 0);	/* poll in flight */
	xwrite(p[1], "x", 1);
	usleep(10000);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &b), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(b.calls, 1);

	/*
	 * Stopped and watched again after the engine saw the event: one
	 * call per run, from the new registration only.
	 */
	ck_assert_int_eq(mc_loop_run_once(l, 0), 1);
	usleep(10000);
	mc_loop_forget(l, p[0]);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &a), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(a.calls, 2);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &b), 0);

	/* And stopped after it was seen: no call at all. */
	ck_assert_int_eq(mc_loop_run_once(l, 0), 1);
	usleep(10000);
	mc_loop_forget(l, p[0]);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(b.calls, 3);
	ck_assert_int_eq(a.calls, 2);

	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(stop_from_own_callback)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec r;
	int p[2], k;

	if (!l)
		return;
	fd_rec_init(&r, l);
	r.stop_self = true;
	xpipe(p);
	xwrite(p[1], "data", 4);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &r), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 1);

	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * Two fds ready in the same wait; whichever callback runs first stops
 * both, so the other's event, already collected, must be dropped.
 */
START_TEST(stop_other_in_same_batch)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec rp, rq;
	int p[2], q[2], k;

	if (!l)
		return;
	xpipe(p);
	xpipe(q);
	fd_rec_init(&rp, l);
	fd_rec_init(&rq, l);
	rp.stop_self = rq.stop_self = true;
	rp.stop_other = q[0];
	rq.stop_other = p[0];
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &rp), 0);
	ck_assert_int_eq(mc_loop_watch(l, q[0], POLLIN, fd_cb, &rq), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 0), 0);	/* polls in flight */
	xwrite(p[1], "x", 1);
	xwrite(q[1], "y", 1);
	usleep(10000);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(rp.calls + rq.calls, 1);

	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

struct swap_rec {
	struct mc_loop *l;
	struct fd_rec next;
	int calls;
};

/* Stop, then watch again with another callback, from inside. */
static void swap_cb(void *arg, int fd, unsigned int revents)
{
	struct swap_rec *s = arg;

	(void)revents;
	s->calls++;
	mc_loop_forget(s->l, fd);
	ck_assert_int_eq(mc_loop_watch(s->l, fd, POLLIN, fd_cb, &s->next), 0);
}

START_TEST(rewatch_from_own_callback)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct swap_rec s = { .l = l };
	int p[2];

	if (!l)
		return;
	fd_rec_init(&s.next, l);
	s.next.drain = 1;
	xpipe(p);
	xwrite(p[1], "ab", 2);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, swap_cb, &s), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	run_until(l, &s.next.calls, 2);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.next.calls, 2);

	mc_loop_forget(l, p[0]);
	mc_loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * After forget, close really closes (the writer sees EPIPE: no request
 * holds the file) and a new file on the same fd number gets only its own
 * callback.
 */
START_TEST(forget_then_close)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec old, new;
	int p[2], q[2], num;

	if (!l)
		return;
	fd_rec_init(&old, l);
	fd_rec_init(&new, l);
	new.drain = 1;
	signal(SIGPIPE, SIG_IGN);
	xpipe(p);
	num = p[0];
	ck_assert_int_eq(mc_loop_watch(l, num, POLLIN, fd_cb, &old), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 0), 0);	/* poll in flight */
	mc_loop_forget(l, num);
	close(num);
	ck_assert_int_eq(write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);

	xpipe(q);
	if (q[0] != num) {
		ck_assert_int_eq(dup3(q[0], num, O_CLOEXEC), num);
		close(q[0]);
	}
	ck_assert_int_eq(mc_loop_watch(l, num, POLLIN, fd_cb, &new), 0);
	xwrite(q[1], "y", 1);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(new.calls, 1);
	ck_assert_int_eq(old.calls, 0);

	mc_loop_forget(l, num);
	mc_loop_free(l);
	close(num);
	close(p[1]);
	close(q[1]);
}
END_TEST

START_TEST(watch_bad_arguments)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec r;
	int p[2];

	if (!l)
		return;
	fd_rec_init(&r, l);
	xpipe(p);
	ck_assert_int_eq(mc_loop_watch(l, -1, POLLIN, fd_cb, &r), -EBADF);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLPRI, fd_cb, &r), -EINVAL);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, NULL, &r), -EINVAL);
	close(p[0]);
	ck_assert_int_eq(mc_loop_watch(l, p[0], POLLIN, fd_cb, &r), -EBADF);
	mc_loop_forget(l, p[0]);	/* never watched: harmless */
	ck_assert_int_eq(mc_loop_run_once(l, 0), 0);
	mc_loop_free(l);
	close(p[1]);
}
END_TEST

START_TEST(eventfd_readiness_and_read)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct fd_rec r;
	struct io_rec ior = { .l = l };
	uint64_t v = 0;
	int efd;

	if (!l)
		return;
	fd_rec_init(&r, l);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(mc_loop_watch(l, efd, POLLIN, fd_cb, &r), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(eventfd_write(efd, 5), 0);
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_uint_eq(r.revents, POLLIN);
	r.drain = 8;		/* an eventfd read takes the whole counter */
	ck_assert_int_eq(mc_loop_run_once(l, 1000), 1);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 2);
	mc_loop_forget(l, efd);

	/* Read through the loop: eight bytes, the counter's value. */
	ck_assert_int_eq(eventfd_write(efd, 7), 0);
	ck_assert_int_eq(mc_loop_read(l, efd, &v, sizeof(v), 0, io_cb, &ior), 0);
	run_until(l, &ior.calls, 1);
	ck_assert_int_eq(ior.res, (ssize_t)sizeof(v));
	ck_assert_uint_eq(v, 7);
	close(efd);
	mc_loop_free(l);
}
END_TEST

/* ---- timers ---- */

struct tm_rec {
	struct mc_loop *l;
	struct mc_timer *self;
	struct mc_timer *victim;	/* cancelled by this timer, or NULL */
	int *order;
	int *norder;
	int id;
	int calls;
	int rearm_until;		/* re-arm itself while calls < this */
	uint64_t start_ns;
	uint64_t fired_ms;
};

static void tm_cb(void *arg)
{
	struct tm_rec *t = arg;

	t->calls++;
	t->fired_ms = ms_since(t->start_ns);
	if (t->order)
		t->order[(*t->norder)++] = t->id;
	if (t->victim)
		mc_timer_cancel(t->l, t->victim);
	if (t->calls < t->rearm_until)
		mc_timer_arm(t->l, t->self, 5, tm_cb, t);
}

START_TEST(timers_fire_in_deadline_order)
{
	static const int ms[] = { 30, 10, 20 };
	struct mc_loop *l = loop_on(_i, 8);
	struct mc_timer tm[3] = { { 0 } };
	struct tm_rec rec[3];
	int order[3], norder = 0, k;
	uint64_t start = mc_now_ns();

	if (!l)
		return;
	for (k = 0; k < 3; k++) {
		rec[k] = (struct tm_rec){ .l = l, .self = &tm[k], .id = ms[k],
			.order = order, .norder = &norder, .start_ns = start };
		mc_timer_arm(l, &tm[k], (uint64_t)ms[k], tm_cb, &rec[k]);
		ck_assert_uint_ne(tm[k].deadline_ns, 0);
	}
	run_until(l, &norder, 3);
	ck_assert_int_eq(norder, 3);
	ck_assert_int_eq(order[0], 10);
	ck_assert_int_eq(order[1], 20);
	ck_assert_int_eq(order[2], 30);
	for (k = 0; k < 3; k++) {
		ck_assert_uint_ge(rec[k].fired_ms, (uint64_t)ms[k]);
		ck_assert_uint_eq(tm[k].deadline_ns, 0);
	}
	mc_loop_free(l);
}
END_TEST

START_TEST(timer_rearms_from_callback)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct mc_timer t = { 0 };
	struct tm_rec rec = { .l = l, .self = &t, .rearm_until = 3,
			      .start_ns = mc_now_ns() };

	if (!l)
		return;
	mc_timer_arm(l, &t, 5, tm_cb, &rec);
	run_until(l, &rec.calls, 3);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(rec.calls, 3);
	ck_assert_uint_ge(rec.fired_ms, 15);
	ck_assert_uint_eq(t.deadline_ns, 0);
	mc_loop_free(l);
}
END_TEST

START_TEST(timer_cancel_and_rearm)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct mc_timer t = { 0 }, u = { 0 };
	struct tm_rec rt = { .l = l, .self = &t, .start_ns = mc_now_ns() };
	struct tm_rec ru = { .l = l, .self = &u, .start_ns = mc_now_ns() };

	if (!l)
		return;
	mc_timer_arm(l, &t, 10, tm_cb, &rt);
	mc_timer_cancel(l, &t);
	ck_assert_uint_eq(t.deadline_ns, 0);
	mc_timer_cancel(l, &t);		/* twice is harmless */

	/* Re-arming an armed timer moves it rather than adding it twice. */
	mc_timer_arm(l, &u, 60000, tm_cb, &ru);
	mc_timer_arm(l, &u, 20, tm_cb, &ru);
	run_until(l, &ru.calls, 1);
	ck_assert_int_eq(mc_loop_run_once(l, 60), 0);
	ck_assert_int_eq(rt.calls, 0);
	ck_assert_int_eq(ru.calls, 1);
	ck_assert_uint_ge(ru.fired_ms, 20);
	mc_loop_free(l);
}
END_TEST

/* Both expired before the run: the first one's callback cancels the other. */
START_TEST(timer_cancelled_by_another)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct mc_timer a = { 0 }, b = { 0 };
	struct tm_rec rb = { .l = l, .self = &b, .start_ns = mc_now_ns() };
	struct tm_rec ra = { .l = l, .self = &a, .victim = &b,
			     .start_ns = mc_now_ns() };

	if (!l)
		return;
	mc_timer_arm(l, &a, 10, tm_cb, &ra);
	mc_timer_arm(l, &b, 11, tm_cb, &rb);
	usleep(30000);
	ck_assert_int_eq(mc_loop_run_once(l, 0), 1);
	ck_assert_int_eq(ra.calls, 1);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(rb.calls, 0);
	ck_assert_uint_eq(b.deadline_ns, 0);
	mc_loop_free(l);
}
END_TEST

START_TEST(run_once_timeouts)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct mc_timer t = { 0 };
	struct tm_rec rec = { .l = l, .self = &t };
	uint64_t start;

	if (!l)
		return;
	start = mc_now_ns();
	ck_assert_int_eq(mc_loop_run_once(l, 0), 0);
	ck_assert_uint_lt(ms_since(start), 1000);

	start = mc_now_ns();
	ck_assert_int_eq(mc_loop_run_once(l, 100), 0);
	ck_assert_uint_ge(ms_since(start), 100);
	ck_assert_uint_lt(ms_since(start), 5000);

	/* No limit: the timer bounds the wait. */
	rec.start_ns = start = mc_now_ns();
	mc_timer_arm(l, &t, 50, tm_cb, &rec);
	ck_assert_int_eq(mc_loop_run_once(l, -1), 1);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_uint_ge(ms_since(start), 50);
	ck_assert_uint_lt(ms_since(start), 5000);

	/* A limit shorter than the timer wins. */
	mc_timer_arm(l, &t, 60000, tm_cb, &rec);
	start = mc_now_ns();
	ck_assert_int_eq(mc_loop_run_once(l, 30), 0);
	ck_assert_uint_ge(ms_since(start), 30);
	ck_assert_uint_lt(ms_since(start), 5000);
	mc_loop_free(l);
	ck_assert_uint_eq(t.deadline_ns, 0);	/* freed loops leave timers disarmed */
}
END_TEST

/* ---- I/O ---- */

/* A temporary file in /var/tmp (O_DIRECT works there, not on tmpfs). */
static int tmpfile_rw(char *path, size_t len)
{
	int fd;

	snprintf(path, 64, "/var/tmp/check_loop.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(path, 64, "/tmp/check_loop.XXXXXX");
		fd = mkstemp(path);
	}
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static void pattern(unsigned char *buf, size_t len, uint64_t off)
{
	size_t k;

	for (k = 0; k < len; k++)
		buf[k] = (unsigned char)((off + k) * 7 + ((off + k) >> 12));
}

START_TEST(file_write_then_read)
{
	struct mc_loop *l = loop_on(_i, 8);
	static unsigned char out[8192], in[8192], want[8192];
	struct io_rec r = { .l = l };
	char path[64];
	int fd;

	if (!l)
		return;
	fd = tmpfile_rw(path, 0);
	pattern(out, sizeof(out), 4096);
	memcpy(want, out, sizeof(out));

	ck_assert_int_eq(mc_loop_write(l, fd, out, sizeof(out), 4096, io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 0);	/* never from inside the submission */
	run_until(l, &r.calls, 1);
	ck_assert_int_eq(r.res, (ssize_t)sizeof(out));

	ck_assert_int_eq(mc_loop_read(l, fd, in, sizeof(in), 4096, io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 1);
	run_until(l, &r.calls, 2);
	ck_assert_int_eq(r.res, (ssize_t)sizeof(in));
	ck_assert(!memcmp(in, want, sizeof(in)));

	/* Short read at the end of the file, then end of file. */
	ck_assert_int_eq(mc_loop_read(l, fd, in, sizeof(in), 8192, io_cb, &r), 0);
	run_until(l, &r.calls, 3);
	ck_assert_int_eq(r.res, 4096);
	ck_assert(!memcmp(in, want + 4096, 4096));
	ck_assert_int_eq(mc_loop_read(l, fd, in, sizeof(in), 1 << 20, io_cb, &r), 0);
	run_until(l, &r.calls, 4);
	ck_assert_int_eq(r.res, 0);

	mc_loop_free(l);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(odirect_read)
{
	enum { FILE_LEN = 1 << 20, OFF = 128 << 10, LEN = 64 << 10 };
	struct mc_loop *l = loop_on(_i, 8);
	struct io_rec r = { .l = l };
	unsigned char *want, *buf;
	char path[64];
	int fd, dfd;

	if (!l)
		return;
	fd = tmpfile_rw(path, 0);
	want = malloc(FILE_LEN);
	ck_assert_ptr_nonnull(want);
	pattern(want, FILE_LEN, 0);
	ck_assert_int_eq(pwrite(fd, want, FILE_LEN, 0), FILE_LEN);
	ck_assert_int_eq(fsync(fd), 0);
	dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (dfd < 0 && errno == EINVAL) {
		printf("skipping O_DIRECT: %s does not support it\n", path);
		goto out;
	}
	ck_assert_msg(dfd >= 0, "open %s O_DIRECT: %s", path, strerror(errno));
	ck_assert_int_eq(posix_memalign((void **)&buf, 4096, LEN), 0);
	memset(buf, 0, LEN);

	ck_assert_int_eq(mc_loop_read(l, dfd, buf, LEN, OFF, io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 0);
	run_until(l, &r.calls, 1);
	ck_assert_int_eq(r.res, LEN);
	ck_assert(!memcmp(buf, want + OFF, LEN));
	free(buf);
	close(dfd);
out:
	mc_loop_free(l);
	free(want);
	close(fd);
	unlink(path);
}
END_TEST

/*
 * MC_IO_PARALLEL reads of one buffered file all complete with their bytes,
 * on both engines. (How many io_uring workers run them is the kernel's
 * timing: reads queued while a worker is still starting all go to it. The
 * cold benchmark measures what the flag buys.)
 */
START_TEST(parallel_reads_of_one_file)
{
	enum { NIO = 6, BS = 4 << 20 };
	struct mc_loop *l = loop_on(_i, 8);
	struct io_rec r = { .l = l };
	unsigned char *want, *buf;
	char path[64];
	int fd, k;

	if (!l)
		return;
	fd = tmpfile_rw(path, 0);
	want = malloc((size_t)NIO * BS);
	buf = calloc(NIO, BS);
	ck_assert(want && buf);
	pattern(want, (size_t)NIO * BS, 0);
	ck_assert_int_eq(pwrite(fd, want, (size_t)NIO * BS, 0), (ssize_t)NIO * BS);

	for (k = 0; k < NIO; k++)
		ck_assert_int_eq(mc_loop_read_flags(l, fd, buf + (size_t)k * BS, BS,
						    (uint64_t)k * BS, MC_IO_PARALLEL,
						    io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 0);
	run_until(l, &r.calls, NIO);
	ck_assert_int_eq(r.res, BS);
	ck_assert(!memcmp(buf, want, (size_t)NIO * BS));

	/* Unknown flags are refused at once. */
	ck_assert_int_eq(mc_loop_read_flags(l, fd, buf, BS, 0, 2, io_cb, &r), -EINVAL);
	ck_assert_int_eq(r.calls, NIO);

	mc_loop_free(l);
	free(want);
	free(buf);
	close(fd);
	unlink(path);
}
END_TEST

/* Four times more reads than depth: all complete, never more in flight. */
START_TEST(io_beyond_depth_queues)
{
	enum { DEPTH = 4, NIO = 64, BS = 4096 };
	struct mc_loop *l = loop_on(_i, DEPTH);
	static unsigned char want[NIO * BS], bufs[NIO][BS];
	struct io_rec r = { .l = l };
	char path[64];
	int fd, k;

	if (!l)
		return;
	fd = tmpfile_rw(path, 0);
	pattern(want, sizeof(want), 0);
	ck_assert_int_eq(pwrite(fd, want, sizeof(want), 0), (ssize_t)sizeof(want));
	memset(bufs, 0, sizeof(bufs));

	for (k = 0; k < NIO; k++) {
		ck_assert_int_eq(mc_loop_read(l, fd, bufs[k], BS,
					      (uint64_t)k * BS, io_cb, &r), 0);
		ck_assert_uint_le(mc_loop_io_inflight(l), DEPTH);
	}
	ck_assert_uint_eq(mc_loop_io_inflight(l), DEPTH);
	ck_assert_int_eq(r.calls, 0);
	run_until(l, &r.calls, NIO);
	ck_assert_int_eq(r.calls, NIO);
	ck_assert_uint_le(r.max_inflight, DEPTH);
	ck_assert_uint_eq(mc_loop_io_inflight(l), 0);
	for (k = 0; k < NIO; k++)
		ck_assert_msg(!memcmp(bufs[k], want + k * BS, BS),
			      "read %d has the wrong data", k);

	mc_loop_free(l);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(io_errors_are_negative_errno)
{
	struct mc_loop *l = loop_on(_i, 8);
	struct io_rec r = { .l = l };
	char path[64], buf[512] = { 0 };
	int fd, wo, ro, closed;

	if (!l)
		return;
	fd = tmpfile_rw(path, 4096);
	wo = open(path, O_WRONLY | O_CLOEXEC);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	closed = dup(fd);
	ck_assert_int_ge(wo, 0);
	ck_assert_int_ge(ro, 0);
	ck_assert_int_ge(closed, 0);
	close(closed);

	ck_assert_int_eq(mc_loop_read(l, wo, buf, sizeof(buf), 0, io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 0);
	run_until(l, &r.calls, 1);
	ck_assert_int_eq(r.res, -EBADF);

	ck_assert_int_eq(mc_loop_write(l, ro, buf, sizeof(buf), 0, io_cb, &r), 0);
	run_until(l, &r.calls, 2);
	ck_assert_int_eq(r.res, -EBADF);

	ck_assert_int_eq(mc_loop_read(l, closed, buf, sizeof(buf), 0, io_cb, &r), 0);
	ck_assert_int_eq(r.calls, 2);
	run_until(l, &r.calls, 3);
	ck_assert_int_eq(r.res, -EBADF);

	/* Refused at once: no operation, no callback. */
	ck_assert_int_eq(mc_loop_read(l, fd, buf, sizeof(buf), 0, NULL, &r), -EINVAL);
	ck_assert_int_eq(mc_loop_read(l, fd, buf, (size_t)INT_MAX + 1, 0, io_cb, &r),
			 -EINVAL);
	ck_assert_int_eq(mc_loop_read(l, fd, buf, 1, UINT64_MAX, io_cb, &r), -EINVAL);
	ck_assert_int_eq(mc_loop_run_once(l, 50), 0);
	ck_assert_int_eq(r.calls, 3);

	mc_loop_free(l);
	close(wo);
	close(ro);
	close(fd);
	unlink(path);
}
END_TEST

/* Freeing with I/O queued and in flight runs no callback (ASan: no UAF). */
START_TEST(free_with_io_pending)
{
	enum { NIO = 32, BS = 4096 };
	struct mc_loop *l = loop_on(_i, 4);
	static unsigned char bufs[NIO][BS];
	struct io_rec r = { .l = l };
	char path[64];
	int fd, k;

	if (!l)
		return;
	fd = tmpfile_rw(path, NIO * BS);
	for (k = 0; k < NIO; k++)
		ck_assert_int_eq(mc_loop_read(l, fd, bufs[k], BS,
					      (uint64_t)k * BS, io_cb, &r), 0);
	ck_assert_int_eq(mc_loop_read(l, -1, bufs[0], BS, 0, io_cb, &r), 0);
	mc_loop_free(l);
	ck_assert_int_eq(r.calls, 0);
	close(fd);
	unlink(path);
}
END_TEST

/* ---- construction ---- */

START_TEST(engine_parse)
{
	enum mc_engine e = MC_ENGINE_AIO;

	ck_assert_int_eq(mc_engine_parse("auto", &e), 0);
	ck_assert_int_eq(e, MC_ENGINE_AUTO);
	ck_assert_int_eq(mc_engine_parse("io_uring", &e), 0);
	ck_assert_int_eq(e, MC_ENGINE_URING);
	e = MC_ENGINE_AUTO;
	ck_assert_int_eq(mc_engine_parse("uring", &e), 0);
	ck_assert_int_eq(e, MC_ENGINE_URING);
	ck_assert_int_eq(mc_engine_parse("aio", &e), 0);
	ck_assert_int_eq(e, MC_ENGINE_AIO);
	ck_assert_int_eq(mc_engine_parse("epoll", &e), -EINVAL);
	ck_assert_int_eq(mc_engine_parse("AIO", &e), -EINVAL);
	ck_assert_int_eq(mc_engine_parse("", &e), -EINVAL);
	ck_assert_int_eq(mc_engine_parse("aio ", &e), -EINVAL);
	ck_assert_int_eq(mc_engine_parse(NULL, &e), -EINVAL);
	ck_assert_int_eq(e, MC_ENGINE_AIO);	/* untouched on error */
}
END_TEST

START_TEST(new_bad_arguments)
{
	struct mc_loop *l = (struct mc_loop *)&l;
	char err[128];

	ck_assert_int_eq(mc_loop_new(&l, MC_ENGINE_AIO, 0, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(err, "depth 0"));
	ck_assert_int_eq(mc_loop_new(&l, MC_ENGINE_AIO, 1u << 20, err,
				     sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "depth"));
	ck_assert_int_eq(mc_loop_new(&l, (enum mc_engine)7, 8, err,
				     sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "engine"));
}
END_TEST

/* Where io_uring works, AUTO takes it and says nothing. */
START_TEST(auto_prefers_uring)
{
	struct mc_loop *l = loop_on(0, 8);
	char err[256];

	if (!l)
		return;
	mc_loop_free(l);
	ck_assert_int_eq(mc_loop_new(&l, MC_ENGINE_AUTO, 8, err, sizeof(err)), 0);
	ck_assert_str_eq(mc_loop_engine_name(l), "io_uring");
	ck_assert_str_eq(err, "");
	ck_assert_ptr_null(mc_loop_fallback_reason(l));
	mc_loop_free(l);
}
END_TEST

struct seccomp_report {
	int filter_rc;
	int auto_rc;
	char auto_engine[16];
	char auto_err[256];
	char auto_reason[160];
	int uring_rc;
	char uring_err[256];
	int aio_read_res;
};

static void seccomp_child(int out)
{
	struct seccomp_report rep = { 0 };
	struct mc_loop *l;
	struct io_rec r;
	char buf[16];
	int k, fd;

	rep.filter_rc = seccomp_no_uring();
	if (rep.filter_rc)
		goto send;
	rep.auto_rc = mc_loop_new(&l, MC_ENGINE_AUTO, 8, rep.auto_err,
				  sizeof(rep.auto_err));
	if (!rep.auto_rc) {
		snprintf(rep.auto_engine, sizeof(rep.auto_engine), "%s",
			 mc_loop_engine_name(l));
		snprintf(rep.auto_reason, sizeof(rep.auto_reason), "%s",
			 mc_loop_fallback_reason(l) ?: "(none)");
		/* The fallback engine does I/O. */
		r = (struct io_rec){ .l = l, .res = -1 };
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		mc_loop_read(l, fd, buf, sizeof(buf), 0, io_cb, &r);
		for (k = 0; k < MAX_RUNS && !r.calls; k++)
			mc_loop_run_once(l, 1000);
		rep.aio_read_res = (int)r.res;
		close(fd);
		mc_loop_free(l);
	}
	rep.uring_rc = mc_loop_new(&l, MC_ENGINE_URING, 8, rep.uring_err,
				   sizeof(rep.uring_err));
	if (!rep.uring_rc)
		mc_loop_free(l);
send:
	if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(1);
	_exit(0);
}

/* Under a container-like seccomp profile AUTO falls back to aio. */
START_TEST(auto_falls_back_under_seccomp)
{
	struct seccomp_report rep;
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		close(p[0]);
		seccomp_child(p[1]);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ck_assert_msg(rep.filter_rc == 0, "seccomp filter: %s",
		      strerror(-rep.filter_rc));
	ck_assert_msg(rep.auto_rc == 0, "AUTO: %s", rep.auto_err);
	ck_assert_str_eq(rep.auto_engine, "aio");
	ck_assert_str_eq(rep.auto_reason,
			 "io_uring_setup: Function not implemented");
	ck_assert_str_eq(rep.auto_err,
			 "io_uring unavailable (io_uring_setup: Function not "
			 "implemented): using libaio+epoll");
	ck_assert_int_eq(rep.aio_read_res, 16);	/* from /dev/zero */
	ck_assert_int_eq(rep.uring_rc, -ENOSYS);
	ck_assert_str_eq(rep.uring_err, "io_uring_setup: Function not implemented");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("both engines");
	TCase *one = tcase_create("construction");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, pollin_level_triggered, 0, NENGINES);
	tcase_add_loop_test(tc, pollout_follows_space, 0, NENGINES);
	tcase_add_loop_test(tc, watch_replaces_callback_and_events, 0, NENGINES);
	tcase_add_loop_test(tc, replace_after_event_seen, 0, NENGINES);
	tcase_add_loop_test(tc, stop_from_own_callback, 0, NENGINES);
	tcase_add_loop_test(tc, stop_other_in_same_batch, 0, NENGINES);
	tcase_add_loop_test(tc, rewatch_from_own_callback, 0, NENGINES);
	tcase_add_loop_test(tc, forget_then_close, 0, NENGINES);
	tcase_add_loop_test(tc, watch_bad_arguments, 0, NENGINES);
	tcase_add_loop_test(tc, eventfd_readiness_and_read, 0, NENGINES);
	tcase_add_loop_test(tc, timers_fire_in_deadline_order, 0, NENGINES);
	tcase_add_loop_test(tc, timer_rearms_from_callback, 0, NENGINES);
	tcase_add_loop_test(tc, timer_cancel_and_rearm, 0, NENGINES);
	tcase_add_loop_test(tc, timer_cancelled_by_another, 0, NENGINES);
	tcase_add_loop_test(tc, run_once_timeouts, 0, NENGINES);
	tcase_add_loop_test(tc, file_write_then_read, 0, NENGINES);
	tcase_add_loop_test(tc, odirect_read, 0, NENGINES);
	tcase_add_loop_test(tc, io_beyond_depth_queues, 0, NENGINES);
	tcase_add_loop_test(tc, parallel_reads_of_one_file, 0, NENGINES);
	tcase_add_loop_test(tc, io_errors_are_negative_errno, 0, NENGINES);
	tcase_add_loop_test(tc, free_with_io_pending, 0, NENGINES);
	suite_add_tcase(s, tc);

	tcase_set_timeout(one, 60);
	tcase_add_test(one, engine_parse);
	tcase_add_test(one, new_bad_arguments);
	tcase_add_test(one, auto_prefers_uring);
	tcase_add_test(one, auto_falls_back_under_seccomp);
	suite_add_tcase(s, one);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
