/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.c - the addresses apitokend's HTTP front end may listen on
 * (config key http_listen): a Unix socket, or a TCP port on a loopback
 * address.  Anything else is refused, not warned about: the endpoint
 * speaks plain HTTP with tokens in it and answers whose a token is, so
 * it belongs behind a proxy on the same host (apitokend(8), HTTP).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "internal.h"

_Static_assert(sizeof(((struct apitoken_listen *)0)->path) <=
    sizeof(((struct sockaddr_un *)0)->sun_path), "listen path too long");

#define MSG_LISTEN "must be \"unix:/absolute/path\", or a loopback " \
	"address and port: \"127.0.0.1:PORT\" (any of 127.0.0.0/8) or " \
	"\"[::1]:PORT\""

/* "1".."65535", decimal, no sign or leading zero. */
static int
port_parse(const char *s, unsigned *port)
{
	unsigned v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int
listen_unix(const char *path, struct apitoken_listen *l, char *err,
    size_t errlen)
{
	if (!abs_path_ok(path) || strlen(path) >= sizeof(l->path))
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "a Unix "
		    "socket must be a clean absolute path of at most %zu "
		    "bytes", sizeof(l->path) - 1);
	l->kind = APITOKEN_LISTEN_UNIX;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return APITOKEN_OK;
}

/* "a.b.c.d:PORT" or "[v6]:PORT", the address on loopback. */
static int
listen_tcp(const char *s, struct apitoken_listen *l, char *err,
    size_t errlen)
{
	const char *colon = strrchr(s, ':'), *a = s;
	size_t n;

	if (colon == NULL || port_parse(colon + 1, &l->port) != 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
		    MSG_LISTEN);
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
			    MSG_LISTEN);
		a++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(l->addr))
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
		    MSG_LISTEN);
	memcpy(l->addr, a, n);
	l->addr[n] = '\0';
	if ((s[0] == '[') != (strchr(l->addr, ':') != NULL) ||
	    apitoken_addr_valid(l->addr) != 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
		    MSG_LISTEN);
	l->kind = s[0] == '[' ? APITOKEN_LISTEN_TCP6 : APITOKEN_LISTEN_TCP4;
	if (l->kind == APITOKEN_LISTEN_TCP4 ?
	    apitoken_cidr_match("127.0.0.0/8", l->addr) != 1 :
	    apitoken_cidr_match("::1/128", l->addr) != 1)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "not a "
		    "loopback address (the endpoint serves a proxy on this "
		    "host; see apitokend(8))");
	return APITOKEN_OK;
}

int
apitoken_listen_parse(const char *s, struct apitoken_listen *l, char *err,
    size_t errlen)
{
	int r;

	memset(l, 0, sizeof(*l));
	if (strncmp(s, "unix:", 5) == 0)
		r = listen_unix(s + 5, l, err, errlen);
	else
		r = listen_tcp(s, l, err, errlen);
	if (r != APITOKEN_OK)
		memset(l, 0, sizeof(*l));
	return r;
}
