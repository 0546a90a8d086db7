// SPDX-License-Identifier: GPL-2.0
/*
 * maicache reads: the bio path of /dev/maicacheN.
 *
 * A read whose extents are all READY in the pool is copied and ended inside
 * submit_bio, with no allocation and no lock: the hit path, as short as a
 * RAM disk's. Any other read gets an mc_cmd that waits for the fills it
 * needs (cache.c); whoever resolves its last extent copies and ends it. A
 * read that finds no free slot in the pool is retried whole a jiffy later
 * from the device's retry work; the fills it started stay cached for the
 * retry.
 *
 * Misses are batched towards the daemon: under a block plug (io_uring,
 * readahead, filesystems) the daemon is woken once when the plug is
 * flushed, not once per read.
 *
 * What a miss fills follows the access pattern: a read that continues a
 * sequential stream (readahead.c) fills whole extents; a random read that
 * lies within one 64 KiB part of an extent fills only that part, so that
 * a 4 KiB random read larger than the pool costs 64 KiB, not an extent.
 * A cached extent is always preferred to its parts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/mempool.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "maicache.h"

/* Slow-path reads guaranteed to make progress when memory is short. */
#define MC_CMD_RESERVE	16

static struct kmem_cache *mc_cmd_cache;
static mempool_t *mc_cmd_pool;

bool mc_part_fills = true;
module_param_named(part_fills, mc_part_fills, bool, 0644);
MODULE_PARM_DESC(part_fills,
		 "Random reads fill the 64 KiB part they read, not the extent (default Y)");

#define MC_PART_MASK	(BIT(MAICACHE_PART_SHIFT) - 1)

/* Bytes [off, off + len) of an extent lie within one of its parts. */
static bool mc_in_one_part(const struct mc_dev *dev, u32 off, u32 len)
{
	return dev->extent_shift > MAICACHE_PART_SHIFT &&
	       off >> MAICACHE_PART_SHIFT == (off + len - 1) >> MAICACHE_PART_SHIFT;
}

