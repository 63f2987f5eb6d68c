/*
 * Client role, sans I/O: one client session submitting values in order,
 * a window of them in flight, retransmitting, following redirects and
 * moving to the next proposer when one falls silent.  paxos-submit is a
 * shell around it, and the simulator runs it as is.
 */
#ifndef PAXOS_CLIENT_H
#define PAXOS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

#define CLIENT_MAX_PROP	32
/*
 * Bytes of values in flight, whatever the window: UDP has no flow
 * control, and a window of large values overflows the leader's socket
 * buffer, where every datagram lost costs a retransmission.
 */
#define CLIENT_BYTES_MAX	(1024 * 1024)

struct client_value {
	uint64_t	 seq;
	uint64_t	 line;		/* input line, for messages */
	uint64_t	 first_ms;	/* first sent */
	uint64_t	 sent_ms;	/* last sent */
	uint64_t	 position;	/* once committed */
	bool		 committed;
	bool		 due;		/* to be sent on the next flush */
	uint32_t	 len;
	uint8_t		*val;		/* VALUE_MAX bytes from the caller */
};

struct client {
	uint64_t	 session;	/* random, never 0 */
	uint32_t	 proposers[CLIENT_MAX_PROP];
	unsigned	 n_prop;
	unsigned	 target;	/* index into proposers */
	uint64_t	 heard_ms;	/* last word from the target */
	uint64_t	 switched_ms;	/* last change of target */
	uint64_t	 next_seq;
	uint64_t	 acked;		/* seqs up to this are committed */
	unsigned	 window;
	unsigned	 timeout_ms;
	struct client_value *v;		/* ring of window entries */
	unsigned	 head, n;
	size_t		 bytes;		/* of the n values */
};

/* v: window entries, each with val pointing at VALUE_MAX bytes. */
void	client_init(struct client *, uint64_t session, const uint32_t *prop_ids,
	    unsigned n_prop, unsigned window, unsigned timeout_ms,
	    struct client_value *v, uint64_t now_ms);
/* Room for one more value: the window and CLIENT_BYTES_MAX allow it. */
bool	client_has_room(const struct client *);
bool	client_idle(const struct client *);
/*
 * Queue one value (len <= VALUE_MAX; the caller checks); client_flush
 * sends what was queued, packed into as few datagrams as fit.
 */
void	client_submit(struct client *, const uint8_t *val, uint32_t len,
	    uint64_t line, uint64_t now_ms);
void	client_flush(struct client *, uint64_t now_ms, struct outbox *);
void	client_receive(struct client *, uint64_t now_ms, const struct msg *,
	    struct outbox *);
void	client_tick(struct client *, uint64_t now_ms, struct outbox *);
/* The oldest value in flight, or NULL. */
const struct client_value *client_oldest(const struct client *);
/* Pop the oldest value once committed: its seq, line and position. */
bool	client_retire(struct client *, struct client_value *);

#endif
