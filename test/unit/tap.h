/* A tiny TAP producer for the unit tests: no framework, one header. */
#ifndef PAXOS_TAP_H
#define PAXOS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned	tap_n;
static unsigned	tap_failed;

/*
 * A known bug marks its checks TODO (TAP "# TODO"): they are reported
 * but do not fail the run, and one that starts passing says so.
 */
static inline bool
tap_check(bool ok, const char *file, int line, const char *what,
    const char *todo)
{
	tap_n++;
	printf("%sok %u - %s:%d %s", ok ? "" : "not ", tap_n, file, line,
	    what);
	if (todo != NULL)
		printf(" # TODO %s", todo);
	printf("\n");
	if (!ok && todo == NULL)
		tap_failed++;
	fflush(stdout);
	return ok;
}

/* Show a string as "#" lines, so that a newline in it keeps TAP valid. */
static inline void
tap_show(const char *label, const char *s)
{
	printf("# %s", label);
	if (s == NULL) {
		printf("(null)\n");
		return;
	}
	printf("'");
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			printf("\\n\n#       ");
		else
			putchar(*s);
	}
	printf("'\n");
}

/* Compare strings and show both when they differ. */
static inline bool
tap_check_str(const char *got, const char *want, const char *file, int line,
    const char *what, const char *todo)
{
	bool ok = got != NULL && want != NULL && strcmp(got, want) == 0;

	if (!tap_check(ok, file, line, what, todo)) {
		tap_show("got:  ", got);
		tap_show("want: ", want);
		fflush(stdout);
	}
	return ok;
}

#define CHECK(cond)							\
	tap_check((cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_TODO(cond, why)						\
	tap_check((cond), __FILE__, __LINE__, #cond, (why))
#define CHECK_STR(got, want)						\
	tap_check_str((got), (want), __FILE__, __LINE__,		\
	    #got " == " #want, NULL)
#define CHECK_STR_TODO(got, want, why)					\
	tap_check_str((got), (want), __FILE__, __LINE__,		\
	    #got " == " #want, (why))

/* A "#" line, which TAP consumers show and otherwise ignore. */
static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The plan goes last; returns the exit status of the test program. */
static inline int
done_testing(void)
{
	printf("1..%u\n", tap_n);
	if (tap_failed != 0)
		printf("# failed %u of %u\n", tap_failed, tap_n);
	fflush(stdout);
	return tap_failed != 0;
}

#endif
