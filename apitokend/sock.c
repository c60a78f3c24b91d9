/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c - the socket front end's event loops (epoll): one per CPU (at
 * most SOCK_LOOPS_MAX), each a thread with connections of its own, all
 * accepting from the one listening socket; the first runs in the main
 * thread and also reads the signals.  A new connection wakes every idle
 * loop and the first to run takes it: EPOLLEXCLUSIVE (one woken) saved
 * the others a wake-up, but on a busy host the one woken always waited
 * for its CPU, and one client's verifications a second fell by half
 * (BENCHMARKS.md).  Connections are non-blocking, each
 * read bounded in size (the 4-byte length, at most APITOKEN_MSG_MAX) and
 * in time (IO_TIMEOUT_MS for a request, once it has begun or from the
 * accept; IDLE_TIMEOUT_MS between requests on a kept-open connection),
 * at most MAX_CONNS at once over all loops and MAX_CONNS_UID of one uid
 * other than root, so that one user cannot shut out the others (the next
 * one gets a "daemon-unavailable" reply and is closed).  Every abuse is
 * logged with the caller's uid, pid and program.  Self-service requests
 * go to a worker thread (sock_self.c), so a PAM conversation never
 * blocks a loop.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"

#define SOCK_LOOPS_MAX 4
#define ACCEPT_BATCH 1		/* accepts per wake-up: no EAGAIN for
				   the last; the others are left to the
				   other loops or the next turn */
/* Connections kept for reuse by each loop: a free and a calloc per
 * connection made glibc give memory back and take it again (brk,
 * madvise), whose TLB flushes cost more than the verification. */
#define SPARE_CONNS 32

enum cstate { C_IN, C_OUT };

/* A connection.  Reads take what is there (one read for a whole request
 * as a rule), at most one frame's worth; bytes past the frame being
 * answered wait in in[] for the next turn. */
