/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maicache: internal declarations shared by the module's source files.
 */
#ifndef MAICACHE_H
#define MAICACHE_H

#include <linux/skbuff.h>

int maicache_nl_init(void);
void maicache_nl_exit(void);
int maicache_nl_fill_version(struct sk_buff *skb);

#endif /* MAICACHE_H */
