// SPDX-License-Identifier: GPL-2.0
/*
 * maicache warmup: fetch a range of a device's extents into the pool with
 * no reader waiting (EXTENT_WARM, for maicachectl warmup), so that a job's
 * first pass over its data is served from DRAM.
 *
 * Each extent not cached yet is sent to the daemon as a miss with no
 * reader (mc_cache_warm()). A call is bounded twice, so that a warmup never
 * crowds out readers: it looks at MAICACHE_WARM_EXTENTS_MAX extents at
 * most (the caller holds mc_devs_lock throughout), and it queues a fill
 * only while the device has fewer fills in flight than its warmup share of
 * the pool, a MAICACHE_WARM_POOL_SHARE-th of the slots of its extent size.
 * Slots that are filling cannot be evicted or reused, so this is what
 * leaves the rest of the pool to readers however large the range. The
 * caller calls again, from the extent where the call stopped, as fills
 * arrive.
 *
 * What a warmup fetches enters the eviction policy as any new extent does,
 * in the small FIFO, and only a read promotes it: a warmup larger than the
 * pool's free room pushes out its own first extents, not the hot set of
 * the main FIFO.
 */
#include "maicache.h"

/* The most fills of @dev in flight that a warmup adds to. */
static u64 mc_warm_share(struct mc_dev *dev)
{
	u32 slots = mc_pool->nr_units >> (dev->extent_shift - MC_UNIT_SHIFT);

	return max(slots / MAICACHE_WARM_POOL_SHARE, 1U);
}

static u64 mc_warm_in_flight(struct mc_dev *dev)
{
	struct mc_stats s;

	mc_dev_stats(dev, &s);
	return mc_stats_fills_in_flight(&s);
}

/*
 * Fetch what is not cached of extents [@first, @last] of @dev, within the
 * bounds above; *@res says what the call did and where it stopped. The
 * caller keeps @dev listed (mc_devs_lock), so that its removal waits and
 * then fails the fills queued here. -EOPNOTSUPP for a held device,
 * -ESTALE for a stale one, -EINVAL when @last is before @first, -ERANGE
 * when either is past the device's last extent, -ENOTCONN when no daemon
 * would fill them; -ENOMEM as the index's allocation may.
 */
int mc_warm(struct mc_dev *dev, u64 first, u64 last,
	    struct mc_warm_result *res)
{
	u64 share, in_flight, end, e;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (dev->held)
		return -EOPNOTSUPP;
	if (READ_ONCE(dev->stale))
		return -ESTALE;
	if (last < first)
		return -EINVAL;
	if (last >= mc_dev_nr_extents(dev))
		return -ERANGE;
	if (!mc_ring_attached(NULL))
		return -ENOTCONN;

	share = mc_warm_share(dev);
	in_flight = mc_warm_in_flight(dev);
	end = min(last, first + MAICACHE_WARM_EXTENTS_MAX - 1);
	for (e = first; e <= end; e++) {
		switch (mc_cache_state(dev, e)) {
		case MC_READY:
			res->ready++;
			continue;
		case MC_FILLING:
			res->filling++;
			continue;
		}
		if (in_flight >= share) {
			res->busy = true;
			break;
		}
		ret = mc_cache_warm(dev, e);
		if (!ret) {
			res->queued++;
			in_flight++;
		} else if (ret == -EEXIST) {
			/* A reader's miss came first. */
			res->filling++;
			ret = 0;
		} else {
			res->busy = ret == -EBUSY;
			break;
		}
	}
	res->next = e;
	/* One wakeup for the whole call, as for a plugged batch of reads. */
	if (res->queued)
		mc_ring_kick();
	return res->busy ? 0 : ret;
}
