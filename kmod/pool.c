// SPDX-License-Identifier: GPL-2.0
/*
 * maicache DRAM pool: one per host, shared by all devices, fixed in size.
 *
 * The pool is cut into 4 MiB segments. A segment is handed to one
 * extent-size class when that class needs room and is cut into slots of its
 * size. A segment whose every slot is free again (its devices removed, its
 * fills failed) goes back to the pool at once, and a class short of room
 * takes one holding idle extents from the class with the most. Within a
 * class, the eviction policy picks victims. Slot metadata lives in an array
 * with one entry per 64 KiB unit, so a slot's index in the ring ABI and its
 * offset in the pool convert with a shift.
 *
 * Each segment is one physically contiguous block in the kernel's linear
 * map when the allocator has one (hits then copy from memory mapped with
 * large pages, as a RAM disk's are), else 4 MiB of vmalloc space. Either
 * way its pages are ordinary order-0 pages that the daemon maps one by one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "maicache.h"
#include "maicache_ring.h"

struct mc_pool *mc_pool;

static inline struct mc_slot *node_to_slot(struct mc_policy_node *n)
{
	return container_of(n, struct mc_slot, pnode);
}

static inline u32 class_shift(u32 class)
{
	return class + MC_UNIT_SHIFT;
}

static inline u32 slots_per_segment(u32 class)
{
	return 1U << (MC_SEG_SHIFT - class_shift(class));
}

u32 mc_slot_index(struct mc_slot *slot)
{
	return slot - mc_pool->slots;
}

u64 mc_slot_offset(struct mc_slot *slot)
{
	return (u64)mc_slot_index(slot) << MC_UNIT_SHIFT;
}

/*
 * The slot a ring id names, or NULL if the index is not the first unit of a
 * slot of a segment in use.
 */
struct mc_slot *mc_slot_from_index(struct mc_pool *pool, u32 index)
{
	u32 units_per_seg = BIT(MC_SEG_SHIFT - MC_UNIT_SHIFT);
	s8 class;

	if (index >= pool->nr_units)
		return NULL;
	class = READ_ONCE(pool->seg_class[index / units_per_seg]);
	if (class < 0)
		return NULL;
	if (index & ((1U << class) - 1))
		return NULL;
	return &pool->slots[index];
}

static inline u32 mc_slot_seg(struct mc_pool *pool, struct mc_slot *slot)
{
	return (slot - pool->slots) >> (MC_SEG_SHIFT - MC_UNIT_SHIFT);
}

static void mc_slot_init_free(struct mc_class *c, struct mc_slot *slot,
			      u32 class)
{
	slot->state = MC_SLOT_FREE;
	slot->class = class;
	slot->dev = NULL;
	atomic_set(&slot->ref, 0);
	slot->pnode.queue = MC_Q_NONE;
	list_add_tail(&slot->pnode.link, &c->free);
}

/* Take a free segment for class. Called with c->lock held. */
static bool mc_class_grow(struct mc_pool *pool, struct mc_class *c, u32 class)
{
	u32 seg, i, first;

	spin_lock(&pool->seg_lock);
	for (seg = 0; seg < pool->nr_segments; seg++)
		if (pool->seg_class[seg] < 0)
			break;
	if (seg == pool->nr_segments) {
		spin_unlock(&pool->seg_lock);
		return false;
	}
	WRITE_ONCE(pool->seg_class[seg], class);
	spin_unlock(&pool->seg_lock);

	first = seg << (MC_SEG_SHIFT - MC_UNIT_SHIFT);
	for (i = 0; i < slots_per_segment(class); i++)
		mc_slot_init_free(c, &pool->slots[first + (i << class)], class);
	c->nr_segments++;
	mc_policy_set_capacity(&c->policy, c->nr_segments * slots_per_segment(class));
	return true;
}

/*
 * Give segment seg of class c back to the pool: every slot in it is free and
 * on c's free list. Called with c->lock held.
 */
