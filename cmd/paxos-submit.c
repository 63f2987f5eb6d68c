/*
 * paxos-submit: submits values, from argv or one per line of stdin, and
 * returns once each is committed.  One run is one client session: a
 * random id and a sequence number per value, so that retransmissions
 * and leader changes never get a value written twice or out of order.
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

#include "log.h"
#include "node.h"

#define WINDOW_MAX	1024
#define INBUF		(2 * VALUE_MAX + 2)

struct pending {
	uint64_t	 seq;
	uint64_t	 line;		/* input line, for messages */
	uint64_t	 first_ms;	/* first sent */
	uint64_t	 sent_ms;	/* last sent */
	uint64_t	 position;	/* once committed */
	bool		 committed;
	uint32_t	 len;
	uint8_t		*val;
};

struct submit {
	struct node	 nd;
	uint64_t	 session;
	uint32_t	 proposers[CONF_MAX_NODES];
	unsigned	 n_prop;
	unsigned	 target;	/* index into proposers */
	uint64_t	 target_heard_ms;
	uint64_t	 next_seq;	/* next seq to give out */
	uint64_t	 acked;		/* seqs up to this are committed */
	unsigned	 window;	/* -w */
	uint64_t	 limit_ms;	/* -t, 0: none */
	bool		 positions;	/* -n */
	struct pending	*p;		/* ring of window entries */
	unsigned	 head, n;	/* oldest in flight, how many */
	uint64_t	 committed;	/* values reported so far */
	struct msg	 m;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-submit [-hnVv] [-c file] [-t ms] [-w n] "
	    "[value ...]\n");
}

static void
send_value(struct submit *s, struct pending *pv, uint64_t now)
{
	struct out o;

	o.role = AUTH_PROPOSER;
	o.id = s->proposers[s->target];
	o.client = 0;
	msg_init(&o.m, MSG_SUBMIT);
	o.m.client = s->session;
	o.m.seq = pv->seq;
	o.m.acked = s->acked;
	o.m.n = 1;
	o.m.e[0].slot = 0;
	o.m.e[0].e = (struct entry){ ENTRY_VALUE, s->session, pv->seq,
	    pv->len, pv->val };
	node_send(&s->nd, &o);
	pv->sent_ms = now;
}

static void
resend_all(struct submit *s, uint64_t now)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		struct pending *pv = &s->p[(s->head + i) % s->window];
		if (!pv->committed)
			send_value(s, pv, now);
	}
}

static void
switch_target(struct submit *s, unsigned idx, uint64_t now)
{
	s->target = idx % s->n_prop;
	s->target_heard_ms = now;
}

/* Report committed values from the oldest on, in input order. */
static void
retire(struct submit *s)
{
	struct pending *pv;

	while (s->n > 0) {
		pv = &s->p[s->head];
		if (!pv->committed)
			break;
		if (s->positions) {
			printf("%" PRIu64 "\n", pv->position);
			if (fflush(stdout) == EOF)
				die(EX_IOERR, "stdout");
		}
		s->acked = pv->seq;
		s->committed++;
		s->head = (s->head + 1) % s->window;
		s->n--;
	}
}

static void
on_reply(struct submit *s, const struct msg *m, uint64_t now)
{
	struct pending *pv;
	unsigned i, k;

	if (m->type != MSG_REPLY || m->client != s->session)
		return;
	s->target_heard_ms = now;
	if (m->status == REPLY_REDIRECT) {
		if (m->leader == 0)
			return;
		for (k = 0; k < s->n_prop; k++)
			if (s->proposers[k] == m->leader && k != s->target) {
				switch_target(s, k, now);
				resend_all(s, now);
			}
		return;
	}
	if (m->status != REPLY_OK)
		return;
	for (i = 0; i < s->n; i++) {
		pv = &s->p[(s->head + i) % s->window];
		if (pv->seq == m->seq && !pv->committed) {
			pv->committed = true;
			pv->position = m->slot;
		}
	}
	retire(s);
}

/* Take one input value into the window; -1 when it is refused. */
static int
add_value(struct submit *s, const char *val, size_t len, uint64_t line,
    uint64_t now)
{
	struct pending *pv;

	if (len > VALUE_MAX) {
		log_warnx("line %" PRIu64 ": value too large (%zu bytes, the "
		    "limit is %d)", line, len, VALUE_MAX);
		return -1;
	}
	if (memchr(val, '\0', len) != NULL) {
		log_warnx("line %" PRIu64 ": value contains a NUL byte", line);
		return -1;
	}
	pv = &s->p[(s->head + s->n) % s->window];
	s->n++;
	pv->seq = s->next_seq++;
	pv->line = line;
	pv->len = (uint32_t)len;
	memcpy(pv->val, val, len);
	pv->committed = false;
	pv->first_ms = now;
	send_value(s, pv, now);
	return 0;
}

