// SPDX-License-Identifier: MIT
/*
 * Volumes of maicached: one per /dev/maicacheN it serves, each backed by a
 * source. A volume is attached by a request (maicachectl attach), recorded
 * in the state directory, re-attached after a restart (the module kept the
 * device and its cached extents), marked stale when its source changes, and
 * detached by a request.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ctl_server.h"
#include "cred.h"
#include "daemon.h"
#include "state.h"

/* Device sizes are whole 4 KiB blocks; the tail past the data reads zeros. */
#define DEV_SIZE_ALIGN 4096ULL

const char *mc_vol_state_name(enum mc_vol_state s)
{
	switch (s) {
	case MC_VOL_OPENING:	return "opening";
	case MC_VOL_READY:	return "ready";
	case MC_VOL_STALE:	return "stale";
	case MC_VOL_FAILED:	return "failed";
	case MC_VOL_DETACHING:	return "detaching";
	}
	return "?";
}

struct mc_vol *mc_vol_by_cookie(struct mc_daemon *d, uint64_t cookie)
{
	struct mc_vol *v;

	for (v = d->vols; v; v = v->next)
		if (v->cookie == cookie && v->state != MC_VOL_DETACHING)
			return v;
	return NULL;
}

struct mc_vol *mc_vol_find(struct mc_daemon *d, const char *what)
{
	const char *num = what;
	struct mc_vol *v;
	char *end;
	unsigned long id;

	if (!strncmp(num, "/dev/", 5))
		num += 5;
	if (!strncmp(num, "maicache", 8))
		num += 8;
	errno = 0;
	id = strtoul(num, &end, 10);
	for (v = d->vols; v; v = v->next) {
		if (v->state == MC_VOL_DETACHING)
			continue;
		if (*num && !*end && !errno && v->has_dev && v->dev_id == id)
			return v;
		if ((v->name[0] && !strcmp(v->name, what)) ||
		    !strcmp(v->shown_url, what) || !strcmp(v->url, what))
			return v;
	}
	return NULL;
}

/* The URL without its query: a SAS token is a secret. */
static void shown_url(const char *url, char *out, size_t len)
{
	size_t n = strcspn(url, "?");

	snprintf(out, len, "%.*s", (int)n, url);
}

static struct mc_vol *vol_new(struct mc_daemon *d)
{
	struct mc_vol *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->d = d;
	v->next = d->vols;
	d->vols = v;
	return v;
}

static void vol_free(struct mc_vol *v)
{
	struct mc_vol **p;

	for (p = &v->d->vols; *p; p = &(*p)->next) {
		if (*p == v) {
			*p = v->next;
			break;
		}
	}
	mc_source_close(v->src);
	mc_source_close(v->opening);
	free(v->held);
	/* The credential held a secret. */
	explicit_bzero(&v->cred, sizeof(v->cred));
	free(v);
}

void mc_vol_free_all(struct mc_daemon *d)
{
	while (d->vols) {
		if (d->vols->waiter) {
			mc_ctl_reply_error(d->vols->waiter, -ESHUTDOWN, "maicached is stopping");
			mc_ctl_done(d->vols->waiter);
			d->vols->waiter = NULL;
		}
		vol_free(d->vols);
	}
}

void mc_vol_fill_done(struct mc_vol *v)
{
	if (v->state == MC_VOL_DETACHING && !v->inflight)
		vol_free(v);
}

static void vol_to_record(const struct mc_vol *v, struct mc_dev_record *r)
{
	memset(r, 0, sizeof(*r));
	r->cookie = v->cookie;
	r->dev_id = v->dev_id;
	snprintf(r->name, sizeof(r->name), "%s", v->name);
	snprintf(r->url, sizeof(r->url), "%s", v->url);
	r->extent_size = v->extent_size;
	r->size = v->dev_size;
	snprintf(r->etag, sizeof(r->etag), "%s", v->etag);
	r->stale = v->state == MC_VOL_STALE;
	r->cred = v->cred;
}

static int vol_save(struct mc_vol *v)
{
	struct mc_dev_record *r = malloc(sizeof(*r));
	char err[512];
	int ret;

	if (!r)
		return -ENOMEM;
	vol_to_record(v, r);
	ret = mc_state_save(v->d->cfg.state_dir, r, err, sizeof(err));
	explicit_bzero(r, sizeof(*r));
	free(r);
	if (ret)
		mc_log(v->d, 0, "/dev/maicache%u: cannot record the volume: %s", v->dev_id, err);
	return ret;
}

