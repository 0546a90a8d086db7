// SPDX-License-Identifier: MIT
/* See wire.h. The layout is the structs of proto/maicache_peer.h. */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "wire.h"

_Static_assert(sizeof(struct maicache_peer_hdr) == MAICACHE_PEER_HDR_SIZE, "header");
_Static_assert(sizeof(struct maicache_peer_key) == MC_PEER_KEY_LEN, "key");
_Static_assert(sizeof(struct maicache_peer_hello) == 80, "hello");
_Static_assert(sizeof(struct maicache_peer_data) == 56, "data");
_Static_assert(sizeof(struct maicache_peer_turn) == 56, "turn");
_Static_assert(sizeof(struct maicache_peer_nack) == 56, "nack");
_Static_assert(sizeof(struct maicache_peer_rdma_offer) == 24, "rdma offer");
_Static_assert(sizeof(struct maicache_peer_loc) == 72, "loc");
_Static_assert(sizeof(struct maicache_peer_done) == 56, "done");
_Static_assert(sizeof(struct maicache_peer_get_copy) == 56, "get copy");
_Static_assert(sizeof(struct maicache_peer_holder) == 64, "holder");

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

#define FAIL(msg) do { *why = (msg); return -EPROTO; } while (0)

size_t mc_peer_fixed_len(uint16_t type)
{
	switch (type) {
	case MAICACHE_PEER_HELLO:	return sizeof(struct maicache_peer_hello);
	case MAICACHE_PEER_AUTH:	return sizeof(struct maicache_peer_auth);
	case MAICACHE_PEER_GET:
	case MAICACHE_PEER_GET_RDMA:	return sizeof(struct maicache_peer_key);
	case MAICACHE_PEER_RDMA_OFFER:	return sizeof(struct maicache_peer_rdma_offer);
	case MAICACHE_PEER_LOC:		return sizeof(struct maicache_peer_loc);
	case MAICACHE_PEER_DONE:	return sizeof(struct maicache_peer_done);
	case MAICACHE_PEER_DATA:
	case MAICACHE_PEER_PUT:		return sizeof(struct maicache_peer_data);
	case MAICACHE_PEER_TURN:
	case MAICACHE_PEER_WAIT:	return sizeof(struct maicache_peer_turn);
	case MAICACHE_PEER_NACK:	return sizeof(struct maicache_peer_nack);
	case MAICACHE_PEER_GET_COPY:	return sizeof(struct maicache_peer_get_copy);
	case MAICACHE_PEER_HOLDER:
	case MAICACHE_PEER_HAVE:	return sizeof(struct maicache_peer_holder);
	}
	return 0;
}

static int has_payload(uint16_t type)
{
	return type == MAICACHE_PEER_DATA || type == MAICACHE_PEER_PUT;
}

int mc_peer_hdr_decode(const uint8_t buf[MAICACHE_PEER_HDR_SIZE],
		       struct mc_peer_hdr *h, const char **why)
{
	size_t fixed;

	if (get32(buf) != MAICACHE_PEER_MAGIC)
		FAIL("bad magic");
	if (get16(buf + 4) != MAICACHE_PEER_VERSION)
		FAIL("unsupported protocol version");
	h->type = get16(buf + 6);
	h->len = get32(buf + 8);
	if (get32(buf + 12))
		FAIL("reserved header bits set");
	h->seq = get64(buf + 16);
	fixed = mc_peer_fixed_len(h->type);
	if (!fixed)
		FAIL("unknown frame type");
	if (has_payload(h->type)) {
		if (h->len <= fixed || h->len - fixed > MAICACHE_PEER_PAYLOAD_MAX)
			FAIL("payload length out of range");
	} else if (h->len != fixed) {
		FAIL("body length does not fit the frame type");
	}
	return 0;
}

static void key_put(uint8_t *p, const struct mc_extent_key *k)
{
	memcpy(p, k->blob, sizeof(k->blob));
	put32(p + 32, k->extent_shift);
	put32(p + 36, 0);
	put64(p + 40, k->index);
}

