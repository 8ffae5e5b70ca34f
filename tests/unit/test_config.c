/* test_config.c: the config file, on real files under a temporary directory. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/provider.h"
#include "t.h"

/* Every secret in these tests contains this, and no message may. */
#define SECRET "SEKRET"

static char t_root[64];
static int t_serial;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_root(void)
{
	if (t_root[0])
		nftw(t_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory per test, HOME inside it, no XDG or AIFS variables. */
static const char *fresh_dir(void)
{
	static char dir[128];
	char home[160];

	if (!t_root[0]) {
		strcpy(t_root, "/tmp/aifs-test-config-XXXXXX");
		if (!mkdtemp(t_root))
			abort();
		atexit(rm_root);
	}
	snprintf(dir, sizeof dir, "%s/%d", t_root, ++t_serial);
	mkdir(dir, 0700);
	snprintf(home, sizeof home, "%s/home", dir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("AIFS_CONFIG");
	setenv("ARK_KEY", SECRET "-env-ark", 1);
	setenv("CJ_SECRET", SECRET "-env-cj", 1);
	setenv("EMPTY_VAR", "", 1);
	unsetenv("UNSET_VAR");
	return dir;
}

static char *write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	return p;
}

/* Writes text as DIR/aifs.conf and loads it into c (config_init'ed by the caller). */
static int load_in(const char *dir, const char *text, mode_t mode, struct aifs_conf *c,
		   struct aifs_err *e)
{
	free(c->config_path);
	c->config_path = strdup(write_file(dir, "aifs.conf", text, mode));
	return config_load(c, e);
}

static int load(const char *text, mode_t mode, struct aifs_conf *c, struct aifs_err *e)
{
	return load_in(fresh_dir(), text, mode, c, e);
}

/* Loading fails, the message names aifs.conf:line (line > 0) and holds
 * needle, and no secret. */
static int fails(const char *text, mode_t mode, int line, const char *needle)
{
	struct aifs_conf c;
	struct aifs_err e;
	char where[32];
	int rc, ok;

	config_init(&c);
	rc = load(text, mode, &c, &e);
	snprintf(where, sizeof where, "aifs.conf:%d: ", line);
	ok = rc < 0 && e.code == rc && strstr(e.msg, needle) && !strstr(e.msg, SECRET) &&
	     (line <= 0 || strstr(e.msg, where)) && c.n_providers == 0;
	if (!ok)
		fprintf(stderr, "  rc %d, message \"%s\"; wanted line %d and \"%s\"\n", rc, e.msg,
			line, needle);
	config_free(&c);
	return ok;
}

#define ARK "[volc]\ntype = ark\nbase_url = https://ark.example.com/api/v3\napi_key_env = ARK_KEY\n"
#define CJ                                                                          \
	"[cj]\ntype = chanjing\nbase_url = https://open-api.chanjing.cc\napp_id = " \
	"app1\nsecret_key_env = CJ_SECRET\n"

TEST(ark_defaults)
{
	struct aifs_conf c;
	struct aifs_err e;
	struct provider_conf *p;

	config_init(&c);
	CHECK_INT(load("[volc]\ntype = ark\nbase_url = "
		       "https://ark.example.com/api/v3//\napi_key_env = ARK_KEY\n",
		       0644, &c, &e),
		  0);
	CHECK_INT(c.n_providers, 1);
	p = &c.providers[0];
	CHECK_STR(p->name, "volc");
	CHECK_STR(p->type, "ark");
	CHECK_STR(p->base_url, "https://ark.example.com/api/v3");
	CHECK_STR(p->api_key, SECRET "-env-ark");
	CHECK(p->list == LIST_AUTO && !p->insecure_http);
	CHECK(p->tun.ttl == 10 && p->tun.qps == 3 && p->tun.burst == 3);
	CHECK(p->tun.retries == 4 && p->tun.timeout == 30);
	CHECK(!strcmp(c.cache_dir + strlen(c.cache_dir) - strlen("/home/.cache/aifs"),
		      "/home/.cache/aifs"));
	CHECK(c.cache_max == 20ULL << 30);
	config_free(&c);
	config_free(&c); /* a freed struct is a zeroed one */
}

TEST(chanjing_credentials)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *base = "[cj]\ntype = chanjing\nbase_url = https://open-api.chanjing.cc\n";
	char text[512];

	config_init(&c);
	CHECK_INT(load(CJ, 0600, &c, &e), 0);
	CHECK_STR(c.providers[0].app_id, "app1");
	CHECK_STR(c.providers[0].secret_key, SECRET "-env-cj");
	CHECK(c.providers[0].access_token == NULL && c.providers[0].api_key == NULL);
	CHECK(c.providers[0].tun.qps == 1 && c.providers[0].tun.burst == 1);
	config_free(&c);

	snprintf(text, sizeof text, "%saccess_token_env = CJ_SECRET\n", base);
	CHECK_INT(load(text, 0600, &c, &e), 0);
	CHECK_STR(c.providers[0].access_token, SECRET "-env-cj");
	config_free(&c);

	snprintf(text, sizeof text, "%saccess_token_env = CJ_SECRET\napp_id = x\n", base);
	CHECK(fails(text, 0600, 1, "not both"));
	snprintf(text, sizeof text, "%sapp_id = x\n", base);
	CHECK(fails(text, 0600, 1, "needs access_token, or app_id and secret_key"));
	snprintf(text, sizeof text, "%ssecret_key_env = CJ_SECRET\n", base);
	CHECK(fails(text, 0600, 1, "needs access_token"));
	CHECK(fails(base, 0600, 1, "needs access_token"));
	CHECK(fails("[volc]\ntype = ark\nbase_url = https://a.example\n", 0600, 1, "no api_key"));
}

TEST(spec_example_loads)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *dir = fresh_dir();
	char text[1024];

	mkdir(strcat(strcpy(text, getenv("HOME")), "/.config"), 0700);
	mkdir(strcat(text, "/aifs"), 0700);
	write_file(text, "rong.key", SECRET "-rong\r\n", 0600);
	setenv("ARK_API_KEY", SECRET "-volc", 1);
	setenv("CHANJING_SECRET_KEY", SECRET "-cj", 1);
	config_init(&c);
	CHECK_INT(
		load_in(dir,
			"# Volcengine Ark, or an Ark-compatible relay (base_url .../volc/v1)\n"
			"[volc]\ntype = ark\nbase_url = https://ark.cn-beijing.volces.com/api/v3\n"
			"# or api_key = ..., or api_key_file = PATH\napi_key_env = "
			"ARK_API_KEY\nqps = 3\n\n"
			"# RongCloud AI API: Ark-shaped, get by id only\n"
			"[rong]\ntype = ark\nbase_url = https://ai.rong-api.com/llm/v1\n"
			"api_key_file = ~/.config/aifs/rong.key\nlist = auto\n\n"
			"[chanjing]\ntype = chanjing\nbase_url = https://open-api.chanjing.cc\n"
			"# aifs obtains and refreshes the access_token from these two\n"
			"app_id = abc123\nsecret_key_env = CHANJING_SECRET_KEY\n"
			"# or: access_token = ... / access_token_env / access_token_file\nqps = "
			"1\n",
			0644, &c, &e),
		0);
	CHECK_INT(c.n_providers, 3);
	CHECK_STR(c.providers[0].api_key, SECRET "-volc");
	CHECK_STR(c.providers[1].name, "rong");
	CHECK_STR(c.providers[1].api_key, SECRET "-rong");
	CHECK_STR(c.providers[2].secret_key, SECRET "-cj");
	CHECK(c.providers[2].tun.qps == 1);
	config_free(&c);
}

