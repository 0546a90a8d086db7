// SPDX-License-Identifier: GPL-2.0
/*
 * maicache held extents: what the daemon asks for by name, not what reads
 * miss. A held device (no disk) indexes the extents the node keeps in its
 * pool for its cache group. The daemon takes a slot of one to fill with
 * bytes it got from a peer or from the source (mc_held_fill()), and pins a
 * readable extent of any device while it sends it to a peer
 * (mc_held_pin()), so that the slot is neither evicted nor reused under
 * the transfer.
 *
 * Both belong to the daemon that asked: a fill is completed on the ring
 * like any miss, so the ring's checks stay the only way bytes become
 * readable, and fails if that daemon detaches; its pins end when it
 * detaches (mc_held_daemon_gone()). Pins are bounded by max_pins.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "maicache.h"

unsigned int mc_max_pins = 1024;
module_param_named(max_pins, mc_max_pins, uint, 0644);
MODULE_PARM_DESC(max_pins,
		 "Most extents the daemon may pin at once for peer transfers (default: 1024)");

struct mc_pin {
	struct mc_slot *slot;
	struct mc_dev *dev;
	u32 pid;			/* the daemon that pinned it */
};

static DEFINE_XARRAY_ALLOC(mc_pins);
static u32 mc_pins_next;
static atomic_t mc_nr_pins = ATOMIC_INIT(0);
/* Orders a pin against the detach of the daemon that takes it. */
static DEFINE_MUTEX(mc_pins_lock);

u32 mc_held_nr_pins(void)
{
	return atomic_read(&mc_nr_pins);
}

/*
 * Take a slot for @extent of the held device @dev, to be filled with @len
 * bytes by the calling daemon: *off is where they go in the pool, *id
 * the ring id that completes the fill. The caller keeps @dev listed.
 */
int mc_held_fill(struct mc_dev *dev, u64 extent, u32 len, u64 *id, u64 *off)
{
	struct mc_slot *slot;
	u64 start;
	int ret;

	if (!dev->held)
		return -EOPNOTSUPP;
	ret = mc_ring_daemon_check();
	if (ret)
		return ret;
	if (extent > (dev->size - 1) >> dev->extent_shift)
		return -ERANGE;
	start = extent << dev->extent_shift;
	if (!len || len > BIT(dev->extent_shift) || len > dev->size - start)
		return -EINVAL;

	ret = mc_cache_take(dev, extent, len, &slot);
	if (ret)
		return ret;
	*off = mc_slot_offset(slot);
	ret = mc_ring_start_fill(slot, id);
	if (ret) {
		/* The daemon left meanwhile: nobody will fill it. */
		mc_slot_resolve(slot, ret);
		mc_slot_put(slot);
	}
	return ret;
}

static void mc_pin_free(struct mc_pin *pin)
{
	struct mc_dev *dev = pin->dev;

	mc_slot_put(pin->slot);
	kfree(pin);
	atomic_dec(&mc_nr_pins);
	/* Last: the device may be removed once it has no pin. */
	atomic_dec(&dev->nr_pins);
}

/*
 * Pin the readable @extent of @dev for the calling daemon. The caller
 * keeps @dev listed, so that its removal sees the pin (mc_dev_del()).
 */
int mc_held_pin(struct mc_dev *dev, u64 extent, struct mc_held_pin *out)
{
	struct mc_slot *slot;
	struct mc_pin *pin;
	int ret;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	mutex_lock(&mc_pins_lock);
	ret = mc_ring_daemon_check();
	if (ret)
		goto err_unlock;
	if (atomic_inc_return(&mc_nr_pins) > READ_ONCE(mc_max_pins)) {
		ret = -ENOSPC;
		goto err_count;
	}
	slot = mc_cache_get_ready(dev, extent, false);
	if (!slot) {
		ret = -ENOENT;
		goto err_count;
	}
	pin->slot = slot;
	pin->dev = dev;
	pin->pid = task_tgid_nr(current);
	atomic_inc(&dev->nr_pins);
	ret = xa_alloc_cyclic(&mc_pins, &out->id, pin, xa_limit_31b,
			      &mc_pins_next, GFP_KERNEL);
	if (ret < 0) {
		mutex_unlock(&mc_pins_lock);
		mc_pin_free(pin);
		return ret;
	}
	mutex_unlock(&mc_pins_lock);
	/* Serving a peer is a use: the policy keeps what the group reads. */
	mc_cache_hit(dev, slot, 0, slot->len);
	out->off = mc_slot_offset(slot);
	out->len = slot->len;
	out->gen = slot->gen;
	return 0;

err_count:
	atomic_dec(&mc_nr_pins);
err_unlock:
	mutex_unlock(&mc_pins_lock);
	kfree(pin);
	return ret;
}

/* End a pin of the calling daemon: -ENOENT if it holds none by that id. */
int mc_held_unpin(u32 id)
{
	struct mc_pin *pin;
	int ret;

	mutex_lock(&mc_pins_lock);
	ret = mc_ring_daemon_check();
	pin = ret ? NULL : xa_load(&mc_pins, id);
	if (pin && pin->pid == task_tgid_nr(current))
		xa_erase(&mc_pins, id);
	else if (!ret)
		ret = -ENOENT;
	mutex_unlock(&mc_pins_lock);
	if (ret)
		return ret;
	mc_pin_free(pin);
	return 0;
}

/* The daemon @pid detached: its pins end. */
void mc_held_daemon_gone(u32 pid)
{
	struct mc_pin *pin;
	unsigned long id;

	mutex_lock(&mc_pins_lock);
	xa_for_each(&mc_pins, id, pin) {
		if (pin->pid != pid)
			continue;
		xa_erase(&mc_pins, id);
		mc_pin_free(pin);
	}
	mutex_unlock(&mc_pins_lock);
}
