// SPDX-License-Identifier: MIT
/*
 * Unit tests for credential resolution: base64 keys, SAS tokens,
 * connection strings (Azurite's documented ones included), the order of
 * sources, account matching, the credentials file and its permissions,
 * and carrying a credential in a control message.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cred.h"
#include "ctl_msg.h"
#include "check_run.h"

/* Azurite's development connection string, as its documentation gives it. */
#define AZURITE_CONN_STR \
	"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" \
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" \
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" \
	"QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" \
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

#define AZURITE_URL	"http://127.0.0.1:10000/devstoreaccount1/data/shard-0.bin"
#define ACCT_URL	"https://acct1.blob.core.windows.net/data/shard-0.bin"
#define SAS		"sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=c2VjcmV0c2ln"
#define SAS2		"sv=2022-11-02&sp=r&sig=b3RoZXJzaWc%3D"

static char tmpdir[64];
static char key_b64[128];	/* a test key: 64 bytes 0, 1, ... 63 */
static unsigned char key_raw[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check_cred.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	for (int i = 0; i < 64; i++)
		key_raw[i] = (unsigned char)i;
	EVP_EncodeBlock((unsigned char *)key_b64, key_raw, 64);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file under tmpdir with mode; returns its path (static buffer). */
static const char *put_file(const char *name, const char *text, mode_t mode)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	int fd;

	snprintf(p, 256, "%s/%s", tmpdir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return p;
}

/* An injected environment: name=value pairs, NULL-terminated. */
struct env {
	const char *kv[16];
};

static const char *env_lookup(void *arg, const char *name)
{
	const struct env *e = arg;

	for (int i = 0; e->kv[i]; i += 2)
		if (!strcmp(e->kv[i], name))
			return e->kv[i + 1];
	return NULL;
}

/* Options with the injected environment and no stray credentials file. */
static struct mc_cred_opts opts_with(struct env *e)
{
	struct mc_cred_opts o = { .env = env_lookup, .env_arg = e };

	/* an empty file keeps the host's /etc/maicache/credentials out */
	o.credentials_file = put_file("empty-credentials", "", 0600);
	return o;
}

static int resolve(const char *url, const struct mc_cred_opts *o,
		   struct az_cred *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return mc_cred_resolve(url, o, c, err, errlen);
}

static void assert_no_secret(const char *msg, const char *secret)
{
	ck_assert_msg(!strstr(msg, secret), "message leaks a secret: %s", msg);
}

/* --- base64 keys ---------------------------------------------------------- */

START_TEST(key_decode_valid)
{
	unsigned char key[AZ_KEY_MAX];
	size_t len = 0;
	char err[256] = "", back[128];

	ck_assert_int_eq(az_key_decode(key_b64, "k", key, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 64);
	ck_assert_mem_eq(key, key_raw, 64);
	ck_assert_int_eq(az_key_decode(AZ_DEV_KEY, "k", key, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 64);
	EVP_EncodeBlock((unsigned char *)back, key, 64);
	ck_assert_str_eq(back, AZ_DEV_KEY);
	/* padding is subtracted: 1 and 2 bytes */
	ck_assert_int_eq(az_key_decode("QQ==", "k", key, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(key[0], 'A');
	ck_assert_int_eq(az_key_decode("QUI=", "k", key, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(az_key_decode("QUJD", "k", key, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 3);
}
END_TEST

static const char *const bad_b64[] = {
	"QUJ", "QUJDR", "QU!D", "Q===", "QQ=A", "=QQQ", "QUJD QUJD", "QUJD\n",
	"QQ==QQ==",
	/* 66 bytes decoded: over AZ_KEY_MAX */
	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkwMTIz",
};

START_TEST(key_decode_rejects)
{
	unsigned char key[AZ_KEY_MAX];
	size_t len = 99;
	char err[256] = "";

	ck_assert_int_eq(az_key_decode(bad_b64[_i], "AZURE_STORAGE_KEY", key, &len,
				       err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "AZURE_STORAGE_KEY is"), "%s", err);
	ck_assert_msg(strstr(err, "base64") || strstr(err, "too long"), "%s", err);
	assert_no_secret(err, bad_b64[_i]);
	ck_assert_uint_eq(len, 99);
}
END_TEST

START_TEST(key_decode_empty)
{
	unsigned char key[AZ_KEY_MAX];
	size_t len;
	char err[256] = "";

	ck_assert_int_eq(az_key_decode("", "--x", key, &len, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--x is empty");
}
END_TEST

/* --- SAS ------------------------------------------------------------------ */

START_TEST(sas_checks)
{
	char out[AZ_SAS_MAX], err[256], *big;

	ck_assert_int_eq(az_sas_check("?" SAS, "--sas", out, err, sizeof(err)), 0);
	ck_assert_str_eq(out, SAS);
	ck_assert_int_eq(az_sas_check("sv=1&sp=r", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--sas does not look like a SAS token (no sig= parameter)");
	ck_assert_int_eq(az_sas_check("sv=1&xsig=a", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(az_sas_check("sv=1&sig=", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(az_sas_check("sv=1 &sig=a", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "position 5"), "%s", err);
	ck_assert_int_eq(az_sas_check("sig=a#b", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(az_sas_check("?", "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--sas is empty");
	big = malloc(AZ_SAS_MAX + 1);
	memset(big, 'a', AZ_SAS_MAX);
	memcpy(big, "sig=", 4);
	big[AZ_SAS_MAX] = '\0';
	ck_assert_int_eq(az_sas_check(big, "--sas", out, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "too long"), "%s", err);
	big[AZ_SAS_MAX - 1] = '\0';
	ck_assert_int_eq(az_sas_check(big, "--sas", out, err, sizeof(err)), 0);
	free(big);
}
END_TEST

/* --- connection strings ----------------------------------------------------- */

START_TEST(conn_str_azurite_documented)
{
	struct az_conn_str cs;
	unsigned char dev[AZ_KEY_MAX];
	size_t dev_len;
	char err[256] = "";

	ck_assert_int_eq(az_key_decode(AZ_DEV_KEY, "k", dev, &dev_len, err, sizeof(err)), 0);
	ck_assert_msg(az_conn_str_parse(AZURITE_CONN_STR, "cs", &cs, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_str_eq(cs.account, "devstoreaccount1");
	ck_assert_uint_eq(cs.key_len, dev_len);
	ck_assert_mem_eq(cs.key, dev, dev_len);
	ck_assert_str_eq(cs.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	ck_assert_str_eq(cs.protocol, "http");
	ck_assert_str_eq(cs.sas, "");
	ck_assert(!cs.dev_storage);
}
END_TEST

START_TEST(conn_str_use_development_storage)
{
	struct az_conn_str a, b;
	char err[256] = "";

	ck_assert_int_eq(az_conn_str_parse(AZURITE_CONN_STR, "cs", &a, err, sizeof(err)), 0);
	ck_assert_msg(az_conn_str_parse("UseDevelopmentStorage=true", "cs", &b, err,
					sizeof(err)) == 0, "%s", err);
	ck_assert(b.dev_storage);
	ck_assert_str_eq(b.account, a.account);
	ck_assert_uint_eq(b.key_len, a.key_len);
	ck_assert_mem_eq(b.key, a.key, a.key_len);
	ck_assert_str_eq(b.blob_endpoint, a.blob_endpoint);
	ck_assert_int_eq(az_conn_str_parse("usedevelopmentstorage=TRUE;", "cs", &b, err,
					   sizeof(err)), 0);
	ck_assert(b.dev_storage);
	ck_assert_int_eq(az_conn_str_parse("UseDevelopmentStorage=true;AccountName=x", "cs",
					   &b, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "cs: UseDevelopmentStorage=true cannot be combined with AccountName");
	ck_assert_int_eq(az_conn_str_parse("UseDevelopmentStorage=yes", "cs", &b, err,
					   sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "must be true or false"), "%s", err);
}
END_TEST

START_TEST(conn_str_case_padding_and_sas)
{
	struct az_conn_str cs;
	char s[512], err[256] = "";

	snprintf(s, sizeof(s),
		 " defaultendpointsprotocol = HTTPS ; ACCOUNTNAME=acct1;accountkey=%s;"
		 "EndpointSuffix=core.windows.net", key_b64);
	ck_assert_msg(az_conn_str_parse(s, "cs", &cs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cs.account, "acct1");
	ck_assert_uint_eq(cs.key_len, 64);
	ck_assert_mem_eq(cs.key, key_raw, 64);
	ck_assert_str_eq(cs.endpoint_suffix, "core.windows.net");
	ck_assert_int_eq(az_conn_str_parse("BlobEndpoint=https://acct1.blob.core.windows.net/;"
					   "SharedAccessSignature=" SAS, "cs", &cs, err,
					   sizeof(err)), 0);
	ck_assert_str_eq(cs.sas, SAS);
	ck_assert_uint_eq(cs.key_len, 0);
	ck_assert_str_eq(cs.account, "");
}
END_TEST

static const struct {
	const char *s;
	const char *want;
} bad_conn[] = {
	{ "AccountName=a;AccountKey", "cs: part 2 has no '='" },
	{ "AccountName=a;AccountName=b;AccountKey=QUJD", "cs: AccountName is given twice" },
	{ "AccountName=a;AccountKey=", "cs: AccountKey is empty" },
	{ "AccountName=a;AccountKey=QUJD!", "cs: AccountKey is not valid base64" },
	{ "AccountKey=QUJD", "cs has an AccountKey but no AccountName" },
	{ "AccountName=a;EndpointSuffix=core.windows.net", "cs has neither AccountKey nor SharedAccessSignature" },
	{ "", "cs has neither" },
	{ "DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=QUJD", "DefaultEndpointsProtocol must be http or https" },
	{ "AccountName=a_b;AccountKey=QUJD", "cs: AccountName: account name may hold only" },
	{ "BlobEndpoint=ftp://x;SharedAccessSignature=sig=1", "BlobEndpoint must start with http:// or https://" },
	{ "SharedAccessSignature=sv=1", "cs: SharedAccessSignature does not look like a SAS" },
};

START_TEST(conn_str_rejects)
{
	struct az_conn_str cs;
	char err[256] = "";

	ck_assert_int_eq(az_conn_str_parse(bad_conn[_i].s, "cs", &cs, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, bad_conn[_i].want), "want '%s', got '%s'",
		      bad_conn[_i].want, err);
	assert_no_secret(err, "QUJD");
}
END_TEST

/* --- resolution order ------------------------------------------------------- */

START_TEST(no_credential_is_anonymous)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256], d[512];

	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);
	ck_assert_str_eq(c.account, "acct1");
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "no credential for account 'acct1' (none found; anonymous access)");
	/* a SAS in the URL: still NONE, the blob client sends the query */
	ck_assert_int_eq(resolve(ACCT_URL "?" SAS, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "no credential for account 'acct1' (the URL carries a SAS)");
	/* a query without sig= is no SAS */
	ck_assert_int_eq(resolve(ACCT_URL "?comp=x", &o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.origin, "none found; anonymous access");
}
END_TEST

START_TEST(bad_url_is_an_error)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256];

	ck_assert_int_eq(resolve("ftp://x/y/z", &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "scheme"), "%s", err);
}
END_TEST

START_TEST(option_beats_environment)
{
	struct env e = { { "AZURE_STORAGE_ACCOUNT", "acct1", "AZURE_STORAGE_KEY", key_b64,
			   NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256], d[512];

	o.sas = "?" SAS;
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	ck_assert_str_eq(c.sas, SAS);
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "SAS for account 'acct1' (from --sas)");
	assert_no_secret(d, "sig=");

	o.sas = NULL;
	o.anonymous = true;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);
	ck_assert_str_eq(c.origin, "--anonymous");

	o.anonymous = false;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	ck_assert_mem_eq(c.key, key_raw, 64);
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "shared key for account 'acct1' (from AZURE_STORAGE_KEY)");
}
END_TEST

START_TEST(options_are_exclusive)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256];

	o.sas = SAS;
	o.token_file = "/x";
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--sas and --token-file cannot be used together: give one credential");
	o.token_file = NULL;
	o.anonymous = true;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "--sas and --anonymous"), "%s", err);
}
END_TEST

START_TEST(option_files)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256], text[256];
	const char *kf, *sf;

	snprintf(text, sizeof(text), "\n  %s  \r\n", key_b64);
	kf = put_file("acct1.key", text, 0600);
	o.account_key_file = kf;
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	ck_assert_uint_eq(c.key_len, 64);
	ck_assert_mem_eq(c.key, key_raw, 64);
	ck_assert_msg(strstr(c.origin, "--account-key-file ") && strstr(c.origin, "acct1.key"),
		      "%s", c.origin);

	kf = put_file("bad.key", "not base64!\n", 0600);
	o.account_key_file = kf;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "--account-key-file") && strstr(err, "is not valid base64"),
		      "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);

	o.account_key_file = put_file("empty.key", " \n", 0600);
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "is empty"), "%s", err);

	snprintf(text, sizeof(text), "%s/missing.key", tmpdir);
	o.account_key_file = text;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "--account-key-file") && strstr(err, "No such file"),
		      "%s", err);

	o.account_key_file = NULL;
	sf = put_file("acct1.sas", "?" SAS "\n", 0600);
	o.sas_file = sf;
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	ck_assert_str_eq(c.sas, SAS);
}
END_TEST

START_TEST(token_file_made_absolute)
{
	struct env e = { { "MAICACHE_TOKEN_FILE", "token", NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256], want[300], d[600], cwd[256];

	put_file("token", "eyJ0eXAi\n", 0600);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_BEARER);
	snprintf(want, sizeof(want), "%s/token", tmpdir);
	ck_assert_str_eq(c.token_file, want);
	az_cred_describe(&c, d, sizeof(d));
	snprintf(want, sizeof(want),
		 "bearer token in %s/token for account 'acct1' (from MAICACHE_TOKEN_FILE)",
		 tmpdir);
	ck_assert_str_eq(d, want);

	/* a missing token file is caught now, not at the first read */
	e.kv[1] = "/nonexistent/token";
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "MAICACHE_TOKEN_FILE /nonexistent/token"), "%s", err);
}
END_TEST

START_TEST(environment_order)
{
	char err[256], d[512];
	struct env e = { { "AZURE_STORAGE_CONNECTION_STRING", AZURITE_CONN_STR,
			   "AZURE_STORAGE_ACCOUNT", "devstoreaccount1",
			   "AZURE_STORAGE_KEY", NULL,
			   "AZURE_STORAGE_SAS_TOKEN", SAS,
			   NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;

	e.kv[5] = key_b64;
	ck_assert_msg(resolve(AZURITE_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	ck_assert_str_eq(c.origin, "AZURE_STORAGE_CONNECTION_STRING");
	ck_assert_mem_ne(c.key, key_raw, 64);	/* Azurite's key, not the env key */
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "shared key for account 'devstoreaccount1' (from AZURE_STORAGE_CONNECTION_STRING)");

	e.kv[1] = "";	/* empty counts as unset */
	ck_assert_int_eq(resolve(AZURITE_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.origin, "AZURE_STORAGE_KEY");
	ck_assert_mem_eq(c.key, key_raw, 64);

	e.kv[5] = NULL;
	ck_assert_int_eq(resolve(AZURITE_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	ck_assert_str_eq(c.origin, "AZURE_STORAGE_SAS_TOKEN");
}
END_TEST

START_TEST(environment_account_mismatch)
{
	struct env e = { { "AZURE_STORAGE_ACCOUNT", "other", "AZURE_STORAGE_KEY", NULL, NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256];

	e.kv[3] = key_b64;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "the URL is for account 'acct1' but AZURE_STORAGE_ACCOUNT is for account 'other'");
	/* the same account in another case matches */
	e.kv[1] = "ACCT1";
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), 0);
	/* a key without its account */
	e.kv[0] = "UNRELATED";
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "AZURE_STORAGE_KEY is set but AZURE_STORAGE_ACCOUNT is not"),
		      "%s", err);
}
END_TEST

START_TEST(environment_bad_key)
{
	static const char bad[] = "c2VjcmV0!!";
	struct env e = { { "AZURE_STORAGE_ACCOUNT", "acct1", "AZURE_STORAGE_KEY", bad, NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256];

	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "AZURE_STORAGE_KEY is not valid base64"), "%s", err);
	assert_no_secret(err, "c2VjcmV0");
}
END_TEST

START_TEST(connection_string_mismatch)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[256];

	o.connection_string = AZURITE_CONN_STR;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "the URL is for account 'acct1' but --connection-string is for account 'devstoreaccount1'");
	/* a SAS-only string: the account comes from its BlobEndpoint */
	o.connection_string = "BlobEndpoint=https://acct2.blob.core.windows.net;"
			      "SharedAccessSignature=" SAS;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "for account 'acct2'"), "%s", err);
	o.connection_string = "BlobEndpoint=https://acct1.blob.core.windows.net/;"
			      "SharedAccessSignature=" SAS;
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	o.connection_string = "UseDevelopmentStorage=true";
	ck_assert_int_eq(resolve(AZURITE_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	ck_assert_str_eq(c.account, "devstoreaccount1");
}
END_TEST

/* --- credentials file -------------------------------------------------------- */

START_TEST(file_section_for_the_account)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char text[1024], err[256], want[300];
	const char *kf = put_file("k", key_b64, 0600);

	snprintf(text, sizeof(text),
		 "# maicache credentials\n"
		 "\n"
		 "[account other]\n"
		 "sas = %s\n"
		 "[ account ACCT1 ]\n"
		 "  key_file = %s\n"
		 "[account devstoreaccount1]\n"
		 "connection_string = " AZURITE_CONN_STR "\n", SAS2, kf);
	o.credentials_file = put_file("credentials", text, 0600);
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	ck_assert_mem_eq(c.key, key_raw, 64);
	snprintf(want, sizeof(want), "%s:6 %s", o.credentials_file, kf);
	ck_assert_str_eq(c.origin, want);

	ck_assert_int_eq(resolve(AZURITE_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
	snprintf(want, sizeof(want), "%s:8", o.credentials_file);
	ck_assert_str_eq(c.origin, want);

	/* no section for the account: anonymous */
	ck_assert_int_eq(resolve("https://third.blob.core.windows.net/c1c/b", &o, &c,
				 err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);

	/* the environment comes first */
	e.kv[0] = "AZURE_STORAGE_SAS_TOKEN";
	e.kv[1] = SAS;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	ck_assert_str_eq(c.origin, "AZURE_STORAGE_SAS_TOKEN");
}
END_TEST

START_TEST(file_path_from_environment)
{
	struct env e = { { "MAICACHE_CREDENTIALS", NULL, NULL } };
	struct mc_cred_opts o = { .env = env_lookup, .env_arg = &e };
	struct az_cred c;
	char err[256], missing[128];

	e.kv[1] = put_file("creds-env", "[account acct1]\nsas=" SAS "\n", 0600);
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SAS);
	/* the option beats the variable */
	o.credentials_file = put_file("creds-opt", "[account acct1]\nsas=" SAS2 "\n", 0600);
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.sas, SAS2);
	/* a file the user named must exist */
	snprintf(missing, sizeof(missing), "%s/nope", tmpdir);
	o.credentials_file = NULL;
	e.kv[1] = missing;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "(from MAICACHE_CREDENTIALS)") && strstr(err, missing),
		      "%s", err);
	o.credentials_file = missing;
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "(from --credentials-file)"), "%s", err);
}
END_TEST

