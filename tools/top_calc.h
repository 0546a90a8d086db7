/* SPDX-License-Identifier: MIT */
/*
 * What maicachectl top shows of a device over one interval, from two
 * readings of its counters: hit ratio, bytes per second from DRAM and
 * from the source, fills in flight, and fill-latency percentiles from the
 * kernel's log2 histogram. Pure logic.
 */
#ifndef MAICACHE_TOP_CALC_H
#define MAICACHE_TOP_CALC_H

#include <stddef.h>
#include <stdint.h>

#include "nlclient.h"

/*
 * The q-quantile (0 < q <= 1) in microseconds of the fills counted in
 * buckets[0..n): bucket b counts fills of [2^(b-1), 2^b) us (bucket 0:
 * under 1 us), the last one open-ended. Linear within the bucket, as
 * Prometheus' histogram_quantile() is: good to a factor of two. A
 * quantile in the open bucket is its lower bound. -1 when no fill is
 * counted.
 */
double mc_hist_quantile_us(const uint64_t *buckets, int n, double q);

struct mc_top_row {
	uint64_t hits, misses;		/* in the interval */
	double hit_ratio;		/* of extents; -1: no reads */
	double dram_bps;		/* bytes/s copied out of DRAM */
	double fill_bps;		/* bytes/s the daemon filled */
	uint64_t in_flight;		/* fills sent and not ended, now */
	uint64_t fills;			/* fills that ended in the interval */
	double p50_us, p99_us;		/* of those; -1: none */
};

/*
 * The interval from prev to cur, dt seconds long. A counter lower in cur
 * than in prev (the device was made again under the same id) counts from
 * zero.
 */
void mc_top_row(const struct mc_dev_stats *prev, const struct mc_dev_stats *cur, double dt,
		struct mc_top_row *out);

/* "850 us", "1.2 ms", "2.05 s"; "-" for a negative (none). */
void mc_fmt_us(char *buf, size_t len, double us);

#endif /* MAICACHE_TOP_CALC_H */
