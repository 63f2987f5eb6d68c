/* Encoding and bounds-checked decoding of protocol messages. */
#include <string.h>

#include "msg.h"

/* Which fields each message type carries, in this order. */
#define F_BALLOT	0x0001
#define F_SLOT		0x0002
#define F_NEXT		0x0004
#define F_MAX		0x0008
#define F_COMMIT	0x0010
#define F_CLIENT	0x0020
#define F_SEQ		0x0040
#define F_COUNT		0x0100
#define F_LEADER	0x0200
#define F_STATUS	0x0400
#define F_FULL		0x0800	/* entries: slot, ballot, chosen, entry */
#define F_SLOTENT	0x1000	/* entries: slot, entry */
#define F_SLOTS		0x2000	/* entries: slot only */
#define F_VALUES	0x4000	/* entries: client values, no slot */
#define F_ACKS		0x0080	/* entries: seq and position */
#define F_STATS		0x8000	/* MSG_STATS counters */

static const uint16_t layout[MSG_TYPE_MAX] = {
	[MSG_PREPARE] = F_BALLOT | F_SLOT | F_COUNT,
	[MSG_PROMISE] = F_BALLOT | F_SLOT | F_NEXT | F_MAX | F_COMMIT | F_FULL,
	[MSG_NACK] = F_BALLOT,
	[MSG_ACCEPT] = F_BALLOT | F_COMMIT | F_SLOTENT,
	[MSG_ACCEPTED] = F_BALLOT | F_SLOTS,
	[MSG_COMMIT] = F_BALLOT | F_COMMIT,
	[MSG_CHOSEN] = F_COMMIT | F_SLOTENT,
	[MSG_LEARN_REQ] = F_SLOT | F_SEQ | F_COUNT,
	[MSG_LEARN_REP] = F_SLOT | F_NEXT | F_MAX | F_COMMIT | F_SEQ | F_FULL,
	[MSG_SUBMIT] = F_CLIENT | F_VALUES,
	[MSG_REPLY] = F_CLIENT | F_STATUS | F_LEADER | F_ACKS,
	[MSG_STATUS_REQ] = F_SEQ,
	[MSG_STATUS_REP] = F_SEQ | F_STATUS | F_BALLOT | F_LEADER | F_SLOT |
	    F_MAX | F_COMMIT | F_STATS,
};

static const char *const names[MSG_TYPE_MAX] = {
	[MSG_PREPARE] = "prepare", [MSG_PROMISE] = "promise",
	[MSG_NACK] = "nack", [MSG_ACCEPT] = "accept",
	[MSG_ACCEPTED] = "accepted", [MSG_COMMIT] = "commit",
	[MSG_CHOSEN] = "chosen", [MSG_LEARN_REQ] = "learn_req",
	[MSG_LEARN_REP] = "learn_rep", [MSG_SUBMIT] = "submit",
	[MSG_REPLY] = "reply", [MSG_STATUS_REQ] = "status_req",
	[MSG_STATUS_REP] = "status_rep",
};

int
ballot_cmp(struct ballot a, struct ballot b)
{
	if (a.round != b.round)
		return a.round < b.round ? -1 : 1;
	if (a.node != b.node)
		return a.node < b.node ? -1 : 1;
	return 0;
}

bool
ballot_is_zero(struct ballot b)
{
	return b.round == 0 && b.node == 0;
}

const char *
msg_type_name(uint8_t type)
{
	if (type == 0 || type >= MSG_TYPE_MAX)
		return "unknown";
	return names[type];
}

void
msg_init(struct msg *m, uint8_t type)
{
	m->type = type;
	m->ballot.round = 0;
	m->ballot.node = 0;
	m->slot = m->next = m->max_slot = m->commit = 0;
	m->client = m->seq = 0;
	m->count = m->leader = 0;
	m->status = 0;
	memset(m->stats, 0, sizeof(m->stats));
	m->n = 0;
}

