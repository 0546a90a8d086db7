// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a device record in maicached's state directory
 * (userd/state.c), read back at start after it may have been damaged or
 * edited while the daemon was down. The input is the record file, named
 * dev-0000000000000001.conf in a fresh directory, loaded alone
 * (mc_state_load) and with the directory (mc_state_load_all). Checked
 * beyond the sanitizers: both say the same (one good record or one bad
 * file, with a message naming it); a good record has cookie 1 (its name's),
 * an extent size that is a power of two inside the module's bounds, a
 * size above 0 and a URL; and it encodes to a record that loads back to
 * the same bytes, credential included.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "maicache_genl.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "dev-0000000000000001.conf"

static char dir[64], path[128];
static struct mc_msg m1, m2;
static char enc1[MC_MSG_MAX], enc2[MC_MSG_MAX];

struct seen {
	int good, bad;
};

static void on_record(void *arg, const char *p, struct mc_dev_record *rec,
		      const char *error)
{
	struct seen *s = arg;

	if (strcmp(p, path) && !strstr(p, NAME))
		__builtin_trap();
	if (rec && !error)
		s->good++;
	else if (!rec && error && strstr(error, NAME))
		s->bad++;
	else
		__builtin_trap();	/* a bad file is named */
}

static long encode(const struct mc_dev_record *r, struct mc_msg *m, char *buf)
{
	mc_msg_init(m);
	if (mc_dev_record_to_msg(r, m))
		__builtin_trap();
	return mc_msg_encode(m, buf, MC_MSG_MAX);
}

static void check_good(const struct mc_dev_record *r)
{
	static struct mc_dev_record back;
	char err[512] = "";
	long n1, n2;

	if (r->cookie != 1 || r->size == 0 || !r->url[0] ||
	    r->extent_size < MAICACHE_EXTENT_SIZE_MIN ||
	    r->extent_size > MAICACHE_EXTENT_SIZE_MAX ||
	    (r->extent_size & (r->extent_size - 1)))
		__builtin_trap();
	n1 = encode(r, &m1, enc1);
	if (n1 < 0 || mc_msg_decode(&m2, enc1, (size_t)n1, err, sizeof(err)) ||
	    mc_dev_record_from_msg(&back, &m2, err, sizeof(err)))
		__builtin_trap();	/* what loaded must save and load again */
	n2 = encode(&back, &m2, enc2);
	if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1))
		__builtin_trap();
	mc_dev_record_clear(&back);
	mc_msg_wipe(&m1);
	mc_msg_wipe(&m2);
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mc_dev_record r;
	struct seen s = { 0, 0 };
	char err[1024] = "";
	FILE *f;
	int res, all;

	if (!dir[0]) {
		strcpy(dir, "/tmp/fuzz_state.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/%s", dir, NAME);
		atexit(remove_dir);
	}
	f = fopen(path, "w");
	if (!f)
		abort();
	if (size && fwrite(data, size, 1, f) != 1)
		abort();
	if (fclose(f))
		abort();
	res = mc_state_load(path, &r, err, sizeof(err));
	if (res > 0 || (res < 0 && !strstr(err, path)))
		__builtin_trap();
	if (!res)
		check_good(&r);
	mc_dev_record_clear(&r);
	err[0] = '\0';
	all = mc_state_load_all(dir, on_record, &s, err, sizeof(err));
	if (all != (res ? 0 : 1) || s.good != all || s.bad != (res ? 1 : 0))
		__builtin_trap();	/* the directory says what the file says */
	return 0;
}
