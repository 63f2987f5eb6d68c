/* Client role: in-order submission with retransmission and redirects. */
#include <string.h>

#include "auth.h"
#include "client.h"

/* Room kept for a SUBMIT's header when packing values. */
#define HEADER_ROOM	64
/* How soon values the leader had no room for go again. */
#define BUSY_RETRY_MS	2

void
client_init(struct client *c, uint64_t session, const uint32_t *prop_ids,
    unsigned n_prop, unsigned window, unsigned timeout_ms,
    struct client_value *v, uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->session = session;
	c->n_prop = n_prop < CLIENT_MAX_PROP ? n_prop : CLIENT_MAX_PROP;
	memcpy(c->proposers, prop_ids, c->n_prop * sizeof(prop_ids[0]));
	c->window = window;
	c->timeout_ms = timeout_ms;
	c->v = v;
	c->next_seq = 1;
	c->heard_ms = now_ms;
}

bool
client_has_room(const struct client *c)
{
	return c->n < c->window && (c->n == 0 || c->bytes < CLIENT_BYTES_MAX);
}

bool
client_idle(const struct client *c)
{
	return c->n == 0;
}

static struct client_value *
at(const struct client *c, unsigned i)
{
	return &c->v[(c->head + i) % c->window];
}

/*
 * Send every value marked to go, packed into as few SUBMITs as fit: a
 * client that has many values ready sends them in one datagram.
 */
void
client_flush(struct client *c, uint64_t now, struct outbox *ob)
{
	struct msg *m = NULL;
	size_t used = 0, need;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		struct client_value *cv = at(c, i);
		if (cv->committed || !cv->due)
			continue;
		need = 1 + 8 + 8 + 8 + 4 + cv->len;
		if (m != NULL && (m->n == MSG_MAX_ENTRIES ||
		    used + need > MSG_MAX - HEADER_ROOM))
			m = NULL;
		if (m == NULL) {
			m = outbox_add(ob, AUTH_PROPOSER,
			    c->proposers[c->target], 0, MSG_SUBMIT);
			if (m == NULL)
				return;		/* the rest on the next tick */
			m->client = c->session;
			used = 0;
		}
		m->e[m->n].slot = 0;
		m->e[m->n].e = (struct entry){ ENTRY_VALUE, c->session,
		    cv->seq, c->acked, cv->len, cv->val };
		m->n++;
		used += need;
		cv->due = false;
		cv->sent_ms = now;
	}
}

static void
resend_all(struct client *c, uint64_t now, struct outbox *ob)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		at(c, i)->due = true;
	client_flush(c, now, ob);
}

void
client_submit(struct client *c, const uint8_t *val, uint32_t len,
    uint64_t line, uint64_t now)
{
	struct client_value *cv = at(c, c->n);

	c->n++;
	c->bytes += len;
	cv->seq = c->next_seq++;
	cv->line = line;
	cv->len = len;
	memcpy(cv->val, val, len);
	cv->committed = false;
	cv->position = 0;
	cv->first_ms = cv->sent_ms = now;
	cv->due = true;
}

void
client_receive(struct client *c, uint64_t now, const struct msg *m,
    struct outbox *ob)
{
	uint64_t first;
	unsigned i, k;

	if (m->type != MSG_REPLY || m->client != c->session)
		return;
	c->heard_ms = now;
	if (m->status == REPLY_REDIRECT) {
		/*
		 * Follow a redirect at most every quarter timeout: two
		 * proposers that each name the other would otherwise bounce
		 * every value in flight between them as fast as the network
		 * goes.
		 */
		if (now < c->switched_ms + c->timeout_ms / 4 + 1)
			return;
		for (k = 0; k < c->n_prop; k++) {
			if (c->proposers[k] != m->leader || k == c->target)
				continue;
			c->target = k;
			c->switched_ms = now;
			resend_all(c, now, ob);
		}
		return;
	}
	if (m->status == REPLY_BUSY) {
		/* The leader is there but full: try again shortly. */
		for (i = 0; i < c->n; i++) {
			struct client_value *cv = at(c, i);
			if (!cv->committed && cv->sent_ms + c->timeout_ms / 2 >
			    now + BUSY_RETRY_MS)
				cv->sent_ms = now + BUSY_RETRY_MS -
				    c->timeout_ms / 2;
		}
		return;
	}
	if (m->status != REPLY_OK || c->n == 0)
		return;
	/* The window holds consecutive seqs, from the oldest on. */
	first = at(c, 0)->seq;
	for (k = 0; k < m->n; k++) {
		struct client_value *cv;
		if (m->e[k].e.seq < first || m->e[k].e.seq - first >= c->n)
			continue;
		cv = at(c, (unsigned)(m->e[k].e.seq - first));
		if (!cv->committed) {
			cv->committed = true;
			cv->position = m->e[k].slot;
		}
	}
}

void
client_tick(struct client *c, uint64_t now, struct outbox *ob)
{
	unsigned i;

	if (c->n == 0) {
		c->heard_ms = now;
		return;
	}
	/* A proposer that says nothing for a timeout: try the next. */
	if (now >= c->heard_ms + c->timeout_ms) {
		c->target = (c->target + 1) % c->n_prop;
		c->heard_ms = c->switched_ms = now;
		resend_all(c, now, ob);
		return;
	}
	for (i = 0; i < c->n; i++) {
		struct client_value *cv = at(c, i);
		if (!cv->committed && now >= cv->sent_ms + c->timeout_ms / 2 + 1)
			cv->due = true;
	}
	client_flush(c, now, ob);
}

const struct client_value *
client_oldest(const struct client *c)
{
	return c->n > 0 ? at(c, 0) : NULL;
}

bool
client_retire(struct client *c, struct client_value *out)
{
	struct client_value *cv;

	if (c->n == 0 || !(cv = at(c, 0))->committed)
		return false;
	*out = *cv;
	c->acked = cv->seq;
	c->head = (c->head + 1) % c->window;
	c->n--;
	c->bytes -= cv->len;
	return true;
}
