// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what azure/cred.c reads from users: connection
 * strings, account keys in base64, SAS tokens and the credentials file.
 * The input (up to its first NUL) is tried as each of the three strings
 * and as the whole credentials file for a blob URL of account "acct" (no environment).
 * Checked beyond the sanitizers: a refusal says why and never echoes the
 * secret it was given; an accepted key decodes to at most AZ_KEY_MAX bytes
 * that encode back to the same base64 digits; an accepted SAS is the input
 * without its '?'; a credential the file resolves to travels through a
 * control message (az_cred_to_msg/from_msg) and comes back the same, and
 * its one-line description holds neither its SAS nor its key.
 */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "ctl_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char file_path[64];
static int file_fd = -1;
static struct mc_msg msg;

/*
 * The value of the first part NAME=VALUE of a connection string s (name
 * case-insensitive, both trimmed of blanks as the parser does), or "".
 */
static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void cs_field(const char *s, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	while (*s) {
		size_t part = strcspn(s, ";"), v;
		const char *p = s, *e = s + part;

		while (p < e && blank(*p))
			p++;
		if ((size_t)(e - p) > n && !strncasecmp(p, name, n)) {
			const char *q = p + n;

			while (q < e && blank(*q))
				q++;
			if (q < e && *q == '=') {
				for (q++; q < e && blank(*q); q++)
					;
				v = (size_t)(e - q);
				while (v && blank(q[v - 1]))
					v--;
				if (v >= len)
					v = len - 1;
				memcpy(out, q, v);
				out[v] = '\0';
				return;
			}
		}
		s = *e ? e + 1 : e;
	}
}

/*
 * A refusal said why, without the secret. A short secret, or one that is
 * a word of the messages themselves, may appear by chance: not checked.
 */
static void refusal_ok(const char *err, const char *secret)
{
	static const char words[] = "AccountKey AccountName SharedAccessSignature "
		"UseDevelopmentStorage DefaultEndpointsProtocol BlobEndpoint EndpointSuffix";

	if (!err[0])
		__builtin_trap();
	if (strlen(secret) >= 12 && !strstr(words, secret) && strstr(err, secret))
		__builtin_trap();
}

static void try_key(const char *s)
{
	unsigned char key[AZ_KEY_MAX], again[AZ_KEY_MAX + 3];
	char err[256] = "", b64[4 * ((AZ_KEY_MAX + 2) / 3) + 1];
	size_t len = SIZE_MAX;
	int n;

	if (az_key_decode(s, "fuzz", key, &len, err, sizeof(err))) {
		refusal_ok(err, s);
		return;
	}
	if (len > AZ_KEY_MAX || len == 0 || strlen(s) != 4 * ((len + 2) / 3))
		__builtin_trap();
	/* The same bytes, whatever the unused low bits of the last digit. */
	EVP_EncodeBlock((unsigned char *)b64, key, (int)len);
	n = EVP_DecodeBlock(again, (const unsigned char *)b64, (int)strlen(b64));
	if (n < (int)len || memcmp(again, key, len))
		__builtin_trap();
	n = EVP_DecodeBlock(again, (const unsigned char *)s, (int)strlen(s));
	if (n < (int)len || memcmp(again, key, len))
		__builtin_trap();
}

static void try_sas(const char *s)
{
	static char out[AZ_SAS_MAX];
	char err[256] = "";

	if (az_sas_check(s, "fuzz", out, err, sizeof(err))) {
		refusal_ok(err, s);
		return;
	}
	if (strcmp(out, s[0] == '?' ? s + 1 : s) || !strstr(out, "sig="))
		__builtin_trap();
}

static void try_conn_str(const char *s)
{
	static struct az_conn_str cs;
	char err[512] = "", key[256], sas[256];

	cs_field(s, "AccountKey", key, sizeof(key));
	cs_field(s, "SharedAccessSignature", sas, sizeof(sas));
	if (az_conn_str_parse(s, "fuzz", &cs, err, sizeof(err))) {
		refusal_ok(err, key);
		refusal_ok(err, sas);
		return;
	}
	if (cs.key_len > AZ_KEY_MAX || (cs.key_len && !cs.account[0]) ||
	    (!cs.key_len && !cs.sas[0]) || strlen(cs.account) >= AZ_ACCOUNT_MAX)
		__builtin_trap();
}

static void same_cred(const struct az_cred *a, const struct az_cred *b)
{
	if (a->kind != b->kind || strcmp(a->account, b->account) ||
	    a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) ||
	    strcmp(a->sas, b->sas) || strcmp(a->token_file, b->token_file) ||
	    strcmp(a->origin, b->origin))
		__builtin_trap();
}

/* No environment: what the resolver finds is the file's. */
static const char *no_env(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

static void try_file(const uint8_t *data, size_t size)
{
	static struct az_cred c, back, other;
	struct mc_cred_opts opts = { .credentials_file = file_path, .env = no_env };
	char err[512] = "", line[512], line2[512];
	int res;

	if (ftruncate(file_fd, 0) || pwrite(file_fd, data, size, 0) != (ssize_t)size)
		return;
	/* A key_file or token_file line may name any path: those reads are
	 * the resolver's own (lib/secret.c), not this parser's concern. */
	res = mc_cred_resolve("https://acct.blob.core.windows.net/data/b", &opts, &c,
			      err, sizeof(err));
	if (res) {
		if (res > 0 || !err[0])
			__builtin_trap();
		return;
	}
	/* What logs print names the credential, never its secret. */
	az_cred_describe(&c, line, sizeof(line));
	if (!line[0] || (c.sas[0] && strstr(line, c.sas)))
		__builtin_trap();
	/*
	 * Nor anything that depends on the key: the same credential with
	 * other key bytes is described the same. (Looking for the key's
	 * base64 in the line was wrong: a key "acct" is in "account acct".)
	 */
	if (c.key_len) {
		size_t i;

		other = c;
		for (i = 0; i < c.key_len; i++)
			other.key[i] ^= 0xa5;
		az_cred_describe(&other, line2, sizeof(line2));
		az_cred_wipe(&other);
		if (strcmp(line, line2))
			__builtin_trap();
	}
	mc_msg_init(&msg);
	if (az_cred_to_msg(&c, &msg, "cred."))
		__builtin_trap();
	err[0] = '\0';
	if (az_cred_from_msg(&back, &msg, "cred.", err, sizeof(err)))
		__builtin_trap();	/* what we resolved, we cannot carry */
	same_cred(&c, &back);
	mc_msg_wipe(&msg);
	az_cred_wipe(&c);
	az_cred_wipe(&back);
}

static void remove_file(void)
{
	unlink(file_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (file_fd < 0) {
		strcpy(file_path, "/tmp/fuzz_cred.XXXXXX");
		file_fd = mkstemp(file_path);	/* 0600, as a file with secrets must be */
		if (file_fd < 0)
			abort();
		atexit(remove_file);
	}
	s = strndup((const char *)data, size);
	if (!s)
		return 0;
	try_key(s);
	try_sas(s);
	try_conn_str(s);
	try_file(data, size);
	free(s);
	return 0;
}
