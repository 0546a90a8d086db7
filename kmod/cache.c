// SPDX-License-Identifier: GPL-2.0
/*
 * maicache extent cache: the (device, extent) -> slot index, hits, misses
 * and fill completions. The (device, part) -> slot index of random reads'
 * parts works the same way, beside it (read.c decides which a miss fills).
 *
 * A hit takes no lock: an RCU lookup in the device's xarray and a reference
 * on the slot. A miss allocates a slot in state FILLING and inserts it in the
 * index, so that later reads of the same extent wait on that one fill
 * instead of sending another.
 */
#include <linux/rcupdate.h>

#include "maicache.h"

/* The slot holds its extent, and its data can be read. */
static bool mc_slot_ready(struct mc_slot *slot)
{
	/* Pairs with the release of READY in mc_slot_resolve(). */
	return smp_load_acquire(&slot->state) == MC_SLOT_READY;
}

/* Wait on a FILLING slot; false if it is no longer filling. */
static bool mc_slot_add_waiter(struct mc_slot *slot, struct mc_wait *w)
{
	bool filling;

	spin_lock(&slot->lock);
	filling = slot->state == MC_SLOT_FILLING;
	if (filling)
		list_add_tail(&w->link, &slot->waiters);
	spin_unlock(&slot->lock);
	return filling;
}

/* A referenced slot for (dev, extent) or (dev, part) from the index, or NULL. */
static struct mc_slot *mc_cache_lookup(struct mc_dev *dev, u64 extent,
				       bool part)
{
	struct mc_slot *slot;

	rcu_read_lock();
	slot = xa_load(mc_dev_index(dev, part), extent);
	if (slot && !atomic_inc_not_zero(&slot->ref))
		slot = NULL;
	rcu_read_unlock();
	if (slot && (READ_ONCE(slot->dev) != dev || slot->extent != extent ||
		     slot->part != part)) {
		/* Reused for another extent between the load and the get. */
		mc_slot_put(slot);
		slot = NULL;
	}
	return slot;
}

/*
 * The fast path's lookup: a referenced slot for (dev, extent) if it is
 * READY, else NULL. Counts nothing; the caller counts the hit once it
 * knows the whole read is served from the pool (mc_cache_hit()).
 */
struct mc_slot *mc_cache_get_ready(struct mc_dev *dev, u64 extent, bool part)
{
	struct mc_slot *slot = mc_cache_lookup(dev, extent, part);

	if (slot && !mc_slot_ready(slot)) {
		mc_slot_put(slot);
		slot = NULL;
	}
	return slot;
}

/* The first read of an extent fetched ahead: true once, and counted. */
static bool mc_slot_prefetch_used(struct mc_dev *dev, struct mc_slot *slot)
{
	if (likely(!test_bit(MC_SLOT_PREFETCHED, &slot->flags)) ||
	    !test_and_clear_bit(MC_SLOT_PREFETCHED, &slot->flags))
		return false;
	this_cpu_inc(dev->stats->prefetch_used);
	return true;
}

/*
 * A read uses bytes [off, off + len) of a READY slot. True if the extent
 * was fetched ahead and this is its first read: the stream goes on.
 */
bool mc_cache_hit(struct mc_dev *dev, struct mc_slot *slot, u32 off, u32 len)
{
	mc_policy_hit(&slot->pnode, off, len);
	this_cpu_inc(dev->stats->hits);
	return mc_slot_prefetch_used(dev, slot);
}

/*
 * The slot that holds bytes [off, off + len) of an extent, cached or being
 * filled: the extent's, else, when @part, that of the part holding them.
 */
static struct mc_slot *mc_cache_find(struct mc_dev *dev, u64 extent, u32 off,
				     bool part)
{
	struct mc_slot *slot = mc_cache_lookup(dev, extent, false);

	if (!slot && part)
		slot = mc_cache_lookup(dev, mc_part_of(dev, extent, off), true);
	return slot;
}

/*
 * Reference the slot of one extent of a read into *slotp: the extent's,
 * or with @part the slot of the part that holds [off, off + len) (which
 * the caller made sure lies within one part) unless the extent is cached.
 * Returns MC_GOT (the slot is READY), MC_WAITING (w waits for the fill:
 * w->done() runs once it ends, maybe before this returns) or a negative
 * errno when no slot can be had right now (*slotp untouched).
 */
int mc_cache_get(struct mc_dev *dev, u64 extent, u32 off, u32 len, bool part,
		 struct mc_wait *w, struct mc_slot **slotp)
{
	u64 index = part ? mc_part_of(dev, extent, off) : extent;
	u32 poff = part ? off & (BIT(MAICACHE_PART_SHIFT) - 1) : off;
	struct mc_slot *slot, *old;

