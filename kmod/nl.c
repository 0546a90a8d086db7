// SPDX-License-Identifier: GPL-2.0
/*
 * maicache generic netlink family: the control plane for devices, the pool
 * and the daemon. ABI in proto/maicache_genl.h.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "compat.h"
#include "maicache.h"
#include "maicache_genl.h"

/* The request policy, from the ABI's one table of attribute types. */
#define MC_NLA_ANY(t)	{ .type = t }
#define MC_NLA_MIN1(t)	NLA_POLICY_MIN(t, 1)
#define MC_NLA_MAX1(t)	NLA_POLICY_MAX(t, 1)
#define MC_NLA_REPLY(t)	{ .type = NLA_REJECT, .len = sizeof(t) }
#define MAICACHE_ATTR(name, nla, rule) \
	[MAICACHE_ATTR_##name] = MC_NLA_##rule(NLA_##nla),

static const struct nla_policy maicache_nl_policy[MAICACHE_ATTR_MAX + 1] = {
#include "maicache_genl_attrs.h"
};

#undef MAICACHE_ATTR

static struct genl_family maicache_genl_family;

/*
 * Every command is for the node's administrator, checked once for the
 * family: in pre_doit for every doit, and in the one dump. GENL_ADMIN_PERM
 * would test CAP_NET_ADMIN; the devices and the pool are storage, so ask
 * for CAP_SYS_ADMIN like the other block-device control paths.
 */
static int maicache_nl_admin(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "maicache control needs CAP_SYS_ADMIN");
	return -EPERM;
}

static int maicache_nl_pre_doit(MC_GENL_PRE_DOIT_OPS *ops, struct sk_buff *skb,
				struct genl_info *info)
{
	return maicache_nl_admin(skb, info->extack);
}

static int maicache_nl_fill_dev(struct sk_buff *skb, struct mc_dev *dev)
{
	struct mc_stats stats;

	if (nla_put_u32(skb, MAICACHE_ATTR_DEV_ID, dev->id) ||
	    nla_put_string(skb, MAICACHE_ATTR_DEV_NAME, dev->name) ||
	    nla_put_u8(skb, MAICACHE_ATTR_DEV_HELD, dev->held) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_DEV_SIZE, dev->size,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u32(skb, MAICACHE_ATTR_DEV_BLOCK_SIZE, dev->block_size) ||
	    nla_put_u32(skb, MAICACHE_ATTR_DEV_EXTENT_SIZE,
			1U << dev->extent_shift) ||
	    nla_put_u8(skb, MAICACHE_ATTR_DEV_READ_ONLY, 1) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_DEV_COOKIE, dev->cookie,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u8(skb, MAICACHE_ATTR_DEV_STALE, READ_ONCE(dev->stale)) ||
	    nla_put_u8(skb, MAICACHE_ATTR_DEV_WHOLE_EXTENTS,
		       dev->whole_extents) ||
	    (dev->volume_name[0] &&
	     nla_put_string(skb, MAICACHE_ATTR_VOLUME_NAME, dev->volume_name)))
		return -EMSGSIZE;
	mc_dev_stats(dev, &stats);
	return maicache_nl_fill_stats(skb, &stats);
}

/* A unicast reply carrying whatever fill() puts in it. */
static int maicache_nl_reply(struct genl_info *info, u8 cmd,
			     int (*fill)(struct sk_buff *skb, void *arg),
			     void *arg)
{
	struct sk_buff *reply;
	void *hdr;
	int ret;

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &maicache_genl_family, 0, cmd);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err_free;
	}
	ret = fill(reply, arg);
	if (ret)
		goto err_free;
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

err_free:
	nlmsg_free(reply);
	return ret;
}

static int maicache_nl_version_fill(struct sk_buff *skb, void *arg)
{
	return maicache_nl_fill_version(skb);
}

static int maicache_nl_get_version(struct sk_buff *skb, struct genl_info *info)
{
	return maicache_nl_reply(info, MAICACHE_CMD_GET_VERSION,
				 maicache_nl_version_fill, NULL);
}

