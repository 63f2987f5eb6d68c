/*
 * Proposer role, sans I/O: Multi-Paxos leadership.  Phase 1 once for
 * every position from the first not known chosen, recovering what
 * acceptors accepted (page by page, a window at a time); then one phase 2
 * per value, many in flight.  Heartbeats tell the other proposers who
 * leads; one that stops hearing them takes over with a higher ballot.
 * The caller passes the clock and random draws in, and sends what the
 * outbox holds.
 */
#ifndef PAXOS_PROPOSER_H
#define PAXOS_PROPOSER_H

#include <stdbool.h>
#include <stdint.h>

#include "learner.h"
#include "msg.h"

#define PROPOSER_WINDOW		1024	/* slots in flight (ring size) */
#define PROPOSER_MAX_ACC	32	/* acceptors; acks are a bitmask */
#define PROPOSER_MAX_PROP	32
#define PROPOSER_SESSIONS	1024	/* client sessions tracked, LRU */
#define PROPOSER_MIN_RTO_MS	5	/* ACCEPTs are not resent sooner */
#define PROPOSER_HISTORY	256	/* written positions kept a session;
					   clients keep no more in flight */
/*
 * Intakes: every slot in flight may hold one, and one more takes the next
 * datagram; those let go of wait for the next flush or tick, so a batch
 * may (rarely) find none free.
 */
#define PROPOSER_INTAKES	(PROPOSER_WINDOW + 1)

enum proposer_state {
	PROPOSER_FOLLOWER = 0,	/* another proposer leads, or none yet */
	PROPOSER_PREPARING,	/* phase 1 for our ballot */
	PROPOSER_LEADING,	/* phase 2; may still recover a window */
};

enum pslot_state {
	PSLOT_FREE = 0,
	PSLOT_RECOVER,		/* waiting for a quorum's phase 1 reports */
	PSLOT_PROPOSED,		/* phase 2 in flight */
	PSLOT_CHOSEN,		/* a quorum accepted; waiting for the prefix */
};

struct pslot {
	uint64_t	 slot;
	uint8_t		 state;
	bool		 has_value;	/* recovery: some acceptor had one */
	bool		 resend;	/* include in the next ACCEPT */
	struct ballot	 vballot;	/* recovery: ballot of that value */
	struct entry	 e;		/* e.val: in buf, or in an intake */
	uint8_t		*buf;		/* VALUE_MAX bytes */
	uint16_t	 pin;		/* intake holding e.val, + 1; 0: none */
	uint32_t	 acks;		/* acceptor indexes that accepted */
	uint64_t	 sent_ms;
};

struct psession {
	uint64_t	 client;	/* 0: unused */
	uint64_t	 proposed;	/* seqs up to this are in flight */
	uint64_t	 hist_seq[PROPOSER_HISTORY];	/* where the filter */
	uint64_t	 hist_slot[PROPOSER_HISTORY];	/* wrote each seq */
};

struct proposer {
	uint32_t	 id;
	unsigned	 n_acc;
	unsigned	 quorum;
	uint32_t	 acc_ids[PROPOSER_MAX_ACC];
	unsigned	 rank;		/* our place among the proposers */
	unsigned	 timeout_ms;

	uint8_t		 state;
	struct ballot	 ballot;	/* ours, while preparing or leading */
	struct ballot	 seen;		/* highest ballot seen anywhere */
	uint32_t	 leader;	/* who we think leads, 0: nobody */
	uint64_t	 election_ms;	/* follower: when to try phase 1 */
	uint64_t	 heartbeat_ms;	/* leader: next heartbeat due */
	uint64_t	 commit;	/* slots below are known chosen */
	uint64_t	 next_slot;	/* next fresh slot for a new value */
	uint64_t	 announced;	/* slots below were announced, freed */
	uint64_t	 srtt8;		/* smoothed ACCEPT round trip, ms * 8 */

	/* Phase 1: the window [scan, scan_end) being recovered. */
	bool		 recovering;	/* more windows may hold values */
	bool		 window_open;	/* PREPAREs out for the window */
	uint64_t	 scan, scan_end;
	uint64_t	 prepare_ms;
	uint64_t	 cover[PROPOSER_MAX_ACC];	/* reported below this */
	uint64_t	 accmax[PROPOSER_MAX_ACC];	/* their max_slot */
	bool		 done[PROPOSER_MAX_ACC];	/* nothing beyond */

