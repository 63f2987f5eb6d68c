/* UDP transport: name resolution and sockets, IPv4 and IPv6. */
#ifndef PAXOS_NET_H
#define PAXOS_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct net_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/* Resolve host:port (a name, or an IPv4 or IPv6 literal).  0 or -1. */
int	net_resolve(const char *host, uint16_t port, struct net_addr *,
	    char *err, size_t errlen);
/* A non-blocking UDP socket bound to addr (port 0: ephemeral), or -1. */
int	net_bind(const struct net_addr *);
/* A non-blocking UDP socket of the family of addr, unbound, or -1. */
int	net_socket(const struct net_addr *);
/* "host:port" or "[v6]:port" for messages. */
const char *net_ntop(const struct net_addr *, char *buf, size_t len);

#endif
