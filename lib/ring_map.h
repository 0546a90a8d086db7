/* SPDX-License-Identifier: MIT */
/*
 * The ring device of the module (/dev/maicache) from user space: open it,
 * map its three regions (proto/maicache_ring.h), kick it. Shared by
 * maicached and the test filler; the ring logic on the mapped memory is
 * miss_ring.h's.
 *
 * Opening is what makes a process the node's daemon: the module lets one
 * open at a time and answers -EBUSY to the next, so a daemon opens the ring
 * before it does anything else (netlink, sources) and a second one stops
 * there.
 */
#ifndef MAICACHE_RING_MAP_H
#define MAICACHE_RING_MAP_H

#include <stddef.h>
#include <stdint.h>

#define MC_RING_DEVICE	"/dev/maicache"

struct mc_ring_map {
	int fd;			/* -1 when closed */
	void *miss, *cpl, *pool;
	size_t miss_len, cpl_len, pool_len;
	uint64_t pool_size;	/* bytes, as the header says */
};

/*
 * Open dev read-write into m->fd (regions not mapped yet). 0, or a negative
 * errno with a message naming the fix: -EBUSY "another daemon is attached",
 * -ENOENT/-ENODEV "is the maicache module loaded?", -EACCES/-EPERM.
 */
int mc_ring_open(struct mc_ring_map *m, const char *dev, char *err,
		 size_t errlen);

/*
 * Map the miss region read-only and the completion region and the pool
 * read-write. The header is checked (mc_hdr_check()) before the sizes are
 * trusted, and once more after mapping in case it changed in between.
 * 0 or a negative errno with a message; nothing stays mapped on error.
 */
int mc_ring_map(struct mc_ring_map *m, const char *dev, char *err,
		size_t errlen);

/* Unmap what is mapped and close the fd; safe to repeat. */
void mc_ring_close(struct mc_ring_map *m);

/* One 8-byte write to the ring fd, the kick: 0 or a negative errno. */
int mc_ring_kick_fd(int fd);

#endif /* MAICACHE_RING_MAP_H */
