/* Unit tests for lib/auth: sealing, tampering, replays, client keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "tap.h"

#define PT_MAX	256
#define CT_MAX	(PT_MAX + AUTH_OVERHEAD)

static const uint8_t secret[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const uint8_t payload[] = { 'p', 'a', 'x', 0x00, 0xff, '\n', 0x80 };

/* Big enough that they live outside the stack. */
static struct auth prop, acc, lrn, cli, other;

struct sealed {
	uint8_t		 b[CT_MAX];
	size_t		 len;
};

static void
seal(struct auth *a, bool to_client, struct sealed *s)
{
	s->len = auth_seal(a, to_client, payload, sizeof(payload), s->b,
	    sizeof(s->b));
}

/* Open a copy of exactly len bytes, so ASan sees any read past it. */
static enum auth_drop
open_exact(struct auth *a, const uint8_t *in, size_t len,
    struct auth_peer *from, uint8_t *pt, size_t *ptlen)
{
	enum auth_drop r;
	uint8_t *copy;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, in, len);
	r = auth_open(a, copy, len, pt, ptlen, from);
	free(copy);
	return r;
}

static enum auth_drop
open_s(struct auth *a, const struct sealed *s)
{
	static uint8_t pt[CT_MAX];
	struct auth_peer from;
	size_t ptlen;

	return open_exact(a, s->b, s->len, &from, pt, &ptlen);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Fresh state: proposer 1 (epoch 50) talks to acceptor 2. */
static void
setup(void)
{
	auth_init(&prop, secret, AUTH_PROPOSER, 1, 50);
	auth_init(&acc, secret, AUTH_ACCEPTOR, 2, 100);
	CHECK(auth_add_member(&acc, AUTH_PROPOSER, 1) == 0);
	CHECK(auth_add_member(&prop, AUTH_ACCEPTOR, 2) == 0);
}

static void
test_round_trip(void)
{
	static struct sealed s, t;
	uint8_t pt[CT_MAX];
	struct auth_peer from = { 0, 0 };
	size_t ptlen = 0;

	setup();
	seal(&prop, false, &s);
	CHECK(s.len == sizeof(payload) + AUTH_OVERHEAD);
	CHECK(s.b[0] == AUTH_VERSION && s.b[1] == AUTH_PROPOSER);
	CHECK(s.b[2] == 1 && s.b[3] == 0 && s.b[4] == 0 && s.b[5] == 0);
	CHECK(get64(s.b + 6) == 50 && get64(s.b + 14) == 1);
	/* The payload does not show through. */
	CHECK(memcmp(s.b + AUTH_HDR_LEN, payload, sizeof(payload)) != 0);

	CHECK(open_exact(&acc, s.b, s.len, &from, pt, &ptlen) == AUTH_OK);
	CHECK(ptlen == sizeof(payload) &&
	    memcmp(pt, payload, sizeof(payload)) == 0);
	CHECK(from.role == AUTH_PROPOSER && from.id == 1);

	/* Each seal takes the next counter: a new nonce, new bytes. */
	seal(&prop, false, &t);
	CHECK(get64(t.b + 14) == 2);
	CHECK(memcmp(s.b + AUTH_HDR_LEN, t.b + AUTH_HDR_LEN,
	    sizeof(payload)) != 0);
	CHECK(open_s(&acc, &t) == AUTH_OK);

	/* And back: the acceptor's answer, acceptor 2 to proposer 1. */
	seal(&acc, false, &s);
	ptlen = 0;
	CHECK(open_exact(&prop, s.b, s.len, &from, pt, &ptlen) == AUTH_OK);
	CHECK(from.role == AUTH_ACCEPTOR && from.id == 2);
	CHECK(ptlen == sizeof(payload));

	/* An empty payload is a valid datagram too. */
	s.len = auth_seal(&prop, false, payload, 0, s.b, sizeof(s.b));
	CHECK(s.len == AUTH_OVERHEAD);
	ptlen = 99;
	CHECK(open_exact(&acc, s.b, s.len, &from, pt, &ptlen) == AUTH_OK &&
	    ptlen == 0);

	/* Too little room: 0. */
	CHECK(auth_seal(&prop, false, payload, sizeof(payload), s.b,
	    sizeof(payload) + AUTH_OVERHEAD - 1) == 0);
	CHECK(auth_seal(&prop, false, payload, sizeof(payload), s.b,
	    AUTH_OVERHEAD - 1) == 0);
	s.len = auth_seal(&prop, false, payload, sizeof(payload), s.b,
	    sizeof(payload) + AUTH_OVERHEAD);
	CHECK(s.len == sizeof(payload) + AUTH_OVERHEAD);
	CHECK(get64(s.b + 14) == 4);	/* the refusals took no counter */
	CHECK(open_s(&acc, &s) == AUTH_OK);
}

/*
 * Senders that share a key, epoch and counter must still never share a
 * nonce: with the same plaintext, a reused nonce shows as the same
 * ciphertext.
 */
static void
test_nonce(void)
{
	static struct sealed a1, a2, l1;

	auth_init(&acc, secret, AUTH_ACCEPTOR, 1, 100);
	auth_init(&other, secret, AUTH_ACCEPTOR, 2, 100);
	auth_init(&lrn, secret, AUTH_LEARNER, 1, 100);
	seal(&acc, false, &a1);
	seal(&other, false, &a2);
	seal(&lrn, false, &l1);
	CHECK(get64(a1.b + 14) == 1 && get64(a2.b + 14) == 1 &&
	    get64(l1.b + 14) == 1);
	CHECK(memcmp(a1.b + AUTH_HDR_LEN, a2.b + AUTH_HDR_LEN,
	    sizeof(payload)) != 0);
	CHECK(memcmp(a1.b + AUTH_HDR_LEN, l1.b + AUTH_HDR_LEN,
	    sizeof(payload)) != 0);
	/* The same sender after a restart counts from 1 again. */
	auth_init(&other, secret, AUTH_ACCEPTOR, 1, 101);
	seal(&other, false, &a2);
	CHECK(get64(a2.b + 14) == 1);
	CHECK(memcmp(a1.b + AUTH_HDR_LEN, a2.b + AUTH_HDR_LEN,
	    sizeof(payload)) != 0);
	auth_free(&other);
	auth_free(&lrn);
}

static void
test_tamper(void)
{
	static struct sealed s, t;
	unsigned bad_ok = 0, bad_other = 0, n_malformed = 0, n_forged = 0;
	unsigned bad_cut = 0;
	enum auth_drop r;
	size_t i, cut;
	int bit;

	setup();
	seal(&prop, false, &s);
	for (i = 0; i < s.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			t = s;
			t.b[i] ^= (uint8_t)(1 << bit);
			r = open_s(&acc, &t);
			if (r == AUTH_OK)
				bad_ok++;
			else if (r == AUTH_MALFORMED)
				n_malformed++;
			else if (r == AUTH_FORGED)
				n_forged++;
			else
				bad_other++;
			/* Only the version and role bytes are read unsealed. */
			if (i >= 2 && r != AUTH_FORGED)
				bad_other++;
		}
	}
	diag("%zu bits flipped: %u malformed, %u forged", s.len * 8,
	    n_malformed, n_forged);
	CHECK(bad_ok == 0);
	CHECK(bad_other == 0);
	/* Version: all 8 flips; role 2: to 0, 6, 10, ..., not to 3. */
	CHECK(n_malformed == 8 + 7);
	CHECK(n_forged == s.len * 8 - n_malformed);
	CHECK(acc.dropped[AUTH_MALFORMED] == n_malformed);
	CHECK(acc.dropped[AUTH_FORGED] == n_forged);
	CHECK(acc.dropped[AUTH_OK] == 0);

	for (cut = 0; cut < s.len; cut++) {
		memcpy(t.b, s.b, cut);
		t.len = cut;
		r = open_s(&acc, &t);
		if (r != (cut < AUTH_OVERHEAD ? AUTH_MALFORMED : AUTH_FORGED))
			bad_cut++;
	}
	CHECK(bad_cut == 0);

	/* None of that spent the original's counter. */
	CHECK(open_s(&acc, &s) == AUTH_OK);
	CHECK(acc.dropped[AUTH_REPLAY] == 0);

	/* Another cluster's secret. */
	auth_init(&other, (const uint8_t[32]){ 9 }, AUTH_PROPOSER, 1, 50);
	seal(&other, false, &t);
	CHECK(t.len == s.len);
	CHECK(open_s(&acc, &t) == AUTH_FORGED);
	/* An unknown version, however well sealed otherwise. */
	t = s;
	t.b[0] = AUTH_VERSION + 1;
	CHECK(open_s(&acc, &t) == AUTH_MALFORMED);
	auth_free(&other);
}

