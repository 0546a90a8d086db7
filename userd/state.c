// SPDX-License-Identifier: MIT
/*
 * Device records in the state directory: encode, write atomically, read
 * back and check everything, since a record may have been damaged or
 * edited while the daemon was down.
 */
#define _GNU_SOURCE	/* mkostemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "ctl_msg.h"
#include "maicache_genl.h"
#include "state.h"

#define RECORD_FORMAT	"maicache-dev/1"
#define RECORD_PREFIX	"dev-"
#define RECORD_SUFFIX	".conf"
#define RECORD_NAME_LEN	(sizeof(RECORD_PREFIX) - 1 + 16 + sizeof(RECORD_SUFFIX) - 1)
#define TEMP_PREFIX	".dev-"


/* --- record <-> message ------------------------------------------------- */

int mc_dev_record_to_msg(const struct mc_dev_record *r, struct mc_msg *m)
{
	mc_msg_add(m, "format", RECORD_FORMAT);
	mc_msg_addf(m, "cookie", "0x%016llx", (unsigned long long)r->cookie);
	mc_msg_add_u64(m, "dev_id", r->dev_id);
	mc_msg_add(m, "name", r->name);
	mc_msg_add(m, "url", r->url);
	mc_msg_add_u64(m, "extent_size", r->extent_size);
	mc_msg_add_u64(m, "size", r->size);
	mc_msg_add(m, "etag", r->etag);
	mc_msg_add_u64(m, "stale", r->stale);
	mc_source_args_to_msg(r->args, m);
	return m->error;
}

void mc_dev_record_clear(struct mc_dev_record *r)
{
	mc_source_args_free(r->args);
	explicit_bzero(r, sizeof(*r));
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int get_u64(const struct mc_msg *m, const char *key, uint64_t *v,
		   char *err, size_t errlen)
{
	int res = mc_msg_get_u64(m, key, v);

	if (res == -ENOENT)
		return mc_errf(err, errlen, -EINVAL, "%s is missing", key);
	if (res)
		return mc_errf(err, errlen, -EINVAL, "%s is not a number", key);
	return 0;
}

/* A printable string of fewer than len bytes; empty only if empty_ok. */
static int get_str(const struct mc_msg *m, const char *key, char *dst,
		   size_t len, bool empty_ok, char *err, size_t errlen)
{
	const char *v = mc_msg_get(m, key);

	if (!v)
		return mc_errf(err, errlen, -EINVAL, "%s is missing", key);
	if (!*v && !empty_ok)
		return mc_errf(err, errlen, -EINVAL, "%s is empty", key);
	if (strlen(v) >= len)
		return mc_errf(err, errlen, -EINVAL, "%s is too long (at most %zu bytes)",
			    key, len - 1);
	if (!printable(v))
		return mc_errf(err, errlen, -EINVAL, "%s holds a control character", key);
	strcpy(dst, v);
	return 0;
}

static int record_from_msg(struct mc_dev_record *r, const struct mc_msg *m,
			   char *err, size_t errlen)
{
	const char *format = mc_msg_get(m, "format");
	uint64_t v;
	int res;

	if (!format || strcmp(format, RECORD_FORMAT))
		return mc_errf(err, errlen, -EINVAL, "format is not %s", RECORD_FORMAT);
	if ((res = get_u64(m, "cookie", &r->cookie, err, errlen)) ||
	    (res = get_u64(m, "dev_id", &v, err, errlen)))
		return res;
	if (v > UINT32_MAX)
		return mc_errf(err, errlen, -EINVAL, "dev_id %llu is out of range",
			    (unsigned long long)v);
	r->dev_id = (uint32_t)v;
	if ((res = get_u64(m, "extent_size", &r->extent_size, err, errlen)) ||
	    (res = get_u64(m, "size", &r->size, err, errlen)))
		return res;
	if (r->extent_size < MAICACHE_EXTENT_SIZE_MIN ||
	    r->extent_size > MAICACHE_EXTENT_SIZE_MAX ||
	    (r->extent_size & (r->extent_size - 1)))
		return mc_errf(err, errlen, -EINVAL,
			    "extent_size %llu is not a power of two from %u to %u",
			    (unsigned long long)r->extent_size,
			    MAICACHE_EXTENT_SIZE_MIN, MAICACHE_EXTENT_SIZE_MAX);
	if (r->size == 0)
		return mc_errf(err, errlen, -EINVAL, "size is 0");
	if ((res = get_str(m, "name", r->name, sizeof(r->name), true, err, errlen)) ||
	    (res = get_str(m, "url", r->url, sizeof(r->url), false, err, errlen)) ||
	    (res = get_str(m, "etag", r->etag, sizeof(r->etag), true, err, errlen)))
		return res;
	/* A file source has no ETag; a stale volume stays stale. */
	res = mc_msg_get_u64(m, "stale", &v);
	if (res == -ENOENT)
		v = 0;
	else if (res || v > 1)
		return mc_errf(err, errlen, -EINVAL, "stale is not 0 or 1");
	r->stale = v;
	return mc_source_args_from_msg(r->url, m, &r->args, err, errlen);
}

int mc_dev_record_from_msg(struct mc_dev_record *r, const struct mc_msg *m,
			   char *err, size_t errlen)
{
	int res;

	explicit_bzero(r, sizeof(*r));
	res = record_from_msg(r, m, err, errlen);
	if (res)
		mc_dev_record_clear(r);
	return res;
}

/* --- files -------------------------------------------------------------- */

int mc_state_path(const char *dir, uint64_t cookie, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/" RECORD_PREFIX "%016llx" RECORD_SUFFIX,
			 dir, (unsigned long long)cookie);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int mc_state_dir_init(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return mc_errf(err, errlen, -EINVAL, "state directory '%s': bad path", dir);
	memcpy(path, dir, n + 1);
	/* each missing component, parents first */
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			/* exactly 0700 whatever the umask */
			if (chmod(path, 0700))
				return mc_errf(err, errlen, -errno, "state directory %s: %s",
					    path, strerror(errno));
		} else if (errno != EEXIST) {
			return mc_errf(err, errlen, -errno, "state directory %s: %s",
				    path, strerror(errno));
		}
		*p = c;
		if (!c)
			break;
	}
	if (stat(dir, &st))
		return mc_errf(err, errlen, -errno, "state directory %s: %s", dir,
			    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mc_errf(err, errlen, -ENOTDIR, "state directory %s: not a directory",
			    dir);
	return 0;
}

