/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.c - the client side of apitokend (apitokend(8), PROTOCOL): used
 * by the PAM module (mode=auto|daemon) and by tokenctl.
 *
 * A PAM module runs inside someone else's process, so the client:
 *  - never waits longer than the caller's budget in all (connect, send and
 *    receive share one deadline; a screen locker must not hang);
 *  - never raises SIGPIPE (MSG_NOSIGNAL) and leaks no descriptor across
 *    exec (SOCK_CLOEXEC);
 *  - checks the server as the server checks its callers (SSSD's rule):
 *    the socket file is a socket owned by root, and the process that
 *    accepted the connection runs as root (SO_PEERCRED).  A socket anyone
 *    else could have bound is never sent a token;
 *  - wipes the encoded request, which holds the token, on every path;
 *  - treats a reply it cannot fully validate as no reply: fail closed.
 * Every error names the socket: "apitokend at PATH: what went wrong".
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "internal.h"

#define FRAME_HDR 4	/* the big-endian body length */
#define RETRY_MS 10	/* a full listen queue: try connect again */

/* ------------------------------------------------------- deadlines */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t end)
{
	int64_t left = end - now_ms();

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* A budget the caller gave, cut to the longest any client waits. */
static int64_t
deadline(int timeout_ms)
{
	if (timeout_ms <= 0 || timeout_ms > APITOKEN_CLIENT_TIMEOUT_MS)
		timeout_ms = APITOKEN_CLIENT_TIMEOUT_MS;
	return now_ms() + timeout_ms;
}

/* Wait for events on fd until end: 0, or -1 with errno (ETIMEDOUT). */
static int
wait_fd(int fd, short events, int64_t end)
{
	struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
	int r;

	for (;;) {
		r = poll(&p, 1, left_ms(end));
		if (r > 0)
			return 0;	/* ready, or HUP/ERR: the I/O says */
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* ---------------------------------------------------------- errors */

/* "apitokend at PATH: text" into err; returns code. */
static int
client_err(char *err, size_t errlen, const char *path, int code,
    const char *text)
{
	return set_err(err, errlen, code, "apitokend at %s: %s", path, text);
}

/* The same with strerror(e), and what it usually means. */
static int
errno_err(char *err, size_t errlen, const char *path, const char *what,
    int e)
{
	const char *hint = "";
	char text[128];

	/* "connection refused", as in the rest of the sentence */
	snprintf(text, sizeof(text), "%s", strerror(e));
	if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' &&
	    text[1] <= 'z')
		text[0] = (char)(text[0] - 'A' + 'a');
	if (e == ENOENT || e == ECONNREFUSED)
		hint = " (is apitokend running?)";
	else if (e == ETIMEDOUT)
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM,
		    "apitokend at %s: no answer within %d ms", path,
		    APITOKEN_CLIENT_TIMEOUT_MS);
	return set_err(err, errlen, e == EACCES || e == EPERM ?
	    APITOKEN_ERR_ACCESS : APITOKEN_ERR_SYSTEM,
	    "apitokend at %s: %s%s%s%s", path, what, what[0] ? ": " : "",
	    text, hint);
}

/* The socket path of a connected fd, for messages ("?" if unknown). */
static void
peer_path(int fd, char *buf, size_t bufsize)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	size_t n;

	memset(&sa, 0, sizeof(sa));
	snprintf(buf, bufsize, "?");
	if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    sa.sun_family != AF_UNIX || sl <= offsetof(struct sockaddr_un,
	    sun_path) || sa.sun_path[0] == '\0')
		return;
	n = strnlen(sa.sun_path, sizeof(sa.sun_path));
	snprintf(buf, bufsize, "%.*s", (int)n, sa.sun_path);
}

/* --------------------------------------------------------- connect */

/* The socket file: a socket, owned by root. */
static int
check_socket_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char msg[128];

	if (lstat(path, &st) != 0)
		return errno_err(err, errlen, path, "", errno);
	if (!S_ISSOCK(st.st_mode))
		return client_err(err, errlen, path, APITOKEN_ERR_ACCESS,
		    "not a socket; refused");
	if (st.st_uid != 0) {
		snprintf(msg, sizeof(msg), "the socket is owned by uid %u, "
		    "not root; refused", (unsigned)st.st_uid);
		return client_err(err, errlen, path, APITOKEN_ERR_ACCESS, msg);
	}
	return APITOKEN_OK;
}

