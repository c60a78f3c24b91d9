/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_misc.c - global options, --help of every verb, usage and config
 * errors and their exit statuses, the syslog audit trail (captured in a
 * private mount namespace), and concurrent writers losing nothing.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(misc, .init = setup_env, .fini = teardown_env);

static const char *const verbs[] = { "init", "issue", "list", "show",
    "edit", "disable", "enable", "revoke", "rotate", "delete", "prune",
    "verify", "check", "export", "import", "doctor", "help" };

Test(misc, every_verb_has_help_on_stdout)
{
	struct run r;
	size_t i;
	char want[64];

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		ctl(&r, NULL, verbs[i], "--help", NULL);
		cr_assert_eq(r.status, 0, "%s --help: %d %s", verbs[i],
		    r.status, r.err);
		snprintf(want, sizeof(want), "usage: tokenctl %s", verbs[i]);
		cr_assert_eq(strncmp(r.out, want, strlen(want)), 0,
		    "%s --help: %s", verbs[i], r.out);
		cr_assert_str_eq(r.err, "");
		run_free(&r);
	}
	ctl(&r, NULL, "--help", NULL);
	cr_assert_eq(r.status, 0);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		cr_assert_not_null(strstr(r.out, verbs[i]), "%s", verbs[i]);
	run_free(&r);
	ctl(&r, NULL, "help", "rotate", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(strncmp(r.out, "usage: tokenctl rotate", 22), 0);
	run_free(&r);
}

Test(misc, help_works_without_a_config)
{
	struct run r;
	const char *argv[] = { "tokenctl", "-c", "/nonexistent.yaml", "issue",
	    "--help", NULL };

	ctl_argv(&E, &r, NULL, argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
}

Test(misc, usage_errors_exit_2_on_stderr)
{
	struct run r;
	const char *argv[] = { "tokenctl", NULL };

	ctl_argv(&E, &r, NULL, argv, E.cfg);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.out, "");
	cr_assert_not_null(strstr(r.err, "usage:"));
	run_free(&r);
	ctl(&r, NULL, "frobnicate", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "unknown command 'frobnicate'"));
	run_free(&r);
	ctl(&r, NULL, "--bogus", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "list", "--user", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "needs an argument"), "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "-V", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(strncmp(r.out, "tokenctl ", 9), 0);
	run_free(&r);
}

/* ctl_options: every verb's option errors name the option, exit 2. */
Test(misc, option_errors_name_the_option)
{
	static const struct {
		const char *verb, *opt, *want;
	} c[] = {
		{ "list", "--json=x", "option '--json=x' takes no argument" },
		{ "revoke", "--token-stdin=1", "takes no argument" },
		{ "rotate", "--expires", "option '--expires' needs an argument" },
		{ "export", "-x", "unknown option '-x'" },
		{ "doctor", "--bogus", "unknown option '--bogus'" },
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ctl(&r, NULL, c[i].verb, c[i].opt, NULL);
		cr_assert_eq(r.status, 2, "%s %s: %d", c[i].verb, c[i].opt,
		    r.status);
		cr_assert_not_null(strstr(r.err, c[i].want), "%s %s: %s",
		    c[i].verb, c[i].opt, r.err);
		cr_assert_not_null(strstr(r.err, "usage:"), "%s", r.err);
		run_free(&r);
	}
}

