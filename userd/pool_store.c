// SPDX-License-Identifier: MIT
/*
 * See pool_store.h. Held devices hang in hash chains by blob digest and on
 * an LRU list. Per pool unit (64 KiB; a slot starts on one) the store
 * keeps the fill it took there, the CRC32C of the generation it filled,
 * and the kernel pin that covers the get()s being sent from it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "daemon.h"
#include "key.h"
#include "pool_store.h"

#define UNIT_SHIFT	16
#define DEV_BUCKETS	1024		/* power of two */
/* A held device's size only bounds its extent indices: Azure's largest blob fits. */
#define HELD_DEV_SIZE	(1ULL << 50)

struct held_dev {
	struct mc_list chain;
	struct mc_list lru;
	uint8_t blob[MAICACHE_PEER_DIGEST_SIZE];
	uint32_t extent_shift;
	uint32_t id;
};

struct unit {
	uint32_t fill_gen;		/* of the fill reserve() took, while filling */
	uint32_t crc_gen, crc;		/* the fetcher's CRC32C of generation crc_gen */
	uint32_t pin_id;
	uint32_t pins;			/* get()s that pin_id covers */
	bool filling, crc_known;
};

struct mc_pool_store {
	struct mc_daemon *d;
	struct mc_list buckets[DEV_BUCKETS];
	struct mc_list lru;		/* least recently used first */
	struct unit *units;
	uint64_t nunits;
	struct mc_pool_store_stats st;
};

static struct mc_list *bucket(struct mc_pool_store *ps, const uint8_t *blob, uint32_t shift)
{
	uint64_t h;

	memcpy(&h, blob, sizeof(h));
	return &ps->buckets[mc_mix64(h ^ shift) & (DEV_BUCKETS - 1)];
}

static struct held_dev *find_dev(struct mc_pool_store *ps, const struct mc_extent_key *k)
{
	struct held_dev *hd;

	mc_list_for_each(hd, bucket(ps, k->blob, k->extent_shift), chain) {
		if (hd->extent_shift == k->extent_shift &&
		    !memcmp(hd->blob, k->blob, sizeof(hd->blob))) {
			mc_list_del(&hd->lru);
			mc_list_add_tail(&ps->lru, &hd->lru);
			return hd;
		}
	}
	return NULL;
}

/* Remove a held device and its extents; -EBUSY while one is pinned. */
static int drop_dev(struct mc_pool_store *ps, struct held_dev *hd)
{
	char err[256];
	int ret = mc_nl_dev_del(ps->d->nl, hd->id, err, sizeof(err));

	if (ret && ret != -ENODEV)
		return ret;
	mc_list_del(&hd->chain);
	mc_list_del(&hd->lru);
	free(hd);
	ps->st.devices--;
	return 0;
}

/* Room for one more held device: the least recently used unpinned one goes. */
static bool make_room(struct mc_pool_store *ps)
{
	struct held_dev *hd, *tmp;

	mc_list_for_each_safe(hd, tmp, &ps->lru, lru) {
		if (ps->st.devices < MC_POOL_STORE_MAX_DEVICES)
			break;
		drop_dev(ps, hd);
	}
	return ps->st.devices < MC_POOL_STORE_MAX_DEVICES;
}

static struct held_dev *add_dev(struct mc_pool_store *ps, const struct mc_extent_key *k)
{
	struct mc_dev_spec spec = {
		.size = HELD_DEV_SIZE,
		.extent_size = 1U << k->extent_shift,
		.held = true,
	};
	struct mc_dev_info info;
	struct held_dev *hd;
	char err[256];
	int ret;

	if (!make_room(ps))
		return NULL;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return NULL;
	/* The cookie only names the blob to a person reading the device list. */
	memcpy(&spec.cookie, k->blob, sizeof(spec.cookie));
	ret = mc_nl_dev_add(ps->d->nl, &spec, &info, err, sizeof(err));
	if (ret) {
		ps->st.errors++;
		mc_log(ps->d, MC_LOG_WARN, "group store: %s", err);
		free(hd);
		return NULL;
	}
	memcpy(hd->blob, k->blob, sizeof(hd->blob));
	hd->extent_shift = k->extent_shift;
	hd->id = info.id;
	mc_list_add_tail(bucket(ps, k->blob, k->extent_shift), &hd->chain);
	mc_list_add_tail(&ps->lru, &hd->lru);
	ps->st.devices++;
	return hd;
}

/* The unit of a slot the module named, or NULL if it is not a slot of len bytes. */
static struct unit *slot_unit(struct mc_pool_store *ps, uint64_t off, uint32_t len)
{
	uint64_t size = ps->d->ring.pool_size;

	if (off & ((1ULL << UNIT_SHIFT) - 1) || off >= size || len > size - off)
		return NULL;
	return &ps->units[off >> UNIT_SHIFT];
}

