// SPDX-License-Identifier: MIT
/*
 * Client of the maicache generic netlink family (libnl-genl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include "errmsg.h"
#include "nlclient.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct mc_nl {
	struct nl_sock *sock;
	int family;
	uint32_t maxattr;	/* the loaded module's highest attribute */
};

/* Mirrors the kernel's types so a malformed reply is rejected here too. */
/* Replies are parsed with the types of the ABI's one table. */
#define MAICACHE_ATTR(name, nla, rule) \
	[MAICACHE_ATTR_##name] = { .type = NLA_##nla },

static struct nla_policy mc_policy[MAICACHE_ATTR_MAX + 1] = {
#include "maicache_genl_attrs.h"
};

#undef MAICACHE_ATTR

/*
 * The highest attribute the loaded module knows: it refuses requests with
 * any above. 0 when the controller does not say (then only attributes every
 * module knows are sent).
 */
static uint32_t mc_nl_family_maxattr(struct nl_sock *sock)
{
	struct genl_family *fam;
	struct nl_cache *cache;
	uint32_t max = 0;

	if (genl_ctrl_alloc_cache(sock, &cache) < 0)
		return 0;
	fam = genl_ctrl_search_by_name(cache, MAICACHE_GENL_NAME);
	if (fam) {
		max = genl_family_get_maxattr(fam);
		genl_family_put(fam);
	}
	nl_cache_free(cache);
	return max;
}

struct mc_nl *mc_nl_open(char *err, size_t errlen)
{
	struct mc_nl *nl = calloc(1, sizeof(*nl));
	int one = 1;
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
	/* Ask for the kernel's error strings; harmless where unsupported. */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sock, MAICACHE_GENL_NAME);
	if (nl->family < 0) {
		snprintf(err, errlen,
			 "generic netlink family '%s' not found: is the maicache module loaded? (modprobe maicache)",
			 MAICACHE_GENL_NAME);
		goto err_sock;
	}
	nl->maxattr = mc_nl_family_maxattr(nl->sock);
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

static int mc_stats_from_attr(struct nlattr *nest, struct mc_dev_stats *out)
{
	struct nlattr *tb[MAICACHE_STAT_MAX + 1];
	struct nlattr *b;
	int rem;

	if (nla_parse_nested(tb, MAICACHE_STAT_MAX, nest, NULL))
		return -EPROTO;
#define STAT(attr, field) \
	do { if (tb[attr]) out->field = nla_get_u64(tb[attr]); } while (0)
	STAT(MAICACHE_STAT_HITS, hits);
	STAT(MAICACHE_STAT_MISSES, misses);
	STAT(MAICACHE_STAT_BYTES_HIT, bytes_hit);
	STAT(MAICACHE_STAT_BYTES_FILLED, bytes_filled);
	STAT(MAICACHE_STAT_EVICTIONS, evictions);
	STAT(MAICACHE_STAT_FILL_ERRORS, fill_errors);
	STAT(MAICACHE_STAT_PREFETCHED, prefetched);
	STAT(MAICACHE_STAT_PREFETCH_USED, prefetch_used);
	STAT(MAICACHE_STAT_PREFETCH_UNUSED, prefetch_unused);
	STAT(MAICACHE_STAT_FILL_LATENCY_NS, fill_latency_ns);
	STAT(MAICACHE_STAT_WARMED, warmed);
#undef STAT
	if (tb[MAICACHE_STAT_FILL_LATENCY]) {
		nla_for_each_nested(b, tb[MAICACHE_STAT_FILL_LATENCY], rem) {
			int i = nla_type(b) - 1;

			if (i >= 0 && i < MAICACHE_FILL_LATENCY_BUCKETS &&
			    nla_len(b) == sizeof(uint64_t))
				out->fill_latency[i] = nla_get_u64(b);
		}
	}
	return 0;
}

uint64_t mc_dev_fills_in_flight(const struct mc_dev_stats *s)
{
	uint64_t ended = 0;
	int i;

	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++)
		ended += s->fill_latency[i];
	return s->misses > ended ? s->misses - ended : 0;
}

