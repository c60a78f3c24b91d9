/*
 * helpers.c - run tokenctl as a subprocess (fork/exec, pipes for stdin,
 * stdout, stderr) against a store in a fresh mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

struct env E;

void
env_make(struct env *e, const char *extra_yaml)
{
	char yaml[2048];
	const char *sudo = e->sudo_user;

	memset(e, 0, sizeof(*e));
	e->sudo_user = sudo;
	snprintf(e->dir, sizeof(e->dir), "/tmp/tokenctl-test.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
	snprintf(e->cfg, sizeof(e->cfg), "%s/apitoken.yaml", e->dir);
	snprintf(e->store, sizeof(e->store), "%s/db/tokens", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(yaml, sizeof(yaml), "store: %s\nstate_dir: %s\n%s", e->store,
	    e->state, extra_yaml ? extra_yaml : "");
	file_write(e->cfg, yaml);
}

void
env_init(struct env *e, const char *extra_yaml)
{
	struct run r;

	env_make(e, extra_yaml);
	ctl_env(e, &r, NULL, "init", NULL);
	if (r.status != 0)
		env_clean(e);	/* a failed setup gets no teardown */
	cr_assert_eq(r.status, 0, "init failed (%d): %s", r.status, r.err);
	run_free(&r);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

void
env_clean(struct env *e)
{
	if (e->dir[0] != '\0')
		nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	e->dir[0] = '\0';
}

void
setup_env(void)
{
	env_init(&E, NULL);
}

void
teardown_env(void)
{
	env_clean(&E);
}

/* ------------------------------------------------------------- runs */

static void
append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		cr_assert_not_null(*buf);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* The child's environment: ours minus what would change tokenctl. */
static char **
child_env(struct env *e, const char *cfg_env)
{
	static const char *const keep[] = { "PATH=", "ASAN_OPTIONS=",
	    "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "LANG=", NULL };
	extern char **environ;
	char **v = calloc(16, sizeof(*v));
	size_t n = 0, i, k;

	cr_assert_not_null(v);
	for (i = 0; environ[i] != NULL && n < 10; i++)
		for (k = 0; keep[k] != NULL; k++)
			if (strncmp(environ[i], keep[k], strlen(keep[k])) == 0)
				v[n++] = strdup(environ[i]);
	if (cfg_env != NULL)
		cr_assert(asprintf(&v[n++], "APITOKEN_CONFIG=%s", cfg_env) > 0);
	if (e != NULL && e->sudo_user != NULL) {
		struct passwd *pw = getpwnam(e->sudo_user);

		cr_assert(asprintf(&v[n++], "SUDO_USER=%s", e->sudo_user) > 0);
		if (pw != NULL)	/* as sudo would set it */
			cr_assert(asprintf(&v[n++], "SUDO_UID=%lu",
			    (unsigned long)pw->pw_uid) > 0);
	}
	return v;
}

static void
exec_child(const char *prog, const char *const *argv, char **envp, int in,
    int out, int err)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execve(prog, (char *const *)(uintptr_t)argv, envp);
	_exit(127);
}

