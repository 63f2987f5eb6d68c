/*
 * paxos-learner: writes the chosen values to stdout in log order, each
 * once.  Finding out what is chosen is lib/learner.c; this file owns the
 * socket, stdout and the saved position in data_dir.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "learner.h"
#include "log.h"
#include "node.h"
#include "store.h"

#define OUTBUF		(1024 * 1024)
#define OUTBOX		16
#define SAVE_MS		200	/* how often the position is saved */

static volatile sig_atomic_t quit;

struct out_state {
	char		*buf;
	size_t		 len;
	uint64_t	 pending;	/* last slot in buf */
	uint64_t	 flushed;	/* last slot fully written */
	uint64_t	 saved;		/* last slot in the position file */
	uint64_t	 values;	/* lines fully written */
	uint64_t	 values_pending;
	char		 path[PATH_MAX + 32];
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-learner [-hnVv] [-c file] [-i id] "
	    "[--from pos] [--count n]\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/*
 * Save the position with the filter's sessions, once everything the
 * learner has taken is written: the two must describe the same point.
 */
static void
save(struct out_state *o, const struct learner *l)
{
	if (o->flushed == o->saved || o->flushed != l->next - 1)
		return;
	if (store_save_learner(o->path, l) == -1)
		die(EX_IOERR, "save %s", o->path);
	o->saved = o->flushed;
}

/*
 * Write buf out.  A closed stdout ends us without saving: what could not
 * be written is not delivered, and the next run starts from the last
 * save, which may repeat a few lines as after kill -9.
 */
static void
flush_out(struct out_state *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->len) {
		n = write(STDOUT_FILENO, o->buf + off, o->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EPIPE)
				diex(EX_IOERR, "stdout closed; delivered up to "
				    "position %" PRIu64, o->flushed);
			die(EX_IOERR, "write stdout");
		}
		off += (size_t)n;
	}
	o->len = 0;
	o->flushed = o->pending;
	o->values += o->values_pending;
	o->values_pending = 0;
}

static void
append(struct out_state *o, uint64_t slot, const struct entry *e, bool pos)
{
	char prefix[32];
	int plen = 0;

	if (pos)
		plen = snprintf(prefix, sizeof(prefix), "%" PRIu64 "\t", slot);
	if (OUTBUF - o->len < (size_t)plen + e->len + 1)
		flush_out(o);
	memcpy(o->buf + o->len, prefix, (size_t)plen);
	o->len += (size_t)plen;
	memcpy(o->buf + o->len, e->val, e->len);
	o->len += e->len;
	o->buf[o->len++] = '\n';
	o->values_pending++;
}

/* Move what is chosen, in order, into the output buffer. */
static void
take(struct learner *l, struct out_state *o, uint64_t first, bool positions,
    uint64_t count)
{
	enum learner_verdict verdict;
	struct entry e;

	while (learner_peek(l, &e, &verdict)) {
		if (verdict == LEARNER_WRITE && l->next >= first) {
			if (o->values + o->values_pending == count)
				break;
			append(o, l->next, &e, positions);
		}
		o->pending = l->next;
		learner_advance(l);
	}
}

