// SPDX-License-Identifier: MIT
/*
 * maicachectl peers: the daemon's cache group (members, each one's share
 * of ownership, bytes fetched from and served to it, errors) and the
 * group's counters, which stats shows as well.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "json.h"
#include "maicachectl.h"

static const char *const group_numbers[] = {
	"members", "in_members", "fetches", "from_peers", "from_source", "turns", "waits",
	"bad_data", "nacks", "timeouts", "no_conn", "gets_served", "served", "served_bytes",
	"puts", "bad_puts", "stray_puts", "local_gets", "local_served", "store_bytes",
	"store_capacity", "store_extents", "store_evicted", "store_pinned", "store_full",
	"store_errors", "rdma", "rdma_port", "rdma_links", "rdma_rejected", "rdma_dropped",
	"rdma_full", "rdma_reads",
	"rdma_bytes", "rdma_errors", "rdma_direct", "rdma_stale", "rdma_locs", "rdma_dones", "rdma_lapsed", "auth_failures", "bad_frames", "cut_short",
	"accepted", "refused", "membership_changes", "etcd_reachable", "etcd_registered",
	"etcd_failures", "etcd_events", "fanout", "fan_redirected", "fan_queued", "fan_haves",
	"fan_peak", "holder_asks", "from_holders", "holder_fails", "holder_served",
	"holder_copies", "holder_not_held",
};

static const char *const home_numbers[] = {
	"gateways", "regions", "gateway", "reads", "from_home", "turns", "fallbacks", "local",
	"waits", "nacks", "timeouts", "no_conn", "gets_served", "served", "puts",
};

static const char *num(const struct mc_msg *m, const char *key)
{
	const char *v = mc_msg_get(m, key);

	return v ? v : "?";
}

void mc_group_print(const struct mc_msg *m)
{
	char field[64];
	size_t i;

	if (!mc_msg_get(m, "group"))
		return;
	if (json) {
		printf(",\"group\":{");
		mc_json_str(stdout, "name");
		printf(":");
		mc_json_str(stdout, mc_msg_get(m, "group"));
		mc_json_member(stdout, "node_id", mc_msg_get(m, "group_node_id"));
		mc_json_member(stdout, "listen", mc_msg_get(m, "group_listen"));
		mc_json_member(stdout, "membership", mc_msg_get(m, "group_membership"));
		mc_json_member(stdout, "store", mc_msg_get(m, "group_store"));
		for (i = 0; i < sizeof(group_numbers) / sizeof(group_numbers[0]); i++) {
			snprintf(field, sizeof(field), "group_%s", group_numbers[i]);
			json_u64(m, field, group_numbers[i]);
		}
		if (!strcmp(num(m, "group_home"), "1")) {
			/* json_u64() writes a comma first: a first member without one. */
			printf(",\"home\":{\"on\":true");
			for (i = 0; i < sizeof(home_numbers) / sizeof(home_numbers[0]); i++) {
				/* Named in full: "turns" alone is also the group's. */
				snprintf(field, sizeof(field), "home_%s", home_numbers[i]);
				json_u64(m, field, field);
			}
			printf("}");
		}
		printf("}");
		return;
	}
	printf("  group %s: node %s on %s, %s members from %s (%s changes)%s\n", mc_msg_get(m, "group"),
	       num(m, "group_node_id"), num(m, "group_listen"), num(m, "group_members"),
	       num(m, "group_membership"), num(m, "group_membership_changes"),
	       strcmp(num(m, "group_in_members"), "1") ? " (this node is not one: it owns nothing)" : "");
	if (!strcmp(num(m, "group_membership"), "etcd"))
		printf("  group etcd: %s, %s; %s failed requests, %s events\n",
		       strcmp(num(m, "group_etcd_reachable"), "1") ? "unreachable (last membership kept)" : "reachable",
		       strcmp(num(m, "group_etcd_registered"), "1") ? "not registered" : "registered",
		       num(m, "group_etcd_failures"), num(m, "group_etcd_events"));
	printf("  group misses: %s, from peers %s, from the source %s (turns %s), waited %s\n",
	       num(m, "group_fetches"), num(m, "group_from_peers"), num(m, "group_from_source"),
	       num(m, "group_turns"), num(m, "group_waits"));
	printf("  group errors: bad data %s, NACKs %s, timeouts %s, unreachable %s, auth failures %s, bad frames %s, cut short %s\n",
	       num(m, "group_bad_data"), num(m, "group_nacks"), num(m, "group_timeouts"),
	       num(m, "group_no_conn"), num(m, "group_auth_failures"), num(m, "group_bad_frames"),
	       num(m, "group_cut_short"));
	printf("  group serving: %s GETs from peers, %s answered with data (%s bytes), %s PUTs (%s bad, %s stray); own misses %s (%s from the store)\n",
	       num(m, "group_gets_served"), num(m, "group_served"), num(m, "group_served_bytes"),
	       num(m, "group_puts"), num(m, "group_bad_puts"), num(m, "group_stray_puts"),
	       num(m, "group_local_gets"), num(m, "group_local_served"));
	if (!strcmp(num(m, "group_rdma"), "1"))
		printf("  group RDMA: on, port %s, %s links up, %s refused, %s closed and %s refused past the bound; read %s extents, %s more at a remembered place (%s stale; %s bytes, %s errors); peers read %s (%s done, %s lapsed)\n",
		       num(m, "group_rdma_port"), num(m, "group_rdma_links"),
		       num(m, "group_rdma_rejected"), num(m, "group_rdma_dropped"),
		       num(m, "group_rdma_full"), num(m, "group_rdma_reads"),
		       num(m, "group_rdma_direct"), num(m, "group_rdma_stale"),
		       num(m, "group_rdma_bytes"), num(m, "group_rdma_errors"),
		       num(m, "group_rdma_locs"), num(m, "group_rdma_dones"),
		       num(m, "group_rdma_lapsed"));
	else
		printf("  group RDMA: off (TCP only)\n");
	if (strcmp(num(m, "group_fanout"), "0"))
		printf("  group fan-out: at most %s sends of an extent at once (peak %s); sent %s requesters to holders, queued %s, %s HAVEs; as a requester %s sent to holders, %s got from them, %s failed; as a holder asked %s, served %s, did not hold %s\n",
		       num(m, "group_fanout"), num(m, "group_fan_peak"),
		       num(m, "group_fan_redirected"), num(m, "group_fan_queued"),
		       num(m, "group_fan_haves"), num(m, "group_holder_asks"),
		       num(m, "group_from_holders"), num(m, "group_holder_fails"),
		       num(m, "group_holder_copies"), num(m, "group_holder_served"),
		       num(m, "group_holder_not_held"));
	else
		printf("  group fan-out: off (every asker is sent the extent)\n");
	if (!strcmp(num(m, "group_home"), "1")) {
		printf("  home tier: %s gateways in %s regions%s; asked for %s extents: %s from the home, %s read from Blob for the cluster, %s fell back to Blob (waited %s, NACKs %s, timeouts %s, unreachable %s); home itself for %s\n",
		       num(m, "home_gateways"), num(m, "home_regions"),
		       strcmp(num(m, "home_gateway"), "1") ? "" : " (this node is one)",
		       num(m, "home_reads"), num(m, "home_from_home"), num(m, "home_turns"),
		       num(m, "home_fallbacks"), num(m, "home_waits"), num(m, "home_nacks"),
		       num(m, "home_timeouts"), num(m, "home_no_conn"), num(m, "home_local"));
		if (!strcmp(num(m, "home_gateway"), "1"))
			printf("  home gateway: %s GETs from other groups, %s answered with data, %s PUTs\n",
			       num(m, "home_gets_served"), num(m, "home_served"), num(m, "home_puts"));
	}
	if (!strcmp(num(m, "group_store"), "pool"))
		printf("  group store (in the pool, shared with this node's devices): %s extents in %s bytes of slots, %s evicted, %s pinned, %s refused for room, %s errors\n",
		       num(m, "group_store_extents"), num(m, "group_store_bytes"),
		       num(m, "group_store_evicted"), num(m, "group_store_pinned"),
		       num(m, "group_store_full"), num(m, "group_store_errors"));
	else
		printf("  group store (daemon memory): %s of %s bytes, %s extents, %s evicted\n",
		       num(m, "group_store_bytes"), num(m, "group_store_capacity"),
		       num(m, "group_store_extents"), num(m, "group_store_evicted"));
}

