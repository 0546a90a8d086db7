// SPDX-License-Identifier: MIT
/*
 * maicache-agent's datasets file: parse, check and write; see datasets.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets.h"
#include "errmsg.h"
#include "maicache_genl.h"
#include "parse.h"

#define LINE_MAX_LEN	8192

const char *const mc_ds_fstypes[] = { "erofs", "ext4", "squashfs", "xfs", NULL };

enum key_type { K_URL, K_PATH, K_FSTYPE, K_OPTIONS, K_EXTENT, K_BOOL };

struct key_desc {
	const char *name;
	enum key_type type;
	size_t off;		/* in struct mc_dataset */
	size_t size;		/* string fields: buffer size */
	bool cred;		/* a credential: blob sources only, one at most */
};

#define FIELD(f) offsetof(struct mc_dataset, f), sizeof(((struct mc_dataset *)0)->f)

static const struct key_desc keys[] = {
	{ "source", K_URL, FIELD(source), false },
	{ "mount", K_PATH, FIELD(mount), false },
	{ "fstype", K_FSTYPE, FIELD(fstype), false },
	{ "options", K_OPTIONS, FIELD(options), false },
	{ "extent_size", K_EXTENT, offsetof(struct mc_dataset, extent_size), 0, false },
	{ "account_key_file", K_PATH, FIELD(account_key_file), true },
	{ "sas_file", K_PATH, FIELD(sas_file), true },
	{ "token_file", K_PATH, FIELD(token_file), true },
	{ "credentials_file", K_PATH, FIELD(credentials_file), true },
	{ "anonymous", K_BOOL, offsetof(struct mc_dataset, anonymous), 0, true },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))
#define KEY_LIST "source, mount, fstype, options, extent_size, account_key_file, " \
		 "sas_file, token_file, credentials_file, anonymous"

/* Keys of maicachectl's credentials file that hold a secret inline. */
static const char *const inline_secrets[][2] = {
	{ "key", "account_key_file" },
	{ "account_key", "account_key_file" },
	{ "sas", "sas_file" },
	{ "connection_string", "credentials_file" },
};

/* The section being read, and the lines its keys were set on. */
struct section {
	struct mc_dataset d;
	unsigned int seen[NKEYS];
	bool open;
};

struct parser {
	const char *what;
	const char *root;
	struct mc_datasets *out;
	struct section sec;
	char *err;
	size_t errlen;
};

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The one spelling of an absolute path: no "//", ".", ".." or final '/'. */
static const char *path_error(const char *p)
{
	const char *c;

	if (p[0] != '/')
		return "not an absolute path";
	if (!p[1])
		return "is / itself";
	if (p[strlen(p) - 1] == '/')
		return "ends with '/'";
	for (c = p; *c; c++) {
		if (*c != '/')
			continue;
		if (c[1] == '/')
			return "holds '//'";
		if (c[1] == '.' && (c[2] == '/' || !c[2]))
			return "holds a '.' component";
		if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || !c[3]))
			return "holds a '..' component";
	}
	if (has_control(p))
		return "holds a control character";
	return NULL;
}

