// SPDX-License-Identifier: MIT
/* See ring_map.h. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "errmsg.h"
#include "ring_hdr.h"
#include "ring_map.h"

int mc_ring_open(struct mc_ring_map *m, const char *dev, char *err,
		 size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (m->fd >= 0)
		return 0;
	switch (errno) {
	case EBUSY:
		return mc_errf(err, errlen, -EBUSY,
			       "%.256s: another daemon is attached (one at a time): stop it first",
			       dev);
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return mc_errf(err, errlen, -errno,
			       "%.256s: no such device: is the maicache module loaded? (modprobe maicache)",
			       dev);
	case EACCES:
	case EPERM:
		return mc_errf(err, errlen, -errno, "%.256s: permission denied: run as root", dev);
	default:
		return mc_errf(err, errlen, -errno, "%.256s: %s", dev, strerror(errno));
	}
}

static int map_one(struct mc_ring_map *m, const char *dev, const char *what,
		   size_t len, int prot, uint64_t off, void **out,
		   char *err, size_t errlen)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, m->fd, (off_t)off);

	if (p == MAP_FAILED)
		return mc_errf(err, errlen, -errno,
			       "%.256s: cannot map the %s region (offset 0x%llx, %zu bytes): %s",
			       dev, what, (unsigned long long)off, len, strerror(errno));
	*out = p;
	return 0;
}

static void unmap_all(struct mc_ring_map *m)
{
	if (m->pool)
		munmap(m->pool, m->pool_len);
	if (m->cpl)
		munmap(m->cpl, m->cpl_len);
	if (m->miss)
		munmap(m->miss, m->miss_len);
	m->pool = m->cpl = m->miss = NULL;
}

int mc_ring_map(struct mc_ring_map *m, const char *dev, char *err,
		size_t errlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const struct maicache_miss_hdr *h;
	const char *bad;
	void *p;
	int ret;

	ret = map_one(m, dev, "miss header", page, PROT_READ, MAICACHE_MMAP_MISS,
		      &p, err, errlen);
	if (ret)
		return ret;
	h = p;
	bad = mc_hdr_check(h);
	if (!bad) {
		m->miss_len = mc_miss_region_size(h, page);
		m->cpl_len = mc_cpl_region_size(h, page);
		m->pool_size = le64toh(h->pool_size);
		if (m->pool_size > SIZE_MAX - page)
			bad = "the pool does not fit the address space";
	}
	munmap(p, page);
	if (bad)
		return mc_errf(err, errlen, -EPROTO, "%.256s: %s", dev, bad);
	m->pool_len = (size_t)(m->pool_size + page - 1) / page * page;

	ret = map_one(m, dev, "miss", m->miss_len, PROT_READ, MAICACHE_MMAP_MISS,
		      &m->miss, err, errlen);
	if (ret)
		goto fail;
	/* The header may have changed between the two maps. */
	h = m->miss;
	bad = mc_hdr_check(h);
	if (bad || mc_miss_region_size(h, page) != m->miss_len ||
	    mc_cpl_region_size(h, page) != m->cpl_len ||
	    le64toh(h->pool_size) != m->pool_size) {
		ret = mc_errf(err, errlen, -EPROTO,
			      "%.256s: the ring header changed while attaching%s%s",
			      dev, bad ? ": " : "", bad ? bad : "");
		goto fail;
	}
	ret = map_one(m, dev, "completion", m->cpl_len, PROT_READ | PROT_WRITE,
		      MAICACHE_MMAP_CPL, &m->cpl, err, errlen);
	if (!ret)
		ret = map_one(m, dev, "pool", m->pool_len, PROT_READ | PROT_WRITE,
			      MAICACHE_MMAP_POOL, &m->pool, err, errlen);
	if (!ret)
		return 0;
fail:
	unmap_all(m);
	return ret;
}

void mc_ring_close(struct mc_ring_map *m)
{
	unmap_all(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

int mc_ring_kick_fd(int fd)
{
	uint64_t one = htole64(1);
	ssize_t n;

	do {
		n = write(fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(one) ? 0 : -EIO;
}
