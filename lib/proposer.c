/* Proposer role: elections, phase 1 recovery, pipelined phase 2. */
#include <stddef.h>
#include <string.h>

#include "auth.h"
#include "proposer.h"

/* Bytes kept for an ACCEPT's header when packing entries. */
#define HEADER_ROOM	128

static unsigned
popcount(uint32_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

static int
acc_index(const struct proposer *p, uint32_t id)
{
	unsigned i;

	for (i = 0; i < p->n_acc; i++)
		if (p->acc_ids[i] == id)
			return (int)i;
	return -1;
}

static struct pslot *
ring_at(struct proposer *p, uint64_t slot)
{
	return &p->ring[slot % PROPOSER_WINDOW];
}

_Static_assert(PROPOSER_INTAKES < UINT16_MAX, "a pin is an intake + 1");

/* Which intake holds e's bytes, + 1; 0: none does. */
static unsigned
intake_of(const struct proposer *p, const struct entry *e)
{
	uintptr_t v = (uintptr_t)e->val, base = (uintptr_t)p->intake;
	uintptr_t off;

	if (e->len == 0 || v < base ||
	    (off = v - base) >= (uintptr_t)PROPOSER_INTAKES * MSG_MAX ||
	    off % MSG_MAX + e->len > MSG_MAX)
		return 0;
	return (unsigned)(off / MSG_MAX) + 1;
}

/*
 * A slot let go of a value in intake i - 1.  Unused now, it is not free
 * yet: an ACCEPT in the outbox may still point into it (one that
 * finish_window put there before a NACK made us step down, say).
 */
static void
release(struct proposer *p, unsigned i)
{
	if (i != 0 && --p->intake_refs[i - 1] == 0)
		p->intake_done[p->n_intake_done++] = (uint16_t)(i - 1);
}

/* Called where the caller sends the outbox next: no one points there. */
static void
free_released(struct proposer *p)
{
	unsigned i;

	for (i = 0; i < p->n_intake_done; i++)
		p->intake_free[p->n_intake_free++] = p->intake_done[i];
	p->n_intake_done = 0;
}

static void
unpin(struct proposer *p, struct pslot *ps)
{
	release(p, ps->pin);
	ps->pin = 0;
}

/*
 * The slot's value is e: kept where it lies when that is the intake the
 * caller was handed (or one already holding values of the same
 * datagram), copied into the slot's own buffer otherwise.  The value it
 * held before is let go of last: when it lay in the same intake, that
 * intake stays held rather than being let go of and copied from.
 */
static void
hold_value(struct proposer *p, struct pslot *ps, const struct entry *e)
{
	unsigned i = intake_of(p, e), old = ps->pin;

	if (i != 0 && p->intake_refs[i - 1] == 0) {
		if (p->n_intake_free > 0 &&
		    p->intake_free[p->n_intake_free - 1] == i - 1)
			p->n_intake_free--;
		else
			i = 0;	/* not the one handed out: copy */
	}
	ps->e = *e;
	ps->pin = (uint16_t)i;
	if (i != 0) {
		p->intake_refs[i - 1]++;
	} else {
		if (e->len > 0)
			memcpy(ps->buf, e->val, e->len);
		ps->e.val = ps->buf;
	}
	release(p, old);
}

static void
slot_free(struct proposer *p, struct pslot *ps)
{
	unpin(p, ps);
	ps->state = PSLOT_FREE;
	ps->slot = 0;
}

static void
ring_clear(struct proposer *p)
{
	unsigned i;

	p->announced = p->commit;
	for (i = 0; i < PROPOSER_WINDOW; i++)
		slot_free(p, &p->ring[i]);
}

uint8_t *
proposer_intake(struct proposer *p)
{
	if (p->n_intake_free == 0)
		return NULL;
	return p->intake +
	    (size_t)p->intake_free[p->n_intake_free - 1] * MSG_MAX;
}

void
proposer_init(struct proposer *p, uint32_t id, const uint32_t *acc_ids,
    unsigned n_acc, const uint32_t *prop_ids, unsigned n_prop,
    unsigned timeout_ms, uint8_t *valbuf, uint64_t last_round,
    uint64_t now_ms)
{
	unsigned i;

	memset(p, 0, offsetof(struct proposer, sessions));
	for (i = 0; i < PROPOSER_SESSIONS; i++)
		p->sessions[i].client = 0;
	p->id = id;
	p->seen.round = last_round;
	p->ballot.round = last_round;
	p->n_acc = n_acc < PROPOSER_MAX_ACC ? n_acc : PROPOSER_MAX_ACC;
	memcpy(p->acc_ids, acc_ids, p->n_acc * sizeof(acc_ids[0]));
	p->quorum = p->n_acc / 2 + 1;
#ifdef PAXOS_BROKEN_QUORUM
	/* Only for the simulator's self-test: quorums that need not meet. */
	p->quorum = p->n_acc / 2;
#endif
	for (i = 0; i < n_prop; i++)
		if (prop_ids[i] == id)
			p->rank = i;
	p->timeout_ms = timeout_ms;
	p->commit = p->next_slot = p->announced = 1;
	for (i = 0; i < PROPOSER_WINDOW; i++)
		p->ring[i].buf = valbuf + (size_t)i * VALUE_MAX;
	p->intake = valbuf + (size_t)PROPOSER_WINDOW * VALUE_MAX;
	/* The first handed out is intake 0, then 1, ... */
	for (i = 0; i < PROPOSER_INTAKES; i++)
		p->intake_free[i] = (uint16_t)(PROPOSER_INTAKES - 1 - i);
	p->n_intake_free = PROPOSER_INTAKES;
	/* The log as learners see it, but only the filter's part of it. */
	learner_init(&p->lrn, acc_ids, n_acc, timeout_ms, NULL, 1, now_ms);
	/*
	 * The first proposer tries at once; the others give it a few
	 * timeouts to show itself, so a cold start has no duel.
	 */
	p->election_ms = now_ms + (uint64_t)p->rank * 2 * timeout_ms;
}

bool
proposer_is_leader(const struct proposer *p)
{
	return p->state == PROPOSER_LEADING;
}

/* Wait for the leader (or for a rival's term) before trying again. */
static void
back_off(struct proposer *p, uint64_t now, uint32_t rnd)
{
	p->election_ms = now + 3 * (uint64_t)p->timeout_ms +
	    rnd % (2 * (uint64_t)p->timeout_ms + 1);
}

static void
step_down(struct proposer *p, uint64_t now, uint32_t rnd, struct ballot b)
{
	p->state = PROPOSER_FOLLOWER;
	p->leader = b.node != p->id ? b.node : 0;
	p->recovering = p->window_open = false;
	ring_clear(p);
	back_off(p, now, rnd);
}

static void
note_ballot(struct proposer *p, struct ballot b)
{
	if (ballot_cmp(b, p->seen) > 0)
		p->seen = b;
}

static void
send_prepare(struct proposer *p, unsigned i, struct outbox *ob)
{
	struct msg *m;

	m = outbox_add(ob, AUTH_ACCEPTOR, p->acc_ids[i], 0, MSG_PREPARE);
	if (m == NULL)
		return;
	m->ballot = p->ballot;
	m->slot = p->cover[i];
	m->count = (uint32_t)(p->scan_end - p->cover[i]);
}

/* Ask every acceptor for what it accepted in [scan, scan + WINDOW). */
static void
open_window(struct proposer *p, uint64_t now, struct outbox *ob)
{
	uint64_t s;
	unsigned i;

	p->scan_end = p->scan + PROPOSER_WINDOW;
	p->window_open = true;
	p->prepare_ms = now;
	for (s = p->scan; s < p->scan_end; s++) {
		struct pslot *ps = ring_at(p, s);
		unpin(p, ps);
		ps->slot = s;
		ps->state = PSLOT_RECOVER;
		ps->has_value = false;
		ps->vballot = (struct ballot){ 0, 0 };
	}
	for (i = 0; i < p->n_acc; i++) {
		p->cover[i] = p->scan;
		p->accmax[i] = 0;
		p->done[i] = false;
		send_prepare(p, i, ob);
	}
}

static void
start_phase1(struct proposer *p, uint64_t now, struct outbox *ob)
{
	unsigned i;

	/* What we proposed in an earlier term may be lost: take it again. */
	for (i = 0; i < PROPOSER_SESSIONS; i++)
		p->sessions[i].proposed = 0;
	p->ballot.round = p->seen.round + 1;
	p->ballot.node = p->id;
	p->seen = p->ballot;
	p->state = PROPOSER_PREPARING;
	p->leader = 0;
	p->recovering = true;
	p->n_elections++;
	ring_clear(p);
	p->scan = p->commit;
	p->next_slot = p->announced = p->commit;
	open_window(p, now, ob);
}

/* Pack every slot marked resend into as few ACCEPTs as fit. */
static void
send_accepts(struct proposer *p, uint64_t now, struct outbox *ob)
{
	struct msg *m = NULL;
	size_t used = 0, need;
	uint64_t s;

	for (s = p->commit; s < p->next_slot; s++) {
		struct pslot *ps = ring_at(p, s);
		if (ps->slot != s || ps->state != PSLOT_PROPOSED || !ps->resend)
			continue;
		need = 8 + msg_entry_size(&ps->e);
		if (m != NULL && (m->n == MSG_MAX_ENTRIES ||
		    used + need > MSG_MAX - HEADER_ROOM))
			m = NULL;
		if (m == NULL) {
			m = outbox_add(ob, AUTH_ACCEPTOR, 0, 0, MSG_ACCEPT);
			if (m == NULL)
				return;	/* the rest go on the next tick */
			m->ballot = p->ballot;
			m->commit = p->commit;
			used = 0;
		}
		m->e[m->n].slot = s;
		m->e[m->n].e = ps->e;
		m->n++;
		used += need;
		ps->resend = false;
		ps->sent_ms = now;
	}
}

static void
propose(struct proposer *p, uint64_t slot, const struct entry *e)
{
	struct pslot *ps = ring_at(p, slot);

	ps->slot = slot;
	ps->state = PSLOT_PROPOSED;
	if (e != NULL)
		hold_value(p, ps, e);
	ps->acks = 0;
	ps->resend = true;
}

static void
heartbeat(struct proposer *p, uint64_t now, struct outbox *ob)
{
	static const uint8_t roles[] = { AUTH_PROPOSER, AUTH_ACCEPTOR,
	    AUTH_LEARNER };
	struct msg *m;
	unsigned i;

	for (i = 0; i < sizeof(roles); i++) {
		if ((m = outbox_add(ob, roles[i], 0, 0, MSG_COMMIT)) == NULL)
			return;
		m->ballot = p->ballot;
		m->commit = p->commit;
	}
	p->heartbeat_ms = now + p->timeout_ms / 4 + 1;
}

/*
 * A quorum reported on the whole window: every slot where some acceptor
 * accepted a value gets the value of the highest ballot (Paxos Made
 * Simple 2.2, P2c); holes below the highest accepted slot get no-ops.
 */
static void
finish_window(struct proposer *p, uint64_t now, struct outbox *ob)
{
	uint64_t end = p->scan, s;
	bool more = false;
	unsigned i;

	for (i = 0; i < p->n_acc; i++) {
		if (p->done[i]) {
			if (p->accmax[i] + 1 > end)
				end = p->accmax[i] + 1;
		} else if (p->cover[i] >= p->scan_end) {
			more = true;
		}
	}
	if (more || end > p->scan_end)
		end = p->scan_end;
	for (s = p->scan; s < p->scan_end; s++) {
		struct pslot *ps = ring_at(p, s);
		if (s >= end) {
			slot_free(p, ps);
		} else {
			if (!ps->has_value)
				ps->e = (struct entry){ ENTRY_NOOP, 0, 0, 0, 0,
				    NULL };
			propose(p, s, NULL);	/* keeps the recovered e */
		}
	}
	p->window_open = false;
	p->next_slot = end;
	if (more) {
		p->scan = p->scan_end;
	} else {
		p->recovering = false;
	}
	if (p->state != PROPOSER_LEADING) {
		p->state = PROPOSER_LEADING;
		p->leader = p->id;
		heartbeat(p, now, ob);
	}
	send_accepts(p, now, ob);
}

static bool
window_complete(const struct proposer *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->n_acc; i++)
		if (p->done[i] || p->cover[i] >= p->scan_end)
			n++;
	return n >= p->quorum;
}

