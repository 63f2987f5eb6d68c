/* Unit tests for lib/learner: learning, ordering, the duplicate filter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "learner.h"
#include "tap.h"

#define OUT_MAX		16
#define INTERVAL	1000
#define T0		5000

static const uint32_t accs[] = { 1, 2, 3 };

static struct learner l;
static uint8_t *valbuf;
static struct out outs[OUT_MAX];
static struct outbox ob = { 0, OUT_MAX, 0, outs };
static struct msg in;

static struct ballot
B(uint64_t round, uint32_t node)
{
	return (struct ballot){ round, node };
}

static void
init(uint64_t first)
{
	learner_init(&l, accs, 3, INTERVAL, valbuf, first, T0);
	ob.n = 0;
	ob.lost = 0;
}

/* A value its client sent having seen everything before it committed. */
static struct entry
value(uint64_t client, uint64_t seq, const char *val)
{
	return (struct entry){ .kind = ENTRY_VALUE, .client = client,
	    .seq = seq, .acked = seq - 1, .len = (uint32_t)strlen(val),
	    .val = (const uint8_t *)val };
}

static struct entry
value_acked(uint64_t client, uint64_t seq, uint64_t acked, const char *val)
{
	struct entry e = value(client, seq, val);

	e.acked = acked;
	return e;
}

static struct entry
noop(void)
{
	return (struct entry){ .kind = ENTRY_NOOP };
}

/* The leader's CHOSEN with one entry. */
static void
chosen(uint64_t slot, struct entry e)
{
	msg_init(&in, MSG_CHOSEN);
	in.n = 1;
	in.e[0].slot = slot;
	in.e[0].e = e;
	learner_receive(&l, T0, AUTH_PROPOSER, 1, &in, &ob);
	learner_keep(&l);
}

static void
rep(uint64_t slot, uint64_t max_slot)
{
	msg_init(&in, MSG_LEARN_REP);
	in.slot = slot;
	in.next = SLOT_NONE;
	in.max_slot = max_slot;
	in.commit = 1;
}

static void
rep_entry(uint64_t slot, struct ballot b, bool is_chosen, struct entry e)
{
	struct slot_entry *se = &in.e[in.n++];

	se->slot = slot;
	se->ballot = b;
	se->chosen = is_chosen;
	se->e = e;
}

static void
from_acc(uint64_t now, uint32_t id)
{
	learner_receive(&l, now, AUTH_ACCEPTOR, id, &in, &ob);
	learner_keep(&l);
}

static bool
same_value(const struct entry *e, uint64_t client, uint64_t seq,
    const char *val)
{
	return e->kind == ENTRY_VALUE && e->client == client &&
	    e->seq == seq && e->len == strlen(val) &&
	    memcmp(e->val, val, e->len) == 0;
}

/* The entry ready at l.next, if it is val. */
static bool
ready(uint64_t client, uint64_t seq, const char *val,
    enum learner_verdict want)
{
	enum learner_verdict v;
	struct entry e;

	if (!learner_peek(&l, &e, &v))
		return false;
	if (v != want)
		return false;
	return val == NULL ? e.kind == ENTRY_NOOP :
	    same_value(&e, client, seq, val);
}

static bool
nothing_ready(void)
{
	enum learner_verdict v;
	struct entry e;

	return !learner_peek(&l, &e, &v);
}