void mc_vol_mark_stale(struct mc_vol *v, const char *msg)
{
	char err[256];

	if (v->state == MC_VOL_STALE || v->state == MC_VOL_DETACHING)
		return;
	v->state = MC_VOL_STALE;
	mc_log(v->d, 0, "/dev/maicache%u (%s) is stale: %s (its misses fail with EIO from now on)",
	       v->dev_id, v->shown_url, msg ? msg : "the source changed");
	snprintf(v->last_error, sizeof(v->last_error), "%s", msg ? msg : "the source changed");
	/* The kernel fails further misses at once and tells the listeners. */
	if (v->has_dev && mc_nl_dev_set_stale(v->d->nl, v->dev_id, err, sizeof(err)))
		mc_log(v->d, 1, "/dev/maicache%u: cannot mark the device stale: %s",
		       v->dev_id, err);
	vol_save(v);
}

static uint64_t new_cookie(struct mc_daemon *d)
{
	uint64_t c = 0;

	do {
		if (getrandom(&c, sizeof(c), 0) != sizeof(c))
			c = mc_now_ns() ^ ((uint64_t)getpid() << 32);
	} while (!c || mc_vol_by_cookie(d, c));
	return c;
}

/* ------------------------------------------------------------------------ */
/* Attach. */

static void reply_attached(struct mc_vol *v)
{
	struct mc_msg *m = malloc(sizeof(*m));

	if (m) {
		mc_msg_init(m);
		mc_msg_add(m, "ok", "1");
		mc_msg_addf(m, "dev", "/dev/maicache%u", v->dev_id);
		mc_msg_add_u64(m, "id", v->dev_id);
		mc_msg_add_u64(m, "size", v->dev_size);
		mc_msg_add_u64(m, "data_size", v->src->size);
		mc_msg_add(m, "etag", v->etag);
		mc_ctl_reply(v->waiter, m);
		free(m);
	}
	mc_ctl_done(v->waiter);
	v->waiter = NULL;
}

static void attach_fail(struct mc_vol *v, int err, const char *msg)
{
	mc_log(v->d, 1, "attach %s failed: %s", v->shown_url, msg);
	mc_ctl_reply_error(v->waiter, err, msg);
	mc_ctl_done(v->waiter);
	v->waiter = NULL;
	vol_free(v);
}

/* A new attach: the source is open; make the device and record it. */
static void attach_opened(struct mc_vol *v, struct mc_source *src)
{
	struct mc_dev_spec spec = { 0 };
	struct mc_dev_info info;
	char err[512];
	int ret;

	v->src = src;
	snprintf(v->etag, sizeof(v->etag), "%s", src->version);
	v->dev_size = (src->size + DEV_SIZE_ALIGN - 1) / DEV_SIZE_ALIGN * DEV_SIZE_ALIGN;
	v->cookie = new_cookie(v->d);
	spec.size = v->dev_size;
	spec.extent_size = v->extent_size;
	spec.cookie = v->cookie;
	spec.has_id = v->has_dev;	/* an explicit id= */
	spec.id = v->dev_id;
	ret = mc_nl_dev_add(v->d->nl, &spec, &info, err, sizeof(err));
	if (ret) {
		attach_fail(v, ret, err);
		return;
	}
	v->dev_id = info.id;
	v->extent_size = info.extent_size;
	v->has_dev = true;
	v->state = MC_VOL_READY;
	if (vol_save(v)) {
		mc_nl_dev_del(v->d->nl, v->dev_id, err, sizeof(err));
		attach_fail(v, -EIO, "cannot record the volume in the state directory (see the daemon's log)");
		return;
	}
	mc_log(v->d, 2, "attached %s as /dev/maicache%u (%" PRIu64 " bytes, ETag %s)",
	       v->shown_url, v->dev_id, src->size, v->etag[0] ? v->etag : "-");
	reply_attached(v);
}

/* A restored volume: its source is open (or not); serve what was held. */
static void restore_opened(struct mc_vol *v, int res, struct mc_source *src,
			   const char *msg)
{
	if (!res && src->size > v->dev_size) {
		mc_source_close(src);
		res = -ESTALE;
		msg = "the source grew since it was attached";
	}
	if (res == -ESTALE) {
		mc_vol_mark_stale(v, msg);
	} else if (res) {
		v->state = MC_VOL_FAILED;
		snprintf(v->last_error, sizeof(v->last_error), "%s", msg);
		mc_log(v->d, 0, "/dev/maicache%u (%s): cannot reopen the source: %s; its misses fail",
		       v->dev_id, v->shown_url, msg);
	} else {
		v->src = src;
		v->state = MC_VOL_READY;
		mc_log(v->d, 2, "re-attached %s as /dev/maicache%u", v->shown_url, v->dev_id);
	}
	mc_fill_release_held(v);
}

