/* SPDX-License-Identifier: MIT */
/*
 * Client of the maicache generic netlink family, shared by maicached and
 * maicachectl. Every call returns 0 or a negative errno and, on error,
 * writes a message for the user into err (the kernel's extack message when
 * there is one).
 */
#ifndef MAICACHE_NLCLIENT_H
#define MAICACHE_NLCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "maicache_genl.h"
#include "maicache_volume_name.h"

struct mc_nl;

struct mc_version {
	char version[32];
	uint32_t major, minor, patch;
	uint32_t genl_version;
};

struct mc_dev_stats {
	uint64_t hits, misses, bytes_hit, bytes_filled, evictions, fill_errors;
	uint64_t prefetched, prefetch_used, prefetch_unused;	/* readahead */
	uint64_t fill_latency[MAICACHE_FILL_LATENCY_BUCKETS];
	uint64_t fill_latency_ns;	/* their sum */
	uint64_t warmed;		/* of the misses, fetched by a warmup */
};

/*
 * Fills of the device sent and not ended: misses less every fill counted
 * in fill_latency[] (each fill that ends, done or failed, is counted there
 * once). 0 if the counters were read across a fill's end.
 */
uint64_t mc_dev_fills_in_flight(const struct mc_dev_stats *s);

struct mc_dev_info {
	uint32_t id;
	char name[32];
	uint64_t size;
	uint32_t block_size;
	uint32_t extent_size;
	uint64_t cookie;
	bool stale;		/* the source changed: no more fills */
	bool held;		/* a held device: no disk (EXTENT_FILL) */
	bool whole_extents;	/* every fill is a whole extent, never a part */
	char volume_name[MAICACHE_VOLUME_NAME_MAX];	/* "": none */
	struct mc_dev_stats stats;
};

/* What to create; zero fields take the module's defaults. */
struct mc_dev_spec {
	bool has_id;
	uint32_t id;
	uint64_t size;
	uint32_t block_size;
	uint32_t extent_size;
	uint64_t cookie;
	bool held;		/* a held device: no id, no block size */
	/*
	 * NULL or "": none. Left out for a module older than the attribute
	 * (it would refuse the request): the reply's volume_name is "" then.
	 */
	const char *volume_name;
	/* Never fill parts (a cache group's device); left out when false. */
	bool whole_extents;
};

struct mc_pool_info {
	uint64_t size, used;
	bool daemon_attached;
	uint32_t daemon_pid;
	uint64_t bad_completions;
	uint32_t daemon_timeout_ms;
	uint32_t pins, max_pins;
};

/* A slot taken for a fill, or pinned: where it is in the pool region. */
struct mc_extent_slot {
	uint64_t fill_id;	/* EXTENT_FILL: complete it on the ring */
	uint32_t pin_id;	/* EXTENT_PIN */
	uint64_t slot_off;
	uint32_t len, gen;	/* EXTENT_PIN */
};

/*
 * The kernel's extended-ack message of the NLMSG_ERROR nlh (nlmsg_len
 * bytes, as received) into buf: 0, -ENOENT (none) or -EPROTO (the
 * attributes or the echoed request do not fit in the message).
 */
struct nlmsghdr;
int mc_nl_extack_msg(const struct nlmsghdr *nlh, char *buf, size_t len);

struct mc_nl *mc_nl_open(char *err, size_t errlen);
void mc_nl_close(struct mc_nl *nl);

int mc_nl_get_version(struct mc_nl *nl, struct mc_version *out,
		      char *err, size_t errlen);
int mc_nl_dev_add(struct mc_nl *nl, const struct mc_dev_spec *spec,
		  struct mc_dev_info *out, char *err, size_t errlen);
int mc_nl_dev_del(struct mc_nl *nl, uint32_t id, char *err, size_t errlen);
/* Mark the device stale: reads that need a fill fail; an event goes out. */
int mc_nl_dev_set_stale(struct mc_nl *nl, uint32_t id, char *err, size_t errlen);
int mc_nl_dev_get(struct mc_nl *nl, uint32_t id, struct mc_dev_info *out,
		  char *err, size_t errlen);
/* Calls fn for each device; fn returns 0 to go on. */
int mc_nl_dev_list(struct mc_nl *nl,
		   int (*fn)(const struct mc_dev_info *dev, void *arg),
		   void *arg, char *err, size_t errlen);
int mc_nl_pool_get(struct mc_nl *nl, struct mc_pool_info *out,
		   char *err, size_t errlen);
/* size 0 or timeout_ms UINT32_MAX: leave as is. */
int mc_nl_pool_set(struct mc_nl *nl, uint64_t size, uint32_t timeout_ms,
		   char *err, size_t errlen);
/*
 * Held extents, for the attached daemon only (maicache_genl.h): take a slot
 * of extent `extent` of the held device `dev_id` to fill with len bytes;
 * pin a readable extent of any device; end a pin.
 */
int mc_nl_extent_fill(struct mc_nl *nl, uint32_t dev_id, uint64_t extent, uint32_t len,
		      struct mc_extent_slot *out, char *err, size_t errlen);
int mc_nl_extent_pin(struct mc_nl *nl, uint32_t dev_id, uint64_t extent,
		     struct mc_extent_slot *out, char *err, size_t errlen);
int mc_nl_extent_unpin(struct mc_nl *nl, uint32_t pin_id, char *err, size_t errlen);
/* What one EXTENT_WARM did (maicache_genl.h). */
struct mc_warm_reply {
	uint32_t queued;	/* fills sent */
	uint32_t ready;		/* extents cached already */
	uint32_t filling;	/* extents being filled already */
	uint64_t next;		/* the first extent it did not look at */
	bool busy;		/* stopped for want of room: call again later */
};

/*
 * Fetch extents [first, last] of device dev_id into the pool with no
 * reader, as far as one call goes. -EOPNOTSUPP with a message when the
 * loaded module has no EXTENT_WARM.
 */
int mc_nl_extent_warm(struct mc_nl *nl, uint32_t dev_id, uint64_t first, uint64_t last,
		      struct mc_warm_reply *out, char *err, size_t errlen);
/* Call fn for each event as it comes, until fn returns non-zero. */
int mc_nl_monitor(struct mc_nl *nl, int (*fn)(int cmd, struct nlattr **tb,
					      void *arg),
		  void *arg, char *err, size_t errlen);

/* Decoders of parsed replies; 0 or -EPROTO. Exposed for the unit tests. */
int mc_version_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
			  struct mc_version *out);
int mc_dev_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
		      struct mc_dev_info *out);
int mc_warm_from_attrs(struct nlattr *tb[MAICACHE_ATTR_MAX + 1],
		       struct mc_warm_reply *out);

#endif /* MAICACHE_NLCLIENT_H */