static void mc_seg_release(struct mc_pool *pool, struct mc_class *c,
			   u32 class, u32 seg)
{
	u32 first = seg << (MC_SEG_SHIFT - MC_UNIT_SHIFT);
	u32 i, per_seg = slots_per_segment(class);

	for (i = 0; i < per_seg; i++)
		list_del(&pool->slots[first + (i << class)].pnode.link);
	c->nr_segments--;
	mc_policy_set_capacity(&c->policy, c->nr_segments * per_seg);
	spin_lock(&pool->seg_lock);
	WRITE_ONCE(pool->seg_class[seg], -1);
	spin_unlock(&pool->seg_lock);
}

/*
 * A slot not in the cache goes back to its class's free list, and its
 * segment to the pool when that was the segment's last slot in use. Called
 * with c->lock held.
 */
static void mc_slot_free(struct mc_pool *pool, struct mc_class *c,
			 struct mc_slot *slot)
{
	u32 seg = mc_slot_seg(pool, slot);

	slot->state = MC_SLOT_FREE;
	slot->dev = NULL;
	list_add(&slot->pnode.link, &c->free);
	c->nr_used--;
	if (!--pool->seg_used[seg])
		mc_seg_release(pool, c, slot->class, seg);
}

static bool mc_claim(struct mc_policy_node *n, void *arg)
{
	struct mc_slot *slot = node_to_slot(n);

	return READ_ONCE(slot->state) == MC_SLOT_READY &&
	       atomic_cmpxchg(&slot->ref, 1, 0) == 1;
}

/*
 * Give one whole segment of class d back to the pool if every slot in it is
 * free or an idle cached extent. Called with d->lock held.
 */
static bool mc_class_shrink(struct mc_pool *pool, struct mc_class *d, u32 class)
{
	u32 per_seg = slots_per_segment(class);
	u32 seg, i, first;

	for (seg = 0; seg < pool->nr_segments; seg++) {
		if (READ_ONCE(pool->seg_class[seg]) != class)
			continue;
		first = seg << (MC_SEG_SHIFT - MC_UNIT_SHIFT);
		for (i = 0; i < per_seg; i++) {
			struct mc_slot *s = &pool->slots[first + (i << class)];

			if (s->state != MC_SLOT_FREE && !mc_claim(&s->pnode, NULL))
				break;
		}
		if (i == per_seg)
			goto release;
		/* Undo the claims made before the busy slot. */
		while (i--) {
			struct mc_slot *s = &pool->slots[first + (i << class)];

			if (s->state == MC_SLOT_READY)
				atomic_set(&s->ref, 1);
		}
	}
	return false;

release:
	/* The last slot freed gives the segment back (mc_slot_free()). */
	for (i = 0; i < per_seg; i++) {
		struct mc_slot *s = &pool->slots[first + (i << class)];

		if (s->state == MC_SLOT_FREE)
			continue;
		mc_policy_remove(&d->policy, &s->pnode);
		pool->unindex(s, true);
		mc_slot_free(pool, d, s);
	}
	/* A segment with no slot in use had none to free. */
	if (READ_ONCE(pool->seg_class[seg]) == class)
		mc_seg_release(pool, d, class, seg);
	return true;
}

/* Take a segment from the class holding the most, other than class. */
static bool mc_pool_steal(struct mc_pool *pool, u32 class)
{
	struct mc_class *d;
	u32 i, best = MC_NR_CLASSES, most = 0;
	bool ok;

	for (i = 0; i < MC_NR_CLASSES; i++) {
		u32 n = READ_ONCE(pool->classes[i].nr_segments);

		if (i != class && n > most) {
			most = n;
			best = i;
		}
	}
	if (best == MC_NR_CLASSES)
		return false;
	d = &pool->classes[best];
	spin_lock(&d->lock);
	ok = mc_class_shrink(pool, d, best);
	spin_unlock(&d->lock);
	return ok;
}

/* Whether class holds less than an even share of the pool's segments. */
static bool mc_class_below_share(struct mc_pool *pool, struct mc_class *c)
{
	u32 i, active = 1;

	for (i = 0; i < MC_NR_CLASSES; i++)
		if (&pool->classes[i] != c && READ_ONCE(pool->classes[i].nr_segments))
			active++;
	return c->nr_segments < pool->nr_segments / active;
}

