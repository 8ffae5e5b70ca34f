/* config.c: what the config file means: where each key may stand, which
 * tunables apply to a provider, base_url, the cache directory, the
 * config's own path.
 *
 * ini.c reads the file's lines, secret.c fetches the secrets they name and
 * tunables.c knows the tunables' ranges and defaults. The provider table
 * says which keys each type adds, when a section of that type is complete
 * and its default qps: a new type needs nothing here. Every message names
 * file:line (or file and [section]) and never a secret's value. Knows
 * nothing of HTTP or of what a provider does with its settings. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aifs/config.h"
#include "aifs/cval.h"
#include "aifs/err.h"
#include "aifs/ini.h"
#include "aifs/provider.h"
#include "aifs/secret.h"
#include "aifs/tunables.h"
#include "aifs/url.h"

#define CONF_FILE_MAX (1 << 20)

struct conf_kv {
	char *key;
	char *val;
	int line;
};

struct conf_sect {
	char *name; /* NULL for the keys before the first section */
	int line;
	struct conf_kv *kv;
	size_t n_kv;
};

struct conf_parse {
	const char *path;        /* borrowed; as shown in messages */
	char *dir;               /* absolute: relative paths in the file start here */
	mode_t mode;
	char *text;              /* the whole file; wiped, it may hold secrets */
	size_t len;
	struct conf_sect *sects; /* sects[0]: the global keys */
	size_t n_sects;
	struct aifs_err *err;
	int rc;                  /* the first error */
};

/* CK_TYPE_KEY: a key that some type in the provider table takes. */
enum conf_kind { CK_UNKNOWN, CK_TYPE, CK_BASE_URL, CK_INSECURE, CK_DELETE, CK_ARCHIVE,
		 CK_MIN_FREE, CK_TUN, CK_CACHE_DIR, CK_CACHE_MAX, CK_REDIS, CK_TYPE_KEY };

static int conf_fail(struct conf_parse *p, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int conf_fail(struct conf_parse *p, int line, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->rc)
		return p->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		aifs_err_set(p->err, code, "%s:%d: %s", p->path, line, msg);
	else
		aifs_err_set(p->err, code, "%s: %s", p->path ? p->path : "config", msg);
	p->rc = code;
	return code;
}

static int conf_has_ctrl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* A value as quoted in a message: 32 bytes at most, cut between words or
 * characters (aifs_text_cut), into buf. */
#define CONF_SHOWN_MAX 36
static const char *conf_value(const char *v, char buf[CONF_SHOWN_MAX])
{
	aifs_text_cut(buf, CONF_SHOWN_MAX, v);
	return buf;
}

/* ---- paths ---- */

/* Expands "~" and "~/..."; NULL when out of memory or no home is known. */
char *config_expand_home(const char *path)
{
	struct passwd pw, *res = NULL;
	const char *home = getenv("HOME");
	char pwbuf[4096], *out;

	if (path[0] != '~' || (path[1] && path[1] != '/'))
		return strdup(path);
	if (!home || !*home) {
		if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &res) != 0 || !res ||
		    !res->pw_dir[0])
			return NULL;
		home = res->pw_dir;
	}
	if (asprintf(&out, "%s%s", home, path + 1) < 0)
		return NULL;
	return out;
}

/* A path from the file: "~" is home, a relative path starts at the file's
 * directory (not the cwd: the mount may start anywhere). */
static int conf_path(struct conf_parse *p, const struct conf_kv *kv, char **out)
{
	const char *v = kv->val;

	*out = NULL;
	if (!*v)
		return conf_fail(p, kv->line, -EINVAL, "%s is empty", kv->key);
	if (v[0] == '~' && v[1] && v[1] != '/')
		return conf_fail(p, kv->line, -EINVAL, "%s: only ~ and ~/ are expanded", kv->key);
	if (v[0] == '~')
		*out = config_expand_home(v);
	else if (v[0] == '/')
		*out = strdup(v);
	else if (asprintf(out, "%s/%s", p->dir, v) < 0)
		*out = NULL;
	if (!*out)
		return conf_fail(p, kv->line, -ENOMEM, "%s: out of memory or no home directory",
				 kv->key);
	return 0;
}

