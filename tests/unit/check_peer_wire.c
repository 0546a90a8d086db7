// SPDX-License-Identifier: MIT
/*
 * Unit tests for the peer protocol's frames (peer/wire.c), the extent key
 * (peer/key.c) and the checksum (peer/crc.c): every frame round-trips, and
 * every field a peer could get wrong is refused with a reason.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_run.h"
#include "crc.h"
#include "key.h"
#include "wire.h"

static struct mc_extent_key a_key(void)
{
	struct mc_extent_key k = { .extent_shift = 20, .index = 77 };

	ck_assert_int_eq(mc_blob_digest("https://acct.blob.core.windows.net", "data",
					"train.erofs", "\"0x8DC0\"", k.blob), 0);
	return k;
}

static size_t enc(const struct mc_peer_msg *m, uint8_t *buf)
{
	return mc_peer_encode(m, buf, MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX);
}

/* Decode what enc() wrote; 0 or the decoder's error with *why. */
static int dec(const uint8_t *buf, size_t n, struct mc_peer_msg *m, const char **why)
{
	struct mc_peer_hdr h;
	int r = mc_peer_hdr_decode(buf, &h, why);

	if (r)
		return r;
	return mc_peer_body_decode(&h, buf + MAICACHE_PEER_HDR_SIZE,
				   n - MAICACHE_PEER_HDR_SIZE, m, why);
}

START_TEST(round_trip_every_type)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX], again[sizeof(buf)];
	struct mc_peer_msg m, out;
	const char *why = NULL;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.seq = 0x1122334455667788ULL;
	switch (_i) {
	case 0:
		m.type = MAICACHE_PEER_HELLO;
		memset(m.hello.node_id, 1, sizeof(m.hello.node_id));
		memset(m.hello.nonce, 2, sizeof(m.hello.nonce));
		memset(m.hello.group, 3, sizeof(m.hello.group));
		break;
	case 1:
		m.type = MAICACHE_PEER_AUTH;
		memset(m.auth.mac, 0xa5, sizeof(m.auth.mac));
		break;
	case 2:
		m.type = MAICACHE_PEER_GET;
		m.get = a_key();
		break;
	case 3:
	case 4:
		m.type = _i == 3 ? MAICACHE_PEER_DATA : MAICACHE_PEER_PUT;
		m.data.key = a_key();
		m.data.len = 1U << 20;
		m.data.crc32c = 0xdeadbeef;
		break;
	case 5:
	case 7:
		m.type = _i == 5 ? MAICACHE_PEER_TURN : MAICACHE_PEER_WAIT;
		m.turn.key = a_key();
		m.turn.lease_ms = 5000;
		break;
	case 8:
		m.type = MAICACHE_PEER_RDMA_OFFER;
		memset(m.offer.token, 0x3c, sizeof(m.offer.token));
		m.offer.port = 18515;
		break;
	case 9:
		m.type = MAICACHE_PEER_GET_RDMA;
		m.get = a_key();
		break;
	case 10:
		m.type = MAICACHE_PEER_LOC;
		m.loc.key = a_key();
		m.loc.len = 1000;
		m.loc.crc32c = 0xfeedface;
		m.loc.addr = 0x7f0012345000ULL;
		m.loc.rkey = 0xabcd;
		m.loc.lease_ms = 10000;
		break;
	case 11:
		m.type = MAICACHE_PEER_DONE;
		m.done.key = a_key();
		m.done.addr = 0x7f0012345000ULL;
		break;
	case 12:
		m.type = MAICACHE_PEER_GET_COPY;
		m.copy.key = a_key();
		m.copy.flags = MAICACHE_PEER_COPY_RDMA | MAICACHE_PEER_COPY_HELD;
		break;
	case 13:
	case 14:
		m.type = _i == 13 ? MAICACHE_PEER_HOLDER : MAICACHE_PEER_HAVE;
		m.holder.key = a_key();
		memset(m.holder.node_id, 0x5e, sizeof(m.holder.node_id));
		break;
	default:
		m.type = MAICACHE_PEER_NACK;
		m.nack.key = a_key();
		m.nack.code = MAICACHE_PEER_NACK_NOT_HELD;
		break;
	}
	n = enc(&m, buf);
	ck_assert_uint_eq(n, MAICACHE_PEER_HDR_SIZE + mc_peer_fixed_len(m.type));
	ck_assert_msg(dec(buf, n, &out, &why) == 0, "%s", why);
	ck_assert_uint_eq(out.type, m.type);
	ck_assert_uint_eq(out.seq, m.seq);
	/* Every field came back: the decoded message encodes to the same bytes. */
	ck_assert_uint_eq(enc(&out, again), n);
	ck_assert_mem_eq(again, buf, n);
}
END_TEST