static uint64_t
parse_count(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		diex(EX_USAGE, "%s %s: not a number", opt, s);
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "count", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	static struct node nd;
	static struct learner l;
	static struct out outs[OUTBOX];
	static struct out_state o;
	static struct msg m, st;
	struct outbox ob = { 0, OUTBOX, 0, outs };
	uint32_t acc_ids[CONF_MAX_NODES];
	struct pollfd pfd[2];
	struct auth_peer from;
	const char *conffile, *idarg = NULL;
	char err[CONF_ERRLEN], prefix[32];
	uint64_t first = 0, start, count = 0, last_save = 0, now;
	unsigned i, n_acc = 0, wait;
	uint8_t *valbuf;
	int ch, verbose = 0, r, k;
	bool positions = false, has_from = false, has_count = false;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	log_init("paxos-learner", NULL, 0);
	while ((ch = getopt_long(argc, argv, "c:hi:nVv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'i':
			idarg = optarg;
			break;
		case 'n':
			positions = true;
			break;
		case 'V':
			printf("paxos-learner %s\n", PAXOS_VERSION);
			return EX_OK;
		case 'v':
			verbose++;
			break;
		case 'F':
			first = parse_count("--from", optarg);
			if (first == 0)
				diex(EX_USAGE, "--from: positions start at 1");
			has_from = true;
			break;
		case 'C':
			count = parse_count("--count", optarg);
			has_count = true;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	log_init("paxos-learner", NULL, verbose);
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if ((r = node_open(&nd, conffile, idarg, AUTH_LEARNER, true, err,
	    sizeof(err))) != 0)
		diex(r, "%s", err);
	snprintf(prefix, sizeof(prefix), "learner %" PRIu32, nd.id);
	log_init("paxos-learner", prefix, verbose);

	if (mkdir(nd.conf.data_dir, 0700) == -1 && errno != EEXIST)
		die(EX_CANTCREAT, "mkdir %s", nd.conf.data_dir);
	snprintf(o.path, sizeof(o.path), "%s/learner-%" PRIu32 ".pos",
	    nd.conf.data_dir, nd.id);
	if ((r = store_load_learner(o.path, &o.saved, &l, false)) == -2)
		diex(EX_DATAERR, "%s: not a learner state file", o.path);
	if (r == -1)
		die(EX_IOERR, "read %s", o.path);
	/*
	 * The duplicate filter needs the log before the first line written:
	 * start after the saved position with the saved filter when that is
	 * not past --from, else from the first position, writing nothing
	 * until --from is reached.
	 */
	if (!has_from)
		first = o.saved + 1;
	start = first > o.saved ? o.saved + 1 : 1;
	o.flushed = o.pending = start - 1;
	if ((o.buf = malloc(OUTBUF)) == NULL ||
	    (valbuf = malloc((size_t)LEARNER_WINDOW * VALUE_MAX)) == NULL)
		die(EX_OSERR, "malloc");
	for (i = 0; i < nd.conf.n_nodes; i++)
		if (nd.conf.nodes[i].roles & ROLE_ACCEPTOR)
			acc_ids[n_acc++] = nd.conf.nodes[i].id;
	learner_init(&l, acc_ids, n_acc, nd.conf.learning_interval_ms, valbuf,
	    start, node_now_ms());
	if (start > 1 && store_load_learner(o.path, &o.saved, &l, true) != 0)
		die(EX_IOERR, "read %s", o.path);
	if (has_from)
		o.saved = UINT64_MAX;	/* save the first position reached */

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	node_ready(&nd);
	if (has_count && count == 0)
		quit = 1;
	pfd[0] = (struct pollfd){ nd.fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ STDOUT_FILENO, 0, 0 };
	while (!quit) {
		now = node_now_ms();
		wait = learner_tick(&l, now, &ob);
		node_flush(&nd, &ob);
		if (poll(pfd, 2, (int)(wait < 100 ? wait : 100)) == -1 &&
		    errno != EINTR)
			die(EX_OSERR, "poll");
		/* The consumer went away while we had nothing to say. */
		if (pfd[1].revents & (POLLERR | POLLHUP)) {
			save(&o, &l);
			diex(EX_IOERR, "stdout closed; delivered up to "
			    "position %" PRIu64, o.flushed);
		}
		for (k = 0; k < 256; k++) {
			r = node_recv(&nd, &m, &from);
			if (r == 0)
				break;
			if (r == -1)
				die(EX_OSERR, "recv");
			if (r == 1 && m.type == MSG_STATUS_REQ) {
				msg_init(&st, MSG_STATUS_REP);
				st.slot = o.flushed;
				st.max_slot = l.max_slot;
				st.commit = l.commit;
				st.stats[STAT_VALUES] = o.values;
				node_status_reply(&nd, &m, &st);
			} else if (r == 1) {
				learner_receive(&l, node_now_ms(), from.role,
				    from.id, &m, &ob);
				/*
				 * Make room in the window before the next;
				 * what is in order goes out uncopied.
				 */
				take(&l, &o, first, positions, has_count ?
				    count : UINT64_MAX);
				learner_keep(&l);
			}
		}
		node_flush(&nd, &ob);
		take(&l, &o, first, positions, has_count ? count : UINT64_MAX);
		if (o.len > 0)
			flush_out(&o);
		o.flushed = o.pending;
		now = node_now_ms();
		if (now >= last_save + SAVE_MS) {
			save(&o, &l);
			last_save = now;
		}
		if (has_count && o.values >= count)
			break;
	}
	flush_out(&o);
	save(&o, &l);
	node_close(&nd);
	free(valbuf);
	free(o.buf);
	return EX_OK;
}
