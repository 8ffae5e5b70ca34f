/* test_secret.c: secrets inline, from the environment and from files; the
 * loose-file refusal; messages that never show one. The config's own use
 * of them is in test_config. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aifs/err.h"
#include "aifs/secret.h"
#include "t.h"

#define SECRET "SEKRET"

static char t_dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_dir(void)
{
	nftw(t_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *t_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	if (!t_dir[0]) {
		strcpy(t_dir, "/tmp/aifs-test-secret-XXXXXX");
		if (!mkdtemp(t_dir))
			abort();
		atexit(rm_dir);
	}
	snprintf(path, sizeof path, "%s/%s", t_dir, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* secret_get() of one line; *msg gets the message ("" on success). */
static int get(enum secret_form form, const char *value, mode_t conf_mode, char **out,
	       const char **msg)
{
	static struct aifs_err e;
	static const char *keys[] = { "api_key", "api_key_env", "api_key_file" };
	struct secret_line l = { .section = "v", .key = keys[form], .name = "api_key",
				 .form = form, .value = value, .conf_mode = conf_mode };
	int rc;

	aifs_err_clear(&e);
	rc = secret_get(&l, out, &e);
	*msg = e.msg;
	if (rc < 0 && (*out || e.code != rc || strstr(e.msg, SECRET)))
		return -1000; /* a failure leaves nothing, and says nothing secret */
	return rc;
}

TEST(forms_and_names)
{
	CHECK_INT(secret_form("api_key", "api_key"), SECRET_INLINE);
	CHECK_INT(secret_form("api_key_env", "api_key"), SECRET_ENV);
	CHECK_INT(secret_form("api_key_file", "api_key"), SECRET_FILE);
	CHECK_INT(secret_form("api_key_envx", "api_key"), -1);
	CHECK_INT(secret_form("api_keys", "api_key"), -1);
	CHECK_INT(secret_form("api", "api_key"), -1);
	CHECK_INT(secret_form("secret_key", "api_key"), -1);

	CHECK(secret_loose(0600) == NULL && secret_loose(0620) == NULL);
	CHECK_STR(secret_loose(0640), "group");
	CHECK_STR(secret_loose(0604), "others");
	CHECK_STR(secret_loose(0644), "others");

	CHECK_STR(secret_shown_key("api_key-2"), "api_key-2");
	CHECK_STR(secret_shown_key("api_key sk-" SECRET), "(not shown)");
	CHECK_STR(secret_shown_key(""), "(not shown)");
	CHECK_STR(secret_shown_key("k123456789012345678901234567890123"), "(not shown)");
	secret_free(NULL);
	secret_wipe_free(NULL, 10);
}

TEST(inline_env_file)
{
	const char *msg;
	char *s;

	CHECK_INT(get(SECRET_INLINE, SECRET "-inline ;x", 0600, &s, &msg), 0);
	CHECK_STR(s, SECRET "-inline ;x");
	secret_free(s);
	CHECK_INT(get(SECRET_INLINE, SECRET, 0640, &s, &msg), -EPERM);
	CHECK_STR(msg, "holds api_key but is readable by group (mode 0640); chmod 600 it");
	CHECK_INT(get(SECRET_INLINE, "", 0600, &s, &msg), -EINVAL);
	CHECK_STR(msg, "api_key: empty, or holds a control character");

	setenv("T_SECRET", SECRET "-env", 1);
	setenv("T_CTRL", SECRET "\r\nX: 1", 1);
	setenv("T_EMPTY", "", 1);
	unsetenv("T_UNSET");
	CHECK_INT(get(SECRET_ENV, "T_SECRET", 0644, &s, &msg), 0);
	CHECK_STR(s, SECRET "-env");
	secret_free(s);
	CHECK_INT(get(SECRET_ENV, "T_UNSET", 0600, &s, &msg), -EINVAL);
	CHECK_STR(msg, "api_key_env: environment variable 'T_UNSET' is not set");
	CHECK_INT(get(SECRET_ENV, "T_EMPTY", 0600, &s, &msg), -EINVAL);
	CHECK(strstr(msg, "'T_EMPTY' is empty"));
	CHECK_INT(get(SECRET_ENV, "sk-" SECRET "-pasted", 0600, &s, &msg), -EINVAL);
	CHECK_STR(msg, "api_key_env: environment variable (not a variable name) is not set");
	CHECK_INT(get(SECRET_ENV, "T_CTRL", 0600, &s, &msg), -EINVAL);
	CHECK(strstr(msg, "control character"));
	CHECK_INT(get(SECRET_ENV, "", 0600, &s, &msg), -EINVAL);
	CHECK_STR(msg, "api_key_env is empty");

	CHECK_INT(get(SECRET_FILE, t_file("good", SECRET "-file \t\r\nline 2\n", 0600), 0644, &s,
		      &msg),
		  0);
	CHECK_STR(s, SECRET "-file");
	secret_free(s);
	CHECK_INT(get(SECRET_FILE, t_file("loose", SECRET "\n", 0644), 0600, &s, &msg), -EPERM);
	CHECK_STR(msg, "[v] api_key_file: the file it names is readable by others (mode 0644); "
		       "chmod 600 it");
	CHECK_INT(get(SECRET_FILE, t_file("blank", "  \n" SECRET "\n", 0600), 0600, &s, &msg),
		  -EINVAL);
	CHECK(strstr(msg, "empty first line"));
	CHECK_INT(get(SECRET_FILE, t_file("tab", "a\tb\n", 0400), 0600, &s, &msg), -EINVAL);
	CHECK(strstr(msg, "control character"));
	CHECK_INT(get(SECRET_FILE, t_file(SECRET, "x", 0600), 0600, &s, &msg), 0);
	secret_free(s);
	CHECK_INT(get(SECRET_FILE, t_file(SECRET, "", 0600), 0600, &s, &msg), -EINVAL);
	CHECK_INT(get(SECRET_FILE, t_dir, 0600, &s, &msg), -EISDIR);
	CHECK_STR(msg, "[v] api_key_file: cannot read the file it names: Is a directory");
}

TEST(slurp)
{
	const char *path = t_file("big", "0123456789", 0640);
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	bool more = true;

	CHECK_INT(secret_slurp(path, 10, &text, &len, &mode, &more), 0);
	CHECK(len == 10 && !more && (mode & 0777) == 0640 && !strcmp(text, "0123456789"));
	secret_wipe_free(text, len);
	CHECK_INT(secret_slurp(path, 4, &text, &len, &mode, &more), 0);
	CHECK(len == 4 && more && !strcmp(text, "0123"));
	secret_wipe_free(text, len);
	CHECK_INT(secret_slurp("/nonexistent/x", 4, &text, &len, &mode, &more), -ENOENT);
}

T_MAIN(T_CASE(forms_and_names), T_CASE(inline_env_file), T_CASE(slurp))