TEST(tunable_precedence)
{
	struct aifs_conf c;
	struct aifs_err e;

	config_init(&c);
	c.tun.qps = 7;
	c.tun.retries = 2;
	c.tun.ttl = 0;
	CHECK_INT(load("ttl = 20\nqps = 5\ntimeout = 12.5\nretries = 9\n"
		       "[a]\ntype = ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\nqps "
		       "= 9\nttl = 3\n"
		       "[b]\ntype = ark\nbase_url = https://b.example\napi_key_env = ARK_KEY\n" CJ,
		       0600, &c, &e),
		  0);
	/* section > -o > global > default; burst follows the provider's qps */
	CHECK(c.providers[0].tun.qps == 9 && c.providers[0].tun.burst == 9 &&
	      c.providers[0].tun.ttl == 3);
	CHECK(c.providers[1].tun.qps == 7 && c.providers[1].tun.burst == 7 &&
	      c.providers[1].tun.ttl == 0);
	CHECK(c.providers[2].tun.qps == 7 && c.providers[2].tun.retries == 2);
	for (int i = 0; i < 3; i++)
		CHECK(c.providers[i].tun.timeout == 12.5 && c.providers[i].tun.retries == 2);
	config_free(&c);

	config_init(&c);
	CHECK_INT(load("burst = 2\nqps = 0.5\n" ARK CJ "burst = 4\n", 0600, &c, &e), 0);
	CHECK(c.providers[0].tun.qps == 0.5 && c.providers[0].tun.burst == 2);
	CHECK(c.providers[1].tun.qps == 0.5 && c.providers[1].tun.burst == 4);
	config_free(&c);

	config_init(&c);
	CHECK_INT(load("[x]\ntype = chanjing\nbase_url = https://c.example\naccess_token_env = "
		       "CJ_SECRET\nqps = 0.25\n",
		       0600, &c, &e),
		  0);
	CHECK(c.providers[0].tun.burst == 1); /* a bucket holds at least one token */
	config_free(&c);

	/* bad values from -o are refused too */
	config_init(&c);
	c.tun.qps = 0;
	CHECK(load(ARK, 0600, &c, &e) < 0);
	CHECK(strstr(e.msg, "qps must be above 0"));
	config_free(&c);
}

