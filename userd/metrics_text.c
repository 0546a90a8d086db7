// SPDX-License-Identifier: MIT
/*
 * The Prometheus text of a metrics snapshot (metrics_text.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "metrics_text.h"

#define NS_PER_S	1e9

double mc_metrics_bucket_le(unsigned int b)
{
	/* Bucket b holds fills under 2^b us (maicache_genl.h). */
	return (double)(1ULL << b) / 1e6;
}

/* A label value with \, " and newline escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void dev_sample(FILE *f, const char *name, const struct mc_metrics_dev *d,
		       uint64_t v)
{
	fprintf(f, "%s{device=\"", name);
	put_label(f, d->dev.name);
	fprintf(f, "\"} %" PRIu64 "\n", v);
}

/* A counter family with one sample per device: field of its mc_dev_stats. */
#define DEV_STAT(f, s, name, help, field) do {				\
	size_t i_;							\
	family(f, name, "counter", help);				\
	for (i_ = 0; i_ < (s)->ndevs; i_++)				\
		dev_sample(f, name, &(s)->devs[i_], (s)->devs[i_].dev.stats.field); \
} while (0)

/* The same of the daemon's volume on the device, where there is one. */
#define VOL_STAT(f, s, name, help, field) do {				\
	size_t i_;							\
	family(f, name, "counter", help);				\
	for (i_ = 0; i_ < (s)->ndevs; i_++)				\
		if ((s)->devs[i_].has_vol)				\
			dev_sample(f, name, &(s)->devs[i_], (s)->devs[i_].field); \
} while (0)

