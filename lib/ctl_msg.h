/* SPDX-License-Identifier: MIT */
/*
 * Control messages between maicachectl and maicached: an ordered list of
 * key/value string pairs, one SOCK_SEQPACKET packet per message. The first
 * pair names the message by convention (op=attach in a request, ok=1 or
 * ok=0 in a reply).
 *
 * On the wire each pair is one text line, "key=value\n". Keys are
 * [a-z0-9_.]+ (at most MC_MSG_KEY_MAX - 1 bytes); values are any NUL-free
 * byte string: '%', control bytes (< 0x20) and DEL are sent as %XX, so a
 * value never breaks a line. A message holds at most MC_MSG_FIELDS pairs
 * and encodes to at most MC_MSG_MAX bytes.
 *
 * struct mc_msg has a fixed capacity and allocates nothing: put it on the
 * heap or the stack (it is a little over MC_MSG_MAX bytes). Adding remembers
 * the first failure, and mc_msg_encode()/mc_msg_send() return it, so a
 * builder may add several fields and check once.
 */
#ifndef MAICACHE_CTL_MSG_H
#define MAICACHE_CTL_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MC_MSG_MAX	(64 * 1024)	/* encoded bytes */
#define MC_MSG_FIELDS	128
#define MC_MSG_KEY_MAX	64		/* key bytes, NUL included */

struct mc_msg {
	unsigned int nfields;
	int error;			/* first failed add, or 0 */
	size_t used;			/* bytes of arena in use */
	size_t enc_len;			/* encoded size of the fields so far */
	struct {
		uint32_t key;		/* offsets into arena */
		uint32_t val;
	} field[MC_MSG_FIELDS];
	/* "key\0value\0" per field; never longer than the encoding */
	char arena[MC_MSG_MAX];
};

void mc_msg_init(struct mc_msg *m);
/* Empty m and zero the bytes it held (secrets) so they do not linger. */
void mc_msg_wipe(struct mc_msg *m);

/*
 * 0, or -EINVAL (bad key or NULL value), -EEXIST (key already present),
 * -E2BIG (too many fields or MC_MSG_MAX exceeded). A failure leaves m as it
 * was and is remembered in m->error.
 */
int mc_msg_add(struct mc_msg *m, const char *key, const char *val);
int mc_msg_addf(struct mc_msg *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mc_msg_add_u64(struct mc_msg *m, const char *key, uint64_t v);

/* The value of key, or NULL. */
const char *mc_msg_get(const struct mc_msg *m, const char *key);
/*
 * Strict unsigned parse of key's value: decimal or 0x hex, nothing else.
 * 0, -ENOENT (no such key), -EINVAL (not a number), -ERANGE (> UINT64_MAX).
 */
int mc_msg_get_u64(const struct mc_msg *m, const char *key, uint64_t *v);

/* Iteration in insertion order, i < mc_msg_count(m). */
unsigned int mc_msg_count(const struct mc_msg *m);
const char *mc_msg_key(const struct mc_msg *m, unsigned int i);
const char *mc_msg_val(const struct mc_msg *m, unsigned int i);

/*
 * Encode into buf: the encoded length, or m->error, or -ENOSPC when len is
 * too small (MC_MSG_MAX always suffices). No NUL is appended.
 */
long mc_msg_encode(const struct mc_msg *m, char *buf, size_t len);
/*
 * Replace m's content with the decoded buf. 0, or -EBADMSG with a message
 * naming the line and the fault (missing '=', bad key, bad escape, raw
 * control byte, duplicate key, too many fields, too big, no final newline).
 */
int mc_msg_decode(struct mc_msg *m, const char *buf, size_t len,
		  char *err, size_t errlen);

/*
 * One message per packet on a SOCK_SEQPACKET socket.
 * mc_msg_send: 0, m->error, -EINVAL for a message with no field (an empty
 * packet reads as end of connection), or a negative errno from send().
 * mc_msg_recv: 0; -ECONNRESET when the peer closed; -EMSGSIZE for a packet
 * over MC_MSG_MAX; -EBADMSG when it does not decode; or a negative errno
 * from recvmsg() (-EAGAIN on a non-blocking socket with nothing to read).
 * Both retry on EINTR.
 */
int mc_msg_send(int fd, const struct mc_msg *m);
int mc_msg_recv(int fd, struct mc_msg *m, char *err, size_t errlen);

#endif /* MAICACHE_CTL_MSG_H */