static void
test_replay(void)
{
	static struct sealed s[300], t;
	unsigned i, bad;
	static const unsigned order[] = { 5, 3, 1, 4, 2 };

	setup();
	for (i = 0; i < 300; i++)
		seal(&prop, false, &s[i]);	/* s[i] has counter i + 1 */
	CHECK(open_s(&acc, &s[0]) == AUTH_OK);
	CHECK(open_s(&acc, &s[0]) == AUTH_REPLAY);

	/* Out of order within the window: once each. */
	setup();
	for (i = 0; i < 5; i++)
		seal(&prop, false, &s[i]);
	bad = 0;
	for (i = 0; i < 5; i++)
		if (open_s(&acc, &s[order[i] - 1]) != AUTH_OK)
			bad++;
	CHECK(bad == 0);
	bad = 0;
	for (i = 0; i < 5; i++)
		if (open_s(&acc, &s[i]) != AUTH_REPLAY)
			bad++;
	CHECK(bad == 0);
	CHECK(acc.dropped[AUTH_REPLAY] == 5);

	/*
	 * The window holds the top and the AUTH_WINDOW - 1 counters below
	 * it; C(n) is the datagram sealed with counter n.
	 */
#define C(n)	(&s[(n) - 1])
	setup();
	for (i = 0; i < 300; i++)
		seal(&prop, false, &s[i]);
	CHECK(open_s(&acc, C(300)) == AUTH_OK);
	CHECK(open_s(&acc, C(300 - AUTH_WINDOW - 1)) == AUTH_REPLAY);
	CHECK(open_s(&acc, C(300 - AUTH_WINDOW)) == AUTH_REPLAY);
	CHECK(open_s(&acc, C(300 - AUTH_WINDOW + 1)) == AUTH_OK);
	CHECK(open_s(&acc, C(300 - AUTH_WINDOW + 1)) == AUTH_REPLAY);
	CHECK(open_s(&acc, C(299)) == AUTH_OK);
	/* Each one in the window, once, whatever order. */
	bad = 0;
	for (i = 298; i > 300 - AUTH_WINDOW + 1; i--)
		if (open_s(&acc, C(i)) != AUTH_OK)
			bad++;
	CHECK(bad == 0);
	bad = 0;
	for (i = 300 - AUTH_WINDOW + 1; i <= 300; i++)
		if (open_s(&acc, C(i)) != AUTH_REPLAY)
			bad++;
	CHECK(bad == 0);
	/* The top moves on: 45 falls out, 46 is still remembered. */
	seal(&prop, false, &t);			/* counter 301 */
	CHECK(open_s(&acc, &t) == AUTH_OK);
	CHECK(open_s(&acc, C(301 - AUTH_WINDOW)) == AUTH_REPLAY);
	CHECK(open_s(&acc, C(301 - AUTH_WINDOW + 1)) == AUTH_REPLAY);

	/* A jump of more than the window forgets the old bits, not more. */
	setup();
	for (i = 0; i < 300; i++)
		seal(&prop, false, &s[i]);
	CHECK(open_s(&acc, &s[0]) == AUTH_OK);
	CHECK(open_s(&acc, &s[299]) == AUTH_OK);
	CHECK(open_s(&acc, &s[299]) == AUTH_REPLAY);
	CHECK(open_s(&acc, &s[100]) == AUTH_OK);
	CHECK(open_s(&acc, &s[100]) == AUTH_REPLAY);
	CHECK(open_s(&acc, &s[0]) == AUTH_REPLAY);
#undef C
}

