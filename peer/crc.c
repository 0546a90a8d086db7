// SPDX-License-Identifier: MIT
/* See crc.h. */
#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#include <limits.h>

#include "crc.h"

uint32_t mc_crc32c(const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;	/* ISA-L does not write */
	uint32_t crc = 0xffffffffU;

	/* ISA-L takes an int length: feed it in chunks. */
	while (len) {
		int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;

		crc = crc32_iscsi(p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc ^ 0xffffffffU;
}

uint64_t mc_crc64(const void *buf, size_t len)
{
	return crc64_ecma_refl(0, buf, len);
}
