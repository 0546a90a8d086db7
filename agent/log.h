/* SPDX-License-Identifier: MIT */
/*
 * maicache-agent's log: one line per event on stderr (the container's
 * log), "maicache-agent: LEVEL: message". Never given a secret.
 */
#ifndef MAICACHE_AGENT_LOG_H
#define MAICACHE_AGENT_LOG_H

enum mc_agent_level { MC_AGENT_ERROR, MC_AGENT_WARN, MC_AGENT_INFO };

void mc_agent_log(enum mc_agent_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* MAICACHE_AGENT_LOG_H */
