/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.c - the HTTP forward-auth front end (apitokend(8), HTTP): GNU
 * libmicrohttpd on the http_listen addresses, one answer per request to
 * "may this request to /auth/<service> pass?" for nginx auth_request,
 * Caddy forward_auth, Traefik ForwardAuth and Envoy ext_authz.
 *
 * Every token decision goes through core_verify (throttling, the store,
 * last use, the log line).  The answer carries no reason: 200 with the
 * identity headers, 401/403 with RFC 6750's WWW-Authenticate, 400 for a
 * malformed Authorization header, 500 when the store cannot be read.
 * A request body is never read; the method does not matter (a proxy
 * forwards the original one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"

#define HTTP_LISTEN_MAX 16	/* as config.c's limit */

static struct {
	struct core *core;
	struct MHD_Daemon *d[HTTP_LISTEN_MAX];
	char unlink_path[HTTP_LISTEN_MAX][108];	/* our Unix sockets */
	size_t n;
	char **listen;		/* http_listen as started */
	size_t nlisten;
} H;

/* ------------------------------------------------------------ answers */

/* Header values we set: RFC 9110 field values, so no CR, LF or NUL can
 * reach them (labels and users have no control characters anyway). */
static int
add(struct MHD_Response *r, const char *name, const char *value)
{
	return MHD_add_response_header(r, name, value) == MHD_YES ? 0 : -1;
}

/* error: NULL (no credential), or an RFC 6750 error code. */
static int
challenge(struct MHD_Response *r, const char *service, const char *error)
{
	char v[160];

	if (error != NULL)
		snprintf(v, sizeof(v), "Bearer realm=\"%s\", error=\"%s\"",
		    service, error);
	else
		snprintf(v, sizeof(v), "Bearer realm=\"%s\"", service);
	return add(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, v);
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *service,
    const char *error, const struct apitoken_result *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	int bad = 0;

	r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;	/* closes the connection: no answer, no pass */
	/* a decision is about this request's credential: never cached */
	bad |= add(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_OK) {
		bad |= add(r, HTTP_HDR_USER, res->user);
		bad |= add(r, HTTP_HDR_ID, res->id);
		bad |= add(r, HTTP_HDR_LABEL, res->label);
	} else if (status == MHD_HTTP_UNAUTHORIZED ||
	    status == MHD_HTTP_FORBIDDEN || status == MHD_HTTP_BAD_REQUEST)
		bad |= challenge(r, service, error);
	if (!bad)
		ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The status for a decision (apitokend(8), HTTP, "Answers"). */
unsigned
http_status(enum apitoken_reason reason, const char **error)
{
	*error = "invalid_token";
	switch (reason) {
	case APITOKEN_ACCEPTED:
		*error = NULL;
		return MHD_HTTP_OK;
	case APITOKEN_R_SERVICE:
	case APITOKEN_R_SOURCE:
	case APITOKEN_R_HOST:
		*error = "insufficient_scope";
		return MHD_HTTP_FORBIDDEN;
	case APITOKEN_R_STORE_ERROR:
	case APITOKEN_R_UNAVAILABLE:
	case APITOKEN_R_STALE:
		*error = NULL;
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default:	/* a presented token that may not pass */
		return MHD_HTTP_UNAUTHORIZED;
	}
}

/* ----------------------------------------------------------- requests */

struct hdrs {
	const char *auth;	/* the Authorization value */
	int nauth;
	const char *xff;	/* the last X-Forwarded-For */
	const char *real_ip;	/* X-Real-IP, when given once */
	int nreal;
};

static enum MHD_Result
header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdrs *h = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
		h->auth = value;
		h->nauth++;
	} else if (strcasecmp(key, "X-Forwarded-For") == 0)
		h->xff = value;
	else if (strcasecmp(key, "X-Real-IP") == 0) {
		h->real_ip = value;
		h->nreal++;
	}
	return MHD_YES;
}

/*
 * The client's address: the peer's, or, when the peer is a trusted
 * proxy, the last X-Forwarded-For entry (the one that proxy added) or
 * else X-Real-IP.  "" when unknown (a Unix socket peer, a header that is
 * not an address); *peer gets the peer ("unix" for a Unix socket).
 */
