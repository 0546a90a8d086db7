// SPDX-License-Identifier: GPL-2.0
/*
 * maicache: node-local read cache for AI clusters.
 *
 * The module exposes /dev/maicacheN block devices whose hot extents live in
 * host DRAM; this file only ties the pieces together at load and unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "maicache.h"
#include "maicache_version.h"

static int __init maicache_init(void)
{
	int ret;

	ret = maicache_nl_init();
	if (ret) {
		pr_err("cannot register generic netlink family: %d\n", ret);
		return ret;
	}
	pr_info("version %s loaded\n", MAICACHE_VERSION);
	return 0;
}

static void __exit maicache_exit(void)
{
	maicache_nl_exit();
	pr_info("unloaded\n");
}

module_init(maicache_init);
module_exit(maicache_exit);

MODULE_DESCRIPTION("maicache: DRAM read cache block devices for AI clusters");
MODULE_LICENSE("GPL");
MODULE_VERSION(MAICACHE_VERSION);