size_t
msg_entry_size(const struct entry *e)
{
	return e->kind == ENTRY_VALUE ? 1 + 8 + 8 + 8 + 4 + e->len : 1;
}

struct wbuf {
	uint8_t		*p;
	size_t		 len, cap;
	bool		 full;
};

static void
put(struct wbuf *w, const void *src, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put8(struct wbuf *w, uint8_t v)
{
	put(w, &v, 1);
}

static void
put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(w, b, 2);
}

static void
put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, 4);
}

static void
put64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, 8);
}

static void
put_ballot(struct wbuf *w, struct ballot b)
{
	put64(w, b.round);
	put32(w, b.node);
}

static void
put_entry(struct wbuf *w, const struct entry *e)
{
	put8(w, e->kind);
	if (e->kind != ENTRY_VALUE)
		return;
	put64(w, e->client);
	put64(w, e->seq);
	put64(w, e->acked);
	put32(w, e->len);
	put(w, e->val, e->len);
}

size_t
msg_encode(const struct msg *m, uint8_t *buf, size_t cap)
{
	struct wbuf w = { buf, 0, cap < MSG_MAX ? cap : MSG_MAX, false };
	uint16_t f;
	unsigned i;

	if (m->type == 0 || m->type >= MSG_TYPE_MAX)
		return 0;
	f = layout[m->type];
	put8(&w, MSG_VERSION);
	put8(&w, m->type);
	if (f & F_BALLOT)
		put_ballot(&w, m->ballot);
	if (f & F_SLOT)
		put64(&w, m->slot);
	if (f & F_NEXT)
		put64(&w, m->next);
	if (f & F_MAX)
		put64(&w, m->max_slot);
	if (f & F_COMMIT)
		put64(&w, m->commit);
	if (f & F_CLIENT)
		put64(&w, m->client);
	if (f & F_SEQ)
		put64(&w, m->seq);
	if (f & F_COUNT)
		put32(&w, m->count);
	if (f & F_LEADER)
		put32(&w, m->leader);
	if (f & F_STATUS)
		put8(&w, m->status);
	if (f & F_STATS)
		for (i = 0; i < MSG_STATS; i++)
			put64(&w, m->stats[i]);
	if (f & (F_FULL | F_SLOTENT | F_SLOTS | F_VALUES | F_ACKS)) {
		if (m->n > MSG_MAX_ENTRIES)
			return 0;
		put16(&w, (uint16_t)m->n);
		for (i = 0; i < m->n; i++) {
			if (f & F_VALUES) {
				if (m->e[i].e.kind != ENTRY_VALUE)
					return 0;
				put_entry(&w, &m->e[i].e);
				continue;
			}
			if (f & F_ACKS)
				put64(&w, m->e[i].e.seq);
			put64(&w, m->e[i].slot);
			if (f & F_FULL) {
				put_ballot(&w, m->e[i].ballot);
				put8(&w, m->e[i].chosen);
			}
			if (f & (F_FULL | F_SLOTENT))
				put_entry(&w, &m->e[i].e);
		}
	}
	return w.full ? 0 : w.len;
}

struct rbuf {
	const uint8_t	*p;
	size_t		 len, off;
	bool		 bad;
};

static const uint8_t *
take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t
get8(struct rbuf *r)
{
	const uint8_t *p = take(r, 1);

	return p == NULL ? 0 : p[0];
}

