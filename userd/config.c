// SPDX-License-Identifier: MIT
/*
 * maicached's configuration file and overrides: one table of keys, each
 * with its type and range, used by the file parser and by --set alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "errmsg.h"
#include "members.h"
#include "parse.h"

#define LINE_MAX_LEN	8192
#define SEC		1000ULL
#define MIN		(60 * SEC)
#define HOUR		(60 * MIN)

enum key_type { T_ENGINE, T_LOG_LEVEL, T_STORE, T_RDMA, T_PATH, T_UINT, T_MS, T_SIZE, T_NAME, T_ADDR, T_URL, T_REGION, T_REGIONS };

struct key_desc {
	const char *name;
	enum key_type type;
	size_t off;		/* in struct mc_config */
	size_t size;		/* T_PATH, T_NAME, T_ADDR, T_REGION(S): buffer size */
	uint64_t min, max;	/* T_UINT, T_MS, T_SIZE */
	bool zero_ok;		/* T_MS, T_SIZE: 0 means none, below min; T_ADDR: "" or "off" */
};

#define FIELD(f) offsetof(struct mc_config, f)

static const struct key_desc keys[] = {
	{ "engine", T_ENGINE, FIELD(engine), 0, 0, 0, false },
	{ "socket", T_PATH, FIELD(socket), MC_SOCKET_PATH_MAX, 0, 0, false },
	{ "state_dir", T_PATH, FIELD(state_dir), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "device", T_PATH, FIELD(device), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "max_parallel", T_UINT, FIELD(max_parallel), 0, 1, 1024, false },
	{ "max_retries", T_UINT, FIELD(max_retries), 0, 0, 100, false },
	{ "backoff_base", T_MS, FIELD(backoff_base_ms), 0, 1, MIN, false },
	{ "backoff_max", T_MS, FIELD(backoff_max_ms), 0, 1, 10 * MIN, false },
	{ "request_timeout", T_MS, FIELD(request_timeout_ms), 0, 100, HOUR, false },
	{ "read_deadline", T_MS, FIELD(read_deadline_ms), 0, 100, 24 * HOUR, true },
	{ "verify_md5", T_UINT, FIELD(verify_md5), 0, 0, 1, false },
	{ "blob_split", T_SIZE, FIELD(blob_split), 0, 64 << 10, 4 << 20, true },
	{ "file_parallel", T_UINT, FIELD(file_parallel), 0, 0, 1, false },
	{ "file_split", T_SIZE, FIELD(file_split), 0, 64 << 10, 4 << 20, true },
	{ "pool_prefault", T_UINT, FIELD(pool_prefault), 0, 0, 1, false },
	{ "shutdown_grace", T_MS, FIELD(shutdown_grace_ms), 0, 0, 10 * MIN, false },
	{ "log_level", T_LOG_LEVEL, FIELD(log_level), 0, 0, 0, false },
	{ "group", T_NAME, FIELD(group), MC_GROUP_NAME_MAX, 0, 0, false },
	{ "group_key", T_PATH, FIELD(group_key), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "group_members", T_PATH, FIELD(group_members), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "group_etcd", T_URL, FIELD(group_etcd), MC_ETCD_ENDPOINT_MAX, 0, 0, false },
	{ "group_lease_ttl", T_MS, FIELD(group_lease_ttl_ms), 0, 2 * SEC, 10 * MIN, false },
	{ "peer_listen", T_ADDR, FIELD(peer_listen), MC_PEER_ADDR_MAX, 0, 0, false },
	{ "peer_advertise", T_ADDR, FIELD(peer_advertise), MC_PEER_ADDR_MAX, 0, 0, false },
	{ "group_store", T_STORE, FIELD(group_store), 0, 0, 0, false },
	{ "peer_rdma", T_RDMA, FIELD(peer_rdma), 0, 0, 0, false },
	{ "group_store_size", T_SIZE, FIELD(group_store_size), 0, 4ULL << 20, 1ULL << 40, false },
	{ "peer_timeout", T_MS, FIELD(peer_timeout_ms), 0, 10, MIN, false },
	{ "peer_tries", T_UINT, FIELD(peer_tries), 0, 1, 16, false },
	{ "peer_fanout", T_UINT, FIELD(peer_fanout), 0, 0, 1024, false },
	{ "fetch_lease", T_MS, FIELD(fetch_lease_ms), 0, 100, 10 * MIN, false },
	{ "region", T_REGION, FIELD(region), MC_REGION_MAX, 0, 0, false },
	{ "home_registry", T_PATH, FIELD(home_registry), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "home_key", T_PATH, FIELD(home_key), MC_CONFIG_PATH_MAX, 0, 0, false },
	{ "home_listen", T_ADDR, FIELD(home_listen), MC_PEER_ADDR_MAX, 0, 0, false },
	{ "home_regions", T_REGIONS, FIELD(home_regions), MC_HOME_REGIONS_MAX, 0, 0, false },
	{ "metrics_listen", T_ADDR, FIELD(metrics_listen), MC_PEER_ADDR_MAX, 0, 0, true },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const char *const level_names[] = {
	[MC_LOG_ERROR] = "error",
	[MC_LOG_WARN] = "warn",
	[MC_LOG_INFO] = "info",
	[MC_LOG_DEBUG] = "debug",
};

void mc_config_defaults(struct mc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->engine = MC_ENGINE_AUTO;
	strcpy(cfg->socket, MC_SOCKET_DEFAULT);
	strcpy(cfg->state_dir, MC_CONFIG_STATE_DIR);
	strcpy(cfg->device, MC_RING_DEVICE);
	cfg->max_parallel = 16;
	cfg->max_retries = 5;
	cfg->backoff_base_ms = 100;
	cfg->backoff_max_ms = 5 * SEC;
	cfg->request_timeout_ms = 30 * SEC;
	cfg->read_deadline_ms = 60 * SEC;
	cfg->verify_md5 = 1;
	cfg->file_parallel = 1;
	cfg->pool_prefault = 1;
	cfg->shutdown_grace_ms = 10 * SEC;
	cfg->log_level = MC_LOG_INFO;
	strcpy(cfg->peer_listen, "0.0.0.0:7117");
	cfg->group_lease_ttl_ms = 10 * SEC;
	cfg->group_store_size = 256ULL << 20;
	cfg->peer_timeout_ms = 2 * SEC;
	cfg->peer_tries = 3;
	cfg->peer_fanout = 4;
	cfg->fetch_lease_ms = 10 * SEC;
	strcpy(cfg->metrics_listen, MC_METRICS_LISTEN_DEFAULT);
}

const char *mc_log_level_name(enum mc_log_level level)
{
	return (unsigned int)level < sizeof(level_names) / sizeof(level_names[0])
	       ? level_names[level] : "?";
}

const char *mc_config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/* "1500ms" -> "1.5s" style text for range messages. */
static void fmt_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms >= SEC && ms % SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / SEC));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