/* The process that accepted: root. */
static int
check_peer(int fd, const char *path, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char msg[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return errno_err(err, errlen, path, "SO_PEERCRED", errno);
	if (len != sizeof(cred) || cred.uid != 0) {
		snprintf(msg, sizeof(msg), "the server runs as uid %u, not "
		    "root; refused", (unsigned)cred.uid);
		return client_err(err, errlen, path, APITOKEN_ERR_ACCESS, msg);
	}
	return APITOKEN_OK;
}

/* connect(2) on a non-blocking socket, within end.  A Unix socket
 * answers EAGAIN while the listen queue is full: try again shortly. */
static int
connect_until(int fd, const struct sockaddr_un *sa, int64_t end)
{
	struct timespec pause = { 0, RETRY_MS * 1000000L };
	socklen_t sl = sizeof(*sa);
	int e;

	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sl) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN)
			return -1;
		if (left_ms(end) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	if (wait_fd(fd, POLLOUT, end) != 0)
		return -1;
	sl = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
		return -1;
	errno = e;
	return e == 0 ? 0 : -1;
}

static int
client_connect(const char *path, int64_t end, int *fdp, char *err,
    size_t errlen)
{
	struct sockaddr_un sa;
	int fd = -1, r;

	*fdp = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return client_err(err, errlen, path, APITOKEN_ERR_SYSTEM,
		    "path too long for a Unix socket");
	memcpy(sa.sun_path, path, strlen(path));
	if ((r = check_socket_file(path, err, errlen)) != APITOKEN_OK)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno_err(err, errlen, path, "socket", errno);
	if (connect_until(fd, &sa, end) != 0)
		r = errno_err(err, errlen, path, "", errno);
	else
		r = check_peer(fd, path, err, errlen);
	if (r != APITOKEN_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return APITOKEN_OK;
}

int
apitoken_client_connect(const struct apitoken_config *cfg, int timeout_ms,
    int *fdp, char *err, size_t errlen)
{
	return client_connect(apitoken_config_daemon_socket(cfg),
	    deadline(timeout_ms), fdp, err, errlen);
}

/* ------------------------------------------------------------ call */

static int
send_all(int fd, const unsigned char *p, size_t n, int64_t end)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, end) != 0)
				return -1;
		} else
			return -1;
	}
	return 0;
}

/* Read exactly n bytes; -1 with errno, ECONNRESET for an early EOF. */
static int
recv_all(int fd, unsigned char *p, size_t n, int64_t end)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r == 0) {
			errno = ECONNRESET;
			return -1;
		} else if (errno == EINTR)
			continue;
		else if (errno == EAGAIN) {
			if (wait_fd(fd, POLLIN, end) != 0)
				return -1;
		} else
			return -1;
	}
	return 0;
}

/* The request: encoded, sent, and the copy (it may hold a token)
 * wiped whatever happened. */
/* The socket path for an error message, looked up only then. */
struct where {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
};

static const char *
where(struct where *w)
{
	int e = errno;		/* what went wrong, for the message */

	peer_path(w->fd, w->path, sizeof(w->path));
	errno = e;
	return w->path;
}

static int
send_request(int fd, const struct apitoken_msg *req, int64_t end,
    struct where *w, char *err, size_t errlen)
{
	unsigned char out[FRAME_HDR + APITOKEN_MSG_MAX];
	size_t n = 0;
	int r = apitoken_msg_encode(req, out, sizeof(out), &n);

	if (r != APITOKEN_OK)
		r = client_err(err, errlen, where(w), r, "the request does "
		    "not encode (a field too long or invalid)");
	else if (send_all(fd, out, n, end) != 0)
		r = errno_err(err, errlen, where(w), "send", errno);
	apitoken_wipe(out, sizeof(out));
	return r;
}

static int
read_reply(int fd, struct apitoken_msg *reply, unsigned char *buf,
    size_t bufsize, int64_t end, struct where *w, char *err, size_t errlen)
{
	unsigned char hdr[FRAME_HDR];
	uint32_t len;
	int r;

	/* the answer is not there yet as a rule: wait, then read (a recv
	 * first would fail with EAGAIN) */
	if ((r = wait_fd(fd, POLLIN, end)) == 0)
		r = recv_all(fd, hdr, sizeof(hdr), end);
	if (r != 0)
		return errno == ECONNRESET ? client_err(err, errlen, where(w),
		    APITOKEN_ERR_SYSTEM, "closed the connection without an "
		    "answer") : errno_err(err, errlen, where(w), "receive",
		    errno);
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > APITOKEN_MSG_MAX || len > bufsize)
		return client_err(err, errlen, where(w), APITOKEN_ERR_INVALID,
		    "malformed reply (bad length)");
	if (recv_all(fd, buf, len, end) != 0)
		return errno == ECONNRESET ? client_err(err, errlen, where(w),
		    APITOKEN_ERR_SYSTEM, "closed the connection in the middle "
		    "of an answer") : errno_err(err, errlen, where(w),
		    "receive", errno);
	if (apitoken_msg_parse(buf, len, reply) != APITOKEN_OK)
		return client_err(err, errlen, where(w), APITOKEN_ERR_INVALID,
		    "malformed reply");
	return APITOKEN_OK;
}

