// SPDX-License-Identifier: MIT
/*
 * Unit tests for userd/az_sign.c: Shared Key string-to-sign against the
 * examples of Microsoft's "Authorize with Shared Key" page, HMAC-SHA256 and
 * base64 against published or independently computed vectors, the strict
 * key decoder, dates and the service SAS.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "az_sign.h"
#include "check_run.h"

#define MS_DATE "Fri, 26 Jun 2015 23:39:12 GMT"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static char out[8192];

/* Documented: GET .../mycontainer?restype=container&comp=metadata&timeout=20 */
START_TEST(doc_get_container_metadata)
{
	const struct az_hdr h[] = {
		{ "x-ms-version", "2015-02-21" },
		{ "x-ms-date", MS_DATE },
	};
	const struct az_sign_req r = {
		.verb = "GET", .account = "myaccount", .path = "/mycontainer",
		.query = "restype=container&comp=metadata&timeout=20",
		.hdrs = h, .nhdrs = 2,
	};
	const char *want = "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20";

	ck_assert_int_eq(az_string_to_sign(&r, out, sizeof(out)), (int)strlen(want));
	ck_assert_str_eq(out, want);
}
END_TEST

/* Documented: a zero Content-Length is signed as an empty line (2015-02-21+). */
START_TEST(doc_put_zero_length)
{
	const struct az_hdr h[] = {
		{ "x-ms-version", "2015-02-21" },
		{ "x-ms-date", MS_DATE },
		{ "Content-Length", "0" },
	};
	const struct az_sign_req r = {
		.verb = "PUT", .account = "myaccount", .path = "/mycontainer",
		.query = "restype=container&timeout=30", .hdrs = h, .nhdrs = 3,
	};

	ck_assert_int_gt(az_string_to_sign(&r, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\nrestype:container\ntimeout:30");
}
END_TEST

/* Documented CanonicalizedResource examples. */
START_TEST(doc_canon_resource)
{
	ck_assert_int_gt(az_canon_resource("myaccount", "/mycontainer",
			 "restype=container&comp=metadata", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/myaccount/mycontainer\ncomp:metadata\nrestype:container");

	ck_assert_int_gt(az_canon_resource("myaccount", "/mycontainer",
			 "restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs",
			 out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\nrestype:container");

	/* Secondary location: signed with the primary account name. */
	ck_assert_int_gt(az_canon_resource("myaccount", "/mycontainer/myblob",
			 NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/myaccount/mycontainer/myblob");
}
END_TEST

/* Documented example of a canonicalized headers string, plus the rules:
 * lowercased names, sorted, whitespace folded, other headers left out. */
START_TEST(canon_headers_rules)
{
	const struct az_hdr h[] = {
		{ "X-MS-Version", "  2014-02-14 " },
		{ "If-Match", "\"0x1\"" },
		{ "x-ms-date", "Sat, 21 Feb 2015 00:48:38 GMT" },
		{ "Authorization", "not signed" },
	};
	const struct az_hdr folded[] = {
		{ "x-ms-meta-b", "a \t\r\n  b" },
		{ "x-ms-meta-a", "" },
	};
	const struct az_hdr dup[] = {
		{ "x-ms-date", "a" }, { "X-Ms-Date", "b" },
	};

	ck_assert_int_gt(az_canon_headers(h, 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x-ms-date:Sat, 21 Feb 2015 00:48:38 GMT\nx-ms-version:2014-02-14\n");
	ck_assert_int_gt(az_canon_headers(folded, 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x-ms-meta-a:\nx-ms-meta-b:a b\n");
	ck_assert_int_eq(az_canon_headers(dup, 2, out, sizeof(out)), -EINVAL);
}
END_TEST

/* Standard headers land on their own lines; Range and If-Match are signed. */
START_TEST(standard_header_positions)
{
	const struct az_hdr h[] = {
		{ "range", "bytes=0-9" },
		{ "If-Match", "\"etag\"" },
		{ "Content-Length", "17" },
		{ "Content-Type", "text/plain" },
	};
	const struct az_sign_req r = {
		.verb = "GET", .account = "a", .path = "/c/b", .hdrs = h,
		.nhdrs = 4,
	};

	ck_assert_int_gt(az_string_to_sign(&r, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "GET\n\n\n17\n\ntext/plain\n\n\n\"etag\"\n\n\nbytes=0-9\n/a/c/b");
}
END_TEST

/* The path is signed as sent (encoded); query names and values decoded,
 * names lowercased. Path-style: the account appears twice, as documented
 * for the emulator. */
START_TEST(resource_encoding)
{
	ck_assert_int_gt(az_canon_resource("devstoreaccount1",
			 "/devstoreaccount1/c/dir/a%20b", "Comp=x%2Fy&sv=1+2",
			 out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/devstoreaccount1/devstoreaccount1/c/dir/a%20b\ncomp:x/y\nsv:1 2");
	ck_assert_int_eq(az_canon_resource("a", "/c", "x=%zz", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(az_canon_resource("", "/c", NULL, out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(too_small)
{
	char small[8];

	ck_assert_int_eq(az_canon_resource("myaccount", "/mycontainer", NULL,
					   small, sizeof(small)), -ENOSPC);
	ck_assert_int_eq(az_b64_encode((const unsigned char *)"foobar", 6,
				       small, sizeof(small)), -ENOSPC);
}
END_TEST

/*
 * Expected value computed independently with the openssl CLI:
 *   HEX=$(printf %s "$DEV_KEY" | base64 -d | xxd -p -c 256)
 *   printf 'GET\n\n...timeout:20' | openssl dgst -sha256 -mac HMAC \
 *	-macopt hexkey:$HEX -binary | base64
 */
START_TEST(hmac_dev_key)
{
	const char *sts = "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20";
	const struct az_hdr h[] = {
		{ "x-ms-date", MS_DATE }, { "x-ms-version", "2015-02-21" },
	};
	const struct az_sign_req r = {
		.verb = "GET", .account = "myaccount", .path = "/mycontainer",
		.query = "restype=container&comp=metadata&timeout=20",
		.hdrs = h, .nhdrs = 2,
	};
	unsigned char key[64];
	int n = az_b64_decode(DEV_KEY, key, sizeof(key));

	ck_assert_int_eq(n, 64);
	ck_assert_int_eq(az_hmac_b64(key, 64, sts, strlen(sts), out, sizeof(out)), 44);
	ck_assert_str_eq(out, "1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=");
	ck_assert_int_gt(az_sign_shared_key(&r, key, 64, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "SharedKey myaccount:1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=");
}
END_TEST

/* RFC 4231 test case 2 (hex 5bdcc146...ec3843), in base64. */
START_TEST(hmac_rfc4231)
{
	const char *msg = "what do ya want for nothing?";

	az_hmac_b64((const unsigned char *)"Jefe", 4, msg, strlen(msg), out,
		    sizeof(out));
	ck_assert_str_eq(out, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}
END_TEST

/* RFC 4648 vectors, both ways. */
START_TEST(b64_vectors)
{
	static const char *const v[][2] = {
		{ "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char dec[16];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = (int)strlen(v[i][0]);

		ck_assert_int_eq(az_b64_encode((const unsigned char *)v[i][0],
					       (size_t)n, out, sizeof(out)),
				 (int)strlen(v[i][1]));
		ck_assert_str_eq(out, v[i][1]);
		ck_assert_int_eq(az_b64_decode(v[i][1], dec, sizeof(dec)), n);
		ck_assert(!memcmp(dec, v[i][0], (size_t)n));
	}
}
END_TEST

START_TEST(b64_rejects_bad_keys)
{
	unsigned char dec[64];

	ck_assert_int_eq(az_b64_decode("", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zm8", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zm9v\n", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zm 9", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zm-_", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Z=9v", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zg=v", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("====", dec, sizeof(dec)), -EINVAL);
	ck_assert_int_eq(az_b64_decode("Zm9vYmFy", dec, 5), -ENOSPC);
	ck_assert_int_eq(az_b64_decode("Zm9vYmFy", dec, 6), 6);
}
END_TEST

START_TEST(http_date)
{
	char d[AZ_DATE_LEN];

	az_http_date(0, d);
	ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	az_http_date(1435361952, d);
	ck_assert_str_eq(d, MS_DATE);
}
END_TEST

START_TEST(url_coding)
{
	ck_assert_int_eq(az_url_encode("a b/c~:", out, sizeof(out)), 13);
	ck_assert_str_eq(out, "a%20b%2Fc~%3A");
	ck_assert_int_eq(az_url_decode("a%20b%2fc", 9, out, sizeof(out)), 5);
	ck_assert_str_eq(out, "a b/c");
	ck_assert_int_eq(az_url_decode("a%2", 3, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(az_url_decode("a%g0", 4, out, sizeof(out)), -EINVAL);
}
END_TEST

/*
 * The SAS signs the sixteen-line string of version 2020-12-06 and later;
 * the expected signature is recomputed here over the documented layout,
 * so a wrong line count or order fails.
 */
START_TEST(sas_blob)
{
	unsigned char key[64];
	char sig[64], want[256];
	const char *sts = "r\n\n2030-01-01T00:00:00Z\n/blob/acct/cont/dir/b 1\n\n\nhttps,http\n" AZ_API_VERSION "\nb\n\n\n\n\n\n\n";

	ck_assert_int_eq(az_b64_decode(DEV_KEY, key, sizeof(key)), 64);
	ck_assert_int_gt(az_sas_blob("acct", key, 64, "cont", "dir/b 1", "r",
				     NULL, "2030-01-01T00:00:00Z", out,
				     sizeof(out)), 0);
	az_hmac_b64(key, 64, sts, strlen(sts), sig, sizeof(sig));
	strcpy(want, "sv=" AZ_API_VERSION "&sr=b&sp=r&se=2030-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=");
	az_url_encode(sig, want + strlen(want), sizeof(want) - strlen(want));
	ck_assert_str_eq(out, want);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("az_sign");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, doc_get_container_metadata);
	tcase_add_test(tc, doc_put_zero_length);
	tcase_add_test(tc, doc_canon_resource);
	tcase_add_test(tc, canon_headers_rules);
	tcase_add_test(tc, standard_header_positions);
	tcase_add_test(tc, resource_encoding);
	tcase_add_test(tc, too_small);
	tcase_add_test(tc, hmac_dev_key);
	tcase_add_test(tc, hmac_rfc4231);
	tcase_add_test(tc, b64_vectors);
	tcase_add_test(tc, b64_rejects_bad_keys);
	tcase_add_test(tc, http_date);
	tcase_add_test(tc, url_coding);
	tcase_add_test(tc, sas_blob);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