static void
on_promise(struct proposer *p, uint64_t now, int i, const struct msg *m,
    struct outbox *ob)
{
	unsigned k;

	if (ballot_cmp(m->ballot, p->ballot) != 0 || !p->window_open)
		return;
	/* The acceptor knows more is chosen: recover from there instead. */
	if (p->state == PROPOSER_PREPARING && m->commit > p->scan) {
		p->commit = p->scan = p->next_slot = p->announced = m->commit;
		ring_clear(p);
		open_window(p, now, ob);
		return;
	}
	if (m->slot != p->cover[i] || p->done[i] ||
	    p->cover[i] >= p->scan_end)
		return;		/* a repeat of a page we have */
	for (k = 0; k < m->n; k++) {
		const struct slot_entry *se = &m->e[k];
		struct pslot *ps;
		if (se->slot < p->scan || se->slot >= p->scan_end)
			continue;
		ps = ring_at(p, se->slot);
		if (ps->state != PSLOT_RECOVER)
			continue;
		if (!ps->has_value || ballot_cmp(se->ballot, ps->vballot) > 0) {
			hold_value(p, ps, &se->e);
			ps->vballot = se->ballot;
			ps->has_value = true;
		}
	}
	p->accmax[i] = m->max_slot;
	if (m->next == SLOT_NONE) {
		p->done[i] = true;
		p->cover[i] = p->scan_end;
	} else {
		p->cover[i] = m->next < p->scan_end ? m->next : p->scan_end;
		if (p->cover[i] < p->scan_end)
			send_prepare(p, (unsigned)i, ob);	/* next page */
	}
	if (window_complete(p))
		finish_window(p, now, ob);
}

