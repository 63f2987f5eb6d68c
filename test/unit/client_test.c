/* Unit tests for lib/client: the window, in values and in bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "tap.h"

#define WINDOW		64
#define OUT_MAX		16
#define T0		1000

static const uint32_t props[] = { 1, 2 };
static struct client c;
static struct client_value v[WINDOW];
static struct out outs[OUT_MAX];
static struct outbox ob = { 0, OUT_MAX, 0, outs };
static uint8_t big[VALUE_MAX];

/* Values the client takes before it says it has no room. */
static unsigned
fill(uint32_t len)
{
	unsigned n = 0;

	while (client_has_room(&c)) {
		client_submit(&c, big, len, n + 1, T0);
		n++;
	}
	return n;
}

/* The leader's REPLY: seqs first..last committed at positions = seq. */
static void
commit(uint64_t first, uint64_t last)
{
	static struct msg m;
	uint64_t s;

	msg_init(&m, MSG_REPLY);
	m.client = c.session;
	m.status = REPLY_OK;
	for (s = first; s <= last; s++) {
		m.e[m.n].slot = s;
		m.e[m.n].e.seq = s;
		m.n++;
	}
	client_receive(&c, T0 + 1, &m, &ob);
}

static void
test_window(void)
{
	struct client_value out;

	client_init(&c, 77, props, 2, WINDOW, 1000, v, T0);
	CHECK(client_idle(&c) && client_has_room(&c));
	/* Small values: the window is the limit. */
	CHECK(fill(16) == WINDOW);
	commit(1, 3);
	CHECK(client_retire(&c, &out) && out.seq == 1 && out.position == 1);
	CHECK(client_has_room(&c));
	CHECK(client_retire(&c, &out) && client_retire(&c, &out));
	CHECK(!client_retire(&c, &out));
	CHECK(fill(16) == 3);
}

static void
test_bytes(void)
{
	struct client_value out;
	unsigned n, k;

	/* Large values: the bytes in flight are, whatever the window. */
	client_init(&c, 78, props, 2, WINDOW, 1000, v, T0);
	n = fill(VALUE_MAX);
	CHECK(n == CLIENT_BYTES_MAX / VALUE_MAX);
	CHECK(n < WINDOW && c.bytes == (size_t)n * VALUE_MAX);
	/* Retiring one makes room for one. */
	commit(1, 1);
	CHECK(client_retire(&c, &out) && out.len == VALUE_MAX);
	CHECK(fill(VALUE_MAX) == 1);
	/* Everything retired: nothing in flight, any value fits again. */
	commit(2, n + 1);
	for (k = 0; client_retire(&c, &out); k++)
		;
	CHECK(k == n && c.bytes == 0 && client_idle(&c));
	/* The whole budget is there again. */
	CHECK(fill(VALUE_MAX) == n);
}

int
main(void)
{
	unsigned i;

	for (i = 0; i < WINDOW; i++)
		v[i].val = malloc(VALUE_MAX);
	memset(big, 'x', sizeof(big));
	test_window();
	test_bytes();
	for (i = 0; i < WINDOW; i++)
		free(v[i].val);
	return done_testing();
}