static void source_opened(void *arg, int res, struct mc_source *src,
			  const char *msg)
{
	struct mc_vol *v = arg;

	v->opening = NULL;
	if (v->waiter) {
		if (res)
			attach_fail(v, res, msg);
		else
			attach_opened(v, src);
		return;
	}
	restore_opened(v, res, src, msg);
}

/* Open v's source; the result arrives in source_opened(). */
static int vol_open_source(struct mc_vol *v, const char *expect_etag,
			   char *err, size_t errlen)
{
	struct mc_source *src;
	int ret;

	if (mc_source_is_file(v->url)) {
		ret = mc_source_file_open(v->d->loop, v->url, &src, err, errlen);
		if (!ret)
			source_opened(v, 0, src, NULL);
		return ret;
	}
	return mc_source_blob_open(v->d->blob, v->url, &v->cred, expect_etag,
				   source_opened, v, &v->opening, err, errlen);
}

static int attach_parse(struct mc_vol *v, const struct mc_msg *req, char *err,
			size_t errlen)
{
	const char *url = mc_msg_get(req, "url"), *name = mc_msg_get(req, "name");
	uint64_t n;
	int ret;

	if (!url || !*url)
		return snprintf(err, errlen, "attach needs url="), -EINVAL;
	if (strlen(url) >= sizeof(v->url))
		return snprintf(err, errlen, "the URL is too long"), -ENAMETOOLONG;
	strcpy(v->url, url);
	shown_url(url, v->shown_url, sizeof(v->shown_url));
	if (name && strlen(name) >= sizeof(v->name))
		return snprintf(err, errlen, "--name: at most %zu characters",
				sizeof(v->name) - 1), -EINVAL;
	if (name)
		strcpy(v->name, name);
	v->extent_size = MAICACHE_EXTENT_SIZE_DEFAULT;
	ret = mc_msg_get_u64(req, "extent_size", &n);
	if (!ret) {
		if (n < MAICACHE_EXTENT_SIZE_MIN || n > MAICACHE_EXTENT_SIZE_MAX || (n & (n - 1)))
			return snprintf(err, errlen,
					"--extent-size: a power of two from 64K to 4M"), -EINVAL;
		v->extent_size = (uint32_t)n;
	} else if (ret != -ENOENT) {
		return snprintf(err, errlen, "extent_size: not a number"), -EINVAL;
	}
	ret = mc_msg_get_u64(req, "id", &n);
	if (!ret) {
		v->dev_id = (uint32_t)n;
		v->has_dev = true;	/* asks for this id; cleared on failure */
	}
	/* A file needs no credential. */
	if (mc_source_is_file(url))
		return 0;
	return az_cred_from_msg(&v->cred, req, "cred.", err, errlen);
}

void mc_vol_attach(struct mc_daemon *d, struct mc_ctl_conn *c,
		   const struct mc_msg *req)
{
	struct mc_vol *v = vol_new(d), *other;
	char err[512];
	int ret;

	if (!v) {
		mc_ctl_reply_error(c, -ENOMEM, "out of memory");
		mc_ctl_done(c);
		return;
	}
	v->waiter = c;
	ret = attach_parse(v, req, err, sizeof(err));
	if (ret) {
		attach_fail(v, ret, err);
		return;
	}
	for (other = d->vols; other; other = other->next) {
		if (other == v || other->state == MC_VOL_DETACHING)
			continue;
		if (!strcmp(other->shown_url, v->shown_url) ||
		    (v->name[0] && !strcmp(other->name, v->name))) {
			snprintf(err, sizeof(err), "%.300s is already attached as /dev/maicache%u%s%.64s",
				 other->shown_url, other->dev_id,
				 other->name[0] ? " named " : "", other->name);
			attach_fail(v, -EEXIST, err);
			return;
		}
	}
	ret = vol_open_source(v, NULL, err, sizeof(err));
	if (ret && v->waiter)
		attach_fail(v, ret, err);
}

/* ------------------------------------------------------------------------ */
/* Detach. */

