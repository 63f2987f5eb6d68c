/* Unit tests for lib/proposer, driven with synthetic messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "proposer.h"
#include "tap.h"

#define OUT_MAX		64
#define TIMEOUT		100
#define T0		1000		/* the clock at proposer_init */
#define CLIENT		7
/* The ACCEPTs (or CHOSENs) a whole window of small values takes. */
#define PAGES		(PROPOSER_WINDOW / MSG_MAX_ENTRIES)

static const uint32_t accs[] = { 1, 2, 3 };
static const uint32_t props[] = { 1, 2 };

static struct proposer p;
static uint8_t *valbuf;
static struct out outs[OUT_MAX];
static struct outbox ob = { 0, OUT_MAX, 0, outs };
static struct msg in;

static struct ballot
B(uint64_t round, uint32_t node)
{
	return (struct ballot){ round, node };
}

static bool
same(struct ballot a, struct ballot b)
{
	return ballot_cmp(a, b) == 0;
}

static void
clear(void)
{
	ob.n = 0;
	ob.lost = 0;
}

static void
init(uint32_t id)
{
	proposer_init(&p, id, accs, 3, props, 2, TIMEOUT, valbuf, 0, T0);
	clear();
}

/* Messages of a type in the outbox. */
static unsigned
count(uint8_t type)
{
	unsigned i, n = 0;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type == type)
			n++;
	return n;
}

/* The k-th message of a type, or NULL. */
static const struct out *
nth(uint8_t type, unsigned k)
{
	unsigned i;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type == type && k-- == 0)
			return &outs[i];
	return NULL;
}

/* Nothing sent but the embedded learner's polls (LEARN_REQ). */
static bool
quiet(void)
{
	unsigned i;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type != MSG_LEARN_REQ)
			return false;
	return true;
}

/* Messages of a type to a role. */
static unsigned
count_to(uint8_t type, uint8_t role)
{
	unsigned i, n = 0;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type == type && outs[i].role == role)
			n++;
	return n;
}

/* The first message of a type to a role, or NULL. */
static const struct out *
out_to(uint8_t type, uint8_t role)
{
	unsigned i;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type == type && outs[i].role == role)
			return &outs[i];
	return NULL;
}

static const struct msg *
first_to(uint8_t type, uint8_t role)
{
	const struct out *o = out_to(type, role);

	return o != NULL ? &o->m : NULL;
}

/* The k-th message of a type, or NULL. */
static const struct msg *
nth_msg(uint8_t type, unsigned k)
{
	const struct out *o = nth(type, k);

	return o != NULL ? &o->m : NULL;
}

static const struct msg *
first(uint8_t type)
{
	const struct out *o = nth(type, 0);

	return o != NULL ? &o->m : NULL;
}

static void
deliver(uint64_t now, uint8_t role, uint32_t id)
{
	proposer_receive(&p, now, 0, role, id, &in, &ob);
}

/* A PROMISE header; entries are added with add_entry. */
static void
promise(struct ballot b, uint64_t slot, uint64_t next, uint64_t max_slot,
    uint64_t commit)
{
	msg_init(&in, MSG_PROMISE);
	in.ballot = b;
	in.slot = slot;
	in.next = next;
	in.max_slot = max_slot;
	in.commit = commit;
}

static void
add_entry(uint64_t slot, struct ballot b, uint64_t client, uint64_t seq,
    const char *val)
{
	struct slot_entry *se = &in.e[in.n++];

	se->slot = slot;
	se->ballot = b;
	se->chosen = false;
	if (val == NULL)
		se->e = (struct entry){ .kind = ENTRY_NOOP };
	else
		se->e = (struct entry){ .kind = ENTRY_VALUE, .client = client,
		    .seq = seq, .acked = seq - 1, .len = (uint32_t)strlen(val),
		    .val = (const uint8_t *)val };
}

/* A SUBMIT from client, without values yet. */
static void
submit_start(uint64_t client)
{
	msg_init(&in, MSG_SUBMIT);
	in.client = client;
}

/* One more value in the SUBMIT being built: val is len bytes. */
static void
add_bytes(uint64_t seq, uint64_t acked, const uint8_t *val, uint32_t len)
{
	struct slot_entry *se = &in.e[in.n++];

	se->slot = 0;
	se->ballot = B(0, 0);
	se->chosen = false;
	se->e = (struct entry){ .kind = ENTRY_VALUE, .client = in.client,
	    .seq = seq, .acked = acked, .len = len, .val = val };
}

static void
add_value(uint64_t seq, uint64_t acked, const char *val)
{
	add_bytes(seq, acked, (const uint8_t *)val, (uint32_t)strlen(val));
}

static void
submit_send(uint64_t now)
{
	deliver(now, AUTH_CLIENT, (uint32_t)in.client);
}

/* A SUBMIT of one value. */
static void
submit(uint64_t now, uint64_t client, uint64_t seq, uint64_t acked,
    const char *val)
{
	submit_start(client);
	add_value(seq, acked, val);
	submit_send(now);
}

static void
flush(uint64_t now)
{
	proposer_flush(&p, now, &ob);
}

/* An ACCEPTED for the n slots from first on. */
static void
accepted_n(uint64_t now, uint32_t acc, struct ballot b, uint64_t first,
    unsigned n)
{
	unsigned i;

	msg_init(&in, MSG_ACCEPTED);
	in.ballot = b;
	in.n = n;
	for (i = 0; i < n; i++)
		in.e[i].slot = first + i;
	deliver(now, AUTH_ACCEPTOR, acc);
}

/* ACCEPTEDs for the n slots from first on, as many as it takes. */
static void
accepted_range(uint64_t now, uint32_t acc, struct ballot b, uint64_t first,
    unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k += MSG_MAX_ENTRIES)
		accepted_n(now, acc, b, first + k,
		    n - k < MSG_MAX_ENTRIES ? n - k : MSG_MAX_ENTRIES);
}

static void
accepted(uint64_t now, uint32_t acc, struct ballot b, uint64_t slot)
{
	accepted_n(now, acc, b, slot, 1);
}

/* The k-th ack of a REPLY: seq committed at position slot. */
static bool
ack_is(const struct msg *m, unsigned k, uint64_t seq, uint64_t slot)
{
	return m != NULL && k < m->n && m->e[k].e.seq == seq &&
	    m->e[k].slot == slot;
}

/* A REPLY of status OK to client with n acks. */
static bool
reply_ok(const struct out *o, uint64_t client, unsigned n)
{
	return o != NULL && o->role == AUTH_CLIENT && o->id == 0 &&
	    o->client == client && o->m.type == MSG_REPLY &&
	    o->m.client == client && o->m.status == REPLY_OK &&
	    o->m.leader == 0 && o->m.n == n;
}

/* The REPLY of a status to client, or NULL. */
static const struct out *
reply_to(uint64_t client, uint8_t status)
{
	unsigned i;

	for (i = 0; i < ob.n; i++)
		if (outs[i].m.type == MSG_REPLY && outs[i].client == client &&
		    outs[i].m.status == status)
			return &outs[i];
	return NULL;
}

/* Every message in the outbox goes on the wire and comes back the same. */
static bool
all_encode(void)
{
	static uint8_t buf[MSG_MAX];
	static struct msg d;
	size_t len;
	unsigned i;

	for (i = 0; i < ob.n; i++) {
		len = msg_encode(&outs[i].m, buf, sizeof(buf));
		if (len == 0 || msg_decode(&d, buf, len) != 0 ||
		    d.n != outs[i].m.n)
			return false;
	}
	return true;
}

static bool
entry_is(const struct entry *e, uint64_t client, uint64_t seq,
    const char *val)
{
	if (val == NULL)
		return e->kind == ENTRY_NOOP;
	return e->kind == ENTRY_VALUE && e->client == client &&
	    e->seq == seq && e->len == strlen(val) &&
	    memcmp(e->val, val, e->len) == 0;
}

/* Rank 0 at T0: PREPAREs, then promises from acceptors 1 and 2. */
static void
lead(void)
{
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	promise(B(1, 1), 1, SLOT_NONE, 0, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 2);
	clear();
}

