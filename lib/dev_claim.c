// SPDX-License-Identifier: MIT
/* The exclusive claim of a device before its removal (dev_claim.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev_claim.h"
#include "errmsg.h"

int mc_dev_claim(uint32_t id, int *fd, char *err, size_t errlen)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/maicache%u", id);
	*fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		return 0;
	if (errno == EBUSY)
		return mc_errf(err, errlen, -EBUSY,
			       "%s is mounted or held by another exclusive user: unmount it "
			       "first, or use --force to remove it anyway (its readers then get EIO)",
			       path);
	return mc_errf(err, errlen, -errno, "%s: cannot check whether it is in use: %s", path,
		       strerror(errno));
}

void mc_dev_unclaim(int fd)
{
	if (fd >= 0)
		close(fd);
}