int mc_dev_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
		      struct mc_dev_info *out)
{
	if (!tb[MAICACHE_ATTR_DEV_ID] || !tb[MAICACHE_ATTR_DEV_NAME] ||
	    !tb[MAICACHE_ATTR_DEV_SIZE] || !tb[MAICACHE_ATTR_DEV_COOKIE])
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->id = nla_get_u32(tb[MAICACHE_ATTR_DEV_ID]);
	if (nla_strlcpy(out->name, tb[MAICACHE_ATTR_DEV_NAME],
			sizeof(out->name)) >= sizeof(out->name))
		return -EPROTO;
	out->size = nla_get_u64(tb[MAICACHE_ATTR_DEV_SIZE]);
	out->cookie = nla_get_u64(tb[MAICACHE_ATTR_DEV_COOKIE]);
	if (tb[MAICACHE_ATTR_DEV_BLOCK_SIZE])
		out->block_size = nla_get_u32(tb[MAICACHE_ATTR_DEV_BLOCK_SIZE]);
	if (tb[MAICACHE_ATTR_DEV_EXTENT_SIZE])
		out->extent_size = nla_get_u32(tb[MAICACHE_ATTR_DEV_EXTENT_SIZE]);
	if (tb[MAICACHE_ATTR_DEV_STALE])
		out->stale = nla_get_u8(tb[MAICACHE_ATTR_DEV_STALE]);
	if (tb[MAICACHE_ATTR_DEV_HELD])
		out->held = nla_get_u8(tb[MAICACHE_ATTR_DEV_HELD]);
	if (tb[MAICACHE_ATTR_DEV_WHOLE_EXTENTS])
		out->whole_extents = nla_get_u8(tb[MAICACHE_ATTR_DEV_WHOLE_EXTENTS]);
	if (tb[MAICACHE_ATTR_VOLUME_NAME] &&
	    nla_strlcpy(out->volume_name, tb[MAICACHE_ATTR_VOLUME_NAME],
			sizeof(out->volume_name)) >= sizeof(out->volume_name))
		return -EPROTO;
	if (tb[MAICACHE_ATTR_DEV_STATS])
		return mc_stats_from_attr(tb[MAICACHE_ATTR_DEV_STATS], &out->stats);
	return 0;
}

/* One request and its replies. */
struct mc_req {
	int (*parse)(struct nlattr **tb, void *arg);
	void *arg;
	int error;		/* from the kernel, or from parse */
	int done;
	char msg[200];		/* the kernel's extack message */
};

static int mc_req_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct mc_req *req = arg;
	int ret;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, mc_policy)) {
		req->error = -EPROTO;
		return NL_SKIP;
	}
	if (req->parse) {
		ret = req->parse(tb, req->arg);
		if (ret && !req->error)
			req->error = ret;
	}
	return NL_OK;
}

int mc_nl_extack_msg(const struct nlmsghdr *nlh, char *buf, size_t len)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t payload, off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len < NLMSG_HDRLEN)
		return -ENOENT;
	payload = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (payload < off)
		return -EPROTO;
	/*
	 * Uncapped, the request is echoed whole before the attributes; its
	 * length is the echoed header's, so it must fit in what arrived (a
	 * bogus one used to move the parse gigabytes away).
	 */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(e->msg) ||
		    e->msg.nlmsg_len - sizeof(e->msg) > payload - off)
			return -EPROTO;
		off += e->msg.nlmsg_len - sizeof(e->msg);
	}
	if (payload == off)
		return -ENOENT;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(payload - off), NULL))
		return -EPROTO;
	if (!tb[NLMSGERR_ATTR_MSG])
		return -ENOENT;
	nla_strlcpy(buf, tb[NLMSGERR_ATTR_MSG], len);
	return 0;
}

static int mc_req_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct mc_req *req = arg;

	(void)nla;
	req->error = e->error;
	req->done = 1;
	mc_nl_extack_msg(nlh, req->msg, sizeof(req->msg));
	return NL_STOP;
}

static int mc_req_finish(struct nl_msg *msg, void *arg)
{
	struct mc_req *req = arg;

	(void)msg;
	req->done = 1;
	return NL_STOP;
}

/*
 * Send msg (freed here) and run parse on each reply until the kernel acks,
 * ends the dump or errs.
 */
