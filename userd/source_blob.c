// SPDX-License-Identifier: MIT
/*
 * Blob source: an Azure blob pinned to the ETag it had at attach. Every read
 * is one ranged GET with If-Match on that ETag (azure/blob.c), or with
 * blob_split several in parallel, written straight into the pool slot; a
 * changed blob fails the read with -ESTALE.
 * The only file of the daemon that knows Azure: its arguments are the
 * credential (azure/az_cred.h), its shared state the blob client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "az_cred.h"
#include "az_url.h"
#include "blob.h"
#include "key.h"
#include "errmsg.h"
#include "source_kind.h"

struct mc_blob_kind {
	struct mc_blob_client *client;
	size_t split;		/* GETs of at most this many bytes; 0: one */
};

struct mc_source_args {
	struct az_cred cred;
};

struct blob_source {
	struct mc_source s;
	struct mc_blob *blob;
	size_t split;		/* the kind's, for each read */
	/* Until the properties are in. */
	char expect[MC_VERSION_MAX];
	/* The blob's identity in the group, hashed with the ETag once known. */
	char *endpoint, *container, *name;
	mc_source_open_cb open_cb;
	void *open_arg;
};

int mc_blob_kind_new(struct mc_blob_kind **out, struct mc_loop *loop,
		     const struct mc_source_opts *opts, char *err, size_t errlen)
{
	struct mc_blob_kind *k = calloc(1, sizeof(*k));
	struct mc_blob_opts bo;
	int ret;

	if (!k)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	mc_blob_opts_default(&bo);
	bo.max_parallel = opts->max_parallel;
	bo.max_retries = opts->max_retries;
	bo.backoff_base_ms = opts->backoff_base_ms;
	bo.backoff_max_ms = opts->backoff_max_ms;
	bo.request_timeout_ms = opts->request_timeout_ms;
	bo.deadline_ms = opts->read_deadline_ms;
	bo.verify_md5 = opts->verify_md5;
	ret = mc_blob_client_new(&k->client, loop, &bo, err, errlen);
	if (ret) {
		free(k);
		return ret;
	}
	k->split = opts->blob_split;
	*out = k;
	return 0;
}

void mc_blob_kind_free(struct mc_blob_kind *k)
{
	if (!k)
		return;
	mc_blob_client_free(k->client);
	free(k);
}

void mc_blob_kind_stats(const struct mc_blob_kind *k, struct mc_source_stats *out)
{
	struct mc_blob_stats bs;

	mc_blob_client_stats(k->client, &bs);
	out->blob_gets = bs.gets;
	out->blob_heads = bs.heads;
	out->blob_retries = bs.retries;
	out->blob_bytes = bs.bytes;
	out->blob_errors = bs.errors;
	out->blob_stale = bs.stale;
	out->blob_corrupt = bs.corrupt;
	out->blob_unverified = bs.unverified;
}

/* ---- arguments: the credential ---- */

int mc_blob_args_from_msg(const struct mc_msg *m, struct mc_source_args **out,
			  char *err, size_t errlen)
{
	struct mc_source_args *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	ret = az_cred_from_msg(&a->cred, m, "cred.", err, errlen);
	if (ret) {
		mc_blob_args_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int mc_blob_args_to_msg(const struct mc_source_args *a, struct mc_msg *m)
{
	return az_cred_to_msg(&a->cred, m, "cred.");
}

const char *mc_blob_args_auth(const struct mc_source_args *a)
{
	switch (a->cred.kind) {
	case AZ_AUTH_SHARED_KEY:	return "shared-key";
	case AZ_AUTH_SAS:		return "sas";
	case AZ_AUTH_BEARER:		return "bearer";
	case AZ_AUTH_NONE:		break;
	}
	return "none";
}

void mc_blob_args_free(struct mc_source_args *a)
{
	/* The credential held a secret. */
	az_cred_wipe(&a->cred);
	free(a);
}

/* ---- the source ---- */

static int blob_read(struct mc_source *s, uint64_t off, void *dst, size_t len,
		     mc_source_cb cb, void *arg)
{
	struct blob_source *bs = (struct blob_source *)s;

	return mc_blob_read_split(bs->blob, off, dst, len, bs->split, cb, arg);
}

static void blob_close(struct mc_source *s)
{
	struct blob_source *bs = (struct blob_source *)s;

	/* An open still running is cancelled without telling its caller. */
	bs->open_cb = NULL;
	mc_blob_close(bs->blob);
	free(bs->endpoint);
	free(bs->container);
	free(bs->name);
	free(bs);
}

/*
 * Who the blob is for the group: its account's endpoint as written
 * (path-style URLs carry the account in the path), container and name.
 */
static int blob_identity(struct blob_source *bs, const char *url)
{
	struct az_url *u = malloc(sizeof(*u));
	char err[256];
	int ret = -ENOMEM;

	if (!u)
		return ret;
	ret = az_url_parse(url, u, err, sizeof(err));
	if (!ret) {
		ret = asprintf(&bs->endpoint, "%s://%s%s%s", u->https ? "https" : "http",
			       u->host, u->path_style ? "/" : "",
			       u->path_style ? u->account : "") < 0 ? -ENOMEM : 0;
		if (ret)
			bs->endpoint = NULL;
	}
	if (!ret) {
		bs->container = strdup(u->container);
		bs->name = strdup(u->blob);
		ret = bs->container && bs->name ? 0 : -ENOMEM;
	}
	free(u);
	return ret;
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
	/* Without an identity (no ETag) the blob is simply not shared. */
	bs->s.shared = bs->endpoint && !mc_blob_digest(bs->endpoint, bs->container, bs->name,
						       props->etag, bs->s.ident);
	bs->open_cb(bs->open_arg, 0, &bs->s, NULL);
}

int mc_blob_source_open(struct mc_blob_kind *k, const char *url,
			const struct mc_source_args *args,
			const char *expect_version, mc_source_open_cb cb,
			void *arg, struct mc_source **pending,
			char *err, size_t errlen)
{
	static const struct mc_source_args anonymous;
	struct blob_source *bs;
	int ret;

	bs = calloc(1, sizeof(*bs));
	if (!bs)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	bs->s.ops = &blob_ops;
	bs->split = k->split;
	bs->open_cb = cb;
	bs->open_arg = arg;
	if (expect_version)
		snprintf(bs->expect, sizeof(bs->expect), "%s", expect_version);
	ret = mc_blob_open(k->client, url, &(args ? args : &anonymous)->cred,
			   &bs->blob, err, errlen);
	if (ret) {
		free(bs);
		return ret;
	}
	if (blob_identity(bs, url)) {
		blob_close(&bs->s);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	ret = mc_blob_get_props(bs->blob, blob_props_done, bs);
	if (ret) {
		blob_close(&bs->s);
		return mc_errf(err, errlen, ret, "cannot start Get Blob Properties: %s",
			       strerror(-ret));
	}
	*pending = &bs->s;
	return 0;
}
