/* Unit tests for lib/msg: the wire format, both ways, and the outbox. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "tap.h"

/*
 * The fields each type carries, stated here again rather than taken from
 * msg.c, so that a change to the wire format shows up as a failure.
 */
#define T_BALLOT	0x0001
#define T_SLOT		0x0002
#define T_NEXT		0x0004
#define T_MAX		0x0008
#define T_COMMIT	0x0010
#define T_CLIENT	0x0020
#define T_SEQ		0x0040
#define T_COUNT		0x0100
#define T_LEADER	0x0200
#define T_STATUS	0x0400
#define T_FULL		0x0800	/* slot, ballot, chosen, entry */
#define T_SLOTENT	0x1000	/* slot, entry */
#define T_SLOTS		0x2000	/* slot */
#define T_VALUES	0x4000	/* client value entries, no slot */
#define T_ACKS		0x0080	/* seq, position */
#define T_STATS		0x8000	/* MSG_STATS u64 counters */
#define T_ENTRIES	(T_FULL | T_SLOTENT | T_SLOTS | T_VALUES | T_ACKS)

static const struct {
	uint8_t		 type;
	const char	*name;
	unsigned	 f;
} types[] = {
	{ MSG_PREPARE, "prepare", T_BALLOT | T_SLOT | T_COUNT },
	{ MSG_PROMISE, "promise",
	    T_BALLOT | T_SLOT | T_NEXT | T_MAX | T_COMMIT | T_FULL },
	{ MSG_NACK, "nack", T_BALLOT },
	{ MSG_ACCEPT, "accept", T_BALLOT | T_COMMIT | T_SLOTENT },
	{ MSG_ACCEPTED, "accepted", T_BALLOT | T_SLOTS },
	{ MSG_COMMIT, "commit", T_BALLOT | T_COMMIT },
	{ MSG_CHOSEN, "chosen", T_COMMIT | T_SLOTENT },
	{ MSG_LEARN_REQ, "learn_req", T_SLOT | T_SEQ | T_COUNT },
	{ MSG_LEARN_REP, "learn_rep",
	    T_SLOT | T_NEXT | T_MAX | T_COMMIT | T_SEQ | T_FULL },
	{ MSG_SUBMIT, "submit", T_CLIENT | T_VALUES },
	{ MSG_REPLY, "reply", T_CLIENT | T_STATUS | T_LEADER | T_ACKS },
	{ MSG_STATUS_REQ, "status_req", T_SEQ },
	{ MSG_STATUS_REP, "status_rep", T_SEQ | T_STATUS | T_BALLOT |
	    T_LEADER | T_SLOT | T_MAX | T_COMMIT | T_STATS },
};
#define N_TYPES	(sizeof(types) / sizeof(types[0]))

static const uint8_t binary[] = { 0x00, 0xff, '\n', 0x80, 0x00, '\t', 0x7f };
static uint8_t big[VALUE_MAX];
static uint8_t enc[MSG_MAX + 16];

/* Bytes the fields of f take, without the entries. */
static size_t
fixed_size(unsigned f)
{
	size_t n = 2;

	if (f & T_BALLOT)
		n += 12;
	n += 8 * (((f & T_SLOT) != 0) + ((f & T_NEXT) != 0) +
	    ((f & T_MAX) != 0) + ((f & T_COMMIT) != 0) +
	    ((f & T_CLIENT) != 0) + ((f & T_SEQ) != 0));
	n += 4 * (((f & T_COUNT) != 0) + ((f & T_LEADER) != 0));
	if (f & T_STATUS)
		n += 1;
	if (f & T_STATS)
		n += 8 * MSG_STATS;
	return n;
}

/* Bytes of a value entry before the value: kind client seq acked len. */
#define ENTRY_HDR	(1 + 8 + 8 + 8 + 4)
/* Bytes of an entry count: a little-endian u16. */
#define COUNT_LEN	2

static void
set_value(struct entry *e, uint64_t client, uint64_t seq, uint64_t acked,
    const uint8_t *v, uint32_t len)
{
	*e = (struct entry){ .kind = ENTRY_VALUE, .client = client,
	    .seq = seq, .acked = acked, .len = len, .val = v };
}

/*
 * Every field set to something distinct.  Entries, by kind of list:
 * slots: a no-op at slot 1, binary bytes at a wide slot, and with
 * want_big a VALUE_MAX value at slot 3; values (a SUBMIT): binary bytes,
 * an empty value, and with want_big a VALUE_MAX one, all of the header's
 * client, with slots set that must not travel; acks (a REPLY): a seq at
 * position 0 (committed, position unknown), two wide numbers, and with
 * want_big one more, with entry fields set that must not travel.
 */
