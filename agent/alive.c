// SPDX-License-Identifier: MIT
/* The agent's heartbeat file (alive.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"

static int alive_path(const char *state_dir, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", state_dir, MC_ALIVE_FILE);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int mc_agent_beat(const char *state_dir)
{
	char path[4096];
	int fd, ret;

	ret = alive_path(state_dir, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	ret = futimens(fd, NULL) ? -errno : 0;
	close(fd);
	return ret;
}

bool mc_agent_beat_recent(uint64_t beat_ms, uint64_t now_ms, unsigned int interval_ms)
{
	uint64_t limit = (uint64_t)interval_ms * MC_ALIVE_PASSES + MC_ALIVE_SLACK_MS;

	/* A beat in the future (the clock stepped back) is not held against it. */
	return beat_ms >= now_ms || now_ms - beat_ms <= limit;
}

int mc_agent_alive(const char *state_dir, unsigned int interval_ms, char *msg, size_t len)
{
	uint64_t beat_ms, now_ms;
	struct timespec now;
	char path[4096];
	struct stat st;

	if (alive_path(state_dir, path, sizeof(path))) {
		snprintf(msg, len, "%s: path too long", state_dir);
		return 1;
	}
	if (stat(path, &st)) {
		snprintf(msg, len, "%s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (the agent has not finished a pass yet)" : "");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	beat_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
	now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (!mc_agent_beat_recent(beat_ms, now_ms, interval_ms)) {
		snprintf(msg, len, "%s: the agent's last pass ended %" PRIu64 " s ago, more than %u intervals of %u ms",
			 path, (now_ms - beat_ms) / 1000, MC_ALIVE_PASSES, interval_ms);
		return 1;
	}
	snprintf(msg, len, "%s: the agent's last pass ended %" PRIu64 " ms ago", path,
		 now_ms > beat_ms ? now_ms - beat_ms : 0);
	return 0;
}
