/* Unit tests for lib/acceptor: promise and accept rules, filling replies. */
#include <stdint.h>
#include <string.h>

#include "acceptor.h"
#include "tap.h"

static struct msg m;
static struct acceptor_fx fx;
static uint8_t big[VALUE_MAX];

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

static const struct msg *
prepare(struct ballot b, uint64_t slot)
{
	msg_init(&m, MSG_PREPARE);
	m.ballot = b;
	m.slot = slot;
	m.count = 256;
	return &m;
}

/* An ACCEPT of no-ops at the n slots from first on. */
static const struct msg *
accept(struct ballot b, uint64_t first, unsigned n)
{
	unsigned i;

	msg_init(&m, MSG_ACCEPT);
	m.ballot = b;
	m.commit = 1;
	for (i = 0; i < n; i++) {
		m.e[i].slot = first + i;
		m.e[i].e = (struct entry){ .kind = ENTRY_NOOP };
	}
	m.n = n;
	return &m;
}

static void
test_prepare(void)
{
	struct acceptor a;

	acceptor_init(&a, 4);
	CHECK(a.id == 4 && ballot_is_zero(a.promised) && a.commit == 1 &&
	    a.max_slot == 0);

	/* Higher than anything promised: promise, and sync first. */
	acceptor_prepare(&a, prepare(B(2, 1), 1), &fx);
	CHECK(fx.persist && fx.reply);
	CHECK(fx.out.type == MSG_PROMISE);
	CHECK(same(fx.out.ballot, B(2, 1)));
	CHECK(fx.out.slot == 1 && fx.out.next == SLOT_NONE);
	CHECK(fx.out.max_slot == 0 && fx.out.commit == 1 && fx.out.n == 0);
	CHECK(same(a.promised, B(2, 1)));

	/* The same ballot again (a lost reply, the next page): no sync. */
	acceptor_prepare(&a, prepare(B(2, 1), 7), &fx);
	CHECK(!fx.persist && fx.reply);
	CHECK(fx.out.type == MSG_PROMISE && same(fx.out.ballot, B(2, 1)));
	CHECK(fx.out.slot == 7 && fx.out.next == SLOT_NONE);
	CHECK(same(a.promised, B(2, 1)));

	/* Lower, by round or by node: NACK naming what we promised. */
	acceptor_prepare(&a, prepare(B(1, 9), 1), &fx);
	CHECK(!fx.persist && fx.reply);
	CHECK(fx.out.type == MSG_NACK && same(fx.out.ballot, B(2, 1)));
	CHECK(same(a.promised, B(2, 1)));
	acceptor_prepare(&a, prepare(B(2, 0), 1), &fx);
	CHECK(!fx.persist && fx.out.type == MSG_NACK &&
	    same(fx.out.ballot, B(2, 1)));

	/* A higher node breaks a tie in the round. */
	acceptor_prepare(&a, prepare(B(2, 3), 1), &fx);
	CHECK(fx.persist && fx.out.type == MSG_PROMISE &&
	    same(a.promised, B(2, 3)));

	/* The promise reports what this acceptor holds. */
	a.max_slot = 12;
	a.commit = 5;
	acceptor_prepare(&a, prepare(B(3, 1), 5), &fx);
	CHECK(fx.persist && fx.out.max_slot == 12 && fx.out.commit == 5 &&
	    fx.out.slot == 5);
}

static void
test_accept(void)
{
	struct acceptor a;

	acceptor_init(&a, 1);
	acceptor_prepare(&a, prepare(B(2, 1), 1), &fx);

	/* The ballot promised: accept, sync, list the slots. */
	acceptor_accept(&a, accept(B(2, 1), 3, 3), &fx);
	CHECK(fx.persist && fx.reply);
	CHECK(fx.out.type == MSG_ACCEPTED && same(fx.out.ballot, B(2, 1)));
	CHECK(fx.out.n == 3 && fx.out.e[0].slot == 3 &&
	    fx.out.e[1].slot == 4 && fx.out.e[2].slot == 5);
	CHECK(a.max_slot == 5);
	CHECK(same(a.promised, B(2, 1)));

	/* Higher than promised: accepted, and the promise rises with it. */
	acceptor_accept(&a, accept(B(4, 2), 2, 1), &fx);
	CHECK(fx.persist && fx.out.type == MSG_ACCEPTED);
	CHECK(fx.out.n == 1 && fx.out.e[0].slot == 2);
	CHECK(same(a.promised, B(4, 2)));
	CHECK(a.max_slot == 5);			/* never goes down */

	/* The old leader is refused now. */
	acceptor_accept(&a, accept(B(2, 1), 9, 1), &fx);
	CHECK(!fx.persist && fx.reply);
	CHECK(fx.out.type == MSG_NACK && same(fx.out.ballot, B(4, 2)));
	CHECK(a.max_slot == 5 && same(a.promised, B(4, 2)));
	acceptor_prepare(&a, prepare(B(3, 9), 1), &fx);
	CHECK(fx.out.type == MSG_NACK && same(fx.out.ballot, B(4, 2)));

	/* Slots in any order: max_slot is the highest. */
	acceptor_accept(&a, accept(B(4, 2), 40, 2), &fx);
	CHECK(a.max_slot == 41);
	m.e[0].slot = 100;
	m.e[1].slot = 50;
	acceptor_accept(&a, &m, &fx);
	CHECK(a.max_slot == 100 && fx.out.n == 2 &&
	    fx.out.e[0].slot == 100 && fx.out.e[1].slot == 50);

	/* A prepare after accepting reports max_slot. */
	acceptor_prepare(&a, prepare(B(5, 1), 1), &fx);
	CHECK(fx.out.type == MSG_PROMISE && fx.out.max_slot == 100);

	/* An ACCEPT of nothing (a bare commit) still answers. */
	acceptor_accept(&a, accept(B(5, 1), 1, 0), &fx);
	CHECK(fx.out.type == MSG_ACCEPTED && fx.out.n == 0 &&
	    a.max_slot == 100);
}

