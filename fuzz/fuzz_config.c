/* fuzz_config.c: config_load() on any file.
 *
 * The input is the whole config file, written with mode 0600 into a
 * private directory that also holds secret files (keys/good.key,
 * keys/loose.key with mode 0644, ~/home.key) while the environment holds
 * secrets (ARK_API_KEY, CHANJING_SECRET_KEY, ARK_KEY, CJ_SECRET, CTRL_VAR).
 * Whatever the file says, loading never crashes or leaks, never leaves half
 * a result, and no message ever holds a secret's value: not those of the
 * files and variables, and not an inline one (a value of api_key,
 * secret_key or access_token containing "SEKRET" that the file holds
 * nowhere else). A provider that loads is whole and usable: names,
 * credentials, tunables in range, and a plain-http base_url that the
 * transport agrees is loopback. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "fuzz.h"

const char fuzz_target_name[] = "config";

#define FCONF_MARK "SEKRET"

static const char *const fconf_env[][2] = {
    {"ARK_API_KEY", "ENVSECRET-ark-5f1c9e"},	 {"CHANJING_SECRET_KEY", "ENVSECRET-cj-77ab03"},
    {"ARK_KEY", "ENVSECRET-arkkey-2d4e"},	 {"CJ_SECRET", "ENVSECRET-cjsecret-9a1b"},
    {"CTRL_VAR", "ENVSECRET-ctrl\r\nX-Evil: 1"},
};
static const char *const fconf_files[][3] = {
    /* path under the directory, contents, mode */
    {"keys/good.key", "FILESECRET-good-31c4\nsecond line\n", "0600"},
    {"keys/loose.key", "FILESECRET-loose-8e02\n", "0644"},
    {"keys/empty.key", "", "0600"},
    {"home/home.key", "FILESECRET-home-a6f7", "0400"},
};
/* What must never appear in a message unless the file itself holds it. */
static const char *const fconf_secrets[] = {
    "ENVSECRET-ark-5f1c9e",    "ENVSECRET-cj-77ab03",  "ENVSECRET-arkkey-2d4e",
    "ENVSECRET-cjsecret-9a1b", "ENVSECRET-ctrl",       "FILESECRET-good-31c4",
    "FILESECRET-loose-8e02",   "FILESECRET-home-a6f7",
};

static char fconf_dir[64];
static char fconf_path[128];