static int set_uint(const struct key_desc *k, void *field, const char *value,
		    char *err, size_t errlen)
{
	uint64_t v = 0;
	int res;

	res = mc_parse_uint(value, &v);
	if (res == -EINVAL)
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not a whole number", k->name, value);
	if (res || v < k->min || v > k->max)
		return mc_errf(err, errlen, -EINVAL, "%s: %s is out of range (%llu-%llu)", k->name,
			    value, (unsigned long long)k->min,
			    (unsigned long long)k->max);
	*(unsigned int *)field = (unsigned int)v;
	return 0;
}

static int set_ms(const struct key_desc *k, void *field, const char *value,
		  char *err, size_t errlen)
{
	char lo[32], hi[32];
	uint64_t v = 0;
	int res;

	res = mc_parse_ms(value, &v);
	if (res == -EINVAL)
		return mc_errf(err, errlen, -EINVAL,
			    "%s: '%s' is not a duration (milliseconds, or a number with ms or s)",
			    k->name, value);
	if (res || ((v < k->min || v > k->max) && !(v == 0 && k->zero_ok))) {
		fmt_ms(k->min, lo, sizeof(lo));
		fmt_ms(k->max, hi, sizeof(hi));
		return mc_errf(err, errlen, -EINVAL, "%s: %s is out of range (%s%s-%s)", k->name,
			    value, k->zero_ok ? "0 for none, or " : "", lo, hi);
	}
	*(uint64_t *)field = v;
	return 0;
}