static uint16_t
get16(struct rbuf *r)
{
	const uint8_t *p = take(r, 2);

	return p == NULL ? 0 : (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(struct rbuf *r)
{
	const uint8_t *p = take(r, 4);
	uint32_t v = 0;
	int i;

	if (p != NULL)
		for (i = 0; i < 4; i++)
			v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t
get64(struct rbuf *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t v = 0;
	int i;

	if (p != NULL)
		for (i = 0; i < 8; i++)
			v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct ballot
get_ballot(struct rbuf *r)
{
	struct ballot b;

	b.round = get64(r);
	b.node = get32(r);
	return b;
}

static void
get_entry(struct rbuf *r, struct entry *e)
{
	e->kind = get8(r);
	e->client = e->seq = e->acked = 0;
	e->len = 0;
	e->val = NULL;
	if (e->kind == ENTRY_NOOP)
		return;
	if (e->kind != ENTRY_VALUE) {
		r->bad = true;
		return;
	}
	e->client = get64(r);
	e->seq = get64(r);
	e->acked = get64(r);
	e->len = get32(r);
	if (e->len > VALUE_MAX) {
		r->bad = true;
		return;
	}
	e->val = take(r, e->len);
}

int
msg_decode(struct msg *m, const uint8_t *buf, size_t len)
{
	struct rbuf r = { buf, len, 0, false };
	uint16_t f;
	uint8_t type, chosen;
	unsigned i;

	if (len > MSG_MAX || get8(&r) != MSG_VERSION)
		return -1;
	type = get8(&r);
	if (r.bad || type == 0 || type >= MSG_TYPE_MAX)
		return -1;
	msg_init(m, type);
	f = layout[type];
	if (f & F_BALLOT)
		m->ballot = get_ballot(&r);
	if (f & F_SLOT)
		m->slot = get64(&r);
	if (f & F_NEXT)
		m->next = get64(&r);
	if (f & F_MAX)
		m->max_slot = get64(&r);
	if (f & F_COMMIT)
		m->commit = get64(&r);
	if (f & F_CLIENT)
		m->client = get64(&r);
	if (f & F_SEQ)
		m->seq = get64(&r);
	if (f & F_COUNT)
		m->count = get32(&r);
	if (f & F_LEADER)
		m->leader = get32(&r);
	if (f & F_STATUS)
		m->status = get8(&r);
	if (f & F_STATS)
		for (i = 0; i < MSG_STATS; i++)
			m->stats[i] = get64(&r);
	if (f & (F_FULL | F_SLOTENT | F_SLOTS | F_VALUES | F_ACKS)) {
		m->n = get16(&r);
		if (m->n > MSG_MAX_ENTRIES)
			return -1;
		for (i = 0; i < m->n && !r.bad; i++) {
			struct slot_entry *se = &m->e[i];
			se->slot = 0;
			se->ballot = (struct ballot){ 0, 0 };
			se->chosen = false;
			se->e.kind = ENTRY_NOOP;
			se->e.client = se->e.seq = se->e.acked = 0;
			se->e.len = 0;
			se->e.val = NULL;
			if (f & F_VALUES) {
				/* A client's own values, in its order. */
				get_entry(&r, &se->e);
				if (se->e.kind != ENTRY_VALUE ||
				    se->e.client != m->client || se->e.seq == 0)
					r.bad = true;
				continue;
			}
			if (f & F_ACKS) {
				/* Position 0: committed, position unknown. */
				se->e.seq = get64(&r);
				se->slot = get64(&r);
				continue;
			}
			se->slot = get64(&r);
			if (f & F_FULL) {
				se->ballot = get_ballot(&r);
				chosen = get8(&r);
				if (chosen > 1)
					r.bad = true;
				se->chosen = chosen == 1;
			}
			if (f & (F_FULL | F_SLOTENT))
				get_entry(&r, &se->e);
			if (se->slot == 0 || se->slot == SLOT_NONE)
				r.bad = true;
		}
	}
	/* Trailing bytes mean a sender we do not understand. */
	if (r.bad || r.off != r.len)
		return -1;
	return 0;
}

struct msg *
outbox_add(struct outbox *ob, uint8_t role, uint32_t id, uint64_t client,
    uint8_t type)
{
	struct out *o;

	if (ob->n == ob->cap) {
		ob->lost++;
		return NULL;
	}
	o = &ob->o[ob->n++];
	o->role = role;
	o->id = id;
	o->client = client;
	msg_init(&o->m, type);
	return &o->m;
}
