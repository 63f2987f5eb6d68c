/*
 * libFuzzer target: datagrams as the daemons receive them.  Random bytes
 * never authenticate, so besides feeding raw bytes to auth_open, the
 * input can be a script of records that this target seals with the
 * right (or the wrong) key before delivering them, so that decoding and
 * every role's handling of a decoded message are reached too.
 *
 * Input: byte 0 selects the mode.
 *   even: the rest is one datagram, opened by a member and by a client.
 *   odd:  the rest is records, each a 6-byte header and a payload:
 *     flags  bits 0-1 sender role - 1 (acceptor proposer learner client)
 *            bits 2-3 receiver role - 1
 *            bit 4    seal with the other key (member <-> client)
 *            bit 5    send the previous sealed datagram again (replay)
 *            bit 6    flip bit x of the sealed datagram
 *            bit 7    cut the sealed datagram to x bytes
 *     id     the sender id in the header (members 1-3 are configured)
 *     dt     the clock moves dt * 4 ms first, and every role ticks
 *     x      see bits 6 and 7
 *     len    2 bytes, little-endian: payload length (cut at the end)
 *     payload the plaintext: an encoded message, or anything
 * The receivers mirror the daemons: acceptor 1, proposer 1, learner 1
 * and a paxos-submit client with values in flight, each with its own
 * replay windows, fresh for every input.  Every message a role asks to
 * send must encode and decode back to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "acceptor.h"
#include "auth.h"
#include "client.h"
#include "learner.h"
#include "msg.h"
#include "proposer.h"

#define N_ACC		3
#define T0		1000000
#define TIMEOUT		200
#define OUTBOX		256
#define STORE_N		32	/* slots the simulated acceptor store holds */
#define CLIENT_WINDOW	4
#define SESSION		0x5e5510a
#define DGRAM_MAX	(MSG_MAX + AUTH_OVERHEAD)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The acceptor's LMDB, reduced to a few slots in memory. */
struct stored {
	bool		 used;
	struct slot_entry se;
	uint8_t		*buf;
};

static const uint8_t secret[32] = "fuzzing secret, not a real one!";
static const uint32_t ids[N_ACC] = { 1, 2, 3 };

static struct auth sealer;		/* keys derived once */
static struct auth rx[4];		/* receivers, by role - 1 */
static uint64_t counters[4][256];	/* next counter per sender */
static struct acceptor acc;
static struct stored store[STORE_N];
static struct proposer prop;
static struct learner lrn;
static struct client cli;
static struct client_value cvals[CLIENT_WINDOW];
static uint8_t *prop_vals, *lrn_vals, *cli_vals, *store_vals;
static struct out outs[OUTBOX];
static struct outbox ob = { 0, OUTBOX, 0, outs };
static struct msg in, back;
static struct acceptor_fx fx;
static uint8_t dgram[DGRAM_MAX], prev[DGRAM_MAX], pt[DGRAM_MAX];
static uint8_t enc[MSG_MAX], enc2[MSG_MAX];
static size_t prev_len;
static uint64_t now;
static uint32_t rnd_state;
static uint64_t line;			/* of the client's next value */
static bool trace;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;	/* deterministic */
	return rnd_state >> 8;
}

/* Whatever a role sends must reach its peer as it was meant. */
static void
roundtrip(const struct msg *m)
{
	size_t len, len2;

	if ((len = msg_encode(m, enc, sizeof(enc))) == 0)
		return;
	if (msg_decode(&back, enc, len) != 0) {
		fprintf(stderr, "datagram_fuzz: a %s the core built does not "
		    "decode\n", msg_type_name(m->type));
		abort();
	}
	len2 = msg_encode(&back, enc2, sizeof(enc2));
	if (len2 != len || memcmp(enc, enc2, len) != 0) {
		fprintf(stderr, "datagram_fuzz: a %s changes when decoded\n",
		    msg_type_name(m->type));
		abort();
	}
}

static void
drain(void)
{
	unsigned i;

	for (i = 0; i < ob.n; i++)
		roundtrip(&ob.o[i].m);
	ob.n = 0;
}

