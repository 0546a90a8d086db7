// SPDX-License-Identifier: GPL-2.0
/*
 * maicache miss ring: /dev/maicache, the daemon's side of the cache.
 *
 * Fills wait on a pending list until the ring has room, then move to the
 * in-flight list when their miss entry is written. The ring belongs to the
 * module, not to the daemon: when the daemon goes away, its in-flight fills
 * go back to pending and wait for the next daemon, up to
 * mc_daemon_timeout_ms, then fail with EIO.
 *
 * Nothing the daemon writes is trusted. Its indices are bounds-checked, and
 * each completion must name a slot whose miss is in flight with the same
 * generation; anything else is counted in bad_completions and dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "maicache.h"
#include "maicache_ring.h"

unsigned int mc_daemon_timeout_ms = 30000;
module_param_named(daemon_timeout_ms, mc_daemon_timeout_ms, uint, 0644);
MODULE_PARM_DESC(daemon_timeout_ms,
		 "How long misses wait for a daemon before failing with EIO, in ms (default: 30000)");

static unsigned int mc_ring_entries = 4096;
module_param_named(ring_entries, mc_ring_entries, uint, 0444);
MODULE_PARM_DESC(ring_entries,
		 "Entries in the miss and completion rings, a power of two (default: 4096)");

static_assert(sizeof(struct maicache_miss_hdr) == 192);
static_assert(offsetof(struct maicache_miss_hdr, head) == 64);
static_assert(offsetof(struct maicache_miss_hdr, cpl_tail) == 128);
static_assert(sizeof(struct maicache_cpl_hdr) == 128);
static_assert(offsetof(struct maicache_cpl_hdr, miss_tail) == 64);
static_assert(sizeof(struct maicache_miss) == 48);
static_assert(sizeof(struct maicache_cpl) == 16);

#define MC_STATUS_MAX	4095	/* largest errno a completion may carry */

struct mc_ring {
	struct maicache_miss_hdr *miss_hdr;	/* region MAICACHE_MMAP_MISS */
	struct maicache_miss *miss;
	struct maicache_cpl_hdr *cpl_hdr;	/* region MAICACHE_MMAP_CPL */
	struct maicache_cpl *cpl;
	size_t miss_bytes;
	size_t cpl_bytes;
	u32 entries;

	spinlock_t lock;		/* everything below */
	struct list_head pending;	/* fills not on the ring yet */
	struct list_head inflight;	/* fills the daemon was told about */
	u32 miss_head;			/* kernel-private copies of the indices */
	u32 cpl_tail;
	bool attached;
	bool held;			/* mc_ring_hold_idle(): no attach */
	u32 pid;
	bool unwoken;			/* misses written since the last wakeup */

	struct mutex cpl_mutex;		/* one completion reader at a time */
	wait_queue_head_t wq;
	struct delayed_work timeout_work;
	atomic64_t bad_completions;
};

static struct mc_ring mc_ring;

u64 mc_ring_bad_completions(void)
{
	return atomic64_read(&mc_ring.bad_completions);
}

bool mc_ring_attached(u32 *pid)
{
	bool attached;

	spin_lock(&mc_ring.lock);
	attached = mc_ring.attached;
	if (pid)
		*pid = mc_ring.pid;
	spin_unlock(&mc_ring.lock);
	return attached;
}

/*
 * 0 if the caller is the attached daemon: -ENOTCONN when none is, -EPERM
 * for anyone else. What the daemon asks for by name (held.c) is its own
 * and ends when it detaches.
 */
int mc_ring_daemon_check(void)
{
	u32 pid;

	if (!mc_ring_attached(&pid))
		return -ENOTCONN;
	return pid == task_tgid_nr(current) ? 0 : -EPERM;
}

static void mc_ring_bad(const char *what)
{
	atomic64_inc(&mc_ring.bad_completions);
	pr_warn_ratelimited("rejected from the daemon: %s\n", what);
}

/* Drop the fill reference of a slot taken off the ring's lists. */
static void mc_ring_release_fill(struct mc_slot *slot, int status)
{
	mc_slot_resolve(slot, status);
	mc_slot_put(slot);
}

/*
 * Write a miss entry for the slot. False if the fill is orphaned (its
 * device went away) and must be dropped instead.
 */
