/* Logging to stderr, one line per event, OpenBSD log.c style. */
#ifndef PAXOS_LOG_H
#define PAXOS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/*
 * log_init: name is the program ("paxos-acceptor"); prefix, when not NULL,
 * is put after it ("acceptor 1").  verbose > 0 enables log_debug.
 */
void	log_init(const char *name, const char *prefix, int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* die: log with strerror(errno) and exit(code); diex: without strerror. */
void	die(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	diex(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
