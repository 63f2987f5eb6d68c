/* Unit tests for lib/proposer, driven with synthetic messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "proposer.h"
#include "tap.h"

#define OUT_MAX		64
#define TIMEOUT		100
#define T0		1000		/* the clock at proposer_init */
#define CLIENT		7

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

static void
submit(uint64_t now, uint64_t client, uint64_t seq, uint64_t acked,
    const char *val)
{
	msg_init(&in, MSG_SUBMIT);
	in.client = client;
	in.seq = seq;
	in.n = 1;
	in.e[0].e = (struct entry){ .kind = ENTRY_VALUE, .client = client,
	    .seq = seq, .acked = acked, .len = (uint32_t)strlen(val),
	    .val = (const uint8_t *)val };
	deliver(now, AUTH_CLIENT, (uint32_t)client);
}

static void
accepted(uint64_t now, uint32_t acc, struct ballot b, uint64_t slot)
{
	msg_init(&in, MSG_ACCEPTED);
	in.ballot = b;
	in.n = 1;
	in.e[0].slot = slot;
	deliver(now, AUTH_ACCEPTOR, acc);
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
	submit(T0 + 10, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && count(MSG_ACCEPT) == 1);
	o = nth(MSG_ACCEPT, 0);
	CHECK(o != NULL && o->role == AUTH_ACCEPTOR && o->id == 0);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->commit == 1);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "v1"));
	CHECK(p.next_slot == 2);

	/* One ACCEPTED is not enough; the same one twice neither. */
	clear();
	accepted(T0 + 11, 1, B(1, 1), 1);
	accepted(T0 + 11, 1, B(1, 1), 1);
	CHECK(ob.n == 0 && p.commit == 1);
	/* Nor one for another ballot. */
	accepted(T0 + 11, 2, B(1, 2), 1);
	CHECK(ob.n == 0 && p.commit == 1);

	accepted(T0 + 12, 2, B(1, 1), 1);
	CHECK(p.commit == 2 && p.n_chosen == 1);
	CHECK(count(MSG_REPLY) == 1 && count_to(MSG_CHOSEN, AUTH_LEARNER) == 1);
	o = nth(MSG_REPLY, 0);
	CHECK(o != NULL && o->role == AUTH_CLIENT && o->client == CLIENT);
	m = first(MSG_REPLY);
	CHECK(m != NULL && m->status == REPLY_OK && m->client == CLIENT &&
	    m->seq == 1 && m->slot == 1);
	o = out_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(o != NULL && o->id == 0);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, CLIENT, 1, "v1"));

	/* The third acceptor's late vote changes nothing. */
	clear();
	accepted(T0 + 13, 3, B(1, 1), 1);
	CHECK(ob.n == 0 && p.commit == 2);

	/* seq 3 before 2: not proposed; the client will send it again. */
	submit(T0 + 14, CLIENT, 3, 1, "v3");
	CHECK(ob.n == 0 && p.next_slot == 2);

	/* A repeat of seq 1: re-acked with its slot, not proposed again. */
	submit(T0 + 15, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && count(MSG_REPLY) == 1 && count(MSG_ACCEPT) == 0);
	m = first(MSG_REPLY);
	CHECK(m != NULL && m->status == REPLY_OK && m->seq == 1 &&
	    m->slot == 1);
	CHECK(p.next_slot == 2);

	/* seq 2 goes to slot 2; sent again in flight, it is not doubled. */
	clear();
	submit(T0 + 16, CLIENT, 2, 1, "v2");
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 2 &&
	    entry_is(&m->e[0].e, CLIENT, 2, "v2"));
	clear();
	submit(T0 + 17, CLIENT, 2, 1, "v2");
	CHECK(ob.n == 0 && p.next_slot == 3);
	/* seq 3 now follows. */
	submit(T0 + 18, CLIENT, 3, 1, "v3");
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 3 &&
	    entry_is(&m->e[0].e, CLIENT, 3, "v3"));

	/* Chosen out of order: replies wait for the slot before. */
	clear();
	accepted(T0 + 19, 1, B(1, 1), 3);
	accepted(T0 + 19, 3, B(1, 1), 3);
	CHECK(ob.n == 0 && p.commit == 2);
	accepted(T0 + 20, 2, B(1, 1), 2);
	accepted(T0 + 20, 3, B(1, 1), 2);
	CHECK(p.commit == 4);
	CHECK(count(MSG_REPLY) == 2);
	m = &nth(MSG_REPLY, 0)->m;
	CHECK(m->seq == 2 && m->slot == 2);
	m = &nth(MSG_REPLY, 1)->m;
	CHECK(m->seq == 3 && m->slot == 3);
	m = first_to(MSG_CHOSEN, AUTH_LEARNER);
	CHECK(m != NULL && m->n == 2 && m->e[0].slot == 2 &&
	    m->e[1].slot == 3);

	/* A new client whose acked says seq 1..4 are done elsewhere. */
	clear();
	submit(T0 + 21, 8, 5, 4, "w5");
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && m->n == 1 && m->e[0].slot == 4 &&
	    entry_is(&m->e[0].e, 8, 5, "w5"));
	clear();
	submit(T0 + 22, 8, 3, 4, "w3");
	m = first(MSG_REPLY);
	CHECK(ob.n == 1 && m != NULL && m->status == REPLY_OK &&
	    m->slot == 0);
}

