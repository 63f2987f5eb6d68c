/* Learner role: chosen entries in slot order, duplicates filtered. */
#include <string.h>

#include "auth.h"
#include "learner.h"

void
learner_init(struct learner *l, const uint32_t *acc_ids, unsigned n_acc,
    unsigned interval_ms, uint8_t *valbuf, uint64_t first, uint64_t now_ms)
{
	unsigned i;

	memset(l, 0, sizeof(*l));
	l->n_acc = n_acc < LEARNER_MAX_ACC ? n_acc : LEARNER_MAX_ACC;
	memcpy(l->acc_ids, acc_ids, l->n_acc * sizeof(acc_ids[0]));
	l->quorum = l->n_acc / 2 + 1;
	l->interval_ms = interval_ms;
	l->next = first == 0 ? 1 : first;
	l->poll_ms = now_ms;
	for (i = 0; i < LEARNER_WINDOW && valbuf != NULL; i++)
		l->ring[i].buf = valbuf + (size_t)i * VALUE_MAX;
}

static struct lslot *
slot_at(struct learner *l, uint64_t slot)
{
	struct lslot *ls;

	if (slot < l->next || slot >= l->next + LEARNER_WINDOW)
		return NULL;
	ls = &l->ring[slot % LEARNER_WINDOW];
	if (ls->slot != slot) {
		memset(ls->seen, 0, sizeof(ls->seen));
		ls->after = 0;
		ls->slot = slot;
		ls->chosen = ls->has_value = ls->lent = false;
		ls->vballot = (struct ballot){ 0, 0 };
	}
	return ls;
}

static void
take_value(struct learner *l, struct lslot *ls, const struct entry *e)
{
	ls->e = *e;
	ls->has_value = true;
	ls->lent = false;
	if (ls->buf != NULL && e->len > 0 && l->n_lent < MSG_MAX_ENTRIES) {
		/* Where it lies, until learner_keep. */
		ls->lent = true;
		l->lent[l->n_lent++] = ls->slot;
		return;
	}
	if (ls->buf == NULL)
		ls->e.len = 0;	/* kept for the filter only: no bytes */
	else if (e->len > 0)
		memcpy(ls->buf, e->val, e->len);
	ls->e.val = ls->buf;
}

void
learner_keep(struct learner *l)
{
	struct lslot *ls;
	unsigned i;

	for (i = 0; i < l->n_lent; i++) {
		ls = &l->ring[l->lent[i] % LEARNER_WINDOW];
		if (ls->slot != l->lent[i] || !ls->lent)
			continue;	/* handed out, or replaced */
		memcpy(ls->buf, ls->e.val, ls->e.len);
		ls->e.val = ls->buf;
		ls->lent = false;
	}
	l->n_lent = 0;
}

void
learner_learn(struct learner *l, uint64_t slot, const struct entry *e)
{
	struct lslot *ls = slot_at(l, slot);

	if (ls == NULL || ls->chosen)
		return;
	take_value(l, ls, e);
	ls->chosen = true;
}

/*
 * An acceptor's report: chosen when it says so, or once a quorum has
 * accepted in one ballot.  The value kept is that of the highest ballot
 * reported, which is the chosen one as soon as any ballot at or below it
 * has a quorum (Paxos Made Simple 2.2, P2c).
 */
static void
report(struct learner *l, int i, const struct slot_entry *se)
{
	struct lslot *ls = slot_at(l, se->slot);
	unsigned j, n = 0;

	if (ls == NULL || ls->chosen)
		return;
	if (se->chosen) {
		take_value(l, ls, &se->e);
		ls->chosen = true;
		return;
	}
	ls->seen[i] = se->ballot;
	if (!ls->has_value || ballot_cmp(se->ballot, ls->vballot) > 0) {
		take_value(l, ls, &se->e);
		ls->vballot = se->ballot;
	}
	for (j = 0; j < l->n_acc; j++)
		if (!ballot_is_zero(ls->seen[j]) &&
		    ballot_cmp(ls->seen[j], se->ballot) == 0)
			n++;
	if (n >= l->quorum)
		ls->chosen = true;
}

