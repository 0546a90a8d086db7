// SPDX-License-Identifier: MIT
/*
 * Credential resolution: options, environment, credentials file, URL.
 * See cred.h for the order and the file format. Secrets read here are
 * wiped from every temporary buffer before it is released, and no error
 * message repeats a secret value (nor anything that could be one, such as
 * an unknown connection-string key).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errmsg.h"
#include "secret.h"
#include "az_url.h"
#include "cred.h"
#include "ctl_msg.h"

#define SECRET_FILE_MAX	(AZ_SAS_MAX + 64)	/* key, SAS or token file read here */
#define CRED_FILE_MAX	(1024 * 1024)


void az_cred_wipe(struct az_cred *c)
{
	explicit_bzero(c, sizeof(*c));
	c->kind = AZ_AUTH_NONE;
}

static void set_origin(struct az_cred *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_origin(struct az_cred *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->origin, sizeof(c->origin), fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim s in place; returns the first non-space byte. */
static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Same rule as the blob client's URL parser, plus a length limit. */
static int check_account(const char *a, const char *what, char *err, size_t errlen)
{
	size_t n = strlen(a);

	if (n == 0 || n >= AZ_ACCOUNT_MAX)
		return mc_errf(err, errlen, -EINVAL,
			    "%s: account name must be 1-%d characters",
			    what, AZ_ACCOUNT_MAX - 1);
	for (const char *c = a; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			return mc_errf(err, errlen, -EINVAL,
				    "%s: account name may hold only letters, digits and '-'",
				    what);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* --- base64 account keys ------------------------------------------------ */

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int az_key_decode(const char *b64, const char *what, unsigned char *key,
		  size_t *key_len, char *err, size_t errlen)
{
	/* EVP_DecodeBlock neither checks padding nor subtracts it: do both. */
	enum { B64_MAX = 4 * ((AZ_KEY_MAX + 2) / 3) };
	unsigned char out[3 * B64_MAX / 4];
	size_t n = strlen(b64), pad = 0;
	int got;

	if (n == 0)
		return mc_errf(err, errlen, -EINVAL, "%s is empty", what);
	if (n % 4)
		return mc_errf(err, errlen, -EINVAL,
			    "%s is not valid base64 (length %zu is not a multiple of 4)",
			    what, n);
	if (b64[n - 1] == '=')
		pad = b64[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(b64[i]))
			return mc_errf(err, errlen, -EINVAL,
				    "%s is not valid base64 (bad character at position %zu)",
				    what, i + 1);
	if (n / 4 * 3 - pad > AZ_KEY_MAX)
		return mc_errf(err, errlen, -EINVAL,
			    "%s is too long for an account key (more than %d bytes decoded)",
			    what, AZ_KEY_MAX);
	got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (got < 0 || (size_t)got < pad) {
		explicit_bzero(out, sizeof(out));
		return mc_errf(err, errlen, -EINVAL, "%s is not valid base64", what);
	}
	*key_len = (size_t)got - pad;
	memcpy(key, out, *key_len);
	explicit_bzero(out, sizeof(out));
	return 0;
}

/* out must hold 4 * ((len + 2) / 3) + 1 bytes. */
static void key_encode(const unsigned char *key, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, key, (int)len);
}

/* --- SAS tokens --------------------------------------------------------- */

static bool has_sig(const char *q)
{
	while (*q) {
		size_t n = strcspn(q, "&");

		if (n > 4 && !strncmp(q, "sig=", 4))
			return true;
		q += n;
		if (*q == '&')
			q++;
	}
	return false;
}

int az_sas_check(const char *sas, const char *what, char *out,
		 char *err, size_t errlen)
{
	size_t n;

	if (*sas == '?')
		sas++;
	n = strlen(sas);
	if (n == 0)
		return mc_errf(err, errlen, -EINVAL, "%s is empty", what);
	if (n >= AZ_SAS_MAX)
		return mc_errf(err, errlen, -EINVAL,
			    "%s is too long (%zu bytes, at most %d)", what, n,
			    AZ_SAS_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)sas[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return mc_errf(err, errlen, -EINVAL,
				    "%s holds a character not allowed in a URL query (position %zu)",
				    what, i + 1);
	}
	if (!has_sig(sas))
		return mc_errf(err, errlen, -EINVAL,
			    "%s does not look like a SAS token (no sig= parameter)",
			    what);
	memcpy(out, sas, n + 1);
	return 0;
}

/* --- connection strings ------------------------------------------------- */

enum cs_key {
	CS_PROTOCOL, CS_ACCOUNT, CS_KEY, CS_BLOB_ENDPOINT, CS_SUFFIX, CS_SAS,
	CS_DEV, CS_NKEYS,
};

static const char *const cs_names[CS_NKEYS] = {
	[CS_PROTOCOL] = "DefaultEndpointsProtocol",
	[CS_ACCOUNT] = "AccountName",
	[CS_KEY] = "AccountKey",
	[CS_BLOB_ENDPOINT] = "BlobEndpoint",
	[CS_SUFFIX] = "EndpointSuffix",
	[CS_SAS] = "SharedAccessSignature",
	[CS_DEV] = "UseDevelopmentStorage",
};

static int cs_lookup(const char *name)
{
	for (int i = 0; i < CS_NKEYS; i++)
		if (!strcasecmp(name, cs_names[i]))
			return i;
	return -1;	/* other services' endpoints and the like: not ours */
}

static int cs_copy(char *dst, size_t len, const char *val, const char *what,
		   const char *name, char *err, size_t errlen)
{
	if (strlen(val) >= len)
		return mc_errf(err, errlen, -EINVAL, "%s: %s is too long (at most %zu bytes)",
			    what, name, len - 1);
	strcpy(dst, val);
	return 0;
}

static int cs_value(struct az_conn_str *cs, int k, const char *val,
		    const char *what, char *err, size_t errlen)
{
	char sub[160];

	snprintf(sub, sizeof(sub), "%s: %s", what, cs_names[k]);
	switch (k) {
	case CS_PROTOCOL:
		if (strcasecmp(val, "http") && strcasecmp(val, "https"))
			return mc_errf(err, errlen, -EINVAL,
				    "%s must be http or https", sub);
		return cs_copy(cs->protocol, sizeof(cs->protocol), val, what,
			       cs_names[k], err, errlen);
	case CS_ACCOUNT:
		if (check_account(val, sub, err, errlen))
			return -EINVAL;
		strcpy(cs->account, val);
		return 0;
	case CS_KEY:
		return az_key_decode(val, sub, cs->key, &cs->key_len, err, errlen);
	case CS_BLOB_ENDPOINT:
		if (strncasecmp(val, "http://", 7) && strncasecmp(val, "https://", 8))
			return mc_errf(err, errlen, -EINVAL,
				    "%s must start with http:// or https://", sub);
		return cs_copy(cs->blob_endpoint, sizeof(cs->blob_endpoint), val,
			       what, cs_names[k], err, errlen);
	case CS_SUFFIX:
		return cs_copy(cs->endpoint_suffix, sizeof(cs->endpoint_suffix),
			       val, what, cs_names[k], err, errlen);
	case CS_SAS:
		return az_sas_check(val, sub, cs->sas, err, errlen);
	case CS_DEV:
		if (!strcasecmp(val, "true"))
			cs->dev_storage = true;
		else if (strcasecmp(val, "false"))
			return mc_errf(err, errlen, -EINVAL,
				    "%s must be true or false", sub);
		return 0;
	}
	return -EINVAL;
}

/* UseDevelopmentStorage=true: Azurite's well-known account on this host. */
static int cs_dev(struct az_conn_str *cs, const bool seen[CS_NKEYS],
		  const char *what, char *err, size_t errlen)
{
	static const int alone[] = { CS_ACCOUNT, CS_KEY, CS_SAS, CS_BLOB_ENDPOINT };

	for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++)
		if (seen[alone[i]])
			return mc_errf(err, errlen, -EINVAL,
				    "%s: UseDevelopmentStorage=true cannot be combined with %s",
				    what, cs_names[alone[i]]);
	strcpy(cs->account, AZ_DEV_ACCOUNT);
	strcpy(cs->blob_endpoint, AZ_DEV_BLOB_ENDPOINT);
	strcpy(cs->protocol, "http");
	return az_key_decode(AZ_DEV_KEY, "the development storage key", cs->key,
			     &cs->key_len, err, errlen);
}

static int cs_parse_parts(char *buf, const char *what, struct az_conn_str *cs,
			  char *err, size_t errlen)
{
	bool seen[CS_NKEYS] = { false };
	unsigned int part = 0;
	char *save = NULL;
	int res;

	for (char *p = strtok_r(buf, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		char *eq, *name, *val;
		int k;

		part++;
		p = trim(p);
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq)
			return mc_errf(err, errlen, -EINVAL,
				    "%s: part %u has no '=' (want Key=Value;Key=Value...)",
				    what, part);
		*eq = '\0';
		name = trim(p);
		val = trim(eq + 1);
		k = cs_lookup(name);
		if (k < 0)
			continue;
		if (seen[k])
			return mc_errf(err, errlen, -EINVAL, "%s: %s is given twice",
				    what, cs_names[k]);
		seen[k] = true;
		if (!*val)
			return mc_errf(err, errlen, -EINVAL, "%s: %s is empty", what,
				    cs_names[k]);
		res = cs_value(cs, k, val, what, err, errlen);
		if (res)
			return res;
	}
	if (cs->dev_storage)
		return cs_dev(cs, seen, what, err, errlen);
	if (cs->key_len && !cs->account[0])
		return mc_errf(err, errlen, -EINVAL,
			    "%s has an AccountKey but no AccountName", what);
	if (!cs->key_len && !cs->sas[0])
		return mc_errf(err, errlen, -EINVAL,
			    "%s has neither AccountKey nor SharedAccessSignature (nor UseDevelopmentStorage=true)",
			    what);
	return 0;
}

int az_conn_str_parse(const char *s, const char *what, struct az_conn_str *out,
		      char *err, size_t errlen)
{
	size_t n = strlen(s);
	char *buf;
	int res;

	explicit_bzero(out, sizeof(*out));
	buf = malloc(n + 1);
	if (!buf)
		return mc_errf(err, errlen, -ENOMEM, "%s: out of memory", what);
	memcpy(buf, s, n + 1);
	res = cs_parse_parts(buf, what, out, err, errlen);
	explicit_bzero(buf, n);
	free(buf);
	if (res)
		explicit_bzero(out, sizeof(*out));
	return res;
}

/*
 * The account a blob endpoint belongs to, by the blob client's own URL
 * rules (a placeholder container and blob make it a full blob URL).
 */
static void endpoint_account(const char *endpoint, char *out, size_t len)
{
	size_t n = strlen(endpoint);
	struct az_url *u;
	char *url;

	out[0] = '\0';
	while (n && endpoint[n - 1] == '/')
		n--;
	url = malloc(n + 16);
	u = malloc(sizeof(*u));
	if (url && u) {
		snprintf(url, n + 16, "%.*s/xxx/x", (int)n, endpoint);
		if (!az_url_parse(url, u, NULL, 0) && !strchr(endpoint, '?'))
			snprintf(out, len, "%s", u->account);
	}
	free(url);
	free(u);
}

/* --- one credential from one source ------------------------------------- */

/* Everything one resolution needs to know about where it is. */
struct resolve {
	const struct mc_cred_opts *opts;
	char account[AZ_ACCOUNT_MAX];	/* the URL's */
	bool url_sas;
	struct az_cred *out;
	char *err;
	size_t errlen;
};

static int mismatch(struct resolve *r, const char *what, const char *account)
{
	return mc_errf(r->err, r->errlen, -EINVAL,
		    "the URL is for account '%s' but %s is for account '%s'",
		    r->account, what, account);
}

static int use_key(struct resolve *r, const char *b64, const char *what)
{
	struct az_cred *c = r->out;
	int res;

	res = az_key_decode(b64, what, c->key, &c->key_len, r->err, r->errlen);
	if (res)
		return res;
	if (c->key_len == 0)
		return mc_errf(r->err, r->errlen, -EINVAL, "%s is an empty key", what);
	c->kind = AZ_AUTH_SHARED_KEY;
	strcpy(c->account, r->account);
	set_origin(c, "%s", what);
	return 1;
}

static int use_sas(struct resolve *r, const char *sas, const char *what)
{
	struct az_cred *c = r->out;
	int res;

	res = az_sas_check(sas, what, c->sas, r->err, r->errlen);
	if (res)
		return res;
	c->kind = AZ_AUTH_SAS;
	strcpy(c->account, r->account);
	set_origin(c, "%s", what);
	return 1;
}

static int use_conn_str(struct resolve *r, const char *s, const char *what)
{
	struct az_conn_str *cs = malloc(sizeof(*cs));
	struct az_cred *c = r->out;
	char account[AZ_ACCOUNT_MAX];
	int res;

	if (!cs)
		return mc_errf(r->err, r->errlen, -ENOMEM, "out of memory");
	res = az_conn_str_parse(s, what, cs, r->err, r->errlen);
	if (res)
		goto out;
	snprintf(account, sizeof(account), "%s", cs->account);
	if (!account[0] && cs->blob_endpoint[0])
		endpoint_account(cs->blob_endpoint, account, sizeof(account));
	if (account[0] && strcasecmp(account, r->account)) {
		res = mismatch(r, what, account);
		goto out;
	}
	strcpy(c->account, r->account);
	if (cs->key_len) {
		c->kind = AZ_AUTH_SHARED_KEY;
		memcpy(c->key, cs->key, cs->key_len);
		c->key_len = cs->key_len;
	} else {
		c->kind = AZ_AUTH_SAS;
		strcpy(c->sas, cs->sas);
	}
	set_origin(c, "%s", what);
	res = 1;
out:
	explicit_bzero(cs, sizeof(*cs));
	free(cs);
	return res;
}

/* A secret read from a file, handed to use_key() or use_sas(). */
static int use_secret_file(struct resolve *r, const char *path, const char *what,
			   int (*use)(struct resolve *r, const char *secret,
				      const char *label))
{
	char buf[SECRET_FILE_MAX], label[AZ_ORIGIN_MAX];
	int res;

	res = mc_secret_file_read(path, what, buf, sizeof(buf), 0, r->err, r->errlen);
	if (res)
		return res;
	snprintf(label, sizeof(label), "%s %s", what, path);
	res = use(r, buf, label);
	explicit_bzero(buf, sizeof(buf));
	return res;
}

static int use_key_file(struct resolve *r, const char *path, const char *what)
{
	return use_secret_file(r, path, what, use_key);
}

static int use_sas_file(struct resolve *r, const char *path, const char *what)
{
	return use_secret_file(r, path, what, use_sas);
}

/*
 * The daemon re-reads the token file, from another working directory:
 * keep the path absolute but do not resolve symlinks, which rotate.
 */
static int use_token_file(struct resolve *r, const char *path, const char *what)
{
	struct az_cred *c = r->out;
	char cwd[AZ_PATH_MAX];
	struct stat st;
	int n;

	if (path[0] == '/') {
		n = snprintf(c->token_file, sizeof(c->token_file), "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return mc_errf(r->err, r->errlen, -errno,
				    "%s %s: cannot make it absolute: %s", what,
				    path, strerror(errno));
		n = snprintf(c->token_file, sizeof(c->token_file), "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= sizeof(c->token_file))
		return mc_errf(r->err, r->errlen, -ENAMETOOLONG, "%s: path too long", what);
	if (!printable(c->token_file))
		return mc_errf(r->err, r->errlen, -EINVAL,
			    "%s: path holds control characters", what);
	if (stat(c->token_file, &st))
		return mc_errf(r->err, r->errlen, -errno, "%s %s: %s", what, path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return mc_errf(r->err, r->errlen, -EINVAL, "%s %s: not a regular file",
			    what, path);
	c->kind = AZ_AUTH_BEARER;
	strcpy(c->account, r->account);
	set_origin(c, "%s", what);
	return 1;
}

/* --- 1. options --------------------------------------------------------- */

static int from_options(struct resolve *r)
{
	const struct mc_cred_opts *o = r->opts;
	const char *first = NULL;
	struct {
		bool set;
		const char *name;
	} given[] = {
		{ o->account_key_file, "--account-key-file" },
		{ o->sas, "--sas" },
		{ o->sas_file, "--sas-file" },
		{ o->token_file, "--token-file" },
		{ o->connection_string, "--connection-string" },
		{ o->anonymous, "--anonymous" },
	};

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		if (!given[i].set)
			continue;
		if (first)
			return mc_errf(r->err, r->errlen, -EINVAL,
				    "%s and %s cannot be used together: give one credential",
				    first, given[i].name);
		first = given[i].name;
	}
	if (o->account_key_file)
		return use_key_file(r, o->account_key_file, "--account-key-file");
	if (o->sas)
		return use_sas(r, o->sas, "--sas");
	if (o->sas_file)
		return use_sas_file(r, o->sas_file, "--sas-file");
	if (o->token_file)
		return use_token_file(r, o->token_file, "--token-file");
	if (o->connection_string)
		return use_conn_str(r, o->connection_string, "--connection-string");
	if (o->anonymous) {
		strcpy(r->out->account, r->account);
		set_origin(r->out, "--anonymous");
		return 1;
	}
	return 0;
}

/* --- 2. environment ----------------------------------------------------- */

static const char *env_get(const struct resolve *r, const char *name)
{
	const char *v = r->opts->env ? r->opts->env(r->opts->env_arg, name)
				     : getenv(name);

	return v && *v ? v : NULL;
}

static int from_env(struct resolve *r)
{
	const char *account = env_get(r, "AZURE_STORAGE_ACCOUNT");
	const char *v;

	v = env_get(r, "AZURE_STORAGE_CONNECTION_STRING");
	if (v)
		return use_conn_str(r, v, "AZURE_STORAGE_CONNECTION_STRING");
	v = env_get(r, "AZURE_STORAGE_KEY");
	if (v && !account)
		return mc_errf(r->err, r->errlen, -EINVAL,
			    "AZURE_STORAGE_KEY is set but AZURE_STORAGE_ACCOUNT is not: set it to the key's account");
	if ((v || env_get(r, "AZURE_STORAGE_SAS_TOKEN")) &&
	    strcasecmp(account ? account : r->account, r->account))
		return mismatch(r, "AZURE_STORAGE_ACCOUNT", account);
	if (v)
		return use_key(r, v, "AZURE_STORAGE_KEY");
	v = env_get(r, "AZURE_STORAGE_SAS_TOKEN");
	if (v)
		return use_sas(r, v, "AZURE_STORAGE_SAS_TOKEN");
	v = env_get(r, "MAICACHE_TOKEN_FILE");
	if (v)
		return use_token_file(r, v, "MAICACHE_TOKEN_FILE");
	return 0;
}

/* --- 3. credentials file ------------------------------------------------ */

enum cf_key { CF_KEY_FILE, CF_KEY, CF_SAS, CF_SAS_FILE, CF_TOKEN_FILE, CF_CONN_STR };

static const struct {
	const char *name;
	bool inline_secret;
	bool path;
} cf_keys[] = {
	[CF_KEY_FILE] = { "key_file", false, true },
	[CF_KEY] = { "key", true, false },
	[CF_SAS] = { "sas", true, false },
	[CF_SAS_FILE] = { "sas_file", false, true },
	[CF_TOKEN_FILE] = { "token_file", false, true },
	[CF_CONN_STR] = { "connection_string", true, false },
};

#define CF_NKEYS	(sizeof(cf_keys) / sizeof(cf_keys[0]))
#define CF_SECTIONS_MAX	1024

struct cf_parse {
	struct resolve *r;
	const char *path;
	unsigned int line;
	/* sections seen so far, for duplicates: names point into the text */
	const char *names[CF_SECTIONS_MAX];
	unsigned int lines[CF_SECTIONS_MAX];
	unsigned int nsections;
	bool in_section;
	bool matched;			/* the current section is the URL's account */
	unsigned int setting_line;	/* the current section's setting, or 0 */
	unsigned int secret_line;	/* first inline secret, or 0 */
	/* the URL account's setting */
	int hit_key;
	unsigned int hit_line;
	char *hit_val;
};

static int cf_err(struct cf_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cf_err(struct cf_parse *p, const char *fmt, ...)
{
	struct resolve *r = p->r;
	va_list ap;
	int n;

	n = snprintf(r->err, r->errlen, "%s:%u: ", p->path, p->line);
	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int cf_section(struct cf_parse *p, char *s)
{
	size_t n = strlen(s);
	char *name;

	if (s[n - 1] != ']')
		return cf_err(p, "section header has no closing ']'");
	s[n - 1] = '\0';
	s = trim(s + 1);
	if (strncmp(s, "account", 7) || !is_space(s[7]))
		return cf_err(p, "unknown section (want [account NAME])");
	name = trim(s + 8);
	if (check_account(name, "section", p->r->err, p->r->errlen))
		return cf_err(p, "bad account name in [account %.*s] (letters, digits and '-', 1-%d characters)",
			      AZ_ACCOUNT_MAX, name, AZ_ACCOUNT_MAX - 1);
	for (unsigned int i = 0; i < p->nsections; i++)
		if (!strcasecmp(p->names[i], name))
			return cf_err(p, "section [account %s] repeats the one on line %u",
				      name, p->lines[i]);
	if (p->nsections == CF_SECTIONS_MAX)
		return cf_err(p, "more than %d sections", CF_SECTIONS_MAX);
	p->names[p->nsections] = name;
	p->lines[p->nsections++] = p->line;
	p->in_section = true;
	p->matched = !strcasecmp(name, p->r->account);
	p->setting_line = 0;
	return 0;
}

static bool cf_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static int cf_setting(struct cf_parse *p, char *s)
{
	char *eq = strchr(s, '='), *key, *val;
	size_t k;

	if (!p->in_section)
		return cf_err(p, "setting outside an [account NAME] section");
	if (!eq)
		return cf_err(p, "missing '=' (want key = value)");
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	for (k = 0; k < CF_NKEYS; k++)
		if (!strcmp(key, cf_keys[k].name))
			break;
	if (k == CF_NKEYS) {
		/* echo the key only if it cannot be a pasted secret */
		bool plain = strlen(key) < 32;

		for (const char *c = key; *c && plain; c++)
			plain = cf_key_char(*c);
		return cf_err(p, "unknown key%s%s%s (want key_file, key, sas, sas_file, token_file or connection_string)",
			      plain ? " '" : "", plain ? key : "", plain ? "'" : "");
	}
	if (!*val)
		return cf_err(p, "%s has no value", key);
	if (p->setting_line)
		return cf_err(p, "%s: this section already has a credential on line %u (give one per section)",
			      key, p->setting_line);
	if (cf_keys[k].path && val[0] != '/')
		return cf_err(p, "%s must be an absolute path", key);
	p->setting_line = p->line;
	if (cf_keys[k].inline_secret && !p->secret_line)
		p->secret_line = p->line;
	if (p->matched) {
		p->hit_key = (int)k;
		p->hit_line = p->line;
		p->hit_val = val;
	}
	return 0;
}

static int cf_parse_text(struct cf_parse *p, char *text)
{
	int res;

	/* strtok_r would skip empty lines and lose the count: split by hand */
	for (char *line = text, *next; line; line = next) {
		char *s;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p->line++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		res = *s == '[' ? cf_section(p, s) : cf_setting(p, s);
		if (res)
			return res;
	}
	return 0;
}

/* Read the whole file; refuse it if it shares inline secrets. */
static int cf_read(struct cf_parse *p, int fd, char **text)
{
	struct resolve *r = p->r;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;

	if (fstat(fd, &st))
		return mc_errf(r->err, r->errlen, -errno, "%s: %s", p->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return mc_errf(r->err, r->errlen, -EINVAL, "%s: not a regular file", p->path);
	if (st.st_size > CRED_FILE_MAX)
		return mc_errf(r->err, r->errlen, -EINVAL, "%s: larger than %d bytes",
			    p->path, CRED_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return mc_errf(r->err, r->errlen, -ENOMEM, "%s: out of memory", p->path);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got)) {
		explicit_bzero(buf, got);
		free(buf);
		return mc_errf(r->err, r->errlen, -EINVAL, "%s: holds a NUL byte", p->path);
	}
	*text = buf;
	return (int)got;
}

static int cf_use(struct cf_parse *p)
{
	char what[AZ_ORIGIN_MAX];

	snprintf(what, sizeof(what), "%s:%u", p->path, p->hit_line);
	switch (p->hit_key) {
	case CF_KEY_FILE:
		return use_key_file(p->r, p->hit_val, what);
	case CF_KEY:
		return use_key(p->r, p->hit_val, what);
	case CF_SAS:
		return use_sas(p->r, p->hit_val, what);
	case CF_SAS_FILE:
		return use_sas_file(p->r, p->hit_val, what);
	case CF_TOKEN_FILE:
		return use_token_file(p->r, p->hit_val, what);
	case CF_CONN_STR:
		return use_conn_str(p->r, p->hit_val, what);
	}
	return 0;
}

static int cf_load(struct resolve *r, const char *path, int fd)
{
	struct cf_parse *p = calloc(1, sizeof(*p));
	struct stat st;
	char *text = NULL;
	int res, len;

	if (!p)
		return mc_errf(r->err, r->errlen, -ENOMEM, "%s: out of memory", path);
	p->r = r;
	p->path = path;
	p->hit_key = -1;
	len = cf_read(p, fd, &text);
	if (len < 0) {
		free(p);
		return len;
	}
	res = cf_parse_text(p, text);
	if (!res && p->secret_line && !fstat(fd, &st) && (st.st_mode & 077))
		res = mc_errf(r->err, r->errlen, -EACCES,
			   "%s holds a secret (line %u) but is accessible by group or others (mode %04o): run chmod 600 %s",
			   path, p->secret_line, (unsigned int)(st.st_mode & 07777), path);
	if (!res && p->hit_key >= 0)
		res = cf_use(p);
	explicit_bzero(text, (size_t)len);
	free(text);
	free(p);
	return res;
}

static int from_file(struct resolve *r)
{
	const char *path = r->opts->credentials_file, *what = "--credentials-file";
	int fd, res;

	if (!path) {
		path = env_get(r, "MAICACHE_CREDENTIALS");
		what = "MAICACHE_CREDENTIALS";
	}
	if (!path) {
		path = MC_CREDENTIALS_FILE;
		what = NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !what)
			return 0;	/* the default file is optional */
		return mc_errf(r->err, r->errlen, -errno, "credentials file %s%s%s%s: %s",
			    path, what ? " (from " : "", what ? what : "",
			    what ? ")" : "", strerror(errno));
	}
	res = cf_load(r, path, fd);
	close(fd);
	return res;
}

/* --- resolution --------------------------------------------------------- */

int mc_cred_resolve(const char *url, const struct mc_cred_opts *opts,
		    struct az_cred *out, char *err, size_t errlen)
{
	static const struct mc_cred_opts no_opts;
	struct resolve r = {
		.opts = opts ? opts : &no_opts, .out = out,
		.err = err, .errlen = errlen,
	};
	struct az_url *u = malloc(sizeof(*u));
	int res;

	az_cred_wipe(out);
	if (!u)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	res = az_url_parse(url, u, err, errlen);
	if (!res) {
		snprintf(r.account, sizeof(r.account), "%s", u->account);
		r.url_sas = u->query[0] && has_sig(u->query);
	}
	explicit_bzero(u, sizeof(*u));
	free(u);
	if (res)
		return res;

	res = from_options(&r);
	if (!res)
		res = from_env(&r);
	if (!res)
		res = from_file(&r);
	if (res < 0) {
		az_cred_wipe(out);
		return res;
	}
	if (res == 0) {
		strcpy(out->account, r.account);
		set_origin(out, "%s", r.url_sas ? "the URL carries a SAS" :
			   "none found; anonymous access");
	}
	return 0;
}

/* --- describing and carrying -------------------------------------------- */

void az_cred_describe(const struct az_cred *c, char *buf, size_t len)
{
	static const char *const kinds[] = {
		[AZ_AUTH_NONE] = "no credential",
		[AZ_AUTH_SHARED_KEY] = "shared key",
		[AZ_AUTH_SAS] = "SAS",
		[AZ_AUTH_BEARER] = "bearer token",
	};
	const char *kind = (unsigned int)c->kind < sizeof(kinds) / sizeof(kinds[0])
			   ? kinds[c->kind] : "unknown credential";
	char acct[AZ_ACCOUNT_MAX + 32] = "", origin[AZ_ORIGIN_MAX + 16] = "";

	if (c->account[0])
		snprintf(acct, sizeof(acct), " for account '%.*s'",
			 AZ_ACCOUNT_MAX - 1, c->account);
	if (c->origin[0])
		snprintf(origin, sizeof(origin), " (%s%.*s)",
			 c->kind == AZ_AUTH_NONE ? "" : "from ",
			 AZ_ORIGIN_MAX - 1, c->origin);
	if (c->kind == AZ_AUTH_BEARER)
		snprintf(buf, len, "%s in %.*s%s%s", kind, AZ_PATH_MAX - 1,
			 c->token_file, acct, origin);
	else
		snprintf(buf, len, "%s%s%s", kind, acct, origin);
}

enum { F_AUTH, F_ACCOUNT, F_KEY, F_SAS, F_TOKEN_FILE, F_ORIGIN, F_N };

static const char *const fields[F_N] = {
	"auth", "account", "key", "sas", "token_file", "origin",
};

static const char *const auth_names[] = {
	[AZ_AUTH_NONE] = "none",
	[AZ_AUTH_SHARED_KEY] = "shared_key",
	[AZ_AUTH_SAS] = "sas",
	[AZ_AUTH_BEARER] = "bearer",
};

#define N_AUTH	(sizeof(auth_names) / sizeof(auth_names[0]))

/* Which fields each kind carries (auth, account and origin always may). */
static bool field_allowed(enum az_auth kind, int f)
{
	switch (f) {
	case F_KEY:
		return kind == AZ_AUTH_SHARED_KEY;
	case F_SAS:
		return kind == AZ_AUTH_SAS;
	case F_TOKEN_FILE:
		return kind == AZ_AUTH_BEARER;
	default:
		return true;
	}
}

static int field_key(char *buf, const char *prefix, int f)
{
	int n = snprintf(buf, MC_MSG_KEY_MAX, "%s%s", prefix ? prefix : "", fields[f]);

	return n < 0 || n >= MC_MSG_KEY_MAX ? -EINVAL : 0;
}

int az_cred_to_msg(const struct az_cred *c, struct mc_msg *m, const char *prefix)
{
	char key[MC_MSG_KEY_MAX], b64[4 * ((AZ_KEY_MAX + 2) / 3) + 1];
	int res = 0;

	if ((unsigned int)c->kind >= N_AUTH || c->key_len > AZ_KEY_MAX)
		return -EINVAL;
	for (int f = 0; f < F_N && !res; f++) {
		const char *val = NULL;

		if (!field_allowed(c->kind, f))
			continue;
		switch (f) {
		case F_AUTH:
			val = auth_names[c->kind];
			break;
		case F_ACCOUNT:
			val = c->account;
			break;
		case F_KEY:
			key_encode(c->key, c->key_len, b64);
			val = b64;
			break;
		case F_SAS:
			val = c->sas;
			break;
		case F_TOKEN_FILE:
			val = c->token_file;
			break;
		case F_ORIGIN:
			val = c->origin;
			break;
		}
		if (!val[0] && (f == F_ACCOUNT || f == F_ORIGIN))
			continue;
		res = field_key(key, prefix, f);
		if (!res)
			res = mc_msg_add(m, key, val);
	}
	explicit_bzero(b64, sizeof(b64));
	return res;
}

/* Reject PREFIX fields that are not ours: the daemon trusts nothing. */
static int check_unknown(const struct mc_msg *m, const char *prefix,
			 char *err, size_t errlen)
{
	size_t plen = prefix ? strlen(prefix) : 0;

	if (!plen)
		return 0;
	for (unsigned int i = 0; i < mc_msg_count(m); i++) {
		const char *k = mc_msg_key(m, i);
		int f;

		if (strncmp(k, prefix, plen))
			continue;
		for (f = 0; f < F_N; f++)
			if (!strcmp(k + plen, fields[f]))
				break;
		if (f == F_N)
			return mc_errf(err, errlen, -EINVAL, "unknown credential field '%s'", k);
	}
	return 0;
}

static int from_msg_field(struct az_cred *c, int f, const char *key,
			  const char *val, char *err, size_t errlen)
{
	switch (f) {
	case F_ACCOUNT:
		if (check_account(val, key, err, errlen))
			return -EINVAL;
		strcpy(c->account, val);
		return 0;
	case F_KEY:
		if (az_key_decode(val, key, c->key, &c->key_len, err, errlen))
			return -EINVAL;
		if (!c->key_len)
			return mc_errf(err, errlen, -EINVAL, "%s is an empty key", key);
		return 0;
	case F_SAS:
		return az_sas_check(val, key, c->sas, err, errlen);
	case F_TOKEN_FILE:
		if (val[0] != '/' || strlen(val) >= sizeof(c->token_file) || !printable(val))
			return mc_errf(err, errlen, -EINVAL,
				    "%s must be an absolute path of printable characters, shorter than %zu bytes",
				    key, sizeof(c->token_file));
		strcpy(c->token_file, val);
		return 0;
	case F_ORIGIN:
		if (strlen(val) >= sizeof(c->origin) || !printable(val))
			return mc_errf(err, errlen, -EINVAL,
				    "%s must be printable and shorter than %zu bytes",
				    key, sizeof(c->origin));
		strcpy(c->origin, val);
		return 0;
	}
	return -EINVAL;
}

static int cred_from_msg(struct az_cred *c, const struct mc_msg *m,
			 const char *prefix, char *err, size_t errlen)
{
	char key[MC_MSG_KEY_MAX];
	const char *val;
	unsigned int kind;
	int res;

	if (field_key(key, prefix, F_AUTH))
		return mc_errf(err, errlen, -EINVAL, "credential prefix too long");
	val = mc_msg_get(m, key);
	if (!val)
		return mc_errf(err, errlen, -EINVAL, "%s is missing", key);
	for (kind = 0; kind < N_AUTH; kind++)
		if (!strcmp(val, auth_names[kind]))
			break;
	if (kind == N_AUTH)
		return mc_errf(err, errlen, -EINVAL,
			    "%s must be none, shared_key, sas or bearer", key);
	c->kind = (enum az_auth)kind;
	res = check_unknown(m, prefix, err, errlen);
	for (int f = F_ACCOUNT; f < F_N && !res; f++) {
		if (field_key(key, prefix, f))
			return mc_errf(err, errlen, -EINVAL, "credential prefix too long");
		val = mc_msg_get(m, key);
		if (!field_allowed(c->kind, f)) {
			if (val)
				res = mc_errf(err, errlen, -EINVAL,
					   "%s is not allowed with auth=%s", key,
					   auth_names[c->kind]);
			continue;
		}
		if (!val) {
			bool needed = f == F_KEY || f == F_SAS || f == F_TOKEN_FILE ||
				      (f == F_ACCOUNT && c->kind == AZ_AUTH_SHARED_KEY);

			if (needed)
				res = mc_errf(err, errlen, -EINVAL, "%s is missing (auth=%s)",
					   key, auth_names[c->kind]);
			continue;
		}
		res = from_msg_field(c, f, key, val, err, errlen);
	}
	return res;
}

int az_cred_from_msg(struct az_cred *c, const struct mc_msg *m,
		     const char *prefix, char *err, size_t errlen)
{
	int res;

	az_cred_wipe(c);
	res = cred_from_msg(c, m, prefix, err, errlen);
	if (res)
		az_cred_wipe(c);
	return res;
}
