// SPDX-License-Identifier: MIT
/*
 * Unit tests for peer authentication (peer/auth.c): two members of a group
 * authenticate each other; a wrong key, another group, a reflected HELLO,
 * a replayed or mirrored MAC, and frames out of order are all refused.
 */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "check_run.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/mc-auth-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *key_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static struct mc_group group(const char *name, const char *key)
{
	struct mc_group g;
	char err[256];

	ck_assert_msg(mc_group_load(&g, name, key_file("k", key, 0600), err, sizeof(err)) == 0,
		      "%s", err);
	return g;
}

#define KEY1 "3f9a1c0e5b7d2468ace0135792468ace0135792468ace013579bdf0246813579\n"
#define KEY2 "0000000000000000000000000000000000000000000000000000000000000000\n"

static struct mc_node_id id_of(uint8_t v)
{
	struct mc_node_id id;

	memset(id.b, v, sizeof(id.b));
	return id;
}

/*
 * Run a full handshake between c (connector) and s: the connector's AUTH
 * after the HELLOs, the acceptor's only after it checked the connector's.
 * The last result of each side, and whether each one ended authenticated.
 */
static void handshake(const struct mc_group *gc, const struct mc_group *gs,
		      struct mc_node_id ic, struct mc_node_id is, int *rc, int *rs,
		      bool *done_c, bool *done_s)
{
	struct mc_peer_hs c, s;
	struct mc_peer_msg hc, hs_, ac, as;
	const char *why;

	ck_assert_int_eq(mc_peer_hs_start(&c, gc, &ic, true, &hc), 0);
	ck_assert_int_eq(mc_peer_hs_start(&s, gs, &is, false, &hs_), 0);
	*done_c = *done_s = false;
	*rs = mc_peer_hs_input(&s, &hc, &as, &why);
	*rc = mc_peer_hs_input(&c, &hs_, &ac, &why);
	if (*rs == 0 && *rc == 1) {
		/* The acceptor answers nothing to a HELLO, and judges the AUTH. */
		ck_assert_int_eq(s.state, MC_HS_AUTH);
		*rs = mc_peer_hs_input(&s, &ac, &as, &why);
		if (*rs == 1)
			*rc = mc_peer_hs_input(&c, &as, &hc, &why);
	}
	*done_c = c.state == MC_HS_DONE;
	*done_s = s.state == MC_HS_DONE;
}

START_TEST(members_authenticate)
{
	struct mc_group g = group("train-a", KEY1);
	bool dc, ds;
	int rc, rs;

	handshake(&g, &g, id_of(1), id_of(2), &rc, &rs, &dc, &ds);
	ck_assert_int_eq(rs, 1);	/* the acceptor's AUTH, after the connector's */
	ck_assert_int_eq(rc, 0);
	ck_assert(dc && ds);
	mc_group_wipe(&g);
}
END_TEST

START_TEST(wrong_key_or_group_refused)
{
	struct mc_group a = group("train-a", KEY1), b = group("train-a", KEY2);
	struct mc_group other = group("train-b", KEY1);
	bool dc, ds;
	int rc, rs;

	/* A wrong key is judged by the acceptor, which sends no MAC of its own. */
	handshake(&a, &b, id_of(1), id_of(2), &rc, &rs, &dc, &ds);
	ck_assert_int_eq(rs, -EACCES);
	ck_assert_int_eq(rc, 1);
	ck_assert(!dc && !ds);
	handshake(&a, &other, id_of(1), id_of(2), &rc, &rs, &dc, &ds);
	ck_assert_int_eq(rc, -EACCES);
	ck_assert_int_eq(rs, -EACCES);
	ck_assert(!dc && !ds);
	handshake(&a, &a, id_of(3), id_of(3), &rc, &rs, &dc, &ds);	/* our own id */
	ck_assert_int_eq(rs, -EACCES);
	ck_assert(!dc && !ds);
}
END_TEST

