// SPDX-License-Identifier: GPL-2.0
/*
 * maicache block devices: /dev/maicacheN, bio-based, read-only.
 *
 * This file makes and removes the devices and holds their sysfs files;
 * reads are served by read.c. A held device (held.c) is one without a
 * disk: an index of extents the node keeps for its cache group.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "compat.h"
#include "maicache.h"

#define MC_MINORS	16	/* partitions per device */

/*
 * The block layer's per-disk accounting reads the clock twice per read, a
 * cost DRAM block devices such as brd do not pay; maicache keeps its own
 * per-device counters regardless.
 */
static bool mc_iostats;
module_param_named(iostats, mc_iostats, bool, 0444);
MODULE_PARM_DESC(iostats,
		 "Block-layer I/O accounting (/proc/diskstats) on new devices; also /sys/block/maicacheN/queue/iostats (default: off)");

/* Protects mc_devs (in id order) and each device's place in it. */
DEFINE_MUTEX(mc_devs_lock);
LIST_HEAD(mc_devs);
static DEFINE_IDA(mc_ida);
static int mc_major;
static atomic64_t mc_key_seq;

struct mc_dev *mc_dev_find(u32 id)
{
	struct mc_dev *dev;

	lockdep_assert_held(&mc_devs_lock);
	list_for_each_entry(dev, &mc_devs, list)
		if (dev->id == id)
			return dev;
	return NULL;
}

/*
 * Keep mc_devs in id order: a DEV_GET dump resumes from the id after the
 * last one it sent (nl.c), so a device listed after a higher id would be
 * skipped (a device made again with a freed lower id was).
 */
static void mc_dev_list_insert(struct mc_dev *dev)
{
	struct mc_dev *pos;

	lockdep_assert_held(&mc_devs_lock);
	list_for_each_entry(pos, &mc_devs, list)
		if (pos->id > dev->id)
			break;
	list_add_tail(&dev->list, &pos->list);
}

/* The device named @volume_name (not ""), if any. */
struct mc_dev *mc_dev_find_volume(const char *volume_name)
{
	struct mc_dev *dev;

	lockdep_assert_held(&mc_devs_lock);
	list_for_each_entry(dev, &mc_devs, list)
		if (!strcmp(dev->volume_name, volume_name))
			return dev;
	return NULL;
}

static const struct block_device_operations mc_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= mc_submit_bio,
};

static struct mc_dev *disk_to_mc(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

/* One sysfs file per counter, all read by mc_stat_show(). */
struct mc_stat_attr {
	struct device_attribute attr;
	size_t offset;			/* of the u64 in struct mc_stats */
};

static ssize_t mc_stat_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	struct mc_stat_attr *sa = container_of(attr, struct mc_stat_attr, attr);
	struct mc_stats s;

	mc_dev_stats(disk_to_mc(d), &s);
	return sysfs_emit(buf, "%llu\n", *(u64 *)((char *)&s + sa->offset));
}

static struct mc_stat_attr mc_stat_attrs[] = {
	{ __ATTR(hits, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, hits) },
	{ __ATTR(misses, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, misses) },
	{ __ATTR(bytes_hit, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, bytes_hit) },
	{ __ATTR(bytes_filled, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, bytes_filled) },
	{ __ATTR(evictions, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, evictions) },
	{ __ATTR(fill_errors, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, fill_errors) },
	{ __ATTR(prefetched, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, prefetched) },
	{ __ATTR(prefetch_used, 0444, mc_stat_show, NULL),
	  offsetof(struct mc_stats, prefetch_used) },
	{ __ATTR(prefetch_unused, 0444, mc_stat_show, NULL),
	  offsetof(struct mc_stats, prefetch_unused) },
	{ __ATTR(warmed, 0444, mc_stat_show, NULL), offsetof(struct mc_stats, warmed) },
};

/* "<upper bound in us> <count>" per line; the last bound is "inf". */
static ssize_t fill_latency_us_show(struct device *d,
				    struct device_attribute *attr, char *buf)
{
	struct mc_stats s;
	int i, len = 0;

	mc_dev_stats(disk_to_mc(d), &s);
	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS - 1; i++)
		len += sysfs_emit_at(buf, len, "%llu %llu\n", 1ULL << i,
				     s.fill_latency[i]);
	len += sysfs_emit_at(buf, len, "inf %llu\n", s.fill_latency[i]);
	return len;
}
static DEVICE_ATTR_RO(fill_latency_us);