static struct mc_slot *mc_class_take(struct mc_pool *pool, struct mc_class *c,
				     u32 class)
{
	struct mc_policy_node *victim;
	struct mc_slot *slot;

	slot = list_first_entry_or_null(&c->free, struct mc_slot, pnode.link);
	if (slot || mc_class_grow(pool, c, class)) {
		slot = list_first_entry(&c->free, struct mc_slot, pnode.link);
		list_del(&slot->pnode.link);
		c->nr_used++;
		pool->seg_used[mc_slot_seg(pool, slot)]++;
		return slot;
	}
	victim = mc_policy_evict(&c->policy, mc_claim, NULL);
	if (!victim)
		return NULL;
	slot = node_to_slot(victim);
	pool->unindex(slot, true);
	return slot;
}

static void mc_slot_setup(struct mc_class *c, struct mc_slot *slot,
			  struct mc_dev *dev, u64 extent, bool part, u32 off,
			  u32 len)
{
	u8 shift = mc_slot_shift(dev, part);
	u64 start = extent << shift;

	slot->dev = dev;
	slot->extent = extent;
	slot->part = part;
	slot->len = min_t(u64, dev->size - start, 1ULL << shift);
	slot->gen++;
	slot->state = MC_SLOT_FILLING;
	slot->fill_sent = false;
	slot->held_fill = false;
	slot->flags = 0;
	INIT_LIST_HEAD(&slot->waiters);
	mc_policy_insert(&c->policy, &slot->pnode,
			 dev->key_base + (part ? MC_PART_KEY | extent : extent),
			 off, len);
	/* Readers that win atomic_inc_not_zero() must see the fields above. */
	smp_mb__before_atomic();
	atomic_set(&slot->ref, 3);
}

/*
 * A slot for (dev, extent), or for part @extent of dev when @part, in
 * state FILLING with three references: the index (the caller inserts it),
 * the caller's read and the fill. NULL when every slot of the class is
 * busy and no segment can be taken.
 */
struct mc_slot *mc_pool_alloc_slot(struct mc_pool *pool, struct mc_dev *dev,
				   u64 extent, bool part, u32 off, u32 len)
{
	u32 class = mc_slot_shift(dev, part) - MC_UNIT_SHIFT;
	struct mc_class *c = &pool->classes[class];
	struct mc_slot *slot;

	spin_lock(&c->lock);
	/*
	 * Below an even share, take room from others before evicting our own;
	 * but a free segment first, evicting nothing.
	 */
	if (list_empty(&c->free) && !mc_class_grow(pool, c, class) &&
	    mc_class_below_share(pool, c)) {
		spin_unlock(&c->lock);
		mc_pool_steal(pool, class);
		spin_lock(&c->lock);
	}
	slot = mc_class_take(pool, c, class);
	if (!slot) {
		spin_unlock(&c->lock);
		if (!mc_pool_steal(pool, class))
			return NULL;
		spin_lock(&c->lock);
		slot = mc_class_take(pool, c, class);
	}
	if (slot)
		mc_slot_setup(c, slot, dev, extent, part, off, len);
	spin_unlock(&c->lock);
	return slot;
}

/* Drop a reference; the last one returns the slot to its class. */
void mc_slot_put(struct mc_slot *slot)
{
	struct mc_class *c;

	if (!atomic_dec_and_test(&slot->ref))
		return;
	c = &mc_pool->classes[slot->class];
	spin_lock(&c->lock);
	if (slot->pnode.queue != MC_Q_NONE)
		mc_policy_remove(&c->policy, &slot->pnode);
	mc_slot_free(mc_pool, c, slot);
	spin_unlock(&c->lock);
}

/*
 * Take an idle cached extent out of the cache (device removal). True if it
 * is gone, including when the evictor took it first; false if it is in use.
 */
bool mc_slot_reclaim(struct mc_slot *slot, struct mc_dev *dev, u64 extent,
		     bool part)
{
	struct mc_class *c = &mc_pool->classes[slot->class];
	bool ok = true;

	spin_lock(&c->lock);
	/* Evicted or failed (and so unindexed) already, maybe reused. */
	if (slot->dev != dev || slot->extent != extent || slot->part != part)
		goto out;
	ok = mc_claim(&slot->pnode, NULL);
	if (ok) {
		mc_pool->unindex(slot, false);
		mc_policy_remove(&c->policy, &slot->pnode);
		mc_slot_free(mc_pool, c, slot);
	}
out:
	spin_unlock(&c->lock);
	return ok;
}

