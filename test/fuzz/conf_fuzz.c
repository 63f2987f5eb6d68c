/*
 * libFuzzer target: paxos.conf(5) text through conf_load_string, then
 * what the programs do with a configuration that loaded: pick ids, look
 * up ports, print it (-nv).  The canonical form -nv prints must load
 * again and print the same, as bgpd -nv output does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define INPUT_MAX	65536

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct conf c, c2;

/* conf_print into a string the caller frees. */
static char *
print(const struct conf *cf, size_t *len)
{
	char *buf = NULL;
	FILE *f;

	if ((f = open_memstream(&buf, len)) == NULL)
		abort();
	conf_print(cf, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "1", "2", "3", "0", "4294967295",
	    "4294967296", "-1", "", "1x" };
	char err[CONF_ERRLEN], err2[CONF_ERRLEN], *text, *out, *out2;
	size_t len, len2;
	uint32_t id;
	unsigned i, r;

	if (size > INPUT_MAX)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';	/* conf_load refuses NULs before this */
	err[0] = '\0';
	if (conf_load_string(&c, text, "fuzz.conf", "/nonexistent/dir", err,
	    sizeof(err)) == -1) {
		/* The message must be a terminated string naming the file. */
		if (strncmp(err, "fuzz.conf", 9) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		free(text);
		return 0;
	}
	for (r = ROLE_ACCEPTOR; r <= ROLE_LEARNER; r <<= 1) {
		(void)conf_count(&c, r);
		for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
			if (conf_pick_id(&c, args[i], r, &id, err,
			    sizeof(err)) == 0 && conf_node(&c, id) == NULL)
				abort();
		(void)conf_pick_id(&c, NULL, r, &id, err, sizeof(err));
		for (i = 0; i < c.n_nodes; i++) {
			(void)conf_port(&c.nodes[i], r);
			(void)conf_index(&c, r, c.nodes[i].id);
		}
	}
	out = print(&c, &len);
	if (conf_load_string(&c2, out, "canonical.conf", "/", err2,
	    sizeof(err2)) == -1) {
		fprintf(stderr, "conf_fuzz: the canonical form does not load: "
		    "%s\n--- input\n%s\n--- canonical\n%s", err2, text, out);
		abort();
	}
	out2 = print(&c2, &len2);
	if (len != len2 || memcmp(out, out2, len) != 0) {
		fprintf(stderr, "conf_fuzz: the canonical form changes when "
		    "loaded again\n--- first\n%s--- second\n%s", out, out2);
		abort();
	}
	free(out);
	free(out2);
	free(text);
	return 0;
}
