/* SPDX-License-Identifier: MIT */
/*
 * The file system side of a dataset: what is mounted where (the mount
 * table as the kernel shows it, read with libmount), the type an image
 * holds (libblkid), and mount(2)/umount2(2) themselves.
 */
#ifndef MAICACHE_AGENT_MOUNTS_H
#define MAICACHE_AGENT_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "datasets.h"

struct mc_mount {
	bool mounted;
	dev_t devno;		/* of the file system mounted on top */
	char source[256];	/* as the mount table names it */
	char fstype[32];
	int id;			/* the kernel's mount id */
};

/*
 * What is mounted at path, the top of its stack (mounted false when
 * nothing is). 0, or -errno with a message when the table cannot be read.
 */
int mc_mount_at(const char *path, struct mc_mount *m, char *err, size_t errlen);

/* How many mounts there are at path (a mount on top of another counts twice). */
int mc_mount_count(const char *path);

/*
 * The device number of a block device node, waiting up to timeout_ms for
 * it to appear (udev or devtmpfs makes it). 0 or -errno with a message.
 */
int mc_wait_blockdev(const char *dev, unsigned int timeout_ms, dev_t *rdev,
		     char *err, size_t errlen);

/*
 * The file system in dev, as mount(2) names it, into type: one of
 * mc_ds_fstypes (ext2 and ext3 are mounted by the ext4 driver). -ENOENT
 * (nothing recognised), -EMEDIUMTYPE (a type the agent does not mount) or
 * -errno, with a message.
 */
int mc_fs_detect(const char *dev, char *type, size_t len, char *err, size_t errlen);

/*
 * Mount dev read-only (nodev, nosuid) at d->mount, making the directory
 * if needed, as d->fstype (detected when auto) with d->options. The type
 * mounted in type. 0 or -errno with a message naming the cause.
 */
int mc_fs_mount(const struct mc_dataset *d, const char *dev, char *type,
		size_t typelen, char *err, size_t errlen);

/* Unmount path: 0, -EBUSY (in use) or -errno, with a message. */
int mc_fs_umount(const char *path, char *err, size_t errlen);

#endif /* MAICACHE_AGENT_MOUNTS_H */
