// SPDX-License-Identifier: MIT
/*
 * maicache-agent's reconcile; see reconcile.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "mounts.h"
#include "reconcile.h"
#include "volumes.h"

#define MSG_MAX		1536
#define NERRS		(2 * MC_DS_MAX)	/* the record's names and the file's */

/* What was last said about a dataset, so that a pass repeats nothing. */
struct mc_agent_err {
	char name[MAICACHE_VOLUME_NAME_MAX];
	char msg[MSG_MAX];	/* "" once ready */
	bool ready;
};

static struct mc_agent_err *err_slot(struct mc_agent *a, const char *name)
{
	struct mc_agent_err *free_slot = NULL;

	for (size_t i = 0; i < NERRS; i++) {
		if (!strcmp(a->errs[i].name, name))
			return &a->errs[i];
		if (!free_slot && !a->errs[i].name[0])
			free_slot = &a->errs[i];
	}
	if (free_slot)
		strcpy(free_slot->name, name);
	return free_slot;
}

static void forget(struct mc_agent *a, const char *name)
{
	struct mc_agent_err *e = err_slot(a, name);

	if (e)
		memset(e, 0, sizeof(*e));
}

/* A dataset failed: log why, unless that is what was said last. */
static int failed(struct mc_agent *a, const char *name, const char *msg)
{
	struct mc_agent_err *e = err_slot(a, name);

	if (!e || strcmp(e->msg, msg) || e->ready) {
		mc_agent_log(MC_AGENT_ERROR, "%s: %s", name, msg);
		if (e) {
			snprintf(e->msg, sizeof(e->msg), "%s", msg);
			e->ready = false;
		}
	}
	return -1;
}

static void ready(struct mc_agent *a, const struct mc_dataset *d, const char *dev,
		  const char *how)
{
	struct mc_agent_err *e = err_slot(a, d->name);

	if (e && e->ready)
		return;
	mc_agent_log(MC_AGENT_INFO, "%s: ready: %s on %s (%s)", d->name, dev, d->mount, how);
	if (e) {
		e->msg[0] = '\0';
		e->ready = true;
	}
}

int mc_agent_init(struct mc_agent *a, const char *state_dir, char *err, size_t errlen)
{
	int ret;

	memset(&a->want, 0, sizeof(a->want));
	memset(&a->have, 0, sizeof(a->have));
	a->errs = calloc(NERRS, sizeof(*a->errs));
	if (!a->errs)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	if (snprintf(a->state_path, sizeof(a->state_path), "%s/state", state_dir) >=
	    (int)sizeof(a->state_path))
		return snprintf(err, errlen, "--state-dir: path too long"), -ENAMETOOLONG;
	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return snprintf(err, errlen, "cannot make %s: %s", state_dir, strerror(errno)), -errno;
	ret = mc_datasets_load(a->state_path, NULL, &a->have, err, errlen);
	if (ret == -ENOENT)
		ret = 0;
	return ret;
}

void mc_agent_free(struct mc_agent *a)
{
	mc_datasets_free(&a->want);
	mc_datasets_free(&a->have);
	free(a->errs);
	a->errs = NULL;
}

static int save(struct mc_agent *a)
{
	char err[MSG_MAX];

	if (!mc_datasets_save(a->state_path, &a->have, err, sizeof(err)))
		return 0;
	mc_agent_log(MC_AGENT_ERROR, "cannot write the record: %s", err);
	return -1;
}

/* Whether what is mounted is the file system of dev. */
static bool mount_is_of(const struct mc_mount *m, const char *dev)
{
	struct stat st;

	if (!m->mounted)
		return false;
	if (!stat(dev, &st) && S_ISBLK(st.st_mode))
		return m->devno == st.st_rdev;
	return !strcmp(m->source, dev);
}

/*
 * Undo a recorded dataset: its mount if it is of its volume, its volume if
 * it is of its source. vols NULL: maicached cannot be asked, so only a
 * mount of a maicache device is undone and the volume stays.
 */
