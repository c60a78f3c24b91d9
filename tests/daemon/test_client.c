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
#include <sys/un.h>

#include "apitoken.h"
#include "td_fake.h"
#include "tl.h"

#define PREFIX "apitok"
#define ID "AbCdEfGh0123"
#define SECRET "0123456789abcdefghijABCDEFGHIJxy"

static struct td_fake F;
static char tok[APITOKEN_TOKEN_MAX + 1];

static void
setup(void)
{
	tl_watchdog(30);
	td_fake_setup(&F);
	tl_token_build(PREFIX, ID, SECRET, tok, sizeof(tok));
	/* what ask() sends */
	F.want_op = APITOKEN_OP_VERIFY;
	td_fake_expect(&F, APITOKEN_T_USER, "alice");
	td_fake_expect(&F, APITOKEN_T_SERVICE, "imap");
	td_fake_expect(&F, APITOKEN_T_RHOST, "192.0.2.7");
	td_fake_expect(&F, APITOKEN_T_TOKEN, tok);
}

static void
teardown(void)
{
	td_fake_teardown(&F);
}

TestSuite(client, .init = setup, .fini = teardown);

static enum apitoken_reason
ask(struct apitoken_result *res, int64_t *ms)
{
	struct apitoken_request req = { .user = "alice", .service = "imap",
	    .rhost = "192.0.2.7", .now = 0 };
	int64_t t0 = tl_now_ms();
	enum apitoken_reason why;

	why = apitoken_client_verify(F.cfg, tok, strlen(tok), &req, res);
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
	snprintf(want, sizeof(want), "apitokend at %s: ", F.sock);
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
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	td_fake_reply(&F, APITOKEN_T_ID, ID);
	td_fake_reply(&F, APITOKEN_T_LABEL, "mail on the phone");
	td_fake_reply(&F, APITOKEN_T_OWNER, "alice");
	td_fake_reply(&F, APITOKEN_T_EXPIRES, "1893456000");
}

/* The request carries user, service, address and token; the reply's
 * fields land in the result. */
Test(client, accepted_answer_fills_the_result)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_ACCEPTED, "%s",
	    res.detail);
	cr_assert_eq(td_fake_wait(&F), 0, "the request was not as sent");
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
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "revoked");
	td_fake_reply(&F, APITOKEN_T_ID, ID);
	td_fake_reply(&F, APITOKEN_T_LABEL, "old");
	td_fake_reply(&F, APITOKEN_T_OWNER, "alice");
	td_fake_reply(&F, APITOKEN_T_EXPIRES, "0");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_R_REVOKED);
	cr_assert_eq(res.status, APITOKEN_REVOKED);
	cr_assert_str_eq(res.label, "old");
	cr_assert_eq(td_fake_wait(&F), 0);
}

Test(client, store_error_detail_is_passed_on)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "store-error");
	td_fake_reply(&F, APITOKEN_T_ID, ID);
	td_fake_reply(&F, APITOKEN_T_DETAIL, "the store does not parse");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ask(&res, NULL), APITOKEN_R_STORE_ERROR);
	cr_assert_str_eq(res.detail, "apitokend: the store does not parse");
	cr_assert_neq(res.error, 0);
}

/* Input that is not a token never leaves the process. */
Test(client, not_a_token_is_not_sent)
{
	struct apitoken_request req = { .user = "alice", .service = "imap" };
	struct apitoken_result res;

	tok[strlen(tok) - 1] ^= 1;	/* break the checksum */
	cr_assert_eq(apitoken_client_verify(F.cfg, tok, strlen(tok), &req,
	    &res), APITOKEN_R_BAD_CHECKSUM);
	cr_assert_eq(apitoken_client_verify(F.cfg, "hunter2", 7, &req, &res),
	    APITOKEN_R_MALFORMED);
	cr_assert_eq(res.format, APITOKEN_FMT_PREFIX);
	/* no socket exists: had it tried, it would be daemon-unavailable */
}

/* The daemon answers for a PAM service: no service, no request. */
Test(client, no_service_is_not_sent)
{
	struct apitoken_request req = { .user = "alice", .service = NULL };
	struct apitoken_result res;

	cr_assert_eq(apitoken_client_verify(F.cfg, tok, strlen(tok), &req,
	    &res), APITOKEN_R_UNAVAILABLE);
	assert_unavailable(&res, "no PAM service given");
	req.service = "";
	cr_assert_eq(apitoken_client_verify(F.cfg, tok, strlen(tok), &req,
	    &res), APITOKEN_R_UNAVAILABLE);
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
	close(td_fake_bind(F.sock));	/* bound, nobody listening */
	ask(&res, NULL);
	assert_unavailable(&res, "connection refused (is apitokend "
	    "running?)");
}

Test(client, not_a_socket)
{
	struct apitoken_result res;

	tl_write_str(F.sock, "", 0600);
	ask(&res, NULL);
	assert_unavailable(&res, "not a socket; refused");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
}

