/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http_reap.c - the request deadline.  libmicrohttpd's own timeout counts
 * inactivity, so a client that sends a byte a second would hold its
 * connection for ever.  Here each connection must finish a request head
 * within HTTP_REQUEST_TIMEOUT of its start or of its last answer; a
 * reaper thread shuts down (shutdown(2), on a dup of the socket, so the
 * descriptor it acts on cannot be reused under it) every connection past
 * its deadline, and libmicrohttpd then closes it as it would any other
 * that the client closed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

struct hconn {
	int fd;				/* our dup of the socket, or -1 */
	_Atomic int64_t deadline;	/* CLOCK_MONOTONIC seconds */
	struct hconn *prev, *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hconn *list;
	pthread_t th;
	int running, stop;
} R = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0,
	0 };

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void
http_reap_notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct hconn *hc = *socket_ctx;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((hc = calloc(1, sizeof(*hc))) == NULL)
			return;	/* untracked: only the idle timeout */
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		hc->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
		atomic_store(&hc->deadline, mono() + HTTP_REQUEST_TIMEOUT);
		pthread_mutex_lock(&R.mu);
		hc->next = R.list;
		if (R.list != NULL)
			R.list->prev = hc;
		R.list = hc;
		pthread_mutex_unlock(&R.mu);
		*socket_ctx = hc;
		return;
	}
	if (hc == NULL)
		return;
	pthread_mutex_lock(&R.mu);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		R.list = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	pthread_mutex_unlock(&R.mu);
	if (hc->fd >= 0)
		close(hc->fd);
	free(hc);
	*socket_ctx = NULL;
}

void
http_reap_completed(void *cls, struct MHD_Connection *conn, void **req,
    enum MHD_RequestTerminationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct hconn *hc;

	(void)cls, (void)req, (void)code;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && (hc = ci->socket_context) != NULL)
		atomic_store(&hc->deadline, mono() + HTTP_REQUEST_TIMEOUT);
}

static void
reap_once(void)
{
	int64_t now = mono();
	struct hconn *hc;
	int n = 0;

	for (hc = R.list; hc != NULL; hc = hc->next)
		if (atomic_load(&hc->deadline) < now && hc->fd >= 0) {
			(void)shutdown(hc->fd, SHUT_RDWR);
			atomic_store(&hc->deadline, INT64_MAX);
			n++;
		}
	if (n > 0)
		core_log(LOG_NOTICE, "http: dropped %d connection%s that sent "
		    "no whole request within %ds", n, n == 1 ? "" : "s",
		    HTTP_REQUEST_TIMEOUT);
}

static void *
reaper(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&R.mu);
	while (!R.stop) {
		reap_once();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&R.cv, &R.mu, &ts);
	}
	pthread_mutex_unlock(&R.mu);
	return NULL;
}

int
http_reap_start(char *err, size_t errlen)
{
	struct rlimit rl;

	/* each connection holds two descriptors (ours is the dup) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	R.stop = 0;
	if (pthread_create(&R.th, NULL, reaper, NULL) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		return -1;
	}
	R.running = 1;
	return 0;
}

void
http_reap_stop(void)
{
	if (!R.running)
		return;
	pthread_mutex_lock(&R.mu);
	R.stop = 1;
	pthread_cond_signal(&R.cv);
	pthread_mutex_unlock(&R.mu);
	pthread_join(R.th, NULL);
	R.running = 0;
}