static struct unit *unit_of(struct mc_pool_store *ps, const void *bytes)
{
	uint64_t off = (uint64_t)((const uint8_t *)bytes - ps->d->ring.pool);

	return slot_unit(ps, off, 0);
}

static uint64_t unit_index(struct mc_pool_store *ps, const struct unit *u)
{
	return (uint64_t)(u - ps->units);
}

/* Complete a fill on the ring now: a waiter's pin comes right after. */
static void complete(struct mc_pool_store *ps, struct unit *u, uint32_t status)
{
	struct mc_daemon *d = ps->d;

	/* Shutting down: the module fails the fill when the daemon detaches. */
	if (d->ring_closing)
		return;
	if (mc_miss_ring_complete(&d->ring, (uint64_t)u->fill_gen << 32 | unit_index(ps, u),
				  status) || mc_miss_ring_flush(&d->ring))
		ps->st.errors++;
}

static void *store_reserve(void *arg, const struct mc_extent_key *key, uint32_t len)
{
	struct mc_pool_store *ps = arg;
	struct held_dev *hd = find_dev(ps, key);
	struct mc_extent_slot slot;
	struct unit *u;
	char err[256];
	int ret;

	if (!hd)
		hd = add_dev(ps, key);
	if (!hd) {
		ps->st.full++;
		return NULL;
	}
	ret = mc_nl_extent_fill(ps->d->nl, hd->id, key->index, len, &slot, err, sizeof(err));
	if (ret == -EBUSY || ret == -EEXIST) {
		ps->st.full++;
		return NULL;
	}
	if (ret) {
		ps->st.errors++;
		mc_log(ps->d, MC_LOG_WARN, "group store: %s", err);
		return NULL;
	}
	u = slot_unit(ps, slot.slot_off, len);
	if (!u || u->filling || (uint32_t)slot.fill_id != slot.slot_off >> UNIT_SHIFT) {
		/* Not a slot of ours: never write there; fail the fill. */
		ps->st.errors++;
		mc_log(ps->d, MC_LOG_ERROR, "group store: the module gave slot %#" PRIx64
		       " for a fill, outside the pool", slot.slot_off);
		mc_miss_ring_complete(&ps->d->ring, slot.fill_id, EIO);
		mc_miss_ring_flush(&ps->d->ring);
		return NULL;
	}
	u->fill_gen = (uint32_t)(slot.fill_id >> 32);
	u->filling = true;
	return ps->d->ring.pool + slot.slot_off;
}

static void store_commit(void *arg, const struct mc_extent_key *key, void *buf,
			 uint32_t len, uint32_t crc32c, bool ok)
{
	struct mc_pool_store *ps = arg;
	struct unit *u = unit_of(ps, buf);

	(void)key;
	(void)len;
	if (!u || !u->filling) {
		ps->st.errors++;
		return;
	}
	u->filling = false;
	complete(ps, u, ok ? 0 : EIO);
	if (!ok) {
		ps->st.failed++;
		return;
	}
	u->crc = crc32c;
	u->crc_gen = u->fill_gen;
	u->crc_known = true;
	ps->st.stored++;
}

static void unpin(struct mc_pool_store *ps, uint32_t pin_id)
{
	char err[256];

	if (mc_nl_extent_unpin(ps->d->nl, pin_id, err, sizeof(err))) {
		ps->st.errors++;
		mc_log(ps->d, MC_LOG_WARN, "group store: %s", err);
	}
}

/*
 * The device of an attached volume whose extents are key's (the same blob
 * at the same version, cut the same): what this node's own reads brought
 * in, which it serves as a holder (fanout.h). False if none.
 */
static bool vol_dev(struct mc_pool_store *ps, const struct mc_extent_key *key, uint32_t *dev)
{
	struct mc_vol *v;

	mc_list_for_each(v, &ps->d->vols, link) {
		if (v->has_dev && v->src && v->src->shared &&
		    v->extent_size == 1U << key->extent_shift &&
		    !memcmp(v->src->ident, key->blob, sizeof(key->blob))) {
			*dev = v->dev_id;
			return true;
		}
	}
	return false;
}

