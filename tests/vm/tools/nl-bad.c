// SPDX-License-Identifier: MIT
/*
 * nl-bad: send malformed or forbidden requests to the "maicache" generic
 * netlink family and check that each one is refused with the right errno,
 * the right extack (message, bad-attribute offset or missing-attribute
 * type) and that no device was created and the pool was left alone.
 *
 *   nl-bad            the malformed-request cases (needs CAP_SYS_ADMIN)
 *   nl-bad --unpriv   well-formed requests that must all get EPERM (run it
 *                     without capabilities, e.g. under setpriv)
 *
 * One line per case: "PASS|FAIL <case>: errno N (NAME) extack '<msg>' ...".
 * Exit 0 when every case behaved, 1 otherwise, 2 on setup errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include "maicache_genl.h"
#include "maicache_volume_name.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MiB (1ULL << 20)
/* The device nl-bad creates and (with --keep) leaves: 8 MiB, extent 64 KiB. */
#define RESIDENT_ID 3
#define RESIDENT_COOKIE 0xbad

/* Module messages (kmod/nl.c); anything else is the kernel's own policy text. */
#define M_PERM		"maicache control needs CAP_SYS_ADMIN"
#define M_BS		"block size must be 512, 1024, 2048 or 4096"
#define M_EXTENT	"extent size must be a power of two from 64 KiB to 4 MiB"
#define M_RO		"writable devices are not supported"
#define M_SIZE		"size must be a multiple of the block size"
#define M_ID		"device id must be below 65536"
#define M_INUSE		"device id in use"
#define M_NODEV		"no such device"
#define M_FRESH		"a stale device cannot be made fresh: remove it and add it again"
#define M_SEGMENT	"the pool must hold at least one 4 MiB segment"
#define M_NOMEM		"not enough available memory for this pool"
#define M_BUSY		"remove all devices before resizing the pool"
#define M_TIMEOUT	"the daemon timeout must be 100 ms to 1 hour"
/* EXTENT_WARM (kmod/nl.c, kmod/warm.c). */
#define M_W_ORDER	"the last extent is before the first"
#define M_W_RANGE	"extent beyond the device's size"
#define M_W_NODAEMON	"no daemon is attached to fill the extents"
#define M_W_HELD	"a held device has no disk to warm"
#define M_W_STALE	"the device is stale: its source changed"
/* The volume name rule (proto/maicache_volume_name.h) and its use in nl.c. */
#define M_VN_LONG	"volume name longer than 63 bytes"
#define M_VN_START	"volume name must not start with '.' or '-'"
#define M_VN_CHARS	"volume name may hold only ASCII letters, digits and ._-+:@"
#define M_VN_AFTER	"volume name has bytes after its NUL"
#define M_VN_HELD	"a held device has no disk to name"
#define M_VN_INUSE	"volume name in use by another device"
/* The name of the device nl-bad leaves: every rule's edge at once. */
#define RESIDENT_NAME	"0nl-bad_resident.v1+x:y@z"
/* Any non-empty message (text of the kernel's policy code varies by version). */
#define M_ANY		((const char *)1)

static struct nl_sock *sock;
static int family;
static int failures, cases;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nl-bad: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* What the kernel answered to one request. */
struct answer {
	int error;		/* 0 or negative errno; from the ack or the dump's DONE */
	bool done;
	int replies;		/* data messages received */
	char msg[256];		/* NLMSGERR_ATTR_MSG */
	bool has_offs;
	uint32_t offs;		/* NLMSGERR_ATTR_OFFS */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or -1 */
	uint64_t pool_size;	/* from a POOL_GET reply */
	uint32_t timeout_ms;	/* from a POOL_GET reply */
	int last_dev_id;	/* from a DEV_ADD/DEV_GET reply */
};

static void parse_ext_tlvs(struct answer *a, void *start, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, start, len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(a->msg, tb[NLMSGERR_ATTR_MSG], sizeof(a->msg));
	if (tb[NLMSGERR_ATTR_OFFS]) {
		a->has_offs = true;
		a->offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		a->miss_type = (int)nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
}

static int cb_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct answer *a = arg;
	size_t off = sizeof(*e);

	(void)nla;
	a->error = e->error;
	a->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	parse_ext_tlvs(a, (char *)e + off, (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off);
	return NL_STOP;
}

static int cb_ack(struct nl_msg *msg, void *arg)
{
	struct answer *a = arg;

	(void)msg;
	a->done = true;
	return NL_STOP;
}

/* The end of a dump carries the dump's errno (and extack) in its payload. */
static int cb_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct answer *a = arg;
	int len = (int)nlh->nlmsg_len - NLMSG_HDRLEN;

	a->done = true;
	if (len >= (int)sizeof(int)) {
		a->error = *(int *)nlmsg_data(nlh);
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
			parse_ext_tlvs(a, (char *)nlmsg_data(nlh) + sizeof(int),
				       len - (int)sizeof(int));
	}
	return NL_STOP;
}

static int cb_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct answer *a = arg;

	a->replies++;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, NULL) == 0) {
		if (tb[MAICACHE_ATTR_POOL_SIZE] && nla_len(tb[MAICACHE_ATTR_POOL_SIZE]) == 8)
			a->pool_size = nla_get_u64(tb[MAICACHE_ATTR_POOL_SIZE]);
		if (tb[MAICACHE_ATTR_DAEMON_TIMEOUT_MS] &&
		    nla_len(tb[MAICACHE_ATTR_DAEMON_TIMEOUT_MS]) == 4)
			a->timeout_ms = nla_get_u32(tb[MAICACHE_ATTR_DAEMON_TIMEOUT_MS]);
		if (tb[MAICACHE_ATTR_DEV_ID] && nla_len(tb[MAICACHE_ATTR_DEV_ID]) == 4)
			a->last_dev_id = (int)nla_get_u32(tb[MAICACHE_ATTR_DEV_ID]);
	}
	return NL_OK;
}