static int set_path(const struct key_desc *k, char *field, const char *value,
		    char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (value[0] != '/')
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not an absolute path", k->name, value);
	if (n >= k->size)
		return mc_errf(err, errlen, -EINVAL, "%s: path is too long (%zu bytes, at most %zu)",
			    k->name, n, k->size - 1);
	for (const char *c = value; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return mc_errf(err, errlen, -EINVAL, "%s: path holds a control character",
				    k->name);
	memcpy(field, value, n + 1);
	return 0;
}

/* A size in the largest of K, M, G, T that holds it whole. */
static void fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	unsigned int i = 0;

	while (i < 4 && v && !(v & 1023)) {
		v >>= 10;
		i++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)v, units[i]);
}

static int set_size(const struct key_desc *k, uint64_t *field, const char *value,
		    char *err, size_t errlen)
{
	uint64_t v = 0;
	int res = mc_parse_size(value, &v);

	if (res == -EINVAL)
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not a size (bytes, or a number with K, M, G or T)",
			    k->name, value);
	if (res || ((v < k->min || v > k->max) && !(v == 0 && k->zero_ok))) {
		char lo[24], hi[24];

		fmt_size(k->min, lo, sizeof(lo));
		fmt_size(k->max, hi, sizeof(hi));
		return mc_errf(err, errlen, -EINVAL, "%s: %s is out of range (%s%s-%s)", k->name,
			    value, k->zero_ok ? "0 for none, or " : "", lo, hi);
	}
	*field = v;
	return 0;
}

/* A group name: 1 to 127 of [A-Za-z0-9._-]. */
static int set_name(const struct key_desc *k, char *field, const char *value,
		    char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (n >= k->size)
		return mc_errf(err, errlen, -EINVAL, "%s: name is too long (%zu bytes, at most %zu)",
			    k->name, n, k->size - 1);
	if (strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' holds a character other than A-Z a-z 0-9 . _ -",
			    k->name, value);
	memcpy(field, value, n + 1);
	return 0;
}

/* A region of [a-z0-9-] (peer/members.h), or a list of them: "a,b". */
static int set_regions(const struct key_desc *k, char *field, const char *value,
		       char *err, size_t errlen)
{
	char one[MC_REGION_MAX];
	const char *s = value, *end;
	size_t n = strlen(value);

	if (n >= k->size)
		return mc_errf(err, errlen, -EINVAL, "%s: too long (%zu bytes, at most %zu)",
			    k->name, n, k->size - 1);
	while (n) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (end != value + n && k->type == T_REGION)
			return mc_errf(err, errlen, -EINVAL, "%s: one region, not a list", k->name);
		if ((size_t)(end - s) >= sizeof(one))
			return mc_errf(err, errlen, -EINVAL, "%s: a region is at most %zu characters",
				    k->name, sizeof(one) - 1);
		memcpy(one, s, (size_t)(end - s));
		one[end - s] = '\0';
		if (!mc_member_region_ok(one))
			return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not a region (1 to %zu of a-z 0-9 -)",
				    k->name, one, sizeof(one) - 1);
		if (!*end)
			break;
		s = end + 1;
	}
	memcpy(field, value, n + 1);
	return 0;
}

/* A numeric host:port, or [v6]:port (peer/members.h). */
static int set_addr(const struct key_desc *k, char *field, const char *value,
		    char *err, size_t errlen)
{
	struct mc_member m;

	if (k->zero_ok && (!value[0] || !strcmp(value, "off"))) {
		field[0] = '\0';
		return 0;
	}
	if (strlen(value) >= k->size || mc_member_parse_addr(value, &m))
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not a numeric address:port%s",
			    k->name, value, k->zero_ok ? " (or off)" : "");
	strcpy(field, value);
	return 0;
}

/* etcd's client URL: http:// or https://, then host:port, nothing after. */
static int set_url(const struct key_desc *k, char *field, const char *value,
		   char *err, size_t errlen)
{
	const char *hp = !strncmp(value, "http://", 7) ? value + 7 :
			 !strncmp(value, "https://", 8) ? value + 8 : NULL;
	struct mc_member m;

	if (strlen(value) >= k->size || !hp || strchr(hp, '/') || mc_member_parse_addr(hp, &m))
		return mc_errf(err, errlen, -EINVAL, "%s: '%s' is not http://ADDRESS:PORT (numeric)",
			    k->name, value);
	strcpy(field, value);
	return 0;
}

