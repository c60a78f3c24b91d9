/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_self.c - self-service (issue 16), end to end: a real local user
 * (made here, with a password) runs the real tokenctl against a running
 * apitokend; issue and rotate re-authenticate through a real PAM stack
 * (/etc/pam.d/<unique name>: common-auth, common-account), the password
 * typed on a pseudo-terminal; the token logs in through the module
 * (pamtester).  Refusals with their messages and exit statuses; the
 * password never in a log, argv or the environment.  Needs root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td.h"

#define TOKENCTL BUILD_DIR "/tokenctl"
#define MODULE BUILD_DIR "/pam_apitoken.so"
#define PW "S3lf-service-pw"

static char user[32];		/* the throw-away account */
static char reauth[64];		/* its re-authentication PAM service */
static char login[64];		/* a PAM service with the module */
static char ctl[400];		/* a copy of tokenctl the user may run */
static struct td *D;

/* Run cmd (malloc'ed; freed here) with sh -c; it must succeed. */
static void
sh(char *cmd)
{
	struct tl_proc p;
	const char *argv[] = { "sh", "-c", cmd, NULL };
	struct tl_cmd c = { 0 };

	c.argv = argv;
	c.prog = "/bin/sh";
	c.merge_err = 1;
	cr_assert_eq(tl_run(&c, &p), 0, "%s: %s", cmd, p.out);
	tl_proc_free(&p);
	free(cmd);
}

static void
write_pam(const char *name, const char *text)
{
	char *path = tl_fmt("/etc/pam.d/%s", name);

	tl_write_str(path, text, 0644);
	free(path);
}

/* The daemon started with self_service (enabled or not); the user made. */
static void
start(int enabled)
{
	char *conf, *mod, *extra;

	TL_NEED_ROOT("a throw-away user, /etc/pam.d, apitokend as root");
	if (access("/usr/bin/pamtester", X_OK) != 0)
		TL_SKIP("pamtester is not installed");
	snprintf(user, sizeof(user), "apitok-s%ld", (long)getpid());
	snprintf(reauth, sizeof(reauth), "apitok-self-%ld", (long)getpid());
	snprintf(login, sizeof(login), "apitok-login-%ld", (long)getpid());
	sh(tl_fmt("id %s >/dev/null 2>&1 && userdel %s; useradd -M -s "
	    "/bin/sh %s && echo '%s:%s' | chpasswd", user, user, user, user,
	    PW));
	write_pam(reauth, "@include common-auth\n@include common-account\n");
	conf = tl_fmt("services: [sshd, %s]\n", login);
	extra = tl_fmt("max_failures: 3\nself_service:\n  enabled: %s\n"
	    "  %s  max_lifetime: 30d\n  max_tokens: 2\n"
	    "  reauth_service: %s\n", enabled ? "true" : "false", conf,
	    reauth);
	D = td_start(extra);
	free(extra);
	free(conf);
	/* the user reads the config (not the store: db/ stays 0700) */
	cr_assert_eq(chmod(D->dir, 0755), 0);
	cr_assert_eq(chmod(D->conf, 0644), 0);
	/* the build directory may be closed to the user (a clone in a 0700
	 * home, tests/elsewhere.sh private) */
	snprintf(ctl, sizeof(ctl), "%s/tokenctl", D->dir);
	tl_copy_file(TOKENCTL, ctl, 0755);
	mod = tl_fmt("auth required %s config=%s\naccount required %s "
	    "config=%s\n", MODULE, D->conf, MODULE, D->conf);
	write_pam(login, mod);
	free(mod);
}

static void
stop(void)
{
	char *p;

	if (D != NULL)
		td_stop(D);
	D = NULL;
	if (user[0] != '\0') {
		p = tl_fmt("userdel %s >/dev/null 2>&1; rm -f /etc/pam.d/%s "
		    "/etc/pam.d/%s", user, reauth, login);
		if (system(p) != 0) {
			/* best effort */
		}
		free(p);
	}
}

static void
setup(void)
{
	tl_watchdog(240);
}

TestSuite(self, .init = setup, .fini = stop);

/* ------------------------------------------------- tokenctl as the user */

struct run {
	int status;
	char out[8192], err[8192], tty[8192];
	size_t nout, nerr, ntty;
	pid_t pid;
	int saw_pw_in_proc;	/* the password in its cmdline or environ */
	int core_allowed;	/* its core size limit was not 0 */
};