TEST(cache_dir_and_max)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *dir;
	char want[512], *cwd;

	config_init(&c);
	dir = fresh_dir();
	CHECK_INT(load_in(dir, "cache_dir = ~/cc\ncache_max = 512M\n" ARK, 0600, &c, &e), 0);
	snprintf(want, sizeof want, "%s/cc", getenv("HOME"));
	CHECK_STR(c.cache_dir, want);
	CHECK(c.cache_max == 512ULL << 20);
	config_free(&c);

	config_init(&c);
	CHECK_INT(load_in(dir, "cache_dir = rel/cache\n" ARK, 0600, &c, &e), 0);
	snprintf(want, sizeof want, "%s/rel/cache", dir); /* from the config's directory */
	CHECK_STR(c.cache_dir, want);
	config_free(&c);

	config_init(&c);
	c.cache_dir = strdup("/o/cache");
	c.cache_max = 1234;
	CHECK_INT(load_in(dir, "cache_dir = /conf/cache\ncache_max = 1G\n" ARK, 0600, &c, &e), 0);
	CHECK_STR(c.cache_dir, "/o/cache");
	CHECK(c.cache_max == 1234);
	config_free(&c);

	config_init(&c);
	c.cache_dir = strdup("o-rel");
	CHECK_INT(load_in(dir, ARK, 0600, &c, &e), 0);
	cwd = getcwd(NULL, 0);
	snprintf(want, sizeof want, "%s/o-rel", cwd);
	free(cwd);
	CHECK_STR(c.cache_dir, want);
	config_free(&c);

	config_init(&c);
	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	CHECK_INT(load_in(dir, ARK, 0600, &c, &e), 0);
	CHECK_STR(c.cache_dir, "/xdg/cache/aifs");
	config_free(&c);

	CHECK(fails("cache_max = 0\n" ARK, 0600, 1, "cache_max"));
	CHECK(fails("cache_max = lots\n" ARK, 0600, 1, "cache_max"));
	CHECK(fails("cache_dir = ~bob/x\n" ARK, 0600, 1, "only ~ and ~/"));
	CHECK(fails(ARK "cache_dir = /x\n", 0600, 5, "is global"));
}

