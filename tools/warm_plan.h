/* SPDX-License-Identifier: MIT */
/*
 * What a warmup fetches (maicachectl warmup): the extents of one device,
 * as sorted runs with no overlap, built from a byte range of the device
 * (--range) or from the FIEMAP extents of files on a filesystem the
 * device holds. Pure logic: the command (ctl_warmup.c) does the I/O.
 */
#ifndef MAICACHE_WARM_PLAN_H
#define MAICACHE_WARM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <linux/fiemap.h>

/* Extents first..last of the device, inclusive. */
struct mc_extent_run {
	uint64_t first, last;
};

struct mc_warm_plan {
	uint64_t dev_size;		/* bytes */
	unsigned int extent_shift;
	struct mc_extent_run *runs;
	size_t n, cap;
	/* FIEMAP extents left out: nothing on the device to fetch for them. */
	uint64_t unmapped;		/* no known location (delayed allocation, unknown) */
	uint64_t unwritten;		/* preallocated: they read as zeros */
};

/* extent_size: a power of two. */
void mc_plan_init(struct mc_warm_plan *p, uint64_t dev_size, uint32_t extent_size);
void mc_plan_free(struct mc_warm_plan *p);

/*
 * The extents holding device bytes [off, off + len): 0, or -ERANGE when
 * they reach past the device, -ENOMEM. len 0 adds nothing.
 */
int mc_plan_add_bytes(struct mc_warm_plan *p, uint64_t off, uint64_t len);

/*
 * One FIEMAP extent of a file on a filesystem that starts part_start
 * bytes into the device and is part_size bytes long (the whole device, or
 * a partition of it). Its physical bytes are fetched whatever its flags
 * say of their form (inline, encoded, not aligned), except for extents
 * with no known location and unwritten ones, which are counted and left
 * out. An encoded extent's length is its logical length: what lies past
 * the partition is cut. 0, -ERANGE (an extent that starts outside the
 * partition: the filesystem and the device disagree), -ENOMEM.
 */
int mc_plan_add_fiemap(struct mc_warm_plan *p, const struct fiemap_extent *fe,
		       uint64_t part_start, uint64_t part_size);

/* Sort the runs and merge those that overlap or touch. */
void mc_plan_finish(struct mc_warm_plan *p);

/* After mc_plan_finish(): extents, and their bytes (the last one maybe short). */
uint64_t mc_plan_extents(const struct mc_warm_plan *p);
uint64_t mc_plan_bytes(const struct mc_warm_plan *p);
/* Bytes of extents first..last of the device. */
uint64_t mc_plan_run_bytes(const struct mc_warm_plan *p, uint64_t first, uint64_t last);

/*
 * --range A-B: device bytes [A, B), sizes as mc_parse_size() takes them
 * (64K, 1G, ...); "A-" runs to the end of the device. 0, or -EINVAL with a
 * message (bad form, empty, past the end of a device of dev_size bytes).
 */
int mc_parse_range(const char *s, uint64_t dev_size, uint64_t *start, uint64_t *end,
		   char *err, size_t errlen);

#endif /* MAICACHE_WARM_PLAN_H */
