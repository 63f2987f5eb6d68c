/*
 * paxos_sim: a deterministic simulator for the protocol core.  It runs
 * the very acceptor, proposer, learner and client state machines of
 * lib/ over a simulated network and clock, driven by one seed: datagrams
 * lost, duplicated, delayed and reordered; processes crashed and
 * restarted (memory lost, disk kept); partitions that heal.  After every
 * step it checks the guarantees of SPEC.md section 4, and at the end of
 * a run, with the faults healed, that every value was committed and
 * every learner wrote the same log.  A failure prints its seed; the same
 * seed replays it exactly.
 *
 * usage: paxos_sim [-v] [-s first_seed] [-n seeds]
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptor.h"
#include "auth.h"
#include "client.h"
#include "learner.h"
#include "msg.h"
#include "proposer.h"

#define MAX_ACC		5
#define MAX_PROP	3
#define MAX_LRN		2
#define MAX_CLI		3
#define MAX_NODES	(MAX_ACC + MAX_PROP + MAX_LRN + MAX_CLI)
#define SLOTS		4096		/* log positions the sim tracks */
#define SIM_VAL		24		/* bytes of a simulated value */
#define VALUES		25		/* values each client submits */
#define OUTBOX		512
#define TIMEOUT_MS	50
#define LEARN_MS	50
#define FAULT_MS	3000		/* faults happen in this first part */
#define END_MS		60000		/* liveness: all done by then */
#define COMMIT_WALK	4096

enum kind { ACC, PROP, LRN, CLI };

struct dgram {
	uint64_t	 at;		/* delivery time */
	int		 from, to;	/* node indexes */
	size_t		 len;
	uint8_t		*buf;
};

struct sim_slot {
	bool		 has;
	struct ballot	 b;
	uint8_t		 kind;
	uint64_t	 client, seq, acked;
	uint32_t	 len;
	uint8_t		 val[SIM_VAL];
};

struct sim_acc {
	struct acceptor	 mem, disk;
	struct sim_slot	*mem_slots, *disk_slots;
	uint64_t	 dirty[MSG_MAX_ENTRIES + COMMIT_WALK];
	unsigned	 n_dirty;
};

struct sim_lrn {
	struct learner	 l;
	uint64_t	 saved_pos;	/* the "disk" of the learner */
	struct lsession	*saved_sessions;
	uint64_t	 save_ms;
	int		 out_val[SLOTS];	/* value index written, -1 none */
};

struct sim_cli {
	struct client	 c;
	struct client_value v[8];
	uint8_t		 bufs[8][VALUE_MAX];
	unsigned	 next;		/* next value to submit, 0-based */
	uint64_t	 session;
	uint64_t	 submit_ms[VALUES];
	uint64_t	 ack_ms[VALUES];
	uint64_t	 ack_pos[VALUES];	/* 0: not acked */
};

struct node {
	enum kind	 kind;
	uint32_t	 id;		/* acceptor, proposer or learner id */
	bool		 up;
	int		 side;		/* partition side */
	int		 idx;		/* index within its kind */
};

struct sim {
	uint64_t	 seed, rng;
	bool		 verbose;
	unsigned	 n_acc, n_prop, n_lrn, n_cli;
	unsigned	 quorum;
	uint64_t	 now;
	long		 step;
	struct node	 nodes[MAX_NODES];
	unsigned	 n_nodes;
	struct sim_acc	 acc[MAX_ACC];
	struct proposer	*prop[MAX_PROP];
	uint64_t	 prop_round[MAX_PROP];	/* a proposer's "disk" */
	struct sim_lrn	*lrn;
	struct sim_cli	*cli;
	struct dgram	*net;
	size_t		 n_net, cap_net;
	/* fault knobs of this seed */
	unsigned	 p_drop, p_dup, max_delay;	/* percent, ms */
	unsigned	 p_crash;	/* per mille per ms */
	/* what is known chosen at each slot: value index, or -1 */
	int		 chosen[SLOTS];
	/* faults injected */
	unsigned long	 n_crash, n_partition, n_dropped, n_duped;
	struct out	*outs;
	struct outbox	 ob;
	uint8_t		 enc[MSG_MAX];
	struct msg	 in, reply;
	uint8_t		*prop_vals, *lrn_vals;
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rnd(struct sim *s, unsigned n)
{
	return n == 0 ? 0 : (unsigned)(splitmix64(&s->rng) % n);
}

static int
fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "paxos_sim: seed %" PRIu64 " step %ld t=%" PRIu64
	    "ms: ", s->seed, s->step, s->now);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -1;
}

/* Value index of a client value: client * VALUES + seq - 1. */
static int
value_index(struct sim *s, uint64_t client, uint64_t seq)
{
	unsigned i;

	for (i = 0; i < s->n_cli; i++)
		if (s->cli[i].session == client && seq >= 1 && seq <= VALUES)
			return (int)(i * VALUES + seq - 1);
	return -2;	/* not a value any client submitted */
}

static void
value_bytes(unsigned cli, uint64_t seq, uint8_t *buf, uint32_t *len)
{
	*len = (uint32_t)snprintf((char *)buf, SIM_VAL, "c%u-v%" PRIu64, cli,
	    seq);
}

