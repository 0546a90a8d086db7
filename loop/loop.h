/* SPDX-License-Identifier: MIT */
/*
 * The event loop of maicached: file-descriptor readiness, asynchronous reads
 * and writes, and timers, on one of two engines with the same behaviour:
 *
 *   io_uring  (liburing): POLL_ADD for readiness, READ/WRITE for I/O.
 *   aio       libaio for I/O (completions signalled on an eventfd) plus epoll
 *             for readiness; for hosts where io_uring is disabled by the
 *             kernel.io_uring_disabled sysctl or blocked by seccomp.
 *
 * Timers are the loop's own (a sorted set of deadlines); the engines only
 * wait with a timeout. Everything runs on the thread that calls
 * mc_loop_run_once(); callbacks may call any mc_loop_* function, including
 * on the fd or timer being dispatched.
 */
#ifndef MAICACHE_LOOP_H
#define MAICACHE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "list.h"

struct mc_loop;

enum mc_engine {
	MC_ENGINE_AUTO,		/* io_uring, else aio (logged) */
	MC_ENGINE_URING,
	MC_ENGINE_AIO,
};

/* revents: POLLIN, POLLOUT, POLLERR, POLLHUP (from <poll.h>). */
typedef void (*mc_fd_cb)(void *arg, int fd, unsigned int revents);
/* res: bytes transferred, or a negative errno. */
typedef void (*mc_io_cb)(void *arg, ssize_t res);
typedef void (*mc_timer_cb)(void *arg);

/* A timer lives in its owner's memory; zero-initialise it before first use. */
struct mc_timer {
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC; 0 when not armed */
	mc_timer_cb cb;
	void *arg;
	struct mc_list link;	/* loop-private */
};

/*
 * depth: I/O operations in flight at most (reads + writes), 1..65536;
 * further submissions queue inside the loop until space frees up.
 * Returns 0 or a negative errno with a message in err. On success err is ""
 * or, when AUTO fell back to aio, the line to log: "io_uring unavailable
 * (io_uring_setup: Operation not permitted): using libaio+epoll".
 */
int mc_loop_new(struct mc_loop **out, enum mc_engine engine, unsigned int depth,
		char *err, size_t errlen);
/*
 * Waits for (or cancels) the I/O in flight, so its buffers may be freed
 * afterwards; no callback runs. Armed timers are left disarmed.
 */
void mc_loop_free(struct mc_loop *l);
/* "io_uring" or "aio": the engine actually in use. */
const char *mc_loop_engine_name(const struct mc_loop *l);
/* Why AUTO did not get io_uring ("io_uring_setup: ..."), or NULL. */
const char *mc_loop_fallback_reason(const struct mc_loop *l);
/* I/O operations submitted to the engine and not yet finished (<= depth). */
unsigned int mc_loop_io_inflight(const struct mc_loop *l);
/* Parse "auto", "io_uring"/"uring", "aio"; -EINVAL otherwise. */
int mc_engine_parse(const char *s, enum mc_engine *out);

/*
 * Watch fd for events (POLLIN | POLLOUT, level-triggered): cb runs from
 * mc_loop_run_once() whenever the condition holds. A new call replaces the
 * events and callback of an fd already watched; events 0 stops watching.
 * After a stop (or mc_loop_forget()) cb is never called again for the old
 * registration, even if the engine had already seen the event.
 */
/*
 * Returns 0, -EBADF (fd not open), -EINVAL (other event bits, no cb),
 * -ENOMEM, or an engine error (epoll refuses regular files: -EPERM).
 */
int mc_loop_watch(struct mc_loop *l, int fd, unsigned int events,
		  mc_fd_cb cb, void *arg);
/* Stop watching fd before it is closed. */
void mc_loop_forget(struct mc_loop *l, int fd);

/*
 * Asynchronous pread/pwrite; cb gets the result. O_DIRECT fds work. Meant
 * for files and block devices: on the aio engine a read of an empty pipe
 * would block inside the submission. Returns 0, or -EINVAL (len above
 * INT_MAX, off above INT64_MAX, no cb) or -ENOMEM; every other error,
 * including a bad fd, reaches cb.
 */
int mc_loop_read(struct mc_loop *l, int fd, void *buf, size_t len,
		 uint64_t off, mc_io_cb cb, void *arg);

/*
 * MC_IO_PARALLEL: the read may run on a kernel thread of its own, beside
 * other reads of the same file. For files the kernel reads by copying
 * (page cache, tmpfs), whose reads io_uring would otherwise run one after
 * another on a single worker thread. The io_uring engine submits such a
 * read with IOSQE_ASYNC; the aio engine has no threads and ignores it.
 */
#define MC_IO_PARALLEL	1U

/* mc_loop_read() with MC_IO_* flags; unknown flags are -EINVAL. */
int mc_loop_read_flags(struct mc_loop *l, int fd, void *buf, size_t len,
		       uint64_t off, unsigned int flags, mc_io_cb cb, void *arg);
int mc_loop_write(struct mc_loop *l, int fd, const void *buf, size_t len,
		  uint64_t off, mc_io_cb cb, void *arg);

/* Arm (or re-arm) t to fire once after ms milliseconds. */
void mc_timer_arm(struct mc_loop *l, struct mc_timer *t, uint64_t ms,
		  mc_timer_cb cb, void *arg);
void mc_timer_cancel(struct mc_loop *l, struct mc_timer *t);

/*
 * Wait up to timeout_ms (-1: until something happens, bounded by the next
 * timer) and dispatch what is ready. Returns the number of callbacks run,
 * or a negative errno on an engine failure.
 */
int mc_loop_run_once(struct mc_loop *l, int timeout_ms);

/* CLOCK_MONOTONIC in nanoseconds / milliseconds. */
uint64_t mc_now_ns(void);
uint64_t mc_now_ms(void);

#endif /* MAICACHE_LOOP_H */
