/*
 * A write-ahead log for the acceptor store: one synced write per batch.
 *
 * LMDB needs two flushes per durable commit (data pages, then the meta
 * page), and an acceptor must be durable before every reply.  So each
 * batch's changes are appended here as one checksummed record in one
 * synced write, while the LMDB transaction holding the same changes
 * stays open, and is committed (synced) only at a checkpoint, when the
 * log is half full.  Records carry a generation: the store keeps, in the
 * checkpointed LMDB state, the generation already applied, so recovery
 * replays only the records of the next one, from the start of the file,
 * up to the first that is torn or of another generation.
 *
 * The file is preallocated with zeros, so that a sync has data to flush
 * but no file size or extent to journal.  Records are written in whole
 * 4 KiB blocks with direct I/O where the file system allows it, so that
 * they go from the acceptor's buffer to the disk with no copy into the
 * page cache, nor pages of it to find: on a virtual machine that hands
 * freed memory back to its host, that copy was 9% of all CPU time of a
 * bench with 1 KiB values.  The acceptor's buffer holds the whole
 * generation, which the store appends to its values file at a
 * checkpoint (store.h).
 */
#ifndef PAXOS_WAL_H
#define PAXOS_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAL_SIZE	((uint64_t)16 << 20)
/* Checkpoint past this: a batch (64 datagrams of 64 KiB) always fits. */
#define WAL_CHECKPOINT	((uint64_t)8 << 20)
/* Durable writes go in whole blocks of this size, from such offsets. */
#define WAL_BLOCK	4096u

/*
 * A file written in whole blocks with durable writes: direct I/O and
 * O_DSYNC where the file system allows it, so that the blocks go from
 * our buffer to the disk with no copy into the page cache, else the page
 * cache and fdatasync.  Reads use the ordinary descriptor.
 */
struct wal_file {
	int		 fd;		/* reads, and writes without dfd */
	int		 dfd;		/* O_DIRECT | O_DSYNC, or -1 */
};

/* Open or create path.  0, or -1 with errno. */
int	wal_file_open(struct wal_file *, const char *path, bool direct);
/* Durably write len bytes (whole blocks, block-aligned buf and off). */
int	wal_file_write(struct wal_file *, const void *, size_t len,
	    uint64_t off);
void	wal_file_close(struct wal_file *);

struct wal {
	struct wal_file	 f;
	uint64_t	 gen;		/* generation of records written now */
	uint64_t	 off;		/* where the next record goes */
	/*
	 * The generation as the file holds it, from its start: the records
	 * written, then the batch being built (header, items) up to len.
	 */
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
};

/*
 * Open or create (zero-filled) the log at path, writing with direct I/O
 * if direct and the file system allows it.  0, or -1 with errno.
 */
int	wal_open(struct wal *, const char *path, bool direct);
void	wal_close(struct wal *);

/*
 * Call fn for each item of each sound record of generation gen, in the
 * order written, with where in the generation the item's bytes are.
 * Stops at the first record that is not sound.  Returns 0, -1 on a read
 * error, or what fn returned when not 0.  Records written next are of
 * generation gen and follow the last sound one.
 */
int	wal_replay(struct wal *, uint64_t gen,
	    int (*fn)(void *, uint8_t type, const uint8_t *, size_t,
	    uint64_t at), void *);

/* Write records of generation gen from the start of the file on. */
void	wal_restart(struct wal *, uint64_t gen);
/*
 * Add an item of two parts to the batch; *b_at (if not NULL) is where in
 * the generation the second part goes.  0, or -1 (out of memory).
 */
int	wal_add(struct wal *, uint8_t type, const void *a, size_t alen,
	    const void *b, size_t blen, uint64_t *b_at);
/* Write the batch as one record and sync it.  0, or -1 with errno. */
int	wal_sync(struct wal *);
bool	wal_needs_checkpoint(const struct wal *);
/*
 * The generation's bytes at..at+len-1, synced or still in the batch,
 * or NULL if it has not that many.  Valid until the next wal_add.
 */
const uint8_t *wal_bytes(const struct wal *, uint64_t at, size_t len);
/*
 * The whole generation from its start, batch included, zero-padded to a
 * block: *len bytes, 0 if the generation holds nothing.
 */
const uint8_t *wal_generation(struct wal *, size_t *len);

#endif
