// SPDX-License-Identifier: MIT
/*
 * Unit tests for userd/az_resp.c: Content-Range parsing (well-formed and
 * malformed), the 206 check, XML error codes, and the mapping of status,
 * error code and curl result to errno, message and retry.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "az_resp.h"
#include "check_run.h"

static char msg[512];

START_TEST(content_range_good)
{
	uint64_t a, b, t;

	ck_assert_int_eq(az_content_range("bytes 0-9/10", &a, &b, &t), 0);
	ck_assert(a == 0 && b == 9 && t == 10);
	ck_assert_int_eq(az_content_range(" Bytes  4096-8191/1000000 ", &a, &b, &t), 0);
	ck_assert(a == 4096 && b == 8191 && t == 1000000);
	ck_assert_int_eq(az_content_range("bytes 18446744073709551613-18446744073709551613/18446744073709551615",
					  &a, &b, &t), 0);
	ck_assert(a == UINT64_MAX - 2 && t == UINT64_MAX);
}
END_TEST

START_TEST(content_range_malformed)
{
	static const char *const bad[] = {
		"", "bytes", "bytes ", "bytes 0-9", "bytes 0-9/", "bytes -9/10",
		"bytes 0-/10", "bytes 0-9/*", "bytes */10", "bits 0-9/10",
		"bytes0-9/10", "bytes 9-0/10", "bytes 0-10/10", "bytes 0-9/10x",
		"bytes 0-9/18446744073709551616", "bytes +0-9/10",
		"bytes 0 -9/10",
	};
	uint64_t a, b, t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(az_content_range(bad[i], &a, &b, &t) == -EPROTO,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(az_content_range(NULL, &a, &b, &t), -EPROTO);
}
END_TEST