START_TEST(reflection_and_replay_refused)
{
	struct mc_group g = group("train-a", KEY1);
	struct mc_node_id me = id_of(1), peer = id_of(2);
	struct mc_peer_hs c, c2;
	struct mc_peer_msg hello, out, auth;
	const char *why;

	/* Our HELLO sent back to us (nonce echoed, id swapped) is refused. */
	ck_assert_int_eq(mc_peer_hs_start(&c, &g, &me, true, &hello), 0);
	memcpy(hello.hello.node_id, peer.b, sizeof(peer.b));
	ck_assert_int_eq(mc_peer_hs_input(&c, &hello, &out, &why), -EACCES);
	ck_assert_msg(strstr(why, "echoed"), "%s", why);

	/* Our own AUTH mirrored back does not pass for the peer's. */
	ck_assert_int_eq(mc_peer_hs_start(&c2, &g, &me, true, &hello), 0);
	memcpy(hello.hello.node_id, peer.b, sizeof(peer.b));
	hello.hello.nonce[0] ^= 1;
	ck_assert_int_eq(mc_peer_hs_input(&c2, &hello, &auth, &why), 1);
	ck_assert_int_eq(mc_peer_hs_input(&c2, &auth, &out, &why), -EACCES);
	ck_assert_int_eq(c2.state, MC_HS_FAILED);

	/* A MAC from an earlier exchange fails against a fresh nonce. */
	ck_assert_int_eq(mc_peer_hs_start(&c, &g, &me, true, &hello), 0);
	memcpy(hello.hello.node_id, peer.b, sizeof(peer.b));
	hello.hello.nonce[0] ^= 1;
	ck_assert_int_eq(mc_peer_hs_input(&c, &hello, &out, &why), 1);
	memset(&out, 0, sizeof(out));
	out.type = MAICACHE_PEER_AUTH;
	ck_assert_int_eq(mc_peer_auth_mac(&g, false, c2.peer_nonce, c2.my_nonce, &peer, &me,
					  out.auth.mac), 0);
	ck_assert_int_eq(mc_peer_hs_input(&c, &out, &auth, &why), -EACCES);
	mc_group_wipe(&g);
}
END_TEST

START_TEST(out_of_order_refused)
{
	struct mc_group g = group("train-a", KEY1);
	struct mc_node_id me = id_of(1);
	struct mc_peer_hs s;
	struct mc_peer_msg hello, get = { .type = MAICACHE_PEER_GET }, out;
	const char *why;

	ck_assert_int_eq(mc_peer_hs_start(&s, &g, &me, false, &hello), 0);
	ck_assert_int_eq(mc_peer_hs_input(&s, &get, &out, &why), -EPROTO);
	ck_assert_int_eq(s.state, MC_HS_FAILED);
	ck_assert_int_eq(mc_peer_hs_input(&s, &hello, &out, &why), -EPROTO);
	mc_group_wipe(&g);
}
END_TEST

START_TEST(key_file_rules)
{
	struct mc_group g;
	char err[256];

	ck_assert_int_eq(mc_group_load(&g, "g", key_file("open", KEY1, 0644), err,
				       sizeof(err)), -EACCES);
	ck_assert_msg(strstr(err, "chmod 600"), "%s", err);
	ck_assert_int_eq(mc_group_load(&g, "g", key_file("short", "tooshort\n", 0600), err,
				       sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "at least 32 bytes"), "%s", err);
	ck_assert_int_eq(mc_group_load(&g, "", key_file("ok", KEY1, 0600), err,
				       sizeof(err)), -EINVAL);
	ck_assert_int_eq(mc_group_load(&g, "g", "/nonexistent/key", err, sizeof(err)), -ENOENT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("peer_auth");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, members_authenticate);
	tcase_add_test(tc, wrong_key_or_group_refused);
	tcase_add_test(tc, reflection_and_replay_refused);
	tcase_add_test(tc, out_of_order_refused);
	tcase_add_test(tc, key_file_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
