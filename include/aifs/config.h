/* config.h: the command line's aifs options and the INI config file. */
#ifndef AIFS_CONFIG_H
#define AIFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aifs_err;

enum list_mode { LIST_AUTO, LIST_YES, LIST_NO };

/* Tunables that a provider section may override. A value below zero means
 * "not set here". */
struct tunables {
	double ttl;      /* seconds */
	double qps;
	double burst;
	int retries;
	double timeout;  /* seconds */
};

struct provider_conf {
	char *name;          /* the section: also the directory name */
	char *type;          /* a provider_ops type, as the table spells it: "ark" */
	char *base_url;      /* without a trailing '/' */
	/* The fields the type's keys name (provider_ops.keys); NULL when not given.
	 * Secrets are resolved from inline, *_env or *_file. */
	char *api_key;       /* ark */
	char *app_id;        /* chanjing */
	char *secret_key;    /* chanjing */
	char *access_token;  /* chanjing, static token instead of app_id + secret_key */
	enum list_mode list;
	bool insecure_http;
	bool allow_delete;   /* delete = yes: rmdir deletes finished tasks */
	bool archive;        /* archive = yes: succeeded tasks' outputs are kept */
	uint64_t archive_min_free; /* bytes free under which archiving pauses */
	struct tunables tun; /* after config_finish(): every field set */
};

struct aifs_conf {
	char *config_path;   /* NULL: the default path */
	char *cache_dir;     /* NULL: $XDG_CACHE_HOME/aifs */
	uint64_t cache_max;  /* bytes */
	size_t meta_max;     /* tasks whose metadata stays whole in memory; 0: default */
	char *redis;         /* cluster mode: redis://[:PASSWORD@]HOST[:PORT][/DB]; a
	                      * secret (-o redis=, or redis, redis_env, redis_file) */
	struct tunables tun; /* from -o; fields below zero take the defaults */
	struct provider_conf *providers;
	size_t n_providers;
};

#define CONFIG_DEFAULT_TTL 10.0
#define CONFIG_DEFAULT_RETRIES 4
#define CONFIG_DEFAULT_TIMEOUT 30.0
#define CONFIG_DEFAULT_CACHE_MAX (20ULL << 30)
#define CONFIG_DEFAULT_MIN_FREE (1ULL << 30)
#define CONFIG_MAX_PROVIDERS 60

/* Sets every field to "not set". */
void config_init(struct aifs_conf *c);

/* Parses "20G", "512M", "1.5T", "4096": bytes (binary units). -EINVAL on junk. */
int config_parse_size(const char *s, uint64_t *out);

/* Parses a non-negative number of seconds or a count ("0.5", "10"). */
int config_parse_number(const char *s, double *out);

/* Reads the config file (c->config_path, else $AIFS_CONFIG, else
 * $XDG_CONFIG_HOME/aifs/aifs.conf, else ~/.config/aifs/aifs.conf), resolves
 * every secret, checks everything SPEC.md asks (types, in any case;
 * base_url schemes; each type's keys and credentials, as the provider table
 * says; loose files holding secrets), then fills defaults:
 * provider tunables from the section, else c->tun, else the type's default
 * (provider_ops.default_qps, burst = qps); cache_dir and cache_max.
 * On failure err->msg says what and where ("aifs.conf:12: ..."); returns -errno. */
int config_load(struct aifs_conf *c, struct aifs_err *err);

/* Expands a leading "~" or "~/" to $HOME. Returns a new string (free()). */
char *config_expand_home(const char *path);

/* Frees everything, wiping secrets first. Accepts a zeroed struct. */
void config_free(struct aifs_conf *c);

#endif