static void
client_addr(struct MHD_Connection *conn, const struct hdrs *h, char *out,
    size_t outsize, char *peer, size_t peersize)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa = NULL;

	out[0] = '\0';
	snprintf(peer, peersize, "unix");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL)
		sa = ci->client_addr;
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, peer, (socklen_t)peersize);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, peer, (socklen_t)peersize);
	if (strcmp(peer, "unix") != 0)
		snprintf(out, outsize, "%s", peer);
	if (!http_proxy_trusted(peer))
		return;
	if (h->xff != NULL)
		http_xff_last(h->xff, out, outsize);
	else if (h->real_ip != NULL && h->nreal == 1)
		http_addr_copy(h->real_ip, strlen(h->real_ip), out, outsize);
}

static enum MHD_Result
decide(struct MHD_Connection *conn, const char *service, const struct hdrs *h,
    const char *rhost)
{
	struct apitoken_result res;
	struct apitoken_auth a;
	struct ask ask;
	const char *error;
	enum MHD_Result ret;
	unsigned status;
	int r;

	memset(&ask, 0, sizeof(ask));
	memset(&res, 0, sizeof(res));
	ask.uid = (uid_t)-1;
	ask.front = "http";
	ask.service = service;
	ask.rhost = rhost[0] ? rhost : NULL;
	if (h->nauth == 0) {
		core_log(LOG_INFO, "rejected no credential service=%s rhost=%s "
		    "front=http", service, rhost[0] ? rhost : "-");
		return answer(conn, MHD_HTTP_UNAUTHORIZED, service, NULL, &res);
	}
	r = h->nauth > 1 ? APITOKEN_ERR_INVALID :
	    apitoken_auth_parse(h->auth, strlen(h->auth), &a);
	/* libmicrohttpd parses the request in place: this wipes the only
	 * copy of the header it holds */
	apitoken_wipe((void *)(uintptr_t)h->auth, strlen(h->auth));
	if (r != 0) {
		res.reason = APITOKEN_R_MALFORMED;
		snprintf(res.detail, sizeof(res.detail), "malformed "
		    "Authorization header");
		core_log_decision(&ask, &res);
		return answer(conn, MHD_HTTP_BAD_REQUEST, service,
		    "invalid_request", &res);
	}
	ask.method = apitoken_auth_scheme_str(a.scheme);
	ask.user = a.scheme == APITOKEN_AUTH_BASIC ? a.user : NULL;
	ask.token = a.token;
	ask.len = a.len;
	status = http_status(core_verify(H.core, &ask, &res), &error);
	apitoken_auth_clear(&a);
	ret = answer(conn, status, service, error, &res);
	apitoken_wipe(&res, sizeof(res));
	return ret;
}

/*
 * The service of "/auth/<service>" or "/auth/<service>/<anything>" (Envoy
 * appends the request's path to its path_prefix): 0, or -1 when the path
 * is another or the name is not a PAM service name.
 */
static int
service_of(const char *url, char *svc, size_t size)
{
	size_t n;

	if (strncmp(url, "/auth/", 6) != 0)
		return -1;
	url += 6;
	n = strcspn(url, "/");
	if (n == 0 || n >= size)
		return -1;
	memcpy(svc, url, n);
	svc[n] = '\0';
	return apitoken_service_valid(svc) == 0 ? 0 : -1;
}

/* 1 if the request announces a body (which is never read: the answer
 * then comes at once and the connection closes after it). */
static int
has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl != NULL && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	static int seen;
	struct hdrs h;
	char rhost[64], peer[64], service[APITOKEN_SERVICE_MAX + 1];
	struct apitoken_result none;

	(void)cls, (void)method, (void)version, (void)upload;
	(void)upload_size;
	/* The head is complete at the first call.  Without a body, answer
	 * at the second (so the connection stays open for the next). */
	if (*req == NULL && !has_body(conn)) {
		*req = &seen;
		return MHD_YES;
	}
	if (service_of(url, service, sizeof(service)) != 0) {
		memset(&none, 0, sizeof(none));
		return answer(conn, MHD_HTTP_NOT_FOUND, "", NULL, &none);
	}
	memset(&h, 0, sizeof(h));
	MHD_get_connection_values(conn, MHD_HEADER_KIND, header, &h);
	client_addr(conn, &h, rhost, sizeof(rhost), peer, sizeof(peer));
	return decide(conn, service, &h, rhost);
}

/* --------------------------------------------------------- listening */

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\r\n")] = '\0';
	core_log(LOG_INFO, "http: %s", buf);
}