static void one(FILE *f, const char *name, const char *type, const char *help,
		uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void latency(FILE *f, const struct mc_metrics_snap *s)
{
	const char *name = "maicache_fill_latency_seconds";
	size_t i;
	unsigned int b;

	family(f, name, "histogram",
	       "Time from a miss to its completion on the ring, as the module measures it.");
	for (i = 0; i < s->ndevs; i++) {
		const struct mc_dev_stats *st = &s->devs[i].dev.stats;
		uint64_t cum = 0;

		for (b = 0; b < MAICACHE_FILL_LATENCY_BUCKETS; b++) {
			cum += st->fill_latency[b];
			fprintf(f, "%s_bucket{device=\"", name);
			put_label(f, s->devs[i].dev.name);
			if (b < MAICACHE_FILL_LATENCY_BUCKETS - 1)
				fprintf(f, "\",le=\"%.9g\"} %" PRIu64 "\n",
					mc_metrics_bucket_le(b), cum);
			else
				fprintf(f, "\",le=\"+Inf\"} %" PRIu64 "\n", cum);
		}
		fprintf(f, "%s_sum{device=\"", name);
		put_label(f, s->devs[i].dev.name);
		fprintf(f, "\"} %.9f\n", (double)st->fill_latency_ns / NS_PER_S);
		fprintf(f, "%s_count{device=\"", name);
		put_label(f, s->devs[i].dev.name);
		fprintf(f, "\"} %" PRIu64 "\n", cum);
	}
}

static void devices(FILE *f, const struct mc_metrics_snap *s)
{
	size_t i;

	family(f, "maicache_device_info", "gauge",
	       "1 for each device of the module; its volume's name and state, if any.");
	for (i = 0; i < s->ndevs; i++) {
		const struct mc_metrics_dev *d = &s->devs[i];

		fputs("maicache_device_info{device=\"", f);
		put_label(f, d->dev.name);
		fprintf(f, "\",held=\"%d\",stale=\"%d\",volume=\"", d->dev.held, d->dev.stale);
		put_label(f, d->has_vol ? d->vol_name : "");
		fputs("\",state=\"", f);
		put_label(f, d->has_vol ? d->vol_state : "");
		fputs("\"} 1\n", f);
	}
	family(f, "maicache_device_size_bytes", "gauge", "Size of the device.");
	for (i = 0; i < s->ndevs; i++)
		dev_sample(f, "maicache_device_size_bytes", &s->devs[i], s->devs[i].dev.size);
	family(f, "maicache_device_extent_size_bytes", "gauge", "Extent size of the device.");
	for (i = 0; i < s->ndevs; i++)
		dev_sample(f, "maicache_device_extent_size_bytes", &s->devs[i],
			   s->devs[i].dev.extent_size);

	DEV_STAT(f, s, "maicache_hits_total", "Extents of reads served from DRAM.", hits);
	DEV_STAT(f, s, "maicache_misses_total", "Extents of reads sent to the daemon.", misses);
	DEV_STAT(f, s, "maicache_hit_bytes_total", "Bytes copied out of DRAM to readers.",
		 bytes_hit);
	DEV_STAT(f, s, "maicache_filled_bytes_total", "Bytes the daemon filled.", bytes_filled);
	DEV_STAT(f, s, "maicache_evictions_total", "Extents evicted from the pool.", evictions);
	DEV_STAT(f, s, "maicache_fill_errors_total", "Fills that failed.", fill_errors);
	DEV_STAT(f, s, "maicache_prefetched_total",
		 "Misses that fetched an extent ahead of a reader.", prefetched);
	DEV_STAT(f, s, "maicache_prefetch_used_total",
		 "Extents fetched ahead and read since.", prefetch_used);
	DEV_STAT(f, s, "maicache_prefetch_unused_total",
		 "Extents fetched ahead and evicted or dropped unread.", prefetch_unused);
	DEV_STAT(f, s, "maicache_warmed_total",
		 "Misses that fetched an extent for maicachectl warmup.", warmed);
	latency(f, s);

	VOL_STAT(f, s, "maicache_volume_fills_total",
		 "Fills the daemon completed for the volume.", vol_fills);
	VOL_STAT(f, s, "maicache_volume_fill_bytes_total",
		 "Bytes the daemon read for the volume's fills.", vol_fill_bytes);
	VOL_STAT(f, s, "maicache_volume_fill_errors_total",
		 "Fills of the volume that the daemon failed.", vol_fill_errors);
}

static void volumes(FILE *f, const struct mc_metrics_snap *s)
{
	static const char *const names[MC_METRICS_VOL_STATES] = {
		[MC_METRICS_VOL_OPENING] = "opening",
		[MC_METRICS_VOL_READY] = "ready",
		[MC_METRICS_VOL_STALE] = "stale",
		[MC_METRICS_VOL_FAILED] = "failed",
	};
	unsigned int k;

	family(f, "maicache_volumes", "gauge",
	       "Volumes of the daemon by state (stale: the source changed under it).");
	for (k = 0; k < MC_METRICS_VOL_STATES; k++)
		fprintf(f, "maicache_volumes{state=\"%s\"} %u\n", names[k], s->vols[k]);
}

static void pool(FILE *f, const struct mc_metrics_snap *s)
{
	if (!s->has_pool)
		return;
	one(f, "maicache_pool_size_bytes", "gauge", "Size of the module's DRAM pool.",
	    s->pool.size);
	one(f, "maicache_pool_used_bytes", "gauge", "Bytes of the pool held by cached extents.",
	    s->pool.used);
	one(f, "maicache_pool_pins", "gauge", "Extents the daemon holds pinned while it sends them.",
	    s->pool.pins);
	one(f, "maicache_pool_max_pins", "gauge", "The most pins the daemon may hold.",
	    s->pool.max_pins);
	one(f, "maicache_bad_completions_total", "counter",
	    "Ring completions the module rejected.", s->pool.bad_completions);
}

static void daemon_counters(FILE *f, const struct mc_metrics_snap *s)
{
	family(f, "maicache_daemon_uptime_seconds", "gauge", "Time since the daemon started.");
	fprintf(f, "maicache_daemon_uptime_seconds %.3f\n", (double)s->uptime_ms / 1e3);
	one(f, "maicache_daemon_fills_inflight", "gauge", "Fills running now, all volumes.",
	    s->inflight);
	one(f, "maicache_blob_gets_total", "counter", "Get Blob requests sent.", s->src.blob_gets);
	one(f, "maicache_blob_heads_total", "counter", "Get Blob Properties requests sent.",
	    s->src.blob_heads);
	one(f, "maicache_blob_retries_total", "counter", "Blob requests retried after an error.",
	    s->src.blob_retries);
	one(f, "maicache_blob_bytes_total", "counter", "Bytes read from Blob.", s->src.blob_bytes);
	one(f, "maicache_blob_errors_total", "counter", "Blob reads that failed for good.",
	    s->src.blob_errors);
	one(f, "maicache_blob_stale_total", "counter",
	    "Blob reads that found the blob changed (412).", s->src.blob_stale);
	one(f, "maicache_unknown_misses_total", "counter", "Misses for a cookie with no volume.",
	    s->unknown_misses);
	one(f, "maicache_bad_misses_total", "counter", "Misses that failed the daemon's checks.",
	    s->bad_misses);
	one(f, "maicache_ring_kicks_total", "counter", "Wake-ups of the module after completions.",
	    s->ring_kicks);
	one(f, "maicache_ring_full_total", "counter", "Times the completion ring was full.",
	    s->ring_full);
}

static void group(FILE *f, const struct mc_metrics_snap *s)
{
	const struct mc_metrics_group *g = &s->group;

	if (!s->has_group)
		return;
	one(f, "maicache_group_members", "gauge", "Members of the cache group.", g->members);
	one(f, "maicache_group_fetches_total", "counter",
	    "Misses of shared sources fetched through the group.", g->fetches);
	one(f, "maicache_group_from_peers_total", "counter", "Extents got from peers.",
	    g->from_peers);
	one(f, "maicache_group_from_source_total", "counter",
	    "Group fetches that ended with a read of the source.", g->from_source);
	one(f, "maicache_group_timeouts_total", "counter", "Peer requests that timed out.",
	    g->timeouts);
	one(f, "maicache_group_nacks_total", "counter", "Peer requests answered with NACK.",
	    g->nacks);
	one(f, "maicache_group_bad_data_total", "counter",
	    "Extents from peers that failed their checksum.", g->bad_data);
	one(f, "maicache_group_served_total", "counter", "Extents this node served to peers.",
	    g->served);
	one(f, "maicache_group_served_bytes_total", "counter", "Bytes this node served to peers.",
	    g->served_bytes);
	one(f, "maicache_group_auth_failures_total", "counter",
	    "Peer connections that failed authentication.", g->auth_failures);
	one(f, "maicache_group_store_bytes", "gauge", "Bytes of extents kept for the group.",
	    g->store_bytes);
	one(f, "maicache_group_store_capacity_bytes", "gauge", "Capacity of the group's store.",
	    g->store_capacity);
	one(f, "maicache_group_store_extents", "gauge", "Extents kept for the group.",
	    g->store_extents);
	one(f, "maicache_group_store_evicted_total", "counter",
	    "Extents evicted from the group's store.", g->store_evicted);
}

int mc_metrics_format(FILE *f, const struct mc_metrics_snap *s)
{
	devices(f, s);
	volumes(f, s);
	pool(f, s);
	daemon_counters(f, s);
	group(f, s);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