static struct stored *
store_find(uint64_t slot, bool add)
{
	struct stored *free_one = NULL;
	unsigned i;

	for (i = 0; i < STORE_N; i++) {
		if (store[i].used && store[i].se.slot == slot)
			return &store[i];
		if (!store[i].used && free_one == NULL)
			free_one = &store[i];
	}
	if (!add)
		return NULL;
	if (free_one == NULL)
		free_one = &store[slot % STORE_N];
	free_one->used = true;
	free_one->se.slot = slot;
	return free_one;
}

/* store_scan: entries from..end in slot order, as many as fit. */
static void
store_scan(uint64_t from, uint64_t end, struct msg *out)
{
	uint64_t last = from, best;
	struct stored *s;
	size_t used = 0;
	unsigned i, k;

	out->next = SLOT_NONE;
	for (k = 0; k < STORE_N; k++) {
		s = NULL;
		best = SLOT_NONE;
		for (i = 0; i < STORE_N; i++)
			if (store[i].used && store[i].se.slot >= last &&
			    store[i].se.slot < best) {
				best = store[i].se.slot;
				s = &store[i];
			}
		if (s == NULL)
			break;
		if (s->se.slot >= end) {
			out->next = end;
			break;
		}
		s->se.chosen = s->se.slot < acc.commit;
		if (!acceptor_fill(out, &used, &s->se)) {
			out->next = s->se.slot;
			break;
		}
		if (s->se.slot == SLOT_NONE - 1)
			break;
		last = s->se.slot + 1;
	}
}

static void
mark_chosen(struct ballot b, uint64_t upto)
{
	struct stored *s;
	struct ballot bb;
	unsigned walked;

	for (walked = 0; walked < 4096 && acc.commit < upto; walked++) {
		s = store_find(acc.commit, false);
		bb = s == NULL ? (struct ballot){ 0, 0 } : s->se.ballot;
		if (!acceptor_commit_slot(&acc, b, upto, acc.commit, bb, false))
			break;
	}
}

/* cmd/paxos-acceptor.c handle(), with the store above. */
static void
to_acceptor(const struct msg *m, const struct auth_peer *from)
{
	struct stored *s;
	uint64_t end;
	unsigned i;

	switch (m->type) {
	case MSG_PREPARE:
		if (from->role != AUTH_PROPOSER)
			return;
		acceptor_prepare(&acc, m, &fx);
		if (fx.out.type == MSG_PROMISE) {
			end = m->count == 0 || m->slot + m->count < m->slot ?
			    SLOT_NONE : m->slot + m->count;
			store_scan(m->slot, end, &fx.out);
		}
		roundtrip(&fx.out);
		break;
	case MSG_ACCEPT:
		if (from->role != AUTH_PROPOSER)
			return;
		acceptor_accept(&acc, m, &fx);
		if (fx.out.type == MSG_ACCEPTED) {
			for (i = 0; i < m->n; i++) {
				s = store_find(m->e[i].slot, true);
				s->se.ballot = m->ballot;
				s->se.e = m->e[i].e;
				if (s->se.e.len > 0)
					memcpy(s->buf, s->se.e.val,
					    s->se.e.len);
				s->se.e.val = s->buf;
			}
			mark_chosen(m->ballot, m->commit);
		}
		roundtrip(&fx.out);
		break;
	case MSG_COMMIT:
		if (from->role == AUTH_PROPOSER)
			mark_chosen(m->ballot, m->commit);
		break;
	case MSG_LEARN_REQ:
		if (from->role != AUTH_LEARNER && from->role != AUTH_PROPOSER)
			return;
		msg_init(&fx.out, MSG_LEARN_REP);
		fx.out.slot = m->slot;
		fx.out.max_slot = acc.max_slot;
		fx.out.commit = acc.commit;
		fx.out.seq = m->seq;
		end = m->count == 0 || m->slot + m->count < m->slot ?
		    SLOT_NONE : m->slot + m->count;
		store_scan(m->slot, end, &fx.out);
		roundtrip(&fx.out);
		break;
	default:
		break;
	}
}

