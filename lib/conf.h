/* The cluster configuration, paxos.conf(5): INI read with inih. */
#ifndef PAXOS_CONF_H
#define PAXOS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_MAX_NODES		32
#define CONF_ERRLEN		1024
#define CONF_BUSY_POLL_MAX	10000	/* microseconds */
#define CONF_DEFAULT_PATH	SYSCONFDIR "/paxos/paxos.conf"

#define ROLE_ACCEPTOR	0x1
#define ROLE_PROPOSER	0x2
#define ROLE_LEARNER	0x4
#define ROLE_ALL	(ROLE_ACCEPTOR | ROLE_PROPOSER | ROLE_LEARNER)

struct conf_node {
	uint32_t	 id;
	char		 host[256];
	uint16_t	 port;		/* base port; 0 when not given */
	uint16_t	 acceptor_port;	/* derived from port unless set */
	uint16_t	 proposer_port;
	uint16_t	 learner_port;
	unsigned	 roles;		/* ROLE_* bits */
	int		 line;		/* line of its [node N] header */
};

struct conf {
	char		 path[PATH_MAX];
	char		 secret_file[PATH_MAX];	/* absolute once loaded */
	char		 data_dir[PATH_MAX];	/* absolute once loaded */
	unsigned	 timeout_ms;
	unsigned	 learning_interval_ms;
	bool		 persist;
	unsigned	 busy_poll_us;		/* daemons spin this long */
	uint32_t	 myid;			/* 0: not set */
	unsigned	 n_nodes;
	struct conf_node nodes[CONF_MAX_NODES];	/* sorted by id */
};

/*
 * Both return 0, or -1 with "FILE:LINE: what is wrong" in err.  name is
 * used in messages and, for conf_load_string, relative paths are taken
 * relative to dir.
 */
int	conf_load(struct conf *, const char *path, char *err, size_t errlen);
int	conf_load_string(struct conf *, const char *text, const char *name,
	    const char *dir, char *err, size_t errlen);

const struct conf_node *conf_node(const struct conf *, uint32_t id);
unsigned conf_count(const struct conf *, unsigned role);
/* Index of node id among the nodes with the role, or -1. */
int	conf_index(const struct conf *, unsigned role, uint32_t id);
uint16_t conf_port(const struct conf_node *, unsigned role);

/*
 * conf_pick_id: the node id a program runs as: the -i argument when
 * given (arg != NULL), else myid.  Returns -1 with err set when there is
 * none, it is malformed, or the node lacks the role.
 */
int	conf_pick_id(const struct conf *, const char *arg, unsigned role,
	    uint32_t *id, char *err, size_t errlen);

/* Print the configuration as understood, in canonical form (-nv). */
void	conf_print(const struct conf *, FILE *);

/*
 * Read the secret: the base64 cluster secret, or a client key (what
 * paxos-keygen --client prints: CONF_CLIENT_PREFIX and base64), which
 * sets *client_only.  Refuse a file that group or others may read.
 * Returns 0, or -1 with err set.
 */
#define CONF_CLIENT_PREFIX	"client:"
int	conf_read_secret(const struct conf *, uint8_t key[32],
	    bool *client_only, char *err, size_t errlen);

#endif
