/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hostile.c - hostile clients (issue 11): malformed and oversized
 * frames, a client that sends nothing or too little, one that
 * disconnects mid-request, more connections than the daemon takes.  The
 * daemon closes them without accepting anything, logs each, and keeps
 * serving the others.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "td.h"

static struct td *D;
static char *Tok;

static void
setup(void)
{
	tl_watchdog(180);
	D = td_start(NULL);
	Tok = td_issue(D, tl_user(), "--label", "good", NULL);
}

static void
teardown(void)
{
	char *log = td_log(D);

	cr_expect_null(strstr(log, "accepted token=-"), "%s", log);
	free(log);
	free(Tok);
	cr_expect_eq(td_stop(D), 0, "apitokend did not exit cleanly");
}

TestSuite(hostile, .init = setup, .fini = teardown);

/* Still serving: the good token is accepted. */
static void
still_serving(void)
{
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, Tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
}

/* Send n bytes, then expect the daemon to close without a reply. */
static void
closed_without_reply(const void *bytes, size_t n, const char *logged)
{
	unsigned char b[16];
	int fd = td_connect(D);

	ssize_t r;

	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, bytes, n, MSG_NOSIGNAL), (ssize_t)n);
	r = read(fd, b, sizeof(b));
	cr_assert_eq(r, 0, "a reply, or no close (%zd, %s)", r,
	    strerror(errno));
	close(fd);
	cr_assert(td_log_wait(D, logged, 10000), "\"%s\" not logged",
	    logged);
	still_serving();
}

Test(hostile, malformed_frames_are_closed_and_logged)
{
	/* version 2; an unknown op; a bad tag; VERIFY without SERVICE;
	 * a REPLY sent as a request; LOCKOUTS with a field */
	closed_without_reply("\0\0\0\2\2\1", 6, "sent a malformed message");
	closed_without_reply("\0\0\0\2\1\7", 6, "sent a malformed message");
	closed_without_reply("\0\0\0\6\1\1\77\0\1x", 10,
	    "sent a malformed message");
	closed_without_reply("\0\0\0\12\1\1\1\0\1x\4\0\1y", 14,
	    "VERIFY needs USER, SERVICE, TOKEN");
	closed_without_reply("\0\0\0\2\1\200", 6, "not a request op");
}

Test(hostile, oversized_and_empty_frames_are_closed)
{
	closed_without_reply("\377\377\377\377", 4, "frame length of 4294967295");
	closed_without_reply("\0\0\40\1", 4, "frame length of 8193");
	closed_without_reply("\0\0\0\0", 4, "frame length of 0");
	still_serving();
}

Test(hostile, a_field_past_its_cap_is_malformed)
{
	unsigned char b[4 + 2 + 3 + 300];

	memset(b, 'u', sizeof(b));
	memcpy(b, "\0\0\1\61\1\1\1\1\54", 9);	/* USER of 300 bytes */
	closed_without_reply(b, sizeof(b), "sent a malformed message");
}

Test(hostile, silent_and_slow_clients_are_dropped_in_time)
{
	int quiet = td_connect(D), slow = td_connect(D);
	unsigned char b[8];
	int64_t t0 = tl_now_ms();

	cr_assert_geq(quiet, 0);
	cr_assert_geq(slow, 0);
	cr_assert_eq(send(slow, "\0\0\0\40\1\1", 6, MSG_NOSIGNAL), 6);
	still_serving();	/* not blocked by either */
	cr_assert_eq(read(quiet, b, sizeof(b)), 0);
	cr_assert_eq(read(slow, b, sizeof(b)), 0);
	cr_assert_lt(tl_now_ms() - t0, 9000, "dropped after %lld ms",
	    (long long)(tl_now_ms() - t0));
	cr_assert(td_log_wait(D, "sent nothing in time", 5000));
	cr_assert(td_log_wait(D, "sent too little in time", 5000));
	close(quiet);
	close(slow);
	still_serving();
}

Test(hostile, a_client_leaving_mid_request_is_logged)
{
	int fd = td_connect(D);

	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, "\0\0\0\40\1\1\1\0\5al", 11, MSG_NOSIGNAL), 11);
	close(fd);
	cr_assert(td_log_wait(D, "disconnected mid-request", 10000));
	still_serving();
}

static int
read_all(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	for (; n > 0; p += r, n -= (size_t)r)
		if ((r = read(fd, p, n)) <= 0)
			return -1;
	return 0;
}

Test(hostile, connections_past_the_limit_are_refused_clearly)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	struct rlimit rl = { 1024, 1024 };
	int fds[300], i, n = 0, fd;
	unsigned char b[4];
	int64_t end;
	size_t len;

	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < 270; i++)
		if ((fds[n] = td_connect(D)) >= 0)
			n++;
	cr_assert_eq(n, 270);
	/* the last ones were refused with a reply; wait for it */
	cr_assert_eq(read(fds[n - 1], b, 4), 4, "no refusal");
	cr_assert(td_log_wait(D, "connections open: new ones refused", 10000));
	/* root has no cap of its own: the daemon's cap refused it */
	/* the refusal comes at once, before any request */
	fd = td_connect(D);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read_all(fd, buf, 4), 0);
	len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3];
	cr_assert_leq(len, APITOKEN_MSG_MAX);
	cr_assert_eq(read_all(fd, buf + 4, len), 0);
	cr_assert_eq(apitoken_msg_parse(buf + 4, len, &m), 0);
	cr_assert_str_eq(td_field(&m, APITOKEN_T_REASON), "daemon-unavailable");
	cr_assert_str_eq(td_field(&m, APITOKEN_T_DETAIL), geteuid() == 0 ?
	    "too many connections" : "too many connections from this user");
	close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* the daemon sees the closes as they come */
	end = tl_now_ms() + 10000;
	while (td_verify(D, tl_user(), "sshd", NULL, Tok, NULL, NULL) ==
	    APITOKEN_R_UNAVAILABLE && tl_now_ms() < end)
		usleep(10000);
	still_serving();
}
