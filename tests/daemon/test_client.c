/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_client.c - the library's apitokend client (verifier/client.c)
 * against hostile and broken servers: a tiny server forked by each test
 * on a private socket plays the part (never answers, answers garbage,
 * hangs up, never accepts, runs as another uid, answers for another
 * token...).  The client must fail closed with daemon-unavailable and a
 * detail naming the socket, within its time limit, never raise SIGPIPE,
 * and never send a token to a socket it does not trust.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "apitoken.h"
#include "tl.h"

#define PREFIX "apitok"
#define ID "AbCdEfGh0123"
#define SECRET "0123456789abcdefghijABCDEFGHIJxy"

static struct {
	char dir[64];
	char sock[96];
	char conf[96];
	char tok[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_config *cfg;
	pid_t server;
} C;

static void
setup(void)
{
	char text[1024];

	tl_watchdog(30);
	memset(&C, 0, sizeof(C));
	C.server = -1;
	tl_tmpdir(C.dir, sizeof(C.dir), "client");
	snprintf(C.sock, sizeof(C.sock), "%s/d.sock", C.dir);
	snprintf(C.conf, sizeof(C.conf), "%s/apitoken.yaml", C.dir);
	snprintf(text, sizeof(text), "store: %s/tokens\nstate_dir: %s/state\n"
	    "daemon_socket: %s\n", C.dir, C.dir, C.sock);
	tl_write_str(C.conf, text, 0600);
	cr_assert_eq(apitoken_config_load(C.conf, &C.cfg, NULL, 0), 0);
	tl_token_build(PREFIX, ID, SECRET, C.tok, sizeof(C.tok));
}

static void
teardown(void)
{
	if (C.server > 0) {
		kill(C.server, SIGKILL);
		waitpid(C.server, NULL, 0);
	}
	apitoken_config_free(C.cfg);
	tl_rmrf(C.dir);
}

TestSuite(client, .init = setup, .fini = teardown);

/* ------------------------------------------------- the fake server */

/* What the fake server does with one connection. */
enum act {
	A_SILENT,	/* read the request, never answer */
	A_CLOSE,	/* read the request, hang up */
	A_GARBAGE,	/* answer bytes that are not a message */
	A_BAD_LEN,	/* a length past APITOKEN_MSG_MAX */
	A_HALF,		/* half an answer, then hang up */
	A_REPLY,	/* answer the message in reply_spec */
	A_SLAMMED,	/* hang up before reading anything */
};

/* The answer A_REPLY sends: op and (tag, value) pairs. */
static struct {
	uint8_t op;
	size_t n;
	uint8_t tag[8];
	const char *val[8];
} R;

static void
reply_add(uint8_t tag, const char *val)
{
	R.tag[R.n] = tag;
	R.val[R.n++] = val;
}

static int
listen_on(const char *path)
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

/* The request the client sent: a VERIFY with user, service, rhost and
 * the token.  Exit code 3 when it is not that. */
static void
check_request(int fd)
{
	unsigned char hdr[4], body[APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	char v[APITOKEN_INPUT_MAX + 1];
	uint32_t len;

	if (read_full(fd, hdr, 4) != 0)
		_exit(3);
	len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
	if (len > sizeof(body) || read_full(fd, body, len) != 0 ||
	    apitoken_msg_parse(body, len, &m) != 0 ||
	    m.op != APITOKEN_OP_VERIFY)
		_exit(3);
	if (apitoken_msg_get(&m, APITOKEN_T_USER, v, sizeof(v)) != 0 ||
	    strcmp(v, "alice") != 0 ||
	    apitoken_msg_get(&m, APITOKEN_T_SERVICE, v, sizeof(v)) != 0 ||
	    strcmp(v, "imap") != 0 ||
	    apitoken_msg_get(&m, APITOKEN_T_RHOST, v, sizeof(v)) != 0 ||
	    strcmp(v, "192.0.2.7") != 0 ||
	    apitoken_msg_get(&m, APITOKEN_T_TOKEN, v, sizeof(v)) != 0 ||
	    strcmp(v, C.tok) != 0)
		_exit(3);
}

static void
send_reply(int fd)
{
	struct apitoken_msg m;
	unsigned char out[APITOKEN_MSG_MAX + 4];
	size_t i, n;

	apitoken_msg_init(&m, R.op);
	for (i = 0; i < R.n; i++)
		if (apitoken_msg_add_str(&m, R.tag[i], R.val[i]) != 0)
			_exit(4);
	if (apitoken_msg_encode(&m, out, sizeof(out), &n) != 0 ||
	    write(fd, out, n) != (ssize_t)n)
		_exit(4);
}

static void
act_on(int c, enum act a)
{
	static const unsigned char garbage[] = "\0\0\0\x05hello";
	static const unsigned char big[] = "\0\x01\0\0";
	static const unsigned char half[] = "\0\0\0\x40\x01\x80";

	if (a == A_SLAMMED)
		_exit(0);
	check_request(c);
	switch (a) {
	case A_SILENT:
		pause();
		break;
	case A_GARBAGE:
		(void)!write(c, garbage, sizeof(garbage) - 1);
		break;
	case A_BAD_LEN:
		(void)!write(c, big, sizeof(big) - 1);
		break;
	case A_HALF:
		(void)!write(c, half, sizeof(half) - 1);
		break;
	case A_REPLY:
		send_reply(c);
		break;
	default:
		break;
	}
}

/* Serve one connection with a; the child exits 0 when the request was
 * as expected.  If uid is not 0, listen after becoming uid (the socket
 * file stays root's: SO_PEERCRED reports who called listen).  Returns
 * once the child listens. */
static void
serve(enum act a, uid_t uid)
{
	int fd = listen_on(C.sock), p[2], c;
	char ready;

	if (pipe(p) != 0)
		tl_die("pipe: %s", strerror(errno));
	C.server = tl_fork();
	if (C.server == 0) {
		close(p[0]);
		if (uid != 0 && setresuid(uid, uid, uid) != 0)
			_exit(5);
		if (listen(fd, 8) != 0 || write(p[1], "r", 1) != 1)
			_exit(6);
		if ((c = accept(fd, NULL, NULL)) < 0)
			_exit(6);
		act_on(c, a);
		_exit(0);
	}
	close(fd);
	close(p[1]);
	cr_assert_eq(read(p[0], &ready, 1), 1, "the fake server did not "
	    "start");
	close(p[0]);
}

static int
server_status(void)
{
	int st = -1;

	cr_assert_eq(waitpid(C.server, &st, 0), C.server);
	C.server = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static enum apitoken_reason
ask(struct apitoken_result *res, int64_t *ms)
{
	struct apitoken_request req = { .user = "alice", .service = "imap",
	    .rhost = "192.0.2.7", .now = 0 };
	int64_t t0 = tl_now_ms();
	enum apitoken_reason why;

	why = apitoken_client_verify(C.cfg, C.tok, strlen(C.tok), &req, res);
	if (ms != NULL)
		*ms = tl_now_ms() - t0;
	return why;
}

/* daemon-unavailable, with text in a detail that names the socket */
static void
assert_unavailable(const struct apitoken_result *res, const char *text)
{
	char want[400];

	cr_assert_eq(res->reason, APITOKEN_R_UNAVAILABLE, "reason %s: %s",
	    apitoken_reason_str(res->reason), res->detail);
	snprintf(want, sizeof(want), "apitokend at %s: ", C.sock);
	cr_assert_eq(strncmp(res->detail, want, strlen(want)), 0,
	    "detail: %s", res->detail);
	cr_assert_not_null(strstr(res->detail, text), "want \"%s\" in: %s",
	    text, res->detail);
	cr_assert_str_eq(res->id, ID);
	cr_assert_str_eq(res->label, "");
	cr_assert_str_eq(res->user, "");
}

/* ------------------------------------------------ a server that works */

static void
accepted_reply(void)
{
	R.op = APITOKEN_OP_REPLY;
	reply_add(APITOKEN_T_REASON, "accepted");
	reply_add(APITOKEN_T_ID, ID);
	reply_add(APITOKEN_T_LABEL, "mail on the phone");
	reply_add(APITOKEN_T_OWNER, "alice");
	reply_add(APITOKEN_T_EXPIRES, "1893456000");
}

/* The request carries user, service, address and token; the reply's
 * fields land in the result. */
Test(client, accepted_answer_fills_the_result)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	serve(A_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_ACCEPTED, "%s",
	    res.detail);
	cr_assert_eq(server_status(), 0, "the request was not as sent");
	cr_assert_str_eq(res.id, ID);
	cr_assert_str_eq(res.label, "mail on the phone");
	cr_assert_str_eq(res.user, "alice");
	cr_assert_eq(res.expires, 1893456000);
	cr_assert_eq(res.status, APITOKEN_ACTIVE);
	cr_assert_eq(res.error, 0);
}

Test(client, refusal_is_passed_on)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	R.op = APITOKEN_OP_REPLY;
	reply_add(APITOKEN_T_REASON, "revoked");
	reply_add(APITOKEN_T_ID, ID);
	reply_add(APITOKEN_T_LABEL, "old");
	reply_add(APITOKEN_T_OWNER, "alice");
	reply_add(APITOKEN_T_EXPIRES, "0");
	serve(A_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_R_REVOKED);
	cr_assert_eq(res.status, APITOKEN_REVOKED);
	cr_assert_str_eq(res.label, "old");
	cr_assert_eq(server_status(), 0);
}

Test(client, store_error_detail_is_passed_on)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	R.op = APITOKEN_OP_REPLY;
	reply_add(APITOKEN_T_REASON, "store-error");
	reply_add(APITOKEN_T_ID, ID);
	reply_add(APITOKEN_T_DETAIL, "the store does not parse");
	serve(A_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_R_STORE_ERROR);
	cr_assert_str_eq(res.detail, "apitokend: the store does not parse");
	cr_assert_neq(res.error, 0);
}