static void
timers(struct submit *s, uint64_t now)
{
	unsigned timeout = s->nd.conf.timeout_ms, i;
	struct pending *pv;

	if (s->n == 0)
		return;
	pv = &s->p[s->head];
	if (s->limit_ms != 0 && now >= pv->first_ms + s->limit_ms)
		diex(EX_TEMPFAIL, "no commit within %" PRIu64 " ms for line "
		    "%" PRIu64 "; %" PRIu64 " values committed before it",
		    s->limit_ms, pv->line, s->committed);
	/* A proposer that says nothing for a timeout: try the next. */
	if (now >= s->target_heard_ms + timeout) {
		switch_target(s, s->target + 1, now);
		resend_all(s, now);
		return;
	}
	for (i = 0; i < s->n; i++) {
		pv = &s->p[(s->head + i) % s->window];
		if (!pv->committed && now >= pv->sent_ms + timeout / 2 + 1)
			send_value(s, pv, now);
	}
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
			on_reply(s, &s->m, node_now_ms());
	}
}

static int
run(struct submit *s, int argc, char *argv[])
{
	static char in[INBUF];
	struct pollfd pfd[2];
	size_t inlen = 0, start;
	uint64_t line = 0, now;
	bool eof = false, refused = false;
	char *nl;
	ssize_t got;
	int i = 0;

	if (argc == 0 && fcntl(STDIN_FILENO, F_SETFL,
	    fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) == -1)
		die(EX_OSERR, "stdin");
	for (;;) {
		now = node_now_ms();
		/* Take input while the window has room. */
		while (!eof && !refused && s->n < s->window) {
			if (argc > 0) {
				if (i == argc) {
					eof = true;
					break;
				}
				line++;
				if (add_value(s, argv[i], strlen(argv[i]), line,
				    now) == -1)
					refused = true;
				i++;
				continue;
			}
			nl = memchr(in, '\n', inlen);
			if (nl == NULL && inlen == sizeof(in)) {
				/* Longer than any value can be. */
				line++;
				log_warnx("line %" PRIu64 ": value too large "
				    "(over %d bytes)", line, VALUE_MAX);
				refused = true;
				break;
			}
			if (nl != NULL) {
				line++;
				start = (size_t)(nl - in);
				if (add_value(s, in, start, line, now) == -1)
					refused = true;
				memmove(in, nl + 1, inlen - start - 1);
				inlen -= start + 1;
				continue;
			}
			got = read(STDIN_FILENO, in + inlen, sizeof(in) - inlen);
			if (got == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (got == -1)
				die(EX_IOERR, "read stdin");
			if (got == 0) {
				eof = true;
				if (inlen > 0) {	/* no final newline */
					line++;
					if (add_value(s, in, inlen, line,
					    now) == -1)
						refused = true;
					inlen = 0;
				}
				break;
			}
			inlen += (size_t)got;
		}
		if ((eof || refused) && s->n == 0)
			return refused ? EX_DATAERR : EX_OK;
		pfd[0] = (struct pollfd){ s->nd.fd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		if (poll(pfd, argc == 0 && !eof && !refused &&
		    s->n < s->window ? 2 : 1, 10) == -1 && errno != EINTR)
			die(EX_OSERR, "poll");
		receive(s);
		timers(s, node_now_ms());
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
	const char *conffile;
	char err[CONF_ERRLEN];
	unsigned i;
	int ch, verbose = 0, r;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	s.window = 16;
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
			s.window = (unsigned)parse_num('w', optarg, 1,
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
	while (s.session == 0)
		randombytes_buf(&s.session, sizeof(s.session));
	for (i = 0; i < s.nd.conf.n_nodes; i++)
		if (s.nd.conf.nodes[i].roles & ROLE_PROPOSER)
			s.proposers[s.n_prop++] = s.nd.conf.nodes[i].id;
	if ((s.p = calloc(s.window, sizeof(*s.p))) == NULL)
		die(EX_OSERR, "calloc");
	for (i = 0; i < s.window; i++)
		if ((s.p[i].val = malloc(VALUE_MAX)) == NULL)
			die(EX_OSERR, "malloc");
	s.next_seq = 1;
	switch_target(&s, 0, node_now_ms());
	r = run(&s, argc, argv);
	for (i = 0; i < s.window; i++)
		free(s.p[i].val);
	free(s.p);
	node_close(&s.nd);
	return r;
}
