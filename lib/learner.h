/*
 * Learner role, sans I/O: finds out which entry is chosen at each slot,
 * from the leader's announcements or from the acceptors' reports (chosen
 * when they say so, or when a quorum accepted in the same ballot), and
 * hands them out in slot order, each once, dropping duplicate client
 * values with a filter every learner applies the same way.
 */
#ifndef PAXOS_LEARNER_H
#define PAXOS_LEARNER_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "session_index.h"

#define LEARNER_WINDOW		256	/* slots held ahead of delivery */
#define LEARNER_MAX_ACC		32
#define LEARNER_SESSIONS	4096	/* client sessions for the filter */
#define LEARNER_FAST_MS		1	/* re-ask this soon while catching up */

struct lslot {
	uint64_t	 slot;		/* 0: empty */
	bool		 chosen;
	bool		 has_value;
	struct ballot	 vballot;	/* highest ballot reported */
	struct ballot	 seen[LEARNER_MAX_ACC];	/* by acceptor index */
	uint32_t	 after;		/* acceptors that reported on it after
					   it was known chosen */
	struct entry	 e;		/* e.val points at buf, or lent */
	uint8_t		*buf;
	bool		 lent;		/* e.val is in the message received */
};

struct lsession {
	uint64_t	 client;	/* 0: unused */
	uint64_t	 last;		/* last seq delivered */
	uint64_t	 used;		/* slot of last use: same on every
					   learner, so eviction is too */
};

struct learner {
	unsigned	 n_acc;
	unsigned	 quorum;
	uint32_t	 acc_ids[LEARNER_MAX_ACC];
	unsigned	 interval_ms;
	uint64_t	 next;		/* next slot to hand out */
	uint64_t	 commit;	/* highest watermark heard */
	uint64_t	 max_slot;	/* highest slot heard of */
	uint64_t	 poll_ms;	/* next regular poll */
	uint64_t	 fast_ms;	/* next catch-up poll, 0: none */
	struct lslot	 ring[LEARNER_WINDOW];
	struct lsession	 sessions[LEARNER_SESSIONS];
	struct session_index sidx;	/* client -> place in sessions */
	uint64_t	 n_duplicates;
	uint64_t	 lent[MSG_MAX_ENTRIES];	/* slots left lent */
	unsigned	 n_lent;
};

/*
 * valbuf holds LEARNER_WINDOW * VALUE_MAX bytes, or is NULL for a learner
 * that only filters (a proposer's): entries then come out without their
 * bytes (len 0).  first: slot to start at.
 */
void	learner_init(struct learner *, const uint32_t *acc_ids, unsigned n_acc,
	    unsigned interval_ms, uint8_t *valbuf, uint64_t first,
	    uint64_t now_ms);
/*
 * A message's values are left where they lie, so that what is handed out
 * at once is never copied: call learner_keep, which copies the rest into
 * valbuf, before the message's bytes change.
 */
void	learner_receive(struct learner *, uint64_t now_ms, uint8_t role,
	    uint32_t id, const struct msg *, struct outbox *);
void	learner_keep(struct learner *);
/* Poll the acceptors when due.  Returns ms until the next poll. */
unsigned learner_tick(struct learner *, uint64_t now_ms, struct outbox *);

/* What the filter makes of the entry at a position. */
enum learner_verdict {
	LEARNER_WRITE,		/* a client value to write */
	LEARNER_NOOP,		/* a no-op: nothing to write */
	LEARNER_DUP,		/* its session already has this seq */
	LEARNER_GAP,		/* ahead of a seq its session lacks */
};

/*
 * The entry at l->next when it is chosen: true, with the verdict.  The
 * caller writes a LEARNER_WRITE, then calls learner_advance; one it could
 * not write it leaves in place.
 */
bool	learner_peek(struct learner *, struct entry *, enum learner_verdict *);
void	learner_advance(struct learner *);
/*
 * An entry known chosen at slot (the leader's own, or announced); its
 * value is lent, as learner_receive's are.
 */
void	learner_learn(struct learner *, uint64_t slot, const struct entry *);
/*
 * The last seq the filter took from a session: false if it has none.
 * learner_session_pos: the position it was written at, 0 if unknown.
 */
uint64_t learner_session_pos(struct learner *, uint64_t client, uint64_t seq);
bool	learner_session_last(struct learner *, uint64_t client,
	    uint64_t *last);

/*
 * The filter's memory is part of the saved position: a learner restarted
 * with it filters exactly as one that never stopped.  Put back each saved
 * session before the first learner_peek.
 */
void	learner_restore_session(struct learner *, uint64_t client,
	    uint64_t last, uint64_t used);

#endif
