/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c - the socket front end's one event loop (poll): non-blocking
 * connections, each read bounded in size (the 4-byte length, at most
 * APITOKEN_MSG_MAX) and in time (IO_TIMEOUT_MS for a request, once it
 * has begun or from the accept; IDLE_TIMEOUT_MS between requests on a
 * kept-open connection), at most MAX_CONNS at once and MAX_CONNS_UID of
 * one uid other than root, so that one user cannot shut out the others
 * (the next one gets a "daemon-unavailable" reply and is closed).
 * Every abuse is logged with
 * the caller's uid, pid and program.  Self-service requests go to a
 * worker thread (self_dispatch, at most SELF_THREADS), so a PAM
 * conversation never blocks the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

enum cstate { C_IN, C_OUT };

/* A connection.  Reads take what is there (one read for a whole request
 * as a rule), at most one frame's worth; bytes past the frame being
 * answered wait in in[] for the next turn. */
struct conn {
	int fd;
	enum cstate state;
	int served;		/* requests answered on it */
	size_t inlen;		/* bytes in in[] */
	size_t need;		/* body length of the frame in in[] */
	size_t outlen, outoff;
	int64_t deadline;	/* monotonic ms */
	struct peer peer;
	unsigned char in[4 + APITOKEN_MSG_MAX];
	unsigned char buf[4 + APITOKEN_MSG_MAX];	/* the reply */
};

struct loop {
	struct core *core;
	struct conn *c[MAX_CONNS];
	size_t n;
	int64_t full_logged;
};

static pthread_mutex_t self_mu = PTHREAD_MUTEX_INITIALIZER;
static int self_running;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
conn_log(const struct conn *k, const char *what)
{
	core_log(LOG_WARNING, "connection from caller_uid=%lu caller_pid=%ld "
	    "caller_comm=%s %s; closed", (unsigned long)k->peer.who.uid,
	    (long)k->peer.who.pid, k->peer.who.comm, what);
}

/* Close and forget connection i (its buffer wiped: it held a token). */
static void
conn_drop(struct loop *l, size_t i)
{
	struct conn *k = l->c[i];

	if (k->fd >= 0)
		close(k->fd);
	apitoken_wipe(k, sizeof(*k));
	free(k);
	l->c[i] = l->c[--l->n];
}

/* Encode rp into k's buffer and start sending it. */
static int
conn_reply(struct conn *k, const struct reply *rp)
{
	size_t n = 0;

	apitoken_wipe(k->buf, sizeof(k->buf));
	if (apitoken_msg_encode(&rp->m, k->buf, sizeof(k->buf), &n) != 0)
		return -1;
	k->state = C_OUT;
	k->outlen = n;
	k->outoff = 0;
	return 0;
}

/* Refuse a connection past MAX_CONNS (uid < 0) or past MAX_CONNS_UID
 * of that uid: one reply, best effort, close; logged at most once a
 * second. */
static void
refuse_busy(struct loop *l, int fd, long uid)
{
	static struct reply rp;
	unsigned char b[256];
	size_t n = 0;
	int64_t now = now_ms();

	reply_reason(&rp, APITOKEN_R_UNAVAILABLE, uid < 0 ?
	    "too many connections" : "too many connections from this user");
	if (apitoken_msg_encode(&rp.m, b, sizeof(b), &n) == 0)
		(void)send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	if (now - l->full_logged < 1000)
		return;
	l->full_logged = now;
	if (uid < 0)
		core_log(LOG_WARNING, "%d connections open: new ones refused "
		    "(daemon-unavailable)", MAX_CONNS);
	else
		core_log(LOG_WARNING, "caller_uid=%ld has %d connections "
		    "open: new ones refused (daemon-unavailable)", uid,
		    MAX_CONNS_UID);
}

/* 1 if uid (not root) already holds MAX_CONNS_UID connections. */
static int
uid_full(const struct loop *l, uid_t uid)
{
	size_t i, n = 0;

	if (uid == 0)
		return 0;
	for (i = 0; i < l->n; i++)
		n += l->c[i]->peer.who.uid == uid;
	return n >= MAX_CONNS_UID;
}

