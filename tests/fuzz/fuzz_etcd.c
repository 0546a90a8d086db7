// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what etcd (or anything at its address) answers, through
 * peer/etcd.c: a lease answer, a member list, and a watch stream fed in
 * pieces. Bad input must be an error with a message, and a membership that
 * comes out must hold only valid, sorted, distinct members.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "etcd.h"

#define PREFIX "/maicache/groups/fuzz"

static void check_members(const struct mc_members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		if (!ms->m[i].host[0] || !ms->m[i].port[0])
			__builtin_trap();
		if (i && memcmp(ms->m[i - 1].id.b, ms->m[i].id.b, sizeof(ms->m[i].id.b)) >= 0)
			__builtin_trap();	/* sorted, no id twice */
	}
}

static struct mc_members watched;

static void on_event(void *arg, const struct mc_node_id *id, const struct mc_member *m)
{
	(void)arg;
	mc_members_apply(&watched, id, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct mc_members ms = { 0 };
	struct mc_etcd_watch w;
	struct mc_etcd_page page = { 0 };
	int64_t lease, ttl;
	char err[256];
	size_t cut;

	err[0] = 0;
	if (mc_etcd_lease_parse(body, size, &lease, &ttl, err, sizeof(err)) && !err[0])
		__builtin_trap();
	err[0] = 0;
	if (mc_etcd_members_parse(body, size, PREFIX, &ms, &page, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
	} else {
		check_members(&ms);
		if (page.more && (!page.last_len || page.last_len > sizeof(page.last)))
			__builtin_trap();	/* a next page with nowhere to start */
	}
	mc_members_free(&ms);

	/* A watch stream, cut in two where the first byte says. */
	mc_etcd_watch_init(&w, PREFIX);
	cut = size ? data[0] % (size + 1) : 0;
	if (!mc_etcd_watch_feed(&w, body, cut, on_event, NULL, err, sizeof(err)))
		mc_etcd_watch_feed(&w, body + cut, size - cut, on_event, NULL, err, sizeof(err));
	check_members(&watched);
	mc_members_free(&watched);
	mc_etcd_watch_free(&w);
	return 0;
}
