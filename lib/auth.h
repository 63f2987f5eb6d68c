/*
 * Sealing of datagrams: XChaCha20-Poly1305 under keys derived from the
 * cluster secret, nonces that never repeat, per-sender replay windows.
 */
#ifndef PAXOS_AUTH_H
#define PAXOS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session_index.h"

#define AUTH_VERSION	1
#define AUTH_HDR_LEN	22		/* version role id epoch counter */
#define AUTH_TAG_LEN	16
#define AUTH_OVERHEAD	(AUTH_HDR_LEN + AUTH_TAG_LEN)
#define AUTH_MAX_MEMBERS 96
#define AUTH_CLIENTS	1024		/* client windows kept, LRU */
#define AUTH_WINDOW	256		/* counters tracked behind the top */

enum auth_role {
	AUTH_ACCEPTOR = 1,
	AUTH_PROPOSER = 2,
	AUTH_LEARNER = 3,
	AUTH_CLIENT = 4,
};

enum auth_drop {
	AUTH_OK = 0,
	AUTH_MALFORMED,		/* too short, unknown version or role */
	AUTH_FORGED,		/* failed to open: wrong key, tampered */
	AUTH_REPLAY,		/* counter seen before, or an old epoch */
	AUTH_UNKNOWN,		/* a member id not in the configuration */
};

struct auth_window {
	uint8_t		 role;
	uint32_t	 id;
	uint64_t	 epoch;
	uint64_t	 top;		/* highest counter accepted */
	uint64_t	 bits[AUTH_WINDOW / 64];
	uint64_t	 used;		/* LRU stamp for client windows */
	bool		 live;
};

struct auth {
	uint8_t		 member_key[32];
	uint8_t		 client_key[32];
	bool		 is_client;	/* holds only the client key */
	uint8_t		 role;		/* ours */
	uint32_t	 id;
	uint64_t	 epoch;
	uint64_t	 counter;
	unsigned	 n_members;
	struct auth_window members[AUTH_MAX_MEMBERS];
	struct auth_window clients[AUTH_CLIENTS];
	struct session_index client_index;	/* id + 1 -> place */
	uint64_t	 stamp;
	uint64_t	 dropped[5];	/* by enum auth_drop */
};

struct auth_peer {
	uint8_t		 role;
	uint32_t	 id;
};

/*
 * Derive the member and client keys from the cluster secret.  epoch must
 * grow from one start of the same sender to the next (microseconds of
 * the wall clock at start): receivers refuse older epochs as replays.
 */
void	auth_init(struct auth *, const uint8_t secret[32], uint8_t role,
	    uint32_t id, uint64_t epoch);
/*
 * The same for a holder of the client key alone: it can talk to members
 * as a client, and can neither open nor forge member traffic.
 */
void	auth_init_client(struct auth *, const uint8_t client_key[32],
	    uint32_t id, uint64_t epoch);
/* The client key of a cluster secret, for paxos-keygen --client. */
void	auth_client_key(const uint8_t secret[32], uint8_t client_key[32]);
void	auth_free(struct auth *);
/* Accept datagrams from this member. */
int	auth_add_member(struct auth *, uint8_t role, uint32_t id);
/*
 * Returns the sealed length, or 0 when it does not fit in cap.  Traffic
 * to or from a client is sealed with the client key, the rest with the
 * member key.
 */
size_t	auth_seal(struct auth *, bool to_client, const uint8_t *pt,
	    size_t ptlen, uint8_t *out, size_t cap);
/*
 * Open a datagram into pt (room for len bytes).  Returns AUTH_OK and the
 * sender, or the reason it was dropped (also counted in dropped[]).
 */
enum auth_drop auth_open(struct auth *, const uint8_t *in, size_t len,
	    uint8_t *pt, size_t *ptlen, struct auth_peer *);
const char *auth_drop_name(enum auth_drop);

#endif
