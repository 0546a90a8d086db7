/* SPDX-License-Identifier: MIT */
/*
 * maicache peer protocol: how the daemons of a cache group move extents
 * between their pools. Version 1 runs over TCP; the RDMA transport keeps the
 * same messages for its control path.
 *
 * A connection is a stream of frames: a 24-byte header, then `len` bytes of
 * body. All fields are little-endian and fixed width. A receiver checks
 * every field before it acts on a frame, and closes the connection on the
 * first frame that fails a check (bad magic or version, unknown type, a
 * length that does not fit the type, nonzero reserved fields): a peer is
 * trusted no more than any other input.
 *
 * Authentication comes first, both ways (challenge-response over the
 * group key, a secret file every member holds; the key itself never
 * travels):
 *
 *   A -> B  HELLO  (A's node id, A's nonce, the group's digest)
 *   B -> A  HELLO  (B's node id, B's nonce, the group's digest)
 *   A -> B  AUTH   HMAC-SHA256(key, "maicache-peer-auth-v1" || "c" ||
 *                              nonce_A || nonce_B || id_A || id_B)
 *   B -> A  AUTH   HMAC-SHA256(key, "maicache-peer-auth-v1" || "s" ||
 *                              nonce_B || nonce_A || id_B || id_A)
 *
 * ("c" for the side that connected, "s" for the side that accepted). Any
 * frame before both AUTHs check out, or an AUTH that does not, ends the
 * connection with nothing served.
 *
 * Then requests (GET, PUT) and their answers (DATA, TURN, NACK) flow both
 * ways, matched by seq. An extent is named by its key: the digest of the
 * blob's identity (endpoint, container, blob and ETag: two versions of a
 * blob never share a key), the extent size and the index. DATA and PUT carry
 * the bytes after a fixed part holding their length and CRC32C; the receiver
 * checks length, key and checksum before the bytes may reach a pool slot
 * that the kernel serves.
 */
#ifndef MAICACHE_PEER_H
#define MAICACHE_PEER_H

#include <stdint.h>

#define MAICACHE_PEER_MAGIC		0x4550434dU	/* "MCPE" */
#define MAICACHE_PEER_VERSION		1
#define MAICACHE_PEER_HDR_SIZE		24
#define MAICACHE_PEER_ID_SIZE		16	/* a node id: persisted, random */
#define MAICACHE_PEER_NONCE_SIZE	32
#define MAICACHE_PEER_DIGEST_SIZE	32	/* SHA-256 */
#define MAICACHE_PEER_MAC_SIZE		32	/* HMAC-SHA256 */
/* The largest extent (4 MiB) is the largest payload. */
#define MAICACHE_PEER_PAYLOAD_MAX	(4U << 20)
#define MAICACHE_PEER_AUTH_LABEL	"maicache-peer-auth-v1"

enum maicache_peer_type {
	MAICACHE_PEER_HELLO = 1,	/* struct maicache_peer_hello */
	MAICACHE_PEER_AUTH,		/* struct maicache_peer_auth */
	MAICACHE_PEER_GET,		/* struct maicache_peer_key: send me the extent */
	MAICACHE_PEER_DATA,		/* struct maicache_peer_data + payload */
	MAICACHE_PEER_TURN,		/* struct maicache_peer_turn: fetch it and PUT it */
	MAICACHE_PEER_PUT,		/* struct maicache_peer_data + payload */
	MAICACHE_PEER_NACK,		/* struct maicache_peer_nack */
	__MAICACHE_PEER_TYPE_MAX,
};

/* NACK reasons. */
enum maicache_peer_nack_code {
	MAICACHE_PEER_NACK_NOT_OWNER = 1,	/* ask the next node in placement order */
	MAICACHE_PEER_NACK_BUSY,		/* no slot or too many waiters: try later */
	MAICACHE_PEER_NACK_FAILED,		/* the fetch failed: go to Blob yourself */
	MAICACHE_PEER_NACK_BAD_DATA,		/* your PUT failed its checks */
	__MAICACHE_PEER_NACK_MAX,
};

struct maicache_peer_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;		/* body bytes after this header */
	uint32_t reserved;	/* 0 */
	uint64_t seq;		/* request id; an answer carries its request's */
};

struct maicache_peer_hello {
	uint8_t node_id[MAICACHE_PEER_ID_SIZE];
	uint8_t nonce[MAICACHE_PEER_NONCE_SIZE];
	uint8_t group[MAICACHE_PEER_DIGEST_SIZE];	/* SHA-256 of the group name */
};

struct maicache_peer_auth {
	uint8_t mac[MAICACHE_PEER_MAC_SIZE];
};

struct maicache_peer_key {
	uint8_t blob[MAICACHE_PEER_DIGEST_SIZE];	/* digest of the blob's identity */
	uint32_t extent_shift;	/* 16..22 */
	uint32_t reserved;	/* 0 */
	uint64_t index;		/* extent number within the blob */
};

struct maicache_peer_data {
	struct maicache_peer_key key;
	uint32_t len;		/* payload bytes: 1..extent size */
	uint32_t crc32c;	/* of the payload */
};

struct maicache_peer_turn {
	struct maicache_peer_key key;
	uint32_t lease_ms;	/* PUT within this, or the turn goes to the next */
	uint32_t reserved;	/* 0 */
};

struct maicache_peer_nack {
	struct maicache_peer_key key;
	uint32_t code;		/* enum maicache_peer_nack_code */
	uint32_t reserved;	/* 0 */
};

#endif /* MAICACHE_PEER_H */
