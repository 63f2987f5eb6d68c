/*
 * paxos-proposer: orders client values into log positions.  Leadership,
 * phase 1 recovery and phase 2 are lib/proposer.c; this file feeds it
 * datagrams, the clock and random draws, and sends what it asks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "node.h"
#include "proposer.h"
#include "store.h"

#define BATCH		256	/* datagrams read per wake-up */
#define OUTBOX		256
#define TICK_MS		5

static volatile sig_atomic_t quit;

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-proposer [-hnVv] [-c file] [-i id]\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static unsigned
ids_with_role(const struct conf *c, unsigned role, uint32_t *ids)
{
	unsigned i, n = 0;

	for (i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].roles & role)
			ids[n++] = c->nodes[i].id;
	return n;
}

struct saved_state {
	char		 path[PATH_MAX + 32];
	uint64_t	 saved;
	/*
	 * The proposer's view of the log (position and duplicate filter),
	 * so that a restart resumes there instead of reading the whole log
	 * again before it can lead.
	 */
	char		 log_path[PATH_MAX + 32];
	char		 written_path[PATH_MAX + 32];
	uint64_t	 log_saved;
	uint64_t	 log_save_ms;
};

#define LOG_SAVE_MS	200

/*
 * Where the filter wrote each session's recent values: facts about the
 * log, so a copy from any moment stays true.  Write, sync, rename.
 */
static int
save_written(const struct proposer *p, const char *path)
{
	char tmp[PATH_MAX + 48];
	const struct psession *s;
	unsigned i, h;
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	for (i = 0; i < PROPOSER_SESSIONS; i++) {
		s = &p->sessions[i];
		if (s->client == 0)
			continue;
		for (h = 0; h < PROPOSER_HISTORY; h++)
			if (s->hist_seq[h] != 0)
				fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64
				    "\n", s->client, s->hist_seq[h],
				    s->hist_slot[h]);
	}
	if (fflush(f) == EOF || fsync(fd) == -1) {
		fclose(f);
		return -1;
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		return -1;
	return 0;
}

/* A missing or damaged file only costs positions of old repeats. */
static void
load_written(struct proposer *p, const char *path)
{
	uint64_t client, seq, slot;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &client, &seq,
	    &slot) == 3)
		if (client != 0 && seq != 0)
			proposer_restore_written(p, client, seq, slot);
	fclose(f);
}

static void
save_log(struct proposer *p, struct saved_state *rf, uint64_t now)
{
	if (p->lrn.next - 1 == rf->log_saved || now < rf->log_save_ms)
		return;
	if (save_written(p, rf->written_path) == -1)
		die(EX_IOERR, "save %s", rf->written_path);
	if (store_save_learner(rf->log_path, &p->lrn) == -1)
		die(EX_IOERR, "save %s", rf->log_path);
	rf->log_saved = p->lrn.next - 1;
	rf->log_save_ms = now + LOG_SAVE_MS;
}

/*
 * Send what the core asked for, after making its round durable: a
 * proposer that reused a round after a restart could get two values
 * chosen at one position.
 */
static void
send_out(struct node *nd, struct proposer *p, struct outbox *ob,
    struct saved_state *rf)
{
	if (p->ballot.round > rf->saved) {
		if (store_save_counter(rf->path, p->ballot.round) == -1)
			die(EX_IOERR, "save %s", rf->path);
		rf->saved = p->ballot.round;
	}
	node_flush(nd, ob);
}

/*
 * The core takes a random draw with every datagram but uses one only to
 * back off; a pool refilled a page at a time keeps getrandom(2) off the
 * per-datagram path.
 */
static uint32_t
draw(void)
{
	static uint32_t pool[256];
	static unsigned left;

	if (left == 0) {
		randombytes_buf(pool, sizeof(pool));
		left = sizeof(pool) / sizeof(pool[0]);
	}
	return pool[--left];
}

static void
status(struct node *nd, const struct proposer *p, const struct msg *req)
{
	static struct msg m;

	msg_init(&m, MSG_STATUS_REP);
	m.status = p->state;
	m.ballot = p->ballot;
	m.leader = p->leader;
	m.slot = p->lrn.next - 1;
	m.max_slot = p->next_slot - 1;
	m.commit = p->commit;
	m.stats[STAT_VALUES] = p->n_chosen;
	node_status_reply(nd, req, &m);
}

static void
serve(struct node *nd, struct proposer *p, struct outbox *ob,
    struct saved_state *rf)
{
	struct auth_peer from;
	static struct msg m;
	uint8_t was = p->state, *in;
	int n, r;