static void
test_epoch(void)
{
	static struct sealed old, cur, next_e, stale;

	setup();
	seal(&prop, false, &stale);		/* epoch 50, counter 1 */
	seal(&prop, false, &cur);		/* epoch 50, counter 2 */
	CHECK(open_s(&acc, &cur) == AUTH_OK);

	/* A restart that went back in time: refused as a replay. */
	auth_init(&prop, secret, AUTH_PROPOSER, 1, 40);
	seal(&prop, false, &old);
	CHECK(get64(old.b + 14) == 1);
	CHECK(open_s(&acc, &old) == AUTH_REPLAY);

	/* A later start counts from 1 again, and is accepted. */
	auth_init(&prop, secret, AUTH_PROPOSER, 1, 60);
	seal(&prop, false, &next_e);
	CHECK(get64(next_e.b + 6) == 60 && get64(next_e.b + 14) == 1);
	CHECK(open_s(&acc, &next_e) == AUTH_OK);
	CHECK(open_s(&acc, &next_e) == AUTH_REPLAY);
	/* Late datagrams of the earlier run are now replays. */
	CHECK(open_s(&acc, &stale) == AUTH_REPLAY);
	CHECK(acc.dropped[AUTH_REPLAY] == 3);
}

static void
test_members(void)
{
	static struct sealed s;
	uint8_t pt[CT_MAX];
	struct auth_peer from;
	size_t ptlen;
	unsigned i, bad;

	setup();
	/* Learner 3 was never added to the acceptor's members. */
	auth_init(&lrn, secret, AUTH_LEARNER, 3, 70);
	seal(&lrn, false, &s);
	CHECK(open_exact(&acc, s.b, s.len, &from, pt, &ptlen) ==
	    AUTH_UNKNOWN);
	CHECK(acc.dropped[AUTH_UNKNOWN] == 1);
	/* Nor proposer 3: the role and the id must both match. */
	auth_init(&lrn, secret, AUTH_PROPOSER, 3, 70);
	seal(&lrn, false, &s);
	CHECK(open_s(&acc, &s) == AUTH_UNKNOWN);
	CHECK(auth_add_member(&acc, AUTH_LEARNER, 3) == 0);
	CHECK(open_s(&acc, &s) == AUTH_UNKNOWN);
	auth_init(&lrn, secret, AUTH_LEARNER, 3, 70);
	seal(&lrn, false, &s);
	CHECK(open_s(&acc, &s) == AUTH_OK);
	CHECK(acc.dropped[AUTH_UNKNOWN] == 3);

	/* The member table is bounded. */
	bad = 0;
	for (i = acc.n_members; i < AUTH_MAX_MEMBERS; i++)
		if (auth_add_member(&acc, AUTH_LEARNER, 100 + i) != 0)
			bad++;
	CHECK(bad == 0 && acc.n_members == AUTH_MAX_MEMBERS);
	CHECK(auth_add_member(&acc, AUTH_LEARNER, 999) == -1);
	auth_free(&lrn);
}