START_TEST(file_permissions)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char text[256], err[512], want[256];
	const char *kf = put_file("k", key_b64, 0600);

	/* an inline secret in a readable file, even in another section */
	snprintf(text, sizeof(text), "[account acct1]\nkey_file=%s\n[account b]\nkey=%s\n",
		 kf, key_b64);
	o.credentials_file = put_file("credentials", text, 0644);
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EACCES);
	snprintf(want, sizeof(want), "%s holds a secret (line 4) but is accessible by group or others (mode 0644): run chmod 600 %s",
		 o.credentials_file, o.credentials_file);
	ck_assert_str_eq(err, want);
	assert_no_secret(err, key_b64);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);
	ck_assert_int_eq(chmod(o.credentials_file, 0640), 0);
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EACCES);
	ck_assert_int_eq(chmod(o.credentials_file, 0600), 0);
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);

	/* references to files only: a readable file is fine */
	snprintf(text, sizeof(text), "[account acct1]\nkey_file=%s\n", kf);
	o.credentials_file = put_file("credentials2", text, 0644);
	ck_assert_msg(resolve(ACCT_URL, &o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.kind, AZ_AUTH_SHARED_KEY);
}
END_TEST

static const struct {
	const char *text;
	const char *want;	/* after "PATH:" */
} bad_file[] = {
	{ "key=abc\n", "1: setting outside an [account NAME] section" },
	{ "[account a]\n\n# x\nsas\n", "4: missing '=' (want key = value)" },
	{ "[account a]\nsecret=x\n", "2: unknown key 'secret' (want key_file" },
	{ "[account a]\nEby8vdM02x=x==\n", "2: unknown key (want key_file" },
	{ "[account a]\nsas=\n", "2: sas has no value" },
	{ "[account a]\nsas=" SAS "\nkey_file=/k\n", "3: key_file: this section already has a credential on line 2" },
	{ "[account a]\nkey_file=rel/k\n", "2: key_file must be an absolute path" },
	{ "[account a]\n[account A]\n", "2: section [account A] repeats the one on line 1" },
	{ "[default]\n", "1: unknown section (want [account NAME])" },
	{ "[account a\n", "1: section header has no closing ']'" },
	{ "[account a.b]\n", "1: bad account name in [account a.b]" },
	/* errors in other sections count too */
	{ "[account acct1]\nsas=" SAS "\n[account z]\ntoken=x\n", "4: unknown key 'token'" },
	/* the matching section's value is checked */
	{ "[account acct1]\nkey=QUJD!\n", "2 is not valid base64" },
	{ "[account acct1]\nsas=sv=1\n", "2 does not look like a SAS token" },
	{ "[account acct1]\nconnection_string=" AZURITE_CONN_STR "\n",
	  "2 is for account 'devstoreaccount1'" },
};