static int set_engine(enum mc_engine *field, const char *value, char *err,
		      size_t errlen)
{
	if (!strcmp(value, "auto"))
		*field = MC_ENGINE_AUTO;
	else if (!strcmp(value, "io_uring"))
		*field = MC_ENGINE_URING;
	else if (!strcmp(value, "aio"))
		*field = MC_ENGINE_AIO;
	else
		return mc_errf(err, errlen, -EINVAL, "engine: '%s' is not auto, io_uring or aio", value);
	return 0;
}

static int set_store(enum mc_group_store *field, const char *value, char *err,
		     size_t errlen)
{
	if (!strcmp(value, "pool"))
		*field = MC_GROUP_STORE_POOL;
	else if (!strcmp(value, "memory"))
		*field = MC_GROUP_STORE_MEMORY;
	else
		return mc_errf(err, errlen, -EINVAL, "group_store: '%s' is not pool or memory",
			       value);
	return 0;
}

static int set_rdma(enum mc_peer_rdma *field, const char *value, char *err, size_t errlen)
{
	if (!strcmp(value, "auto"))
		*field = MC_PEER_RDMA_AUTO;
	else if (!strcmp(value, "off"))
		*field = MC_PEER_RDMA_OFF;
	else
		return mc_errf(err, errlen, -EINVAL, "peer_rdma: '%s' is not auto or off", value);
	return 0;
}

static int set_level(enum mc_log_level *field, const char *value, char *err,
		     size_t errlen)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(value, level_names[i])) {
			*field = (enum mc_log_level)i;
			return 0;
		}
	}
	return mc_errf(err, errlen, -EINVAL, "log_level: '%s' is not error, warn, info or debug", value);
}

static const struct key_desc *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

int mc_config_set(struct mc_config *cfg, const char *key, const char *value,
		  char *err, size_t errlen)
{
	const struct key_desc *k = find_key(key);
	void *field;

	if (!k)
		return mc_errf(err, errlen, -EINVAL, "unknown key '%s'", key);
	/* An address that may be off takes "" for off too. */
	if (!*value && !(k->type == T_ADDR && k->zero_ok))
		return mc_errf(err, errlen, -EINVAL, "%s: no value", key);
	field = (char *)cfg + k->off;
	switch (k->type) {
	case T_ENGINE:
		return set_engine(field, value, err, errlen);
	case T_LOG_LEVEL:
		return set_level(field, value, err, errlen);
	case T_STORE:
		return set_store(field, value, err, errlen);
	case T_RDMA:
		return set_rdma(field, value, err, errlen);
	case T_PATH:
		return set_path(k, field, value, err, errlen);
	case T_UINT:
		return set_uint(k, field, value, err, errlen);
	case T_MS:
		return set_ms(k, field, value, err, errlen);
	case T_SIZE:
		return set_size(k, field, value, err, errlen);
	case T_NAME:
		return set_name(k, field, value, err, errlen);
	case T_ADDR:
		return set_addr(k, field, value, err, errlen);
	case T_URL:
		return set_url(k, field, value, err, errlen);
	case T_REGION:
	case T_REGIONS:
		return set_regions(k, field, value, err, errlen);
	}
	return -EINVAL;
}

int mc_config_set_arg(struct mc_config *cfg, const char *arg, char *err,
		      size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char key[64];

	if (!eq)
		return mc_errf(err, errlen, -EINVAL, "'%s' has no '=' (want key=value)", arg);
	if ((size_t)(eq - arg) >= sizeof(key))
		return mc_errf(err, errlen, -EINVAL, "unknown key '%.*s...'", 32, arg);
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	return mc_config_set(cfg, key, eq + 1, err, errlen);
}