static int fsync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int res = 0;

	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	if (fsync(fd))
		res = mc_errf(err, errlen, -errno, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return res;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write buf to a new temporary file in dir, synced; its name in tmp. */
static int write_temp(const char *dir, uint64_t cookie, const char *buf,
		      size_t len, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	int fd, res;

	if (snprintf(tmp, tmplen, "%s/" TEMP_PREFIX "%016llx" RECORD_SUFFIX ".XXXXXX",
		     dir, (unsigned long long)cookie) >= (int)tmplen)
		return mc_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "creating a record in %s: %s", dir,
			    strerror(errno));
	res = fchmod(fd, 0600) ? -errno : 0;
	if (!res)
		res = write_all(fd, buf, len);
	if (!res && fsync(fd))
		res = -errno;
	if (close(fd) && !res)
		res = -errno;
	if (res) {
		unlink(tmp);
		return mc_errf(err, errlen, res, "writing %s: %s", tmp, strerror(-res));
	}
	return 0;
}

int mc_state_save(const char *dir, const struct mc_dev_record *r,
		  char *err, size_t errlen)
{
	char path[4096], tmp[4096], *buf = NULL;
	struct mc_msg *m = malloc(sizeof(*m));
	long len;
	int res;

	if (!m || !(buf = malloc(MC_MSG_MAX))) {
		res = mc_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	res = mc_state_dir_init(dir, err, errlen);
	if (res)
		goto out;
	if (mc_state_path(dir, r->cookie, path, sizeof(path))) {
		res = mc_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
		goto out;
	}
	mc_msg_init(m);
	res = mc_dev_record_to_msg(r, m);
	len = res ? res : mc_msg_encode(m, buf, MC_MSG_MAX);
	if (len < 0) {
		res = mc_errf(err, errlen, (int)len, "record for cookie 0x%016llx does not encode: %s",
			   (unsigned long long)r->cookie, strerror((int)-len));
		goto out;
	}
	res = write_temp(dir, r->cookie, buf, (size_t)len, tmp, sizeof(tmp), err, errlen);
	if (res)
		goto out;
	if (rename(tmp, path)) {
		res = mc_errf(err, errlen, -errno, "renaming %s to %s: %s", tmp, path,
			   strerror(errno));
		unlink(tmp);
		goto out;
	}
	res = fsync_dir(dir, err, errlen);
out:
	if (m)
		mc_msg_wipe(m);
	if (buf)
		explicit_bzero(buf, MC_MSG_MAX);
	free(m);
	free(buf);
	return res;
}

int mc_state_remove(const char *dir, uint64_t cookie, char *err, size_t errlen)
{
	char path[4096];

	if (mc_state_path(dir, cookie, path, sizeof(path)))
		return mc_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	if (unlink(path)) {
		if (errno == ENOENT)
			return 0;
		return mc_errf(err, errlen, -errno, "removing %s: %s", path, strerror(errno));
	}
	return fsync_dir(dir, err, errlen);
}

/* Read a whole record file into buf (MC_MSG_MAX bytes); its length. */
static long read_record(const char *path, char *buf, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	long res;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		res = mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		res = mc_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	} else if (st.st_size > MC_MSG_MAX) {
		res = mc_errf(err, errlen, -EFBIG, "%s: larger than %d bytes", path, MC_MSG_MAX);
	} else {
		res = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				res = mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
				break;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
	}
	close(fd);
	return res ? res : (long)got;
}

