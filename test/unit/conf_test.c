/* Unit tests for lib/conf: paxos.conf(5) parsing, checks and printing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

#define FNAME	"t.conf"
#define CDIR	"/etc/paxos"

/* The example of SPEC section 2, with only the required keys. */
static const char three[] =
	"[cluster]\n"
	"secret_file = paxos.key\n"
	"\n"
	"[node 1]\n"
	"host = 127.0.0.1\n"
	"port = 33333\n"
	"\n"
	"[node 2]\n"
	"host = 127.0.0.1\n"
	"port = 33343\n"
	"\n"
	"[node 3]\n"
	"host = 127.0.0.1\n"
	"port = 33353\n";

/* Every key set, nodes out of order, roles and ports explicit. */
static const char full[] =
	"[cluster]\n"				/* 1 */
	"secret_file = /srv/paxos/secret\n"
	"timeout = 250\n"
	"learning_interval = 500\n"
	"data_dir = /var/lib/paxos\n"		/* 5 */
	"persist = no\n"
	"myid = 2\n"
	"\n"
	"[node 3]\n"				/* 9 */
	"host = c.example\n"			/* 10 */
	"acceptor_port = 4001\n"
	"roles = acceptor\n"
	"\n"
	"[node 1]\n"				/* 14 */
	"host = a.example\n"			/* 15 */
	"port = 5000\n"
	"learner_port = 6000\n"
	"\n"
	"[node 2]\n"				/* 19 */
	"host = b.example\n"			/* 20 */
	"proposer_port = 7002\n"
	"learner_port = 7003\n"
	"roles = proposer, learner\n";

static const char full_printed[] =
	"[cluster]\n"
	"secret_file = /srv/paxos/secret\n"
	"timeout = 250\n"
	"learning_interval = 500\n"
	"data_dir = /var/lib/paxos\n"
	"persist = no\n"
	"myid = 2\n"
	"\n"
	"[node 1]\n"
	"host = a.example\n"
	"acceptor_port = 5001\n"
	"proposer_port = 5002\n"
	"learner_port = 6000\n"
	"roles = acceptor proposer learner\n"
	"\n"
	"[node 2]\n"
	"host = b.example\n"
	"proposer_port = 7002\n"
	"learner_port = 7003\n"
	"roles = proposer learner\n"
	"\n"
	"[node 3]\n"
	"host = c.example\n"
	"acceptor_port = 4001\n"
	"roles = acceptor\n";

static const char three_printed[] =
	"[cluster]\n"
	"secret_file = /etc/paxos/paxos.key\n"
	"timeout = 1000\n"
	"learning_interval = 1000\n"
	"data_dir = /etc/paxos/data\n"
	"persist = yes\n"
	"\n"
	"[node 1]\n"
	"host = 127.0.0.1\n"
	"acceptor_port = 33334\n"
	"proposer_port = 33335\n"
	"learner_port = 33336\n"
	"roles = acceptor proposer learner\n"
	"\n"
	"[node 2]\n"
	"host = 127.0.0.1\n"
	"acceptor_port = 33344\n"
	"proposer_port = 33345\n"
	"learner_port = 33346\n"
	"roles = acceptor proposer learner\n"
	"\n"
	"[node 3]\n"
	"host = 127.0.0.1\n"
	"acceptor_port = 33354\n"
	"proposer_port = 33355\n"
	"learner_port = 33356\n"
	"roles = acceptor proposer learner\n";

/* A valid tail, so that a test can break just the part it is about. */
#define NODE1	"[node 1]\nhost = 127.0.0.1\nport = 33333\n"
#define CLUSTER	"[cluster]\nsecret_file = k\n"

static struct conf c;
static char err[CONF_ERRLEN];

/* The error for text, or "loaded" when it parses. */
static const char *
conf_err(const char *text)
{
	if (conf_load_string(&c, text, FNAME, CDIR, err, sizeof(err)) == 0)
		return "loaded";
	return err;
}

/*
 * A config whose line 2 is exactly len bytes long: an absolute path, so
 * that -nv prints it as it is.
 */
static const char *
long_line(size_t len)
{
	static char buf[1024];
	const char *key = "secret_file = /";
	size_t klen = strlen(key), n;

	n = (size_t)snprintf(buf, sizeof(buf), "[cluster]\n%s", key);
	memset(buf + n, 'k', len - klen);
	n += len - klen;
	snprintf(buf + n, sizeof(buf) - n, "\n" NODE1);
	return buf;
}