/* A listening socket for one http_listen entry (O_NONBLOCK, CLOEXEC);
 * -1 with err naming it. */
static int
open_listener(const char *entry, const struct apitoken_listen *l, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, one = 1;

	http_sockaddr(l, &ss, &sl);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		goto fail;
	if (l->kind != APITOKEN_LISTEN_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (l->kind == APITOKEN_LISTEN_UNIX && http_unlink_stale(l->path) != 0)
		goto fail;
	/* a Unix socket is as open as a loopback port: 0666 */
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    (l->kind == APITOKEN_LISTEN_UNIX && chmod(l->path, 0666) != 0) ||
	    listen(fd, 1024) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "http_listen %s: %s", entry, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static struct MHD_Daemon *
start_mhd(int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG;

	return MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_CONNECTION, http_reap_notify, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, http_reap_completed, NULL,
	    MHD_OPTION_END);
}

static int
start_one(const char *entry, char *err, size_t errlen)
{
	struct apitoken_listen l;
	char why[256];
	int fd;

	if (apitoken_listen_parse(entry, &l, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "http_listen %s: %s", entry, why);
		return -1;
	}
	if ((fd = open_listener(entry, &l, err, errlen)) < 0)
		return -1;
	if ((H.d[H.n] = start_mhd(fd)) == NULL) {
		close(fd);
		if (l.kind == APITOKEN_LISTEN_UNIX)
			unlink(l.path);
		snprintf(err, errlen, "%s: libmicrohttpd did not start", entry);
		return -1;
	}
	snprintf(H.unlink_path[H.n], sizeof(H.unlink_path[0]), "%s",
	    l.kind == APITOKEN_LISTEN_UNIX ? l.path : "");
	H.n++;
	core_log(LOG_INFO, "http: listening on %s", entry);
	return 0;
}

static void
http_stop(void)
{
	size_t i;

	for (i = 0; i < H.n; i++) {
		MHD_stop_daemon(H.d[i]);
		if (H.unlink_path[i][0] != '\0')
			unlink(H.unlink_path[i]);
	}
	H.n = 0;
	http_reap_stop();
	http_proxies_clear();
	apitoken_record_list_clear(&H.listen, &H.nlisten);
}

/* Remember http_listen as started (a reload compares with it). */
static int
keep_listen(const struct apitoken_config *cfg)
{
	const char *s;
	size_t i;

	for (i = 0; (s = apitoken_config_http_listen(cfg, i)) != NULL; i++)
		if (apitoken_record_list_add(&H.listen, &H.nlisten, s) != 0)
			return -1;
	return 0;
}

static int
http_start(struct core *c, char *err, size_t errlen)
{
	const struct apitoken_config *cfg = core_config_get(c);
	const char *s;
	size_t i;
	int r = -1;

	H.core = c;
	snprintf(err, errlen, "out of memory");
	if (http_proxies_set(cfg) != 0 || keep_listen(cfg) != 0)
		goto out;
	if (H.nlisten == 0) {
		r = 0;	/* off */
		goto out;
	}
	if (http_reap_start(err, errlen) != 0)
		goto out;
	for (i = 0; (s = apitoken_config_http_listen(cfg, i)) != NULL; i++)
		if (start_one(s, err, errlen) != 0)
			goto out;
	r = 0;
out:
	core_config_put(c, cfg);
	if (r != 0)
		http_stop();
	return r;
}

/* A reload takes new trusted proxies at once; a changed http_listen
 * needs a restart (said in the log). */
static void
http_reload(struct core *c)
{
	const struct apitoken_config *cfg = core_config_get(c);
	const char *s;
	size_t i;
	int same = 1;

	if (http_proxies_set(cfg) != 0)
		core_log(LOG_ERR, "http: reload: out of memory; "
		    "http_trusted_proxies kept");
	for (i = 0; (s = apitoken_config_http_listen(cfg, i)) != NULL; i++)
		if (i >= H.nlisten || strcmp(s, H.listen[i]) != 0)
			same = 0;
	if (!same || i != H.nlisten)
		core_log(LOG_WARNING, "http: http_listen changed; restart "
		    "apitokend to apply it (still serving the old addresses)");
	core_config_put(c, cfg);
}

const struct front http_front = {
	"http", http_start, http_reload, http_stop
};