static void
test_commit(void)
{
	struct acceptor a;
	struct ballot b = B(3, 1), zero = B(0, 0);

	acceptor_init(&a, 1);
	/* Accepted in the leader's ballot, below its watermark: chosen. */
	CHECK(acceptor_commit_slot(&a, b, 4, 1, b, false));
	CHECK(a.commit == 2);
	CHECK(acceptor_commit_slot(&a, b, 4, 2, b, false));
	CHECK(a.commit == 3);
	/* Accepted in another ballot: not known chosen here; stop. */
	CHECK(!acceptor_commit_slot(&a, b, 4, 3, B(2, 1), false));
	CHECK(a.commit == 3);
	CHECK(!acceptor_commit_slot(&a, b, 4, 3, B(3, 2), false));
	CHECK(!acceptor_commit_slot(&a, b, 4, 3, zero, false));
	CHECK(a.commit == 3);
	/* Already marked chosen: go on, whatever ballot. */
	CHECK(acceptor_commit_slot(&a, b, 4, 3, B(1, 1), true));
	CHECK(a.commit == 4);
	/* At or past the watermark: stop, even in the right ballot. */
	CHECK(!acceptor_commit_slot(&a, b, 4, 4, b, false));
	CHECK(!acceptor_commit_slot(&a, b, 4, 4, b, true));
	CHECK(!acceptor_commit_slot(&a, b, 4, 9, b, false));
	CHECK(a.commit == 4);
	/* A slot that is not the next one does not move commit. */
	CHECK(acceptor_commit_slot(&a, b, 10, 6, b, false));
	CHECK(a.commit == 4);
	CHECK(acceptor_commit_slot(&a, b, 10, 4, b, false));
	CHECK(a.commit == 5);
}

static struct slot_entry
value_at(uint64_t slot, uint32_t len)
{
	struct slot_entry se;

	se.slot = slot;
	se.ballot = B(1, 1);
	se.chosen = false;
	se.e = (struct entry){ .kind = ENTRY_VALUE, .client = 7, .seq = slot,
	    .len = len, .val = big };
	return se;
}

/* What one entry of a PROMISE costs: slot, ballot, chosen, entry. */
static size_t
cost(uint32_t len)
{
	struct slot_entry se = value_at(1, len);

	return 8 + 12 + 1 + msg_entry_size(&se.e);
}

static void
test_fill(void)
{
	static struct msg out;
	static uint8_t enc[MSG_MAX];
	struct slot_entry se;
	size_t used = 0;
	unsigned i;

	/* Small entries: MSG_MAX_ENTRIES and no more. */
	msg_init(&out, MSG_PROMISE);
	for (i = 0; i < MSG_MAX_ENTRIES; i++) {
		se = value_at(i + 1, 10);
		if (!acceptor_fill(&out, &used, &se))
			break;
	}
	CHECK(i == MSG_MAX_ENTRIES && out.n == MSG_MAX_ENTRIES);
	CHECK(used == MSG_MAX_ENTRIES * cost(10));
	se = value_at(65, 10);
	CHECK(!acceptor_fill(&out, &used, &se));
	CHECK(out.n == MSG_MAX_ENTRIES && out.e[63].slot == 64);
	CHECK(used == MSG_MAX_ENTRIES * cost(10));
	out.next = 65;
	CHECK(msg_encode(&out, enc, sizeof(enc)) != 0);

	/* Big values: stopped by the byte budget, and what fits encodes. */
	msg_init(&out, MSG_PROMISE);
	used = 0;
	se = value_at(1, VALUE_MAX);
	CHECK(acceptor_fill(&out, &used, &se));
	se = value_at(2, VALUE_MAX);
	CHECK(!acceptor_fill(&out, &used, &se));
	CHECK(out.n == 1);
	se = value_at(2, 1000);
	CHECK(acceptor_fill(&out, &used, &se));
	CHECK(out.n == 2 && out.e[1].slot == 2 && out.e[1].e.len == 1000);
	out.next = 3;
	CHECK(msg_encode(&out, enc, sizeof(enc)) != 0);

	/* Fill right up to the budget: the encoding still fits MSG_MAX. */
	msg_init(&out, MSG_LEARN_REP);
	used = 0;
	for (i = 0; i < MSG_MAX_ENTRIES; i++) {
		se = value_at(i + 1, VALUE_MAX / 16);
		if (!acceptor_fill(&out, &used, &se))
			break;
	}
	diag("%u entries of %d bytes fit", out.n, VALUE_MAX / 16);
	CHECK(out.n > 1 && out.n < MSG_MAX_ENTRIES);
	CHECK(used <= MSG_MAX - 128);
	CHECK(used + cost(VALUE_MAX / 16) > MSG_MAX - 128);
	CHECK(msg_encode(&out, enc, sizeof(enc)) != 0);

	/* No-ops cost little: the entry count is the limit. */
	msg_init(&out, MSG_PROMISE);
	used = 0;
	se.e = (struct entry){ .kind = ENTRY_NOOP };
	for (i = 0; i < MSG_MAX_ENTRIES + 5; i++) {
		se.slot = i + 1;
		if (!acceptor_fill(&out, &used, &se))
			break;
	}
	CHECK(i == MSG_MAX_ENTRIES &&
	    used == MSG_MAX_ENTRIES * (8 + 12 + 1 + 1));
}

int
main(void)
{
	test_prepare();
	test_accept();
	test_commit();
	test_fill();
	return done_testing();
}