static int cb_noseq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static struct nl_msg *new_msg(uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 flags | NLM_F_ACK, cmd, MAICACHE_GENL_VERSION))
		fatal("cannot build a message");
	return msg;
}

/*
 * Send msg (freed here). If want_attr_type >= 0, *attr_ok tells whether the
 * extack offset points at an attribute of that type in what we sent.
 */
static void request(struct nl_msg *msg, struct answer *a, int want_attr_type, bool *attr_ok)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	unsigned char *copy;
	uint32_t len;
	int ret;

	memset(a, 0, sizeof(*a));
	a->miss_type = -1;
	a->last_dev_id = -1;
	if (!cb)
		fatal("out of memory");
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, cb_noseq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, a);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_ack, a);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_finish, a);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_error, a);
	nl_complete_msg(sock, msg);
	len = nlmsg_hdr(msg)->nlmsg_len;
	copy = malloc(len);
	if (!copy)
		fatal("out of memory");
	memcpy(copy, nlmsg_hdr(msg), len);
	ret = nl_send(sock, msg);
	nlmsg_free(msg);
	if (ret < 0)
		fatal("send: %s", nl_geterror(ret));
	while (!a->done) {
		ret = nl_recvmsgs(sock, cb);
		if (ret < 0 && !a->done)
			fatal("receive: %s", nl_geterror(ret));
	}
	nl_cb_put(cb);
	if (attr_ok) {
		*attr_ok = false;
		if (want_attr_type >= 0 && a->has_offs &&
		    a->offs + sizeof(struct nlattr) <= len) {
			struct nlattr *bad = (struct nlattr *)(copy + a->offs);

			*attr_ok = (bad->nla_type & NLA_TYPE_MASK) == want_attr_type;
		}
	}
	free(copy);
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case ENOMEM: return "ENOMEM";
	case ERANGE: return "ERANGE";
	case ENOENT: return "ENOENT";
	case ENOTCONN: return "ENOTCONN";
	case ESTALE: return "ESTALE";
	default: return "?";
	}
}

/* Every device id, by dump; returns the count. */
static int list_devices(int *ids, int max)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	struct nl_msg *msg = new_msg(MAICACHE_CMD_DEV_GET, NLM_F_DUMP);
	struct answer a;
	int n = 0, ret;

	/* A dump delivers one reply per device: collect ids one at a time. */
	memset(&a, 0, sizeof(a));
	a.miss_type = -1;
	if (!cb)
		fatal("out of memory");
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_ack, &a);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_finish, &a);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_error, &a);
	ret = nl_send_auto(sock, msg);
	nlmsg_free(msg);
	if (ret < 0)
		fatal("send: %s", nl_geterror(ret));
	while (!a.done) {
		struct sockaddr_nl peer;
		unsigned char *buf = NULL;
		struct nlmsghdr *h;
		int len;

		len = nl_recv(sock, &peer, &buf, NULL);
		if (len <= 0)
			fatal("receive: %s", len ? nl_geterror(len) : "EOF");
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
			struct nlattr *tb[MAICACHE_ATTR_MAX + 1];

			if (h->nlmsg_type == NLMSG_DONE) {
				a.done = true;
				a.error = *(int *)nlmsg_data(h);
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				a.done = true;
				a.error = ((struct nlmsgerr *)nlmsg_data(h))->error;
				break;
			}
			if (genlmsg_parse(h, 0, tb, MAICACHE_ATTR_MAX, NULL) == 0 &&
			    tb[MAICACHE_ATTR_DEV_ID] && n < max)
				ids[n++] = (int)nla_get_u32(tb[MAICACHE_ATTR_DEV_ID]);
		}
		free(buf);
	}
	nl_cb_put(cb);
	if (a.error)
		fatal("device dump failed: %s", strerror(-a.error));
	return n;
}

static uint64_t pool_size(void)
{
	struct answer a;

	request(new_msg(MAICACHE_CMD_POOL_GET, 0), &a, -1, NULL);
	if (a.error || !a.pool_size)
		fatal("POOL_GET failed: %s", strerror(-a.error));
	return a.pool_size;
}

static uint32_t daemon_timeout(void)
{
	struct answer a;

	request(new_msg(MAICACHE_CMD_POOL_GET, 0), &a, -1, NULL);
	if (a.error || !a.timeout_ms)
		fatal("POOL_GET failed: %s", strerror(-a.error));
	return a.timeout_ms;
}

static struct nl_msg *timeout_msg(uint64_t size, uint32_t ms)
{
	struct nl_msg *msg = new_msg(MAICACHE_CMD_POOL_SET, 0);

	if ((size && nla_put_u64(msg, MAICACHE_ATTR_POOL_SIZE, size)) ||
	    nla_put_u32(msg, MAICACHE_ATTR_DAEMON_TIMEOUT_MS, ms))
		fatal("nla_put");
	return msg;
}

static void dev_del(uint32_t id)
{
	struct nl_msg *msg = new_msg(MAICACHE_CMD_DEV_DEL, 0);
	struct answer a;

	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, id))
		fatal("nla_put");
	request(msg, &a, -1, NULL);
	if (a.error)
		fatal("cannot remove device %u: %s", id, strerror(-a.error));
}

