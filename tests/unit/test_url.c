/* test_url.c: a URL's scheme and host, and the one loopback test that the
 * config and the transport share. */
#include <errno.h>
#include <string.h>

#include "aifs/http.h"
#include "aifs/url.h"
#include "t.h"

static bool loopback(const char *host)
{
	return url_host_is_loopback(host, strlen(host));
}

/* The host url_split() finds in url, as a string; "" when it finds none. */
static const char *host_of(const char *url)
{
	static char out[256];
	struct url_parts u;

	if (url_split(url, strlen(url), &u) < 0)
		return "";
	snprintf(out, sizeof out, "%.*s", (int)u.host_len, u.host);
	return out;
}

TEST(loopback_hosts)
{
	static const char *yes[] = {
		"localhost", "localhost.", "LOCALHOST", "LocalHost.", "127.0.0.1",
		"127.255.255.255", "127.1.2.3", "[::1]", "::1", "0:0:0:0:0:0:0:1", "[0::1]",
	};
	static const char *no[] = {
		"", "[]", "example.com", "127.0.0.1.example.com", "localhost.example.com",
		"localhost..", "xlocalhost", "128.0.0.1", "126.255.255.255", "1.127.0.0",
		"127.1", "127.0.0.01", "127.0.0.256", "127.0.0.1 ", " 127.0.0.1", "[::2]",
		"::2", "[::1", "::1]", "::ffff:127.0.0.1", "0.0.0.0", "::",
	};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!loopback(yes[i]))
			fprintf(stderr, "  \"%s\" is not loopback\n", yes[i]);
		CHECK(loopback(yes[i]));
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		if (loopback(no[i]))
			fprintf(stderr, "  \"%s\" is loopback\n", no[i]);
		CHECK(!loopback(no[i]));
	}
	/* only len bytes count; a NUL inside is not a shorter name */
	CHECK(url_host_is_loopback("localhost.example", 9));
	CHECK(!url_host_is_loopback("localhost\0evil", 14));
	CHECK(!url_host_is_loopback("127.0.0.1", 0));
}

TEST(split)
{
	struct url_parts u;
	const char *url = "HTTPS://user:pw@Example.COM:8443/a/b?c#d";

	CHECK_INT(url_split(url, strlen(url), &u), 0);
	CHECK(u.scheme == url && u.scheme_len == 5);
	CHECK(u.host_len == 11 && !memcmp(u.host, "Example.COM", 11));

	CHECK_STR(host_of("http://127.0.0.1:8080/v1/"), "127.0.0.1");
	CHECK_STR(host_of("http://localhost"), "localhost");
	CHECK_STR(host_of("http://user:pw@127.0.0.1/"), "127.0.0.1");
	CHECK_STR(host_of("http://127.0.0.1@evil.example/"), "evil.example");
	CHECK_STR(host_of("http://a@b@c.example:1"), "c.example");
	CHECK_STR(host_of("http://[::1]:8080/x"), "::1");
	CHECK_STR(host_of("http://u@[::1]"), "::1");
	CHECK_STR(host_of("http://h.example?x@y"), "h.example");
	CHECK_STR(host_of("http://h.example#@y"), "h.example");
	CHECK_STR(host_of("http://h.example/p@q"), "h.example");
	CHECK_STR(host_of("git+ssh://h.example"), "h.example");

	static const char *junk[] = {
		"", "a.example", "://h.example", "1http://h.example", "ht tp://h.example",
		"http://", "http:///x", "http://:80", "http://u@", "http://u@/x", "http://[::1",
		"http://[]", "http://?q",
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		if (url_split(junk[i], strlen(junk[i]), &u) != -EINVAL)
			fprintf(stderr, "  \"%s\" split\n", junk[i]);
		CHECK_INT(url_split(junk[i], strlen(junk[i]), &u), -EINVAL);
	}
	/* only len bytes are read */
	CHECK_INT(url_split("http://h.example", 7, &u), -EINVAL);
	CHECK_INT(url_split("http://h.example", 8, &u), 0);
	CHECK(u.host_len == 1 && u.host[0] == 'h');
}

/* The config (url_split, then the host) and the transport (curl's reading
 * of the URL, then the host) agree on which plain http URLs reach only this
 * machine: userinfo, ports, case and paths included. */
TEST(config_and_transport_agree)
{
	static const struct {
		const char *url;
		bool loopback;
	} cases[] = {
		{ "http://localhost/x", true },
		{ "http://localhost./x", true },
		{ "http://LOCALHOST:99/x", true },
		{ "http://127.0.0.1:8080/v1", true },
		{ "http://127.5.6.7", true },
		{ "http://user:pw@127.0.0.1/", true },
		{ "http://[::1]:8080/", true },
		{ "http://127.0.0.1.example.com/", false },
		{ "http://127.0.0.1@evil.example/", false },
		{ "http://localhost.evil.example/", false },
		{ "http://[::2]/", false },
		{ "http://128.0.0.1/", false },
		{ "http://example.com/", false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *url = cases[i].url, *host = host_of(url);
		bool conf = url_host_is_loopback(host, strlen(host));
		bool transport = http_url_allowed(url, false);

		if (conf != cases[i].loopback || transport != cases[i].loopback)
			fprintf(stderr, "  %s: config %d, transport %d, wanted %d\n", url, conf,
				transport, cases[i].loopback);
		CHECK(conf == cases[i].loopback && transport == cases[i].loopback);
		CHECK(http_url_allowed(url, true));
	}
	CHECK(http_url_allowed("https://example.com/", false));
	CHECK(!http_url_allowed("ftp://localhost/", true));
}

T_MAIN(T_CASE(loopback_hosts), T_CASE(split), T_CASE(config_and_transport_agree))
