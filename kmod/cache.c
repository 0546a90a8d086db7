// SPDX-License-Identifier: GPL-2.0
/*
 * maicache extent cache: the (device, extent) -> slot index, hits, misses
 * and fill completions.
 *
 * A hit takes no lock: an RCU lookup in the device's xarray and a reference
 * on the slot. A miss allocates a slot in state FILLING and inserts it in the
 * index, so that later requests for the same extent wait on that one fill
 * instead of sending another.
 */
#include <linux/bvec.h>
#include <linux/highmem.h>
#include <linux/rcupdate.h>

#include "maicache.h"

/* Wait on a FILLING slot; false if it is no longer filling. */
static bool mc_slot_add_waiter(struct mc_slot *slot, struct mc_cmd *cmd,
			       struct mc_wait *w)
{
	bool filling;

	spin_lock(&slot->lock);
	filling = slot->state == MC_SLOT_FILLING;
	if (filling) {
		w->cmd = cmd;
		atomic_inc(&cmd->pending);
		list_add_tail(&w->link, &slot->waiters);
	}
	spin_unlock(&slot->lock);
	return filling;
}

/* A referenced slot for (dev, extent) from the index, or NULL. */
static struct mc_slot *mc_cache_lookup(struct mc_dev *dev, u64 extent)
{
	struct mc_slot *slot;

	rcu_read_lock();
	slot = xa_load(&dev->extents, extent);
	if (slot && !atomic_inc_not_zero(&slot->ref))
		slot = NULL;
	rcu_read_unlock();
	if (slot && (READ_ONCE(slot->dev) != dev || slot->extent != extent)) {
		/* Reused for another extent between the load and the get. */
		mc_slot_put(slot);
		slot = NULL;
	}
	return slot;
}

/*
 * Reference the slot of one extent of a request. Returns MC_GOT (the slot
 * is READY), MC_WAITING (the request waits for a fill, cmd->pending raised)
 * or a negative errno when no slot can be had right now.
 */
int mc_cache_get(struct mc_dev *dev, struct mc_cmd *cmd, u64 extent,
		 u32 off, u32 len)
{
	struct mc_wait *w = &cmd->wait[cmd->nr];
	struct mc_slot *slot, *old;

	for (;;) {
		slot = mc_cache_lookup(dev, extent);
		if (slot) {
			u8 state = READ_ONCE(slot->state);

			if (state == MC_SLOT_READY)
				goto hit;
			if (state == MC_SLOT_FILLING &&
			    mc_slot_add_waiter(slot, cmd, w))
				goto wait;
			if (READ_ONCE(slot->state) == MC_SLOT_READY)
				goto hit;
			/* FAILED: leaving the index; look again. */
			mc_slot_put(slot);
			cpu_relax();
			continue;
		}
		/* A fill now would mix two versions of the source. */
		if (READ_ONCE(dev->stale))
			return -ESTALE;
		slot = mc_pool_alloc_slot(mc_pool, dev, extent, off, len);
		if (!slot)
			return -EBUSY;
		slot->fill_start_ns = ktime_get_ns();
		old = xa_cmpxchg(&dev->extents, extent, NULL, slot,
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
	mc_slot_add_waiter(slot, cmd, w);
	cmd->slot[cmd->nr++] = slot;
	mc_ring_queue_fill(slot);
	return MC_WAITING;

hit:
	mc_policy_hit(&slot->pnode, off, len);
	this_cpu_inc(dev->stats->hits);
	cmd->slot[cmd->nr++] = slot;
	return MC_GOT;
wait:
	cmd->slot[cmd->nr++] = slot;
	return MC_WAITING;
}

/*
 * The fill of slot ended (status 0: the slot holds the extent) or was
 * abandoned (negative errno): wake the requests waiting for it. A failed
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
		unindexed = xa_cmpxchg(&dev->extents, slot->extent, slot, NULL,
				       0) == slot;
		WRITE_ONCE(slot->dev, NULL);
	} else {
		WRITE_ONCE(slot->state, MC_SLOT_READY);
	}
	list_splice_init(&slot->waiters, &waiters);
	spin_unlock(&slot->lock);

	if (unindexed)
		mc_slot_put(slot);
	list_for_each_entry_safe(w, tmp, &waiters, link) {
		list_del(&w->link);
		if (status)
			w->cmd->status = BLK_STS_IOERR;
		if (atomic_dec_and_test(&w->cmd->pending))
			mc_cmd_finish(w->cmd);
	}
}

/* Fail every fill of a device that is going away; its readers get EIO. */
void mc_cache_fail_dev(struct mc_dev *dev)
{
	struct mc_slot *slot;
	unsigned long index;

	xa_for_each(&dev->extents, index, slot)
		if (READ_ONCE(slot->state) == MC_SLOT_FILLING)
			mc_slot_resolve(slot, -ENODEV);
}

/* Copy the request's data out of its slots. All of them are READY. */
static void mc_cmd_copy(struct mc_dev *dev, struct mc_cmd *cmd)
{
	struct request *rq = cmd->rq;
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT;
	u64 first = pos >> dev->extent_shift;
	u64 mask = (1ULL << dev->extent_shift) - 1;
	struct req_iterator iter;
	struct bio_vec bv;
	u64 copied = 0;

	rq_for_each_segment(bv, rq, iter) {
		u32 done = 0;

		/* The iterator advances by bv.bv_len: leave bv alone. */
		while (done < bv.bv_len) {
			struct mc_slot *slot = cmd->slot[(pos >> dev->extent_shift) - first];
			u32 in_ext = pos & mask;
			u32 n = min_t(u64, bv.bv_len - done, mask + 1 - in_ext);

			memcpy_to_page(bv.bv_page, bv.bv_offset + done,
				       mc_slot_mem(slot) + in_ext, n);
			done += n;
			pos += n;
		}
		copied += done;
	}
	this_cpu_add(dev->stats->bytes_hit, copied);
}

/*
 * Every extent of the request is resolved: copy, drop the slots, end it.
 * A request that found the pool busy is retried whole a little later; the
 * fills it started stay cached for the retry.
 */
void mc_cmd_finish(struct mc_cmd *cmd)
{
	struct request *rq = cmd->rq;
	struct mc_dev *dev = rq->q->queuedata;

	if (cmd->status == BLK_STS_OK)
		mc_cmd_copy(dev, cmd);
	while (cmd->nr)
		mc_slot_put(cmd->slot[--cmd->nr]);
	if (cmd->status == BLK_STS_RESOURCE) {
		blk_mq_requeue_request(rq, false);
		blk_mq_delay_kick_requeue_list(rq->q, 1);
		return;
	}
	blk_mq_end_request(rq, cmd->status);
}

/*
 * Empty the device's index once no request of it is left and its fills
 * were failed (mc_cache_fail_dev()). Fills still with the daemon keep their
 * slot, out of the index, until the daemon answers or goes away: it may be
 * writing into it.
 */
void mc_cache_drop_dev(struct mc_dev *dev)
{
	struct mc_slot *slot;
	unsigned long index;

	xa_for_each(&dev->extents, index, slot)
		WARN_ON_ONCE(!mc_slot_reclaim(slot, dev, index));
	xa_destroy(&dev->extents);
}