static int maicache_nl_dev_fill(struct sk_buff *skb, void *arg)
{
	return maicache_nl_fill_dev(skb, arg);
}

/*
 * NL_SET_ERR_MSG_ATTR() for a message chosen at run time: it takes only a
 * literal. @msg must outlive the request (a string literal does).
 */
static void maicache_nl_err_attr(struct netlink_ext_ack *extack,
				 const struct nlattr *attr, const char *msg)
{
	if (!extack)
		return;
	extack->_msg = msg;
	extack->bad_attr = attr;
}

/*
 * The volume name of a DEV_ADD into @out ("" when there is none), checked
 * by the ABI's rule and against the names of the other devices. DEV_ADDs
 * are serialized by the genetlink mutex (the family has no parallel_ops),
 * so a name free here is still free when the device is listed.
 */
static int maicache_nl_volume_name(struct genl_info *info, bool held,
				   char out[MAICACHE_VOLUME_NAME_MAX])
{
	struct nlattr *attr = info->attrs[MAICACHE_ATTR_VOLUME_NAME];
	const char *why;
	struct mc_dev *other;

	out[0] = '\0';
	if (!attr)
		return 0;
	why = maicache_volume_name_error(nla_data(attr), nla_len(attr));
	if (why) {
		maicache_nl_err_attr(info->extack, attr, why);
		return -EINVAL;
	}
	/* Checked above: the payload is the name and its NUL, no more. */
	memcpy(out, nla_data(attr), nla_len(attr));
	if (!out[0])
		return 0;
	if (held) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "a held device has no disk to name");
		return -EINVAL;
	}
	mutex_lock(&mc_devs_lock);
	other = mc_dev_find_volume(out);
	if (other)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "volume name in use by another device");
	mutex_unlock(&mc_devs_lock);
	return other ? -EEXIST : 0;
}

static int maicache_nl_dev_add(struct sk_buff *skb, struct genl_info *info)
{
	char volume_name[MAICACHE_VOLUME_NAME_MAX];
	u32 bs = MAICACHE_BLOCK_SIZE_DEFAULT;
	u32 extent = MAICACHE_EXTENT_SIZE_DEFAULT;
	struct nlattr **a = info->attrs;
	u32 id = U32_MAX;
	struct mc_dev *dev;
	bool held;
	u64 size;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_SIZE) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_COOKIE))
		return -EINVAL;
	size = nla_get_u64(a[MAICACHE_ATTR_DEV_SIZE]);
	held = a[MAICACHE_ATTR_DEV_HELD] && nla_get_u8(a[MAICACHE_ATTR_DEV_HELD]);
	if (held && (a[MAICACHE_ATTR_DEV_ID] || a[MAICACHE_ATTR_DEV_BLOCK_SIZE])) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[MAICACHE_ATTR_DEV_ID] ?: a[MAICACHE_ATTR_DEV_BLOCK_SIZE],
				    "a held device has no disk: its id and block size are the module's");
		return -EINVAL;
	}
	if (a[MAICACHE_ATTR_DEV_BLOCK_SIZE]) {
		bs = nla_get_u32(a[MAICACHE_ATTR_DEV_BLOCK_SIZE]);
		if (!is_power_of_2(bs) || bs < 512 || bs > 4096) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    a[MAICACHE_ATTR_DEV_BLOCK_SIZE],
					    "block size must be 512, 1024, 2048 or 4096");
			return -EINVAL;
		}
	}
	if (a[MAICACHE_ATTR_DEV_EXTENT_SIZE]) {
		extent = nla_get_u32(a[MAICACHE_ATTR_DEV_EXTENT_SIZE]);
		if (!is_power_of_2(extent) || extent < MAICACHE_EXTENT_SIZE_MIN ||
		    extent > MAICACHE_EXTENT_SIZE_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    a[MAICACHE_ATTR_DEV_EXTENT_SIZE],
					    "extent size must be a power of two from 64 KiB to 4 MiB");
			return -EINVAL;
		}
	}
	if (a[MAICACHE_ATTR_DEV_READ_ONLY] &&
	    !nla_get_u8(a[MAICACHE_ATTR_DEV_READ_ONLY])) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_READ_ONLY],
				    "writable devices are not supported");
		return -EOPNOTSUPP;
	}
	if (size % bs || size > MAX_LFS_FILESIZE) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_SIZE],
				    "size must be a multiple of the block size");
		return -EINVAL;
	}
	if (a[MAICACHE_ATTR_DEV_ID]) {
		id = nla_get_u32(a[MAICACHE_ATTR_DEV_ID]);
		if (id >= MC_MAX_DEVS) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
					    "device id must be below 65536");
			return -EINVAL;
		}
	}

	ret = maicache_nl_volume_name(info, held, volume_name);
	if (ret)
		return ret;

	ret = mc_dev_add(id, size, bs, extent,
			 nla_get_u64(a[MAICACHE_ATTR_DEV_COOKIE]), held,
			 a[MAICACHE_ATTR_DEV_WHOLE_EXTENTS] &&
			 nla_get_u8(a[MAICACHE_ATTR_DEV_WHOLE_EXTENTS]),
			 volume_name, &dev);
	if (ret == -EEXIST) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
				    "device id in use");
		return ret;
	}
	if (ret) {
		GENL_SET_ERR_MSG(info, "cannot create the device");
		return ret;
	}
	mutex_lock(&mc_devs_lock);
	dev = mc_dev_find(dev->id);
	ret = dev ? maicache_nl_reply(info, MAICACHE_CMD_DEV_ADD,
				      maicache_nl_dev_fill, dev) : 0;
	mutex_unlock(&mc_devs_lock);
	return ret;
}