static void
test_client(void)
{
	static struct sealed s;
	uint8_t pt[CT_MAX];
	struct auth_peer from;
	size_t ptlen;

	setup();
	auth_init(&cli, secret, AUTH_CLIENT, 0x12345678, 80);
	CHECK(cli.is_client);
	CHECK(auth_add_member(&cli, AUTH_PROPOSER, 1) == 0);

	/* A client needs no add_member: any session may submit. */
	seal(&cli, false, &s);
	CHECK(s.b[1] == AUTH_CLIENT);
	CHECK(open_exact(&prop, s.b, s.len, &from, pt, &ptlen) == AUTH_OK);
	CHECK(from.role == AUTH_CLIENT && from.id == 0x12345678);
	CHECK(ptlen == sizeof(payload) &&
	    memcmp(pt, payload, sizeof(payload)) == 0);
	CHECK(open_s(&prop, &s) == AUTH_REPLAY);

	/* The reply goes under the client key. */
	seal(&prop, true, &s);
	CHECK(open_exact(&cli, s.b, s.len, &from, pt, &ptlen) == AUTH_OK);
	CHECK(from.role == AUTH_PROPOSER && from.id == 1);
	/* Member traffic is closed to a client. */
	seal(&prop, false, &s);
	CHECK(open_s(&cli, &s) == AUTH_FORGED);
	CHECK(cli.dropped[AUTH_FORGED] == 1);

	/*
	 * A client claiming a member role in the header: it can only seal
	 * with the client key, which members do not take for member roles.
	 */
	auth_init(&cli, secret, AUTH_CLIENT, 1, 80);
	cli.role = AUTH_PROPOSER;
	seal(&cli, false, &s);
	CHECK(s.b[1] == AUTH_PROPOSER && s.b[2] == 1);
	CHECK(open_s(&acc, &s) == AUTH_FORGED);
	CHECK(open_s(&prop, &s) == AUTH_FORGED);
	/* Even when it says "to a client". */
	seal(&cli, true, &s);
	CHECK(open_s(&acc, &s) == AUTH_FORGED);
	/* Nor can it rewrite a member's header as its own. */
	seal(&acc, false, &s);
	s.b[1] = AUTH_CLIENT;
	CHECK(open_s(&prop, &s) == AUTH_FORGED);
	CHECK(acc.dropped[AUTH_FORGED] == 2 && prop.dropped[AUTH_FORGED] == 2);
	auth_free(&cli);
}

