/* SPDX-License-Identifier: MIT */
/*
 * maicached's configuration: defaults, the config file and command-line
 * overrides (--set key=value), all through the same validation.
 *
 * File format (default MC_CONFIG_FILE; a missing default file means all
 * defaults):
 *
 *   # comment (whole lines only: paths may hold '#')
 *   engine = io_uring
 *   max_parallel = 32
 *   backoff_base = 200ms
 *   request_timeout = 30s
 *
 * Unknown keys, repeated keys and out-of-range values are errors naming
 * file:line and the key. Durations take a bare number of milliseconds or
 * an "ms" or "s" suffix; sizes take K, M, G or T (powers of 1024).
 */
#ifndef MAICACHE_CONFIG_H
#define MAICACHE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_client.h"
#include "loop.h"
#include "ring_map.h"

#define MC_CONFIG_FILE		"/etc/maicache/maicached.conf"
#define MC_CONFIG_STATE_DIR	"/var/lib/maicache"
#define MC_CONFIG_PATH_MAX	4096
#define MC_GROUP_NAME_MAX	128
#define MC_PEER_ADDR_MAX	72	/* "[v6]:port" */
#define MC_REGION_MAX		32	/* peer/members.h */
#define MC_HOME_REGIONS_MAX	256
#define MC_ETCD_ENDPOINT_MAX	200
#define MC_METRICS_LISTEN_DEFAULT	"127.0.0.1:9464"	/* userd/metrics.h */

/* Where a node keeps the extents it holds for its group. */
enum mc_group_store {
	MC_GROUP_STORE_POOL,	/* the kernel's pool, on held devices */
	MC_GROUP_STORE_MEMORY,	/* the daemon's memory, group_store_size */
};

/* RDMA between peers (docs/peers.md). */
enum mc_peer_rdma {
	MC_PEER_RDMA_AUTO,	/* where the peer address has an RDMA device */
	MC_PEER_RDMA_OFF,
};

enum mc_log_level {
	MC_LOG_ERROR,
	MC_LOG_WARN,
	MC_LOG_INFO,
	MC_LOG_DEBUG,
};

struct mc_config {
	enum mc_engine engine;			/* auto */
	char socket[MC_SOCKET_PATH_MAX];	/* MC_SOCKET_DEFAULT */
	char state_dir[MC_CONFIG_PATH_MAX];	/* MC_CONFIG_STATE_DIR */
	char device[MC_CONFIG_PATH_MAX];	/* MC_RING_DEVICE */
	unsigned int max_parallel;		/* 16, 1..1024 */
	unsigned int max_retries;		/* 5, 0..100 */
	uint64_t backoff_base_ms;		/* 100, 1ms..60s */
	uint64_t backoff_max_ms;		/* 5000, 1ms..10min, >= base */
	uint64_t request_timeout_ms;		/* 30000, 100ms..1h */
	uint64_t read_deadline_ms;		/* 60000, 0 (none) or 100ms..24h,
						 * >= request_timeout */
	unsigned int verify_md5;		/* 1: blob bodies checked
						 * against their MD5; 0: not */
	uint64_t blob_split;			/* 0 (one GET per fill) or
						 * 64K..4M: GETs per fill of
						 * at most this many bytes */
	unsigned int file_parallel;		/* 1: reads of a regular file
						 * may run on several kernel
						 * threads at once; 0: not */
	uint64_t file_split;			/* 0 (one read per fill) or
						 * 64K..4M: reads per fill of
						 * at most this many bytes */
	unsigned int pool_prefault;		/* 1: a thread maps the pool's
						 * pages before fills need
						 * them (prefault.h); 0: not */
	uint64_t shutdown_grace_ms;		/* 10000, 0..10min: fills may
						 * finish after SIGTERM */
	enum mc_log_level log_level;		/* info */

	/* The cache group (docs/peers.md): off while group is "". */
	char group[MC_GROUP_NAME_MAX];		/* "", [A-Za-z0-9._-] */
	char group_key[MC_CONFIG_PATH_MAX];	/* the key file, mode 0600 */
	char group_members[MC_CONFIG_PATH_MAX];	/* the membership file, or: */
	char group_etcd[MC_ETCD_ENDPOINT_MAX];	/* etcd's client URL, http://host:port */
	uint64_t group_lease_ttl_ms;		/* 10000, 2s..10min: an etcd lease */
	char peer_listen[MC_PEER_ADDR_MAX];	/* 0.0.0.0:7117 */
	char peer_advertise[MC_PEER_ADDR_MAX];	/* "": peer_listen; what peers dial */
	enum mc_group_store group_store;	/* pool: the extents kept for the group */
	uint64_t group_store_size;		/* 256M, 4M..1T: the memory store's size */
	enum mc_peer_rdma peer_rdma;		/* auto */
	uint64_t peer_timeout_ms;		/* 2000, 10ms..1min: one peer's answer */
	unsigned int peer_tries;		/* 3, 1..16: peers asked per miss */
	unsigned int peer_fanout;		/* 4, 0..1024: K sends of an extent at once (0: off) */
	uint64_t fetch_lease_ms;		/* 10000, 100ms..10min: a fetch turn */

	/* The tier between groups (userd/home.h): off while home_registry is "". */
	char region[MC_REGION_MAX];		/* "", [a-z0-9-]: this node's */
	char home_registry[MC_CONFIG_PATH_MAX];	/* the gateways, members file format */
	char home_key[MC_CONFIG_PATH_MAX];	/* the cluster's key file, mode 0600 */
	char home_listen[MC_PEER_ADDR_MAX];	/* a gateway's address for other groups */
	char home_regions[MC_HOME_REGIONS_MAX];	/* "": none; regions asked after this one */

	char metrics_listen[MC_PEER_ADDR_MAX];	/* 127.0.0.1:9464; "": no /metrics */
};

void mc_config_defaults(struct mc_config *cfg);

/*
 * Fill cfg with the defaults, then apply the file. path NULL: the default
 * file, which may be missing; a path the user gave must exist. Ends with
 * mc_config_check(). 0 or a negative errno with "FILE:LINE: KEY: ..." in
 * err.
 */
int mc_config_load(const char *path, struct mc_config *cfg,
		   char *err, size_t errlen);

/*
 * Set one key from its text form, as in the file. 0, or -EINVAL with
 * "KEY: ..." (or "unknown key 'KEY'") in err. Checks the value alone: run
 * mc_config_check() after the last override.
 */
int mc_config_set(struct mc_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen);
/* The same from "key=value" (a --set argument). */
int mc_config_set_arg(struct mc_config *cfg, const char *arg,
		      char *err, size_t errlen);

/* Rules between keys (backoff_max >= backoff_base, ...). 0 or -EINVAL. */
int mc_config_check(const struct mc_config *cfg, char *err, size_t errlen);

/* "error", "warn", "info", "debug". */
const char *mc_log_level_name(enum mc_log_level level);

/* Key i of the file, in the parser's order; NULL past the last. */
const char *mc_config_key_name(size_t i);

#endif /* MAICACHE_CONFIG_H */
