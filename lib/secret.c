// SPDX-License-Identifier: MIT
/* See secret.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "secret.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int mc_secret_file_read(const char *path, const char *what, char *buf,
			size_t size, unsigned int flags, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, res = 0;
	char *t;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s %s: %s", what, path,
			    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		res = mc_errf(err, errlen, -EINVAL, "%s %s: not a regular file",
			   what, path);
		goto out;
	}
	if ((flags & MC_SECRET_PRIVATE) && (st.st_mode & 077)) {
		res = mc_errf(err, errlen, -EACCES,
			      "%s %s: readable by group or others (mode %04o): chmod 600 it",
			      what, path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		res = mc_errf(err, errlen, -errno, "%s %s: %s", what, path,
			   strerror(errno));
		goto out;
	}
	if ((size_t)n == size) {
		res = mc_errf(err, errlen, -EINVAL,
			   "%s %s: larger than %zu bytes", what, path, size - 1);
		goto out;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n)) {
		res = mc_errf(err, errlen, -EINVAL, "%s %s: holds a NUL byte",
			   what, path);
		goto out;
	}
	for (t = buf; is_space(*t); t++)
		;
	n = (ssize_t)strlen(t);
	while (n && is_space(t[n - 1]))
		t[--n] = '\0';
	memmove(buf, t, (size_t)n + 1);
	if (!buf[0])
		res = mc_errf(err, errlen, -EINVAL, "%s %s is empty", what, path);
out:
	if (res)
		explicit_bzero(buf, size);
	close(fd);
	return res;
}

