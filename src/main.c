/* main.c: the command line, the config, the mount and its tear-down.
 *
 * Every configuration problem is found and reported here, on the terminal,
 * before the daemon forks. Knows no JSON and no HTTP. */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/aifs.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/fs.h"
#include "aifs/http.h"
#include "aifs/log.h"
#include "aifs/secret.h"

/* Bumped by SIGHUP; the tree drops listings and unfinished states when it
 * sees it change. A signal handler can reach nothing else; a lock-free
 * atomic is safe to touch from one. */
static atomic_uint hup_count;

struct cli {
	char *config, *cache_dir, *cache_max, *redis;
	char *ttl, *qps, *burst, *retries, *timeout, *meta_max, *log;
	char *args[2]; /* the non-option arguments: [SOURCE] MOUNTPOINT */
	int n_args, help, version;
};

enum { KEY_HELP, KEY_VERSION, KEY_MOUNT_ONLY };

#define OPT(t, f) { t, offsetof(struct cli, f), 0 }
static const struct fuse_opt cli_spec[] = {
	OPT("config=%s", config),   OPT("cache_dir=%s", cache_dir), OPT("cache_max=%s", cache_max),
	OPT("ttl=%s", ttl),         OPT("qps=%s", qps),             OPT("burst=%s", burst),
	OPT("retries=%s", retries), OPT("timeout=%s", timeout),     OPT("meta_max=%s", meta_max),
	OPT("log=%s", log),         OPT("redis=%s", redis),
	/* mount(8)'s and fstab's own words, which mount.fuse3 passes on: they
	 * mean nothing to a FUSE filesystem (rw, dev, suid, exec are libfuse's) */
	FUSE_OPT_KEY("_netdev", KEY_MOUNT_ONLY),  FUSE_OPT_KEY("auto", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("noauto", KEY_MOUNT_ONLY),   FUSE_OPT_KEY("user", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("nouser", KEY_MOUNT_ONLY),   FUSE_OPT_KEY("users", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("owner", KEY_MOUNT_ONLY),    FUSE_OPT_KEY("group", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("nofail", KEY_MOUNT_ONLY),   FUSE_OPT_KEY("defaults", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("comment=", KEY_MOUNT_ONLY),
	FUSE_OPT_KEY("-h", KEY_HELP),       FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),    FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static int cli_key(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct cli *c = data;
	(void)outargs;
	if (key == KEY_MOUNT_ONLY)
		return 0;
	if (key == FUSE_OPT_KEY_OPT && !strncmp(arg, "x-", 2))
		return 0; /* x-systemd.automount, x-gvfs-show, ...: for mount(8) and systemd */
	if (key == FUSE_OPT_KEY_NONOPT) {
		if (c->n_args == 2) {
			fprintf(stderr, "aifs: too many arguments: '%s'\n", arg);
			return -1;
		}
		if (!(c->args[c->n_args] = strdup(arg)))
			return -1;
		c->n_args++;
		return 0; /* given back to FUSE once it is known which is which */
	}
	if (key == KEY_HELP) {
		c->help = 1;
		return 0;
	}
	if (key == KEY_VERSION) {
		c->version = 1;
		return 0;
	}
	return 1; /* everything else is FUSE's */
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aifs [options] [SOURCE] MOUNTPOINT\n"
		"\n"
		"Mounts AI content-generation task APIs: one directory per provider in the\n"
		"config, one subdirectory per task with status, meta.json, error and outputs.\n"
		"Create a task by writing its request into PROVIDER/.new/LABEL.json (exactly\n"
		"once; close says how it went), wait for it with cat TASK/.wait, cancel it\n"
		"with rmdir PROVIDER/ID.\n"
		"SOURCE, if given, is the word aifs or the config file (as -o config=), as\n"
		"mount -t fuse.aifs SOURCE MOUNTPOINT and an fstab line pass it; mount(8)'s\n"
		"own options (_netdev, noauto, user, users, nofail, x-systemd.*) are ignored.\n"
		"MOUNTPOINT/.aifs/stats: API requests, cache and download totals.\n"
		"Unmount with: fusermount3 -u MOUNTPOINT\n"
		"\n"
		"aifs options:\n"
		"    -h, --help             this text\n"
		"    -V, --version          the version\n"
		"    -f                     stay in the foreground, log to stderr\n"
		"    -d                     debug: foreground, FUSE and aifs debug output\n"
		"    -s                     a single FUSE thread\n"
		"    -o config=PATH         config file (default $AIFS_CONFIG, else\n"
		"                           $XDG_CONFIG_HOME/aifs/aifs.conf)\n"
		"    -o cache_dir=PATH      cache (default $XDG_CACHE_HOME/aifs)\n"
		"    -o cache_max=SIZE      cache size cap, e.g. 20G (default 20G)\n"
		"    -o ttl=SECONDS         listings and unfinished tasks are cached this\n"
		"                           long (default 10)\n"
		"    -o qps=N               API requests per second per provider\n"
		"                           (default: ark 3, chanjing 1)\n"
		"    -o burst=N             requests allowed at once (default: qps)\n"
		"    -o retries=N           extra attempts on throttling and transient\n"
		"                           failures (default 4)\n"
		"    -o timeout=SECONDS     per request; for downloads, connect and\n"
		"                           silence limit (default 30)\n"
		"    -o meta_max=N          tasks whose metadata is kept whole in memory;\n"
		"                           older ones keep only what stat needs (20000)\n"
		"    -o log=PATH            log to this file (created 0600, reopened on\n"
		"                           SIGHUP) instead of stderr or, daemonized, syslog\n"
		"    -o redis=URL           cluster mode: share each account's rate limit,\n"
		"                           answers, labels and token with every mount\n"
		"                           using redis://[:PASSWORD@]HOST[:PORT][/DB]\n"
		"    -o allow_other, -o ro, ...   as for every FUSE filesystem\n"
		"\n"
		"SIGHUP drops cached listings and unfinished task states and reopens the log.\n"
		"See aifs(1), and aifs.conf(5) for the config file.\n");
}

static int number_opt(const char *name, const char *val, double *out, double min)
{
	double v;
	if (!val)
		return 0;
	if (config_parse_number(val, &v) || v < min) {
		fprintf(stderr, "aifs: bad value for -o %s: '%s'\n", name, val);
		return -1;
	}
	*out = v;
	return 0;
}

/* Moves the -o values into conf; -1 after printing what was wrong. */
static int cli_to_conf(const struct cli *c, struct aifs_conf *conf)
{
	double retries = -1;
	if (number_opt("ttl", c->ttl, &conf->tun.ttl, 0) ||
	    number_opt("qps", c->qps, &conf->tun.qps, 1e-6) ||
	    number_opt("burst", c->burst, &conf->tun.burst, 1) ||
	    number_opt("retries", c->retries, &retries, 0) ||
	    number_opt("timeout", c->timeout, &conf->tun.timeout, 0.001))
		return -1;
	if (retries >= 0) {
		if (retries > 100 || retries != (int)retries) {
			fprintf(stderr, "aifs: bad value for -o retries: '%s'\n", c->retries);
			return -1;
		}
		conf->tun.retries = (int)retries;
	}
	double meta_max = -1;
	if (number_opt("meta_max", c->meta_max, &meta_max, 1))
		return -1;
	if (meta_max > 0)
		conf->meta_max = (size_t)meta_max;
	if (c->cache_max && config_parse_size(c->cache_max, &conf->cache_max)) {
		fprintf(stderr, "aifs: bad value for -o cache_max: '%s'\n", c->cache_max);
		return -1;
	}
	if (c->config && !(conf->config_path = config_expand_home(c->config)))
		return -1;
	if (c->cache_dir && !(conf->cache_dir = config_expand_home(c->cache_dir)))
		return -1;
	if (c->redis && !(conf->redis = strdup(c->redis))) /* a secret from here on */
		return -1;
	return 0;
}

/* -o redis=URL may hold a password: ps shows the command line, so the
 * value is masked there once it is read. */
static void mask_secrets(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		for (char *p = argv[i]; (p = strstr(p, "redis=")); )
			for (p += 6; *p && *p != ','; p++)
				*p = '*';
}

/* SPEC: aifs [SOURCE] MOUNTPOINT. SOURCE is what mount.fuse3 passes on
 * from fstab or mount -t fuse.aifs: the word aifs, or the config file. The
 * mountpoint goes back to FUSE's arguments; *fsname is what mount(8) and
 * df show as the source. -1 after saying what was wrong. */
static int take_source(struct cli *c, struct fuse_args *args, const char **fsname)
{
	*fsname = "aifs";
	if (c->n_args == 0)
		return 0;
	if (c->n_args == 2 && strcmp(c->args[0], "aifs") != 0) {
		if (c->config) {
			fprintf(stderr, "aifs: the config file is given twice: as SOURCE %s and as "
					"-o config=%s\n", c->args[0], c->config);
			return -1;
		}
		c->config = c->args[0];
		c->args[0] = NULL;
		if (!strpbrk(c->config, ",\\"))
			*fsname = c->config; /* as the fstab line says, so mount -a sees it there */
	}
	return fuse_opt_add_arg(args, c->args[c->n_args - 1]) ? -1 : 0;
}

/* SPEC: a MOUNTPOINT that is not a directory is a configuration error. */
static int check_mountpoint(const char *path)
{
	struct stat st;
	if (stat(path, &st)) {
		fprintf(stderr, "aifs: mountpoint %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "aifs: mountpoint %s is not a directory\n", path);
		return -1;
	}
	return 0;
}

/* The cache directory must exist, be ours and be private before we fork. */
static int make_cache_dir(char **dir)
{
	char *abs;
	for (char *p = *dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(*dir, 0700);
		*p = '/';
	}
	if (mkdir(*dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "aifs: cannot create cache directory %s: %s\n", *dir, strerror(errno));
		return -1;
	}
	if (!(abs = realpath(*dir, NULL))) {
		fprintf(stderr, "aifs: cache directory %s: %s\n", *dir, strerror(errno));
		return -1;
	}
	free(*dir);
	*dir = abs;
	return 0;
}

static void on_hup(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&hup_count, 1, memory_order_relaxed);
	log_reopen_request();
}

/* The log file, opened before the fork so that a bad path is said on the
 * terminal; absolute, since the daemon's working directory is /. */
static int open_log_file(const char *path)
{
	char *abs = NULL;
	int rc;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
			abs = NULL;
		free(cwd);
		if (!abs) {
			fprintf(stderr, "aifs: log file %s: %s\n", path, strerror(errno));
			return -1;
		}
		path = abs;
	}
	rc = log_open_file(path);
	if (rc)
		fprintf(stderr, "aifs: cannot open the log file %s: %s\n", path, strerror(-rc));
	free(abs);
	return rc ? -1 : 0;
}

/* The session loop ends with 0 at unmount, the signal's number after
 * SIGTERM, SIGINT or SIGHUP's default (a clean unmount, SPEC: exit 0), or
 * -errno when it failed. */
static int loop_status(int rc)
{
	return rc < 0 ? 1 : 0;
}

/* Secrets live in this process: keep them out of core files. */
static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct cli cli = { 0 };
	struct aifs_conf conf;
	struct aifs_err err;
	struct aifs *aifs = NULL;
	struct fs *fs = NULL;
	struct fuse_session *se = NULL;
	int status = 1, mounted = 0, curl_ready = 0, rc;
	size_t n_providers = 0;
	size_t ops_size;

	no_core_dumps();
	/* Every worker thread would get a malloc arena of its own, each keeping
	 * a copy's worth of freed task metadata: RSS grew with each relisting.
	 * Two arenas keep it flat; the daemon is not bound by malloc. */
	mallopt(M_ARENA_MAX, 2);
	/* A fixed threshold: a listing page's body and buffers as large are
	 * mapped and unmapped whole. The dynamic one rises after the first such
	 * free and then leaves them in the heap, between long-lived task
	 * records; with 100,000 tasks that is 8 MiB more at the peak. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	config_init(&conf);
	aifs_err_clear(&err);
	if (fuse_opt_parse(&args, &cli, cli_spec, cli_key))
		goto out;
	mask_secrets(argc, argv); /* cli holds its own copy */
	if (cli.help) {
		usage(stdout);
		printf("\nFUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		status = 0;
		goto out;
	}
	if (cli.version) {
		printf("aifs %s (libfuse %s)\n", AIFS_VERSION, fuse_pkgversion());
		status = 0;
		goto out;
	}
	const char *fsname;
	char *names = NULL;
	if (take_source(&cli, &args, &fsname) ||
	    asprintf(&names, "-ofsname=%s,subtype=aifs", fsname) < 0) {
		names = NULL;
		goto out;
	}
	rc = fuse_opt_insert_arg(&args, 1, names) || fuse_parse_cmdline(&args, &cmd);
	free(names);
	if (rc)
		goto out;
	if (!cmd.mountpoint) {
		usage(stderr);
		goto out;
	}
	if (check_mountpoint(cmd.mountpoint))
		goto out;
	if (cli_to_conf(&cli, &conf))
		goto out;
	if (config_load(&conf, &err)) {
		fprintf(stderr, "aifs: %s\n", err.msg);
		goto out;
	}
	if (make_cache_dir(&conf.cache_dir))
		goto out;
	if (cli.log && open_log_file(cli.log))
		goto out;

	log_setup(!cmd.foreground, cmd.debug ? LOGL_DEBUG : LOGL_INFO);
	if (http_global_init()) {
		fprintf(stderr, "aifs: cannot start libcurl\n");
		goto out;
	}
	curl_ready = 1;
	n_providers = conf.n_providers; /* conf is aifs's from here on */
	if (!(aifs = aifs_new(&conf, &hup_count, &err))) {
		fprintf(stderr, "aifs: %s\n", err.msg);
		goto out;
	}
	if (!(fs = fs_new(aifs_tree(aifs), aifs_start, aifs)))
		goto out;
	const struct fuse_lowlevel_ops *ops = fs_ops(&ops_size);
	if (!(se = fuse_session_new(&args, ops, ops_size, fs)))
		goto out; /* an unknown -o option: libfuse said which */
	fs_set_session(fs, se);
	if (fuse_set_signal_handlers(se))
		goto out;
	struct sigaction sa = { .sa_handler = on_hup };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	if (fuse_session_mount(se, cmd.mountpoint))
		goto out;
	mounted = 1;
	if (fuse_daemonize(cmd.foreground))
		goto out;

	log_msg(LOGL_INFO, "mounted %zu provider(s) on %s", n_providers, cmd.mountpoint);
	if (cmd.singlethread) {
		status = loop_status(fuse_session_loop(se));
	} else {
		struct fuse_loop_config *lc = fuse_loop_cfg_create();
		if (!lc)
			goto out;
		fuse_loop_cfg_set_clone_fd(lc, cmd.clone_fd);
		if (cmd.max_threads > 0 && cmd.max_threads <= 100000) /* -o max_threads= given */
			fuse_loop_cfg_set_max_threads(lc, cmd.max_threads);
		if (cmd.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(lc, cmd.max_idle_threads);
		status = loop_status(fuse_session_loop_mt(se, lc));
		fuse_loop_cfg_destroy(lc);
	}
out:
	aifs_stop(aifs); /* what waits on a provider ends now */
	fs_free(fs);     /* replies to what is queued while the channel is open */
	if (se) {
		fuse_remove_signal_handlers(se);
		if (mounted)
			fuse_session_unmount(se);
		fuse_session_destroy(se);
	}
	aifs_free(aifs);
	if (curl_ready)
		http_global_cleanup();
	config_free(&conf);
	free(cmd.mountpoint);
	free(cli.config);
	free(cli.cache_dir);
	free(cli.cache_max);
	free(cli.ttl);
	free(cli.qps);
	free(cli.burst);
	free(cli.retries);
	free(cli.timeout);
	free(cli.meta_max);
	free(cli.log);
	secret_free(cli.redis);
	free(cli.args[0]);
	free(cli.args[1]);
	fuse_opt_free_args(&args);
	return status;
}
