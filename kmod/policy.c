// SPDX-License-Identifier: GPL-2.0
/*
 * maicache eviction policy: S3-FIFO per extent-size class. See policy.h for
 * the model and docs/cache-policy.md for the reasoning.
 *
 * This file is also compiled in user space by tools/sim/policy-sim.c, through
 * tools/sim/policy_user.h: keep the set of kernel helpers it uses small.
 */
#ifdef __KERNEL__
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#endif

#include "policy.h"

/* ---- ghost FIFO ---- */

static struct hlist_head *mc_ghost_bucket(struct mc_ghost *g, u64 key)
{
	return &g->buckets[hash_64(key, ilog2(g->nr_buckets))];
}

static struct mc_ghost_entry *mc_ghost_find(struct mc_ghost *g, u64 key)
{
	struct mc_ghost_entry *e;

	hlist_for_each_entry(e, mc_ghost_bucket(g, key), hnode) {
		if (e->key == key)
			return e;
	}
	return NULL;
}

static void mc_ghost_unhash(struct mc_ghost_entry *e)
{
	hlist_del_init(&e->hnode);
	e->used = false;
}

/* Remember key, forgetting the oldest key when the ring is full. */
static void mc_ghost_add(struct mc_ghost *g, u64 key)
{
	struct mc_ghost_entry *e = &g->entries[g->next];

	if (e->used)
		mc_ghost_unhash(e);
	e->key = key;
	e->used = true;
	hlist_add_head(&e->hnode, mc_ghost_bucket(g, key));
	if (++g->next == g->capacity)
		g->next = 0;
}

/* If key is remembered, forget it and return true. */
static bool mc_ghost_take(struct mc_ghost *g, u64 key)
{
	struct mc_ghost_entry *e = mc_ghost_find(g, key);

	if (!e)
		return false;
	mc_ghost_unhash(e);
	return true;
}

/* ---- queues ---- */

static void mc_queue_add(struct mc_policy *p, struct mc_policy_node *n,
			 u8 queue)
{
	n->queue = queue;
	if (queue == MC_Q_SMALL) {
		list_add(&n->link, &p->small);
		p->nr_small++;
	} else {
		list_add(&n->link, &p->main);
		p->nr_main++;
	}
}

static void mc_queue_del(struct mc_policy *p, struct mc_policy_node *n)
{
	if (n->queue == MC_Q_SMALL)
		p->nr_small--;
	else if (n->queue == MC_Q_MAIN)
		p->nr_main--;
	else
		return;
	list_del_init(&n->link);
	n->queue = MC_Q_NONE;
}

/* The small FIFO's target size: MC_SMALL_PERCENT of capacity, no overflow. */
static u32 mc_small_target(const struct mc_policy *p)
{
	return p->capacity / 100 * MC_SMALL_PERCENT +
	       p->capacity % 100 * MC_SMALL_PERCENT / 100;
}

/* ---- API ---- */

int mc_policy_init(struct mc_policy *p, u32 ghost_capacity)
{
	struct mc_ghost *g = &p->ghost;

	INIT_LIST_HEAD(&p->small);
	INIT_LIST_HEAD(&p->main);
	p->nr_small = 0;
	p->nr_main = 0;
	p->capacity = 0;

	if (!ghost_capacity)
		ghost_capacity = 1;
	g->capacity = ghost_capacity;
	/* hash_64() wants at least one bit. */
	g->nr_buckets = ghost_capacity < 2 ? 2 :
			roundup_pow_of_two(ghost_capacity);
	g->next = 0;
	g->entries = kvcalloc(g->capacity, sizeof(*g->entries), GFP_KERNEL);
	g->buckets = kvcalloc(g->nr_buckets, sizeof(*g->buckets), GFP_KERNEL);
	if (!g->entries || !g->buckets) {
		mc_policy_destroy(p);
		return -ENOMEM;
	}
	return 0;
}

void mc_policy_destroy(struct mc_policy *p)
{
	kvfree(p->ghost.entries);
	kvfree(p->ghost.buckets);
	p->ghost.entries = NULL;
	p->ghost.buckets = NULL;
}

void mc_policy_set_capacity(struct mc_policy *p, u32 capacity)
{
	p->capacity = capacity;
}

void mc_policy_insert(struct mc_policy *p, struct mc_policy_node *n, u64 key,
		      u32 off, u32 len)
{
	n->key = key;
	WRITE_ONCE(n->freq, 0);
	WRITE_ONCE(n->next_off, off + len);
	if (mc_ghost_take(&p->ghost, key))
		mc_queue_add(p, n, MC_Q_MAIN);
	else
		mc_queue_add(p, n, MC_Q_SMALL);
}

void mc_policy_hit(struct mc_policy_node *n, u32 off, u32 len)
{
	u8 freq;

	if (off != READ_ONCE(n->next_off)) {
		freq = READ_ONCE(n->freq);
		if (freq < MC_FREQ_MAX)
			WRITE_ONCE(n->freq, freq + 1);
	}
	WRITE_ONCE(n->next_off, off + len);
}

void mc_policy_remove(struct mc_policy *p, struct mc_policy_node *n)
{
	mc_queue_del(p, n);
}

/*
 * small_refused and main_refused count the refusals in a row in each queue:
 * once a queue has refused as many times in a row as it has nodes, every node
 * in it is busy and only the other queue can still yield a victim.
 */
struct mc_policy_node *mc_policy_evict(struct mc_policy *p,
				       bool (*can_evict)(struct mc_policy_node *n,
							 void *arg),
				       void *arg)
{
	u64 budget = (u64)(p->nr_small + p->nr_main) * (MC_FREQ_MAX + 3) + 2;
	u32 small_refused = 0, main_refused = 0;
	struct mc_policy_node *n;
	bool small_done, main_done;
	u8 freq;

	while (budget--) {
		small_done = !p->nr_small || small_refused >= p->nr_small;
		main_done = !p->nr_main || main_refused >= p->nr_main;
		if (small_done && main_done)
			break;

		if (!small_done &&
		    (main_done || p->nr_small > mc_small_target(p))) {
			n = list_last_entry(&p->small, struct mc_policy_node,
					    link);
			if (READ_ONCE(n->freq) >= 1) {
				mc_queue_del(p, n);
				WRITE_ONCE(n->freq, 0);
				mc_queue_add(p, n, MC_Q_MAIN);
				small_refused = 0;
				main_refused = 0;
				continue;
			}
			if (can_evict(n, arg)) {
				mc_queue_del(p, n);
				mc_ghost_add(&p->ghost, n->key);
				return n;
			}
			list_move(&n->link, &p->small);
			small_refused++;
			continue;
		}

		n = list_last_entry(&p->main, struct mc_policy_node, link);
		freq = READ_ONCE(n->freq);
		if (freq > 0) {
			WRITE_ONCE(n->freq, freq - 1);
			list_move(&n->link, &p->main);
			main_refused = 0;
			continue;
		}
		if (can_evict(n, arg)) {
			mc_queue_del(p, n);
			return n;
		}
		list_move(&n->link, &p->main);
		main_refused++;
	}
	return NULL;
}
