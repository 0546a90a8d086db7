// SPDX-License-Identifier: MIT
/*
 * Mounts of maicache-agent's datasets; see mounts.h.
 */
#include <blkid.h>
#include <errno.h>
#include <libmount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "mounts.h"

#define MOUNTINFO	"/proc/self/mountinfo"

int mc_mount_at(const char *path, struct mc_mount *m, char *err, size_t errlen)
{
	struct libmnt_table *tb = mnt_new_table_from_file(MOUNTINFO);
	struct libmnt_fs *fs;
	const char *s;

	memset(m, 0, sizeof(*m));
	if (!tb)
		return mc_errf(err, errlen, -EIO, "%s: cannot be read", MOUNTINFO);
	/* The last mount of a path is the one on top, the one readers see. */
	fs = mnt_table_find_target(tb, path, MNT_ITER_BACKWARD);
	if (fs && mnt_fs_streq_target(fs, path)) {
		m->mounted = true;
		m->devno = mnt_fs_get_devno(fs);
		m->id = mnt_fs_get_id(fs);
		s = mnt_fs_get_source(fs);
		snprintf(m->source, sizeof(m->source), "%s", s ? s : "?");
		s = mnt_fs_get_fstype(fs);
		snprintf(m->fstype, sizeof(m->fstype), "%s", s ? s : "?");
	}
	mnt_unref_table(tb);
	return 0;
}

int mc_mount_count(const char *path)
{
	struct libmnt_table *tb = mnt_new_table_from_file(MOUNTINFO);
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	int n = 0;

	while (tb && it && mnt_table_next_fs(tb, it, &fs) == 0)
		n += mnt_fs_streq_target(fs, path);
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return n;
}

int mc_wait_blockdev(const char *dev, unsigned int timeout_ms, dev_t *rdev,
		     char *err, size_t errlen)
{
	const struct timespec step = { .tv_nsec = 50 * 1000 * 1000 };
	unsigned int waited = 0;
	struct stat st;

	while (stat(dev, &st) || !S_ISBLK(st.st_mode)) {
		if (waited >= timeout_ms)
			return mc_errf(err, errlen, -ETIMEDOUT,
				       "%s did not appear as a block device within %u ms (is /dev the host's?)",
				       dev, timeout_ms);
		nanosleep(&step, NULL);
		waited += 50;
	}
	*rdev = st.st_rdev;
	return 0;
}

static bool known_type(const char *t)
{
	for (size_t i = 0; mc_ds_fstypes[i]; i++)
		if (!strcmp(mc_ds_fstypes[i], t))
			return true;
	return false;
}

int mc_fs_detect(const char *dev, char *type, size_t len, char *err, size_t errlen)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	const char *t = NULL;
	int rc, ret = 0;

	if (!pr)
		return mc_errf(err, errlen, errno ? -errno : -EIO, "%s: cannot probe: %s", dev,
			       strerror(errno ? errno : EIO));
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	rc = blkid_do_safeprobe(pr);
	if (rc == 0)
		blkid_probe_lookup_value(pr, "TYPE", &t, NULL);
	if (rc == -2)
		ret = mc_errf(err, errlen, -EMEDIUMTYPE,
			      "%s holds signatures of more than one file system: name it with fstype", dev);
	else if (rc < 0)
		ret = mc_errf(err, errlen, -EIO, "%s: reading its superblock failed (the source?)", dev);
	else if (rc == 1 || !t)
		ret = mc_errf(err, errlen, -ENOENT,
			      "%s holds no file system the agent knows (erofs, ext4, squashfs, xfs)", dev);
	else if (!strcmp(t, "ext2") || !strcmp(t, "ext3"))
		t = "ext4";
	if (!ret && !known_type(t))
		ret = mc_errf(err, errlen, -EMEDIUMTYPE,
			      "%s holds %s, not erofs, ext4, squashfs or xfs", dev, t);
	if (!ret)
		snprintf(type, len, "%s", t);
	blkid_free_probe(pr);
	return ret;
}

/* mkdir -p with mode 0755. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
	char p[MC_DS_PATH_MAX];
	char *s;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return mc_errf(err, errlen, -errno, "cannot make %s: %s", p, strerror(errno));
		if (!c)
			return 0;
		*s = c;
	}
}

int mc_fs_mount(const struct mc_dataset *d, const char *dev, char *type,
		size_t typelen, char *err, size_t errlen)
{
	const unsigned long flags = MS_RDONLY | MS_NODEV | MS_NOSUID;
	int ret;

	if (strcmp(d->fstype, "auto"))
		snprintf(type, typelen, "%s", d->fstype);
	else if ((ret = mc_fs_detect(dev, type, typelen, err, errlen)))
		return ret;
	ret = make_dirs(d->mount, err, errlen);
	if (ret)
		return ret;
	if (!mount(dev, d->mount, type, flags, d->options[0] ? d->options : NULL))
		return 0;
	ret = -errno;
	switch (errno) {
	case ENODEV:
		return mc_errf(err, errlen, ret,
			       "mount %s on %s: the kernel has no %s file system (modprobe %s on the node)",
			       dev, d->mount, type, type);
	case EINVAL:
		return mc_errf(err, errlen, ret,
			       "mount %s on %s: not a valid %s file system%s%s (the kernel log says more)",
			       dev, d->mount, type, d->options[0] ? ", or options the file system refuses: " : "",
			       d->options);
	case EPERM:
		return mc_errf(err, errlen, ret,
			       "mount %s on %s: not permitted (the agent needs CAP_SYS_ADMIN: a privileged container)",
			       dev, d->mount);
	default:
		return mc_errf(err, errlen, ret, "mount %s on %s as %s: %s", dev, d->mount, type,
			       strerror(-ret));
	}
}

int mc_fs_umount(const char *path, char *err, size_t errlen)
{
	if (!umount2(path, UMOUNT_NOFOLLOW))
		return 0;
	if (errno == EBUSY)
		return mc_errf(err, errlen, -EBUSY,
			       "umount %s: busy (a pod or process still uses it)", path);
	return mc_errf(err, errlen, -errno, "umount %s: %s", path, strerror(errno));
}