	struct pslot	 ring[PROPOSER_WINDOW];	/* slot % WINDOW */
	/*
	 * Intakes: buffers a datagram is opened into, so that its values
	 * are proposed where they lie.  A buffer is in use while a slot
	 * holds a value in it, and then until the outbox has been sent:
	 * one let go of is freed only by proposer_flush or proposer_tick,
	 * since a message still in the outbox may point into it.  The free
	 * ones are a stack, and the next datagram goes into the top one.
	 */
	uint8_t		*intake;	/* PROPOSER_INTAKES * MSG_MAX bytes */
	uint16_t	 intake_refs[PROPOSER_INTAKES];
	uint16_t	 intake_free[PROPOSER_INTAKES];
	unsigned	 n_intake_free;
	uint16_t	 intake_done[PROPOSER_INTAKES];	/* let go of */
	unsigned	 n_intake_done;
	/*
	 * The log as every learner sees it (without the bytes of values),
	 * duplicate filter included: the leader reports a value committed
	 * at the position learners write it at, and never proposes again
	 * what the log already holds.
	 */
	struct learner	 lrn;
	uint64_t	 stamp;

	uint64_t	 n_chosen;	/* counters for status */
	uint64_t	 n_elections;
	/* Sessions by client id, and when each was last used (LRU). */
	struct session_index sidx;
	uint64_t	 session_used[PROPOSER_SESSIONS];
	/* Last: init clears only the keys, a session is cleared when taken. */
	struct psession	 sessions[PROPOSER_SESSIONS];
};

/*
 * valbuf holds PROPOSER_VALBUF bytes: the intakes, and a buffer per slot
 * for a value that came from anywhere else.
 * prop_ids lists every proposer, ours among them.  last_round is the
 * highest round this proposer may have used before it restarted: a
 * ballot used twice with different values can get two values chosen,
 * so the caller must make p->ballot.round durable before it sends any
 * message of a step that raised it.
 */
void	proposer_init(struct proposer *, uint32_t id, const uint32_t *acc_ids,
	    unsigned n_acc, const uint32_t *prop_ids, unsigned n_prop,
	    unsigned timeout_ms, uint8_t *valbuf, uint64_t last_round,
	    uint64_t now_ms);
/*
 * Timers: elections, retransmissions, heartbeats.  rnd: a random draw.
 * Like proposer_flush, send the outbox before opening the next datagram.
 */
void	proposer_tick(struct proposer *, uint64_t now_ms, uint32_t rnd,
	    struct outbox *);
/*
 * One authenticated message from role (AUTH_* numbering) and id.  Call
 * proposer_flush after a batch of them, before sending the outbox.
 */
void	proposer_receive(struct proposer *, uint64_t now_ms, uint32_t rnd,
	    uint8_t role, uint32_t id, const struct msg *, struct outbox *);
void	proposer_flush(struct proposer *, uint64_t now_ms, struct outbox *);
/*
 * MSG_MAX bytes to open the next datagram into, or NULL when none is
 * free (the caller then uses its own buffer, and values are copied).  The
 * values of a SUBMIT (or of a phase 1 report) decoded from there are
 * proposed without a copy and stay there while the proposer holds them;
 * values from anywhere else are copied.  Ask again before each datagram:
 * a buffer that took values is handed out again only after they were let
 * go of and the outbox sent.
 */
uint8_t	*proposer_intake(struct proposer *);
bool	proposer_is_leader(const struct proposer *);
/*
 * Put back a fact saved before a restart: the filter wrote seq of the
 * session at slot.  The leader uses these to tell a client where a
 * value it sends again was written.
 */
void	proposer_restore_written(struct proposer *, uint64_t client,
	    uint64_t seq, uint64_t slot);

#define PROPOSER_VALBUF	((size_t)PROPOSER_WINDOW * VALUE_MAX + \
	(size_t)PROPOSER_INTAKES * MSG_MAX)

#endif