/* ---- the file's lines ---- */

static int conf_on_section(void *ctx, const char *name, size_t len, int line,
			   struct aifs_err *err)
{
	struct conf_parse *p = ctx;
	struct conf_sect *v;

	if (len == 0 || len > 255)
		return aifs_err_set(err, -EINVAL, "a provider name must be 1 to 255 bytes");
	if (name[0] == ' ' || name[len - 1] == ' ' || conf_has_ctrl(name, len))
		return aifs_err_set(err, -EINVAL,
				    "[%.*s]: blanks around or control characters in the name",
				    (int)len, name);
	if (memchr(name, '/', len) || name[0] == '.')
		return aifs_err_set(err, -EINVAL,
				    "[%.*s]: a provider name cannot hold '/' or start with '.'",
				    (int)len, name);
	for (size_t i = 1; i < p->n_sects; i++)
		if (strlen(p->sects[i].name) == len && !memcmp(p->sects[i].name, name, len))
			return aifs_err_set(err, -EINVAL, "[%.*s] given twice (first at line %d)",
					    (int)len, name, p->sects[i].line);
	if (p->n_sects > CONFIG_MAX_PROVIDERS)
		return aifs_err_set(err, -EINVAL, "more than %d providers", CONFIG_MAX_PROVIDERS);
	v = realloc(p->sects, (p->n_sects + 1) * sizeof *v);
	if (!v)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	p->sects = v;
	v = &p->sects[p->n_sects];
	memset(v, 0, sizeof *v);
	v->line = line;
	if (!(v->name = strndup(name, len)))
		return aifs_err_set(err, -ENOMEM, "out of memory");
	p->n_sects++;
	return 0;
}

static int conf_on_key(void *ctx, const char *key, const char *val, size_t len, int line,
		       struct aifs_err *err)
{
	struct conf_parse *p = ctx;
	struct conf_sect *s = &p->sects[p->n_sects - 1];
	struct conf_kv *kv;

	for (size_t i = 0; i < s->n_kv; i++)
		if (!strcmp(s->kv[i].key, key))
			return aifs_err_set(err, -EINVAL, "%s given twice (first at line %d)",
					    secret_shown_key(key), s->kv[i].line);
	kv = realloc(s->kv, (s->n_kv + 1) * sizeof *kv);
	if (!kv)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	s->kv = kv;
	kv = &s->kv[s->n_kv];
	kv->line = line;
	kv->key = strdup(key);
	kv->val = strndup(val, len);
	s->n_kv++;
	if (!kv->key || !kv->val)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static const struct ini_ops conf_ini_ops = {
	.section = conf_on_section,
	.key = conf_on_key,
};

static int conf_read(struct conf_parse *p)
{
	char *abs = NULL, *slash;
	struct aifs_err e;
	bool more = false;
	int rc, line = 0;

	rc = secret_slurp(p->path, CONF_FILE_MAX, &p->text, &p->len, &p->mode, &more);
	if (rc < 0)
		return conf_fail(p, 0, rc, "cannot read: %s", strerror(-rc));
	if (more)
		return conf_fail(p, 0, -EFBIG, "larger than %d bytes", CONF_FILE_MAX);
	if (p->path[0] == '/')
		abs = strdup(p->path);
	else if ((slash = getcwd(NULL, 0))) {
		if (asprintf(&abs, "%s/%s", slash, p->path) < 0)
			abs = NULL;
		free(slash);
	}
	if (!abs)
		return conf_fail(p, 0, -ENOMEM, "cannot find its directory");
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0'; /* the file is in "/" */
	else
		slash[0] = '\0';
	p->dir = abs;
	if (!(p->sects = calloc(1, sizeof *p->sects)))
		return conf_fail(p, 0, -ENOMEM, "out of memory");
	p->n_sects = 1;
	aifs_err_clear(&e);
	rc = ini_read(p->text, p->len, &conf_ini_ops, p, &line, &e);
	if (rc < 0)
		return conf_fail(p, line, rc, "%s", e.msg);
	return 0;
}

/* ---- values ---- */

/* The key of type ops that key gives (a secret's also as NAME_env or
 * NAME_file); NULL when the type takes no such key. */
static const struct provider_key *conf_type_key(const struct provider_ops *ops, const char *key)
{
	for (const struct provider_key *k = ops->keys; k && k->name; k++)
		if (k->kind == PROVIDER_KEY_SECRET ? secret_form(key, k->name) >= 0
						   : !strcmp(key, k->name))
			return k;
	return NULL;
}

static enum conf_kind conf_lookup(const char *key)
{
	static const struct {
		const char *key;
		enum conf_kind kind;
	} plain[] = {
		{ "type", CK_TYPE },		  { "base_url", CK_BASE_URL },
		{ "insecure_http", CK_INSECURE }, { "cache_dir", CK_CACHE_DIR },
		{ "delete", CK_DELETE },	{ "archive", CK_ARCHIVE },
		{ "archive_min_free", CK_MIN_FREE },
		{ "cache_max", CK_CACHE_MAX },
	};
	const struct provider_ops *ops;

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (!strcmp(key, plain[i].key))
			return plain[i].kind;
	if (tunables_is_key(key))
		return CK_TUN;
	if (secret_form(key, "redis") >= 0)
		return CK_REDIS;
	for (size_t i = 0; (ops = provider_at(i)); i++)
		if (conf_type_key(ops, key))
			return CK_TYPE_KEY;
	return CK_UNKNOWN;
}

/* "ark or chanjing": every type of the table, for messages. */
static const char *conf_type_names(char *buf, size_t size)
{
	const struct provider_ops *ops;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; (ops = provider_at(i)) && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s",
				      i == 0 ? "" : provider_at(i + 1) ? ", " : " or ", ops->type);
	return buf;
}