/*
 * Value index of what a slot or a learner holds, its bytes checked too:
 * -2 when no client submitted it.
 */
static int
value_of(struct sim *s, uint64_t client, uint64_t seq, const uint8_t *val,
    uint32_t len)
{
	uint8_t want[SIM_VAL];
	uint32_t wlen;
	int v = value_index(s, client, seq);

	if (v < 0)
		return v;
	value_bytes((unsigned)v / VALUES + 1, seq, want, &wlen);
	if (len != wlen || memcmp(val, want, wlen) != 0)
		return -2;
	return v;
}

/* The network. */

static void
net_add(struct sim *s, int from, int to, const uint8_t *buf, size_t len)
{
	struct dgram *d;

	if (s->n_net == s->cap_net) {
		s->cap_net = s->cap_net ? s->cap_net * 2 : 256;
		s->net = realloc(s->net, s->cap_net * sizeof(*s->net));
		if (s->net == NULL)
			abort();
	}
	d = &s->net[s->n_net++];
	d->at = s->now + 1 + rnd(s, s->max_delay + 1);
	d->from = from;
	d->to = to;
	d->len = len;
	if ((d->buf = malloc(len)) == NULL)
		abort();
	memcpy(d->buf, buf, len);
}

static void
transmit(struct sim *s, int from, int to, const uint8_t *buf, size_t len)
{
	if (!s->nodes[to].up || s->nodes[from].side != s->nodes[to].side ||
	    rnd(s, 100) < s->p_drop) {
		s->n_dropped++;
		return;
	}
	net_add(s, from, to, buf, len);
	if (rnd(s, 100) < s->p_dup) {
		s->n_duped++;
		net_add(s, from, to, buf, len);
	}
}

static int
node_of(struct sim *s, enum kind k, uint32_t id)
{
	unsigned i;

	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].kind == k && s->nodes[i].id == id)
			return (int)i;
	return -1;
}

static enum kind
kind_of_role(uint8_t role)
{
	return role == AUTH_ACCEPTOR ? ACC : role == AUTH_PROPOSER ? PROP :
	    role == AUTH_LEARNER ? LRN : CLI;
}

static uint8_t
role_of_kind(enum kind k)
{
	return k == ACC ? AUTH_ACCEPTOR : k == PROP ? AUTH_PROPOSER :
	    k == LRN ? AUTH_LEARNER : AUTH_CLIENT;
}

/* The id a receiver sees: clients have none of the cluster's. */
static uint32_t
sender_id(const struct node *from)
{
	return from->kind == CLI ? 0 : from->id;
}

/* Encode each message once, as the real shell does, and send it. */
static void
flush(struct sim *s, int from)
{
	unsigned i, j;
	size_t len;

	/* A proposer's round reaches its disk before its messages leave. */
	if (s->nodes[from].kind == PROP &&
	    s->prop[s->nodes[from].idx]->ballot.round >
	    s->prop_round[s->nodes[from].idx])
		s->prop_round[s->nodes[from].idx] =
		    s->prop[s->nodes[from].idx]->ballot.round;

	for (i = 0; i < s->ob.n; i++) {
		const struct out *o = &s->ob.o[i];
		len = msg_encode(&o->m, s->enc, sizeof(s->enc));
		if (len == 0)
			continue;
		if (o->role == AUTH_CLIENT) {
			for (j = 0; j < s->n_cli; j++)
				if (s->cli[j].session == o->client)
					transmit(s, from, node_of(s, CLI, j + 1),
					    s->enc, len);
			continue;
		}
		for (j = 0; j < s->n_nodes; j++) {
			struct node *nd = &s->nodes[j];
			if (nd->kind != kind_of_role(o->role) ||
			    (int)j == from || (o->id != 0 && nd->id != o->id))
				continue;
			transmit(s, from, (int)j, s->enc, len);
		}
	}
	s->ob.n = 0;
}

static void
reply_to(struct sim *s, int from, int to, const struct msg *m)
{
	size_t len = msg_encode(m, s->enc, sizeof(s->enc));

	if (len > 0)
		transmit(s, from, to, s->enc, len);
}

/* Acceptors: lib/acceptor.c plus the storage the shell gives it. */

static void
acc_put(struct sim_acc *a, uint64_t slot, struct ballot b,
    const struct entry *e)
{
	struct sim_slot *ss = &a->mem_slots[slot];

	ss->has = true;
	ss->b = b;
	ss->kind = e->kind;
	ss->client = e->client;
	ss->seq = e->seq;
	ss->acked = e->acked;
	ss->len = e->len < SIM_VAL ? e->len : SIM_VAL;
	if (ss->len > 0)
		memcpy(ss->val, e->val, ss->len);
	if (a->n_dirty < sizeof(a->dirty) / sizeof(a->dirty[0]))
		a->dirty[a->n_dirty++] = slot;
}

static int check_chosen(struct sim *, uint64_t);

