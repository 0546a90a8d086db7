// SPDX-License-Identifier: MIT
/*
 * The node's persisted id: what places it in the group. Kept in the state
 * directory, so a restarted daemon owns the same keys as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "errmsg.h"
#include "parse.h"
#include "placement.h"

void mc_node_id_hex(const struct mc_node_id *id, char out[33])
{
	for (size_t i = 0; i < sizeof(id->b); i++)
		snprintf(out + 2 * i, 3, "%02x", id->b[i]);
}

int mc_node_id_parse(const char *s, size_t n, struct mc_node_id *id)
{
	if (n != 2 * sizeof(id->b))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(id->b); i++) {
		int hi = mc_hexval(s[2 * i]), lo = mc_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		id->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int create_id(const char *path, struct mc_node_id *id, char *err, size_t errlen)
{
	char tmp[4096], hex[34];
	int fd, ret = 0;

	if (getrandom(id->b, sizeof(id->b), 0) != (ssize_t)sizeof(id->b))
		return mc_errf(err, errlen, -EIO, "getrandom: %s", strerror(errno));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return mc_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	mc_node_id_hex(id, hex);
	strcat(hex, "\n");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
	if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd))
		ret = mc_errf(err, errlen, -EIO, "%s: cannot write the node id", tmp);
	close(fd);
	if (!ret && rename(tmp, path))
		ret = mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
	return ret;
}

int mc_node_id_load(const char *path, bool create, struct mc_node_id *id,
		    char *err, size_t errlen)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create)
		return create_id(path, id, err, errlen);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "node id %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return mc_errf(err, errlen, -EIO, "node id %s: %s", path, strerror(errno));
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (memchr(buf, '\0', (size_t)n) || mc_node_id_parse(buf, (size_t)n, id))
		return mc_errf(err, errlen, -EINVAL,
			       "node id %s: not 32 hex digits (remove it to make a new id)", path);
	return 0;
}