int mc_config_check(const struct mc_config *cfg, char *err, size_t errlen)
{
	char a[32], b[32];

	if (cfg->backoff_max_ms < cfg->backoff_base_ms) {
		fmt_ms(cfg->backoff_max_ms, a, sizeof(a));
		fmt_ms(cfg->backoff_base_ms, b, sizeof(b));
		return mc_errf(err, errlen, -EINVAL,
			    "backoff_max (%s) is below backoff_base (%s): raise backoff_max or lower backoff_base",
			    a, b);
	}
	if (cfg->read_deadline_ms && cfg->read_deadline_ms < cfg->request_timeout_ms) {
		fmt_ms(cfg->read_deadline_ms, a, sizeof(a));
		fmt_ms(cfg->request_timeout_ms, b, sizeof(b));
		return mc_errf(err, errlen, -EINVAL,
			    "read_deadline (%s) is below request_timeout (%s): raise read_deadline or lower request_timeout",
			    a, b);
	}
	if (cfg->group[0] && !cfg->group_key[0])
		return mc_errf(err, errlen, -EINVAL, "group '%s' needs group_key (the group's key file)",
			    cfg->group);
	if (cfg->group[0] && !cfg->group_members[0] == !cfg->group_etcd[0])
		return mc_errf(err, errlen, -EINVAL,
			    "group '%s' needs one of group_members (a membership file) and group_etcd",
			    cfg->group);
	if (cfg->home_registry[0] && !cfg->group[0])
		return mc_errf(err, errlen, -EINVAL,
			    "home_registry is the tier between groups: set group too");
	if (cfg->home_registry[0] && (!cfg->home_key[0] || !cfg->region[0]))
		return mc_errf(err, errlen, -EINVAL,
			    "home_registry needs home_key (the cluster's key file) and region (this node's)");
	if (cfg->group_etcd[0] && !cfg->peer_advertise[0] &&
	    (!strncmp(cfg->peer_listen, "0.0.0.0:", 8) || !strncmp(cfg->peer_listen, "[::]:", 5)))
		return mc_errf(err, errlen, -EINVAL,
			    "peer_listen %s is every address: with group_etcd set peer_advertise, the address peers dial",
			    cfg->peer_listen);
	return 0;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* One file line; seen[] holds the line each key was set on. */
static int load_line(struct mc_config *cfg, char *line, unsigned int lineno,
		     unsigned int seen[NKEYS], const char *path,
		     char *err, size_t errlen)
{
	char *s = trim(line), *eq, *key, msg[512];
	const struct key_desc *k;

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return mc_errf(err, errlen, -EINVAL, "%s:%u: missing '=' (want key = value)",
			    path, lineno);
	*eq = '\0';
	key = trim(s);
	k = find_key(key);
	if (k && seen[k - keys])
		return mc_errf(err, errlen, -EINVAL, "%s:%u: %s: already set on line %u",
			    path, lineno, key, seen[k - keys]);
	if (mc_config_set(cfg, key, trim(eq + 1), msg, sizeof(msg)))
		return mc_errf(err, errlen, -EINVAL, "%s:%u: %s", path, lineno, msg);
	seen[k - keys] = lineno;
	return 0;
}

int mc_config_load(const char *path, struct mc_config *cfg, char *err,
		   size_t errlen)
{
	unsigned int seen[NKEYS] = { 0 }, lineno = 0;
	const char *p = path ? path : MC_CONFIG_FILE;
	char *line = NULL, msg[512];
	size_t cap = 0;
	struct stat st;
	ssize_t n;
	FILE *f;
	int res = 0;

	mc_config_defaults(cfg);
	f = fopen(p, "re");
	if (!f) {
		res = -errno;
		if (res == -ENOENT && !path)
			return 0;
		snprintf(err, errlen, "%s: %s", p, strerror(-res));
		return res;
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode))
		res = mc_errf(err, errlen, -EINVAL, "%s: not a regular file", p);
	while (!res && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)n != strlen(line))
			res = mc_errf(err, errlen, -EINVAL, "%s:%u: holds a NUL byte", p, lineno);
		else if (n > LINE_MAX_LEN)
			res = mc_errf(err, errlen, -EINVAL, "%s:%u: line longer than %d bytes",
				   p, lineno, LINE_MAX_LEN);
		else
			res = load_line(cfg, line, lineno, seen, p, err, errlen);
	}
	if (!res && ferror(f))
		res = mc_errf(err, errlen, -EINVAL, "%s: read error", p);
	free(line);
	fclose(f);
	if (!res && mc_config_check(cfg, msg, sizeof(msg)))
		res = mc_errf(err, errlen, -EINVAL, "%s: %s", p, msg);
	return res;
}