/* "Sync": what memory holds reaches the disk, then replies may go. */
static int
acc_sync(struct sim *s, struct sim_acc *a)
{
	unsigned i;

	a->disk = a->mem;
	for (i = 0; i < a->n_dirty; i++)
		a->disk_slots[a->dirty[i]] = a->mem_slots[a->dirty[i]];
	for (i = 0; i < a->n_dirty; i++)
		if (check_chosen(s, a->dirty[i]) == -1)
			return -1;
	a->n_dirty = 0;
	return 0;
}

static void
acc_fill(struct sim_acc *a, uint64_t from, uint64_t end, struct msg *out)
{
	struct slot_entry se;
	size_t used = 0;
	uint64_t slot;

	out->next = SLOT_NONE;
	for (slot = from; slot < SLOTS && slot <= a->mem.max_slot; slot++) {
		struct sim_slot *ss = &a->mem_slots[slot];
		if (!ss->has)
			continue;
		if (slot >= end) {
			out->next = end;
			return;
		}
		se.slot = slot;
		se.ballot = ss->b;
		se.chosen = slot < a->mem.commit;
		se.e = (struct entry){ ss->kind, ss->client, ss->seq, ss->acked,
		    ss->len, ss->val };
		if (!acceptor_fill(out, &used, &se)) {
			out->next = slot;
			return;
		}
	}
}

static void
acc_mark(struct sim_acc *a, struct ballot b, uint64_t upto)
{
	unsigned walked;

	for (walked = 0; walked < COMMIT_WALK && a->mem.commit < upto &&
	    a->mem.commit < SLOTS; walked++) {
		struct sim_slot *ss = &a->mem_slots[a->mem.commit];
		if (!acceptor_commit_slot(&a->mem, b, upto, a->mem.commit,
		    ss->has ? ss->b : (struct ballot){ 0, 0 }, false))
			break;
	}
}

static int
acc_deliver(struct sim *s, int self, int from, const struct msg *m)
{
	struct sim_acc *a = &s->acc[s->nodes[self].idx];
	struct acceptor_fx fx;
	uint64_t end;
	unsigned i;

	switch (m->type) {
	case MSG_PREPARE:
		acceptor_prepare(&a->mem, m, &fx);
		if (fx.out.type == MSG_PROMISE) {
			end = m->count == 0 ? SLOT_NONE : m->slot + m->count;
			acc_fill(a, m->slot, end, &fx.out);
		}
		break;
	case MSG_ACCEPT:
		for (i = 0; i < m->n; i++) {
			const struct entry *e = &m->e[i].e;
			if (m->e[i].slot >= SLOTS)
				return fail(s, "slot %" PRIu64 " beyond the sim",
				    m->e[i].slot);
			/* Only what clients sent is ever proposed. */
			if (e->kind != ENTRY_NOOP && value_of(s, e->client,
			    e->seq, e->val, e->len) == -2)
				return fail(s, "validity: slot %" PRIu64 " was "
				    "proposed a value no client submitted",
				    m->e[i].slot);
		}
		acceptor_accept(&a->mem, m, &fx);
		if (fx.out.type == MSG_ACCEPTED) {
			for (i = 0; i < m->n; i++)
				acc_put(a, m->e[i].slot, m->ballot,
				    &m->e[i].e);
			acc_mark(a, m->ballot, m->commit);
		}
		break;
	case MSG_COMMIT:
		acc_mark(a, m->ballot, m->commit);
		return acc_sync(s, a);
	case MSG_LEARN_REQ:
		msg_init(&fx.out, MSG_LEARN_REP);
		fx.out.slot = m->slot;
		fx.out.max_slot = a->mem.max_slot;
		fx.out.commit = a->mem.commit;
		fx.out.seq = m->seq;
		end = m->count == 0 ? SLOT_NONE : m->slot + m->count;
		acc_fill(a, m->slot, end, &fx.out);
		fx.reply = true;
		break;
	default:
		return 0;
	}
	/* A crash here loses what was not synced, and the reply with it. */
	if (s->now < FAULT_MS && rnd(s, 1000) < s->p_crash) {
		s->nodes[self].up = false;
		s->n_crash++;
		return 0;
	}
	if (acc_sync(s, a) == -1)
		return -1;
	reply_to(s, self, from, &fx.out);
	return 0;
}

/*
 * Safety at the source: once a quorum of disks accepted one ballot at a
 * slot, that value is chosen there, and it must never change.
 */
static int
check_chosen(struct sim *s, uint64_t slot)
{
	unsigned i, j, n;
	int v;

	for (i = 0; i < s->n_acc; i++) {
		struct sim_slot *si = &s->acc[i].disk_slots[slot];
		if (!si->has)
			continue;
		for (n = 0, j = 0; j < s->n_acc; j++) {
			struct sim_slot *sj = &s->acc[j].disk_slots[slot];
			if (sj->has && ballot_cmp(sj->b, si->b) == 0)
				n++;
		}
		if (n < s->quorum)
			continue;
		v = si->kind == ENTRY_NOOP ? -1 - 1000 :
		    value_of(s, si->client, si->seq, si->val, si->len);
		if (v == -2)
			return fail(s, "slot %" PRIu64 " chose a value no "
			    "client submitted", slot);
		if (s->chosen[slot] == -1)
			s->chosen[slot] = v;
		else if (s->chosen[slot] != v)
			return fail(s, "agreement: slot %" PRIu64 " chose %d "
			    "then %d", slot, s->chosen[slot], v);
	}
	return 0;
}