static bool mc_ring_write_miss(struct mc_ring *r, struct mc_slot *slot)
{
	struct maicache_miss *e = &r->miss[r->miss_head & (r->entries - 1)];
	struct mc_dev *dev;

	spin_lock(&slot->lock);
	if (slot->state != MC_SLOT_FILLING) {
		spin_unlock(&slot->lock);
		return false;
	}
	dev = slot->dev;
	e->id = cpu_to_le64((u64)slot->gen << 32 | mc_slot_index(slot));
	e->cookie = cpu_to_le64(dev->cookie);
	e->extent = cpu_to_le64(slot->extent);
	e->slot_off = cpu_to_le64(mc_slot_offset(slot));
	e->len = cpu_to_le32(slot->len);
	e->extent_shift = cpu_to_le32(dev->extent_shift);
	e->dev_id = cpu_to_le32(dev->id);
	e->flags = cpu_to_le32(slot->part ? MAICACHE_MISS_PART : 0);
	spin_unlock(&slot->lock);
	return true;
}

/* Move pending fills onto the ring while it has room. Under r->lock. */
static void mc_ring_flush(struct mc_ring *r, struct list_head *orphans)
{
	struct mc_slot *slot, *tmp;
	u32 tail, used;
	bool wrote = false;

	if (!r->attached || list_empty(&r->pending))
		return;
	tail = le32_to_cpu(READ_ONCE(r->cpl_hdr->miss_tail));
	used = r->miss_head - tail;
	if (used > r->entries) {
		/* The daemon's consumer index is garbage: send nothing. */
		mc_ring_bad("miss_tail out of range");
		return;
	}
	list_for_each_entry_safe(slot, tmp, &r->pending, fill_link) {
		if (used == r->entries)
			break;
		if (!mc_ring_write_miss(r, slot)) {
			list_move_tail(&slot->fill_link, orphans);
			continue;
		}
		list_move_tail(&slot->fill_link, &r->inflight);
		slot->fill_sent = true;
		r->miss_head++;
		used++;
		wrote = true;
	}
	if (wrote) {
		/* Entries before the index that publishes them. */
		smp_store_release(&r->miss_hdr->head, cpu_to_le32(r->miss_head));
		WRITE_ONCE(r->unwoken, true);
	}
}

/* Drop the fill references of slots taken off the ring's lists. */
static void mc_ring_put_fills(struct list_head *orphans)
{
	struct mc_slot *slot, *tmp;

	list_for_each_entry_safe(slot, tmp, orphans, fill_link) {
		list_del_init(&slot->fill_link);
		mc_slot_put(slot);
	}
}

/*
 * Take fills whose device went away (no longer FILLING) off the pending
 * list. Under r->lock. Only a slot on a list can be in this state: the
 * daemon answering a fill takes it off its list first.
 */
static void mc_ring_collect_orphans(struct mc_ring *r, struct list_head *orphans)
{
	struct mc_slot *slot, *tmp;

	list_for_each_entry_safe(slot, tmp, &r->pending, fill_link)
		if (READ_ONCE(slot->state) != MC_SLOT_FILLING)
			list_move_tail(&slot->fill_link, orphans);
}

/*
 * A device was removed: free the slots of its fills that no daemon holds.
 * Those a daemon holds are freed when it answers or detaches.
 */
void mc_ring_drop_orphans(void)
{
	struct mc_ring *r = &mc_ring;
	LIST_HEAD(orphans);

	spin_lock(&r->lock);
	mc_ring_collect_orphans(r, &orphans);
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
}

/* Misses were written since the daemon was last woken. Lockless hint. */
bool mc_ring_needs_kick(void)
{
	return READ_ONCE(mc_ring.unwoken);
}

/* Wake the daemon if misses were written since it was last woken. */
void mc_ring_kick(void)
{
	struct mc_ring *r = &mc_ring;
	bool wake;

	/* Most batches are all hits: don't touch the shared lock for them. */
	if (!READ_ONCE(r->unwoken))
		return;
	spin_lock(&r->lock);
	wake = r->unwoken;
	WRITE_ONCE(r->unwoken, false);
	spin_unlock(&r->lock);
	if (wake)
		wake_up_interruptible(&r->wq);
}

/*
 * Hand the slot's fill (and its reference) to the ring. The caller kicks
 * once per batch of reads (mc_ring_kick()).
 */
void mc_ring_queue_fill(struct mc_slot *slot)
{
	struct mc_ring *r = &mc_ring;
	LIST_HEAD(orphans);

	spin_lock(&r->lock);
	slot->fill_sent = false;
	slot->fill_deadline = jiffies + msecs_to_jiffies(mc_daemon_timeout_ms);
	list_add_tail(&slot->fill_link, &r->pending);
	mc_ring_flush(r, &orphans);
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
	if (!mc_ring_attached(NULL))
		mod_delayed_work(system_wq, &r->timeout_work,
				 msecs_to_jiffies(mc_daemon_timeout_ms));
}

