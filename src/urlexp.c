/* urlexp.c: the expiry a presigned URL carries in its query.
 *
 * Object stores sign output URLs for a while (TOS and S3 as a signing date
 * and a lifetime, others as a Unix "Expires"); renewing one a minute early
 * spares a refused download. Reads only the query string: knows no HTTP,
 * no providers, and trusts nothing in the URL to be well formed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aifs/urlexp.h"

/* The value of query parameter name in url, copied into out; false if none. */
static bool query_param(const char *url, const char *name, char *out, size_t outsz)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);
	while (q) {
		q++;
		if (!strncmp(q, name, n) && q[n] == '=') {
			const char *v = q + n + 1;
			size_t len = strcspn(v, "&#");
			if (len >= outsz)
				return false;
			memcpy(out, v, len);
			out[len] = '\0';
			return true;
		}
		q = strchr(q, '&');
	}
	return false;
}

/* "20250331T175019Z" as Unix time, or -1. */
static int64_t amz_date(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	return end && !*end ? (int64_t)timegm(&tm) : -1;
}

bool urlexp_expires_soon(const char *url, int64_t now)
{
	static const char *const dated[][2] = { { "X-Tos-Date", "X-Tos-Expires" },
						{ "X-Amz-Date", "X-Amz-Expires" } };
	char a[64], b[64];
	int64_t at = -1;

	for (size_t i = 0; i < 2 && at < 0; i++) {
		int64_t date;

		if (query_param(url, dated[i][0], a, sizeof a) &&
		    query_param(url, dated[i][1], b, sizeof b) && (date = amz_date(a)) >= 0 &&
		    __builtin_add_overflow(date, (int64_t)strtoll(b, NULL, 10), &at))
			at = INT64_MAX; /* expires too far ahead to matter */
	}
	if (at < 0 && (query_param(url, "Expires", a, sizeof a) ||
		       query_param(url, "expires", a, sizeof a)))
		at = strtoll(a, NULL, 10);
	return at > 0 && at - 60 <= now;
}
