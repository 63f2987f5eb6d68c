/*
 * Writes the seed corpus of datagram_fuzz: real encoded messages, alone
 * and in the sequences a cluster goes through (an election, a submitted
 * value accepted and chosen, a learner catching up), in the record
 * format datagram_fuzz.c describes.  `make fuzz-seeds` runs it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "msg.h"

/* Must match datagram_fuzz.c. */
#define SESSION		0x5e5510a
static const uint8_t secret[32] = "fuzzing secret, not a real one!";

#define ACC	0
#define PROP	1
#define LRN	2
#define CLI	3
#define OTHER_KEY 0x10
#define REPLAY	0x20
#define FLIP	0x40
#define CUT	0x80

static const char *dir;
static uint8_t file[1 << 20];
static size_t flen;
static uint8_t enc[MSG_MAX];

static void
begin(void)
{
	file[0] = 1;		/* script mode */
	flen = 1;
}

static void
put_raw(uint8_t flags, uint8_t id, uint8_t dt, uint8_t x, const uint8_t *p,
    size_t len)
{
	if (flen + 6 + len > sizeof(file))
		abort();
	file[flen++] = flags;
	file[flen++] = id;
	file[flen++] = dt;
	file[flen++] = x;
	file[flen++] = (uint8_t)(len & 0xff);
	file[flen++] = (uint8_t)(len >> 8);
	memcpy(file + flen, p, len);
	flen += len;
}

/* A record: m from role:id to role, the clock moved dt * 4 ms first. */
static void
rec(int from, uint8_t id, int to, uint8_t dt, const struct msg *m,
    uint8_t extra, uint8_t x)
{
	size_t len = msg_encode(m, enc, sizeof(enc));

	if (len == 0) {
		fprintf(stderr, "mkseeds: %s does not encode\n",
		    msg_type_name(m->type));
		exit(1);
	}
	put_raw((uint8_t)(from | to << 2 | extra), id, dt, x, enc, len);
}