static const char *key_get(const uint8_t *p, struct mc_extent_key *k)
{
	memcpy(k->blob, p, sizeof(k->blob));
	k->extent_shift = get32(p + 32);
	k->index = get64(p + 40);
	if (k->extent_shift < MC_EXTENT_SHIFT_MIN || k->extent_shift > MC_EXTENT_SHIFT_MAX)
		return "extent size out of range";
	if (get32(p + 36))
		return "reserved key bits set";
	/* The blob's byte offset must fit 64 bits. */
	if (k->index > (UINT64_MAX >> k->extent_shift))
		return "extent index out of range";
	return NULL;
}

int mc_peer_body_decode(const struct mc_peer_hdr *h, const uint8_t *p,
			size_t len, struct mc_peer_msg *m, const char **why)
{
	const char *bad = NULL;

	if (len != mc_peer_fixed_len(h->type))
		FAIL("fixed part of the wrong length");
	memset(m, 0, sizeof(*m));
	m->type = h->type;
	m->seq = h->seq;
	switch (h->type) {
	case MAICACHE_PEER_HELLO:
		memcpy(m->hello.node_id, p, MAICACHE_PEER_ID_SIZE);
		memcpy(m->hello.nonce, p + 16, MAICACHE_PEER_NONCE_SIZE);
		memcpy(m->hello.group, p + 48, MAICACHE_PEER_DIGEST_SIZE);
		return 0;
	case MAICACHE_PEER_AUTH:
		memcpy(m->auth.mac, p, MAICACHE_PEER_MAC_SIZE);
		return 0;
	case MAICACHE_PEER_GET:
	case MAICACHE_PEER_GET_RDMA:
		bad = key_get(p, &m->get);
		break;
	case MAICACHE_PEER_RDMA_OFFER:
		memcpy(m->offer.token, p, MAICACHE_PEER_TOKEN_SIZE);
		m->offer.port = get16(p + 16);
		if (!m->offer.port)
			bad = "RDMA offer of port 0";
		else if (get16(p + 18) || get32(p + 20))
			bad = "reserved RDMA offer bits set";
		break;
	case MAICACHE_PEER_LOC:
		bad = key_get(p, &m->loc.key);
		m->loc.len = get32(p + 48);
		m->loc.crc32c = get32(p + 52);
		m->loc.addr = get64(p + 56);
		m->loc.rkey = get32(p + 64);
		m->loc.lease_ms = get32(p + 68);
		if (!bad && (m->loc.len == 0 || m->loc.len > (1U << m->loc.key.extent_shift)))
			bad = "location longer than an extent, or empty";
		if (!bad && (!m->loc.lease_ms || m->loc.lease_ms > MC_PEER_LEASE_MAX_MS))
			bad = "lease out of range";
		break;
	case MAICACHE_PEER_DONE:
		bad = key_get(p, &m->done.key);
		m->done.addr = get64(p + 48);
		break;
	case MAICACHE_PEER_DATA:
	case MAICACHE_PEER_PUT:
		bad = key_get(p, &m->data.key);
		m->data.len = get32(p + 48);
		m->data.crc32c = get32(p + 52);
		if (!bad && (m->data.len == 0 || m->data.len > (1U << m->data.key.extent_shift)))
			bad = "payload longer than an extent, or empty";
		if (!bad && h->len - len != m->data.len)
			bad = "payload length differs from the frame's";
		break;
	case MAICACHE_PEER_TURN:
	case MAICACHE_PEER_WAIT:
		bad = key_get(p, &m->turn.key);
		m->turn.lease_ms = get32(p + 48);
		if (!bad && (!m->turn.lease_ms || m->turn.lease_ms > MC_PEER_LEASE_MAX_MS))
			bad = "lease out of range";
		if (!bad && get32(p + 52))
			bad = "reserved turn bits set";
		break;
	case MAICACHE_PEER_NACK:
		bad = key_get(p, &m->nack.key);
		m->nack.code = get32(p + 48);
		if (!bad && (!m->nack.code || m->nack.code >= __MAICACHE_PEER_NACK_MAX))
			bad = "unknown NACK code";
		if (!bad && get32(p + 52))
			bad = "reserved NACK bits set";
		break;
	case MAICACHE_PEER_GET_COPY:
		bad = key_get(p, &m->copy.key);
		m->copy.flags = get32(p + 48);
		if (!bad && (m->copy.flags & ~MAICACHE_PEER_COPY_FLAGS || get32(p + 52)))
			bad = "unknown GET_COPY flags or reserved bits set";
		if (!bad && (m->copy.flags & MAICACHE_PEER_COPY_HELD) &&
		    (m->copy.flags & MAICACHE_PEER_COPY_NO_HOLDER))
			bad = "GET_COPY both to a holder and to the owner";
		break;
	case MAICACHE_PEER_HOLDER:
	case MAICACHE_PEER_HAVE:
		bad = key_get(p, &m->holder.key);
		memcpy(m->holder.node_id, p + 48, MAICACHE_PEER_ID_SIZE);
		break;
	default:
		bad = "unknown frame type";
	}
	if (bad)
		FAIL(bad);
	return 0;
}

