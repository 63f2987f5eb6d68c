/* The shell every program shares: config, secret, socket, peers. */
#define _GNU_SOURCE		/* sendmmsg */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "node.h"

static int	node_load(struct node *, const char *, const char *, uint8_t,
		    bool, bool, char *, size_t);

unsigned
node_conf_role(uint8_t auth_role)
{
	switch (auth_role) {
	case AUTH_ACCEPTOR:
		return ROLE_ACCEPTOR;
	case AUTH_PROPOSER:
		return ROLE_PROPOSER;
	case AUTH_LEARNER:
		return ROLE_LEARNER;
	default:
		return 0;
	}
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
node_now_ms(void)
{
	return mono_us() / 1000;
}

uint64_t
node_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
node_open(struct node *nd, const char *conffile, const char *idarg,
    uint8_t role, bool need_id, char *err, size_t errlen)
{
	return node_load(nd, conffile, idarg, role, need_id, false, err,
	    errlen);
}

int
node_check(struct node *nd, const char *conffile, const char *idarg,
    uint8_t role, char *err, size_t errlen)
{
	return node_load(nd, conffile, idarg, role, false, true, err, errlen);
}

static int
node_load(struct node *nd, const char *conffile, const char *idarg,
    uint8_t role, bool need_id, bool check_only, char *err, size_t errlen)
{
	const struct conf_node *cn;
	uint8_t secret[32];
	unsigned i, r, crole = node_conf_role(role);
	char buf[128];
	bool client_only;

	memset(nd, 0, sizeof(*nd));
	nd->fd = -1;
	nd->role = role;
	nd->started_ms = node_now_ms();
	if (conf_load(&nd->conf, conffile, err, errlen) == -1)
		return EX_CONFIG;
	if (crole != 0 && (idarg != NULL || nd->conf.myid != 0 || need_id)) {
		if (idarg == NULL && nd->conf.myid == 0) {
			snprintf(err, errlen, "no node id: give -i or set "
			    "myid in %s", conffile);
			return EX_USAGE;
		}
		if (conf_pick_id(&nd->conf, idarg, crole, &nd->id, err,
		    errlen) == -1)
			return EX_CONFIG;
	}
	if (conf_read_secret(&nd->conf, secret, &client_only, err,
	    errlen) == -1)
		return EX_CONFIG;
	if (client_only && role != AUTH_CLIENT) {
		sodium_memzero(secret, sizeof(secret));
		snprintf(err, errlen, "%s: a client key; members need the "
		    "cluster secret", nd->conf.secret_file);
		return EX_CONFIG;
	}
	if (check_only) {
		sodium_memzero(secret, sizeof(secret));
		return 0;
	}
	if (client_only)
		auth_init_client(&nd->auth, secret, nd->id, node_epoch());
	else
		auth_init(&nd->auth, secret, role, nd->id, node_epoch());
	sodium_memzero(secret, sizeof(secret));
	if (role == AUTH_CLIENT || nd->id == 0) {
		/* Any 32-bit id: the epoch keeps nonces apart. */
		nd->auth.id = nd->id = 0;
		while (nd->auth.id == 0)
			nd->auth.id = randombytes_random();
	}
	for (i = 0; i < nd->conf.n_nodes; i++) {
		cn = &nd->conf.nodes[i];
		for (r = AUTH_ACCEPTOR; r <= AUTH_LEARNER; r++) {
			if ((cn->roles & node_conf_role((uint8_t)r)) == 0)
				continue;
			if (net_resolve(cn->host, conf_port(cn,
			    node_conf_role((uint8_t)r)), &nd->addr[i][r - 1],
			    err, errlen) == -1)
				return EX_NOHOST;
			if (auth_add_member(&nd->auth, (uint8_t)r, cn->id) == -1) {
				snprintf(err, errlen, "too many members");
				return EX_SOFTWARE;
			}
		}
	}
	if (nd->id != 0) {
		i = (unsigned)(conf_node(&nd->conf, nd->id) - nd->conf.nodes);
		nd->self = nd->addr[i][role - 1];
	} else {
		/* Ephemeral port of the family of the first acceptor. */
		nd->self = nd->addr[0][AUTH_ACCEPTOR - 1];
		for (i = 0; i < nd->conf.n_nodes; i++)
			if (nd->conf.nodes[i].roles & ROLE_ACCEPTOR) {
				nd->self = nd->addr[i][AUTH_ACCEPTOR - 1];
				break;
			}
		/* Any address and port: the host may be any of ours. */
		if (nd->self.ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (void *)&nd->self.ss;
			s6->sin6_port = 0;
			s6->sin6_addr = in6addr_any;
		} else {
			struct sockaddr_in *s4 = (void *)&nd->self.ss;
			s4->sin_port = 0;
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		}
	}
	if ((nd->qbuf = malloc(NODE_QUEUE_BYTES)) == NULL) {
		snprintf(err, errlen, "malloc: %s", strerror(errno));
		return EX_OSERR;
	}
	if ((nd->fd = net_bind(&nd->self)) == -1) {
		snprintf(err, errlen, "bind %s: %s", net_ntop(&nd->self, buf,
		    sizeof(buf)), strerror(errno));
		return EX_OSERR;
	}
	return 0;
}

/* Replies go to clients, and only clients hold the client key alone. */
static bool
to_client(const struct msg *m)
{
	return m->type == MSG_REPLY || m->type == MSG_STATUS_REP;
}

void
node_close(struct node *nd)
{
	if (nd->fd != -1)
		close(nd->fd);
	nd->fd = -1;
	free(nd->qbuf);
	nd->qbuf = NULL;
	free(nd->rb);
	nd->rb = NULL;
	auth_free(&nd->auth);
}

int
node_queue(struct node *nd, const struct net_addr *to, const struct msg *m)
{
	struct node_queued *q;
	size_t len, sealed;

	if (nd->nq == NODE_QUEUE ||
	    NODE_QUEUE_BYTES - nd->qused < MSG_MAX + AUTH_OVERHEAD)
		return -1;
	if ((len = msg_encode(m, nd->enc, sizeof(nd->enc))) == 0)
		return 0;
	sealed = auth_seal(&nd->auth, to_client(m), nd->enc, len,
	    nd->qbuf + nd->qused, NODE_QUEUE_BYTES - nd->qused);
	if (sealed == 0)
		return 0;
	q = &nd->q[nd->nq++];
	q->to = *to;
	q->off = nd->qused;
	q->len = sealed;
	nd->qused += sealed;
	return 0;
}

/*
 * Send n prepared datagrams in as few system calls as the kernel takes;
 * one that fails is counted and skipped.
 */
static void
send_many(struct node *nd, struct mmsghdr *mm, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(nd->fd, mm + done, n - done, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			nd->send_errors++;
			done++;
		} else
			done += (unsigned)r;
	}
}