TEST(parse_size_and_number)
{
	uint64_t v;
	double d;

	CHECK(config_parse_size("20G", &v) == 0 && v == 20ULL << 30);
	CHECK(config_parse_size("512M", &v) == 0 && v == 512ULL << 20);
	CHECK(config_parse_size("1.5T", &v) == 0 && v == 3ULL << 39);
	CHECK(config_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(config_parse_size("2k", &v) == 0 && v == 2048);
	CHECK(config_parse_size("3GiB", &v) == 0 && v == 3ULL << 30);
	CHECK(config_parse_size("3GB", &v) == 0 && v == 3ULL << 30);
	CHECK(config_parse_size("15E", &v) == 0 && v == 15ULL << 60);
	CHECK_INT(config_parse_size("16E", &v), -ERANGE);
	CHECK_INT(config_parse_size("99999999999999999999", &v), -ERANGE);
	const char *bad[] = {"",   "G",	    "-1G",  "+1", "1 G", " 1", "1G ",
			     "1X", "1.2.3", "0x10", ".",  "1iB", "nan"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(config_parse_size(bad[i], &v), -EINVAL);

	CHECK(config_parse_number("10", &d) == 0 && d == 10);
	CHECK(config_parse_number("0.5", &d) == 0 && d == 0.5);
	CHECK(config_parse_number(".5", &d) == 0 && d == 0.5);
	CHECK(config_parse_number("3.", &d) == 0 && d == 3);
	CHECK(config_parse_number("0", &d) == 0 && d == 0);
	const char *badn[] = {"", "-1", "+1", "1e3", "inf", "nan", "0x1", "1s", " 1", ".", "1..2"};
	for (size_t i = 0; i < sizeof badn / sizeof badn[0]; i++)
		CHECK(config_parse_number(badn[i], &d) < 0);
}

TEST(config_path_precedence)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *dir = fresh_dir();
	char p[512];

	config_init(&c);
	/* ~/.config/aifs/aifs.conf */
	snprintf(p, sizeof p, "%s/.config", getenv("HOME"));
	mkdir(p, 0700);
	strcat(p, "/aifs");
	mkdir(p, 0700);
	write_file(p, "aifs.conf",
		   "[home]\n"
		   "type = ark\nbase_url = https://h.example\napi_key_env = ARK_KEY\n",
		   0600);
	CHECK_INT(config_load(&c, &e), 0);
	CHECK_STR(c.providers[0].name, "home");
	config_free(&c);

	/* $XDG_CONFIG_HOME/aifs/aifs.conf */
	snprintf(p, sizeof p, "%s/xdg", dir);
	mkdir(p, 0700);
	setenv("XDG_CONFIG_HOME", p, 1);
	strcat(p, "/aifs");
	mkdir(p, 0700);
	write_file(p, "aifs.conf",
		   "[xdg]\ntype = ark\nbase_url = https://x.example\napi_key_env = ARK_KEY\n",
		   0600);
	config_init(&c);
	CHECK_INT(config_load(&c, &e), 0);
	CHECK_STR(c.providers[0].name, "xdg");
	config_free(&c);

	/* $AIFS_CONFIG */
	setenv("AIFS_CONFIG",
	       write_file(
		       dir, "env.conf",
		       "[env]\ntype = ark\nbase_url = https://e.example\napi_key_env = ARK_KEY\n",
		       0600),
	       1);
	config_init(&c);
	CHECK_INT(config_load(&c, &e), 0);
	CHECK_STR(c.providers[0].name, "env");
	config_free(&c);

	/* -o config= */
	config_init(&c);
	CHECK_INT(
		load_in(dir,
			"[opt]\ntype = ark\nbase_url = https://o.example\napi_key_env = ARK_KEY\n",
			0600, &c, &e),
		0);
	CHECK_STR(c.providers[0].name, "opt");
	config_free(&c);

	/* a missing file */
	config_init(&c);
	snprintf(p, sizeof p, "%s/nope.conf", dir);
	c.config_path = strdup(p);
	CHECK_INT(config_load(&c, &e), -ENOENT);
	CHECK(strstr(e.msg, "nope.conf") && strstr(e.msg, "No such file"));
	config_free(&c);
}

TEST(section_names)
{
	char text[1024], name[300];
	struct aifs_conf c;
	struct aifs_err e;

	CHECK(fails("[]\n", 0600, 1, "1 to 255 bytes"));
	CHECK(fails(ARK "[a/b]\n", 0600, 5, "'/'"));
	CHECK(fails("[.]\n", 0600, 1, "start with '.'"));
	CHECK(fails("[..]\n", 0600, 1, "start with '.'"));
	CHECK(fails("[.hidden]\n", 0600, 1, "start with '.'"));
	CHECK(fails("[ volc]\n", 0600, 1, "blanks"));
	CHECK(fails("[volc] ; x\n", 0600, 1, "end with ']'"));
	CHECK(fails("[volc\n", 0600, 1, "end with ']'"));
	CHECK(fails(ARK "\n" ARK, 0600, 6, "[volc] given twice (first at line 1)"));
	CHECK(fails("# only comments\n; and more\n", 0600, 0, "no providers"));
	CHECK(fails("", 0600, 0, "no providers"));

	/* 255 bytes pass whole (libinih alone would cut at 49), 256 do not */
	memset(name, 'n', 256);
	name[255] = '\0';
	snprintf(text, sizeof text,
		 "[%s]\ntype = ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\n", name);
	config_init(&c);
	CHECK_INT(load(text, 0600, &c, &e), 0);
	CHECK_STR(c.providers[0].name, name);
	config_free(&c);
	name[255] = 'n';
	name[256] = '\0';
	snprintf(text, sizeof text, "[%s]\n", name);
	CHECK(fails(text, 0600, 1, "1 to 255 bytes"));

	/* names that differ after byte 49 are two providers */
	memset(name, 'p', 60);
	name[60] = '\0';
	snprintf(text, sizeof text,
		 "[%s1]\n"
		 "type = ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\n"
		 "[%s2]\n"
		 "type = ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\n",
		 name, name);
	config_init(&c);
	CHECK_INT(load(text, 0600, &c, &e), 0);
	CHECK_INT(c.n_providers, 2);
	config_free(&c);
}

TEST(too_many_providers)
{
	char *text = malloc(70 * 100), *p = text;

	CHECK(text);
	for (int i = 0; i < CONFIG_MAX_PROVIDERS + 1; i++)
		p += sprintf(
			p,
			"[p%d]\ntype = ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\n",
			i);
	int ok = fails(text, 0600, CONFIG_MAX_PROVIDERS * 4 + 1, "more than 60 providers");
	*strstr(text, "[p60]") = '\0';
	struct aifs_conf c;
	struct aifs_err e;
	config_init(&c);
	int rc = load(text, 0600, &c, &e);
	size_t n = c.n_providers;
	config_free(&c);
	free(text);
	CHECK(ok);
	CHECK_INT(rc, 0);
	CHECK_INT(n, CONFIG_MAX_PROVIDERS);
}

TEST(keys_and_values)
{
	CHECK(fails(ARK "colour = blue\n", 0600, 5, "unknown key colour"));
	CHECK(fails(ARK "api_key sk-" SECRET " = x\n", 0600, 5, "unknown key (not shown)"));
	CHECK(fails(ARK "qps = 2\nqps = 3\n", 0600, 6, "qps given twice (first at line 5)"));
	CHECK(fails(ARK "ttl = -1\n", 0600, 5, "ttl: '-1' is not a number"));
	CHECK(fails(ARK "ttl = soon\n", 0600, 5, "not a number"));
	CHECK(fails(ARK "qps = 0\n", 0600, 5, "qps must be above 0"));
	CHECK(fails(ARK "burst = 0.5\n", 0600, 5, "burst must be at least 1"));
	CHECK(fails(ARK "retries = 1.5\n", 0600, 5, "whole number"));
	CHECK(fails(ARK "retries = 1000\n", 0600, 5, "at most 100"));
	CHECK(fails(ARK "timeout = 0\n", 0600, 5, "timeout must be above 0"));
	CHECK(fails("qps = 0\n" ARK, 0600, 1, "qps must be above 0"));
	CHECK(fails(ARK "list = maybe\n", 0600, 5, "yes, no or auto"));
	CHECK(fails(ARK "insecure_http = sure\n", 0600, 5, "yes or no"));
	CHECK(fails(CJ "list = yes\n", 0600, 6, "list is not a key of type chanjing"));
	CHECK(fails(CJ "api_key_env = ARK_KEY\n", 0600, 6,
		    "api_key_env is not a key of type chanjing"));
	CHECK(fails(ARK "app_id = x\n", 0600, 5, "app_id is not a key of type ark"));
	CHECK(fails(ARK "access_token = " SECRET "\n", 0600, 5,
		    "access_token is not a key of type ark"));
	CHECK(fails("type = ark\n" ARK, 0600, 1, "type belongs in a provider's [section]"));
	CHECK(fails("api_key = " SECRET "\n" ARK, 0600, 1, "api_key belongs in"));
	CHECK(fails("[v]\nbase_url = https://a.example\n", 0600, 1, "[v]: no type"));
	CHECK(fails("[v]\ntype = openai\n", 0600, 2, "type 'openai' is not ark or chanjing"));
	/* a value quoted in part is cut between characters (3 bytes each here) */
	CHECK(fails("[v]\ntype = 方舟方舟方舟方舟方舟方舟方舟方舟\n", 0600, 2,
		    "type '方舟方舟方舟方舟方舟...' is not ark or chanjing"));
	CHECK(fails("ttl = ten seconds or so, more or less, give or take\n", 0600, 1,
		    "ttl: 'ten seconds or so, more or less,...' is not a number"));
	CHECK(fails("[v]\ntype = ark\napi_key_env = ARK_KEY\n", 0600, 1, "[v]: no base_url"));
	CHECK(fails(ARK "noeq\n", 0600, 5, "expected 'key = value'"));
	CHECK(fails(ARK "= value\n", 0600, 5, "expected 'key = value'"));
	CHECK(fails(ARK "a ;b = c\n", 0600, 5, "expected 'key = value'"));
	CHECK(fails("noeq\n" ARK "colour = x\n", 0600, 1, "expected"));
	CHECK(fails(ARK "x\001 = 1\n", 0600, 5, "unknown key (not shown)"));
}

TEST(type_names_in_any_case)
{
	struct aifs_conf c;
	struct aifs_err e;

	config_init(&c);
	CHECK_INT(load("[a]\ntype = Ark\nbase_url = https://a.example\napi_key_env = ARK_KEY\n"
		       "[c]\ntype = CHANJING\nbase_url = https://c.example\n"
		       "access_token_env = CJ_SECRET\n",
		       0600, &c, &e),
		  0);
	CHECK_STR(c.providers[0].type, "ark"); /* as the provider table spells it */
	CHECK_STR(c.providers[1].type, "chanjing");
	/* each type's default qps is the provider table's */
	CHECK(c.providers[0].tun.qps == provider_ark.default_qps);
	CHECK(c.providers[1].tun.qps == provider_chanjing.default_qps);
	config_free(&c);
	CHECK(fails("[v]\ntype = ark2\n", 0600, 2, "type 'ark2' is not ark or chanjing"));
	CHECK(fails("[v]\ntype = \n", 0600, 2, "type '' is not ark or chanjing"));
}

TEST(list_and_insecure)
{
	struct aifs_conf c;
	struct aifs_err e;

	config_init(&c);
	CHECK_INT(load(ARK "list = no\n[r]\ntype = ark\nbase_url = "
			   "http://example.com/v1\napi_key_env = ARK_KEY\n"
			   "list = YES\ninsecure_http = yes\n",
		       0600, &c, &e),
		  0);
	CHECK(c.providers[0].list == LIST_NO);
	CHECK(c.providers[1].list == LIST_YES && c.providers[1].insecure_http);
	CHECK_STR(c.providers[1].base_url, "http://example.com/v1");
	config_free(&c);
}

TEST(base_url_rules)
{
	static const char *ok[] = {
		"http://127.0.0.1:8080/v1/", "http://127.5.6.7",
		"http://localhost",	     "http://LOCALHOST:99/x",
		"http://[::1]:8080",	     "http://user:pw@127.0.0.1/",
		"HTTPS://a.example",	     "https://a.example:443/p/",
	};
	static const char *want[] = {
		"http://127.0.0.1:8080/v1", "http://127.5.6.7",	       "http://localhost",
		"http://LOCALHOST:99/x",    "http://[::1]:8080",       "http://user:pw@127.0.0.1",
		"HTTPS://a.example",	    "https://a.example:443/p",
	};
	static const char *refused[] = {
		"http://example.com",
		"http://127.0.0.1.evil.example",
		"http://127.0.0.1@evil.example/",
		"http://[::2]",
		"http://128.0.0.1",
		"http://localhost.evil.example",
	};
	static const char *junk[] = {"ftp://a.example",
				     "a.example",
				     "https://",
				     "https:///x",
				     "https://a.example/?q=1",
				     "https://a.example/#f",
				     "https://a b.example",
				     "http://[::1"};
	char text[512];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct aifs_conf c;
		struct aifs_err e;

		snprintf(text, sizeof text,
			 "[v]\ntype = ark\nbase_url = %s\napi_key_env = ARK_KEY\n", ok[i]);
		config_init(&c);
		int rc = load(text, 0600, &c, &e);
		if (rc)
			fprintf(stderr, "  %s: %s\n", ok[i], e.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(c.providers[0].base_url, want[i]);
		config_free(&c);
	}
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		snprintf(text, sizeof text,
			 "[v]\ntype = ark\nbase_url = %s\napi_key_env = ARK_KEY\n", refused[i]);
		CHECK(fails(text, 0600, 3, "plain http to"));
		strcat(text, "insecure_http = yes\n");
		struct aifs_conf c;
		struct aifs_err e;
		config_init(&c);
		CHECK_INT(load(text, 0600, &c, &e), 0);
		config_free(&c);
	}
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		snprintf(text, sizeof text,
			 "[v]\ntype = ark\nbase_url = %s\napi_key_env = ARK_KEY\n", junk[i]);
		CHECK(fails(text, 0600, 3, "base_url"));
	}
	/* the URL is never echoed: it may hold a password */
	CHECK(fails("[v]\ntype = ark\nbase_url = http://u:" SECRET
		    "@example.com\napi_key_env = ARK_KEY\n",
		    0600, 3, "plain http to example.com"));
}

