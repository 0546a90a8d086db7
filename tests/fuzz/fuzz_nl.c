// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the replies lib/nlclient.c reads from the module's
 * generic netlink family. The file is included whole so that its static
 * callbacks, the ones libnl calls with each reply, are what is fuzzed:
 * mc_req_valid() with each command's parser, mc_req_error() with an error
 * or ack and its extended-ack attributes, and monitor_valid() with an
 * event. The first input byte picks the callback, the next ones the
 * header fields, the rest is the payload; the message is a heap block of
 * exactly nlmsg_len bytes, as libnl hands over a received one.
 *
 * Checked beyond the sanitizers: a reply either parses or sets an error
 * (never a half-filled answer called good), strings come out terminated
 * inside their buffers, and an error's message is terminated.
 */
#include "../../lib/nlclient.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int list_fn(const struct mc_dev_info *dev, void *arg)
{
	if (!memchr(dev->name, '\0', sizeof(dev->name)))
		__builtin_trap();
	(*(int *)arg)++;
	return 0;
}

static int monitor_fn(int cmd, struct nlattr **tb, void *arg)
{
	struct mc_dev_info dev;

	(void)cmd;
	(void)arg;
	if (!mc_dev_from_attrs(tb, &dev) && !memchr(dev.name, '\0', sizeof(dev.name)))
		__builtin_trap();
	return 0;
}

union answer {
	struct mc_version v;
	struct mc_dev_info dev;
	struct mc_pool_info pool;
	struct mc_extent_slot slot;
};

static void check_answer(int which, const union answer *a)
{
	switch (which) {
	case 0:
		if (!memchr(a->v.version, '\0', sizeof(a->v.version)))
			__builtin_trap();
		break;
	case 1:
		if (!memchr(a->dev.name, '\0', sizeof(a->dev.name)))
			__builtin_trap();
		break;
	}
}

static void reply(int which, const uint8_t *data, size_t size)
{
	static int (*const parsers[])(struct nlattr **, void *) = {
		parse_version, parse_dev, parse_list, parse_pool, parse_fill, parse_pin,
	};
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN + size;
	struct nlmsghdr *nlh = calloc(1, len);
	struct genlmsghdr *g = (void *)((char *)nlh + NLMSG_HDRLEN);
	struct nl_msg *msg;
	struct list_ctx lc;
	struct monitor_ctx mc = { monitor_fn, NULL, 0 };
	union answer a;
	struct mc_req req;
	int count = 0;

	if (!nlh)
		return;
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = GENL_ID_CTRL + 1;
	g->cmd = MAICACHE_CMD_DEV_GET;
	g->version = MAICACHE_GENL_VERSION;
	memcpy((char *)g + GENL_HDRLEN, data, size);
	msg = nlmsg_convert(nlh);
	free(nlh);
	if (!msg)
		return;
	if (which == 6) {
		monitor_valid(msg, &mc);
		nlmsg_free(msg);
		return;
	}
	memset(&req, 0, sizeof(req));
	memset(&a, 0x5a, sizeof(a));
	req.parse = parsers[which];
	req.arg = &a;
	if (which == 2) {
		lc.fn = list_fn;
		lc.arg = &count;
		req.arg = &lc;
	}
	mc_req_valid(msg, &req);
	if (!req.error)
		check_answer(which, &a);
	nlmsg_free(msg);
}

/* An NLMSG_ERROR: nlmsghdr, nlmsgerr (echoed header), echoed payload or
 * extended-ack attributes, all from the input. */
static void error(const uint8_t *data, size_t size)
{
	size_t len = NLMSG_HDRLEN + sizeof(struct nlmsgerr) + size;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	struct mc_req req;
	uint16_t flags = 0;

	if (size >= 2) {
		memcpy(&flags, data, 2);
		data += 2;
		size -= 2;
		len -= 2;
	}
	nlh = calloc(1, len);
	if (!nlh)
		return;
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = flags;
	e = (void *)((char *)nlh + NLMSG_HDRLEN);
	/* error and the echoed header first, then the rest */
	memcpy(e, data, size < sizeof(*e) ? size : sizeof(*e));
	if (size > sizeof(*e))
		memcpy(e + 1, data + sizeof(*e), size - sizeof(*e));
	memset(&req, 0, sizeof(req));
	memset(req.msg, 'x', sizeof(req.msg));
	req.msg[0] = '\0';
	mc_req_error(NULL, e, &req);
	if (!req.done || req.error != e->error ||
	    !memchr(req.msg, '\0', sizeof(req.msg)))
		__builtin_trap();
	free(nlh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int which;

	if (!size)
		return 0;
	which = data[0] % 8;
	if (which == 7)
		error(data + 1, size - 1);
	else
		reply(which, data + 1, size - 1);
	return 0;
}
