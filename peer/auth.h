/* SPDX-License-Identifier: MIT */
/*
 * Authentication of peer connections: a challenge-response over the
 * group key (proto/maicache_peer.h has the exchange). The key is a secret
 * file every member of the group holds, mode 0600; it never travels, and a
 * connection proves it only with a MAC over both sides' fresh nonces and
 * ids, so a recorded exchange cannot be replayed and a MAC made for one
 * direction is refused in the other.
 *
 * struct mc_peer_hs drives one connection's handshake without I/O: the
 * transport sends what it is told to and feeds in what arrives.
 */
#ifndef MAICACHE_PEER_AUTH_H
#define MAICACHE_PEER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maicache_peer.h"
#include "placement.h"
#include "wire.h"

#define MC_GROUP_KEY_MIN	32	/* bytes of key file text, at least */
#define MC_GROUP_KEY_MAX	1024

struct mc_group {
	char name[128];
	uint8_t digest[MAICACHE_PEER_DIGEST_SIZE];	/* SHA-256 of the name */
	uint8_t key[MC_GROUP_KEY_MAX];
	size_t key_len;
};

/*
 * The group called name, with its key from key_file (mc_secret_file_read()
 * with MC_SECRET_PRIVATE: a key readable by others is refused). 0, or a
 * negative errno with a message naming the file; g is wiped on error.
 */
int mc_group_load(struct mc_group *g, const char *name, const char *key_file,
		  char *err, size_t errlen);
void mc_group_wipe(struct mc_group *g);

enum mc_peer_hs_state {
	MC_HS_HELLO,		/* waiting for the peer's HELLO */
	MC_HS_AUTH,		/* waiting for the peer's AUTH */
	MC_HS_DONE,		/* authenticated both ways */
	MC_HS_FAILED,
};

struct mc_peer_hs {
	const struct mc_group *g;
	bool connector;			/* this side connected */
	enum mc_peer_hs_state state;
	struct mc_node_id me, peer;
	uint8_t my_nonce[MAICACHE_PEER_NONCE_SIZE];
	uint8_t peer_nonce[MAICACHE_PEER_NONCE_SIZE];
};

/* Start: a fresh nonce, and the HELLO to send first into *out. 0 or -EIO. */
int mc_peer_hs_start(struct mc_peer_hs *hs, const struct mc_group *g,
		     const struct mc_node_id *me, bool connector,
		     struct mc_peer_msg *out);

/*
 * A message from the peer while not yet MC_HS_DONE. Returns 1 with *out to
 * send: our AUTH, which the connecting side sends after the peer's HELLO
 * and the accepting side only once the connector's AUTH checked out (so a
 * connector without the key learns no MAC of the acceptor's, and a wrong
 * key is always judged, and counted, by the side that accepted). Returns 0
 * when nothing is to be sent (after a HELLO at the accepting side; their
 * AUTH checked out at the connecting one). When the state is MC_HS_DONE
 * (with either result) the peer is authenticated. Or -EACCES / -EPROTO with *why (wrong
 * group, bad MAC, a frame out of order, the peer claiming our own id): the
 * connection must then be closed, and state is MC_HS_FAILED.
 */
int mc_peer_hs_input(struct mc_peer_hs *hs, const struct mc_peer_msg *in,
		     struct mc_peer_msg *out, const char **why);

/* The MAC side `connector` sends, as in proto/maicache_peer.h. 0 or -EIO. */
int mc_peer_auth_mac(const struct mc_group *g, bool connector,
		     const uint8_t *sender_nonce, const uint8_t *receiver_nonce,
		     const struct mc_node_id *sender, const struct mc_node_id *receiver,
		     uint8_t mac[MAICACHE_PEER_MAC_SIZE]);

#endif /* MAICACHE_PEER_AUTH_H */
