/* SPDX-License-Identifier: MIT */
/*
 * Credential resolution for `maicachectl attach`: which az_cred to use for
 * a blob URL's account, looked up the way Azure tools do. First match wins:
 *
 *   1. the caller's options (--account-key-file, --sas, --sas-file,
 *      --token-file, --connection-string, --anonymous; at most one);
 *   2. the environment: AZURE_STORAGE_CONNECTION_STRING, then
 *      AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, then
 *      AZURE_STORAGE_SAS_TOKEN, then MAICACHE_TOKEN_FILE;
 *   3. the credentials file's [account NAME] section for the URL's account
 *      (--credentials-file, else $MAICACHE_CREDENTIALS, else
 *      MC_CREDENTIALS_FILE, which may be missing);
 *   4. a SAS in the URL's query: kind NONE, the blob client sends the query;
 *   5. anonymous: kind NONE.
 *
 * A credential that names an account (connection string AccountName,
 * AZURE_STORAGE_ACCOUNT) must name the URL's account: a mismatch is an
 * error naming both, never a silent fall-through.
 *
 * Credentials file format:
 *
 *   # comment
 *   [account myaccount]
 *   key_file = /etc/maicache/myaccount.key
 *   [account other]
 *   sas = sv=2022-11-02&ss=b&...&sig=...
 *
 * one of key_file, key, sas, sas_file, token_file, connection_string per
 * section. A file holding a secret inline (key, sas, connection_string)
 * must not be accessible by group or others.
 *
 * Error messages name the option, variable or file:line to fix, never a
 * secret value.
 */
#ifndef MAICACHE_CRED_H
#define MAICACHE_CRED_H

#include <stdbool.h>
#include <stddef.h>

#include "az_cred.h"

#define MC_CREDENTIALS_FILE	"/etc/maicache/credentials"

/* Azurite's (and the old storage emulator's) documented account and key. */
#define AZ_DEV_ACCOUNT	"devstoreaccount1"
#define AZ_DEV_KEY	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define AZ_DEV_BLOB_ENDPOINT	"http://127.0.0.1:10000/devstoreaccount1"

/* An environment lookup: the value or NULL. getenv() by default. */
typedef const char *(*mc_env_fn)(void *arg, const char *name);

struct mc_cred_opts {
	const char *account_key_file;	/* --account-key-file FILE */
	const char *sas;		/* --sas TOKEN */
	const char *sas_file;		/* --sas-file FILE */
	const char *token_file;		/* --token-file FILE */
	const char *connection_string;	/* --connection-string STR */
	bool anonymous;			/* --anonymous */
	const char *credentials_file;	/* --credentials-file FILE, or NULL */
	mc_env_fn env;			/* NULL: the process environment */
	void *env_arg;
};

/*
 * Resolve the credential for url into out (wiped first). 0, or a negative
 * errno with a message: -EINVAL (bad URL, option, value or file content),
 * -EACCES (credentials file too open), -ENOENT and friends (a named file
 * cannot be read).
 */
int mc_cred_resolve(const char *url, const struct mc_cred_opts *opts,
		    struct az_cred *out, char *err, size_t errlen);

/* A parsed connection string. Secrets are decoded, never echoed. */
struct az_conn_str {
	char account[AZ_ACCOUNT_MAX];	/* AccountName; "" when absent */
	unsigned char key[AZ_KEY_MAX];	/* AccountKey, decoded */
	size_t key_len;			/* 0: no AccountKey */
	char sas[AZ_SAS_MAX];		/* SharedAccessSignature, no '?' */
	char blob_endpoint[AZ_PATH_MAX];
	char protocol[8];		/* DefaultEndpointsProtocol */
	char endpoint_suffix[256];
	bool dev_storage;		/* UseDevelopmentStorage=true */
};

/*
 * Parse "Key=Value;..." (keys case-insensitive, values may hold '='),
 * UseDevelopmentStorage=true expanded to Azurite's account, key and
 * endpoint. what names the source in messages ("--connection-string").
 * 0 or -EINVAL.
 */
int az_conn_str_parse(const char *s, const char *what, struct az_conn_str *out,
		      char *err, size_t errlen);

/*
 * Decode a base64 account key (whole string, standard alphabet, padded).
 * 0 or -EINVAL with "WHAT is not valid base64" and the like.
 */
int az_key_decode(const char *b64, const char *what, unsigned char *key,
		  size_t *key_len, char *err, size_t errlen);

/*
 * Check a SAS token and copy it without a leading '?' into out
 * (AZ_SAS_MAX bytes). 0 or -EINVAL naming what.
 */
int az_sas_check(const char *sas, const char *what, char *out,
		 char *err, size_t errlen);

#endif /* MAICACHE_CRED_H */
