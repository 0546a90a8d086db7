/* SPDX-License-Identifier: MIT */
/*
 * One-sided RDMA between the pools of a cache group (docs/peers.md): a
 * requester READs an extent straight out of the owner's pinned pool slot
 * into its own slot, so neither CPU copies the payload and the owner's CPU
 * never touches it. Connections are set up with librdmacm and data moves
 * with libibverbs, both on the event loop (the CM's event channel and each
 * link's completion channel are watched fds).
 *
 * Only data moves over RDMA. The control messages (GET, and the owner's
 * answer naming where the bytes are) stay on the peer's authenticated TCP
 * connection (conn.h), which also hands out the one-time token an RDMA
 * connection request must carry in its private data: a request without a
 * token the owner gave out over an authenticated connection is rejected
 * and counted, so the group key guards RDMA as it guards TCP.
 *
 * The memory given to mc_rdma_new() (the daemon's pool mapping) is
 * registered once for local write and remote read: any linked peer may
 * read any byte of it. Peers are the group's authenticated members, and a
 * reader checks every extent's CRC32C; an owner keeps a slot pinned
 * (docs/kmod.md) while a peer may read it.
 */
#ifndef MAICACHE_PEER_RDMA_H
#define MAICACHE_PEER_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define MC_RDMA_TOKEN_SIZE	16

struct mc_rdma;
struct mc_rdma_link;

struct mc_rdma_ops {
	/*
	 * An incoming request carries token: true accepts it (a token this
	 * node gave out and not used yet), and *link_arg is the new link's.
	 */
	bool (*accept)(void *arg, const uint8_t token[MC_RDMA_TOKEN_SIZE], void **link_arg);
	/* A link is up: reads may be posted. */
	void (*up)(void *arg, struct mc_rdma_link *l, void *link_arg);
	/*
	 * A link is gone (err: why) or never came up; its reads ended with an
	 * error first. The link is freed after this returns.
	 */
	void (*down)(void *arg, struct mc_rdma_link *l, void *link_arg, int err);
};

struct mc_rdma_stats {
	uint64_t links_up, links_down, connects, accepted;
	uint64_t rejected;		/* requests with no valid token, or garbage */
	uint64_t reads, read_bytes, read_errors;
};

/*
 * RDMA on the device that holds listen ("ADDRESS:PORT", numeric): listen
 * there and register [mem, mem + len). -ENODEV with a message when the
 * address has no RDMA device.
 */
int mc_rdma_new(struct mc_rdma **out, struct mc_loop *loop, const char *listen,
		void *mem, size_t len, const struct mc_rdma_ops *ops, void *arg,
		char *err, size_t errlen);
/* Every link goes down (down() runs for each), then everything is freed. */
void mc_rdma_free(struct mc_rdma *r);

/*
 * False once the device went away (every link went down with it, and the
 * memory was let go): the node is TCP only from then on.
 */
bool mc_rdma_alive(const struct mc_rdma *r);
/* The registered memory's remote key, for a peer to read it with. */
uint32_t mc_rdma_rkey(const struct mc_rdma *r);
/* The port it listens on. */
uint16_t mc_rdma_port(const struct mc_rdma *r);
const struct mc_rdma_stats *mc_rdma_stats(const struct mc_rdma *r);

/*
 * Connect to a peer's RDMA listener (numeric "ADDRESS:PORT") with the
 * token it gave out. up() or down() follows.
 */
int mc_rdma_connect(struct mc_rdma *r, const char *addr, const uint8_t token[MC_RDMA_TOKEN_SIZE],
		    void *link_arg, struct mc_rdma_link **out);
/* Close a link: down() follows (-ECANCELED), from a later loop turn. */
void mc_rdma_link_close(struct mc_rdma_link *l);

/*
 * Read len bytes at the peer's (remote_addr, rkey) into dst, which lies in
 * the registered memory. cb(arg, 0) once they are there, or a negative
 * errno (the link then goes down). 0, or -ENOTCONN, -EINVAL (dst outside
 * the registered memory), -EAGAIN (too many reads in flight).
 */
typedef void (*mc_rdma_read_cb)(void *arg, int status);
int mc_rdma_read(struct mc_rdma_link *l, void *dst, uint32_t len, uint64_t remote_addr,
		 uint32_t rkey, mc_rdma_read_cb cb, void *arg);

#endif /* MAICACHE_PEER_RDMA_H */
