/*
 * paxos-submit: submits values, from argv or one per line of stdin, and
 * returns once each is committed.  One run is one client session
 * (lib/client.c): a random id and a sequence number per value, so that
 * retransmissions and leader changes never get a value written twice or
 * out of order.  This file reads input, checks values and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "log.h"
#include "node.h"
#include "proposer.h"

#define WINDOW_MAX	PROPOSER_HISTORY	/* the leader remembers no more */
#define INBUF		(2 * VALUE_MAX + 2)
#define OUTBOX		(WINDOW_MAX + 8)	/* a resend of every value fits */

struct submit {
	struct node	 nd;
	struct client	 c;
	struct outbox	 ob;
	uint64_t	 limit_ms;	/* -t, 0: none */
	bool		 positions;	/* -n */
	uint64_t	 committed;	/* values reported so far */
	struct msg	 m;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-submit [-hnVv] [-c file] [-t ms] [-w n] "
	    "[value ...]\n");
}

/* Report committed values from the oldest on, in input order. */
static void
retire(struct submit *s)
{
	struct client_value cv;

	while (client_retire(&s->c, &cv)) {
		s->committed++;
		if (!s->positions)
			continue;
		printf("%" PRIu64 "\n", cv.position);
		if (fflush(stdout) == EOF)
			die(EX_IOERR, "stdout");
	}
}

/* Take one input value; -1 when it is refused. */
static int
add_value(struct submit *s, const char *val, size_t len, uint64_t line)
{
	if (len > VALUE_MAX) {
		log_warnx("line %" PRIu64 ": value too large (%zu bytes, the "
		    "limit is %d)", line, len, VALUE_MAX);
		return -1;
	}
	if (memchr(val, '\0', len) != NULL) {
		log_warnx("line %" PRIu64 ": value contains a NUL byte", line);
		return -1;
	}
	/* Only an argument can hold one: a line ends at its newline. */
	if (memchr(val, '\n', len) != NULL) {
		log_warnx("line %" PRIu64 ": value contains a newline", line);
		return -1;
	}
	client_submit(&s->c, (const uint8_t *)val, (uint32_t)len, line,
	    node_now_ms());
	return 0;
}

static void
receive(struct submit *s)
{
	struct auth_peer from;
	int r;

	while ((r = node_recv(&s->nd, &s->m, &from)) != 0) {
		if (r == -1)
			die(EX_OSERR, "recv");
		if (r == 1 && from.role == AUTH_PROPOSER)
			client_receive(&s->c, node_now_ms(), &s->m, &s->ob);
	}
	node_flush(&s->nd, &s->ob);
	retire(s);
}

static void
timers(struct submit *s)
{
	const struct client_value *cv = client_oldest(&s->c);
	uint64_t now = node_now_ms();

	if (cv != NULL && s->limit_ms != 0 && now >= cv->first_ms + s->limit_ms)
		diex(EX_TEMPFAIL, "no commit within %" PRIu64 " ms for line "
		    "%" PRIu64 "; %" PRIu64 " values committed before it",
		    s->limit_ms, cv->line, s->committed);
	client_tick(&s->c, now, &s->ob);
	node_flush(&s->nd, &s->ob);
}