static void
test_election(void)
{
	const struct out *o;
	const struct msg *m;
	unsigned i;

	init(1);
	CHECK(p.state == PROPOSER_FOLLOWER && !proposer_is_leader(&p));
	proposer_tick(&p, T0, 0, &ob);
	CHECK(p.state == PROPOSER_PREPARING);
	CHECK(count(MSG_PREPARE) == 3 && count(MSG_ACCEPT) == 0);
	for (i = 0; i < 3; i++) {
		o = nth(MSG_PREPARE, i);
		CHECK(o != NULL && o->role == AUTH_ACCEPTOR &&
		    o->id == accs[i]);
		CHECK(o != NULL && same(o->m.ballot, B(1, 1)) &&
		    o->m.slot == 1 && o->m.count == PROPOSER_WINDOW);
	}

	/* One promise is not a quorum of three. */
	clear();
	promise(B(1, 1), 1, SLOT_NONE, 0, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 1);
	CHECK(p.state == PROPOSER_PREPARING && ob.n == 0);
	/* The same acceptor again is still one. */
	deliver(T0 + 1, AUTH_ACCEPTOR, 1);
	CHECK(p.state == PROPOSER_PREPARING && ob.n == 0);
	/* A promise from a stranger, or for another ballot, counts not. */
	deliver(T0 + 1, AUTH_ACCEPTOR, 9);
	deliver(T0 + 1, AUTH_PROPOSER, 2);
	in.ballot = B(1, 2);
	deliver(T0 + 1, AUTH_ACCEPTOR, 2);
	CHECK(p.state == PROPOSER_PREPARING && ob.n == 0);

	in.ballot = B(1, 1);
	deliver(T0 + 2, AUTH_ACCEPTOR, 2);
	CHECK(p.state == PROPOSER_LEADING && proposer_is_leader(&p));
	CHECK(p.leader == 1 && p.next_slot == 1 && p.commit == 1);
	CHECK(!p.recovering);
	/* Leading announces itself: a COMMIT to every role. */
	CHECK(count(MSG_COMMIT) == 3 && count(MSG_ACCEPT) == 0);
	o = nth(MSG_COMMIT, 0);
	CHECK(o != NULL && o->role == AUTH_PROPOSER && o->id == 0);
	o = nth(MSG_COMMIT, 1);
	CHECK(o != NULL && o->role == AUTH_ACCEPTOR && o->id == 0);
	o = nth(MSG_COMMIT, 2);
	CHECK(o != NULL && o->role == AUTH_LEARNER && o->id == 0);
	m = first(MSG_COMMIT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->commit == 1);

	/* Heartbeats while leading. */
	clear();
	proposer_tick(&p, T0 + 2 + TIMEOUT / 4, 0, &ob);
	CHECK(count(MSG_COMMIT) == 0);
	proposer_tick(&p, T0 + 2 + TIMEOUT / 4 + 1, 0, &ob);
	CHECK(count(MSG_COMMIT) == 3);
}

static void
test_submit(void)
{
	const struct out *o;
	const struct msg *m;

	lead();
	CHECK(p.announced == 1);
	/* Proposed at once; nothing goes out before the flush. */
	submit(T0 + 10, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 0 && p.next_slot == 2);
	flush(T0 + 10);
	CHECK(ob.n == 1 && count(MSG_ACCEPT) == 1);
	o = nth(MSG_ACCEPT, 0);
	CHECK(o != NULL && o->role == AUTH_ACCEPTOR && o->id == 0);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->commit == 1);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "v1"));
	CHECK(p.next_slot == 2);
	/* Sent once: a second flush has nothing to add. */
	clear();
	flush(T0 + 10);
	CHECK(ob.n == 0);

	/* One ACCEPTED is not enough; the same one twice neither. */
	accepted(T0 + 11, 1, B(1, 1), 1);
	accepted(T0 + 11, 1, B(1, 1), 1);
	CHECK(ob.n == 0 && p.commit == 1);
	/* Nor one for another ballot. */
	accepted(T0 + 11, 2, B(1, 2), 1);
	CHECK(ob.n == 0 && p.commit == 1);
	flush(T0 + 11);
	CHECK(ob.n == 0);

	/* Chosen: the client hears at once, the learners on the flush. */
	accepted(T0 + 12, 2, B(1, 1), 1);
	CHECK(p.commit == 2 && p.n_chosen == 1 && p.announced == 1);
	CHECK(ob.n == 1 && count(MSG_REPLY) == 1 && count(MSG_CHOSEN) == 0);
	o = nth(MSG_REPLY, 0);
	CHECK(reply_ok(o, CLIENT, 1) && ack_is(&o->m, 0, 1, 1));
	flush(T0 + 12);
	CHECK(p.announced == 2);
	CHECK(ob.n == 3 && count(MSG_REPLY) == 1 && count(MSG_ACCEPT) == 0 &&
	    count_to(MSG_CHOSEN, AUTH_LEARNER) == 1 &&
	    count_to(MSG_CHOSEN, AUTH_PROPOSER) == 1);
	o = out_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(o != NULL && o->id == 0);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "v1"));
	/* The standby proposers get the same, to follow the log. */
	o = out_to(MSG_CHOSEN, AUTH_PROPOSER);
	CHECK(o != NULL && o->id == 0 && o->m.n == 1 &&
	    o->m.e[0].slot == 1 && entry_is(&o->m.e[0].e, CLIENT, 1, "v1"));
	CHECK(all_encode());
	/* Announced once. */
	clear();
	flush(T0 + 12);
	CHECK(ob.n == 0);

	/* The third acceptor's late vote changes nothing. */
	accepted(T0 + 13, 3, B(1, 1), 1);
	flush(T0 + 13);
	CHECK(ob.n == 0 && p.commit == 2 && p.announced == 2);

	/*
	 * seq 3 before 2: not proposed; the client is told to send again
	 * soon (once an outbox), so that 2 comes first.
	 */
	submit(T0 + 14, CLIENT, 3, 1, "v3");
	o = reply_to(CLIENT, REPLY_BUSY);
	CHECK(ob.n == 1 && o != NULL && o->role == AUTH_CLIENT &&
	    o->m.client == CLIENT && o->m.n == 0);
	submit(T0 + 14, CLIENT, 4, 1, "v4");
	flush(T0 + 14);
	CHECK(ob.n == 1 && p.next_slot == 2);

	/* A repeat of seq 1: re-acked with its slot, not proposed again. */
	clear();
	submit(T0 + 15, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), CLIENT, 1) &&
	    ack_is(first(MSG_REPLY), 0, 1, 1));
	flush(T0 + 15);
	CHECK(ob.n == 1 && count(MSG_ACCEPT) == 0);
	CHECK(p.next_slot == 2);

	/* seq 2 goes to slot 2; sent again in flight, it is not doubled. */
	clear();
	submit(T0 + 16, CLIENT, 2, 1, "v2");
	flush(T0 + 16);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 1 && m != NULL && m->n == 1 && m->e[0].slot == 2 &&
	    entry_is(&m->e[0].e, CLIENT, 2, "v2"));
	clear();
	submit(T0 + 17, CLIENT, 2, 1, "v2");
	flush(T0 + 17);
	CHECK(ob.n == 0 && p.next_slot == 3);
	/* seq 3 now follows. */
	submit(T0 + 18, CLIENT, 3, 1, "v3");
	flush(T0 + 18);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 1 && m != NULL && m->n == 1 && m->e[0].slot == 3 &&
	    entry_is(&m->e[0].e, CLIENT, 3, "v3"));

	/* Chosen out of order: replies wait for the slot before. */
	clear();
	accepted(T0 + 19, 1, B(1, 1), 3);
	accepted(T0 + 19, 3, B(1, 1), 3);
	flush(T0 + 19);
	CHECK(ob.n == 0 && p.commit == 2 && p.announced == 2);
	accepted(T0 + 20, 2, B(1, 1), 2);
	accepted(T0 + 20, 3, B(1, 1), 2);
	CHECK(p.commit == 4);
	/* One reply acknowledges both. */
	CHECK(count(MSG_REPLY) == 1 && reply_ok(nth(MSG_REPLY, 0), CLIENT, 2));
	m = first(MSG_REPLY);
	CHECK(ack_is(m, 0, 2, 2) && ack_is(m, 1, 3, 3));
	flush(T0 + 20);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(count_to(MSG_CHOSEN, AUTH_LEARNER) == 1 && m != NULL &&
	    m->n == 2 && m->e[0].slot == 2 &&
	    entry_is(&m->e[0].e, CLIENT, 2, "v2") && m->e[1].slot == 3 &&
	    entry_is(&m->e[1].e, CLIENT, 3, "v3"));
	CHECK(p.announced == 4);

	/* A new client whose acked says seq 1..4 are done elsewhere. */
	clear();
	submit(T0 + 21, 8, 5, 4, "w5");
	flush(T0 + 21);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 4 &&
	    entry_is(&m->e[0].e, 8, 5, "w5"));
	/* seq 3 is acked, at a position this proposer does not know. */
	clear();
	submit(T0 + 22, 8, 3, 4, "w3");
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), 8, 1) &&
	    ack_is(first(MSG_REPLY), 0, 3, 0));

	/* Replies to one client share a datagram; other clients get theirs. */
	submit(T0 + 23, 8, 2, 4, "w2");
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), 8, 2) &&
	    ack_is(first(MSG_REPLY), 0, 3, 0) &&
	    ack_is(first(MSG_REPLY), 1, 2, 0));
	submit(T0 + 23, CLIENT, 1, 3, "v1");
	CHECK(ob.n == 2 && reply_ok(reply_to(CLIENT, REPLY_OK), CLIENT, 1) &&
	    ack_is(&reply_to(CLIENT, REPLY_OK)->m, 0, 1, 1));
	submit(T0 + 23, 8, 1, 4, "w1");
	CHECK(ob.n == 2 && reply_ok(reply_to(8, REPLY_OK), 8, 3) &&
	    ack_is(&reply_to(8, REPLY_OK)->m, 2, 1, 0));
	CHECK(all_encode());
	/* Once the outbox went out, a new one. */
	clear();
	submit(T0 + 24, 8, 1, 4, "w1");
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), 8, 1));
}