/* conf_print into a string. */
static const char *
printed(const struct conf *cf)
{
	static char buf[4096];
	FILE *f;
	size_t n;

	if ((f = tmpfile()) == NULL)
		return "(tmpfile failed)";
	conf_print(cf, f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_three(void)
{
	const struct conf_node *n;
	unsigned i;

	CHECK(conf_load_string(&c, three, FNAME, CDIR, err, sizeof(err)) == 0);
	CHECK_STR(c.path, FNAME);
	CHECK_STR(c.secret_file, CDIR "/paxos.key");
	CHECK_STR(c.data_dir, CDIR "/data");
	CHECK(c.timeout_ms == 1000);
	CHECK(c.learning_interval_ms == 1000);
	CHECK(c.persist);
	CHECK(c.busy_poll_us == 0);
	CHECK(c.myid == 0);
	CHECK(c.n_nodes == 3);
	for (i = 0; i < 3; i++) {
		n = &c.nodes[i];
		CHECK(n->id == i + 1);
		CHECK_STR(n->host, "127.0.0.1");
		CHECK(n->port == 33333 + 10 * i);
		CHECK(n->acceptor_port == n->port + 1);
		CHECK(n->proposer_port == n->port + 2);
		CHECK(n->learner_port == n->port + 3);
		CHECK(n->roles == ROLE_ALL);
	}
	CHECK(c.nodes[0].line == 4 && c.nodes[1].line == 8 &&
	    c.nodes[2].line == 12);
	CHECK(conf_node(&c, 2) == &c.nodes[1]);
	CHECK(conf_node(&c, 4) == NULL);
	CHECK(conf_count(&c, ROLE_ACCEPTOR) == 3);
	CHECK(conf_count(&c, ROLE_PROPOSER) == 3);
	CHECK(conf_count(&c, ROLE_LEARNER) == 3);
	CHECK(conf_index(&c, ROLE_ACCEPTOR, 1) == 0);
	CHECK(conf_index(&c, ROLE_PROPOSER, 3) == 2);
	CHECK(conf_index(&c, ROLE_LEARNER, 4) == -1);
	CHECK(conf_port(&c.nodes[2], ROLE_ACCEPTOR) == 33354);
	CHECK(conf_port(&c.nodes[2], ROLE_PROPOSER) == 33355);
	CHECK(conf_port(&c.nodes[2], ROLE_LEARNER) == 33356);
	CHECK_STR(printed(&c), three_printed);

	/* The SPEC 2 example with its comments, and values like "yes". */
	CHECK_STR(conf_err("[cluster]\n"
	    "secret_file = paxos.key     ; required\n"
	    "timeout = 1000              ; ms\n"
	    "persist = on\n"
	    "; myid = 1\n" NODE1), "loaded");
	CHECK_STR(c.secret_file, CDIR "/paxos.key");
	CHECK(c.persist && c.myid == 0);
	CHECK_STR(conf_err(CLUSTER "data_dir = state/acc\n" NODE1), "loaded");
	CHECK_STR(c.data_dir, CDIR "/state/acc");
}

static void
test_full(void)
{
	const struct conf_node *n;

	CHECK(conf_load_string(&c, full, FNAME, CDIR, err, sizeof(err)) == 0);
	CHECK_STR(c.secret_file, "/srv/paxos/secret");
	CHECK_STR(c.data_dir, "/var/lib/paxos");
	CHECK(c.timeout_ms == 250);
	CHECK(c.learning_interval_ms == 500);
	CHECK(!c.persist);
	CHECK(c.myid == 2);
	CHECK(c.n_nodes == 3);
	/* Sorted by id whatever the file order. */
	CHECK(c.nodes[0].id == 1 && c.nodes[1].id == 2 && c.nodes[2].id == 3);

	n = conf_node(&c, 1);
	CHECK(n != NULL && n->line == 14);
	CHECK(n != NULL && n->roles == ROLE_ALL);
	CHECK(n != NULL && n->port == 5000 && n->acceptor_port == 5001 &&
	    n->proposer_port == 5002 && n->learner_port == 6000);
	n = conf_node(&c, 2);
	CHECK(n != NULL && n->line == 19);
	CHECK(n != NULL && n->roles == (ROLE_PROPOSER | ROLE_LEARNER));
	CHECK(n != NULL && n->port == 0 && n->acceptor_port == 0 &&
	    n->proposer_port == 7002 && n->learner_port == 7003);
	n = conf_node(&c, 3);
	CHECK(n != NULL && n->line == 9);
	CHECK(n != NULL && n->roles == ROLE_ACCEPTOR);
	CHECK(n != NULL && n->acceptor_port == 4001 &&
	    n->proposer_port == 0 && n->learner_port == 0);
	CHECK_STR(n != NULL ? n->host : NULL, "c.example");

	CHECK(conf_count(&c, ROLE_ACCEPTOR) == 2);
	CHECK(conf_count(&c, ROLE_PROPOSER) == 2);
	CHECK(conf_count(&c, ROLE_LEARNER) == 2);
	CHECK(conf_count(&c, ROLE_ALL) == 3);
	CHECK(conf_index(&c, ROLE_ACCEPTOR, 1) == 0);
	CHECK(conf_index(&c, ROLE_ACCEPTOR, 3) == 1);
	CHECK(conf_index(&c, ROLE_ACCEPTOR, 2) == -1);
	CHECK(conf_index(&c, ROLE_PROPOSER, 2) == 1);
	CHECK(conf_index(&c, ROLE_PROPOSER, 3) == -1);
	CHECK(conf_index(&c, ROLE_LEARNER, 2) == 1);
	CHECK(conf_port(conf_node(&c, 1), ROLE_LEARNER) == 6000);
	CHECK(conf_port(conf_node(&c, 2), ROLE_PROPOSER) == 7002);
	CHECK(conf_port(conf_node(&c, 3), ROLE_ACCEPTOR) == 4001);
	CHECK_STR(printed(&c), full_printed);
}

static void
test_pick_id(void)
{
	uint32_t id;

	CHECK(conf_load_string(&c, three, FNAME, CDIR, err, sizeof(err)) == 0);
	id = 0;
	CHECK(conf_pick_id(&c, "2", ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == 0);
	CHECK(id == 2);
	id = 77;
	CHECK(conf_pick_id(&c, "9", ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, FNAME ": node 9 is not in the configuration");
	CHECK(id == 77);
	CHECK(conf_pick_id(&c, "x", ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "-i x: not a node id");
	CHECK(conf_pick_id(&c, "0", ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "-i 0: not a node id");
	/* No -i and no myid. */
	CHECK(conf_pick_id(&c, NULL, ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, FNAME ": no node id: give -i or set myid");

	CHECK(conf_load_string(&c, full, FNAME, CDIR, err, sizeof(err)) == 0);
	id = 0;
	CHECK(conf_pick_id(&c, NULL, ROLE_PROPOSER, &id, err,
	    sizeof(err)) == 0);
	CHECK(id == 2);
	/* myid 2 runs no acceptor: the error names its [node 2] line. */
	CHECK(conf_pick_id(&c, NULL, ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, FNAME ":19: node 2 has no acceptor role");
	CHECK(conf_pick_id(&c, "3", ROLE_LEARNER, &id, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, FNAME ":9: node 3 has no learner role");
	/* -i wins over myid. */
	CHECK(conf_pick_id(&c, "3", ROLE_ACCEPTOR, &id, err,
	    sizeof(err)) == 0);
	CHECK(id == 3);
}

static void
test_errors(void)
{
	CHECK_STR(conf_err("[cluster]\nsecret_file = k\ncolour = red\n" NODE1),
	    FNAME ":3: unknown key [cluster] colour");
	CHECK_STR(conf_err(CLUSTER NODE1 "colour = red\n"),
	    FNAME ":6: unknown key [node 1] colour");
	/* A section is checked at its own line, keys or not. */
	CHECK_STR(conf_err(CLUSTER NODE1 "[peer 1]\nhost = x\n"),
	    FNAME ":6: unknown section [peer 1]");
	CHECK_STR(conf_err(CLUSTER "[peer 1]\nhost = x\n" NODE1),
	    FNAME ":3: unknown section [peer 1]");
	CHECK_STR(conf_err(CLUSTER "[peer 1]\n" NODE1),
	    FNAME ":3: unknown section [peer 1]");
	CHECK_STR(conf_err(CLUSTER "[node 0]\nhost = x\nport = 1\n"),
	    FNAME ":3: unknown section [node 0]");
	CHECK_STR(conf_err(CLUSTER "[node -1]\nhost = x\n"),
	    FNAME ":3: unknown section [node -1]");
	CHECK_STR(conf_err(CLUSTER NODE1 "[cluster]\n"),
	    FNAME ":6: duplicate section [cluster]");
	CHECK_STR(conf_err("secret_file = k\n" NODE1),
	    FNAME ":1: secret_file: key before any section");

	CHECK_STR(conf_err("[cluster]\nsecret_file = a\nsecret_file = b\n"
	    NODE1), FNAME ":3: secret_file: duplicate key");
	CHECK_STR(conf_err(CLUSTER "timeout = 5\ntimeout = 6\n" NODE1),
	    FNAME ":4: timeout: duplicate key");
	CHECK_STR(conf_err(CLUSTER NODE1 "port = 33340\n"),
	    FNAME ":6: port: duplicate key");
	/* inih: an indented line continues the previous value. */
	CHECK_STR(conf_err(CLUSTER "  timeout = 5\n" NODE1),
	    FNAME ":3: secret_file: duplicate key");

	CHECK_STR(conf_err(CLUSTER "timeout = 0\n" NODE1),
	    FNAME ":3: timeout: '0' is not a number of milliseconds from 1 "
	    "to 3600000");
	CHECK_STR(conf_err(CLUSTER "timeout = abc\n" NODE1),
	    FNAME ":3: timeout: 'abc' is not a number of milliseconds from 1 "
	    "to 3600000");
	CHECK_STR(conf_err(CLUSTER "timeout = 3600001\n" NODE1),
	    FNAME ":3: timeout: '3600001' is not a number of milliseconds "
	    "from 1 to 3600000");
	CHECK_STR(conf_err(CLUSTER "timeout = -5\n" NODE1),
	    FNAME ":3: timeout: '-5' is not a number of milliseconds from 1 "
	    "to 3600000");
	CHECK_STR(conf_err(CLUSTER "timeout = 3600000\n" NODE1), "loaded");
	CHECK(c.timeout_ms == 3600000);
	CHECK_STR(conf_err(CLUSTER "learning_interval = 1x\n" NODE1),
	    FNAME ":3: learning_interval: '1x' is not a number of "
	    "milliseconds from 1 to 3600000");

	CHECK_STR(conf_err(CLUSTER "persist = maybe\n" NODE1),
	    FNAME ":3: persist: 'maybe' is not yes or no");
	CHECK_STR(conf_err(CLUSTER "persist = off\n" NODE1), "loaded");
	CHECK(!c.persist);
	CHECK_STR(conf_err(CLUSTER "myid = none\n" NODE1),
	    FNAME ":3: myid: 'none' is not a node id");

	CHECK_STR(conf_err(CLUSTER "busy_poll = 100\n" NODE1), "loaded");
	CHECK(c.busy_poll_us == 100);
	CHECK(strstr(printed(&c), "persist = yes\nbusy_poll = 100\n") != NULL);
	CHECK_STR(conf_err(CLUSTER "busy_poll = 0\n" NODE1), "loaded");
	CHECK(c.busy_poll_us == 0 && strstr(printed(&c), "busy_poll") == NULL);
	CHECK_STR(conf_err(CLUSTER "busy_poll = 10000\n" NODE1), "loaded");
	CHECK(c.busy_poll_us == 10000);
	CHECK_STR(conf_err(CLUSTER "busy_poll = 10001\n" NODE1),
	    FNAME ":3: busy_poll: '10001' is not a number of microseconds "
	    "from 0 to 10000");
	CHECK_STR(conf_err(CLUSTER "busy_poll = -1\n" NODE1),
	    FNAME ":3: busy_poll: '-1' is not a number of microseconds "
	    "from 0 to 10000");
	CHECK_STR(conf_err(CLUSTER "busy_poll = 1\nbusy_poll = 2\n" NODE1),
	    FNAME ":4: busy_poll: duplicate key");

	CHECK_STR(conf_err(CLUSTER "[node 1]\nhost = h\nport = 0\n"),
	    FNAME ":5: port: '0' is not a port from 1 to 65532");
	CHECK_STR(conf_err(CLUSTER "[node 1]\nhost = h\nport = 65533\n"),
	    FNAME ":5: port: '65533' is not a port from 1 to 65532");
	CHECK_STR(conf_err(CLUSTER "[node 1]\nhost = h\nport = 12ab\n"),
	    FNAME ":5: port: '12ab' is not a port from 1 to 65532");
	CHECK_STR(conf_err(CLUSTER "[node 1]\nhost = h\nport = 65532\n"),
	    "loaded");
	CHECK(c.nodes[0].learner_port == 65535);
	CHECK_STR(conf_err(CLUSTER "[node 1]\nhost = h\nport = 1\n"
	    "acceptor_port = 65536\n"),
	    FNAME ":6: acceptor_port: '65536' is not a port from 1 to 65535");
	CHECK_STR(conf_err(CLUSTER NODE1 "roles = acceptor, chef\n"),
	    FNAME ":6: roles: unknown role 'chef'");

	CHECK_STR(conf_err(long_line(197)), "loaded");
	CHECK(strlen(c.secret_file) == 197 - strlen("secret_file = "));
	/* A relative path must fit a line once -nv makes it absolute. */
	CHECK(strstr(conf_err("[cluster]\nsecret_file = kkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkk\n" NODE1), "path too long") != NULL);
	CHECK(strstr(conf_err(CLUSTER "[node 1]\nhost = ;\nport = 1\n"),
	    "is not a host name") != NULL);
	/* paxos.conf(5): lines are limited to 197 bytes. */
	CHECK_STR(conf_err(long_line(198)),
	    FNAME ":2: line too long (over 197 bytes)");
	CHECK_STR(conf_err(long_line(199)),
	    FNAME ":2: line too long (over 197 bytes)");
	CHECK_STR(conf_err(long_line(300)),
	    FNAME ":2: line too long (over 197 bytes)");

	CHECK_STR(conf_err("[cluster]\ntimeout = 5\n" NODE1),
	    FNAME ": [cluster] secret_file is required");
	CHECK_STR(conf_err(CLUSTER), FNAME ": no [node N] section");
	CHECK_STR(conf_err(CLUSTER "\n[node 1]\nport = 1\n"),
	    FNAME ":4: [node 1]: host is required");
	CHECK_STR(conf_err(CLUSTER NODE1 "[node 2]\nhost = h\n"),
	    FNAME ":6: [node 2]: port is required");
	CHECK_STR(conf_err(CLUSTER NODE1 "[node 2]\nhost = 127.0.0.1\n"
	    "port = 33333\n"), FNAME ":6: [node 2]: same address as node 1");
	/* Same host, one port shared by two different roles: fine. */
	CHECK_STR(conf_err(CLUSTER NODE1 "[node 2]\nhost = 127.0.0.1\n"
	    "roles = learner\nlearner_port = 33334\n"), "loaded");
	CHECK_STR(conf_err(CLUSTER "[node 2]\nhost = h\nport = 1\n"
	    "[node 1]\nhost = h\nport = 5\n[node 2]\nport = 9\n"),
	    FNAME ":9: duplicate section [node 2]");
	CHECK(strstr(conf_err(CLUSTER NODE1 "roles = learner\n"),
	    ": no node has the acceptor role") != NULL);
	CHECK_STR(conf_err(CLUSTER "myid = 9\n" NODE1
	    "[node 2]\nhost = h\nport = 1\n"),
	    FNAME ":3: myid 9 is not a [node N] section");
	CHECK(strstr(conf_err(CLUSTER "myid = 9\n" NODE1),
	    ": myid 9 is not a [node N] section") != NULL);
	CHECK_STR(conf_err("junk\n" CLUSTER NODE1), FNAME ":1: syntax error");
	/* A key before any section is an error on its line. */
	CHECK(strncmp(conf_err("timeout = 5\n" CLUSTER NODE1), FNAME ":1: ",
	    strlen(FNAME ":1: ")) == 0);
	CHECK_STR(conf_err("[cluster]\nsecret_file =\n" NODE1),
	    FNAME ":2: secret_file: empty path");
	CHECK(strstr(conf_err(CLUSTER NODE1 "roles = acceptor learner\n"),
	    ": no node has the proposer role") != NULL);
}

int
main(void)
{
	test_three();
	test_full();
	test_pick_id();
	test_errors();
	return done_testing();
}
