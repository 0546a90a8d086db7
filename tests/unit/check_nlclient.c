// SPDX-License-Identifier: MIT
/*
 * Unit tests for the netlink client's reply decoding.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "nlclient.h"
#include "check_run.h"

enum { SKIP_NONE = -1 };

/* A GET_VERSION reply as the module sends it, minus one attribute. */
static struct nl_msg *version_reply(const char *version, int skip)
{
	struct nl_msg *msg = nlmsg_alloc();

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 0, 0, 0x20, 0, 0,
					  MAICACHE_CMD_GET_VERSION, 1));
	if (skip != MAICACHE_ATTR_VERSION)
		ck_assert_int_eq(nla_put_string(msg, MAICACHE_ATTR_VERSION, version), 0);
	if (skip != MAICACHE_ATTR_VERSION_MAJOR)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_VERSION_MAJOR, 1), 0);
	if (skip != MAICACHE_ATTR_VERSION_MINOR)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_VERSION_MINOR, 2), 0);
	if (skip != MAICACHE_ATTR_VERSION_PATCH)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_VERSION_PATCH, 3), 0);
	if (skip != MAICACHE_ATTR_GENL_VERSION)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_GENL_VERSION, 7), 0);
	return msg;
}

static int decode(struct nl_msg *msg, struct mc_version *v)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];

	ck_assert_int_eq(genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX,
				       NULL), 0);
	return mc_version_from_attrs(tb, v);
}

START_TEST(version_reply_decodes)
{
	struct nl_msg *msg = version_reply("1.2.3", SKIP_NONE);
	struct mc_version v;

	ck_assert_int_eq(decode(msg, &v), 0);
	ck_assert_str_eq(v.version, "1.2.3");
	ck_assert_uint_eq(v.major, 1);
	ck_assert_uint_eq(v.minor, 2);
	ck_assert_uint_eq(v.patch, 3);
	ck_assert_uint_eq(v.genl_version, 7);
	nlmsg_free(msg);
}
END_TEST

/* Looped over every attribute of the reply: each one is required. */
START_TEST(version_reply_missing_attr)
{
	struct nl_msg *msg = version_reply("1.2.3", _i);
	struct mc_version v;

	ck_assert_int_eq(decode(msg, &v), -EPROTO);
	nlmsg_free(msg);
}
END_TEST

START_TEST(version_reply_overlong_string)
{
	char big[200];
	struct nl_msg *msg;
	struct mc_version v;

	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	msg = version_reply(big, SKIP_NONE);
	ck_assert_int_eq(decode(msg, &v), -EPROTO);
	nlmsg_free(msg);
}
END_TEST

/*
 * An NLMSG_ERROR as the kernel sends it: flags, the echoed request header
 * claiming echo_len bytes, extra bytes of echoed payload, then an extended
 * ack message attribute.
 */
static size_t error_msg(void *buf, uint16_t flags, uint32_t echo_len,
			size_t extra, const char *text)
{
	struct nlmsghdr *nlh = buf;
	struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *a = (void *)((char *)(e + 1) + extra);
	size_t tlen = strlen(text) + 1;

	memset(buf, 0, 512);
	e->error = -EINVAL;
	e->msg.nlmsg_len = echo_len;
	a->nla_type = NLMSGERR_ATTR_MSG;
	a->nla_len = (uint16_t)(NLA_HDRLEN + tlen);
	memcpy(nla_data(a), text, tlen);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + sizeof(*e) + extra + NLA_ALIGN(a->nla_len));
	return nlh->nlmsg_len;
}

