/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the daemon's one way to log: syslog(3), facility authpriv,
 * ident "apitokend" (core_log_open), and in the foreground each line on
 * stderr too.  Callers escape whatever a client sent with
 * apitoken_log_escape() and never pass a token, a password or a hash.
 *
 * Cost: every verification logs a line.  Without a syslog socket (no
 * /dev/log: a container, the tests, the benchmark) syslog(3) would try
 * to connect to it again for every line (three system calls) before
 * writing stderr through stdio (three more); here whether /dev/log is
 * there is looked at no more than once a second, and the line goes to
 * stderr in one write.  With /dev/log, syslog(3) does as it always did.
 */
#include <errno.h>
#include <paths.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define DEVLOG_CHECK_MS 1000

static int log_stderr;		/* the foreground: stderr too */
static char log_prefix[48];	/* "apitokend[PID]: ", as LOG_PERROR's */
static _Atomic int64_t devlog_next;	/* monotonic ms of the next look */
static _Atomic int devlog_there;

void
core_log_open(int to_stderr)
{
	openlog("apitokend", LOG_PID | (to_stderr ? LOG_PERROR : 0),
	    LOG_AUTHPRIV);
	log_stderr = to_stderr;
	snprintf(log_prefix, sizeof(log_prefix), "apitokend[%ld]: ",
	    (long)getpid());
}

/* 1 if there is a syslog socket to send to (looked at once a
 * DEVLOG_CHECK_MS at most). */
static int
syslog_there(void)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now >= atomic_load(&devlog_next)) {
		atomic_store(&devlog_there, access(_PATH_LOG, F_OK) == 0);
		atomic_store(&devlog_next, now + DEVLOG_CHECK_MS);
	}
	return atomic_load(&devlog_there);
}

/* The line on stderr in one write, as LOG_PERROR writes it. */
static void
to_stderr(const char *msg)
{
	struct iovec iov[3] = {
		{ log_prefix, strlen(log_prefix) },
		{ (void *)(uintptr_t)msg, strlen(msg) },
		{ (void *)(uintptr_t)"\n", 1 },
	};

	while (writev(STDERR_FILENO, iov, 3) < 0 && errno == EINTR)
		;
}

void
core_log(int prio, const char *fmt, ...)
{
	char buf[4096], *msg = buf;
	va_list ap;
	int n;

	if (syslog_there()) {	/* it writes stderr too (LOG_PERROR) */
		va_start(ap, fmt);
		vsyslog(LOG_AUTHPRIV | prio, fmt, ap);
		va_end(ap);
		return;
	}
	if (!log_stderr)
		return;		/* as syslog(3): nowhere to send it */
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	to_stderr(msg != NULL ? msg : buf);
	if (msg != buf)
		free(msg);
}

/* The user name only when it is an account: what a client sends as a
 * user name may be a password typed in the wrong field (as the module,
 * and pam_unix, which logs no unknown names). */
static void
user_text(const char *user, int accepted, char *buf, size_t n)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];

	if (user == NULL) {
		snprintf(buf, n, "-");
		return;
	}
	if (!accepted && (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf),
	    &pwp) != 0 || pwp == NULL)) {
		snprintf(buf, n, "(unknown)");
		return;
	}
	apitoken_log_escape(buf, n, user, 0);
}

/* " owner=... detail=..." as the module writes them. */
static void
extra_text(const struct apitoken_result *res, char *buf, size_t n)
{
	char esc[4 * sizeof(res->detail) + 1];
	size_t o = 0;

	buf[0] = '\0';
	if (res->reason == APITOKEN_R_WRONG_USER && res->user[0] != '\0') {
		apitoken_log_escape(esc, sizeof(esc), res->user, 0);
		o = (size_t)snprintf(buf, n, " owner=%s", esc);
	}
	if (o < n && res->detail[0] != '\0') {
		apitoken_log_escape(esc, sizeof(esc), res->detail, 1);
		snprintf(buf + o, n - o, " detail=\"%s\"", esc);
	}
}

void
core_log_decision(const struct ask *a, const struct apitoken_result *res)
{
	char user[4 * APITOKEN_USER_MAX + 1], service[4 * 64 + 1];
	char rhost[4 * 64 + 1], label[4 * APITOKEN_LABEL_MAX + 1];
	char comm[4 * 64 + 1], uid[24], extra[2048];
	int ok = res->reason == APITOKEN_ACCEPTED;

	/* no claimed user (HTTP Bearer, ApiKey): the owner, when found */
	user_text(a->user != NULL ? a->user : res->user[0] != '\0' ?
	    res->user : NULL, ok, user, sizeof(user));
	apitoken_log_escape(service, sizeof(service), a->service ?
	    a->service : "", 0);
	apitoken_log_escape(rhost, sizeof(rhost), a->rhost ? a->rhost : "", 0);
	apitoken_log_escape(label, sizeof(label), res->label, 1);
	apitoken_log_escape(comm, sizeof(comm), a->comm ? a->comm : "", 0);
	if (a->uid == (uid_t)-1)
		snprintf(uid, sizeof(uid), "-");
	else
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)a->uid);
	extra_text(res, extra, sizeof(extra));
	core_log(ok ? LOG_NOTICE : LOG_WARNING,
	    "%s token=%s label=\"%s\" user=%s service=%s rhost=%s reason=%s "
	    "front=%s caller_uid=%s caller_pid=%ld caller_comm=%s method=%s%s",
	    ok ? "accepted" : "rejected", res->id[0] ? res->id : "-", label,
	    user, service, rhost, apitoken_reason_str(res->reason),
	    a->front ? a->front : "-", uid, (long)a->pid, comm,
	    a->method ? a->method : "-", extra);
}