static void
fill(struct msg *m, unsigned f, bool want_big)
{
	unsigned i;

	msg_init(m, m->type);
	m->ballot = (struct ballot){ 0x0102030405060708ULL, 0x0a0b0c0d };
	m->slot = 0x1111111111111111ULL;
	m->next = 0x2222222222222222ULL;
	m->max_slot = 0x3333333333333333ULL;
	m->commit = 0x4444444444444444ULL;
	m->client = 0x5555555555555555ULL;
	m->seq = 0x6666666666666666ULL;
	m->count = 0x88888888;
	m->leader = 0x99999999;
	m->status = REPLY_BUSY;
	for (i = 0; i < MSG_STATS; i++)
		m->stats[i] = 0xa0a1a2a3a4a5a6a0ULL + i * 0x0101010101010101ULL;
	if (f & T_VALUES) {
		m->n = want_big ? 3 : 2;
		/* A SUBMIT's entries repeat the header's client. */
		m->e[0].slot = 0xdead;
		set_value(&m->e[0].e, m->client, 1, 0x7777777777777777ULL,
		    binary, sizeof(binary));
		m->e[1].slot = 5;
		m->e[1].ballot = (struct ballot){ 3, 1 };
		m->e[1].chosen = true;
		set_value(&m->e[1].e, m->client, UINT64_MAX, 0, binary, 0);
		m->e[2].slot = 6;
		set_value(&m->e[2].e, m->client, 2, 1, big, VALUE_MAX);
	}
	if (f & T_ACKS) {
		m->n = want_big ? 3 : 2;
		m->e[0].slot = 0;
		m->e[0].e = (struct entry){ .kind = ENTRY_VALUE, .seq = 1,
		    .client = 3, .acked = 4, .len = 1, .val = binary };
		m->e[1].slot = 0x1112131415161718ULL;
		m->e[1].ballot = (struct ballot){ 3, 1 };
		m->e[1].chosen = true;
		m->e[1].e = (struct entry){ .kind = ENTRY_NOOP,
		    .seq = 0x0102030405060708ULL };
		m->e[2].slot = 3;
		m->e[2].e = (struct entry){ .kind = ENTRY_NOOP,
		    .seq = UINT64_MAX };
	}
	if (f & (T_FULL | T_SLOTENT | T_SLOTS)) {
		m->n = want_big ? 3 : 2;
		m->e[0].slot = 1;
		m->e[0].ballot = (struct ballot){ 3, 1 };
		m->e[0].chosen = true;
		m->e[0].e = (struct entry){ .kind = ENTRY_NOOP };
		m->e[1].slot = 0x0102030405060708ULL;
		m->e[1].ballot = (struct ballot){ UINT64_MAX - 1, UINT32_MAX };
		m->e[1].chosen = false;
		set_value(&m->e[1].e, 7, 9, 8, binary, sizeof(binary));
		m->e[2].slot = 3;
		m->e[2].ballot = (struct ballot){ 5, 2 };
		m->e[2].chosen = true;
		set_value(&m->e[2].e, UINT64_MAX, 1, 0, big, VALUE_MAX);
	}
}

static size_t
expected_size(const struct msg *m, unsigned f)
{
	size_t n = fixed_size(f);
	unsigned i;

	if (f & T_ENTRIES) {
		n += COUNT_LEN;
		for (i = 0; i < m->n; i++) {
			if (f & T_VALUES) {
				n += msg_entry_size(&m->e[i].e);
				continue;
			}
			if (f & T_ACKS) {
				n += 8 + 8;
				continue;
			}
			n += 8;
			if (f & T_FULL)
				n += 13;
			if (f & (T_FULL | T_SLOTENT))
				n += msg_entry_size(&m->e[i].e);
		}
	}
	return n;
}

static bool
same_entry(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == ENTRY_NOOP)
		return a->client == 0 && a->seq == 0 && a->acked == 0 &&
		    a->len == 0 && a->val == NULL;
	return a->client == b->client && a->seq == b->seq &&
	    a->acked == b->acked && a->len == b->len && a->val != NULL &&
	    memcmp(a->val, b->val, a->len) == 0;
}

/* Fields not carried must come back zero. */
static bool
fields_ok(const struct msg *d, const struct msg *m, unsigned f)
{
	struct ballot zero = { 0, 0 };
	unsigned i;

	for (i = 0; i < MSG_STATS; i++)
		if (d->stats[i] != ((f & T_STATS) ? m->stats[i] : 0))
			return false;
#define FIELD(bit, x)	((f & (bit)) ? d->x == m->x : d->x == 0)
	return d->type == m->type &&
	    ballot_cmp(d->ballot, (f & T_BALLOT) ? m->ballot : zero) == 0 &&
	    FIELD(T_SLOT, slot) && FIELD(T_NEXT, next) &&
	    FIELD(T_MAX, max_slot) && FIELD(T_COMMIT, commit) &&
	    FIELD(T_CLIENT, client) && FIELD(T_SEQ, seq) &&
	    FIELD(T_COUNT, count) &&
	    FIELD(T_LEADER, leader) && FIELD(T_STATUS, status);
#undef FIELD
}

/* An entry that carries nothing: a decoded ack's or slot's. */
static bool
bare_entry(const struct entry *e, uint64_t seq)
{
	return e->kind == ENTRY_NOOP && e->client == 0 && e->seq == seq &&
	    e->acked == 0 && e->len == 0 && e->val == NULL;
}

