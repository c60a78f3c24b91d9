/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * td_fake.c - the fake apitokend of td_fake.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "td_fake.h"
#include "tl.h"

void
td_fake_setup(struct td_fake *f)
{
	char text[512];

	memset(f, 0, sizeof(*f));
	f->pid = -1;
	tl_tmpdir(f->dir, sizeof(f->dir), "fakedaemon");
	if (chmod(f->dir, 0755) != 0)
		tl_die("chmod %s: %s", f->dir, strerror(errno));
	snprintf(f->sock, sizeof(f->sock), "%s/d.sock", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/apitoken.yaml", f->dir);
	snprintf(text, sizeof(text), "store: %s/tokens\nstate_dir: %s/state\n"
	    "daemon_socket: %s\n", f->dir, f->dir, f->sock);
	tl_write_str(f->conf, text, 0644);
	if (apitoken_config_load(f->conf, &f->cfg, text, sizeof(text)) != 0)
		tl_die("%s", text);
}

void
td_fake_teardown(struct td_fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = -1;
	}
	apitoken_config_free(f->cfg);
	f->cfg = NULL;
	if (f->dir[0] != '\0')
		tl_rmrf(f->dir);
}

void
td_fake_expect(struct td_fake *f, uint8_t tag, const char *val)
{
	if (f->nwant == TD_FAKE_FIELDS)
		tl_die("td_fake_expect: too many");
	f->want_tag[f->nwant] = tag;
	f->want_val[f->nwant++] = val;
}

void
td_fake_reply(struct td_fake *f, uint8_t tag, const char *val)
{
	if (f->n == TD_FAKE_FIELDS)
		tl_die("td_fake_reply: too many");
	f->tag[f->n] = tag;
	f->val[f->n++] = val;
}

int
td_fake_bind(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		tl_die("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		tl_die("%s: too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		tl_die("bind %s: %s", path, strerror(errno));
	return fd;
}

static int
read_full(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The request: the expected op and fields, else exit 3 (in the child). */
static void
check_request(const struct td_fake *f, int fd)
{
	unsigned char hdr[4], body[APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	char v[APITOKEN_MSG_MAX];
	uint32_t len;
	size_t i;

	if (read_full(fd, hdr, 4) != 0)
		_exit(3);
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len > sizeof(body) || read_full(fd, body, len) != 0 ||
	    apitoken_msg_parse(body, len, &m) != 0 || m.op != f->want_op)
		_exit(3);
	for (i = 0; i < f->nwant; i++)
		if (apitoken_msg_get(&m, f->want_tag[i], v, sizeof(v)) != 0 ||
		    strcmp(v, f->want_val[i]) != 0)
			_exit(3);
}

static void
send_reply(const struct td_fake *f, int fd)
{
	unsigned char out[APITOKEN_MSG_MAX + 4];
	struct apitoken_msg m;
	size_t i, n;

	apitoken_msg_init(&m, f->op);
	for (i = 0; i < f->n; i++)
		if (apitoken_msg_add_str(&m, f->tag[i], f->val[i]) != 0)
			_exit(4);
	if (apitoken_msg_encode(&m, out, sizeof(out), &n) != 0 ||
	    write(fd, out, n) != (ssize_t)n)
		_exit(4);
}

static void
act_on(const struct td_fake *f, int c, enum td_fake_act a)
{
	static const unsigned char garbage[] = "\0\0\0\x05hello";
	static const unsigned char big[] = "\0\x01\0\0";
	static const unsigned char half[] = "\0\0\0\x40\x01\x80";

	if (a == TD_FAKE_SLAM)
		_exit(0);
	check_request(f, c);
	if (a == TD_FAKE_SILENT)
		pause();
	else if (a == TD_FAKE_GARBAGE)
		(void)!write(c, garbage, sizeof(garbage) - 1);
	else if (a == TD_FAKE_BAD_LEN)
		(void)!write(c, big, sizeof(big) - 1);
	else if (a == TD_FAKE_HALF)
		(void)!write(c, half, sizeof(half) - 1);
	else if (a == TD_FAKE_REPLY)
		send_reply(f, c);
}

void
td_fake_serve(struct td_fake *f, enum td_fake_act a, uid_t uid)
{
	int fd = td_fake_bind(f->sock), p[2], c;
	char ready;

	if (pipe(p) != 0)
		tl_die("pipe: %s", strerror(errno));
	f->pid = tl_fork();
	if (f->pid == 0) {
		close(p[0]);
		if (uid != 0 && setresuid(uid, uid, uid) != 0)
			_exit(5);
		if (listen(fd, 8) != 0 || write(p[1], "r", 1) != 1)
			_exit(6);
		if ((c = accept(fd, NULL, NULL)) < 0)
			_exit(6);
		act_on(f, c, a);
		_exit(0);
	}
	close(fd);
	close(p[1]);
	if (read(p[0], &ready, 1) != 1)
		tl_die("the fake apitokend did not start");
	close(p[0]);
}

int
td_fake_wait(struct td_fake *f)
{
	int st = -1;

	if (f->pid <= 0 || waitpid(f->pid, &st, 0) != f->pid)
		tl_die("td_fake_wait: no server");
	f->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