static void
test_client_windows(void)
{
	static struct sealed first, s;
	unsigned i, bad = 0;

	setup();
	auth_init(&cli, secret, AUTH_CLIENT, 1000, 5);
	seal(&cli, false, &first);
	CHECK(open_s(&prop, &first) == AUTH_OK);
	/* Many sessions, each a window of its own. */
	for (i = 0; i < AUTH_CLIENTS; i++) {
		auth_init(&cli, secret, AUTH_CLIENT, 2000 + i, 6);
		seal(&cli, false, &s);
		if (open_s(&prop, &s) != AUTH_OK)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(open_s(&prop, &s) == AUTH_REPLAY);
	/*
	 * The first session's window was evicted (LRU) to make room: its
	 * datagram opens once more (auth.c says why that is harmless), and
	 * is then a replay again.
	 */
	CHECK(open_s(&prop, &first) == AUTH_OK);
	CHECK(open_s(&prop, &first) == AUTH_REPLAY);
	auth_free(&cli);
}

static void
test_names(void)
{
	CHECK(strcmp(auth_drop_name(AUTH_OK), "ok") == 0);
	CHECK(strcmp(auth_drop_name(AUTH_MALFORMED), "malformed") == 0);
	CHECK(strcmp(auth_drop_name(AUTH_FORGED), "forged") == 0);
	CHECK(strcmp(auth_drop_name(AUTH_REPLAY), "replay") == 0);
	CHECK(strcmp(auth_drop_name(AUTH_UNKNOWN), "unknown sender") == 0);
	CHECK(strcmp(auth_drop_name((enum auth_drop)99), "?") == 0);

	/* auth_free leaves no key behind. */
	setup();
	auth_free(&prop);
	CHECK(sodium_is_zero(prop.member_key, sizeof(prop.member_key)) &&
	    sodium_is_zero(prop.client_key, sizeof(prop.client_key)));
	auth_free(&acc);
}

int
main(void)
{
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	test_round_trip();
	test_nonce();
	test_tamper();
	test_replay();
	test_epoch();
	test_members();
	test_client();
	test_client_windows();
	test_names();
	return done_testing();
}
