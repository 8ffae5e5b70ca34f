/* urlexp.h: when a presigned output URL stops working, read from the URL. */
#ifndef AIFS_URLEXP_H
#define AIFS_URLEXP_H

#include <stdbool.h>
#include <stdint.h>

/* True when url carries an expiry (X-Tos-/X-Amz-Date with -Expires, or a
 * Unix "expires"/"Expires" parameter) that falls within a minute of now
 * (Unix time). False when it carries none it can read. */
bool urlexp_expires_soon(const char *url, int64_t now);

#endif
