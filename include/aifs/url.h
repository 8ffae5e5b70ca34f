/* url.h: a URL's scheme and host, and whether a host is this machine. */
#ifndef AIFS_URL_H
#define AIFS_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Borrowed from the URL given to url_split(): not NUL-terminated. */
struct url_parts {
	const char *scheme; /* before "://", as written */
	size_t scheme_len;
	const char *host;   /* without user:password@ or :port; an IPv6 address without [] */
	size_t host_len;
};

/* Splits len bytes of "scheme://[userinfo@]host[:port][/path]": the host
 * follows the last '@' before the first '/', '?' or '#'. -EINVAL when there
 * is no "scheme://", no host, or an unclosed '['. Checks nothing else: the
 * caller says which schemes and characters it takes. */
int url_split(const char *url, size_t len, struct url_parts *out);

/* Whether len bytes of host name this machine: "localhost" or "localhost."
 * in any case, 127.0.0.0/8 as a dotted quad, the IPv6 loopback in any
 * spelling, with or without its brackets. A name that only begins like
 * one (127.0.0.1.example.com, localhost.example) is not. */
bool url_host_is_loopback(const char *host, size_t len);

#endif
