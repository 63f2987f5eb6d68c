/* paxos.conf(5) reading and checking, through inih. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"

#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_PATH_PRINT_MAX	183	/* "secret_file = " + path <= 197 */

/* Keys seen in [cluster], so a second one is an error. */
#define SEEN_SECRET	0x01
#define SEEN_TIMEOUT	0x02
#define SEEN_LEARNING	0x04
#define SEEN_DATA_DIR	0x08
#define SEEN_PERSIST	0x10
#define SEEN_MYID	0x20
#define SEEN_BUSY_POLL	0x40

/* Keys seen in a [node N] section. */
#define NSEEN_HOST	0x01
#define NSEEN_PORT	0x02
#define NSEEN_APORT	0x04
#define NSEEN_PPORT	0x08
#define NSEEN_LPORT	0x10
#define NSEEN_ROLES	0x20

struct parse {
	struct conf	*c;
	const char	*name;		/* file name for messages */
	const char	*dir;		/* relative paths start here */
	const char	*text;		/* what the reader hands inih */
	size_t		 off;
	int		 line;		/* line the reader last returned */
	int		 long_line;	/* first line over the inih limit */
	int		 err_line;
	char		 msg[CONF_ERRLEN];
	unsigned	 seen;
	unsigned	 nseen[CONF_MAX_NODES];
	char		 cur_section[64];
	int		 section_line;
	int		 myid_line;
	unsigned	 seen_cluster_header;
	unsigned	 n_headers;
	uint32_t	 header_ids[CONF_MAX_NODES];
};

static int	fail(struct parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	parse_uint(const char *, unsigned long long,
		    unsigned long long *);

/*
 * Check a section header where it stands: inih tells the handler about
 * a section only with its first key, so an empty unknown section would
 * pass and errors would name the wrong line.
 */
static void
section_header(struct parse *p, const char *line)
{
	char name[64];
	const char *close = strchr(line, ']');
	unsigned long long id;
	size_t len;

	p->section_line = p->line;
	if (close == NULL)
		return;		/* inih reports the syntax error */
	len = (size_t)(close - line - 1);
	if (len >= sizeof(name)) {
		fail(p, "section name too long");
		return;
	}
	memcpy(name, line + 1, len);
	name[len] = '\0';
	if (strcmp(name, "cluster") == 0) {
		if (p->seen_cluster_header++)
			fail(p, "duplicate section [cluster]");
		return;
	}
	if (strncmp(name, "node ", 5) != 0 ||
	    parse_uint(name + 5, UINT32_MAX, &id) == -1 || id == 0) {
		fail(p, "unknown section [%s]", name);
		return;
	}
	if (p->n_headers == CONF_MAX_NODES) {
		fail(p, "more than %d nodes", CONF_MAX_NODES);
		return;
	}
	for (unsigned i = 0; i < p->n_headers; i++)
		if (p->header_ids[i] == id) {
			fail(p, "duplicate section [node %llu]", id);
			return;
		}
	p->header_ids[p->n_headers++] = (uint32_t)id;
}

/*
 * inih reads through this, a line per call, so the handler knows the
 * line it is looking at: the prebuilt library does not pass it along.
 */
static char *
reader(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	size_t len = 0, end;

	if (p->text[p->off] == '\0')
		return NULL;
	end = p->off;
	while (p->text[end] != '\0' && p->text[end] != '\n')
		end++;
	len = end - p->off;
	p->line++;
	if (len + 2 >= (size_t)size) {
		/* inih would cut the line silently; refuse it instead. */
		if (p->long_line == 0)
			p->long_line = p->line;
		len = 0;
	}
	memcpy(buf, p->text + p->off, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	p->off = p->text[end] == '\n' ? end + 1 : end;
	if (len > 0 && buf[0] == '[')
		section_header(p, buf);
	return buf;
}

static int
fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line == 0) {
		p->err_line = p->line;
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
		va_end(ap);
	}
	return 0;
}

static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
set_path(struct parse *p, char *dst, size_t len, const char *name,
    const char *value)
{
	int n;

	if (value[0] == '\0')
		return fail(p, "%s: empty path", name);
	if (value[0] == '/')
		n = snprintf(dst, len, "%s", value);
	else
		n = snprintf(dst, len, "%s/%s", p->dir, value);
	/* -nv prints it absolute, and that line must load again. */
	if (n < 0 || (size_t)n >= len || n > CONF_PATH_PRINT_MAX)
		return fail(p, "%s: path too long (over %d bytes once made "
		    "absolute)", name, CONF_PATH_PRINT_MAX);
	return 1;
}

