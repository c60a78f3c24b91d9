/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_units.c - apitokend under systemd (issue 11): the shipped units
 * pass systemd-analyze verify and name the default socket; the daemon
 * takes a passed socket (sd_listen_fds, via systemd-socket-activate)
 * and tells a notify socket READY=1, RELOADING=1 and STOPPING=1.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td.h"

static void
setup(void)
{
	tl_watchdog(120);
}

TestSuite(units, .init = setup);

static int
have(const char *prog)
{
	char *p = tl_fmt("command -v %s >/dev/null 2>&1", prog);
	int r = system(p) == 0;

	free(p);
	return r;
}

Test(units, shipped_units_verify)
{
	char dir[256], *sock, *svc, *text, *cmd;
	struct tl_proc p;
	struct tl_cmd c = { 0 };

	if (!have("systemd-analyze"))
		TL_SKIP("systemd-analyze is not installed");
	sock = tl_read_file(SRC_DIR "/conf/systemd/apitokend.socket", NULL);
	svc = tl_read_file(SRC_DIR "/conf/systemd/apitokend.service", NULL);
	cr_assert_not_null(sock);
	cr_assert_not_null(svc);
	cr_assert_not_null(strstr(sock, "\nListenStream="
	    APITOKEN_DEFAULT_SOCKET "\n"));
	cr_assert_not_null(strstr(sock, "\nSocketMode=0666\n"));
	cr_assert_not_null(strstr(svc, "\nType=notify\n"));
	cr_assert_not_null(strstr(svc, "\nExecStart=/usr/sbin/apitokend\n"));
	cr_assert_not_null(strstr(svc, "\nProtectSystem=strict\n"));
	cr_assert_not_null(strstr(svc, "\nNoNewPrivileges=yes\n"));
	tl_tmpdir(dir, sizeof(dir), "units");
	text = tl_fmt("%s/apitokend.socket", dir);
	tl_write_str(text, sock, 0644);
	free(text);
	/* the built daemon stands in for the installed one */
	cmd = strstr(svc, "/usr/sbin/apitokend");
	text = tl_fmt("%.*s%s%s", (int)(cmd - svc), svc, TD_DAEMON,
	    cmd + strlen("/usr/sbin/apitokend"));
	free(svc);
	svc = tl_fmt("%s/apitokend.service", dir);
	tl_write_str(svc, text, 0644);
	free(text);
	{
		const char *argv[] = { "systemd-analyze", "verify",
			"--man=no", NULL, NULL, NULL };
		char *s = tl_fmt("%s/apitokend.socket", dir);

		argv[3] = s;
		argv[4] = svc;
		c.argv = argv;
		c.search_path = 1;
		c.merge_err = 1;
		cr_expect_eq(tl_run(&c, &p), 0, "%s", p.out);
		tl_proc_free(&p);
		free(s);
	}
	free(svc);
	free(sock);
	tl_rmrf(dir);
}

/* A datagram socket for NOTIFY_SOCKET; its fd. */
static int
notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 20, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	return fd;
}

/* The next notification holding want (others are skipped). */
static void
expect_notify(int fd, const char *want)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		cr_assert_gt(n, 0, "no \"%s\" notification", want);
		buf[n] = '\0';
		if (strstr(buf, want) != NULL)
			return;
	}
}

Test(units, passed_socket_and_readiness)
{
	struct td *d;
	char *ns, *env;
	pid_t pid;
	int nfd, st;
	int64_t end;

	if (!have("systemd-socket-activate"))
		TL_SKIP("systemd-socket-activate is not installed");
	d = td_start(NULL);
	/* stop td's own daemon; run one on a socket systemd-style */
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	ns = tl_fmt("%s/notify", d->dir);
	nfd = notify_socket(ns);
	env = tl_fmt("NOTIFY_SOCKET=%s", ns);
	pid = tl_fork();
	if (pid == 0) {
		int lfd = open(d->log, O_WRONLY | O_APPEND);

		if (lfd < 0 || dup2(lfd, 2) < 0)
			_exit(125);
		putenv(env);
		execlp("systemd-socket-activate", "systemd-socket-activate",
		    "-E", "NOTIFY_SOCKET", "-l", d->sock, TD_DAEMON, "-c",
		    d->conf, (char *)NULL);
		_exit(126);
	}
	d->pid = pid;
	/* it listens, and at the first connection execs the daemon in
	 * place with the socket: poll for the socket, then ask */
	end = tl_now_ms() + 20000;
	while (access(d->sock, F_OK) != 0 && tl_now_ms() < end)
		usleep(10000);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, "nope", NULL,
	    NULL), APITOKEN_R_MALFORMED);
	expect_notify(nfd, "READY=1");
	kill(pid, SIGHUP);
	expect_notify(nfd, "RELOADING=1");
	expect_notify(nfd, "READY=1");
	kill(pid, SIGTERM);
	expect_notify(nfd, "STOPPING=1");
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	d->pid = 0;
	close(nfd);
	free(ns);
	free(env);
	td_stop(d);
}