/* The devices that exist when a case starts; each case must leave exactly these. */
static int base_ids[64], nbase;
static uint64_t base_pool;
static bool unpriv, keep;

static bool in_base(int id)
{
	for (int i = 0; i < nbase; i++)
		if (base_ids[i] == id)
			return true;
	return false;
}

static void snapshot(void)
{
	nbase = list_devices(base_ids, 64);
	base_pool = pool_size();
}

/*
 * Run one case. want_msg: exact text, M_ANY (non-empty) or NULL (none
 * required). bad_attr: the attribute the extack offset must name (-1: not
 * checked). miss_attr: the attribute the kernel must report missing (-1:
 * not checked).
 */
static void check(const char *name, struct nl_msg *msg, int want_errno,
		  const char *want_msg, int bad_attr, int miss_attr)
{
	char why[512] = "";
	struct answer a;
	bool attr_ok;
	int ids[64], n;

	cases++;
	request(msg, &a, bad_attr, &attr_ok);
	if (-a.error != want_errno)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " [want errno %d (%s)]", want_errno, errname(want_errno));
	if (want_msg == M_ANY && !a.msg[0])
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " [want an extack message]");
	else if (want_msg && want_msg != M_ANY && strcmp(a.msg, want_msg))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " [want extack '%s']", want_msg);
	if (bad_attr >= 0 && !attr_ok)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " [want bad-attribute offset at attribute %d]", bad_attr);
	if (miss_attr >= 0 && a.miss_type != miss_attr)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " [want missing attribute %d]", miss_attr);

	/* Nothing created, nothing removed, the pool unchanged. */
	if (!unpriv) {
		n = list_devices(ids, 64);
		for (int i = 0; i < n; i++) {
			if (!in_base(ids[i])) {
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " [device %d was created]", ids[i]);
				dev_del((uint32_t)ids[i]);
			}
		}
		if (n < nbase)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " [a device disappeared: %d now, %d before]", n, nbase);
		if (pool_size() != base_pool)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " [pool size changed from %" PRIu64 "]", base_pool);
	}

	printf("%s %s: errno %d (%s) extack '%s'", why[0] ? "FAIL" : "PASS", name,
	       -a.error, errname(-a.error), a.msg);
	if (a.has_offs)
		printf(" offs %u%s", a.offs, bad_attr >= 0 ? (attr_ok ? " (right attr)" : " (WRONG attr)") : "");
	if (a.miss_type >= 0)
		printf(" missing-attr %d", a.miss_type);
	printf("%s\n", why);
	fflush(stdout);
	if (why[0])
		failures++;
}

/* A DEV_ADD: valid size (16 MiB) and cookie unless told otherwise. */
struct add {
	bool no_size, no_cookie;
	bool set_size, set_bs, set_extent, set_ro, set_id, set_held;
	uint64_t size;
	uint32_t bs, extent, id;
	uint8_t ro;
	const char *vname;	/* VOLUME_NAME payload of vname_len bytes */
	int vname_len;
};

static struct nl_msg *add_msg(const struct add *p)
{
	struct nl_msg *msg = new_msg(MAICACHE_CMD_DEV_ADD, 0);
	uint64_t size = p->set_size ? p->size : 16 * MiB;

	if ((!p->no_size && nla_put_u64(msg, MAICACHE_ATTR_DEV_SIZE, size)) ||
	    (!p->no_cookie && nla_put_u64(msg, MAICACHE_ATTR_DEV_COOKIE, RESIDENT_COOKIE)) ||
	    (p->set_bs && nla_put_u32(msg, MAICACHE_ATTR_DEV_BLOCK_SIZE, p->bs)) ||
	    (p->set_extent && nla_put_u32(msg, MAICACHE_ATTR_DEV_EXTENT_SIZE, p->extent)) ||
	    (p->set_ro && nla_put_u8(msg, MAICACHE_ATTR_DEV_READ_ONLY, p->ro)) ||
	    (p->set_id && nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, p->id)) ||
	    (p->set_held && nla_put_u8(msg, MAICACHE_ATTR_DEV_HELD, 1)) ||
	    (p->vname && nla_put(msg, MAICACHE_ATTR_VOLUME_NAME, p->vname_len, p->vname)))
		fatal("nla_put");
	return msg;
}

#define ADD(...) add_msg(&(struct add){ __VA_ARGS__ })
#define SIZE(x) .set_size = true, .size = (x)
#define BS(x) .set_bs = true, .bs = (uint32_t)(x)
#define EXTENT(x) .set_extent = true, .extent = (uint32_t)(x)
#define RO(x) .set_ro = true, .ro = (x)
#define ID(x) .set_id = true, .id = (uint32_t)(x)
/* A string literal as the payload, its NUL included; VNAME_RAW: len bytes. */
#define VNAME(lit) .vname = (lit), .vname_len = (int)sizeof(lit)
#define VNAME_RAW(p, len) .vname = (p), .vname_len = (len)

static struct nl_msg *id_msg(uint8_t cmd, uint32_t id)
{
	struct nl_msg *msg = new_msg(cmd, 0);

	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, id))
		fatal("nla_put");
	return msg;
}

static struct nl_msg *stale_msg(uint32_t id, uint8_t stale)
{
	struct nl_msg *msg = id_msg(MAICACHE_CMD_DEV_SET, id);

	if (nla_put_u8(msg, MAICACHE_ATTR_DEV_STALE, stale))
		fatal("nla_put");
	return msg;
}

static struct nl_msg *pool_msg(uint64_t size)
{
	struct nl_msg *msg = new_msg(MAICACHE_CMD_POOL_SET, 0);