struct conn {
	int fd;
	size_t idx;		/* in its loop's c[] */
	uint32_t events;	/* as registered with epoll */
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

/* One event loop; its connections are its own. */
struct loop {
	struct core *core;
	int lfd;
	int wakefd;		/* signalfd (loop 0) or the stop eventfd */
	struct conn *c[MAX_CONNS];
	size_t n;
	struct conn *spare[SPARE_CONNS];	/* wiped, for reuse */
	size_t nspare;
	struct comm_cache cc;
	struct reply rp;	/* the reply being built */
	int epfd;
	struct epoll_event ev[MAX_CONNS + 2];
	pthread_t th;
};

/* epoll's data for the two descriptors that are not connections */
static char wake_mark, listen_mark;

struct uidcount {
	uid_t uid;
	size_t n;
};

/* The connection caps, over every loop. */
static struct {
	pthread_mutex_t mu;
	size_t total;
	struct uidcount u[MAX_CONNS];	/* open ones of each non-root uid */
	size_t nu;
	int64_t full_logged;
} Lim = { PTHREAD_MUTEX_INITIALIZER, 0, { { 0, 0 } }, 0, 0 };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- caps */

/* Take a place for a connection of uid: 0, or -1 when MAX_CONNS are
 * open (*whose = -1) or uid's MAX_CONNS_UID (*whose = uid). */
static int
lim_take(uid_t uid, long *whose)
{
	size_t i;
	int r = -1;

	pthread_mutex_lock(&Lim.mu);
	*whose = -1;
	for (i = 0; uid != 0 && i < Lim.nu && Lim.u[i].uid != uid; i++)
		;
	if (Lim.total >= MAX_CONNS)
		goto out;
	*whose = (long)uid;
	if (uid != 0 && i < Lim.nu && Lim.u[i].n >= MAX_CONNS_UID)
		goto out;
	if (uid != 0 && i == Lim.nu)
		Lim.u[Lim.nu++] = (struct uidcount){ uid, 0 };
	if (uid != 0)
		Lim.u[i].n++;
	Lim.total++;
	r = 0;
out:
	pthread_mutex_unlock(&Lim.mu);
	return r;
}

static void
lim_give(uid_t uid)
{
	size_t i;

	pthread_mutex_lock(&Lim.mu);
	Lim.total--;
	for (i = 0; uid != 0 && i < Lim.nu; i++)
		if (Lim.u[i].uid == uid) {
			if (--Lim.u[i].n == 0)
				Lim.u[i] = Lim.u[--Lim.nu];
			break;
		}
	pthread_mutex_unlock(&Lim.mu);
}

/* 1 at most once a second (the refusals' log line). */
static int
lim_log_due(void)
{
	int64_t now = now_ms();
	int due;

	pthread_mutex_lock(&Lim.mu);
	if ((due = now - Lim.full_logged >= 1000))
		Lim.full_logged = now;
	pthread_mutex_unlock(&Lim.mu);
	return due;
}

/* ------------------------------------------------------ connections */

static void
conn_log(const struct conn *k, const char *what)
{
	core_log(LOG_WARNING, "connection from caller_uid=%lu caller_pid=%ld "
	    "caller_comm=%s %s; closed", (unsigned long)k->peer.who.uid,
	    (long)k->peer.who.pid, k->peer.who.comm, what);
}

/* A connection struct, all zero. */
static struct conn *
conn_new(struct loop *l)
{
	if (l->nspare > 0)
		return l->spare[--l->nspare];
	return calloc(1, sizeof(struct conn));
}

/* Wipe k (its buffers held a token: the frames answered were wiped as
 * they were, what is left is in[0..inlen) and the reply) and keep it
 * for reuse, or free it. */
static void
conn_free(struct loop *l, struct conn *k)
{
	apitoken_wipe(k->in, k->inlen);
	apitoken_wipe(k->buf, k->outlen);
	apitoken_wipe(k, offsetof(struct conn, in));
	if (l->nspare < SPARE_CONNS)
		l->spare[l->nspare++] = k;
	else
		free(k);
}

/* Close and forget connection i. */
static void
conn_drop(struct loop *l, size_t i)
{
	struct conn *k = l->c[i];

	if (k->fd >= 0)
		close(k->fd);	/* and out of the epoll set */
	lim_give(k->peer.who.uid);
	conn_free(l, k);
	if (i != --l->n) {
		l->c[i] = l->c[l->n];
		l->c[i]->idx = i;
	}
}

/* Have epoll watch k for what its state waits on: 0 or -1. */
static int
conn_watch(struct loop *l, struct conn *k)
{
	uint32_t want = k->state == C_OUT ? EPOLLOUT : EPOLLIN;
	struct epoll_event e = { .events = want, .data.ptr = k };

	if (k->events == want)
		return 0;
	if (epoll_ctl(l->epfd, k->events == 0 ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD, k->fd, &e) != 0)
		return -1;
	k->events = want;
	return 0;
}

/* Encode rp into k's buffer and start sending it. */
static int
conn_reply(struct conn *k, const struct reply *rp)
{
	size_t n = 0;

	apitoken_wipe(k->buf, k->outlen);	/* the last reply */
	k->outlen = 0;
	if (apitoken_msg_encode(&rp->m, k->buf, sizeof(k->buf), &n) != 0)
		return -1;
	k->state = C_OUT;
	k->outlen = n;
	k->outoff = 0;
	return 0;
}

/* Refuse a connection past MAX_CONNS (whose < 0) or past MAX_CONNS_UID
 * of uid whose: one reply, best effort, close; logged at most once a
 * second. */
static void
refuse_busy(struct loop *l, int fd, long whose)
{
	unsigned char b[256];
	size_t n = 0;

	reply_reason(&l->rp, APITOKEN_R_UNAVAILABLE, whose < 0 ?
	    "too many connections" : "too many connections from this user");
	if (apitoken_msg_encode(&l->rp.m, b, sizeof(b), &n) == 0)
		(void)send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	if (!lim_log_due())
		return;
	if (whose < 0)
		core_log(LOG_WARNING, "%d connections open: new ones refused "
		    "(daemon-unavailable)", MAX_CONNS);
	else
		core_log(LOG_WARNING, "caller_uid=%ld has %d connections "
		    "open: new ones refused (daemon-unavailable)", whose,
		    MAX_CONNS_UID);
}

/* A whole request is in k->in: answer it.  0, 1 handed over, or -1 to
 * drop k. */
static int
conn_request(struct loop *l, struct conn *k)
{
	struct apitoken_msg m;
	int r;

	if (apitoken_msg_parse(k->in + 4, k->need, &m) != 0) {
		conn_log(k, "sent a malformed message");
		return -1;
	}
	if (ops_is_self(m.op)) {
		/* out of the set (if in it yet) before a worker owns it */
		if (k->events != 0 &&
		    epoll_ctl(l->epfd, EPOLL_CTL_DEL, k->fd, NULL) != 0)
			return -1;
		k->events = 0;
		r = sock_self_start(l->core, k->fd, &k->peer, k->in + 4,
		    k->need, &l->rp);
		if (r == 0)
			k->fd = -1;	/* the worker's now */
		if (r <= 0)
			return r == 0 ? 1 : -1;
	} else if (ops_handle(l->core, &k->peer, &m, &l->rp) != 0)
		return -1;
	return conn_reply(k, &l->rp);
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

/* Serve connection k after epoll said events. */
static void
serve(struct loop *l, struct conn *k, uint32_t events)
{
	int r = 0;

	if (k->state != C_OUT && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = conn_read(l, k);
	/* a reply sent, a request read ahead may be whole: answer it too */
	while (r == 0 && k->state == C_OUT) {
		if ((r = conn_write(k)) != 0 || k->state == C_OUT)
			break;
		r = conn_frame(l, k);
	}
	if (r == 0 && conn_watch(l, k) != 0)
		r = -1;
	if (r != 0)
		conn_drop(l, k->idx);
}

/* Take up to ACCEPT_BATCH new connections and serve each at once. */
static void
accept_some(struct loop *l)
{
	struct conn *k;
	long whose;
	int fd, i;

	for (i = 0; i < ACCEPT_BATCH && l->n < MAX_CONNS; i++) {
		if ((fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) < 0)
			return;
		if ((k = conn_new(l)) == NULL) {
			close(fd);
			continue;
		}
		if (peer_init(&k->peer, fd, &l->cc) != 0) {
			close(fd);
			conn_free(l, k);
			continue;
		}
		if (lim_take(k->peer.who.uid, &whose) != 0) {
			refuse_busy(l, fd, whose);
			conn_free(l, k);
			continue;
		}
		k->fd = fd;
		k->deadline = now_ms() + IO_TIMEOUT_MS;
		k->idx = l->n;
		l->c[l->n++] = k;
		/* the request is there as a rule (it follows connect at
		 * once): serve it now, then watch for what comes next */
		serve(l, k, EPOLLIN);
	}
}

/* ------------------------------------------------------------ loops */

/* One turn: wait, serve what is ready, then accept (so that no
 * connection struct is reused while an event for it is pending).  1
 * when the wake-up fd is readable, 0, or -1 when epoll failed. */
static int
turn(struct loop *l)
{
	int timeout = expire(l), n, i, wake = 0, acc = 0;
	void *p;

	if ((n = epoll_wait(l->epfd, l->ev, MAX_CONNS + 2, timeout)) < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		p = l->ev[i].data.ptr;
		if (p == &wake_mark)
			wake = 1;
		else if (p == &listen_mark)
			acc = 1;
		else
			serve(l, p, l->ev[i].events);
	}
	if (acc)
		accept_some(l);
	return wake;
}

/* An epoll set with the wake-up fd and the listening socket: 0 or -1. */
static int
loop_init(struct loop *l, struct core *c, int lfd, int wakefd)
{
	struct epoll_event w = { .events = EPOLLIN, .data.ptr = &wake_mark };
	struct epoll_event a = { .events = EPOLLIN,
		.data.ptr = &listen_mark };

	l->core = c;
	l->lfd = lfd;
	l->wakefd = wakefd;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, wakefd, &w) == 0 &&
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, lfd, &a) == 0)
		return 0;
	close(l->epfd);
	l->epfd = -1;
	return -1;
}