TEST(inline_secrets_and_modes)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *text = "[v]\ntype = ark\nbase_url = https://a.example\napi_key = " SECRET
			   "-inline ;x #y\n";

	config_init(&c);
	CHECK_INT(load(text, 0600, &c, &e), 0);
	CHECK_STR(c.providers[0].api_key,
		  SECRET "-inline ;x #y"); /* comments are whole lines only */
	config_free(&c);
	CHECK(fails(text, 0644, 4,
		    "holds api_key but is readable by others (mode 0644); chmod 600 it"));
	CHECK(fails(text, 0640, 4, "readable by group (mode 0640)"));
	CHECK(fails(text, 0604, 4, "readable by others (mode 0604)"));
	config_init(&c);
	CHECK_INT(load(text, 0620, &c, &e), 0); /* writable, not readable: nothing leaks */
	config_free(&c);
	CHECK(fails(CJ "[t]\ntype = chanjing\nbase_url = https://a.example\naccess_token = " SECRET
		       "\n",
		    0644, 9, "holds access_token but"));
	CHECK(fails("[t]\ntype = chanjing\nbase_url = https://a.example\napp_id = a\nsecret_key "
		    "= " SECRET "\n",
		    0644, 5, "holds secret_key but"));
	CHECK(fails("[v]\ntype = ark\nbase_url = https://a.example\napi_key =\n", 0600, 4,
		    "api_key: empty"));
}

