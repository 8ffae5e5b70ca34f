/* test_tunables.c: the five knobs' names, ranges and precedence; where they
 * may be set in the file is in test_config. */
#include <errno.h>
#include <string.h>

#include "aifs/config.h"
#include "aifs/tunables.h"
#include "t.h"

TEST(names_and_ranges)
{
	struct tunables t;
	char why[128];

	tunables_unset(&t);
	CHECK(t.ttl < 0 && t.qps < 0 && t.burst < 0 && t.retries < 0 && t.timeout < 0);
	CHECK(tunables_is_key("ttl") && tunables_is_key("qps") && tunables_is_key("burst") &&
	      tunables_is_key("retries") && tunables_is_key("timeout"));
	CHECK(!tunables_is_key("TTL") && !tunables_is_key("cache_max") && !tunables_is_key(""));

	CHECK_INT(tunables_set(&t, "ttl", "0", why, sizeof why), 0);
	CHECK_INT(tunables_set(&t, "qps", "0.5", why, sizeof why), 0);
	CHECK_INT(tunables_set(&t, "retries", "100", why, sizeof why), 0);
	CHECK(t.ttl == 0 && t.qps == 0.5 && t.retries == 100 && t.burst < 0);

	CHECK_INT(tunables_set(&t, "qps", "0", why, sizeof why), -EINVAL);
	CHECK_STR(why, "qps must be above 0");
	CHECK(t.qps == 0.5);
	CHECK_INT(tunables_set(&t, "burst", "0.5", why, sizeof why), -EINVAL);
	CHECK_STR(why, "burst must be at least 1");
	CHECK_INT(tunables_set(&t, "retries", "1.5", why, sizeof why), -EINVAL);
	CHECK_STR(why, "retries must be a whole number");
	CHECK_INT(tunables_set(&t, "timeout", "86401", why, sizeof why), -EINVAL);
	CHECK_STR(why, "timeout must be at most 86400");
	CHECK_INT(tunables_set(&t, "ttl", "-1", why, sizeof why), -EINVAL);
	CHECK_STR(why, "ttl: '-1' is not a number (0 or more)");
	CHECK_INT(tunables_set(&t, "ttl", "ten seconds or so, more or less, give or take", why,
			       sizeof why),
		  -EINVAL);
	CHECK_STR(why, "ttl: 'ten seconds or so, more or less,...' is not a number (0 or more)");
	CHECK_INT(tunables_set(&t, "colour", "1", why, sizeof why), -EINVAL);

	CHECK_INT(tunables_check(&t, why, sizeof why), 0);
	t.timeout = 0;
	CHECK_INT(tunables_check(&t, why, sizeof why), -EINVAL);
	CHECK_STR(why, "timeout must be above 0");
}

TEST(precedence)
{
	struct tunables t, over, under;

	tunables_unset(&t);
	tunables_unset(&over);
	tunables_unset(&under);
	t.ttl = 3;
	over.ttl = 5;
	over.qps = 7;
	under.qps = 9;
	under.retries = 2;
	under.timeout = 12.5;
	tunables_fill(&t, &over, &under, 3);
	CHECK(t.ttl == 3 && t.qps == 7 && t.burst == 7 && t.retries == 2 && t.timeout == 12.5);

	/* nobody says: the defaults, and the type's qps; a burst holds a whole token */
	tunables_unset(&t);
	tunables_fill(&t, NULL, NULL, 0.25);
	CHECK(t.ttl == CONFIG_DEFAULT_TTL && t.qps == 0.25 && t.burst == 1 &&
	      t.retries == CONFIG_DEFAULT_RETRIES && t.timeout == CONFIG_DEFAULT_TIMEOUT);
	tunables_unset(&t);
	t.burst = 4;
	tunables_fill(&t, NULL, NULL, 3);
	CHECK(t.qps == 3 && t.burst == 4);
}

T_MAIN(T_CASE(names_and_ranges), T_CASE(precedence))