/* Learners and what they write. */

static int
lrn_write(struct sim *s, unsigned li)
{
	struct sim_lrn *sl = &s->lrn[li];
	struct learner *l = &sl->l;
	struct entry e;
	enum learner_verdict verdict;
	bool write;
	int v, prev;
	unsigned k;
	uint64_t p;

	while (learner_peek(l, &e, &verdict)) {
		write = verdict == LEARNER_WRITE;
		p = l->next;
		if (p >= SLOTS)
			return fail(s, "slot %" PRIu64 " beyond the sim", p);
		v = e.kind == ENTRY_NOOP ? -1 - 1000 :
		    value_of(s, e.client, e.seq, e.val, e.len);
		if (v == -2)
			return fail(s, "validity: learner %u took a value no "
			    "client submitted at %" PRIu64, li + 1, p);
		if (s->chosen[p] != -1 && s->chosen[p] != v)
			return fail(s, "agreement: learner %u took %d at %"
			    PRIu64 ", chosen is %d", li + 1, v, p,
			    s->chosen[p]);
		if (s->chosen[p] == -1)
			s->chosen[p] = v;
		if (write) {
			prev = sl->out_val[p];
			if (prev != -1 && prev != v)
				return fail(s, "learner %u wrote %d then %d "
				    "at %" PRIu64, li + 1, prev, v, p);
			sl->out_val[p] = v;
			/* Integrity and order within this learner's log. */
			for (k = 1; k < p; k++) {
				int w = sl->out_val[k];
				if (w == v)
					return fail(s, "integrity: learner %u "
					    "wrote value %d at %u and %" PRIu64,
					    li + 1, v, k, p);
				if (w >= 0 && w / VALUES == v / VALUES &&
				    w > v)
					return fail(s, "order: learner %u wrote"
					    " value %d after %d", li + 1, v, w);
			}
		}
		learner_advance(l);
	}
	return 0;
}

static void
lrn_save(struct sim *s, unsigned li)
{
	struct sim_lrn *sl = &s->lrn[li];

	sl->saved_pos = sl->l.next - 1;
	memcpy(sl->saved_sessions, sl->l.sessions, sizeof(sl->l.sessions));
	sl->save_ms = s->now;
}

static void
lrn_start(struct sim *s, unsigned li)
{
	struct sim_lrn *sl = &s->lrn[li];
	uint32_t ids[MAX_ACC];
	unsigned i;

	for (i = 0; i < s->n_acc; i++)
		ids[i] = (uint32_t)(i + 1);
	learner_init(&sl->l, ids, s->n_acc, LEARN_MS,
	    s->lrn_vals + (size_t)li * LEARNER_WINDOW * VALUE_MAX,
	    sl->saved_pos + 1, s->now);
	for (i = 0; i < LEARNER_SESSIONS; i++)
		if (sl->saved_sessions[i].client != 0)
			learner_restore_session(&sl->l,
			    sl->saved_sessions[i].client,
			    sl->saved_sessions[i].last,
			    sl->saved_sessions[i].used);
}

static void
prop_start(struct sim *s, unsigned pi)
{
	uint32_t acc[MAX_ACC], prop[MAX_PROP];
	unsigned i;

	for (i = 0; i < s->n_acc; i++)
		acc[i] = (uint32_t)(i + 1);
	for (i = 0; i < s->n_prop; i++)
		prop[i] = (uint32_t)(i + 1);
	proposer_init(s->prop[pi], (uint32_t)(pi + 1), acc, s->n_acc, prop,
	    s->n_prop, TIMEOUT_MS,
	    s->prop_vals + (size_t)pi * PROPOSER_VALBUF,
	    s->prop_round[pi], s->now);
}

static void
acc_restart(struct sim_acc *a)
{
	a->mem = a->disk;
	memcpy(a->mem_slots, a->disk_slots, SLOTS * sizeof(*a->mem_slots));
	a->n_dirty = 0;
}

/* Take a due datagram to node `to` off the network: false if none is. */
static bool
take_due(struct sim *s, int to, struct dgram *d)
{
	size_t k;

	for (k = 0; k < s->n_net; k++)
		if (s->net[k].to == to && s->net[k].at <= s->now) {
			*d = s->net[k];
			s->net[k] = s->net[--s->n_net];
			return true;
		}
	return false;
}

/*
 * As the daemon does: each datagram opened into the intake the proposer
 * hands out, and often several received (as many as are due, three
 * times in four) before one flush, so that messages wait in the outbox
 * while later datagrams come in.  The rest of the intake is scribbled
 * on first: a value read from a buffer in use by a later datagram shows.
 */
