/*
 * paxos-forge: sends one hand-made datagram (or a few) to a daemon of a
 * cluster, for the hostile-input tests: a real message sealed with any
 * key as any sender, then optionally damaged (a bit flipped, cut short),
 * or raw bytes (random, or a datagram captured with -o earlier).  Not
 * installed; only for test/hostile.bats.
 */
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "node.h"

#define DGRAM_MAX	(MSG_MAX + AUTH_OVERHEAD)

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-forge [-hIr] [-c file] [-e epoch] [-f bit] "
	    "[-K key] [-k file] [-n counter] [-o file] [-s role:id] "
	    "[-T len] [-x count] -t role:id message [arg ...]\n"
	    "messages: prepare R.N [SLOT] | accept R.N SLOT VALUE | "
	    "commit R.N UPTO | chosen SLOT VALUE | learn SLOT |\n"
	    "          submit SESSION SEQ VALUE | status | undecodable N | "
	    "random N | raw FILE\n");
}

static uint8_t
parse_role(const char *s, size_t len)
{
	static const char *const names[] = { "acceptor", "proposer",
	    "learner", "client" };
	unsigned i;

	for (i = 0; i < 4; i++)
		if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
			return (uint8_t)(i + 1);
	diex(EX_USAGE, "%.*s: not a role (acceptor, proposer, learner, "
	    "client)", (int)len, s);
}

static uint64_t
num(const char *what, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		diex(EX_USAGE, "%s %s: not a number", what, s);
	return v;
}

/* "role:id" */
static void
parse_peer(const char *s, uint8_t *role, uint32_t *id)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL)
		diex(EX_USAGE, "%s: want role:id", s);
	*role = parse_role(s, (size_t)(colon - s));
	*id = (uint32_t)num("id", colon + 1);
}

/* "round.node" */
static struct ballot
parse_ballot(const char *s)
{
	struct ballot b;
	char buf[64], *dot;

	snprintf(buf, sizeof(buf), "%s", s);
	if ((dot = strchr(buf, '.')) == NULL)
		diex(EX_USAGE, "%s: want round.node", s);
	*dot = '\0';
	b.round = num("round", buf);
	b.node = (uint32_t)num("node", dot + 1);
	return b;
}

static void
need(int argc, int n, const char *what)
{
	if (argc != n)
		diex(EX_USAGE, "%s takes %d argument%s", what, n - 1,
		    n == 2 ? "" : "s");
}

static void
value(struct entry *e, uint64_t client, uint64_t seq, const char *v)
{
	e->kind = ENTRY_VALUE;
	e->client = client;
	e->seq = seq;
	e->acked = seq - 1;
	e->len = (uint32_t)strlen(v);
	e->val = (const uint8_t *)v;
}

/* The message argv names, encoded into pt; returns its length. */
static size_t
build(int argc, char *argv[], uint8_t *pt, size_t cap)
{
	static struct msg m;
	const char *what = argv[0];
	size_t len;

	if (strcmp(what, "prepare") == 0) {
		if (argc != 2)
			need(argc, 3, what);
		msg_init(&m, MSG_PREPARE);
		m.ballot = parse_ballot(argv[1]);
		m.slot = argc == 3 ? num("slot", argv[2]) : 1;
		m.count = 256;
	} else if (strcmp(what, "accept") == 0) {
		need(argc, 4, what);
		msg_init(&m, MSG_ACCEPT);
		m.ballot = parse_ballot(argv[1]);
		m.commit = 1;
		m.e[0].slot = num("slot", argv[2]);
		value(&m.e[0].e, 0x666, 1, argv[3]);
		m.n = 1;
	} else if (strcmp(what, "commit") == 0) {
		need(argc, 3, what);
		msg_init(&m, MSG_COMMIT);
		m.ballot = parse_ballot(argv[1]);
		m.commit = num("upto", argv[2]);
	} else if (strcmp(what, "chosen") == 0) {
		need(argc, 3, what);
		msg_init(&m, MSG_CHOSEN);
		m.e[0].slot = num("slot", argv[1]);
		m.commit = m.e[0].slot + 1;
		value(&m.e[0].e, 0x666, 1, argv[2]);
		m.n = 1;
	} else if (strcmp(what, "learn") == 0) {
		need(argc, 2, what);
		msg_init(&m, MSG_LEARN_REQ);
		m.slot = num("slot", argv[1]);
		m.count = 256;
	} else if (strcmp(what, "submit") == 0) {
		need(argc, 4, what);
		msg_init(&m, MSG_SUBMIT);
		m.client = num("session", argv[1]);
		m.seq = num("seq", argv[2]);
		value(&m.e[0].e, m.client, m.seq, argv[3]);
		m.n = 1;
	} else if (strcmp(what, "status") == 0) {
		need(argc, 1, what);
		msg_init(&m, MSG_STATUS_REQ);
		m.seq = 1;
	} else if (strcmp(what, "undecodable") == 0) {
		need(argc, 2, what);
		len = (size_t)num("length", argv[1]);
		if (len == 0 || len > cap)
			diex(EX_USAGE, "undecodable %zu: want 1 to %zu", len,
			    cap);
		randombytes_buf(pt, len);
		pt[0] = 0xff;		/* no MSG_VERSION: never decodes */
		return len;
	} else {
		usage(stderr);
		exit(EX_USAGE);
	}
	if ((len = msg_encode(&m, pt, cap)) == 0)
		diex(EX_USAGE, "%s: does not encode", what);
	return len;
}

