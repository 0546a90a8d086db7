/* SPDX-License-Identifier: MIT */
/*
 * One peer connection over TCP (or any stream socket), on the daemon's
 * event loop: the handshake of auth.h first, then frames both ways.
 *
 * Receiving: each frame's header and fixed part are read and checked
 * (wire.h); for DATA and PUT the owner of the connection names the buffer
 * the payload goes to (a pool slot), the payload is read straight into it
 * (no intermediate copy), and its CRC32C is checked before on_payload()
 * says whether it may be served. A frame that fails a check, any frame
 * before the handshake is done, or a failed handshake closes the connection
 * (on_close() with the reason); nothing a peer sends is acted on unchecked.
 *
 * Sending: frames queue in order; a payload is sent from the caller's
 * memory (zero copy) and must stay valid until on_sent() for it.
 *
 * Callbacks run from the loop, never inside mc_peer_conn_send(); after
 * on_close() the connection is gone (the owner must drop its pointer).
 */
#ifndef MAICACHE_PEER_CONN_H
#define MAICACHE_PEER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "loop.h"
#include "wire.h"

struct mc_peer_conn;

struct mc_peer_conn_ops {
	/* Authenticated both ways: frames may be sent. Optional. */
	void (*on_ready)(void *arg, struct mc_peer_conn *c);
	/* GET, TURN or NACK. */
	void (*on_msg)(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m);
	/*
	 * DATA or PUT announced (key, length, checksum checked as fields):
	 * where its m->data.len payload bytes go, or NULL to refuse it (the
	 * connection is then closed: the stream cannot skip a payload).
	 */
	void *(*payload_buf)(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m);
	/* The payload is in buf; crc_ok false: it does not match its CRC32C. */
	void (*on_payload)(void *arg, struct mc_peer_conn *c, const struct mc_peer_msg *m,
			   void *buf, bool crc_ok);
	/* A payload given to mc_peer_conn_send() is sent: its memory is free. */
	void (*on_sent)(void *arg, struct mc_peer_conn *c, const void *payload);
	/* The connection is closed and freed: err 0 for a clean close by the peer. */
	void (*on_close)(void *arg, struct mc_peer_conn *c, int err, const char *why);
};

struct mc_peer_conn_stats {
	uint64_t frames_in, frames_out;
	uint64_t payload_in, payload_out;	/* bytes */
	uint64_t bad_crc;			/* payloads that failed their CRC32C */
};

/*
 * Take over fd (connected, any blocking mode; it is made non-blocking and
 * closed with the connection) and start the handshake: connector is the
 * side that connected. 0 or a negative errno (fd is then closed).
 */
int mc_peer_conn_new(struct mc_peer_conn **out, struct mc_loop *loop, int fd,
		     bool connector, const struct mc_group *g,
		     const struct mc_node_id *me, const struct mc_peer_conn_ops *ops,
		     void *arg);

/*
 * Queue m (and, for DATA and PUT, m->data.len bytes of payload, whose
 * CRC32C the caller has put in m->data.crc32c). Before on_ready() frames
 * are held, and sent only once the peer is authenticated (dropped, their
 * payloads given back through on_sent(), if it is not). 0, -ENOTCONN once
 * closed, -EINVAL for a message that would not pass the peer's checks (or
 * a handshake frame), -ENOMEM.
 */
int mc_peer_conn_send(struct mc_peer_conn *c, const struct mc_peer_msg *m,
		      const void *payload);

/* Close now: on_sent() for what was queued, then on_close(-ECANCELED). */
void mc_peer_conn_close(struct mc_peer_conn *c);

const struct mc_node_id *mc_peer_conn_peer(const struct mc_peer_conn *c);
const struct mc_peer_conn_stats *mc_peer_conn_stats(const struct mc_peer_conn *c);

/* A non-blocking TCP connect to host:port (numeric), for mc_peer_conn_new(). */
int mc_peer_tcp_connect(const char *host, const char *port, char *err, size_t errlen);
/* A listening TCP socket on host:port; port "0" picks one (*bound gets it). */
int mc_peer_tcp_listen(const char *host, const char *port, unsigned int *bound,
		       char *err, size_t errlen);

#endif /* MAICACHE_PEER_CONN_H */