/* Whether path is dir or lies under it (both in path_error()'s spelling). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

static int set_value(struct parser *p, const struct key_desc *k, const char *v,
		     char *msg, size_t len)
{
	void *field = (char *)&p->sec.d + k->off;
	const char *why;
	uint64_t n;

	switch (k->type) {
	case K_URL:
		if (strncmp(v, "https://", 8) && strncmp(v, "http://", 7) &&
		    strncmp(v, "file:///", 8))
			return mc_errf(msg, len, -EINVAL,
				       "'%.200s' is not https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB, http://HOST:PORT/ACCOUNT/CONTAINER/BLOB or file:///PATH",
				       v);
		if (strchr(v, '?'))
			return mc_errf(msg, len, -EINVAL,
				       "a SAS in the URL is a secret in the datasets file: put it in a file (a Secret) and name it with sas_file");
		if (has_control(v) || strchr(v, ' '))
			return mc_errf(msg, len, -EINVAL, "the URL holds a space or a control character");
		break;
	case K_PATH:
		why = path_error(v);
		if (why)
			return mc_errf(msg, len, -EINVAL, "'%.200s' %s", v, why);
		break;
	case K_FSTYPE:
		if (strcmp(v, "auto")) {
			size_t i;

			for (i = 0; mc_ds_fstypes[i] && strcmp(mc_ds_fstypes[i], v); i++)
				;
			if (!mc_ds_fstypes[i])
				return mc_errf(msg, len, -EINVAL,
					       "'%.64s' is not auto, erofs, ext4, squashfs or xfs", v);
		}
		break;
	case K_OPTIONS:
		if (has_control(v) || strchr(v, ' '))
			return mc_errf(msg, len, -EINVAL,
				       "mount options are one word, comma-separated (no spaces)");
		break;
	case K_EXTENT:
		if (mc_parse_size(v, &n) || n < MAICACHE_EXTENT_SIZE_MIN ||
		    n > MAICACHE_EXTENT_SIZE_MAX || (n & (n - 1)))
			return mc_errf(msg, len, -EINVAL,
				       "'%.64s' is not a power of two from 64K to 4M", v);
		*(uint32_t *)field = (uint32_t)n;
		return 0;
	case K_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
			*(bool *)field = false;
		else
			return mc_errf(msg, len, -EINVAL, "'%.64s' is not yes or no", v);
		return 0;
	}
	if (strlen(v) >= k->size)
		return mc_errf(msg, len, -EINVAL, "too long (%zu bytes, at most %zu)",
			       strlen(v), k->size - 1);
	strcpy(field, v);
	return 0;
}

/* "WHAT:LINE: dataset NAME: " before a message. */
static int fail(struct parser *p, unsigned int line, const char *msg)
{
	if (p->sec.open)
		return mc_errf(p->err, p->errlen, -EINVAL, "%s:%u: dataset %s: %s",
			       p->what, line, p->sec.d.name, msg);
	return mc_errf(p->err, p->errlen, -EINVAL, "%s:%u: %s", p->what, line, msg);
}

/* Whether key i of the section names a credential (anonymous = no names none). */
static bool is_cred_set(const struct section *s, size_t i)
{
	if (!keys[i].cred || !s->seen[i])
		return false;
	return keys[i].type != K_BOOL || *(const bool *)((const char *)&s->d + keys[i].off);
}

/* The checks of a whole section, then its checks against the ones before. */
static int close_section(struct parser *p)
{
	struct section *s = &p->sec;
	const struct key_desc *other = NULL;
	const struct mc_dataset *o;
	const char *cred = NULL;
	unsigned int cred_line = 0;
	char msg[1024];
	size_t i;

	if (!s->open)
		return 0;
	if (!s->seen[0])
		return fail(p, s->d.line, "no source (source = URL of the image)");
	if (!s->seen[1])
		return fail(p, s->d.line, "no mount (mount = where the host sees it)");
	/* The credential set first, then any other one set after it. */
	for (i = 0; i < NKEYS; i++) {
		if (!is_cred_set(s, i))
			continue;
		if (!cred || s->seen[i] < cred_line) {
			cred = keys[i].name;
			cred_line = s->seen[i];
		}
	}
	for (i = 0; cred && i < NKEYS; i++) {
		if (!is_cred_set(s, i) || keys[i].name == cred)
			continue;
		if (!other || s->seen[i] < s->seen[other - keys])
			other = &keys[i];
	}
	if (other) {
		snprintf(msg, sizeof(msg), "%s: %s is already set on line %u: at most one credential",
			 other->name, cred, cred_line);
		return fail(p, s->seen[other - keys], msg);
	}
	if (cred && !strncmp(s->d.source, "file://", 7)) {
		snprintf(msg, sizeof(msg), "%s: a file source takes no credential", cred);
		return fail(p, cred_line, msg);
	}
	if (p->root && !path_within(s->d.mount, p->root)) {
		snprintf(msg, sizeof(msg),
			 "mount: %.300s is not under %.300s (the host directory the agent shares; --mount-root)",
			 s->d.mount, p->root);
		return fail(p, s->seen[1], msg);
	}
	if (p->root && !strcmp(s->d.mount, p->root)) {
		snprintf(msg, sizeof(msg), "mount: %.300s is the mount root itself: name a directory under it",
			 s->d.mount);
		return fail(p, s->seen[1], msg);
	}
	for (i = 0; i < p->out->n; i++) {
		o = &p->out->ds[i];
		if (!strcmp(o->source, s->d.source)) {
			snprintf(msg, sizeof(msg),
				 "source: also dataset %s's (line %u): a source is attached once", o->name, o->line);
			return fail(p, s->seen[0], msg);
		}
		if (path_within(s->d.mount, o->mount) || path_within(o->mount, s->d.mount)) {
			snprintf(msg, sizeof(msg), "mount: %.300s %s dataset %s's mount %.300s (line %u)",
				 s->d.mount, !strcmp(s->d.mount, o->mount) ? "is also" :
				 path_within(s->d.mount, o->mount) ? "is inside" : "holds",
				 o->name, o->mount, o->line);
			return fail(p, s->seen[1], msg);
		}
	}
	if (mc_datasets_add(p->out, &s->d))
		return fail(p, s->d.line, p->out->n >= MC_DS_MAX ?
			    "too many datasets (at most 256)" : "out of memory");
	s->open = false;
	return 0;
}

