/* test_urlexp.c: the expiry a presigned URL carries, and URLs carrying none. */
#include <stdint.h>

#include "aifs/urlexp.h"
#include "t.h"

#define SIGNED 1743443419 /* 20250331T175019Z */

TEST(signing_date_and_lifetime)
{
	const char *tos = "https://tos.example/v.mp4?X-Tos-Algorithm=x&X-Tos-Date=20250331T175019Z"
			  "&X-Tos-Expires=3600&X-Tos-Signature=abc";
	const char *amz = "https://s3.example/v.mp4?X-Amz-Date=20250331T175019Z&X-Amz-Expires=3600";

	CHECK(!urlexp_expires_soon(tos, SIGNED));
	CHECK(!urlexp_expires_soon(tos, SIGNED + 3600 - 61));
	CHECK(urlexp_expires_soon(tos, SIGNED + 3600 - 60)); /* a minute early */
	CHECK(urlexp_expires_soon(tos, SIGNED + 7200));
	CHECK(!urlexp_expires_soon(amz, SIGNED + 3600 - 61));
	CHECK(urlexp_expires_soon(amz, SIGNED + 3600 - 60));
}

TEST(unix_expires)
{
	CHECK(!urlexp_expires_soon("https://x.example/a.png?Expires=1000&sig=1", 939));
	CHECK(urlexp_expires_soon("https://x.example/a.png?Expires=1000&sig=1", 940));
	CHECK(urlexp_expires_soon("https://x.example/a.png?sig=1&expires=1000#f", 940));
}

TEST(no_expiry_it_can_read)
{
	CHECK(!urlexp_expires_soon("https://x.example/a.png", INT64_MAX));
	CHECK(!urlexp_expires_soon("https://x.example/a.png?sig=1", INT64_MAX));
	/* a date without a lifetime, a date not a date, a name that only ends alike */
	CHECK(!urlexp_expires_soon("https://x.example/a?X-Amz-Date=20250331T175019Z", INT64_MAX));
	CHECK(!urlexp_expires_soon("https://x.example/a?X-Amz-Date=2025&X-Amz-Expires=1",
				   INT64_MAX));
	CHECK(!urlexp_expires_soon("https://x.example/a?MyExpires=1000", INT64_MAX));
	/* a lifetime past the end of time: not soon */
	CHECK(!urlexp_expires_soon("https://x.example/a?X-Amz-Date=20250331T175019Z"
				   "&X-Amz-Expires=9223372036854775807",
				   4102444800)); /* 2100 */
}

T_MAIN(T_CASE(signing_date_and_lifetime), T_CASE(unix_expires), T_CASE(no_expiry_it_can_read))
