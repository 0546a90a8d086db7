/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * maicache release version, shared by the kernel module, the daemon and the
 * tools so that all three report the same number.
 */
#ifndef _UAPI_LINUX_MAICACHE_VERSION_H
#define _UAPI_LINUX_MAICACHE_VERSION_H

#define MAICACHE_VERSION_MAJOR	0
#define MAICACHE_VERSION_MINOR	1
#define MAICACHE_VERSION_PATCH	0
#define MAICACHE_VERSION	"0.1.0"

#endif /* _UAPI_LINUX_MAICACHE_VERSION_H */
