/*
 * paxos-status: asks every node of the configuration how it is doing,
 * over the same authenticated protocol, and prints a table (or JSON).
 * Exits 69 when no majority of the acceptors answers.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "node.h"
#include "proposer.h"

#define ASKS		3	/* requests per daemon, a timeout/3 apart */

struct row {
	uint32_t	 id;
	uint8_t		 role;		/* AUTH_* */
	char		 addr[64];
	bool		 answered;
	struct msg	 rep;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-status [-hVv] [-c file] [--json]\n");
}

static const char *
role_name(uint8_t role)
{
	return role == AUTH_ACCEPTOR ? "acceptor" :
	    role == AUTH_PROPOSER ? "proposer" : "learner";
}

static const char *
state_name(const struct row *r)
{
	if (!r->answered)
		return "-";
	if (r->role != AUTH_PROPOSER)
		return "up";
	switch (r->rep.status) {
	case PROPOSER_LEADING:
		return "leader";
	case PROPOSER_PREPARING:
		return "electing";
	default:
		return "standby";
	}
}

static void
ask(struct node *nd, struct row *rows, unsigned n, uint64_t nonce)
{
	struct out o;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (rows[i].answered)
			continue;
		o.role = rows[i].role;
		o.id = rows[i].id;
		o.client = 0;
		msg_init(&o.m, MSG_STATUS_REQ);
		o.m.seq = nonce;
		node_send(nd, &o);
	}
}

static void
collect(struct node *nd, struct row *rows, unsigned n, uint64_t nonce,
    unsigned wait_ms)
{
	static struct msg m;
	struct pollfd pfd = { nd->fd, POLLIN, 0 };
	struct auth_peer from;
	uint64_t end = node_now_ms() + wait_ms, now;
	unsigned i;
	int r;

	while ((now = node_now_ms()) < end) {
		if (poll(&pfd, 1, (int)(end - now)) == -1 && errno != EINTR)
			die(EX_OSERR, "poll");
		while ((r = node_recv(nd, &m, &from)) != 0) {
			if (r == -1)
				die(EX_OSERR, "recv");
			if (r != 1 || m.type != MSG_STATUS_REP || m.seq != nonce)
				continue;
			for (i = 0; i < n; i++)
				if (rows[i].role == from.role &&
				    rows[i].id == from.id) {
					rows[i].answered = true;
					rows[i].rep = m;
				}
		}
	}
}

static void
print_table(const struct row *rows, unsigned n)
{
	const struct msg *m;
	unsigned i;
	char ballot[48];

	printf("%-4s %-8s %-22s %-8s %-12s %8s %8s %8s %7s %7s %7s %7s\n",
	    "NODE", "ROLE", "ADDRESS", "STATE", "BALLOT", "ACCEPTED",
	    "COMMIT", "WRITTEN", "FORGED", "MALFORM", "REPLAY", "UNKNOWN");
	for (i = 0; i < n; i++) {
		m = &rows[i].rep;
		if (!rows[i].answered) {
			printf("%-4" PRIu32 " %-8s %-22s %-8s\n", rows[i].id,
			    role_name(rows[i].role), rows[i].addr,
			    "no answer");
			continue;
		}
		if (rows[i].role == AUTH_LEARNER)
			snprintf(ballot, sizeof(ballot), "-");
		else
			snprintf(ballot, sizeof(ballot), "%" PRIu64 ".%" PRIu32,
			    m->ballot.round, m->ballot.node);
		printf("%-4" PRIu32 " %-8s %-22s %-8s %-12s %8" PRIu64 " %8"
		    PRIu64, rows[i].id, role_name(rows[i].role), rows[i].addr,
		    state_name(&rows[i]), ballot, m->max_slot, m->commit);
		if (rows[i].role == AUTH_ACCEPTOR)
			printf(" %8s", "-");
		else
			printf(" %8" PRIu64, m->slot);
		printf(" %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
		    m->stats[STAT_FORGED], m->stats[STAT_MALFORMED],
		    m->stats[STAT_REPLAY], m->stats[STAT_UNKNOWN]);
	}
}

