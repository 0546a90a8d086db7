// SPDX-License-Identifier: MIT
/*
 * The /metrics text (userd/metrics_text.h): every line parses as the
 * Prometheus text format, every sample belongs to a family declared
 * before it with HELP and TYPE, counters end in _total, the fill-latency
 * histogram is cumulative and ends in +Inf equal to _count, label values
 * are escaped; and the metrics_listen key of the configuration.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "config.h"
#include "metrics_text.h"

#define MAX_LABELS	8
#define MAX_FAMILIES	128
#define MAX_SAMPLES	1024

struct sample {
	char name[128];
	int nlabels;
	char key[MAX_LABELS][32];
	char val[MAX_LABELS][128];	/* unescaped */
	double value;
};

struct family {
	char name[128];
	char type[16];
	int help;
};

struct parsed {
	struct family fam[MAX_FAMILIES];
	int nfam;
	struct sample s[MAX_SAMPLES];
	int ns;
};

static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return 0;
	return 1;
}

static struct family *fam_find(struct parsed *p, const char *name)
{
	int i;

	for (i = 0; i < p->nfam; i++)
		if (!strcmp(p->fam[i].name, name))
			return &p->fam[i];
	return NULL;
}

/* The family a sample name belongs to: histograms own _bucket, _sum, _count. */
static struct family *family_of(struct parsed *p, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct family *f = fam_find(p, name);
	char base[128];
	size_t n = strlen(name), k;

	if (f)
		return f;
	for (k = 0; k < 3; k++) {
		size_t l = strlen(sfx[k]);

		if (n > l && !strcmp(name + n - l, sfx[k])) {
			memcpy(base, name, n - l);
			base[n - l] = '\0';
			f = fam_find(p, base);
			if (f && !strcmp(f->type, "histogram"))
				return f;
		}
	}
	return NULL;
}

/* One sample line into s; 0, or -1 with a reason in why. */
static int parse_sample(const char *line, struct sample *s, const char **why)
{
	const char *c = line, *start = line;
	char *end;

	memset(s, 0, sizeof(*s));
	while (*c && *c != '{' && *c != ' ')
		c++;
	if (!name_ok(start, (size_t)(c - start)) || (size_t)(c - start) >= sizeof(s->name))
		return *why = "bad metric name", -1;
	memcpy(s->name, start, (size_t)(c - start));
	if (*c == '{') {
		c++;
		while (*c != '}') {
			size_t vl = 0;

			if (s->nlabels == MAX_LABELS)
				return *why = "too many labels", -1;
			start = c;
			while (*c && *c != '=')
				c++;
			if (!name_ok(start, (size_t)(c - start)) ||
			    (size_t)(c - start) >= sizeof(s->key[0]))
				return *why = "bad label name", -1;
			memcpy(s->key[s->nlabels], start, (size_t)(c - start));
			if (c[0] != '=' || c[1] != '"')
				return *why = "label without =\"", -1;
			c += 2;
			while (*c != '"') {
				char ch = *c;

				if (!ch || ch == '\n')
					return *why = "unterminated label value", -1;
				if (ch == '\\') {
					c++;
					if (*c == 'n')
						ch = '\n';
					else if (*c == '\\' || *c == '"')
						ch = *c;
					else
						return *why = "bad escape", -1;
				}
				if (vl + 1 >= sizeof(s->val[0]))
					return *why = "label value too long", -1;
				s->val[s->nlabels][vl++] = ch;
				c++;
			}
			c++;
			s->nlabels++;
			if (*c == ',')
				c++;
			else if (*c != '}')
				return *why = "labels not separated by ','", -1;
		}
		c++;
	}
	if (*c != ' ')
		return *why = "no space before the value", -1;
	c++;
	if (!strcmp(c, "+Inf")) {
		s->value = INFINITY;
		return 0;
	}
	s->value = strtod(c, &end);
	if (end == c || *end)
		return *why = "value is not a number", -1;
	return 0;
}

static const char *label(const struct sample *s, const char *key)
{
	int i;

	for (i = 0; i < s->nlabels; i++)
		if (!strcmp(s->key[i], key))
			return s->val[i];
	return NULL;
}