static bool
entries_ok(const struct msg *d, const struct msg *m, unsigned f)
{
	struct entry noop = { .kind = ENTRY_NOOP };
	unsigned i;

	if ((f & T_ENTRIES) == 0)
		return d->n == 0;
	if (d->n != m->n)
		return false;
	for (i = 0; i < m->n; i++) {
		const struct slot_entry *x = &d->e[i], *y = &m->e[i];
		if (f & T_VALUES) {
			/* No slot, ballot or flag travels with a value. */
			if (x->slot != 0 || x->chosen ||
			    !ballot_is_zero(x->ballot) ||
			    !same_entry(&x->e, &y->e))
				return false;
			continue;
		}
		if (f & T_ACKS) {
			/* A seq and a position, nothing else. */
			if (x->slot != y->slot || x->chosen ||
			    !ballot_is_zero(x->ballot) ||
			    !bare_entry(&x->e, y->e.seq))
				return false;
			continue;
		}
		if (x->slot != y->slot)
			return false;
		if (f & T_FULL) {
			if (ballot_cmp(x->ballot, y->ballot) != 0 ||
			    x->chosen != y->chosen)
				return false;
		} else if (!ballot_is_zero(x->ballot) || x->chosen) {
			return false;
		}
		if (!same_entry(&x->e, (f & T_SLOTS) ? &noop : &y->e))
			return false;
	}
	return true;
}

/*
 * Decode a copy of exactly len bytes, so ASan sees any read past it.
 * The copy lives until the next call: decoded values point into it.
 */
static int
decode_exact(struct msg *d, const uint8_t *buf, size_t len)
{
	static uint8_t *copy;

	free(copy);
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, buf, len);
	return msg_decode(d, copy, len);
}

static void
test_round_trip(void)
{
	static struct msg m, d;
	size_t len, want, cut;
	unsigned i, bad_cut;
	int pass;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 256);
	/* Every type is in the table, so a new one needs tests here. */
	CHECK(N_TYPES == MSG_TYPE_MAX - 1);
	for (i = 0; i < N_TYPES; i++)
		CHECK(types[i].type == i + 1);
	for (i = 0; i < N_TYPES; i++) {
		unsigned f = types[i].f;
		for (pass = 0; pass < 2; pass++) {
			bool with_big = pass == 1;
			if (with_big && (f & T_ENTRIES) == 0)
				continue;
			m.type = types[i].type;
			fill(&m, f, with_big);
			want = expected_size(&m, f);
			len = msg_encode(&m, enc, sizeof(enc));
			diag("%s%s: %zu bytes", types[i].name, !with_big ? "" :
			    (f & (T_ACKS | T_SLOTS)) ? " with a third entry" :
			    " with a VALUE_MAX value", len);
			CHECK(len == want);
			CHECK(enc[0] == MSG_VERSION && enc[1] == types[i].type);
			CHECK(decode_exact(&d, enc, len) == 0);
			CHECK(fields_ok(&d, &m, f));
			CHECK(entries_ok(&d, &m, f));
			/* The count is a little-endian u16 before the list. */
			if (f & T_ENTRIES)
				CHECK(enc[fixed_size(f)] == m.n &&
				    enc[fixed_size(f) + 1] == 0);
			CHECK(strcmp(msg_type_name(types[i].type),
			    types[i].name) == 0);

			/* Every truncation fails, and reads nothing past it. */
			bad_cut = 0;
			for (cut = 0; cut < len; cut++)
				if (decode_exact(&d, enc, cut) != -1)
					bad_cut++;
			CHECK(bad_cut == 0);

			/* Not a byte more, either. */
			enc[len] = 0;
			CHECK(decode_exact(&d, enc, len + 1) == -1);

			/* Too little room: 0, never a partial message. */
			CHECK(msg_encode(&m, enc, len - 1) == 0);
			CHECK(msg_encode(&m, enc, 0) == 0);
			CHECK(msg_encode(&m, enc, len) == len);
		}
	}
}

