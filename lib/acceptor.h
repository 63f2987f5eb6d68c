/*
 * Acceptor role, sans I/O: the voting rules of Paxos Made Simple, 2.2,
 * over one promised ballot that covers every log position (Multi-Paxos).
 * The caller keeps the accepted entries in its store and applies the
 * effects in order: persist, then reply.
 */
#ifndef PAXOS_ACCEPTOR_H
#define PAXOS_ACCEPTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

struct acceptor {
	uint32_t	 id;
	struct ballot	 promised;	/* no lower ballot is ever accepted */
	uint64_t	 commit;	/* slots below are marked chosen here */
	uint64_t	 max_slot;	/* highest slot accepted, 0: none */
};

/* What the caller must do, in this order. */
struct acceptor_fx {
	bool		 persist;	/* sync promised/entries before reply */
	bool		 reply;		/* send out */
	struct msg	 out;		/* PROMISE (entries left to the caller),
					   ACCEPTED or NACK */
};

void	acceptor_init(struct acceptor *, uint32_t id);

/*
 * Phase 1b.  On a promise, out is a PROMISE whose header is filled; the
 * caller appends the entries it holds from m->slot on (acceptor_fill).
 */
void	acceptor_prepare(struct acceptor *, const struct msg *m,
	    struct acceptor_fx *);

/*
 * Phase 2b.  On acceptance the caller stores every entry of m at
 * m->ballot, then sends out (ACCEPTED listing the slots).
 */
void	acceptor_accept(struct acceptor *, const struct msg *m,
	    struct acceptor_fx *);

/*
 * The leader of ballot b says slots below upto are chosen: an entry this
 * acceptor accepted in b at such a slot is the chosen one.  The caller
 * walks slots from a->commit on, calling this with each stored entry's
 * ballot (or a zero ballot when none) until it returns false; a true
 * return means "mark it chosen and go on".
 */
bool	acceptor_commit_slot(struct acceptor *, struct ballot b, uint64_t upto,
	    uint64_t slot, struct ballot accepted, bool already_chosen);

/*
 * Add one stored entry to a PROMISE or LEARN_REP under construction;
 * returns false when it does not fit, and the caller stops there with
 * out->next = that slot.
 */
bool	acceptor_fill(struct msg *out, size_t *used, const struct slot_entry *);

#endif