static int mc_nl_request(struct mc_nl *nl, struct nl_msg *msg, const char *what,
			 int (*parse)(struct nlattr **tb, void *arg), void *arg,
			 char *err, size_t errlen)
{
	struct mc_req req = { .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, mc_req_valid, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, mc_req_finish, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, mc_req_finish, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, mc_req_error, &req);

	ret = nl_send_auto(nl->sock, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !req.done)
		ret = nl_recvmsgs(nl->sock, cb);
	nl_cb_put(cb);
	if (ret < 0 && !req.error) {
		return mc_errf(err, errlen, -EIO, "%s: %s", what, nl_geterror(ret));
	}
	if (req.error == -EPROTO && !req.msg[0]) {
		return mc_errf(err, errlen, -EPROTO, "%s: malformed reply from the module", what);
	}
	if (req.error) {
		snprintf(err, errlen, "%s: %s%s%s%s", what,
			 req.msg[0] ? req.msg : strerror(-req.error),
			 req.msg[0] ? " (" : "",
			 req.msg[0] ? strerror(-req.error) : "",
			 req.msg[0] ? ")" : "");
		return req.error;
	}
	return 0;
}

static struct nl_msg *mc_nl_msg(struct mc_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags | NLM_F_ACK, cmd, MAICACHE_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int parse_version(struct nlattr **tb, void *arg)
{
	return mc_version_from_attrs(tb, arg);
}

int mc_nl_get_version(struct mc_nl *nl, struct mc_version *out,
		      char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_GET_VERSION, 0);

	if (!msg)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	return mc_nl_request(nl, msg, "version", parse_version, out, err,
			     errlen);
}

static int parse_dev(struct nlattr **tb, void *arg)
{
	return mc_dev_from_attrs(tb, arg);
}

int mc_nl_dev_add(struct mc_nl *nl, const struct mc_dev_spec *spec,
		  struct mc_dev_info *out, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_DEV_ADD, 0);

	if (!msg)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	if (nla_put_u64(msg, MAICACHE_ATTR_DEV_SIZE, spec->size) ||
	    nla_put_u64(msg, MAICACHE_ATTR_DEV_COOKIE, spec->cookie) ||
	    (spec->has_id && nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, spec->id)) ||
	    (spec->block_size &&
	     nla_put_u32(msg, MAICACHE_ATTR_DEV_BLOCK_SIZE, spec->block_size)) ||
	    (spec->extent_size &&
	     nla_put_u32(msg, MAICACHE_ATTR_DEV_EXTENT_SIZE, spec->extent_size)) ||
	    (spec->held && nla_put_u8(msg, MAICACHE_ATTR_DEV_HELD, 1)) ||
	    (spec->volume_name && spec->volume_name[0] &&
	     nl->maxattr >= MAICACHE_ATTR_VOLUME_NAME &&
	     nla_put_string(msg, MAICACHE_ATTR_VOLUME_NAME, spec->volume_name)) ||
	    (spec->whole_extents && nl->maxattr >= MAICACHE_ATTR_DEV_WHOLE_EXTENTS &&
	     nla_put_u8(msg, MAICACHE_ATTR_DEV_WHOLE_EXTENTS, 1))) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "cannot build request");
	}
	return mc_nl_request(nl, msg, "add", parse_dev, out, err, errlen);
}

int mc_nl_dev_del(struct mc_nl *nl, uint32_t id, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_DEV_DEL, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, id)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "remove", NULL, NULL, err, errlen);
}

int mc_nl_dev_set_stale(struct mc_nl *nl, uint32_t id, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_DEV_SET, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, id) ||
	    nla_put_u8(msg, MAICACHE_ATTR_DEV_STALE, 1)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "mark stale", NULL, NULL, err, errlen);
}

int mc_nl_dev_get(struct mc_nl *nl, uint32_t id, struct mc_dev_info *out,
		  char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_DEV_GET, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, id)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "stats", parse_dev, out, err, errlen);
}

struct list_ctx {
	int (*fn)(const struct mc_dev_info *dev, void *arg);
	void *arg;
};

static int parse_list(struct nlattr **tb, void *arg)
{
	struct list_ctx *ctx = arg;
	struct mc_dev_info dev;
	int ret = mc_dev_from_attrs(tb, &dev);

	return ret ? ret : ctx->fn(&dev, ctx->arg);
}

int mc_nl_dev_list(struct mc_nl *nl,
		   int (*fn)(const struct mc_dev_info *dev, void *arg),
		   void *arg, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_DEV_GET, NLM_F_DUMP);
	struct list_ctx ctx = { .fn = fn, .arg = arg };

	if (!msg)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	return mc_nl_request(nl, msg, "list", parse_list, &ctx, err, errlen);
}