	if (nla_put_u64(msg, MAICACHE_ATTR_POOL_SIZE, size))
		fatal("nla_put");
	return msg;
}

static uint64_t mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];

	if (!f)
		fatal("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	if (!kb)
		fatal("no MemTotal in /proc/meminfo");
	return kb << 10;
}

/* An EXTENT_WARM of extents first..last of device id (a field < 0: left out). */
static struct nl_msg *warm_msg(int64_t id, int64_t first, int64_t last)
{
	struct nl_msg *msg = new_msg(MAICACHE_CMD_EXTENT_WARM, 0);

	if ((id >= 0 && nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, (uint32_t)id)) ||
	    (first >= 0 && nla_put_u64(msg, MAICACHE_ATTR_EXTENT, (uint64_t)first)) ||
	    (last >= 0 && nla_put_u64(msg, MAICACHE_ATTR_EXTENT_LAST, (uint64_t)last)))
		fatal("nla_put");
	return msg;
}

/* A device for one case (@msg a DEV_ADD), in the snapshot while it lasts. */
static uint32_t case_device(struct nl_msg *msg, const char *what)
{
	struct answer a;

	cases++;
	request(msg, &a, -1, NULL);
	if (a.error || a.last_dev_id < 0)
		fatal("cannot create %s: errno %d extack '%s'", what, -a.error, a.msg);
	printf("PASS setup: %s is device %d\n", what, a.last_dev_id);
	snapshot();
	return (uint32_t)a.last_dev_id;
}

static void case_device_del(uint32_t id)
{
	dev_del(id);
	snapshot();
}

/*
 * EXTENT_WARM: every attribute checked, the device and the range too;
 * nothing is fetched (netlink_bad_input.sh checks the pool is unused).
 */
static void warm_cases(void)
{
	const int64_t last = 8 * MiB / (64 << 10) - 1;	/* the resident device's */
	struct nl_msg *msg;
	uint32_t id;

	check("EXTENT_WARM without DEV_ID", warm_msg(-1, 0, 0), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_ID);
	check("EXTENT_WARM without EXTENT", warm_msg(RESIDENT_ID, -1, 0), EINVAL, NULL, -1,
	      MAICACHE_ATTR_EXTENT);
	check("EXTENT_WARM without EXTENT_LAST", warm_msg(RESIDENT_ID, 0, -1), EINVAL, NULL, -1,
	      MAICACHE_ATTR_EXTENT_LAST);
	check("EXTENT_WARM missing device", warm_msg(RESIDENT_ID + 2, 0, 0), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	check("EXTENT_WARM id 0xffffffff", warm_msg(0xffffffffLL, 0, 0), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	check("EXTENT_WARM last before first", warm_msg(RESIDENT_ID, 5, 4), EINVAL, M_W_ORDER,
	      MAICACHE_ATTR_EXTENT_LAST, -1);
	check("EXTENT_WARM last one past the device", warm_msg(RESIDENT_ID, 0, last + 1), ERANGE,
	      M_W_RANGE, MAICACHE_ATTR_EXTENT_LAST, -1);
	check("EXTENT_WARM last 2^63", warm_msg(RESIDENT_ID, 0, INT64_MAX), ERANGE, M_W_RANGE,
	      MAICACHE_ATTR_EXTENT_LAST, -1);
	check("EXTENT_WARM first past the device", warm_msg(RESIDENT_ID, last + 1, last + 1),
	      ERANGE, M_W_RANGE, MAICACHE_ATTR_EXTENT, -1);
	msg = new_msg(MAICACHE_CMD_EXTENT_WARM, 0);
	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, RESIDENT_ID) ||
	    nla_put_u64(msg, MAICACHE_ATTR_EXTENT, 0) ||
	    nla_put_u32(msg, MAICACHE_ATTR_EXTENT_LAST, 1))
		fatal("nla_put");
	check("EXTENT_WARM EXTENT_LAST as u32", msg, EINVAL, M_ANY, MAICACHE_ATTR_EXTENT_LAST, -1);
	msg = warm_msg(RESIDENT_ID, 0, 1);
	if (nla_put_u32(msg, MAICACHE_ATTR_WARM_QUEUED, 1))
		fatal("nla_put");
	check("EXTENT_WARM with reply-only WARM_QUEUED", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_WARM_QUEUED, -1);
	/* Well formed, but no daemon is attached here: nothing would fill them. */
	check("EXTENT_WARM with no daemon", warm_msg(RESIDENT_ID, 0, last), ENOTCONN,
	      M_W_NODAEMON, -1, -1);

	id = case_device(ADD(.set_held = true, SIZE(4 * MiB)), "a held device");
	check("EXTENT_WARM held device", warm_msg(id, 0, 0), EOPNOTSUPP, M_W_HELD,
	      MAICACHE_ATTR_DEV_ID, -1);
	case_device_del(id);
	id = case_device(ADD(ID(RESIDENT_ID + 3), SIZE(4 * MiB)), "a device to make stale");
	{
		struct answer a;

		request(stale_msg(id, 1), &a, -1, NULL);
		if (a.error)
			fatal("cannot mark device %u stale: %s", id, strerror(-a.error));
	}
	check("EXTENT_WARM stale device", warm_msg(id, 0, 0), ESTALE, M_W_STALE,
	      MAICACHE_ATTR_DEV_ID, -1);
	case_device_del(id);
}

