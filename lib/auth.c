/* Datagram sealing with libsodium's XChaCha20-Poly1305 AEAD. */
#include <string.h>

#include <sodium.h>

#include "auth.h"

/*
 * Members and clients get different keys derived from the cluster
 * secret, so that a submitter can be given the client key alone: with it
 * it can submit and ask for status, but neither read nor forge what
 * members say to each other.
 */
#define KDF_CONTEXT	"paxos-v1"
#define KDF_MEMBER	1
#define KDF_CLIENT	2

static void
put32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
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

void
auth_init(struct auth *a, const uint8_t secret[32], uint8_t role, uint32_t id,
    uint64_t epoch)
{
	memset(a, 0, sizeof(*a));
	crypto_kdf_derive_from_key(a->member_key, sizeof(a->member_key),
	    KDF_MEMBER, KDF_CONTEXT, secret);
	crypto_kdf_derive_from_key(a->client_key, sizeof(a->client_key),
	    KDF_CLIENT, KDF_CONTEXT, secret);
	a->role = role;
	a->id = id;
	a->epoch = epoch;
	a->is_client = role == AUTH_CLIENT;
}

void
auth_init_client(struct auth *a, const uint8_t client_key[32], uint32_t id,
    uint64_t epoch)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->client_key, client_key, sizeof(a->client_key));
	a->role = AUTH_CLIENT;
	a->id = id;
	a->epoch = epoch;
	a->is_client = true;
}

void
auth_client_key(const uint8_t secret[32], uint8_t client_key[32])
{
	crypto_kdf_derive_from_key(client_key, 32, KDF_CLIENT, KDF_CONTEXT,
	    secret);
}

void
auth_free(struct auth *a)
{
	sodium_memzero(a->member_key, sizeof(a->member_key));
	sodium_memzero(a->client_key, sizeof(a->client_key));
}

int
auth_add_member(struct auth *a, uint8_t role, uint32_t id)
{
	struct auth_window *w;

	if (a->n_members == AUTH_MAX_MEMBERS)
		return -1;
	w = &a->members[a->n_members++];
	memset(w, 0, sizeof(*w));
	w->role = role;
	w->id = id;
	w->live = true;
	return 0;
}

/* The nonce is unique per (sender, epoch, counter): never reused. */
static void
make_nonce(uint8_t nonce[24], const uint8_t *hdr)
{
	memset(nonce, 0, 24);
	memcpy(nonce, hdr + 6, 16);		/* epoch, counter */
	memcpy(nonce + 16, hdr + 1, 5);		/* role, id */
}

size_t
auth_seal(struct auth *a, bool to_client, const uint8_t *pt, size_t ptlen,
    uint8_t *out, size_t cap)
{
	uint8_t nonce[24];
	unsigned long long clen;
	const uint8_t *key;

	if (cap < AUTH_OVERHEAD || cap - AUTH_OVERHEAD < ptlen)
		return 0;
	a->counter++;
	out[0] = AUTH_VERSION;
	out[1] = a->role;
	put32(out + 2, a->id);
	put64(out + 6, a->epoch);
	put64(out + 14, a->counter);
	make_nonce(nonce, out);
	key = a->is_client || to_client ? a->client_key : a->member_key;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + AUTH_HDR_LEN, &clen,
	    pt, ptlen, out, AUTH_HDR_LEN, NULL, nonce, key);
	return AUTH_HDR_LEN + (size_t)clen;
}

