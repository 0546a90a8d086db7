/* SPDX-License-Identifier: MIT */
/*
 * Mapping the pool ahead of the fills. The module hands its pool pages to
 * the daemon one page fault at a time (kmod/pool.c): the first fill into
 * each slot pays a fault per page, on the thread that copies the source's
 * bytes, in the middle of a cold read. A prefault thread takes those faults
 * beforehand, walking the pool from its start with MADV_POPULATE_WRITE a
 * chunk at a time, while the daemon already serves fills (a fill that
 * reaches a page first simply faults it in itself).
 *
 *   start()  starts the thread over [base, base + len); 0 or a negative
 *            errno (the daemon logs it and runs without: only its first
 *            fills are slower)
 *   stop()   asks the thread to finish after its current chunk and joins
 *            it; must come before the pool is unmapped; safe to repeat and
 *            on a prefault never started
 *
 * The thread touches nothing of the daemon's: it writes only p->done,
 * p->error and p->ended, and reads p->stop. On a
 * kernel without MADV_POPULATE_WRITE (before 5.14) its first chunk fails
 * with EINVAL and it ends; that is reported by mc_prefault_stop().
 */
#ifndef MAICACHE_PREFAULT_H
#define MAICACHE_PREFAULT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mc_prefault {
	pthread_t thread;
	bool started;
	int stop;		/* set by stop(), read by the thread (atomics) */
	int ended;		/* set by the thread as it ends (atomics) */
	char *base;
	size_t len;
	size_t done;		/* bytes mapped (read it once ended) */
	int error;		/* 0, or the errno that ended the walk */
};

int mc_prefault_start(struct mc_prefault *p, void *base, size_t len);

/* 0 if the walk ended by itself or was stopped, else its errno (positive). */
int mc_prefault_stop(struct mc_prefault *p);

#endif /* MAICACHE_PREFAULT_H */