/* Read stdin as a stream: each line goes out as soon as it is read. */
static int
read_lines(struct submit *s, char *in, size_t *inlen, uint64_t *line,
    bool *eof)
{
	ssize_t got;
	size_t len;
	char *nl;

	while (client_has_room(&s->c)) {
		if ((nl = memchr(in, '\n', *inlen)) != NULL) {
			len = (size_t)(nl - in);
			(*line)++;
			if (add_value(s, in, len, *line) == -1)
				return -1;
			memmove(in, nl + 1, *inlen - len - 1);
			*inlen -= len + 1;
			continue;
		}
		if (*inlen == INBUF) {
			(*line)++;
			log_warnx("line %" PRIu64 ": value too large (over %d "
			    "bytes)", *line, VALUE_MAX);
			return -1;
		}
		got = read(STDIN_FILENO, in + *inlen, INBUF - *inlen);
		if (got == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (got == -1)
			die(EX_IOERR, "read stdin");
		if (got == 0) {
			*eof = true;
			if (*inlen > 0) {	/* no final newline */
				(*line)++;
				len = *inlen;
				*inlen = 0;
				return add_value(s, in, len, *line);
			}
			return 0;
		}
		*inlen += (size_t)got;
	}
	return 0;
}

static int
run(struct submit *s, int argc, char *argv[])
{
	static char in[INBUF];
	struct pollfd pfd[2];
	size_t inlen = 0;
	uint64_t line = 0;
	bool eof = false, refused = false, want_input;
	int i = 0;

	if (argc == 0 && fcntl(STDIN_FILENO, F_SETFL,
	    fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) == -1)
		die(EX_OSERR, "stdin");
	for (;;) {
		if (argc > 0) {
			while (!refused && i < argc && client_has_room(&s->c))
				if (add_value(s, argv[i], strlen(argv[i]),
				    ++line) == -1)
					refused = true;
				else
					i++;
			eof = i == argc;
		} else if (!eof && !refused &&
		    read_lines(s, in, &inlen, &line, &eof) == -1) {
			refused = true;
		}
		/* What was read goes out together, in as few datagrams. */
		client_flush(&s->c, node_now_ms(), &s->ob);
		node_flush(&s->nd, &s->ob);
		if ((eof || refused) && client_idle(&s->c))
			return refused ? EX_DATAERR : EX_OK;
		want_input = argc == 0 && !eof && !refused &&
		    client_has_room(&s->c);
		pfd[0] = (struct pollfd){ s->nd.fd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		if (poll(pfd, want_input ? 2 : 1, 10) == -1 && errno != EINTR)
			die(EX_OSERR, "poll");
		receive(s);
		timers(s);
	}
}

static unsigned long
parse_num(int opt, const char *arg, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    v < min || v > max)
		diex(EX_USAGE, "-%c %s: want a number from %lu to %lu", opt,
		    arg, min, max);
	return v;
}

int
main(int argc, char *argv[])
{
	static struct submit s;
	static struct out outs[OUTBOX];
	struct client_value *v;
	uint32_t prop_ids[CONF_MAX_NODES];
	uint64_t session = 0;
	const char *conffile;
	char err[CONF_ERRLEN];
	unsigned i, n_prop = 0, window = 16;
	int ch, verbose = 0, r;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	log_init("paxos-submit", NULL, 0);
	while ((ch = getopt(argc, argv, "c:hnt:Vvw:")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'n':
			s.positions = true;
			break;
		case 't':
			s.limit_ms = parse_num('t', optarg, 1, 86400000);
			break;
		case 'V':
			printf("paxos-submit %s\n", PAXOS_VERSION);
			return EX_OK;
		case 'v':
			verbose++;
			break;
		case 'w':
			window = (unsigned)parse_num('w', optarg, 1,
			    WINDOW_MAX);
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("paxos-submit", NULL, verbose);
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if ((r = node_open(&s.nd, conffile, NULL, AUTH_CLIENT, false, err,
	    sizeof(err))) != 0)
		diex(r, "%s", err);
	signal(SIGPIPE, SIG_IGN);
	while (session == 0)
		randombytes_buf(&session, sizeof(session));
	for (i = 0; i < s.nd.conf.n_nodes; i++)
		if (s.nd.conf.nodes[i].roles & ROLE_PROPOSER)
			prop_ids[n_prop++] = s.nd.conf.nodes[i].id;
	if ((v = calloc(window, sizeof(*v))) == NULL)
		die(EX_OSERR, "calloc");
	for (i = 0; i < window; i++)
		if ((v[i].val = malloc(VALUE_MAX)) == NULL)
			die(EX_OSERR, "malloc");
	s.ob = (struct outbox){ 0, OUTBOX, 0, outs };
	client_init(&s.c, session, prop_ids, n_prop, window,
	    s.nd.conf.timeout_ms, v, node_now_ms());
	r = run(&s, argc, argv);
	for (i = 0; i < window; i++)
		free(v[i].val);
	free(v);
	node_close(&s.nd);
	return r;
}
