/*
 * bench_client: a paxos-submit without the input handling, for make
 * bench.  Submits -n values of -s bytes with -w in flight through the
 * same client role (lib/client.c) and prints the commit latency of each
 * value's percentiles and the rate it saw.
 *
 * usage: bench_client -c conf [-n count] [-s size] [-w window]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "client.h"
#include "log.h"
#include "node.h"
#include "proposer.h"

static uint64_t
now_us(void)
{
	return now_ns() / 1000;
}

int
main(int argc, char *argv[])
{
	static struct node nd;
	static struct client c;
	static struct out outs[PROPOSER_HISTORY + 8];
	static struct msg m;
	struct outbox ob = { 0, PROPOSER_HISTORY + 8, 0, outs };
	struct client_value *v, cv;
	struct auth_peer from;
	struct pollfd pfd;
	uint32_t prop_ids[CONF_MAX_NODES];
	uint64_t *sent_us, *lat, session = 0, start, end, done = 0, sent = 0;
	unsigned long count = 1000, size = 64, window = 1;
	unsigned i, n_prop = 0;
	const char *conffile = NULL;
	char err[CONF_ERRLEN];
	uint8_t *val;
	int ch, r;

	log_init("bench_client", NULL, 0);
	while ((ch = getopt(argc, argv, "c:n:s:w:")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 's':
			size = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			window = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_client -c conf [-n count] "
			    "[-s size] [-w window]\n");
			return EX_USAGE;
		}
	}
	if (conffile == NULL || count == 0 || size > VALUE_MAX ||
	    window == 0 || window > PROPOSER_HISTORY)
		diex(EX_USAGE, "bad arguments");
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init");
	if ((r = node_open(&nd, conffile, NULL, AUTH_CLIENT, false, err,
	    sizeof(err))) != 0)
		diex(r, "%s", err);
	for (i = 0; i < nd.conf.n_nodes; i++)
		if (nd.conf.nodes[i].roles & ROLE_PROPOSER)
			prop_ids[n_prop++] = nd.conf.nodes[i].id;
	v = calloc(window, sizeof(*v));
	sent_us = calloc(count + 1, sizeof(*sent_us));
	lat = calloc(count, sizeof(*lat));
	val = malloc(size + 1);
	if (v == NULL || sent_us == NULL || lat == NULL || val == NULL)
		die(EX_OSERR, "malloc");
	for (i = 0; i < window; i++)
		if ((v[i].val = malloc(VALUE_MAX)) == NULL)
			die(EX_OSERR, "malloc");
	randombytes_buf(&session, sizeof(session));
	session |= 1;
	client_init(&c, session, prop_ids, n_prop, (unsigned)window,
	    nd.conf.timeout_ms, v, node_now_ms());
	memset(val, 'x', size);
	pfd.fd = nd.fd;
	pfd.events = POLLIN;
	start = now_us();
	while (done < count) {
		while (sent < count && client_has_room(&c)) {
			sent++;
			snprintf((char *)val, size + 1, "%" PRIu64 "-", sent);
			val[strlen((char *)val)] = size > 20 ? 'x' : '\0';
			sent_us[sent] = now_us();
			client_submit(&c, val, (uint32_t)size, sent,
			    node_now_ms());
		}
		client_flush(&c, node_now_ms(), &ob);
		node_flush(&nd, &ob);
		if (poll(&pfd, 1, 5) == -1 && errno != EINTR)
			die(EX_OSERR, "poll");
		while ((r = node_recv(&nd, &m, &from)) != 0) {
			if (r == -1)
				die(EX_OSERR, "recv");
			if (r == 1)
				client_receive(&c, node_now_ms(), &m, &ob);
		}
		while (client_retire(&c, &cv))
			lat[done++] = now_us() - sent_us[cv.line];
		client_tick(&c, node_now_ms(), &ob);
	}
	end = now_us();
	qsort(lat, count, sizeof(*lat), cmp_u64);
	printf("values %lu seconds %.3f rate %.0f p50 %" PRIu64 " p99 %" PRIu64
	    " p999 %" PRIu64 "\n", count, (double)(end - start) / 1e6,
	    (double)count * 1e6 / (double)(end - start), lat[count / 2],
	    lat[count * 99 / 100], lat[count * 999 / 1000]);
	return EX_OK;
}