/* Parse text line by line; any line that is not the format fails the test. */
static void parse(char *text, struct parsed *p)
{
	char *line, *save = NULL;
	int ln = 0;

	memset(p, 0, sizeof(*p));
	ck_assert_msg(text[0] && text[strlen(text) - 1] == '\n', "output does not end in a newline");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], rest[256];
		const char *why = "";
		struct family *f;

		ln++;
		if (sscanf(line, "# HELP %127s %255[^\n]", name, rest) == 2) {
			f = fam_find(p, name);
			if (!f) {
				ck_assert_int_lt(p->nfam, MAX_FAMILIES);
				f = &p->fam[p->nfam++];
				strcpy(f->name, name);
			}
			ck_assert_msg(!f->help, "line %d: second HELP for %s", ln, name);
			f->help = 1;
			continue;
		}
		if (sscanf(line, "# TYPE %127s %255s", name, rest) == 2) {
			f = fam_find(p, name);
			ck_assert_msg(f && f->help && !f->type[0],
				      "line %d: TYPE of %s without its HELP before, or twice", ln, name);
			ck_assert_msg(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
				      !strcmp(rest, "histogram"), "line %d: type %s", ln, rest);
			strcpy(f->type, rest);
			if (!strcmp(rest, "counter"))
				ck_assert_msg(strlen(name) > 6 &&
					      !strcmp(name + strlen(name) - 6, "_total"),
					      "counter %s does not end in _total", name);
			continue;
		}
		ck_assert_msg(line[0] != '#', "line %d: a comment that is neither HELP nor TYPE: %s",
			      ln, line);
		ck_assert_int_lt(p->ns, MAX_SAMPLES);
		ck_assert_msg(!parse_sample(line, &p->s[p->ns], &why), "line %d: %s: '%s'",
			      ln, why, line);
		f = family_of(p, p->s[p->ns].name);
		ck_assert_msg(f && f->type[0], "line %d: %s has no HELP and TYPE before it",
			      ln, p->s[p->ns].name);
		/* Samples of a family follow its TYPE: nothing of another in between. */
		ck_assert_msg(f == &p->fam[p->nfam - 1], "line %d: %s is away from its family",
			      ln, p->s[p->ns].name);
		p->ns++;
	}
}

static char *format(const struct mc_metrics_snap *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(mc_metrics_format(f, s), 0);
	fclose(f);
	return buf;
}

static const struct sample *find(const struct parsed *p, const char *name,
				 const char *dev)
{
	int i;

	for (i = 0; i < p->ns; i++)
		if (!strcmp(p->s[i].name, name) &&
		    (!dev || (label(&p->s[i], "device") &&
			      !strcmp(label(&p->s[i], "device"), dev))))
			return &p->s[i];
	return NULL;
}

static struct mc_metrics_dev devs[2];
static struct mc_metrics_snap snap;
static const char *const weird = "a \"quoted\" \\name\nwith newline";

static void setup(void)
{
	memset(devs, 0, sizeof(devs));
	memset(&snap, 0, sizeof(snap));
	strcpy(devs[0].dev.name, "maicache0");
	devs[0].dev.size = 1 << 30;
	devs[0].dev.extent_size = 1 << 20;
	devs[0].dev.stats.hits = 100;
	devs[0].dev.stats.misses = 7;
	devs[0].dev.stats.bytes_hit = 12345;
	devs[0].dev.stats.bytes_filled = 7 << 20;
	devs[0].dev.stats.fill_latency[0] = 3;		/* under 1 us */
	devs[0].dev.stats.fill_latency[5] = 2;		/* [16, 32) us */
	devs[0].dev.stats.fill_latency[MAICACHE_FILL_LATENCY_BUCKETS - 1] = 1;
	devs[0].dev.stats.fill_latency_ns = 5000000123ULL;
	devs[0].has_vol = true;
	devs[0].vol_name = weird;
	devs[0].vol_state = "ready";
	devs[0].vol_fills = 7;
	devs[0].vol_fill_bytes = 7 << 20;
	strcpy(devs[1].dev.name, "held65536");
	devs[1].dev.held = true;
	devs[1].dev.stats.misses = 1;
	snap.devs = devs;
	snap.ndevs = 2;
	snap.has_pool = true;
	snap.pool.size = 1ULL << 32;
	snap.pool.used = 8 << 20;
	snap.src.blob_gets = 11;
	snap.src.blob_retries = 2;
	snap.src.blob_bytes = 9 << 20;
	snap.vols[MC_METRICS_VOL_READY] = 1;
	snap.vols[MC_METRICS_VOL_STALE] = 2;
	snap.uptime_ms = 1500;
	snap.has_group = true;
	snap.group.members = 3;
	snap.group.from_peers = 4;
}

