/*
 * host_probe: what the machine itself allows, for make bench to print
 * next to its latency rows.  A one-in-flight commit is a chain of
 * wake-ups and, with persist = yes, a synced write by each acceptor, so
 * its latency cannot beat these:
 *
 *   - the UDP round trip between two processes on the same CPU, and on
 *     two different CPUs (a virtual CPU that has halted can take tens of
 *     microseconds to wake);
 *   - a synced 4 KiB write (O_DIRECT | O_DSYNC, as the acceptor's log
 *     writes) alone, and with three processes writing at once, as the
 *     three acceptors of the bench do on one disk.
 *
 * usage: host_probe dir
 * Prints one line of p50 figures in microseconds.
 */
#define _GNU_SOURCE		/* O_DIRECT, CPU_SET */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "bench.h"

#define ROUNDS	2000		/* round trips per measure */
#define WRITES	1000		/* synced writes per writer */
#define BLOCK	4096
#define WRITERS	3

static void
die(const char *what)
{
	fprintf(stderr, "host_probe: %s: %s\n", what, strerror(errno));
	exit(EX_OSERR);
}

static uint64_t
median_us(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(ns[0]), cmp_u64);
	return ns[n / 2] / 1000;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

/* An unconnected UDP socket on 127.0.0.1, any port; its address. */
static int
udp_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1)
		die("socket");
	return fd;
}

/*
 * p50 round trip of a 100-byte datagram to a child that echoes it, the
 * two pinned to cpu a and cpu b, both blocking in recv(2).  A pause
 * between round trips lets an idle CPU halt, as it does between one
 * client's values.
 */
static uint64_t
round_trip(int a, int b)
{
	static uint64_t ns[ROUNDS];
	struct sockaddr_in sa, sb;
	char buf[100] = { 0 };
	int fa, fb, i, status;
	pid_t pid;

	fa = udp_socket(&sa);
	fb = udp_socket(&sb);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		pin(b);
		for (i = 0; i < ROUNDS; i++)
			if (recv(fb, buf, sizeof(buf), 0) == -1 ||
			    sendto(fb, buf, sizeof(buf), 0,
			    (struct sockaddr *)&sa, sizeof(sa)) == -1)
				_exit(1);
		_exit(0);
	}
	pin(a);
	for (i = 0; i < ROUNDS; i++) {
		uint64_t t0 = now_ns();

		if (sendto(fa, buf, sizeof(buf), 0, (struct sockaddr *)&sb,
		    sizeof(sb)) == -1 || recv(fa, buf, sizeof(buf), 0) == -1)
			die("round trip");
		ns[i] = now_ns() - t0;
		usleep(200);
	}
	if (waitpid(pid, &status, 0) == -1 || status != 0)
		die("echo child");
	close(fa);
	close(fb);
	return median_us(ns, ROUNDS);
}

/* p50 of WRITES synced 4 KiB writes to a file of its own in dir. */
static uint64_t
synced_writes(const char *dir, int k)
{
	static uint64_t ns[WRITES];
	char path[4096];
	void *block;
	int fd, i;

	snprintf(path, sizeof(path), "%s/host_probe.%d", dir, k);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		die(path);
	if (posix_memalign(&block, BLOCK, BLOCK) != 0)
		die("posix_memalign");
	memset(block, 0, BLOCK);
	/* Written once first, so that the timed writes journal nothing. */
	for (i = 0; i < WRITES; i++)
		if (pwrite(fd, block, BLOCK, (off_t)i * BLOCK) != BLOCK)
			die(path);
	if (fsync(fd) == -1)
		die(path);
	close(fd);
	if ((fd = open(path, O_RDWR | O_DIRECT | O_DSYNC)) == -1 &&
	    (fd = open(path, O_RDWR | O_DSYNC)) == -1)
		die(path);
	for (i = 0; i < WRITES; i++) {
		uint64_t t0 = now_ns();

		if (pwrite(fd, block, BLOCK, (off_t)i * BLOCK) != BLOCK)
			die(path);
		ns[i] = now_ns() - t0;
	}
	close(fd);
	unlink(path);
	free(block);
	return median_us(ns, WRITES);
}

/* The p50 of WRITERS processes writing at once, the slowest of them. */
static uint64_t
synced_writes_together(const char *dir)
{
	int fds[WRITERS][2], k, status;
	uint64_t r, worst = 0;
	pid_t pids[WRITERS];

	for (k = 0; k < WRITERS; k++) {
		if (pipe(fds[k]) == -1 || (pids[k] = fork()) == -1)
			die("fork");
		if (pids[k] == 0) {
			r = synced_writes(dir, k);
			_exit(write(fds[k][1], &r, sizeof(r)) == sizeof(r) ?
			    0 : 1);
		}
		close(fds[k][1]);
	}
	for (k = 0; k < WRITERS; k++) {
		if (read(fds[k][0], &r, sizeof(r)) != sizeof(r))
			r = 0;
		if (r > worst)
			worst = r;
		close(fds[k][0]);
		if (waitpid(pids[k], &status, 0) == -1 || status != 0)
			die("writer");
	}
	return worst;
}

int
main(int argc, char *argv[])
{
	uint64_t same, across, alone, together;

	if (argc != 2) {
		fprintf(stderr, "usage: host_probe dir\n");
		return EX_USAGE;
	}
	same = round_trip(0, 0);
	across = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? round_trip(0, 1) : same;
	alone = synced_writes(argv[1], 0);
	together = synced_writes_together(argv[1]);
	printf("UDP round trip p50 %" PRIu64 " us on one CPU, %" PRIu64
	    " us across two; synced 4 KiB write p50 %" PRIu64
	    " us alone, %" PRIu64 " us with %d at once\n",
	    same, across, alone, together, WRITERS);
	return 0;
}
