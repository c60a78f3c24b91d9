/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.c - child processes for tests: tl_fork() and one runner,
 * tl_run(), that feeds stdin and captures stdout and stderr with a time
 * limit; the clock, a replayable PRNG, knobs and user names.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "tl.h"

int tl_in_child;

pid_t
tl_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		tl_die("fork: %s", strerror(errno));
	if (pid == 0) {
		tl_in_child = 1;
		/* never outlive the test (a timed-out test is killed) */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

void
tl_watchdog(unsigned secs)
{
	signal(SIGALRM, SIG_DFL);
	(void)alarm(secs);
}

int64_t
tl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
buf_append(char **buf, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (nb == NULL)
		tl_die("out of memory");
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

/* In the child: the environment, the descriptors, exec.  Never returns. */
static void
child_exec(const struct tl_cmd *c, int in, int out, int err)
{
	const char *prog = c->prog != NULL ? c->prog : c->argv[0];
	char *const *argv = (char *const *)(uintptr_t)c->argv;
	extern char **environ;
	size_t i, n;

	for (i = 0; c->setenv != NULL && c->setenv[i] != NULL; i++) {
		const char *s = c->setenv[i], *eq = strchr(s, '=');
		char name[128];

		n = eq != NULL ? (size_t)(eq - s) : 0;
		if (n == 0 || n >= sizeof(name))
			_exit(126);
		memcpy(name, s, n);
		name[n] = '\0';
		if (eq[1] == '\0')
			unsetenv(name);
		else if (setenv(name, eq + 1, 1) != 0)
			_exit(126);
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	(void)setpgid(0, 0);
	if (c->search_path)
		execvpe(prog, argv, c->envp != NULL ? c->envp : environ);
	else
		execve(prog, argv, c->envp != NULL ? c->envp : environ);
	dprintf(2, "exec %s: %s\n", prog, strerror(errno));
	_exit(127);
}

/* On timeout: SIGTERM to the child's group (scripts clean up on it),
 * SIGKILL 5 s later. */
static void
stop_group(pid_t pid)
{
	siginfo_t si;
	int i;

	kill(-pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) != 0 || si.si_pid != 0)
			break;
		usleep(100000);
	}
	kill(-pid, SIGKILL);
}

struct pump {
	int in, out, err;
	const char *input;
	size_t inlen, off;
};

static void
pump_write(struct pump *f)
{
	ssize_t n = write(f->in, f->input + f->off, f->inlen - f->off);

	if (n > 0)
		f->off += (size_t)n;
	if (n < 0 || f->off == f->inlen) {
		close(f->in);
		f->in = -1;
	}
}

static int
pump_read(int *fd, char **buf, size_t *len)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0) {
		buf_append(buf, len, chunk, (size_t)n);
		return 1;
	}
	close(*fd);
	*fd = -1;
	return 0;
}

/* Feed input, drain stdout/stderr until both close; stop the child at
 * the deadline. */
static void
pump(struct pump *f, struct tl_proc *p, pid_t pid, int64_t deadline)
{
	struct pollfd pf[3];

	if (f->inlen == 0) {
		close(f->in);
		f->in = -1;
	}
	while (f->out >= 0 || f->err >= 0) {
		pf[0] = (struct pollfd){ f->in, POLLOUT, 0 };
		pf[1] = (struct pollfd){ f->out, POLLIN, 0 };
		pf[2] = (struct pollfd){ f->err, POLLIN, 0 };
		if (!p->timed_out && tl_now_ms() > deadline) {
			stop_group(pid);
			p->timed_out = 1;
		}
		if (poll(pf, 3, 100) <= 0)
			continue;
		if (f->in >= 0 && (pf[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			pump_write(f);
		if (f->out >= 0 && pf[1].revents)
			(void)pump_read(&f->out, &p->out, &p->outlen);
		if (f->err >= 0 && pf[2].revents)
			(void)pump_read(&f->err, &p->err, &p->errlen);
	}
	if (f->in >= 0)
		close(f->in);
}

static void
reap(pid_t pid, struct tl_proc *p)
{
	struct rusage ru;
	int st = 0;

	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	p->maxrss_kb = ru.ru_maxrss;
	if (WIFEXITED(st))
		p->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		p->status = 128 + WTERMSIG(st);
	else
		p->status = -1;
}

int
tl_run(const struct tl_cmd *c, struct tl_proc *p)
{
	int pin[2], pout[2], perr[2];
	struct pump f;
	void (*old)(int);
	int64_t t0 = tl_now_ms();
	pid_t pid;

	memset(p, 0, sizeof(*p));
	buf_append(&p->out, &p->outlen, "", 0);
	buf_append(&p->err, &p->errlen, "", 0);
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0)
		tl_die("pipe: %s", strerror(errno));
	old = signal(SIGPIPE, SIG_IGN);
	pid = tl_fork();
	if (pid == 0)
		child_exec(c, pin[0], pout[1], c->merge_err ? pout[1] : perr[1]);
	(void)setpgid(pid, pid);	/* as the child does: no race */
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	f = (struct pump){ pin[1], pout[0], perr[0], c->input, 0, 0 };
	if (c->input != NULL)
		f.inlen = c->inlen ? c->inlen : strlen(c->input);
	pump(&f, p, pid, t0 + (c->timeout_ms > 0 ? c->timeout_ms : 60000));
	reap(pid, p);
	signal(SIGPIPE, old);
	p->ms = tl_now_ms() - t0;
	return p->status;
}

void
tl_proc_free(struct tl_proc *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------- misc */

static uint64_t rng_state;

void
tl_rand_seed(const char *what)
{
	const char *s = getenv("TL_SEED");

	if (s == NULL)
		s = getenv("SX_SEED");
	rng_state = s ? strtoull(s, NULL, 0) : (uint64_t)tl_now_ms() ^
	    ((uint64_t)getpid() << 32);
	if (rng_state == 0)
		rng_state = 0x9e3779b97f4a7c15ULL;
	/* stderr, not cr_log: writer children call this too */
	fprintf(stderr, "%s: TL_SEED=%llu\n", what,
	    (unsigned long long)rng_state);
}

uint64_t
tl_rand(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

long
tl_knob(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : def;
}

/* ------------------------------------------------------------ users */

const char *
tl_user(void)
{
	static char name[256];
	struct passwd *pw = getpwuid(geteuid());

	if (pw == NULL)
		tl_die("no passwd entry for uid %d", (int)geteuid());
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	return name;
}

const char *
tl_other_user(void)
{
	static const char *const candidates[] = { "daemon", "bin", "nobody",
	    "root" };
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (getpwnam(candidates[i]) != NULL &&
		    strcmp(candidates[i], tl_user()) != 0)
			return candidates[i];
	tl_die("no second account on this system");
}