static int fconf_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void fconf_cleanup(void)
{
	if (fconf_dir[0])
		nftw(fconf_dir, fconf_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fconf_write(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || fchmod(fd, mode) < 0 || (len && write(fd, text, len) != (ssize_t)len)) {
		perror(path);
		abort();
	}
	close(fd);
}

static void fconf_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char p[256];

	if (fconf_dir[0])
		return;
	snprintf(fconf_dir, sizeof fconf_dir, "%s/aifs-fuzz-config-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	if (!mkdtemp(fconf_dir))
		abort();
	atexit(fconf_cleanup);
	snprintf(p, sizeof p, "%s/keys", fconf_dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/home", fconf_dir);
	mkdir(p, 0700);
	for (size_t i = 0; i < sizeof fconf_files / sizeof fconf_files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", fconf_dir, fconf_files[i][0]);
		fconf_write(p, fconf_files[i][1], strlen(fconf_files[i][1]),
			    (mode_t)strtol(fconf_files[i][2], NULL, 8));
	}
	snprintf(p, sizeof p, "%s/home", fconf_dir);
	setenv("HOME", p, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("AIFS_CONFIG");
	for (size_t i = 0; i < sizeof fconf_env / sizeof fconf_env[0]; i++)
		setenv(fconf_env[i][0], fconf_env[i][1], 1);
	setenv("EMPTY_VAR", "", 1);
	unsetenv("UNSET_VAR");
	snprintf(fconf_path, sizeof fconf_path, "%s/aifs.conf", fconf_dir);
}

static bool fconf_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Checks that msg holds no inline secret of text: a value of a secret key
 * (as config.c reads lines: trimmed, split at the first '=' or ':')
 * containing FCONF_MARK, unless text also holds it outside secret values. */
static void fconf_check_inline(const char *text, size_t len, const char *msg)
{
	char *rest = fuzz_dup((const uint8_t *)text, len);
	struct {
		size_t off, n;
	} vals[64];
	size_t n_vals = 0;

	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos, *e = memchr(s, '\n', len - pos), *sep, *k, *ke;
		size_t n = e ? (size_t)(e - s) : len - pos, kn;

		pos += n + (e != NULL);
		while (n && fconf_blank(s[n - 1]))
			n--;
		while (n && fconf_blank(*s))
			s++, n--;
		for (sep = s; sep < s + n && *sep != '=' && *sep != ':'; sep++)
			;
		if (sep == s + n)
			continue;
		k = s;
		ke = sep;
		while (ke > k && fconf_blank(ke[-1]))
			ke--;
		kn = (size_t)(ke - k);
		if (!((kn == 7 && !memcmp(k, "api_key", 7)) ||
		      (kn == 10 && !memcmp(k, "secret_key", 10)) ||
		      (kn == 12 && !memcmp(k, "access_token", 12))))
			continue;
		for (sep++; sep < s + n && fconf_blank(*sep); sep++)
			;
		if (n_vals < sizeof vals / sizeof vals[0]) {
			vals[n_vals].off = (size_t)(sep - text);
			vals[n_vals].n = (size_t)(s + n - sep);
			n_vals++;
		}
		/* blank the value out of rest, so only its other uses remain */
		memset(rest + (sep - text), '\n', (size_t)(s + n - sep));
	}
	for (size_t i = 0; i < n_vals; i++) {
		char *v = fuzz_dup((const uint8_t *)text + vals[i].off, vals[i].n);

		if (strlen(v) == vals[i].n && strstr(v, FCONF_MARK) &&
		    !memmem(rest, len, v, vals[i].n))
			FUZZ_CHECK(!strstr(msg, v), "an inline secret in the message: \"%s\"", msg);
		free(v);
	}
	free(rest);
}

/* What config took for plain http to a loopback host, the transport takes
 * too (when curl can read the URL at all): else every request would fail. */
static void fconf_check_transport(const struct provider_conf *pc)
{
	char *url;

	if (pc->insecure_http || strncasecmp(pc->base_url, "http://", 7) != 0)
		return;
	if (asprintf(&url, "%s/contents/generations/tasks", pc->base_url) < 0)
		abort();
	if (http_url_allowed(url, true))
		FUZZ_CHECK(http_url_allowed(url, false),
			   "[%s] config took %s as loopback, the transport refuses it", pc->name,
			   pc->base_url);
	free(url);
}

static void fconf_check_ok(const struct aifs_conf *c)
{
	FUZZ_CHECK(c->n_providers >= 1 && c->n_providers <= CONFIG_MAX_PROVIDERS && c->providers,
		   "%zu providers", c->n_providers);
	FUZZ_CHECK(c->cache_dir && c->cache_dir[0] == '/', "cache_dir %s",
		   c->cache_dir ? c->cache_dir : "(null)");
	FUZZ_CHECK(c->cache_max > 0, "cache_max 0");
	for (size_t i = 0; i < c->n_providers; i++) {
		const struct provider_conf *pc = &c->providers[i];
		const char *secrets[] = {pc->api_key, pc->secret_key, pc->access_token, pc->app_id};
		bool ark;
		size_t n;

		FUZZ_CHECK(
		    pc->name && *pc->name && strlen(pc->name) <= 255 && !strchr(pc->name, '/') &&
			pc->name[0] != '.' && !fuzz_has_ctrl(pc->name, strlen(pc->name)),
		    "provider name \"%s\" is not a directory name", pc->name ? pc->name : "(null)");
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(pc->name, c->providers[j].name) != 0, "[%s] twice",
				   pc->name);
		FUZZ_CHECK(pc->type && (!strcmp(pc->type, "ark") || !strcmp(pc->type, "chanjing")),
			   "type %s", pc->type ? pc->type : "(null)");
		ark = pc->type[0] == 'a';
		n = pc->base_url ? strlen(pc->base_url) : 0;
		FUZZ_CHECK(n > 8 && pc->base_url[n - 1] != '/' &&
			       (!strncasecmp(pc->base_url, "https://", 8) ||
				!strncasecmp(pc->base_url, "http://", 7)),
			   "[%s] base_url \"%s\"", pc->name,
			   pc->base_url ? pc->base_url : "(null)");
		FUZZ_CHECK(!fuzz_has_ctrl(pc->base_url, n) && !strpbrk(pc->base_url, " ?#"),
			   "[%s] base_url with a blank, control byte, query or fragment", pc->name);
		fconf_check_transport(pc);
		for (size_t j = 0; j < sizeof secrets / sizeof secrets[0]; j++)
			FUZZ_CHECK(!secrets[j] || (*secrets[j] &&
						   !fuzz_has_ctrl(secrets[j], strlen(secrets[j]))),
				   "[%s] credential %zu empty or with a control byte", pc->name, j);
		if (ark)
			FUZZ_CHECK(pc->api_key && !pc->app_id && !pc->secret_key &&
				       !pc->access_token,
				   "[%s] ark credentials", pc->name);
		else
			FUZZ_CHECK(!pc->api_key &&
				       (!pc->access_token != !(pc->app_id && pc->secret_key)) &&
				       !(pc->access_token && (pc->app_id || pc->secret_key)),
				   "[%s] chanjing credentials", pc->name);
		FUZZ_CHECK(ark || pc->list == LIST_AUTO, "[%s] list set on chanjing", pc->name);
		FUZZ_CHECK(
		    isfinite(pc->tun.ttl) && pc->tun.ttl >= 0 && pc->tun.qps > 0 &&
			isfinite(pc->tun.qps) && pc->tun.burst >= 1 && isfinite(pc->tun.burst) &&
			pc->tun.retries >= 0 && pc->tun.retries <= 100 && pc->tun.timeout > 0 &&
			pc->tun.timeout <= 86400,
		    "[%s] tunables ttl %g qps %g burst %g retries %d timeout %g", pc->name,
		    pc->tun.ttl, pc->tun.qps, pc->tun.burst, pc->tun.retries, pc->tun.timeout);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aifs_conf c;
	struct aifs_err err;
	int rc;

	fconf_setup();
	fconf_write(fconf_path, (const char *)data, size, 0600);
	config_init(&c);
	c.config_path = strdup(fconf_path);
	if (!c.config_path)
		abort();
	rc = config_load(&c, &err);
	FUZZ_CHECK(rc <= 0, "config_load returned %d", rc);
	FUZZ_CHECK(!fuzz_has_ctrl(err.msg, strlen(err.msg)), "message not one line: \"%s\"",
		   err.msg);
	for (size_t i = 0; i < sizeof fconf_secrets / sizeof fconf_secrets[0]; i++)
		FUZZ_CHECK(!strstr(err.msg, fconf_secrets[i]) ||
			       memmem(data, size, fconf_secrets[i], strlen(fconf_secrets[i])),
			   "a secret in the message: \"%s\"", err.msg);
	fconf_check_inline((const char *)data, size, err.msg);
	if (rc < 0) {
		FUZZ_CHECK(err.code == rc && err.msg[0], "rc %d, err.code %d, message \"%s\"", rc,
			   err.code, err.msg);
		FUZZ_CHECK(strncmp(err.msg, fconf_path, strlen(fconf_path)) == 0,
			   "the message does not name the file: \"%s\"", err.msg);
		FUZZ_CHECK(c.n_providers == 0 && c.providers == NULL && c.cache_dir == NULL,
			   "a failed load left a half result");
	} else {
		FUZZ_CHECK(err.code == 0, "success with err.code %d", err.code);
		fconf_check_ok(&c);
	}
	config_free(&c);
	return 0;
}