static void
test_chosen(void)
{
	char buf[8];

	init(0);
	CHECK(l.next == 1 && l.quorum == 2);
	CHECK(nothing_ready());

	/* Slot 2 first: held until slot 1 fills the hole. */
	chosen(2, value(5, 2, "two"));
	CHECK(nothing_ready() && l.next == 1 && l.max_slot == 2);
	chosen(1, value(5, 1, "one"));
	CHECK(ready(5, 1, "one", LEARNER_WRITE));
	/* Peeking twice hands out the same entry. */
	CHECK(ready(5, 1, "one", LEARNER_WRITE) && l.next == 1);
	learner_advance(&l);
	CHECK(l.next == 2);
	CHECK(ready(5, 2, "two", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(l.next == 3 && nothing_ready());
	/* Advancing with nothing ready does not skip a slot. */
	learner_advance(&l);
	CHECK(l.next == 3);

	/* Kept: the message buffer may be reused. */
	strcpy(buf, "three");
	chosen(3, value(5, 3, buf));
	memcpy(buf, "XXXXX", 5);
	CHECK(ready(5, 3, "three", LEARNER_WRITE));
	learner_advance(&l);

	/* Only a proposer announces what is chosen. */
	msg_init(&in, MSG_CHOSEN);
	in.n = 1;
	in.e[0].slot = 4;
	in.e[0].e = value(5, 4, "four");
	learner_receive(&l, T0, AUTH_ACCEPTOR, 1, &in, &ob);
	learner_receive(&l, T0, AUTH_CLIENT, 1, &in, &ob);
	CHECK(nothing_ready());
	/* A second announcement does not replace the first. */
	chosen(4, value(5, 4, "four"));
	chosen(4, value(6, 1, "other"));
	CHECK(ready(5, 4, "four", LEARNER_WRITE));
	learner_advance(&l);

	/* Slots already handed out, or past the window, are ignored. */
	chosen(2, value(5, 9, "old"));
	chosen(5 + LEARNER_WINDOW, value(5, 9, "far"));
	CHECK(l.next == 5 && nothing_ready());
	chosen(4 + LEARNER_WINDOW, value(7, 1, "edge"));
	CHECK(nothing_ready());

	/* Starting at a later position. */
	init(40);
	CHECK(l.next == 40);
	chosen(39, value(5, 1, "before"));
	CHECK(nothing_ready());
	chosen(40, value(5, 1, "first"));
	CHECK(ready(5, 1, "first", LEARNER_WRITE));
}

static void
test_reports(void)
{
	uint64_t slot;

	init(1);
	/* An acceptor that knows the slot is chosen is enough. */
	rep(1, 1);
	rep_entry(1, B(2, 1), true, value(5, 1, "a"));
	from_acc(T0, 1);
	CHECK(ready(5, 1, "a", LEARNER_WRITE));
	CHECK(l.max_slot == 1);
	learner_advance(&l);

	/* Not chosen: one acceptor is not a quorum of three... */
	rep(2, 2);
	rep_entry(2, B(2, 1), false, value(5, 2, "b"));
	from_acc(T0, 1);
	CHECK(nothing_ready());
	/* ...nor is the same one twice... */
	from_acc(T0, 1);
	CHECK(nothing_ready());
	/* ...nor a stranger, or a proposer. */
	from_acc(T0, 9);
	learner_receive(&l, T0, AUTH_PROPOSER, 2, &in, &ob);
	CHECK(nothing_ready());
	/* Two in the same ballot are. */
	from_acc(T0, 3);
	CHECK(ready(5, 2, "b", LEARNER_WRITE));
	learner_advance(&l);

	/* Different ballots: not chosen until a quorum agrees on one. */
	rep(3, 3);
	rep_entry(3, B(2, 1), false, value(5, 3, "lost"));
	from_acc(T0, 1);
	rep(3, 3);
	rep_entry(3, B(3, 2), false, value(5, 3, "won"));
	from_acc(T0, 2);
	CHECK(nothing_ready());
	/* Acceptor 1 accepts again in ballot 3. */
	rep(3, 3);
	rep_entry(3, B(3, 2), false, value(5, 3, "won"));
	from_acc(T0, 1);
	CHECK(ready(5, 3, "won", LEARNER_WRITE));
	learner_advance(&l);

	/*
	 * Ballot 2 gets its quorum while ballot 3 was reported too: the
	 * value of the highest ballot is the chosen one (P2c).
	 */
	rep(4, 4);
	rep_entry(4, B(3, 2), false, value(5, 4, "v"));
	from_acc(T0, 3);
	rep(4, 4);
	rep_entry(4, B(2, 1), false, value(5, 4, "v"));
	from_acc(T0, 1);
	CHECK(nothing_ready());
	from_acc(T0, 2);
	CHECK(ready(5, 4, "v", LEARNER_WRITE));
	learner_advance(&l);

	/*
	 * A zero ballot (no ballot) must not match the seen[] of acceptors
	 * that never reported: one acceptor's report is not a quorum, even
	 * in ballot {0, 0}, which a fresh acceptor does accept.
	 */
	rep(5, 5);
	rep_entry(5, B(0, 0), false, value(5, 5, "zero"));
	from_acc(T0, 1);
	CHECK(nothing_ready());
	init(1);
	for (slot = 1; slot <= 4; slot++) {
		chosen(slot, value(5, slot, "filler"));
		learner_advance(&l);
	}

	/* One report carries several slots, in any order. */
	rep(5, 7);
	rep_entry(7, B(1, 1), true, value(5, 6, "g"));
	rep_entry(5, B(1, 1), true, value(5, 5, "e"));
	rep_entry(6, B(1, 1), true, noop());
	from_acc(T0, 2);
	CHECK(l.max_slot == 7);
	CHECK(ready(5, 5, "e", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(ready(0, 0, NULL, LEARNER_NOOP));
	learner_advance(&l);
	CHECK(ready(5, 6, "g", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(l.next == 8 && nothing_ready());
}

static void
test_tick(void)
{
	const struct msg *m;
	unsigned wait;

	init(1);
	/* Due at once, then every interval. */
	wait = learner_tick(&l, T0, &ob);
	CHECK(ob.n == 1 && wait == INTERVAL);
	m = &outs[0].m;
	CHECK(outs[0].role == AUTH_ACCEPTOR && outs[0].id == 0);
	CHECK(m->type == MSG_LEARN_REQ && m->slot == 1 &&
	    m->count == LEARNER_WINDOW && m->seq == 0);
	ob.n = 0;
	wait = learner_tick(&l, T0 + 10, &ob);
	CHECK(ob.n == 0 && wait == INTERVAL - 10);
	wait = learner_tick(&l, T0 + INTERVAL - 1, &ob);
	CHECK(ob.n == 0 && wait == 1);

	/* From next, wherever delivery has got to. */
	chosen(1, value(5, 1, "a"));
	chosen(2, value(5, 2, "b"));
	learner_advance(&l);
	learner_advance(&l);
	wait = learner_tick(&l, T0 + INTERVAL, &ob);
	CHECK(ob.n == 1 && outs[0].m.type == MSG_LEARN_REQ &&
	    outs[0].m.slot == 3 && wait == INTERVAL);
	ob.n = 0;

	/* A report that makes next ready: ask again soon, to catch up. */
	rep(3, 600);
	rep_entry(3, B(1, 1), true, value(5, 3, "c"));
	from_acc(T0 + INTERVAL + 100, 1);
	CHECK(ready(5, 3, "c", LEARNER_WRITE));
	learner_advance(&l);
	wait = learner_tick(&l, T0 + INTERVAL + 100, &ob);
	CHECK(ob.n == 0 && wait == LEARNER_FAST_MS);
	wait = learner_tick(&l, T0 + INTERVAL + 100 + LEARNER_FAST_MS, &ob);
	CHECK(ob.n == 1 && outs[0].m.slot == 4);
	CHECK(wait == INTERVAL - 100 - LEARNER_FAST_MS);
	ob.n = 0;
	/* A report that brings nothing new does not. */
	rep(4, 600);
	from_acc(T0 + INTERVAL + 200, 1);
	wait = learner_tick(&l, T0 + INTERVAL + 200 + LEARNER_FAST_MS, &ob);
	CHECK(ob.n == 0);

	/* The first slot in a later start. */
	init(77);
	learner_tick(&l, T0, &ob);
	CHECK(ob.n == 1 && outs[0].m.slot == 77);
}

static void
test_filter(void)
{
	uint64_t last = 0;

	init(1);
	/* (client 5, seq 1) at slot 1, and again at slot 2. */
	chosen(1, value(5, 1, "x"));
	chosen(2, value(5, 1, "x"));
	chosen(3, value(5, 2, "y"));
	chosen(4, noop());
	chosen(5, value_acked(5, 4, 2, "jump"));
	chosen(6, value(5, 3, "z"));
	chosen(7, value(9, 7, "new session"));
	chosen(8, value(5, 4, "jump"));

	CHECK(!learner_session_last(&l, 5, &last));
	CHECK(ready(5, 1, "x", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(learner_session_last(&l, 5, &last) && last == 1);
	CHECK(ready(5, 1, "x", LEARNER_DUP));
	learner_advance(&l);
	CHECK(l.n_duplicates == 1);
	CHECK(ready(5, 2, "y", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(ready(0, 0, NULL, LEARNER_NOOP));
	learner_advance(&l);
	CHECK(l.n_duplicates == 1);
	/* seq 4 before 3: not written; its client sends it again. */
	CHECK(ready(5, 4, "jump", LEARNER_GAP));
	learner_advance(&l);
	CHECK(l.n_duplicates == 2);
	CHECK(learner_session_last(&l, 5, &last) && last == 2);
	CHECK(ready(5, 3, "z", LEARNER_WRITE));
	learner_advance(&l);
	/* A session first seen mid-way: its client vouches for seq 6. */
	CHECK(ready(9, 7, "new session", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(learner_session_last(&l, 9, &last) && last == 7);
	CHECK(ready(5, 4, "jump", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(learner_session_last(&l, 5, &last) && last == 4);
	CHECK(l.next == 9 && l.n_duplicates == 2);

	/* Seq 3 right after seq 1, whatever the client says it saw. */
	init(1);
	chosen(1, value(5, 1, "a"));
	chosen(2, value_acked(5, 3, 2, "c"));
	learner_advance(&l);
	CHECK(ready(5, 3, "c", LEARNER_GAP));

	/* A session the filter does not know goes by what was acked. */
	init(1);
	chosen(1, value_acked(11, 3, 1, "ahead"));
	chosen(2, value_acked(12, 2, 5, "behind"));
	chosen(3, value_acked(13, 6, 5, "next"));
	CHECK(ready(11, 3, "ahead", LEARNER_GAP));
	learner_advance(&l);
	CHECK(!learner_session_last(&l, 11, &last));
	CHECK(ready(12, 2, "behind", LEARNER_DUP));
	learner_advance(&l);
	CHECK(ready(13, 6, "next", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(learner_session_last(&l, 13, &last) && last == 6);
	CHECK(l.n_duplicates == 2);

	/* A filter put back from disk filters the same way. */
	init(10);
	learner_restore_session(&l, 5, 3, 9);
	chosen(10, value(5, 3, "again"));
	chosen(11, value(5, 4, "next"));
	CHECK(ready(5, 3, "again", LEARNER_DUP));
	learner_advance(&l);
	CHECK(ready(5, 4, "next", LEARNER_WRITE));
}

/*
 * A learner without a value buffer (a proposer's) filters as any other,
 * from announcements and from reports, and keeps no bytes.
 */
static void
test_no_values(void)
{
	enum learner_verdict v;
	struct entry e;

	learner_init(&l, accs, 3, INTERVAL, NULL, 1, T0);
	ob.n = 0;
	chosen(1, value(9, 1, "first"));
	CHECK(learner_peek(&l, &e, &v) && v == LEARNER_WRITE &&
	    e.kind == ENTRY_VALUE && e.client == 9 && e.seq == 1 &&
	    e.len == 0);
	learner_advance(&l);
	chosen(2, value(9, 1, "first"));
	CHECK(learner_peek(&l, &e, &v) && v == LEARNER_DUP && e.len == 0);
	learner_advance(&l);
	rep(3, 3);
	rep_entry(3, B(1, 1), true, value(9, 2, "second"));
	from_acc(T0, 1);
	CHECK(learner_peek(&l, &e, &v) && v == LEARNER_WRITE &&
	    e.client == 9 && e.seq == 2 && e.len == 0);
	learner_advance(&l);
	CHECK(nothing_ready() && l.next == 4);
}

/*
 * Values are lent, not copied, until learner_keep: what is handed out at
 * once comes from the message itself, and only what waits is copied.
 */
static void
test_lent(void)
{
	char buf[3][8] = { "one", "two", "three" };
	enum learner_verdict v;
	struct entry e;

	init(1);
	msg_init(&in, MSG_CHOSEN);
	in.n = 2;
	in.e[0].slot = 1;
	in.e[0].e = value(5, 1, buf[0]);
	in.e[1].slot = 3;
	in.e[1].e = value(5, 3, buf[2]);
	learner_receive(&l, T0, AUTH_PROPOSER, 1, &in, &ob);
	CHECK(l.n_lent == 2);
	CHECK(learner_peek(&l, &e, &v) && v == LEARNER_WRITE &&
	    e.val == (const uint8_t *)buf[0]);
	learner_advance(&l);
	learner_keep(&l);
	CHECK(l.n_lent == 0);
	/* Slot 3 waits for slot 2: kept, it outlives its message. */
	memcpy(buf[2], "XXXXX", 5);
	chosen(2, value(5, 2, buf[1]));
	CHECK(ready(5, 2, "two", LEARNER_WRITE));
	learner_advance(&l);
	CHECK(ready(5, 3, "three", LEARNER_WRITE));
	CHECK(learner_peek(&l, &e, &v) && e.val != (const uint8_t *)buf[2]);
	learner_advance(&l);

	/* A learner that only filters keeps no bytes, lent or not. */
	learner_init(&l, accs, 3, INTERVAL, NULL, 1, T0);
	chosen(1, value(5, 1, buf[0]));
	CHECK(l.n_lent == 0 && learner_peek(&l, &e, &v) && e.len == 0);
}

int
main(void)
{
	if ((valbuf = malloc((size_t)LEARNER_WINDOW * VALUE_MAX)) == NULL) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	test_chosen();
	test_reports();
	test_tick();
	test_filter();
	test_no_values();
	test_lent();
	free(valbuf);
	return done_testing();
}