u64 mc_pool_used_bytes(struct mc_pool *pool)
{
	u64 used = 0;
	u32 i;

	for (i = 0; i < MC_NR_CLASSES; i++)
		used += (u64)READ_ONCE(pool->classes[i].nr_used) << class_shift(i);
	return used;
}

#define MC_SEG_ORDER	(MC_SEG_SHIFT - PAGE_SHIFT)
#define MC_SEG_GFP	(GFP_KERNEL | __GFP_ZERO | __GFP_NORETRY | __GFP_NOWARN)

/*
 * One zeroed segment: a contiguous block if @contig and one is free without
 * reclaim effort, else vmalloc space. The block is split into order-0 pages
 * so that each can be mapped and pinned on its own.
 */
void *mc_seg_alloc(bool contig, u32 *nr_contig)
{
	struct page *page = NULL;

	if (contig)
		page = alloc_pages(MC_SEG_GFP, MC_SEG_ORDER);
	if (!page)
		return __vmalloc(BIT(MC_SEG_SHIFT), MC_SEG_GFP);
	split_page(page, MC_SEG_ORDER);
	(*nr_contig)++;
	return page_address(page);
}

void mc_seg_free(void *mem)
{
	struct page *page;
	u32 i;

	if (is_vmalloc_addr(mem)) {
		vfree(mem);
		return;
	}
	page = virt_to_page(mem);
	for (i = 0; i < BIT(MC_SEG_ORDER); i++)
		__free_page(page + i);
}

static void mc_pool_free_mem(struct mc_pool *pool)
{
	u32 i;

	if (!pool->seg_mem)
		return;
	for (i = 0; i < pool->nr_segments && pool->seg_mem[i]; i++)
		mc_seg_free(pool->seg_mem[i]);
	kvfree(pool->seg_mem);
}

/* Ghost FIFO length per class: its slot count, bounded to keep memory small. */
#define MC_GHOST_MAX	BIT(16)

int mc_pool_create(u64 size, mc_unindex_fn unindex, struct mc_pool **out)
{
	u64 avail = (u64)si_mem_available() << PAGE_SHIFT;
	struct mc_pool *pool;
	u32 i;
	int ret = -ENOMEM;

	size = round_down(size, 1ULL << MC_SEG_SHIFT);
	if (!size)
		return -EINVAL;
	/* A cache must never push the node into OOM: keep an eighth free. */
	if (size > avail - (avail >> 3))
		return -ENOSPC;
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return -ENOMEM;
	kref_init(&pool->kref);
	pool->unindex = unindex;
	spin_lock_init(&pool->seg_lock);
	pool->size = size;
	pool->nr_segments = size >> MC_SEG_SHIFT;
	pool->nr_units = size >> MC_UNIT_SHIFT;
	pool->seg_mem = kvcalloc(pool->nr_segments, sizeof(*pool->seg_mem),
				 GFP_KERNEL);
	pool->slots = kvcalloc(pool->nr_units, sizeof(*pool->slots),
			       GFP_KERNEL);
	pool->seg_class = kvmalloc(pool->nr_segments, GFP_KERNEL);
	/* A segment has 64 slots at most: a u8 counts them. */
	BUILD_BUG_ON(BIT(MC_SEG_SHIFT - MC_UNIT_SHIFT) > U8_MAX);
	pool->seg_used = kvcalloc(pool->nr_segments, sizeof(*pool->seg_used),
				  GFP_KERNEL);
	if (!pool->seg_mem || !pool->slots || !pool->seg_class || !pool->seg_used)
		goto err;
	for (i = 0; i < pool->nr_segments; i++) {
		pool->seg_mem[i] = mc_seg_alloc(true, &pool->nr_contig);
		if (!pool->seg_mem[i])
			goto err;
	}
	memset(pool->seg_class, -1, pool->nr_segments);
	for (i = 0; i < pool->nr_units; i++) {
		spin_lock_init(&pool->slots[i].lock);
		INIT_LIST_HEAD(&pool->slots[i].waiters);
		INIT_LIST_HEAD(&pool->slots[i].fill_link);
		pool->slots[i].pnode.queue = MC_Q_NONE;
	}
	for (i = 0; i < MC_NR_CLASSES; i++) {
		struct mc_class *c = &pool->classes[i];

		spin_lock_init(&c->lock);
		INIT_LIST_HEAD(&c->free);
		ret = mc_policy_init(&c->policy,
				     min_t(u64, size >> class_shift(i), MC_GHOST_MAX));
		if (ret)
			goto err_policy;
	}
	*out = pool;
	return 0;

err_policy:
	while (i--)
		mc_policy_destroy(&pool->classes[i].policy);
err:
	mc_pool_free_mem(pool);
	kvfree(pool->seg_used);
	kvfree(pool->seg_class);
	kvfree(pool->slots);
	kfree(pool);
	return ret;
}

