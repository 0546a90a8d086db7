// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the generic netlink replies: what the module puts on the
 * wire must parse back under the policy a client uses.
 */
#include <kunit/test.h>
#include <net/netlink.h>

#include "maicache.h"
#include "maicache_genl.h"
#include "maicache_version.h"

static const struct nla_policy version_reply_policy[MAICACHE_ATTR_MAX + 1] = {
	[MAICACHE_ATTR_VERSION]		= { .type = NLA_NUL_STRING },
	[MAICACHE_ATTR_VERSION_MAJOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_MINOR]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_VERSION_PATCH]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_GENL_VERSION]	= { .type = NLA_U32 },
};

static struct sk_buff *version_reply(struct kunit *test, size_t payload)
{
	struct sk_buff *skb = nlmsg_new(payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_NOT_NULL(test, nlmsg_put(skb, 0, 0, 0, 0, 0));
	return skb;
}

static void nl_version_reply_parses(struct kunit *test)
{
	struct sk_buff *skb = version_reply(test, NLMSG_DEFAULT_SIZE);
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(skb);
	int ret;

	KUNIT_ASSERT_EQ(test, maicache_nl_fill_version(skb), 0);
	nlmsg_end(skb, nlh);

	ret = nlmsg_parse(nlh, 0, tb, MAICACHE_ATTR_MAX, version_reply_policy,
			  NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_VERSION]);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[MAICACHE_ATTR_VERSION]),
			   MAICACHE_VERSION);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_VERSION_MAJOR]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_VERSION_MAJOR]),
			MAICACHE_VERSION_MAJOR);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_VERSION_MINOR]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_VERSION_MINOR]),
			MAICACHE_VERSION_MINOR);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_VERSION_PATCH]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_VERSION_PATCH]),
			MAICACHE_VERSION_PATCH);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_GENL_VERSION]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_GENL_VERSION]),
			MAICACHE_GENL_VERSION);
	nlmsg_free(skb);
}

/* A reply that does not fit must be reported, never truncated silently. */
static void nl_version_reply_too_small(struct kunit *test)
{
	struct sk_buff *skb = version_reply(test, NLMSG_DEFAULT_SIZE);

	/* The allocator rounds up; leave room for the first attribute only. */
	skb_put_zero(skb, skb_tailroom(skb) - nla_total_size(sizeof(MAICACHE_VERSION)));

	KUNIT_EXPECT_EQ(test, maicache_nl_fill_version(skb), -EMSGSIZE);
	nlmsg_free(skb);
}

static struct kunit_case maicache_nl_cases[] = {
	KUNIT_CASE(nl_version_reply_parses),
	KUNIT_CASE(nl_version_reply_too_small),
	{}
};

static struct kunit_suite maicache_nl_suite = {
	.name = "maicache-netlink",
	.test_cases = maicache_nl_cases,
};

kunit_test_suite(maicache_nl_suite);

MODULE_LICENSE("GPL");