int mc_vol_detach(struct mc_vol *v, char *err, size_t errlen)
{
	struct mc_daemon *d = v->d;
	int ret;

	if (v->waiter)
		return snprintf(err, errlen, "the volume is still being attached"), -EBUSY;
	/* Its source's answer is on the way and names this volume. */
	if (v->state == MC_VOL_OPENING)
		return snprintf(err, errlen,
				"the volume is still opening its source: try again in a moment"),
		       -EBUSY;
	if (v->has_dev) {
		ret = mc_nl_dev_del(d->nl, v->dev_id, err, errlen);
		if (ret && ret != -ENODEV)
			return ret;
	}
	ret = mc_state_remove(d->cfg.state_dir, v->cookie, err, errlen);
	if (ret)
		mc_log(d, 1, "/dev/maicache%u: %s", v->dev_id, err);
	mc_log(d, 2, "detached /dev/maicache%u (%s)", v->dev_id, v->shown_url);
	v->has_dev = false;
	/* Held misses belong to a device that is gone: the kernel failed them. */
	free(v->held);
	v->held = NULL;
	v->nheld = v->held_cap = 0;
	v->state = MC_VOL_DETACHING;
	if (!v->inflight)
		vol_free(v);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Restore after a restart. */

struct restore_ctx {
	struct mc_daemon *d;
	unsigned int n, failed;
};

/* Make the device again if the module lost it (reloaded, host rebooted). */
static int restore_device(struct mc_vol *v)
{
	struct mc_dev_spec spec = { 0 };
	struct mc_dev_info info;
	char err[512];
	int ret;

	ret = mc_nl_dev_get(v->d->nl, v->dev_id, &info, err, sizeof(err));
	if (!ret && info.cookie == v->cookie) {
		v->has_dev = true;
		if (info.stale)
			v->state = MC_VOL_STALE;
		return 0;
	}
	spec.size = v->dev_size;
	spec.extent_size = v->extent_size;
	spec.cookie = v->cookie;
	/* The same N if it is free, so that mounts in fstab keep working. */
	spec.has_id = ret == -ENODEV;
	spec.id = v->dev_id;
	ret = mc_nl_dev_add(v->d->nl, &spec, &info, err, sizeof(err));
	if (ret) {
		mc_log(v->d, 0, "%s: cannot create its device again: %s", v->shown_url, err);
		return ret;
	}
	if (info.id != v->dev_id)
		mc_log(v->d, 1, "%s: /dev/maicache%u was taken: now /dev/maicache%u",
		       v->shown_url, v->dev_id, info.id);
	v->dev_id = info.id;
	v->has_dev = true;
	return vol_save(v);
}

static void restore_one(void *arg, const char *path,
			const struct mc_dev_record *r, const char *error)
{
	struct restore_ctx *ctx = arg;
	struct mc_vol *v;
	char err[512];
	int ret;

	if (!r) {
		mc_log(ctx->d, 0, "state: skipping %s: %s", path, error);
		return;
	}
	v = vol_new(ctx->d);
	if (!v)
		return;
	ctx->n++;
	v->cookie = r->cookie;
	v->dev_id = r->dev_id;
	snprintf(v->name, sizeof(v->name), "%s", r->name);
	snprintf(v->url, sizeof(v->url), "%s", r->url);
	shown_url(v->url, v->shown_url, sizeof(v->shown_url));
	v->extent_size = r->extent_size;
	v->dev_size = r->size;
	snprintf(v->etag, sizeof(v->etag), "%s", r->etag);
	v->cred = r->cred;
	v->state = r->stale ? MC_VOL_STALE : MC_VOL_OPENING;
	if (restore_device(v)) {
		ctx->failed++;
		vol_free(v);
		return;
	}
	if (v->state == MC_VOL_STALE)
		return;
	ret = vol_open_source(v, v->etag, err, sizeof(err));
	if (ret) {
		v->state = MC_VOL_FAILED;
		snprintf(v->last_error, sizeof(v->last_error), "%.255s", err);
		mc_log(ctx->d, 0, "/dev/maicache%u (%s): %s", v->dev_id, v->shown_url, err);
	}
}

int mc_vol_restore(struct mc_daemon *d)
{
	struct restore_ctx ctx = { .d = d };
	char err[512];
	int ret;

	ret = mc_state_load_all(d->cfg.state_dir, restore_one, &ctx, err, sizeof(err));
	if (ret < 0) {
		mc_log(d, 0, "%s", err);
		return ret;
	}
	if (ctx.n)
		mc_log(d, 2, "restoring %u volume(s) from %s%s", ctx.n, d->cfg.state_dir,
		       ctx.failed ? " (some failed: see above)" : "");
	return 0;
}