/*
 * Take the fill that ring id @id names off the in-flight list: false if
 * @slot has no fill in flight of that generation (stale or made up).
 */
static bool mc_ring_take_fill(struct mc_ring *r, struct mc_slot *slot, u64 id)
{
	bool ok = false;

	spin_lock(&r->lock);
	if (slot->fill_sent && READ_ONCE(slot->gen) == (u32)(id >> 32)) {
		list_del_init(&slot->fill_link);
		slot->fill_sent = false;
		ok = true;
	}
	spin_unlock(&r->lock);
	return ok;
}

/*
 * Hand a held fill (held.c) straight to the daemon that asked for it: in
 * flight at once, with no miss entry; *id is what its completion names.
 * -ENOTCONN if that daemon is gone (the fill is the caller's to fail).
 */
int mc_ring_start_fill(struct mc_slot *slot, u64 *id)
{
	struct mc_ring *r = &mc_ring;
	int ret = -ENOTCONN;

	spin_lock(&r->lock);
	if (r->attached && r->pid == task_tgid_nr(current)) {
		slot->held_fill = true;
		slot->fill_sent = true;
		list_add_tail(&slot->fill_link, &r->inflight);
		*id = (u64)slot->gen << 32 | mc_slot_index(slot);
		ret = 0;
	}
	spin_unlock(&r->lock);
	return ret;
}

/* Fail a fill in flight as if the daemon had: it could not learn of it. */
void mc_ring_cancel_fill(u64 id)
{
	struct mc_slot *slot = mc_slot_from_index(mc_pool, (u32)id);

	if (slot && mc_ring_take_fill(&mc_ring, slot, id))
		mc_ring_release_fill(slot, -ECANCELED);
}

/* Fail the fills that waited longer than the timeout for a daemon. */
static void mc_ring_timeout_fn(struct work_struct *work)
{
	struct mc_ring *r = &mc_ring;
	unsigned long next = 0;
	struct mc_slot *slot, *tmp;
	LIST_HEAD(expired);

	spin_lock(&r->lock);
	if (r->attached) {
		spin_unlock(&r->lock);
		return;
	}
	list_for_each_entry_safe(slot, tmp, &r->pending, fill_link) {
		if (time_after_eq(jiffies, slot->fill_deadline))
			list_move_tail(&slot->fill_link, &expired);
		else if (!next || time_before(slot->fill_deadline, next))
			next = slot->fill_deadline;
	}
	spin_unlock(&r->lock);

	list_for_each_entry_safe(slot, tmp, &expired, fill_link) {
		list_del_init(&slot->fill_link);
		mc_ring_release_fill(slot, -ETIMEDOUT);
	}
	if (next)
		mod_delayed_work(system_wq, &r->timeout_work,
				 max_t(long, next - jiffies, 1));
}

/* One completion entry from the daemon, copied out of shared memory. */
static void mc_ring_complete(struct mc_ring *r, u64 id, u32 status, u32 flags)
{
	struct mc_slot *slot = mc_slot_from_index(mc_pool, (u32)id);

	if (!slot) {
		mc_ring_bad("completion for no slot");
		return;
	}
	if (!mc_ring_take_fill(r, slot, id)) {
		mc_ring_bad("completion for no fill in flight");
		return;
	}
	/* A malformed answer to a real miss fails that fill only. */
	if (flags || status > MC_STATUS_MAX) {
		mc_ring_bad("malformed completion");
		status = EIO;
	}
	mc_ring_release_fill(slot, status ? -EIO : 0);
}

/* Consume the completions the daemon posted. */
static void mc_ring_reap(struct mc_ring *r)
{
	u32 head, n, i;

	mutex_lock(&r->cpl_mutex);
	/* Pairs with the daemon's release: entries up to head are written. */
	head = le32_to_cpu(smp_load_acquire(&r->cpl_hdr->head));
	n = head - r->cpl_tail;
	if (n > r->entries) {
		mc_ring_bad("completion head out of range");
		n = 0;
	}
	for (i = 0; i < n; i++) {
		struct maicache_cpl *e = &r->cpl[(r->cpl_tail + i) & (r->entries - 1)];

		mc_ring_complete(r, le64_to_cpu(READ_ONCE(e->id)),
				 le32_to_cpu(READ_ONCE(e->status)),
				 le32_to_cpu(READ_ONCE(e->flags)));
	}
	/* A garbage head is skipped over, so the ring stays usable. */
	r->cpl_tail = head;
	/* The entries are read before the daemon may reuse them. */
	smp_store_release(&r->miss_hdr->cpl_tail, cpu_to_le32(head));
	mutex_unlock(&r->cpl_mutex);
}