/* A client's session, taking the least recently used one for a new one. */
static struct psession *
session(struct proposer *p, uint64_t client)
{
	int at = session_index_find(&p->sidx, client);
	unsigned i, oldest = 0;

	if (at < 0) {
		for (i = 1; i < PROPOSER_SESSIONS; i++)
			if (p->session_used[i] < p->session_used[oldest])
				oldest = i;
		session_index_replace(&p->sidx, p->sessions[oldest].client,
		    client, oldest);
		memset(&p->sessions[oldest], 0, sizeof(p->sessions[oldest]));
		p->sessions[oldest].client = client;
		at = (int)oldest;
	}
	p->session_used[at] = ++p->stamp;
	return &p->sessions[at];
}

static void
redirect(struct proposer *p, uint64_t client, struct outbox *ob)
{
	struct msg *m = outbox_add(ob, AUTH_CLIENT, 0, client, MSG_REPLY);

	if (m == NULL)
		return;
	m->client = client;
	m->status = REPLY_REDIRECT;
	m->leader = p->state == PROPOSER_FOLLOWER ? p->leader : p->id;
}

/*
 * Tell a client seq is committed at position slot (0: position not
 * known), in the reply to it already in the outbox when there is room:
 * one datagram acknowledges a whole batch.
 */
static void
ack(uint64_t client, uint64_t seq, uint64_t slot, struct outbox *ob)
{
	struct msg *m = NULL;
	unsigned i;

	for (i = ob->n; i-- > 0;) {
		struct out *o = &ob->o[i];
		if (o->role == AUTH_CLIENT && o->client == client &&
		    o->m.type == MSG_REPLY && o->m.status == REPLY_OK &&
		    o->m.n < MSG_MAX_ENTRIES) {
			m = &o->m;
			break;
		}
	}
	if (m == NULL) {
		if ((m = outbox_add(ob, AUTH_CLIENT, 0, client,
		    MSG_REPLY)) == NULL)
			return;
		m->client = client;
		m->status = REPLY_OK;
	}
	m->e[m->n].slot = slot;
	m->e[m->n].e.seq = seq;
	m->n++;
}