/* Make the pty fd our controlling terminal (after setsid). */
static int
ioctl_ctty(int fd)
{
	return fd < 0 ? -1 : ioctl(fd, TIOCSCTTY, 0);
}

static void
child(int slave_fd, int out, int err, const char **argv)
{
	struct passwd *pw = getpwnam(user);
	static const char *const envp[] = { "PATH=/usr/bin:/bin", "LANG=C",
		NULL };

	setsid();
	if (pw == NULL || ioctl_ctty(slave_fd) != 0)
		_exit(126);
	dup2(open("/dev/null", O_RDONLY), 0);
	dup2(out, 1);
	dup2(err, 2);
	if (setgid(pw->pw_gid) != 0 || initgroups(user, pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		_exit(126);
	execve(ctl, (char *const *)(uintptr_t)argv,
	    (char *const *)(uintptr_t)envp);
	_exit(127);
}

/* 1 if /proc/pid/file holds s (a process of ours, still there). */
static int
proc_has(pid_t pid, const char *file, const char *s)
{
	char *path = tl_fmt("/proc/%ld/%s", (long)pid, file), *text;
	size_t len = 0;
	int r;

	text = tl_read_file(path, &len);
	free(path);
	if (text == NULL)
		return 0;
	r = tl_mem_contains(text, len, s, strlen(s));
	free(text);
	return r;
}

static void
drain(int fd, char *buf, size_t *n, size_t size)
{
	ssize_t k = read(fd, buf + *n, size - 1 - *n);

	if (k > 0)
		*n += (size_t)k;
	buf[*n] = '\0';
}

/* Run tokenctl -c conf ARGS... as the user on a pty; type pw at the
 * first "Password:" (if pw is not NULL). */
static void
as_user(struct run *r, const char *pw, ...)
{
	const char *argv[32];
	char *slave;
	int m, po[2], pe[2], typed = 0, n = 0, st;
	struct pollfd p[3];
	va_list ap;
	int64_t end = tl_now_ms() + 60000;

	memset(r, 0, sizeof(*r));
	argv[n++] = "tokenctl";
	argv[n++] = "-c";
	argv[n++] = D->conf;
	va_start(ap, pw);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	slave = ptsname(m);
	cr_assert(slave != NULL && pipe(po) == 0 && pipe(pe) == 0);
	r->pid = tl_fork();
	if (r->pid == 0) {
		close(m);
		child(open(slave, O_RDWR), po[1], pe[1], argv);
	}
	close(po[1]);
	close(pe[1]);
	p[0] = (struct pollfd){ m, POLLIN, 0 };
	p[1] = (struct pollfd){ po[0], POLLIN, 0 };
	p[2] = (struct pollfd){ pe[0], POLLIN, 0 };
	while (tl_now_ms() < end && waitpid(r->pid, &st, WNOHANG) == 0) {
		if (poll(p, 3, 100) > 0) {
			if (p[0].revents & POLLIN)
				drain(m, r->tty, &r->ntty, sizeof(r->tty));
			if (p[1].revents & POLLIN)
				drain(po[0], r->out, &r->nout, sizeof(r->out));
			if (p[2].revents & POLLIN)
				drain(pe[0], r->err, &r->nerr, sizeof(r->err));
		}
		if (pw != NULL && !typed && strstr(r->tty, "assword") != NULL) {
			/* while it waits for the answer: not in argv or env */
			r->saw_pw_in_proc = proc_has(r->pid, "cmdline", pw) ||
			    proc_has(r->pid, "environ", pw);
			r->core_allowed = !proc_has(r->pid, "limits",
			    "Max core file size        0 ");
			cr_assert_eq(write(m, pw, strlen(pw)),
			    (ssize_t)strlen(pw));
			cr_assert_eq(write(m, "\n", 1), 1);
			typed = 1;
		}
	}
	if (tl_now_ms() >= end) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
		cr_assert_fail("tokenctl timed out; tty: %s err: %s", r->tty,
		    r->err);
	}
	drain(po[0], r->out, &r->nout, sizeof(r->out));
	drain(pe[0], r->err, &r->nerr, sizeof(r->err));
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(m);
	close(po[0]);
	close(pe[0]);
}

/* ------------------------------------------------------------ helpers */

/* The first line of s (a token) into buf. */
static const char *
first_line(const char *s, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

/* The id part of a token "prefix_ID_secret". */
static const char *
token_id(const char *tok, char id[APITOKEN_ID_LEN + 1])
{
	const char *p = strchr(tok, '_');

	cr_assert_not_null(p, "not a token: %s", tok);
	snprintf(id, APITOKEN_ID_LEN + 1, "%s", p + 1);
	return id;
}

/* "LD_PRELOAD=<the ASan runtime this binary runs with>" when built with
 * SANITIZE=1 (the module is too, and pamtester is not), else
 * "LD_PRELOAD=" (unset). */
static const char *
asan_preload(void)
{
	static char buf[1024];
	char line[1024], path[900];
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(buf, sizeof(buf), "LD_PRELOAD=");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/libasan.so") != NULL && sscanf(line,
		    "%*s %*s %*s %*s %*s %899s", path) == 1) {
			snprintf(buf, sizeof(buf), "LD_PRELOAD=%s", path);
			break;
		}
	if (f != NULL)
		fclose(f);
	return buf;
}