static void
accept_all(struct loop *l, int lfd)
{
	struct conn *k;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if (l->n >= MAX_CONNS) {
			refuse_busy(l, fd, -1);
			continue;
		}
		if ((k = calloc(1, sizeof(*k))) == NULL ||
		    peer_init(&k->peer, fd) != 0) {
			free(k);
			close(fd);
			continue;
		}
		if (uid_full(l, k->peer.who.uid)) {
			refuse_busy(l, fd, (long)k->peer.who.uid);
			free(k);
			continue;
		}
		k->fd = fd;
		k->deadline = now_ms() + IO_TIMEOUT_MS;
		l->c[l->n++] = k;
	}
}

struct self_job {
	struct core *core;
	int fd;
	struct caller who;
	struct apitoken_msg req;
	unsigned char buf[APITOKEN_MSG_MAX];
};

static void *
self_thread(void *arg)
{
	struct self_job *j = arg;

	(void)self_dispatch(j->core, j->fd, &j->who, &j->req);
	close(j->fd);
	apitoken_wipe(j, sizeof(*j));
	free(j);
	pthread_mutex_lock(&self_mu);
	self_running--;
	pthread_mutex_unlock(&self_mu);
	return NULL;
}

/* Blocking I/O with IO_TIMEOUT_MS on each read and write. */
static int
set_blocking(int fd)
{
	struct timeval tv = { IO_TIMEOUT_MS / 1000,
		(IO_TIMEOUT_MS % 1000) * 1000 };
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ?
	    -1 : 0;
}

/* Hand a self-service request to a worker thread: 0 (k->fd is gone to
 * it), 1 (all workers busy: reply rp instead), -1 (drop k). */
static int
self_start(struct loop *l, struct conn *k, struct reply *rp)
{
	struct self_job *j;
	pthread_attr_t attr;
	int r = -1;

	pthread_mutex_lock(&self_mu);
	if (self_running >= SELF_THREADS) {
		pthread_mutex_unlock(&self_mu);
		core_log(LOG_WARNING, "self-service: %d requests running; "
		    "caller_uid=%lu refused (busy)", SELF_THREADS,
		    (unsigned long)k->peer.who.uid);
		reply_reason(rp, APITOKEN_R_UNAVAILABLE, "busy, try again");
		return 1;
	}
	self_running++;
	pthread_mutex_unlock(&self_mu);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto out;
	j->core = l->core;
	j->who = k->peer.who;
	memcpy(j->buf, k->in + 4, k->need);
	if (apitoken_msg_parse(j->buf, k->need, &j->req) != 0 ||
	    set_blocking(k->fd) != 0 || pthread_attr_init(&attr) != 0)
		goto out;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	j->fd = k->fd;
	if (pthread_create(&(pthread_t){ 0 }, &attr, self_thread, j) == 0) {
		k->fd = -1;
		j = NULL;
		r = 0;
	}
	pthread_attr_destroy(&attr);
out:
	if (j != NULL) {
		apitoken_wipe(j, sizeof(*j));
		free(j);
	}
	if (r != 0) {
		pthread_mutex_lock(&self_mu);
		self_running--;
		pthread_mutex_unlock(&self_mu);
	}
	return r;
}

/* A whole request is in k->in: answer it.  0, 1 handed over, or -1 to
 * drop k. */
static int
conn_request(struct loop *l, struct conn *k)
{
	static struct reply rp;
	struct apitoken_msg m;
	int r;

	if (apitoken_msg_parse(k->in + 4, k->need, &m) != 0) {
		conn_log(k, "sent a malformed message");
		return -1;
	}
	if (ops_is_self(m.op)) {
		if ((r = self_start(l, k, &rp)) <= 0)
			return r == 0 ? 1 : -1;
	} else if (ops_handle(l->core, &k->peer, &m, &rp) != 0)
		return -1;
	return conn_reply(k, &rp);
}

/* Answer the frame at the start of k->in if it is complete, then drop
 * it from k->in (wiped: it may hold a token).  0 (done, or more to
 * read), 1 handed over, -1 to drop k. */
static int
conn_frame(struct loop *l, struct conn *k)
{
	char what[80];
	size_t len;
	int r;

	if (k->inlen < 4)
		return 0;
	k->need = (size_t)k->in[0] << 24 | (size_t)k->in[1] << 16 |
	    (size_t)k->in[2] << 8 | k->in[3];
	if (k->need < 2 || k->need > APITOKEN_MSG_MAX) {
		snprintf(what, sizeof(what), "sent a frame length of %zu "
		    "(2 to %d allowed)", k->need, APITOKEN_MSG_MAX);
		conn_log(k, what);
		return -1;
	}
	if (k->inlen < 4 + k->need)
		return 0;
	if ((r = conn_request(l, k)) != 0)
		return r;
	len = 4 + k->need;
	memmove(k->in, k->in + len, k->inlen - len);
	k->inlen -= len;
	apitoken_wipe(k->in + k->inlen, len);
	return 0;
}