static void mc_ring_reset(struct mc_ring *r)
{
	memset(r->miss_hdr, 0, sizeof(*r->miss_hdr));
	memset(r->cpl_hdr, 0, sizeof(*r->cpl_hdr));
	r->miss_hdr->magic = cpu_to_le32(MAICACHE_RING_MAGIC);
	r->miss_hdr->version = cpu_to_le32(MAICACHE_RING_VERSION);
	r->miss_hdr->miss_entries = cpu_to_le32(r->entries);
	r->miss_hdr->cpl_entries = cpu_to_le32(r->entries);
	r->miss_hdr->pool_size = cpu_to_le64(mc_pool->size);
	r->miss_hdr->miss_entry_size = cpu_to_le32(sizeof(struct maicache_miss));
	r->miss_hdr->cpl_entry_size = cpu_to_le32(sizeof(struct maicache_cpl));
	r->miss_head = 0;
	r->cpl_tail = 0;
}

static int mc_ring_open(struct inode *inode, struct file *file)
{
	struct mc_ring *r = &mc_ring;
	LIST_HEAD(orphans);
	u64 seq;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	spin_lock(&r->lock);
	if (r->attached || r->held) {
		spin_unlock(&r->lock);
		return -EBUSY;
	}
	seq = le64_to_cpu(r->miss_hdr->attach_seq) + 1;
	mc_ring_reset(r);
	r->miss_hdr->attach_seq = cpu_to_le64(seq);
	r->attached = true;
	r->pid = task_tgid_nr(current);
	mc_ring_flush(r, &orphans);
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
	maicache_nl_notify_daemon(r->pid, MAICACHE_CMD_EVT_DAEMON_ATTACHED);
	return 0;
}

/* Fail the held fills of a daemon that went away. */
static void mc_ring_fail_fills(struct list_head *fills)
{
	struct mc_slot *slot, *tmp;

	list_for_each_entry_safe(slot, tmp, fills, fill_link) {
		list_del_init(&slot->fill_link);
		mc_ring_release_fill(slot, -EIO);
	}
}

/*
 * The daemon is gone: what it was filling for reads waits for the next
 * one; what it filled or pinned on its own (held.c) ends with it.
 */
static int mc_ring_release(struct inode *inode, struct file *file)
{
	struct mc_ring *r = &mc_ring;
	struct mc_slot *slot, *tmp;
	unsigned long deadline;
	LIST_HEAD(orphans);
	LIST_HEAD(held);
	u32 pid;

	spin_lock(&r->lock);
	r->attached = false;
	pid = r->pid;
	list_for_each_entry_safe(slot, tmp, &r->inflight, fill_link) {
		if (slot->held_fill) {
			slot->fill_sent = false;
			list_move_tail(&slot->fill_link, &held);
		}
	}
	list_splice_init(&r->inflight, &r->pending);
	deadline = jiffies + msecs_to_jiffies(mc_daemon_timeout_ms);
	list_for_each_entry(slot, &r->pending, fill_link) {
		slot->fill_sent = false;
		slot->fill_deadline = deadline;
	}
	/* Nobody writes into those slots any more. */
	mc_ring_collect_orphans(r, &orphans);
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
	mc_ring_fail_fills(&held);
	mc_held_daemon_gone(pid);
	mod_delayed_work(system_wq, &r->timeout_work,
			 msecs_to_jiffies(mc_daemon_timeout_ms));
	maicache_nl_notify_daemon(pid, MAICACHE_CMD_EVT_DAEMON_DETACHED);
	return 0;
}

static __poll_t mc_ring_poll(struct file *file, poll_table *wait)
{
	struct mc_ring *r = &mc_ring;
	LIST_HEAD(orphans);
	/* A kick can always be written. */
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &r->wq, wait);
	spin_lock(&r->lock);
	/* The daemon may have made room since the last flush. */
	mc_ring_flush(r, &orphans);
	WRITE_ONCE(r->unwoken, false);
	if (r->miss_head != le32_to_cpu(READ_ONCE(r->cpl_hdr->miss_tail)))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
	return mask;
}