static int
prop_deliver(struct sim *s, struct dgram *first)
{
	static uint8_t own[MSG_MAX];
	struct proposer *p = s->prop[s->nodes[first->to].idx];
	struct dgram d = *first;
	struct node *from;
	uint8_t *in;
	int r = 0;

	do {
		from = &s->nodes[d.from];
		/* None free: the shell's own buffer, and values are copied. */
		if ((in = proposer_intake(p)) == NULL)
			in = own;
		memset(in + d.len, 0xa5, MSG_MAX - d.len);
		memcpy(in, d.buf, d.len);
		if (msg_decode(&s->in, in, d.len) == -1)
			r = fail(s, "a datagram did not decode");
		if (r == 0)
			proposer_receive(p, s->now,
			    (uint32_t)splitmix64(&s->rng),
			    role_of_kind(from->kind), sender_id(from), &s->in,
			    &s->ob);
		if (d.buf != first->buf)
			free(d.buf);	/* the caller frees the first */
	} while (r == 0 && rnd(s, 4) != 0 && take_due(s, first->to, &d));
	proposer_flush(p, s->now, &s->ob);
	flush(s, first->to);
	return r;
}

/* Deliver one datagram to its node. */
static int
deliver(struct sim *s, struct dgram *d)
{
	struct node *to = &s->nodes[d->to], *from = &s->nodes[d->from];
	uint8_t role = role_of_kind(from->kind);
	uint32_t fid = sender_id(from);
	int r;

	if (!to->up)
		return 0;
	if (to->kind == PROP)
		return prop_deliver(s, d);
	if (msg_decode(&s->in, d->buf, d->len) == -1)
		return fail(s, "a datagram did not decode");
	switch (to->kind) {
	case ACC:
		if (from->kind != PROP && !(from->kind == LRN &&
		    s->in.type == MSG_LEARN_REQ))
			return 0;
		return acc_deliver(s, d->to, d->from, &s->in);
	case PROP:
		return 0;	/* prop_deliver */
	case LRN:
		learner_receive(&s->lrn[to->idx].l, s->now, role, fid, &s->in,
		    &s->ob);
		flush(s, d->to);
		r = lrn_write(s, (unsigned)to->idx);
		learner_keep(&s->lrn[to->idx].l);
		return r;
	case CLI:
		client_receive(&s->cli[to->idx].c, s->now, &s->in, &s->ob);
		flush(s, d->to);
		return 0;
	}
	return 0;
}

static int
tick_clients(struct sim *s)
{
	struct client_value cv;
	unsigned i;
	uint8_t buf[SIM_VAL];
	uint32_t len;

	for (i = 0; i < s->n_cli; i++) {
		struct sim_cli *sc = &s->cli[i];
		int node = node_of(s, CLI, i + 1);
		while (client_retire(&sc->c, &cv)) {
			if (cv.position == 0 || cv.position >= SLOTS)
				return fail(s, "client %u: position %" PRIu64
				    " for seq %" PRIu64, i + 1, cv.position,
				    cv.seq);
			sc->ack_pos[cv.seq - 1] = cv.position;
			sc->ack_ms[cv.seq - 1] = s->now;
		}
		while (sc->next < VALUES && client_has_room(&sc->c) &&
		    rnd(s, 4) == 0) {
			value_bytes(i + 1, sc->next + 1, buf, &len);
			sc->submit_ms[sc->next] = s->now;
			client_submit(&sc->c, buf, len, sc->next + 1, s->now);
			sc->next++;
		}
		client_tick(&sc->c, s->now, &s->ob);
		flush(s, node);
	}
	return 0;
}

static void
faults(struct sim *s)
{
	unsigned i, down = 0;
	struct node *nd;

	if (s->now >= FAULT_MS) {
		/* Heal: everything up, one side. */
		for (i = 0; i < s->n_nodes; i++) {
			nd = &s->nodes[i];
			nd->side = 0;
			if (!nd->up) {
				nd->up = true;
				if (nd->kind == ACC)
					acc_restart(&s->acc[nd->idx]);
				else if (nd->kind == PROP)
					prop_start(s, (unsigned)nd->idx);
				else if (nd->kind == LRN)
					lrn_start(s, (unsigned)nd->idx);
			}
		}
		return;
	}
	if (rnd(s, 1000) < s->p_crash) {
		i = rnd(s, s->n_acc + s->n_prop + s->n_lrn);
		nd = &s->nodes[i];
		for (unsigned j = 0; j < s->n_acc; j++)
			down += !s->nodes[j].up;
		if (nd->up && (nd->kind != ACC || down < s->n_acc)) {
			nd->up = false;
			s->n_crash++;
		} else if (!nd->up) {
			nd->up = true;
			if (nd->kind == ACC)
				acc_restart(&s->acc[nd->idx]);
			else if (nd->kind == PROP)
				prop_start(s, (unsigned)nd->idx);
			else if (nd->kind == LRN)
				lrn_start(s, (unsigned)nd->idx);
		}
	}
	if (rnd(s, 2000) < 2) {
		/* Partition: each node lands on side 0 or 1; or heal. */
		s->n_partition++;
		for (i = 0; i < s->n_nodes; i++)
			s->nodes[i].side = rnd(s, 3) == 0 ? 1 : 0;
	} else if (rnd(s, 1000) < 2) {
		for (i = 0; i < s->n_nodes; i++)
			s->nodes[i].side = 0;
	}
}

