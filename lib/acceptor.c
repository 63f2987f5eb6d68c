/* Acceptor role: promise and accept rules, no I/O. */
#include "acceptor.h"

/* Room kept for the message header when filling entries. */
#define HEADER_ROOM	128
/* Per-entry overhead beyond the entry itself: slot, ballot, chosen. */
#define FULL_ENTRY_EXTRA (8 + 12 + 1)

void
acceptor_init(struct acceptor *a, uint32_t id)
{
	a->id = id;
	a->promised = (struct ballot){ 0, 0 };
	a->commit = 1;
	a->max_slot = 0;
}

void
acceptor_prepare(struct acceptor *a, const struct msg *m,
    struct acceptor_fx *fx)
{
	int c = ballot_cmp(m->ballot, a->promised);

	fx->persist = false;
	fx->reply = true;
	/*
	 * Paxos Made Simple 2.2, P1b: promise unless we promised higher.
	 * Equal is a repeat of a promise already made (a lost reply, or the
	 * proposer asking for the next page of entries).
	 */
	if (c < 0) {
		msg_init(&fx->out, MSG_NACK);
		fx->out.ballot = a->promised;
		return;
	}
	if (c > 0) {
		a->promised = m->ballot;
		fx->persist = true;
	}
	msg_init(&fx->out, MSG_PROMISE);
	fx->out.ballot = m->ballot;
	fx->out.slot = m->slot;
	fx->out.next = SLOT_NONE;
	fx->out.max_slot = a->max_slot;
	fx->out.commit = a->commit;
}

void
acceptor_accept(struct acceptor *a, const struct msg *m,
    struct acceptor_fx *fx)
{
	unsigned i;

	fx->persist = false;
	fx->reply = true;
	/* P2a: accept unless we promised a higher ballot. */
	if (ballot_cmp(m->ballot, a->promised) < 0) {
		msg_init(&fx->out, MSG_NACK);
		fx->out.ballot = a->promised;
		return;
	}
	a->promised = m->ballot;
	msg_init(&fx->out, MSG_ACCEPTED);
	fx->out.ballot = m->ballot;
	for (i = 0; i < m->n; i++) {
		fx->out.e[i].slot = m->e[i].slot;
		if (m->e[i].slot > a->max_slot)
			a->max_slot = m->e[i].slot;
	}
	fx->out.n = m->n;
	fx->persist = true;
}

bool
acceptor_commit_slot(struct acceptor *a, struct ballot b, uint64_t upto,
    uint64_t slot, struct ballot accepted, bool already_chosen)
{
	if (slot >= upto)
		return false;
	if (!already_chosen && ballot_cmp(accepted, b) != 0)
		return false;
	if (slot == a->commit)
		a->commit = slot + 1;
	return true;
}

bool
acceptor_fill(struct msg *out, size_t *used, const struct slot_entry *se)
{
	size_t need = FULL_ENTRY_EXTRA + msg_entry_size(&se->e);

	if (out->n == MSG_MAX_ENTRIES ||
	    *used + need > MSG_MAX - HEADER_ROOM)
		return false;
	out->e[out->n++] = *se;
	*used += need;
	return true;
}