static ssize_t cookie_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", disk_to_mc(d)->cookie);
}
static DEVICE_ATTR_RO(cookie);

static ssize_t extent_size_show(struct device *d,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", 1ULL << disk_to_mc(d)->extent_shift);
}
static DEVICE_ATTR_RO(extent_size);

static ssize_t stale_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(disk_to_mc(d)->stale));
}
static DEVICE_ATTR_RO(stale);

/* Empty for a device without a name; udev makes no link then. */
static ssize_t name_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", disk_to_mc(d)->volume_name);
}
static DEVICE_ATTR_RO(name);

static struct attribute *mc_dev_attrs[] = {
	&mc_stat_attrs[0].attr.attr,
	&mc_stat_attrs[1].attr.attr,
	&mc_stat_attrs[2].attr.attr,
	&mc_stat_attrs[3].attr.attr,
	&mc_stat_attrs[4].attr.attr,
	&mc_stat_attrs[5].attr.attr,
	&mc_stat_attrs[6].attr.attr,
	&mc_stat_attrs[7].attr.attr,
	&mc_stat_attrs[8].attr.attr,
	&mc_stat_attrs[9].attr.attr,
	&dev_attr_fill_latency_us.attr,
	&dev_attr_cookie.attr,
	&dev_attr_extent_size.attr,
	&dev_attr_stale.attr,
	&dev_attr_name.attr,
	NULL,
};

static const struct attribute_group mc_dev_group = {
	.name	= "maicache",
	.attrs	= mc_dev_attrs,
};

static const struct attribute_group *mc_dev_groups[] = {
	&mc_dev_group,
	NULL,
};

static void mc_dev_free(struct mc_dev *dev)
{
	free_percpu(dev->stats);
	ida_free(&mc_ida, dev->id);
	kfree(dev);
}

static int mc_dev_alloc_id(u32 id, bool held)
{
	int ret;

	if (held)
		return ida_alloc_range(&mc_ida, MAICACHE_HELD_DEV_ID_MIN,
				       MAICACHE_HELD_DEV_ID_MIN + MC_MAX_DEVS - 1,
				       GFP_KERNEL);
	if (id == U32_MAX)
		return ida_alloc_max(&mc_ida, MC_MAX_DEVS - 1, GFP_KERNEL);
	ret = ida_alloc_range(&mc_ida, id, id, GFP_KERNEL);
	return ret == -ENOSPC ? -EEXIST : ret;
}

static int mc_dev_add_disk(struct mc_dev *dev, u32 block_size)
{
	int ret;

	dev->disk = mc_alloc_disk(block_size, MC_MAX_IO_BYTES >> SECTOR_SHIFT,
				  mc_iostats);
	if (IS_ERR(dev->disk)) {
		ret = PTR_ERR(dev->disk);
		dev->disk = NULL;
		return ret;
	}
	dev->disk->major = mc_major;
	dev->disk->first_minor = dev->id * MC_MINORS;
	dev->disk->minors = MC_MINORS;
	dev->disk->fops = &mc_fops;
	dev->disk->private_data = dev;
	strscpy(dev->disk->disk_name, dev->name, DISK_NAME_LEN);
	set_capacity(dev->disk, dev->size >> SECTOR_SHIFT);
	set_disk_ro(dev->disk, true);

	/*
	 * A partition scan now would read through the cache and, with no
	 * daemon yet, block the caller until the daemon timeout. Partitions
	 * are read on demand (blockdev --rereadpt) once data can flow.
	 */
	set_bit(GD_SUPPRESS_PART_SCAN, &dev->disk->state);
	ret = device_add_disk(NULL, dev->disk, mc_dev_groups);
	clear_bit(GD_SUPPRESS_PART_SCAN, &dev->disk->state);
	if (ret) {
		put_disk(dev->disk);
		dev->disk = NULL;
	}
	return ret;
}

/*
 * Create /dev/maicacheN, or a held device when @held (its id chosen from
 * MAICACHE_HELD_DEV_ID_MIN up). id U32_MAX picks the lowest free N. The
 * caller validated the geometry and @volume_name ("" for none) and made
 * sure no other device has that name (nl.c).
 */
