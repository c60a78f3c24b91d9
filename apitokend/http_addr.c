/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http_addr.c - who the HTTP client is: the peer, or the address a
 * trusted proxy (http_trusted_proxies) names.  X-Forwarded-For's last
 * entry is the one the nearest proxy added, so the only one it vouches
 * for; the earlier ones are whatever the client sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "http.h"

static pthread_rwlock_t proxies_lock = PTHREAD_RWLOCK_INITIALIZER;
static char **proxies;		/* http_trusted_proxies, copied */
static size_t nproxies;

int
http_proxies_set(const struct apitoken_config *cfg)
{
	char **v = NULL, **old;
	size_t n = 0, nold;
	const char *s;

	while ((s = apitoken_config_http_trusted_proxy(cfg, n)) != NULL)
		if (apitoken_record_list_add(&v, &n, s) != 0) {
			apitoken_record_list_clear(&v, &n);
			return -1;
		}
	pthread_rwlock_wrlock(&proxies_lock);
	old = proxies;
	nold = nproxies;
	proxies = v;
	nproxies = n;
	pthread_rwlock_unlock(&proxies_lock);
	apitoken_record_list_clear(&old, &nold);
	return 0;
}

void
http_proxies_clear(void)
{
	pthread_rwlock_wrlock(&proxies_lock);
	apitoken_record_list_clear(&proxies, &nproxies);
	pthread_rwlock_unlock(&proxies_lock);
}

int
http_proxy_trusted(const char *peer)
{
	int unix_peer = strcmp(peer, "unix") == 0, yes = 0;
	size_t i;

	pthread_rwlock_rdlock(&proxies_lock);
	for (i = 0; i < nproxies && !yes; i++)
		yes = unix_peer ? strcmp(proxies[i], "unix") == 0 :
		    strcmp(proxies[i], "unix") != 0 &&
		    apitoken_cidr_match(proxies[i], peer) == 1;
	pthread_rwlock_unlock(&proxies_lock);
	return yes;
}

void
http_addr_copy(const char *s, size_t n, char *out, size_t outsize)
{
	char canon[INET6_ADDRSTRLEN];

	out[0] = '\0';
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= outsize)
		return;
	memcpy(out, s, n);
	out[n] = '\0';
	/* one spelling: the throttle counts and unlock match by it */
	if (apitoken_addr_canon(out, canon, sizeof(canon)) != 0 ||
	    strlen(canon) >= outsize)
		out[0] = '\0';
	else
		memcpy(out, canon, strlen(canon) + 1);
}

void
http_xff_last(const char *xff, char *out, size_t outsize)
{
	const char *comma = strrchr(xff, ',');
	const char *last = comma ? comma + 1 : xff;

	http_addr_copy(last, strlen(last), out, outsize);
}

void
http_sockaddr(const struct apitoken_listen *l, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_un *un = (struct sockaddr_un *)(void *)ss;
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (l->kind) {
	case APITOKEN_LISTEN_UNIX:
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, l->path, strlen(l->path) + 1);
		*len = sizeof(*un);
		break;
	case APITOKEN_LISTEN_TCP4:
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)l->port);
		inet_pton(AF_INET, l->addr, &in->sin_addr);
		*len = sizeof(*in);
		break;
	case APITOKEN_LISTEN_TCP6:
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)l->port);
		inet_pton(AF_INET6, l->addr, &in6->sin6_addr);
		*len = sizeof(*in6);
		break;
	}
}

int
http_unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}