/* Chosen entries go to the learners in as few messages as fit. */
static void
announce(struct proposer *p, uint64_t from, uint64_t to, struct outbox *ob)
{
	struct msg *m = NULL;
	size_t used = 0, need;
	uint64_t s;

	for (s = from; s < to; s++) {
		struct pslot *ps = ring_at(p, s);
		if (ps->slot != s || ps->state != PSLOT_CHOSEN)
			continue;
		need = 8 + msg_entry_size(&ps->e);
		if (m != NULL && (m->n == MSG_MAX_ENTRIES ||
		    used + need > MSG_MAX - HEADER_ROOM))
			m = NULL;
		if (m == NULL) {
			if ((m = outbox_add(ob, AUTH_LEARNER, 0, 0,
			    MSG_CHOSEN)) == NULL)
				return;
			m->commit = to;
			used = 0;
		}
		m->e[m->n].slot = s;
		m->e[m->n].e = ps->e;
		m->n++;
		used += need;
	}
}

/* The standbys follow the log too, to be ready to lead. */
static void
announce_all(struct proposer *p, uint64_t from, uint64_t to,
    struct outbox *ob)
{
	unsigned first = ob->n, last, i;

	announce(p, from, to, ob);
	last = ob->n;
	for (i = first; i < last; i++) {
		struct msg *m = outbox_add(ob, AUTH_PROPOSER, 0, 0, MSG_CHOSEN);
		if (m == NULL)
			return;
		*m = ob->o[i].m;
	}
}