static int conf_tun_parse(struct conf_parse *p, const struct conf_kv *kv, struct tunables *t)
{
	char why[128];
	int rc = tunables_set(t, kv->key, kv->val, why, sizeof why);

	return rc < 0 ? conf_fail(p, kv->line, rc, "%s", why) : 0;
}

/* yes 1, no 0, and with_auto, auto -1 */
static int conf_yes_no(struct conf_parse *p, const struct conf_kv *kv, bool with_auto, int *out)
{
	char shown[CONF_SHOWN_MAX];

	if (!strcasecmp(kv->val, "yes"))
		*out = 1;
	else if (!strcasecmp(kv->val, "no"))
		*out = 0;
	else if (!strcasecmp(kv->val, "auto") && with_auto)
		*out = -1;
	else
		return conf_fail(p, kv->line, -EINVAL, "%s: '%s' is not %s", kv->key,
				 conf_value(kv->val, shown),
				 with_auto ? "yes, no or auto" : "yes or no");
	return 0;
}

/* base_url is never echoed: it may hold user:password. */
static int conf_url(struct conf_parse *p, const struct conf_kv *kv, int insecure, char **out)
{
	const char *v = kv->val;
	struct url_parts u;
	size_t n = strlen(v);
	int https = !strncasecmp(v, "https://", 8);

	while (n && v[n - 1] == '/')
		n--;
	if (n <= (https ? 8u : 7u))
		return conf_fail(p, kv->line, -EINVAL,
				 "base_url must be https://HOST[/PATH] (or http://)");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f || v[i] == '?' || v[i] == '#')
			return conf_fail(p, kv->line, -EINVAL,
					 "base_url: a blank, control character, query or fragment");
	if (!https && strncasecmp(v, "http://", 7))
		return conf_fail(p, kv->line, -EINVAL,
				 "base_url must start with https:// (or http://)");
	if (url_split(v, n, &u) < 0)
		return conf_fail(p, kv->line, -EINVAL, "base_url has no host");
	if (!https && !insecure && !url_host_is_loopback(u.host, u.host_len))
		return conf_fail(p, kv->line, -EINVAL,
				 "base_url: plain http to %.*s is refused; use https, or "
				 "insecure_http = yes",
				 (int)(u.host_len > 64 ? 64 : u.host_len), u.host);
	if (!(*out = strndup(v, n)))
		return conf_fail(p, kv->line, -ENOMEM, "out of memory");
	return 0;
}