/*
 * Several values in one SUBMIT: handled in order, proposed at
 * consecutive slots, sent in one ACCEPT, acknowledged in one REPLY and
 * announced in one CHOSEN.
 */
static void
test_batch(void)
{
	const struct out *o;
	const struct msg *m;

	lead();
	submit_start(CLIENT);
	add_value(1, 0, "a");
	add_value(2, 0, "bb");
	submit_send(T0 + 10);
	CHECK(ob.n == 0 && p.next_slot == 3);
	flush(T0 + 10);
	CHECK(ob.n == 1 && count(MSG_ACCEPT) == 1);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->commit == 1 &&
	    m->n == 2);
	CHECK(m != NULL && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "a") && m->e[1].slot == 2 &&
	    entry_is(&m->e[1].e, CLIENT, 2, "bb"));
	CHECK(all_encode());

	/* Each acceptor answers for both in one ACCEPTED. */
	clear();
	accepted_n(T0 + 11, 3, B(1, 1), 1, 2);
	CHECK(ob.n == 0 && p.commit == 1);
	accepted_n(T0 + 11, 1, B(1, 1), 1, 2);
	CHECK(p.commit == 3 && p.n_chosen == 2 && p.announced == 1);
	CHECK(ob.n == 1 && count(MSG_REPLY) == 1 && count(MSG_CHOSEN) == 0);
	flush(T0 + 11);
	CHECK(p.announced == 3);
	CHECK(ob.n == 3 && count(MSG_REPLY) == 1 &&
	    count_to(MSG_CHOSEN, AUTH_LEARNER) == 1 &&
	    count_to(MSG_CHOSEN, AUTH_PROPOSER) == 1 &&
	    count(MSG_ACCEPT) == 0);
	o = nth(MSG_REPLY, 0);
	CHECK(reply_ok(o, CLIENT, 2) && ack_is(&o->m, 0, 1, 1) &&
	    ack_is(&o->m, 1, 2, 2));
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 2 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "a") && m->e[1].slot == 2 &&
	    entry_is(&m->e[1].e, CLIENT, 2, "bb"));
	m = first_to(MSG_CHOSEN, AUTH_PROPOSER);
	CHECK(m != NULL && m->n == 2 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "a") && m->e[1].slot == 2 &&
	    entry_is(&m->e[1].e, CLIENT, 2, "bb"));
	CHECK(all_encode());

	/* In order: seq 4 ahead of seq 3 is refused (busy), seq 3 goes. */
	clear();
	submit_start(CLIENT);
	add_value(4, 2, "d");
	add_value(3, 2, "c");
	submit_send(T0 + 12);
	CHECK(ob.n == 1 && reply_to(CLIENT, REPLY_BUSY) != NULL);
	flush(T0 + 12);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 2 && m != NULL && m->n == 1 && m->e[0].slot == 3 &&
	    entry_is(&m->e[0].e, CLIENT, 3, "c"));
	CHECK(p.next_slot == 4);

	/* A repeat, one in flight and a new one: acked, dropped, proposed. */
	clear();
	submit_start(CLIENT);
	add_value(2, 2, "bb");
	add_value(3, 2, "c");
	add_value(4, 2, "d");
	submit_send(T0 + 13);
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), CLIENT, 1) &&
	    ack_is(first(MSG_REPLY), 0, 2, 2));
	flush(T0 + 13);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 2 && count(MSG_ACCEPT) == 1 && m != NULL &&
	    m->n == 1 && m->e[0].slot == 4 &&
	    entry_is(&m->e[0].e, CLIENT, 4, "d"));

	/* Two clients in one batch of receives: one ACCEPT for both. */
	clear();
	submit(T0 + 14, 8, 1, 0, "x1");
	submit_start(9);
	add_value(1, 0, "y1");
	add_value(2, 0, "y2");
	submit_send(T0 + 14);
	submit(T0 + 14, 8, 2, 0, "x2");
	CHECK(ob.n == 0 && p.next_slot == 9);
	flush(T0 + 14);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 1 && m != NULL && m->n == 4 && m->e[0].slot == 5 &&
	    entry_is(&m->e[0].e, 8, 1, "x1") && m->e[1].slot == 6 &&
	    entry_is(&m->e[1].e, 9, 1, "y1") && m->e[2].slot == 7 &&
	    entry_is(&m->e[2].e, 9, 2, "y2") && m->e[3].slot == 8 &&
	    entry_is(&m->e[3].e, 8, 2, "x2"));
	/* All chosen at once: a REPLY for each client, one CHOSEN. */
	clear();
	accepted_n(T0 + 15, 2, B(1, 1), 3, 6);
	accepted_n(T0 + 15, 3, B(1, 1), 3, 6);
	CHECK(p.commit == 9 && count(MSG_REPLY) == 3);
	CHECK(reply_ok(reply_to(CLIENT, REPLY_OK), CLIENT, 2) &&
	    ack_is(&reply_to(CLIENT, REPLY_OK)->m, 0, 3, 3) &&
	    ack_is(&reply_to(CLIENT, REPLY_OK)->m, 1, 4, 4));
	CHECK(reply_ok(reply_to(8, REPLY_OK), 8, 2) &&
	    ack_is(&reply_to(8, REPLY_OK)->m, 0, 1, 5) &&
	    ack_is(&reply_to(8, REPLY_OK)->m, 1, 2, 8));
	CHECK(reply_ok(reply_to(9, REPLY_OK), 9, 2) &&
	    ack_is(&reply_to(9, REPLY_OK)->m, 0, 1, 6) &&
	    ack_is(&reply_to(9, REPLY_OK)->m, 1, 2, 7));
	flush(T0 + 15);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(count_to(MSG_CHOSEN, AUTH_LEARNER) == 1 && m != NULL &&
	    m->n == 6 && m->e[0].slot == 3 && m->e[5].slot == 8 &&
	    entry_is(&m->e[5].e, 8, 2, "x2"));
	CHECK(all_encode());

	/* A tick flushes too: what a receive proposed goes out. */
	clear();
	submit(T0 + 16, CLIENT, 5, 4, "e");
	CHECK(ob.n == 0);
	proposer_tick(&p, T0 + 16, 0, &ob);
	m = first(MSG_ACCEPT);
	CHECK(count(MSG_ACCEPT) == 1 && m != NULL && m->n == 1 &&
	    m->e[0].slot == 9 && entry_is(&m->e[0].e, CLIENT, 5, "e"));
	clear();
	accepted(T0 + 17, 1, B(1, 1), 9);
	accepted(T0 + 17, 2, B(1, 1), 9);
	CHECK(count(MSG_CHOSEN) == 0);
	proposer_tick(&p, T0 + 17, 0, &ob);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 9 &&
	    p.announced == 10);
}