TEST(env_and_file_secrets)
{
	struct aifs_conf c;
	struct aifs_err e;
	const char *dir = fresh_dir();
	char text[1024], keys[256];

	snprintf(keys, sizeof keys, "%s/keys", dir);
	mkdir(keys, 0700);
	write_file(keys, "good.key", SECRET "-file \t\r\nsecond line\n", 0600);
	write_file(keys, "loose.key", SECRET "-loose\n", 0644);
	write_file(keys, "group.key", SECRET "-group\n", 0640);
	write_file(keys, "empty.key", "", 0600);
	write_file(keys, "blank.key", "  \n" SECRET "\n", 0600);
	write_file(getenv("HOME"), "home.key", SECRET "-home", 0400);

	config_init(&c);
	snprintf(text, sizeof text,
		 "[v]\ntype = ark\nbase_url = https://a.example\napi_key_file = %s/good.key\n"
		 "[h]\ntype = ark\nbase_url = https://a.example\napi_key_file = ~/home.key\n"
		 "[r]\ntype = ark\nbase_url = https://a.example\napi_key_file = keys/good.key\n",
		 keys);
	CHECK_INT(load_in(dir, text, 0644, &c, &e),
		  0); /* no inline secret: the mode does not matter */
	CHECK_STR(c.providers[0].api_key, SECRET "-file");
	CHECK_STR(c.providers[1].api_key, SECRET "-home");
	CHECK_STR(c.providers[2].api_key, SECRET "-file"); /* relative to the config's directory */
	config_free(&c);

#define ONE(key_line) "[v]\ntype = ark\nbase_url = https://a.example\n" key_line "\n"
	snprintf(text, sizeof text, ONE("api_key_file = %s/loose.key"), keys);
	CHECK(fails(text, 0600, 4,
		    "[v] api_key_file: the file it names is readable by others (mode 0644); "
		    "chmod 600 it"));
	snprintf(text, sizeof text, ONE("api_key_file = %s/group.key"), keys);
	CHECK(fails(text, 0600, 4, "readable by group (mode 0640)"));
	snprintf(text, sizeof text, ONE("api_key_file = %s/empty.key"), keys);
	CHECK(fails(text, 0600, 4, "empty first line"));
	snprintf(text, sizeof text, ONE("api_key_file = %s/blank.key"), keys);
	CHECK(fails(text, 0600, 4, "empty first line"));
	snprintf(text, sizeof text, ONE("api_key_file = %s/missing.key"), keys);
	CHECK(fails(text, 0600, 4,
		    "[v] api_key_file: cannot read the file it names: No such file or directory"));
	snprintf(text, sizeof text, ONE("api_key_file = %s"), keys);
	CHECK(fails(text, 0600, 4, "[v] api_key_file: cannot read the file it names: Is a directory"));
	/* a key pasted in place of the path is never echoed (fails() looks for SECRET) */
	CHECK(fails(ONE("api_key_file = " SECRET "-pasted-0123456789abcdef"), 0600, 4,
		    "aifs.conf:4: [v] api_key_file: cannot read the file it names: No such file or "
		    "directory"));
	CHECK(fails(ONE("api_key_file = /" SECRET "-pasted"), 0600, 4, "cannot read the file"));
	CHECK(fails(ONE("api_key_file = ~" SECRET "-pasted"), 0600, 4,
		    "api_key_file: only ~ and ~/ are expanded"));
	CHECK(fails("[cj]\ntype = chanjing\nbase_url = https://open-api.chanjing.cc\n"
		    "access_token_file = ./" SECRET "-token\n",
		    0600, 4, "[cj] access_token_file: cannot read the file it names"));
	dir = fresh_dir();
	write_file(dir, SECRET "-named", "x\n", 0644);
	config_init(&c);
	CHECK_INT(load_in(dir, ONE("api_key_file = " SECRET "-named"), 0600, &c, &e), -EPERM);
	config_free(&c);
	CHECK(strstr(e.msg, "[v] api_key_file: the file it names is readable by others"));
	CHECK(!strstr(e.msg, SECRET));
	CHECK(fails(ONE("api_key_file ="), 0600, 4, "api_key_file is empty"));
	CHECK(fails(ONE("api_key_env = UNSET_VAR"), 0600, 4,
		    "environment variable 'UNSET_VAR' is not set"));
	CHECK(fails(ONE("api_key_env = EMPTY_VAR"), 0600, 4, "'EMPTY_VAR' is empty"));
	CHECK(fails(ONE("api_key_env ="), 0600, 4, "api_key_env is empty"));
	CHECK(fails(ONE("api_key = " SECRET "\napi_key_env = ARK_KEY"), 0600, 5,
		    "api_key given twice (also at line 4)"));
	CHECK(fails(ONE("api_key_env = ARK_KEY\napi_key_file = /x"), 0600, 5,
		    "api_key given twice"));
	setenv("CTRL_VAR", SECRET "\r\nX-Evil: 1", 1);
	CHECK(fails(ONE("api_key_env = CTRL_VAR"), 0600, 4, "control character"));
#undef ONE
}