START_TEST(parses_line_by_line)
{
	char *text = format(&snap);
	static struct parsed p;
	const struct sample *s;

	parse(text, &p);
	s = find(&p, "maicache_hits_total", "maicache0");
	ck_assert_ptr_nonnull(s);
	ck_assert_double_eq(s->value, 100);
	ck_assert_double_eq(find(&p, "maicache_misses_total", "maicache0")->value, 7);
	ck_assert_double_eq(find(&p, "maicache_misses_total", "held65536")->value, 1);
	ck_assert_double_eq(find(&p, "maicache_filled_bytes_total", "maicache0")->value, 7 << 20);
	ck_assert_double_eq(find(&p, "maicache_hit_bytes_total", "maicache0")->value, 12345);
	ck_assert_double_eq(find(&p, "maicache_pool_size_bytes", NULL)->value, 1ULL << 32);
	ck_assert_double_eq(find(&p, "maicache_pool_used_bytes", NULL)->value, 8 << 20);
	ck_assert_double_eq(find(&p, "maicache_blob_gets_total", NULL)->value, 11);
	ck_assert_double_eq(find(&p, "maicache_blob_retries_total", NULL)->value, 2);
	ck_assert_double_eq(find(&p, "maicache_blob_bytes_total", NULL)->value, 9 << 20);
	ck_assert_double_eq(find(&p, "maicache_daemon_uptime_seconds", NULL)->value, 1.5);
	ck_assert_double_eq(find(&p, "maicache_group_from_peers_total", NULL)->value, 4);
	ck_assert_double_eq(find(&p, "maicache_group_members", NULL)->value, 3);
	/* The volume's counters: only where there is a volume. */
	ck_assert_double_eq(find(&p, "maicache_volume_fills_total", "maicache0")->value, 7);
	ck_assert_ptr_null(find(&p, "maicache_volume_fills_total", "held65536"));
	ck_assert_str_eq(fam_find(&p, "maicache_fill_latency_seconds")->type, "histogram");
	ck_assert_str_eq(fam_find(&p, "maicache_pool_used_bytes")->type, "gauge");
	free(text);
}
END_TEST

START_TEST(stale_volumes_by_state)
{
	char *text = format(&snap);
	static struct parsed p;
	int i, seen = 0;

	parse(text, &p);
	for (i = 0; i < p.ns; i++) {
		const char *st;

		if (strcmp(p.s[i].name, "maicache_volumes"))
			continue;
		st = label(&p.s[i], "state");
		ck_assert_ptr_nonnull(st);
		seen++;
		if (!strcmp(st, "stale"))
			ck_assert_double_eq(p.s[i].value, 2);
		else if (!strcmp(st, "ready"))
			ck_assert_double_eq(p.s[i].value, 1);
		else
			ck_assert_double_eq(p.s[i].value, 0);
	}
	ck_assert_int_eq(seen, MC_METRICS_VOL_STATES);
	free(text);
}
END_TEST