size_t mc_peer_encode(const struct mc_peer_msg *m, uint8_t *buf, size_t cap)
{
	size_t fixed = mc_peer_fixed_len(m->type);
	uint8_t *p = buf + MAICACHE_PEER_HDR_SIZE;
	struct mc_peer_hdr h;
	struct mc_peer_msg check;
	const char *why;
	uint32_t len;

	if (!fixed || cap < MAICACHE_PEER_HDR_SIZE + fixed)
		return 0;
	len = (uint32_t)fixed + (has_payload(m->type) ? m->data.len : 0);
	put32(buf, MAICACHE_PEER_MAGIC);
	put16(buf + 4, MAICACHE_PEER_VERSION);
	put16(buf + 6, m->type);
	put32(buf + 8, len);
	put32(buf + 12, 0);
	put64(buf + 16, m->seq);
	memset(p, 0, fixed);
	switch (m->type) {
	case MAICACHE_PEER_HELLO:
		memcpy(p, m->hello.node_id, MAICACHE_PEER_ID_SIZE);
		memcpy(p + 16, m->hello.nonce, MAICACHE_PEER_NONCE_SIZE);
		memcpy(p + 48, m->hello.group, MAICACHE_PEER_DIGEST_SIZE);
		break;
	case MAICACHE_PEER_AUTH:
		memcpy(p, m->auth.mac, MAICACHE_PEER_MAC_SIZE);
		break;
	case MAICACHE_PEER_GET:
	case MAICACHE_PEER_GET_RDMA:
		key_put(p, &m->get);
		break;
	case MAICACHE_PEER_RDMA_OFFER:
		memcpy(p, m->offer.token, MAICACHE_PEER_TOKEN_SIZE);
		put16(p + 16, m->offer.port);
		break;
	case MAICACHE_PEER_LOC:
		key_put(p, &m->loc.key);
		put32(p + 48, m->loc.len);
		put32(p + 52, m->loc.crc32c);
		put64(p + 56, m->loc.addr);
		put32(p + 64, m->loc.rkey);
		put32(p + 68, m->loc.lease_ms);
		break;
	case MAICACHE_PEER_DONE:
		key_put(p, &m->done.key);
		put64(p + 48, m->done.addr);
		break;
	case MAICACHE_PEER_DATA:
	case MAICACHE_PEER_PUT:
		key_put(p, &m->data.key);
		put32(p + 48, m->data.len);
		put32(p + 52, m->data.crc32c);
		break;
	case MAICACHE_PEER_TURN:
	case MAICACHE_PEER_WAIT:
		key_put(p, &m->turn.key);
		put32(p + 48, m->turn.lease_ms);
		break;
	case MAICACHE_PEER_NACK:
		key_put(p, &m->nack.key);
		put32(p + 48, m->nack.code);
		break;
	case MAICACHE_PEER_GET_COPY:
		key_put(p, &m->copy.key);
		put32(p + 48, m->copy.flags);
		break;
	case MAICACHE_PEER_HOLDER:
	case MAICACHE_PEER_HAVE:
		key_put(p, &m->holder.key);
		memcpy(p + 48, m->holder.node_id, MAICACHE_PEER_ID_SIZE);
		break;
	}
	/* What we send passes our own checks, or is not sent. */
	if (mc_peer_hdr_decode(buf, &h, &why) ||
	    mc_peer_body_decode(&h, p, fixed, &check, &why))
		return 0;
	return MAICACHE_PEER_HDR_SIZE + fixed;
}