/* Input that is not a token never leaves the process. */
Test(client, not_a_token_is_not_sent)
{
	struct apitoken_request req = { .user = "alice", .service = "imap" };
	struct apitoken_result res;

	C.tok[strlen(C.tok) - 1] ^= 1;	/* break the checksum */
	cr_assert_eq(apitoken_client_verify(C.cfg, C.tok, strlen(C.tok), &req,
	    &res), APITOKEN_R_BAD_CHECKSUM);
	cr_assert_eq(apitoken_client_verify(C.cfg, "hunter2", 7, &req, &res),
	    APITOKEN_R_MALFORMED);
	cr_assert_eq(res.format, APITOKEN_FMT_PREFIX);
	/* no socket exists: had it tried, it would be daemon-unavailable */
}

/* ------------------------------------------- servers that misbehave */

Test(client, no_socket)
{
	struct apitoken_result res;

	ask(&res, NULL);
	assert_unavailable(&res, "no such file or directory (is apitokend "
	    "running?)");
}

Test(client, stale_socket_is_connection_refused)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	close(listen_on(C.sock));	/* bound, nobody listening */
	ask(&res, NULL);
	assert_unavailable(&res, "connection refused (is apitokend "
	    "running?)");
}

Test(client, not_a_socket)
{
	struct apitoken_result res;

	tl_write_str(C.sock, "", 0600);
	ask(&res, NULL);
	assert_unavailable(&res, "not a socket; refused");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
}