START_TEST(histogram_cumulative)
{
	char *text = format(&snap);
	static struct parsed p;
	double last_le = -1, last = -1, inf = -1;
	int i, buckets = 0;

	parse(text, &p);
	for (i = 0; i < p.ns; i++) {
		const struct sample *s = &p.s[i];
		const char *le;
		double v;

		if (strcmp(s->name, "maicache_fill_latency_seconds_bucket") ||
		    strcmp(label(s, "device"), "maicache0"))
			continue;
		le = label(s, "le");
		ck_assert_ptr_nonnull(le);
		v = strcmp(le, "+Inf") ? strtod(le, NULL) : INFINITY;
		ck_assert_msg(v > last_le, "le %s does not grow", le);
		ck_assert_msg(s->value >= last, "bucket le=%s is below the one before", le);
		/* Bucket b of the module counts fills under 2^b us. */
		if (buckets < MAICACHE_FILL_LATENCY_BUCKETS - 1)
			ck_assert_double_eq_tol(v, ldexp(1, buckets) / 1e6, 1e-15);
		if (buckets < 5)
			ck_assert_double_eq(s->value, 3);
		else if (buckets < MAICACHE_FILL_LATENCY_BUCKETS - 1)
			ck_assert_double_eq(s->value, 5);
		last_le = v;
		last = s->value;
		if (isinf(v))
			inf = s->value;
		buckets++;
	}
	ck_assert_int_eq(buckets, MAICACHE_FILL_LATENCY_BUCKETS);
	ck_assert_msg(isinf(last_le), "the last bucket is not +Inf");
	ck_assert_double_eq(inf, 6);
	ck_assert_double_eq(find(&p, "maicache_fill_latency_seconds_count", "maicache0")->value, inf);
	ck_assert_double_eq_tol(find(&p, "maicache_fill_latency_seconds_sum", "maicache0")->value,
				5.000000123, 1e-9);
	/* A device with no fills: every bucket 0, +Inf 0 = _count. */
	ck_assert_double_eq(find(&p, "maicache_fill_latency_seconds_count", "held65536")->value, 0);
	free(text);
}
END_TEST

START_TEST(labels_escaped)
{
	char *text = format(&snap);
	static struct parsed p;
	const struct sample *s;

	ck_assert_ptr_nonnull(strstr(text, "volume=\"a \\\"quoted\\\" \\\\name\\nwith newline\""));
	parse(text, &p);
	s = find(&p, "maicache_device_info", "maicache0");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(label(s, "volume"), weird);
	ck_assert_str_eq(label(s, "state"), "ready");
	ck_assert_str_eq(label(s, "held"), "0");
	ck_assert_str_eq(label(find(&p, "maicache_device_info", "held65536"), "held"), "1");
	free(text);
}
END_TEST

START_TEST(nothing_attached)
{
	struct mc_metrics_snap empty;
	static struct parsed p;
	char *text;

	memset(&empty, 0, sizeof(empty));
	text = format(&empty);
	parse(text, &p);
	ck_assert_ptr_null(find(&p, "maicache_hits_total", NULL));
	ck_assert_ptr_null(find(&p, "maicache_pool_size_bytes", NULL));
	ck_assert_ptr_null(find(&p, "maicache_group_members", NULL));
	ck_assert_ptr_nonnull(fam_find(&p, "maicache_hits_total"));
	ck_assert_double_eq(find(&p, "maicache_blob_gets_total", NULL)->value, 0);
	free(text);
}
END_TEST

START_TEST(config_metrics_listen)
{
	struct mc_config c;
	char err[256];

	mc_config_defaults(&c);
	ck_assert_str_eq(c.metrics_listen, "127.0.0.1:9464");
	ck_assert_int_eq(mc_config_set(&c, "metrics_listen", "[::1]:9100", err, sizeof(err)), 0);
	ck_assert_str_eq(c.metrics_listen, "[::1]:9100");
	ck_assert_int_eq(mc_config_set(&c, "metrics_listen", "off", err, sizeof(err)), 0);
	ck_assert_str_eq(c.metrics_listen, "");
	mc_config_defaults(&c);
	ck_assert_int_eq(mc_config_set(&c, "metrics_listen", "", err, sizeof(err)), 0);
	ck_assert_str_eq(c.metrics_listen, "");
	ck_assert_int_eq(mc_config_set(&c, "metrics_listen", "localhost:9464", err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "metrics_listen: 'localhost:9464' is not a numeric address:port (or off)");
	ck_assert_int_eq(mc_config_set(&c, "metrics_listen", "127.0.0.1", err, sizeof(err)), -EINVAL);
	/* peer_listen has no "off". */
	ck_assert_int_eq(mc_config_set(&c, "peer_listen", "off", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "peer_listen: 'off' is not a numeric address:port");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, parses_line_by_line);
	tcase_add_test(tc, stale_volumes_by_state);
	tcase_add_test(tc, histogram_cumulative);
	tcase_add_test(tc, labels_escaped);
	tcase_add_test(tc, nothing_attached);
	tcase_add_test(tc, config_metrics_listen);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