/* ---- secrets ---- */

/* A *_file path starts at the config's directory, as cache_dir does. */
static int conf_secret(struct conf_parse *p, const struct conf_kv *kv, const char *sect,
		       const char *name, char **out)
{
	struct secret_line l = { .section = sect, .key = kv->key, .name = name,
				 .form = (enum secret_form)secret_form(kv->key, name),
				 .value = kv->val, .conf_mode = p->mode };
	struct aifs_err e;
	char *path = NULL;
	int rc;

	if (l.form == SECRET_FILE) {
		if ((rc = conf_path(p, kv, &path)) < 0)
			return rc;
		l.value = path;
	}
	aifs_err_clear(&e);
	rc = secret_get(&l, out, &e);
	free(path);
	if (rc < 0)
		return conf_fail(p, kv->line, rc, "%s", e.msg);
	return 0;
}

/* ---- sections ---- */

/* The fields a type's keys name are freed by that type's table. */
static void conf_provider_free(struct provider_conf *pc)
{
	const struct provider_ops *ops = provider_find(pc->type);

	for (const struct provider_key *k = ops ? ops->keys : NULL; k && k->name; k++) {
		char **field = (char **)((char *)pc + k->field);

		if (k->kind == PROVIDER_KEY_SECRET)
			secret_free(*field);
		else if (k->kind == PROVIDER_KEY_TEXT)
			free(*field);
	}
	free(pc->name);
	free(pc->type);
	free(pc->base_url);
	memset(pc, 0, sizeof *pc);
}

/* archive_min_free = SIZE ("1G", "0" allowed: never pause). */
static int conf_min_free(struct conf_parse *p, const struct conf_kv *kv, uint64_t *out)
{
	char shown[CONF_SHOWN_MAX];
	uint64_t v;
	if (config_parse_size(kv->val, &v) < 0)
		return conf_fail(p, kv->line, -EINVAL, "archive_min_free: '%s' is not a size such as 1G",
				 conf_value(kv->val, shown));
	*out = v ? v : 1; /* 1 byte: as good as none, and not "unset" */
	return 0;
}

/* kv, the i-th line of section s, gives key k of the section's type. */
static int conf_type_value(struct conf_parse *p, const struct conf_sect *s, size_t i,
			   const struct provider_key *k, struct provider_conf *pc)
{
	const struct conf_kv *kv = &s->kv[i];
	void *field = (char *)pc + k->field;
	int v;

	switch (k->kind) {
	case PROVIDER_KEY_TEXT:
		if (!*kv->val || conf_has_ctrl(kv->val, strlen(kv->val)))
			return conf_fail(p, kv->line, -EINVAL,
					 "%s: empty, or holds a control character", kv->key);
		if (!(*(char **)field = strdup(kv->val)))
			return conf_fail(p, kv->line, -ENOMEM, "out of memory");
		return 0;
	case PROVIDER_KEY_SECRET:
		for (size_t j = 0; j < i; j++)
			if (secret_form(s->kv[j].key, k->name) >= 0)
				return conf_fail(p, kv->line, -EINVAL,
						 "%s given twice (also at line %d): keep one",
						 k->name, s->kv[j].line);
		return conf_secret(p, kv, s->name, k->name, (char **)field);
	case PROVIDER_KEY_LIST:
		if (conf_yes_no(p, kv, true, &v) < 0)
			return p->rc;
		*(enum list_mode *)field = v == 1 ? LIST_YES : v == 0 ? LIST_NO : LIST_AUTO;
		return 0;
	}
	return conf_fail(p, kv->line, -EINVAL, "%s: a key of no known kind", kv->key);
}

