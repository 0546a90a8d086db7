/* SPDX-License-Identifier: MIT */
/*
 * Whether /dev/maicacheN is in use by a file system or another exclusive
 * holder, before it is removed (maicachectl remove, maicached's detach).
 * The module removes a device whoever holds it open: reads in flight end
 * with EIO and a file system mounted on it reads EIO from then on. That is
 * what --force asks for; without it the tools refuse a device that a
 * mount (or md, dm, another O_EXCL opener) holds, which is what a detach
 * by mistake under a training job would be.
 *
 * The claim is an O_EXCL open of the device node, which the kernel refuses
 * with EBUSY while a mount or another exclusive opener holds the device;
 * kept until the removal is done, it also keeps a mount from starting in
 * between. Plain readers (fio, dd, a page-cache reader) do not hold it.
 */
#ifndef MAICACHE_DEV_CLAIM_H
#define MAICACHE_DEV_CLAIM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Claim /dev/maicache@id: the open descriptor in *fd, or -1 when there is
 * no device node to claim (no devtmpfs, or the device is gone: the removal
 * itself says so). -EBUSY, with a message naming the device and --force,
 * when it is held; another -errno for another failure of the open.
 */
int mc_dev_claim(uint32_t id, int *fd, char *err, size_t errlen);

/* Let go of a claim (fd -1: none). */
void mc_dev_unclaim(int fd);

#endif /* MAICACHE_DEV_CLAIM_H */
