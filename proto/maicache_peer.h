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
 * ("c" for the side that connected, "s" for the side that accepted). B
 * sends its AUTH only after A's checked out: a connector without the key
 * learns no MAC of B's, and the acceptor is the side that judges it. Any
 * frame before both AUTHs check out, or an AUTH that does not, ends the
 * connection with nothing served.
 *
 * Then requests (GET, PUT) and their answers (DATA, TURN, WAIT, NACK) flow
 * both ways, matched by seq. WAIT tells a requester that the owner is alive
 * and another node fetches the extent: DATA (or a TURN) follows within the
 * fetcher's lease, so the requester waits that long instead of taking the
 * owner for dead and fetching from Blob itself. An extent is named by its key: the digest of the
 * blob's identity (endpoint, container, blob and ETag: two versions of a
 * blob never share a key), the extent size and the index. DATA and PUT carry
 * the bytes after a fixed part holding their length and CRC32C; the receiver
 * checks length, key and checksum before the bytes may reach a pool slot
 * that the kernel serves.
 *
 * RDMA (docs/peers.md): a node that can take RDMA connections sends
 * RDMA_OFFER on each connection it accepted, once authenticated: a
 * one-time token and the port of its RDMA listener. The connector may then
 * connect over RDMA with the token in the request's private data (a
 * request without a token given out this way is refused). Over a link
 * that is up it asks GET_RDMA instead of GET; the owner answers as to a
 * GET, except that an extent it holds is answered LOC: the extent pinned
 * in its pool for lease_ms, at (addr, rkey). The requester RDMA-READs it
 * into its own slot, checks its CRC32C, and sends DONE, which ends the pin
 * (as does the lease). The control frames stay on this connection.
 *
 * Fan-out (docs/peers.md): an owner already sending an extent to K
 * requesters answers a GET (or GET_RDMA) with HOLDER, naming a member that
 * has the extent and a free place to send it. The requester asks that
 * member GET_COPY with COPY_HELD: it is answered DATA or LOC if held there
 * (WAIT while its K places are taken), NACK NOT_HELD if not, never TURN;
 * with the bytes in and checked, the requester tells the owner HAVE (who
 * it got them from), which makes it a holder in turn. A holder that fails
 * it sends the requester back to the owner with GET_COPY and COPY_NO_HOLDER:
 * answered as a GET, never HOLDER.
 */
#ifndef MAICACHE_PEER_H
#define MAICACHE_PEER_H

#include <linux/types.h>

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
	MAICACHE_PEER_WAIT,		/* struct maicache_peer_turn: another fetches it */
	MAICACHE_PEER_RDMA_OFFER,	/* struct maicache_peer_rdma_offer */
	MAICACHE_PEER_GET_RDMA,		/* struct maicache_peer_key: GET, LOC welcome */
	MAICACHE_PEER_LOC,		/* struct maicache_peer_loc: READ it there */
	MAICACHE_PEER_DONE,		/* struct maicache_peer_done: read, unpin */
	MAICACHE_PEER_GET_COPY,		/* struct maicache_peer_get_copy */
	MAICACHE_PEER_HOLDER,		/* struct maicache_peer_holder: ask it there */
	MAICACHE_PEER_HAVE,		/* struct maicache_peer_holder: got it from there */
	__MAICACHE_PEER_TYPE_MAX,
};

/* NACK reasons. */
enum maicache_peer_nack_code {
	MAICACHE_PEER_NACK_NOT_OWNER = 1,	/* ask the next node in placement order */
	MAICACHE_PEER_NACK_BUSY,		/* no slot or too many waiters: try later */
	MAICACHE_PEER_NACK_FAILED,		/* the fetch failed: go to Blob yourself */
	MAICACHE_PEER_NACK_BAD_DATA,		/* your PUT failed its checks */
	MAICACHE_PEER_NACK_NOT_HELD,		/* GET_COPY: not held here (any more) */
	__MAICACHE_PEER_NACK_MAX,
};

struct maicache_peer_hdr {
	__u32 magic;
	__u16 version;
	__u16 type;
	__u32 len;		/* body bytes after this header */
	__u32 reserved;	/* 0 */
	__u64 seq;		/* request id; an answer carries its request's */
};

struct maicache_peer_hello {
	__u8 node_id[MAICACHE_PEER_ID_SIZE];
	__u8 nonce[MAICACHE_PEER_NONCE_SIZE];
	__u8 group[MAICACHE_PEER_DIGEST_SIZE];	/* SHA-256 of the group name */
};

struct maicache_peer_auth {
	__u8 mac[MAICACHE_PEER_MAC_SIZE];
};

struct maicache_peer_key {
	__u8 blob[MAICACHE_PEER_DIGEST_SIZE];	/* digest of the blob's identity */
	__u32 extent_shift;	/* 16..22 */
	__u32 reserved;	/* 0 */
	__u64 index;		/* extent number within the blob */
};

struct maicache_peer_data {
	struct maicache_peer_key key;
	__u32 len;		/* payload bytes: 1..extent size */
	__u32 crc32c;	/* of the payload */
};

/*
 * TURN and WAIT. lease_ms: after a TURN, PUT within this or the turn goes to
 * the next; after a WAIT, the answer comes within this.
 */
struct maicache_peer_turn {
	struct maicache_peer_key key;
	__u32 lease_ms;
	__u32 reserved;	/* 0 */
};

struct maicache_peer_nack {
	struct maicache_peer_key key;
	__u32 code;		/* enum maicache_peer_nack_code */
	__u32 reserved;	/* 0 */
};

#define MAICACHE_PEER_TOKEN_SIZE	16

struct maicache_peer_rdma_offer {
	__u8 token[MAICACHE_PEER_TOKEN_SIZE];	/* one use, within a minute */
	__u16 port;		/* the RDMA listener's, on this connection's address */
	__u16 reserved;	/* 0 */
	__u32 reserved2;	/* 0 */
};

/* The extent, pinned for lease_ms at (addr, rkey) of the owner's pool. */
struct maicache_peer_loc {
	struct maicache_peer_data data;	/* key, len, crc32c */
	__u64 addr;
	__u32 rkey;
	__u32 lease_ms;
};

struct maicache_peer_done {
	struct maicache_peer_key key;
	__u64 addr;		/* as the LOC said */
};

/* GET_COPY flags. */
#define MAICACHE_PEER_COPY_RDMA		(1U << 0)	/* LOC welcome (a link is up) */
#define MAICACHE_PEER_COPY_HELD		(1U << 1)	/* only if held: NACK NOT_HELD */
#define MAICACHE_PEER_COPY_NO_HOLDER	(1U << 2)	/* a holder failed: never HOLDER */
#define MAICACHE_PEER_COPY_FLAGS	0x7U

struct maicache_peer_get_copy {
	struct maicache_peer_key key;
	__u32 flags;		/* MAICACHE_PEER_COPY_*; HELD and NO_HOLDER exclusive */
	__u32 reserved;	/* 0 */
};

/* HOLDER: node has the extent (ask it GET_COPY); HAVE: got it from node. */
struct maicache_peer_holder {
	struct maicache_peer_key key;
	__u8 node_id[MAICACHE_PEER_ID_SIZE];
};

#endif /* MAICACHE_PEER_H */