/* cmd/paxos-learner.c: take and write what is chosen, in order. */
static void
learner_deliver(void)
{
	struct entry e;
	enum learner_verdict v;
	volatile uint8_t sink = 0;
	uint32_t i;

	while (learner_peek(&lrn, &e, &v)) {
		if (v == LEARNER_WRITE)
			for (i = 0; i < e.len; i++)	/* as write(2) would */
				sink ^= e.val[i];
		learner_advance(&lrn);
	}
	(void)sink;
}

static void
client_feed(void)
{
	static const char *const vals[] = { "put name Mike", "put age 22",
	    "get name", "delete name", "get name" };
	struct client_value cv;

	while (client_retire(&cli, &cv))
		;
	while (client_has_room(&cli)) {
		line++;
		client_submit(&cli, (const uint8_t *)vals[line % 5],
		    (uint32_t)strlen(vals[line % 5]), line, now);
	}
	client_flush(&cli, now, &ob);
	drain();
}

static void
tick(void)
{
	proposer_tick(&prop, now, rnd(), &ob);
	drain();
	learner_tick(&lrn, now, &ob);
	drain();
	client_tick(&cli, now, &ob);
	drain();
	learner_deliver();
	client_feed();
}

static void
show(void)
{
	fprintf(stderr, "  acceptor promised=%llu.%u commit=%llu max_slot=%llu"
	    "; proposer state=%u ballot=%llu.%u commit=%llu; learner next=%llu"
	    "; client acked=%llu\n",
	    (unsigned long long)acc.promised.round, acc.promised.node,
	    (unsigned long long)acc.commit, (unsigned long long)acc.max_slot,
	    prop.state, (unsigned long long)prop.ballot.round,
	    prop.ballot.node, (unsigned long long)prop.commit,
	    (unsigned long long)lrn.next, (unsigned long long)cli.acked);
}

/* One authenticated datagram at the receiver of role r (1-4). */
static void
receive(uint8_t r, const uint8_t *d, size_t len)
{
	struct auth_peer from;
	enum auth_drop why;
	size_t ptlen;
	uint8_t *at = pt;

	/* The proposer's shell opens datagrams into its intakes. */
	if (r == AUTH_PROPOSER && proposer_intake(&prop) != NULL)
		at = proposer_intake(&prop);
	why = auth_open(&rx[r - 1], d, len, at, &ptlen, &from);
	if (trace)
		fprintf(stderr, "to role %u: %zu bytes: %s", r, len,
		    auth_drop_name(why));
	if (why != AUTH_OK) {
		if (trace)
			fprintf(stderr, "\n");
		return;
	}
	/* node_recv */
	if (msg_decode(&in, at, ptlen) == -1) {
		if (trace)
			fprintf(stderr, ", undecodable\n");
		return;
	}
	if (trace)
		fprintf(stderr, ", %s from %u.%u\n", msg_type_name(in.type),
		    from.role, from.id);
	if (from.role == AUTH_CLIENT && in.type != MSG_SUBMIT &&
	    in.type != MSG_STATUS_REQ)
		return;
	if (in.type == MSG_STATUS_REQ)
		return;		/* answered by the shell, node.c */
	switch (r) {
	case AUTH_ACCEPTOR:
		to_acceptor(&in, &from);
		break;
	case AUTH_PROPOSER:
		proposer_receive(&prop, now, rnd(), from.role, from.id, &in,
		    &ob);
		proposer_flush(&prop, now, &ob);
		drain();
		break;
	case AUTH_LEARNER:
		learner_receive(&lrn, now, from.role, from.id, &in, &ob);
		drain();
		learner_deliver();
		learner_keep(&lrn);
		break;
	case AUTH_CLIENT:
		if (from.role == AUTH_PROPOSER)
			client_receive(&cli, now, &in, &ob);
		drain();
		client_feed();
		break;
	}
}

