// SPDX-License-Identifier: MIT
/*
 * maicachectl top's arithmetic: intervals, rates, percentiles.
 */
#include <stdio.h>

#include "top_calc.h"

double mc_hist_quantile_us(const uint64_t *buckets, int n, double q)
{
	uint64_t total = 0, below = 0;
	double rank, lo, hi;
	int b;

	for (b = 0; b < n; b++)
		total += buckets[b];
	if (!total || n <= 0)
		return -1;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	for (b = 0; b < n; b++) {
		if (buckets[b] && (double)(below + buckets[b]) >= rank)
			break;
		below += buckets[b];
	}
	if (b == n)
		b = n - 1;
	lo = b ? (double)(1ULL << (b - 1)) : 0;
	if (b == n - 1)
		return lo;
	hi = (double)(1ULL << b);
	return lo + (hi - lo) * (rank - (double)below) / (double)buckets[b];
}

/* cur - prev, or cur when the counter went back (a new device). */
static uint64_t delta(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

void mc_top_row(const struct mc_dev_stats *prev, const struct mc_dev_stats *cur, double dt,
		struct mc_top_row *out)
{
	uint64_t lat[MAICACHE_FILL_LATENCY_BUCKETS];
	/* A device made again: every counter of it starts from zero. */
	const struct mc_dev_stats zero = { 0 };
	int i;

	if (cur->misses < prev->misses || cur->hits < prev->hits)
		prev = &zero;
	out->hits = delta(prev->hits, cur->hits);
	out->misses = delta(prev->misses, cur->misses);
	out->hit_ratio = out->hits + out->misses ?
			 (double)out->hits / (double)(out->hits + out->misses) : -1;
	out->dram_bps = dt > 0 ? (double)delta(prev->bytes_hit, cur->bytes_hit) / dt : 0;
	out->fill_bps = dt > 0 ? (double)delta(prev->bytes_filled, cur->bytes_filled) / dt : 0;
	out->in_flight = mc_dev_fills_in_flight(cur);
	out->fills = 0;
	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++) {
		lat[i] = delta(prev->fill_latency[i], cur->fill_latency[i]);
		out->fills += lat[i];
	}
	out->p50_us = mc_hist_quantile_us(lat, MAICACHE_FILL_LATENCY_BUCKETS, 0.5);
	out->p99_us = mc_hist_quantile_us(lat, MAICACHE_FILL_LATENCY_BUCKETS, 0.99);
}

void mc_fmt_us(char *buf, size_t len, double us)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%.0f us", us);
	else if (us < 1e6)
		snprintf(buf, len, us < 1e4 ? "%.2f ms" : us < 1e5 ? "%.1f ms" : "%.0f ms",
			 us / 1e3);
	else
		snprintf(buf, len, "%.2f s", us / 1e6);
}
