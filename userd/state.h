/* SPDX-License-Identifier: MIT */
/*
 * maicached's persistent state: one record per attached device, enough to
 * attach it again after a restart. Each record is a file
 * STATE_DIR/dev-<cookie, 16 hex digits>.conf holding a control message
 * (ctl_msg.h), credential included, so the directory is 0700 and every
 * file 0600. Files are replaced atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory): after a crash a
 * record is either the old one or the new one, never a mix.
 */
#ifndef MAICACHE_STATE_H
#define MAICACHE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

struct mc_msg;

#define MC_DEV_NAME_MAX	64	/* --name, NUL included */

struct mc_dev_record {
	uint64_t cookie;		/* names the source to the module */
	uint32_t dev_id;		/* N of /dev/maicacheN */
	char name[MC_DEV_NAME_MAX];	/* the user's label; may be "" */
	char url[MC_URL_MAX];		/* as given to attach, query included */
	uint64_t extent_size;		/* power of two, 64 KiB..4 MiB */
	uint64_t size;			/* bytes, > 0 */
	char etag[MC_VERSION_MAX];	/* pinned at attach, quotes included;
					 * "" for a file */
	bool stale;			/* the source changed under it */
	struct mc_source_args *args;	/* the source's (a credential); owned */
};

/* Free r's args (wiping the secret) and zero r. */
void mc_dev_record_clear(struct mc_dev_record *r);

/*
 * A record as message fields: format, cookie, dev_id, name, url,
 * extent_size, size, etag and cred.* (the source's arguments,
 * mc_source_args_to_msg()). to_msg: 0 or the mc_msg_add() error. from_msg:
 * 0 or -EINVAL with a message naming the field; every field is checked,
 * and r is cleared on error (and before: it holds no args on entry).
 */
int mc_dev_record_to_msg(const struct mc_dev_record *r, struct mc_msg *m);
int mc_dev_record_from_msg(struct mc_dev_record *r, const struct mc_msg *m,
			   char *err, size_t errlen);

/* STATE_DIR/dev-%016llx.conf; 0 or -ENAMETOOLONG. */
int mc_state_path(const char *dir, uint64_t cookie, char *buf, size_t len);

/* Create dir (and missing parents) with mode 0700. 0 or a negative errno. */
int mc_state_dir_init(const char *dir, char *err, size_t errlen);

/* Write r's record atomically, creating dir when missing. */
int mc_state_save(const char *dir, const struct mc_dev_record *r,
		  char *err, size_t errlen);
/* Remove cookie's record; a missing record is not an error. */
int mc_state_remove(const char *dir, uint64_t cookie, char *err, size_t errlen);

/*
 * Read one record file into r (cleared first: mc_dev_record_clear() it
 * after use); 0 or a negative errno with "PATH: ..." in err.
 */
int mc_state_load(const char *path, struct mc_dev_record *r,
		  char *err, size_t errlen);

/*
 * Called once per record file, in name order: rec set and error NULL for a
 * good record, rec NULL and error saying what is wrong for a bad one. rec
 * is only valid during the call; the callee may take rec->args (and set it
 * NULL), which is freed after the call otherwise.
 */
typedef void (*mc_state_cb)(void *arg, const char *path,
			    struct mc_dev_record *rec, const char *error);

/*
 * Load every record of dir (created when missing). A bad file is reported
 * through cb (may be NULL: count only) and skipped; the others still load. Temporary files left by
 * an interrupted save are removed. Returns the number of good records, or
 * a negative errno when dir itself cannot be used.
 */
int mc_state_load_all(const char *dir, mc_state_cb cb, void *arg,
		      char *err, size_t errlen);

#endif /* MAICACHE_STATE_H */
