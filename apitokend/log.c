/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the daemon's one way to log: syslog(3), facility authpriv,
 * ident "apitokend" (main.c opens it; in the foreground LOG_PERROR copies
 * each line to stderr).  Callers escape whatever a client sent with
 * apitoken_log_escape() and never pass a token, a password or a hash.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "core.h"

void
core_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(LOG_AUTHPRIV | prio, fmt, ap);
	va_end(ap);
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
