/* log.c: where log lines go: stderr in the foreground, syslog in the daemon,
 * or a file of the user's choosing (-o log=PATH) either way, reopened on
 * request so that logrotate can move it. Knows nothing of what is logged. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aifs/err.h"
#include "aifs/log.h"

/* Set in main() before any thread starts, read-only afterwards, except the
 * file's descriptor, which a reopen replaces in place with dup2(). */
static struct {
	bool to_syslog;
	enum log_level max;
	int fd;                 /* the log file, or -1 */
	char path[4096];
	atomic_bool reopen;     /* set from a signal handler */
	pthread_mutex_t mu;     /* serializes reopens */
} log_cfg = { false, LOGL_INFO, -1, "", false, PTHREAD_MUTEX_INITIALIZER };

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
}

int log_open_file(const char *path)
{
	if (strlen(path) >= sizeof log_cfg.path)
		return -ENAMETOOLONG;
	int fd = open_log(path);
	if (fd < 0)
		return -errno;
	snprintf(log_cfg.path, sizeof log_cfg.path, "%s", path);
	log_cfg.fd = fd;
	return 0;
}

void log_reopen_request(void)
{
	atomic_store_explicit(&log_cfg.reopen, true, memory_order_relaxed);
}

void log_setup(bool to_syslog, enum log_level max)
{
	log_cfg.to_syslog = to_syslog && log_cfg.fd < 0;
	log_cfg.max = max;
	if (log_cfg.to_syslog)
		openlog("aifs", LOG_PID, LOG_DAEMON);
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= log_cfg.max;
}

/* Opens the path again (logrotate moved the file) onto the same descriptor,
 * so a line being written by another thread goes to one file or the other. */
static void file_reopen(void)
{
	if (!atomic_exchange_explicit(&log_cfg.reopen, false, memory_order_relaxed))
		return;
	pthread_mutex_lock(&log_cfg.mu);
	int fd = open_log(log_cfg.path);
	if (fd >= 0) {
		dup3(fd, log_cfg.fd, O_CLOEXEC);
		close(fd);
	}
	pthread_mutex_unlock(&log_cfg.mu);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const word[] = { "error", "warning", "info", "debug" };
	char line[1024], out[1200];
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
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	if (log_cfg.fd < 0) {
		fprintf(stderr, "%02d:%02d:%02d.%03ld aifs %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, word[lvl], line);
		return;
	}
	file_reopen();
	n = snprintf(out, sizeof out, "%04d-%02d-%02d %02d:%02d:%02d.%03ld aifs[%ld] %s: %s\n",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(), word[lvl], line);
	if (n > (int)sizeof out - 1)
		n = (int)sizeof out - 1;
	/* one write per line: O_APPEND keeps lines of several threads whole */
	if (write(log_cfg.fd, out, (size_t)n) < 0)
		errno = 0;
}