static int parse_pool(struct nlattr **tb, void *arg)
{
	struct mc_pool_info *p = arg;

	if (!tb[MAICACHE_ATTR_POOL_SIZE] || !tb[MAICACHE_ATTR_POOL_USED] ||
	    !tb[MAICACHE_ATTR_DAEMON_ATTACHED])
		return -EPROTO;
	memset(p, 0, sizeof(*p));
	p->size = nla_get_u64(tb[MAICACHE_ATTR_POOL_SIZE]);
	p->used = nla_get_u64(tb[MAICACHE_ATTR_POOL_USED]);
	p->daemon_attached = nla_get_u8(tb[MAICACHE_ATTR_DAEMON_ATTACHED]);
	if (tb[MAICACHE_ATTR_DAEMON_PID])
		p->daemon_pid = nla_get_u32(tb[MAICACHE_ATTR_DAEMON_PID]);
	if (tb[MAICACHE_ATTR_BAD_COMPLETIONS])
		p->bad_completions = nla_get_u64(tb[MAICACHE_ATTR_BAD_COMPLETIONS]);
	if (tb[MAICACHE_ATTR_DAEMON_TIMEOUT_MS])
		p->daemon_timeout_ms = nla_get_u32(tb[MAICACHE_ATTR_DAEMON_TIMEOUT_MS]);
	if (tb[MAICACHE_ATTR_PINS])
		p->pins = nla_get_u32(tb[MAICACHE_ATTR_PINS]);
	if (tb[MAICACHE_ATTR_MAX_PINS])
		p->max_pins = nla_get_u32(tb[MAICACHE_ATTR_MAX_PINS]);
	return 0;
}

int mc_nl_pool_get(struct mc_nl *nl, struct mc_pool_info *out,
		   char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_POOL_GET, 0);

	if (!msg)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	return mc_nl_request(nl, msg, "pool", parse_pool, out, err, errlen);
}

int mc_nl_pool_set(struct mc_nl *nl, uint64_t size, uint32_t timeout_ms,
		   char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_POOL_SET, 0);

	if (!msg || (size && nla_put_u64(msg, MAICACHE_ATTR_POOL_SIZE, size)) ||
	    (timeout_ms != UINT32_MAX &&
	     nla_put_u32(msg, MAICACHE_ATTR_DAEMON_TIMEOUT_MS, timeout_ms))) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "pool", NULL, NULL, err, errlen);
}

static int parse_fill(struct nlattr **tb, void *arg)
{
	struct mc_extent_slot *out = arg;

	if (!tb[MAICACHE_ATTR_FILL_ID] || !tb[MAICACHE_ATTR_SLOT_OFF])
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->fill_id = nla_get_u64(tb[MAICACHE_ATTR_FILL_ID]);
	out->slot_off = nla_get_u64(tb[MAICACHE_ATTR_SLOT_OFF]);
	return 0;
}

int mc_nl_extent_fill(struct mc_nl *nl, uint32_t dev_id, uint64_t extent, uint32_t len,
		      struct mc_extent_slot *out, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_EXTENT_FILL, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, dev_id) ||
	    nla_put_u64(msg, MAICACHE_ATTR_EXTENT, extent) ||
	    nla_put_u32(msg, MAICACHE_ATTR_EXTENT_LEN, len)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "fill", parse_fill, out, err, errlen);
}

static int parse_pin(struct nlattr **tb, void *arg)
{
	struct mc_extent_slot *out = arg;

	if (!tb[MAICACHE_ATTR_PIN_ID] || !tb[MAICACHE_ATTR_SLOT_OFF] ||
	    !tb[MAICACHE_ATTR_EXTENT_LEN] || !tb[MAICACHE_ATTR_SLOT_GEN])
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->pin_id = nla_get_u32(tb[MAICACHE_ATTR_PIN_ID]);
	out->slot_off = nla_get_u64(tb[MAICACHE_ATTR_SLOT_OFF]);
	out->len = nla_get_u32(tb[MAICACHE_ATTR_EXTENT_LEN]);
	out->gen = nla_get_u32(tb[MAICACHE_ATTR_SLOT_GEN]);
	return 0;
}

