/* tunables.h: the knobs every provider has (ttl, qps, burst, retries,
 * timeout): their names, their ranges, and which setting wins. */
#ifndef AIFS_TUNABLES_H
#define AIFS_TUNABLES_H

#include <stdbool.h>
#include <stddef.h>

struct tunables; /* config.h */

/* Sets every field to "not set" (below zero). */
void tunables_unset(struct tunables *t);

/* Whether key names a tunable. */
bool tunables_is_key(const char *key);

/* Sets the tunable key names from text, a number as config_parse_number()
 * reads it. 0; -EINVAL with why, which quotes the key and at most 32 bytes
 * of text ("ttl: 'soon' is not a number (0 or more)", "qps must be above
 * 0", "ttl is no tunable"). */
int tunables_set(struct tunables *t, const char *key, const char *text, char *why, size_t size);

/* 0 when every field that t sets is in its range; else -EINVAL with why
 * ("qps must be above 0"). */
int tunables_check(const struct tunables *t, char *why, size_t size);

/* Sets every field that t leaves unset from over, else from under (either
 * may be NULL), else from the defaults: CONFIG_DEFAULT_TTL, default_qps, a
 * burst of the qps (1 at least: a bucket holds a whole token),
 * CONFIG_DEFAULT_RETRIES, CONFIG_DEFAULT_TIMEOUT. */
void tunables_fill(struct tunables *t, const struct tunables *over, const struct tunables *under,
		   double default_qps);

#endif
