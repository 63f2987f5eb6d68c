/*
 * What every program shares around the protocol core: configuration and
 * secret, the socket, sealing, addressing peers by role and id, readiness.
 */
#ifndef PAXOS_NODE_H
#define PAXOS_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "conf.h"
#include "msg.h"
#include "net.h"

#define NODE_CLIENTS	1024	/* client addresses a proposer remembers */
#define NODE_QUEUE	128	/* sealed datagrams held back */
#define NODE_RECV_BATCH	32	/* datagrams per recvmmsg(2) */
#define NODE_QUEUE_BYTES (4 * 1024 * 1024)

struct node_recv_batch;

/* A sealed datagram waiting for its state to reach the disk. */
struct node_queued {
	struct net_addr	 to;
	size_t		 off, len;
};

struct node_client {
	uint64_t	 session;
	struct net_addr	 addr;
	uint64_t	 used;
};

struct node {
	struct conf	 conf;
	uint8_t		 role;		/* AUTH_* */
	uint32_t	 id;		/* 0: a client or anonymous learner */
	int		 fd;
	struct net_addr	 self;
	struct auth	 auth;
	struct net_addr	 addr[CONF_MAX_NODES][3];	/* [node][role-1] */
	struct net_addr	 from;		/* source of the last datagram */
	uint64_t	 malformed;	/* opened but did not decode */
	uint64_t	 send_errors;
	uint64_t	 stamp;
	uint64_t	 started_ms;
	struct node_client clients[NODE_CLIENTS];
	struct session_index client_index;	/* session -> place */
	uint8_t		 ct[MSG_MAX + AUTH_OVERHEAD];
	uint8_t		 pt[MSG_MAX + AUTH_OVERHEAD];
	uint8_t		 enc[MSG_MAX];
	unsigned	 nq;
	size_t		 qused;
	struct node_queued q[NODE_QUEUE];
	uint8_t		*qbuf;		/* NODE_QUEUE_BYTES */
	/* Datagrams taken by one recvmmsg(2), handed out one by one. */
	struct node_recv_batch *rb;	/* NULL: one recvfrom(2) each */
	unsigned	 rnext;
	unsigned	 rcount;
	bool		 rdrained;	/* the last recvmmsg emptied the socket */
};

/* conf role bit (ROLE_*) for an AUTH_* role, and back. */
unsigned node_conf_role(uint8_t auth_role);

/*
 * Load the configuration, the secret and the peers' addresses, and bind
 * our socket (a client or anonymous learner binds an ephemeral port).
 * Returns 0, or a sysexits(3) code with err set.
 */
int	node_open(struct node *, const char *conffile, const char *idarg,
	    uint8_t role, bool need_id, char *err, size_t errlen);
/*
 * Everything node_open checks, short of the socket: the configuration,
 * the secret, and the node id when idarg or myid gives one.  Like
 * ntpd -n.
 */
int	node_check(struct node *, const char *conffile, const char *idarg,
	    uint8_t role, char *err, size_t errlen);
void	node_close(struct node *);

/* Send one message where o says.  Returns the number of datagrams sent. */
int	node_send(struct node *, const struct out *);
void	node_flush(struct node *, struct outbox *);
/* Send to one address, e.g. a reply to node->from. */
int	node_send_to(struct node *, const struct net_addr *, const struct msg *);

/*
 * Seal a message now and hold it until node_queue_flush: replies that
 * must not leave before the state they depend on is synced.  Returns -1
 * when the queue is full (flush, then queue again).
 */
int	node_queue(struct node *, const struct net_addr *, const struct msg *);
void	node_queue_flush(struct node *);

/*
 * Receive one datagram: 1 and a decoded message (entries point into the
 * node's buffer until the next call), 0 nothing pending, 2 dropped
 * (counted), -1 on a socket error.
 */
int	node_recv(struct node *, struct msg *, struct auth_peer *);
/* The same, opening the datagram into pt (MSG_MAX bytes) instead. */
int	node_recv_into(struct node *, uint8_t *pt, struct msg *,
	    struct auth_peer *);
/*
 * From now on take up to NODE_RECV_BATCH datagrams per system call.  The
 * caller must then not wait for the socket while node_buffered() says
 * datagrams are held.  0, or -1 (out of memory).
 */
int	node_recv_batched(struct node *);
bool	node_buffered(const struct node *);
/*
 * Wait up to timeout_ms for a datagram (at once when one is held), after
 * spinning busy_poll microseconds.  What poll(2) returns.
 */
int	node_wait(struct node *, int timeout_ms);

/* Remember where a client session's replies go. */
void	node_remember_client(struct node *, uint64_t session,
	    const struct net_addr *);

/* Print "ROLE ID ready on ADDR" and tell systemd, when it is listening. */
void	node_ready(struct node *);
uint64_t node_now_ms(void);
/*
 * Answer a paxos-status request: the caller fills in its role's fields
 * of m (status, ballot, leader, slot, max_slot, commit, stats[VALUES]);
 * the drop counters and uptime are the node's.
 */
void	node_status_reply(struct node *, const struct msg *req, struct msg *m);
/* Microseconds of the wall clock: an epoch that grows across restarts. */
uint64_t node_epoch(void);

#endif