static int section_line(struct parser *p, char *s, unsigned int lineno)
{
	size_t n = strlen(s);
	const char *why;
	char *name, msg[512];

	if (close_section(p))
		return -EINVAL;
	if (s[n - 1] != ']')
		return fail(p, lineno, "a section line ends with ']' ([dataset NAME])");
	s[n - 1] = '\0';
	s = trim(s + 1);
	if (strncmp(s, "dataset", 7) || (s[7] != ' ' && s[7] != '\t'))
		return fail(p, lineno, "not a [dataset NAME] section");
	name = trim(s + 7);
	why = maicache_volume_name_error(name, (unsigned int)strnlen(name, MAICACHE_VOLUME_NAME_MAX) + 1);
	if (!*name)
		why = "no name";
	if (why) {
		snprintf(msg, sizeof(msg), "dataset '%.80s': %s", name, why);
		return fail(p, lineno, msg);
	}
	for (size_t i = 0; i < p->out->n; i++) {
		if (!strcmp(p->out->ds[i].name, name)) {
			snprintf(msg, sizeof(msg), "dataset %s is already defined on line %u",
				 name, p->out->ds[i].line);
			return fail(p, lineno, msg);
		}
	}
	memset(&p->sec, 0, sizeof(p->sec));
	strcpy(p->sec.d.name, name);
	strcpy(p->sec.d.fstype, "auto");
	p->sec.d.line = lineno;
	p->sec.open = true;
	return 0;
}

static int key_line(struct parser *p, char *s, unsigned int lineno)
{
	char *eq = strchr(s, '='), *key, *val, msg[1024], why[600];
	const struct key_desc *k = NULL;
	size_t i;

	if (!eq)
		return fail(p, lineno, "missing '=' (want key = value, or a [dataset NAME] line)");
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!p->sec.open) {
		snprintf(msg, sizeof(msg), "%.64s: outside a [dataset NAME] section", key);
		return fail(p, lineno, msg);
	}
	for (i = 0; i < sizeof(inline_secrets) / sizeof(inline_secrets[0]); i++) {
		if (!strcmp(key, inline_secrets[i][0])) {
			snprintf(msg, sizeof(msg),
				 "%s: a secret does not belong in the datasets file: put it in a file (a Secret) and name it with %s",
				 key, inline_secrets[i][1]);
			return fail(p, lineno, msg);
		}
	}
	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (!k) {
		snprintf(msg, sizeof(msg), "unknown key '%.64s' (" KEY_LIST ")", key);
		return fail(p, lineno, msg);
	}
	if (p->sec.seen[k - keys]) {
		snprintf(msg, sizeof(msg), "%s: already set on line %u", key, p->sec.seen[k - keys]);
		return fail(p, lineno, msg);
	}
	if (!*val) {
		snprintf(msg, sizeof(msg), "%s: no value", key);
		return fail(p, lineno, msg);
	}
	if (set_value(p, k, val, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "%s: %s", key, why);
		return fail(p, lineno, msg);
	}
	p->sec.seen[k - keys] = lineno;
	return 0;
}