/* Log in through the module (pamtester as root, service login): 0 ok. */
static int
module_login(const char *tok)
{
	const char *argv[] = { "pamtester", login, user, "authenticate",
		"acct_mgmt", NULL };
	const char *env[] = { asan_preload(), "ASAN_OPTIONS=detect_leaks=0",
		NULL };
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	char *in = tl_fmt("%s\n", tok);
	int r;

	c.argv = argv;
	c.prog = "/usr/bin/pamtester";
	c.setenv = env;
	c.input = in;
	c.merge_err = 1;
	r = tl_run(&c, &p);
	tl_proc_free(&p);
	free(in);
	return r;
}

/* issue as the user with the right password; the token into tok. */
static void
issue_ok(char *tok, size_t size, const char *label)
{
	struct run r;

	as_user(&r, PW, "issue", "--label", label, "--service", "sshd",
	    "--service", login, NULL);
	cr_assert_eq(r.status, 0, "issue: %s", r.err);
	cr_assert_eq(r.saw_pw_in_proc, 0);
	cr_assert_eq(r.core_allowed, 0, "tokenctl could dump core");
	first_line(r.out, tok, size);
	cr_assert_eq(strncmp(tok, "apitok_", 7), 0, "%s", r.out);
}

/* The last use of id (verified for service login from 10.9.8.7 just
 * before) in the user's list, show and show --json, as root's tokenctl
 * shows it (it was "unknown": the user cannot read state_dir). */
static void
lastuse_shown(const char *id)
{
	char *via = tl_fmt("via %s from 10.9.8.7", login), *want;
	struct run r;

	as_user(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "unknown"), "%s", r.out);
	cr_assert_null(strstr(r.out, "never"), "%s", r.out);
	as_user(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = tl_fmt("last used:     ");
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	cr_assert_not_null(strstr(strstr(r.out, want), via), "%s", r.out);
	free(want);
	as_user(&r, NULL, "show", "--json", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = tl_fmt("\"last_used_service\": \"%s\"", login);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	cr_assert_null(strstr(r.out, "\"last_used\": null"), "%s", r.out);
	free(want);
	free(via);
}

/* ------------------------------------------------------------- tests */

Test(self, issue_login_list_rotate_revoke)
{
	char tok[256], tok2[256], id[16], id2[16], *log, *other, *want;
	struct run r;

	start(1);
	other = td_issue(D, "root", "--label", "roots", NULL);
	issue_ok(tok, sizeof(tok), "laptop");
	token_id(tok, id);
	cr_assert_eq(module_login(tok), 0, "the self-issued token logs in");
	/* list: own tokens only */
	as_user(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, id), "%s", r.out);
	cr_assert_null(strstr(r.out, "roots"), "%s", r.out);
	cr_assert_eq(tl_count_lines(r.out), 2, "%s", r.out);
	as_user(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "created by:    "), "%s", r.out);
	cr_assert_not_null(strstr(r.out, user), "%s", r.out);
	/* a use the daemon records (the module's pamtester run above
	 * records none: no session) */
	cr_assert_eq(td_verify(D, user, login, "10.9.8.7", tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	lastuse_shown(id);
	/* rotate: old refused, new accepted */
	as_user(&r, PW, "rotate", id, NULL);
	cr_assert_eq(r.status, 0, "rotate: %s", r.err);
	first_line(r.out, tok2, sizeof(tok2));
	token_id(tok2, id2);
	cr_assert_str_neq(id, id2);
	cr_assert_neq(module_login(tok), 0, "the rotated token still works");
	cr_assert_eq(module_login(tok2), 0, "its successor does not");
	/* revoke: refused at once */
	as_user(&r, NULL, "revoke", id2, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = tl_fmt("revoked %s\n", id2);
	cr_assert_str_eq(r.out, want);
	free(want);
	cr_assert_neq(module_login(tok2), 0, "a revoked token logs in");
	/* audited by the daemon, the password nowhere in its log */
	want = tl_fmt("issue id=%s user=%s via=self-service by=%s", id, user,
	    user);
	cr_assert(td_log_wait(D, want, 5000), "no audit line %s", want);
	free(want);
	want = tl_fmt("rotate id=%s", id);
	cr_assert(td_log_wait(D, want, 5000), "no audit line %s", want);
	free(want);
	log = td_log(D);
	cr_assert_null(strstr(log, PW), "the password is in the log");
	free(log);
	free(other);
}

Test(self, another_users_token_is_unknown)
{
	char *other, id[16], *want;
	const char *verbs[] = { "show", "disable", "enable", "revoke", NULL };
	struct run r, u;
	size_t i;

	start(1);
	other = td_issue(D, "root", "--label", "roots", NULL);
	token_id(other, id);
	for (i = 0; verbs[i] != NULL; i++) {
		as_user(&r, NULL, verbs[i], id, NULL);
		as_user(&u, NULL, verbs[i], "AAAAAAAAAAAA", NULL);
		cr_assert_eq(r.status, 1, "%s: %s", verbs[i], r.err);
		cr_assert_eq(u.status, 1, "%s: %s", verbs[i], u.err);
		want = tl_fmt("tokenctl %s: no token with ID '%s'\n", verbs[i],
		    id);
		cr_assert_str_eq(r.err, want);
		free(want);
	}
	as_user(&r, NULL, "edit", id, "--label", "mine", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "no token with ID"), "%s", r.err);
	as_user(&r, NULL, "rotate", id, NULL);	/* no password asked */
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "no token with ID"), "%s", r.err);
	cr_assert_null(strstr(r.tty, "assword"), "%s", r.tty);
	free(other);
}