int mc_dev_add(u32 id, u64 size, u32 block_size, u32 extent_size,
	       u64 cookie, bool held, bool whole_extents,
	       const char *volume_name, struct mc_dev **out)
{
	struct mc_dev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	ret = mc_dev_alloc_id(id, held);
	if (ret < 0) {
		kfree(dev);
		return ret;
	}
	dev->id = ret;
	dev->held = held;
	atomic_set(&dev->nr_pins, 0);
	snprintf(dev->name, sizeof(dev->name), held ? "held%u" : "maicache%u",
		 dev->id);
	/* Before the disk exists: udev reads it on the disk's "add" event. */
	strscpy(dev->volume_name, volume_name, sizeof(dev->volume_name));
	dev->size = size;
	dev->block_size = block_size;
	dev->extent_shift = ilog2(extent_size);
	dev->cookie = cookie;
	/* Ghost keys of a new device never match those of an old one. */
	dev->key_base = (u64)atomic64_inc_return(&mc_key_seq) << 44;
	xa_init(&dev->extents);
	xa_init(&dev->parts);
	dev->whole_extents = whole_extents;
	mc_read_dev_init(dev);
	mc_readahead_dev_init(dev);
	dev->stats = alloc_percpu(struct mc_stats);
	if (!dev->stats) {
		ret = -ENOMEM;
		goto err_free;
	}

	if (!held) {
		ret = mc_dev_add_disk(dev, block_size);
		if (ret)
			goto err_free;
	}

	/* Unload is refused while a device exists. */
	__module_get(THIS_MODULE);
	mutex_lock(&mc_devs_lock);
	mc_dev_list_insert(dev);
	mutex_unlock(&mc_devs_lock);
	/* Held devices are the daemon's own business: no events. */
	if (!held)
		maicache_nl_notify_dev(dev, MAICACHE_CMD_EVT_DEV_ADDED);
	*out = dev;
	return 0;

err_free:
	mc_dev_free(dev);
	return ret;
}

/* Wait out the reads being submitted and the retry work. */
static void mc_dev_quiesce(struct mc_dev *dev)
{
	struct request_queue *q = dev->disk->queue;

	blk_mq_freeze_queue(q);
	blk_mq_unfreeze_queue(q);
	flush_delayed_work(&dev->retry_work);
}

/*
 * Remove /dev/maicacheN or a held device. Reads in flight end with EIO
 * rather than waiting for the daemon; fills already with the daemon are
 * orphaned (cache.c). -EBUSY while the daemon pins one of its extents.
 */
int mc_dev_del(u32 id)
{
	struct mc_dev *dev;

	mutex_lock(&mc_devs_lock);
	dev = mc_dev_find(id);
	/* Pins are taken under the lock, of listed devices only (nl.c). */
	if (dev && atomic_read(&dev->nr_pins)) {
		mutex_unlock(&mc_devs_lock);
		return -EBUSY;
	}
	if (dev)
		list_del(&dev->list);
	mutex_unlock(&mc_devs_lock);
	if (!dev)
		return -ENODEV;

	WRITE_ONCE(dev->dying, true);
	/* After this, nothing starts a fill that mc_cache_fail_dev() would miss. */
	if (dev->disk)
		mc_dev_quiesce(dev);
	mc_cache_fail_dev(dev);
	mc_read_drain(dev);
	mc_ring_drop_orphans();
	if (dev->disk)
		del_gendisk(dev->disk);
	mc_cache_drop_dev(dev);
	if (dev->disk) {
		maicache_nl_notify_dev(dev, MAICACHE_CMD_EVT_DEV_REMOVED);
		put_disk(dev->disk);
	}
	mc_dev_free(dev);
	module_put(THIS_MODULE);
	return 0;
}

int mc_dev_init(void)
{
	int ret = mc_read_init();

	if (ret)
		return ret;
	mc_major = register_blkdev(0, "maicache");
	if (mc_major < 0) {
		mc_read_exit();
		return mc_major;
	}
	return 0;
}

void mc_dev_exit(void)
{
	unregister_blkdev(mc_major, "maicache");
	ida_destroy(&mc_ida);
	mc_read_exit();
}