Test(client, symlink_to_a_socket_is_not_a_socket)
{
	struct apitoken_result res;
	char real[128];

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	snprintf(real, sizeof(real), "%s/real.sock", F.dir);
	close(td_fake_bind(real));
	cr_assert_eq(symlink(real, F.sock), 0);
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
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(chown(F.sock, pw->pw_uid, pw->pw_gid), 0);
	ask(&res, NULL);
	assert_unavailable(&res, "the socket is owned by uid");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
	kill(F.pid, SIGKILL);
	cr_assert_neq(td_fake_wait(&F), 0, "the server got a request");
}

/* The socket file is root's, the process behind it is not. */
Test(client, server_not_running_as_root_is_refused)
{
	struct apitoken_result res;
	struct passwd *pw = getpwnam("nobody");

	TL_NEED_ROOT("a server that drops to nobody");
	cr_assert_not_null(pw);
	accepted_reply();
	td_fake_serve(&F, TD_FAKE_REPLY, pw->pw_uid);
	ask(&res, NULL);
	assert_unavailable(&res, "the server runs as uid");
	cr_assert_eq(res.error, APITOKEN_ERR_ACCESS);
	kill(F.pid, SIGKILL);
	cr_assert_neq(td_fake_wait(&F), 0, "the server got a request");
}

/* Never answers: the client gives up after its time limit, not later. */
Test(client, silent_server_bounded_wait)
{
	struct apitoken_result res;
	int64_t ms;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	td_fake_serve(&F, TD_FAKE_SILENT, 0);
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
	fd = td_fake_bind(F.sock);
	cr_assert_eq(listen(fd, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, F.sock, strlen(F.sock));
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
	td_fake_serve(&F, TD_FAKE_CLOSE, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "closed the connection without an answer");
}

Test(client, half_an_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	td_fake_serve(&F, TD_FAKE_HALF, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "in the middle of an answer");
}

Test(client, garbage_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	td_fake_serve(&F, TD_FAKE_GARBAGE, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "malformed reply");
	cr_assert_eq(res.error, APITOKEN_ERR_INVALID);
}

Test(client, oversized_answer)
{
	struct apitoken_result res;

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	td_fake_serve(&F, TD_FAKE_BAD_LEN, 0);
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
		td_fake_serve(&F, TD_FAKE_SLAM, 0);
		ask(&res, NULL);
		cr_assert_eq(res.reason, APITOKEN_R_UNAVAILABLE);
		(void)td_fake_wait(&F);
		unlink(F.sock);
	}
}

/* Well-formed messages that are not an answer to this request. */
static void
assert_untrusted(void)
{
	struct apitoken_result res;

	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	ask(&res, NULL);
	assert_unavailable(&res, "an answer that does not fit the request");
	cr_assert_eq(res.error, APITOKEN_ERR_INVALID);
}

Test(client, answer_for_another_token)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	F.val[1] = "ZZZZZZZZZZZZ";
	assert_untrusted();
}

Test(client, accepted_for_another_owner)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	F.val[3] = "mallory";
	assert_untrusted();
}

Test(client, not_a_reply)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	F.op = APITOKEN_OP_VERIFY;
	assert_untrusted();
}

Test(client, unknown_reason)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "welcome");
	assert_untrusted();
}

Test(client, no_reason)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_ID, ID);
	assert_untrusted();
}

Test(client, field_twice)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	assert_untrusted();
}

Test(client, field_that_does_not_belong)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	td_fake_reply(&F, APITOKEN_T_ENTRY, "token " ID " 0 1");
	assert_untrusted();
}

Test(client, bad_expiry)
{
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	accepted_reply();
	F.val[4] = "-1";
	assert_untrusted();
}

Test(client, label_too_long_for_the_result)
{
	static char label[APITOKEN_LABEL_MAX + 2];

	TL_NEED_ROOT("the client trusts only a root-owned socket");
	memset(label, 'x', sizeof(label) - 1);
	accepted_reply();
	F.val[2] = label;
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
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(apitoken_client_connect(F.cfg, 1000, &fd, err,
	    sizeof(err)), 0, "%s", err);
	apitoken_msg_init(&rq, APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_USER, "alice"), 0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_SERVICE, "imap"), 0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_RHOST, "192.0.2.7"),
	    0);
	cr_assert_eq(apitoken_msg_add_str(&rq, APITOKEN_T_TOKEN, tok), 0);
	cr_assert_eq(apitoken_client_call(fd, &rq, &reply, buf, sizeof(buf),
	    1000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(reply.op, APITOKEN_OP_REPLY);
	cr_assert_eq(apitoken_msg_get(&reply, APITOKEN_T_LABEL, v, sizeof(v)),
	    0);
	cr_assert_str_eq(v, "mail on the phone");
	/* the server hung up after one exchange */
	cr_assert_neq(apitoken_client_call(fd, &rq, &reply, buf, sizeof(buf),
	    1000, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, F.sock), "%s", err);
	close(fd);
	cr_assert_eq(td_fake_wait(&F), 0);
}