static int
call_until(int fd, const struct apitoken_msg *req, struct apitoken_msg *reply,
    unsigned char *buf, size_t bufsize, int64_t end, char *err, size_t errlen)
{
	struct where w = { fd, "" };
	int r;

	reply->op = 0;
	reply->n = 0;
	if ((r = send_request(fd, req, end, &w, err, errlen)) != 0)
		return r;
	return read_reply(fd, reply, buf, bufsize, end, &w, err, errlen);
}

int
apitoken_client_call(int fd, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf, size_t bufsize,
    int timeout_ms, char *err, size_t errlen)
{
	return call_until(fd, req, reply, buf, bufsize, deadline(timeout_ms),
	    err, errlen);
}

/* ---------------------------------------------------------- verify */

/* One exchange within end: connect, send, read; the socket closed. */
static int
exchange(const struct apitoken_config *cfg, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf, size_t bufsize,
    int64_t end, char *err, size_t errlen)
{
	int fd = -1, r;

	r = client_connect(apitoken_config_daemon_socket(cfg), end, &fd, err,
	    errlen);
	if (r == APITOKEN_OK)
		r = call_until(fd, req, reply, buf, bufsize, end, err, errlen);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The VERIFY request; fields borrow from token and req. */
static int
verify_request(struct apitoken_msg *m, const char *token, size_t len,
    const struct apitoken_request *req)
{
	int r;

	apitoken_msg_init(m, APITOKEN_OP_VERIFY);
	r = apitoken_msg_add_str(m, APITOKEN_T_USER, req->user);
	if (r == 0)
		r = apitoken_msg_add_str(m, APITOKEN_T_SERVICE, req->service);
	if (r == 0 && req->rhost != NULL && req->rhost[0] != '\0')
		r = apitoken_msg_add_str(m, APITOKEN_T_RHOST, req->rhost);
	if (r == 0)
		r = apitoken_msg_add(m, APITOKEN_T_TOKEN, token, len);
	return r;
}

/* Decimal Unix seconds >= 0: 0 and *v, or -1. */
static int
parse_seconds(const char *s, int64_t *v)
{
	int64_t n = 0;

	if (*s == '\0' || strlen(s) > 18)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	*v = n;
	return 0;
}

/* The tags a VERIFY reply may carry, each at most once. */
static int
reply_tags_ok(const struct apitoken_msg *m)
{
	static const uint8_t allowed[] = { APITOKEN_T_REASON, APITOKEN_T_ID,
	    APITOKEN_T_LABEL, APITOKEN_T_OWNER, APITOKEN_T_EXPIRES,
	    APITOKEN_T_DETAIL };
	unsigned seen = 0;
	size_t i;

	if (m->op != APITOKEN_OP_REPLY)
		return 0;
	for (i = 0; i < m->n; i++) {
		if (memchr(allowed, m->f[i].tag, sizeof(allowed)) == NULL ||
		    (seen & (1u << m->f[i].tag)))
			return 0;
		seen |= 1u << m->f[i].tag;
	}
	return 1;
}

/* The record's metadata, when the daemon sent it. */
static int
reply_meta(const struct apitoken_msg *m, struct apitoken_result *res)
{
	char exp[24];
	int r;

	r = apitoken_msg_get(m, APITOKEN_T_LABEL, res->label,
	    sizeof(res->label));
	if (r == 0 && apitoken_label_valid(res->label) != 0)
		return -1;
	if (r != 0 && r != APITOKEN_ERR_NOT_FOUND)
		return -1;
	r = apitoken_msg_get(m, APITOKEN_T_OWNER, res->user,
	    sizeof(res->user));
	if (r != 0 && r != APITOKEN_ERR_NOT_FOUND)
		return -1;
	r = apitoken_msg_get(m, APITOKEN_T_EXPIRES, exp, sizeof(exp));
	if (r == 0 && parse_seconds(exp, &res->expires) != 0)
		return -1;
	if (r != 0 && r != APITOKEN_ERR_NOT_FOUND)
		return -1;
	res->status = res->reason == APITOKEN_R_DISABLED ? APITOKEN_DISABLED :
	    res->reason == APITOKEN_R_REVOKED ? APITOKEN_REVOKED :
	    APITOKEN_ACTIVE;
	return 0;
}

/*
 * The reply into res: the reason, the id (it must be the one sent), the
 * metadata, and the detail of a store error.  An accepted token must
 * belong to the user asked for.  -1: the reply cannot be trusted.
 */
static int
reply_result(const struct apitoken_msg *m, const char *id,
    const struct apitoken_request *req, struct apitoken_result *res)
{
	char reason[40], rid[APITOKEN_ID_LEN + 1], detail[sizeof(res->detail)];
	enum apitoken_reason why;

	if (!reply_tags_ok(m) ||
	    apitoken_msg_get(m, APITOKEN_T_REASON, reason, sizeof(reason)) ||
	    apitoken_reason_parse(reason, &why) != 0)
		return -1;
	if (apitoken_msg_get(m, APITOKEN_T_ID, rid, sizeof(rid)) == 0 &&
	    strcmp(rid, id) != 0)
		return -1;
	res->reason = why;
	res->error = APITOKEN_OK;
	if (reply_meta(m, res) != 0)
		return -1;
	if (why == APITOKEN_ACCEPTED && strcmp(res->user, req->user) != 0)
		return -1;
	if (why == APITOKEN_R_STORE_ERROR) {
		res->error = APITOKEN_ERR_SYSTEM;
		if (apitoken_msg_get(m, APITOKEN_T_DETAIL, detail,
		    sizeof(detail)) == 0)
			snprintf(res->detail, sizeof(res->detail),
			    "apitokend: %.200s", detail);
	}
	return 0;
}

/* Not token-shaped: the same result as apitoken_verify_once, and the
 * daemon is never asked.  1 if t holds a parsed token. */
static int
parse_locally(const struct apitoken_config *cfg, const char *token,
    size_t len, struct apitoken_token *t, struct apitoken_result *res)
{
	res->format = apitoken_token_parse(apitoken_config_token_prefix(cfg),
	    token, len, t);
	if (res->format == APITOKEN_FMT_OK)
		return 1;
	res->reason = res->format == APITOKEN_FMT_CHECKSUM ?
	    APITOKEN_R_BAD_CHECKSUM : APITOKEN_R_MALFORMED;
	res->error = APITOKEN_OK;
	return 0;
}

/* No answer to trust: keep the id and the detail (the error), drop the
 * rest. */
static void
unavailable(struct apitoken_result *res, int code)
{
	res->reason = APITOKEN_R_UNAVAILABLE;
	res->error = code;
	res->user[0] = '\0';
	res->label[0] = '\0';
	res->status = APITOKEN_ACTIVE;
	res->expires = 0;
}

enum apitoken_reason
apitoken_client_verify(const struct apitoken_config *cfg, const char *token,
    size_t len, const struct apitoken_request *req,
    struct apitoken_result *res)
{
	struct apitoken_msg rq, reply;
	unsigned char buf[APITOKEN_MSG_MAX];
	struct apitoken_token t;
	int64_t end = deadline(APITOKEN_CLIENT_TIMEOUT_MS);
	const char *sock = apitoken_config_daemon_socket(cfg);
	int r;

	memset(&t, 0, sizeof(t));
	memset(res, 0, sizeof(*res));
	res->reason = APITOKEN_R_UNAVAILABLE;
	res->error = APITOKEN_ERR_INTERNAL;
	if (req->user == NULL || req->user[0] == '\0') {
		res->reason = APITOKEN_R_STORE_ERROR;	/* as verify_once */
		snprintf(res->detail, sizeof(res->detail), "no user given");
		goto out;
	}
	if (!parse_locally(cfg, token, len, &t, res))
		goto out;
	if (req->service == NULL || req->service[0] == '\0') {
		/* the daemon answers for a PAM service, never for none */
		memcpy(res->id, t.id, sizeof(res->id));
		unavailable(res, client_err(res->detail, sizeof(res->detail),
		    sock, APITOKEN_ERR_INVALID, "no PAM service given"));
		goto out;
	}
	memcpy(res->id, t.id, sizeof(res->id));
	if ((r = verify_request(&rq, token, len, req)) != 0) {
		unavailable(res, client_err(res->detail, sizeof(res->detail),
		    sock, r, "the request does not fit the protocol's limits"));
		goto out;
	}
	r = exchange(cfg, &rq, &reply, buf, sizeof(buf), end, res->detail,
	    sizeof(res->detail));
	if (r != APITOKEN_OK)
		unavailable(res, r);
	else if (reply_result(&reply, t.id, req, res) != 0)
		unavailable(res, client_err(res->detail, sizeof(res->detail),
		    sock, APITOKEN_ERR_INVALID, "an answer that does not fit "
		    "the request; ignored"));
out:
	apitoken_token_clear(&t);
	return res->reason;
}