static int maicache_nl_dev_del(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID))
		return -EINVAL;
	ret = mc_dev_del(nla_get_u32(info->attrs[MAICACHE_ATTR_DEV_ID]));
	if (ret == -ENODEV)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[MAICACHE_ATTR_DEV_ID],
				    "no such device");
	else if (ret == -EBUSY)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[MAICACHE_ATTR_DEV_ID],
				    "the daemon pins extents of this device");
	return ret;
}

static int maicache_nl_dev_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct mc_dev *dev;
	bool newly = false;
	int ret = 0;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID))
		return -EINVAL;
	if (a[MAICACHE_ATTR_DEV_STALE] && !nla_get_u8(a[MAICACHE_ATTR_DEV_STALE])) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_STALE],
				    "a stale device cannot be made fresh: remove it and add it again");
		return -EINVAL;
	}
	mutex_lock(&mc_devs_lock);
	dev = mc_dev_find(nla_get_u32(a[MAICACHE_ATTR_DEV_ID]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
				    "no such device");
		ret = -ENODEV;
	} else if (a[MAICACHE_ATTR_DEV_STALE] && !dev->stale) {
		WRITE_ONCE(dev->stale, true);
		newly = true;
	}
	/*
	 * Fills already queued need no help: the daemon reads with If-Match
	 * on the old version, so they fail rather than mix versions.
	 */
	if (newly)
		maicache_nl_notify_dev(dev, MAICACHE_CMD_EVT_DEV_STALE);
	mutex_unlock(&mc_devs_lock);
	return ret;
}

static int maicache_nl_dev_get(struct sk_buff *skb, struct genl_info *info)
{
	struct mc_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID))
		return -EINVAL;
	mutex_lock(&mc_devs_lock);
	dev = mc_dev_find(nla_get_u32(info->attrs[MAICACHE_ATTR_DEV_ID]));
	if (dev) {
		ret = maicache_nl_reply(info, MAICACHE_CMD_DEV_GET,
					maicache_nl_dev_fill, dev);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[MAICACHE_ATTR_DEV_ID],
				    "no such device");
		ret = -ENODEV;
	}
	mutex_unlock(&mc_devs_lock);
	return ret;
}