int mc_nl_extent_pin(struct mc_nl *nl, uint32_t dev_id, uint64_t extent,
		     struct mc_extent_slot *out, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_EXTENT_PIN, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, dev_id) ||
	    nla_put_u64(msg, MAICACHE_ATTR_EXTENT, extent)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "pin", parse_pin, out, err, errlen);
}

int mc_nl_extent_unpin(struct mc_nl *nl, uint32_t pin_id, char *err, size_t errlen)
{
	struct nl_msg *msg = mc_nl_msg(nl, MAICACHE_CMD_EXTENT_UNPIN, 0);

	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_PIN_ID, pin_id)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "unpin", NULL, NULL, err, errlen);
}

int mc_warm_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
		       struct mc_warm_reply *out)
{
	if (!tb[MAICACHE_ATTR_WARM_QUEUED] || !tb[MAICACHE_ATTR_WARM_READY] ||
	    !tb[MAICACHE_ATTR_WARM_FILLING] || !tb[MAICACHE_ATTR_WARM_NEXT] ||
	    !tb[MAICACHE_ATTR_WARM_BUSY])
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->queued = nla_get_u32(tb[MAICACHE_ATTR_WARM_QUEUED]);
	out->ready = nla_get_u32(tb[MAICACHE_ATTR_WARM_READY]);
	out->filling = nla_get_u32(tb[MAICACHE_ATTR_WARM_FILLING]);
	out->next = nla_get_u64(tb[MAICACHE_ATTR_WARM_NEXT]);
	out->busy = nla_get_u8(tb[MAICACHE_ATTR_WARM_BUSY]);
	return 0;
}

static int parse_warm(struct nlattr **tb, void *arg)
{
	return mc_warm_from_attrs(tb, arg);
}

int mc_nl_extent_warm(struct mc_nl *nl, uint32_t dev_id, uint64_t first, uint64_t last,
		      struct mc_warm_reply *out, char *err, size_t errlen)
{
	struct nl_msg *msg;

	/* An older module refuses the attribute it does not know: say why. */
	if (nl->maxattr && nl->maxattr < MAICACHE_ATTR_EXTENT_LAST)
		return mc_errf(err, errlen, -EOPNOTSUPP,
			       "warmup: the loaded maicache module is older than warmup (no EXTENT_WARM): load the module of this release");
	msg = mc_nl_msg(nl, MAICACHE_CMD_EXTENT_WARM, 0);
	if (!msg || nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, dev_id) ||
	    nla_put_u64(msg, MAICACHE_ATTR_EXTENT, first) ||
	    nla_put_u64(msg, MAICACHE_ATTR_EXTENT_LAST, last)) {
		nlmsg_free(msg);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return mc_nl_request(nl, msg, "warmup", parse_warm, out, err, errlen);
}

struct monitor_ctx {
	int (*fn)(int cmd, struct nlattr **tb, void *arg);
	void *arg;
	int stop;
};

static int monitor_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct genlmsghdr *g = genlmsg_hdr(nlmsg_hdr(msg));
	struct monitor_ctx *ctx = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, mc_policy))
		return NL_SKIP;
	ctx->stop = ctx->fn(g->cmd, tb, ctx->arg);
	return ctx->stop ? NL_STOP : NL_OK;
}

int mc_nl_monitor(struct mc_nl *nl, int (*fn)(int cmd, struct nlattr **tb,
					      void *arg),
		  void *arg, char *err, size_t errlen)
{
	struct monitor_ctx ctx = { .fn = fn, .arg = arg };
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sock, MAICACHE_GENL_NAME,
				    MAICACHE_GENL_MCAST_EVENTS);
	if (grp < 0) {
		return mc_errf(err, errlen, -ENOENT, "events group not found: %s", nl_geterror(grp));
	}
	nl_socket_disable_seq_check(nl->sock);
	ret = nl_socket_add_membership(nl->sock, grp);
	if (ret < 0) {
		return mc_errf(err, errlen, -EIO, "cannot join the events group: %s",
			 nl_geterror(ret));
	}
	nl_socket_modify_cb(nl->sock, NL_CB_VALID, NL_CB_CUSTOM, monitor_valid,
			    &ctx);
	while (!ctx.stop) {
		ret = nl_recvmsgs_default(nl->sock);
		if (ret < 0 && ret != -NLE_INTR) {
			return mc_errf(err, errlen, -EIO, "events: %s", nl_geterror(ret));
		}
	}
	return 0;
}
