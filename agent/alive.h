/* SPDX-License-Identifier: MIT */
/*
 * The agent's heartbeat, for its liveness probe. The running agent touches
 * STATE_DIR/alive after every pass of its loop (reconcile.h), which comes
 * at least once an --interval; `maicache-agent --alive` says whether the
 * last touch is recent enough. An agent stuck (a mount or a request that
 * never returns) stops touching it, and the kubelet restarts its container.
 *
 * "Recent enough" is MC_ALIVE_PASSES intervals plus MC_ALIVE_SLACK_MS: a
 * pass may itself take a while (a device node waited for, --device-timeout,
 * per dataset), and the probe's own failureThreshold adds to it. The file's
 * time is the wall clock's: a clock stepped forwards by more than that
 * reads as one failed probe.
 */
#ifndef MAICACHE_AGENT_ALIVE_H
#define MAICACHE_AGENT_ALIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_ALIVE_FILE		"alive"
#define MC_ALIVE_PASSES		3
#define MC_ALIVE_SLACK_MS	10000

/* Touch STATE_DIR/alive (created if missing). 0 or -errno. */
int mc_agent_beat(const char *state_dir);

/*
 * Whether a beat at @beat_ms is recent at @now_ms for an agent whose loop
 * turns every @interval_ms (both times in ms of the same clock).
 */
bool mc_agent_beat_recent(uint64_t beat_ms, uint64_t now_ms, unsigned int interval_ms);

/*
 * The probe: 0 when STATE_DIR/alive was touched recently, 1 otherwise,
 * with the reason (never touched, how long ago) in @msg.
 */
int mc_agent_alive(const char *state_dir, unsigned int interval_ms, char *msg, size_t len);

#endif /* MAICACHE_AGENT_ALIVE_H */