/* A REPLY_REDIRECT to client naming leader, with no acks. */
static bool
redirect_is(const struct out *o, uint64_t client, uint32_t leader)
{
	return o != NULL && o->role == AUTH_CLIENT && o->client == client &&
	    o->m.type == MSG_REPLY && o->m.client == client &&
	    o->m.status == REPLY_REDIRECT && o->m.leader == leader &&
	    o->m.n == 0;
}

static void
test_redirect(void)
{
	init(1);
	submit(T0, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && count(MSG_REPLY) == 1);
	CHECK(redirect_is(nth(MSG_REPLY, 0), CLIENT, 0));
	CHECK(outs[0].role == AUTH_CLIENT && outs[0].client == CLIENT);
	/* Not leading, a flush sends nothing. */
	flush(T0);
	CHECK(ob.n == 1 && p.next_slot == 1);

	/* Several values in a datagram: one redirect for it. */
	clear();
	submit_start(CLIENT);
	add_value(1, 0, "v1");
	add_value(2, 0, "v2");
	add_value(3, 0, "v3");
	submit_send(T0);
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 0));
	/* One a datagram: the next gets its own. */
	submit_send(T0);
	CHECK(ob.n == 2 && redirect_is(nth(MSG_REPLY, 1), CLIENT, 0));
	CHECK(p.next_slot == 1);

	/* A follower that knows the leader names it. */
	clear();
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	in.commit = 1;
	deliver(T0, AUTH_PROPOSER, 2);
	submit(T0, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 2));

	/* Still preparing: not yet, and it names itself. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	submit(T0, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 1));
	flush(T0);
	CHECK(ob.n == 1 && p.next_slot == 1);

	/* Only a client may submit. */
	clear();
	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	flush(T0 + 5);
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	in.e[0].e.seq = 2;
	deliver(T0 + 6, AUTH_PROPOSER, 2);
	deliver(T0 + 6, AUTH_ACCEPTOR, 1);
	deliver(T0 + 6, AUTH_LEARNER, 1);
	flush(T0 + 6);
	CHECK(ob.n == 0 && p.next_slot == 2);
	/* From a client it goes. */
	submit_send(T0 + 7);
	flush(T0 + 7);
	CHECK(count(MSG_ACCEPT) == 1 && p.next_slot == 3);
}

/*
 * What the acceptors report after leader 2 (ballot 5) went quiet:
 * acceptor 1 has slot 1 from ballot 4 and slot 3 from ballot 5,
 * acceptor 2 has slot 1 from ballot 5.
 */
static void
promise_from_1(uint64_t now)
{
	promise(B(6, 1), 1, SLOT_NONE, 3, 1);
	add_entry(1, B(4, 2), 11, 1, "old");
	add_entry(3, B(5, 2), 11, 3, "three");
	deliver(now, AUTH_ACCEPTOR, 1);
}

static void
promise_from_2(uint64_t now)
{
	promise(B(6, 1), 1, SLOT_NONE, 1, 1);
	add_entry(1, B(5, 2), 12, 1, "new");
	deliver(now, AUTH_ACCEPTOR, 2);
}

static void
test_recovery(void)
{
	const struct msg *m;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		diag("recovery, %s ballot first", pass == 0 ? "lower" :
		    "higher");
		init(1);
		msg_init(&in, MSG_COMMIT);
		in.ballot = B(5, 2);
		in.commit = 1;
		deliver(T0, AUTH_PROPOSER, 2);
		proposer_tick(&p, T0 + 3 * TIMEOUT, 0, &ob);
		CHECK(count(MSG_PREPARE) == 3 && count(MSG_ACCEPT) == 0);
		m = first(MSG_PREPARE);
		CHECK(m != NULL && same(m->ballot, B(6, 1)) && m->slot == 1);
		clear();
		if (pass == 0) {
			promise_from_1(T0 + 301);
			CHECK(ob.n == 0 && !proposer_is_leader(&p));
			promise_from_2(T0 + 302);
		} else {
			promise_from_2(T0 + 301);
			CHECK(ob.n == 0 && !proposer_is_leader(&p));
			promise_from_1(T0 + 302);
		}
		CHECK(proposer_is_leader(&p));
		CHECK(p.next_slot == 4);
		CHECK(count(MSG_ACCEPT) == 1 && count(MSG_COMMIT) == 3);
		m = first(MSG_ACCEPT);
		CHECK(m != NULL && same(m->ballot, B(6, 1)) && m->n == 3);
		/* Slot 1: the value of the higher ballot (P2c). */
		CHECK(m != NULL && m->e[0].slot == 1 &&
		    entry_is(&m->e[0].e, 12, 1, "new"));
		/* Slot 2: nobody accepted anything; a no-op fills it. */
		CHECK(m != NULL && m->e[1].slot == 2 &&
		    entry_is(&m->e[1].e, 0, 0, NULL));
		CHECK(m != NULL && m->e[2].slot == 3 &&
		    entry_is(&m->e[2].e, 11, 3, "three"));

		CHECK(all_encode());

		/* Fresh values go after what was recovered. */
		clear();
		submit(T0 + 303, CLIENT, 1, 0, "fresh");
		CHECK(ob.n == 0);
		flush(T0 + 303);
		m = first(MSG_ACCEPT);
		CHECK(ob.n == 1 && m != NULL && m->n == 1 &&
		    m->e[0].slot == 4 &&
		    entry_is(&m->e[0].e, CLIENT, 1, "fresh"));
	}

	/* The recovered values are replied to once chosen. */
	clear();
	accepted(T0 + 310, 1, B(6, 1), 1);
	accepted(T0 + 310, 2, B(6, 1), 1);
	CHECK(count(MSG_REPLY) == 1 && reply_ok(nth(MSG_REPLY, 0), 12, 1) &&
	    ack_is(first(MSG_REPLY), 0, 1, 1));
	flush(T0 + 310);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, 12, 1, "new"));
	clear();
	accepted(T0 + 311, 1, B(6, 1), 2);
	accepted(T0 + 311, 3, B(6, 1), 2);
	CHECK(p.commit == 3 && ob.n == 0);
	flush(T0 + 311);
	CHECK(count(MSG_REPLY) == 0 &&
	    count_to(MSG_CHOSEN, AUTH_LEARNER) == 1);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 2 &&
	    m->e[0].e.kind == ENTRY_NOOP);
}

