/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * maicache generic-netlink control ABI.
 *
 * Family "maicache". Every command needs CAP_SYS_ADMIN. Attributes not
 * listed for a command are rejected. Integers are host-endian, as usual for
 * netlink. Enumerations only ever grow: values are never renumbered.
 */
#ifndef _UAPI_LINUX_MAICACHE_GENL_H
#define _UAPI_LINUX_MAICACHE_GENL_H

#define MAICACHE_GENL_NAME		"maicache"
/* Bumped when a command changes meaning; new commands/attributes don't. */
#define MAICACHE_GENL_VERSION		1
#define MAICACHE_GENL_MCAST_EVENTS	"events"

enum maicache_cmd {
	MAICACHE_CMD_UNSPEC,
	/*
	 * Reply: MAICACHE_ATTR_VERSION, MAICACHE_ATTR_VERSION_MAJOR/MINOR/PATCH,
	 * MAICACHE_ATTR_GENL_VERSION.
	 */
	MAICACHE_CMD_GET_VERSION,
	__MAICACHE_CMD_MAX,
};
#define MAICACHE_CMD_MAX (__MAICACHE_CMD_MAX - 1)

enum maicache_attr {
	MAICACHE_ATTR_UNSPEC,
	MAICACHE_ATTR_VERSION,		/* string, e.g. "0.1.0" */
	MAICACHE_ATTR_VERSION_MAJOR,	/* u32 */
	MAICACHE_ATTR_VERSION_MINOR,	/* u32 */
	MAICACHE_ATTR_VERSION_PATCH,	/* u32 */
	MAICACHE_ATTR_GENL_VERSION,	/* u32, MAICACHE_GENL_VERSION */
	__MAICACHE_ATTR_MAX,
};
#define MAICACHE_ATTR_MAX (__MAICACHE_ATTR_MAX - 1)

#endif /* _UAPI_LINUX_MAICACHE_GENL_H */