/* Each refusal: exit status and a message naming the rule; none of
 * them asks for the password first. */
Test(self, refusals)
{
	char tok[256];
	struct run r;

	start(1);
	as_user(&r, NULL, "issue", "root", "--label", "x", "--service",
	    "sshd", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "for yourself"), "%s", r.err);
	as_user(&r, NULL, "issue", "--label", "x", "--service", "sudo", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "service sudo is not one a "
	    "self-issued token may name"), "%s", r.err);
	as_user(&r, NULL, "issue", "--label", "x", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "at least one service"), "%s",
	    r.err);
	as_user(&r, NULL, "issue", "--label", "x", "--service", "sshd",
	    "--expires", "60d", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "self_service.max_lifetime"), "%s",
	    r.err);
	cr_assert_null(strstr(r.tty, "assword"), "asked: %s", r.tty);
	issue_ok(tok, sizeof(tok), "one");
	issue_ok(tok, sizeof(tok), "two");
	as_user(&r, NULL, "issue", "--label", "three", "--service", "sshd",
	    NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "self_service.max_tokens: 2"), "%s",
	    r.err);
	apitoken_wipe(tok, sizeof(tok));
}

/* A wrong password is refused and counts toward the daemon's lockout
 * of (uid, user): after max_failures even the right one is refused. */
Test(self, wrong_password_is_throttled)
{
	struct run r;
	int i;

	start(1);
	for (i = 0; i < 3; i++) {
		as_user(&r, "not-" PW, "issue", "--label", "x", "--service",
		    "sshd", NULL);
		cr_assert_eq(r.status, 1, "%s", r.err);
		cr_assert_not_null(strstr(r.err, "re-authentication failed"),
		    "%s", r.err);
	}
	as_user(&r, PW, "issue", "--label", "x", "--service", "sshd", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "too many failed attempts"), "%s",
	    r.err);
	cr_assert_null(strstr(r.tty, "assword"), "asked: %s", r.tty);
}

Test(self, disabled)
{
	struct run r;

	start(0);
	as_user(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "self-service is not enabled"), "%s",
	    r.err);
}

Test(self, daemon_not_running)
{
	char *moved;
	struct run r;

	start(1);
	moved = tl_fmt("%s.away", D->sock);
	cr_assert_eq(rename(D->sock, moved), 0);
	as_user(&r, NULL, "list", NULL);
	cr_assert_eq(rename(moved, D->sock), 0);
	cr_assert_eq(r.status, 4, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "through apitokend"), "%s", r.err);
	free(moved);
}

/* r (revoke or rotate of id) succeeded; other, another user's token
 * derived from id, was revoked (audited) but is not in r's output. */
