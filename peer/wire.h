/* SPDX-License-Identifier: MIT */
/*
 * The peer protocol's frames (proto/maicache_peer.h) in and out of bytes.
 * Decoding checks every field and says what is wrong: a frame that fails
 * closes the connection it came on. Nothing here does I/O or allocates.
 *
 * Receiving is in two steps so that payloads land where they belong with no
 * copy: mc_peer_hdr_decode() on the 24 header bytes gives the type and body
 * length; mc_peer_body_decode() on the fixed part of the body
 * (mc_peer_fixed_len() bytes) gives the message, and for DATA and PUT the
 * payload length that follows, which the transport then reads straight into
 * the pool slot.
 */
#ifndef MAICACHE_PEER_WIRE_H
#define MAICACHE_PEER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "maicache_peer.h"

#define MC_PEER_KEY_LEN		48
#define MC_PEER_FIXED_MAX	80	/* the largest fixed part: HELLO */
#define MC_PEER_LEASE_MAX_MS	600000	/* a TURN's lease: at most 10 min */

struct mc_peer_msg {
	uint16_t type;			/* enum maicache_peer_type */
	uint64_t seq;
	union {
		struct {
			uint8_t node_id[MAICACHE_PEER_ID_SIZE];
			uint8_t nonce[MAICACHE_PEER_NONCE_SIZE];
			uint8_t group[MAICACHE_PEER_DIGEST_SIZE];
		} hello;
		struct {
			uint8_t mac[MAICACHE_PEER_MAC_SIZE];
		} auth;
		struct mc_extent_key get;	/* GET and GET_RDMA */
		struct {
			struct mc_extent_key key;
			uint32_t len;	/* payload bytes that follow */
			uint32_t crc32c;
		} data;			/* DATA and PUT */
		struct {
			struct mc_extent_key key;
			uint32_t lease_ms;
		} turn;
		struct {
			struct mc_extent_key key;
			uint32_t code;
		} nack;
		struct {
			uint8_t token[MAICACHE_PEER_TOKEN_SIZE];
			uint16_t port;
		} offer;		/* RDMA_OFFER */
		struct {
			struct mc_extent_key key;
			uint32_t len;
			uint32_t crc32c;
			uint64_t addr;
			uint32_t rkey;
			uint32_t lease_ms;
		} loc;			/* LOC */
		struct {
			struct mc_extent_key key;
			uint64_t addr;
		} done;			/* DONE */
		struct {
			struct mc_extent_key key;
			uint32_t flags;	/* MAICACHE_PEER_COPY_* */
		} copy;			/* GET_COPY */
		struct {
			struct mc_extent_key key;
			uint8_t node_id[MAICACHE_PEER_ID_SIZE];
		} holder;		/* HOLDER and HAVE */
	};
};

struct mc_peer_hdr {
	uint16_t type;
	uint32_t len;		/* body bytes */
	uint64_t seq;
};

/*
 * Header bytes -> h. 0, or -EPROTO with *why: bad magic, version, type,
 * reserved bits, or a body length the type cannot have.
 */
int mc_peer_hdr_decode(const uint8_t buf[MAICACHE_PEER_HDR_SIZE],
		       struct mc_peer_hdr *h, const char **why);

/* Bytes of the body's fixed part for a type (0 for an unknown type). */
size_t mc_peer_fixed_len(uint16_t type);

/*
 * The fixed part of h's body -> m. 0, or -EPROTO with *why (a field out of
 * range, a DATA/PUT payload length that does not match the frame or the
 * extent size).
 */
int mc_peer_body_decode(const struct mc_peer_hdr *h, const uint8_t *fixed,
			size_t len, struct mc_peer_msg *m, const char **why);

/*
 * m -> header and fixed part in buf (at least MAICACHE_PEER_HDR_SIZE +
 * MC_PEER_FIXED_MAX bytes); for DATA and PUT the header counts the
 * m->data.len payload bytes the caller sends next. Returns the bytes
 * written, or 0 for a message that would not decode (the same checks).
 */
size_t mc_peer_encode(const struct mc_peer_msg *m, uint8_t *buf, size_t cap);

#endif /* MAICACHE_PEER_WIRE_H */
