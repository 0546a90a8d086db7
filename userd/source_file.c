// SPDX-License-Identifier: MIT
/*
 * File source: a local file or block device read with O_DIRECT straight
 * into the pool slot, so the page cache holds no second copy of what the
 * pool caches. Filesystems without O_DIRECT (tmpfs, 9p) fall back to
 * buffered reads.
 *
 * A regular file's reads may be copies the kernel makes in the thread that
 * reads (page cache, tmpfs): with file_parallel they are MC_IO_PARALLEL, so
 * the fills in flight copy on several CPUs. With file_split a fill is
 * several reads at once, each into its place in the slot; the fill ends
 * when the last has, failed if any did.
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
/* 4 MiB (the largest extent) in pieces of 64 KiB (file_split's least). */
#define FILE_PIECES_MAX 64U

struct file_source {
	struct mc_source s;
	struct mc_loop *loop;
	int fd;
	unsigned int io_flags;		/* MC_IO_PARALLEL for regular files */
	size_t split;			/* 0, or bytes per piece (of FILE_ALIGN) */
	char path[MC_URL_MAX];
};

struct file_read;

/* One read of a fill: want bytes of data at its place, EOF after them. */
struct file_piece {
	struct file_read *rd;
	size_t want;
};

/* A fill: its pieces end in any order; cb runs when the last one has. */
struct file_read {
	struct file_source *fs;
	mc_source_cb cb;
	void *arg;
	unsigned int pending;
	int res;			/* the first error, or 0 */
	char msg[512];
	struct file_piece piece[];
};

static void file_piece_done(void *arg, ssize_t res)
{
	struct file_piece *p = arg;
	struct file_read *rd = p->rd;

	if (!rd->res && res < 0) {
		rd->res = (int)res;
		snprintf(rd->msg, sizeof(rd->msg), "%.300s: read failed: %s",
			 rd->fs->path, strerror((int)-res));
	} else if (!rd->res && (size_t)res < p->want) {
		rd->res = -EIO;
		snprintf(rd->msg, sizeof(rd->msg),
			 "%.300s: short read (%zd of %zu bytes): did the file shrink?",
			 rd->fs->path, res, p->want);
	}
	if (--rd->pending)
		return;
	rd->cb(rd->arg, rd->res, rd->res ? rd->msg : NULL);
	free(rd);
}

static int file_read(struct mc_source *s, uint64_t off, void *dst, size_t len,
		     mc_source_cb cb, void *arg)
{
	struct file_source *fs = (struct file_source *)s;
	size_t io_len, step, min_step, done, n;
	struct file_read *rd;
	unsigned int i, pieces;
	int ret;

	if (off >= s->size || len > s->size - off)
		return -ERANGE;
	/*
	 * Whole blocks for O_DIRECT (dst has room for them); where the data
	 * ends inside the last block, EOF makes the read short on its own.
	 */
	io_len = (len + FILE_ALIGN - 1) / FILE_ALIGN * FILE_ALIGN;
	step = fs->split && io_len > fs->split ? fs->split : io_len;
	/* Never more than FILE_PIECES_MAX pieces: wider ones for a larger fill. */
	min_step = (io_len + FILE_PIECES_MAX - 1) / FILE_PIECES_MAX;
	min_step = (min_step + FILE_ALIGN - 1) / FILE_ALIGN * FILE_ALIGN;
	if (step < min_step)
		step = min_step;
	pieces = (unsigned int)((io_len + step - 1) / step);
	rd = calloc(1, sizeof(*rd) + pieces * sizeof(rd->piece[0]));
	if (!rd)
		return -ENOMEM;
	rd->fs = fs;
	rd->cb = cb;
	rd->arg = arg;
	for (i = 0, done = 0; i < pieces; i++, done += n) {
		n = io_len - done < step ? io_len - done : step;
		rd->piece[i].rd = rd;
		rd->piece[i].want = len - done < n ? len - done : n;
		rd->pending++;
		ret = mc_loop_read_flags(fs->loop, fs->fd, (uint8_t *)dst + done, n,
					 off + done, fs->io_flags, file_piece_done,
					 &rd->piece[i]);
		if (!ret)
			continue;
		rd->pending--;
		if (!rd->pending) {
			free(rd);	/* nothing in flight: the caller hears it */
			return ret;
		}
		/* The pieces in flight end the fill, failed. */
		rd->res = ret;
		snprintf(rd->msg, sizeof(rd->msg), "%.300s: read not started: %s",
			 fs->path, strerror(-ret));
		break;
	}
	return 0;
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

static int file_size(int fd, const char *path, uint64_t *size, bool *regular,
		     char *err, size_t errlen)
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
		*regular = true;
	} else {
		return mc_errf(err, errlen, -EINVAL, "%s: not a regular file or block device",
			       path);
	}
	if (!*size)
		return mc_errf(err, errlen, -EINVAL, "%s: empty: nothing to serve", path);
	return 0;
}

int mc_file_source_open(struct mc_loop *loop, const struct mc_source_opts *opts,
			const char *url, struct mc_source **out, char *err,
			size_t errlen)
{
	const char *path = strncmp(url, "file://", 7) == 0 ? url + 7 : url;
	struct file_source *fs;
	bool regular = false;
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
	ret = file_size(fs->fd, path, &fs->s.size, &regular, err, errlen);
	if (ret) {
		close(fs->fd);
		free(fs);
		return ret;
	}
	/*
	 * A block device's reads are asynchronous in the device; a regular
	 * file's may be copies the kernel makes in the reading thread (page
	 * cache, tmpfs), so they may take threads of their own.
	 */
	if (regular && opts->file_parallel)
		fs->io_flags = MC_IO_PARALLEL;
	fs->split = (size_t)(opts->file_split / FILE_ALIGN * FILE_ALIGN);
	*out = &fs->s;
	return 0;
}
