/*
 * kv-apply: the example state machine of SPEC.md section 6.  It reads
 * put/get/delete commands, one per line, optionally prefixed by the log
 * position that "paxos-learner -n" writes, applies them to a map in
 * memory and prints one result line per command.  With -s the map and
 * the last applied position live in a state file, so that a pipeline
 * restarted from that position applies each command exactly once.
 * Only logging comes from lib/.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"

#ifndef PAXOS_VERSION
#define PAXOS_VERSION	"unknown"
#endif
#define STATE_MAGIC	"kv-apply 1 "
#define READ_CHUNK	65536
#define ERR_LEN		256
#define OPT_POSITION	256

struct entry {
	struct entry	*next;
	uint64_t	 hash;
	char		*key;		/* never empty; no NUL or newline */
	char		*val;		/* no NUL or newline */
};

/* Chained hash table; nbucket is a power of two once map_grow ran. */
struct map {
	struct entry	**bucket;
	size_t		 nbucket;
	size_t		 count;
};

struct kv {
	struct map	 map;
	const char	*path;		/* state file, or NULL without -s */
	char		*tmp;		/* path.tmp, written then renamed */
	char		*dir;		/* directory to fsync after rename */
	uint64_t	 pos;		/* last applied position, 0 for none */
	bool		 dirty;		/* map or pos differ from the file */
	size_t		 unsaved;	/* lines applied since the last save */
};

/* Input split into lines by hand, so we know when a read may block. */
struct reader {
	int		 fd;
	const char	*name;
	char		*buf;
	size_t		 off;		/* start of the next line */
	size_t		 len;		/* bytes held in buf */
	size_t		 cap;
	bool		 eof;
};

static void __attribute__((noreturn))
usage(FILE *f, int code)
{
	fputs("usage: kv-apply [-hVv] [-s statefile] [--position]\n", f);
	exit(code);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die(EX_OSERR, "realloc");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		die(EX_OSERR, "strdup");
	return d;
}