static int
tick(struct sim *s)
{
	unsigned i;

	s->now++;
	faults(s);
	for (i = 0; i < s->n_nodes; i++) {
		struct node *nd = &s->nodes[i];
		if (!nd->up)
			continue;
		if (nd->kind == PROP) {
			proposer_tick(s->prop[nd->idx], s->now,
			    (uint32_t)splitmix64(&s->rng), &s->ob);
			flush(s, (int)i);
		} else if (nd->kind == LRN) {
			learner_tick(&s->lrn[nd->idx].l, s->now, &s->ob);
			flush(s, (int)i);
			if (s->now >= s->lrn[nd->idx].save_ms + 20)
				lrn_save(s, (unsigned)nd->idx);
		}
	}
	return tick_clients(s);
}

static bool
finished(struct sim *s)
{
	unsigned i, j, k;

	for (i = 0; i < s->n_cli; i++)
		if (s->cli[i].next < VALUES || !client_idle(&s->cli[i].c))
			return false;
	/* Every learner wrote every acknowledged value. */
	for (i = 0; i < s->n_cli; i++)
		for (k = 0; k < VALUES; k++)
			for (j = 0; j < s->n_lrn; j++) {
				uint64_t p = s->cli[i].ack_pos[k];
				if (s->lrn[j].l.next <= p)
					return false;
			}
	return true;
}

/* With all faults healed and all values in: check SPEC 4 end to end. */
static int
final_checks(struct sim *s)
{
	unsigned i, j, k, a, b;

	for (i = 0; i < s->n_cli; i++) {
		struct sim_cli *sc = &s->cli[i];
		for (k = 0; k < VALUES; k++) {
			uint64_t p = sc->ack_pos[k];
			int v = (int)(i * VALUES + k);
			for (j = 0; j < s->n_lrn; j++) {
				unsigned q, at = 0;
				if (s->lrn[j].out_val[p] == v)
					continue;
				for (q = 1; q < SLOTS; q++)
					if (s->lrn[j].out_val[q] == v)
						at = q;
				return fail(s, "client %u value %u "
				    "acknowledged at %" PRIu64 " but learner "
				    "%u wrote %d there (and it at %u)", i + 1,
				    k + 1, p, j + 1, s->lrn[j].out_val[p], at);
			}
		}
	}
	/* Real-time order: acked before submitted means written before. */
	for (a = 0; a < s->n_cli * VALUES; a++)
		for (b = 0; b < s->n_cli * VALUES; b++) {
			struct sim_cli *ca = &s->cli[a / VALUES];
			struct sim_cli *cb = &s->cli[b / VALUES];
			if (ca->ack_ms[a % VALUES] < cb->submit_ms[b % VALUES] &&
			    ca->ack_pos[a % VALUES] > cb->ack_pos[b % VALUES])
				return fail(s, "real-time order: value %u "
				    "acknowledged before value %u was "
				    "submitted, but written after it", a, b);
		}
	/* Learners agree position by position. */
	for (k = 1; k < SLOTS; k++)
		for (j = 1; j < s->n_lrn; j++)
			if (s->lrn[j].out_val[k] != s->lrn[0].out_val[k] &&
			    k < s->lrn[j].l.next && k < s->lrn[0].l.next)
				return fail(s, "learners 1 and %u differ at %u",
				    j + 1, k);
	return 0;
}

static void
dump(struct sim *s)
{
	unsigned i;

	for (i = 0; i < s->n_acc; i++)
		fprintf(stderr, "  acceptor %u: promised %" PRIu64 ".%" PRIu32
		    " commit %" PRIu64 " max %" PRIu64 "\n", i + 1,
		    s->acc[i].mem.promised.round, s->acc[i].mem.promised.node,
		    s->acc[i].mem.commit, s->acc[i].mem.max_slot);
	for (i = 0; i < s->n_prop; i++)
		fprintf(stderr, "  proposer %u: state %u ballot %" PRIu64 ".%"
		    PRIu32 " commit %" PRIu64 " next %" PRIu64 " learner %"
		    PRIu64 " recovering %d window %d scan %" PRIu64 "-%" PRIu64
		    "\n", i + 1, s->prop[i]->state, s->prop[i]->ballot.round,
		    s->prop[i]->ballot.node, s->prop[i]->commit,
		    s->prop[i]->next_slot, s->prop[i]->lrn.next,
		    s->prop[i]->recovering, s->prop[i]->window_open,
		    s->prop[i]->scan, s->prop[i]->scan_end);
	for (i = 0; i < s->n_lrn; i++) {
		uint64_t sl = s->lrn[i].l.next;
		unsigned j;
		fprintf(stderr, "  learner %u: next %" PRIu64 " commit %" PRIu64
		    " chosen there %d\n", i + 1, sl, s->lrn[i].l.commit,
		    sl < SLOTS ? s->chosen[sl] : -9);
		for (j = 0; j < s->n_acc && sl < SLOTS; j++) {
			struct sim_slot *ss = &s->acc[j].disk_slots[sl];
			fprintf(stderr, "    acceptor %u at %" PRIu64 ": has %d "
			    "ballot %" PRIu64 ".%" PRIu32 " kind %u seq %" PRIu64
			    "\n", j + 1, sl, ss->has, ss->b.round, ss->b.node,
			    ss->kind, ss->seq);
		}
	}
	for (i = 0; i < s->n_cli; i++)
		fprintf(stderr, "  client %u: next %u in flight %u acked %"
		    PRIu64 " target %u\n", i + 1, s->cli[i].next,
		    s->cli[i].c.n, s->cli[i].c.acked, s->cli[i].c.target);
}

