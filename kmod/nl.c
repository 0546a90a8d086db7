// SPDX-License-Identifier: GPL-2.0
/*
 * maicache generic netlink family: the control plane for devices, the pool
 * and the daemon. ABI in proto/maicache_genl.h.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "maicache.h"
#include "maicache_genl.h"
#include "maicache_version.h"

static const struct nla_policy maicache_nl_policy[MAICACHE_ATTR_MAX + 1] = {
	[MAICACHE_ATTR_VERSION]		= { .type = NLA_NUL_STRING },
	[MAICACHE_ATTR_VERSION_MAJOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_MINOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_PATCH]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_GENL_VERSION]	= { .type = NLA_U32 },
};

/* Exported to the KUnit tests, which check the reply a client parses. */
int maicache_nl_fill_version(struct sk_buff *skb)
{
	if (nla_put_string(skb, MAICACHE_ATTR_VERSION, MAICACHE_VERSION) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_MAJOR,
			MAICACHE_VERSION_MAJOR) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_MINOR,
			MAICACHE_VERSION_MINOR) ||
	    nla_put_u32(skb, MAICACHE_ATTR_VERSION_PATCH,
			MAICACHE_VERSION_PATCH) ||
	    nla_put_u32(skb, MAICACHE_ATTR_GENL_VERSION, MAICACHE_GENL_VERSION))
		return -EMSGSIZE;
	return 0;
}

static struct genl_family maicache_genl_family;

/*
 * Every command is for the node's administrator. GENL_ADMIN_PERM would test
 * CAP_NET_ADMIN; the devices and the pool are storage, so ask for
 * CAP_SYS_ADMIN like the other block-device control paths.
 */
static bool maicache_nl_capable(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	GENL_SET_ERR_MSG(info, "maicache control needs CAP_SYS_ADMIN");
	return false;
}

static int maicache_nl_get_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	void *hdr;
	int ret;

	if (!maicache_nl_capable(skb, info))
		return -EPERM;
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &maicache_genl_family, 0,
				MAICACHE_CMD_GET_VERSION);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err_free;
	}
	ret = maicache_nl_fill_version(reply);
	if (ret)
		goto err_free;
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

err_free:
	nlmsg_free(reply);
	return ret;
}

static const struct genl_small_ops maicache_nl_ops[] = {
	{
		.cmd	= MAICACHE_CMD_GET_VERSION,
		.doit	= maicache_nl_get_version,
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
	.module		= THIS_MODULE,
	.small_ops	= maicache_nl_ops,
	.n_small_ops	= ARRAY_SIZE(maicache_nl_ops),
	.resv_start_op	= MAICACHE_CMD_GET_VERSION,
	.mcgrps		= maicache_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(maicache_nl_mcgrps),
};

int maicache_nl_init(void)
{
	return genl_register_family(&maicache_genl_family);
}

void maicache_nl_exit(void)
{
	genl_unregister_family(&maicache_genl_family);
}