static struct auth_window *
find_window(struct auth *a, uint8_t role, uint32_t id)
{
	struct auth_window *w, *oldest;
	unsigned i;
	int at;

	if (role != AUTH_CLIENT) {
		for (i = 0; i < a->n_members; i++) {
			w = &a->members[i];
			if (w->role == role && w->id == id)
				return w;
		}
		return NULL;
	}
	/* Indexed by id + 1: an id may be 0, an index key may not. */
	if ((at = session_index_find(&a->client_index, (uint64_t)id + 1)) >= 0)
		return &a->clients[at];
	oldest = &a->clients[0];
	for (i = 0; i < AUTH_CLIENTS; i++) {
		w = &a->clients[i];
		if (!w->live || w->used < oldest->used)
			oldest = w;
		if (!w->live)
			break;
	}
	session_index_replace(&a->client_index,
	    oldest->live ? (uint64_t)oldest->id + 1 : 0, (uint64_t)id + 1,
	    (unsigned)(oldest - a->clients));
	/*
	 * Forgetting the least recently heard client lets its old datagrams
	 * be taken once more.  That is harmless: a SUBMIT carries its
	 * session and seq, and the log filters a value it already holds; a
	 * STATUS_REQ changes nothing.  Refusing old epochs instead would
	 * let one client key holder lock every other client out.
	 */
	memset(oldest, 0, sizeof(*oldest));
	oldest->role = role;
	oldest->id = id;
	oldest->live = true;
	return oldest;
}

/* RFC 6479-style sliding window over the counter within one epoch. */
static bool
window_check(struct auth_window *w, uint64_t epoch, uint64_t ctr)
{
	uint64_t shift, i;

	if (epoch < w->epoch || ctr == 0)
		return false;
	if (epoch > w->epoch) {
		w->epoch = epoch;
		w->top = 0;
		memset(w->bits, 0, sizeof(w->bits));
	}
	if (ctr > w->top) {
		shift = ctr - w->top;
		if (shift >= AUTH_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			for (i = 0; i < shift; i++) {
				uint64_t c = w->top + 1 + i;
				w->bits[(c / 64) % (AUTH_WINDOW / 64)] &=
				    ~((uint64_t)1 << (c % 64));
			}
		}
		w->top = ctr;
	} else if (w->top - ctr >= AUTH_WINDOW) {
		return false;
	}
	i = (ctr / 64) % (AUTH_WINDOW / 64);
	if (w->bits[i] & ((uint64_t)1 << (ctr % 64)))
		return false;
	w->bits[i] |= (uint64_t)1 << (ctr % 64);
	return true;
}

enum auth_drop
auth_open(struct auth *a, const uint8_t *in, size_t len, uint8_t *pt,
    size_t *ptlen, struct auth_peer *from)
{
	uint8_t nonce[24], role;
	unsigned long long plen;
	const uint8_t *key;
	struct auth_window *w;
	enum auth_drop why;

	if (len < AUTH_OVERHEAD || in[0] != AUTH_VERSION) {
		why = AUTH_MALFORMED;
		goto drop;
	}
	role = in[1];
	if (role < AUTH_ACCEPTOR || role > AUTH_CLIENT) {
		why = AUTH_MALFORMED;
		goto drop;
	}
	/* A client key holder cannot open member traffic, nor forge it. */
	key = role == AUTH_CLIENT || a->is_client ? a->client_key :
	    a->member_key;
	make_nonce(nonce, in);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL,
	    in + AUTH_HDR_LEN, len - AUTH_HDR_LEN, in, AUTH_HDR_LEN, nonce,
	    key) != 0) {
		why = AUTH_FORGED;
		goto drop;
	}
	from->role = role;
	from->id = get32(in + 2);
	if ((w = find_window(a, role, from->id)) == NULL) {
		why = AUTH_UNKNOWN;
		goto drop;
	}
	w->used = ++a->stamp;
	if (!window_check(w, get64(in + 6), get64(in + 14))) {
		why = AUTH_REPLAY;
		goto drop;
	}
	*ptlen = (size_t)plen;
	return AUTH_OK;
drop:
	a->dropped[why]++;
	return why;
}

const char *
auth_drop_name(enum auth_drop d)
{
	static const char *const names[] = {
		"ok", "malformed", "forged", "replay", "unknown sender",
	};

	return d <= AUTH_UNKNOWN ? names[d] : "?";
}