static void
test_paging(void)
{
	const struct out *o;
	const struct msg *m;

	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	/* Acceptor 1 sends a first page, up to slot 65. */
	promise(B(1, 1), 1, 65, 100, 1);
	add_entry(1, B(1, 1), 5, 1, "a");
	deliver(T0 + 1, AUTH_ACCEPTOR, 1);
	CHECK(ob.n == 1 && count(MSG_PREPARE) == 1);
	o = nth(MSG_PREPARE, 0);
	CHECK(o != NULL && o->role == AUTH_ACCEPTOR && o->id == 1);
	CHECK(o != NULL && same(o->m.ballot, B(1, 1)) && o->m.slot == 65 &&
	    o->m.count == 1 + PROPOSER_WINDOW - 65);
	CHECK(p.state == PROPOSER_PREPARING);

	/* A repeat of the first page asks for nothing more. */
	clear();
	deliver(T0 + 2, AUTH_ACCEPTOR, 1);
	CHECK(ob.n == 0);

	/* Acceptor 2 is empty; acceptor 1 still owes pages: no quorum. */
	promise(B(1, 1), 1, SLOT_NONE, 0, 1);
	deliver(T0 + 3, AUTH_ACCEPTOR, 2);
	CHECK(p.state == PROPOSER_PREPARING && ob.n == 0);

	/* Unanswered pages are asked for again after a timeout. */
	proposer_tick(&p, T0 + TIMEOUT - 1, 0, &ob);
	CHECK(quiet());
	proposer_tick(&p, T0 + TIMEOUT, 0, &ob);
	CHECK(count(MSG_PREPARE) == 2);
	CHECK(nth(MSG_PREPARE, 0)->id == 1 && nth(MSG_PREPARE, 0)->m.slot ==
	    65);
	CHECK(nth(MSG_PREPARE, 1)->id == 3 && nth(MSG_PREPARE, 1)->m.slot ==
	    1);

	/* The last page: slot 100, and the window is recovered. */
	clear();
	promise(B(1, 1), 65, SLOT_NONE, 100, 1);
	add_entry(100, B(1, 1), 5, 2, "b");
	deliver(T0 + TIMEOUT + 1, AUTH_ACCEPTOR, 1);
	CHECK(proposer_is_leader(&p) && !p.recovering);
	CHECK(p.next_slot == 101);
	m = first(MSG_ACCEPT);
	CHECK(count(MSG_ACCEPT) == 1);	/* 100 entries: one message */
	CHECK(m != NULL && m->n == 100 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, 5, 1, "a") && m->e[1].slot == 2 &&
	    entry_is(&m->e[1].e, 0, 0, NULL));
	CHECK(m != NULL && m->e[m->n - 1].slot == 100 &&
	    entry_is(&m->e[m->n - 1].e, 5, 2, "b"));
	CHECK(all_encode());

	/* An acceptor that knows more is chosen moves the scan on. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	promise(B(1, 1), 1, SLOT_NONE, 40, 31);
	deliver(T0 + 1, AUTH_ACCEPTOR, 3);
	CHECK(p.commit == 31 && p.announced == 31 && count(MSG_PREPARE) == 3);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && m->slot == 31 && m->count == PROPOSER_WINDOW);
	/* Leading from there, with its learner still at slot 1: it does
	 * not yet know what the log holds, so it takes no values. */
	clear();
	promise(B(1, 1), 31, SLOT_NONE, 0, 31);
	deliver(T0 + 2, AUTH_ACCEPTOR, 1);
	deliver(T0 + 2, AUTH_ACCEPTOR, 2);
	CHECK(proposer_is_leader(&p) && !p.recovering && p.next_slot == 31);
	CHECK(p.lrn.next < p.commit);
	clear();
	submit(T0 + 3, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 1));
	flush(T0 + 3);
	CHECK(ob.n == 1 && p.next_slot == 31);
}

/*
 * A window whose acceptors have more beyond it: leading, but recovering
 * until the next window is done; the flush that announces the first
 * window's slots opens the next.
 */
static void
test_windows(void)
{
	const struct msg *m;
	uint64_t end = 1 + PROPOSER_WINDOW;

	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	promise(B(1, 1), 1, end, 2 * PROPOSER_WINDOW, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 2);
	CHECK(proposer_is_leader(&p) && p.recovering);
	CHECK(p.next_slot == end && p.scan == end);
	/* The whole window, no-ops, in as few ACCEPTs as hold it. */
	CHECK(count(MSG_ACCEPT) == PAGES);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == MSG_MAX_ENTRIES && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, 0, 0, NULL));
	m = nth_msg(MSG_ACCEPT, PAGES - 1);
	CHECK(m != NULL && m->n == MSG_MAX_ENTRIES &&
	    m->e[MSG_MAX_ENTRIES - 1].slot == end - 1 &&
	    entry_is(&m->e[MSG_MAX_ENTRIES - 1].e, 0, 0, NULL));
	CHECK(all_encode());

	/* Recovering: values wait, the leader names itself. */
	clear();
	submit(T0 + 2, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 1));

	/* All chosen; the next window waits for the flush. */
	clear();
	accepted_range(T0 + 3, 1, B(1, 1), 1, PROPOSER_WINDOW);
	accepted_range(T0 + 3, 3, B(1, 1), 1, PROPOSER_WINDOW);
	CHECK(p.commit == end && p.announced == 1 && ob.n == 0);
	flush(T0 + 3);
	CHECK(p.announced == end);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(count_to(MSG_CHOSEN, AUTH_LEARNER) == PAGES && m != NULL &&
	    m->n == MSG_MAX_ENTRIES && m->e[0].slot == 1);
	CHECK(count_to(MSG_CHOSEN, AUTH_PROPOSER) == PAGES);
	CHECK(count(MSG_PREPARE) == 3 && p.window_open);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->slot == end &&
	    m->count == PROPOSER_WINDOW);
	CHECK(all_encode());

	/* The last window: nothing beyond; values are taken again. */
	clear();
	promise(B(1, 1), end, SLOT_NONE, 0, end);
	deliver(T0 + 4, AUTH_ACCEPTOR, 2);
	deliver(T0 + 4, AUTH_ACCEPTOR, 3);
	CHECK(proposer_is_leader(&p) && !p.recovering && p.next_slot == end);
	clear();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	flush(T0 + 5);
	m = first(MSG_ACCEPT);
	CHECK(ob.n == 1 && m != NULL && m->n == 1 && m->e[0].slot == end &&
	    entry_is(&m->e[0].e, CLIENT, 1, "v1"));
}

/*
 * The ring holds PROPOSER_WINDOW slots from the first not announced: a
 * slot chosen but not yet announced still holds its cell, since the
 * CHOSEN the flush sends points into it.
 */
static void
test_ring(void)
{
	static uint8_t bytes[PROPOSER_WINDOW + 1];
	const struct out *o;
	const struct msg *m;
	unsigned i;

	for (i = 0; i <= PROPOSER_WINDOW; i++)
		bytes[i] = (uint8_t)(i * 3 + 1);
	lead();
	for (i = 1; i <= PROPOSER_WINDOW; i++) {
		if (i % MSG_MAX_ENTRIES == 1)
			submit_start(CLIENT);
		add_bytes(i, 0, &bytes[i - 1], 1);
		if (in.n == MSG_MAX_ENTRIES)
			submit_send(T0 + 10);
	}
	CHECK(ob.n == 0 && p.next_slot == 1 + PROPOSER_WINDOW);
	flush(T0 + 10);
	CHECK(count(MSG_ACCEPT) == PAGES);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == MSG_MAX_ENTRIES && m->e[0].slot == 1 &&
	    m->e[0].e.seq == 1 && m->e[0].e.val[0] == bytes[0]);
	m = nth_msg(MSG_ACCEPT, PAGES - 1);
	CHECK(m != NULL && m->n == MSG_MAX_ENTRIES &&
	    m->e[MSG_MAX_ENTRIES - 1].slot == PROPOSER_WINDOW &&
	    m->e[MSG_MAX_ENTRIES - 1].e.seq == PROPOSER_WINDOW &&
	    m->e[MSG_MAX_ENTRIES - 1].e.val[0] ==
	    bytes[PROPOSER_WINDOW - 1]);
	CHECK(all_encode());

	/* Full: the next value is not taken, and the client is told. */
	clear();
	submit(T0 + 11, CLIENT, PROPOSER_WINDOW + 1, 0, "z");
	CHECK(p.next_slot == 1 + PROPOSER_WINDOW);
	o = reply_to(CLIENT, REPLY_BUSY);
	CHECK(ob.n == 1 && o != NULL && o->role == AUTH_CLIENT &&
	    o->m.client == CLIENT && o->m.n == 0);
	/* Once an outbox. */
	submit_send(T0 + 11);
	CHECK(ob.n == 1);
	CHECK(all_encode());

	/* Slot 1 chosen: committed, not announced, its cell still taken. */
	clear();
	accepted(T0 + 12, 1, B(1, 1), 1);
	accepted(T0 + 12, 2, B(1, 1), 1);
	CHECK(p.commit == 2 && p.announced == 1);
	CHECK(ob.n == 1 && reply_ok(nth(MSG_REPLY, 0), CLIENT, 1) &&
	    ack_is(first(MSG_REPLY), 0, 1, 1));
	submit(T0 + 12, CLIENT, PROPOSER_WINDOW + 1, 0, "z");
	CHECK(p.next_slot == 1 + PROPOSER_WINDOW);
	CHECK(ob.n == 2 && reply_to(CLIENT, REPLY_BUSY) != NULL);
	/* The flush announces slot 1 with the value it had. */
	flush(T0 + 12);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    m->e[0].e.seq == 1 && m->e[0].e.len == 1 &&
	    m->e[0].e.val[0] == bytes[0]);
	CHECK(p.announced == 2);

	/* Now there is room for one more. */
	clear();
	submit(T0 + 13, CLIENT, PROPOSER_WINDOW + 1, 0, "z");
	CHECK(ob.n == 0 && p.next_slot == 2 + PROPOSER_WINDOW);
	submit(T0 + 13, CLIENT, PROPOSER_WINDOW + 2, 0, "y");
	CHECK(p.next_slot == 2 + PROPOSER_WINDOW &&
	    reply_to(CLIENT, REPLY_BUSY) != NULL);
	flush(T0 + 13);
	m = first(MSG_ACCEPT);
	CHECK(count(MSG_ACCEPT) == 1 && m != NULL && m->n == 1 &&
	    m->e[0].slot == 1 + PROPOSER_WINDOW &&
	    entry_is(&m->e[0].e, CLIENT, PROPOSER_WINDOW + 1, "z"));
}

