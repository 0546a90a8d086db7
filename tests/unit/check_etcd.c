// SPDX-License-Identifier: MIT
/*
 * Unit tests for membership in etcd (peer/etcd.c): requests are the JSON
 * etcd's gateway takes, answers (as a real etcd 3.4 sends them) parse into
 * members, and whatever etcd or a member puts there that is not a member
 * is skipped and counted, never trusted.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "check_run.h"
#include "etcd.h"

#define PREFIX "/maicache/train-a"
#define ID1 "3f9a1c0e5b7d2468ace0135792468ace"
#define ID2 "0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6"

static char *b64(const char *s)
{
	char *out = malloc(4 * ((strlen(s) + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)strlen(s));
	return out;
}

/* {"key":b64(KEY),"value":b64(VALUE),...} as etcd lists it. */
static char *kv(const char *key, const char *value)
{
	char *k = b64(key), *v = b64(value), *out = malloc(strlen(k) + strlen(v) + 200);

	sprintf(out, "{\"key\":\"%s\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
		"\"version\":\"1\",\"value\":\"%s\",\"lease\":\"2324035750639238919\"}", k, v);
	free(k);
	free(v);
	return out;
}

START_TEST(requests_are_etcd_json)
{
	struct mc_member me = { 0 };
	char *s, *want;
	json_t *o, *j;

#define ASSERT_B64(json, plain) do {					\
	want = b64(plain);						\
	ck_assert_str_eq(json_string_value(json), want);		\
	free(want);							\
} while (0)

	s = mc_etcd_lease_grant_req(10);
	ck_assert_str_eq(s, "{\"TTL\":10}");
	free(s);
	s = mc_etcd_keepalive_req(2324035750639238919LL);
	ck_assert_str_eq(s, "{\"ID\":\"2324035750639238919\"}");
	free(s);
	ck_assert_int_eq(mc_node_id_parse(ID1, 32, &me.id), 0);
	ck_assert_int_eq(mc_member_parse_addr("[fd00::7]:7117", &me), 0);
	strcpy(me.region, "westeurope");
	s = mc_etcd_member_put_req(PREFIX, &me, 77);
	o = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(o);
	j = json_object_get(o, "key");
	ASSERT_B64(j, PREFIX "/members/" ID1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "lease")), "77");
	ASSERT_B64(json_object_get(o, "value"),
		   "{\"addr\":\"[fd00::7]:7117\",\"region\":\"westeurope\"}");
	json_decref(o);
	free(s);
	s = mc_etcd_members_watch_req(PREFIX, 5);
	o = json_loads(s, 0, NULL);
	j = json_object_get(o, "create_request");
	ASSERT_B64(json_object_get(j, "key"), PREFIX "/members/");
	ASSERT_B64(json_object_get(j, "range_end"), PREFIX "/members0");
	ck_assert_str_eq(json_string_value(json_object_get(j, "start_revision")), "5");
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(lease_answers)
{
	int64_t lease, ttl;
	char err[256];
	static const char grant[] = "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\",\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"2324035750639238917\",\"TTL\":\"5\"}";
	static const char alive[] = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"2324035750639238919\",\"TTL\":\"5\"}}";
	static const char notfound[] = "{\"error\":\"etcdserver: requested lease not found\",\"code\":5}";
	static const char expired[] = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"2324035750639238919\"}}";

	ck_assert_int_eq(mc_etcd_lease_parse(grant, strlen(grant), &lease, &ttl, err, sizeof(err)), 0);
	ck_assert_int_eq(lease, 2324035750639238917LL);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(mc_etcd_lease_parse(alive, strlen(alive), &lease, &ttl, err, sizeof(err)), 0);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(mc_etcd_lease_parse(expired, strlen(expired), &lease, &ttl, err, sizeof(err)), 0);
	ck_assert_int_eq(ttl, 0);	/* expired: grant a new one */
	ck_assert_int_eq(mc_etcd_lease_parse("{\"TTL\":\"5\"}", strlen("{\"TTL\":\"5\"}"), &lease, &ttl, err, sizeof(err)), -EPROTO);
	ck_assert_int_eq(mc_etcd_lease_parse("[1]", strlen("[1]"), &lease, &ttl, err, sizeof(err)), -EPROTO);
	ck_assert_int_eq(mc_etcd_lease_parse("{\"ID\":", strlen("{\"ID\":"), &lease, &ttl, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "does not parse"), "%s", err);
	ck_assert_int_eq(mc_etcd_lease_parse(notfound, strlen(notfound), &lease, &ttl, err,
					     sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "lease not found"), "%s", err);
}
END_TEST