static int load_into(const char *path, struct mc_dev_record *r, struct mc_msg *m,
		     char *buf, char *err, size_t errlen)
{
	char msg[256];
	long len;

	len = read_record(path, buf, err, errlen);
	if (len < 0)
		return (int)len;
	if (mc_msg_decode(m, buf, (size_t)len, msg, sizeof(msg)) ||
	    mc_dev_record_from_msg(r, m, msg, sizeof(msg)))
		return mc_errf(err, errlen, -EINVAL, "%s: %s", path, msg);
	return 0;
}

/* The cookie a record file name claims, or -EINVAL for other names. */
static int record_name_cookie(const char *name, uint64_t *cookie)
{
	const char *hex = name + sizeof(RECORD_PREFIX) - 1;
	uint64_t v = 0;

	if (strlen(name) != RECORD_NAME_LEN ||
	    strncmp(name, RECORD_PREFIX, sizeof(RECORD_PREFIX) - 1) ||
	    strcmp(hex + 16, RECORD_SUFFIX))
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char c = hex[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -EINVAL;
	}
	*cookie = v;
	return 0;
}

int mc_state_load(const char *path, struct mc_dev_record *r, char *err,
		  size_t errlen)
{
	struct mc_msg *m = malloc(sizeof(*m));
	char *buf = malloc(MC_MSG_MAX);
	const char *base = strrchr(path, '/');
	uint64_t cookie;
	int res;

	explicit_bzero(r, sizeof(*r));
	if (!m || !buf) {
		res = mc_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	mc_msg_init(m);
	res = load_into(path, r, m, buf, err, errlen);
	base = base ? base + 1 : path;
	/* a record copied under another cookie's name would attach twice */
	if (!res && !record_name_cookie(base, &cookie) && cookie != r->cookie) {
		res = mc_errf(err, errlen, -EINVAL,
			   "%s: holds cookie 0x%016llx, not the one in its name",
			   path, (unsigned long long)r->cookie);
		mc_dev_record_clear(r);
	}
out:
	if (m)
		mc_msg_wipe(m);
	if (buf)
		explicit_bzero(buf, MC_MSG_MAX);
	free(m);
	free(buf);
	return res;
}

static int is_record(const struct dirent *d)
{
	uint64_t cookie;

	return !record_name_cookie(d->d_name, &cookie);
}

static int is_temp(const struct dirent *d)
{
	return !strncmp(d->d_name, TEMP_PREFIX, sizeof(TEMP_PREFIX) - 1) &&
	       strstr(d->d_name, RECORD_SUFFIX ".");
}

/* Temporary files of saves that never reached their rename. */
static void remove_temps(const char *dir)
{
	struct dirent **list;
	char path[4096];
	int n;

	n = scandir(dir, &list, is_temp, alphasort);
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) <
		    (int)sizeof(path))
			unlink(path);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

int mc_state_load_all(const char *dir, mc_state_cb cb, void *arg, char *err,
		      size_t errlen)
{
	struct mc_dev_record *r = malloc(sizeof(*r));
	struct dirent **list = NULL;
	char path[4096], msg[512];
	int n, good = 0, res;

	if (!r)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	res = mc_state_dir_init(dir, err, errlen);
	if (res)
		goto out;
	remove_temps(dir);
	n = scandir(dir, &list, is_record, alphasort);
	if (n < 0) {
		res = mc_errf(err, errlen, -errno, "state directory %s: %s", dir,
			   strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
		    (int)sizeof(path)) {
			if (cb)
				cb(arg, list[i]->d_name, NULL, "path too long");
		} else if (mc_state_load(path, r, msg, sizeof(msg))) {
			if (cb)
				cb(arg, path, NULL, msg);
		} else {
			if (cb)
				cb(arg, path, r, NULL);
			mc_dev_record_clear(r);
			good++;
		}
		free(list[i]);
	}
	free(list);
	res = good;
out:
	mc_dev_record_clear(r);
	free(r);
	return res;
}
