/* SPDX-License-Identifier: MIT */
/*
 * The identity of an extent's bytes across the nodes of a cache group. Two
 * nodes share an extent only when it is the same bytes: the same blob (its
 * storage endpoint, container and name) at the same version (ETag), cut
 * into the same extent size, at the same index. Two ETags of one blob never
 * share a key, so data of two versions is never mixed.
 */
#ifndef MAICACHE_PEER_KEY_H
#define MAICACHE_PEER_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "maicache_peer.h"

struct mc_extent_key {
	uint8_t blob[MAICACHE_PEER_DIGEST_SIZE];	/* mc_blob_digest() */
	uint32_t extent_shift;				/* 16..22 */
	uint64_t index;
};

#define MC_EXTENT_SHIFT_MIN	16
#define MC_EXTENT_SHIFT_MAX	22

/*
 * SHA-256 over the blob's identity, the parts separated by NUL bytes (no
 * two identities collide by concatenation) after a version label. The
 * endpoint is the account's blob endpoint as written in URLs, e.g.
 * "https://acct.blob.core.windows.net" or "http://127.0.0.1:10000/devstoreaccount1".
 * 0, or -EINVAL for a NULL or empty part, or -EIO if OpenSSL fails.
 */
int mc_blob_digest(const char *endpoint, const char *container,
		   const char *blob, const char *etag,
		   uint8_t out[MAICACHE_PEER_DIGEST_SIZE]);

/* 64 well-mixed bits of the key, for placement. */
uint64_t mc_extent_key_hash(const struct mc_extent_key *k);

bool mc_extent_key_eq(const struct mc_extent_key *a, const struct mc_extent_key *b);

/* splitmix64's finaliser: a bijection of 64-bit values that mixes every bit. */
static inline uint64_t mc_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* MAICACHE_PEER_KEY_H */
