/*
 * Durable acceptor state in LMDB: the promise, the chosen watermark and
 * the accepted entry of every slot.  With persist = yes a commit is
 * durable when it returns, before the acceptor answers: the batch is
 * synced to a write-ahead log (wal.h) and LMDB is synced at checkpoints.
 *
 * With persist = yes the bytes of values are not in LMDB: at each
 * checkpoint the log's whole generation is appended, as it is, to the
 * file "values", and a slot's record in LMDB says where in that file its
 * value is, and its hash.  A value is so written twice, both times in
 * large sequential writes from the acceptor's buffer, instead of once in
 * the log and again in LMDB's pages.
 */
#ifndef PAXOS_STORE_H
#define PAXOS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acceptor.h"
#include "learner.h"
#include "msg.h"
#include "wal.h"

struct store {
	void		*env;		/* MDB_env */
	unsigned	 dbi_meta;
	unsigned	 dbi_slots;
	void		*txn;		/* open write or read txn, or NULL */
	bool		 writing;
	bool		 persist;
	bool		 failed;	/* a checkpoint failed: restart */
	struct wal	 wal;		/* persist = yes only */
	struct wal_file	 values;	/* persist = yes only */
	uint64_t	 values_end;	/* where the log's generation goes */
	/* Value bytes read back: for one scan, and for one get. */
	uint8_t		*scan_buf;
	uint8_t		*get_buf;
	uint64_t	 last_slot;	/* highest slot stored, 0: none (a
					   persist = no store starts empty) */
	uint8_t		 state[32];	/* the state as last put */
	char		 path[4096];
};

/*
 * Open (creating) the store in dir.  With persist false the old contents
 * are dropped and nothing is synced: the acceptor forgets on restart.
 * Returns 0, or with err set -1 (cannot open or create) or -2 (what is
 * there is not a sound store).
 */
int	store_open(struct store *, const char *dir, bool persist, char *err,
	    size_t errlen);
void	store_close(struct store *);
/* Load promised ballot, commit and max_slot.  0 ok, -1 I/O, -2 corrupt. */
int	store_load(struct store *, struct acceptor *);

/*
 * Write transactions: begin, put..., commit (durable).  0 or -1.  With
 * persist = yes, LMDB's transaction stays open from commit to commit
 * until a checkpoint; reads inside it see every put.
 */
int	store_begin(struct store *);
int	store_put_state(struct store *, const struct acceptor *);
int	store_put_entry(struct store *, uint64_t slot, struct ballot,
	    const struct entry *);
int	store_commit(struct store *);
void	store_abort(struct store *);

/*
 * Look up one slot inside the open transaction (begin or read_begin).
 * Returns 1 found, 0 absent, -1 error.  Value bytes stay valid until the
 * next store_get or the transaction's end.
 */
int	store_get(struct store *, uint64_t slot, struct slot_entry *);
/* The same for the ballot only: no value is read. */
int	store_get_ballot(struct store *, uint64_t slot, struct ballot *);
/* A read transaction; with persist = yes it checkpoints first. */
int	store_read_begin(struct store *);
void	store_read_end(struct store *);
/*
 * Inside a transaction, append entries at slots from..end-1 to out until
 * it is full; sets out->next to the first slot left out, or SLOT_NONE
 * when nothing from `from` on was left out.  Entries below commit are
 * marked chosen: once a slot is chosen, every later acceptance there is
 * of the same value (Paxos Made Simple 2.2, P2c).  Value bytes stay
 * valid until the next scan or the transaction's end.
 */
int	store_scan(struct store *, uint64_t from, uint64_t end, uint64_t commit,
	    struct msg *out);

/* A durable counter (a proposer's highest round): write, sync, rename. */
int	store_save_counter(const char *path, uint64_t);
/* 0 ok (0 when the file is missing), -1 I/O error, -2 corrupt. */
int	store_load_counter(const char *path, uint64_t *);

/*
 * A learner's saved state: the last position written and its duplicate
 * filter's sessions.  Saved by write, fsync, rename.
 */
int	store_save_learner(const char *path, const struct learner *);
/*
 * Load into a learner set up to start after the saved position: returns
 * 0 (pos 0 and nothing restored when the file is missing), -1 on an I/O
 * error, -2 when the file is corrupt.  restore false reads the position
 * only.
 */
int	store_load_learner(const char *path, uint64_t *pos, struct learner *,
	    bool restore);

#endif