/* Dump every device; cb->args[0] is the next id to report. */
static int maicache_nl_dev_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct mc_dev *dev;
	int ret = 0;

	ret = maicache_nl_admin(cb->skb, cb->extack);
	if (ret)
		return ret;
	mutex_lock(&mc_devs_lock);
	list_for_each_entry(dev, &mc_devs, list) {
		void *hdr;

		if (dev->id < cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &maicache_genl_family,
				  NLM_F_MULTI, MAICACHE_CMD_DEV_GET);
		if (!hdr || maicache_nl_fill_dev(skb, dev)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			ret = skb->len ? skb->len : -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = dev->id + 1;
	}
	mutex_unlock(&mc_devs_lock);
	return ret ? ret : skb->len;
}

static int maicache_nl_pool_fill(struct sk_buff *skb, void *arg)
{
	bool attached;
	u32 pid = 0;

	attached = mc_ring_attached(&pid);
	if (nla_put_u64_64bit(skb, MAICACHE_ATTR_POOL_SIZE, mc_pool->size,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_POOL_USED,
			      mc_pool_used_bytes(mc_pool), MAICACHE_ATTR_PAD) ||
	    nla_put_u8(skb, MAICACHE_ATTR_DAEMON_ATTACHED, attached) ||
	    (attached && nla_put_u32(skb, MAICACHE_ATTR_DAEMON_PID, pid)) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_BAD_COMPLETIONS,
			      mc_ring_bad_completions(), MAICACHE_ATTR_PAD) ||
	    nla_put_u32(skb, MAICACHE_ATTR_DAEMON_TIMEOUT_MS,
			READ_ONCE(mc_daemon_timeout_ms)) ||
	    nla_put_u32(skb, MAICACHE_ATTR_PINS, mc_held_nr_pins()) ||
	    nla_put_u32(skb, MAICACHE_ATTR_MAX_PINS, READ_ONCE(mc_max_pins)))
		return -EMSGSIZE;
	return 0;
}

static int maicache_nl_pool_get(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	mutex_lock(&mc_devs_lock);
	ret = maicache_nl_reply(info, MAICACHE_CMD_POOL_GET,
				maicache_nl_pool_fill, NULL);
	mutex_unlock(&mc_devs_lock);
	return ret;
}

/* A new pool of @size bytes, swapped in while no daemon can attach. */
static int maicache_nl_pool_resize(struct genl_info *info, struct nlattr *attr)
{
	struct mc_pool *pool;
	int ret;

	if (!list_empty(&mc_devs)) {
		NL_SET_ERR_MSG(info->extack, "remove all devices before resizing the pool");
		return -EBUSY;
	}
	ret = mc_pool_create(nla_get_u64(attr), mc_cache_unindex, &pool);
	if (ret == -EINVAL)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the pool must hold at least one 4 MiB segment");
	else if (ret == -ENOSPC)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not enough available memory for this pool");
	else if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "cannot allocate the pool");
	if (ret)
		return ret;
	ret = mc_ring_hold_idle();
	if (!ret) {
		ret = mc_pool_replace(pool);
		mc_ring_release_hold();
	}
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "the pool is mapped by a daemon; stop it first");
		mc_pool_put(pool);
	}
	return ret;
}

/*
 * Resize the pool and/or set the daemon timeout: everything is checked
 * before anything changes, and the timeout is applied only once the resize
 * (if any) has succeeded.
 */
