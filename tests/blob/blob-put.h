/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the two writes the blob client does not do (Create Container,
 * Put Blob), Shared Key signed with userd/az_sign.c over libcurl easy.
 */
#ifndef MAICACHE_TEST_BLOB_PUT_H
#define MAICACHE_TEST_BLOB_PUT_H

#include <stddef.h>

struct bp_account {
	const char *endpoint;		/* "http://127.0.0.1:10000" */
	const char *name;		/* "devstoreaccount1" */
	unsigned char key[64];
	size_t key_len;
};

/* HTTP status (201 created, 409 exists...), or -1 with a message on stderr. */
long bp_create_container(const struct bp_account *a, const char *container);
/* Put Blob (BlockBlob) of len bytes, up to 256 MiB; blob is URL-encoded. */
long bp_put_blob(const struct bp_account *a, const char *container,
		 const char *blob, const void *data, size_t len);

#endif /* MAICACHE_TEST_BLOB_PUT_H */