static int conf_provider(struct conf_parse *p, const struct conf_sect *s, const struct aifs_conf *c,
			 const struct tunables *gtun, struct provider_conf *pc)
{
	const struct provider_ops *ops = NULL;
	const struct provider_key *k;
	const struct conf_kv *url = NULL;
	char shown[CONF_SHOWN_MAX], types[128];
	struct aifs_err e;
	int insecure = 0, del = 0, archive = 0, rc;

	tunables_unset(&pc->tun);
	if (!(pc->name = strdup(s->name)))
		return conf_fail(p, s->line, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct conf_kv *kv = &s->kv[i];
		if (strcmp(kv->key, "type"))
			continue;
		if (!(ops = provider_find(kv->val)))
			return conf_fail(p, kv->line, -EINVAL, "type '%s' is not %s",
					 conf_value(kv->val, shown),
					 conf_type_names(types, sizeof types));
	}
	if (!ops)
		return conf_fail(p, s->line, -EINVAL, "[%s]: no type (%s)", s->name,
				 conf_type_names(types, sizeof types));
	if (!(pc->type = strdup(ops->type)))
		return conf_fail(p, s->line, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct conf_kv *kv = &s->kv[i];
		enum conf_kind kind = conf_lookup(kv->key);

		if (kind == CK_UNKNOWN)
			return conf_fail(p, kv->line, -EINVAL, "unknown key %s",
					 secret_shown_key(kv->key));
		if (kind == CK_CACHE_DIR || kind == CK_CACHE_MAX || kind == CK_REDIS)
			return conf_fail(p, kv->line, -EINVAL,
					 "%s is global: put it before the first [section]",
					 kv->key);
		k = kind == CK_TYPE_KEY ? conf_type_key(ops, kv->key) : NULL;
		if (kind == CK_TYPE_KEY && !k)
			return conf_fail(p, kv->line, -EINVAL, "%s is not a key of type %s",
					 kv->key, pc->type);
		rc = 0;
		switch (kind) {
		case CK_BASE_URL: url = kv; break;
		case CK_INSECURE: rc = conf_yes_no(p, kv, false, &insecure); break;
		case CK_DELETE: rc = conf_yes_no(p, kv, false, &del); break;
		case CK_ARCHIVE: rc = conf_yes_no(p, kv, false, &archive); break;
		case CK_MIN_FREE: rc = conf_min_free(p, kv, &pc->archive_min_free); break;
		case CK_TUN: rc = conf_tun_parse(p, kv, &pc->tun); break;
		case CK_TYPE_KEY: rc = conf_type_value(p, s, i, k, pc); break;
		default: break;
		}
		if (rc < 0)
			return rc;
	}
	pc->insecure_http = insecure;
	pc->allow_delete = del;
	pc->archive = archive;
	if (!url)
		return conf_fail(p, s->line, -EINVAL, "[%s]: no base_url", s->name);
	if ((rc = conf_url(p, url, insecure, &pc->base_url)) < 0)
		return rc;
	aifs_err_clear(&e);
	if (ops->conf_check && (rc = ops->conf_check(pc, &e)) < 0)
		return conf_fail(p, s->line, rc, "[%s]: %s", s->name, e.msg);
	/* the section, then -o, then the file's global keys, then the type's default */
	tunables_fill(&pc->tun, &c->tun, gtun, ops->default_qps);
	return 0;
}

