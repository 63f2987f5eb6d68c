/*
 * paxos-acceptor: the durable voting member of a Paxos cluster.  The
 * voting rules are lib/acceptor.c; this file wires them to the socket
 * and to LMDB, and keeps the one order safety depends on: a reply leaves
 * only after the state it reports is synced.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "acceptor.h"
#include "log.h"
#include "node.h"
#include "store.h"

#define BATCH		64	/* datagrams handled per sync */
#define COMMIT_WALK	4096	/* slots marked chosen per message */
#define RECENT		8192	/* ballots of recently accepted slots */

static volatile sig_atomic_t quit;

struct state {
	struct node	 nd;
	struct acceptor	 acc;
	struct store	 st;
	bool		 dirty;		/* write transaction open */
	struct msg	 in;
	struct acceptor_fx fx;
	uint64_t	 accepted;	/* entries accepted since start */
	/*
	 * The ballot each recently accepted slot was accepted in, by slot
	 * % RECENT (slot 0: none): the commit mark advances over slots
	 * just accepted, and this saves reading each back from the store.
	 */
	struct {
		uint64_t	 slot;
		struct ballot	 ballot;
	}		 recent[RECENT];
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-acceptor [-hnVv] [-c file] [-i id]\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
sync_and_send(struct state *s)
{
	if (s->dirty) {
		if (store_put_state(&s->st, &s->acc) == -1 ||
		    store_commit(&s->st) == -1)
			die(EX_IOERR, "sync %s", s->st.path);
		s->dirty = false;
	}
	node_queue_flush(&s->nd);
}

static void
begin(struct state *s)
{
	if (!s->dirty) {
		if (store_begin(&s->st) == -1)
			die(EX_IOERR, "begin %s", s->st.path);
		s->dirty = true;
	}
}

static void
queue_reply(struct state *s, const struct msg *m)
{
	if (node_queue(&s->nd, &s->nd.from, m) == -1) {
		/* The queue is full: everything in it may go once synced. */
		sync_and_send(s);
		begin(s);
		(void)node_queue(&s->nd, &s->nd.from, m);
	}
}

/* Remember the ballot slot was just accepted in (see recent). */
static void
note_accepted(struct state *s, uint64_t slot, struct ballot b)
{
	s->recent[slot % RECENT].slot = slot;
	s->recent[slot % RECENT].ballot = b;
}

/* The ballot slot was accepted in, {0, 0} if none: memory, else store. */
static struct ballot
accepted_ballot(struct state *s, uint64_t slot)
{
	struct ballot b;
	int r;

	if (s->recent[slot % RECENT].slot == slot)
		return s->recent[slot % RECENT].ballot;
	if ((r = store_get_ballot(&s->st, slot, &b)) == -1)
		die(EX_IOERR, "read %s", s->st.path);
	return r == 1 ? b : (struct ballot){ 0, 0 };
}

/* The leader of ballot b says slots below upto are chosen. */
static void
mark_chosen(struct state *s, struct ballot b, uint64_t upto)
{
	uint64_t before = s->acc.commit;
	unsigned walked;

	for (walked = 0; walked < COMMIT_WALK && s->acc.commit < upto;
	    walked++)
		if (!acceptor_commit_slot(&s->acc, b, upto, s->acc.commit,
		    accepted_ballot(s, s->acc.commit), false))
			break;
	if (s->acc.commit != before)
		log_debug("commit slot=%" PRIu64, s->acc.commit);
}

static void
handle(struct state *s, const struct auth_peer *from)
{
	struct msg *m = &s->in;
	struct acceptor_fx *fx = &s->fx;
	unsigned i;
	uint64_t end;

	switch (m->type) {
	case MSG_PREPARE:
		if (from->role != AUTH_PROPOSER)
			break;
		begin(s);
		acceptor_prepare(&s->acc, m, fx);
		if (fx->out.type == MSG_PROMISE) {
			end = m->count == 0 || m->slot + m->count < m->slot ?
			    SLOT_NONE : m->slot + m->count;
			if (store_scan(&s->st, m->slot, end, s->acc.commit,
			    &fx->out) == -1)
				die(EX_IOERR, "read %s", s->st.path);
		}
		queue_reply(s, &fx->out);
		break;
	case MSG_ACCEPT:
		if (from->role != AUTH_PROPOSER)
			break;
		begin(s);
		acceptor_accept(&s->acc, m, fx);
		if (fx->out.type == MSG_ACCEPTED) {
			for (i = 0; i < m->n; i++) {
				if (store_put_entry(&s->st, m->e[i].slot,
				    m->ballot, &m->e[i].e) == -1)
					die(EX_IOERR, "write %s", s->st.path);
				note_accepted(s, m->e[i].slot, m->ballot);
			}
			s->accepted += m->n;
			mark_chosen(s, m->ballot, m->commit);
		}
		queue_reply(s, &fx->out);
		break;
	case MSG_COMMIT:
		if (from->role != AUTH_PROPOSER)
			break;
		begin(s);
		mark_chosen(s, m->ballot, m->commit);
		break;
	case MSG_LEARN_REQ:
		if (from->role != AUTH_LEARNER && from->role != AUTH_PROPOSER)
			break;
		begin(s);
		msg_init(&fx->out, MSG_LEARN_REP);
		fx->out.slot = m->slot;
		fx->out.max_slot = s->acc.max_slot;
		fx->out.commit = s->acc.commit;
		fx->out.seq = m->seq;
		end = m->count == 0 || m->slot + m->count < m->slot ?
		    SLOT_NONE : m->slot + m->count;
		if (store_scan(&s->st, m->slot, end, s->acc.commit,
		    &fx->out) == -1)
			die(EX_IOERR, "read %s", s->st.path);
		queue_reply(s, &fx->out);
		break;
	case MSG_STATUS_REQ:
		msg_init(&fx->out, MSG_STATUS_REP);
		fx->out.ballot = s->acc.promised;
		fx->out.max_slot = s->acc.max_slot;
		fx->out.commit = s->acc.commit;
		fx->out.stats[STAT_VALUES] = s->accepted;
		node_status_reply(&s->nd, m, &fx->out);
		break;
	default:
		log_debug("ignored %s from role %u id %" PRIu32,
		    msg_type_name(m->type), from->role, from->id);
		break;
	}
}

static void
serve(struct state *s)
{
	struct auth_peer from;
	int n, r;

	while (!quit) {
		if (node_wait(&s->nd, 1000) == -1) {
			if (errno == EINTR)
				continue;
			die(EX_OSERR, "poll");
		}
		/* Group commit: one sync for a batch of datagrams. */
		for (n = 0; n < BATCH; n++) {
			r = node_recv(&s->nd, &s->in, &from);
			if (r == 0)
				break;
			if (r == -1)
				die(EX_OSERR, "recv");
			if (r == 1)
				handle(s, &from);
		}
		sync_and_send(s);
	}
}

int
main(int argc, char *argv[])
{
	static struct state s;
	const char *conffile, *idarg = NULL;
	char err[CONF_ERRLEN], dir[PATH_MAX + 32], prefix[32];
	int ch, verbose = 0, r;
	bool check_only = false;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	log_init("paxos-acceptor", NULL, 0);
	while ((ch = getopt(argc, argv, "c:hi:nVv")) != -1) {
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
			check_only = true;
			break;
		case 'V':
			printf("paxos-acceptor %s\n", PAXOS_VERSION);
			return EX_OK;
		case 'v':
			verbose++;
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
	log_init("paxos-acceptor", NULL, verbose);
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if (check_only) {
		if ((r = node_check(&s.nd, conffile, idarg, AUTH_ACCEPTOR, err,
		    sizeof(err))) != 0)
			diex(r, "%s", err);
		if (verbose)
			conf_print(&s.nd.conf, stdout);
		return EX_OK;
	}
	if ((r = node_open(&s.nd, conffile, idarg, AUTH_ACCEPTOR, true, err,
	    sizeof(err))) != 0)
		diex(r, "%s", err);
	if (node_recv_batched(&s.nd) == -1)
		die(EX_OSERR, "malloc");
	snprintf(prefix, sizeof(prefix), "acceptor %" PRIu32, s.nd.id);
	log_init("paxos-acceptor", prefix, verbose);

	if (mkdir(s.nd.conf.data_dir, 0700) == -1 && errno != EEXIST)
		die(EX_CANTCREAT, "mkdir %s", s.nd.conf.data_dir);
	snprintf(dir, sizeof(dir), "%s/acceptor-%" PRIu32, s.nd.conf.data_dir,
	    s.nd.id);
	if ((r = store_open(&s.st, dir, s.nd.conf.persist, err,
	    sizeof(err))) == -2)
		diex(EX_DATAERR, "%s; not starting (an acceptor that forgets "
		    "a promise can get two values chosen)", err);
	if (r == -1)
		diex(EX_CANTCREAT, "%s", err);
	acceptor_init(&s.acc, s.nd.id);
	if ((r = store_load(&s.st, &s.acc)) == -2)
		diex(EX_DATAERR, "%s: state is corrupt; not starting (an "
		    "acceptor that forgets a promise can get two values "
		    "chosen)", dir);
	if (r == -1)
		die(EX_IOERR, "read %s", dir);
	if (!s.nd.conf.persist)
		log_warnx("persist = no: state is in memory only; promises "
		    "made before this start are forgotten");

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_debug("promised=%" PRIu64 ".%" PRIu32 " commit=%" PRIu64
	    " max_slot=%" PRIu64, s.acc.promised.round, s.acc.promised.node,
	    s.acc.commit, s.acc.max_slot);
	node_ready(&s.nd);
	serve(&s);
	store_close(&s.st);
	node_close(&s.nd);
	return EX_OK;
}
