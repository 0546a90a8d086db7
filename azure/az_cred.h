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
#define AZ_ORIGIN_MAX	128

struct az_cred {
	enum az_auth kind;
	char account[AZ_ACCOUNT_MAX];		/* SHARED_KEY: required */
	unsigned char key[AZ_KEY_MAX];		/* SHARED_KEY: decoded key */
	size_t key_len;
	char sas[AZ_SAS_MAX];			/* SAS: query, no leading '?' */
	char token_file[AZ_PATH_MAX];		/* BEARER: file with the token */
	char origin[AZ_ORIGIN_MAX];		/* where it came from, for messages */
};

struct mc_msg;

/*
 * One line for logs and errors, never a secret, e.g.
 * "shared key for account 'devstoreaccount1' (from AZURE_STORAGE_KEY)".
 */
void az_cred_describe(const struct az_cred *c, char *buf, size_t len);

/*
 * Carry a credential in a control message or state record, as fields
 * PREFIX auth, account, key (base64), sas, token_file, origin. The
 * message then holds the secret: mc_msg_wipe() it after use.
 * to_msg: 0 or the mc_msg_add() error.
 * from_msg: 0 or -EINVAL with a message naming the field; checks
 * everything (known auth, only the fields of that kind, valid base64 of at
 * most AZ_KEY_MAX bytes, a SAS with sig=, an absolute token path, no
 * unknown field under a non-empty PREFIX) and wipes c on error.
 */
int az_cred_to_msg(const struct az_cred *c, struct mc_msg *m,
		   const char *prefix);
int az_cred_from_msg(struct az_cred *c, const struct mc_msg *m,
		     const char *prefix, char *err, size_t errlen);

/* Zero c, secrets included, in a way the compiler keeps. */
void az_cred_wipe(struct az_cred *c);

#endif /* MAICACHE_AZ_CRED_H */
