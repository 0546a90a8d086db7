// SPDX-License-Identifier: GPL-2.0
/*
 * maicache netlink message bodies that stand alone: what a client parses,
 * kept apart from the command handlers so the KUnit tests can check them.
 */
#include <net/netlink.h>

#include "maicache.h"
#include "maicache_genl.h"
#include "maicache_version.h"

int maicache_nl_fill_version(struct sk_buff *skb)
{
	if (nla_put_string(skb, MAICACHE_ATTR_VERSION, MAICACHE_VERSION) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_MAJOR,
			MAICACHE_VERSION_MAJOR) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_MINOR,
			MAICACHE_VERSION_MINOR) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_PATCH,
			MAICACHE_VERSION_PATCH) ||
	    nla_put_u32(skb, MAICACHE_ATTR_GENL_VERSION, MAICACHE_GENL_VERSION))
		return -EMSGSIZE;
	return 0;
}

/* A device's counters as a MAICACHE_ATTR_DEV_STATS nest. */
int maicache_nl_fill_stats(struct sk_buff *skb, const struct mc_stats *s)
{
	struct nlattr *nest, *hist;
	int i;

	nest = nla_nest_start(skb, MAICACHE_ATTR_DEV_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, MAICACHE_STAT_HITS, s->hits, MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_MISSES, s->misses, MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_BYTES_HIT, s->bytes_hit,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_BYTES_FILLED, s->bytes_filled,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_EVICTIONS, s->evictions,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_FILL_ERRORS, s->fill_errors,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_PREFETCHED, s->prefetched,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_PREFETCH_USED, s->prefetch_used,
			      MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_PREFETCH_UNUSED,
			      s->prefetch_unused, MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_FILL_LATENCY_NS,
			      s->fill_latency_ns, MAICACHE_STAT_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_STAT_WARMED, s->warmed,
			      MAICACHE_STAT_PAD))
		return -EMSGSIZE;
	hist = nla_nest_start(skb, MAICACHE_STAT_FILL_LATENCY);
	if (!hist)
		return -EMSGSIZE;
	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++)
		if (nla_put_u64_64bit(skb, i + 1, s->fill_latency[i], 0))
			return -EMSGSIZE;
	nla_nest_end(skb, hist);
	nla_nest_end(skb, nest);
	return 0;
}

/* What an EXTENT_WARM did (warm.c). */
int maicache_nl_fill_warm(struct sk_buff *skb, const struct mc_warm_result *r)
{
	if (nla_put_u32(skb, MAICACHE_ATTR_WARM_QUEUED, r->queued) ||
	    nla_put_u32(skb, MAICACHE_ATTR_WARM_READY, r->ready) ||
	    nla_put_u32(skb, MAICACHE_ATTR_WARM_FILLING, r->filling) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_WARM_NEXT, r->next,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u8(skb, MAICACHE_ATTR_WARM_BUSY, r->busy))
		return -EMSGSIZE;
	return 0;
}