	while (!quit) {
		if (node_wait(nd, TICK_MS) == -1 && errno != EINTR)
			die(EX_OSERR, "poll");
		for (n = 0; n < BATCH; n++) {
			/* Values are proposed where they are opened. */
			if ((in = proposer_intake(p)) == NULL)
				in = nd->pt;
			r = node_recv_into(nd, in, &m, &from);
			if (r == 0)
				break;
			if (r == -1)
				die(EX_OSERR, "recv");
			if (r != 1)
				continue;
			if (m.type == MSG_STATUS_REQ) {
				status(nd, p, &m);
				continue;
			}
			if (m.type == MSG_SUBMIT && from.role == AUTH_CLIENT)
				node_remember_client(nd, m.client, &nd->from);
			proposer_receive(p, node_now_ms(), draw(),
			    from.role, from.id, &m, ob);
			/* Keep room for what the rest of the batch adds. */
			if (ob->n > ob->cap / 2) {
				proposer_flush(p, node_now_ms(), ob);
				send_out(nd, p, ob, rf);
			}
		}
		/* One flush per batch: batches grow with the load. */
		proposer_flush(p, node_now_ms(), ob);
		send_out(nd, p, ob, rf);
		proposer_tick(p, node_now_ms(), draw(), ob);
		send_out(nd, p, ob, rf);
		save_log(p, rf, node_now_ms());
		if (p->state != was) {
			if (p->state == PROPOSER_LEADING)
				log_info("leading ballot=%" PRIu64 ".%" PRIu32
				    " from slot=%" PRIu64, p->ballot.round,
				    p->ballot.node, p->commit);
			else if (was == PROPOSER_LEADING)
				log_info("standing by, leader=%" PRIu32,
				    p->leader);
			was = p->state;
		}
	}
}

int
main(int argc, char *argv[])
{
	static struct node nd;
	static struct proposer p;
	static struct out outs[OUTBOX];
	static struct saved_state rf;
	struct outbox ob = { 0, OUTBOX, 0, outs };
	uint32_t acc_ids[CONF_MAX_NODES], prop_ids[CONF_MAX_NODES];
	unsigned n_acc, n_prop;
	const char *conffile, *idarg = NULL;
	char err[CONF_ERRLEN], prefix[32];
	uint8_t *valbuf;
	int ch, verbose = 0, r;
	bool check_only = false;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	log_init("paxos-proposer", NULL, 0);
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
			printf("paxos-proposer %s\n", PAXOS_VERSION);
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
	log_init("paxos-proposer", NULL, verbose);
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if (check_only) {
		if ((r = node_check(&nd, conffile, idarg, AUTH_PROPOSER, err,
		    sizeof(err))) != 0)
			diex(r, "%s", err);
		if (verbose)
			conf_print(&nd.conf, stdout);
		return EX_OK;
	}
	if ((r = node_open(&nd, conffile, idarg, AUTH_PROPOSER, true, err,
	    sizeof(err))) != 0)
		diex(r, "%s", err);
	if (node_recv_batched(&nd) == -1)
		die(EX_OSERR, "malloc");
	snprintf(prefix, sizeof(prefix), "proposer %" PRIu32, nd.id);
	log_init("paxos-proposer", prefix, verbose);
	if ((valbuf = malloc(PROPOSER_VALBUF)) == NULL)
		die(EX_OSERR, "malloc");
	n_acc = ids_with_role(&nd.conf, ROLE_ACCEPTOR, acc_ids);
	n_prop = ids_with_role(&nd.conf, ROLE_PROPOSER, prop_ids);
	if (n_acc > PROPOSER_MAX_ACC)
		diex(EX_CONFIG, "%s: more than %d acceptors", conffile,
		    PROPOSER_MAX_ACC);
	if (mkdir(nd.conf.data_dir, 0700) == -1 && errno != EEXIST)
		die(EX_CANTCREAT, "mkdir %s", nd.conf.data_dir);
	snprintf(rf.path, sizeof(rf.path), "%s/proposer-%" PRIu32 ".round",
	    nd.conf.data_dir, nd.id);
	if ((r = store_load_counter(rf.path, &rf.saved)) == -2)
		diex(EX_DATAERR, "%s: not a round number", rf.path);
	if (r == -1)
		die(EX_IOERR, "read %s", rf.path);
	proposer_init(&p, nd.id, acc_ids, n_acc, prop_ids, n_prop,
	    nd.conf.timeout_ms, valbuf, rf.saved, node_now_ms());
	snprintf(rf.log_path, sizeof(rf.log_path), "%s/proposer-%" PRIu32
	    ".log", nd.conf.data_dir, nd.id);
	if ((r = store_load_learner(rf.log_path, &rf.log_saved, NULL,
	    false)) == -2)
		diex(EX_DATAERR, "%s: not a proposer state file", rf.log_path);
	if (r == -1)
		die(EX_IOERR, "read %s", rf.log_path);
	if (rf.log_saved > 0) {
		/* Positions up to the saved one are chosen: start after. */
		learner_init(&p.lrn, acc_ids, n_acc, nd.conf.timeout_ms, NULL,
		    rf.log_saved + 1, node_now_ms());
		if (store_load_learner(rf.log_path, &rf.log_saved, &p.lrn,
		    true) != 0)
			die(EX_IOERR, "read %s", rf.log_path);
		p.commit = p.next_slot = p.announced = rf.log_saved + 1;
	}
	snprintf(rf.written_path, sizeof(rf.written_path), "%s/proposer-%"
	    PRIu32 ".written", nd.conf.data_dir, nd.id);
	load_written(&p, rf.written_path);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	node_ready(&nd);
	serve(&nd, &p, &ob, &rf);
	rf.log_save_ms = 0;
	save_log(&p, &rf, node_now_ms());
	node_close(&nd);
	free(valbuf);
	return EX_OK;
}
