/* Logging to stderr with optional journald priority prefixes. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_name = "paxos";
static char log_prefix[64];
static int log_verbose;
static bool log_journal;

/*
 * journald sets JOURNAL_STREAM to "device:inode" of the stream it gave
 * us; only when stderr is that stream do we add <N> priority prefixes.
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *name, const char *prefix, int verbose)
{
	log_name = name;
	log_verbose = verbose;
	log_journal = stderr_is_journal();
	if (prefix != NULL)
		snprintf(log_prefix, sizeof(log_prefix), "%s ", prefix);
	else
		log_prefix[0] = '\0';
}

static void
vlog(int prio, const char *level, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>", prio);
	if (errnum != 0)
		fprintf(stderr, "%s: %s%s%s: %s\n", log_name, level, log_prefix,
		    msg, strerror(errnum));
	else
		fprintf(stderr, "%s: %s%s%s\n", log_name, level, log_prefix,
		    msg);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(4, "warning: ", fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(4, "warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(6, "", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose <= 0)
		return;
	va_start(ap, fmt);
	vlog(7, "debug: ", fmt, ap, 0);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(3, "fatal: ", fmt, ap, saved);
	va_end(ap);
	exit(code);
}

void
diex(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(3, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(code);
}
