// SPDX-License-Identifier: GPL-2.0
/*
 * maicache per-device counters: per-CPU on the I/O paths, summed on read.
 */
#include <linux/ktime.h>
#include <linux/percpu.h>

#include "maicache.h"

/* Bucket b counts fills of [2^(b-1), 2^b) us; bucket 0 those under 1 us. */
void mc_dev_account_fill(struct mc_dev *dev, u64 start_ns, u32 bytes, bool ok)
{
	u64 ns = ktime_get_ns() - start_ns;
	u64 us = div_u64(ns, NSEC_PER_USEC);
	unsigned int bucket = min_t(unsigned int, fls64(us),
				    MAICACHE_FILL_LATENCY_BUCKETS - 1);

	if (ok)
		this_cpu_add(dev->stats->bytes_filled, bytes);
	else
		this_cpu_inc(dev->stats->fill_errors);
	this_cpu_inc(dev->stats->fill_latency[bucket]);
	this_cpu_add(dev->stats->fill_latency_ns, ns);
}

void mc_dev_stats(struct mc_dev *dev, struct mc_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct mc_stats *s = per_cpu_ptr(dev->stats, cpu);

		sum->hits += s->hits;
		sum->misses += s->misses;
		sum->bytes_hit += s->bytes_hit;
		sum->bytes_filled += s->bytes_filled;
		sum->evictions += s->evictions;
		sum->fill_errors += s->fill_errors;
		sum->prefetched += s->prefetched;
		sum->prefetch_used += s->prefetch_used;
		sum->prefetch_unused += s->prefetch_unused;
		sum->fill_latency_ns += s->fill_latency_ns;
		sum->warmed += s->warmed;
		for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++)
			sum->fill_latency[i] += s->fill_latency[i];
	}
}

/*
 * Fills of the device sent and not ended yet: every miss is one fill, and
 * every fill that ends (done or failed) is counted once in fill_latency[].
 * The per-CPU sums are not one instant, so this may be off by the fills
 * ending meanwhile; never below 0.
 */
u64 mc_stats_fills_in_flight(const struct mc_stats *s)
{
	u64 ended = 0;
	int i;

	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++)
		ended += s->fill_latency[i];
	return s->misses > ended ? s->misses - ended : 0;
}
