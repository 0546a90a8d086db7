/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between the Debian 6.1 and 6.12 kernels.
 * The MC_HAVE_* flags come from kmod/compat.mk, which reads the headers.
 */
#ifndef MAICACHE_COMPAT_H
#define MAICACHE_COMPAT_H

#include <linux/blkdev.h>
#include <linux/mm.h>

/*
 * A bio-based disk that takes reads of up to max_sectors, with any number
 * of segments (read.c walks the bvecs itself), and REQ_NOWAIT reads (it
 * never blocks in submit_bio for them).
 */
#ifdef MC_HAVE_ALLOC_DISK_LIMITS
static inline struct gendisk *mc_alloc_disk(unsigned int lbs,
					    unsigned int max_sectors,
					    bool iostats)
{
	struct queue_limits lim = {
		.logical_block_size	= lbs,
		.physical_block_size	= lbs,
		.io_min			= lbs,
		.max_hw_sectors		= max_sectors,
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
		.features		= BLK_FEAT_NOWAIT |
					  (iostats ? BLK_FEAT_IO_STAT : 0),
	};

	return blk_alloc_disk(&lim, NUMA_NO_NODE);
}
#else
static inline struct gendisk *mc_alloc_disk(unsigned int lbs,
					    unsigned int max_sectors,
					    bool iostats)
{
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);
	struct request_queue *q;

	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_logical_block_size(q, lbs);
	blk_queue_physical_block_size(q, lbs);
	blk_queue_io_min(q, lbs);
	blk_queue_max_hw_sectors(q, max_sectors);
	blk_queue_max_segments(q, USHRT_MAX);
	blk_queue_max_segment_size(q, UINT_MAX);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_set(QUEUE_FLAG_NOWAIT, q);
	if (iostats)
		blk_queue_flag_set(QUEUE_FLAG_IO_STAT, q);
	else
		blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, q);
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

/* The ops a genetlink family's pre_doit gets. */
#ifdef MC_HAVE_GENL_SPLIT_OPS
#define MC_GENL_PRE_DOIT_OPS	const struct genl_split_ops
#else
#define MC_GENL_PRE_DOIT_OPS	const struct genl_ops
#endif

#endif /* MAICACHE_COMPAT_H */
