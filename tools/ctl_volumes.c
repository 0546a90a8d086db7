// SPDX-License-Identifier: MIT
/*
 * maicachectl commands served by maicached: attach, detach, and the
 * daemon's side of list and stats (sources, states, GETs). Credentials for
 * attach are resolved here, where the user's environment is (cred.h), and
 * travel to the daemon on its root-only socket.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "ctl_client.h"
#include "json.h"
#include "maicachectl.h"

/* ,"key":N from a number field of the daemon's message; null if it is not one. */
void json_u64(const struct mc_msg *m, const char *field, const char *key)
{
	uint64_t v;

	if (mc_msg_get_u64(m, field, &v))
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%" PRIu64, key, v);
}

static const char *socket_opt;

void mc_ctl_set_socket(const char *path)
{
	socket_opt = path;
}

int mc_ctl_open(char *err, size_t errlen)
{
	return mc_ctl_connect(mc_ctl_socket_path(socket_opt), err, errlen);
}

/* Connect, send req, get the first reply; prints the error and returns -1. */
static int call(const struct mc_msg *req, struct mc_msg *reply, int *fdp)
{
	char err[1024];
	int fd, ret;

	fd = mc_ctl_connect(mc_ctl_socket_path(socket_opt), err, sizeof(err));
	if (fd < 0)
		return fail(err), -1;
	ret = mc_ctl_call(fd, req, reply, err, sizeof(err));
	if (ret) {
		close(fd);
		return fail(err), -1;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

static void attach_usage(FILE *f)
{
	fprintf(f,
		"usage: maicachectl attach SOURCE [--extent-size N] [--name NAME] [--id N]\n"
		"                          [credential options]\n"
		"SOURCE: https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB[?SAS],\n"
		"        http://HOST:PORT/ACCOUNT/CONTAINER/BLOB (Azurite), or file:///PATH\n"
		"credentials (default: environment, then the credentials file):\n"
		"  --account-key-file FILE  --sas TOKEN  --sas-file FILE  --token-file FILE\n"
		"  --connection-string STR  --credentials-file FILE  --anonymous\n"
		"environment: AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT +\n"
		"  AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, MAICACHE_TOKEN_FILE\n");
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "extent-size", required_argument, NULL, 'x' },
		{ "name", required_argument, NULL, 'n' },
		{ "id", required_argument, NULL, 'i' },
		{ "account-key-file", required_argument, NULL, 'k' },
		{ "sas", required_argument, NULL, 's' },
		{ "sas-file", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ "connection-string", required_argument, NULL, 'C' },
		{ "credentials-file", required_argument, NULL, 'f' },
		{ "anonymous", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_cred_opts co = { 0 };
	const char *name = NULL, *url;
	uint64_t extent = 0;
	uint32_t id = UINT32_MAX;
	struct az_cred *cred = NULL;
	struct mc_msg *req = NULL, *reply = NULL;
	char err[1024];
	int c, ret = 1;

	/* 0: a full restart of getopt, which main() ran with "+" (no permuting). */
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			if (parse_size("--extent-size", optarg, &extent))
				return 2;
			break;
		case 'n': name = optarg; break;
		case 'i':
			if (parse_u32("--id", optarg, &id))
				return 2;
			break;
		case 'k': co.account_key_file = optarg; break;
		case 's': co.sas = optarg; break;
		case 'S': co.sas_file = optarg; break;
		case 't': co.token_file = optarg; break;
		case 'C': co.connection_string = optarg; break;
		case 'f': co.credentials_file = optarg; break;
		case 'a': co.anonymous = true; break;
		case 'h': attach_usage(stdout); return 0;
		default: attach_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		attach_usage(stderr);
		return 2;
	}
	url = argv[optind];
	cred = calloc(1, sizeof(*cred));
	req = malloc(sizeof(*req));
	reply = malloc(sizeof(*reply));
	if (!cred || !req || !reply) {
		fail("out of memory");
		goto out;
	}
	mc_msg_init(req);
	mc_msg_add(req, "op", "attach");
	mc_msg_add(req, "url", url);
	if (extent)
		mc_msg_add_u64(req, "extent_size", extent);
	if (name)
		mc_msg_add(req, "name", name);
	if (id != UINT32_MAX)
		mc_msg_add_u64(req, "id", id);
	/* A file needs no credential. */
	if (strncmp(url, "file://", 7) && url[0] != '/') {
		if (mc_cred_resolve(url, &co, cred, err, sizeof(err))) {
			fail(err);
			goto out;
		}
		if (az_cred_to_msg(cred, req, "cred.")) {
			fail("cannot encode the credential");
			goto out;
		}
	}
	if (call(req, reply, NULL))
		goto out;
	if (json) {
		printf("{\"dev\":");
		mc_json_str(stdout, mc_msg_get(reply, "dev"));
		json_u64(reply, "size", "size");
		mc_json_member(stdout, "etag", mc_msg_get(reply, "etag"));
		printf("}\n");
	} else
		printf("%s\n", mc_msg_get(reply, "dev"));
	ret = 0;
out:
	if (req)
		explicit_bzero(req, sizeof(*req));
	if (cred)
		explicit_bzero(cred, sizeof(*cred));
	free(req);
	free(reply);
	free(cred);
	return ret;
}

int cmd_detach(int argc, char **argv)
{
	struct mc_msg *req, *reply;
	bool force = argc == 3 && !strcmp(argv[2], "--force");
	int ret = 1;

	if (argc != 2 && !force) {
		fprintf(stderr, "usage: maicachectl detach DEVICE|ID|NAME|URL [--force]\n");
		return 2;
	}
	req = malloc(sizeof(*req));
	reply = malloc(sizeof(*reply));
	if (req && reply) {
		mc_msg_init(req);
		mc_msg_add(req, "op", "detach");
		mc_msg_add(req, "dev", argv[1]);
		if (force)
			mc_msg_add(req, "force", "1");
		ret = call(req, reply, NULL) ? 1 : 0;
	}
	free(req);
	free(reply);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* The daemon's volumes, for list and stats. */

void mc_vols_free(struct mc_vols *vs)
{
	free(vs->v);
	free(vs->daemon);
	vs->v = NULL;
	vs->daemon = NULL;
	vs->n = 0;
}

int mc_vols_get(struct mc_vols *vs, bool stats)
{
	struct mc_msg *req = malloc(sizeof(*req));
	char err[512];
	uint64_t count, i;
	int fd = -1, ret = -1;

	memset(vs, 0, sizeof(*vs));
	vs->daemon = malloc(sizeof(*vs->daemon));
	if (!req || !vs->daemon)
		goto out;
	fd = mc_ctl_connect(mc_ctl_socket_path(socket_opt), err, sizeof(err));
	if (fd < 0) {
		snprintf(vs->why, sizeof(vs->why), "%s", err);
		goto out;
	}
	mc_msg_init(req);
	mc_msg_add(req, "op", stats ? "stats" : "list");
	if (mc_ctl_call(fd, req, vs->daemon, err, sizeof(err)) ||
	    mc_msg_get_u64(vs->daemon, "count", &count) || count > 65536) {
		snprintf(vs->why, sizeof(vs->why), "maicached: %s", err);
		goto out;
	}
	vs->v = calloc(count ? count : 1, sizeof(*vs->v));
	if (!vs->v)
		goto out;
	for (i = 0; i < count; i++) {
		if (mc_msg_recv(fd, &vs->v[i], err, sizeof(err))) {
			snprintf(vs->why, sizeof(vs->why), "maicached: %s", err);
			goto out;
		}
		vs->n++;
	}
	vs->ok = true;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	return ret;
}

const struct mc_msg *mc_vols_by_id(const struct mc_vols *vs, uint32_t id)
{
	uint64_t v;

	for (size_t i = 0; i < vs->n; i++)
		if (!mc_msg_get_u64(&vs->v[i], "id", &v) && v == id)
			return &vs->v[i];
	return NULL;
}

static const char *const vol_numbers[] = {
	"fills", "fill_bytes", "fill_errors", "inflight",
};

void mc_vol_print(const struct mc_msg *v)
{
	const char *s;
	size_t i;

	if (json) {
		mc_json_member(stdout, "source", mc_msg_get(v, "url"));
		mc_json_member(stdout, "source_kind", mc_msg_get(v, "kind"));
		mc_json_member(stdout, "label", mc_msg_get(v, "name"));
		mc_json_member(stdout, "state", mc_msg_get(v, "state"));
		mc_json_member(stdout, "etag", mc_msg_get(v, "etag"));
		mc_json_member(stdout, "auth", mc_msg_get(v, "auth"));
		for (i = 0; i < sizeof(vol_numbers) / sizeof(vol_numbers[0]); i++)
			json_u64(v, vol_numbers[i], vol_numbers[i]);
		mc_json_member(stdout, "last_error", mc_msg_get(v, "last_error"));
		return;
	}
	printf("  source %s (%s, %s auth)%s%s, %s\n", mc_msg_get(v, "url"),
	       mc_msg_get(v, "kind"), mc_msg_get(v, "auth"),
	       *mc_msg_get(v, "name") ? " name " : "", mc_msg_get(v, "name"),
	       mc_msg_get(v, "state"));
	s = mc_msg_get(v, "last_error");
	if (s && *s)
		printf("  last error: %s\n", s);
}

static const char *const daemon_numbers[] = {
	"pid", "uptime_ms", "inflight", "blob_gets", "blob_heads", "blob_retries",
	"blob_bytes", "blob_errors", "blob_stale", "blob_corrupt", "blob_unverified",
	"unknown_misses", "bad_misses",
	"ring_kicks", "ring_full",
};

void mc_daemon_print(const struct mc_vols *vs)
{
	const struct mc_msg *m = vs->daemon;
	size_t i;

	if (json) {
		printf("{\"running\":%s", vs->ok ? "true" : "false");
		if (!vs->ok) {
			mc_json_member(stdout, "why", vs->why);
			printf("}");
			return;
		}
		mc_json_member(stdout, "engine", mc_msg_get(m, "engine"));
		for (i = 0; i < sizeof(daemon_numbers) / sizeof(daemon_numbers[0]); i++)
			json_u64(m, daemon_numbers[i], daemon_numbers[i]);
		mc_group_print(m);
		printf("}");
		return;
	}
	if (!vs->ok) {
		printf("daemon: %s\n", vs->why);
		return;
	}
	printf("daemon pid %s, engine %s, %s volume(s), %s fills running\n",
	       mc_msg_get(m, "pid"), mc_msg_get(m, "engine"), mc_msg_get(m, "count"),
	       mc_msg_get(m, "inflight"));
	printf("  blob: %s GETs (%s retries), %s property requests, %s bytes, %s failed reads, %s stale answers\n",
	       mc_msg_get(m, "blob_gets"), mc_msg_get(m, "blob_retries"),
	       mc_msg_get(m, "blob_heads"), mc_msg_get(m, "blob_bytes"),
	       mc_msg_get(m, "blob_errors"), mc_msg_get(m, "blob_stale"));
	printf("  blob bodies: %s failed their MD5 (retried), %s reads without an MD5 to check\n",
	       mc_msg_get(m, "blob_corrupt"), mc_msg_get(m, "blob_unverified"));
	printf("  ring: %s kicks, completion ring full %s times; misses with no source %s, rejected %s\n",
	       mc_msg_get(m, "ring_kicks"), mc_msg_get(m, "ring_full"),
	       mc_msg_get(m, "unknown_misses"), mc_msg_get(m, "bad_misses"));
	mc_group_print(m);
}
