/* log.h: one line per event: to a file when -o log=PATH names one, else to
 * stderr in the foreground and syslog in the daemon.
 *
 * The destination is chosen once in main() before any thread starts. Callers
 * never pass a secret: messages name provider, request, status and code. */
#ifndef AIFS_LOG_H
#define AIFS_LOG_H

#include <stdbool.h>

enum log_level { LOGL_ERROR, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

/* Opens path (created 0600, appended to) as the destination, in the
 * foreground and in the daemon alike. 0 or -errno. */
int log_open_file(const char *path);
/* The file is opened again by the next line logged (SIGHUP, for logrotate).
 * Async-signal-safe. */
void log_reopen_request(void);
/* to_syslog: the daemon without a log file logs to syslog. */
void log_setup(bool to_syslog, enum log_level max);
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