static uint64_t
hash_key(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The link that points, or would point, at the entry for key. */
static struct entry **
map_slot(struct map *m, const char *key, uint64_t h)
{
	struct entry **ep;

	ep = &m->bucket[h & (m->nbucket - 1)];
	while (*ep != NULL && ((*ep)->hash != h || strcmp((*ep)->key, key)))
		ep = &(*ep)->next;
	return ep;
}

static void
map_grow(struct map *m)
{
	struct entry **nb, *e, *next;
	size_t i, n;

	n = m->nbucket == 0 ? 64 : m->nbucket * 2;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		die(EX_OSERR, "calloc");
	for (i = 0; i < m->nbucket; i++) {
		for (e = m->bucket[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(m->bucket);
	m->bucket = nb;
	m->nbucket = n;
}

/* Returns false when key was present; its value is replaced. */
static bool
map_put(struct map *m, const char *key, const char *val)
{
	struct entry **ep, *e;
	uint64_t h = hash_key(key);

	if (m->count >= m->nbucket / 4 * 3)
		map_grow(m);
	ep = map_slot(m, key, h);
	if ((e = *ep) != NULL) {
		free(e->val);
		e->val = xstrdup(val);
		return false;
	}
	if ((e = malloc(sizeof(*e))) == NULL)
		die(EX_OSERR, "malloc");
	e->next = NULL;
	e->hash = h;
	e->key = xstrdup(key);
	e->val = xstrdup(val);
	*ep = e;
	m->count++;
	return true;
}

static const char *
map_get(struct map *m, const char *key)
{
	struct entry *e;

	e = *map_slot(m, key, hash_key(key));
	return e == NULL ? NULL : e->val;
}

static bool
map_del(struct map *m, const char *key)
{
	struct entry **ep, *e;

	ep = map_slot(m, key, hash_key(key));
	if ((e = *ep) == NULL)
		return false;
	*ep = e->next;
	free(e->key);
	free(e->val);
	free(e);
	m->count--;
	return true;
}

static void
map_free(struct map *m)
{
	size_t i;

	for (i = 0; i < m->nbucket; i++)
		while (m->bucket[i] != NULL)
			map_del(m, m->bucket[i]->key);
	free(m->bucket);
}

/* The next complete line, NUL-terminated, or NULL when more is needed. */
static char *
reader_line(struct reader *r, size_t *len)
{
	char *line, *nl;

	if (r->off == r->len)
		return NULL;
	line = r->buf + r->off;
	if ((nl = memchr(line, '\n', r->len - r->off)) != NULL)
		r->off = (size_t)(nl - r->buf) + 1;
	else if (r->eof) {
		nl = r->buf + r->len;	/* the last line lacks its newline */
		r->off = r->len;
	} else
		return NULL;
	*nl = '\0';
	*len = (size_t)(nl - line);
	return line;
}

static bool
input_ready(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static void
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	while (r->cap - r->len < READ_CHUNK + 1)	/* +1 for a NUL */
		r->buf = xrealloc(r->buf, r->cap = r->cap * 2 + READ_CHUNK);
	while ((n = read(r->fd, r->buf + r->len, r->cap - r->len - 1)) == -1)
		if (errno != EINTR)
			die(EX_IOERR, "read %s", r->name);
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
}

/* Parses decimal digits ending in term; false on none or overflow. */
static bool
get_num(char **pp, const char *end, char term, uint64_t *v)
{
	char *p = *pp;

	for (*v = 0; p < end && *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	if (p == *pp || p == end || *p != term)
		return false;
	*pp = p + 1;
	return true;
}

/*
 * Reads one length-prefixed field ("KLEN VLEN\n" said how long) and its
 * newline, and NUL-terminates it in place.
 */
static char *
get_field(char **pp, const char *end, uint64_t n)
{
	char *s = *pp;

	if (n >= (uint64_t)(end - s) || s[n] != '\n' || memchr(s, '\0', n) ||
	    memchr(s, '\n', n))
		return NULL;
	s[n] = '\0';
	*pp = s + n + 1;
	return s;
}

/*
 * The state file is a header "kv-apply 1 POS COUNT\n" and COUNT records
 * "KLEN VLEN\nKEY\nVALUE\n".  The lengths make truncation detectable and
 * let keys hold spaces, which JSON commands allow.
 */
static bool
state_parse(struct kv *kv, char *buf, size_t len, size_t *bad)
{
	char *p = buf, *end = buf + len, *key, *val;
	uint64_t count, i, klen, vlen;

	if (len < strlen(STATE_MAGIC) ||
	    memcmp(buf, STATE_MAGIC, strlen(STATE_MAGIC)) != 0)
		goto bad;
	p += strlen(STATE_MAGIC);
	if (!get_num(&p, end, ' ', &kv->pos) ||
	    !get_num(&p, end, '\n', &count))
		goto bad;
	for (i = 0; i < count; i++) {
		if (!get_num(&p, end, ' ', &klen) ||
		    !get_num(&p, end, '\n', &vlen) || klen == 0 ||
		    (key = get_field(&p, end, klen)) == NULL ||
		    (val = get_field(&p, end, vlen)) == NULL ||
		    !map_put(&kv->map, key, val))
			goto bad;
	}
	if (p == end)
		return true;
bad:
	*bad = (size_t)(p - buf);
	return false;
}

static void
state_load(struct kv *kv)
{
	struct reader r = { .name = kv->path };
	size_t bad;

	if ((r.fd = open(kv->path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return;		/* first run: empty map, position 0 */
		die(EX_NOINPUT, "%s", kv->path);
	}
	while (!r.eof)
		reader_fill(&r);
	close(r.fd);
	if (!state_parse(kv, r.buf, r.len, &bad))
		diex(EX_DATAERR, "%s: corrupt state file at byte %zu",
		    kv->path, bad);
	free(r.buf);
	log_debug("loaded %s pos=%" PRIu64 " keys=%zu", kv->path, kv->pos,
	    kv->map.count);
}

/* Write, fsync, rename, fsync the directory: the file is old or new. */
static void
state_save(struct kv *kv)
{
	struct entry *e;
	FILE *f;
	size_t i;
	int fd;

	if ((fd = open(kv->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		die(EX_CANTCREAT, "%s", kv->tmp);
	if ((f = fdopen(fd, "w")) == NULL)
		die(EX_OSERR, "fdopen");
	fprintf(f, STATE_MAGIC "%" PRIu64 " %zu\n", kv->pos, kv->map.count);
	for (i = 0; i < kv->map.nbucket; i++)
		for (e = kv->map.bucket[i]; e != NULL; e = e->next)
			fprintf(f, "%zu %zu\n%s\n%s\n", strlen(e->key),
			    strlen(e->val), e->key, e->val);
	if (fflush(f) == EOF || ferror(f) || fsync(fd) == -1)
		die(EX_IOERR, "write %s", kv->tmp);
	if (fclose(f) == EOF)
		die(EX_IOERR, "close %s", kv->tmp);
	if (rename(kv->tmp, kv->path) == -1)
		die(EX_IOERR, "rename %s to %s", kv->tmp, kv->path);
	if ((fd = open(kv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		die(EX_IOERR, "fsync %s", kv->dir);
	close(fd);
	kv->dirty = false;
	kv->unsaved = 0;
	log_debug("saved %s pos=%" PRIu64 " keys=%zu", kv->path, kv->pos,
	    kv->map.count);
}

static const char *
apply_op(struct map *m, const char *op, const char *key, const char *val,
    bool *changed)
{
	const char *v;

	if (strcmp(op, "put") == 0) {
		map_put(m, key, val);
		*changed = true;
		return "ok";
	}
	if (strcmp(op, "get") == 0)
		return (v = map_get(m, key)) == NULL ? "null" : v;
	if (map_del(m, key))
		*changed = true;
	return "ok";
}

/* The MyPaxos message: {"type":"put","key":"name","value":"Mike"}. */
static const char *
exec_json(struct map *m, const char *cmd, size_t len, char *err,
    bool *changed)
{
	const char *res, *type, *key, *val = "";
	json_error_t je;
	json_t *root;

	if ((root = json_loadb(cmd, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		snprintf(err, ERR_LEN, "error: bad JSON: %s", je.text);
		return err;
	}
	type = json_string_value(json_object_get(root, "type"));
	key = json_string_value(json_object_get(root, "key"));
	if (type != NULL && strcmp(type, "put") == 0)
		val = json_string_value(json_object_get(root, "value"));
	if (!json_is_object(root) || type == NULL)
		res = "error: JSON command needs a string \"type\"";
	else if (strcmp(type, "put") && strcmp(type, "get") &&
	    strcmp(type, "delete"))
		res = "error: unknown command";
	else if (key == NULL || *key == '\0')
		res = "error: JSON command needs a non-empty string \"key\"";
	else if (val == NULL)
		res = "error: JSON put needs a string \"value\"";
	else if (strchr(key, '\n') != NULL || strchr(val, '\n') != NULL)
		res = "error: key or value contains a newline";
	else
		res = apply_op(m, type, key, val, changed);
	json_decref(root);	/* res points at the map or a literal */
	return res;
}

/* Returns the line to print, without its newline. */
static const char *
execute(struct map *m, char *cmd, size_t len, char *err, bool *changed)
{
	char *arg, *sp;

	if (memchr(cmd, '\0', len) != NULL)
		return "error: command contains a NUL byte";
	if (len == 0)
		return "error: empty command";
	if (cmd[0] == '{')
		return exec_json(m, cmd, len, err, changed);
	arg = NULL;
	if ((sp = strchr(cmd, ' ')) != NULL) {
		*sp = '\0';
		arg = sp + 1;
	}
	if (strcmp(cmd, "put") == 0) {
		/* VALUE is the rest of the line after one space, verbatim. */
		if (arg == NULL || (sp = strchr(arg, ' ')) == NULL || sp == arg)
			return "error: usage: put KEY VALUE";
		*sp = '\0';
		return apply_op(m, cmd, arg, sp + 1, changed);
	}
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "delete") == 0) {
		if (arg == NULL || *arg == '\0' || strchr(arg, ' ') != NULL) {
			snprintf(err, ERR_LEN, "error: usage: %s KEY", cmd);
			return err;
		}
		return apply_op(m, cmd, arg, NULL, changed);
	}
	return "error: unknown command";
}

static void
emit(const char *prefix, size_t plen, const char *text)
{
	if (fwrite(prefix, 1, plen, stdout) != plen ||
	    fputs(text, stdout) == EOF || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		die(EX_IOERR, "write stdout");
}

/* An optional "POS\t" prefix, echoed verbatim on the output line. */
static void
apply_line(struct kv *kv, char *line, size_t len)
{
	char err[ERR_LEN], *p = line;
	const char *res;
	bool changed = false;
	uint64_t pos = 0;
	size_t plen = strspn(line, "0123456789");

	if (plen > 0 && plen < len && line[plen] == '\t') {
		plen++;
		if (!get_num(&p, line + len, '\t', &pos) || pos == 0) {
			emit(line, plen, "error: bad position");
			return;
		}
		if (kv->path != NULL && pos <= kv->pos) {
			log_debug("skip pos=%" PRIu64 ": applied", pos);
			return;
		}
	} else
		plen = 0;
	res = execute(&kv->map, line + plen, len - plen, err, &changed);
	emit(line, plen, res);
	if (pos != 0)
		kv->pos = pos;
	if (changed || pos != 0) {
		kv->dirty = true;
		kv->unsaved++;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "position", no_argument, NULL, OPT_POSITION },
		{ NULL, 0, NULL, 0 }
	};
	struct kv kv = { 0 };
	struct reader rd = { .fd = STDIN_FILENO, .name = "stdin" };
	bool position = false;
	char *line, *slash;
	size_t len;
	int ch, verbose = 0;

	while ((ch = getopt_long(argc, argv, "hs:Vv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, EX_OK);
		case 's':
			kv.path = optarg;
			break;
		case 'V':
			puts("kv-apply " PAXOS_VERSION);
			return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
		case 'v':
			verbose++;
			break;
		case OPT_POSITION:
			position = true;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc || (kv.path != NULL && *kv.path == '\0'))
		usage(stderr, EX_USAGE);
	log_init("kv-apply", NULL, verbose);
	if (position && kv.path == NULL) {
		log_warnx("--position needs -s");
		usage(stderr, EX_USAGE);
	}
	/* A closed stdout would hand its fd to the state file. */
	if (fcntl(STDOUT_FILENO, F_GETFD) == -1)
		die(EX_IOERR, "stdout");
	signal(SIGPIPE, SIG_IGN);	/* a gone reader is EPIPE, exit 74 */

	map_grow(&kv.map);
	if (kv.path != NULL) {
		len = strlen(kv.path);
		kv.tmp = xrealloc(NULL, len + sizeof(".tmp"));
		snprintf(kv.tmp, len + sizeof(".tmp"), "%s.tmp", kv.path);
		if ((slash = strrchr(kv.path, '/')) == NULL)
			kv.dir = xstrdup(".");
		else {
			kv.dir = xstrdup(kv.path);	/* "/f" keeps "/" */
			kv.dir[slash - kv.path + (slash == kv.path)] = '\0';
		}
		state_load(&kv);
	}
	if (position) {
		printf("%" PRIu64 "\n", kv.pos);
		if (fflush(stdout) == EOF)
			die(EX_IOERR, "write stdout");
		goto cleanup;
	}

	/*
	 * Save whenever a read would block, so an idle pipeline has nothing
	 * unsaved.  While input streams in, save only once as many lines as
	 * the map has keys have been applied: a save rewrites every key, and
	 * this keeps its cost per line constant.
	 */
	for (;;) {
		if ((line = reader_line(&rd, &len)) != NULL) {
			apply_line(&kv, line, len);
			continue;
		}
		if (rd.eof)
			break;
		if (kv.dirty && kv.path != NULL &&
		    (kv.unsaved >= kv.map.count || !input_ready(rd.fd)))
			state_save(&kv);
		reader_fill(&rd);
	}
	if (kv.dirty && kv.path != NULL)
		state_save(&kv);

cleanup:
	map_free(&kv.map);
	free(rd.buf);
	free(kv.tmp);
	free(kv.dir);
	return EX_OK;
}
