/*
 * The wire format: every protocol message, encoded little-endian with
 * fixed-width fields and decoded with bounds checks.  No I/O.
 */
#ifndef PAXOS_MSG_H
#define PAXOS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_VERSION	1
#define VALUE_MAX	32768		/* bytes in one client value */
#define MSG_MAX		65000		/* bytes of an encoded message */
#define MSG_MAX_ENTRIES	256		/* entries carried by one message */
#define SLOT_NONE	UINT64_MAX	/* "no slot" / "up to the end" */
#define MSG_STATS	6		/* counters in a STATUS_REP */

/* The counters of a STATUS_REP, in order. */
enum msg_stat {
	STAT_MALFORMED,		/* datagrams too short, unknown, undecodable */
	STAT_FORGED,		/* failed to open: tampered or wrong key */
	STAT_REPLAY,		/* seen before, or from an old epoch */
	STAT_UNKNOWN,		/* from a member not in the configuration */
	STAT_VALUES,		/* accepted, chosen or written values */
	STAT_UPTIME,		/* seconds since start */
};

struct ballot {
	uint64_t	 round;		/* 0: no ballot */
	uint32_t	 node;		/* proposer id, breaks ties */
};

int	ballot_cmp(struct ballot, struct ballot);
bool	ballot_is_zero(struct ballot);

enum entry_kind {
	ENTRY_NOOP = 0,			/* fills a hole; writes no line */
	ENTRY_VALUE = 1,		/* a client value */
};

/* What a log position holds once chosen. */
struct entry {
	uint8_t		 kind;
	uint64_t	 client;	/* session id of the submitting run */
	uint64_t	 seq;		/* 1, 2, ... within the session */
	uint64_t	 acked;		/* the client knew seqs up to this
					   committed when it sent this one */
	uint32_t	 len;
	const uint8_t	*val;		/* borrowed; len bytes */
};

/* An entry at a slot, with what an acceptor knows of it. */
struct slot_entry {
	uint64_t	 slot;
	struct ballot	 ballot;	/* ballot it was accepted in */
	bool		 chosen;	/* the acceptor knows it is chosen */
	struct entry	 e;
};

enum msg_type {
	MSG_PREPARE = 1,	/* proposer -> acceptor: phase 1a */
	MSG_PROMISE,		/* acceptor -> proposer: phase 1b */
	MSG_NACK,		/* acceptor -> proposer: promised higher */
	MSG_ACCEPT,		/* proposer -> acceptor: phase 2a */
	MSG_ACCEPTED,		/* acceptor -> proposer: phase 2b */
	MSG_COMMIT,		/* leader -> all: chosen watermark, heartbeat */
	MSG_CHOSEN,		/* leader -> learner: chosen entries */
	MSG_LEARN_REQ,		/* learner -> acceptor: what is at slot.. */
	MSG_LEARN_REP,		/* acceptor -> learner */
	MSG_SUBMIT,		/* client -> proposer */
	MSG_REPLY,		/* proposer -> client */
	MSG_STATUS_REQ,		/* paxos-status -> any daemon */
	MSG_STATUS_REP,		/* any daemon -> paxos-status */
	MSG_TYPE_MAX
};

enum reply_status {
	REPLY_OK = 0,		/* e[i]: seq e.seq committed at position slot */
	REPLY_REDIRECT = 1,	/* not leading; leader is the hint (0: none) */
	REPLY_BUSY = 2,		/* leading, but no room: send again soon */
};

/*
 * One decoded message.  Which fields mean something depends on type;
 * see msg.c for the layout of each.
 */
struct msg {
	uint8_t		 type;
	struct ballot	 ballot;
	uint64_t	 slot;		/* first slot asked for / position */
	uint64_t	 next;		/* first slot not covered, SLOT_NONE */
	uint64_t	 max_slot;	/* highest accepted slot, 0: none */
	uint64_t	 commit;	/* slots below are chosen */
	uint64_t	 client;
	uint64_t	 seq;		/* LEARN_REQ/REP: the asker's commit */
	uint32_t	 count;		/* slots the asker can take */
	uint32_t	 leader;	/* REPLY: leader hint */
	uint8_t		 status;
	uint64_t	 stats[MSG_STATS];	/* STATUS_REP: counters */
	unsigned	 n;		/* entries in e[] */
	struct slot_entry e[MSG_MAX_ENTRIES];
};

void	msg_init(struct msg *, uint8_t type);
/* Bytes an entry adds to an encoded message. */
size_t	msg_entry_size(const struct entry *);
/* Returns the encoded length, or 0 when it does not fit in cap. */
size_t	msg_encode(const struct msg *, uint8_t *buf, size_t cap);
/*
 * Returns 0, or -1 when buf is truncated, oversized, of another version
 * or otherwise malformed.  Entry values point into buf.
 */
int	msg_decode(struct msg *, const uint8_t *buf, size_t len);
const char *msg_type_name(uint8_t);



/*
 * Messages a role wants sent, for the caller to encode, seal and send in
 * order.  Destination: a role (AUTH_* numbering: 1 acceptor, 2 proposer,
 * 3 learner, 4 client) and a node id, 0 meaning every node of the role;
 * for a client, its session id.
 */
struct out {
	uint8_t		 role;
	uint32_t	 id;
	uint64_t	 client;
	struct msg	 m;
};

struct outbox {
	unsigned	 n;
	unsigned	 cap;
	unsigned	 lost;		/* messages that did not fit */
	struct out	*o;
};

/* A message to fill in, or NULL (counted in lost) when the box is full. */
struct msg *outbox_add(struct outbox *, uint8_t role, uint32_t id,
	    uint64_t client, uint8_t type);

#endif