START_TEST(extack_capped_and_uncapped)
{
	char buf[512] __attribute__((aligned(8))), msg[64] = "";

	error_msg(buf, NLM_F_CAPPED | NLM_F_ACK_TLVS, 36, 0, "extent size is bad");
	ck_assert_int_eq(mc_nl_extack_msg((void *)buf, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "extent size is bad");
	/* uncapped: the 8 bytes of echoed payload come first */
	msg[0] = '\0';
	error_msg(buf, NLM_F_ACK_TLVS, sizeof(struct nlmsghdr) + 8, 8, "no such device");
	ck_assert_int_eq(mc_nl_extack_msg((void *)buf, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "no such device");
	error_msg(buf, NLM_F_CAPPED, 36, 0, "ignored");
	ck_assert_int_eq(mc_nl_extack_msg((void *)buf, msg, sizeof(msg)), -ENOENT);
}
END_TEST

/* fuzz_nl: an echoed length past the message moved the parse 4 GiB on. */
START_TEST(extack_echo_longer_than_message)
{
	static const uint32_t lens[] = { 0xffffffff, 0, 15, 16 + 9 };
	char buf[512] __attribute__((aligned(8))), msg[64];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		strcpy(msg, "untouched");
		error_msg(buf, NLM_F_ACK_TLVS, lens[i], 0, "x");
		ck_assert_int_eq(mc_nl_extack_msg((void *)buf, msg, sizeof(msg)), -EPROTO);
		ck_assert_str_eq(msg, "untouched");
	}
}
END_TEST

/* A DEV_GET reply as the module sends it, with VOLUME_NAME @vname (NULL: none). */
static struct nl_msg *dev_reply(const char *vname)
{
	struct nl_msg *msg = nlmsg_alloc();

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 0, 0, 0x20, 0, 0, MAICACHE_CMD_DEV_GET, 1));
	ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_DEV_ID, 4), 0);
	ck_assert_int_eq(nla_put_string(msg, MAICACHE_ATTR_DEV_NAME, "maicache4"), 0);
	ck_assert_int_eq(nla_put_u64(msg, MAICACHE_ATTR_DEV_SIZE, 1 << 20), 0);
	ck_assert_int_eq(nla_put_u64(msg, MAICACHE_ATTR_DEV_COOKIE, 0x77), 0);
	if (vname)
		ck_assert_int_eq(nla_put_string(msg, MAICACHE_ATTR_VOLUME_NAME, vname), 0);
	return msg;
}

static int decode_dev(struct nl_msg *msg, struct mc_dev_info *d)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];

	ck_assert_int_eq(genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, NULL), 0);
	return mc_dev_from_attrs(tb, d);
}

START_TEST(dev_reply_volume_name)
{
	struct nl_msg *msg = dev_reply("train-set");
	struct mc_dev_info d;

	ck_assert_int_eq(decode_dev(msg, &d), 0);
	ck_assert_uint_eq(d.id, 4);
	ck_assert_str_eq(d.volume_name, "train-set");
	nlmsg_free(msg);
}
END_TEST

/* An older module sends no VOLUME_NAME: the device has no name. */
START_TEST(dev_reply_without_volume_name)
{
	struct nl_msg *msg = dev_reply(NULL);
	struct mc_dev_info d;

	ck_assert_int_eq(decode_dev(msg, &d), 0);
	ck_assert_str_eq(d.volume_name, "");
	nlmsg_free(msg);
}
END_TEST

/* A group's device says it fills whole extents; without the attribute it does not. */
START_TEST(dev_reply_whole_extents)
{
	struct nl_msg *msg = dev_reply(NULL);
	struct mc_dev_info d;

	ck_assert_int_eq(decode_dev(msg, &d), 0);
	ck_assert(!d.whole_extents);
	nlmsg_free(msg);
	msg = dev_reply(NULL);
	ck_assert_int_eq(nla_put_u8(msg, MAICACHE_ATTR_DEV_WHOLE_EXTENTS, 1), 0);
	ck_assert_int_eq(decode_dev(msg, &d), 0);
	ck_assert(d.whole_extents);
	nlmsg_free(msg);
}
END_TEST

