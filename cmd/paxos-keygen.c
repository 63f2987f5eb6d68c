/* paxos-keygen: prints a new random 32-byte cluster secret in base64. */
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: paxos-keygen [-hV]\n");
}

int
main(int argc, char *argv[])
{
	unsigned char key[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	int ch;

	log_init("paxos-keygen", NULL, 0);
	while ((ch = getopt(argc, argv, "hV")) != -1) {
		switch (ch) {
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
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	if (printf("%s\n", b64) < 0 || fflush(stdout) == EOF)
		die(EX_IOERR, "stdout");
	sodium_memzero(b64, sizeof(b64));
	return EX_OK;
}