Test(misc, config_errors_exit_3_and_name_the_file)
{
	struct run r;
	char bad[320];
	const char *argv[] = { "tokenctl", "-c", bad, "list", NULL };

	ctl_argv(&E, &r, NULL, (const char *[]){ "tokenctl", "-c",
	    "/nonexistent/apitoken.yaml", "list", NULL }, E.cfg);
	cr_assert_eq(r.status, 3, "%d %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "/nonexistent/apitoken.yaml"),
	    "%s", r.err);
	run_free(&r);
	snprintf(bad, sizeof(bad), "%s/bad.yaml", E.dir);
	tl_write_str(bad, "store: /tmp/x\ncolour: blue\n", 0644);
	ctl_argv(&E, &r, NULL, argv, NULL);
	cr_assert_eq(r.status, 3, "%d %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, bad), "%s", r.err);
	cr_assert_not_null(strstr(r.err, ":2:"), "no line number: %s", r.err);
	run_free(&r);
	/* -c wins over $APITOKEN_CONFIG */
	ctl_argv(&E, &r, NULL, (const char *[]){ "tokenctl", "-c", E.cfg,
	    "list", NULL }, bad);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	/* $APITOKEN_CONFIG is used without -c */
	ctl_argv(&E, &r, NULL, (const char *[]){ "tokenctl", "list", NULL },
	    bad);
	cr_assert_eq(r.status, 3, "%s", r.err);
	run_free(&r);
}

Test(misc, corrupt_or_unsafe_store_exits_4)
{
	struct run r;
	char *s;

	free(issue_token("root", "x", NULL));
	cr_assert_eq(chmod(E.store, 0666), 0);
	ctl(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 4, "%d %s", r.status, r.err);
	run_free(&r);
	ctl(&r, NULL, "issue", "root", "--label", "y", NULL);
	cr_assert_eq(r.status, 4, "%d %s", r.status, r.err);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	cr_assert_eq(chmod(E.store, 0600), 0);
	s = tl_read_file(E.store, NULL);
	tl_write_str(E.store, "#apitoken-store\tv1\tgarbage\n", 0600);
	ctl(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 4, "%d %s", r.status, r.err);
	run_free(&r);
	free(s);
}

Test(misc, concurrent_writers_lose_nothing)
{
	enum { N = 8 };
	char label[N][16];
	pid_t pids[N];
	struct run r;
	int i, st;

	for (i = 0; i < N; i++) {
		snprintf(label[i], sizeof(label[i]), "par%d", i);
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			ctl(&r, NULL, "issue", "root", "--label", label[i],
			    NULL);
			_exit(r.status);
		}
	}
	for (i = 0; i < N; i++) {
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "writer %d failed", i);
	}
	ctl(&r, NULL, "list", "--ids", NULL);
	cr_assert_eq(tl_count_lines(r.out), N, "%s", r.out);
	run_free(&r);
}

/* --------------------------------------------------------- audit log */

/* A datagram socket at dir/log, our stand-in for /dev/log. */
static int
bind_log(const char *dir)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	cr_assert(strlen(dir) + 5 <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/log", 5);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
	    strerror(errno));
	return fd;
}

/*
 * Run tokenctl in a private mount namespace whose /dev is devdir (holding
 * our socket "log"), so its syslog(3) messages come to us.  Returns its
 * exit status, 99 if no namespace could be made.
 */
static int
run_prog_in_ns(const char *devdir, const char *prog,
    const char *const *args, const char *input)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct run r;

		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount(devdir, "/dev", NULL, MS_BIND, NULL) != 0)
			_exit(99);
		if (prog == NULL)
			ctl_argv(&E, &r, input, args, E.cfg);
		else
			run_prog(&E, &r, prog, input, args, E.cfg);
		_exit(r.status);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
run_in_ns(const char *devdir, const char *const *args, const char *input)
{
	return run_prog_in_ns(devdir, NULL, args, input);
}

static char *
drain(int fd)
{
	char *all = calloc(1, 1), buf[2048];
	size_t len = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		all = realloc(all, len + (size_t)n + 2);
		memcpy(all + len, buf, (size_t)n);
		len += (size_t)n;
		all[len++] = '\n';
		all[len] = '\0';
	}
	return all;
}

Test(misc, changes_are_audited_to_authpriv_without_secrets)
{
	char devdir[320], *log, *tok, id[13], want[128];
	int fd, st;

	snprintf(devdir, sizeof(devdir), "%s/dev", E.dir);
	cr_assert_eq(mkdir(devdir, 0700), 0);
	fd = bind_log(devdir);
	tok = issue_token("root", "seed", NULL);	/* outside: not seen */
	token_id(tok, id);
	E.sudo_user = "daemon";
	st = run_in_ns(devdir, (const char *[]){ "tokenctl", "issue",
	    "nobody", "--label", "audited", NULL }, NULL);
	if (st == 99) {
		close(fd);
		free(tok);
		TL_SKIP("cannot make a mount namespace here");
	}
	cr_assert_eq(st, 0);
	cr_assert_eq(run_in_ns(devdir, (const char *[]){ "tokenctl", "edit",
	    id, "--label", "renamed", "--service", "sshd", NULL }, NULL), 0);
	cr_assert_eq(run_in_ns(devdir, (const char *[]){ "tokenctl",
	    "revoke", id, NULL }, NULL), 0);
	cr_assert_eq(run_in_ns(devdir, (const char *[]){ "tokenctl", "list",
	    NULL }, NULL), 0);
	E.sudo_user = NULL;
	log = drain(fd);
	close(fd);
	/* <85> = LOG_AUTHPRIV (10 << 3) | LOG_NOTICE (5) */
	cr_assert_not_null(strstr(log, "<85>"), "%s", log);
	cr_assert_not_null(strstr(log, "tokenctl["), "%s", log);
	cr_assert_not_null(strstr(log, "issue id="), "%s", log);
	cr_assert_not_null(strstr(log, "user=nobody"), "%s", log);
	snprintf(want, sizeof(want), "revoke id=%s user=root", id);
	cr_assert_not_null(strstr(log, want), "%s", log);
	/* SUDO_USER without sudo is not believed (issue 14 item 10) */
	cr_assert_not_null(strstr(log, "by=root uid=0"), "%s", log);
	cr_assert_null(strstr(log, "daemon"), "%s", log);
	snprintf(want, sizeof(want), "edit id=%s user=root fields=label,services "
	    "by=", id);
	cr_assert_not_null(strstr(log, want), "%s", log);
	cr_assert_eq(tl_count_lines(log), 3, "list must not be audited: %s", log);
	cr_assert_null(strstr(log, strrchr(tok, '_') + 1));
	cr_assert_null(strstr(log, "apitok_"), "a token was logged: %s", log);
	cr_assert_null(strstr(log, "sha256"));
	free(log);
	free(tok);
}

