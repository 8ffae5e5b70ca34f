/* fuzz_url.c: the URL helpers take any string.
 *
 * The input, up to its first NUL, is a URL: urlexp_expires_soon() at
 * several clocks, http_url_allowed() with and without plain http,
 * url_split() and url_host_is_loopback(), and, for the names of output
 * files, task_url_ext() and http_escape(). None may crash or overflow;
 * url_split() and the last two also keep their promises. */
#include <stdint.h>

#include "aifs/http.h"
#include "aifs/task.h"
#include "aifs/url.h"
#include "aifs/urlexp.h"
#include "fuzz.h"

const char fuzz_target_name[] = "url";

static void fu_ext(const char *url)
{
	char out[16];
	const char *ext = task_url_ext(url, "bin", out, 9);
	size_t n = strlen(ext);
	char dotted[16];

	FUZZ_CHECK(n >= 1 && n <= 8, "extension of %zu bytes", n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((ext[i] >= '0' && ext[i] <= '9') || (ext[i] >= 'a' && ext[i] <= 'z') ||
			       (ext[i] >= 'A' && ext[i] <= 'Z'),
			   "extension \"%s\" is not letters and digits", ext);
	snprintf(dotted, sizeof dotted, ".%s", ext);
	FUZZ_CHECK(strcmp(ext, "bin") == 0 || strstr(url, dotted),
		   "extension \"%s\" is not in the URL", ext);
	ext = task_url_ext(url, NULL, out, sizeof out);
	FUZZ_CHECK(ext == NULL || (strlen(ext) >= 1 && strlen(ext) <= 8), "ext with no default");
}

static void fu_split(const char *url)
{
	size_t len = strlen(url);
	struct url_parts u;

	if (url_split(url, len, &u) < 0)
		return;
	FUZZ_CHECK(u.scheme == url && u.scheme_len > 0 && !memcmp(url + u.scheme_len, "://", 3),
		   "scheme of %zu bytes", u.scheme_len);
	FUZZ_CHECK(u.host > url + u.scheme_len && u.host_len > 0 &&
			   u.host + u.host_len <= url + len,
		   "host outside the URL");
	FUZZ_CHECK(!memchr(u.host, '/', u.host_len) && !memchr(u.host, '@', u.host_len) &&
			   !memchr(u.host, '?', u.host_len) && !memchr(u.host, '#', u.host_len),
		   "host \"%.*s\" holds a path, userinfo, query or fragment", (int)u.host_len,
		   u.host);
	(void)url_host_is_loopback(u.host, u.host_len);
	(void)url_host_is_loopback(url, len);
}

static void fu_escape(const char *s)
{
	char *e = http_escape(s);

	FUZZ_CHECK(e != NULL, "http_escape failed");
	for (const char *p = e; *p; p++)
		FUZZ_CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			       (*p >= 'A' && *p <= 'Z') || strchr("-._~%", *p),
			   "escaped text holds '%c'", *p);
	FUZZ_CHECK(strlen(e) <= 3 * strlen(s), "escape grew past 3x");
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t clocks[] = {0, 1, 1743443419, INT32_MAX, -1, INT64_MIN, INT64_MAX};
	char *url = fuzz_dup(data, size);

	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++)
		(void)urlexp_expires_soon(url, clocks[i]);
	(void)http_url_allowed(url, false);
	(void)http_url_allowed(url, true);
	fu_split(url);
	fu_ext(url);
	fu_escape(url);
	free(url);
	return 0;
}
