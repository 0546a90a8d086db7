// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicached's configuration: defaults, the file format,
 * ranges, suffixes, overrides and the error messages.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"
#include "check_run.h"

static char tmpdir[64];
static char cfg_path[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(cfg_path, sizeof(cfg_path), "%s/maicached.conf", tmpdir);
}

static void teardown(void)
{
	unlink(cfg_path);
	rmdir(tmpdir);
}

static void write_cfg(const char *text)
{
	int fd = open(cfg_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(defaults)
{
	struct mc_config c;
	char err[256] = "";

	memset(&c, 0xa5, sizeof(c));
	mc_config_defaults(&c);
	ck_assert_int_eq(c.engine, MC_ENGINE_AUTO);
	ck_assert_str_eq(c.socket, "/run/maicache/maicached.sock");
	ck_assert_str_eq(c.state_dir, "/var/lib/maicache");
	ck_assert_str_eq(c.device, "/dev/maicache");
	ck_assert_uint_eq(c.max_parallel, 16);
	ck_assert_uint_eq(c.max_retries, 5);
	ck_assert_uint_eq(c.backoff_base_ms, 100);
	ck_assert_uint_eq(c.backoff_max_ms, 5000);
	ck_assert_uint_eq(c.request_timeout_ms, 30000);
	ck_assert_uint_eq(c.read_deadline_ms, 60000);
	ck_assert_uint_eq(c.verify_md5, 1);
	ck_assert_uint_eq(c.blob_split, 0);
	ck_assert_uint_eq(c.file_parallel, 1);
	ck_assert_uint_eq(c.pool_prefault, 1);
	ck_assert_uint_eq(c.file_split, 0);
	ck_assert_int_eq(c.log_level, MC_LOG_INFO);
	ck_assert_int_eq(c.group_store, MC_GROUP_STORE_POOL);
	ck_assert_int_eq(c.peer_rdma, MC_PEER_RDMA_AUTO);
	ck_assert_int_eq(mc_config_check(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(mc_log_level_name(c.log_level), "info");
}
END_TEST

START_TEST(load_every_key)
{
	struct mc_config c;
	char err[256] = "";

	write_cfg("# maicached\n"
		  "\n"
		  "engine = aio\n"
		  "socket=/run/mc.sock\n"
		  "\tstate_dir = /srv/mc state # not a comment\r\n"
		  "device = /dev/mcx\n"
		  "max_parallel = 64\n"
		  "max_retries = 0\n"
		  "backoff_base = 250ms\n"
		  "backoff_max = 2s\n"
		  "request_timeout = 1500\n"
		  "read_deadline = 0\n"
		  "verify_md5 = 0\n"
		  "blob_split = 1M\n"
		  "file_parallel = 0\n"
		  "file_split = 256K\n"
		  "pool_prefault = 0\n"
		  "   # indented comment\n"
		  "log_level = debug\n"
		  "group = train-eu.1\n"
		  "group_key = /etc/maicache/group.key\n"
		  "group_members = /etc/maicache/members\n"
		  "peer_listen = [fd00::7]:7200\n"
		  "peer_advertise = [fd00::7]:7200\n"
		  "group_lease_ttl = 5s\n"
		  "group_store = memory\n"
		  "peer_rdma = off\n"
		  "group_store_size = 2G\n"
		  "peer_timeout = 500ms\n"
		  "peer_tries = 5\n"
		  "peer_fanout = 0\n"
		  "fetch_lease = 30s\n"
		  "region = westeurope\n"
		  "home_registry = /etc/maicache/registry\n"
		  "home_key = /etc/maicache/home.key\n"
		  "home_listen = 10.1.0.5:7118\n"
		  "home_regions = northeurope,uksouth\n");
	ck_assert_msg(mc_config_load(cfg_path, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.engine, MC_ENGINE_AIO);
	ck_assert_str_eq(c.socket, "/run/mc.sock");
	ck_assert_str_eq(c.state_dir, "/srv/mc state # not a comment");
	ck_assert_str_eq(c.device, "/dev/mcx");
	ck_assert_uint_eq(c.max_parallel, 64);
	ck_assert_uint_eq(c.max_retries, 0);
	ck_assert_uint_eq(c.backoff_base_ms, 250);
	ck_assert_uint_eq(c.backoff_max_ms, 2000);
	ck_assert_uint_eq(c.request_timeout_ms, 1500);
	ck_assert_uint_eq(c.read_deadline_ms, 0);
	ck_assert_uint_eq(c.verify_md5, 0);
	ck_assert_uint_eq(c.blob_split, 1 << 20);
	ck_assert_uint_eq(c.file_parallel, 0);
	ck_assert_uint_eq(c.file_split, 256 << 10);
	ck_assert_uint_eq(c.pool_prefault, 0);
	ck_assert_int_eq(c.log_level, MC_LOG_DEBUG);
	ck_assert_str_eq(c.group, "train-eu.1");
	ck_assert_str_eq(c.group_key, "/etc/maicache/group.key");
	ck_assert_str_eq(c.group_members, "/etc/maicache/members");
	ck_assert_str_eq(c.peer_listen, "[fd00::7]:7200");
	ck_assert_str_eq(c.peer_advertise, "[fd00::7]:7200");
	ck_assert_uint_eq(c.group_lease_ttl_ms, 5000);
	ck_assert_int_eq(c.group_store, MC_GROUP_STORE_MEMORY);
	ck_assert_int_eq(c.peer_rdma, MC_PEER_RDMA_OFF);
	ck_assert_uint_eq(c.group_store_size, 2ULL << 30);
	ck_assert_uint_eq(c.peer_timeout_ms, 500);
	ck_assert_uint_eq(c.peer_tries, 5);
	ck_assert_uint_eq(c.peer_fanout, 0);
	ck_assert_uint_eq(c.fetch_lease_ms, 30000);
	ck_assert_str_eq(c.region, "westeurope");
	ck_assert_str_eq(c.home_registry, "/etc/maicache/registry");
	ck_assert_str_eq(c.home_key, "/etc/maicache/home.key");
	ck_assert_str_eq(c.home_listen, "10.1.0.5:7118");
	ck_assert_str_eq(c.home_regions, "northeurope,uksouth");
}
END_TEST

START_TEST(load_resets_to_defaults)
{
	struct mc_config c;
	char err[256] = "";

	mc_config_defaults(&c);
	c.max_parallel = 99;
	write_cfg("engine = io_uring\n");
	ck_assert_int_eq(mc_config_load(cfg_path, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.engine, MC_ENGINE_URING);
	ck_assert_uint_eq(c.max_parallel, 16);
}
END_TEST

START_TEST(named_file_must_exist)
{
	struct mc_config c;
	char err[256] = "";

	ck_assert_int_eq(mc_config_load(cfg_path, &c, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, cfg_path) && strstr(err, "No such file"), "%s", err);
}
END_TEST

static const struct {
	const char *text;
	const char *want;	/* after "PATH:" */
} bad_file[] = {
	{ "engine = aio\nfoo = 1\n", "2: unknown key 'foo'" },
	{ "engine\n", "1: missing '=' (want key = value)" },
	{ "engine = fast\n", "1: engine: 'fast' is not auto, io_uring or aio" },
	{ "log_level = trace\n", "1: log_level: 'trace' is not error, warn, info or debug" },
	{ "max_parallel = 0\n", "1: max_parallel: 0 is out of range (1-1024)" },
	{ "max_parallel = 1025\n", "1: max_parallel: 1025 is out of range (1-1024)" },
	{ "max_parallel = 99999999999999999999999\n", "1: max_parallel: 99999999999999999999999 is out of range" },
	{ "max_parallel = -1\n", "1: max_parallel: '-1' is not a whole number" },
	{ "max_parallel = 4k\n", "1: max_parallel: '4k' is not a whole number" },
	{ "max_retries = 101\n", "1: max_retries: 101 is out of range (0-100)" },
	{ "verify_md5 = 2\n", "1: verify_md5: 2 is out of range (0-1)" },
	{ "blob_split = 32K\n", "1: blob_split: 32K is out of range (0 for none, or 64K-4M)" },
	{ "blob_split = 5M\n", "1: blob_split: 5M is out of range (0 for none, or 64K-4M)" },
	{ "blob_split = 1X\n", "1: blob_split: '1X' is not a size (bytes, or a number with K, M, G or T)" },
	{ "file_split = 32K\n", "1: file_split: 32K is out of range (0 for none, or 64K-4M)" },
	{ "file_parallel = 2\n", "1: file_parallel: 2 is out of range (0-1)" },
	{ "pool_prefault = yes\n", "1: pool_prefault: 'yes' is not a whole number" },
	{ "backoff_base = 0\n", "1: backoff_base: 0 is out of range (1ms-60s)" },
	{ "backoff_base = 5m\n", "1: backoff_base: '5m' is not a duration" },
	{ "backoff_base = 1.5s\n", "1: backoff_base: '1.5s' is not a duration" },
	{ "backoff_max = 601s\n", "1: backoff_max: 601s is out of range (1ms-600s)" },
	{ "request_timeout = 99ms\n", "1: request_timeout: 99ms is out of range (100ms-3600s)" },
	{ "read_deadline = 50\n", "1: read_deadline: 50 is out of range (0 for none, or 100ms-86400s)" },
	{ "socket = run/mc.sock\n", "1: socket: 'run/mc.sock' is not an absolute path" },
	{ "socket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "1: socket: path is too long (112 bytes, at most 107)" },
	{ "state_dir =\n", "1: state_dir: no value" },
	{ "engine = aio\n\nengine = auto\n", "3: engine: already set on line 1" },
	{ "backoff_base = 2s\nbackoff_max = 1s\n", " backoff_max (1s) is below backoff_base (2s)" },
	{ "request_timeout = 60s\nread_deadline = 30s\n", " read_deadline (30s) is below request_timeout (60s)" },
	{ "group = a b\n", "1: group: 'a b' holds a character other than A-Z a-z 0-9 . _ -" },
	{ "group = g\n", " group 'g' needs group_key (the group's key file)" },
	{ "group = g\ngroup_key = /k\n", " group 'g' needs one of group_members (a membership file) and group_etcd" },
	{ "group = g\ngroup_key = /k\ngroup_members = /m\ngroup_etcd = http://10.0.0.1:2379\n",
	  " group 'g' needs one of group_members (a membership file) and group_etcd" },
	{ "group = g\ngroup_key = /k\ngroup_etcd = http://10.0.0.1:2379\n",
	  " peer_listen 0.0.0.0:7117 is every address: with group_etcd set peer_advertise" },
	{ "group_etcd = 10.0.0.1:2379\n", "1: group_etcd: '10.0.0.1:2379' is not http://ADDRESS:PORT (numeric)" },
	{ "group_etcd = http://etcd:2379\n", "1: group_etcd: 'http://etcd:2379' is not http://ADDRESS:PORT (numeric)" },
	{ "group_etcd = http://10.0.0.1:2379/v3\n", "1: group_etcd: 'http://10.0.0.1:2379/v3' is not http://ADDRESS:PORT (numeric)" },
	{ "group_lease_ttl = 1s\n", "1: group_lease_ttl: 1s is out of range (2s-600s)" },
	{ "peer_listen = example.com:7117\n", "1: peer_listen: 'example.com:7117' is not a numeric address:port" },
	{ "peer_listen = 10.0.0.1\n", "1: peer_listen: '10.0.0.1' is not a numeric address:port" },
	{ "peer_listen = 10.0.0.1:70000\n", "1: peer_listen: '10.0.0.1:70000' is not a numeric address:port" },
	{ "group_store = disk\n", "1: group_store: 'disk' is not pool or memory" },
	{ "peer_rdma = on\n", "1: peer_rdma: 'on' is not auto or off" },
	{ "group_store_size = 1M\n", "1: group_store_size: 1M is out of range (4M-1T)" },
	{ "group_store_size = lots\n", "1: group_store_size: 'lots' is not a size" },
	{ "peer_tries = 17\n", "1: peer_tries: 17 is out of range (1-16)" },
	{ "peer_fanout = 1025\n", "1: peer_fanout: 1025 is out of range (0-1024)" },
	{ "fetch_lease = 50ms\n", "1: fetch_lease: 50ms is out of range (100ms-600s)" },
	{ "region = West-Europe\n", "1: region: 'West-Europe' is not a region (1 to 31 of a-z 0-9 -)" },
	{ "region = a,b\n", "1: region: one region, not a list" },
	{ "region = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "1: region: too long (32 bytes, at most 31)" },
	{ "home_regions = a,,b\n", "1: home_regions: '' is not a region" },
	{ "home_regions = a,\n", "1: home_regions: '' is not a region" },
	{ "home_regions = a;b\n", "1: home_regions: 'a;b' is not a region" },
	{ "home_listen = gw:7118\n", "1: home_listen: 'gw:7118' is not a numeric address:port" },
	{ "home_registry = /r\nhome_key = /k\nregion = r\n",
	  " home_registry is the tier between groups: set group too" },
	{ "group = g\ngroup_key = /k\ngroup_members = /m\nhome_registry = /r\nregion = r\n",
	  " home_registry needs home_key (the cluster's key file) and region (this node's)" },
	{ "group = g\ngroup_key = /k\ngroup_members = /m\nhome_registry = /r\nhome_key = /h\n",
	  " home_registry needs home_key (the cluster's key file) and region (this node's)" },
};

START_TEST(load_rejects)
{
	struct mc_config c;
	char err[512] = "", want[512];

	write_cfg(bad_file[_i].text);
	ck_assert_int_eq(mc_config_load(cfg_path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", cfg_path, bad_file[_i].want);
	ck_assert_msg(strstr(err, want), "want '%s', got '%s'", want, err);
}
END_TEST

START_TEST(load_rejects_nul)
{
	struct mc_config c;
	char err[256] = "";
	int fd = open(cfg_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_eq(write(fd, "engine = aio\nmax_parallel = 1\0 2\n", 33), 33);
	close(fd);
	ck_assert_int_eq(mc_config_load(cfg_path, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, ":2: holds a NUL byte"), "%s", err);
}
END_TEST

START_TEST(set_overrides)
{
	struct mc_config c;
	char err[256] = "";

	mc_config_defaults(&c);
	ck_assert_int_eq(mc_config_set(&c, "max_retries", "9", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_retries, 9);
	ck_assert_int_eq(mc_config_set_arg(&c, "backoff_max=10s", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.backoff_max_ms, 10000);
	ck_assert_int_eq(mc_config_set_arg(&c, "state_dir=/x=y", err, sizeof(err)), 0);
	ck_assert_str_eq(c.state_dir, "/x=y");
	ck_assert_int_eq(mc_config_set_arg(&c, "max_retries", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "'max_retries' has no '=' (want key=value)");
	ck_assert_int_eq(mc_config_set(&c, "nope", "1", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown key 'nope'");
	ck_assert_int_eq(mc_config_set(&c, "max_retries", "200", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "max_retries: 200 is out of range (0-100)");
	ck_assert_uint_eq(c.max_retries, 9);	/* unchanged on error */
	/* set checks one value; check sees the combination */
	ck_assert_int_eq(mc_config_set(&c, "backoff_base", "20s", err, sizeof(err)), 0);
	ck_assert_int_eq(mc_config_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "backoff_max (10s) is below backoff_base (20s)"), "%s", err);
}
END_TEST

START_TEST(parse_size_suffixes)
{
	static const struct {
		const char *s;
		int res;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "1K", 0, 1024 }, { "1k", 0, 1024 },
		{ "3M", 0, 3 << 20 }, { "2g", 0, 2ULL << 30 }, { "1T", 0, 1ULL << 40 },
		{ "16777215T", 0, 16777215ULL << 40 },
		{ "16777216T", -ERANGE, 0 }, { "18446744073709551616", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "K", -EINVAL, 0 }, { "1KB", -EINVAL, 0 },
		{ "1 K", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "1P", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 }, { "1.5M", -EINVAL, 0 },
		/* fuzz_parse: a space as the suffix was taken as a fifth unit */
		{ "1 ", -EINVAL, 0 }, { "64\x20", -EINVAL, 0 }, { "1K ", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;

		ck_assert_msg(mc_parse_size(cases[i].s, &v) == cases[i].res, "'%s'", cases[i].s);
		ck_assert_msg(v == (cases[i].res ? 7 : cases[i].v), "'%s' gave %llu",
			      cases[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(parse_ms_suffixes)
{
	static const struct {
		const char *s;
		int res;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 }, { "250", 0, 250 }, { "250ms", 0, 250 }, { "5s", 0, 5000 },
		{ "18446744073709551s", 0, 18446744073709551000ULL },
		{ "18446744073709552s", -ERANGE, 0 },
		{ "5 s", -EINVAL, 0 }, { "5S", -EINVAL, 0 }, { "5sec", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 }, { "5m", -EINVAL, 0 }, { "", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;

		ck_assert_msg(mc_parse_ms(cases[i].s, &v) == cases[i].res, "'%s'", cases[i].s);
		ck_assert_msg(v == (cases[i].res ? 7 : cases[i].v), "'%s' gave %llu",
			      cases[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(load_refuses_directory)
{
	struct mc_config c;
	char err[256] = "";

	ck_assert_int_eq(mc_config_load(tmpdir, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, load_every_key);
	tcase_add_test(tc, load_resets_to_defaults);
	tcase_add_test(tc, named_file_must_exist);
	tcase_add_loop_test(tc, load_rejects, 0, sizeof(bad_file) / sizeof(bad_file[0]));
	tcase_add_test(tc, load_rejects_nul);
	tcase_add_test(tc, load_refuses_directory);
	tcase_add_test(tc, set_overrides);
	tcase_add_test(tc, parse_size_suffixes);
	tcase_add_test(tc, parse_ms_suffixes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(config_suite());
}