static unsigned
popcount(uint32_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/*
 * A slot known chosen (below a commit watermark) whose acceptors were
 * asked only after that: the value of the highest ballot a quorum of
 * them reports is the chosen one.  The quorum includes an acceptor of
 * the choosing quorum, whose ballot there only grows, and every ballot
 * above the choosing one carries the chosen value (P2c).  This is how a
 * learner finds slots chosen in ballots whose quorums have since changed.
 */
static void
reported_after(struct learner *l, int i, const struct msg *m)
{
	uint64_t s, end, stop;
	struct lslot *ls;

	end = m->next == SLOT_NONE ? UINT64_MAX : m->next;
	stop = l->next + LEARNER_WINDOW;
	if (end > stop)
		end = stop;
	if (end > m->seq)
		end = m->seq;		/* known chosen when asked */
	for (s = m->slot > l->next ? m->slot : l->next; s < end; s++) {
		if ((ls = slot_at(l, s)) == NULL || ls->chosen)
			continue;
		ls->after |= (uint32_t)1 << i;
		if (ls->has_value && popcount(ls->after) >= l->quorum)
			ls->chosen = true;
	}
}

static int
acc_index(const struct learner *l, uint32_t id)
{
	unsigned i;

	for (i = 0; i < l->n_acc; i++)
		if (l->acc_ids[i] == id)
			return (int)i;
	return -1;
}

void
learner_receive(struct learner *l, uint64_t now_ms, uint8_t role, uint32_t id,
    const struct msg *m, struct outbox *ob)
{
	uint64_t before = l->next;
	struct lslot *ls;
	unsigned k;
	int i;

	(void)ob;
	if (m->commit > l->commit)
		l->commit = m->commit;
	switch (m->type) {
	case MSG_CHOSEN:
		if (role != AUTH_PROPOSER)
			return;
		for (k = 0; k < m->n; k++) {
			learner_learn(l, m->e[k].slot, &m->e[k].e);
			if (m->e[k].slot > l->max_slot)
				l->max_slot = m->e[k].slot;
		}
		break;
	case MSG_LEARN_REP:
		if (role != AUTH_ACCEPTOR || (i = acc_index(l, id)) < 0)
			return;
		if (m->max_slot > l->max_slot)
			l->max_slot = m->max_slot;
		for (k = 0; k < m->n; k++)
			report(l, i, &m->e[k]);
		reported_after(l, i, m);
		/* Something new is ready: keep asking while behind. */
		ls = slot_at(l, before);
		if (ls != NULL && ls->chosen)
			l->fast_ms = now_ms + LEARNER_FAST_MS;
		break;
	case MSG_COMMIT:
		break;
	default:
		break;
	}
}

static void
poll_acceptors(struct learner *l, struct outbox *ob)
{
	struct msg *m;

	if ((m = outbox_add(ob, AUTH_ACCEPTOR, 0, 0, MSG_LEARN_REQ)) == NULL)
		return;
	m->slot = l->next;
	m->seq = l->commit;
	m->count = LEARNER_WINDOW;
}

unsigned
learner_tick(struct learner *l, uint64_t now_ms, struct outbox *ob)
{
	uint64_t due;

	if (l->fast_ms != 0 && now_ms >= l->fast_ms) {
		l->fast_ms = 0;
		poll_acceptors(l, ob);
	} else if (now_ms >= l->poll_ms) {
		poll_acceptors(l, ob);
		l->poll_ms = now_ms + l->interval_ms;
	}
	due = l->poll_ms;
	if (l->fast_ms != 0 && l->fast_ms < due)
		due = l->fast_ms;
	return due > now_ms ? (unsigned)(due - now_ms) : 0;
}

/* The filter's record of a session, or NULL. */
static struct lsession *
session(struct learner *l, uint64_t client)
{
	int at = session_index_find(&l->sidx, client);

	return at < 0 ? NULL : &l->sessions[at];
}

/*
 * The record of a session, taking the least recently used one (the
 * lowest position of last use, the same on every learner) when it has
 * none; the caller sets last and used.  Only a new session pays for the
 * scan.
 */
static struct lsession *
claim(struct learner *l, uint64_t client)
{
	struct lsession *s = session(l, client), *oldest = &l->sessions[0];
	unsigned i;

	if (s != NULL)
		return s;
	for (i = 1; i < LEARNER_SESSIONS; i++)
		if (l->sessions[i].used < oldest->used)
			oldest = &l->sessions[i];
	session_index_replace(&l->sidx, oldest->client, client,
	    (unsigned)(oldest - l->sessions));
	oldest->client = client;
	return oldest;
}

uint64_t
learner_session_pos(struct learner *l, uint64_t client, uint64_t seq)
{
	struct lsession *s = session(l, client);

	return s != NULL && s->last == seq ? s->used : 0;
}

bool
learner_session_last(struct learner *l, uint64_t client, uint64_t *last)
{
	struct lsession *s = session(l, client);

	if (s == NULL)
		return false;
	*last = s->last;
	return true;
}

bool
learner_peek(struct learner *l, struct entry *e, enum learner_verdict *v)
{
	struct lslot *ls = &l->ring[l->next % LEARNER_WINDOW];
	struct lsession *s;

	if (ls->slot != l->next || !ls->chosen)
		return false;
	*e = ls->e;
	*v = LEARNER_NOOP;
	if (e->kind != ENTRY_VALUE)
		return true;
	/*
	 * Integrity (SPEC 4.3): a session's values are taken in seq order,
	 * each once.  A repeat (a retransmission both leaders proposed) is
	 * dropped; so is one that jumps ahead of a seq not yet taken, which
	 * its client submits again after it.
	 */
	s = session(l, e->client);
	if (s == NULL) {
		/*
		 * A session the filter does not know (new, or evicted): its
		 * client vouches for what it saw committed when it sent this.
		 */
		if (e->seq == e->acked + 1)
			*v = LEARNER_WRITE;
		else if (e->seq <= e->acked)
			*v = LEARNER_DUP;
		else
			*v = LEARNER_GAP;
	} else if (e->seq == s->last + 1)
		*v = LEARNER_WRITE;
	else if (e->seq <= s->last)
		*v = LEARNER_DUP;
	else
		*v = LEARNER_GAP;
	return true;
}

void
learner_advance(struct learner *l)
{
	struct lslot *ls = &l->ring[l->next % LEARNER_WINDOW];
	struct lsession *s;
	enum learner_verdict v;
	struct entry e;

	if (!learner_peek(l, &e, &v))
		return;
	if (v == LEARNER_WRITE) {
		s = claim(l, e.client);
		s->last = e.seq;
		s->used = l->next;
	} else if (v != LEARNER_NOOP) {
		l->n_duplicates++;
	}
	ls->slot = 0;
	ls->chosen = false;
	l->next++;
}

void
learner_restore_session(struct learner *l, uint64_t client, uint64_t last,
    uint64_t used)
{
	struct lsession *s;

	if (client == 0)
		return;
	s = claim(l, client);
	s->last = last;
	s->used = used;
}
