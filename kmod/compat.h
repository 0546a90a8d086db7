/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between the Debian 6.1 and 6.12 kernels.
 * The MC_HAVE_* flags come from kmod/compat.mk, which reads the headers.
 */
#ifndef MAICACHE_COMPAT_H
#define MAICACHE_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/mm.h>

#ifdef MC_HAVE_ALLOC_DISK_LIMITS
static inline struct gendisk *mc_alloc_disk(struct blk_mq_tag_set *set,
					    unsigned int lbs,
					    unsigned int max_sectors,
					    bool iostats, void *queuedata)
{
	struct queue_limits lim = {
		.logical_block_size	= lbs,
		.physical_block_size	= lbs,
		.io_min			= lbs,
		.max_hw_sectors		= max_sectors,
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
	};
	struct gendisk *disk = blk_mq_alloc_disk(set, &lim, queuedata);

	/* blk-mq turns accounting on whatever the limits asked for. */
	if (!IS_ERR(disk) && !iostats) {
		lim = queue_limits_start_update(disk->queue);
		lim.features &= ~BLK_FEAT_IO_STAT;
		if (queue_limits_commit_update(disk->queue, &lim)) {
			put_disk(disk);
			return ERR_PTR(-EINVAL);
		}
	}
	return disk;
}
#else
static inline struct gendisk *mc_alloc_disk(struct blk_mq_tag_set *set,
					    unsigned int lbs,
					    unsigned int max_sectors,
					    bool iostats, void *queuedata)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);

	if (IS_ERR(disk))
		return disk;
	blk_queue_logical_block_size(disk->queue, lbs);
	blk_queue_physical_block_size(disk->queue, lbs);
	blk_queue_io_min(disk->queue, lbs);
	blk_queue_max_hw_sectors(disk->queue, max_sectors);
	blk_queue_max_segments(disk->queue, USHRT_MAX);
	blk_queue_max_segment_size(disk->queue, UINT_MAX);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	if (!iostats)
		blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, disk->queue);
	return disk;
}
#endif

#ifdef MC_HAVE_VM_FLAGS_MOD
static inline void mc_vm_flags_mod(struct vm_area_struct *vma,
				   vm_flags_t set, vm_flags_t clear)
{
	vm_flags_mod(vma, set, clear);
}
#else
static inline void mc_vm_flags_mod(struct vm_area_struct *vma,
				   vm_flags_t set, vm_flags_t clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#endif

#endif /* MAICACHE_COMPAT_H */