/* The request for the page after prev: {"key": after, "revision": ...}. */
START_TEST(range_requests_pages_of_one_snapshot)
{
	struct mc_etcd_page prev = { .revision = 41, .more = true };
	char *s, *want;
	json_t *o;

	s = mc_etcd_members_range_req(PREFIX, NULL, 500);
	o = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ASSERT_B64(json_object_get(o, "key"), PREFIX "/members/");
	ASSERT_B64(json_object_get(o, "range_end"), PREFIX "/members0");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "limit")), 500);
	ck_assert(json_is_true(json_object_get(o, "serializable")));
	ck_assert_ptr_null(json_object_get(o, "revision"));
	json_decref(o);
	free(s);

	prev.last_len = strlen(PREFIX "/members/" ID2);
	memcpy(prev.last, PREFIX "/members/" ID2, prev.last_len);
	s = mc_etcd_members_range_req(PREFIX, &prev, 2);
	o = json_loads(s, 0, NULL);
	/* The smallest key after the last: the same with a 0 byte at its end. */
	want = malloc(4 * ((prev.last_len + 3) / 3) + 1);
	prev.last[prev.last_len] = 0;
	EVP_EncodeBlock((unsigned char *)want, prev.last, (int)prev.last_len + 1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "key")), want);
	free(want);
	ASSERT_B64(json_object_get(o, "range_end"), PREFIX "/members0");
	ck_assert_str_eq(json_string_value(json_object_get(o, "revision")), "41");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "limit")), 2);
	json_decref(o);
	free(s);
}
END_TEST

/* Two pages add up to the list; where the next starts is the last key, valid or not. */
START_TEST(range_pages_add_up)
{
	char *good1 = kv(PREFIX "/members/" ID1, "{\"addr\":\"10.1.0.5:7117\"}");
	char *good2 = kv(PREFIX "/members/" ID2, "{\"addr\":\"10.1.0.6:7117\"}");
	char *junk = kv(PREFIX "/members/0dzz", "{}");
	char *outside = kv("/maicache/train-b/members/" ID1, "{}");
	char *longkey = malloc(MC_ETCD_KEY_MAX + 64), *lk;
	char body[8192], err[256];
	struct mc_members ms = { 0 };
	struct mc_etcd_page page = { 0 };

	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"kvs\":[%s,%s],"
		 "\"more\":true,\"count\":\"3\"}", good2, junk);
	ck_assert_msg(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					    sizeof(err)) == 0, "%s", err);
	ck_assert(page.more);
	ck_assert_uint_eq(page.skipped, 1);
	ck_assert_uint_eq(page.last_len, strlen(PREFIX "/members/0dzz"));
	ck_assert_mem_eq(page.last, PREFIX "/members/0dzz", page.last_len);
	ck_assert_uint_eq(ms.n, 1);
	/* A later page: its header has etcd's newest revision, the list keeps its own. */
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"15\"},\"kvs\":[%s],"
		 "\"count\":\"1\"}", good1);
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), 0);
	ck_assert(!page.more);
	ck_assert_int_eq(page.revision, 12);

	/* A page that does not move on, or ends outside the range: not a page. */
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"kvs\":[%s],"
		 "\"more\":true}", good1);
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "does not move on"), "%s", err);
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"kvs\":[%s],"
		 "\"more\":true}", outside);
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "outside"), "%s", err);
	ck_assert_uint_eq(ms.n, 2);

	/* More after no key, a "more" that is not a boolean: not a page, nothing added. */
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"more\":true}");
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), -EPROTO);
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"kvs\":[%s],"
		 "\"more\":\"yes\"}", good1);
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), -EPROTO);
	/* A last key too long to start the next page from: said, with what to do. */
	memset(longkey, 'k', MC_ETCD_KEY_MAX + 10);
	strcpy(longkey, PREFIX "/members/");
	longkey[strlen(longkey)] = 'k';
	longkey[MC_ETCD_KEY_MAX + 10] = 0;
	lk = kv(longkey, "{}");
	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"12\"},\"kvs\":[%s,%s],"
		 "\"more\":true}", good2, lk);
	ck_assert_int_eq(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page, err,
					       sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "remove it"), "%s", err);
	ck_assert_uint_eq(ms.n, 2);
	mc_members_free(&ms);
	free(good1); free(good2); free(junk); free(outside); free(longkey); free(lk);
}
END_TEST

