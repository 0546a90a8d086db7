// SPDX-License-Identifier: MIT
/*
 * Volumes of maicached: one per /dev/maicacheN it serves, each backed by a
 * source. A volume is attached by a request (maicachectl attach), recorded
 * in the state directory, re-attached after a restart (the module kept the
 * device and its cached extents), marked stale when its source changes, and
 * detached by a request. Requests come from the control server through
 * mc_vol_attach()/mc_vol_detach(); this file knows nothing of its protocol.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "daemon.h"
#include "dev_claim.h"
#include "errmsg.h"
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

	mc_list_for_each(v, &d->vols, link)
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
	mc_list_for_each(v, &d->vols, link) {
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
	mc_list_add_head(&d->vols, &v->link);
	return v;
}

/* Tell a waiting attach, once. */
static void attach_tell(struct mc_vol *v, int res, const char *msg)
{
	mc_vol_attach_cb cb = v->attach_cb;

	if (!cb)
		return;
	v->attach_cb = NULL;
	cb(v->attach_arg, res, msg, res ? NULL : v);
}

static void vol_free(struct mc_vol *v)
{
	mc_list_del(&v->link);
	mc_source_close(v->src);
	mc_source_close(v->opening);
	mc_source_args_free(v->args);
	free(v);
}

void mc_vol_free_all(struct mc_daemon *d)
{
	struct mc_vol *v;

	while ((v = mc_list_first(&d->vols, struct mc_vol, link))) {
		attach_tell(v, -ESHUTDOWN, "maicached is stopping");
		vol_free(v);
	}
}

