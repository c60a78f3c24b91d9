/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * td.c - the apitokend test fixture (td.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "td.h"

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void
td_config(struct td *d, const char *extra)
{
	char *text = tl_fmt("store: %s\nstate_dir: %s\ndaemon_socket: %s\n%s",
	    d->store, d->state, d->sock, extra ? extra : "");

	tl_write_str(d->conf, text, 0600);
	free(text);
}

static void
spawn(struct td *d)
{
	int fd;

	d->pid = tl_fork();
	if (d->pid != 0)
		return;
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(125);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(125);
	execl(TD_DAEMON, "apitokend", "-f", "-c", d->conf, (char *)NULL);
	_exit(126);
}

/* Poll until the socket accepts a connection (or the daemon died). */
static void
wait_ready(struct td *d)
{
	int64_t end = tl_now_ms() + 30000;
	int fd, st;

	while (tl_now_ms() < end) {
		if ((fd = td_connect(d)) >= 0) {
			close(fd);
			return;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			tl_die("apitokend exited at start (status %d): %s",
			    st, td_log(d));
		}
		nap(10);
	}
	tl_die("apitokend did not answer on %s within 30 s", d->sock);
}

struct td *
td_start(const char *extra)
{
	struct td *d = calloc(1, sizeof(*d));
	struct tl_proc p;
	struct tl_cmd c = { 0 };
	const char *argv[] = { "tokenctl", "-c", NULL, "init", NULL };

	if (d == NULL)
		tl_die("out of memory");
	tl_tmpdir(d->dir, sizeof(d->dir), "apitokend");
	snprintf(d->conf, sizeof(d->conf), "%s/apitoken.yaml", d->dir);
	snprintf(d->store, sizeof(d->store), "%s/db/tokens", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/run/apitokend.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	td_config(d, extra);
	argv[2] = d->conf;
	c.argv = argv;
	c.prog = TL_TOKENCTL;
	if (tl_run(&c, &p) != 0)
		tl_die("tokenctl init: %s", p.err);
	tl_proc_free(&p);
	spawn(d);
	wait_ready(d);
	return d;
}

int
td_kill(struct td *d, int sig)
{
	int64_t end;
	int st = 0;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	end = tl_now_ms() + 30000;
	while (waitpid(d->pid, &st, WNOHANG) == 0) {
		if (tl_now_ms() > end) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
			break;
		}
		nap(5);
	}
	d->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
td_restart(struct td *d)
{
	if (d->pid > 0)
		tl_die("td_restart: apitokend %ld still runs", (long)d->pid);
	spawn(d);
	wait_ready(d);
}

int
td_stop(struct td *d)
{
	int rc = -1;

	if (d == NULL)
		return -1;
	if (d->pid > 0) {
		rc = td_kill(d, SIGTERM);
		if (rc != 0) {	/* say why: a sanitizer's report, say */
			char *log = td_log(d);

			fprintf(stderr, "apitokend exited with %d; its log:\n%s",
			    rc, log);
			free(log);
		}
	}
	tl_rmrf(d->dir);
	free(d);
	return rc;
}

char *
td_log(const struct td *d)
{
	char *s = tl_read_file(d->log, NULL);

	return s != NULL ? s : tl_fmt("%s", "");
}

int
td_log_wait(const struct td *d, const char *needle, int ms)
{
	int64_t end = tl_now_ms() + ms;
	char *s;
	int found;

	for (;;) {
		s = td_log(d);
		found = strstr(s, needle) != NULL;
		free(s);
		if (found || tl_now_ms() > end)
			return found;
		nap(10);
	}
}

void
td_reload(struct td *d)
{
	char *s = td_log(d);
	size_t before = strlen(s);
	int64_t end = tl_now_ms() + 30000;

	free(s);
	kill(d->pid, SIGHUP);
	while (tl_now_ms() < end) {
		s = td_log(d);
		if (strlen(s) > before && (strstr(s + before, "reloaded") ||
		    strstr(s + before, "reload failed"))) {
			free(s);
			return;
		}
		free(s);
		nap(10);
	}
	tl_die("apitokend did not finish a reload within 30 s");
}

static int
ctl_v(struct td *d, char **out, const char *first, va_list ap)
{
	const char *argv[64];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	size_t n = 0;
	int rc;

	argv[n++] = "tokenctl";
	argv[n++] = "-c";
	argv[n++] = d->conf;
	for (argv[n] = first; argv[n] != NULL && n < 62;)
		argv[++n] = va_arg(ap, const char *);
	argv[n] = NULL;
	c.argv = argv;
	c.prog = TL_TOKENCTL;
	rc = tl_run(&c, &p);
	if (out != NULL) {
		*out = p.out;
		p.out = NULL;
	}
	if (rc != 0)
		fprintf(stderr, "tokenctl %s: %s", first, p.err);
	tl_proc_free(&p);
	return rc;
}

int
td_ctl(struct td *d, char **out, ...)
{
	va_list ap;
	const char *first;
	int rc;

	va_start(ap, out);
	first = va_arg(ap, const char *);
	rc = ctl_v(d, out, first, ap);
	va_end(ap);
	return rc;
}

char *
td_issue(struct td *d, const char *user, ...)
{
	const char *argv[64];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	va_list ap;
	size_t n = 0;
	char *tok;

	argv[n++] = "tokenctl";
	argv[n++] = "-c";
	argv[n++] = d->conf;
	argv[n++] = "issue";
	argv[n++] = user;
	va_start(ap, user);
	while ((argv[n] = va_arg(ap, const char *)) != NULL && n < 62)
		n++;
	va_end(ap);
	argv[n] = NULL;
	c.argv = argv;
	c.prog = TL_TOKENCTL;
	if (tl_run(&c, &p) != 0 || p.outlen < 2)
		tl_die("tokenctl issue %s: %s", user, p.err);
	p.out[strcspn(p.out, "\n")] = '\0';
	tok = tl_fmt("%s", p.out);
	tl_proc_free(&p);
	return tok;
}

int
td_connect(const struct td *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 10, 0 };
	int fd;

	if (strlen(d->sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
read_n(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
td_exchange(int fd, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf)
{
	unsigned char out[4 + APITOKEN_MSG_MAX];
	size_t n = 0;

	if (apitoken_msg_encode(req, out, sizeof(out), &n) != 0 ||
	    send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n ||
	    read_n(fd, buf, 4) != 0)
		return -1;
	n = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3];
	if (n > APITOKEN_MSG_MAX || read_n(fd, buf + 4, n) != 0 ||
	    apitoken_msg_parse(buf + 4, n, reply) != 0)
		return -1;
	return 0;
}

int
td_call(const struct td *d, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf)
{
	int fd = td_connect(d), r;

	if (fd < 0)
		return -1;
	r = td_exchange(fd, req, reply, buf);
	close(fd);
	return r;
}

enum apitoken_reason
td_verify(const struct td *d, const char *user, const char *service,
    const char *rhost, const char *token, struct apitoken_msg *reply,
    unsigned char *buf)
{
	static unsigned char b[4 + APITOKEN_MSG_MAX];
	static struct apitoken_msg m;
	struct apitoken_msg req, *rep = reply ? reply : &m;
	enum apitoken_reason r;
	const char *s;

	apitoken_msg_init(&req, APITOKEN_OP_VERIFY);
	if (apitoken_msg_add_str(&req, APITOKEN_T_USER, user) != 0 ||
	    apitoken_msg_add_str(&req, APITOKEN_T_SERVICE, service) != 0 ||
	    (rhost != NULL && apitoken_msg_add_str(&req, APITOKEN_T_RHOST,
	    rhost) != 0) ||
	    apitoken_msg_add_str(&req, APITOKEN_T_TOKEN, token) != 0)
		tl_die("VERIFY does not encode");
	if (td_call(d, &req, rep, buf ? buf : b) != 0)
		tl_die("no reply to VERIFY from apitokend");
	if (rep->op != APITOKEN_OP_REPLY ||
	    (s = td_field(rep, APITOKEN_T_REASON)) == NULL ||
	    apitoken_reason_parse(s, &r) != 0)
		tl_die("a reply without a valid REASON");
	return r;
}

const char *
td_field(const struct apitoken_msg *m, uint8_t tag)
{
	static char buf[2048];

	return apitoken_msg_get(m, tag, buf, sizeof(buf)) == 0 ? buf : NULL;
}