/* Feed input, collect stdout and stderr until both close. */
static void
pump(int in, int out, int err, const char *input, struct run *r)
{
	size_t inlen = input ? strlen(input) : 0, off = 0, ocap = 0,
	    ecap = 0, elen = 0;
	struct pollfd p[3] = { { out, POLLIN, 0 }, { err, POLLIN, 0 },
	    { in, POLLOUT, 0 } };
	char buf[4096];
	ssize_t n;
	int open_fds = 2;

	if (inlen == 0) {
		close(in);
		p[2].fd = -1;
	}
	while (open_fds > 0) {
		cr_assert(poll(p, 3, 60000) > 0, "tokenctl hangs");
		if (p[2].fd >= 0 && (p[2].revents & (POLLOUT | POLLERR))) {
			n = write(in, input + off, inlen - off);
			off += n > 0 ? (size_t)n : 0;
			if (n < 0 || off == inlen) {
				close(in);
				p[2].fd = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else if (i == 0) {
				append(&r->out, &r->outlen, &ocap, buf, n);
			} else {
				append(&r->err, &elen, &ecap, buf, n);
			}
		}
	}
	if (p[2].fd >= 0)
		close(in);
}

void
ctl_argv(struct env *e, struct run *r, const char *input,
    const char *const *argv, const char *cfg_env)
{
	run_prog(e, r, TOKENCTL, input, argv, cfg_env);
}

void
run_prog(struct env *e, struct run *r, const char *prog, const char *input,
    const char *const *argv, const char *cfg_env)
{
	int pin[2], pout[2], perr[2], st;
	char **envp = child_env(e, cfg_env);
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->out = strdup("");
	r->err = strdup("");
	signal(SIGPIPE, SIG_IGN);
	cr_assert(pipe2(pin, O_CLOEXEC) == 0 && pipe2(pout, O_CLOEXEC) == 0 &&
	    pipe2(perr, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		exec_child(prog, argv, envp, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pump(pin[1], pout[0], perr[0], input, r);
	cr_assert(waitpid(pid, &st, 0) == pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	for (int i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

static void
vctl(struct env *e, struct run *r, const char *input, va_list ap)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = "tokenctl";
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		cr_assert(++n < 63);
	ctl_argv(e, r, input, argv, e->cfg);
}

void
ctl_env(struct env *e, struct run *r, const char *input, ...)
{
	va_list ap;

	va_start(ap, input);
	vctl(e, r, input, ap);
	va_end(ap);
}

void
ctl(struct run *r, const char *input, ...)
{
	va_list ap;

	va_start(ap, input);
	vctl(&E, r, input, ap);
	va_end(ap);
}

void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ tokens */

char *
issue_token(const char *user, const char *label, ...)
{
	const char *argv[64];
	size_t n = 0;
	struct run r;
	va_list ap;
	char *tok;

	argv[n++] = "tokenctl";
	argv[n++] = "issue";
	argv[n++] = user;
	argv[n++] = "--label";
	argv[n++] = label;
	va_start(ap, label);
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		cr_assert(++n < 63);
	va_end(ap);
	ctl_argv(&E, &r, NULL, argv, E.cfg);
	cr_assert_eq(r.status, 0, "issue %s %s failed (%d): %s", user, label,
	    r.status, r.err);
	cr_assert_eq(count_lines(r.out), 1, "issue printed: %s", r.out);
	cr_assert(r.outlen > 1 && r.out[r.outlen - 1] == '\n');
	r.out[r.outlen - 1] = '\0';
	tok = strdup(r.out);
	run_free(&r);
	return tok;
}

void
token_id(const char *token, char id[13])
{
	const char *p = strchr(token, '_');

	cr_assert_not_null(p, "not a token: %s", token);
	memcpy(id, p + 1, 12);
	id[12] = '\0';
}

static uint32_t
crc32_ieee(const char *s, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

char *
forge_secret(const char *token)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	char *t = strdup(token);
	size_t len = strlen(t), body = len - 6, i;
	uint32_t crc;

	/* flip the first secret character, then recompute the CRC */
	i = strrchr(t, '_') - t + 1;
	t[i] = t[i] == 'A' ? 'B' : 'A';
	crc = crc32_ieee(t, body);
	for (i = 0; i < 6; i++) {
		t[len - 1 - i] = b62[crc % 62];
		crc /= 62;
	}
	return t;
}

/* ------------------------------------------------------------- JSON */

json_t *
out_json(const struct run *r)
{
	json_error_t jerr;
	json_t *j = json_loads(r->out, 0, &jerr);

	cr_assert_not_null(j, "stdout is not JSON (%s): %s", jerr.text,
	    r->out);
	return j;
}

json_t *
show_json(const char *id)
{
	struct run r;
	json_t *j;

	ctl(&r, NULL, "show", id, "--json", NULL);
	cr_assert_eq(r.status, 0, "show %s: %s", id, r.err);
	j = out_json(&r);
	run_free(&r);
	return j;
}

const char *
jget(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* ------------------------------------------------------------- files */

char *
file_read(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL)
		return NULL;
	buf = malloc(1 << 20);
	cr_assert_not_null(buf);
	len = fread(buf, 1, (1 << 20) - 1, f);
	buf[len] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

void
file_write(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, strlen(data), f), strlen(data));
	cr_assert_eq(fclose(f), 0);
}

size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}