static size_t
read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		die(EX_NOINPUT, "%s", path);
	n = fread(buf, 1, cap, f);
	if (ferror(f))
		die(EX_IOERR, "%s", path);
	fclose(f);
	return n;
}

/* -r: wait for an answer and say what it is. */
static void
await_reply(int fd, struct auth *a)
{
	static uint8_t buf[DGRAM_MAX], pt[DGRAM_MAX];
	static struct msg m;
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct auth_peer from;
	enum auth_drop why;
	size_t ptlen;
	ssize_t n;

	if (poll(&pfd, 1, 500) <= 0) {
		printf("no reply\n");
		return;
	}
	if ((n = recv(fd, buf, sizeof(buf), 0)) == -1)
		die(EX_OSERR, "recv");
	why = auth_open(a, buf, (size_t)n, pt, &ptlen, &from);
	if (why != AUTH_OK)
		printf("reply dropped: %s\n", auth_drop_name(why));
	else if (msg_decode(&m, pt, ptlen) == -1)
		printf("reply undecodable\n");
	else
		printf("%s ballot=%" PRIu64 ".%" PRIu32 "\n",
		    msg_type_name(m.type), m.ballot.round, m.ballot.node);
}

int
main(int argc, char *argv[])
{
	static struct conf c;
	static struct auth a;
	static uint8_t pt[MSG_MAX], dg[DGRAM_MAX];
	const struct conf_node *cn;
	const char *conffile = NULL, *keyfile = NULL, *outfile = NULL;
	const char *keyname = NULL;
	char err[CONF_ERRLEN];
	struct net_addr to, self;
	uint8_t key[32], trole = 0, srole = 0;
	uint32_t tid = 0, sid = 0;
	uint64_t epoch = 0, counter = 1, count = 1, i, flip = UINT64_MAX;
	uint64_t cut = UINT64_MAX;
	size_t ptlen = 0, len = 0;
	bool client_only, use_client, sealed = true, reply = false;
	bool next_id = false;
	int ch, fd, r;

	log_init("paxos-forge", NULL, 0);
	while ((ch = getopt(argc, argv, "c:e:f:hIK:k:n:o:rs:T:t:x:")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'e':
			epoch = num("-e", optarg);
			break;
		case 'f':
			flip = num("-f", optarg);
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'I':
			next_id = true;
			break;
		case 'K':
			keyname = optarg;
			if (strcmp(keyname, "client") != 0 &&
			    strcmp(keyname, "member") != 0)
				diex(EX_USAGE, "-K %s: want client or member",
				    keyname);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'n':
			counter = num("-n", optarg);
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'r':
			reply = true;
			break;
		case 's':
			parse_peer(optarg, &srole, &sid);
			break;
		case 'T':
			cut = num("-T", optarg);
			break;
		case 't':
			parse_peer(optarg, &trole, &tid);
			break;
		case 'x':
			count = num("-x", optarg);
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || trole == 0 || trole == AUTH_CLIENT ||
	    conffile == NULL) {
		usage(stderr);
		return EX_USAGE;
	}
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if (conf_load(&c, conffile, err, sizeof(err)) == -1)
		diex(EX_CONFIG, "%s", err);
	if ((cn = conf_node(&c, tid)) == NULL ||
	    (cn->roles & node_conf_role(trole)) == 0)
		diex(EX_USAGE, "-t: node %" PRIu32 " has no such role", tid);
	if (net_resolve(cn->host, conf_port(cn, node_conf_role(trole)), &to,
	    err, sizeof(err)) == -1)
		diex(EX_NOHOST, "%s", err);
	if (keyfile != NULL)
		snprintf(c.secret_file, sizeof(c.secret_file), "%s", keyfile);
	if (conf_read_secret(&c, key, &client_only, err, sizeof(err)) == -1)
		diex(EX_CONFIG, "%s", err);

	if (strcmp(argv[0], "random") == 0 || strcmp(argv[0], "raw") == 0) {
		sealed = false;
		need(argc, 2, argv[0]);
		if (strcmp(argv[0], "random") == 0) {
			len = (size_t)num("length", argv[1]);
			if (len > sizeof(dg))
				diex(EX_USAGE, "random %zu: too long", len);
			randombytes_buf(dg, len);
		} else
			len = read_file(argv[1], dg, sizeof(dg));
	} else
		ptlen = build(argc, argv, pt, sizeof(pt));
	if (srole == 0) {
		srole = strcmp(argv[0], "submit") == 0 ||
		    strcmp(argv[0], "status") == 0 || client_only ?
		    AUTH_CLIENT : AUTH_PROPOSER;
		sid = srole == AUTH_CLIENT ? randombytes_random() | 1 : 2;
	}
	use_client = keyname != NULL ? strcmp(keyname, "client") == 0 :
	    srole == AUTH_CLIENT || client_only;
	if (!use_client && client_only)
		diex(EX_CONFIG, "%s: a client key cannot seal member traffic",
		    c.secret_file);
	if (client_only)
		auth_init_client(&a, key, sid, epoch ? epoch : node_epoch());
	else
		auth_init(&a, key, srole, sid, epoch ? epoch : node_epoch());
	sodium_memzero(key, sizeof(key));
	/* The header says what -s says, whatever key seals it. */
	a.role = srole;
	a.id = sid;
	a.is_client = use_client;
	a.counter = counter - 1;
	for (r = AUTH_ACCEPTOR; r <= AUTH_LEARNER; r++)
		for (i = 0; i < c.n_nodes; i++)
			auth_add_member(&a, (uint8_t)r, c.nodes[i].id);

	self = to;
	if (self.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&self.ss)->sin6_port = 0;
	else
		((struct sockaddr_in *)&self.ss)->sin_port = 0;
	if ((fd = net_bind(&self)) == -1)
		die(EX_OSERR, "bind");
	for (i = 0; i < count; i++) {
		if (sealed && (len = auth_seal(&a, false, pt, ptlen, dg,
		    sizeof(dg))) == 0)
			diex(EX_SOFTWARE, "does not fit a datagram");
		if (flip != UINT64_MAX) {
			if (flip / 8 >= len)
				diex(EX_USAGE, "-f %" PRIu64 ": the datagram "
				    "has %zu bits", flip, len * 8);
			dg[flip / 8] ^= (uint8_t)(1u << (flip % 8));
		}
		if (cut < len)
			len = (size_t)cut;
		if (outfile != NULL) {
			FILE *f = fopen(outfile, "wb");
			if (f == NULL || fwrite(dg, 1, len, f) != len ||
			    fclose(f) != 0)
				die(EX_CANTCREAT, "%s", outfile);
		}
		if (sendto(fd, dg, len, 0, (struct sockaddr *)&to.ss,
		    to.len) == -1)
			die(EX_OSERR, "sendto");
		if (reply)
			await_reply(fd, &a);
		if (next_id) {		/* -I: each datagram from a new sender */
			a.id++;
			a.counter = counter - 1;
		}
	}
	close(fd);
	auth_free(&a);
	return EX_OK;
}
