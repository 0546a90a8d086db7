/* SPDX-License-Identifier: MIT */
/*
 * What backs a device: a source reads byte ranges of one immutable version
 * of the data into caller memory (a pool slot). Two kinds, chosen by URL:
 *
 *   file  a local file or block device, read with O_DIRECT (source_file.c)
 *   blob  an Azure blob, ranged GETs pinned to one ETag (source_blob.c)
 *
 * This header is the daemon core's whole view of sources: volumes, fills,
 * state records and the control server use it and no header of a kind's
 * own (no Azure type reaches them). What a kind needs beyond its URL (a
 * blob's credential) travels as opaque struct mc_source_args, carried in
 * control messages and state records as fields under "cred.".
 *
 * Reads complete through the event loop, never inside the call.
 */
#ifndef MAICACHE_SOURCE_H
#define MAICACHE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "maicache_peer.h"

struct mc_msg;
struct mc_source;
struct mc_source_args;
struct mc_sources;

/* A URL as attached, query included (a SAS may be in it: never logged). */
#define MC_URL_MAX		16384
#define MC_VERSION_MAX		128	/* an ETag, quotes included */

/* res: 0 (all len bytes written to dst) or a negative errno with msg. */
typedef void (*mc_source_cb)(void *arg, int res, const char *msg);

struct mc_source_ops {
	const char *kind;
	/*
	 * Read [off, off + len) of the data, all within it, into dst, which
	 * holds len rounded up to 4 KiB. Returns 0 (cb runs later, once) or a
	 * negative errno (cb never runs).
	 */
	int (*read)(struct mc_source *s, uint64_t off, void *dst, size_t len,
		    mc_source_cb cb, void *arg);
	void (*close)(struct mc_source *s);
};

struct mc_source {
	const struct mc_source_ops *ops;
	uint64_t size;			/* bytes of data */
	char version[MC_VERSION_MAX];	/* blob: the pinned ETag; file: "" */
	/*
	 * Set by kinds whose bytes are the same on every node (blob): their
	 * identity across the cache group (peer/key.h, mc_blob_digest()).
	 */
	bool shared;
	uint8_t ident[MAICACHE_PEER_DIGEST_SIZE];
};

/* A read in progress, in the caller's memory (a fill): nothing allocated. */
struct mc_source_req {
	uint8_t *dst;
	size_t len;		/* asked for */
	size_t want;		/* of it, bytes of data; zeros after */
	mc_source_cb cb;
	void *arg;
};

/* The source kinds' shared state: one per daemon. */
struct mc_source_opts {
	unsigned int max_parallel;	/* blob requests in flight */
	unsigned int max_retries;
	uint64_t backoff_base_ms, backoff_max_ms;
	uint64_t request_timeout_ms;
	uint64_t read_deadline_ms;	/* 0: none */
	bool verify_md5;		/* blob bodies against their MD5 */
	uint64_t blob_split;		/* a blob read in GETs of this many bytes; 0: one */
	bool file_parallel;		/* a regular file's reads on several threads */
	uint64_t file_split;		/* a file read in reads of this many bytes; 0: one */
};

struct mc_source_stats {
	uint64_t blob_gets, blob_heads, blob_retries, blob_bytes;
	uint64_t blob_errors, blob_stale;
	uint64_t blob_corrupt, blob_unverified;
};

int mc_sources_new(struct mc_sources **out, struct mc_loop *loop,
		   const struct mc_source_opts *opts, char *err, size_t errlen);
/* Cancels what is outstanding (-ECANCELED callbacks run inside) and frees. */
void mc_sources_free(struct mc_sources *ss);
void mc_sources_stats(const struct mc_sources *ss, struct mc_source_stats *out);

/* True for "file:///..." and absolute paths. */
bool mc_source_is_file(const char *url);

/*
 * The arguments of url's kind from the fields under "cred." of an attach
 * request or state record: *out NULL for a kind that takes none (file),
 * else allocated. Every field is checked (unknown ones refused). 0 or
 * -EINVAL / -ENOMEM with a message naming the field.
 */
int mc_source_args_from_msg(const char *url, const struct mc_msg *m,
			    struct mc_source_args **out, char *err, size_t errlen);
/* The same fields back into m (nothing for NULL): 0 or mc_msg_add()'s error. */
int mc_source_args_to_msg(const struct mc_source_args *a, struct mc_msg *m);
/* How the source authenticates, for lists: "shared-key", "sas", "bearer", "none". */
const char *mc_source_args_auth(const struct mc_source_args *a);
/* Wipe (secrets) and free; NULL is fine. */
void mc_source_args_free(struct mc_source_args *a);

/*
 * Open url's source. cb gets the result (the source on success), and may
 * run inside this call (file) or later from the loop (blob: Get Blob
 * Properties first). expect_version, when not NULL or empty, is the version
 * the device was attached with: a different one fails with -ESTALE.
 * *pending is the source while it opens: mc_source_close() on it cancels
 * the open, and cb is then never called. Returns 0 or a negative errno with
 * a message, and then cb never runs.
 */
typedef void (*mc_source_open_cb)(void *arg, int res, struct mc_source *s,
				  const char *msg);
int mc_source_open(struct mc_sources *ss, const char *url,
		   const struct mc_source_args *args, const char *expect_version,
		   mc_source_open_cb cb, void *arg, struct mc_source **pending,
		   char *err, size_t errlen);

/*
 * Read [off, off + len) of the device backed by s into dst through rq:
 * bytes past the end of the data read as zeros (the device is the data
 * rounded up to whole blocks). dst holds len, a multiple of 4 KiB. Returns
 * 0 (cb runs later, once) or a negative errno: -ERANGE for off past the
 * data, or the kind's own error (cb never runs).
 */
int mc_source_read(struct mc_source *s, struct mc_source_req *rq, uint64_t off,
		   void *dst, size_t len, mc_source_cb cb, void *arg);

static inline void mc_source_close(struct mc_source *s)
{
	if (s)
		s->ops->close(s);
}

#endif /* MAICACHE_SOURCE_H */