static int
set_ms(struct parse *p, unsigned *dst, const char *name, const char *value)
{
	unsigned long long v;

	if (parse_uint(value, 3600000, &v) == -1 || v == 0)
		return fail(p, "%s: '%s' is not a number of milliseconds "
		    "from 1 to 3600000", name, value);
	*dst = (unsigned)v;
	return 1;
}

static int
set_bool(struct parse *p, bool *dst, const char *name, const char *value)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
	    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
		*dst = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
		*dst = false;
	else
		return fail(p, "%s: '%s' is not yes or no", name, value);
	return 1;
}

static int
set_port(struct parse *p, uint16_t *dst, const char *name, const char *value,
    unsigned long long max)
{
	unsigned long long v;

	if (parse_uint(value, max, &v) == -1 || v == 0)
		return fail(p, "%s: '%s' is not a port from 1 to %llu", name,
		    value, max);
	*dst = (uint16_t)v;
	return 1;
}

static int
set_roles(struct parse *p, unsigned *dst, const char *value)
{
	char buf[256], *w, *save = NULL;
	unsigned roles = 0;

	if (strlen(value) >= sizeof(buf))
		return fail(p, "roles: too long");
	strcpy(buf, value);
	for (w = strtok_r(buf, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(w, "acceptor") == 0)
			roles |= ROLE_ACCEPTOR;
		else if (strcmp(w, "proposer") == 0)
			roles |= ROLE_PROPOSER;
		else if (strcmp(w, "learner") == 0)
			roles |= ROLE_LEARNER;
		else
			return fail(p, "roles: unknown role '%s'", w);
	}
	if (roles == 0)
		return fail(p, "roles: no role given");
	*dst = roles;
	return 1;
}

/* "node 12" -> index of node 12, adding it on first sight. */
static int
node_section(struct parse *p, const char *section, struct conf_node **out,
    unsigned **seen)
{
	struct conf *c = p->c;
	unsigned long long id;
	unsigned i;

	if (strncmp(section, "node ", 5) != 0 ||
	    parse_uint(section + 5, UINT32_MAX, &id) == -1 || id == 0)
		return fail(p, "unknown section [%s]", section);
	for (i = 0; i < c->n_nodes; i++) {
		if (c->nodes[i].id == id) {
			if (strcmp(p->cur_section, section) != 0)
				return fail(p, "[%s]: duplicate node id %llu",
				    section, id);
			*out = &c->nodes[i];
			*seen = &p->nseen[i];
			return 1;
		}
	}
	if (c->n_nodes == CONF_MAX_NODES)
		return fail(p, "more than %d nodes", CONF_MAX_NODES);
	*out = &c->nodes[c->n_nodes];
	*seen = &p->nseen[c->n_nodes];
	memset(*out, 0, sizeof(**out));
	(*out)->id = (uint32_t)id;
	(*out)->roles = ROLE_ALL;
	(*out)->line = p->section_line;
	c->n_nodes++;
	snprintf(p->cur_section, sizeof(p->cur_section), "%s", section);
	return 1;
}

