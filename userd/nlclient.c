// SPDX-License-Identifier: MIT
/*
 * Client of the maicache generic netlink family (libnl-genl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "nlclient.h"

struct mc_nl {
	struct nl_sock *sock;
	int family;
};

/* Mirrors the kernel's policy so a malformed reply is rejected here too. */
static struct nla_policy mc_policy[MAICACHE_ATTR_MAX + 1] = {
	[MAICACHE_ATTR_VERSION]		= { .type = NLA_NUL_STRING },
	[MAICACHE_ATTR_VERSION_MAJOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_MINOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_PATCH]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_GENL_VERSION]	= { .type = NLA_U32 },
};

struct mc_nl *mc_nl_open(char *err, size_t errlen)
{
	struct mc_nl *nl = calloc(1, sizeof(*nl));
	int ret;

	if (!nl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nl->sock = nl_socket_alloc();
	if (!nl->sock) {
		snprintf(err, errlen, "cannot allocate a netlink socket");
		goto err_free;
	}
	ret = genl_connect(nl->sock);
	if (ret < 0) {
		snprintf(err, errlen, "cannot connect to generic netlink: %s",
			 nl_geterror(ret));
		goto err_sock;
	}
	nl->family = genl_ctrl_resolve(nl->sock, MAICACHE_GENL_NAME);
	if (nl->family < 0) {
		snprintf(err, errlen,
			 "generic netlink family '%s' not found: is the maicache module loaded? (modprobe maicache)",
			 MAICACHE_GENL_NAME);
		goto err_sock;
	}
	return nl;

err_sock:
	nl_socket_free(nl->sock);
err_free:
	free(nl);
	return NULL;
}

void mc_nl_close(struct mc_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sock);
	free(nl);
}

int mc_version_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
			  struct mc_version *out)
{
	static const int required[] = {
		MAICACHE_ATTR_VERSION, MAICACHE_ATTR_VERSION_MAJOR,
		MAICACHE_ATTR_VERSION_MINOR, MAICACHE_ATTR_VERSION_PATCH,
		MAICACHE_ATTR_GENL_VERSION,
	};
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!tb[required[i]])
			return -EPROTO;
	memset(out, 0, sizeof(*out));
	if (nla_strlcpy(out->version, tb[MAICACHE_ATTR_VERSION],
			sizeof(out->version)) >= sizeof(out->version))
		return -EPROTO;
	out->major = nla_get_u32(tb[MAICACHE_ATTR_VERSION_MAJOR]);
	out->minor = nla_get_u32(tb[MAICACHE_ATTR_VERSION_MINOR]);
	out->patch = nla_get_u32(tb[MAICACHE_ATTR_VERSION_PATCH]);
	out->genl_version = nla_get_u32(tb[MAICACHE_ATTR_GENL_VERSION]);
	return 0;
}

struct version_ctx {
	struct mc_version *out;
	int ret;
};

static int version_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct version_ctx *ctx = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, mc_policy))
		ctx->ret = -EPROTO;
	else
		ctx->ret = mc_version_from_attrs(tb, ctx->out);
	return NL_OK;
}

int mc_nl_get_version(struct mc_nl *nl, struct mc_version *out,
		      char *err, size_t errlen)
{
	struct version_ctx ctx = { .out = out, .ret = -ENODATA };
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc();
	if (!msg) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 MAICACHE_CMD_GET_VERSION, MAICACHE_GENL_VERSION)) {
		nlmsg_free(msg);
		snprintf(err, errlen, "cannot build request");
		return -ENOMEM;
	}
	nl_socket_modify_cb(nl->sock, NL_CB_VALID, NL_CB_CUSTOM, version_cb,
			    &ctx);
	ret = nl_send_sync(nl->sock, msg);
	if (ret < 0) {
		snprintf(err, errlen, "GET_VERSION failed: %s%s",
			 nl_geterror(ret),
			 ret == -NLE_PERM ? " (needs CAP_SYS_ADMIN)" : "");
		return -EIO;
	}
	if (ctx.ret) {
		snprintf(err, errlen, "malformed GET_VERSION reply from the module");
		return ctx.ret;
	}
	return 0;
}