/*
 * Where the filter wrote seq of a session: from the history, or, after a
 * restart that lost it, from the filter's record of its last write.
 */
static uint64_t
history(struct proposer *p, const struct psession *s, uint64_t seq)
{
	unsigned h = (unsigned)(seq % PROPOSER_HISTORY);

	if (s->hist_seq[h] == seq)
		return s->hist_slot[h];
	return learner_session_pos(&p->lrn, s->client, seq);
}

/*
 * Take what the log holds, in order, through the same filter as every
 * learner: a value is reported committed at the position where learners
 * write it, or, for a repeat, where they wrote the first copy.  A value
 * that jumped ahead of its session is not written, and its client
 * submits it again after the missing one.
 */
static void
deliver(struct proposer *p, struct outbox *ob)
{
	enum learner_verdict v;
	struct psession *s;
	struct entry e;
	uint64_t slot, last;
	unsigned h;

	while (learner_peek(&p->lrn, &e, &v)) {
		slot = p->lrn.next;
		if (v != LEARNER_NOOP) {
			s = session(p, e.client);
			if (v == LEARNER_WRITE) {
				h = (unsigned)(e.seq % PROPOSER_HISTORY);
				s->hist_seq[h] = e.seq;
				s->hist_slot[h] = slot;
			} else if (v == LEARNER_GAP &&
			    learner_session_last(&p->lrn, e.client, &last) &&
			    s->proposed > last) {
				s->proposed = last;
			}
			if (p->state == PROPOSER_LEADING && v != LEARNER_GAP)
				ack(e.client, e.seq, v == LEARNER_WRITE ? slot :
				    history(p, s, e.seq), ob);
		}
		learner_advance(&p->lrn);
	}
}

/*
 * Clients hear "committed" only once every slot before theirs is chosen
 * too, so a value reported committed is never behind a hole.
 */
static void
advance(struct proposer *p, struct outbox *ob)
{
	uint64_t from = p->commit;
	struct pslot *ps;

	while (p->commit < p->next_slot) {
		ps = ring_at(p, p->commit);
		if (ps->slot != p->commit || ps->state != PSLOT_CHOSEN)
			break;
		p->commit++;
	}
	if (p->commit == from)
		return;
	for (; from < p->commit; from++)
		learner_learn(&p->lrn, from, &ring_at(p, from)->e);
	deliver(p, ob);
}

/*
 * How long an ACCEPT waits for its quorum before going again: a few
 * round trips as measured, so a datagram lost under load costs
 * milliseconds, not a whole timeout; never more than the timeout.
 */