static void
test_layout(void)
{
	static const uint8_t prepare[] = {
		1, MSG_PREPARE,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x0d, 0x0c, 0x0b, 0x0a,
		0x2a, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x01, 0, 0,
	};
	/* Two values of session 9: seqs 2 and 0x0103, acked 1. */
	static const uint8_t submit[] = {
		1, MSG_SUBMIT,
		9, 0, 0, 0, 0, 0, 0, 0,		/* client */
		2, 0,				/* n */
		ENTRY_VALUE,
		9, 0, 0, 0, 0, 0, 0, 0,		/* client */
		2, 0, 0, 0, 0, 0, 0, 0,		/* seq */
		1, 0, 0, 0, 0, 0, 0, 0,		/* acked */
		3, 0, 0, 0,			/* len */
		'a', 0, 'b',
		ENTRY_VALUE,
		9, 0, 0, 0, 0, 0, 0, 0,		/* client */
		3, 1, 0, 0, 0, 0, 0, 0,		/* seq */
		1, 0, 0, 0, 0, 0, 0, 0,		/* acked */
		1, 0, 0, 0,			/* len */
		'c',
	};
	/* Where the fields of submit[] are. */
	enum {
		SUB_N = 2 + 8,
		SUB_E0 = SUB_N + 2,
		SUB_E1 = SUB_E0 + ENTRY_HDR + 3,
	};
	/* seq 4 committed at position 0x0201, seq 5 at an unknown one. */
	static const uint8_t reply[] = {
		1, MSG_REPLY,
		9, 0, 0, 0, 0, 0, 0, 0,		/* client */
		0, 0, 0, 0,			/* leader */
		REPLY_OK,			/* status */
		2, 0,				/* n */
		4, 0, 0, 0, 0, 0, 0, 0,		/* seq */
		0x01, 0x02, 0, 0, 0, 0, 0, 0,	/* position */
		5, 0, 0, 0, 0, 0, 0, 0,		/* seq */
		0, 0, 0, 0, 0, 0, 0, 0,		/* position: unknown */
	};
	static const uint8_t redirect[] = {
		1, MSG_REPLY,
		9, 0, 0, 0, 0, 0, 0, 0,		/* client */
		3, 0, 0, 0,			/* leader */
		REPLY_REDIRECT,			/* status */
		0, 0,				/* n */
	};
	static const uint8_t status_req[] = {
		1, MSG_STATUS_REQ,
		0x21, 0x43, 0, 0, 0, 0, 0, 0,	/* seq */
	};
	static const uint8_t status_rep[] = {
		1, MSG_STATUS_REP,
		7, 0, 0, 0, 0, 0, 0, 0,		/* ballot round */
		2, 0, 0, 0,			/* ballot node */
		10, 0, 0, 0, 0, 0, 0, 0,	/* slot */
		12, 0, 0, 0, 0, 0, 0, 0,	/* max_slot */
		11, 0, 0, 0, 0, 0, 0, 0,	/* commit */
		0x21, 0x43, 0, 0, 0, 0, 0, 0,	/* seq */
		2, 0, 0, 0,			/* leader */
		1,				/* status */
		1, 0, 0, 0, 0, 0, 0, 0,		/* malformed */
		2, 0, 0, 0, 0, 0, 0, 0,		/* forged */
		3, 0, 0, 0, 0, 0, 0, 0,		/* replay */
		4, 0, 0, 0, 0, 0, 0, 0,		/* unknown */
		5, 0, 0, 0, 0, 0, 0, 0,		/* values */
		0, 1, 0, 0, 0, 0, 0, 0x80,	/* uptime */
	};
	static struct msg m, d;
	size_t len;
	unsigned i;

	CHECK(MSG_MAX_ENTRIES == 256);
	CHECK(MSG_STATS == 6 && STAT_UPTIME == MSG_STATS - 1);

	msg_init(&m, MSG_PREPARE);
	m.ballot = (struct ballot){ 0x0102030405060708ULL, 0x0a0b0c0d };
	m.slot = 42;
	m.count = 256;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(prepare) && memcmp(enc, prepare, len) == 0);

	/* A SUBMIT with several values: no header seq, no slots. */
	msg_init(&m, MSG_SUBMIT);
	m.client = 9;
	m.seq = 77;				/* not carried */
	m.n = 2;
	set_value(&m.e[0].e, 9, 2, 1, (const uint8_t *)"a\0b", 3);
	m.e[1].slot = 99;			/* not carried */
	set_value(&m.e[1].e, 9, 0x0103, 1, (const uint8_t *)"c", 1);
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(submit) && memcmp(enc, submit, len) == 0);
	CHECK(decode_exact(&d, submit, sizeof(submit)) == 0);
	CHECK(d.type == MSG_SUBMIT && d.client == 9 && d.seq == 0 &&
	    d.n == 2);
	CHECK(d.e[0].slot == 0 && d.e[0].e.kind == ENTRY_VALUE &&
	    d.e[0].e.client == 9 && d.e[0].e.seq == 2 &&
	    d.e[0].e.acked == 1 && d.e[0].e.len == 3 &&
	    memcmp(d.e[0].e.val, "a\0b", 3) == 0);
	CHECK(d.e[1].slot == 0 && d.e[1].e.kind == ENTRY_VALUE &&
	    d.e[1].e.client == 9 && d.e[1].e.seq == 0x0103 &&
	    d.e[1].e.acked == 1 && d.e[1].e.len == 1 &&
	    d.e[1].e.val[0] == 'c');
	/* Values are borrowed from the buffer, not copied. */
	CHECK(msg_decode(&d, submit, sizeof(submit)) == 0 &&
	    d.e[0].e.val == submit + SUB_E1 - 3 &&
	    d.e[1].e.val == submit + sizeof(submit) - 1);

	CHECK(msg_entry_size(&(struct entry){ .kind = ENTRY_NOOP }) ==
	    1);
	CHECK(msg_entry_size(&m.e[0].e) == ENTRY_HDR + 3);

	/* A SUBMIT entry that names another session is refused... */
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_E0 + 1] = 8;			/* first entry's client */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_E1 + 1 + 7] = 0x80;		/* second entry's client */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	memcpy(enc, submit, sizeof(submit));
	enc[2] = 8;				/* the header's client */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	/* ...and so is seq 0, in any entry. */
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_E0 + 1 + 8] = 0;		/* first entry's seq */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_E1 + 1 + 8] = 0;
	enc[SUB_E1 + 1 + 9] = 0;		/* second entry's seq */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	/* Any other seq, and any acked, goes: the proposer judges them. */
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_E0 + 1 + 8] = 5;		/* seq 5 before 0x0103 */
	enc[SUB_E1 + 1 + 16] = 7;		/* acked */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == 0 &&
	    d.e[0].e.seq == 5 && d.e[0].e.acked == 1 &&
	    d.e[1].e.seq == 0x0103 && d.e[1].e.acked == 7);
	/* The count says how many: one entry fewer leaves bytes over. */
	memcpy(enc, submit, sizeof(submit));
	enc[SUB_N] = 1;
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	CHECK(decode_exact(&d, enc, SUB_E1) == 0 && d.n == 1 &&
	    d.e[0].e.seq == 2);
	enc[SUB_N] = 3;				/* one more than there is */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);
	enc[SUB_N] = 2;
	enc[SUB_N + 1] = 1;			/* 258: the high byte counts */
	CHECK(decode_exact(&d, enc, sizeof(submit)) == -1);

	/* A REPLY acknowledges several seqs, position 0 included. */
	msg_init(&m, MSG_REPLY);
	m.client = 9;
	m.status = REPLY_OK;
	m.n = 2;
	m.e[0].e.seq = 4;
	m.e[0].slot = 0x0201;
	m.e[1].e.seq = 5;
	m.e[1].slot = 0;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(reply) && memcmp(enc, reply, len) == 0);
	CHECK(decode_exact(&d, reply, sizeof(reply)) == 0);
	CHECK(d.type == MSG_REPLY && d.client == 9 &&
	    d.status == REPLY_OK && d.leader == 0 && d.seq == 0 &&
	    d.slot == 0 && d.n == 2);
	CHECK(d.e[0].e.seq == 4 && d.e[0].slot == 0x0201 &&
	    d.e[1].e.seq == 5 && d.e[1].slot == 0);

	/* A redirect: no acks, the leader hint. */
	msg_init(&m, MSG_REPLY);
	m.client = 9;
	m.status = REPLY_REDIRECT;
	m.leader = 3;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(redirect) && memcmp(enc, redirect, len) == 0);
	CHECK(decode_exact(&d, redirect, sizeof(redirect)) == 0 &&
	    d.status == REPLY_REDIRECT && d.leader == 3 && d.n == 0);

	/* The status request and its answer. */
	msg_init(&m, MSG_STATUS_REQ);
	m.seq = 0x4321;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(status_req) &&
	    memcmp(enc, status_req, len) == 0);
	CHECK(decode_exact(&d, status_req, sizeof(status_req)) == 0 &&
	    d.type == MSG_STATUS_REQ && d.seq == 0x4321 && d.n == 0);

	msg_init(&m, MSG_STATUS_REP);
	m.seq = 0x4321;
	m.status = 1;
	m.ballot = (struct ballot){ 7, 2 };
	m.leader = 2;
	m.slot = 10;
	m.max_slot = 12;
	m.commit = 11;
	for (i = 0; i < MSG_STATS; i++)
		m.stats[i] = i + 1;
	m.stats[STAT_UPTIME] = 0x8000000000000100ULL;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == sizeof(status_rep) &&
	    memcmp(enc, status_rep, len) == 0);
	CHECK(decode_exact(&d, status_rep, sizeof(status_rep)) == 0);
	CHECK(d.type == MSG_STATUS_REP && d.seq == 0x4321 &&
	    d.status == 1 && ballot_cmp(d.ballot, (struct ballot){ 7, 2 }) == 0 && d.leader == 2 &&
	    d.slot == 10 && d.max_slot == 12 && d.commit == 11 &&
	    d.n == 0);
	CHECK(d.stats[STAT_MALFORMED] == 1 && d.stats[STAT_FORGED] == 2 &&
	    d.stats[STAT_REPLAY] == 3 && d.stats[STAT_UNKNOWN] == 4 &&
	    d.stats[STAT_VALUES] == 5 &&
	    d.stats[STAT_UPTIME] == 0x8000000000000100ULL);
}