static int conf_globals(struct conf_parse *p, struct tunables *gtun,
			const struct conf_kv **cache_dir, uint64_t *cache_max, uint64_t *min_free,
			char **redis)
{
	const struct conf_sect *s = &p->sects[0];
	char shown[CONF_SHOWN_MAX];
	int rc = 0;

	for (size_t i = 0; i < s->n_kv && rc == 0; i++) {
		const struct conf_kv *kv = &s->kv[i];

		switch (conf_lookup(kv->key)) {
		case CK_TUN: rc = conf_tun_parse(p, kv, gtun); break;
		case CK_CACHE_DIR: *cache_dir = kv; break;
		case CK_MIN_FREE: rc = conf_min_free(p, kv, min_free); break;
		case CK_REDIS:
			secret_free(*redis);
			*redis = NULL;
			rc = conf_secret(p, kv, "", "redis", redis);
			break;
		case CK_CACHE_MAX:
			if (config_parse_size(kv->val, cache_max) < 0 || *cache_max == 0)
				rc = conf_fail(p, kv->line, -EINVAL,
					       "cache_max: '%s' is not a size such as 20G",
					       conf_value(kv->val, shown));
			break;
		case CK_UNKNOWN:
			rc = conf_fail(p, kv->line, -EINVAL, "unknown key %s",
				       secret_shown_key(kv->key));
			break;
		default:
			rc = conf_fail(p, kv->line, -EINVAL, "%s belongs in a provider's [section]",
				       kv->key);
			break;
		}
	}
	return rc;
}

/* ---- the whole ---- */

static char *conf_join(const char *base, const char *rest)
{
	char *out;

	if (!base || asprintf(&out, "%s%s", base, rest) < 0)
		return NULL;
	return out;
}

static char *conf_default_path(const struct aifs_conf *c)
{
	const char *e = getenv("AIFS_CONFIG"), *x = getenv("XDG_CONFIG_HOME");

	if (c->config_path && *c->config_path)
		return config_expand_home(c->config_path);
	if (e && *e)
		return config_expand_home(e);
	if (x && x[0] == '/')
		return conf_join(x, "/aifs/aifs.conf");
	return config_expand_home("~/.config/aifs/aifs.conf");
}

static int conf_cache_dir(struct conf_parse *p, const struct aifs_conf *c, const struct conf_kv *kv,
			  char **out)
{
	const char *x = getenv("XDG_CACHE_HOME");
	char *cwd;

	*out = NULL;
	if (c->cache_dir && (c->cache_dir[0] == '/' || c->cache_dir[0] == '~')) {
		*out = config_expand_home(c->cache_dir);
	} else if (c->cache_dir &&
		   *c->cache_dir) { /* -o cache_dir=rel: from the cwd, before the daemon's chdir */
		if ((cwd = getcwd(NULL, 0)) && asprintf(out, "%s/%s", cwd, c->cache_dir) < 0)
			*out = NULL;
		free(cwd);
	} else if (kv)
		return conf_path(p, kv, out);
	else if (x && x[0] == '/')
		*out = conf_join(x, "/aifs");
	else
		*out = config_expand_home("~/.cache/aifs");
	if (!*out)
		return conf_fail(p, 0, -ENOMEM,
				 "cannot place the cache directory: out of memory or no home");
	return 0;
}

static void conf_parse_free(struct conf_parse *p)
{
	for (size_t i = 0; i < p->n_sects; i++) {
		for (size_t j = 0; j < p->sects[i].n_kv; j++) {
			struct conf_kv *kv = &p->sects[i].kv[j];
			free(kv->key);
			secret_free(kv->val);
		}
		free(p->sects[i].kv);
		free(p->sects[i].name);
	}
	free(p->sects);
	secret_wipe_free(p->text, p->len);
	free(p->dir);
}