/*
 * Run until done(s) holds (checked every 100 ms of simulated time) or the
 * clock reaches end: 1 done, 0 out of time, -1 a violation.
 */
static int
run_until(struct sim *s, uint64_t end, bool (*done)(struct sim *))
{
	unsigned pick, ready;
	struct dgram d;
	size_t k;
	int r;

	for (; s->now < end; s->step++) {
		/* Deliver a random datagram that is due, or let time pass. */
		for (ready = 0, k = 0; k < s->n_net; k++)
			if (s->net[k].at <= s->now)
				ready++;
		if (ready == 0 || rnd(s, 8) == 0) {
			if (tick(s) == -1)
				return -1;
			if (s->now > FAULT_MS && s->now % 100 == 0 && done(s))
				return 1;
			continue;
		}
		pick = rnd(s, ready);
		for (k = 0; k < s->n_net; k++)
			if (s->net[k].at <= s->now && pick-- == 0)
				break;
		d = s->net[k];
		s->net[k] = s->net[--s->n_net];
		r = deliver(s, &d);
		free(d.buf);
		if (r == -1)
			return -1;
	}
	return 0;
}

static bool
caught_up(struct sim *s)
{
	return s->lrn[1].l.next >= s->lrn[0].l.next;
}

/*
 * SPEC 4.5: every process of the cluster crashes at once and restarts
 * from its disk; a learner starting afresh writes the same log.
 */
static int
durability(struct sim *s)
{
	struct sim_lrn *sl = &s->lrn[1];
	unsigned i, k;
	int r;

	for (i = 0; i < s->n_acc; i++)
		acc_restart(&s->acc[i]);
	for (i = 0; i < s->n_prop; i++)
		prop_start(s, i);
	lrn_start(s, 0);
	sl->saved_pos = 0;
	memset(sl->saved_sessions, 0,
	    LEARNER_SESSIONS * sizeof(struct lsession));
	for (k = 0; k < SLOTS; k++)
		sl->out_val[k] = -1;
	lrn_start(s, 1);
	for (k = 0; k < s->n_net; k++)
		free(s->net[k].buf);
	s->n_net = 0;
	if ((r = run_until(s, s->now + 20000, caught_up)) != 1)
		return r == -1 ? -1 : fail(s, "durability: a fresh learner "
		    "did not catch up after every process restarted");
	for (k = 1; k < s->lrn[0].l.next; k++)
		if (s->lrn[0].out_val[k] != sl->out_val[k])
			return fail(s, "durability: after a restart of every "
			    "process, a fresh learner wrote %d at %u where %d "
			    "was", sl->out_val[k], k, s->lrn[0].out_val[k]);
	return 0;
}

static int
run(struct sim *s)
{
	unsigned i;
	int r;

	s->step = 0;
	if ((r = run_until(s, END_MS, finished)) == 1) {
		if (final_checks(s) == -1)
			return -1;
		return durability(s);
	}
	if (r == -1)
		return -1;
#ifdef PAXOS_BROKEN_QUORUM
	/* Quorums that need not meet may stall; the self-test is for safety. */
	return 0;
#endif
	dump(s);
	for (i = 0; i < s->n_cli; i++)
		if (s->cli[i].next < VALUES || !client_idle(&s->cli[i].c))
			return fail(s, "liveness: client %u still has values "
			    "in flight after the faults healed", i + 1);
	return fail(s, "liveness: learners did not catch up");
}

static void
setup(struct sim *s, uint64_t seed)
{
	unsigned i, n = 0;

	s->seed = seed;
	s->rng = seed;
	s->now = 0;
	s->n_acc = rnd(s, 2) ? 3 : 5;
	s->n_prop = 2 + rnd(s, 2);
	s->n_lrn = 2;
	s->n_cli = 2 + rnd(s, 2);
	s->quorum = s->n_acc / 2 + 1;
	s->p_drop = rnd(s, 25);
	s->p_dup = rnd(s, 10);
	s->max_delay = rnd(s, 30);
	s->p_crash = rnd(s, 4);
	s->n_crash = s->n_partition = s->n_dropped = s->n_duped = 0;
	for (i = 0; i < SLOTS; i++)
		s->chosen[i] = -1;
	for (i = 0; i < s->n_net; i++)
		free(s->net[i].buf);
	s->n_net = 0;
	for (i = 0; i < s->n_acc; i++, n++) {
		s->nodes[n] = (struct node){ ACC, i + 1, true, 0, (int)i };
		acceptor_init(&s->acc[i].mem, i + 1);
		s->acc[i].disk = s->acc[i].mem;
		memset(s->acc[i].mem_slots, 0, SLOTS * sizeof(struct sim_slot));
		memset(s->acc[i].disk_slots, 0, SLOTS * sizeof(struct sim_slot));
		s->acc[i].n_dirty = 0;
	}
	for (i = 0; i < s->n_prop; i++, n++) {
		s->nodes[n] = (struct node){ PROP, i + 1, true, 0, (int)i };
		s->prop_round[i] = 0;
		prop_start(s, i);
	}
	for (i = 0; i < s->n_lrn; i++, n++) {
		s->nodes[n] = (struct node){ LRN, i + 1, true, 0, (int)i };
		s->lrn[i].saved_pos = 0;
		memset(s->lrn[i].saved_sessions, 0,
		    LEARNER_SESSIONS * sizeof(struct lsession));
		for (unsigned k = 0; k < SLOTS; k++)
			s->lrn[i].out_val[k] = -1;
		s->lrn[i].save_ms = 0;
		lrn_start(s, i);
	}
	for (i = 0; i < s->n_cli; i++, n++) {
		uint32_t prop[MAX_PROP];
		struct sim_cli *sc = &s->cli[i];
		unsigned j;
		s->nodes[n] = (struct node){ CLI, i + 1, true, 0, (int)i };
		for (j = 0; j < s->n_prop; j++)
			prop[j] = j + 1;
		for (j = 0; j < 8; j++)
			sc->v[j].val = sc->bufs[j];
		sc->session = splitmix64(&s->rng) | 1;
		sc->next = 0;
		memset(sc->ack_pos, 0, sizeof(sc->ack_pos));
		client_init(&sc->c, sc->session, prop, s->n_prop,
		    1 + rnd(s, 8), TIMEOUT_MS, sc->v, 0);
	}
	s->n_nodes = n;
}