/* An ACCEPTED listing n slots, built by hand. */
static size_t
accepted_bytes(uint8_t *buf, unsigned n, uint64_t slot)
{
	size_t len = 0;
	unsigned i, k;

	buf[len++] = MSG_VERSION;
	buf[len++] = MSG_ACCEPTED;
	memset(buf + len, 0, 12);
	buf[len] = 1;
	len += 12;
	buf[len++] = (uint8_t)n;		/* count: u16, little-endian */
	buf[len++] = (uint8_t)(n >> 8);
	for (i = 0; i < n; i++)
		for (k = 0; k < 8; k++)
			buf[len++] = (uint8_t)((slot + i) >> (8 * k));
	return len;
}

static void
test_malformed(void)
{
	static struct msg m, d;
	size_t len, off;

	msg_init(&m, MSG_COMMIT);
	m.ballot = (struct ballot){ 1, 1 };
	m.commit = 5;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == 2 + 12 + 8);
	CHECK(decode_exact(&d, enc, len) == 0 && d.commit == 5);

	enc[0] = MSG_VERSION + 1;
	CHECK(decode_exact(&d, enc, len) == -1);
	enc[0] = 0;
	CHECK(decode_exact(&d, enc, len) == -1);
	enc[0] = MSG_VERSION;
	enc[1] = 0;
	CHECK(decode_exact(&d, enc, len) == -1);
	enc[1] = MSG_TYPE_MAX;
	CHECK(decode_exact(&d, enc, len) == -1);
	enc[1] = 0xff;
	CHECK(decode_exact(&d, enc, len) == -1);
	enc[1] = MSG_COMMIT;
	CHECK(decode_exact(&d, enc, len) == 0);
	CHECK(strcmp(msg_type_name(0), "unknown") == 0);
	CHECK(strcmp(msg_type_name(MSG_TYPE_MAX), "unknown") == 0);

	/* A value of VALUE_MAX + 1 bytes, all of them present. */
	msg_init(&m, MSG_SUBMIT);
	m.client = 1;
	m.n = 1;
	set_value(&m.e[0].e, 1, 1, 0, big, VALUE_MAX);
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == fixed_size(T_CLIENT) + COUNT_LEN + ENTRY_HDR + VALUE_MAX);
	CHECK(decode_exact(&d, enc, len) == 0);
	off = fixed_size(T_CLIENT) + COUNT_LEN + ENTRY_HDR - 4; /* entry len */
	CHECK(enc[off] == 0x00 && enc[off + 1] == 0x80);
	enc[off] = 0x01;			/* VALUE_MAX + 1 */
	enc[len] = 'x';
	CHECK(decode_exact(&d, enc, len + 1) == -1);
	enc[off] = 0xff;
	enc[off + 1] = 0xff;
	enc[off + 2] = 0xff;
	enc[off + 3] = 0xff;			/* 4 GB: must not wrap */
	CHECK(decode_exact(&d, enc, len + 1) == -1);

	/* A SUBMIT must carry values, not no-ops. */
	len = fixed_size(T_CLIENT);
	memset(enc, 0, len + 3);
	enc[0] = MSG_VERSION;
	enc[1] = MSG_SUBMIT;
	enc[len] = 1;				/* n */
	enc[len + 2] = ENTRY_NOOP;
	CHECK(decode_exact(&d, enc, len + 3) == -1);
	enc[len + 2] = 2;			/* no such kind */
	CHECK(decode_exact(&d, enc, len + 3) == -1);
	/* Nor can one be encoded, even after a value. */
	msg_init(&m, MSG_SUBMIT);
	m.client = 1;
	m.n = 2;
	set_value(&m.e[0].e, 1, 1, 0, binary, sizeof(binary));
	m.e[1].e = (struct entry){ .kind = ENTRY_NOOP };
	CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);
	m.n = 1;
	CHECK(msg_encode(&m, enc, sizeof(enc)) ==
	    fixed_size(T_CLIENT) + COUNT_LEN + ENTRY_HDR + sizeof(binary));

	/* MSG_MAX_ENTRIES slots decode; one more does not. */
	len = accepted_bytes(enc, MSG_MAX_ENTRIES, 1);
	CHECK(enc[2 + 12] == 0x00 && enc[2 + 12 + 1] == 0x01);	/* 256 */
	CHECK(decode_exact(&d, enc, len) == 0 && d.n == MSG_MAX_ENTRIES &&
	    d.e[0].slot == 1 && d.e[255].slot == 256);
	len = accepted_bytes(enc, MSG_MAX_ENTRIES + 1, 1);
	CHECK(decode_exact(&d, enc, len) == -1);
	len = accepted_bytes(enc, 255, 1);	/* the old u8 maximum */
	CHECK(decode_exact(&d, enc, len) == 0 && d.n == 255 &&
	    d.e[254].slot == 255);
	len = accepted_bytes(enc, 1, 1);
	enc[2 + 12] = 0xff;
	enc[2 + 12 + 1] = 0xff;			/* 65535 */
	CHECK(decode_exact(&d, enc, len) == -1);
	msg_init(&m, MSG_ACCEPTED);
	m.n = MSG_MAX_ENTRIES + 1;
	for (off = 0; off < m.n && off < MSG_MAX_ENTRIES; off++)
		m.e[off].slot = off + 1;
	CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);

	/* Slot 0 and SLOT_NONE are no positions. */
	len = accepted_bytes(enc, 1, 0);
	CHECK(decode_exact(&d, enc, len) == -1);
	len = accepted_bytes(enc, 1, SLOT_NONE);
	CHECK(decode_exact(&d, enc, len) == -1);
	len = accepted_bytes(enc, 3, SLOT_NONE - 2);	/* ends at NONE */
	CHECK(decode_exact(&d, enc, len) == -1);
	msg_init(&m, MSG_CHOSEN);
	m.n = 1;
	m.e[0].slot = 1;
	m.e[0].e = (struct entry){ .kind = ENTRY_NOOP };
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == fixed_size(T_COMMIT) + COUNT_LEN + 8 + 1);
	CHECK(decode_exact(&d, enc, len) == 0 && d.e[0].slot == 1);
	enc[fixed_size(T_COMMIT) + COUNT_LEN] = 0;	/* slot 0 */
	CHECK(decode_exact(&d, enc, len) == -1);
	/* ...but an ack's position 0 means "committed, position unknown". */
	msg_init(&m, MSG_REPLY);
	m.client = 2;
	m.n = 1;
	m.e[0].e.seq = 1;
	m.e[0].slot = 0;
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == fixed_size(T_CLIENT | T_LEADER | T_STATUS) + COUNT_LEN +
	    16);
	CHECK(decode_exact(&d, enc, len) == 0 && d.n == 1 &&
	    d.e[0].e.seq == 1 && d.e[0].slot == 0);
	len = accepted_bytes(enc, 1, 1);
	CHECK(decode_exact(&d, enc, len) == 0 && d.e[0].slot == 1);

	/* A PROMISE entry's chosen flag is 0 or 1. */
	msg_init(&m, MSG_PROMISE);
	m.n = 1;
	m.e[0].slot = 4;
	m.e[0].ballot = (struct ballot){ 1, 1 };
	m.e[0].chosen = true;
	m.e[0].e = (struct entry){ .kind = ENTRY_NOOP };
	len = msg_encode(&m, enc, sizeof(enc));
	CHECK(len == fixed_size(T_BALLOT | T_SLOT | T_NEXT | T_MAX |
	    T_COMMIT) + COUNT_LEN + 8 + 12 + 1 + 1);
	CHECK(enc[len - 2] == 1);
	CHECK(decode_exact(&d, enc, len) == 0 && d.e[0].chosen);
	enc[len - 2] = 2;
	CHECK(decode_exact(&d, enc, len) == -1);

	/* Anything over MSG_MAX is refused both ways. */
	msg_init(&m, MSG_ACCEPT);
	m.n = 2;
	m.e[0].slot = 1;
	set_value(&m.e[0].e, 1, 1, 0, big, VALUE_MAX);
	m.e[1].slot = 2;
	set_value(&m.e[1].e, 1, 2, 0, big, VALUE_MAX);
	CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);
	memset(enc, 0, sizeof(enc));
	CHECK(decode_exact(&d, enc, MSG_MAX + 1) == -1);
	CHECK(decode_exact(&d, enc, 0) == -1);

	/* An unknown type is not encoded. */
	msg_init(&m, MSG_TYPE_MAX);
	CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);
	msg_init(&m, 0);
	CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);
}