int config_load(struct aifs_conf *c, struct aifs_err *err)
{
	struct conf_parse p = { .err = err };
	struct provider_conf *provs = NULL;
	struct tunables gtun;
	const struct conf_kv *cache_kv = NULL;
	uint64_t cache_max = 0, min_free = 0;
	char *path = NULL, *cache_dir = NULL, *redis = NULL, why[128];
	struct redis_url ru;
	size_t n = 0;
	int rc;

	aifs_err_clear(err);
	tunables_unset(&gtun);
	if (tunables_check(&c->tun, why, sizeof why) < 0) {
		p.path = "-o";
		return conf_fail(&p, 0, -EINVAL, "%s", why);
	}
	if (!(path = conf_default_path(c))) {
		rc = conf_fail(&p, 0, -ENOENT,
			       "no config path: no home directory, or out of memory");
		goto out;
	}
	p.path = path;
	if ((rc = conf_read(&p)) < 0 ||
	    (rc = conf_globals(&p, &gtun, &cache_kv, &cache_max, &min_free, &redis)) < 0)
		goto out;
	if (c->redis) { /* -o redis= wins over the file */
		secret_free(redis);
		redis = NULL;
	}
	if (c->redis || redis) {
		/* SPEC: cluster mode; the URL may hold a password: never shown */
		if ((rc = cval_url_parse(c->redis ? c->redis : redis, &ru, why, sizeof why)) < 0) {
			rc = conf_fail(&p, 0, rc, "redis: %s", why);
			goto out;
		}
		cval_url_clear(&ru);
	}
	if (p.n_sects < 2) {
		rc = conf_fail(&p, 0, -EINVAL, "no providers: add a [name] section for each");
		goto out;
	}
	n = p.n_sects - 1;
	if (!(provs = calloc(n, sizeof *provs))) {
		rc = conf_fail(&p, 0, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = conf_provider(&p, &p.sects[i + 1], c, &gtun, &provs[i])) < 0)
			goto out;
		if (!provs[i].archive_min_free) /* the section, the file's global key, 1G */
			provs[i].archive_min_free = min_free ? min_free : CONFIG_DEFAULT_MIN_FREE;
	}
	if ((rc = conf_cache_dir(&p, c, cache_kv, &cache_dir)) < 0)
		goto out;
	for (size_t i = 0; i < c->n_providers; i++)
		conf_provider_free(&c->providers[i]);
	free(c->providers);
	c->providers = provs;
	c->n_providers = n;
	provs = NULL;
	free(c->cache_dir);
	c->cache_dir = cache_dir;
	cache_dir = NULL;
	if (!c->cache_max)
		c->cache_max = cache_max ? cache_max : CONFIG_DEFAULT_CACHE_MAX;
	if (redis) {
		c->redis = redis;
		redis = NULL;
	}
out:
	secret_free(redis);
	for (size_t i = 0; provs && i < n; i++)
		conf_provider_free(&provs[i]);
	free(provs);
	free(cache_dir);
	conf_parse_free(&p);
	free(path);
	return rc;
}

/* ---- small public helpers ---- */

void config_init(struct aifs_conf *c)
{
	memset(c, 0, sizeof *c);
	tunables_unset(&c->tun);
}

/* digits, optionally a fraction; no sign, exponent, hex, inf or nan */
static size_t conf_number_span(const char *s)
{
	size_t a = strspn(s, "0123456789"), b = 0;

	if (s[a] == '.')
		b = 1 + strspn(s + a + 1, "0123456789");
	return a + b > (b ? 1u : 0u) ? a + b : 0;
}

int config_parse_number(const char *s, double *out)
{
	size_t n = s ? conf_number_span(s) : 0;
	double v;

	if (n == 0 || s[n])
		return -EINVAL;
	v = strtod(s, NULL);
	if (!isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	size_t n = s ? conf_number_span(s) : 0;
	const char *u;
	uint64_t whole = 0;
	double frac;
	int shift = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n && s[i] != '.'; i++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(s[i] - '0');
	}
	u = memchr(s, '.', n);
	frac = u ? strtod(u, NULL) : 0;
	u = s + n;
	if (*u && strchr(units, toupper((unsigned char)*u))) {
		shift = 10 * (int)(strchr(units, toupper((unsigned char)*u)) - units + 1);
		u++;
		if (u[0] == 'i' && u[1] == 'B')
			u += 2;
	}
	if (*u == 'B')
		u++;
	if (*u)
		return -EINVAL;
	if (shift && whole > (UINT64_MAX >> shift))
		return -ERANGE;
	whole <<= shift;
	frac = frac * (double)(1ULL << shift);
	if ((double)(UINT64_MAX - whole) < frac)
		return -ERANGE;
	*out = whole + (uint64_t)frac;
	return 0;
}

void config_free(struct aifs_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_providers; i++)
		conf_provider_free(&c->providers[i]);
	free(c->providers);
	free(c->config_path);
	free(c->cache_dir);
	secret_free(c->redis);
	config_init(c);
}