START_TEST(file_errors_name_the_line)
{
	struct env e = { { NULL } };
	struct mc_cred_opts o = opts_with(&e);
	struct az_cred c;
	char err[512], want[512];

	o.credentials_file = put_file("credentials", bad_file[_i].text, 0600);
	ck_assert_int_eq(resolve(ACCT_URL, &o, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", o.credentials_file, bad_file[_i].want);
	ck_assert_msg(strstr(err, want), "want '%s', got '%s'", want, err);
	assert_no_secret(err, "Eby8vdM02x");
	assert_no_secret(err, "c2VjcmV0c2ln");
	assert_no_secret(err, "QUJD");
}
END_TEST

/* --- describing and carrying ------------------------------------------------- */

static void make_cred(struct az_cred *c, enum az_auth kind)
{
	az_cred_wipe(c);
	c->kind = kind;
	strcpy(c->account, "acct1");
	strcpy(c->origin, "test");
	switch (kind) {
	case AZ_AUTH_SHARED_KEY:
		memcpy(c->key, key_raw, 64);
		c->key_len = 64;
		break;
	case AZ_AUTH_SAS:
		strcpy(c->sas, SAS);
		break;
	case AZ_AUTH_BEARER:
		strcpy(c->token_file, "/run/secrets/token");
		break;
	default:
		break;
	}
}

START_TEST(msg_round_trip)
{
	struct mc_msg *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
	char *buf = malloc(MC_MSG_MAX), err[256];
	struct az_cred a, b;
	long n;

	make_cred(&a, (enum az_auth)_i);
	mc_msg_init(m);
	ck_assert_int_eq(mc_msg_add(m, "op", "attach"), 0);
	ck_assert_int_eq(az_cred_to_msg(&a, m, "cred."), 0);
	n = mc_msg_encode(m, buf, MC_MSG_MAX);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(mc_msg_decode(m2, buf, (size_t)n, err, sizeof(err)), 0);
	memset(&b, 0x5a, sizeof(b));
	ck_assert_msg(az_cred_from_msg(&b, m2, "cred.", err, sizeof(err)) == 0, "%s", err);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	if (a.kind == AZ_AUTH_SHARED_KEY)
		ck_assert_str_eq(mc_msg_get(m2, "cred.key"), key_b64);
	else
		ck_assert_ptr_null(mc_msg_get(m2, "cred.key"));
	mc_msg_wipe(m);
	ck_assert_uint_eq(mc_msg_count(m), 0);
	ck_assert_ptr_null(memmem(m->arena, sizeof(m->arena), "acct1", 5));
	free(buf);
	free(m);
	free(m2);
}
END_TEST

static const struct {
	const char *text;	/* cred.* fields */
	const char *want;
} bad_msg[] = {
	{ "", "cred.auth is missing" },
	{ "cred.auth=magic\n", "cred.auth must be none, shared_key, sas or bearer" },
	{ "cred.auth=shared_key\ncred.key=QUJD\n", "cred.account is missing (auth=shared_key)" },
	{ "cred.auth=shared_key\ncred.account=a\n", "cred.key is missing (auth=shared_key)" },
	{ "cred.auth=shared_key\ncred.account=a\ncred.key=QUJD!\n", "cred.key is not valid base64" },
	{ "cred.auth=shared_key\ncred.account=a\ncred.key=QUJD\ncred.sas=sig=1\n",
	  "cred.sas is not allowed with auth=shared_key" },
	{ "cred.auth=sas\ncred.sas=sv=1\n", "cred.sas does not look like a SAS token" },
	{ "cred.auth=sas\ncred.sas=sig=1\ncred.key=QUJD\n", "cred.key is not allowed with auth=sas" },
	{ "cred.auth=bearer\n", "cred.token_file is missing" },
	{ "cred.auth=bearer\ncred.token_file=token\n", "cred.token_file must be an absolute path" },
	{ "cred.auth=none\ncred.account=a/b\n", "cred.account: account name may hold only" },
	{ "cred.auth=none\ncred.origin=%01\n", "cred.origin must be printable" },
	{ "cred.auth=none\ncred.extra=1\n", "unknown credential field 'cred.extra'" },
};

START_TEST(msg_rejects)
{
	struct mc_msg *m = malloc(sizeof(*m));
	char text[512], err[256] = "";
	struct az_cred c;

	snprintf(text, sizeof(text), "op=attach\nother.key=x\n%s", bad_msg[_i].text);
	ck_assert_msg(mc_msg_decode(m, text, strlen(text), err, sizeof(err)) == 0, "%s", err);
	memset(&c, 0x5a, sizeof(c));
	ck_assert_int_eq(az_cred_from_msg(&c, m, "cred.", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad_msg[_i].want), "want '%s', got '%s'",
		      bad_msg[_i].want, err);
	ck_assert_int_eq(c.kind, AZ_AUTH_NONE);
	ck_assert_uint_eq(c.key_len, 0);
	free(m);
}
END_TEST

START_TEST(msg_rejects_long_key)
{
	struct mc_msg *m = malloc(sizeof(*m));
	unsigned char raw[66] = { 0 };
	char b64[100], err[256];
	struct az_cred c;

	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	mc_msg_init(m);
	mc_msg_add(m, "auth", "shared_key");
	mc_msg_add(m, "account", "a");
	mc_msg_add(m, "key", b64);
	ck_assert_int_eq(az_cred_from_msg(&c, m, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "key is too long"), "%s", err);
	free(m);
}
END_TEST

START_TEST(describe_kinds)
{
	struct az_cred c;
	char d[256];

	make_cred(&c, AZ_AUTH_SHARED_KEY);
	strcpy(c.origin, "/etc/maicache/credentials:3");
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "shared key for account 'acct1' (from /etc/maicache/credentials:3)");
	make_cred(&c, AZ_AUTH_NONE);
	c.account[0] = '\0';
	c.origin[0] = '\0';
	az_cred_describe(&c, d, sizeof(d));
	ck_assert_str_eq(d, "no credential");
	make_cred(&c, AZ_AUTH_SAS);
	az_cred_describe(&c, d, 15);
	ck_assert_str_eq(d, "SAS for accoun");
}
END_TEST

static Suite *cred_suite(void)
{
	Suite *s = suite_create("cred");
	TCase *codec = tcase_create("codec");
	TCase *res = tcase_create("resolve");
	TCase *file = tcase_create("file");
	TCase *msg = tcase_create("msg");

	tcase_add_checked_fixture(codec, setup, teardown);
	tcase_add_test(codec, key_decode_valid);
	tcase_add_loop_test(codec, key_decode_rejects, 0, sizeof(bad_b64) / sizeof(bad_b64[0]));
	tcase_add_test(codec, key_decode_empty);
	tcase_add_test(codec, sas_checks);
	tcase_add_test(codec, conn_str_azurite_documented);
	tcase_add_test(codec, conn_str_use_development_storage);
	tcase_add_test(codec, conn_str_case_padding_and_sas);
	tcase_add_loop_test(codec, conn_str_rejects, 0, sizeof(bad_conn) / sizeof(bad_conn[0]));
	suite_add_tcase(s, codec);

	tcase_add_checked_fixture(res, setup, teardown);
	tcase_add_test(res, no_credential_is_anonymous);
	tcase_add_test(res, bad_url_is_an_error);
	tcase_add_test(res, option_beats_environment);
	tcase_add_test(res, options_are_exclusive);
	tcase_add_test(res, option_files);
	tcase_add_test(res, token_file_made_absolute);
	tcase_add_test(res, environment_order);
	tcase_add_test(res, environment_account_mismatch);
	tcase_add_test(res, environment_bad_key);
	tcase_add_test(res, connection_string_mismatch);
	suite_add_tcase(s, res);

	tcase_add_checked_fixture(file, setup, teardown);
	tcase_add_test(file, file_section_for_the_account);
	tcase_add_test(file, file_path_from_environment);
	tcase_add_test(file, file_permissions);
	tcase_add_loop_test(file, file_errors_name_the_line, 0,
			    sizeof(bad_file) / sizeof(bad_file[0]));
	suite_add_tcase(s, file);

	tcase_add_checked_fixture(msg, setup, teardown);
	tcase_add_loop_test(msg, msg_round_trip, AZ_AUTH_NONE, AZ_AUTH_BEARER + 1);
	tcase_add_loop_test(msg, msg_rejects, 0, sizeof(bad_msg) / sizeof(bad_msg[0]));
	tcase_add_test(msg, msg_rejects_long_key);
	tcase_add_test(msg, describe_kinds);
	suite_add_tcase(s, msg);
	return s;
}

int main(void)
{
	return mc_check_run(cred_suite());
}