static void
loop_close(struct loop *l)
{
	while (l->n > 0)
		conn_drop(l, l->n - 1);
	while (l->nspare > 0)
		free(l->spare[--l->nspare]);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

/* A loop besides the first: until its stop eventfd is written. */
static void *
loop_thread(void *arg)
{
	struct loop *l = arg;

	while (turn(l) == 0)
		;	/* 1: stop; -1: epoll failed, the other loops go on */
	loop_close(l);
	return NULL;
}

static size_t
loops_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > SOCK_LOOPS_MAX ? SOCK_LOOPS_MAX : (size_t)n;
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

/* Start loops 1..want-1 (fewer if threads cannot be had); how many
 * loops there are in all. */
static size_t
start_loops(struct loop *L, size_t want, int stopfd)
{
	size_t i;

	for (i = 1; i < want; i++) {
		if (loop_init(&L[i], L[0].core, L[0].lfd, stopfd) != 0)
			break;
		if (pthread_create(&L[i].th, NULL, loop_thread, &L[i]) != 0) {
			loop_close(&L[i]);
			break;
		}
	}
	return i;
}

int
sock_run(struct core *c, int lfd, int sigfd,
    int (*on_signal)(int signo, void *ctx), void *ctx)
{
	static struct loop L[SOCK_LOOPS_MAX];
	size_t i, n = 1;
	int ev, stopfd, rc = 0;

	if (loop_init(&L[0], c, lfd, sigfd) != 0)
		return -1;
	if ((stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
		n = start_loops(L, loops_wanted(), stopfd);
	for (;;) {
		if ((ev = turn(&L[0])) < 0) {
			rc = -1;
			break;
		}
		if (ev == 1 && read_signals(sigfd, on_signal, ctx))
			break;
	}
	/* the other loops see the eventfd readable and end */
	if (n > 1)
		(void)eventfd_write(stopfd, 1);
	for (i = 1; i < n; i++)
		pthread_join(L[i].th, NULL);
	if (stopfd >= 0)
		close(stopfd);
	loop_close(&L[0]);
	return rc;
}