TEST(syntax_kept_whole)
{
	struct aifs_conf c;
	struct aifs_err e;
	char *text, *tok;

	/* indented keys are keys, not continuations; CRLF; a BOM; blank and comment lines */
	config_init(&c);
	CHECK_INT(load("\xEF\xBB\xBF# c\r\n\r\n  ; c2\r\n[v]\r\n\ttype = ark\r\n  base_url = "
		       "https://a.example/x;y\r\n"
		       "    api_key_env = ARK_KEY\r\n  qps: 2\r\n",
		       0600, &c, &e),
		  0);
	CHECK_STR(c.providers[0].base_url, "https://a.example/x;y");
	CHECK(c.providers[0].tun.qps == 2);
	config_free(&c);

	/* a value far longer than libinih's 200-byte line is kept whole */
	text = malloc(8192);
	tok = malloc(4001);
	CHECK(text && tok);
	memset(tok, 'T', 4000);
	memcpy(tok, SECRET, strlen(SECRET));
	tok[4000] = '\0';
	snprintf(text, 8192,
		 "[t]\ntype = chanjing\nbase_url = https://a.example\naccess_token = %s\n", tok);
	config_init(&c);
	int rc = load(text, 0600, &c, &e);
	int same = rc == 0 && !strcmp(c.providers[0].access_token, tok);
	config_free(&c);
	/* a key too long for libinih is an error, not a cut */
	memset(tok, 'k', 300);
	tok[300] = '\0';
	snprintf(text, 8192, ARK "%s = 1\n", tok);
	int too_long = fails(text, 0600, 5, "line too long");
	/* so is a long line without '=' */
	snprintf(text, 8192, ARK "%s\nttl = 1\n", tok);
	int no_eq = fails(text, 0600, 5, "expected 'key = value'");
	free(text);
	free(tok);
	CHECK(same);
	CHECK(too_long);
	CHECK(no_eq);
	/* a NUL byte in the file */
	{
		const char *dir = fresh_dir();
		char path[256];
		FILE *f;

		snprintf(path, sizeof path, "%s/aifs.conf", dir);
		f = fopen(path, "w");
		CHECK(f);
		fwrite(ARK "ttl = 1\0\n", 1, sizeof(ARK "ttl = 1\0\n") - 1, f);
		fclose(f);
		config_init(&c);
		c.config_path = strdup(path);
		CHECK(config_load(&c, &e) < 0);
		CHECK(strstr(e.msg, "aifs.conf:5: a NUL byte"));
		config_free(&c);
	}
}

