// SPDX-License-Identifier: MIT
/*
 * File source: a local file or block device read with O_DIRECT straight
 * into the pool slot, so the page cache holds no second copy of what the
 * pool caches. Filesystems without O_DIRECT (tmpfs, 9p) fall back to
 * buffered reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "source_kind.h"

/* O_DIRECT wants offsets and lengths in logical blocks; 4 KiB fits all. */
#define FILE_ALIGN 4096U

struct file_source {
	struct mc_source s;
	struct mc_loop *loop;
	int fd;
	char path[MC_URL_MAX];
};

struct file_read {
	struct file_source *fs;
	size_t len;
	mc_source_cb cb;
	void *arg;
};

static void file_read_done(void *arg, ssize_t res)
{
	struct file_read *rd = arg;
	char msg[512];

	if (res < 0) {
		snprintf(msg, sizeof(msg), "%.300s: read failed: %s", rd->fs->path,
			 strerror((int)-res));
		rd->cb(rd->arg, (int)res, msg);
	} else if ((size_t)res < rd->len) {
		snprintf(msg, sizeof(msg),
			 "%.300s: short read (%zd of %zu bytes): did the file shrink?",
			 rd->fs->path, res, rd->len);
		rd->cb(rd->arg, -EIO, msg);
	} else {
		rd->cb(rd->arg, 0, NULL);
	}
	free(rd);
}

static int file_read(struct mc_source *s, uint64_t off, void *dst, size_t len,
		     mc_source_cb cb, void *arg)
{
	struct file_source *fs = (struct file_source *)s;
	struct file_read *rd;
	size_t io_len;
	int ret;

	if (off >= s->size || len > s->size - off)
		return -ERANGE;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->fs = fs;
	rd->len = len;
	rd->cb = cb;
	rd->arg = arg;
	/*
	 * Whole blocks for O_DIRECT (dst has room for them); where the data
	 * ends inside the last block, EOF makes the read short on its own.
	 */
	io_len = (len + FILE_ALIGN - 1) / FILE_ALIGN * FILE_ALIGN;
	ret = mc_loop_read(fs->loop, fs->fd, dst, io_len, off, file_read_done, rd);
	if (ret)
		free(rd);
	return ret;
}

static void file_close(struct mc_source *s)
{
	struct file_source *fs = (struct file_source *)s;

	mc_loop_forget(fs->loop, fs->fd);
	close(fs->fd);
	free(fs);
}

static const struct mc_source_ops file_ops = {
	.kind	= "file",
	.read	= file_read,
	.close	= file_close,
};

static int file_size(int fd, const char *path, uint64_t *size, char *err,
		     size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return mc_errf(err, errlen, -errno, "%s: BLKGETSIZE64: %s", path,
				       strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		return mc_errf(err, errlen, -EINVAL, "%s: not a regular file or block device",
			       path);
	}
	if (!*size)
		return mc_errf(err, errlen, -EINVAL, "%s: empty: nothing to serve", path);
	return 0;
}

int mc_file_source_open(struct mc_loop *loop, const char *url,
			struct mc_source **out, char *err, size_t errlen)
{
	const char *path = strncmp(url, "file://", 7) == 0 ? url + 7 : url;
	struct file_source *fs;
	int ret;

	if (path[0] != '/' || strlen(path) >= sizeof(fs->path))
		return mc_errf(err, errlen, -EINVAL,
			       "'%.300s': a file source needs an absolute path (file:///path)",
			       url);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	strcpy(fs->path, path);
	fs->loop = loop;
	fs->s.ops = &file_ops;
	fs->fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fs->fd < 0 && errno == EINVAL)
		fs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0) {
		ret = mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
		free(fs);
		return ret;
	}
	ret = file_size(fs->fd, path, &fs->s.size, err, errlen);
	if (ret) {
		close(fs->fd);
		free(fs);
		return ret;
	}
	*out = &fs->s;
	return 0;
}
