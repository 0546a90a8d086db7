// SPDX-License-Identifier: MIT
/*
 * Unit tests for control messages: encoding, strict decoding, number
 * parsing and the SOCK_SEQPACKET transport.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "check_run.h"

static struct mc_msg *msg_new(void)
{
	struct mc_msg *m = malloc(sizeof(*m));

	ck_assert_ptr_nonnull(m);
	mc_msg_init(m);
	return m;
}

/* Encode a and decode it into b; the encoded text is left in buf. */
static long round_trip(const struct mc_msg *a, struct mc_msg *b, char *buf)
{
	char err[256] = "";
	long n = mc_msg_encode(a, buf, MC_MSG_MAX);

	ck_assert_int_gt(n, 0);
	ck_assert_msg(mc_msg_decode(b, buf, (size_t)n, err, sizeof(err)) == 0,
		      "decode: %s", err);
	return n;
}

START_TEST(encode_plain_fields)
{
	struct mc_msg *m = msg_new();
	char buf[256];
	long n;

	ck_assert_int_eq(mc_msg_add(m, "op", "attach"), 0);
	ck_assert_int_eq(mc_msg_add(m, "url", "http://h/a/b?x=1&y=2"), 0);
	ck_assert_int_eq(mc_msg_add_u64(m, "extent_size", 1048576), 0);
	ck_assert_int_eq(mc_msg_addf(m, "cred.name", "%s-%d", "dev", 7), 0);
	ck_assert_int_eq(mc_msg_add(m, "empty", ""), 0);
	n = mc_msg_encode(m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "op=attach\nurl=http://h/a/b?x=1&y=2\n"
			      "extent_size=1048576\ncred.name=dev-7\nempty=\n");
	free(m);
}
END_TEST

START_TEST(escapes_round_trip_every_byte)
{
	struct mc_msg *a = msg_new(), *b = msg_new();
	char val[256], *buf = malloc(MC_MSG_MAX);
	long n;

	/* every byte but NUL, in both orders */
	for (int i = 1; i < 256; i++)
		val[i - 1] = (char)i;
	val[255] = '\0';
	ck_assert_int_eq(mc_msg_add(a, "up", val), 0);
	for (int i = 0; i < 255; i++)
		val[i] = (char)(255 - i);
	ck_assert_int_eq(mc_msg_add(a, "down", val), 0);
	ck_assert_int_eq(mc_msg_add(a, "pct", "100% = done\r\n"), 0);
	n = round_trip(a, b, buf);
	/* the text has exactly one raw newline per field */
	ck_assert_int_eq(memchr(buf, '\r', (size_t)n) == NULL, 1);
	ck_assert_uint_eq(mc_msg_count(b), 3);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_str_eq(mc_msg_key(b, i), mc_msg_key(a, i));
		ck_assert_str_eq(mc_msg_val(b, i), mc_msg_val(a, i));
	}
	ck_assert_str_eq(mc_msg_get(b, "pct"), "100% = done\r\n");
	ck_assert_ptr_null(mc_msg_key(b, 3));
	free(buf);
	free(a);
	free(b);
}
END_TEST

START_TEST(add_rejects_bad_keys)
{
	static const char *const bad[] = {
		"", "Op", "a b", "a=b", "a-b", "é", "key\n",
	};
	struct mc_msg *m = msg_new();
	char key[MC_MSG_KEY_MAX + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mc_msg_add(m, bad[i], "v") == -EINVAL, "key '%s'", bad[i]);
	ck_assert_int_eq(mc_msg_add(m, NULL, "v"), -EINVAL);
	ck_assert_int_eq(mc_msg_add(m, "k", NULL), -EINVAL);
	memset(key, 'k', MC_MSG_KEY_MAX);
	key[MC_MSG_KEY_MAX] = '\0';
	ck_assert_int_eq(mc_msg_add(m, key, "v"), -EINVAL);
	key[MC_MSG_KEY_MAX - 1] = '\0';
	ck_assert_int_eq(mc_msg_add(m, key, "v"), 0);
	ck_assert_int_eq(mc_msg_add(m, "a.b_9", "v"), 0);
	ck_assert_uint_eq(mc_msg_count(m), 2);
	free(m);
}
END_TEST

START_TEST(add_error_is_sticky)
{
	struct mc_msg *m = msg_new();
	char buf[64];

	ck_assert_int_eq(mc_msg_add(m, "op", "x"), 0);
	ck_assert_int_eq(mc_msg_add(m, "op", "y"), -EEXIST);
	ck_assert_int_eq(mc_msg_add(m, "next", "z"), 0);
	ck_assert_str_eq(mc_msg_get(m, "op"), "x");
	ck_assert_int_eq(mc_msg_encode(m, buf, sizeof(buf)), -EEXIST);
	ck_assert_int_eq(mc_msg_send(-1, m), -EEXIST);
	free(m);
}
END_TEST