static void print_member(const struct mc_msg *m, bool first)
{
	uint64_t ppm = 0;

	mc_msg_get_u64(m, "share_ppm", &ppm);
	if (json) {
		printf("%s{", first ? "" : ",");
		mc_json_str(stdout, "node_id");
		printf(":");
		mc_json_str(stdout, num(m, "node_id"));
		mc_json_member(stdout, "addr", num(m, "addr"));
		mc_json_member(stdout, "region", num(m, "region"));
		mc_json_member(stdout, "state", num(m, "state"));
		printf(",\"share\":%.6f", (double)ppm / 1e6);
		json_u64(m, "owned_extents", "owned_extents");
		json_u64(m, "got_bytes", "got_bytes");
		json_u64(m, "bad_data", "bad_data");
		json_u64(m, "served_bytes", "served_bytes");
		printf("}");
		return;
	}
	printf("%-32s  %-21s  %-10s  %6.2f%%  %7s  %12s  %12s  %6s\n", num(m, "node_id"),
	       num(m, "addr"), num(m, "state"), (double)ppm / 1e4,
	       mc_msg_get(m, "owned_extents") ? mc_msg_get(m, "owned_extents") : "-",
	       num(m, "got_bytes"), num(m, "served_bytes"), num(m, "bad_data"));
}

int cmd_peers(int argc, char **argv)
{
	struct mc_msg *req = NULL, *reply = NULL;
	char err[1024];
	uint64_t count = 0;
	int fd = -1, ret = 1;

	if (argc > 1) {
		fprintf(stderr, "maicachectl: peers takes no arguments ('%s')\n", argv[1]);
		return 2;
	}
	req = calloc(1, sizeof(*req));
	reply = calloc(1, sizeof(*reply));
	if (!req || !reply)
		goto out;
	mc_msg_init(req);
	mc_msg_add(req, "op", "peers");
	fd = mc_ctl_open(err, sizeof(err));
	if (fd < 0 || mc_ctl_call(fd, req, reply, err, sizeof(err))) {
		fail(err);
		goto out;
	}
	if (mc_msg_get_u64(reply, "count", &count) || count > 65536) {
		fail("maicached: a peers reply without a member count");
		goto out;
	}
	if (json)
		printf("{\"running\":true");
	else
		printf("cache group %s\n", num(reply, "group"));
	mc_group_print(reply);
	if (json)
		printf(",\"members\":[");
	else
		printf("%-32s  %-21s  %-10s  %7s  %7s  %12s  %12s  %6s\n", "NODE", "ADDRESS", "STATE",
		       "SHARE", "OWNED", "GOT BYTES", "SERVED BYTES", "BAD");
	for (uint64_t i = 0; i < count; i++) {
		if (mc_msg_recv(fd, reply, err, sizeof(err))) {
			if (json)
				printf("]}\n");
			fail(err);
			goto out;
		}
		print_member(reply, i == 0);
	}
	if (json)
		printf("]}\n");
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(reply);
	return ret;
}