#define ONCE(set, bit, key) do {					\
	if (((set) & (bit)) != 0)					\
		return fail(p, "%s: duplicate key", (key));		\
	(set) |= (bit);							\
} while (0)

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct conf *c = p->c;
	struct conf_node *n = NULL;
	unsigned *seen = NULL;
	unsigned long long v;

	if (p->err_line != 0)
		return 0;
	if (section[0] == '\0')
		return fail(p, "%s: key before any section", name);
	if (strcmp(section, "cluster") == 0) {
		snprintf(p->cur_section, sizeof(p->cur_section), "cluster");
		if (strcmp(name, "secret_file") == 0) {
			ONCE(p->seen, SEEN_SECRET, name);
			return set_path(p, c->secret_file,
			    sizeof(c->secret_file), name, value);
		}
		if (strcmp(name, "timeout") == 0) {
			ONCE(p->seen, SEEN_TIMEOUT, name);
			return set_ms(p, &c->timeout_ms, name, value);
		}
		if (strcmp(name, "learning_interval") == 0) {
			ONCE(p->seen, SEEN_LEARNING, name);
			return set_ms(p, &c->learning_interval_ms, name, value);
		}
		if (strcmp(name, "data_dir") == 0) {
			ONCE(p->seen, SEEN_DATA_DIR, name);
			return set_path(p, c->data_dir, sizeof(c->data_dir),
			    name, value);
		}
		if (strcmp(name, "persist") == 0) {
			ONCE(p->seen, SEEN_PERSIST, name);
			return set_bool(p, &c->persist, name, value);
		}
		if (strcmp(name, "busy_poll") == 0) {
			ONCE(p->seen, SEEN_BUSY_POLL, name);
			if (parse_uint(value, CONF_BUSY_POLL_MAX, &v) == -1)
				return fail(p, "busy_poll: '%s' is not a number "
				    "of microseconds from 0 to %u", value,
				    CONF_BUSY_POLL_MAX);
			c->busy_poll_us = (unsigned)v;
			return 1;
		}
		if (strcmp(name, "myid") == 0) {
			ONCE(p->seen, SEEN_MYID, name);
			p->myid_line = p->line;
			if (parse_uint(value, UINT32_MAX, &v) == -1 || v == 0)
				return fail(p, "myid: '%s' is not a node id",
				    value);
			c->myid = (uint32_t)v;
			return 1;
		}
		return fail(p, "unknown key [cluster] %s", name);
	}
	if (node_section(p, section, &n, &seen) == 0)
		return 0;
	if (strcmp(name, "host") == 0) {
		ONCE(*seen, NSEEN_HOST, name);
		/* A name or address has no blank, ';' or '#' in it. */
		if (value[0] == '\0' || strlen(value) >= sizeof(n->host) ||
		    strpbrk(value, " \t;#") != NULL)
			return fail(p, "host: '%s' is not a host name", value);
		strcpy(n->host, value);
		return 1;
	}
	if (strcmp(name, "port") == 0) {
		ONCE(*seen, NSEEN_PORT, name);
		return set_port(p, &n->port, name, value, 65535 - 3);
	}
	if (strcmp(name, "acceptor_port") == 0) {
		ONCE(*seen, NSEEN_APORT, name);
		return set_port(p, &n->acceptor_port, name, value, 65535);
	}
	if (strcmp(name, "proposer_port") == 0) {
		ONCE(*seen, NSEEN_PPORT, name);
		return set_port(p, &n->proposer_port, name, value, 65535);
	}
	if (strcmp(name, "learner_port") == 0) {
		ONCE(*seen, NSEEN_LPORT, name);
		return set_port(p, &n->learner_port, name, value, 65535);
	}
	if (strcmp(name, "roles") == 0) {
		ONCE(*seen, NSEEN_ROLES, name);
		return set_roles(p, &n->roles, value);
	}
	return fail(p, "unknown key [%s] %s", section, name);
}