/* A name the rule's bound cannot hold is refused, not truncated. */
START_TEST(dev_reply_overlong_volume_name)
{
	char big[MAICACHE_VOLUME_NAME_MAX + 1];
	struct nl_msg *msg;
	struct mc_dev_info d;

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	msg = dev_reply(big);
	ck_assert_int_eq(decode_dev(msg, &d), -EPROTO);
	nlmsg_free(msg);
	big[sizeof(big) - 2] = '\0';
	msg = dev_reply(big);
	ck_assert_int_eq(decode_dev(msg, &d), 0);
	ck_assert_uint_eq(strlen(d.volume_name), MAICACHE_VOLUME_NAME_MAX - 1);
	nlmsg_free(msg);
}
END_TEST

/* An EXTENT_WARM reply, minus one attribute. */
static struct nl_msg *warm_reply(int skip)
{
	struct nl_msg *msg = nlmsg_alloc();

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 0, 0, 0x20, 0, 0, MAICACHE_CMD_EXTENT_WARM, 1));
	if (skip != MAICACHE_ATTR_WARM_QUEUED)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_WARM_QUEUED, 7), 0);
	if (skip != MAICACHE_ATTR_WARM_READY)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_WARM_READY, 1000), 0);
	if (skip != MAICACHE_ATTR_WARM_FILLING)
		ck_assert_int_eq(nla_put_u32(msg, MAICACHE_ATTR_WARM_FILLING, 3), 0);
	if (skip != MAICACHE_ATTR_WARM_NEXT)
		ck_assert_int_eq(nla_put_u64(msg, MAICACHE_ATTR_WARM_NEXT, (1ULL << 40) + 5), 0);
	if (skip != MAICACHE_ATTR_WARM_BUSY)
		ck_assert_int_eq(nla_put_u8(msg, MAICACHE_ATTR_WARM_BUSY, 1), 0);
	return msg;
}

static int decode_warm(struct nl_msg *msg, struct mc_warm_reply *w)
{
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];

	ck_assert_int_eq(genlmsg_parse(nlmsg_hdr(msg), 0, tb, MAICACHE_ATTR_MAX, NULL), 0);
	return mc_warm_from_attrs(tb, w);
}

START_TEST(warm_reply_decodes)
{
	struct nl_msg *msg = warm_reply(SKIP_NONE);
	struct mc_warm_reply w;

	ck_assert_int_eq(decode_warm(msg, &w), 0);
	ck_assert_uint_eq(w.queued, 7);
	ck_assert_uint_eq(w.ready, 1000);
	ck_assert_uint_eq(w.filling, 3);
	ck_assert_uint_eq(w.next, (1ULL << 40) + 5);
	ck_assert(w.busy);
	nlmsg_free(msg);
}
END_TEST

/* Looped over every attribute of the reply: each one is required. */
START_TEST(warm_reply_missing_attr)
{
	struct nl_msg *msg = warm_reply(_i);
	struct mc_warm_reply w;

	ck_assert_int_eq(decode_warm(msg, &w), -EPROTO);
	nlmsg_free(msg);
}
END_TEST

static Suite *nlclient_suite(void)
{
	Suite *s = suite_create("nlclient");
	TCase *tc = tcase_create("version");

	tcase_add_test(tc, version_reply_decodes);
	tcase_add_loop_test(tc, version_reply_missing_attr,
			    MAICACHE_ATTR_VERSION, MAICACHE_ATTR_GENL_VERSION + 1);
	tcase_add_test(tc, version_reply_overlong_string);
	suite_add_tcase(s, tc);
	tc = tcase_create("extack");
	tcase_add_test(tc, extack_capped_and_uncapped);
	tcase_add_test(tc, extack_echo_longer_than_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("dev");
	tcase_add_test(tc, dev_reply_volume_name);
	tcase_add_test(tc, dev_reply_without_volume_name);
	tcase_add_test(tc, dev_reply_overlong_volume_name);
	tcase_add_test(tc, dev_reply_whole_extents);
	suite_add_tcase(s, tc);
	tc = tcase_create("warm");
	tcase_add_test(tc, warm_reply_decodes);
	tcase_add_loop_test(tc, warm_reply_missing_attr,
			    MAICACHE_ATTR_WARM_QUEUED, MAICACHE_ATTR_WARM_BUSY + 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(nlclient_suite());
}