/*
 * Packing goes by size too: every ACCEPT fits in a datagram, in as few
 * as the values allow, in slot order.
 */
static void
test_pack(void)
{
	static uint8_t big[VALUE_MAX];
	const struct msg *m;

	memset(big, 'b', sizeof(big));
	lead();
	submit_start(CLIENT);
	add_bytes(1, 0, big, VALUE_MAX);
	submit_send(T0 + 10);
	submit_start(CLIENT);
	add_bytes(2, 0, big, VALUE_MAX);
	submit_send(T0 + 10);
	submit(T0 + 10, CLIENT, 3, 0, "s");
	CHECK(ob.n == 0 && p.next_slot == 4);
	flush(T0 + 10);
	CHECK(count(MSG_ACCEPT) == 2 && all_encode());
	m = nth_msg(MSG_ACCEPT, 0);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    m->e[0].e.len == VALUE_MAX);
	m = nth_msg(MSG_ACCEPT, 1);
	CHECK(m != NULL && m->n == 2 && m->e[0].slot == 2 &&
	    m->e[0].e.len == VALUE_MAX && m->e[1].slot == 3 &&
	    entry_is(&m->e[1].e, CLIENT, 3, "s"));

	/* Announced the same way. */
	clear();
	accepted_n(T0 + 11, 1, B(1, 1), 1, 3);
	accepted_n(T0 + 11, 2, B(1, 1), 1, 3);
	flush(T0 + 11);
	CHECK(count_to(MSG_CHOSEN, AUTH_LEARNER) == 2 &&
	    count_to(MSG_CHOSEN, AUTH_PROPOSER) == 2 && all_encode());
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1);
	CHECK(reply_ok(nth(MSG_REPLY, 0), CLIENT, 3));
}

/* A REPLY holds MSG_MAX_ENTRIES acks; more go in another. */
static void
test_many_acks(void)
{
	const struct msg *m;
	unsigned i;

	lead();
	submit_start(9);
	for (i = 1; i <= MSG_MAX_ENTRIES; i++)
		add_value(i, 300, "old");
	submit_send(T0 + 10);
	submit_start(9);
	for (i = MSG_MAX_ENTRIES + 1; i <= MSG_MAX_ENTRIES + 4; i++)
		add_value(i, 300, "old");
	submit_send(T0 + 10);
	/* All committed by the client's word, positions unknown. */
	CHECK(ob.n == 2 && count(MSG_REPLY) == 2 && p.next_slot == 1);
	CHECK(reply_ok(nth(MSG_REPLY, 0), 9, MSG_MAX_ENTRIES) &&
	    reply_ok(nth(MSG_REPLY, 1), 9, 4));
	m = first(MSG_REPLY);
	CHECK(ack_is(m, 0, 1, 0) &&
	    ack_is(m, MSG_MAX_ENTRIES - 1, MSG_MAX_ENTRIES, 0));
	m = nth_msg(MSG_REPLY, 1);
	CHECK(ack_is(m, 0, MSG_MAX_ENTRIES + 1, 0) &&
	    ack_is(m, 3, MSG_MAX_ENTRIES + 4, 0));
	CHECK(all_encode());
	flush(T0 + 10);
	CHECK(ob.n == 2);
}

static void
test_step_down(void)
{
	const struct msg *m;

	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	flush(T0 + 5);
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	/* A NACK for a lower ballot is old news. */
	msg_init(&in, MSG_NACK);
	in.ballot = B(0, 3);
	deliver(T0 + 6, AUTH_ACCEPTOR, 1);
	CHECK(proposer_is_leader(&p));
	/* A higher one: another proposer has taken over. */
	in.ballot = B(2, 2);
	deliver(T0 + 7, AUTH_ACCEPTOR, 1);
	CHECK(p.state == PROPOSER_FOLLOWER && !proposer_is_leader(&p));
	CHECK(p.leader == 2);
	CHECK(ob.n == 0);
	/* Its votes for our old ballot no longer count. */
	accepted(T0 + 8, 1, B(1, 1), 1);
	accepted(T0 + 8, 2, B(1, 1), 1);
	flush(T0 + 8);
	CHECK(ob.n == 0 && p.commit == 1 && p.announced == 1);
	submit(T0 + 9, CLIENT, 2, 0, "v2");
	CHECK(ob.n == 1 && redirect_is(nth(MSG_REPLY, 0), CLIENT, 2));

	/* Proposed but not flushed when it steps down: never sent. */
	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	msg_init(&in, MSG_NACK);
	in.ballot = B(2, 2);
	deliver(T0 + 6, AUTH_ACCEPTOR, 2);
	CHECK(p.state == PROPOSER_FOLLOWER);
	flush(T0 + 6);
	CHECK(ob.n == 0);
	/* Chosen, not announced, when it steps down: not announced. */
	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	flush(T0 + 5);
	clear();
	accepted(T0 + 6, 1, B(1, 1), 1);
	accepted(T0 + 6, 2, B(1, 1), 1);
	CHECK(p.commit == 2 && p.announced == 1);
	clear();
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(2, 2);
	in.commit = 2;
	deliver(T0 + 7, AUTH_PROPOSER, 2);
	CHECK(p.state == PROPOSER_FOLLOWER && p.announced == 2);
	flush(T0 + 7);
	CHECK(quiet());

	/* The next election outbids what was seen. */
	clear();
	proposer_tick(&p, T0 + 7 + 5 * TIMEOUT, 0, &ob);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && same(m->ballot, B(3, 1)));

	/* A NACK while preparing also stops phase 1. */
	clear();
	msg_init(&in, MSG_NACK);
	in.ballot = B(4, 2);
	deliver(T0 + 8 + 5 * TIMEOUT, AUTH_ACCEPTOR, 3);
	CHECK(p.state == PROPOSER_FOLLOWER && p.leader == 2);
}

