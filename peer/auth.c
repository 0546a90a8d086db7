// SPDX-License-Identifier: MIT
/* See auth.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "errmsg.h"
#include "secret.h"

int mc_group_load(struct mc_group *g, const char *name, const char *key_file,
		  char *err, size_t errlen)
{
	char buf[MC_GROUP_KEY_MAX + 1];
	unsigned int dlen = 0;
	size_t n;
	int ret;

	memset(g, 0, sizeof(*g));
	if (!name || !*name || strlen(name) >= sizeof(g->name))
		return mc_errf(err, errlen, -EINVAL, "group name: 1 to %zu characters",
			       sizeof(g->name) - 1);
	ret = mc_secret_file_read(key_file, "group key", buf, sizeof(buf),
				  MC_SECRET_PRIVATE, err, errlen);
	if (ret)
		return ret;
	n = strlen(buf);
	if (n < MC_GROUP_KEY_MIN) {
		explicit_bzero(buf, sizeof(buf));
		return mc_errf(err, errlen, -EINVAL,
			       "group key %s: at least %d bytes (e.g. openssl rand -hex 32)",
			       key_file, MC_GROUP_KEY_MIN);
	}
	memcpy(g->key, buf, n);
	g->key_len = n;
	explicit_bzero(buf, sizeof(buf));
	snprintf(g->name, sizeof(g->name), "%s", name);
	if (!EVP_Digest(name, strlen(name), g->digest, &dlen, EVP_sha256(), NULL) ||
	    dlen != sizeof(g->digest)) {
		mc_group_wipe(g);
		return mc_errf(err, errlen, -EIO, "SHA-256 failed");
	}
	return 0;
}

void mc_group_wipe(struct mc_group *g)
{
	OPENSSL_cleanse(g, sizeof(*g));
}

int mc_peer_auth_mac(const struct mc_group *g, bool connector,
		     const uint8_t *sender_nonce, const uint8_t *receiver_nonce,
		     const struct mc_node_id *sender, const struct mc_node_id *receiver,
		     uint8_t mac[MAICACHE_PEER_MAC_SIZE])
{
	uint8_t msg[sizeof(MAICACHE_PEER_AUTH_LABEL) + 1 + 2 * MAICACHE_PEER_NONCE_SIZE +
		    2 * MAICACHE_PEER_ID_SIZE];
	unsigned int len = 0;
	uint8_t *p = msg;

	memcpy(p, MAICACHE_PEER_AUTH_LABEL, sizeof(MAICACHE_PEER_AUTH_LABEL) - 1);
	p += sizeof(MAICACHE_PEER_AUTH_LABEL) - 1;
	*p++ = connector ? 'c' : 's';
	memcpy(p, sender_nonce, MAICACHE_PEER_NONCE_SIZE);
	p += MAICACHE_PEER_NONCE_SIZE;
	memcpy(p, receiver_nonce, MAICACHE_PEER_NONCE_SIZE);
	p += MAICACHE_PEER_NONCE_SIZE;
	memcpy(p, sender->b, MAICACHE_PEER_ID_SIZE);
	p += MAICACHE_PEER_ID_SIZE;
	memcpy(p, receiver->b, MAICACHE_PEER_ID_SIZE);
	p += MAICACHE_PEER_ID_SIZE;
	if (!HMAC(EVP_sha256(), g->key, (int)g->key_len, msg, (size_t)(p - msg), mac, &len) ||
	    len != MAICACHE_PEER_MAC_SIZE)
		return -EIO;
	return 0;
}

int mc_peer_hs_start(struct mc_peer_hs *hs, const struct mc_group *g,
		     const struct mc_node_id *me, bool connector,
		     struct mc_peer_msg *out)
{
	memset(hs, 0, sizeof(*hs));
	hs->g = g;
	hs->me = *me;
	hs->connector = connector;
	hs->state = MC_HS_HELLO;
	if (getrandom(hs->my_nonce, sizeof(hs->my_nonce), 0) != (ssize_t)sizeof(hs->my_nonce)) {
		hs->state = MC_HS_FAILED;
		return -EIO;
	}
	memset(out, 0, sizeof(*out));
	out->type = MAICACHE_PEER_HELLO;
	memcpy(out->hello.node_id, me->b, sizeof(me->b));
	memcpy(out->hello.nonce, hs->my_nonce, sizeof(hs->my_nonce));
	memcpy(out->hello.group, g->digest, sizeof(g->digest));
	return 0;
}

static int hs_fail(struct mc_peer_hs *hs, int err, const char *msg, const char **why)
{
	hs->state = MC_HS_FAILED;
	*why = msg;
	return err;
}

int mc_peer_hs_input(struct mc_peer_hs *hs, const struct mc_peer_msg *in,
		     struct mc_peer_msg *out, const char **why)
{
	uint8_t want[MAICACHE_PEER_MAC_SIZE];

	switch (hs->state) {
	case MC_HS_HELLO:
		if (in->type != MAICACHE_PEER_HELLO)
			return hs_fail(hs, -EPROTO, "a frame before HELLO", why);
		if (CRYPTO_memcmp(in->hello.group, hs->g->digest, sizeof(hs->g->digest)))
			return hs_fail(hs, -EACCES, "the peer is of another group", why);
		memcpy(hs->peer.b, in->hello.node_id, sizeof(hs->peer.b));
		if (!memcmp(hs->peer.b, hs->me.b, sizeof(hs->me.b)))
			return hs_fail(hs, -EACCES, "the peer claims this node's id", why);
		memcpy(hs->peer_nonce, in->hello.nonce, sizeof(hs->peer_nonce));
		/* A nonce equal to ours is a reflection of our own HELLO. */
		if (!memcmp(hs->peer_nonce, hs->my_nonce, sizeof(hs->my_nonce)))
			return hs_fail(hs, -EACCES, "the peer echoed our nonce", why);
		hs->state = MC_HS_AUTH;
		/* The accepting side proves itself only to a connector that did. */
		if (!hs->connector)
			return 0;
		memset(out, 0, sizeof(*out));
		out->type = MAICACHE_PEER_AUTH;
		if (mc_peer_auth_mac(hs->g, hs->connector, hs->my_nonce, hs->peer_nonce,
				     &hs->me, &hs->peer, out->auth.mac))
			return hs_fail(hs, -EIO, "HMAC failed", why);
		return 1;
	case MC_HS_AUTH:
		if (in->type != MAICACHE_PEER_AUTH)
			return hs_fail(hs, -EPROTO, "a frame before AUTH", why);
		if (mc_peer_auth_mac(hs->g, !hs->connector, hs->peer_nonce, hs->my_nonce,
				     &hs->peer, &hs->me, want))
			return hs_fail(hs, -EIO, "HMAC failed", why);
		if (CRYPTO_memcmp(want, in->auth.mac, sizeof(want)))
			return hs_fail(hs, -EACCES, "wrong group key", why);
		hs->state = MC_HS_DONE;
		if (hs->connector)
			return 0;
		memset(out, 0, sizeof(*out));
		out->type = MAICACHE_PEER_AUTH;
		if (mc_peer_auth_mac(hs->g, false, hs->my_nonce, hs->peer_nonce, &hs->me,
				     &hs->peer, out->auth.mac))
			return hs_fail(hs, -EIO, "HMAC failed", why);
		return 1;
	default:
		return hs_fail(hs, -EPROTO, "handshake already over", why);
	}
}