static int maicache_nl_pool_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *size = info->attrs[MAICACHE_ATTR_POOL_SIZE];
	struct nlattr *tmo = info->attrs[MAICACHE_ATTR_DAEMON_TIMEOUT_MS];
	int ret = 0;

	if (tmo && (nla_get_u32(tmo) < MAICACHE_DAEMON_TIMEOUT_MIN_MS ||
		    nla_get_u32(tmo) > MAICACHE_DAEMON_TIMEOUT_MAX_MS)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tmo,
				    "the daemon timeout must be 100 ms to 1 hour");
		return -ERANGE;
	}
	mutex_lock(&mc_devs_lock);
	if (size)
		ret = maicache_nl_pool_resize(info, size);
	if (!ret && tmo)
		WRITE_ONCE(mc_daemon_timeout_ms, nla_get_u32(tmo));
	mutex_unlock(&mc_devs_lock);
	return ret;
}

/* The listed device DEV_ID, under mc_devs_lock; NULL with the error set. */
static struct mc_dev *maicache_nl_find_dev(struct genl_info *info)
{
	struct mc_dev *dev;

	lockdep_assert_held(&mc_devs_lock);
	dev = mc_dev_find(nla_get_u32(info->attrs[MAICACHE_ATTR_DEV_ID]));
	if (!dev)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[MAICACHE_ATTR_DEV_ID],
				    "no such device");
	return dev;
}

/* The message for what held.c refuses; the errno goes back as it is. */
static void maicache_nl_held_err(struct genl_info *info, int err)
{
	struct nlattr **a = info->attrs;

	switch (err) {
	case -ENOTCONN:
		GENL_SET_ERR_MSG(info, "no daemon is attached");
		break;
	case -EPERM:
		GENL_SET_ERR_MSG(info, "only the attached daemon may fill or pin extents");
		break;
	case -EOPNOTSUPP:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
				    "not a held device");
		break;
	case -ERANGE:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_EXTENT],
				    "extent beyond the device's size");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_EXTENT_LEN],
				    "length must be 1 to the extent's size");
		break;
	case -EEXIST:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_EXTENT],
				    "extent held or filling already");
		break;
	case -EBUSY:
		GENL_SET_ERR_MSG(info, "no free slot in the pool now");
		break;
	case -ENOENT:
		GENL_SET_ERR_MSG(info, "no such readable extent or pin");
		break;
	case -ENOSPC:
		GENL_SET_ERR_MSG(info, "the daemon holds max_pins pins");
		break;
	}
}

struct maicache_nl_fill {
	u64 id;
	u64 off;
};

static int maicache_nl_fill_fill(struct sk_buff *skb, void *arg)
{
	struct maicache_nl_fill *f = arg;

	if (nla_put_u64_64bit(skb, MAICACHE_ATTR_FILL_ID, f->id,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_SLOT_OFF, f->off,
			      MAICACHE_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

static int maicache_nl_extent_fill(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct maicache_nl_fill f;
	struct mc_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_EXTENT) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_EXTENT_LEN))
		return -EINVAL;
	mutex_lock(&mc_devs_lock);
	dev = maicache_nl_find_dev(info);
	ret = dev ? mc_held_fill(dev, nla_get_u64(a[MAICACHE_ATTR_EXTENT]),
				 nla_get_u32(a[MAICACHE_ATTR_EXTENT_LEN]),
				 &f.id, &f.off) : -ENODEV;
	mutex_unlock(&mc_devs_lock);
	if (ret) {
		maicache_nl_held_err(info, ret);
		return ret;
	}
	ret = maicache_nl_reply(info, MAICACHE_CMD_EXTENT_FILL,
				maicache_nl_fill_fill, &f);
	/* A daemon that cannot learn of its fill never completes it. */
	if (ret)
		mc_ring_cancel_fill(f.id);
	return ret;
}

static int maicache_nl_pin_fill(struct sk_buff *skb, void *arg)
{
	struct mc_held_pin *p = arg;

	if (nla_put_u32(skb, MAICACHE_ATTR_PIN_ID, p->id) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_SLOT_OFF, p->off,
			      MAICACHE_ATTR_PAD) ||
	    nla_put_u32(skb, MAICACHE_ATTR_EXTENT_LEN, p->len) ||
	    nla_put_u32(skb, MAICACHE_ATTR_SLOT_GEN, p->gen))
		return -EMSGSIZE;
	return 0;
}