static void
end(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(file, 1, flen, f) != flen || fclose(f) != 0) {
		fprintf(stderr, "mkseeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static struct ballot
B(uint64_t round, uint32_t node)
{
	return (struct ballot){ round, node };
}

static void
value(struct slot_entry *se, uint64_t slot, uint64_t client, uint64_t seq,
    const char *v)
{
	memset(se, 0, sizeof(*se));
	se->slot = slot;
	se->e.kind = ENTRY_VALUE;
	se->e.client = client;
	se->e.seq = seq;
	se->e.acked = seq - 1;
	se->e.len = (uint32_t)strlen(v);
	se->e.val = (const uint8_t *)v;
}

static void
noop(struct slot_entry *se, uint64_t slot)
{
	memset(se, 0, sizeof(*se));
	se->slot = slot;
	se->e.kind = ENTRY_NOOP;
}

static struct msg m;

static struct msg *
prepare(struct ballot b, uint64_t slot)
{
	msg_init(&m, MSG_PREPARE);
	m.ballot = b;
	m.slot = slot;
	m.count = 256;
	return &m;
}

static struct msg *
promise(struct ballot b, uint64_t max, uint64_t commit)
{
	msg_init(&m, MSG_PROMISE);
	m.ballot = b;
	m.slot = 1;
	m.next = SLOT_NONE;
	m.max_slot = max;
	m.commit = commit;
	return &m;
}

static struct msg *
accept(struct ballot b, uint64_t commit)
{
	msg_init(&m, MSG_ACCEPT);
	m.ballot = b;
	m.commit = commit;
	value(&m.e[0], 1, 7, 1, "put name Mike");
	value(&m.e[1], 2, 7, 2, "put age 22");
	noop(&m.e[2], 3);
	m.n = 3;
	return &m;
}

static struct msg *
accepted(struct ballot b, uint64_t first, unsigned n)
{
	unsigned i;

	msg_init(&m, MSG_ACCEPTED);
	m.ballot = b;
	for (i = 0; i < n; i++)
		m.e[i].slot = first + i;
	m.n = n;
	return &m;
}

static struct msg *
commit(struct ballot b, uint64_t upto)
{
	msg_init(&m, MSG_COMMIT);
	m.ballot = b;
	m.commit = upto;
	return &m;
}

static struct msg *
chosen(uint64_t upto)
{
	msg_init(&m, MSG_CHOSEN);
	m.commit = upto;
	value(&m.e[0], 1, 7, 1, "put name Mike");
	value(&m.e[1], 2, 7, 2, "put age 22");
	value(&m.e[2], 3, 7, 3, "get name");
	m.n = 3;
	return &m;
}

static struct msg *
learn_req(uint64_t slot)
{
	msg_init(&m, MSG_LEARN_REQ);
	m.slot = slot;
	m.seq = 1;
	m.count = 256;
	return &m;
}

static struct msg *
learn_rep(struct ballot b, bool ch)
{
	unsigned i;

	msg_init(&m, MSG_LEARN_REP);
	m.slot = 1;
	m.next = SLOT_NONE;
	m.max_slot = 3;
	m.commit = ch ? 4 : 1;
	m.seq = 1;
	value(&m.e[0], 1, 9, 1, "{\"type\":\"put\",\"key\":\"name\","
	    "\"value\":\"Mike\"}");
	value(&m.e[1], 2, 9, 2, "delete name");
	noop(&m.e[2], 3);
	for (i = 0; i < 3; i++) {
		m.e[i].ballot = b;
		m.e[i].chosen = ch;
	}
	m.n = 3;
	return &m;
}

/* A promise reporting the entries a LEARN_REP would, at ballot 0.3. */
static struct msg *
promise_with(struct ballot b)
{
	static struct msg lr;
	unsigned i;

	lr = *learn_rep(B(0, 3), false);
	promise(b, 3, 1);
	for (i = 0; i < lr.n; i++)
		m.e[i] = lr.e[i];
	m.n = lr.n;
	return &m;
}

static struct msg *
submit(uint64_t client, uint64_t seq, const char *v)
{
	msg_init(&m, MSG_SUBMIT);
	m.client = client;
	m.seq = seq;
	value(&m.e[0], 0, client, seq, v);
	m.e[0].e.acked = seq - 1;
	m.n = 1;
	return &m;
}

/* Several values of one session in one datagram. */
static struct msg *
submit3(uint64_t client, uint64_t seq)
{
	msg_init(&m, MSG_SUBMIT);
	m.client = client;
	m.seq = seq;
	value(&m.e[0], 0, client, seq, "put name Mike");
	value(&m.e[1], 0, client, seq + 1, "put age 22");
	value(&m.e[2], 0, client, seq + 2, "get name");
	m.n = 3;
	return &m;
}

static struct msg *
reply(uint8_t status, uint64_t seq, uint64_t slot, uint32_t leader)
{
	msg_init(&m, MSG_REPLY);
	m.client = SESSION;
	m.seq = seq;
	m.status = status;
	m.slot = slot;
	m.leader = leader;
	/* Acks as entries too: seq and position. */
	m.e[0].e.seq = seq;
	m.e[0].slot = slot;
	m.n = status == REPLY_OK ? 1 : 0;
	return &m;
}

static struct msg *
nack(struct ballot b)
{
	msg_init(&m, MSG_NACK);
	m.ballot = b;
	return &m;
}

static struct msg *
status_req(void)
{
	msg_init(&m, MSG_STATUS_REQ);
	m.seq = 42;
	return &m;
}

static struct msg *
status_rep(void)
{
	msg_init(&m, MSG_STATUS_REP);
	m.seq = 42;
	m.ballot = B(1, 1);
	m.commit = 3;
	m.stats[STAT_FORGED] = 1;
	return &m;
}

/* The proposer: elected, then a client's values accepted and chosen. */
static void
leader_session(void)
{
	begin();
	rec(PROP, 1, PROP, 1, commit(B(0, 0), 1), 0, 0);	/* tick */
	rec(ACC, 2, PROP, 0, promise(B(1, 1), 0, 1), 0, 0);
	rec(ACC, 3, PROP, 0, promise(B(1, 1), 0, 1), 0, 0);
	rec(CLI, 0x21, PROP, 0, submit(77, 1, "put name Mike"), 0, 0);
	rec(CLI, 0x21, PROP, 0, submit(77, 2, "put age 22"), 0, 0);
	rec(ACC, 2, PROP, 0, accepted(B(1, 1), 1, 2), 0, 0);
	rec(ACC, 3, PROP, 0, accepted(B(1, 1), 1, 2), 0, 0);
	rec(CLI, 0x21, PROP, 0, submit(77, 3, "get name"), 0, 0);
	rec(CLI, 0x22, PROP, 0, submit3(78, 1), 0, 0);
	rec(ACC, 1, PROP, 60, accepted(B(1, 1), 3, 1), 0, 0);
	rec(ACC, 2, PROP, 0, accepted(B(1, 1), 3, 1), 0, 0);
	rec(ACC, 2, PROP, 0, nack(B(5, 2)), 0, 0);
	rec(PROP, 2, PROP, 200, commit(B(5, 2), 4), 0, 0);
	end("proposer-leads");

	begin();
	rec(PROP, 1, PROP, 1, commit(B(0, 0), 1), 0, 0);
	rec(ACC, 2, PROP, 0, promise_with(B(1, 1)), 0, 0);
	rec(ACC, 3, PROP, 0, promise(B(1, 1), 0, 1), 0, 0);
	rec(ACC, 1, PROP, 0, learn_rep(B(1, 2), true), 0, 0);
	rec(PROP, 2, PROP, 0, chosen(4), 0, 0);
	end("proposer-recovers");
}

static void
acceptor_session(void)
{
	begin();
	rec(PROP, 1, ACC, 0, prepare(B(1, 1), 1), 0, 0);
	rec(PROP, 1, ACC, 0, accept(B(1, 1), 1), 0, 0);
	rec(PROP, 1, ACC, 0, commit(B(1, 1), 3), 0, 0);
	rec(LRN, 1, ACC, 0, learn_req(1), 0, 0);
	rec(PROP, 2, ACC, 0, prepare(B(2, 2), 1), 0, 0);
	rec(PROP, 1, ACC, 0, accept(B(1, 1), 4), 0, 0);
	rec(PROP, 2, ACC, 0, learn_req(2), 0, 0);
	rec(CLI, 9, ACC, 0, status_req(), 0, 0);
	end("acceptor-votes");

	/* What the hostile tests send, each dropped. */
	begin();
	rec(PROP, 1, ACC, 0, prepare(B(1, 1), 1), 0, 0);
	rec(PROP, 1, ACC, 0, prepare(B(9, 1), 1), REPLAY, 0);
	rec(PROP, 1, ACC, 0, prepare(B(9, 1), 1), FLIP, 200);
	rec(PROP, 1, ACC, 0, prepare(B(9, 1), 1), CUT, 30);
	rec(PROP, 9, ACC, 0, prepare(B(9, 9), 1), 0, 0);
	rec(PROP, 1, ACC, 0, prepare(B(9, 1), 1), OTHER_KEY, 0);
	rec(CLI, 5, ACC, 0, prepare(B(9, 1), 1), 0, 0);
	rec(CLI, 5, ACC, 0, accept(B(9, 1), 9), 0, 0);
	rec(CLI, 5, LRN, 0, chosen(9), 0, 0);
	end("acceptor-hostile");
}

static void
learner_session(void)
{
	begin();
	rec(PROP, 1, LRN, 1, chosen(4), 0, 0);
	rec(ACC, 1, LRN, 0, learn_rep(B(1, 1), false), 0, 0);
	rec(ACC, 2, LRN, 0, learn_rep(B(1, 1), false), 0, 0);
	rec(ACC, 3, LRN, 60, learn_rep(B(2, 1), true), 0, 0);
	rec(PROP, 1, LRN, 0, commit(B(1, 1), 9), 0, 0);
	end("learner-catches-up");
}

static void
client_session(void)
{
	begin();
	rec(PROP, 1, CLI, 1, reply(REPLY_REDIRECT, 1, 0, 2), 0, 0);
	rec(PROP, 2, CLI, 60, reply(REPLY_OK, 1, 1, 2), 0, 0);
	rec(PROP, 2, CLI, 0, reply(REPLY_OK, 2, 2, 2), 0, 0);
	rec(PROP, 2, CLI, 0, reply(2 /* REPLY_BUSY; once REPLY_TOO_LARGE */, 3, 0, 2), 0, 0);
	rec(PROP, 2, CLI, 200, reply(REPLY_OK, 4, 9, 0), 0, 0);
	end("client-commits");
}

/* Every message type alone, to every role. */
static void
singles(void)
{
	char name[64];
	int to;

	for (to = ACC; to <= CLI; to++) {
		static const char *const rn[] = { "acceptor", "proposer",
		    "learner", "client" };
#define ONE(tag, from, id, msgp) do {					\
	begin();							\
	rec(from, id, to, 0, msgp, 0, 0);				\
	snprintf(name, sizeof(name), "%s-%s", tag, rn[to]);		\
	end(name);							\
} while (0)
		ONE("prepare", PROP, 1, prepare(B(3, 1), 1));
		ONE("promise", ACC, 1, promise(B(3, 1), 0, 1));
		ONE("nack", ACC, 1, nack(B(3, 2)));
		ONE("accept", PROP, 1, accept(B(3, 1), 2));
		ONE("accepted", ACC, 1, accepted(B(3, 1), 1, 3));
		ONE("commit", PROP, 2, commit(B(3, 2), 2));
		ONE("chosen", PROP, 1, chosen(4));
		ONE("learn_req", LRN, 1, learn_req(1));
		ONE("learn_rep", ACC, 1, learn_rep(B(3, 1), true));
		ONE("submit", CLI, 3, submit(5, 1, "put age 22"));
		ONE("reply", PROP, 1, reply(REPLY_OK, 1, 1, 1));
		ONE("status_req", CLI, 3, status_req());
		ONE("status_rep", ACC, 1, status_rep());
#undef ONE
	}
}

/* Raw mode: one sealed datagram, opened with the fuzzer's keys. */
static void
raw(void)
{
	struct auth a;
	size_t len, n;

	auth_init(&a, secret, AUTH_PROPOSER, 2, 7);
	len = msg_encode(prepare(B(4, 2), 1), enc, sizeof(enc));
	file[0] = 0;
	n = auth_seal(&a, false, enc, len, file + 1, sizeof(file) - 1);
	flen = 1 + n;
	end("raw-sealed-prepare");
	memcpy(file + 1, "\x01\x02garbage that is no datagram at all", 37);
	flen = 38;
	end("raw-garbage");
	auth_free(&a);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds dir\n");
		return 64;
	}
	if (sodium_init() < 0)
		return 70;
	dir = argv[1];
	leader_session();
	acceptor_session();
	learner_session();
	client_session();
	singles();
	raw();
	return 0;
}