/* A POOL_SET case that must leave the daemon timeout as it was. */
static void check_timeout_kept(const char *name, struct nl_msg *msg, int want_errno,
			       const char *want_msg, int bad_attr)
{
	uint32_t before = daemon_timeout();

	check(name, msg, want_errno, want_msg, bad_attr, -1);
	cases++;
	if (daemon_timeout() != before) {
		printf("FAIL %s: the daemon timeout changed from %u to %u ms\n", name, before,
		       daemon_timeout());
		failures++;
	} else {
		printf("PASS %s: the daemon timeout stays %u ms\n", name, before);
	}
}

static void malformed_cases(void)
{
	uint64_t ram = mem_total();
	struct nl_msg *msg;
	char name[128];
	uint32_t free_id = 0;

	/* The pool, while no device exists (else everything is EBUSY). */
	if (nbase)
		fatal("start with no device: the pool cases need none");
	check("POOL_SET size 0", pool_msg(0), ERANGE, M_ANY, MAICACHE_ATTR_POOL_SIZE, -1);
	check("POOL_SET size 1", pool_msg(1), EINVAL, M_SEGMENT, MAICACHE_ATTR_POOL_SIZE, -1);
	check("POOL_SET size 4M-1", pool_msg(4 * MiB - 1), EINVAL, M_SEGMENT,
	      MAICACHE_ATTR_POOL_SIZE, -1);
	snprintf(name, sizeof(name), "POOL_SET size MemTotal (%" PRIu64 " MiB)", ram >> 20);
	check(name, pool_msg(ram), ENOSPC, M_NOMEM, MAICACHE_ATTR_POOL_SIZE, -1);
	snprintf(name, sizeof(name), "POOL_SET size 95%% of MemTotal (%" PRIu64 " MiB)",
		 (ram / 20 * 19) >> 20);
	check(name, pool_msg(ram / 20 * 19), ENOSPC, M_NOMEM, MAICACHE_ATTR_POOL_SIZE, -1);
	check("POOL_SET size 1 TiB", pool_msg(1ULL << 40), ENOSPC, M_NOMEM,
	      MAICACHE_ATTR_POOL_SIZE, -1);
	check("POOL_SET size 2^64-1", pool_msg(~0ULL), ENOSPC, M_NOMEM,
	      MAICACHE_ATTR_POOL_SIZE, -1);
	msg = new_msg(MAICACHE_CMD_POOL_SET, 0);
	if (nla_put_u32(msg, MAICACHE_ATTR_POOL_SIZE, 64 << 20))
		fatal("nla_put");
	check("POOL_SET POOL_SIZE as u32", msg, EINVAL, M_ANY, MAICACHE_ATTR_POOL_SIZE, -1);
	check_timeout_kept("POOL_SET daemon timeout 0 ms", timeout_msg(0, 0), ERANGE,
			   M_TIMEOUT, MAICACHE_ATTR_DAEMON_TIMEOUT_MS);
	check_timeout_kept("POOL_SET daemon timeout 99 ms", timeout_msg(0, 99), ERANGE,
			   M_TIMEOUT, MAICACHE_ATTR_DAEMON_TIMEOUT_MS);
	check_timeout_kept("POOL_SET daemon timeout 2^32-1 ms", timeout_msg(0, ~0U), ERANGE,
			   M_TIMEOUT, MAICACHE_ATTR_DAEMON_TIMEOUT_MS);
	/* A resize that fails changes nothing, the timeout sent with it included. */
	check_timeout_kept("POOL_SET size 1 with a timeout of 5 s", timeout_msg(1, 5000), EINVAL,
			   M_SEGMENT, MAICACHE_ATTR_POOL_SIZE);
	check_timeout_kept("POOL_SET size 1 TiB with a timeout of 5 s",
			   timeout_msg(1ULL << 40, 5000), ENOSPC, M_NOMEM, MAICACHE_ATTR_POOL_SIZE);

	/* The refusals above are not just a pool that cannot change: it can. */
	cases++;
	{
		uint64_t orig = base_pool, now;
		struct answer a;

		request(pool_msg(32 * MiB), &a, -1, NULL);
		now = pool_size();
		request(pool_msg(orig), &a, -1, NULL);
		if (now != 32 * MiB || a.error || pool_size() != orig) {
			printf("FAIL POOL_SET 32M and back: pool %" PRIu64 " then errno %d\n", now,
			       -a.error);
			failures++;
		} else {
			printf("PASS POOL_SET 32M and back to %" PRIu64 " MiB: accepted\n",
			       orig >> 20);
		}
	}

	/* A device of our own that every later case must leave alone. */
	cases++;
	{
		struct answer a;

		request(ADD(ID(RESIDENT_ID), SIZE(8 * MiB), EXTENT(64 << 10),
			    VNAME(RESIDENT_NAME)), &a, -1, NULL);
		if (a.error || a.last_dev_id != RESIDENT_ID)
			fatal("cannot create /dev/maicache%d: errno %d extack '%s'", RESIDENT_ID,
			      -a.error, a.msg);
		printf("PASS setup: DEV_ADD id %d created /dev/maicache%d\n", RESIDENT_ID,
		       RESIDENT_ID);
	}
	snapshot();
	free_id = RESIDENT_ID + 2;

	/* Missing required attributes. */
	check("DEV_ADD without DEV_SIZE", ADD(.no_size = true), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_SIZE);
	check("DEV_ADD without DEV_COOKIE", ADD(.no_cookie = true), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_COOKIE);
	check("DEV_ADD with no attributes", ADD(.no_size = true, .no_cookie = true), EINVAL,
	      NULL, -1, -1);

	/* Geometry. */
	check("DEV_ADD size 0", ADD(SIZE(0)), ERANGE, M_ANY, MAICACHE_ATTR_DEV_SIZE, -1);
	check("DEV_ADD size 1000 (block 512)", ADD(SIZE(1000)), EINVAL, M_SIZE,
	      MAICACHE_ATTR_DEV_SIZE, -1);
	check("DEV_ADD size 16M+512 (block 4096)", ADD(SIZE(16 * MiB + 512), BS(4096)),
	      EINVAL, M_SIZE, MAICACHE_ATTR_DEV_SIZE, -1);
	check("DEV_ADD size 2^64-512 (beyond MAX_LFS_FILESIZE)", ADD(SIZE(~0ULL - 511)),
	      EINVAL, M_SIZE, MAICACHE_ATTR_DEV_SIZE, -1);
	static const int64_t bad_bs[] = { 3000, 256, 8192, 0, 1, 1536 };
	for (size_t i = 0; i < sizeof(bad_bs) / sizeof(bad_bs[0]); i++) {
		snprintf(name, sizeof(name), "DEV_ADD block size %" PRId64, bad_bs[i]);
		check(name, ADD(BS(bad_bs[i])), EINVAL, M_BS, MAICACHE_ATTR_DEV_BLOCK_SIZE, -1);
	}
	static const int64_t bad_ext[] = { 1000, 3 * MiB, 128 * MiB, 32 << 10, 0,
					   (64 << 10) + 4096, 8 * MiB };
	for (size_t i = 0; i < sizeof(bad_ext) / sizeof(bad_ext[0]); i++) {
		snprintf(name, sizeof(name), "DEV_ADD extent size %" PRId64, bad_ext[i]);
		check(name, ADD(EXTENT(bad_ext[i])), EINVAL, M_EXTENT,
		      MAICACHE_ATTR_DEV_EXTENT_SIZE, -1);
	}
	check("DEV_ADD read_only 0", ADD(RO(0)), EOPNOTSUPP, M_RO,
	      MAICACHE_ATTR_DEV_READ_ONLY, -1);
	check("DEV_ADD read_only 2", ADD(RO(2)), ERANGE, M_ANY,
	      MAICACHE_ATTR_DEV_READ_ONLY, -1);
	check("DEV_ADD id 70000", ADD(ID(70000)), EINVAL, M_ID, MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_ADD id 65536", ADD(ID(65536)), EINVAL, M_ID, MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_ADD id 0xffffffff", ADD(ID(0xffffffffU)), EINVAL, M_ID,
	      MAICACHE_ATTR_DEV_ID, -1);

	/* Attributes of the wrong type or length. */
	msg = new_msg(MAICACHE_CMD_DEV_ADD, 0);
	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_SIZE, 16 << 20) ||
	    nla_put_u64(msg, MAICACHE_ATTR_DEV_COOKIE, 1))
		fatal("nla_put");
	check("DEV_ADD DEV_SIZE as u32", msg, EINVAL, M_ANY, MAICACHE_ATTR_DEV_SIZE, -1);

	msg = new_msg(MAICACHE_CMD_DEV_ADD, 0);
	if (nla_put_u64(msg, MAICACHE_ATTR_DEV_SIZE, 16 << 20) ||
	    nla_put_u32(msg, MAICACHE_ATTR_DEV_COOKIE, 1))
		fatal("nla_put");
	check("DEV_ADD DEV_COOKIE as u32", msg, EINVAL, M_ANY, MAICACHE_ATTR_DEV_COOKIE, -1);

	msg = ADD(.no_size = false);
	if (nla_put(msg, MAICACHE_ATTR_DEV_NAME, 8, "maicache"))
		fatal("nla_put");
	check("DEV_ADD DEV_NAME not NUL-terminated", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_DEV_NAME, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u8(msg, MAICACHE_ATTR_DEV_BLOCK_SIZE, 2))
		fatal("nla_put");
	check("DEV_ADD DEV_BLOCK_SIZE as 1 byte", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_DEV_BLOCK_SIZE, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u8(msg, MAICACHE_ATTR_DEV_ID, 7))
		fatal("nla_put");
	check("DEV_ADD DEV_ID as 1 byte", msg, EINVAL, M_ANY, MAICACHE_ATTR_DEV_ID, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u64(msg, MAICACHE_ATTR_DEV_EXTENT_SIZE, 1 << 20))
		fatal("nla_put");
	check("DEV_ADD DEV_EXTENT_SIZE as u64", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_DEV_EXTENT_SIZE, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_READ_ONLY, 1))
		fatal("nla_put");
	check("DEV_ADD DEV_READ_ONLY as u32", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_DEV_READ_ONLY, -1);

	/* The rule is MAX1: 2 is out of range, a u32 the wrong length. */
	msg = ADD(.no_size = false);
	if (nla_put_u8(msg, MAICACHE_ATTR_DEV_WHOLE_EXTENTS, 2))
		fatal("nla_put");
	check("DEV_ADD whole_extents 2", msg, ERANGE, M_ANY, MAICACHE_ATTR_DEV_WHOLE_EXTENTS, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u32(msg, MAICACHE_ATTR_DEV_WHOLE_EXTENTS, 1))
		fatal("nla_put");
	check("DEV_ADD DEV_WHOLE_EXTENTS as u32", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_DEV_WHOLE_EXTENTS, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u64(msg, MAICACHE_ATTR_POOL_USED, 1))
		fatal("nla_put");
	check("DEV_ADD with reply-only POOL_USED", msg, EINVAL, M_ANY,
	      MAICACHE_ATTR_POOL_USED, -1);

	msg = ADD(.no_size = false);
	if (nla_put_u32(msg, MAICACHE_ATTR_MAX + 1, 0))
		fatal("nla_put");
	check("DEV_ADD with unknown attribute type", msg, EINVAL, M_ANY, MAICACHE_ATTR_MAX + 1, -1);

	msg = ADD(.no_size = false);
	if (nla_put(msg, MAICACHE_ATTR_DEV_COOKIE, 0, NULL))
		fatal("nla_put");
	check("DEV_ADD empty second DEV_COOKIE", msg, EINVAL, M_ANY, MAICACHE_ATTR_DEV_COOKIE, -1);

	/* Volume names: the rule, the payload's real length, uniqueness. */
	{
		static const char *const bad_start[] = { ".", "..", ".hidden", "-rf" };
		static const char *const bad_chars[] = {
			"a/b", "/", "two words", "tab\t", "line\n", "x$y", "a*", "back\\slash",
			"caf\xc3\xa9", "del\x7f", "quote\"", "semi;colon",
		};
		char buf[MAICACHE_VOLUME_NAME_MAX + 32];

		for (size_t i = 0; i < sizeof(bad_start) / sizeof(bad_start[0]); i++) {
			snprintf(name, sizeof(name), "DEV_ADD volume name '%s'", bad_start[i]);
			check(name, ADD(VNAME_RAW(bad_start[i], (int)strlen(bad_start[i]) + 1)),
			      EINVAL, M_VN_START, MAICACHE_ATTR_VOLUME_NAME, -1);
		}
		for (size_t i = 0; i < sizeof(bad_chars) / sizeof(bad_chars[0]); i++) {
			snprintf(name, sizeof(name), "DEV_ADD volume name with a bad byte (#%zu)", i);
			check(name, ADD(VNAME_RAW(bad_chars[i], (int)strlen(bad_chars[i]) + 1)),
			      EINVAL, M_VN_CHARS, MAICACHE_ATTR_VOLUME_NAME, -1);
		}
		memset(buf, 'n', sizeof(buf));
		buf[MAICACHE_VOLUME_NAME_MAX] = '\0';
		check("DEV_ADD volume name of 64 bytes", ADD(VNAME_RAW(buf, MAICACHE_VOLUME_NAME_MAX + 1)),
		      EINVAL, M_VN_LONG, MAICACHE_ATTR_VOLUME_NAME, -1);
		memset(buf, 'n', sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		check("DEV_ADD volume name of 95 bytes", ADD(VNAME_RAW(buf, (int)sizeof(buf))),
		      EINVAL, M_VN_LONG, MAICACHE_ATTR_VOLUME_NAME, -1);
		check("DEV_ADD volume name not NUL-terminated", ADD(VNAME_RAW("abc", 3)),
		      EINVAL, M_ANY, MAICACHE_ATTR_VOLUME_NAME, -1);
		memset(buf, 'n', sizeof(buf));
		check("DEV_ADD volume name of 96 bytes, no NUL", ADD(VNAME_RAW(buf, (int)sizeof(buf))),
		      EINVAL, M_ANY, MAICACHE_ATTR_VOLUME_NAME, -1);
		check("DEV_ADD volume name with bytes after its NUL", ADD(VNAME_RAW("ab\0cd", 6)),
		      EINVAL, M_VN_AFTER, MAICACHE_ATTR_VOLUME_NAME, -1);
		check("DEV_ADD volume name as u32", ADD(VNAME_RAW("\1\2\3\4", 4)),
		      EINVAL, M_ANY, MAICACHE_ATTR_VOLUME_NAME, -1);
		check("DEV_ADD held device with a volume name", ADD(.set_held = true, VNAME("held")),
		      EINVAL, M_VN_HELD, MAICACHE_ATTR_VOLUME_NAME, -1);
		check("DEV_ADD duplicate volume name " RESIDENT_NAME, ADD(VNAME(RESIDENT_NAME)),
		      EEXIST, M_VN_INUSE, MAICACHE_ATTR_VOLUME_NAME, -1);
	}

	/* Ids: duplicates and missing devices. */
	snprintf(name, sizeof(name), "DEV_ADD duplicate id %u", RESIDENT_ID);
	check(name, ADD(ID(RESIDENT_ID)), EEXIST, M_INUSE, MAICACHE_ATTR_DEV_ID, -1);
	check("POOL_SET 64M while a device exists", pool_msg(64 * MiB), EBUSY, M_BUSY, -1, -1);
	check("POOL_SET 4G while a device exists", pool_msg(4096 * MiB), EBUSY, M_BUSY, -1, -1);

	snprintf(name, sizeof(name), "DEV_DEL missing id %u", free_id);
	check(name, id_msg(MAICACHE_CMD_DEV_DEL, free_id), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	snprintf(name, sizeof(name), "DEV_GET missing id %u", free_id);
	check(name, id_msg(MAICACHE_CMD_DEV_GET, free_id), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_DEL id 70000", id_msg(MAICACHE_CMD_DEV_DEL, 70000), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_GET id 0xffffffff", id_msg(MAICACHE_CMD_DEV_GET, 0xffffffffU), ENODEV, M_NODEV,
	      MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_DEL without DEV_ID", new_msg(MAICACHE_CMD_DEV_DEL, 0), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_ID);
	check("DEV_GET without DEV_ID", new_msg(MAICACHE_CMD_DEV_GET, 0), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_ID);

	/* DEV_SET: only "stale", only one way, only for a device that exists. */
	snprintf(name, sizeof(name), "DEV_SET stale 0 on id %u", RESIDENT_ID);
	check(name, stale_msg(RESIDENT_ID, 0), EINVAL, M_FRESH, MAICACHE_ATTR_DEV_STALE, -1);
	snprintf(name, sizeof(name), "DEV_SET stale 2 on id %u", RESIDENT_ID);
	check(name, stale_msg(RESIDENT_ID, 2), ERANGE, M_ANY, MAICACHE_ATTR_DEV_STALE, -1);
	snprintf(name, sizeof(name), "DEV_SET stale 1 on missing id %u", free_id);
	check(name, stale_msg(free_id, 1), ENODEV, M_NODEV, MAICACHE_ATTR_DEV_ID, -1);
	check("DEV_SET without DEV_ID", new_msg(MAICACHE_CMD_DEV_SET, 0), EINVAL, NULL, -1,
	      MAICACHE_ATTR_DEV_ID);

	warm_cases();
	check("event command EVT_DEV_STALE as a request",
	      new_msg(MAICACHE_CMD_EVT_DEV_STALE, 0), EOPNOTSUPP, NULL, -1, -1);

	/* Commands the family does not have. */
	check("unknown command 200", new_msg(200, 0), EOPNOTSUPP, NULL, -1, -1);
	check("command 0 (UNSPEC)", new_msg(MAICACHE_CMD_UNSPEC, 0), EOPNOTSUPP, NULL, -1, -1);
	check("event command EVT_DEV_ADDED as a request",
	      new_msg(MAICACHE_CMD_EVT_DEV_ADDED, 0), EOPNOTSUPP, NULL, -1, -1);
	check("command MAX+1", new_msg(MAICACHE_CMD_MAX + 1, 0), EOPNOTSUPP, NULL, -1, -1);
	check("POOL_GET as a dump", new_msg(MAICACHE_CMD_POOL_GET, NLM_F_DUMP), EOPNOTSUPP,
	      NULL, -1, -1);

	/* Broken headers. */
	msg = ADD(.no_size = false);
	genlmsg_hdr(nlmsg_hdr(msg))->reserved = 1;
	check("DEV_ADD with genlmsghdr.reserved 1", msg, EINVAL, M_ANY, -1, -1);
	msg = ADD(.no_size = false);
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_CREATE;
	check("DEV_ADD with NLM_F_CREATE", msg, EINVAL, M_ANY, -1, -1);
	msg = nlmsg_alloc_simple(family, NLM_F_ACK);
	if (!msg)
		fatal("out of memory");
	check("message shorter than the genetlink header", msg, EINVAL, NULL, -1, -1);
}

/* Well-formed requests from a process without CAP_SYS_ADMIN. */
static void unpriv_cases(void)
{
	check("unprivileged GET_VERSION", new_msg(MAICACHE_CMD_GET_VERSION, 0), EPERM, M_PERM,
	      -1, -1);
	check("unprivileged DEV_ADD", ADD(.no_size = false), EPERM, M_PERM, -1, -1);
	check("unprivileged DEV_DEL 0", id_msg(MAICACHE_CMD_DEV_DEL, 0), EPERM, M_PERM, -1, -1);
	check("unprivileged DEV_GET 0", id_msg(MAICACHE_CMD_DEV_GET, 0), EPERM, M_PERM, -1, -1);
	check("unprivileged DEV_GET dump", new_msg(MAICACHE_CMD_DEV_GET, NLM_F_DUMP), EPERM,
	      NULL, -1, -1);
	check("unprivileged POOL_GET", new_msg(MAICACHE_CMD_POOL_GET, 0), EPERM, M_PERM, -1, -1);
	check("unprivileged POOL_SET 64M", pool_msg(64 * MiB), EPERM, M_PERM, -1, -1);
	{
		struct nl_msg *msg = new_msg(MAICACHE_CMD_POOL_SET, 0);

		if (nla_put_u32(msg, MAICACHE_ATTR_DAEMON_TIMEOUT_MS, 1))
			fatal("nla_put");
		check("unprivileged POOL_SET daemon timeout 1 ms", msg, EPERM, M_PERM, -1, -1);
	}
	check("unprivileged EXTENT_WARM 0", warm_msg(0, 0, 0), EPERM, M_PERM, -1, -1);
}

int main(int argc, char **argv)
{
	int one = 1;

	if (argc == 2 && !strcmp(argv[1], "--unpriv"))
		unpriv = true;
	else if (argc == 2 && !strcmp(argv[1], "--keep"))
		keep = true;
	else if (argc != 1)
		fatal("usage: nl-bad [--unpriv | --keep]");

	sock = nl_socket_alloc();
	if (!sock || genl_connect(sock))
		fatal("cannot connect to generic netlink");
	if (setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)))
		fatal("NETLINK_EXT_ACK: %s", strerror(errno));
	/* Requests go one at a time; list_devices() reads raw and skips libnl's count. */
	nl_socket_disable_seq_check(sock);
	family = genl_ctrl_resolve(sock, MAICACHE_GENL_NAME);
	if (family < 0)
		fatal("family %s not found: is the module loaded?", MAICACHE_GENL_NAME);

	if (unpriv) {
		printf("running as uid %d, euid %d\n", (int)getuid(), (int)geteuid());
		unpriv_cases();
	} else {
		snapshot();
		printf("before: %d device(s), pool %" PRIu64 " MiB\n", nbase, base_pool >> 20);
		malformed_cases();
		if (!keep) {
			dev_del(RESIDENT_ID);
			printf("removed /dev/maicache%d\n", RESIDENT_ID);
		}
	}
	printf("%d cases, %d failed\n", cases, failures);
	nl_socket_free(sock);
	return failures ? 1 : 0;
}
