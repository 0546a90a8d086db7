/* SPDX-License-Identifier: MIT */
/*
 * CRC32C (Castagnoli, as iSCSI and ext4 use), the checksum every extent
 * carries between nodes: computed by the node that fetched it from Blob,
 * checked by every receiver before the kernel may serve the slot. From
 * ISA-L (Debian's libisal), which picks the fastest code the CPU has
 * (SSE4.2 crc32, PCLMUL folding): at 400 Gb/s a node checks ~50 GB/s, so a
 * byte-at-a-time CRC would cost more cores than the copy it guards.
 */
#ifndef MAICACHE_PEER_CRC_H
#define MAICACHE_PEER_CRC_H

#include <stddef.h>
#include <stdint.h>

/* The standard CRC32C of buf ("123456789" -> 0xe3069283). */
uint32_t mc_crc32c(const void *buf, size_t len);

/*
 * CRC-64/XZ (ECMA-182, reflected; "123456789" -> 0x995dc9bbdf1939fa), also
 * ISA-L's: with the CRC32C it names an extent's bytes by 96 bits where a
 * stale copy must be told apart from the real one (client.h).
 */
uint64_t mc_crc64(const void *buf, size_t len);

#endif /* MAICACHE_PEER_CRC_H */
