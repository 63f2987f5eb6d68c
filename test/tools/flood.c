/*
 * paxos-flood: sends garbage datagrams as fast as it can, round robin,
 * to UDP ports on 127.0.0.1, for a bounded time, then prints how many it
 * sent.  Half are random bytes (dropped as malformed); half carry a
 * well-formed header, so that the receiver spends an AEAD open on each
 * before it drops it as forged.  Only for the flood test: it refuses
 * anything but loopback and more than 60 seconds.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS	64
#define MAX_SECONDS	60
#define HDR_LEN		22	/* lib/auth.h AUTH_HDR_LEN */

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-flood [-h] [-d seconds] [-s size] port ...\n");
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
number(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "paxos-flood: %s %s: want %ld to %ld\n", what,
		    s, min, max);
		exit(EX_USAGE);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in to[MAX_PORTS];
	uint8_t buf[1500];
	uint64_t seed, sent = 0, r;
	double start, end, t;
	long seconds = 10, size = 200;
	size_t len, k;
	int ch, fd, i, n;

	while ((ch = getopt(argc, argv, "d:hs:")) != -1) {
		switch (ch) {
		case 'd':
			seconds = number("-d", optarg, 1, MAX_SECONDS);
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 's':
			size = number("-s", optarg, HDR_LEN + 16,
			    (long)sizeof(buf));
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || argc > MAX_PORTS) {
		usage(stderr);
		return EX_USAGE;
	}
	for (n = 0; n < argc; n++) {
		memset(&to[n], 0, sizeof(to[n]));
		to[n].sin_family = AF_INET;
		to[n].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		to[n].sin_port = htons((uint16_t)number("port", argv[n], 1,
		    65535));
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		perror("paxos-flood: socket");
		return EX_OSERR;
	}
	seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	start = now();
	end = start + (double)seconds;
	for (i = 0;; i++) {
		if ((i & 255) == 0 && now() >= end)
			break;
		r = xorshift(&seed);
		len = 1 + (size_t)(r % (uint64_t)size);
		for (k = 0; k < len; k += 8) {
			r = xorshift(&seed);
			memcpy(buf + k, &r, len - k < 8 ? len - k : 8);
		}
		if ((i & 1) && len >= HDR_LEN + 16) {
			buf[0] = 1;			/* AUTH_VERSION */
			buf[1] = (uint8_t)(1 + r % 4);	/* a valid role */
		}
		/* A full socket buffer or a port nobody holds: go on. */
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&to[i % n],
		    sizeof(to[0])) != -1)
			sent++;
	}
	t = now() - start;
	close(fd);
	printf("sent=%" PRIu64 " seconds=%.1f per_second=%.0f\n", sent, t,
	    (double)sent / t);
	return EX_OK;
}