/* Read what is there.  0 to go on, 1 handed over, -1 to drop k. */
static int
conn_read(struct loop *l, struct conn *k)
{
	size_t room;
	ssize_t r;

	while (k->state == C_IN) {
		/* never past the frame in hand: its length caps it */
		room = sizeof(k->in) - k->inlen;
		if ((r = read(k->fd, k->in + k->inlen, room)) < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (r == 0) {
			if (k->inlen != 0)
				conn_log(k, "disconnected mid-request");
			return -1;
		}
		if (k->inlen == 0 && k->served > 0)
			k->deadline = now_ms() + IO_TIMEOUT_MS;
		k->inlen += (size_t)r;
		if ((r = conn_frame(l, k)) != 0)
			return (int)r;
	}
	return 0;
}

/* Send what fits.  0 to go on, -1 to drop k. */
static int
conn_write(struct conn *k)
{
	ssize_t r;

	while (k->outoff < k->outlen) {
		r = send(k->fd, k->buf + k->outoff, k->outlen - k->outoff,
		    MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		k->outoff += (size_t)r;
	}
	k->state = C_IN;
	k->served++;
	k->deadline = now_ms() + (k->inlen > 0 ? IO_TIMEOUT_MS :
	    IDLE_TIMEOUT_MS);
	return 0;
}

/* Drop connections past their deadline; the poll timeout to the next. */
static int
expire(struct loop *l)
{
	int64_t now = now_ms(), next = now + 60000;
	struct conn *k;
	size_t i;

	for (i = 0; i < l->n;) {
		k = l->c[i];
		if (k->deadline > now) {
			next = k->deadline < next ? k->deadline : next;
			i++;
			continue;
		}
		if (k->state == C_OUT)
			conn_log(k, "did not read its reply in time");
		else if (k->inlen == 0 && k->served == 0)
			conn_log(k, "sent nothing in time");
		else if (k->inlen != 0)
			conn_log(k, "sent too little in time");
		conn_drop(l, i);
	}
	return (int)(next - now);
}

/* Serve connection i after poll said revents. */
static void
serve(struct loop *l, size_t *i, short revents)
{
	struct conn *k = l->c[*i];
	int r = 0;

	if (k->state != C_OUT && (revents & (POLLIN | POLLHUP | POLLERR)))
		r = conn_read(l, k);
	/* a reply sent, a request read ahead may be whole: answer it too */
	while (r == 0 && k->state == C_OUT) {
		if ((r = conn_write(k)) != 0 || k->state == C_OUT)
			break;
		r = conn_frame(l, k);
	}
	if (r != 0)
		conn_drop(l, *i);
	else
		(*i)++;
}

static int
read_signals(int sigfd, int (*on_signal)(int, void *), void *ctx)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		stop |= on_signal((int)si.ssi_signo, ctx);
	return stop;
}

int
sock_run(struct core *c, int lfd, int sigfd,
    int (*on_signal)(int signo, void *ctx), void *ctx)
{
	static struct loop l;
	struct pollfd pfd[MAX_CONNS + 2];
	size_t i, j, n;
	int timeout;

	l.core = c;
	for (;;) {
		timeout = expire(&l);
		pfd[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ lfd, POLLIN, 0 };
		for (i = 0; i < l.n; i++)
			pfd[i + 2] = (struct pollfd){ l.c[i]->fd,
				l.c[i]->state == C_OUT ? POLLOUT : POLLIN, 0 };
		n = l.n;
		if (poll(pfd, n + 2, timeout) < 0 && errno != EINTR)
			return -1;
		if ((pfd[0].revents & POLLIN) &&
		    read_signals(sigfd, on_signal, ctx))
			break;
		/* serve in reverse: conn_drop moves the last one into i */
		for (j = n; j-- > 0;) {
			i = j;
			if (pfd[j + 2].revents != 0)
				serve(&l, &i, pfd[j + 2].revents);
		}
		if (pfd[1].revents & POLLIN)
			accept_all(&l, lfd);
	}
	while (l.n > 0)
		conn_drop(&l, l.n - 1);
	return 0;
}
