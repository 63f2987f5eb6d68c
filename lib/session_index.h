/*
 * An index from client session id to its place in a table of sessions,
 * so that the duplicate filter and the proposer find a session in a few
 * probes instead of scanning every session for every value: after a few
 * thousand paxos-submit runs the scan alone cut throughput tenfold.
 *
 * Open addressing with linear probing over twice as many cells as the
 * largest table, deletion by shifting back (no tombstones).  Ids are
 * never 0, so 0 marks an empty cell and a zeroed index is empty.
 */
#ifndef PAXOS_SESSION_INDEX_H
#define PAXOS_SESSION_INDEX_H

#include <stdint.h>

#define SESSION_INDEX_BITS	13
#define SESSION_INDEX_CELLS	(1u << SESSION_INDEX_BITS)

struct session_index {
	uint64_t	 id[SESSION_INDEX_CELLS];
	uint16_t	 place[SESSION_INDEX_CELLS];
};

/* The place of id, or -1. */
int	session_index_find(const struct session_index *, uint64_t id);
/* Index id (not yet in it) at place. */
void	session_index_put(struct session_index *, uint64_t id, unsigned place);
/* Forget id, if it is there (0 never is). */
void	session_index_del(struct session_index *, uint64_t id);
/*
 * The record at place changes hands: it holds new_id now, and no longer
 * old_id (0: it was free).
 */
void	session_index_replace(struct session_index *, uint64_t old_id,
	    uint64_t new_id, unsigned place);

#endif