static void
rtt_sample(struct proposer *p, uint64_t ms)
{
	/* srtt in 1/8 ms, Jacobson style: srtt += (sample - srtt) / 8. */
	if (p->srtt8 == 0)
		p->srtt8 = ms * 8 + 1;
	else
		p->srtt8 = p->srtt8 - p->srtt8 / 8 + ms;
}

static uint64_t
rto(const struct proposer *p)
{
	uint64_t r = 4 * p->srtt8 / 8 + PROPOSER_MIN_RTO_MS;

	return r < p->timeout_ms ? r : p->timeout_ms;
}

static void
on_accepted(struct proposer *p, uint64_t now, int i, const struct msg *m,
    struct outbox *ob)
{
	unsigned k;

	if (ballot_cmp(m->ballot, p->ballot) != 0 ||
	    p->state != PROPOSER_LEADING)
		return;
	for (k = 0; k < m->n; k++) {
		struct pslot *ps = ring_at(p, m->e[k].slot);
		if (ps->slot != m->e[k].slot || ps->state != PSLOT_PROPOSED)
			continue;
		ps->acks |= (uint32_t)1 << i;
		if (popcount(ps->acks) >= p->quorum) {
			ps->state = PSLOT_CHOSEN;
			rtt_sample(p, now - ps->sent_ms);
			p->n_chosen++;
		}
	}
	advance(p, ob);
}

/*
 * Tell a client to send again soon: the window is full, or a value came
 * before its predecessor.  It neither waits a timeout nor moves on.
 */
static void
busy(uint64_t client, struct outbox *ob)
{
	struct msg *m;
	unsigned i;

	for (i = 0; i < ob->n; i++)
		if (ob->o[i].role == AUTH_CLIENT && ob->o[i].client == client &&
		    ob->o[i].m.type == MSG_REPLY &&
		    ob->o[i].m.status == REPLY_BUSY)
			return;
	if ((m = outbox_add(ob, AUTH_CLIENT, 0, client, MSG_REPLY)) == NULL)
		return;
	m->client = client;
	m->status = REPLY_BUSY;
}

static void
submit_one(struct proposer *p, const struct entry *e, struct outbox *ob)
{
	struct psession *s;
	uint64_t last;

	s = session(p, e->client);
	/* A session the filter does not know: the client vouches. */
	if (!learner_session_last(&p->lrn, e->client, &last))
		last = e->acked;
	if (e->seq <= last) {
		ack(e->client, e->seq, history(p, s, e->seq), ob);
		return;
	}
	if (s->proposed < last)
		s->proposed = last;
	/*
	 * One client's values are proposed in its order: seq k only after
	 * k - 1.  One in flight already, or early, is dropped; the client
	 * sends it again.
	 */
	if (e->seq != s->proposed + 1) {
		/* Early: its predecessor was lost; have it sent again soon. */
		if (e->seq > s->proposed + 1)
			busy(e->client, ob);
		return;
	}
	if (p->next_slot >= p->announced + PROPOSER_WINDOW) {
		busy(e->client, ob);
		return;
	}
	s->proposed = e->seq;
	propose(p, p->next_slot, e);
	p->next_slot++;
}

static void
on_submit(struct proposer *p, const struct msg *m, struct outbox *ob)
{
	unsigned i;

	/*
	 * Serve only with the whole chosen prefix taken through the filter:
	 * that is what tells a new value from one the log already holds.
	 */
	if (p->state != PROPOSER_LEADING || p->recovering ||
	    p->lrn.next < p->commit) {
		redirect(p, m->client, ob);
		return;
	}
	/* Session ids are never 0: 0 marks a free session record. */
	for (i = 0; i < m->n; i++)
		if (m->e[i].e.client != 0)
			submit_one(p, &m->e[i].e, ob);
}