static void mc_pool_release(struct kref *kref)
{
	struct mc_pool *pool = container_of(kref, struct mc_pool, kref);
	u32 i;

	for (i = 0; i < MC_NR_CLASSES; i++)
		mc_policy_destroy(&pool->classes[i].policy);
	mc_pool_free_mem(pool);
	kvfree(pool->seg_used);
	kvfree(pool->seg_class);
	kvfree(pool->slots);
	kfree(pool);
}

void mc_pool_put(struct mc_pool *pool)
{
	if (pool)
		kref_put(&pool->kref, mc_pool_release);
}

/* True while a mapping (the daemon, an RDMA registration) holds the pool. */
bool mc_pool_mapped(struct mc_pool *pool)
{
	return kref_read(&pool->kref) > 1;
}

/*
 * Make @pool the pool and free the old one. The caller holds the ring idle
 * (no daemon, no fill) and has no device; -EBUSY while a mapping still
 * addresses the old memory, and then @pool is left to the caller.
 */
int mc_pool_replace(struct mc_pool *pool)
{
	struct mc_pool *old = mc_pool;

	if (old && mc_pool_mapped(old))
		return -EBUSY;
	mc_pool = pool;
	mc_pool_put(old);
	/* As at load: segments outside the linear map cost hits a TLB entry each. */
	pr_info("pool resized to %llu MiB (%u of %u segments contiguous)\n",
		pool->size >> 20, pool->nr_contig, pool->nr_segments);
	return 0;
}

static void mc_pool_vm_open(struct vm_area_struct *vma)
{
	struct mc_pool *pool = vma->vm_private_data;

	kref_get(&pool->kref);
}

static void mc_pool_vm_close(struct vm_area_struct *vma)
{
	mc_pool_put(vma->vm_private_data);
}

/* The page holding the pool's byte @off, whichever way its segment came. */
struct page *mc_pool_page(struct mc_pool *pool, u64 off)
{
	void *addr = mc_pool_addr(pool, off);

	return is_vmalloc_addr(addr) ? vmalloc_to_page(addr) : virt_to_page(addr);
}

/*
 * Pages are handed out one by one: they are ordinary pages in an ordinary
 * shared mapping, which is what ibv_reg_mr() needs to pin them for RDMA.
 */
static vm_fault_t mc_pool_vm_fault(struct vm_fault *vmf)
{
	struct mc_pool *pool = vmf->vma->vm_private_data;
	unsigned long pgoff = vmf->pgoff - (MAICACHE_MMAP_POOL >> PAGE_SHIFT);
	struct page *page;

	if (pgoff >= pool->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = mc_pool_page(pool, (u64)pgoff << PAGE_SHIFT);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mc_pool_vm_ops = {
	.open	= mc_pool_vm_open,
	.close	= mc_pool_vm_close,
	.fault	= mc_pool_vm_fault,
};

int mc_pool_mmap(struct mc_pool *pool, struct vm_area_struct *vma)
{
	unsigned long pgoff = vma->vm_pgoff - (MAICACHE_MMAP_POOL >> PAGE_SHIFT);
	unsigned long pages = vma_pages(vma);

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (pgoff > pool->size >> PAGE_SHIFT ||
	    pages > (pool->size >> PAGE_SHIFT) - pgoff)
		return -EINVAL;
	mc_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, 0);
	vma->vm_ops = &mc_pool_vm_ops;
	vma->vm_private_data = pool;
	kref_get(&pool->kref);
	return 0;
}