START_TEST(header_checks)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX], bad[sizeof(buf)];
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET };
	struct mc_peer_hdr h;
	const char *why;
	uint32_t v;
	static const struct {
		size_t off;
		uint32_t val;
		unsigned int width;
		const char *want;
	} cases[] = {
		{ 0, 0x4550434e, 4, "bad magic" },
		{ 4, 2, 2, "unsupported protocol version" },
		{ 6, 0, 2, "unknown frame type" },
		{ 6, __MAICACHE_PEER_TYPE_MAX, 2, "unknown frame type" },
		{ 8, 47, 4, "body length does not fit" },
		{ 8, 0xffffffff, 4, "body length does not fit" },
		{ 12, 1, 4, "reserved header bits set" },
	};

	m.get = a_key();
	ck_assert_uint_gt(enc(&m, buf), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, sizeof(buf));
		v = htole32(cases[i].val);
		memcpy(bad + cases[i].off, &v, cases[i].width);
		why = NULL;
		ck_assert_int_eq(mc_peer_hdr_decode(bad, &h, &why), -EPROTO);
		ck_assert_msg(why && strstr(why, cases[i].want), "case %zu: %s", i, why);
	}
}
END_TEST

/* A DATA frame whose fixed part is patched at off, then decoded. */
static const char *data_with(size_t off, uint32_t val, uint32_t frame_payload)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_msg m = { .type = MAICACHE_PEER_DATA }, out;
	struct mc_peer_hdr h;
	const char *why = NULL;
	uint32_t v = htole32(val), len;

	m.data.key = a_key();
	m.data.len = 4096;
	ck_assert_uint_gt(enc(&m, buf), 0);
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + off, &v, 4);
	len = htole32(56 + frame_payload);
	memcpy(buf + 8, &len, 4);
	if (mc_peer_hdr_decode(buf, &h, &why))
		return why;
	if (mc_peer_body_decode(&h, buf + MAICACHE_PEER_HDR_SIZE, 56, &out, &why))
		return why;
	return NULL;
}

START_TEST(body_checks)
{
	const char *why;

	ck_assert_ptr_null(data_with(48, 4096, 4096));
	why = data_with(32, 15, 4096);
	ck_assert_msg(why && strstr(why, "extent size out of range"), "%s", why);
	why = data_with(32, 23, 4096);
	ck_assert_msg(why && strstr(why, "extent size out of range"), "%s", why);
	why = data_with(36, 1, 4096);
	ck_assert_msg(why && strstr(why, "reserved key bits"), "%s", why);
	why = data_with(48, 0, 4096);
	ck_assert_msg(why && strstr(why, "empty"), "%s", why);
	why = data_with(48, (1U << 20) + 1, (1U << 20) + 1);
	ck_assert_msg(why && strstr(why, "longer than an extent"), "%s", why);
	why = data_with(48, 4096, 4095);
	ck_assert_msg(why && strstr(why, "differs from the frame"), "%s", why);
	/* No payload at all, and more than the largest extent. */
	why = data_with(48, 4096, 0);
	ck_assert_msg(why && strstr(why, "payload length out of range"), "%s", why);
	why = data_with(48, 4096, MAICACHE_PEER_PAYLOAD_MAX + 1);
	ck_assert_msg(why && strstr(why, "payload length out of range"), "%s", why);
}
END_TEST