static u64 mc_bio_pos(const struct bio *bio)
{
	return (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
}

/* Extents [*first, *first + return) hold the bio's bytes. */
static unsigned int mc_bio_extents(const struct mc_dev *dev,
				   const struct bio *bio, u64 *first)
{
	u64 pos = mc_bio_pos(bio);
	u64 last = (pos + bio->bi_iter.bi_size - 1) >> dev->extent_shift;

	*first = pos >> dev->extent_shift;
	return last - *first + 1;
}

/* The bytes of extent @extent the bio reads, as an offset and a length. */
static void mc_bio_span(const struct mc_dev *dev, const struct bio *bio,
			u64 extent, u32 *off, u32 *len)
{
	u64 ext_start = extent << dev->extent_shift;
	u64 ext_end = ext_start + (1ULL << dev->extent_shift);
	u64 pos = max(mc_bio_pos(bio), ext_start);
	u64 end = min(mc_bio_pos(bio) + bio->bi_iter.bi_size, ext_end);

	*off = pos - ext_start;
	*len = end - pos;
}

/*
 * Copy n bytes to a bio page. Whole aligned pages, the common case, go
 * through copy_page(), the architecture's page copy.
 */
static void mc_copy_to_page(struct page *page, u32 off, const void *src,
			    u32 n)
{
	void *dst;

	if (n != PAGE_SIZE || !PAGE_ALIGNED(src)) {
		memcpy_to_page(page, off, src, n);
		return;
	}
	dst = kmap_local_page(page);
	copy_page(dst, (void *)src);
	kunmap_local(dst);
}

/* Copy the bio's data from slot[], the i-th slot holding its i-th extent. */
static void mc_read_copy(struct mc_dev *dev, struct bio *bio,
			 struct mc_slot **slot)
{
	u64 pos = mc_bio_pos(bio);
	u64 first = pos >> dev->extent_shift;
	u64 mask = (1ULL << dev->extent_shift) - 1;
	struct bvec_iter iter;
	struct bio_vec bv;

	/* Each bv lies within one page. */
	bio_for_each_segment(bv, bio, iter) {
		u32 done = 0;

		while (done < bv.bv_len) {
			struct mc_slot *s = slot[(pos >> dev->extent_shift) - first];
			u32 in_ext = pos & mask;
			u32 n = min_t(u64, bv.bv_len - done, mask + 1 - in_ext);
			/* A part holds all the bio reads of its extent. */
			u32 in_slot = s->part ? pos & MC_PART_MASK : in_ext;

			mc_copy_to_page(bv.bv_page, bv.bv_offset + done,
					mc_slot_mem(s) + in_slot, n);
			done += n;
			pos += n;
		}
	}
	this_cpu_add(dev->stats->bytes_hit, bio->bi_iter.bi_size);
}

static void mc_read_unplug(struct blk_plug_cb *cb, bool from_schedule)
{
	mc_ring_kick();
	kfree(cb);
}

/* Wake the daemon for misses just queued: now, or when the plug is flushed. */
static void mc_read_kick(void)
{
	if (!mc_ring_needs_kick())
		return;
	if (!blk_check_plugged(mc_read_unplug, NULL, sizeof(struct blk_plug_cb)))
		mc_ring_kick();
}

/*
 * The hit path: serve the whole bio from the pool if every extent it reads
 * is READY. Returns false, having touched nothing, otherwise.
 */
static bool mc_read_hits(struct mc_dev *dev, struct bio *bio)
{
	struct mc_slot *slot[MC_MAX_IO_EXTENTS];
	unsigned int i, nr;
	bool all, ahead = false;
	u64 first;
	u32 off, len;

	nr = mc_bio_extents(dev, bio, &first);
	for (i = 0; i < nr; i++) {
		slot[i] = mc_cache_get_ready(dev, first + i, false);
		if (slot[i])
			continue;
		mc_bio_span(dev, bio, first + i, &off, &len);
		if (!mc_in_one_part(dev, off, len))
			break;
		slot[i] = mc_cache_get_ready(dev, mc_part_of(dev, first + i, off),
					     true);
		if (!slot[i])
			break;
	}
	all = i == nr;
	if (all) {
		for (i = 0; i < nr; i++) {
			mc_bio_span(dev, bio, first + i, &off, &len);
			if (slot[i]->part)
				off &= MC_PART_MASK;
			ahead |= mc_cache_hit(dev, slot[i], off, len);
		}
		mc_read_copy(dev, bio, slot);
	}
	while (i)
		mc_slot_put(slot[--i]);
	/*
	 * The first read of an extent fetched ahead: the stream goes on, and
	 * the daemon is woken for the fills it queued, as for any miss (with
	 * no later miss to wake it, they would wait on the ring unseen).
	 */
	if (unlikely(ahead)) {
		mc_readahead(dev, mc_bio_pos(bio), mc_bio_pos(bio) + bio->bi_iter.bi_size);
		mc_read_kick();
	}
	return all;
}

/* One extent's fill ended: the read ends with its last extent. */
static void mc_read_wait_done(struct mc_wait *w, int status)
{
	struct mc_cmd *cmd = container_of(w, struct mc_read_wait, w)->cmd;

	if (status)
		cmd->status = BLK_STS_IOERR;
	if (atomic_dec_and_test(&cmd->pending))
		mc_cmd_finish(cmd);
}

/*
 * Whether a read of [off, off + len) of an extent may be served by a part:
 * it lies within one, and it continues no sequential stream.
 */
static bool mc_read_wants_part(struct mc_dev *dev, u64 extent, u32 off,
			       u32 len)
{
	return READ_ONCE(mc_part_fills) && !dev->whole_extents &&
	       mc_in_one_part(dev, off, len) &&
	       !mc_readahead_follows(dev, (extent << dev->extent_shift) + off);
}

/*
 * The next extent of the command: its slot (the extent's, or a part's for
 * a random read) joins cmd->slot[] (MC_GOT or MC_WAITING), or a negative
 * errno. The caller holds a count in pending.
 */
int mc_read_get(struct mc_cmd *cmd, u64 extent, u32 off, u32 len)
{
	struct mc_read_wait *rw = &cmd->wait[cmd->nr];
	bool part = mc_read_wants_part(cmd->dev, extent, off, len);
	int ret;

	rw->cmd = cmd;
	rw->w.done = mc_read_wait_done;
	/* Raised first: the fill may end before mc_cache_get() returns. */
	atomic_inc(&cmd->pending);
	ret = mc_cache_get(cmd->dev, extent, off, len, part, &rw->w,
			   &cmd->slot[cmd->nr]);
	if (ret >= 0)
		cmd->nr++;
	if (ret != MC_WAITING)
		atomic_dec(&cmd->pending);
	return ret;
}

/* Look every extent of the command's bio up, queueing fills for misses. */
static void mc_read_start(struct mc_cmd *cmd)
{
	struct mc_dev *dev = cmd->dev;
	unsigned int i, nr;
	u64 first;
	u32 off, len;
	int ret;

	cmd->nr = 0;
	cmd->status = BLK_STS_OK;
	/* Our own count: the read cannot end while extents are looked up. */
	atomic_set(&cmd->pending, 1);
	nr = mc_bio_extents(dev, cmd->bio, &first);
	for (i = 0; i < nr; i++) {
		mc_bio_span(dev, cmd->bio, first + i, &off, &len);
		ret = mc_read_get(cmd, first + i, off, len);
		if (ret == -ESTALE) {
			this_cpu_inc(dev->stats->fill_errors);
			cmd->status = BLK_STS_IOERR;
			break;
		}
		if (ret < 0) {
			/* The pool is busy: retry once the fills started end. */
			cmd->status = BLK_STS_RESOURCE;
			break;
		}
	}
	/* Queued with the misses, so that one kick wakes the daemon for both. */
	if (cmd->status == BLK_STS_OK)
		mc_readahead(dev, mc_bio_pos(cmd->bio),
			     mc_bio_pos(cmd->bio) + cmd->bio->bi_iter.bi_size);
	mc_read_kick();
	if (atomic_dec_and_test(&cmd->pending))
		mc_cmd_finish(cmd);
}

static void mc_read_end(struct bio *bio, blk_status_t status, bool acct,
			unsigned long start)
{
	if (acct)
		bio_end_io_acct(bio, start);
	bio->bi_status = status;
	bio_endio(bio);
}

/* Serve a read of at most MC_MAX_IO_BYTES. */
void mc_read_bio(struct mc_dev *dev, struct bio *bio)
{
	bool acct = bio->bi_bdev && blk_queue_io_stat(bio->bi_bdev->bd_disk->queue);
	unsigned long start = acct ? bio_start_io_acct(bio) : 0;
	struct mc_cmd *cmd;

	if (!bio->bi_iter.bi_size || mc_read_hits(dev, bio)) {
		mc_read_end(bio, BLK_STS_OK, acct, start);
		return;
	}
	cmd = mempool_alloc(mc_cmd_pool,
			    bio->bi_opf & REQ_NOWAIT ? GFP_NOWAIT : GFP_NOIO);
	if (!cmd) {
		mc_read_end(bio, BLK_STS_AGAIN, acct, start);
		return;
	}
	cmd->bio = bio;
	cmd->dev = dev;
	cmd->acct = acct;
	cmd->acct_start = start;
	atomic_inc(&dev->nr_cmds);
	mc_read_start(cmd);
}

void mc_submit_bio(struct bio *bio)
{
	struct mc_dev *dev = bio->bi_bdev->bd_disk->private_data;

	if (bio_op(bio) != REQ_OP_READ) {
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}
	/* At most MC_MAX_IO_BYTES, so at most MC_MAX_IO_EXTENTS extents. */
	bio = bio_split_to_limits(bio);
	if (!bio)
		return;
	if (WARN_ON_ONCE(bio->bi_iter.bi_size > MC_MAX_IO_BYTES) ||
	    READ_ONCE(dev->dying)) {
		bio_io_error(bio);
		return;
	}
	mc_read_bio(dev, bio);
}

/*
 * Every extent of the command is resolved: copy, drop the slots, end the
 * read. One that found the pool busy goes to the retry list instead.
 */
void mc_cmd_finish(struct mc_cmd *cmd)
{
	struct mc_dev *dev = cmd->dev;

	if (cmd->status == BLK_STS_OK)
		mc_read_copy(dev, cmd->bio, cmd->slot);
	while (cmd->nr)
		mc_slot_put(cmd->slot[--cmd->nr]);
	if (cmd->status == BLK_STS_RESOURCE) {
		if (!READ_ONCE(dev->dying)) {
			spin_lock(&dev->retry_lock);
			list_add_tail(&cmd->retry_link, &dev->retry);
			spin_unlock(&dev->retry_lock);
			queue_delayed_work(system_wq, &dev->retry_work, 1);
			return;
		}
		cmd->status = BLK_STS_IOERR;
	}
	mc_read_end(cmd->bio, cmd->status, cmd->acct, cmd->acct_start);
	mempool_free(cmd, mc_cmd_pool);
	/* Only the address is used: dev may be gone once the count is 0. */
	if (atomic_dec_and_test(&dev->nr_cmds))
		wake_up_var(&dev->nr_cmds);
}

/* Run the reads that found the pool busy again; fail them if dying. */
static void mc_read_retry_work(struct work_struct *work)
{
	struct mc_dev *dev = container_of(to_delayed_work(work), struct mc_dev,
					  retry_work);
	struct mc_cmd *cmd, *tmp;
	struct blk_plug plug;
	LIST_HEAD(retry);

	spin_lock(&dev->retry_lock);
	list_splice_init(&dev->retry, &retry);
	spin_unlock(&dev->retry_lock);

	blk_start_plug(&plug);
	list_for_each_entry_safe(cmd, tmp, &retry, retry_link) {
		list_del(&cmd->retry_link);
		if (READ_ONCE(dev->dying))
			mc_cmd_finish(cmd);	/* still BLK_STS_RESOURCE: EIO */
		else
			mc_read_start(cmd);
	}
	blk_finish_plug(&plug);
}

/*
 * The device is dying and its fills were failed: wait for every slow-path
 * read to end.
 */
void mc_read_drain(struct mc_dev *dev)
{
	/* A read failing on a busy pool just now requeued the work. */
	flush_delayed_work(&dev->retry_work);
	wait_var_event(&dev->nr_cmds, !atomic_read(&dev->nr_cmds));
	cancel_delayed_work_sync(&dev->retry_work);
}

void mc_read_dev_init(struct mc_dev *dev)
{
	atomic_set(&dev->nr_cmds, 0);
	spin_lock_init(&dev->retry_lock);
	INIT_LIST_HEAD(&dev->retry);
	INIT_DELAYED_WORK(&dev->retry_work, mc_read_retry_work);
}

int mc_read_init(void)
{
	mc_cmd_cache = KMEM_CACHE(mc_cmd, 0);
	if (!mc_cmd_cache)
		return -ENOMEM;
	mc_cmd_pool = mempool_create_slab_pool(MC_CMD_RESERVE, mc_cmd_cache);
	if (!mc_cmd_pool) {
		kmem_cache_destroy(mc_cmd_cache);
		return -ENOMEM;
	}
	return 0;
}

void mc_read_exit(void)
{
	mempool_destroy(mc_cmd_pool);
	kmem_cache_destroy(mc_cmd_cache);
}