static int teardown_one(struct mc_agent *a, const struct mc_dataset *h,
			const struct mc_agent_vols *vols, const char *why)
{
	const struct mc_agent_vol *v = vols ? mc_agent_vol_named(vols, h->name) : NULL;
	char err[MSG_MAX], msg[MSG_MAX + 64];
	struct mc_mount m;
	bool ours;

	if (mc_mount_at(h->mount, &m, err, sizeof(err)))
		return failed(a, h->name, err);
	ours = v ? mount_is_of(&m, v->dev) :
	       m.mounted && !strncmp(m.source, "/dev/maicache", 13);
	if (ours) {
		if (mc_fs_umount(h->mount, err, sizeof(err)))
			return failed(a, h->name, err);
		mc_agent_log(MC_AGENT_INFO, "%s: unmounted %s (%s)", h->name, h->mount, why);
	}
	if (!vols)
		return failed(a, h->name, "maicached cannot be asked: the volume stays attached");
	if (v && !strcmp(v->url, h->source)) {
		int ret = mc_agent_detach(a->socket, h->name, err, sizeof(err));

		if (ret && ret != -ENOENT) {
			snprintf(msg, sizeof(msg), "detach: %s", err);
			return failed(a, h->name, msg);
		}
		mc_agent_log(MC_AGENT_INFO, "%s: detached %s (%s)", h->name, v->dev, why);
	}
	forget(a, h->name);
	return 0;
}

static int setup_one(struct mc_agent *a, const struct mc_dataset *w,
		     const struct mc_agent_vols *vols)
{
	const struct mc_agent_vol *v = mc_agent_vol_named(vols, w->name);
	char err[MSG_MAX], msg[2 * MSG_MAX], dev[MC_AGENT_DEV_MAX], type[MC_DS_FSTYPE_MAX];
	struct mc_mount m;
	dev_t rdev;

	if (v && strcmp(v->url, w->source)) {
		snprintf(msg, sizeof(msg),
			 "maicached has a volume of this name from %.1000s: left alone (maicachectl detach %s, or name the dataset otherwise)",
			 v->url, w->name);
		return failed(a, w->name, msg);
	}
	if (!mc_datasets_find(&a->have, w->name)) {
		/* Recorded first: an agent killed in the attach still owns it. */
		if (mc_datasets_add(&a->have, w) || save(a))
			return failed(a, w->name, "cannot record the dataset: not attached");
	}
	if (v) {
		snprintf(dev, sizeof(dev), "%s", v->dev);
	} else {
		if (mc_agent_attach(a->socket, w, dev, sizeof(dev), err, sizeof(err))) {
			snprintf(msg, sizeof(msg), "attach %.400s: %s", w->source, err);
			return failed(a, w->name, msg);
		}
		mc_agent_log(MC_AGENT_INFO, "%s: attached %s as %s", w->name, w->source, dev);
	}
	if (mc_wait_blockdev(dev, a->device_timeout_ms, &rdev, err, sizeof(err)))
		return failed(a, w->name, err);
	if (mc_mount_at(w->mount, &m, err, sizeof(err)))
		return failed(a, w->name, err);
	if (m.mounted && m.devno == rdev) {
		ready(a, w, dev, "mounted already");
		return 0;
	}
	if (m.mounted) {
		snprintf(msg, sizeof(msg), "%s is already a mount of %s (%s), not of %s: left alone",
			 w->mount, m.source, m.fstype, dev);
		return failed(a, w->name, msg);
	}
	if (mc_fs_mount(w, dev, type, sizeof(type), err, sizeof(err)))
		return failed(a, w->name, err);
	snprintf(msg, sizeof(msg), "%s, read-only", type);
	ready(a, w, dev, msg);
	return 0;
}