START_TEST(field_count_limit)
{
	struct mc_msg *a = msg_new(), *b = msg_new();
	char *buf = malloc(MC_MSG_MAX + 32), err[128];
	long n;

	for (int i = 0; i < MC_MSG_FIELDS; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(mc_msg_add_u64(a, key, (uint64_t)i), 0);
	}
	ck_assert_int_eq(mc_msg_add(a, "one_more", "x"), -E2BIG);
	a->error = 0;
	n = round_trip(a, b, buf);
	ck_assert_uint_eq(mc_msg_count(b), MC_MSG_FIELDS);
	memcpy(buf + n, "k999=1\n", 7);
	ck_assert_int_eq(mc_msg_decode(b, buf, (size_t)n + 7, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_msg(strstr(err, "line 129") && strstr(err, "more than 128"),
		      "%s", err);
	ck_assert_uint_eq(mc_msg_count(b), 0);
	free(buf);
	free(a);
	free(b);
}
END_TEST

START_TEST(size_limit_counts_escapes)
{
	struct mc_msg *a = msg_new(), *b = msg_new();
	size_t room = MC_MSG_MAX - 3;	/* "v=" and "\n" */
	char *val = malloc(room + 1), *buf = malloc(MC_MSG_MAX + 2), err[128];
	long n;

	memset(val, 'x', room);
	val[room] = '\0';
	ck_assert_int_eq(mc_msg_add(a, "v", val), 0);
	n = round_trip(a, b, buf);
	ck_assert_int_eq(n, MC_MSG_MAX);
	ck_assert_str_eq(mc_msg_get(b, "v"), val);
	ck_assert_int_eq(mc_msg_add(a, "w", ""), -E2BIG);

	/* one escaped byte costs three: the same length no longer fits */
	mc_msg_init(a);
	val[0] = '\n';
	ck_assert_int_eq(mc_msg_add(a, "v", val), -E2BIG);
	ck_assert_uint_eq(mc_msg_count(a), 0);
	ck_assert_int_eq(a->error, -E2BIG);
	mc_msg_init(a);
	val[room - 2] = '\0';
	ck_assert_int_eq(mc_msg_add(a, "v", val), 0);
	ck_assert_int_eq(mc_msg_encode(a, buf, MC_MSG_MAX), MC_MSG_MAX);
	ck_assert_int_eq(mc_msg_encode(a, buf, MC_MSG_MAX - 1), -ENOSPC);

	/* addf checks the same */
	mc_msg_init(a);
	ck_assert_int_eq(mc_msg_addf(a, "v", "%0*d", (int)room + 1, 0), -E2BIG);
	ck_assert_int_eq(mc_msg_addf(a, "v", "%0*d", (int)room, 0), 0);

	memset(buf, 'a', MC_MSG_MAX + 1);
	buf[0] = 'k';
	buf[1] = '=';
	buf[MC_MSG_MAX] = '\n';
	ck_assert_int_eq(mc_msg_decode(b, buf, MC_MSG_MAX + 1, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_msg(strstr(err, "over the 65536 byte limit"), "%s", err);
	free(val);
	free(buf);
	free(a);
	free(b);
}
END_TEST

static const struct {
	const char *text;
	const char *want;	/* expected in the error message */
} bad_input[] = {
	{ "op=attach\nnoequals\n", "line 2: missing '='" },
	{ "=v\n", "line 1: bad key" },
	{ "Op=v\n", "line 1: bad key" },
	{ "a b=v\n", "line 1: bad key" },
	{ "op=a\nop=b\n", "line 2: duplicate key 'op'" },
	{ "k=%4\n", "line 1: bad escape" },
	{ "k=%zz\n", "line 1: bad escape" },
	{ "k=ab%\n", "line 1: bad escape" },
	{ "k=%00\n", "line 1: escaped NUL" },
	{ "a=1\nk=x\ry\n", "line 2: raw control byte" },
	{ "k=x\ty\n", "line 1: raw control byte" },
	{ "k=\x7f\n", "line 1: raw control byte" },
	{ "a=1\nk=v", "line 2: no newline" },
	{ "\n", "line 1: missing '='" },
};

START_TEST(decode_rejects_malformed)
{
	struct mc_msg *m = msg_new();
	const char *text = bad_input[_i].text;
	char err[256] = "";

	ck_assert_int_eq(mc_msg_decode(m, text, strlen(text), err, sizeof(err)),
			 -EBADMSG);
	ck_assert_msg(strstr(err, bad_input[_i].want), "'%s': got '%s'",
		      bad_input[_i].want, err);
	ck_assert_uint_eq(mc_msg_count(m), 0);
	free(m);
}
END_TEST

START_TEST(decode_nul_in_buffer)
{
	struct mc_msg *m = msg_new();
	char err[128] = "";

	ck_assert_int_eq(mc_msg_decode(m, "k=a\0b\n", 6, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "raw control byte"), "%s", err);
	ck_assert_int_eq(mc_msg_decode(m, "", 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(mc_msg_count(m), 0);
	/* lower-case hex and escapes of plain bytes are accepted */
	ck_assert_int_eq(mc_msg_decode(m, "k=%0a%41=\n", 10, err, sizeof(err)), 0);
	ck_assert_str_eq(mc_msg_get(m, "k"), "\nA=");
	free(m);
}
END_TEST

START_TEST(get_u64_is_strict)
{
	static const struct {
		const char *val;
		int res;
		uint64_t want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "42", 0, 42 },
		{ "0x2a", 0, 42 },
		{ "0XFF", 0, 255 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "0xffffffffffffffff", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "0x10000000000000000", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ "0x1g", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
	};
	struct mc_msg *m = msg_new();
	uint64_t v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_msg_init(m);
		ck_assert_int_eq(mc_msg_add(m, "n", cases[i].val), 0);
		v = 12345;
		ck_assert_msg(mc_msg_get_u64(m, "n", &v) == cases[i].res,
			      "'%s'", cases[i].val);
		ck_assert_msg(v == (cases[i].res ? 12345 : cases[i].want),
			      "'%s' gave %llu", cases[i].val, (unsigned long long)v);
	}
	ck_assert_int_eq(mc_msg_get_u64(m, "missing", &v), -ENOENT);
	ck_assert_ptr_null(mc_msg_get(m, "missing"));
	free(m);
}
END_TEST

static void socket_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

START_TEST(send_recv_round_trip)
{
	struct mc_msg *a = msg_new(), *b = msg_new();
	char err[128] = "";
	int sv[2];

	socket_pair(sv);
	ck_assert_int_eq(mc_msg_add(a, "op", "attach"), 0);
	ck_assert_int_eq(mc_msg_add(a, "url", "http://x/y\n"), 0);
	ck_assert_int_eq(mc_msg_send(sv[0], a), 0);
	ck_assert_int_eq(mc_msg_add(a, "second", "1"), 0);
	ck_assert_int_eq(mc_msg_send(sv[0], a), 0);
	ck_assert_msg(mc_msg_recv(sv[1], b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(mc_msg_count(b), 2);
	ck_assert_str_eq(mc_msg_get(b, "url"), "http://x/y\n");
	/* packets do not merge */
	ck_assert_msg(mc_msg_recv(sv[1], b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(mc_msg_count(b), 3);
	close(sv[0]);
	ck_assert_int_eq(mc_msg_recv(sv[1], b, err, sizeof(err)), -ECONNRESET);
	ck_assert_msg(strstr(err, "closed"), "%s", err);
	close(sv[1]);
	free(a);
	free(b);
}
END_TEST

START_TEST(recv_rejects_oversized_and_garbage)
{
	struct mc_msg *m = msg_new();
	size_t big = MC_MSG_MAX + 100;
	char *buf = malloc(big), err[128] = "";
	int sv[2], sndbuf = 4 * MC_MSG_MAX;

	socket_pair(sv);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
				    sizeof(sndbuf)), 0);
	memset(buf, 'a', big);
	buf[big - 1] = '\n';
	ck_assert_int_eq(send(sv[0], buf, big, 0), (ssize_t)big);
	ck_assert_int_eq(send(sv[0], "x\n", 2, 0), 2);
	ck_assert_int_eq(send(sv[0], "ok=1\n", 5, 0), 5);
	ck_assert_int_eq(mc_msg_recv(sv[1], m, err, sizeof(err)), -EMSGSIZE);
	ck_assert_msg(strstr(err, "65636 bytes"), "%s", err);
	/* the rest of the oversized packet is gone, not read as a message */
	ck_assert_int_eq(mc_msg_recv(sv[1], m, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "line 1: missing '='"), "%s", err);
	ck_assert_int_eq(mc_msg_recv(sv[1], m, err, sizeof(err)), 0);
	ck_assert_str_eq(mc_msg_get(m, "ok"), "1");
	/* an empty message is refused rather than sent as end of stream */
	mc_msg_init(m);
	ck_assert_int_eq(mc_msg_send(sv[0], m), -EINVAL);
	close(sv[0]);
	close(sv[1]);
	free(buf);
	free(m);
}
END_TEST

static Suite *ctl_msg_suite(void)
{
	Suite *s = suite_create("ctl_msg");
	TCase *tc = tcase_create("codec");
	TCase *io = tcase_create("socket");

	tcase_add_test(tc, encode_plain_fields);
	tcase_add_test(tc, escapes_round_trip_every_byte);
	tcase_add_test(tc, add_rejects_bad_keys);
	tcase_add_test(tc, add_error_is_sticky);
	tcase_add_test(tc, field_count_limit);
	tcase_add_test(tc, size_limit_counts_escapes);
	tcase_add_loop_test(tc, decode_rejects_malformed, 0,
			    sizeof(bad_input) / sizeof(bad_input[0]));
	tcase_add_test(tc, decode_nul_in_buffer);
	tcase_add_test(tc, get_u64_is_strict);
	suite_add_tcase(s, tc);
	tcase_add_test(io, send_recv_round_trip);
	tcase_add_test(io, recv_rejects_oversized_and_garbage);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	return mc_check_run(ctl_msg_suite());
}