Test(client, symlink_to_a_socket_is_not_a_socket)
{
	struct apitoken_result res;
	char real[128];

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	snprintf(real, sizeof(real), "%s/real.sock", C.dir);
	close(listen_on(real));
	cr_assert_eq(symlink(real, C.sock), 0);
	ask(&res, NULL);
	assert_unavailable(&res, "not a socket; refused");
}

/* A socket someone else bound is never sent a token. */
Test(client, socket_not_owned_by_root_is_refused)
{
	struct apitoken_result res;
	struct passwd *pw = getpwnam("nobody");

	TL_NEED_ROOT("chown of the socket");
	cr_assert_not_null(pw);
	accepted_reply();
	serve(A_REPLY, 0);
	cr_assert_eq(chown(C.sock, pw->pw_uid, pw->pw_gid), 0);
	ask(&res, NULL);
	assert_unavailable(&res, "the socket is owned by uid");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
	kill(C.server, SIGKILL);
	cr_assert_neq(server_status(), 0, "the server got a request");
}

/* The socket file is root's, the process behind it is not. */
Test(client, server_not_running_as_root_is_refused)
{
	struct apitoken_result res;
	struct passwd *pw = getpwnam("nobody");

	TL_NEED_ROOT("a server that drops to nobody");
	cr_assert_not_null(pw);
	accepted_reply();
	serve(A_REPLY, pw->pw_uid);
	ask(&res, NULL);
	assert_unavailable(&res, "the server runs as uid");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
	kill(C.server, SIGKILL);
	cr_assert_neq(server_status(), 0, "the server got a request");
}

/* Never answers: the client gives up after its time limit, not later. */
Test(client, silent_server_bounded_wait)
{
	struct apitoken_result res;
	int64_t ms;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	serve(A_SILENT, 0);
	ask(&res, &ms);
	assert_unavailable(&res, "no answer within");
	cr_assert_geq(ms, APITOKEN_CLIENT_TIMEOUT_MS - 100, "%lld ms",
	    (long long)ms);
	cr_assert_lt(ms, APITOKEN_CLIENT_TIMEOUT_MS + 2000, "%lld ms",
	    (long long)ms);
}

