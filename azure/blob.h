/* SPDX-License-Identifier: MIT */
/*
 * Azure Blob client of maicached: Get Blob Properties and ranged Get Blob,
 * on libcurl's multi interface driven by the daemon's event loop (one multi
 * handle per client, connections reused across requests).
 *
 * Every ranged read sends If-Match with the ETag pinned at attach, so all
 * extents of a device come from one version of the blob: a changed blob
 * answers 412 and the read fails with -ESTALE. Reads retry with exponential
 * backoff and jitter on 5xx, 408/429, timeouts, connection errors, bodies
 * cut short and bodies that fail their MD5, up to the options' limits (a
 * Retry-After of the service is a floor on the wait; one that reaches past
 * the deadline fails the read at once); other errors fail at once.
 *
 * Bodies are checked end to end (verify_md5): a read of up to 4 MiB asks
 * for the range's Content-MD5 (x-ms-range-get-content-md5) and must get
 * one that matches the bytes; a longer read is checked against the blob's
 * stored MD5 only when it is the whole blob and the blob has one, else only
 * its Content-Range and length are (counted in stats.unverified). The
 * stored MD5 is what the uploader set (the service does not check it on Put
 * Block List): a wrong one fails whole-blob reads over 4 MiB with -EIO.
 * The daemon's fills are one extent (at most 4 MiB), always range-checked.
 *
 * Results are 0 or a negative errno, always with a message for the user:
 *   -ENOENT     404 (BlobNotFound, ContainerNotFound)
 *   -EACCES     401/403 (authentication failed, SAS expired, no permission)
 *   -ENXIO      unknown account (name does not resolve, InvalidAccount...)
 *   -ESTALE     412: the blob changed since it was attached
 *   -ERANGE     416: range outside the blob
 *   -ETIMEDOUT  retries exhausted on timeouts / no connection
 *   -EIO        retries exhausted on 5xx, on bodies cut short or failing
 *               their MD5, on connection resets; or an unexpected status
 *   -EPROTO     a response that breaks the protocol (wrong Content-Range,
 *               a total other than the pinned size, a body longer than
 *               asked, missing ETag); not retried
 *   -ECANCELED  the request was cancelled (mc_blob_close / client free)
 */
#ifndef MAICACHE_BLOB_H
#define MAICACHE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "az_cred.h"
#include "loop.h"

struct mc_blob_client;
struct mc_blob;

struct mc_blob_opts {
	unsigned int max_parallel;	/* requests in flight per client (16) */
	unsigned int max_retries;	/* after the first attempt (5) */
	uint64_t backoff_base_ms;	/* first retry delay before jitter (100) */
	uint64_t backoff_max_ms;	/* cap of one delay (5000) */
	uint64_t request_timeout_ms;	/* one attempt, connect to last byte (30000) */
	uint64_t deadline_ms;		/* one read, all attempts; 0: none (60000) */
	bool verify_md5;		/* check bodies against their MD5 (true) */
	bool verbose;			/* curl's own trace to stderr */
};

/* Fill o with the defaults above. */
void mc_blob_opts_default(struct mc_blob_opts *o);

struct mc_blob_stats {
	uint64_t gets;		/* ranged GETs sent, retries included */
	uint64_t heads;		/* property requests sent */
	uint64_t retries;
	uint64_t bytes;		/* body bytes received into caller buffers */
	uint64_t errors;	/* reads that failed after all retries */
	uint64_t stale;		/* 412 answers */
	uint64_t corrupt;	/* bodies that failed their MD5 check (retried) */
	uint64_t unverified;	/* reads that succeeded with no MD5 to check */
};

struct mc_blob_props {
	uint64_t size;
	char etag[128];		/* as sent by the service, quotes included */
};

typedef void (*mc_blob_props_cb)(void *arg, int res,
				 const struct mc_blob_props *props,
				 const char *msg);
typedef void (*mc_blob_read_cb)(void *arg, int res, const char *msg);

int mc_blob_client_new(struct mc_blob_client **out, struct mc_loop *loop,
		       const struct mc_blob_opts *opts, char *err, size_t errlen);
/*
 * Cancels everything outstanding and frees. The -ECANCELED callbacks run
 * inside this call, before the memory goes away.
 */
void mc_blob_client_free(struct mc_blob_client *c);
void mc_blob_client_stats(const struct mc_blob_client *c,
			  struct mc_blob_stats *out);

/*
 * Parse url (http or https; the account is the first label of a
 * *.blob.* host, else the first path segment, as with Azurite's
 * http://127.0.0.1:10000/devstoreaccount1/container/blob) and bind cred.
 * A SAS in the URL's query is used when cred is NONE. No I/O.
 */
int mc_blob_open(struct mc_blob_client *c, const char *url,
		 const struct az_cred *cred, struct mc_blob **out,
		 char *err, size_t errlen);
/*
 * Cancels the blob's outstanding requests and frees it; their -ECANCELED
 * callbacks run inside this call. Safe from inside the blob's own callback.
 */
void mc_blob_close(struct mc_blob *b);
void mc_blob_stats(const struct mc_blob *b, struct mc_blob_stats *out);

/* Get Blob Properties (HEAD), retried like reads. */
int mc_blob_get_props(struct mc_blob *b, mc_blob_props_cb cb, void *arg);
/* Pin the version every later read must match (If-Match). */
void mc_blob_pin(struct mc_blob *b, const struct mc_blob_props *props);

/*
 * Read [off, off + len) into dst (any memory, the pool mapping included);
 * the pinned size bounds the range (past it: -ERANGE through cb). cb runs
 * exactly once, from the loop, never from inside this call; dst must stay
 * valid until then. Bytes land in dst as they arrive: dst holds the blob's
 * bytes when res is 0 and undefined bytes otherwise (a failed or retried
 * attempt may have written part of a bad body), so on failure the caller
 * must not use it. Returns a negative errno, and then never calls cb, only
 * for bad arguments or a closing blob. Before mc_blob_pin() reads go out
 * without If-Match and without a size bound.
 *
 * Shared Key signs the encoded URI path, as the service does; SAS and
 * bearer tokens are never logged.
 */
int mc_blob_read(struct mc_blob *b, uint64_t off, void *dst, size_t len,
		 mc_blob_read_cb cb, void *arg);

/*
 * The same read as mc_blob_read(), as ranged GETs of at most @piece bytes
 * in parallel (one when @piece is 0 or not below @len): on a service whose
 * one connection runs slower than the client's link, a large extent lands
 * sooner in pieces. Each piece is retried and verified on its own, as any
 * read (and a piece of up to 4 MiB always has its MD5 checked). cb runs
 * once, after every piece has ended: 0 if all succeeded, else the first
 * failure's result and message (dst is then not to be used). Pieces count
 * among the client's max_parallel like any read. Returns a negative errno,
 * and then never calls cb, when not even the first piece could be started.
 */
int mc_blob_read_split(struct mc_blob *b, uint64_t off, void *dst, size_t len,
		       size_t piece, mc_blob_read_cb cb, void *arg);

#endif /* MAICACHE_BLOB_H */
