// SPDX-License-Identifier: MIT
/*
 * Blob source: an Azure blob pinned to the ETag it had at attach. Every read
 * is one ranged GET with If-Match on that ETag (blob.c), written straight
 * into the pool slot; a changed blob fails the read with -ESTALE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

struct blob_source {
	struct mc_source s;
	struct mc_blob *blob;
	/* Until the properties are in. */
	char expect[128];
	mc_source_open_cb open_cb;
	void *open_arg;
};

struct blob_read {
	uint8_t *dst;
	size_t len, want;
	mc_source_cb cb;
	void *arg;
};

static void blob_read_done(void *arg, int res, const char *msg)
{
	struct blob_read *rd = arg;

	if (!res && rd->want < rd->len)
		memset(rd->dst + rd->want, 0, rd->len - rd->want);
	rd->cb(rd->arg, res, msg);
	free(rd);
}

static int blob_read(struct mc_source *s, uint64_t off, void *dst, size_t len,
		     mc_source_cb cb, void *arg)
{
	struct blob_source *bs = (struct blob_source *)s;
	struct blob_read *rd;
	int ret;

	if (off >= s->size)
		return -ERANGE;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->dst = dst;
	rd->len = len;
	/* The device is the blob rounded up to whole blocks: zeros after it. */
	rd->want = s->size - off < len ? s->size - off : len;
	rd->cb = cb;
	rd->arg = arg;
	ret = mc_blob_read(bs->blob, off, dst, rd->want, blob_read_done, rd);
	if (ret)
		free(rd);
	return ret;
}

static void blob_close(struct mc_source *s)
{
	struct blob_source *bs = (struct blob_source *)s;

	/* An open still running is cancelled without telling its caller. */
	bs->open_cb = NULL;
	mc_blob_close(bs->blob);
	free(bs);
}

static const struct mc_source_ops blob_ops = {
	.kind	= "blob",
	.read	= blob_read,
	.close	= blob_close,
};

static void blob_props_done(void *arg, int res,
			    const struct mc_blob_props *props, const char *msg)
{
	struct blob_source *bs = arg;
	char buf[512];

	if (!bs->open_cb)
		return;		/* cancelled by blob_close() */
	if (!res && !props->size) {
		res = -EINVAL;
		msg = "the blob is empty: nothing to serve";
	}
	if (!res && bs->expect[0] && strcmp(bs->expect, props->etag)) {
		snprintf(buf, sizeof(buf),
			 "the blob changed since it was attached (ETag %s, now %s)",
			 bs->expect, props->etag);
		res = -ESTALE;
		msg = buf;
	}
	if (res) {
		mc_source_open_cb cb = bs->open_cb;
		void *cb_arg = bs->open_arg;

		/* The caller forgets the pending source when told. */
		blob_close(&bs->s);
		cb(cb_arg, res, NULL, msg);
		return;
	}
	mc_blob_pin(bs->blob, props);
	bs->s.size = props->size;
	snprintf(bs->s.version, sizeof(bs->s.version), "%s", props->etag);
	bs->open_cb(bs->open_arg, 0, &bs->s, NULL);
}

int mc_source_blob_open(struct mc_blob_client *client, const char *url,
			const struct az_cred *cred, const char *expect_etag,
			mc_source_open_cb cb, void *arg, struct mc_source **pending,
			char *err, size_t errlen)
{
	struct blob_source *bs;
	int ret;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	bs->s.ops = &blob_ops;
	bs->open_cb = cb;
	bs->open_arg = arg;
	if (expect_etag)
		snprintf(bs->expect, sizeof(bs->expect), "%s", expect_etag);
	ret = mc_blob_open(client, url, cred, &bs->blob, err, errlen);
	if (ret) {
		free(bs);
		return ret;
	}
	ret = mc_blob_get_props(bs->blob, blob_props_done, bs);
	if (ret) {
		snprintf(err, errlen, "cannot start Get Blob Properties: %s",
			 strerror(-ret));
		blob_close(&bs->s);
		return ret;
	}
	*pending = &bs->s;
	return 0;
}
