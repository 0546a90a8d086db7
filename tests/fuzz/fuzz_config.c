// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the daemon's configuration file (userd/config.c) as a
 * user or a broken deploy would write it. The file is read from a memfd,
 * as mc_config_load() reads a path. Whatever the bytes, loading ends in 0
 * or a negative errno with a message that names where it went wrong, and
 * a config that loads also passes mc_config_check(); every line of the
 * input is then also tried as a --set argument.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_config cfg;
	char path[64], err[512], line[512];
	int fd = memfd_create("maicached.conf", MFD_CLOEXEC), ret;
	size_t start = 0;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	ret = mc_config_load(path, &cfg, err, sizeof(err));
	close(fd);
	if (ret > 0 || (ret < 0 && !err[0]))
		__builtin_trap();	/* a refusal always says why */
	if (!ret && mc_config_check(&cfg, err, sizeof(err)))
		__builtin_trap();	/* loaded, so it passed the checks */
	mc_config_defaults(&cfg);
	for (size_t i = 0; i <= size; i++) {
		size_t n = i - start;

		if (i < size && data[i] != '\n')
			continue;
		if (n < sizeof(line)) {
			memcpy(line, data + start, n);
			line[n] = '\0';
			err[0] = '\0';
			ret = mc_config_set_arg(&cfg, line, err, sizeof(err));
			if (ret && !err[0])
				__builtin_trap();
		}
		start = i + 1;
	}
	return 0;
}
