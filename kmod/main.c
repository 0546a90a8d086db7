// SPDX-License-Identifier: GPL-2.0
/*
 * maicache: node-local read cache for AI clusters.
 *
 * The module exposes /dev/maicacheN block devices whose hot extents live in
 * a host DRAM pool; this file ties the pieces together at load and unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "maicache.h"
#include "maicache_version.h"

static unsigned long long mc_pool_mb = 256;
module_param_named(pool_mb, mc_pool_mb, ullong, 0444);
MODULE_PARM_DESC(pool_mb,
		 "DRAM pool size in MiB, a multiple of 4, shared by all devices; resizable over netlink while no device exists (default: 256)");

static int __init maicache_init(void)
{
	int ret;

	ret = mc_pool_create(mc_pool_mb << 20, mc_cache_unindex, &mc_pool);
	if (ret) {
		pr_err("cannot create a %llu MiB pool: %d\n", mc_pool_mb, ret);
		return ret;
	}
	ret = mc_dev_init();
	if (ret)
		goto err_pool;
	ret = mc_ring_init();
	if (ret)
		goto err_dev;
	ret = maicache_nl_init();
	if (ret) {
		pr_err("cannot register generic netlink family: %d\n", ret);
		goto err_ring;
	}
	pr_info("version %s loaded, pool %llu MiB (%u of %u segments contiguous)\n",
		MAICACHE_VERSION, mc_pool->size >> 20, mc_pool->nr_contig,
		mc_pool->nr_segments);
	return 0;

err_ring:
	mc_ring_exit();
err_dev:
	mc_dev_exit();
err_pool:
	mc_pool_put(mc_pool);
	return ret;
}

/* Devices hold module references, so none is left here. */
static void __exit maicache_exit(void)
{
	maicache_nl_exit();
	mc_ring_exit();
	mc_dev_exit();
	mc_pool_put(mc_pool);
	pr_info("unloaded\n");
}

module_init(maicache_init);
module_exit(maicache_exit);

MODULE_DESCRIPTION("maicache: DRAM read cache block devices for AI clusters");
MODULE_LICENSE("GPL");
MODULE_VERSION(MAICACHE_VERSION);