/*
 * MSG_MAX_ENTRIES entries of every kind of list go there and back; a
 * count of one more is refused by the encoder, and by the decoder even
 * with every byte of the extra entry present.
 */
static void
test_max_entries(void)
{
	static const uint8_t types_n[] = { MSG_SUBMIT, MSG_REPLY,
	    MSG_ACCEPTED, MSG_CHOSEN, MSG_ACCEPT };
	static const unsigned f_n[] = { T_CLIENT | T_VALUES,
	    T_CLIENT | T_STATUS | T_LEADER | T_ACKS, T_BALLOT | T_SLOTS,
	    T_COMMIT | T_SLOTENT, T_BALLOT | T_COMMIT | T_SLOTENT };
	static struct msg m, d;
	static uint8_t vals[MSG_MAX_ENTRIES];
	size_t len, off, one;
	unsigned t, i, bad;

	for (i = 0; i < MSG_MAX_ENTRIES; i++)
		vals[i] = (uint8_t)(0xff - i);
	for (t = 0; t < sizeof(types_n); t++) {
		unsigned f = f_n[t];
		msg_init(&m, types_n[t]);
		m.client = 0x0102030405060708ULL;
		m.ballot = (struct ballot){ 2, 1 };
		m.commit = 3;
		m.n = MSG_MAX_ENTRIES;
		for (i = 0; i < m.n; i++) {
			if (f & T_VALUES) {
				set_value(&m.e[i].e, m.client, i + 1, 0,
				    &vals[i], 1);
				continue;
			}
			/* Acks: every fourth at position 0. */
			m.e[i].slot = (f & T_ACKS) && i % 4 == 0 ? 0 :
			    1000 + i;
			m.e[i].e = (struct entry){ .kind = ENTRY_NOOP,
			    .seq = (f & T_ACKS) ? 500 + i : 0 };
			if ((f & T_SLOTENT) && i % 2 == 1)
				set_value(&m.e[i].e, 9, i, 0, &vals[i], 1);
		}
		len = msg_encode(&m, enc, sizeof(enc));
		diag("%s with %u entries: %zu bytes", msg_type_name(m.type),
		    m.n, len);
		CHECK(len == expected_size(&m, f));
		off = fixed_size(f);
		CHECK(enc[off] == 0x00 && enc[off + 1] == 0x01);
		CHECK(decode_exact(&d, enc, len) == 0);
		CHECK(d.n == MSG_MAX_ENTRIES && fields_ok(&d, &m, f) &&
		    entries_ok(&d, &m, f));

		/* 257: the encoder refuses. */
		m.n = MSG_MAX_ENTRIES + 1;
		CHECK(msg_encode(&m, enc, sizeof(enc)) == 0);

		/*
		 * 257 by hand: the last entry once more, the count one up.
		 * A decoder reading only the low byte would see 1 entry and
		 * refuse for the bytes over, so take 0x01 0x01 apart too.
		 */
		m.n = MSG_MAX_ENTRIES;
		len = msg_encode(&m, enc, sizeof(enc));
		one = (len - off - COUNT_LEN) / MSG_MAX_ENTRIES;
		if (f & (T_VALUES | T_SLOTENT))
			one = (f & T_VALUES) ? ENTRY_HDR + 1 :
			    8 + ENTRY_HDR + 1;	/* last entry: a value */
		memcpy(enc + len, enc + len - one, one);
		enc[off] = 0x01;
		CHECK(decode_exact(&d, enc, len + one) == -1);
		/* The same bytes with the count at 256 have bytes over. */
		enc[off] = 0x00;
		CHECK(decode_exact(&d, enc, len + one) == -1);
		CHECK(decode_exact(&d, enc, len) == 0);

		/* Each count up to 256 that the bytes do not match fails. */
		bad = 0;
		for (i = 0; i < 0x200; i++) {
			if (i == MSG_MAX_ENTRIES)
				continue;
			enc[off] = (uint8_t)i;
			enc[off + 1] = (uint8_t)(i >> 8);
			if (decode_exact(&d, enc, len) != -1)
				bad++;
		}
		CHECK(bad == 0);
	}
}

