/*
 * inst.c - process, file and temp-dir helpers for tests/install/.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inst.h"

char *
inst_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		cr_assert_fail("vasprintf failed");
	return s;
}

/* In the child: apply setenv_list, wire fds, exec.  Never returns. */
static void
child_exec(const char *const argv[], const char *const setenv_list[], int wfd)
{
	size_t i;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	for (i = 0; setenv_list != NULL && setenv_list[i] != NULL; i++) {
		const char *eq = strchr(setenv_list[i], '=');
		char name[128];
		size_t n = eq != NULL ? (size_t)(eq - setenv_list[i]) : 0;

		if (n == 0 || n >= sizeof(name))
			_exit(126);
		memcpy(name, setenv_list[i], n);
		name[n] = '\0';
		if (eq[1] == '\0')
			unsetenv(name);
		else if (setenv(name, eq + 1, 1) != 0)
			_exit(126);
	}
	if (null < 0 || dup2(null, 0) < 0 || dup2(wfd, 1) < 0 ||
	    dup2(wfd, 2) < 0)
		_exit(126);
	execvp(argv[0], (char *const *)(uintptr_t)argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Read fd to EOF into a malloc'ed NUL-terminated buffer. */
static char *
slurp_fd(int fd, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

int
inst_run(const char *const argv[], const char *const setenv_list[],
    char **out)
{
	return inst_run_len(argv, setenv_list, out, NULL);
}

int
inst_run_len(const char *const argv[], const char *const setenv_list[],
    char **out, size_t *outlen)
{
	int fds[2], st = 0;
	pid_t pid;
	char *buf;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(argv, setenv_list, fds[1]);
	close(fds[1]);
	buf = slurp_fd(fds[0], outlen);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

char *
inst_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *d;

	if (base == NULL || base[0] != '/')
		base = "/tmp";
	d = inst_fmt("%s/apitoken-%s.XXXXXX", base, tag);
	if (mkdtemp(d) == NULL)
		cr_assert_fail("mkdtemp %s: %s", d, strerror(errno));
	return d;
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
inst_rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
inst_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *s;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd, len);
	close(fd);
	return s;
}

int
inst_write(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(content);
	int r = -1;

	if (fd < 0)
		return -1;
	if (write(fd, content, len) == (ssize_t)len && fchmod(fd, mode) == 0)
		r = 0;
	if (close(fd) != 0)
		r = -1;
	return r;
}

int
inst_make(const char *destdir, const char *target, const char *const vars[],
    char **out)
{
	const char *argv[32];
	char *b = inst_fmt("B=%s", BUILD_DIR);
	char *d = inst_fmt("DESTDIR=%s", destdir);
	size_t n = 0, i;
	int rc;

	argv[n++] = "make";
	argv[n++] = "--no-print-directory";
	argv[n++] = "-C";
	argv[n++] = SRC_DIR;
	argv[n++] = b;
	argv[n++] = d;
#ifdef __SANITIZE_ADDRESS__
	argv[n++] = "SANITIZE=1";	/* same flags as the objects in B */
#endif
	for (i = 0; vars != NULL && vars[i] != NULL && n < 30; i++)
		argv[n++] = vars[i];
	argv[n++] = target;
	argv[n] = NULL;
	rc = inst_run(argv, NULL, out);
	free(b);
	free(d);
	return rc;
}
