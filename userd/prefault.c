// SPDX-License-Identifier: MIT
/* See prefault.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "prefault.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

/* 16384 pages: a few ms on a real CPU, so stop() never waits long. */
#define MC_PREFAULT_CHUNK	(64u << 20)

static void *prefault_walk(void *arg)
{
	struct mc_prefault *p = arg;

	while (p->done < p->len && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		size_t n = p->len - p->done;

		if (n > MC_PREFAULT_CHUNK)
			n = MC_PREFAULT_CHUNK;
		if (madvise(p->base + p->done, n, MADV_POPULATE_WRITE)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			p->error = errno;
			break;
		}
		p->done += n;
	}
	__atomic_store_n(&p->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

int mc_prefault_start(struct mc_prefault *p, void *base, size_t len)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->base = base;
	p->len = len;
	ret = pthread_create(&p->thread, NULL, prefault_walk, p);
	if (ret)
		return -ret;
	p->started = true;
	return 0;
}

int mc_prefault_stop(struct mc_prefault *p)
{
	if (!p->started)
		return p->error;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	pthread_join(p->thread, NULL);
	p->started = false;
	return p->error;
}
