/* url.c: a URL's scheme and host, and whether a host is this machine.
 *
 * One test of "loopback" for the config (plain http is taken only to this
 * machine unless insecure_http) and for the transport (which asks it of
 * the host curl will connect to), so the two cannot drift apart. It
 * refuses to know which schemes are allowed or what a URL is fetched for;
 * it resolves no names: only "localhost" itself is taken by name. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "aifs/url.h"

static bool url_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int url_split(const char *url, size_t len, struct url_parts *out)
{
	const char *end = url + len, *sep, *h, *e, *at;

	memset(out, 0, sizeof *out);
	sep = memmem(url, len, "://", 3);
	if (!sep || sep == url || !url_is_alpha(url[0]))
		return -EINVAL;
	for (const char *s = url; s < sep; s++)
		if (!url_is_alpha(*s) && !(*s >= '0' && *s <= '9') && !memchr("+-.", *s, 3))
			return -EINVAL;
	h = sep + 3;
	for (e = h; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	while ((at = memchr(h, '@', (size_t)(e - h))))
		h = at + 1;
	if (h < e && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (!rb)
			return -EINVAL;
		e = rb;
		h++;
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));

		e = colon ? colon : e;
	}
	if (e <= h)
		return -EINVAL;
	out->scheme = url;
	out->scheme_len = (size_t)(sep - url);
	out->host = h;
	out->host_len = (size_t)(e - h);
	return 0;
}

bool url_host_is_loopback(const char *host, size_t len)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[256];

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof h || memchr(host, '\0', len))
		return false;
	memcpy(h, host, len);
	h[len] = '\0';
	if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}