TEST(expand_home)
{
	char *s;

	setenv("HOME", "/h/me", 1);
	CHECK_STR(s = config_expand_home("~"), "/h/me");
	free(s);
	CHECK_STR(s = config_expand_home("~/a/b"), "/h/me/a/b");
	free(s);
	CHECK_STR(s = config_expand_home("/abs/~"), "/abs/~");
	free(s);
	CHECK_STR(s = config_expand_home("~bob/x"), "~bob/x");
	free(s);
	unsetenv("HOME"); /* falls back to the password database */
	s = config_expand_home("~/x");
	CHECK(s && s[0] == '/' && strstr(s, "/x"));
	free(s);
	setenv("HOME", "/h/me", 1);
}

T_MAIN(T_CASE(ark_defaults), T_CASE(chanjing_credentials), T_CASE(spec_example_loads),
       T_CASE(tunable_precedence), T_CASE(cache_dir_and_max), T_CASE(parse_size_and_number),
       T_CASE(config_path_precedence), T_CASE(section_names), T_CASE(too_many_providers),
       T_CASE(keys_and_values), T_CASE(type_names_in_any_case), T_CASE(list_and_insecure),
       T_CASE(base_url_rules), T_CASE(inline_secrets_and_modes), T_CASE(env_and_file_secrets),
       T_CASE(syntax_kept_whole), T_CASE(expand_home))