static void
prepare(struct mmsghdr *mm, struct iovec *iov, const struct net_addr *to,
    uint8_t *buf, size_t len)
{
	iov->iov_base = buf;
	iov->iov_len = len;
	memset(mm, 0, sizeof(*mm));
	mm->msg_hdr.msg_name = (void *)&to->ss;
	mm->msg_hdr.msg_namelen = to->len;
	mm->msg_hdr.msg_iov = iov;
	mm->msg_hdr.msg_iovlen = 1;
}

void
node_queue_flush(struct node *nd)
{
	struct mmsghdr mm[NODE_QUEUE];
	struct iovec iov[NODE_QUEUE];
	struct node_queued *q;
	unsigned i;

	for (i = 0; i < nd->nq; i++) {
		q = &nd->q[i];
		prepare(&mm[i], &iov[i], &q->to, nd->qbuf + q->off, q->len);
	}
	send_many(nd, mm, nd->nq);
	nd->nq = 0;
	nd->qused = 0;
}

/* Encode and seal m into nd->ct; its length, or 0. */
static size_t
seal(struct node *nd, const struct msg *m)
{
	size_t len;

	if ((len = msg_encode(m, nd->enc, sizeof(nd->enc))) == 0)
		return 0;
	return auth_seal(&nd->auth, to_client(m), nd->enc, len, nd->ct,
	    sizeof(nd->ct));
}

int
node_send_to(struct node *nd, const struct net_addr *to, const struct msg *m)
{
	size_t sealed;

	if ((sealed = seal(nd, m)) == 0)
		return 0;
	if (sendto(nd->fd, nd->ct, sealed, 0, (const struct sockaddr *)&to->ss,
	    to->len) == -1) {
		nd->send_errors++;
		return 0;
	}
	return 1;
}

