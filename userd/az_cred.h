/* SPDX-License-Identifier: MIT */
/*
 * An Azure Storage credential, resolved: what the blob client needs to
 * authorise a request. Filled by userd/cred.c from maicachectl's options,
 * environment and credentials file; carried to maicached over the control
 * socket; used by userd/blob.c. Secrets are never logged: print
 * az_cred_describe() instead.
 */
#ifndef MAICACHE_AZ_CRED_H
#define MAICACHE_AZ_CRED_H

#include <stddef.h>
#include <stdint.h>

enum az_auth {
	AZ_AUTH_NONE,		/* anonymous (public container) */
	AZ_AUTH_SHARED_KEY,	/* HMAC-SHA256 with the account key */
	AZ_AUTH_SAS,		/* a SAS token appended to the query */
	AZ_AUTH_BEARER,		/* Authorization: Bearer, token re-read from a file */
};

#define AZ_ACCOUNT_MAX	64	/* account names are 3-24 chars; Azurite allows more */
#define AZ_KEY_MAX	64	/* decoded account key bytes (Azure keys are 64) */
#define AZ_SAS_MAX	2048
#define AZ_PATH_MAX	4096

struct az_cred {
	enum az_auth kind;
	char account[AZ_ACCOUNT_MAX];		/* SHARED_KEY: required */
	unsigned char key[AZ_KEY_MAX];		/* SHARED_KEY: decoded key */
	size_t key_len;
	char sas[AZ_SAS_MAX];			/* SAS: query, no leading '?' */
	char token_file[AZ_PATH_MAX];		/* BEARER: file with the token */
};

#endif /* MAICACHE_AZ_CRED_H */