START_TEST(turn_and_nack_checks)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_msg m = { .type = MAICACHE_PEER_TURN }, out;
	const char *why = NULL;
	uint32_t v;

	m.turn.key = a_key();
	m.turn.lease_ms = 0;
	ck_assert_uint_eq(enc(&m, buf), 0);	/* refused on the way out too */
	m.turn.lease_ms = MC_PEER_LEASE_MAX_MS + 1;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.type = MAICACHE_PEER_WAIT;		/* WAIT is checked as TURN */
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.type = MAICACHE_PEER_TURN;
	m.turn.lease_ms = 100;
	ck_assert_uint_gt(enc(&m, buf), 0);
	v = htole32(7);
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 52, &v, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 56, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "reserved turn bits"), "%s", why);

	memset(&m, 0, sizeof(m));
	m.type = MAICACHE_PEER_NACK;
	m.nack.key = a_key();
	m.nack.code = __MAICACHE_PEER_NACK_MAX;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.nack.code = MAICACHE_PEER_NACK_BUSY;
	ck_assert_uint_gt(enc(&m, buf), 0);
	v = 0;
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 48, &v, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 56, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "unknown NACK code"), "%s", why);
}
END_TEST

/* What an RDMA offer or location can get wrong is refused. */
START_TEST(rdma_frame_checks)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_msg m = { .type = MAICACHE_PEER_RDMA_OFFER }, out;
	const char *why = NULL;
	uint32_t v;

	m.offer.port = 0;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.offer.port = 7000;
	ck_assert_uint_gt(enc(&m, buf), 0);
	v = htole32(1);
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 20, &v, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 24, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "reserved RDMA offer bits"), "%s", why);

	memset(&m, 0, sizeof(m));
	m.type = MAICACHE_PEER_LOC;
	m.loc.key = a_key();
	m.loc.lease_ms = 1000;
	m.loc.len = 0;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.loc.len = (1U << 20) + 1;		/* longer than the key's extent */
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.loc.len = 1U << 20;
	m.loc.lease_ms = 0;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.loc.lease_ms = 1000;
	ck_assert_uint_gt(enc(&m, buf), 0);
	v = 0;
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 68, &v, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 72, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "lease out of range"), "%s", why);
}
END_TEST

START_TEST(fanout_frame_checks)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_msg m = { .type = MAICACHE_PEER_GET_COPY }, out;
	const char *why = NULL;
	uint32_t v;

	m.copy.key = a_key();
	m.copy.flags = 1U << 3;			/* no such flag */
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.copy.flags = MAICACHE_PEER_COPY_HELD | MAICACHE_PEER_COPY_NO_HOLDER;
	ck_assert_uint_eq(enc(&m, buf), 0);
	m.copy.flags = MAICACHE_PEER_COPY_NO_HOLDER;
	ck_assert_uint_gt(enc(&m, buf), 0);
	v = htole32(1);
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 52, &v, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 56, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "reserved bits"), "%s", why);
	v = htole32(MAICACHE_PEER_COPY_HELD | MAICACHE_PEER_COPY_NO_HOLDER);
	memcpy(buf + MAICACHE_PEER_HDR_SIZE + 48, &v, 4);
	memset(buf + MAICACHE_PEER_HDR_SIZE + 52, 0, 4);
	ck_assert_int_eq(dec(buf, MAICACHE_PEER_HDR_SIZE + 56, &out, &why), -EPROTO);
	ck_assert_msg(strstr(why, "both"), "%s", why);

	/* HOLDER and HAVE: a key that does not check out is refused. */
	memset(&m, 0, sizeof(m));
	m.type = MAICACHE_PEER_HOLDER;
	m.holder.key = a_key();
	m.holder.key.extent_shift = 30;
	ck_assert_uint_eq(enc(&m, buf), 0);
}
END_TEST