START_TEST(range_lists_members_and_skips_the_rest)
{
	char *good1 = kv(PREFIX "/members/" ID1, "{\"addr\":\"10.1.0.5:7117\",\"region\":\"westeurope\"}");
	char *good2 = kv(PREFIX "/members/" ID2, "{\"addr\":\"[fd00::7]:7117\"}");
	char *bad_addr = kv(PREFIX "/members/" ID1 "0", "{\"addr\":\"10.1.0.5:7117\"}");
	char *other_prefix = kv("/maicache/train-b/members/" ID1, "{\"addr\":\"10.1.0.5:7117\"}");
	char *not_json = kv(PREFIX "/members/" ID2, "addr=10.1.0.5");
	char *bad_region = kv(PREFIX "/members/" ID2, "{\"addr\":\"10.1.0.5:1\",\"region\":\"EU!\"}");
	char *dns = kv(PREFIX "/members/" ID2, "{\"addr\":\"node5:7117\"}");
	char body[8192], err[256];
	struct mc_members ms = { 0 };
	struct mc_etcd_page page = { 0 };

	snprintf(body, sizeof(body), "{\"header\":{\"revision\":\"9\"},\"kvs\":[%s,%s,%s,%s,%s,%s,%s],\"count\":\"7\"}",
		 good1, bad_addr, other_prefix, not_json, bad_region, dns, good2);
	ck_assert_msg(mc_etcd_members_parse(body, strlen(body), PREFIX, &ms, &page,
					    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(page.revision, 9);
	ck_assert_uint_eq(page.skipped, 5);
	ck_assert(!page.more);
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_str_eq(ms.m[0].host, "fd00::7");
	ck_assert_str_eq(ms.m[1].host, "10.1.0.5");
	ck_assert_str_eq(ms.m[1].region, "westeurope");
	/* An answer that is not a range answer changes nothing. */
	ck_assert_int_eq(mc_etcd_members_parse("{\"kvs\":[]}", strlen("{\"kvs\":[]}"), PREFIX, &ms, &page,
					       err, sizeof(err)), -EPROTO);
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_int_eq(mc_etcd_members_parse("{\"header\":{\"revision\":\"3\"},\"kvs\":{}}", strlen("{\"header\":{\"revision\":\"3\"},\"kvs\":{}}"),
					       PREFIX, &ms, &page, err, sizeof(err)), -EPROTO);
	/* No member at all is a valid (empty) group: nothing is added. */
	mc_members_free(&ms);
	ck_assert_int_eq(mc_etcd_members_parse("{\"header\":{\"revision\":\"3\"}}", strlen("{\"header\":{\"revision\":\"3\"}}"), PREFIX,
					       &ms, &page, err, sizeof(err)), 0);
	ck_assert_uint_eq(ms.n, 0);
	mc_members_free(&ms);
	free(good1); free(good2); free(bad_addr); free(other_prefix); free(not_json);
	free(bad_region); free(dns);
}
END_TEST

struct events {
	struct mc_members ms;
	int puts, dels;
};

static void on_event(void *arg, const struct mc_node_id *id, const struct mc_member *m)
{
	struct events *e = arg;

	if (m)
		e->puts++;
	else
		e->dels++;
	ck_assert_int_eq(mc_members_apply(&e->ms, id, m), 0);
}

START_TEST(watch_stream_in_pieces)
{
	char *k1 = b64(PREFIX "/members/" ID1), *v1 = b64("{\"addr\":\"10.1.0.5:7117\"}");
	char *k2 = b64(PREFIX "/members/" ID2), *v2 = b64("{\"addr\":\"10.1.0.6:7117\"}");
	char stream[4096], err[256];
	struct mc_etcd_watch w;
	struct events e = { 0 };
	size_t n;

	n = (size_t)snprintf(stream, sizeof(stream),
		"{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}\n"
		"{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"kv\":{\"key\":\"%s\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"%s\"}}]}}\n"
		"{\"result\":{\"header\":{\"revision\":\"4\"},\"events\":[{\"kv\":{\"key\":\"%s\",\"mod_revision\":\"4\",\"value\":\"%s\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\",\"mod_revision\":\"5\"}}]}}\n",
		k1, v1, k2, v2, k1);
	mc_etcd_watch_init(&w, PREFIX);
	/* An empty piece before any buffer exists (found by fuzz_etcd: UB on NULL). */
	ck_assert_int_eq(mc_etcd_watch_feed(&w, "", 0, on_event, &e, err, sizeof(err)), 0);
	/* One byte at a time: messages are found whatever the pieces. */
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(mc_etcd_watch_feed(&w, stream + i, 1, on_event, &e, err, sizeof(err)) == 0,
			      "%s", err);
	ck_assert_int_eq(e.puts, 2);
	ck_assert_int_eq(e.dels, 1);
	ck_assert_uint_eq(e.ms.n, 1);
	ck_assert_str_eq(e.ms.m[0].host, "10.1.0.6");
	ck_assert_int_eq(w.revision, 5);
	ck_assert_uint_eq(w.skipped, 0);
	/* A cancelled (compacted) watch is an error to act on. */
	ck_assert_int_eq(mc_etcd_watch_feed(&w, "{\"result\":{\"canceled\":true,\"compact_revision\":\"7\"}}\n", strlen("{\"result\":{\"canceled\":true,\"compact_revision\":\"7\"}}\n"),
					    on_event, &e, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "compacted"), "%s", err);
	mc_etcd_watch_free(&w);
	mc_etcd_watch_init(&w, PREFIX);
	ck_assert_int_eq(mc_etcd_watch_feed(&w, "{\"result\":{}}\n ]\n", strlen("{\"result\":{}}\n ]\n"), on_event, &e, err,
					    sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "does not parse"), "%s", err);
	mc_etcd_watch_free(&w);
	mc_members_free(&e.ms);
	free(k1); free(v1); free(k2); free(v2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("etcd");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, requests_are_etcd_json);
	tcase_add_test(tc, lease_answers);
	tcase_add_test(tc, range_lists_members_and_skips_the_rest);
	tcase_add_test(tc, range_requests_pages_of_one_snapshot);
	tcase_add_test(tc, range_pages_add_up);
	tcase_add_test(tc, watch_stream_in_pieces);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