int
main(int argc, char *argv[])
{
	static struct sim s;
	uint64_t first = 1, count = 1, seed;
	unsigned long crashes = 0, partitions = 0, dropped = 0, duped = 0;
	long steps = 0;
	unsigned i;
	int ch;

	while ((ch = getopt(argc, argv, "n:s:v")) != -1) {
		switch (ch) {
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 's':
			first = strtoull(optarg, NULL, 10);
			break;
		case 'v':
			s.verbose = true;
			break;
		default:
			fprintf(stderr, "usage: paxos_sim [-v] [-s seed] "
			    "[-n seeds]\n");
			return 64;
		}
	}
	s.outs = calloc(OUTBOX, sizeof(*s.outs));
	s.ob = (struct outbox){ 0, OUTBOX, 0, s.outs };
	s.prop_vals = malloc((size_t)MAX_PROP * PROPOSER_VALBUF);
	s.lrn_vals = malloc((size_t)MAX_LRN * LEARNER_WINDOW * VALUE_MAX);
	s.lrn = calloc(MAX_LRN, sizeof(*s.lrn));
	s.cli = calloc(MAX_CLI, sizeof(*s.cli));
	if (s.outs == NULL || s.prop_vals == NULL || s.lrn_vals == NULL ||
	    s.lrn == NULL || s.cli == NULL)
		return 71;
	for (i = 0; i < MAX_PROP; i++)
		if ((s.prop[i] = malloc(sizeof(*s.prop[i]))) == NULL)
			return 71;
	for (i = 0; i < MAX_LRN; i++)
		if ((s.lrn[i].saved_sessions = calloc(LEARNER_SESSIONS,
		    sizeof(struct lsession))) == NULL)
			return 71;
	for (i = 0; i < MAX_ACC; i++) {
		s.acc[i].mem_slots = calloc(SLOTS, sizeof(struct sim_slot));
		s.acc[i].disk_slots = calloc(SLOTS, sizeof(struct sim_slot));
		if (s.acc[i].mem_slots == NULL || s.acc[i].disk_slots == NULL)
			return 71;
	}
	for (seed = first; seed < first + count; seed++) {
		setup(&s, seed);
		if (run(&s) == -1)
			return 1;
		if (s.verbose)
			printf("seed %" PRIu64 ": %u acceptors %u proposers "
			    "%u clients, drop %u%% dup %u%% delay %ums, "
			    "%lu crashes %lu partitions, done at %" PRIu64
			    "ms, %ld steps\n", seed, s.n_acc, s.n_prop,
			    s.n_cli, s.p_drop, s.p_dup, s.max_delay,
			    s.n_crash, s.n_partition, s.now, s.step);
		crashes += s.n_crash;
		partitions += s.n_partition;
		dropped += s.n_dropped;
		duped += s.n_duped;
		steps += s.step;
	}
	printf("paxos_sim: %" PRIu64 " seeds from %" PRIu64 " passed: %lu "
	    "crashes, %lu partitions, %lu datagrams lost, %lu duplicated, "
	    "%ld steps\n", count, first, crashes, partitions, dropped, duped,
	    steps);
	for (i = 0; i < s.n_net; i++)
		free(s.net[i].buf);
	free(s.net);
	for (i = 0; i < MAX_ACC; i++) {
		free(s.acc[i].mem_slots);
		free(s.acc[i].disk_slots);
	}
	for (i = 0; i < MAX_LRN; i++)
		free(s.lrn[i].saved_sessions);
	for (i = 0; i < MAX_PROP; i++)
		free(s.prop[i]);
	free(s.cli);
	free(s.lrn);
	free(s.lrn_vals);
	free(s.prop_vals);
	free(s.outs);
	return 0;
}
