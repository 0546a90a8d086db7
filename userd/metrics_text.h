/* SPDX-License-Identifier: MIT */
/*
 * The text maicached serves at /metrics: the Prometheus text exposition
 * format (version 0.0.4) of one snapshot of the module's and the daemon's
 * counters. Pure formatting: the snapshot is filled by the caller
 * (metrics.c from netlink and the daemon's state, the unit tests by
 * hand), so this file knows neither HTTP nor the daemon.
 *
 * Every family has a HELP and a TYPE line and its samples right after;
 * counters end in _total; times are seconds and sizes bytes. Label
 * values are escaped as the format asks (backslash, double quote and
 * newline). The fill latency is a histogram: the module's log2 buckets
 * (proto/maicache_genl.h) become cumulative le buckets of 2^b us, then
 * +Inf, which equals _count.
 */
#ifndef MAICACHE_METRICS_TEXT_H
#define MAICACHE_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nlclient.h"
#include "source.h"

/* One device of the module, and the daemon's volume on it if any. */
struct mc_metrics_dev {
	struct mc_dev_info dev;		/* its name is the device label */
	bool has_vol;
	const char *vol_name;		/* "" when none was given */
	const char *vol_state;		/* mc_vol_state_name() */
	uint64_t vol_fills, vol_fill_bytes, vol_fill_errors;
};

/* Peer counters: only while the daemon is in a cache group. */
struct mc_metrics_group {
	uint64_t members;
	uint64_t fetches, from_peers, from_source, timeouts, nacks, bad_data;
	uint64_t served, served_bytes, auth_failures;
	uint64_t store_bytes, store_capacity, store_extents, store_evicted;
};

/* Volumes by state; a volume being detached is counted nowhere. */
enum mc_metrics_vol_state {
	MC_METRICS_VOL_OPENING,
	MC_METRICS_VOL_READY,
	MC_METRICS_VOL_STALE,		/* the source changed: fills fail */
	MC_METRICS_VOL_FAILED,		/* the source cannot be opened */
	MC_METRICS_VOL_STATES,
};

struct mc_metrics_snap {
	struct mc_metrics_dev *devs;
	size_t ndevs;
	bool has_pool;			/* false: POOL_GET failed */
	struct mc_pool_info pool;
	struct mc_source_stats src;
	unsigned int vols[MC_METRICS_VOL_STATES];
	uint64_t uptime_ms;
	unsigned int inflight;
	uint64_t unknown_misses, bad_misses, ring_kicks, ring_full;
	bool has_group;
	struct mc_metrics_group group;
};

/* Write the exposition of s to f. 0, or -EIO when f failed. */
int mc_metrics_format(FILE *f, const struct mc_metrics_snap *s);

/* The upper bound, in seconds, of kernel latency bucket b (< BUCKETS - 1). */
double mc_metrics_bucket_le(unsigned int b);

#endif /* MAICACHE_METRICS_TEXT_H */