/* The kick: an 8-byte write says completions were posted. */
static ssize_t mc_ring_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	struct mc_ring *r = &mc_ring;
	LIST_HEAD(orphans);

	if (len != sizeof(u64))
		return -EINVAL;
	mc_ring_reap(r);
	spin_lock(&r->lock);
	mc_ring_flush(r, &orphans);
	spin_unlock(&r->lock);
	mc_ring_put_fills(&orphans);
	mc_ring_kick();
	return len;
}

static int mc_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mc_ring *r = &mc_ring;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	if (off >= MAICACHE_MMAP_POOL)
		return mc_pool_mmap(mc_pool, vma);
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mc_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, 0);
	if (off == MAICACHE_MMAP_MISS) {
		/* The daemon must not be able to write what the kernel reads back. */
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		mc_vm_flags_mod(vma, 0, VM_MAYWRITE);
		return remap_vmalloc_range(vma, r->miss_hdr, 0);
	}
	if (off == MAICACHE_MMAP_CPL)
		return remap_vmalloc_range(vma, r->cpl_hdr, 0);
	return -EINVAL;
}

static const struct file_operations mc_ring_fops = {
	.owner		= THIS_MODULE,
	.open		= mc_ring_open,
	.release	= mc_ring_release,
	.poll		= mc_ring_poll,
	.write		= mc_ring_write,
	.mmap		= mc_ring_mmap,
	.llseek		= noop_llseek,
};

static struct miscdevice mc_ring_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "maicache",
	.fops	= &mc_ring_fops,
	.mode	= 0600,
};

int mc_ring_init(void)
{
	struct mc_ring *r = &mc_ring;
	int ret;

	if (!is_power_of_2(mc_ring_entries) || mc_ring_entries < 64 ||
	    mc_ring_entries > 65536) {
		pr_err("ring_entries must be a power of two in 64..65536\n");
		return -EINVAL;
	}
	r->entries = mc_ring_entries;
	r->miss_bytes = PAGE_ALIGN(MAICACHE_RING_ENTRIES_OFF +
				   r->entries * sizeof(struct maicache_miss));
	r->cpl_bytes = PAGE_ALIGN(MAICACHE_RING_ENTRIES_OFF +
				  r->entries * sizeof(struct maicache_cpl));
	r->miss_hdr = vmalloc_user(r->miss_bytes);
	r->cpl_hdr = vmalloc_user(r->cpl_bytes);
	if (!r->miss_hdr || !r->cpl_hdr) {
		ret = -ENOMEM;
		goto err;
	}
	r->miss = (void *)r->miss_hdr + MAICACHE_RING_ENTRIES_OFF;
	r->cpl = (void *)r->cpl_hdr + MAICACHE_RING_ENTRIES_OFF;
	spin_lock_init(&r->lock);
	INIT_LIST_HEAD(&r->pending);
	INIT_LIST_HEAD(&r->inflight);
	mutex_init(&r->cpl_mutex);
	init_waitqueue_head(&r->wq);
	INIT_DELAYED_WORK(&r->timeout_work, mc_ring_timeout_fn);
	ret = misc_register(&mc_ring_misc);
	if (ret)
		goto err;
	return 0;
err:
	vfree(r->miss_hdr);
	vfree(r->cpl_hdr);
	return ret;
}

/* No device and no daemon are left: nothing can be on the lists. */
void mc_ring_exit(void)
{
	struct mc_ring *r = &mc_ring;

	misc_deregister(&mc_ring_misc);
	cancel_delayed_work_sync(&r->timeout_work);
	WARN_ON_ONCE(!list_empty(&r->pending) || !list_empty(&r->inflight));
	vfree(r->miss_hdr);
	vfree(r->cpl_hdr);
}

/*
 * Keep daemons away while the pool is replaced (nl.c): -EBUSY if one is
 * attached or a fill holds a slot, else no daemon attaches until
 * mc_ring_release_hold().
 */
int mc_ring_hold_idle(void)
{
	struct mc_ring *r = &mc_ring;
	int ret = 0;

	spin_lock(&r->lock);
	if (r->attached || r->held || !list_empty(&r->pending) ||
	    !list_empty(&r->inflight))
		ret = -EBUSY;
	else
		r->held = true;
	spin_unlock(&r->lock);
	return ret;
}

void mc_ring_release_hold(void)
{
	spin_lock(&mc_ring.lock);
	mc_ring.held = false;
	spin_unlock(&mc_ring.lock);
}