static const void *store_get(void *arg, const struct mc_extent_key *key, uint32_t *len,
			     uint32_t *crc32c)
{
	struct mc_pool_store *ps = arg;
	struct held_dev *hd = find_dev(ps, key);
	struct mc_extent_slot pin;
	const uint8_t *bytes;
	bool from_vol = false;
	struct unit *u;
	char err[256];
	uint32_t dev;
	int ret = -ENOENT;

	/*
	 * What this node owns is in its held device of the blob, what it got
	 * as a reader in the attached volume's: a node that owns some extents
	 * of a blob and holds others for the fan-out has both.
	 */
	if (hd)
		ret = mc_nl_extent_pin(ps->d->nl, hd->id, key->index, &pin, err, sizeof(err));
	if (ret == -ENOENT && vol_dev(ps, key, &dev)) {
		from_vol = true;
		ret = mc_nl_extent_pin(ps->d->nl, dev, key->index, &pin, err, sizeof(err));
	}
	if (ret) {
		if (ret == -ENOENT) {
			ps->st.misses++;
		} else {
			ps->st.errors++;
			mc_log(ps->d, MC_LOG_WARN, "group store: %s", err);
		}
		return NULL;
	}
	u = slot_unit(ps, pin.slot_off, pin.len);
	if (!u || !pin.len || pin.len > 1U << key->extent_shift) {
		ps->st.errors++;
		unpin(ps, pin.pin_id);
		return NULL;
	}
	/* One kernel pin per slot covers every send from it. */
	if (u->pins)
		unpin(ps, pin.pin_id);
	else
		u->pin_id = pin.pin_id;
	if (!u->pins++)
		ps->st.pinned++;
	bytes = ps->d->ring.pool + pin.slot_off;
	if (!u->crc_known || u->crc_gen != pin.gen) {
		u->crc = mc_crc32c(bytes, pin.len);
		u->crc_gen = pin.gen;
		u->crc_known = true;
	}
	ps->st.hits++;
	ps->st.device_hits += from_vol;
	*len = pin.len;
	*crc32c = u->crc;
	return bytes;
}

static void store_release(void *arg, const void *bytes)
{
	struct mc_pool_store *ps = arg;
	struct unit *u = unit_of(ps, bytes);

	if (!u || !u->pins) {
		ps->st.errors++;
		return;
	}
	if (--u->pins)
		return;
	ps->st.pinned--;
	unpin(ps, u->pin_id);
}

const struct mc_extent_store_ops mc_pool_store_ops = {
	.get		= store_get,
	.release	= store_release,
	.reserve	= store_reserve,
	.commit		= store_commit,
};

int mc_pool_store_new(struct mc_pool_store **out, struct mc_daemon *d)
{
	struct mc_pool_store *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	ps->d = d;
	ps->nunits = d->ring.pool_size >> UNIT_SHIFT;
	ps->units = calloc(ps->nunits ? ps->nunits : 1, sizeof(*ps->units));
	if (!ps->units) {
		free(ps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < DEV_BUCKETS; i++)
		mc_list_init(&ps->buckets[i]);
	mc_list_init(&ps->lru);
	*out = ps;
	return 0;
}

void mc_pool_store_free(struct mc_pool_store *ps)
{
	struct held_dev *hd, *tmp;

	if (!ps)
		return;
	mc_list_for_each_safe(hd, tmp, &ps->lru, lru) {
		if (drop_dev(ps, hd))
			mc_log(ps->d, MC_LOG_WARN, "group store: held device %u left behind",
			       hd->id);
	}
	free(ps->units);
	free(ps);
}

void mc_pool_store_stats(struct mc_pool_store *ps, struct mc_pool_store_stats *out)
{
	struct mc_dev_info info;
	struct held_dev *hd;
	char err[256];

	*out = ps->st;
	out->extents = out->bytes = out->evicted = 0;
	mc_list_for_each(hd, &ps->lru, lru) {
		const struct mc_dev_stats *s = &info.stats;
		uint64_t gone;

		if (mc_nl_dev_get(ps->d->nl, hd->id, &info, err, sizeof(err)))
			continue;
		/* Every fill taken (a miss) ends held, failed or evicted. */
		gone = s->fill_errors + s->evictions;
		if (s->misses > gone) {
			out->extents += s->misses - gone;
			out->bytes += (s->misses - gone) << hd->extent_shift;
		}
		out->evicted += s->evictions;
	}
}

struct sweep {
	uint32_t ids[64];
	size_t n;
	bool more;
};

static int sweep_one(const struct mc_dev_info *dev, void *arg)
{
	struct sweep *s = arg;

	if (!dev->held)
		return 0;
	if (s->n == sizeof(s->ids) / sizeof(s->ids[0])) {
		s->more = true;
		return 0;
	}
	s->ids[s->n++] = dev->id;
	return 0;
}

int mc_pool_store_sweep(struct mc_daemon *d)
{
	struct sweep s;
	char err[256];
	int removed = 0;

	/* Devices cannot be removed during the dump: collect, remove, again. */
	do {
		memset(&s, 0, sizeof(s));
		if (mc_nl_dev_list(d->nl, sweep_one, &s, err, sizeof(err))) {
			mc_log(d, MC_LOG_WARN, "cannot list held devices: %s", err);
			break;
		}
		for (size_t i = 0; i < s.n; i++) {
			if (mc_nl_dev_del(d->nl, s.ids[i], err, sizeof(err))) {
				mc_log(d, MC_LOG_WARN, "cannot remove a held device: %s", err);
				return removed;
			}
			removed++;
		}
	} while (s.more);
	return removed;
}