int mc_datasets_parse(const char *text, size_t len, const char *what,
		      const char *mount_root, struct mc_datasets *out,
		      char *err, size_t errlen)
{
	struct parser p = { .what = what, .root = mount_root, .out = out,
			    .err = err, .errlen = errlen };
	char line[LINE_MAX_LEN + 1], *s;
	unsigned int lineno = 0;
	size_t pos = 0, n;
	const char *nl;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (mount_root && path_error(mount_root) && strcmp(mount_root, "/"))
		return mc_errf(err, errlen, -EINVAL, "mount root '%.300s' %s", mount_root,
			       path_error(mount_root));
	while (!ret && pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (memchr(text + pos, '\0', n))
			ret = fail(&p, lineno, "holds a NUL byte");
		else if (n > LINE_MAX_LEN)
			ret = fail(&p, lineno, "line longer than 8192 bytes");
		if (ret)
			break;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		ret = *s == '[' ? section_line(&p, s, lineno) : key_line(&p, s, lineno);
	}
	if (!ret)
		ret = close_section(&p);
	if (ret)
		mc_datasets_free(out);
	return ret;
}

int mc_datasets_load(const char *path, const char *mount_root,
		     struct mc_datasets *out, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return mc_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	}
	buf = malloc(MC_DS_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return mc_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	while ((n = read(fd, buf + len, MC_DS_FILE_MAX + 1 - len)) > 0 && len + (size_t)n <= MC_DS_FILE_MAX)
		len += (size_t)n;
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		ret = mc_errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
	else if (n > 0)
		ret = mc_errf(err, errlen, -EFBIG, "%s: larger than 1 MiB", path);
	else
		ret = mc_datasets_parse(buf, len, path, mount_root, out, err, errlen);
	free(buf);
	return ret;
}

void mc_datasets_free(struct mc_datasets *s)
{
	free(s->ds);
	s->ds = NULL;
	s->n = 0;
}

const struct mc_dataset *mc_datasets_find(const struct mc_datasets *s,
					  const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ds[i].name, name))
			return &s->ds[i];
	return NULL;
}

bool mc_dataset_same(const struct mc_dataset *a, const struct mc_dataset *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->source, b->source) &&
	       !strcmp(a->mount, b->mount) && !strcmp(a->fstype, b->fstype) &&
	       !strcmp(a->options, b->options) && a->extent_size == b->extent_size &&
	       !strcmp(a->account_key_file, b->account_key_file) &&
	       !strcmp(a->sas_file, b->sas_file) && !strcmp(a->token_file, b->token_file) &&
	       !strcmp(a->credentials_file, b->credentials_file) &&
	       a->anonymous == b->anonymous;
}

int mc_datasets_add(struct mc_datasets *s, const struct mc_dataset *d)
{
	struct mc_dataset *ds;

	if (s->n >= MC_DS_MAX)
		return -E2BIG;
	ds = realloc(s->ds, (s->n + 1) * sizeof(*ds));
	if (!ds)
		return -ENOMEM;
	s->ds = ds;
	s->ds[s->n++] = *d;
	return 0;
}

void mc_datasets_remove(struct mc_datasets *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->ds[i].name, name))
			continue;
		memmove(&s->ds[i], &s->ds[i + 1], (s->n - i - 1) * sizeof(s->ds[0]));
		s->n--;
		return;
	}
}

static void write_one(FILE *f, const struct mc_dataset *d)
{
	fprintf(f, "[dataset %s]\nsource = %s\nmount = %s\nfstype = %s\n", d->name,
		d->source, d->mount, d->fstype);
	if (d->options[0])
		fprintf(f, "options = %s\n", d->options);
	if (d->extent_size)
		fprintf(f, "extent_size = %u\n", d->extent_size);
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = (const char *)d + keys[i].off;

		if (keys[i].cred && keys[i].type == K_PATH && *v)
			fprintf(f, "%s = %s\n", keys[i].name, v);
	}
	if (d->anonymous)
		fprintf(f, "anonymous = yes\n");
}

int mc_datasets_save(const char *path, const struct mc_datasets *s,
		     char *err, size_t errlen)
{
	char tmp[MC_DS_PATH_MAX + 16];
	FILE *f;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return mc_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return mc_errf(err, errlen, ret, "%s: %s", tmp, strerror(-ret));
	}
	fprintf(f, "# maicache-agent: the datasets this agent attached and mounted\n");
	for (size_t i = 0; i < s->n; i++)
		write_one(f, &s->ds[i]);
	if (fflush(f) || fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return mc_errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
	}
	return 0;
}