static void
test_ballot(void)
{
	struct ballot zero = { 0, 0 }, a = { 1, 5 }, b = { 2, 1 },
	    c = { 2, 3 }, top = { UINT64_MAX, 0 }, wide = { 1, UINT32_MAX };

	CHECK(ballot_cmp(a, b) == -1);
	CHECK(ballot_cmp(b, a) == 1);
	CHECK(ballot_cmp(b, c) == -1);		/* node breaks the tie */
	CHECK(ballot_cmp(c, b) == 1);
	CHECK(ballot_cmp(c, (struct ballot){ 2, 3 }) == 0);
	CHECK(ballot_cmp(zero, a) == -1);
	CHECK(ballot_cmp(wide, b) == -1);	/* round comes first */
	CHECK(ballot_cmp(top, wide) == 1);
	CHECK(ballot_cmp(zero, zero) == 0);
	CHECK(ballot_is_zero(zero));
	CHECK(!ballot_is_zero((struct ballot){ 0, 1 }));
	CHECK(!ballot_is_zero((struct ballot){ 1, 0 }));
}

static void
test_outbox(void)
{
	struct out o[2];
	struct outbox ob = { 0, 2, 0, o };
	struct msg *m;

	memset(o, 0xa5, sizeof(o));
	m = outbox_add(&ob, 1, 7, 0, MSG_PREPARE);
	CHECK(m == &o[0].m);
	CHECK(ob.n == 1 && o[0].role == 1 && o[0].id == 7 &&
	    o[0].client == 0);
	CHECK(o[0].m.type == MSG_PREPARE && o[0].m.n == 0 &&
	    o[0].m.slot == 0 && ballot_is_zero(o[0].m.ballot));
	m = outbox_add(&ob, 4, 0, 0xabcdef, MSG_REPLY);
	CHECK(m == &o[1].m);
	CHECK(ob.n == 2 && o[1].role == 4 && o[1].client == 0xabcdef &&
	    o[1].m.type == MSG_REPLY && o[1].m.seq == 0);
	CHECK(outbox_add(&ob, 1, 1, 0, MSG_ACCEPT) == NULL);
	CHECK(ob.n == 2 && ob.lost == 1);
	CHECK(outbox_add(&ob, 1, 1, 0, MSG_ACCEPT) == NULL);
	CHECK(ob.n == 2 && ob.lost == 2);
	/* What was queued is untouched by the refusals. */
	CHECK(o[0].m.type == MSG_PREPARE && o[1].m.type == MSG_REPLY);

	ob = (struct outbox){ 0, 0, 0, NULL };
	CHECK(outbox_add(&ob, 1, 1, 0, MSG_NACK) == NULL && ob.lost == 1);
}

int
main(void)
{
	test_round_trip();
	test_layout();
	test_malformed();
	test_max_entries();
	test_ballot();
	test_outbox();
	return done_testing();
}
