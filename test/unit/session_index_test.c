/*
 * Unit tests for lib/session_index: against a plain array as the model,
 * through random puts and deletes (runs of ids that share a home cell
 * included, where shifting back on delete is easy to get wrong), and the
 * filter's eviction through the index (lib/learner).
 */
#include <stdint.h>
#include <string.h>

#include "learner.h"
#include "session_index.h"
#include "tap.h"

#define N	4096

static struct session_index x;
static uint64_t model[N];		/* place -> id, 0: free */

static uint64_t
rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A fresh id whose home cell (as session_index.c hashes) is below 64. */
static uint64_t
crowded(uint64_t *seed)
{
	uint64_t id;

	do
		id = rng(seed) | 1;
	while (((id * 0x9e3779b97f4a7c15u) >> (64 - SESSION_INDEX_BITS)) >=
	    64);
	return id;
}

/* Every id in the model is found at its place; n absent ids are not. */
static bool
agrees(uint64_t *seed, unsigned absent)
{
	unsigned i;
	uint64_t id;

	for (i = 0; i < N; i++)
		if (model[i] != 0 && session_index_find(&x, model[i]) != (int)i)
			return false;
	for (i = 0; i < absent; i++) {
		id = rng(seed) | 1;
		if (session_index_find(&x, id) != -1) {
			unsigned j;
			for (j = 0; j < N && model[j] != id; j++)
				;
			if (j == N)
				return false;
		}
	}
	return true;
}

static void
test_model(void)
{
	uint64_t seed = 42, id;
	unsigned op, place, ok = 0, ops = 200000;

	memset(&x, 0, sizeof(x));
	memset(model, 0, sizeof(model));
	for (op = 0; op < ops; op++) {
		place = (unsigned)(rng(&seed) % N);
		if (model[place] != 0) {
			session_index_del(&x, model[place]);
			model[place] = 0;
		} else {
			/*
			 * A third of the ids have their home among the first
			 * 64 cells, so they make long runs that wrap around.
			 */
			id = rng(&seed) | 1;
			if (op % 3 == 0)
				id = crowded(&seed);
			session_index_put(&x, id, place);
			model[place] = id;
		}
		if (op % 20000 == 0 && agrees(&seed, 1000))
			ok++;
	}
	CHECK(ok == ops / 20000);
	CHECK(agrees(&seed, 100000));
	/* Empty it: nothing is left behind. */
	for (place = 0; place < N; place++)
		if (model[place] != 0)
			session_index_del(&x, model[place]);
	for (place = 0, ok = 0; place < SESSION_INDEX_CELLS; place++)
		ok += x.id[place] != 0;
	CHECK(ok == 0);
	session_index_del(&x, 12345);	/* absent: no effect */
	session_index_put(&x, 0, 1);	/* 0 is never indexed */
	CHECK(session_index_find(&x, 0) == -1);
}

/*
 * The filter forgets the session used least recently when a new one
 * comes and all are taken, whichever place it has in the table.
 */
static void
test_learner_eviction(void)
{
	static struct learner l;
	static uint8_t valbuf[1];
	uint32_t acc[3] = { 1, 2, 3 };
	uint64_t last, c;
	bool all = true;

	learner_init(&l, acc, 3, 100, valbuf, 1, 0);
	/* Session c last wrote seq c at position c (restored from a save). */
	for (c = LEARNER_SESSIONS; c >= 1; c--)
		learner_restore_session(&l, c * 2 + 1, c, c);
	for (c = 1; c <= LEARNER_SESSIONS; c++)
		all = all && learner_session_last(&l, c * 2 + 1, &last) &&
		    last == c;
	CHECK(all);
	/* One more: position 1's session (id 3) goes, no other. */
	learner_restore_session(&l, 999999, 7, LEARNER_SESSIONS + 1);
	CHECK(!learner_session_last(&l, 3, &last));
	CHECK(learner_session_last(&l, 5, &last) && last == 2);
	CHECK(learner_session_last(&l, 999999, &last) && last == 7);
	CHECK(learner_session_pos(&l, 999999, 7) == LEARNER_SESSIONS + 1);
	CHECK(learner_session_pos(&l, 3, 1) == 0);
	/* Restoring a known session updates it in place. */
	learner_restore_session(&l, 5, 9, LEARNER_SESSIONS + 2);
	CHECK(learner_session_last(&l, 5, &last) && last == 9);
	/* And the next new one takes id 7's record (position 3). */
	learner_restore_session(&l, 1000001, 1, LEARNER_SESSIONS + 3);
	CHECK(!learner_session_last(&l, 7, &last));
	CHECK(learner_session_last(&l, 9, &last) && last == 4);
}

int
main(void)
{
	test_model();
	test_learner_eviction();
	return done_testing();
}