static void
revoked_unnamed(const struct run *r, const char *other, const char *how,
    const char *id)
{
	char *want;

	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_null(strstr(r->out, other), "%s", r->out);
	cr_assert_null(strstr(r->err, other), "%s", r->err);
	want = tl_fmt("revoke id=%s user=root reason=\"derived from %s "
	    "token %s\" via=self-service", other, how, id);
	cr_assert(td_log_wait(D, want, 5000), "no audit line %s", want);
	free(want);
}

/* A token of the user's with a descendant of the user's own and one of
 * another user's (root derived it): an edit that shortens its expiry
 * caps both and audits both, as tokenctl edit does, and a revoke or a
 * rotate revokes both and audits both; the user is told of their own
 * token only, never shown the other user's id. */
Test(self, descendants_audited_and_another_users_never_named)
{
	char tok[256], id[16], mine[16], other[16], *t, *want;
	struct run r;

	start(1);
	issue_ok(tok, sizeof(tok), "parent");
	token_id(tok, id);
	t = td_issue(D, user, "--label", "mine", "--service", "sshd",
	    "--expires", "20d", "--parent", id, NULL);
	token_id(t, mine);
	free(t);
	t = td_issue(D, "root", "--label", "theirs", "--expires", "20d",
	    "--parent", id, NULL);
	token_id(t, other);
	free(t);
	/* edit: both capped, both audited, only the user's named */
	as_user(&r, NULL, "edit", id, "--expires", "7d", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = tl_fmt("edited %s\n", id);
	cr_assert_str_eq(r.out, want);
	free(want);
	cr_assert_not_null(strstr(r.err, mine), "%s", r.err);
	cr_assert_null(strstr(r.err, other), "%s", r.err);
	want = tl_fmt("edit id=%s user=root fields=expires ancestor=%s "
	    "via=self-service by=%s", other, id, user);
	cr_assert(td_log_wait(D, want, 5000), "no audit line %s", want);
	free(want);
	want = tl_fmt("edit id=%s user=%s fields=expires ancestor=%s "
	    "via=self-service", mine, user, id);
	cr_assert(td_log_wait(D, want, 5000), "no audit line %s", want);
	free(want);
	/* revoke: both revoked and audited, only the user's named */
	as_user(&r, NULL, "revoke", id, NULL);
	cr_assert_not_null(strstr(r.out, mine), "%s", r.out);
	revoked_unnamed(&r, other, "revoked", id);
	/* rotate: the same for the tokens derived from the rotated one */
	issue_ok(tok, sizeof(tok), "second");
	token_id(tok, id);
	t = td_issue(D, "root", "--label", "theirs2", "--expires", "20d",
	    "--parent", id, NULL);
	token_id(t, other);
	free(t);
	as_user(&r, PW, "rotate", id, NULL);
	revoked_unnamed(&r, other, "rotated", id);
	apitoken_wipe(tok, sizeof(tok));
}

/* A right password forgets the failures before it, as a successful
 * login does: two wrong, one right, two wrong and a right one again
 * pass with max_failures 3 (counted on, the fourth failure would have
 * locked the user out). */
Test(self, right_password_resets_the_failure_count)
{
	char tok[256];
	struct run r;
	int round, i;

	start(1);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 2; i++) {
			as_user(&r, "not-" PW, "issue", "--label", "x",
			    "--service", "sshd", NULL);
			cr_assert_eq(r.status, 1, "%s", r.err);
			cr_assert_not_null(strstr(r.err, "re-authentication "
			    "failed"), "round %d: %s", round, r.err);
		}
		issue_ok(tok, sizeof(tok), round == 0 ? "first" : "second");
	}
	apitoken_wipe(tok, sizeof(tok));
}

/* tokenctl --help and issue --help, run by the user: what self-service
 * lets them do (the USER of issue optional). */
Test(self, help_shows_what_a_user_may_do)
{
	struct run r;

	start(1);
	as_user(&r, NULL, "--help", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "Commands:"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "you manage your own tokens"), "%s",
	    r.out);
	cr_assert_not_null(strstr(r.out, "  issue [USER] --label T --service "
	    "NAME"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "  rotate ID [--expires WHEN]"), "%s",
	    r.out);
	as_user(&r, NULL, "issue", "--help", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "USER may be\nleft out"), "%s",
	    r.out);
	as_user(&r, NULL, "revoke", "--help", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "your own tokens only; --user and "
	    "--token-stdin are root's"), "%s", r.out);
}