static void
print_json(const struct row *rows, unsigned n)
{
	const struct msg *m;
	unsigned i;

	printf("[");
	for (i = 0; i < n; i++) {
		m = &rows[i].rep;
		printf("%s\n  {\"node\": %" PRIu32 ", \"role\": \"%s\", "
		    "\"address\": \"%s\", \"answering\": %s", i ? "," : "",
		    rows[i].id, role_name(rows[i].role), rows[i].addr,
		    rows[i].answered ? "true" : "false");
		if (rows[i].answered) {
			printf(", \"state\": \"%s\"", state_name(&rows[i]));
			if (rows[i].role != AUTH_LEARNER)
				printf(", \"ballot\": \"%" PRIu64 ".%" PRIu32
				    "\"", m->ballot.round, m->ballot.node);
			if (rows[i].role == AUTH_PROPOSER)
				printf(", \"leader\": %" PRIu32, m->leader);
			printf(", \"accepted\": %" PRIu64 ", \"commit\": %"
			    PRIu64, m->max_slot, m->commit);
			if (rows[i].role != AUTH_ACCEPTOR)
				printf(", \"written\": %" PRIu64, m->slot);
			printf(", \"values\": %" PRIu64 ", \"uptime\": %" PRIu64
			    ", \"dropped\": {\"forged\": %" PRIu64
			    ", \"malformed\": %" PRIu64 ", \"replay\": %" PRIu64
			    ", \"unknown\": %" PRIu64 "}",
			    m->stats[STAT_VALUES], m->stats[STAT_UPTIME],
			    m->stats[STAT_FORGED], m->stats[STAT_MALFORMED],
			    m->stats[STAT_REPLAY], m->stats[STAT_UNKNOWN]);
		}
		printf("}");
	}
	printf("\n]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static struct node nd;
	static struct row rows[CONF_MAX_NODES * 3];
	const struct conf_node *cn;
	const char *conffile;
	char err[CONF_ERRLEN];
	unsigned i, r, n = 0, n_acc = 0, up_acc = 0, k;
	uint64_t nonce;
	int ch, verbose = 0, rc;
	bool json = false;

	if ((conffile = getenv("PAXOS_CONF")) == NULL)
		conffile = CONF_DEFAULT_PATH;
	log_init("paxos-status", NULL, 0);
	while ((ch = getopt_long(argc, argv, "c:hVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'j':
			json = true;
			break;
		case 'V':
			printf("paxos-status %s\n", PAXOS_VERSION);
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
	log_init("paxos-status", NULL, verbose);
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if ((rc = node_open(&nd, conffile, NULL, AUTH_CLIENT, false, err,
	    sizeof(err))) != 0)
		diex(rc, "%s", err);
	for (i = 0; i < nd.conf.n_nodes; i++) {
		cn = &nd.conf.nodes[i];
		for (r = AUTH_ACCEPTOR; r <= AUTH_LEARNER; r++) {
			if ((cn->roles & node_conf_role((uint8_t)r)) == 0)
				continue;
			rows[n].id = cn->id;
			rows[n].role = (uint8_t)r;
			net_ntop(&nd.addr[i][r - 1], rows[n].addr,
			    sizeof(rows[n].addr));
			n++;
		}
	}
	randombytes_buf(&nonce, sizeof(nonce));
	for (k = 0; k < ASKS; k++) {
		ask(&nd, rows, n, nonce);
		collect(&nd, rows, n, nonce, nd.conf.timeout_ms / ASKS + 1);
	}
	for (i = 0; i < n; i++) {
		if (rows[i].role != AUTH_ACCEPTOR)
			continue;
		n_acc++;
		up_acc += rows[i].answered;
	}
	if (json)
		print_json(rows, n);
	else
		print_table(rows, n);
	if (fflush(stdout) == EOF)
		die(EX_IOERR, "stdout");
	node_close(&nd);
	if (up_acc < n_acc / 2 + 1) {
		log_warnx("%u of %u acceptors answer: no majority", up_acc,
		    n_acc);
		return EX_UNAVAILABLE;
	}
	return EX_OK;
}