START_TEST(partial_check)
{
	ck_assert_int_eq(az_check_partial("bytes 100-199/1000", 100, 100, UINT64_MAX, 100,
					  msg, sizeof(msg)), 0);
	ck_assert_int_eq(az_check_partial("bytes 100-199/1000", 100, 100, UINT64_MAX,
					  UINT64_MAX, msg, sizeof(msg)), 0);
	/* The partial last range: asked exactly up to the end. */
	ck_assert_int_eq(az_check_partial("bytes 900-999/1000", 900, 100, UINT64_MAX, 100,
					  msg, sizeof(msg)), 0);

	ck_assert_int_eq(az_check_partial(NULL, 0, 10, UINT64_MAX, 10, msg, sizeof(msg)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(msg, "without Content-Range"));
	ck_assert_int_eq(az_check_partial("bytes 0-99/1000", 100, 100, UINT64_MAX, 100,
					  msg, sizeof(msg)), -EPROTO);
	ck_assert_str_eq(msg, "answer covers bytes 0-99, asked for 100-199");
	/* Past the end: the service clips, which is not what was asked. */
	ck_assert_int_eq(az_check_partial("bytes 900-999/1000", 900, 200, UINT64_MAX, 100,
					  msg, sizeof(msg)), -EPROTO);
	ck_assert_int_eq(az_check_partial("bytes 0-99/1000", 0, 100, UINT64_MAX, 99,
					  msg, sizeof(msg)), -EPROTO);
	ck_assert_str_eq(msg, "body of 99 bytes, asked for 100");
	ck_assert_int_eq(az_check_partial("garbage", 0, 100, UINT64_MAX, 100, msg,
					  sizeof(msg)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(msg, "malformed Content-Range"));
}
END_TEST

/* A pinned blob's size: a 206 that names another total is not this blob. */
START_TEST(partial_total)
{
	ck_assert_int_eq(az_check_partial("bytes 100-199/1000", 100, 100, 1000,
					  100, msg, sizeof(msg)), 0);
	ck_assert_int_eq(az_check_partial("bytes 100-199/1001", 100, 100, 1000,
					  100, msg, sizeof(msg)), -EPROTO);
	ck_assert_str_eq(msg, "answer says the blob has 1001 bytes, attached with 1000");
	ck_assert_int_eq(az_check_partial("bytes 100-199/999", 100, 100, 1000,
					  UINT64_MAX, msg, sizeof(msg)), -EPROTO);
}
END_TEST

START_TEST(content_md5_good)
{
	/* MD5("") and the MD5 of 100 bytes of Azurite's answer, as sent. */
	static const unsigned char empty[16] = {
		0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
	};
	unsigned char md5[16];

	ck_assert_int_eq(az_content_md5("1B2M2Y8AsgTpgAmY7PhCfg==", md5), 0);
	ck_assert_mem_eq(md5, empty, 16);
	ck_assert_int_eq(az_content_md5("KYp21U25iZymbV2//GcAgA==", md5), 0);
	ck_assert_int_eq(md5[0], 0x29);
	ck_assert_int_eq(md5[15], 0x80);
}
END_TEST

START_TEST(content_md5_bad)
{
	static const char *const bad[] = {
		"", "1B2M2Y8AsgTpgAmY7PhCfg=", "1B2M2Y8AsgTpgAmY7PhCfg",
		"1B2M2Y8AsgTpgAmY7PhCfg===", " 1B2M2Y8AsgTpgAmY7PhCfg==",
		"1B2M2Y8AsgTp gAmY7PhCfg==", "1B2M2Y8AsgTpgAmY7PhCf-==",
		"1B2M2Y8AsgTpgAmY7PhCfgAA", "1B2M2Y8AsgTpgAmY7PhCfg=A",
		/* 20 bytes (SHA-1 sized) and 12 bytes: not an MD5. */
		"2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "AAAAAAAAAAAAAAAA",
		"d41d8cd98f00b204e9800998ecf8427e",
		/* The same 16 bytes, spelt with unused bits set. */
		"1B2M2Y8AsgTpgAmY7PhCfh==",
	};
	unsigned char md5[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(az_content_md5(bad[i], md5) == -EPROTO,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(az_content_md5(NULL, md5), -EPROTO);
}
END_TEST

START_TEST(retry_after)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT */
	const int64_t now = 1445412480;
	uint64_t ms = 7;

	ck_assert_int_eq(az_retry_after("2", now, &ms), 0);
	ck_assert_uint_eq(ms, 2000);
	ck_assert_int_eq(az_retry_after(" 0 ", now, &ms), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(az_retry_after("120", now, &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	/* Capped, also past what a u64 holds. */
	ck_assert_int_eq(az_retry_after("86400", now, &ms), 0);
	ck_assert_uint_eq(ms, AZ_RETRY_AFTER_MAX_S * 1000ull);
	ck_assert_int_eq(az_retry_after("99999999999999999999999", now, &ms), 0);
	ck_assert_uint_eq(ms, AZ_RETRY_AFTER_MAX_S * 1000ull);
	/* HTTP-dates: in 5 s, in the past. */
	ck_assert_int_eq(az_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now, &ms), 0);
	ck_assert_uint_eq(ms, 5000);
	ck_assert_int_eq(az_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now, &ms), 0);
	ck_assert_uint_eq(ms, 0);

	ms = 7;
	ck_assert_int_eq(az_retry_after("", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after("  ", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after("-1", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after("1.5", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after("3 s", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after("soon", now, &ms), -EPROTO);
	ck_assert_int_eq(az_retry_after(NULL, now, &ms), -EPROTO);
	ck_assert_uint_eq(ms, 7);
}
END_TEST

START_TEST(xml_code)
{
	const char *body = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>";
	char code[64];

	ck_assert_int_eq(az_xml_error_code(body, strlen(body), code, sizeof(code)), 0);
	ck_assert_str_eq(code, "BlobNotFound");
	ck_assert_int_eq(az_xml_error_code("<Error></Error>", 15, code, sizeof(code)), -ENOENT);
	ck_assert_int_eq(az_xml_error_code("<Code>abc", 9, code, sizeof(code)), -ENOENT);
	/* Cut to the buffer: a long code cannot overflow it. */
	ck_assert_int_eq(az_xml_error_code("<Code>ABCDEFGH</Code>", 21, code, 4), 0);
	ck_assert_str_eq(code, "ABC");
	/* Found by fuzz_blob_resp: a "code" with an escape or a newline is not one. */
	ck_assert_int_eq(az_xml_error_code("<Code>Blob\x1b[2JNotFound</Code>", 30, code, sizeof(code)),
			 -ENOENT);
	ck_assert_int_eq(az_xml_error_code("<Code>Bad\nCode</Code>", 21, code, sizeof(code)), -ENOENT);
	ck_assert(az_error_code_ok("ConditionNotMet"));
	ck_assert(!az_error_code_ok(""));
	ck_assert(!az_error_code_ok("Auth Failed"));
}
END_TEST

struct row {
	long status;
	int curl;
	const char *code;
	int res;
	bool retry;
	const char *needle;	/* must appear in the message */
};

static const struct row rows[] = {
	{ 200, CURLE_OK, NULL, 0, false, "" },
	{ 206, CURLE_OK, NULL, 0, false, "" },
	{ 403, CURLE_OK, "AuthenticationFailed", -EACCES, false,
	  "authentication failed (403 AuthenticationFailed): check the account key (--account-key-file / AZURE_STORAGE_KEY)" },
	{ 403, CURLE_OK, "AuthorizationPermissionMismatch", -EACCES, false, "permission denied" },
	{ 403, CURLE_OK, "AuthorizationFailure", -EACCES, false, "not authorised" },
	{ 401, CURLE_OK, NULL, -EACCES, false, "401 no error code" },
	{ 400, CURLE_OK, "InvalidAuthenticationInfo", -EACCES, false, "authentication failed" },
	{ 404, CURLE_OK, "ContainerNotFound", -ENOENT, false, "container not found" },
	{ 404, CURLE_OK, "BlobNotFound", -ENOENT, false, "blob not found" },
	{ 404, CURLE_OK, NULL, -ENOENT, false, "not found (404" },
	{ 412, CURLE_OK, "ConditionNotMet", -ESTALE, false,
	  "the blob changed since it was attached (412 ConditionNotMet, attached ETag \"0x8D\")" },
	{ 416, CURLE_OK, "InvalidRange", -ERANGE, false, "range outside the blob" },
	{ 408, CURLE_OK, NULL, -ETIMEDOUT, true, "408" },
	{ 429, CURLE_OK, NULL, -EIO, true, "throttled" },
	{ 409, CURLE_OK, "BlobArchived", -EIO, false, "archive tier" },
	{ 400, CURLE_OK, "InvalidAccount", -ENXIO, false, "unknown account" },
	{ 400, CURLE_OK, "InvalidHeaderValue", -EIO, false, "request refused (400 InvalidHeaderValue)" },
	{ 500, CURLE_OK, "InternalError", -EIO, true, "service error (500 InternalError)" },
	{ 500, CURLE_OK, "OperationTimedOut", -ETIMEDOUT, true, "timed out" },
	{ 503, CURLE_OK, "ServerBusy", -EIO, true, "503 ServerBusy" },
	{ 302, CURLE_OK, NULL, -EIO, false, "unexpected answer (HTTP 302)" },
	{ 0, CURLE_COULDNT_RESOLVE_HOST, NULL, -ENXIO, false, "unknown account/host" },
	{ 0, CURLE_OPERATION_TIMEDOUT, NULL, -ETIMEDOUT, true, "timed out" },
	{ 0, CURLE_COULDNT_CONNECT, NULL, -ETIMEDOUT, true, "cannot connect" },
	{ 0, CURLE_RECV_ERROR, NULL, -EIO, true, "connection failed" },
	{ 0, CURLE_SEND_ERROR, NULL, -EIO, true, "connection failed" },
	{ 0, CURLE_GOT_NOTHING, NULL, -EIO, true, "connection failed" },
	{ 206, CURLE_PARTIAL_FILE, NULL, -EIO, true, "connection failed" },
	/* Bytes that are no HTTP answer (curl calls HTTP/0.9 "unsupported"). */
	{ 0, CURLE_WEIRD_SERVER_REPLY, NULL, -EIO, true, "not an HTTP answer" },
	{ 0, CURLE_UNSUPPORTED_PROTOCOL, NULL, -EIO, true, "not an HTTP answer" },
	{ 0, CURLE_PEER_FAILED_VERIFICATION, NULL, -EACCES, false, "certificate" },
	{ 206, CURLE_WRITE_ERROR, NULL, -EPROTO, false, "longer than asked" },
	{ 0, CURLE_URL_MALFORMAT, NULL, -EIO, false, "transfer failed" },
};

START_TEST(classify_table)
{
	const struct row *r = &rows[_i];
	struct az_failure f = {
		.status = r->status, .curl_code = r->curl,
		.error_code = r->code, .auth = AZ_AUTH_SHARED_KEY,
		.what = "host/cont/blob", .etag = "\"0x8D\"",
	};
	bool retry = !r->retry;
	int res = az_classify(&f, &retry, msg, sizeof(msg));

	ck_assert_msg(res == r->res, "row %d: res %d, want %d", _i, res, r->res);
	ck_assert_msg(retry == r->retry, "row %d: retry %d", _i, retry);
	ck_assert_msg(strstr(msg, r->needle), "row %d: '%s' lacks '%s'", _i,
		      msg, r->needle);
	if (res)
		ck_assert_msg(strstr(msg, "host/cont/blob"), "row %d: '%s' does not name the blob", _i, msg);
}
END_TEST

START_TEST(auth_hint_follows_credential)
{
	struct az_failure f = { .status = 403, .error_code = "AuthenticationFailed",
				.what = "x" };
	bool retry;

	f.auth = AZ_AUTH_SAS;
	az_classify(&f, &retry, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "SAS"));
	f.auth = AZ_AUTH_BEARER;
	az_classify(&f, &retry, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "token"));
	f.auth = AZ_AUTH_NONE;
	az_classify(&f, &retry, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "not public"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("az_resp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, content_range_good);
	tcase_add_test(tc, content_range_malformed);
	tcase_add_test(tc, partial_check);
	tcase_add_test(tc, partial_total);
	tcase_add_test(tc, content_md5_good);
	tcase_add_test(tc, content_md5_bad);
	tcase_add_test(tc, retry_after);
	tcase_add_test(tc, xml_code);
	tcase_add_loop_test(tc, classify_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, auth_hint_follows_credential);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
