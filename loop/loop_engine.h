/* SPDX-License-Identifier: MIT */
/*
 * Between the engine-independent part of the event loop (loop.c) and its two
 * engines (loop_uring.c, loop_aio.c). Not for other users of the loop.
 *
 * The loop owns the fd registry, the timers and the I/O queue; an engine only
 * turns registrations and I/O operations into kernel requests and, from its
 * wait(), hands what completed back through mc_loop_fd_ready() and
 * mc_loop_io_done(). Those two are the only places callbacks run, and both
 * are only reached from mc_loop_run_once().
 */
#ifndef MAICACHE_LOOP_ENGINE_H
#define MAICACHE_LOOP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "loop.h"

/* One fd's registration. gen changes whenever events change or stop. */
struct mc_watch {
	unsigned int events;	/* POLLIN | POLLOUT; 0 when not watched */
	uint32_t gen;
	mc_fd_cb cb;
	void *arg;
	bool armed;		/* io_uring: a one-shot poll is in flight */
	bool failed;		/* io_uring: the poll itself failed; no re-arm */
};

struct mc_io {
	struct mc_list link;	/* queued, in flight or done */
	int fd;
	bool write;
	unsigned int flags;		/* MC_IO_* */
	void *buf;
	size_t len;
	uint64_t off;
	mc_io_cb cb;
	void *arg;
	ssize_t res;			/* on the done list */
	uint64_t priv[];		/* the engine's per-operation data */
};


struct mc_engine_ops {
	const char *name;
	size_t io_priv_size;
	/* 0, or a negative errno with a message naming the failing call. */
	int (*init)(struct mc_loop *l, unsigned int depth, char *err, size_t errlen);
	/* Finishes or cancels all I/O in flight without running callbacks. */
	void (*fini)(struct mc_loop *l);
	/*
	 * w holds the new registration (events 0: stopped); old_events and
	 * old_gen the one it replaces (old_events 0: none). On failure the fd
	 * must be left unregistered in the engine.
	 */
	int (*watch)(struct mc_loop *l, int fd, struct mc_watch *w,
		     unsigned int old_events, uint32_t old_gen);
	/* After a dispatch: re-arm a one-shot readiness request, or NULL. */
	void (*rearm)(struct mc_loop *l, int fd, struct mc_watch *w);
	/* Start op; a negative errno fails op (the loop delivers it later). */
	int (*submit)(struct mc_loop *l, struct mc_io *op);
	/*
	 * Submit what is pending, wait up to timeout_ns (-1: no limit) for at
	 * least one event, dispatch the events. Returns callbacks run or a
	 * negative errno; an interrupted or timed-out wait is not an error.
	 */
	int (*wait)(struct mc_loop *l, int64_t timeout_ns);
};

struct mc_loop {
	const struct mc_engine_ops *ops;
	void *engine;			/* the engine's private state */
	unsigned int depth;
	unsigned int inflight;
	struct mc_list queued;	/* beyond depth, not yet submitted */
	struct mc_list running;	/* submitted to the engine */
	struct mc_list done;	/* failed at submission, to deliver */
	struct mc_watch *watches;	/* indexed by fd */
	unsigned int nwatches;
	struct mc_list timers;	/* armed, earliest deadline first */
	char fallback[160];		/* why AUTO did not get io_uring */
};

extern const struct mc_engine_ops mc_engine_uring;
extern const struct mc_engine_ops mc_engine_aio;

/* The registration of fd if it is live and still generation gen. */
struct mc_watch *mc_loop_watch_live(struct mc_loop *l, int fd, uint32_t gen);
/* Run fd's callback for a live registration; returns callbacks run. */
int mc_loop_fd_ready(struct mc_loop *l, int fd, uint32_t gen,
		     unsigned int revents);
/* op finished with res: run its callback, free it, start queued I/O. */
int mc_loop_io_done(struct mc_loop *l, struct mc_io *op, ssize_t res);
/* op finished while the loop is being freed: free it, no callback. */
void mc_loop_io_drop(struct mc_loop *l, struct mc_io *op);

#endif /* MAICACHE_LOOP_ENGINE_H */