/* Random bytes after a valid header never crash the decoder. */
START_TEST(garbage_bodies)
{
	uint8_t buf[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct mc_peer_msg m, out;
	const char *why;
	int refused = 0;

	for (int round = 0; round < 20000; round++) {
		memset(&m, 0, sizeof(m));
		m.type = (uint16_t)(1 + round % (__MAICACHE_PEER_TYPE_MAX - 1));
		m.data.len = 4096;	/* for DATA and PUT; others ignore it */
		m.get.extent_shift = 16;
		m.turn.lease_ms = 1;
		if (m.type == MAICACHE_PEER_NACK)
			m.nack.code = 1;
		if (m.type == MAICACHE_PEER_DATA || m.type == MAICACHE_PEER_PUT)
			m.data.key.extent_shift = 16;
		if (m.type == MAICACHE_PEER_LOC)
			m.loc.lease_ms = 1;
		if (m.type == MAICACHE_PEER_RDMA_OFFER)
			m.offer.port = 1;
		ck_assert_uint_gt(enc(&m, buf), 0);
		for (size_t i = MAICACHE_PEER_HDR_SIZE; i < sizeof(buf); i++) {
			x = mc_mix64(x + (uint64_t)i);
			buf[i] = (uint8_t)x;
		}
		refused += dec(buf, MAICACHE_PEER_HDR_SIZE + mc_peer_fixed_len(m.type),
			       &out, &why) != 0;
	}
	/* HELLO and AUTH take any bytes; the others refuse most garbage. */
	ck_assert_int_gt(refused, 20000 / 2);
}
END_TEST

START_TEST(keys_name_versions_apart)
{
	struct mc_extent_key a = a_key(), b = a;
	uint8_t d[MAICACHE_PEER_DIGEST_SIZE];

	ck_assert_int_eq(mc_blob_digest("https://acct.blob.core.windows.net", "data",
					"train.erofs", "\"0x8DC1\"", b.blob), 0);
	ck_assert(!mc_extent_key_eq(&a, &b));
	ck_assert_uint_ne(mc_extent_key_hash(&a), mc_extent_key_hash(&b));
	/* Parts cannot slide into each other. */
	ck_assert_int_eq(mc_blob_digest("https://acct.blob.core.windows.net", "da",
					"tatrain.erofs", "\"0x8DC0\"", d), 0);
	ck_assert(memcmp(d, a.blob, sizeof(d)));
	ck_assert_int_eq(mc_blob_digest("x", "", "b", "e", d), -EINVAL);
	ck_assert_int_eq(mc_blob_digest("x", "c", "b", NULL, d), -EINVAL);
	b = a;
	b.index++;
	ck_assert(!mc_extent_key_eq(&a, &b));
	b = a;
	b.extent_shift = 21;
	ck_assert(!mc_extent_key_eq(&a, &b));
	ck_assert(mc_extent_key_eq(&a, &a));
}
END_TEST

START_TEST(crc32c_vectors)
{
	static uint8_t big[3 << 20];

	ck_assert_uint_eq(mc_crc32c("123456789", 9), 0xe3069283U);
	ck_assert_uint_eq(mc_crc32c("", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros, and of 0xff. */
	memset(big, 0, 32);
	ck_assert_uint_eq(mc_crc32c(big, 32), 0x8a9136aaU);
	memset(big, 0xff, 32);
	ck_assert_uint_eq(mc_crc32c(big, 32), 0x62a8ab43U);
	/* One flipped bit anywhere changes it. */
	memset(big, 0x5a, sizeof(big));
	uint32_t c = mc_crc32c(big, sizeof(big));

	big[(2 << 20) + 12345] ^= 0x10;
	ck_assert_uint_ne(mc_crc32c(big, sizeof(big)), c);
	/* CRC-64/XZ's check value, and the same flip. */
	ck_assert_uint_eq(mc_crc64("123456789", 9), 0x995dc9bbdf1939faULL);
	uint64_t c64 = mc_crc64(big, sizeof(big));

	big[12] ^= 0x01;
	ck_assert_uint_ne(mc_crc64(big, sizeof(big)), c64);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("peer_wire");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, round_trip_every_type, 0, 16);
	tcase_add_test(tc, fanout_frame_checks);
	tcase_add_test(tc, rdma_frame_checks);
	tcase_add_test(tc, header_checks);
	tcase_add_test(tc, body_checks);
	tcase_add_test(tc, turn_and_nack_checks);
	tcase_add_test(tc, garbage_bodies);
	tcase_add_test(tc, keys_name_versions_apart);
	tcase_add_test(tc, crc32c_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