void mc_vol_cancel_all(struct mc_daemon *d)
{
	struct mc_vol *v;

	struct mc_vol *tmp;

	mc_list_for_each_safe(v, tmp, &d->vols, link) {
		struct mc_source *src = v->src, *opening = v->opening;
		bool waiting = v->attach_cb;

		/*
		 * Closing runs the fills' -ECANCELED callbacks, which free a
		 * detached volume with its last fill; an open just stops.
		 */
		v->src = v->opening = NULL;
		mc_source_close(opening);
		mc_source_close(src);
		/* Its requester hears now, while the loop still runs. */
		if (waiting) {
			attach_tell(v, -ESHUTDOWN, "maicached is stopping");
			vol_free(v);
		}
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
	r->args = v->args;	/* borrowed */
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
	free(r);
	if (ret)
		mc_log(v->d, MC_LOG_ERROR, "/dev/maicache%u: cannot record the volume: %s", v->dev_id, err);
	return ret;
}

void mc_vol_mark_stale(struct mc_vol *v, const char *msg)
{
	char err[256];

	if (v->state == MC_VOL_STALE || v->state == MC_VOL_DETACHING)
		return;
	v->state = MC_VOL_STALE;
	mc_log(v->d, MC_LOG_ERROR, "/dev/maicache%u (%s) is stale: %s (its misses fail with EIO from now on)",
	       v->dev_id, v->shown_url, msg ? msg : "the source changed");
	snprintf(v->last_error, sizeof(v->last_error), "%s", msg ? msg : "the source changed");
	/* The kernel fails further misses at once and tells the listeners. */
	if (v->has_dev && mc_nl_dev_set_stale(v->d->nl, v->dev_id, err, sizeof(err)))
		mc_log(v->d, MC_LOG_WARN, "/dev/maicache%u: cannot mark the device stale: %s",
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

static void attach_fail(struct mc_vol *v, int err, const char *msg)
{
	mc_log(v->d, MC_LOG_WARN, "attach %s failed: %s", v->shown_url, msg);
	attach_tell(v, err, msg);
	vol_free(v);
}

/* Say so when the module made the device without the volume's name. */
static void vol_name_check(struct mc_vol *v, const struct mc_dev_info *info)
{
	if (v->name[0] && strcmp(info->volume_name, v->name))
		mc_log(v->d, MC_LOG_WARN,
		       "/dev/maicache%u: the module does not know volume names (older than "
		       "this daemon): no /dev/disk/by-maicache/%s", info->id, v->name);
}

/*
 * Whether the device must fill whole extents only: the cache group shares
 * extents, so a volume it may serve never asks for parts. Before the
 * source is open (restore), its kind says: blobs are the shared kind.
 */
static bool vol_whole_extents(const struct mc_vol *v)
{
	if (!v->d->group)
		return false;
	return v->src ? v->src->shared : !mc_source_is_file(v->url);
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
	spec.has_id = v->has_dev;	/* an explicit id */
	spec.id = v->dev_id;
	spec.volume_name = v->name;
	spec.whole_extents = vol_whole_extents(v);
	ret = mc_nl_dev_add(v->d->nl, &spec, &info, err, sizeof(err));
	if (ret) {
		attach_fail(v, ret, err);
		return;
	}
	vol_name_check(v, &info);
	v->dev_id = info.id;
	v->extent_size = info.extent_size;
	v->has_dev = true;
	v->state = MC_VOL_READY;
	if (vol_save(v)) {
		mc_nl_dev_del(v->d->nl, v->dev_id, err, sizeof(err));
		attach_fail(v, -EIO, "cannot record the volume in the state directory (see the daemon's log)");
		return;
	}
	mc_log(v->d, MC_LOG_INFO, "attached %s as /dev/maicache%u (%" PRIu64 " bytes, ETag %s)",
	       v->shown_url, v->dev_id, src->size, v->etag[0] ? v->etag : "-");
	attach_tell(v, 0, NULL);
}

/* A restored volume: its source is open (or not); held misses follow. */
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
		mc_log(v->d, MC_LOG_ERROR, "/dev/maicache%u (%s): cannot reopen the source: %s; its misses fail",
		       v->dev_id, v->shown_url, msg);
	} else {
		v->src = src;
		v->state = MC_VOL_READY;
		mc_log(v->d, MC_LOG_INFO, "re-attached %s as /dev/maicache%u", v->shown_url, v->dev_id);
	}
}

static void source_opened(void *arg, int res, struct mc_source *src,
			  const char *msg)
{
	struct mc_vol *v = arg;

	v->opening = NULL;
	if (v->attach_cb) {
		if (res)
			attach_fail(v, res, msg);
		else
			attach_opened(v, src);
		return;
	}
	restore_opened(v, res, src, msg);
}

/* Open v's source; the result arrives in source_opened(). */
static int vol_open_source(struct mc_vol *v, const char *expect_version,
			   char *err, size_t errlen)
{
	return mc_source_open(v->d->sources, v->url, v->args, expect_version,
			      source_opened, v, &v->opening, err, errlen);
}

static int attach_check(struct mc_vol *v, const struct mc_vol_spec *spec,
			char *err, size_t errlen)
{
	uint32_t n = spec->extent_size;

	if (!spec->url || !*spec->url)
		return mc_errf(err, errlen, -EINVAL, "attach needs a URL");
	if (strlen(spec->url) >= sizeof(v->url))
		return mc_errf(err, errlen, -ENAMETOOLONG, "the URL is too long");
	strcpy(v->url, spec->url);
	shown_url(spec->url, v->shown_url, sizeof(v->shown_url));
	/* The module's rule: the name becomes /dev/disk/by-maicache/<name>. */
	if (spec->name) {
		const char *why = maicache_volume_name_error(spec->name,
							     strnlen(spec->name, sizeof(v->name)) + 1);

		if (why)
			return mc_errf(err, errlen, -EINVAL, "--name: %s", why);
		strcpy(v->name, spec->name);
	}
	v->extent_size = MAICACHE_EXTENT_SIZE_DEFAULT;
	if (n) {
		if (n < MAICACHE_EXTENT_SIZE_MIN || n > MAICACHE_EXTENT_SIZE_MAX || (n & (n - 1)))
			return mc_errf(err, errlen, -EINVAL,
				       "--extent-size: a power of two from 64K to 4M");
		v->extent_size = n;
	}
	if (spec->has_id) {
		v->dev_id = spec->id;
		v->has_dev = true;	/* asks for this id; cleared on failure */
	}
	return 0;
}

static int attach_unique(struct mc_vol *v, char *err, size_t errlen)
{
	struct mc_vol *other;

	mc_list_for_each(other, &v->d->vols, link) {
		if (other == v || other->state == MC_VOL_DETACHING)
			continue;
		if (!strcmp(other->shown_url, v->shown_url) ||
		    (v->name[0] && !strcmp(other->name, v->name)))
			return mc_errf(err, errlen, -EEXIST,
				       "%.300s is already attached as /dev/maicache%u%s%.64s",
				       other->shown_url, other->dev_id,
				       other->name[0] ? " named " : "", other->name);
	}
	return 0;
}

int mc_vol_attach(struct mc_daemon *d, struct mc_vol_spec *spec,
		  mc_vol_attach_cb cb, void *arg, char *err, size_t errlen)
{
	struct mc_vol *v = vol_new(d);
	int ret;

	if (!v) {
		mc_source_args_free(spec->args);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	v->args = spec->args;
	spec->args = NULL;
	ret = attach_check(v, spec, err, errlen);
	if (!ret)
		ret = attach_unique(v, err, errlen);
	if (!ret) {
		v->attach_cb = cb;
		v->attach_arg = arg;
		ret = vol_open_source(v, NULL, err, errlen);
		if (!ret)
			return 0;
		/* cb has not run: the open failed before it could. */
		v->attach_cb = NULL;
	}
	mc_log(d, MC_LOG_WARN, "attach %s failed: %s", v->shown_url[0] ? v->shown_url : "-", err);
	vol_free(v);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Detach. */

int mc_vol_detach(struct mc_vol *v, bool force, char *err, size_t errlen)
{
	struct mc_daemon *d = v->d;
	int ret, claim = -1;

	if (v->attach_cb)
		return mc_errf(err, errlen, -EBUSY, "the volume is still being attached");
	/* Its source's answer is on the way and names this volume. */
	if (v->state == MC_VOL_OPENING)
		return mc_errf(err, errlen, -EBUSY,
			       "the volume is still opening its source: try again in a moment");
	/* Held until the device is gone: no mount can start in between. */
	if (v->has_dev && !force) {
		ret = mc_dev_claim(v->dev_id, &claim, err, errlen);
		if (ret)
			return ret;
	}
	if (v->has_dev) {
		ret = mc_nl_dev_del(d->nl, v->dev_id, err, errlen);
		mc_dev_unclaim(claim);
		/* Pinned while peers read extents of it from here (a holder's): for a lease at most. */
		if (ret == -EBUSY)
			return mc_errf(err, errlen, ret, "peers are reading extents of this volume "
				       "from this node: try again in a few seconds");
		if (ret && ret != -ENODEV)
			return ret;
	}
	ret = mc_state_remove(d->cfg.state_dir, v->cookie, err, errlen);
	if (ret)
		mc_log(d, MC_LOG_WARN, "/dev/maicache%u: %s", v->dev_id, err);
	mc_log(d, MC_LOG_INFO, "detached /dev/maicache%u (%s)", v->dev_id, v->shown_url);
	v->has_dev = false;
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
	spec.whole_extents = vol_whole_extents(v);
	/* A name recorded before the rule existed gets no link, not a refusal. */
	if (v->name[0] && maicache_volume_name_error(v->name, strlen(v->name) + 1))
		mc_log(v->d, MC_LOG_WARN, "%s: its name '%s' breaks the volume name rule: "
		       "no /dev/disk/by-maicache link", v->shown_url, v->name);
	else
		spec.volume_name = v->name;
	ret = mc_nl_dev_add(v->d->nl, &spec, &info, err, sizeof(err));
	if (ret) {
		mc_log(v->d, MC_LOG_ERROR, "%s: cannot create its device again: %s", v->shown_url, err);
		return ret;
	}
	if (info.id != v->dev_id)
		mc_log(v->d, MC_LOG_WARN, "%s: /dev/maicache%u was taken: now /dev/maicache%u",
		       v->shown_url, v->dev_id, info.id);
	if (spec.volume_name)
		vol_name_check(v, &info);
	v->dev_id = info.id;
	v->has_dev = true;
	return vol_save(v);
}

static void restore_one(void *arg, const char *path,
			struct mc_dev_record *r, const char *error)
{
	struct restore_ctx *ctx = arg;
	struct mc_vol *v;
	char err[512];
	int ret;

	if (!r) {
		mc_log(ctx->d, MC_LOG_ERROR, "state: skipping %s: %s", path, error);
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
	v->args = r->args;	/* taken over */
	r->args = NULL;
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
		mc_log(ctx->d, MC_LOG_ERROR, "/dev/maicache%u (%s): %s", v->dev_id, v->shown_url, err);
	}
}

int mc_vol_restore(struct mc_daemon *d)
{
	struct restore_ctx ctx = { .d = d };
	char err[512];
	int ret;

	ret = mc_state_load_all(d->cfg.state_dir, restore_one, &ctx, err, sizeof(err));
	if (ret < 0) {
		mc_log(d, MC_LOG_ERROR, "%s", err);
		return ret;
	}
	if (ctx.n)
		mc_log(d, MC_LOG_INFO, "restoring %u volume(s) from %s%s", ctx.n, d->cfg.state_dir,
		       ctx.failed ? " (some failed: see above)" : "");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* What volumes show. */

void mc_vol_info(const struct mc_vol *v, struct mc_vol_info *out)
{
	memset(out, 0, sizeof(*out));
	out->dev_id = v->dev_id;
	out->name = v->name;
	out->url = v->shown_url;
	out->kind = v->src ? v->src->ops->kind : mc_source_is_file(v->url) ? "file" : "blob";
	out->state = mc_vol_state_name(v->state);
	out->etag = v->etag;
	out->auth = mc_source_args_auth(v->args);
	out->last_error = v->last_error;
	out->size = v->dev_size;
	out->data_size = v->src ? v->src->size : 0;
	out->extent_size = v->extent_size;
	out->cookie = v->cookie;
	out->fills = v->fills;
	out->fill_bytes = v->fill_bytes;
	out->fill_errors = v->fill_errors;
	out->inflight = v->inflight;
}

unsigned int mc_vol_count(struct mc_daemon *d)
{
	unsigned int n = 0;
	struct mc_vol *v;

	mc_list_for_each(v, &d->vols, link)
		n += v->state != MC_VOL_DETACHING;
	return n;
}

void mc_vol_for_each(struct mc_daemon *d,
		     void (*fn)(void *arg, const struct mc_vol_info *info),
		     void *arg)
{
	struct mc_vol_info info;
	struct mc_vol *v;

	mc_list_for_each(v, &d->vols, link) {
		if (v->state == MC_VOL_DETACHING)
			continue;
		mc_vol_info(v, &info);
		fn(arg, &info);
	}
}
