/* Client session id to table place (see session_index.h). */
#include "session_index.h"

#define MASK	(SESSION_INDEX_CELLS - 1)

/* Fibonacci hashing: the top bits of the product spread any ids. */
static unsigned
home(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15u) >> (64 - SESSION_INDEX_BITS));
}

int
session_index_find(const struct session_index *x, uint64_t id)
{
	unsigned i;

	for (i = home(id); x->id[i] != 0; i = (i + 1) & MASK)
		if (x->id[i] == id)
			return x->place[i];
	return -1;
}

void
session_index_put(struct session_index *x, uint64_t id, unsigned place)
{
	unsigned i;

	if (id == 0)
		return;		/* 0 marks empty cells; never indexed */
	for (i = home(id); x->id[i] != 0; i = (i + 1) & MASK)
		;
	x->id[i] = id;
	x->place[i] = (uint16_t)place;
}

void
session_index_del(struct session_index *x, uint64_t id)
{
	unsigned i, j, h;

	if (id == 0)
		return;		/* would find an empty cell, not a record */
	for (i = home(id); x->id[i] != id; i = (i + 1) & MASK)
		if (x->id[i] == 0)
			return;
	/*
	 * Close the gap: a later cell of the run moves into it unless its
	 * home lies cyclically in (i, j], where a probe never passes i.
	 */
	for (j = (i + 1) & MASK; x->id[j] != 0; j = (j + 1) & MASK) {
		h = home(x->id[j]);
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		x->id[i] = x->id[j];
		x->place[i] = x->place[j];
		i = j;
	}
	x->id[i] = 0;
}

void
session_index_replace(struct session_index *x, uint64_t old_id,
    uint64_t new_id, unsigned place)
{
	session_index_del(x, old_id);
	session_index_put(x, new_id, place);
}