void
proposer_receive(struct proposer *p, uint64_t now, uint32_t rnd, uint8_t role,
    uint32_t id, const struct msg *m, struct outbox *ob)
{
	int i;

	switch (m->type) {
	case MSG_LEARN_REP:
	case MSG_CHOSEN:
		if ((m->type == MSG_LEARN_REP) != (role == AUTH_ACCEPTOR))
			return;
		learner_receive(&p->lrn, now, role, id, m, ob);
		deliver(p, ob);
		break;
	case MSG_PROMISE:
	case MSG_ACCEPTED:
	case MSG_NACK:
		if (role != AUTH_ACCEPTOR || (i = acc_index(p, id)) < 0)
			return;
		note_ballot(p, m->ballot);
		if (m->type == MSG_NACK) {
			if (p->state != PROPOSER_FOLLOWER &&
			    ballot_cmp(m->ballot, p->ballot) > 0)
				step_down(p, now, rnd, m->ballot);
		} else if (m->type == MSG_PROMISE) {
			on_promise(p, now, i, m, ob);
		} else {
			on_accepted(p, now, i, m, ob);
		}
		break;
	case MSG_COMMIT:
		if (role != AUTH_PROPOSER || id == p->id)
			return;
		note_ballot(p, m->ballot);
		learner_receive(&p->lrn, now, role, id, m, ob);
		if (p->state != PROPOSER_FOLLOWER &&
		    ballot_cmp(m->ballot, p->ballot) > 0)
			step_down(p, now, rnd, m->ballot);
		if (p->state == PROPOSER_FOLLOWER &&
		    ballot_cmp(m->ballot, p->seen) >= 0) {
			p->leader = m->ballot.node;
			back_off(p, now, rnd);
			if (m->commit > p->commit)
				p->commit = p->next_slot = p->announced =
				    m->commit;
		}
		break;
	case MSG_SUBMIT:
		if (role != AUTH_CLIENT)
			return;
		on_submit(p, m, ob);
		break;
	default:
		break;
	}
}

/* New ACCEPTs, and the chosen slots announced and let go of. */
static void
flush_leading(struct proposer *p, uint64_t now, struct outbox *ob)
{
	uint64_t s;

	send_accepts(p, now, ob);
	if (p->announced < p->commit) {
		announce_all(p, p->announced, p->commit, ob);
		for (s = p->announced; s < p->commit; s++)
			slot_free(p, ring_at(p, s));
		p->announced = p->commit;
	}
	if (p->recovering && !p->window_open && p->commit >= p->scan)
		open_window(p, now, ob);
}

/*
 * After a batch of proposer_receive calls: what the batch decided goes
 * out in as few datagrams as fit, so batches grow with the load and an
 * idle leader adds no delay.  The caller sends the outbox before it opens
 * the next datagram (into an intake or not): what it holds points at
 * values, some just let go of.  The same holds after proposer_tick.
 */
void
proposer_flush(struct proposer *p, uint64_t now, struct outbox *ob)
{
	if (p->state == PROPOSER_LEADING)
		flush_leading(p, now, ob);
	free_released(p);
}

void
proposer_tick(struct proposer *p, uint64_t now, uint32_t rnd,
    struct outbox *ob)
{
	uint64_t s;
	unsigned i;

	(void)rnd;
	learner_tick(&p->lrn, now, ob);
	switch (p->state) {
	case PROPOSER_FOLLOWER:
		if (now >= p->election_ms)
			start_phase1(p, now, ob);
		break;
	case PROPOSER_PREPARING:
	case PROPOSER_LEADING:
		if (p->window_open && now >= p->prepare_ms + p->timeout_ms) {
			for (i = 0; i < p->n_acc; i++)
				if (!p->done[i] && p->cover[i] < p->scan_end)
					send_prepare(p, i, ob);
			p->prepare_ms = now;
		}
		if (p->state != PROPOSER_LEADING)
			break;
		for (s = p->commit; s < p->next_slot; s++) {
			struct pslot *ps = ring_at(p, s);
			if (ps->slot == s && ps->state == PSLOT_PROPOSED &&
			    now >= ps->sent_ms + rto(p))
				ps->resend = true;
		}
		proposer_flush(p, now, ob);
		if (now >= p->heartbeat_ms)
			heartbeat(p, now, ob);
		break;
	}
	free_released(p);
}

void
proposer_restore_written(struct proposer *p, uint64_t client, uint64_t seq,
    uint64_t slot)
{
	struct psession *s = session(p, client);
	unsigned h = (unsigned)(seq % PROPOSER_HISTORY);

	s->hist_seq[h] = seq;
	s->hist_slot[h] = slot;
}