	for (;;) {
		slot = mc_cache_find(dev, extent, off, part);
		if (slot) {
			if (mc_slot_ready(slot))
				goto hit;
			if (READ_ONCE(slot->state) == MC_SLOT_FILLING &&
			    mc_slot_add_waiter(slot, w)) {
				mc_slot_prefetch_used(dev, slot);
				goto wait;
			}
			if (mc_slot_ready(slot))
				goto hit;
			/* FAILED: leaving the index; look again. */
			mc_slot_put(slot);
			cpu_relax();
			continue;
		}
		/* A fill now would mix two versions of the source. */
		if (READ_ONCE(dev->stale))
			return -ESTALE;
		slot = mc_pool_alloc_slot(mc_pool, dev, index, part, poff, len);
		if (!slot)
			return -EBUSY;
		slot->fill_start_ns = ktime_get_ns();
		old = xa_cmpxchg(mc_dev_index(dev, part), index, NULL, slot,
				 GFP_NOWAIT | __GFP_NOWARN);
		if (!old)
			break;
		/* Lost a race with another miss, or no memory for the index. */
		atomic_set(&slot->ref, 1);
		slot->state = MC_SLOT_FAILED;
		mc_slot_put(slot);
		if (xa_is_err(old))
			return xa_err(old);
	}
	/* Ours: the fill reference goes to the ring, ours waits. */
	this_cpu_inc(dev->stats->misses);
	mc_slot_add_waiter(slot, w);
	*slotp = slot;
	mc_ring_queue_fill(slot);
	return MC_WAITING;

hit:
	mc_cache_hit(dev, slot, slot->part ? poff : off, len);
	*slotp = slot;
	return MC_GOT;
wait:
	*slotp = slot;
	return MC_WAITING;
}

/*
 * The fill of slot ended (status 0: the slot holds the extent) or was
 * abandoned (negative errno): wake the reads waiting for it. A failed
 * extent leaves the index at once so the next read tries again. The fill's
 * own reference is the caller's business. A slot that is not FILLING is
 * left alone.
 */
void mc_slot_resolve(struct mc_slot *slot, int status)
{
	struct mc_wait *w, *tmp;
	bool unindexed = false;
	struct mc_dev *dev;
	LIST_HEAD(waiters);

	spin_lock(&slot->lock);
	if (slot->state != MC_SLOT_FILLING) {
		spin_unlock(&slot->lock);
		return;
	}
	/* Under the lock: device removal waits on it before freeing dev. */
	dev = slot->dev;
	mc_dev_account_fill(dev, slot->fill_start_ns, slot->len, !status);
	if (status) {
		WRITE_ONCE(slot->state, MC_SLOT_FAILED);
		unindexed = xa_cmpxchg(mc_dev_index(dev, slot->part),
				       slot->extent, slot, NULL, 0) == slot;
		WRITE_ONCE(slot->dev, NULL);
	} else {
		/* After the data the daemon wrote: pairs with the readers. */
		smp_store_release(&slot->state, MC_SLOT_READY);
	}
	list_splice_init(&slot->waiters, &waiters);
	spin_unlock(&slot->lock);

	if (unindexed)
		mc_slot_put(slot);
	list_for_each_entry_safe(w, tmp, &waiters, link) {
		list_del(&w->link);
		w->done(w, status);
	}
}

/* The pool took the slot back (mc_unindex_fn): out of its device's index. */
void mc_cache_unindex(struct mc_slot *slot, bool evicted)
{
	xa_cmpxchg(mc_dev_index(slot->dev, slot->part), slot->extent, slot,
		   NULL, 0);
	if (evicted)
		this_cpu_inc(slot->dev->stats->evictions);
	if (test_and_clear_bit(MC_SLOT_PREFETCHED, &slot->flags))
		this_cpu_inc(slot->dev->stats->prefetch_unused);
}

/* Fail every fill of a device that is going away; its readers get EIO. */
void mc_cache_fail_dev(struct mc_dev *dev)
{
	struct mc_slot *slot;
	unsigned long index;
	int part;

	for (part = 0; part < 2; part++)
		xa_for_each(mc_dev_index(dev, part), index, slot)
			if (READ_ONCE(slot->state) == MC_SLOT_FILLING)
				mc_slot_resolve(slot, -ENODEV);
}

/*
 * Empty the device's index once no read of it is left and its fills
 * were failed (mc_cache_fail_dev()). Fills still with the daemon keep their
 * slot, out of the index, until the daemon answers or goes away: it may be
 * writing into it.
 */
