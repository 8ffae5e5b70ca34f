/* log.c: where log lines go. Knows nothing of what is logged. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "aifs/err.h"
#include "aifs/log.h"

/* Set once in main() before any thread starts, read-only afterwards. */
static struct {
	bool to_syslog;
	enum log_level max;
} log_cfg = { false, LOGL_INFO };

void log_setup(bool to_syslog, enum log_level max)
{
	log_cfg.to_syslog = to_syslog;
	log_cfg.max = max;
	if (to_syslog)
		openlog("aifs", LOG_PID, LOG_DAEMON);
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= log_cfg.max;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const word[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof line) /* not mid-character, nor mid-word if it can be helped */
		memcpy(line + aifs_text_cut_len(line, sizeof line - 1, sizeof line - 4), "...", 4);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' '; /* one event, one line, whatever a provider sent */
	if (log_cfg.to_syslog) {
		syslog(prio[lvl], "%s", line);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld aifs %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, word[lvl], line);
	}
}