/* A socket of ours at E.dir/dev/log for run_in_ns; returns its fd. */
static int
audit_start(char *devdir, size_t size)
{
	snprintf(devdir, size, "%s/dev", E.dir);
	cr_assert_eq(mkdir(devdir, 0700), 0);
	return bind_log(devdir);
}

/* issue 14 item 10: a value cannot forge a field of an audit line. */
Test(misc, audit_values_are_escaped)
{
	char devdir[320], *log, *tok, id[13], want[160];
	int fd = audit_start(devdir, sizeof(devdir)), st;

	tok = issue_token("root", "forge", NULL);
	token_id(tok, id);
	st = run_in_ns(devdir, (const char *[]){ "tokenctl", "revoke", id,
	    "--reason", "x\" by=alice", NULL }, NULL);
	if (st == 99) {
		close(fd);
		free(tok);
		TL_SKIP("cannot make a mount namespace here");
	}
	cr_assert_eq(st, 0);
	log = drain(fd);
	close(fd);
	snprintf(want, sizeof(want), "revoke id=%s user=root "
	    "reason=\"x\\x22 by=alice\" by=root uid=0", id);
	cr_assert_not_null(strstr(log, want), "%s", log);
	cr_assert_null(strstr(log, "\" by=alice"), "%s", log);
	free(log);
	free(tok);
}

/* issue 14 item 10: through sudo, the sudo user is named beside the real
 * uid (a SUDO_USER set by hand is not: changes_are_audited_...). */
Test(misc, audit_names_the_sudo_user_only_through_sudo)
{
	char devdir[320], *log;
	int fd, st;

	if (access("/usr/bin/sudo", X_OK) != 0 || geteuid() != 0)
		TL_SKIP("needs root and /usr/bin/sudo");
	fd = audit_start(devdir, sizeof(devdir));
	st = run_prog_in_ns(devdir, "/usr/bin/sudo", (const char *[]){
	    "sudo", "-n", TOKENCTL, "-c", E.cfg, "issue", "root", "--label",
	    "via-sudo", NULL }, NULL);
	if (st == 99) {
		close(fd);
		TL_SKIP("cannot make a mount namespace here");
	}
	cr_assert_eq(st, 0);
	log = drain(fd);
	close(fd);
	cr_assert_not_null(strstr(log, "by=root uid=0 sudo_user=root"), "%s",
	    log);
	free(log);
}

/* issue 15 item 4: a store (or its directory) readable by others leaks
 * every id, user, label and hash: each write warns, and still works. */
Test(misc, writes_warn_when_the_store_is_readable_by_others)
{
	char dir[400];
	struct run r;

	snprintf(dir, sizeof(dir), "%s", E.store);
	*strrchr(dir, '/') = '\0';
	ctl(&r, NULL, "issue", "root", "--label", "w1", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "warning"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(chmod(E.store, 0644), 0);
	ctl(&r, NULL, "issue", "root", "--label", "w2", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "warning: the store "), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "readable by others (mode 0644)"),
	    "%s", r.err);
	cr_assert_null(strstr(r.err, "directory"), "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "list", NULL);	/* reads do not warn */
	cr_assert_null(strstr(r.err, "warning"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(chmod(E.store, 0600), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	ctl(&r, NULL, "issue", "root", "--label", "w3", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "warning: the store's directory"),
	    "%s", r.err);
	run_free(&r);
}