/* Never accepts, and its listen queue is full: bounded too. */
Test(client, full_listen_queue_bounded_wait)
{
	struct apitoken_result res;
	struct sockaddr_un sa;
	int fd = -1, i, n = 0, c[64];
	int64_t ms;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	fd = listen_on(C.sock);
	cr_assert_eq(listen(fd, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, C.sock, strlen(C.sock));
	for (i = 0; i < 64; i++) {
		c[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(c[n], (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(c[n]);
			break;
		}
		n++;
	}
	cr_assert_lt(n, 64, "the listen queue never filled");
	ask(&res, &ms);
	assert_unavailable(&res, "no answer within");
	cr_assert_lt(ms, APITOKEN_CLIENT_TIMEOUT_MS + 2000, "%lld ms",
	    (long long)ms);
	while (n > 0)
		close(c[--n]);
	close(fd);
}

Test(client, hang_up_without_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	serve(A_CLOSE, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "closed the connection without an answer");
}

Test(client, half_an_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	serve(A_HALF, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "in the middle of an answer");
}

Test(client, garbage_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	serve(A_GARBAGE, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "malformed reply");
	cr_assert_eq(res.error, APITOKEN_ERR_INVALID);
}

Test(client, oversized_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	serve(A_BAD_LEN, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "malformed reply (bad length)");
}

/* A peer that hangs up at once: EPIPE, never SIGPIPE (the default
 * action would kill this process and fail the test as a crash). */
Test(client, no_sigpipe)
{
	struct apitoken_result res;
	int i;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	signal(SIGPIPE, SIG_DFL);
	for (i = 0; i < 20; i++) {
		serve(A_SLAMMED, 0);
		ask(&res, NULL);
		cr_assert_eq(res.reason, APITOKEN_R_UNAVAILABLE);
		(void)server_status();
		unlink(C.sock);
	}
}

/* Well-formed messages that are not an answer to this request. */
static void
assert_untrusted(void)
{
	struct apitoken_result res;

	serve(A_REPLY, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "an answer that does not fit the request");
	cr_assert_eq(res.error, APITOKEN_ERR_INVALID);
}

Test(client, answer_for_another_token)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	R.val[1] = "ZZZZZZZZZZZZ";
	assert_untrusted();
}

Test(client, accepted_for_another_owner)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	R.val[3] = "mallory";
	assert_untrusted();
}

Test(client, not_a_reply)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	R.op = APITOKEN_OP_VERIFY;
	assert_untrusted();
}

Test(client, unknown_reason)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	R.op = APITOKEN_OP_REPLY;
	reply_add(APITOKEN_T_REASON, "welcome");
	assert_untrusted();
}

Test(client, no_reason)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	R.op = APITOKEN_OP_REPLY;
	reply_add(APITOKEN_T_ID, ID);
	assert_untrusted();
}

Test(client, field_twice)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	reply_add(APITOKEN_T_REASON, "accepted");
	assert_untrusted();
}

Test(client, field_that_does_not_belong)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	reply_add(APITOKEN_T_ENTRY, "token " ID " 0 1");
	assert_untrusted();
}

Test(client, bad_expiry)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	R.val[4] = "-1";
	assert_untrusted();
}

Test(client, label_too_long_for_the_result)
{
	static char label[APITOKEN_LABEL_MAX + 2];

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	memset(label, 'x', sizeof(label) - 1);
	accepted_reply();
	R.val[2] = label;
	assert_untrusted();
}

/* apitoken_client_connect and _call on their own, for other ops. */
Test(client, connect_and_call)
{
	struct apitoken_msg rq, reply;
	unsigned char buf[APITOKEN_MSG_MAX];
	char err[300], v[64];
	int fd = -1;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	serve(A_REPLY, 0);
	cr_assert_eq(apitoken_client_connect(C.cfg, 1000, &fd, err,
	    sizeof(err)), 0, "%s", err);
	apitoken_msg_init(&rq, APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_USER, "alice"), 0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_SERVICE, "imap"), 0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_RHOST, "192.0.2.7"),
	    0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_TOKEN, C.tok), 0);
	cr_assert_eq(apitoken_client_call(fd, &rq, &reply, buf, sizeof(buf),
	    1000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(reply.op, APITOKEN_OP_REPLY);
	cr_assert_eq(apitoken_msg_get(&reply, APITOKEN_T_LABEL, v, sizeof(v)),
	    0);
	cr_assert_str_eq(v, "mail on the phone");
	/* the server hung up after one exchange */
	cr_assert_neq(apitoken_client_call(fd, &rq, &reply, buf, sizeof(buf),
	    1000, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, C.sock), "%s", err);
	close(fd);
	cr_assert_eq(server_status(), 0);
}
