/*
 * libFuzzer target: kv-apply's parsers.  cmd/kv-apply.c is a program,
 * so it is compiled into this file with its main renamed, which gives
 * the fuzzer its static functions as they are: apply_line (the command
 * line, text or MyPaxos JSON, with or without a POS<TAB> prefix) and
 * state_parse (the -s state file).
 *
 * Input: byte 0 selects the mode.
 *   bit 0 clear: the rest is lines of commands, split as reader_line
 *                splits them; bit 1 set acts as with -s (positions
 *                already applied are skipped).
 *   bit 0 set:   the rest is a state file; when it loads, the lines
 *                "get" every key back.
 * Output lines go to /dev/null; the map is freed after every input, so
 * LeakSanitizer sees what one input leaks.
 */
#define main kv_apply_main
int	kv_apply_main(int, char *[]);
#include "../../cmd/kv-apply.c"
#undef main

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	log_init("kv-apply", NULL, 0);
	return 0;
}

/* One line, NUL-terminated in a buffer of exactly its size. */
static void
one_line(struct kv *kv, const uint8_t *p, size_t len)
{
	char *line;

	if ((line = malloc(len + 1)) == NULL)
		abort();
	memcpy(line, p, len);
	line[len] = '\0';
	apply_line(kv, line, len);
	free(line);
}

static void
lines(struct kv *kv, const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	size_t len;

	while (size > 0) {
		nl = memchr(data, '\n', size);
		len = nl == NULL ? size : (size_t)(nl - data);
		one_line(kv, data, len);
		if (nl == NULL)
			break;
		data += len + 1;
		size -= len + 1;
	}
}

/* Every key of the map read back with get. */
static void
get_all(struct kv *kv)
{
	struct entry *e;
	char *cmd, err[ERR_LEN];
	size_t i, n;
	bool changed;

	for (i = 0; i < kv->map.nbucket; i++)
		for (e = kv->map.bucket[i]; e != NULL; e = e->next) {
			n = strlen(e->key) + 4;
			if ((cmd = malloc(n + 1)) == NULL)
				abort();
			snprintf(cmd, n + 1, "get %s", e->key);
			if (strchr(e->key, ' ') == NULL &&
			    strcmp(execute(&kv->map, cmd, n, err, &changed),
			    e->val) != 0)
				abort();
			free(cmd);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv kv;
	size_t bad;
	char *buf;

	if (size < 1 || size > 1 << 20)
		return 0;
	memset(&kv, 0, sizeof(kv));
	map_grow(&kv.map);
	if (data[0] & 1) {
		if ((buf = malloc(size - 1 ? size - 1 : 1)) == NULL)
			abort();
		memcpy(buf, data + 1, size - 1);
		if (state_parse(&kv, buf, size - 1, &bad))
			get_all(&kv);
		else if (bad > size - 1)
			abort();
		free(buf);
	} else {
		if (data[0] & 2)
			kv.path = "state";	/* only compared, never opened */
		lines(&kv, data + 1, size - 1);
	}
	map_free(&kv.map);
	return 0;
}