static void
test_redirect(void)
{
	const struct msg *m;

	init(1);
	submit(T0, CLIENT, 1, 0, "v1");
	CHECK(ob.n == 1 && count(MSG_REPLY) == 1);
	m = first(MSG_REPLY);
	CHECK(m != NULL && m->status == REPLY_REDIRECT && m->seq == 1 &&
	    m->client == CLIENT && m->leader == 0);
	CHECK(outs[0].role == AUTH_CLIENT && outs[0].client == CLIENT);

	/* A follower that knows the leader names it. */
	clear();
	msg_init(&in, MSG_COMMIT);
	in.ballot = B(3, 2);
	in.commit = 1;
	deliver(T0, AUTH_PROPOSER, 2);
	submit(T0, CLIENT, 1, 0, "v1");
	m = first(MSG_REPLY);
	CHECK(m != NULL && m->status == REPLY_REDIRECT && m->leader == 2);

	/* Still preparing: not yet. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	submit(T0, CLIENT, 1, 0, "v1");
	m = first(MSG_REPLY);
	CHECK(ob.n == 1 && m != NULL && m->status == REPLY_REDIRECT);
	CHECK(p.next_slot == 1);

	/* Only a client may submit. */
	clear();
	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	in.seq = 2;
	in.e[0].e.seq = 2;
	deliver(T0 + 6, AUTH_PROPOSER, 2);
	deliver(T0 + 6, AUTH_ACCEPTOR, 1);
	CHECK(ob.n == 0 && p.next_slot == 2);
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

		/* Fresh values go after what was recovered. */
		clear();
		submit(T0 + 303, CLIENT, 1, 0, "fresh");
		m = first(MSG_ACCEPT);
		CHECK(m != NULL && m->n == 1 && m->e[0].slot == 4 &&
		    entry_is(&m->e[0].e, CLIENT, 1, "fresh"));
	}

	/* The recovered values are replied to once chosen. */
	clear();
	accepted(T0 + 310, 1, B(6, 1), 1);
	accepted(T0 + 310, 2, B(6, 1), 1);
	m = first(MSG_REPLY);
	CHECK(count(MSG_REPLY) == 1 && m != NULL && m->client == 12 &&
	    m->seq == 1 && m->slot == 1);
	clear();
	accepted(T0 + 311, 1, B(6, 1), 2);
	accepted(T0 + 311, 3, B(6, 1), 2);
	CHECK(p.commit == 3 && count(MSG_REPLY) == 0 &&
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
	CHECK(proposer_is_leader(&p));
	CHECK(p.next_slot == 101);
	m = first(MSG_ACCEPT);
	CHECK(count(MSG_ACCEPT) == 2);	/* 100 entries, 64 a message */
	CHECK(m != NULL && m->n == MSG_MAX_ENTRIES && m->e[0].slot == 1 &&
	    entry_is(&m->e[0].e, 5, 1, "a") &&
	    entry_is(&m->e[1].e, 0, 0, NULL));
	m = &nth(MSG_ACCEPT, 1)->m;
	CHECK(m->n == 100 - MSG_MAX_ENTRIES && m->e[m->n - 1].slot == 100 &&
	    entry_is(&m->e[m->n - 1].e, 5, 2, "b"));

	/* An acceptor that knows more is chosen moves the scan on. */
	init(1);
	proposer_tick(&p, T0, 0, &ob);
	clear();
	promise(B(1, 1), 1, SLOT_NONE, 40, 31);
	deliver(T0 + 1, AUTH_ACCEPTOR, 3);
	CHECK(p.commit == 31 && count(MSG_PREPARE) == 3);
	m = first(MSG_PREPARE);
	CHECK(m != NULL && m->slot == 31 && m->count == PROPOSER_WINDOW);
}

static void
test_step_down(void)
{
	const struct msg *m;

	lead();
	submit(T0 + 5, CLIENT, 1, 0, "v1");
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
	CHECK(ob.n == 0 && p.commit == 1);
	submit(T0 + 9, CLIENT, 2, 0, "v2");
	m = first(MSG_REPLY);
	CHECK(m != NULL && m->status == REPLY_REDIRECT && m->leader == 2);

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

	lead();
	t = T0 + 10;
	submit(t, CLIENT, 1, 0, "v1");
	CHECK(count(MSG_ACCEPT) == 1);
	clear();
	proposer_tick(&p, t + TIMEOUT - 1, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	proposer_tick(&p, t + TIMEOUT, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 1);
	m = first(MSG_ACCEPT);
	CHECK(m != NULL && same(m->ballot, B(1, 1)) && m->n == 1 &&
	    m->e[0].slot == 1 && entry_is(&m->e[0].e, CLIENT, 1, "v1"));

	/* One vote in: still short of a quorum, still sent again. */
	accepted(t + TIMEOUT + 1, 3, B(1, 1), 1);
	clear();
	proposer_tick(&p, t + 2 * TIMEOUT - 1, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);
	proposer_tick(&p, t + 2 * TIMEOUT, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 1);
	/* Chosen: no more. */
	accepted(t + 2 * TIMEOUT + 1, 1, B(1, 1), 1);
	CHECK(p.commit == 2);
	clear();
	proposer_tick(&p, t + 4 * TIMEOUT, 0, &ob);
	CHECK(count(MSG_ACCEPT) == 0);

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
	test_redirect();
	test_recovery();
	test_paging();
	test_step_down();
	test_follower();
	test_rank();
	test_retransmit();
	test_full_outbox();
	free(valbuf);
	return done_testing();
}
