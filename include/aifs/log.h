/* log.h: one line per event, to stderr in the foreground, syslog otherwise.
 *
 * The destination is chosen once in main() before any thread starts. Callers
 * never pass a secret: messages name provider, request, status and code. */
#ifndef AIFS_LOG_H
#define AIFS_LOG_H

#include <stdbool.h>

enum log_level { LOGL_ERROR, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

void log_setup(bool to_syslog, enum log_level max);
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
