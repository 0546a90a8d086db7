// SPDX-License-Identifier: GPL-2.0
/*
 * maicache sequential readahead: a device that sees a read stream move
 * from one extent to the next fetches the extents after it before they
 * are read, so that the daemon always has the next ones in flight.
 *
 * A device follows up to MC_RA_STREAMS streams. A read continues a stream
 * when it starts where the stream's last read ended (within
 * MC_RA_SLACK), or near the start of an extent within the stream's window
 * (from the extent it is in to the last one fetched ahead); entering a new
 * extent doubles the window, from 2 extents up to readahead_kb. Any other
 * read takes the stream used longest ago, with no window: a random reader
 * fetches nothing ahead, and only its second read in a row starts a
 * window. Byte positions, not just extents, tell a stream from two random
 * reads that happen to fall in neighbouring extents: with extents only, a
 * quarter of the random reads of a small device looked sequential, each
 * filling a whole extent (read.c asks here before it fills a part).
 * Reads come here from the slow
 * path (a miss, or a wait on a fill in flight) and from the first hit on
 * an extent fetched ahead, where a reader slower than its fills moves the
 * window on.
 *
 * Extents fetched ahead enter the pool as any miss does, in the small FIFO
 * of the eviction policy (policy.h): they never push out the main FIFO's
 * hot set. The window is also kept under half of what the small FIFO
 * holds in a pool of this size, so that what is fetched ahead is not
 * evicted before it is read. Nothing waits on a fetch ahead: no free slot
 * or a stale source only means none.
 */
#include <linux/moduleparam.h>

#include "maicache.h"

/* How far past a stream's last read, or an extent's start, still continues it. */
#define MC_RA_SLACK	SZ_16K

unsigned int mc_readahead_kb = 8192;
module_param_named(readahead_kb, mc_readahead_kb, uint, 0644);
MODULE_PARM_DESC(readahead_kb,
		 "Most a sequential stream fetches ahead, in KiB (default 8192; 0: none)");

/* The longest window of the device, in extents: 0 for no readahead. */
static u32 mc_ra_max(struct mc_dev *dev)
{
	u32 max = READ_ONCE(mc_readahead_kb) >> (dev->extent_shift - 10);
	u32 slots = mc_pool->nr_units >> (dev->extent_shift - MC_UNIT_SHIFT);
	u32 pool = slots * MC_SMALL_PERCENT / 100 / 2;

	/* A pool of a few slots still reads two ahead. */
	if (slots >= 8)
		pool = max(pool, 2U);
	return min(max, pool);
}

/* A read from byte @pos, in extent @first, continues the stream. */
static bool mc_ra_continues(const struct mc_ra_stream *st, u8 shift, u64 pos)
{
	u64 first = pos >> shift;

	if (!st->next || first + 1 < st->next || first > st->ahead)
		return false;
	if (pos >= st->end && pos - st->end <= MC_RA_SLACK)
		return true;
	/* The reads before it, in the last extent, were hits. */
	return first >= st->next && (pos & (BIT_ULL(shift) - 1)) <= MC_RA_SLACK;
}

static struct mc_ra_stream *mc_ra_find(struct mc_ra *ra, u8 shift, u64 pos,
				       u64 end)
{
	struct mc_ra_stream *st, *lru = &ra->s[0];
	u64 last = (end - 1) >> shift;

	for (st = ra->s; st < ra->s + MC_RA_STREAMS; st++) {
		if (mc_ra_continues(st, shift, pos)) {
			st->end = max(st->end, end);
			return st;
		}
		if (st->used < lru->used)
			lru = st;
	}
	/* A new stream, however long its first read: none ahead until the next. */
	lru->next = last + 1;
	lru->ahead = last + 1;
	lru->end = end;
	lru->window = 0;
	return lru;
}

/*
 * A read of bytes [pos, end) of the device: continue its stream and fetch
 * what its window now reaches.
 */
void mc_readahead(struct mc_dev *dev, u64 pos, u64 end)
{
	u64 last = (end - 1) >> dev->extent_shift;
	u64 nr_extents = mc_dev_nr_extents(dev);
	u32 max = mc_ra_max(dev);
	struct mc_ra_stream *st;
	u64 from, to;

	/* Streams are followed with no window too: read.c asks about them. */
	if (READ_ONCE(dev->stale))
		return;
	spin_lock(&dev->ra.lock);
	st = mc_ra_find(&dev->ra, dev->extent_shift, pos, end);
	st->used = ++dev->ra.tick;
	if (last + 1 > st->next) {
		/* It entered a new extent: the stream goes on, further ahead. */
		st->next = last + 1;
		st->window = min_t(u32, max_t(u32, st->window * 2, 2), max);
	}
	from = max(st->ahead, st->next);
	to = min(st->next + st->window, nr_extents);
	if (to > from)
		st->ahead = to;
	spin_unlock(&dev->ra.lock);

	for (; from < to; from++) {
		int ret = mc_cache_prefetch(dev, from);

		if (ret && ret != -EEXIST)
			break;
	}
}

/*
 * Whether a read from byte @pos would continue a stream of the device (and
 * so fill whole extents, read.c), as mc_readahead() would find.
 */
bool mc_readahead_follows(struct mc_dev *dev, u64 pos)
{
	struct mc_ra_stream *st;
	bool follows = false;

	spin_lock(&dev->ra.lock);
	for (st = dev->ra.s; st < dev->ra.s + MC_RA_STREAMS && !follows; st++)
		follows = mc_ra_continues(st, dev->extent_shift, pos);
	spin_unlock(&dev->ra.lock);
	return follows;
}

void mc_readahead_dev_init(struct mc_dev *dev)
{
	spin_lock_init(&dev->ra.lock);
	memset(dev->ra.s, 0, sizeof(dev->ra.s));
	dev->ra.tick = 0;
}