static void
test_follower(void)
{
	const struct msg *m;

	/* A heartbeat from leader 2 at T0: no election for 3 timeouts. */
	init(1);
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	in.commit = 9;
	deliver(T0, AUTH_PROPOSER, 2);
	CHECK(p.state == PROPOSER_FOLLOWER && p.leader == 2);
	CHECK(p.commit == 9);
	proposer_tick(&p, T0, 0, &ob);
	proposer_tick(&p, T0 + 3 * TIMEOUT - 1, 0, &ob);
	CHECK(quiet() && p.state == PROPOSER_FOLLOWER);
	proposer_tick(&p, T0 + 3 * TIMEOUT, 0, &ob);
	CHECK(p.state == PROPOSER_PREPARING && count(MSG_PREPARE) == 3);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && same(m->ballot, B(4, 1)) && m->slot == 9);

	/* The random draw spreads the timeout over 3 to 5 timeouts. */
	init(1);
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	proposer_receive(&p, T0, 50, AUTH_PROPOSER, 2, &in, &ob);
	proposer_tick(&p, T0 + 3 * TIMEOUT + 49, 0, &ob);
	CHECK(quiet());
	proposer_tick(&p, T0 + 3 * TIMEOUT + 50, 0, &ob);
	CHECK(count(MSG_PREPARE) == 3);

	/* Each heartbeat pushes the election back. */
	init(1);
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	deliver(T0, AUTH_PROPOSER, 2);
	deliver(T0 + 2 * TIMEOUT, AUTH_PROPOSER, 2);
	proposer_tick(&p, T0 + 3 * TIMEOUT, 0, &ob);
	CHECK(quiet());
	proposer_tick(&p, T0 + 5 * TIMEOUT - 1, 0, &ob);
	CHECK(quiet());
	proposer_tick(&p, T0 + 5 * TIMEOUT, 0, &ob);
	CHECK(count(MSG_PREPARE) == 3);

	/* A COMMIT from an acceptor, or our own, is not a heartbeat. */
	init(1);
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	deliver(T0, AUTH_ACCEPTOR, 2);
	in.ballot = B(3, 1);
	deliver(T0, AUTH_PROPOSER, 1);
	proposer_tick(&p, T0, 0, &ob);
	CHECK(count(MSG_PREPARE) == 3);

	/* Leading, a heartbeat of a higher ballot steps us down. */
	lead();
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(2, 2);
	deliver(T0 + 5, AUTH_PROPOSER, 2);
	CHECK(p.state == PROPOSER_FOLLOWER && p.leader == 2);
	/* A lower one does not. */
	lead();
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(0, 2);
	deliver(T0 + 5, AUTH_PROPOSER, 2);
	CHECK(proposer_is_leader(&p));
}

static void
test_rank(void)
{
	const struct msg *m;

	/* Proposer 2 is second in line: it waits two timeouts. */
	init(2);
	CHECK(p.rank == 1);
	proposer_tick(&p, T0, 0, &ob);
	proposer_tick(&p, T0 + 2 * TIMEOUT - 1, 0, &ob);
	CHECK(quiet() && p.state == PROPOSER_FOLLOWER);
	proposer_tick(&p, T0 + 2 * TIMEOUT, 0, &ob);
	CHECK(p.state == PROPOSER_PREPARING && count(MSG_PREPARE) == 3);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && same(m->ballot, B(1, 2)));

	/* After a restart, never a round it may have used before. */
	proposer_init(&p, 1, accs, 3, props, 2, TIMEOUT, valbuf, 7, T0);
	clear();
	proposer_tick(&p, T0, 0, &ob);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && same(m->ballot, B(8, 1)));
	CHECK(p.ballot.round == 8);
}

