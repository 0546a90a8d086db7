/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * The type of every attribute of the maicache genetlink family, one line
 * each: MAICACHE_ATTR(NAME, TYPE, RULE) for MAICACHE_ATTR_NAME, of netlink
 * type NLA_TYPE. RULE is what the module accepts in a request: ANY (any
 * value of the type), MIN1 (at least 1), MAX1 (0 or 1), or REPLY (only ever
 * sent by the module: refused in a request). Ranges that need a message
 * naming the rule (block and extent sizes) are checked in code.
 *
 * No include guard: the includer defines MAICACHE_ATTR() to build its table
 * and the list is expanded where it is included.
 */
MAICACHE_ATTR(VERSION,		NUL_STRING,	REPLY)
MAICACHE_ATTR(VERSION_MAJOR,	U32,		REPLY)
MAICACHE_ATTR(VERSION_MINOR,	U32,		REPLY)
MAICACHE_ATTR(VERSION_PATCH,	U32,		REPLY)
MAICACHE_ATTR(GENL_VERSION,	U32,		REPLY)
MAICACHE_ATTR(DEV_ID,		U32,		ANY)
MAICACHE_ATTR(DEV_NAME,		NUL_STRING,	ANY)
MAICACHE_ATTR(DEV_SIZE,		U64,		MIN1)
MAICACHE_ATTR(DEV_BLOCK_SIZE,	U32,		ANY)
MAICACHE_ATTR(DEV_EXTENT_SIZE,	U32,		ANY)
MAICACHE_ATTR(DEV_READ_ONLY,	U8,		MAX1)
MAICACHE_ATTR(DEV_COOKIE,	U64,		ANY)
MAICACHE_ATTR(DEV_STATS,	NESTED,		REPLY)
MAICACHE_ATTR(POOL_SIZE,	U64,		MIN1)
MAICACHE_ATTR(POOL_USED,	U64,		REPLY)
MAICACHE_ATTR(DAEMON_ATTACHED,	U8,		REPLY)
MAICACHE_ATTR(DAEMON_PID,	U32,		REPLY)
MAICACHE_ATTR(BAD_COMPLETIONS,	U64,		REPLY)
MAICACHE_ATTR(DAEMON_TIMEOUT_MS, U32,		ANY)
MAICACHE_ATTR(DEV_STALE,	U8,		MAX1)
