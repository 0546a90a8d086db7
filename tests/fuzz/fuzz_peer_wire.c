// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a byte stream as a peer sends it (peer/wire.c, and
 * the handshake of peer/auth.c fed with what decodes). Frames are taken
 * off the input as the transport takes them off a socket: a header, the
 * fixed part of its body, the payload skipped. Every frame that decodes
 * must encode back to the same bytes (the decoder accepts nothing the
 * encoder would refuse), and the handshake must end in a state it names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "wire.h"

static struct mc_group group = { .name = "fuzz", .key_len = 32 };

static void handshake(struct mc_peer_hs *hs, const struct mc_peer_msg *m)
{
	struct mc_peer_msg out;
	const char *why = NULL;
	int ret;

	if (hs->state == MC_HS_DONE || hs->state == MC_HS_FAILED)
		return;
	ret = mc_peer_hs_input(hs, m, &out, &why);
	if (ret < 0 && (!why || hs->state != MC_HS_FAILED))
		__builtin_trap();	/* a refusal always says why, and sticks */
	if (ret == 1 && out.type != MAICACHE_PEER_AUTH)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[MAICACHE_PEER_HDR_SIZE + MC_PEER_FIXED_MAX];
	struct mc_peer_hs hs[2];
	struct mc_peer_msg m, hello;
	struct mc_peer_hdr h;
	struct mc_node_id me;
	const char *why;
	size_t off = 0, fixed, n;

	memset(me.b, 0x11, sizeof(me.b));
	if (mc_peer_hs_start(&hs[0], &group, &me, true, &hello) ||
	    mc_peer_hs_start(&hs[1], &group, &me, false, &hello))
		return 0;
	while (size - off >= MAICACHE_PEER_HDR_SIZE) {
		why = NULL;
		if (mc_peer_hdr_decode(data + off, &h, &why)) {
			if (!why)
				__builtin_trap();
			break;
		}
		fixed = mc_peer_fixed_len(h.type);
		if (!fixed || fixed > h.len || size - off - MAICACHE_PEER_HDR_SIZE < fixed)
			break;
		if (mc_peer_body_decode(&h, data + off + MAICACHE_PEER_HDR_SIZE, fixed, &m, &why))
			break;
		n = mc_peer_encode(&m, again, sizeof(again));
		if (n != MAICACHE_PEER_HDR_SIZE + fixed ||
		    memcmp(again, data + off, n))
			__builtin_trap();	/* decoded, but not what the encoder makes */
		handshake(&hs[0], &m);
		handshake(&hs[1], &m);
		/* The payload: the transport reads it into a slot; skip it here. */
		if (h.len > size - off - MAICACHE_PEER_HDR_SIZE)
			break;
		off += MAICACHE_PEER_HDR_SIZE + h.len;
	}
	return 0;
}
