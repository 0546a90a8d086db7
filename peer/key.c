// SPDX-License-Identifier: MIT
/* See key.h. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "key.h"

#define BLOB_LABEL	"maicache-blob-v1"

int mc_blob_digest(const char *endpoint, const char *container,
		   const char *blob, const char *etag,
		   uint8_t out[MAICACHE_PEER_DIGEST_SIZE])
{
	const char *parts[] = { BLOB_LABEL, endpoint, container, blob, etag };
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	int ok;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!parts[i] || !*parts[i])
			return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -EIO;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	/* Each part with its NUL: "ab" + "c" never hashes like "a" + "bc". */
	for (size_t i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == MAICACHE_PEER_DIGEST_SIZE;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

uint64_t mc_extent_key_hash(const struct mc_extent_key *k)
{
	uint64_t d;

	/* The same on every node, whatever its byte order. */
	memcpy(&d, k->blob, sizeof(d));
	d = le64toh(d);
	return mc_mix64(d ^ mc_mix64(k->index * 64 + k->extent_shift));
}

bool mc_extent_key_eq(const struct mc_extent_key *a, const struct mc_extent_key *b)
{
	return a->index == b->index && a->extent_shift == b->extent_shift &&
	       !memcmp(a->blob, b->blob, sizeof(a->blob));
}