static void
setup(void)
{
	unsigned i, r, id;

	for (r = 0; r < 3; r++)
		auth_init(&rx[r], secret, (uint8_t)(r + 1), 1, 1);
	auth_init_client(&rx[3], sealer.client_key, 0xc11e47, 1);
	for (r = 0; r < 4; r++)
		for (id = 1; id <= N_ACC; id++)
			for (i = AUTH_ACCEPTOR; i <= AUTH_LEARNER; i++)
				auth_add_member(&rx[r], (uint8_t)i, id);
	memset(counters, 0, sizeof(counters));
	acceptor_init(&acc, 1);
	for (i = 0; i < STORE_N; i++)
		store[i].used = false;
	now = T0;
	rnd_state = 1;
	line = 0;
	proposer_init(&prop, 1, ids, N_ACC, ids, N_ACC, TIMEOUT, prop_vals, 0,
	    now);
	learner_init(&lrn, ids, N_ACC, TIMEOUT, lrn_vals, 1, now);
	for (i = 0; i < CLIENT_WINDOW; i++)
		cvals[i].val = cli_vals + (size_t)i * VALUE_MAX;
	client_init(&cli, SESSION, ids, N_ACC, CLIENT_WINDOW, TIMEOUT, cvals,
	    now);
	ob.n = 0;
	prev_len = 0;
	client_feed();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	trace = getenv("DATAGRAM_FUZZ_TRACE") != NULL;
	auth_init(&sealer, secret, AUTH_PROPOSER, 1, 1);
	prop_vals = malloc(PROPOSER_VALBUF);
	lrn_vals = malloc((size_t)LEARNER_WINDOW * VALUE_MAX);
	cli_vals = malloc((size_t)CLIENT_WINDOW * VALUE_MAX);
	store_vals = malloc((size_t)STORE_N * VALUE_MAX);
	if (prop_vals == NULL || lrn_vals == NULL || cli_vals == NULL ||
	    store_vals == NULL)
		abort();
	for (i = 0; i < STORE_N; i++)
		store[i].buf = store_vals + (size_t)i * VALUE_MAX;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags, id, dt, x, srole, rrole;
	size_t len, n;
	uint8_t *d;

	if (size < 1)
		return 0;
	setup();
	if ((data[0] & 1) == 0) {
		/* Raw bytes: what an attacker without the secret can send. */
		if (size - 1 > DGRAM_MAX)
			return 0;
		d = malloc(size - 1 ? size - 1 : 1);	/* exact, for ASan */
		if (d == NULL)
			abort();
		memcpy(d, data + 1, size - 1);
		receive(AUTH_ACCEPTOR, d, size - 1);
		receive(AUTH_LEARNER, d, size - 1);
		receive(AUTH_CLIENT, d, size - 1);
		free(d);
		return 0;
	}
	data++;
	size--;
	while (size >= 6) {
		flags = data[0];
		id = data[1];
		dt = data[2];
		x = data[3];
		len = (size_t)data[4] | (size_t)data[5] << 8;
		data += 6;
		size -= 6;
		if (len > size)
			len = size;
		srole = (uint8_t)((flags & 3) + 1);
		rrole = (uint8_t)(((flags >> 2) & 3) + 1);
		if (dt != 0) {
			now += (uint64_t)dt * 4;
			tick();
		}
		if ((flags & 0x20) && prev_len > 0) {
			memcpy(dgram, prev, prev_len);
			n = prev_len;
		} else {
			/* Seal as that sender: the wire key is the client key
			 * when either end is a client, unless bit 4 says. */
			sealer.role = srole;
			sealer.id = id;
			sealer.epoch = 1;
			sealer.counter = counters[srole - 1][id]++;
			sealer.is_client = (srole == AUTH_CLIENT ||
			    rrole == AUTH_CLIENT) != ((flags & 0x10) != 0);
			n = auth_seal(&sealer, false, data, len, dgram,
			    sizeof(dgram));
			if (n == 0)
				break;
			memcpy(prev, dgram, n);
			prev_len = n;
		}
		if (flags & 0x40)
			dgram[(x / 8) % n] ^= (uint8_t)(1u << (x % 8));
		if ((flags & 0x80) && x < n)
			n = x;
		/* Exactly n bytes, so that ASan sees any read past them. */
		if ((d = malloc(n ? n : 1)) == NULL)
			abort();
		memcpy(d, dgram, n);
		receive(rrole, d, n);
		free(d);
		if (trace)
			show();
		data += len;
		size -= len;
	}
	return 0;
}