static int
node_cmp(const void *a, const void *b)
{
	const struct conf_node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Checks that span keys and sections, once the whole file is read. */
static int
check(struct parse *p)
{
	struct conf *c = p->c;
	struct conf_node *n;
	unsigned i, j;

	if ((p->seen & SEEN_SECRET) == 0)
		return fail(p, "[cluster] secret_file is required");
	if (c->n_nodes == 0)
		return fail(p, "no [node N] section");
	for (i = 0; i < c->n_nodes; i++) {
		n = &c->nodes[i];
		p->line = n->line;
		if ((p->nseen[i] & NSEEN_HOST) == 0)
			return fail(p, "[node %" PRIu32 "]: host is required",
			    n->id);
		if (n->port != 0) {
			if (n->acceptor_port == 0)
				n->acceptor_port = n->port + 1;
			if (n->proposer_port == 0)
				n->proposer_port = n->port + 2;
			if (n->learner_port == 0)
				n->learner_port = n->port + 3;
		}
		if (((n->roles & ROLE_ACCEPTOR) && n->acceptor_port == 0) ||
		    ((n->roles & ROLE_PROPOSER) && n->proposer_port == 0) ||
		    ((n->roles & ROLE_LEARNER) && n->learner_port == 0))
			return fail(p, "[node %" PRIu32 "]: port is required",
			    n->id);
	}
	qsort(c->nodes, c->n_nodes, sizeof(c->nodes[0]), node_cmp);
	for (i = 0; i < c->n_nodes; i++) {
		for (j = i + 1; j < c->n_nodes; j++) {
			const struct conf_node *a = &c->nodes[i];
			const struct conf_node *b = &c->nodes[j];
			if (strcmp(a->host, b->host) != 0)
				continue;
			if ((a->roles & ROLE_ACCEPTOR && b->roles &
			    ROLE_ACCEPTOR && a->acceptor_port ==
			    b->acceptor_port) ||
			    (a->roles & ROLE_PROPOSER && b->roles &
			    ROLE_PROPOSER && a->proposer_port ==
			    b->proposer_port) ||
			    (a->roles & ROLE_LEARNER && b->roles &
			    ROLE_LEARNER && a->learner_port ==
			    b->learner_port)) {
				p->line = b->line;
				return fail(p, "[node %" PRIu32 "]: same "
				    "address as node %" PRIu32, b->id, a->id);
			}
		}
	}
	if (conf_count(c, ROLE_ACCEPTOR) == 0)
		return fail(p, "no node has the acceptor role");
	if (conf_count(c, ROLE_PROPOSER) == 0)
		return fail(p, "no node has the proposer role");
	if (c->myid != 0 && conf_node(c, c->myid) == NULL) {
		p->line = p->myid_line;
		return fail(p, "myid %" PRIu32 " is not a [node N] section",
		    c->myid);
	}
	return 1;
}

int
conf_load_string(struct conf *c, const char *text, const char *name,
    const char *dir, char *err, size_t errlen)
{
	struct parse p;
	int r;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	c->timeout_ms = 1000;
	c->learning_interval_ms = 1000;
	c->persist = true;
	snprintf(c->path, sizeof(c->path), "%s", name);
	p.c = c;
	p.name = name;
	p.dir = dir;
	p.text = text;
	r = ini_parse_stream(reader, &p, handler, &p);
	if (p.long_line != 0 && (p.err_line == 0 || p.long_line < p.err_line)) {
		snprintf(err, errlen, "%s:%d: line too long (over 197 bytes)",
		    name, p.long_line);
		return -1;
	}
	if (p.err_line != 0) {
		snprintf(err, errlen, "%s:%d: %s", name, p.err_line, p.msg);
		return -1;
	}
	if (r != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", name, r);
		return -1;
	}
	if (c->data_dir[0] == '\0' && set_path(&p, c->data_dir,
	    sizeof(c->data_dir), "data_dir", "data") == 0) {
		snprintf(err, errlen, "%s: %s", name, p.msg);
		return -1;
	}
	p.line = 0;
	if (check(&p) == 0) {
		if (p.err_line != 0)
			snprintf(err, errlen, "%s:%d: %s", name, p.err_line,
			    p.msg);
		else
			snprintf(err, errlen, "%s: %s", name, p.msg);
		return -1;
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], *text = NULL, *slash;
	ssize_t n;
	size_t len = 0;
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((text = malloc(CONF_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	while ((n = read(fd, text + len, CONF_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (n == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (len == CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: file too large", path);
		goto cleanup;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto cleanup;
	}
	text[len] = '\0';
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (dir[0] != '/') {
		char cwd[PATH_MAX], abs[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(err, errlen, "getcwd: %s", strerror(errno));
			goto cleanup;
		}
		if ((size_t)snprintf(abs, sizeof(abs), "%s%s%s", cwd,
		    strcmp(dir, ".") == 0 ? "" : "/",
		    strcmp(dir, ".") == 0 ? "" : dir) >= sizeof(abs)) {
			snprintf(err, errlen, "%s: path too long", path);
			goto cleanup;
		}
		strcpy(dir, abs);
	}
	r = conf_load_string(c, text, path, dir, err, errlen);
cleanup:
	free(text);
	close(fd);
	return r;
}

const struct conf_node *
conf_node(const struct conf *c, uint32_t id)
{
	unsigned i;

	for (i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}

unsigned
conf_count(const struct conf *c, unsigned role)
{
	unsigned i, n = 0;

	for (i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].roles & role)
			n++;
	return n;
}

int
conf_index(const struct conf *c, unsigned role, uint32_t id)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < c->n_nodes; i++) {
		if ((c->nodes[i].roles & role) == 0)
			continue;
		if (c->nodes[i].id == id)
			return n;
		n++;
	}
	return -1;
}

uint16_t
conf_port(const struct conf_node *n, unsigned role)
{
	switch (role) {
	case ROLE_ACCEPTOR:
		return n->acceptor_port;
	case ROLE_PROPOSER:
		return n->proposer_port;
	default:
		return n->learner_port;
	}
}

static const char *
role_name(unsigned role)
{
	return role == ROLE_ACCEPTOR ? "acceptor" :
	    role == ROLE_PROPOSER ? "proposer" : "learner";
}

int
conf_pick_id(const struct conf *c, const char *arg, unsigned role,
    uint32_t *id, char *err, size_t errlen)
{
	const struct conf_node *n;
	unsigned long long v;

	if (arg != NULL) {
		if (parse_uint(arg, UINT32_MAX, &v) == -1 || v == 0) {
			snprintf(err, errlen, "-i %s: not a node id", arg);
			return -1;
		}
	} else if (c->myid != 0) {
		v = c->myid;
	} else {
		snprintf(err, errlen, "%s: no node id: give -i or set myid",
		    c->path);
		return -1;
	}
	if ((n = conf_node(c, (uint32_t)v)) == NULL) {
		snprintf(err, errlen, "%s: node %llu is not in the "
		    "configuration", c->path, v);
		return -1;
	}
	if ((n->roles & role) == 0) {
		snprintf(err, errlen, "%s:%d: node %llu has no %s role",
		    c->path, n->line, v, role_name(role));
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

void
conf_print(const struct conf *c, FILE *f)
{
	const struct conf_node *n;
	unsigned i;

	fprintf(f, "[cluster]\nsecret_file = %s\ntimeout = %u\n"
	    "learning_interval = %u\ndata_dir = %s\npersist = %s\n",
	    c->secret_file, c->timeout_ms, c->learning_interval_ms,
	    c->data_dir, c->persist ? "yes" : "no");
	if (c->busy_poll_us != 0)
		fprintf(f, "busy_poll = %u\n", c->busy_poll_us);
	if (c->myid != 0)
		fprintf(f, "myid = %" PRIu32 "\n", c->myid);
	for (i = 0; i < c->n_nodes; i++) {
		n = &c->nodes[i];
		fprintf(f, "\n[node %" PRIu32 "]\nhost = %s\n", n->id, n->host);
		if (n->roles & ROLE_ACCEPTOR)
			fprintf(f, "acceptor_port = %u\n", n->acceptor_port);
		if (n->roles & ROLE_PROPOSER)
			fprintf(f, "proposer_port = %u\n", n->proposer_port);
		if (n->roles & ROLE_LEARNER)
			fprintf(f, "learner_port = %u\n", n->learner_port);
		fprintf(f, "roles =%s%s%s\n",
		    n->roles & ROLE_ACCEPTOR ? " acceptor" : "",
		    n->roles & ROLE_PROPOSER ? " proposer" : "",
		    n->roles & ROLE_LEARNER ? " learner" : "");
	}
}

int
conf_read_secret(const struct conf *c, uint8_t key[32], bool *client_only,
    char *err, size_t errlen)
{
	char buf[256], *b64 = buf;
	struct stat st;
	size_t keylen, len;
	ssize_t n;
	int fd, r = -1;

	fd = open(c->secret_file, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", c->secret_file,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", c->secret_file,
		    strerror(errno));
		goto cleanup;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %03o, want 600 (the secret "
		    "must not be readable by group or others)", c->secret_file,
		    (unsigned)(st.st_mode & 0777));
		goto cleanup;
	}
	len = 0;
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	*client_only = strncmp(buf, CONF_CLIENT_PREFIX,
	    strlen(CONF_CLIENT_PREFIX)) == 0;
	if (*client_only) {
		b64 += strlen(CONF_CLIENT_PREFIX);
		len -= strlen(CONF_CLIENT_PREFIX);
	}
	if (sodium_base642bin(key, 32, b64, len, NULL, &keylen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || keylen != 32) {
		snprintf(err, errlen, "%s: not a base64 32-byte secret "
		    "(make one with paxos-keygen)", c->secret_file);
		goto cleanup;
	}
	r = 0;
cleanup:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}
