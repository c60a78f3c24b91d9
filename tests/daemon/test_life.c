/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_life.c - apitokend's options and life (issue 11): --check-config,
 * usage errors, the socket it makes in the foreground (directory 0755,
 * socket 0666, a stale one replaced, a live one or another file never),
 * SIGHUP reload (a bad config keeps the old one, logged), SIGTERM: a
 * clean exit that removes the socket.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td.h"

static void
setup(void)
{
	tl_watchdog(120);
}

TestSuite(life, .init = setup);

/* apitokend with args (NULL-terminated); status, output in *p. */
static int
run(struct tl_proc *p, const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { "apitokend", a1, a2, a3, NULL };
	struct tl_cmd c = { 0 };

	c.argv = argv;
	c.prog = TD_DAEMON;
	c.merge_err = 1;
	c.timeout_ms = 20000;
	return tl_run(&c, p);
}

Test(life, check_config_and_usage)
{
	struct td *d = td_start(NULL);
	struct tl_proc p;

	cr_assert_eq(run(&p, "--check-config", "-c", d->conf), 0, "%s", p.out);
	cr_assert_not_null(strstr(p.out, "OK"), "%s", p.out);
	tl_proc_free(&p);
	td_config(d, "max_failures: lots\n");
	cr_assert_eq(run(&p, "--check-config", "-c", d->conf), 1, "%s", p.out);
	cr_assert_not_null(strstr(p.out, "apitoken.yaml:4:"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "max_failures"), "%s", p.out);
	tl_proc_free(&p);
	cr_assert_eq(run(&p, "--bogus", NULL, NULL), 2);
	cr_assert_not_null(strstr(p.out, "usage: apitokend"), "%s", p.out);
	tl_proc_free(&p);
	cr_assert_eq(run(&p, "-f", "extra", NULL), 2);
	tl_proc_free(&p);
	cr_assert_eq(run(&p, "--help", NULL, NULL), 0);
	cr_assert_not_null(strstr(p.out, "--check-config"), "%s", p.out);
	tl_proc_free(&p);
	cr_assert_eq(td_stop(d), 0);
}

Test(life, socket_made_in_the_foreground_and_removed_at_exit)
{
	mode_t old = umask(077);	/* the daemon inherits it */
	struct td *d = td_start(NULL);
	char *dir = tl_fmt("%s/run", d->dir), *sock = tl_fmt("%s", d->sock);
	char *top = tl_fmt("%s", d->dir);
	struct stat st;

	umask(old);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
	cr_assert_eq(lstat(d->sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0666);
	/* td_stop removes the dir: check the socket goes first */
	kill(d->pid, SIGTERM);
	cr_assert_eq(waitpid(d->pid, (int[]){ 0 }, 0), d->pid);
	d->pid = 0;
	cr_assert_neq(lstat(sock, &st), 0, "the socket is left behind");
	td_stop(d);
	free(dir);
	free(sock);
	free(top);
}

Test(life, stale_socket_replaced_live_one_and_files_kept)
{
	struct td *d = td_start(NULL);
	struct tl_proc p;
	char *f;
	pid_t old = d->pid;
	int st, fd;
	int64_t end;

	/* a second daemon on a live socket: refused */
	cr_assert_eq(run(&p, "-f", "-c", d->conf), 1, "%s", p.out);
	cr_assert_not_null(strstr(p.out, "another apitokend answers"), "%s",
	    p.out);
	tl_proc_free(&p);
	/* killed: its socket stays, stale; a new daemon replaces it */
	kill(old, SIGKILL);
	cr_assert_eq(waitpid(old, &st, 0), old);
	d->pid = 0;
	cr_assert_eq(access(d->sock, F_OK), 0);
	d->pid = tl_fork();
	if (d->pid == 0) {
		int lfd = open(d->log, O_WRONLY | O_APPEND);

		if (lfd < 0 || dup2(lfd, 2) < 0)
			_exit(125);
		execl(TD_DAEMON, "apitokend", "-f", "-c", d->conf,
		    (char *)NULL);
		_exit(126);
	}
	end = tl_now_ms() + 20000;
	while ((fd = td_connect(d)) < 0 && tl_now_ms() < end)
		usleep(10000);
	cr_assert_geq(fd, 0, "no restart on the stale socket");
	close(fd);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, "x", NULL, NULL),
	    APITOKEN_R_MALFORMED);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	/* another kind of file at the path is never removed */
	cr_assert_eq(unlink(d->sock), 0);
	tl_write_str(d->sock, "keep me", 0600);
	cr_assert_eq(run(&p, "-f", "-c", d->conf), 1, "%s", p.out);
	cr_assert_not_null(strstr(p.out, "is not a socket"), "%s", p.out);
	tl_proc_free(&p);
	f = tl_read_file(d->sock, NULL);
	cr_assert_str_eq(f, "keep me");
	free(f);
	td_stop(d);
}

Test(life, reload_applies_a_good_config_and_keeps_the_old_on_error)
{
	struct td *d = td_start("max_failures: 1\n");
	char *tok = td_issue(d, tl_user(), "--label", "r", NULL);
	char *bad = tl_fmt("%s", tok), *log;

	bad[strlen(bad) - 7] = bad[strlen(bad) - 7] == 'a' ? 'b' : 'a';
	tl_token_recrc(bad);
	td_config(d, "max_failures: 1\nmax_failures: 2\n");
	td_reload(d);
	log = td_log(d);
	cr_assert_not_null(strstr(log, "given twice"), "%s", log);
	cr_assert_not_null(strstr(log, "old configuration stays"), "%s", log);
	free(log);
	/* still max_failures 1 */
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, bad, NULL, NULL),
	    APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_THROTTLED);
	td_config(d, "max_failures: 5\n");
	td_reload(d);
	cr_assert(td_log_wait(d, "reloaded", 1000));
	/* lockouts live on across a reload */
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_THROTTLED);

	cr_assert_eq(td_stop(d), 0);
	free(tok);
	free(bad);
}