static int maicache_nl_extent_pin(struct sk_buff *skb, struct genl_info *info)
{
	struct mc_held_pin pin;
	struct mc_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_EXTENT))
		return -EINVAL;
	mutex_lock(&mc_devs_lock);
	dev = maicache_nl_find_dev(info);
	ret = dev ? mc_held_pin(dev, nla_get_u64(info->attrs[MAICACHE_ATTR_EXTENT]),
				&pin) : -ENODEV;
	mutex_unlock(&mc_devs_lock);
	if (ret) {
		maicache_nl_held_err(info, ret);
		return ret;
	}
	ret = maicache_nl_reply(info, MAICACHE_CMD_EXTENT_PIN,
				maicache_nl_pin_fill, &pin);
	/* A pin the daemon does not know of would never end. */
	if (ret)
		mc_held_unpin(pin.id);
	return ret;
}

static int maicache_nl_extent_unpin(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_PIN_ID))
		return -EINVAL;
	ret = mc_held_unpin(nla_get_u32(info->attrs[MAICACHE_ATTR_PIN_ID]));
	if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[MAICACHE_ATTR_PIN_ID],
				    "no such pin");
	else if (ret)
		maicache_nl_held_err(info, ret);
	return ret;
}

/* The message for what mc_warm() refuses; the errno goes back as it is. */
static void maicache_nl_warm_err(struct genl_info *info, struct mc_dev *dev,
				 int err)
{
	struct nlattr **a = info->attrs;
	struct nlattr *past;

	switch (err) {
	case -EOPNOTSUPP:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
				    "a held device has no disk to warm");
		break;
	case -ESTALE:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_DEV_ID],
				    "the device is stale: its source changed");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG_ATTR(info->extack, a[MAICACHE_ATTR_EXTENT_LAST],
				    "the last extent is before the first");
		break;
	case -ERANGE:
		past = nla_get_u64(a[MAICACHE_ATTR_EXTENT]) >= mc_dev_nr_extents(dev) ?
		       a[MAICACHE_ATTR_EXTENT] : a[MAICACHE_ATTR_EXTENT_LAST];
		NL_SET_ERR_MSG_ATTR(info->extack, past,
				    "extent beyond the device's size");
		break;
	case -ENOTCONN:
		GENL_SET_ERR_MSG(info, "no daemon is attached to fill the extents");
		break;
	case -ENOMEM:
		GENL_SET_ERR_MSG(info, "out of memory for the extent index");
		break;
	}
}

static int maicache_nl_warm_fill(struct sk_buff *skb, void *arg)
{
	return maicache_nl_fill_warm(skb, arg);
}

static int maicache_nl_extent_warm(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct mc_warm_result res;
	struct mc_dev *dev;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_DEV_ID) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_EXTENT) ||
	    GENL_REQ_ATTR_CHECK(info, MAICACHE_ATTR_EXTENT_LAST))
		return -EINVAL;
	/*
	 * Under the lock the device stays listed, so a removal waits for the
	 * call and then fails what it queued; a device being removed is no
	 * longer listed ("no such device"), and DEV_SET cannot make it stale
	 * half way.
	 */
	mutex_lock(&mc_devs_lock);
	dev = maicache_nl_find_dev(info);
	ret = dev ? mc_warm(dev, nla_get_u64(a[MAICACHE_ATTR_EXTENT]),
			    nla_get_u64(a[MAICACHE_ATTR_EXTENT_LAST]), &res) :
		    -ENODEV;
	if (dev && ret)
		maicache_nl_warm_err(info, dev, ret);
	mutex_unlock(&mc_devs_lock);
	if (ret)
		return ret;
	/* A lost reply loses nothing: what it queued is cached all the same. */
	return maicache_nl_reply(info, MAICACHE_CMD_EXTENT_WARM,
				 maicache_nl_warm_fill, &res);
}