int mc_agent_reconcile(struct mc_agent *a)
{
	struct mc_agent_vols vols;
	char err[MSG_MAX];
	int bad = 0;
	size_t i;

	if (mc_agent_list(a->socket, &vols, err, sizeof(err))) {
		failed(a, "maicached", err);
		return -1;
	}
	forget(a, "maicached");
	/* 1. What is recorded and no longer wanted as it was. */
	for (i = a->have.n; i-- > 0;) {
		const struct mc_dataset *h = &a->have.ds[i];
		const struct mc_dataset *w = mc_datasets_find(&a->want, h->name);

		if (w && mc_dataset_same(w, h))
			continue;
		char name[MAICACHE_VOLUME_NAME_MAX];

		if (teardown_one(a, h, &vols, w ? "changed in the datasets file" :
				 "removed from the datasets file")) {
			bad++;
			continue;
		}
		strcpy(name, h->name);
		mc_datasets_remove(&a->have, name);
		save(a);
	}
	/* 2. What is wanted. */
	for (i = 0; i < a->want.n; i++) {
		const struct mc_dataset *w = &a->want.ds[i];
		const struct mc_dataset *h = mc_datasets_find(&a->have, w->name);

		if (h && !mc_dataset_same(w, h)) {
			/* Its old version is still there: step 1 said why. */
			bad++;
			continue;
		}
		if (setup_one(a, w, &vols))
			bad++;
	}
	mc_agent_vols_free(&vols);
	return bad;
}

int mc_agent_teardown(struct mc_agent *a, unsigned int grace_ms)
{
	const struct timespec step = { .tv_nsec = 500 * 1000 * 1000 };
	struct mc_agent_vols vols;
	unsigned int waited = 0;
	char err[MSG_MAX];
	bool asked;
	size_t i;

	for (;;) {
		asked = !mc_agent_list(a->socket, &vols, err, sizeof(err));
		if (!asked)
			failed(a, "maicached", err);
		for (i = a->have.n; i-- > 0;) {
			const struct mc_dataset *h = &a->have.ds[i];
			char name[MAICACHE_VOLUME_NAME_MAX];

			if (!teardown_one(a, h, asked ? &vols : NULL, "stopping")) {
				strcpy(name, h->name);
				mc_datasets_remove(&a->have, name);
				save(a);
			}
		}
		if (asked)
			mc_agent_vols_free(&vols);
		if (!a->have.n || waited >= grace_ms)
			break;
		nanosleep(&step, NULL);
		waited += 500;
	}
	for (i = 0; i < a->have.n; i++)
		mc_agent_log(MC_AGENT_ERROR, "%s: left behind on %s (see above)", a->have.ds[i].name,
			     a->have.ds[i].mount);
	return (int)a->have.n;
}

int mc_agent_check(const char *socket, const struct mc_datasets *want)
{
	struct mc_agent_vols vols;
	char err[MSG_MAX];
	struct mc_mount m;
	int bad = 0;

	if (mc_agent_list(socket, &vols, err, sizeof(err))) {
		printf("maicached: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < want->n; i++) {
		const struct mc_dataset *w = &want->ds[i];
		const struct mc_agent_vol *v = mc_agent_vol_named(&vols, w->name);

		if (!v || strcmp(v->url, w->source)) {
			printf("%s: not attached (%s)\n", w->name, w->source);
			bad++;
		} else if (mc_mount_at(w->mount, &m, err, sizeof(err))) {
			printf("%s: %s\n", w->name, err);
			bad++;
		} else if (!mount_is_of(&m, v->dev)) {
			printf("%s: %s (%s), %s\n", w->name, v->dev, v->state,
			       m.mounted ? "another file system is mounted there" : "not mounted");
			bad++;
		} else {
			printf("%s: ready, %s (%s) on %s (%s)\n", w->name, v->dev, v->state,
			       w->mount, m.fstype);
		}
	}
	mc_agent_vols_free(&vols);
	return bad;
}