static void
test_retransmit(void)
{
	const struct msg *m;
	uint64_t t;

	/*
	 * Before any round trip is measured, an ACCEPT goes again after
	 * PROPOSER_MIN_RTO_MS, not sooner.
	 */
	lead();
	t = T0 + 10;
	submit(t, CLIENT, 1, 0, "v1");
	flush(t);
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	proposer_tick(&p, t + PROPOSER_MIN_RTO_MS - 1, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	proposer_tick(&p, t + PROPOSER_MIN_RTO_MS, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 1);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->n == 1 &&
	    m->e[0].slot == 1 && entry_is(&m->e[0].e, CLIENT, 1, "v1"));
	t += PROPOSER_MIN_RTO_MS;

	/* One vote in: still short of a quorum, still sent again. */
	accepted(t + 1, 3, B(1, 1), 1);
	clear();
	proposer_tick(&p, t + PROPOSER_MIN_RTO_MS - 1, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	proposer_tick(&p, t + PROPOSER_MIN_RTO_MS, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 1);
	t += PROPOSER_MIN_RTO_MS;
	/* Chosen after a long round trip: no more; the tick announces it. */
	accepted(t + 10 * TIMEOUT, 1, B(1, 1), 1);
	CHECK(p.commit == 2);
	clear();
	proposer_tick(&p, t + 10 * TIMEOUT, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	CHECK(count_to(MSG_CHOSEN, AUTH_LEARNER) == 1 && p.announced == 2);
	clear();
	proposer_tick(&p, t + 12 * TIMEOUT, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0 && count(MSG_CHOSEN) == 0);

	/* With round trips that long, the wait is the timeout, no more. */
	t += 12 * TIMEOUT;
	submit(t, CLIENT, 2, 1, "v2");
	flush(t);
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	proposer_tick(&p, t + TIMEOUT - 1, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	proposer_tick(&p, t + TIMEOUT, 0, &ob);
	m = first(MSG_ACCEPT);
	CHECK(count(MSG_ACCEPT) == 1 && m != NULL && m->n == 1 &&
	    m->e[0].slot == 2 && entry_is(&m->e[0].e, CLIENT, 2, "v2"));

	/* Phase 1 is retried too, to those that did not answer. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	promise(B(1, 1), 1, SLOT_NONE, 0, 1);
	deliver(T0 + 1, AUTH_ACCEPTOR, 2);
	clear();
	proposer_tick(&p, T0 + TIMEOUT - 1, 0, &ob);
	CHECK(quiet());
	proposer_tick(&p, T0 + TIMEOUT, 0, &ob);
	CHECK(count(MSG_PREPARE) == 2 && nth(MSG_PREPARE, 0)->id == 1 &&
	    nth(MSG_PREPARE, 1)->id == 3);
}

/*
 * The message built in `in`, as the daemon takes it: opened into the
 * intake the proposer hands out, and decoded there.  Where it went.
 */
static const uint8_t *
via_intake(uint64_t now, uint8_t role, uint32_t id)
{
	static uint8_t enc[MSG_MAX];
	uint8_t *at = proposer_intake(&p);
	size_t len = msg_encode(&in, enc, sizeof(enc));

	if (at == NULL || len == 0)
		return NULL;
	memcpy(at, enc, len);
	if (msg_decode(&in, at, len) != 0)
		return NULL;
	deliver(now, role, id);
	return at;
}

static const uint8_t *
submit_via_intake(uint64_t now)
{
	return via_intake(now, AUTH_CLIENT, (uint32_t)in.client);
}

static bool
within(const uint8_t *v, const uint8_t *at, size_t len)
{
	return v != NULL && at != NULL && (uintptr_t)v >= (uintptr_t)at &&
	    (uintptr_t)v < (uintptr_t)at + len;
}

static void
test_intake(void)
{
	const uint8_t *a, *b, *c;
	const struct msg *m;

	lead();
	CHECK(p.n_intake_free == PROPOSER_INTAKES);
	/*
	 * Proposed where they lie: the ACCEPT points into the intake, which
	 * is not handed out again while its values are in flight.
	 */
	submit_start(CLIENT);
	add_value(1, 0, "one");
	add_value(2, 0, "two");
	a = submit_via_intake(T0 + 10);
	CHECK(a != NULL && p.next_slot == 3);
	b = proposer_intake(&p);
	CHECK(b != NULL && b != a && p.n_intake_free == PROPOSER_INTAKES - 1);
	flush(T0 + 10);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 2 && within(m->e[0].e.val, a, MSG_MAX) &&
	    within(m->e[1].e.val, a, MSG_MAX) &&
	    entry_is(&m->e[0].e, CLIENT, 1, "one") &&
	    entry_is(&m->e[1].e, CLIENT, 2, "two"));
	/* A datagram none of whose values is taken leaves its intake free. */
	clear();
	submit_start(CLIENT);
	add_value(2, 0, "two");
	c = submit_via_intake(T0 + 11);
	CHECK(c == b && proposer_intake(&p) == b &&
	    p.n_intake_free == PROPOSER_INTAKES - 1);
	/* Values decoded anywhere else are copied into the slot's own buffer. */
	submit(T0 + 12, CLIENT, 3, 0, "three");
	clear();
	flush(T0 + 12);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 1 && entry_is(&m->e[0].e, CLIENT, 3,
	    "three") && within(m->e[0].e.val, valbuf,
	    (size_t)PROPOSER_WINDOW * VALUE_MAX));
	/* Chosen and announced, from where they lay; then the intake is free. */
	clear();
	accepted_n(T0 + 13, 1, B(1, 1), 1, 3);
	accepted_n(T0 + 13, 2, B(1, 1), 1, 3);
	CHECK(p.commit == 4 && p.n_intake_free == PROPOSER_INTAKES - 1);
	flush(T0 + 13);
	m = first(MSG_CHOSEN);
	CHECK(m != NULL && m->n == 3 && within(m->e[0].e.val, a, MSG_MAX) &&
	    entry_is(&m->e[0].e, CLIENT, 1, "one") &&
	    entry_is(&m->e[1].e, CLIENT, 2, "two") &&
	    entry_is(&m->e[2].e, CLIENT, 3, "three"));
	CHECK(p.n_intake_free == PROPOSER_INTAKES && proposer_intake(&p) == a);
}

/*
 * A whole window of one-value datagrams: each holds an intake of its
 * own, one is still left for the next datagram, and every value is
 * intact; stepping down lets go of them all.
 */
static void
test_intake_full(void)
{
	char val[PROPOSER_WINDOW + 1][8];
	const struct msg *m;
	unsigned i, k, n = 0, bad = 0;

	lead();
	for (i = 1; i <= PROPOSER_WINDOW; i++) {
		snprintf(val[i], sizeof(val[i]), "v%u", i);
		submit_start(CLIENT);
		add_value(i, 0, val[i]);
		if (submit_via_intake(T0 + 10) == NULL)
			bad++;
	}
	CHECK(bad == 0 && p.next_slot == 1 + PROPOSER_WINDOW);
	CHECK(p.n_intake_free == 1 && proposer_intake(&p) != NULL);
	flush(T0 + 10);
	for (k = 0; (m = nth_msg(MSG_ACCEPT, k)) != NULL; k++)
		for (i = 0; i < m->n; i++, n++)
			if (!entry_is(&m->e[i].e, CLIENT, m->e[i].slot,
			    val[m->e[i].slot]) || !within(m->e[i].e.val,
			    p.intake, (size_t)PROPOSER_INTAKES * MSG_MAX))
				bad++;
	CHECK(n == PROPOSER_WINDOW && bad == 0);
	/* The window is full: a value more is refused, its intake kept. */
	clear();
	submit_start(CLIENT);
	add_value(PROPOSER_WINDOW + 1, 0, "z");
	CHECK(submit_via_intake(T0 + 11) != NULL && p.n_intake_free == 1);
	clear();
	msg_init(&in, MSG_NACK);
	in.ballot = B(9, 2);
	deliver(T0 + 12, AUTH_ACCEPTOR, 1);
	/* Let go of, but free only once the outbox has been sent. */
	CHECK(p.state == PROPOSER_FOLLOWER && p.n_intake_free == 1);
	flush(T0 + 12);
	CHECK(p.n_intake_free == PROPOSER_INTAKES);
}

/*
 * Phase 1 reports are held where they lie too.  A value of a higher
 * ballot replacing one from an earlier report frees that report's intake,
 * and does not make the rest of its own report copied.
 */
static void
test_intake_recovery(void)
{
	static char junk[1024];
	const uint8_t *a, *b;
	const struct msg *m;

	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	promise(B(1, 1), 1, SLOT_NONE, 2, 1);
	add_entry(1, B(0, 2), 11, 1, "low1");
	a = via_intake(T0 + 1, AUTH_ACCEPTOR, 1);
	CHECK(a != NULL && p.n_intake_free == PROPOSER_INTAKES - 1);
	promise(B(1, 1), 1, SLOT_NONE, 2, 1);
	add_entry(1, B(0, 3), 12, 1, "high1");
	add_entry(2, B(0, 3), 12, 2, "high2");
	b = via_intake(T0 + 2, AUTH_ACCEPTOR, 2);
	CHECK(b != NULL && b != a && proposer_is_leader(&p));
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 2 &&
	    entry_is(&m->e[0].e, 12, 1, "high1") &&
	    entry_is(&m->e[1].e, 12, 2, "high2") &&
	    within(m->e[0].e.val, b, MSG_MAX) &&
	    within(m->e[1].e.val, b, MSG_MAX));
	/*
	 * In the same batch, before the outbox goes out, a NACK makes us
	 * step down.  The next datagram must not land where the ACCEPT's
	 * values lie: intakes are freed only once the outbox is sent.
	 */
	msg_init(&in, MSG_NACK);
	in.ballot = B(9, 2);
	deliver(T0 + 3, AUTH_ACCEPTOR, 3);
	CHECK(p.state == PROPOSER_FOLLOWER);
	memset(junk, 'X', sizeof(junk) - 1);
	submit_start(CLIENT);
	add_value(1, 0, junk);
	CHECK(via_intake(T0 + 3, AUTH_CLIENT, CLIENT) == proposer_intake(&p) &&
	    proposer_intake(&p) != a && proposer_intake(&p) != b);
	CHECK(m != NULL && entry_is(&m->e[0].e, 12, 1, "high1") &&
	    entry_is(&m->e[1].e, 12, 2, "high2"));
	flush(T0 + 3);
	CHECK(p.n_intake_free == PROPOSER_INTAKES);
}

/*
 * Intakes can run out: a window of values each in a phase 1 report of
 * its own holds all but one, and values replaced by higher ballots wait
 * for the next flush before their intakes are free.  The caller then
 * opens datagrams into a buffer of its own, and values are copied.
 */
static void
test_intake_none_free(void)
{
	static char val[2][PROPOSER_WINDOW + 1][8];
	static uint8_t enc[MSG_MAX], own[MSG_MAX];
	const struct msg *m;
	unsigned a, k, n = 0, copied = 0, bad = 0;
	uint64_t s;
	size_t len;

	init(1);
	proposer_tick(&p, T0, 0, &ob);
	for (a = 0; a < 2; a++) {
		for (s = 1; s <= PROPOSER_WINDOW; s++) {
			clear();
			snprintf(val[a][s], sizeof(val[a][s]), "%c%u",
			    a == 0 ? 'l' : 'h', (unsigned)s);
			promise(B(1, 1), s, s < PROPOSER_WINDOW ? s + 1 :
			    SLOT_NONE, PROPOSER_WINDOW, 1);
			add_entry(s, B(0, 2 + a), 11, s, val[a][s]);
			if (proposer_intake(&p) != NULL) {
				if (via_intake(T0 + 1, AUTH_ACCEPTOR, 1 + a) ==
				    NULL)
					bad++;
				continue;
			}
			copied++;
			len = msg_encode(&in, enc, sizeof(enc));
			memcpy(own, enc, len);
			if (msg_decode(&in, own, len) != 0)
				bad++;
			deliver(T0 + 1, AUTH_ACCEPTOR, 1 + a);
			memset(own, 'X', len);
		}
		if (a == 0)
			CHECK(p.n_intake_free == 1 && bad == 0);
	}
	CHECK(bad == 0 && copied == PROPOSER_WINDOW - 1);
	CHECK(proposer_is_leader(&p) && p.next_slot == 1 + PROPOSER_WINDOW);
	for (k = 0; (m = nth_msg(MSG_ACCEPT, k)) != NULL; k++)
		for (a = 0; a < m->n; a++, n++)
			if (!entry_is(&m->e[a].e, 11, m->e[a].slot,
			    val[1][m->e[a].slot]))
				bad++;
	CHECK(n == PROPOSER_WINDOW && bad == 0);
	/* Sent: the reports' intakes are free again but the one still held. */
	flush(T0 + 1);
	CHECK(p.n_intake_free == PROPOSER_INTAKES - 1);
}

static void
test_full_outbox(void)
{
	struct out small[1];
	struct outbox tiny = { 0, 1, 0, small };
	unsigned want;

	/* What does not fit is counted lost, never written past cap. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	want = ob.n;
	CHECK(want >= 3);
	init(1);
	proposer_tick(&p, T0, 0, &tiny);
	CHECK(tiny.n == 1 && tiny.n + tiny.lost == want);
	CHECK(p.state == PROPOSER_PREPARING);
}

int
main(void)
{
	if ((valbuf = malloc(PROPOSER_VALBUF)) == NULL) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	test_election();
	test_submit();
	test_batch();
	test_redirect();
	test_recovery();
	test_paging();
	test_windows();
	test_ring();
	test_pack();
	test_many_acks();
	test_step_down();
	test_follower();
	test_rank();
	test_retransmit();
	test_full_outbox();
	test_intake();
	test_intake_full();
	test_intake_recovery();
	test_intake_none_free();
	free(valbuf);
	return done_testing();
}
