/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy.c - who may ask (issue 11), from SO_PEERCRED: root any
 * user and service; another uid only its own user; daemon_callers by
 * user name or @group the listed services for any user; anything else
 * caller-not-allowed, logged; LOCKOUTS and UNLOCK root's only.  The
 * callers are children that drop to the account "nobody" (needs root).
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td.h"

static struct td *D;
static struct passwd Nobody;
static char NobodyName[64];

static void
setup(void)
{
	struct passwd *pw;
	struct group *gr;
	char *extra;

	tl_watchdog(120);
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return;		/* each test skips */
	Nobody = *pw;
	snprintf(NobodyName, sizeof(NobodyName), "%s", pw->pw_name);
	gr = getgrgid(pw->pw_gid);
	extra = tl_fmt("daemon_callers:\n  nobody: [svc-user]\n"
	    "  \"@%s\": [svc-group]\n  daemon: [svc-other]\n",
	    gr != NULL ? gr->gr_name : "nogroup");
	D = td_start(extra);
	free(extra);
	/* let the children reach the socket: traverse only */
	cr_assert_eq(chmod(D->dir, 0711), 0);
}

static void
teardown(void)
{
	if (D != NULL)
		cr_expect_eq(td_stop(D), 0, "apitokend did not exit cleanly");
	D = NULL;
}

TestSuite(policy, .init = setup, .fini = teardown);

#define NEED_NOBODY() do { \
	TL_NEED_ROOT("callers are children dropped to nobody"); \
	if (D == NULL) \
		TL_SKIP("no account \"nobody\""); \
} while (0)

/* VERIFY from a child running as nobody; the reason. */
static enum apitoken_reason
as_nobody(const char *user, const char *service, const char *tok)
{
	pid_t pid = tl_fork();
	int st;

	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(Nobody.pw_gid) != 0 ||
		    setuid(Nobody.pw_uid) != 0)
			_exit(120);
		_exit((int)td_verify(D, user, service, NULL, tok, NULL, NULL));
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) < APITOKEN_R_COUNT,
	    "child status %d", st);
	return (enum apitoken_reason)WEXITSTATUS(st);
}

Test(policy, a_user_may_check_its_own_tokens)
{
	char *tok;

	NEED_NOBODY();
	tok = td_issue(D, NobodyName, "--label", "locker", NULL);
	cr_assert_eq(as_nobody(NobodyName, "xscreensaver", tok),
	    APITOKEN_ACCEPTED);
	free(tok);
}

Test(policy, not_another_users_unless_granted)
{
	char *tok;
	char *want;

	NEED_NOBODY();
	tok = td_issue(D, "root", "--label", "root's", NULL);
	cr_assert_eq(as_nobody("root", "sshd", tok), APITOKEN_R_CALLER);
	want = tl_fmt("reason=caller-not-allowed front=socket caller_uid=%lu",
	    (unsigned long)Nobody.pw_uid);
	cr_assert(td_log_wait(D, want, 5000), "not logged: %s", want);
	free(want);
	/* granted by name, by group; not the service granted to another */
	cr_assert_eq(as_nobody("root", "svc-user", tok), APITOKEN_ACCEPTED);
	cr_assert_eq(as_nobody("root", "svc-group", tok), APITOKEN_ACCEPTED);
	cr_assert_eq(as_nobody("root", "svc-other", tok), APITOKEN_R_CALLER);
	free(tok);
}

Test(policy, a_refused_caller_learns_nothing_and_counts_nothing)
{
	char *tok;
	int i;

	NEED_NOBODY();
	tok = td_issue(D, "root", "--label", "root's", NULL);
	for (i = 0; i < 15; i++)
		cr_assert_eq(as_nobody("root", "sshd", tok),
		    APITOKEN_R_CALLER);
	cr_assert_eq(td_verify(D, "root", "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	free(tok);
}

Test(policy, admin_ops_are_roots)
{
	pid_t pid;
	int st;

	NEED_NOBODY();
	pid = tl_fork();
	if (pid == 0) {
		unsigned char buf[4 + APITOKEN_MSG_MAX];
		struct apitoken_msg req, rep;
		const char *r;

		if (setgroups(0, NULL) != 0 || setgid(Nobody.pw_gid) != 0 ||
		    setuid(Nobody.pw_uid) != 0)
			_exit(120);
		apitoken_msg_init(&req, APITOKEN_OP_LOCKOUTS);
		if (td_call(D, &req, &rep, buf) != 0 ||
		    (r = td_field(&rep, APITOKEN_T_REASON)) == NULL ||
		    strcmp(r, "caller-not-allowed") != 0)
			_exit(1);
		apitoken_msg_init(&req, APITOKEN_OP_UNLOCK);
		if (apitoken_msg_add_str(&req, APITOKEN_T_USER, "root") != 0 ||
		    td_call(D, &req, &rep, buf) != 0 ||
		    (r = td_field(&rep, APITOKEN_T_REASON)) == NULL ||
		    strcmp(r, "caller-not-allowed") != 0)
			_exit(2);
		apitoken_msg_init(&req, APITOKEN_OP_UNLOCK);
		if (apitoken_msg_add_str(&req, APITOKEN_T_RHOST,
		    "203.0.113.9") != 0 || td_call(D, &req, &rep, buf) != 0 ||
		    (r = td_field(&rep, APITOKEN_T_REASON)) == NULL ||
		    strcmp(r, "caller-not-allowed") != 0)
			_exit(3);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert(td_log_wait(D, "LOCKOUTS refused", 5000));
	cr_assert(td_log_wait(D, "UNLOCK refused", 5000));
}

/* One user cannot take every connection: past its own cap it is
 * refused, and root (a login through sshd, say) is still served. */
Test(policy, one_user_cannot_take_every_connection)
{
	pid_t pid;
	int st;

	NEED_NOBODY();
	pid = tl_fork();
	if (pid == 0) {
		unsigned char b[4 + APITOKEN_MSG_MAX];
		struct apitoken_msg m;
		int fds[140], i;
		size_t len;

		if (setgroups(0, NULL) != 0 || setgid(Nobody.pw_gid) != 0 ||
		    setuid(Nobody.pw_uid) != 0)
			_exit(120);
		for (i = 0; i < 140; i++)
			if ((fds[i] = td_connect(D)) < 0)
				_exit(1);
		/* the 129th and later: refused at once, before any request */
		if (read(fds[139], b, 4) != 4)
			_exit(2);
		len = (size_t)b[2] << 8 | b[3];
		if (len > 200 || read(fds[139], b + 4, len) != (ssize_t)len ||
		    apitoken_msg_parse(b + 4, len, &m) != 0 ||
		    td_field(&m, APITOKEN_T_DETAIL) == NULL ||
		    strcmp(td_field(&m, APITOKEN_T_DETAIL),
		    "too many connections from this user") != 0)
			_exit(3);
		/* hold them while the parent asks as root */
		pause();
		_exit(0);
	}
	cr_assert(td_log_wait(D, "connections open: new ones refused", 20000),
	    "the per-user refusal was not logged");
	cr_assert_eq(td_verify(D, "root", "sshd", NULL, "x", NULL, NULL),
	    APITOKEN_R_MALFORMED);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 0),
	    "child status %d", st);
}