static const struct genl_small_ops maicache_nl_ops[] = {
	{
		.cmd	= MAICACHE_CMD_GET_VERSION,
		.doit	= maicache_nl_get_version,
	},
	{
		.cmd	= MAICACHE_CMD_DEV_ADD,
		.doit	= maicache_nl_dev_add,
	},
	{
		.cmd	= MAICACHE_CMD_DEV_DEL,
		.doit	= maicache_nl_dev_del,
	},
	{
		.cmd	= MAICACHE_CMD_DEV_SET,
		.doit	= maicache_nl_dev_set,
	},
	{
		.cmd	= MAICACHE_CMD_DEV_GET,
		.doit	= maicache_nl_dev_get,
		.dumpit	= maicache_nl_dev_dump,
	},
	{
		.cmd	= MAICACHE_CMD_POOL_SET,
		.doit	= maicache_nl_pool_set,
	},
	{
		.cmd	= MAICACHE_CMD_POOL_GET,
		.doit	= maicache_nl_pool_get,
	},
	{
		.cmd	= MAICACHE_CMD_EXTENT_FILL,
		.doit	= maicache_nl_extent_fill,
	},
	{
		.cmd	= MAICACHE_CMD_EXTENT_PIN,
		.doit	= maicache_nl_extent_pin,
	},
	{
		.cmd	= MAICACHE_CMD_EXTENT_UNPIN,
		.doit	= maicache_nl_extent_unpin,
	},
	{
		.cmd	= MAICACHE_CMD_EXTENT_WARM,
		.doit	= maicache_nl_extent_warm,
	},
};

static const struct genl_multicast_group maicache_nl_mcgrps[] = {
	{ .name = MAICACHE_GENL_MCAST_EVENTS, },
};

static struct genl_family maicache_genl_family __ro_after_init = {
	.name		= MAICACHE_GENL_NAME,
	.version	= MAICACHE_GENL_VERSION,
	.maxattr	= MAICACHE_ATTR_MAX,
	.policy		= maicache_nl_policy,
	.pre_doit	= maicache_nl_pre_doit,
	.module		= THIS_MODULE,
	.small_ops	= maicache_nl_ops,
	.n_small_ops	= ARRAY_SIZE(maicache_nl_ops),
	.resv_start_op	= MAICACHE_CMD_GET_VERSION,
	.mcgrps		= maicache_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(maicache_nl_mcgrps),
};

static void maicache_nl_notify(u8 cmd, int (*fill)(struct sk_buff *skb, void *arg),
			       void *arg)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &maicache_genl_family, 0, cmd);
	if (!hdr || fill(skb, arg)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&maicache_genl_family, skb, 0, 0, GFP_KERNEL);
}

static int maicache_nl_dev_event_fill(struct sk_buff *skb, void *arg)
{
	struct mc_dev *dev = arg;

	if (nla_put_u32(skb, MAICACHE_ATTR_DEV_ID, dev->id) ||
	    nla_put_string(skb, MAICACHE_ATTR_DEV_NAME, dev->name) ||
	    nla_put_u64_64bit(skb, MAICACHE_ATTR_DEV_COOKIE, dev->cookie,
			      MAICACHE_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

void maicache_nl_notify_dev(struct mc_dev *dev, u8 cmd)
{
	maicache_nl_notify(cmd, maicache_nl_dev_event_fill, dev);
}

static int maicache_nl_daemon_event_fill(struct sk_buff *skb, void *arg)
{
	return nla_put_u32(skb, MAICACHE_ATTR_DAEMON_PID, *(u32 *)arg);
}

void maicache_nl_notify_daemon(u32 pid, u8 cmd)
{
	maicache_nl_notify(cmd, maicache_nl_daemon_event_fill, &pid);
}

int maicache_nl_init(void)
{
	return genl_register_family(&maicache_genl_family);
}

void maicache_nl_exit(void)
{
	genl_unregister_family(&maicache_genl_family);
}