static struct node_client *
find_client(struct node *nd, uint64_t session, bool add)
{
	struct node_client *oldest = &nd->clients[0];
	unsigned i;
	int at;

	if ((at = session_index_find(&nd->client_index, session)) >= 0)
		return &nd->clients[at];
	if (!add)
		return NULL;
	/* A new client takes the place of the least recently heard. */
	for (i = 1; i < NODE_CLIENTS; i++)
		if (nd->clients[i].used < oldest->used)
			oldest = &nd->clients[i];
	session_index_replace(&nd->client_index, oldest->session, session,
	    (unsigned)(oldest - nd->clients));
	oldest->session = session;
	return oldest;
}

void
node_remember_client(struct node *nd, uint64_t session,
    const struct net_addr *a)
{
	struct node_client *c;

	if (session == 0)
		return;		/* never a session id */
	c = find_client(nd, session, true);

	c->addr = *a;
	c->used = ++nd->stamp;
}

int
node_send(struct node *nd, const struct out *o)
{
	struct mmsghdr mm[CONF_MAX_NODES];
	struct iovec iov[CONF_MAX_NODES];
	struct node_client *c;
	unsigned i, crole;
	size_t len = 0;
	int sent = 0;

	if (o->role == AUTH_CLIENT) {
		if ((c = find_client(nd, o->client, false)) == NULL)
			return 0;
		return node_send_to(nd, &c->addr, &o->m);
	}
	/*
	 * Sealed once for every recipient: the seal names the sender, not
	 * the recipient, and each recipient's replay window sees it once.
	 */
	crole = node_conf_role(o->role);
	for (i = 0; i < nd->conf.n_nodes; i++) {
		const struct conf_node *cn = &nd->conf.nodes[i];
		if ((cn->roles & crole) == 0)
			continue;
		if (o->id != 0 && cn->id != o->id)
			continue;
		/* Never to ourselves: the core already knows. */
		if (o->role == nd->role && cn->id == nd->id)
			continue;
		if (sent == 0 && (len = seal(nd, &o->m)) == 0)
			return 0;
		prepare(&mm[sent], &iov[sent], &nd->addr[i][o->role - 1],
		    nd->ct, len);
		sent++;
	}
	send_many(nd, mm, (unsigned)sent);
	return sent;
}

void
node_flush(struct node *nd, struct outbox *ob)
{
	unsigned i;

	for (i = 0; i < ob->n; i++)
		node_send(nd, &ob->o[i]);
	ob->n = 0;
}

#define RECV_SLOT	(MSG_MAX + AUTH_OVERHEAD)

/* recvmmsg(2)'s vectors, set up once; the kernel fills lengths in. */
struct node_recv_batch {
	struct mmsghdr	 mm[NODE_RECV_BATCH];
	struct iovec	 iov[NODE_RECV_BATCH];
	struct sockaddr_storage from[NODE_RECV_BATCH];
	uint8_t		 buf[NODE_RECV_BATCH][RECV_SLOT];
};

int
node_recv_batched(struct node *nd)
{
	struct node_recv_batch *rb;
	unsigned i;

	if (nd->rb != NULL)
		return 0;
	if ((rb = malloc(sizeof(*rb))) == NULL)
		return -1;
	memset(rb->mm, 0, sizeof(rb->mm));
	for (i = 0; i < NODE_RECV_BATCH; i++) {
		rb->iov[i].iov_base = rb->buf[i];
		rb->iov[i].iov_len = RECV_SLOT;
		rb->mm[i].msg_hdr.msg_name = &rb->from[i];
		rb->mm[i].msg_hdr.msg_iov = &rb->iov[i];
		rb->mm[i].msg_hdr.msg_iovlen = 1;
	}
	nd->rb = rb;
	return 0;
}

bool
node_buffered(const struct node *nd)
{
	return nd->rnext < nd->rcount;
}

/*
 * busy_poll: spin a moment before sleeping.  The next datagram is often
 * a reply already on its way, and waking a sleeping process, on a
 * virtual machine a halted CPU, costs more than the work of a hop.
 * sched_yield(2) lets whatever else is runnable here go first.
 */
int
node_wait(struct node *nd, int timeout_ms)
{
	struct pollfd pfd = { nd->fd, POLLIN, 0 };
	uint64_t until;
	int r;

	if (node_buffered(nd))
		return 1;
	if (nd->conf.busy_poll_us > 0) {
		until = mono_us() + nd->conf.busy_poll_us;
		do {
			if ((r = poll(&pfd, 1, 0)) != 0)
				return r;
			sched_yield();
		} while (mono_us() < until);
	}
	return poll(&pfd, 1, timeout_ms);
}

