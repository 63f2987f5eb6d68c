/*
 * paxos-keygen: prints a new random 32-byte cluster secret in base64, or
 * with --client the client key of the cluster secret read from stdin:
 * enough to submit values and ask for status, not to act as a member.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "log.h"

#define B64_LEN	sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-keygen [-hV] [--client]\n");
}

/* The cluster secret on stdin, as paxos-keygen printed it. */
static void
read_secret(uint8_t key[32])
{
	char buf[256];
	size_t len = 0, keylen;
	ssize_t n;

	while (len < sizeof(buf) - 1 &&
	    (n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (strncmp(buf, CONF_CLIENT_PREFIX, strlen(CONF_CLIENT_PREFIX)) == 0)
		diex(EX_DATAERR, "stdin: a client key, not a cluster secret");
	if (sodium_base642bin(key, 32, buf, len, NULL, &keylen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || keylen != 32)
		diex(EX_DATAERR, "stdin: not a cluster secret (base64 of 32 "
		    "bytes)");
	sodium_memzero(buf, sizeof(buf));
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "client", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t key[32], secret[32];
	char b64[B64_LEN];
	int ch;
	bool client = false;

	log_init("paxos-keygen", NULL, 0);
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			client = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("paxos-keygen %s\n", PAXOS_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (sodium_init() < 0)
		diex(EX_SOFTWARE, "sodium_init failed");
	if (client) {
		read_secret(secret);
		auth_client_key(secret, key);
		sodium_memzero(secret, sizeof(secret));
	} else {
		randombytes_buf(key, sizeof(key));
	}
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	if (printf("%s%s\n", client ? CONF_CLIENT_PREFIX : "", b64) < 0 ||
	    fflush(stdout) == EOF)
		die(EX_IOERR, "stdout");
	sodium_memzero(b64, sizeof(b64));
	return EX_OK;
}
