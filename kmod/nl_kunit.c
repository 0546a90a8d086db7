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

/* As maicache_genl_attrs.h types them, which the client parses with. */
static const struct nla_policy warm_reply_policy[MAICACHE_ATTR_MAX + 1] = {
	[MAICACHE_ATTR_WARM_QUEUED]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_WARM_READY]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_WARM_FILLING]	= { .type = NLA_U32 },
	[MAICACHE_ATTR_WARM_NEXT]	= { .type = NLA_U64 },
	[MAICACHE_ATTR_WARM_BUSY]	= { .type = NLA_U8 },
};

/* An EXTENT_WARM reply: every count and where the call stopped. */
static void nl_warm_reply_parses(struct kunit *test)
{
	struct mc_warm_result r = {
		.queued = 7, .ready = 1000, .filling = 3,
		.next = (1ULL << 40) + 5, .busy = true,
	};
	struct sk_buff *skb = version_reply(test, NLMSG_DEFAULT_SIZE);
	struct nlattr *tb[MAICACHE_ATTR_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(skb);

	KUNIT_ASSERT_EQ(test, maicache_nl_fill_warm(skb, &r), 0);
	nlmsg_end(skb, nlh);
	/* Leniently, as libnl parses: a PAD attribute is skipped. */
	KUNIT_ASSERT_EQ(test, nlmsg_parse_deprecated(nlh, 0, tb, MAICACHE_ATTR_MAX,
						     warm_reply_policy, NULL), 0);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_WARM_QUEUED]);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_WARM_READY]);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_WARM_FILLING]);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_WARM_NEXT]);
	KUNIT_ASSERT_NOT_NULL(test, tb[MAICACHE_ATTR_WARM_BUSY]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_WARM_QUEUED]), 7U);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_WARM_READY]), 1000U);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MAICACHE_ATTR_WARM_FILLING]), 3U);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[MAICACHE_ATTR_WARM_NEXT]), (1ULL << 40) + 5);
	KUNIT_EXPECT_EQ(test, nla_get_u8(tb[MAICACHE_ATTR_WARM_BUSY]), 1);
	nlmsg_free(skb);
}

/* The volume name rule of maicache_volume_name.h, as DEV_ADD applies it. */
#define NAME_OK(lit) \
	KUNIT_EXPECT_NULL_MSG(test, maicache_volume_name_error(lit, sizeof(lit)), \
			      "%s refused", #lit)
#define NAME_BAD(lit, len) \
	KUNIT_EXPECT_NOT_NULL_MSG(test, maicache_volume_name_error(lit, len), \
				  "%s as %s bytes accepted", #lit, #len)

static void nl_volume_name_rule(struct kunit *test)
{
	char name[MAICACHE_VOLUME_NAME_MAX + 8];

	NAME_OK("");
	NAME_OK("train");
	NAME_OK("imagenet-2012_v1.2+x:y@z");
	NAME_OK("0");
	NAME_OK("a..b");

	NAME_BAD(".", 2);
	NAME_BAD("..", 3);
	NAME_BAD(".hidden", 8);
	NAME_BAD("-rf", 4);
	NAME_BAD("a/b", 4);
	NAME_BAD("/", 2);
	NAME_BAD("a b", 4);
	NAME_BAD("tab\there", 10);
	NAME_BAD("new\nline", 10);
	NAME_BAD("$x", 3);
	NAME_BAD("a*", 3);
	NAME_BAD("back\\slash", 12);
	NAME_BAD("caf\xc3\xa9", 6);
	NAME_BAD("del\x7f", 5);
	NAME_BAD("quote\"", 7);

	/* The length is the payload's, never the string's own idea of it. */
	NAME_BAD("abc", 3);			/* no NUL inside the payload */
	NAME_BAD("abc", 0);
	NAME_BAD("ab\0cd", 6);			/* bytes after the NUL */
	NAME_BAD("ab\0\0", 4);

	/* 63 bytes are the most; 64 or more are refused wherever the NUL is. */
	memset(name, 'n', sizeof(name));
	name[MAICACHE_VOLUME_NAME_MAX - 1] = '\0';
	KUNIT_EXPECT_NULL(test, maicache_volume_name_error(name, MAICACHE_VOLUME_NAME_MAX));
	name[MAICACHE_VOLUME_NAME_MAX - 1] = 'n';
	name[MAICACHE_VOLUME_NAME_MAX] = '\0';
	KUNIT_EXPECT_STREQ(test, maicache_volume_name_error(name, MAICACHE_VOLUME_NAME_MAX + 1),
			   "volume name longer than 63 bytes");
	/* Unterminated and long: refused before reading past the payload. */
	KUNIT_EXPECT_NOT_NULL(test, maicache_volume_name_error(name, MAICACHE_VOLUME_NAME_MAX - 1));
	KUNIT_EXPECT_NOT_NULL(test, maicache_volume_name_error(name, sizeof(name)));
}

static struct kunit_case maicache_nl_cases[] = {
	KUNIT_CASE(nl_version_reply_parses),
	KUNIT_CASE(nl_version_reply_too_small),
	KUNIT_CASE(nl_warm_reply_parses),
	KUNIT_CASE(nl_volume_name_rule),
	{}
};

static struct kunit_suite maicache_nl_suite = {
	.name = "maicache-netlink",
	.test_cases = maicache_nl_cases,
};

kunit_test_suite(maicache_nl_suite);

MODULE_LICENSE("GPL");