/* Refill the batch: the count taken, 0 (nothing pending) or -1. */
static int
recv_batch(struct node *nd)
{
	struct node_recv_batch *rb = nd->rb;
	unsigned i;
	int n;

	for (i = 0; i < NODE_RECV_BATCH; i++)
		rb->mm[i].msg_hdr.msg_namelen = sizeof(rb->from[i]);
	if ((n = recvmmsg(nd->fd, rb->mm, NODE_RECV_BATCH, MSG_DONTWAIT,
	    NULL)) <= 0)
		return n;
	nd->rnext = 0;
	nd->rcount = (unsigned)n;
	/* Fewer than asked for: the socket was empty, no need to ask. */
	nd->rdrained = n < NODE_RECV_BATCH;
	return n;
}

/* The next datagram into *ct and nd->from: its length, or -1. */
static ssize_t
next_datagram(struct node *nd, const uint8_t **ct)
{
	struct msghdr *h;
	unsigned i;
	int r;

	if (nd->rb == NULL) {
		nd->from.len = sizeof(nd->from.ss);
		*ct = nd->ct;
		return recvfrom(nd->fd, nd->ct, sizeof(nd->ct), 0,
		    (struct sockaddr *)&nd->from.ss, &nd->from.len);
	}
	if (nd->rnext == nd->rcount) {
		if (nd->rdrained) {
			/* Back to poll(2), which sees what came since. */
			nd->rdrained = false;
			errno = EAGAIN;
			return -1;
		}
		if ((r = recv_batch(nd)) <= 0) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
	}
	i = nd->rnext++;
	h = &nd->rb->mm[i].msg_hdr;
	memcpy(&nd->from.ss, h->msg_name, h->msg_namelen);
	nd->from.len = h->msg_namelen;
	*ct = nd->rb->buf[i];
	return (ssize_t)nd->rb->mm[i].msg_len;
}

int
node_recv(struct node *nd, struct msg *m, struct auth_peer *from)
{
	return node_recv_into(nd, nd->pt, m, from);
}

int
node_recv_into(struct node *nd, uint8_t *pt, struct msg *m,
    struct auth_peer *from)
{
	const uint8_t *ct;
	ssize_t n;
	size_t ptlen;

	if ((n = next_datagram(nd, &ct)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* ICMP errors from peers that are down surface here. */
		if (errno == ECONNREFUSED)
			return 2;
		return -1;
	}
	if (auth_open(&nd->auth, ct, (size_t)n, pt, &ptlen, from) != AUTH_OK)
		return 2;
	if (msg_decode(m, pt, ptlen) == -1) {
		nd->malformed++;
		return 2;
	}
	/* The client key opens a client's door only. */
	if (from->role == AUTH_CLIENT && m->type != MSG_SUBMIT &&
	    m->type != MSG_STATUS_REQ) {
		nd->malformed++;
		return 2;
	}
	return 1;
}

/* systemd's notify protocol: one datagram to $NOTIFY_SOCKET. */
static void
notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun,
	    len);
	close(fd);
}

void
node_ready(struct node *nd)
{
	char buf[128];

	struct net_addr a;

	/* The log prefix ("acceptor 1") names us. */
	a.len = sizeof(a.ss);
	if (getsockname(nd->fd, (struct sockaddr *)&a.ss, &a.len) == -1)
		a = nd->self;
	log_info("ready on %s", net_ntop(&a, buf, sizeof(buf)));
	notify_systemd("READY=1");
}

void
node_status_reply(struct node *nd, const struct msg *req, struct msg *m)
{
	m->type = MSG_STATUS_REP;
	m->seq = req->seq;
	m->stats[STAT_MALFORMED] = nd->auth.dropped[AUTH_MALFORMED] +
	    nd->malformed;
	m->stats[STAT_FORGED] = nd->auth.dropped[AUTH_FORGED];
	m->stats[STAT_REPLAY] = nd->auth.dropped[AUTH_REPLAY];
	m->stats[STAT_UNKNOWN] = nd->auth.dropped[AUTH_UNKNOWN];
	m->stats[STAT_UPTIME] = (node_now_ms() - nd->started_ms) / 1000;
	node_send_to(nd, &nd->from, m);
}