void mc_cache_drop_dev(struct mc_dev *dev)
{
	struct mc_slot *slot;
	unsigned long index;
	int part;

	for (part = 0; part < 2; part++) {
		struct xarray *xa = mc_dev_index(dev, part);

		xa_for_each(xa, index, slot)
			WARN_ON_ONCE(!mc_slot_reclaim(slot, dev, index, part));
		xa_destroy(xa);
	}
}

/*
 * Index a new slot for (dev, extent) that no read waits on: FILLING, with
 * two references (the index and the fill), @flags set before anyone can
 * find it. @len bytes (0: the extent's own length). -EEXIST if the extent
 * is cached or filling already, -EBUSY if no slot can be had now.
 */
static int mc_cache_insert_unread(struct mc_dev *dev, u64 extent, u32 len,
				  unsigned long flags, gfp_t gfp,
				  struct mc_slot **slotp)
{
	struct mc_slot *slot, *old;

	slot = mc_cache_lookup(dev, extent, false);
	if (slot) {
		mc_slot_put(slot);
		return -EEXIST;
	}
	/* Read from 0 on: its first read is not counted a re-reference. */
	slot = mc_pool_alloc_slot(mc_pool, dev, extent, false, 0, len);
	if (!slot)
		return -EBUSY;
	/* Not indexed yet: nobody reads these before it is found. */
	if (len)
		slot->len = len;
	slot->flags = flags;
	slot->fill_start_ns = ktime_get_ns();
	old = xa_cmpxchg(&dev->extents, extent, NULL, slot, gfp);
	if (old) {
		slot->flags = 0;
		atomic_set(&slot->ref, 1);
		slot->state = MC_SLOT_FAILED;
		mc_slot_put(slot);
		return xa_is_err(old) ? xa_err(old) : -EEXIST;
	}
	/* No reader waits on it: the caller's reference is not wanted. */
	atomic_dec(&slot->ref);
	/* Sent to the daemon as any miss is, and counted with them. */
	this_cpu_inc(dev->stats->misses);
	*slotp = slot;
	return 0;
}

/*
 * A slot for (dev, extent) that the daemon fills on its own (held.c), in
 * state FILLING with two references: the index and the fill. It holds
 * @len bytes. -EEXIST if the extent is cached or filling already, -EBUSY
 * if no slot can be had now.
 */
int mc_cache_take(struct mc_dev *dev, u64 extent, u32 len,
		  struct mc_slot **slotp)
{
	return mc_cache_insert_unread(dev, extent, len, 0, GFP_KERNEL, slotp);
}

/*
 * Fetch (dev, extent) with no reader waiting for it (readahead.c): 0 when
 * its fill is queued, -EEXIST when it is cached or filling already,
 * -EBUSY when no slot can be had now, -ESTALE when the source changed.
 */
int mc_cache_prefetch(struct mc_dev *dev, u64 extent)
{
	struct mc_slot *slot;
	int ret;

	if (READ_ONCE(dev->stale))
		return -ESTALE;
	ret = mc_cache_insert_unread(dev, extent, 0, BIT(MC_SLOT_PREFETCHED),
				     GFP_NOWAIT | __GFP_NOWARN, &slot);
	if (ret)
		return ret;
	this_cpu_inc(dev->stats->prefetched);
	mc_ring_queue_fill(slot);
	return 0;
}

/*
 * Where the whole extent (dev, extent) is: MC_ABSENT, MC_FILLING (a fill
 * in flight, or a failed one leaving the index) or MC_READY; parts of it
 * cached for random reads do not count. Counts nothing and is no use of
 * the extent for the eviction policy.
 */
int mc_cache_state(struct mc_dev *dev, u64 extent)
{
	struct mc_slot *slot = mc_cache_lookup(dev, extent, false);
	int state;

	if (!slot)
		return MC_ABSENT;
	state = mc_slot_ready(slot) ? MC_READY : MC_FILLING;
	mc_slot_put(slot);
	return state;
}

/*
 * Fetch (dev, extent) for a warmup (warm.c): as a fetch ahead, but not
 * marked as one, since no stream will read it next (readahead and its
 * counters leave it alone). Process context. 0 when its fill is queued,
 * -EEXIST when it is cached or filling already, -EBUSY when no slot can
 * be had now, -ESTALE when the source changed.
 */
int mc_cache_warm(struct mc_dev *dev, u64 extent)
{
	struct mc_slot *slot;
	int ret;

	if (READ_ONCE(dev->stale))
		return -ESTALE;
	ret = mc_cache_insert_unread(dev, extent, 0, 0, GFP_KERNEL, &slot);
	if (ret)
		return ret;
	this_cpu_inc(dev->stats->warmed);
	mc_ring_queue_fill(slot);
	return 0;
}
