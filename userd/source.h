/* SPDX-License-Identifier: MIT */
/*
 * What backs a device: a source reads byte ranges of one immutable version
 * of the data into caller memory (a pool slot). Two kinds:
 *
 *   file  a local file or block device, read with O_DIRECT (source_file.c)
 *   blob  an Azure blob, ranged GETs pinned to one ETag (source_blob.c)
 *
 * Reads complete through the event loop, never inside the call.
 */
#ifndef MAICACHE_SOURCE_H
#define MAICACHE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "az_cred.h"
#include "blob.h"
#include "loop.h"

struct mc_source;

/* res: 0 (all len bytes written to dst) or a negative errno with msg. */
typedef void (*mc_source_cb)(void *arg, int res, const char *msg);

struct mc_source_ops {
	const char *kind;
	int (*read)(struct mc_source *s, uint64_t off, void *dst, size_t len,
		    mc_source_cb cb, void *arg);
	void (*close)(struct mc_source *s);
};

struct mc_source {
	const struct mc_source_ops *ops;
	uint64_t size;		/* bytes of data; reads past it get zeros */
	char version[128];	/* blob: the pinned ETag; file: empty */
};

/* True for "file:///..." and absolute paths. */
int mc_source_is_file(const char *url);

/* Open a file source now; its size comes from fstat or BLKGETSIZE64. */
int mc_source_file_open(struct mc_loop *loop, const char *url,
			struct mc_source **out, char *err, size_t errlen);

/*
 * Open a blob source: Get Blob Properties runs in the background and cb gets
 * the result (the source on success). expect_etag, when not NULL or empty,
 * is the version the device was attached with: a different one fails with
 * -ESTALE. *pending is the source while it opens: mc_source_close() on it
 * cancels the open, and cb is then never called.
 */
typedef void (*mc_source_open_cb)(void *arg, int res, struct mc_source *s,
				  const char *msg);
int mc_source_blob_open(struct mc_blob_client *client, const char *url,
			const struct az_cred *cred, const char *expect_etag,
			mc_source_open_cb cb, void *arg, struct mc_source **pending,
			char *err, size_t errlen);

static inline int mc_source_read(struct mc_source *s, uint64_t off, void *dst,
				 size_t len, mc_source_cb cb, void *arg)
{
	return s->ops->read(s, off, dst, len, cb, arg);
}

static inline void mc_source_close(struct mc_source *s)
{
	if (s)
		s->ops->close(s);
}

#endif /* MAICACHE_SOURCE_H */
