/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock_self.c - a self-service request handed from an event loop to a
 * worker thread of its own (self_dispatch, at most SELF_THREADS at
 * once), so that a PAM conversation never blocks a loop.  The
 * connection becomes blocking, with IO_TIMEOUT_MS on each read and
 * write, and belongs to the worker from then on.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "sock.h"

static pthread_mutex_t self_mu = PTHREAD_MUTEX_INITIALIZER;
static int self_running;

struct self_job {
	struct core *core;
	int fd;
	struct caller who;
	struct apitoken_msg req;
	unsigned char buf[APITOKEN_MSG_MAX];
};

static void
self_done(void)
{
	pthread_mutex_lock(&self_mu);
	self_running--;
	pthread_mutex_unlock(&self_mu);
}

static void *
self_thread(void *arg)
{
	struct self_job *j = arg;

	(void)self_dispatch(j->core, j->fd, &j->who, &j->req);
	close(j->fd);
	apitoken_wipe(j, sizeof(*j));
	free(j);
	self_done();
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

/* One more worker, unless SELF_THREADS are running: 0 or -1. */
static int
self_reserve(void)
{
	int r = -1;

	pthread_mutex_lock(&self_mu);
	if (self_running < SELF_THREADS) {
		self_running++;
		r = 0;
	}
	pthread_mutex_unlock(&self_mu);
	return r;
}

int
sock_self_start(struct core *c, int fd, const struct peer *p,
    const unsigned char *body, size_t len, struct reply *rp)
{
	struct self_job *j;
	pthread_attr_t attr;
	int r = -1;

	if (self_reserve() != 0) {
		core_log(LOG_WARNING, "self-service: %d requests running; "
		    "caller_uid=%lu refused (busy)", SELF_THREADS,
		    (unsigned long)p->who.uid);
		reply_reason(rp, APITOKEN_R_UNAVAILABLE, "busy, try again");
		return 1;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto out;
	j->core = c;
	j->who = p->who;
	memcpy(j->buf, body, len);
	if (apitoken_msg_parse(j->buf, len, &j->req) != 0 ||
	    set_blocking(fd) != 0 || pthread_attr_init(&attr) != 0)
		goto out;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	j->fd = fd;
	if (pthread_create(&(pthread_t){ 0 }, &attr, self_thread, j) == 0) {
		j = NULL;
		r = 0;
	}
	pthread_attr_destroy(&attr);
out:
	if (j != NULL) {
		apitoken_wipe(j, sizeof(*j));
		free(j);
	}
	if (r != 0)
		self_done();
	return r;
}
