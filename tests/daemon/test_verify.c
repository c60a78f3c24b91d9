/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_verify.c - apitokend answers VERIFY through its socket as the
 * library would (issue 11): the reply's fields, a revocation refused at
 * the very next request, store errors (a store truncated in place),
 * the decision log line, the options, and a clean exit on SIGTERM.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td.h"

static struct td *D;

static void
setup(void)
{
	tl_watchdog(120);
	D = td_start("max_lifetime: never\n");
}

static void
teardown(void)
{
	cr_expect_eq(td_stop(D), 0, "apitokend did not exit cleanly");
}

TestSuite(verify, .init = setup, .fini = teardown);

/* The token with another secret (and a valid checksum). */
static char *
forge(const char *tok)
{
	char *f = tl_fmt("%s", tok);
	size_t n = strlen(f);

	f[n - 7] = f[n - 7] == 'a' ? 'b' : 'a';
	tl_token_recrc(f);
	return f;
}

Test(verify, accepted_with_the_record)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	char *tok = td_issue(D, tl_user(), "--label", "ci runner",
	    "--expires", "2099-01-01", NULL);
	char id[13];

	memcpy(id, tok + 7, 12);
	id[12] = '\0';
	cr_assert_eq(td_verify(D, tl_user(), "sshd", "10.1.2.3", tok, &m, buf),
	    APITOKEN_ACCEPTED);
	cr_assert_str_eq(td_field(&m, APITOKEN_T_ID), id);
	cr_assert_str_eq(td_field(&m, APITOKEN_T_LABEL), "ci runner");
	cr_assert_str_eq(td_field(&m, APITOKEN_T_OWNER), tl_user());
	cr_assert_str_eq(td_field(&m, APITOKEN_T_EXPIRES), "4070908800");
	cr_assert_null(td_field(&m, APITOKEN_T_DETAIL));
	free(tok);
}

Test(verify, refusals_carry_only_what_the_caller_may_learn)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	char *tok = td_issue(D, tl_user(), "--label", "x", "--service",
	    "imap", NULL), *bad = forge(tok);

	cr_assert_eq(td_verify(D, tl_user(), "imap", NULL, bad, &m, buf),
	    APITOKEN_R_WRONG_SECRET);
	cr_assert_not_null(td_field(&m, APITOKEN_T_ID));
	cr_assert_null(td_field(&m, APITOKEN_T_LABEL));
	cr_assert_null(td_field(&m, APITOKEN_T_OWNER));
	cr_assert_eq(td_verify(D, tl_user(), "imap", NULL, "hunter2", &m, buf),
	    APITOKEN_R_MALFORMED);
	cr_assert_null(td_field(&m, APITOKEN_T_ID));
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, &m, buf),
	    APITOKEN_R_SERVICE);
	cr_assert_str_eq(td_field(&m, APITOKEN_T_LABEL), "x");
	cr_assert_eq(td_verify(D, tl_other_user(), "imap", NULL, tok, &m,
	    buf), geteuid() == 0 ? APITOKEN_R_WRONG_USER : APITOKEN_R_CALLER);
	free(tok);
	free(bad);
}

Test(verify, revocation_is_refused_at_the_next_request)
{
	char *tok = td_issue(D, tl_user(), "--label", "soon-revoked", NULL);
	char id[13];
	int i;

	memcpy(id, tok + 7, 12);
	id[12] = '\0';
	for (i = 0; i < 3; i++)
		cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL,
		    NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(td_ctl(D, NULL, "revoke", id, NULL), 0);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_REVOKED);
	free(tok);
}

Test(verify, a_new_token_is_accepted_at_once)
{
	char *a = td_issue(D, tl_user(), "--label", "a", NULL), *b;

	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, a, NULL, NULL),
	    APITOKEN_ACCEPTED);
	b = td_issue(D, tl_user(), "--label", "b", NULL);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, b, NULL, NULL),
	    APITOKEN_ACCEPTED);
	free(a);
	free(b);
}

Test(verify, store_errors_say_so_without_a_path)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	char *tok = td_issue(D, tl_user(), "--label", "x", NULL);
	const char *detail;

	cr_assert_eq(chmod(D->store, 0666), 0);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, &m, buf),
	    APITOKEN_R_STORE_ERROR);
	cr_assert_not_null(detail = td_field(&m, APITOKEN_T_DETAIL));
	cr_assert_null(strchr(detail, '/'), "a path in: %s", detail);
	cr_assert_eq(chmod(D->store, 0600), 0);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	free(tok);
}

/* The daemon maps the store: a file truncated in place by hand (writers
 * only ever rename) is seen by its size at the next request and
 * re-opened, never read past its end (SIGBUS). */
Test(verify, a_store_truncated_in_place_is_an_error_not_a_crash)
{
	char *tok = td_issue(D, tl_user(), "--label", "cut", NULL), *data;
	size_t len;

	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	data = tl_read_file(D->store, &len);
	cr_assert_eq(truncate(D->store, 0), 0);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_STORE_ERROR);
	tl_write_file(D->store, data, len / 2, 0600);	/* no trailer */
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_STORE_ERROR);
	tl_write_file(D->store, data, len, 0600);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	free(data);
	free(tok);
}

Test(verify, decision_lines_name_the_caller_never_the_secret)
{
	char *tok = td_issue(D, tl_user(), "--label", "logged", NULL);
	char *bad = forge(tok), *log, *want;

	cr_assert_eq(td_verify(D, tl_user(), "sshd", "10.9.8.7", tok, NULL,
	    NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(td_verify(D, tl_user(), "sshd", NULL, bad, NULL, NULL),
	    APITOKEN_R_WRONG_SECRET);
	want = tl_fmt("accepted token=%.12s label=\"logged\" user=%s "
	    "service=sshd rhost=10.9.8.7 reason=accepted front=socket "
	    "caller_uid=%lu caller_pid=%ld caller_comm=", tok + 7, tl_user(),
	    (unsigned long)geteuid(), (long)getpid());
	cr_assert(td_log_wait(D, "reason=wrong-secret", 10000));
	log = td_log(D);
	cr_assert_not_null(strstr(log, want), "want %s in:\n%s", want, log);
	cr_assert_null(strstr(log, tok + 20), "a secret in the log");
	cr_assert_null(strstr(log, bad + 20), "a secret in the log");
	cr_assert_null(strstr(log, "sha256$"), "a hash in the log");
	free(want);
	free(log);
	free(tok);
	free(bad);
}

Test(verify, last_use_is_recorded)
{
	char *tok = td_issue(D, tl_user(), "--label", "used", NULL), *out;
	char id[13];

	memcpy(id, tok + 7, 12);
	id[12] = '\0';
	cr_assert_eq(td_verify(D, tl_user(), "imap", "192.0.2.1", tok, NULL,
	    NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(td_ctl(D, &out, "show", id, NULL), 0);
	cr_assert_not_null(strstr(out, "imap"), "%s", out);
	cr_assert_not_null(strstr(out, "192.0.2.1"), "%s", out);
	free(out);
	free(tok);
}

/* Read one reply from fd; its reason. */
static enum apitoken_reason
read_reply(int fd)
{
	unsigned char b[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	enum apitoken_reason r;
	size_t n, got;
	ssize_t k;

	for (got = 0; got < 4; got += (size_t)k)
		cr_assert_gt(k = read(fd, b + got, 4 - got), 0);
	n = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
	cr_assert_leq(n, APITOKEN_MSG_MAX);
	for (got = 0; got < n; got += (size_t)k)
		cr_assert_gt(k = read(fd, b + 4 + got, n - got), 0);
	cr_assert_eq(apitoken_msg_parse(b + 4, n, &m), 0);
	cr_assert_eq(apitoken_reason_parse(td_field(&m, APITOKEN_T_REASON),
	    &r), 0);
	return r;
}

/* Requests written back to back, or a byte at a time, on one kept-open
 * connection: each answered in order. */
Test(verify, pipelined_and_trickled_requests)
{
	unsigned char b[3 * (4 + APITOKEN_MSG_MAX)];
	struct apitoken_msg m;
	char *tok = td_issue(D, tl_user(), "--label", "pipe", NULL);
	size_t n1 = 0, n2 = 0, i;
	int fd = td_connect(D);

	cr_assert_geq(fd, 0);
	apitoken_msg_init(&m, APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_USER, tl_user()), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_SERVICE, "sshd"), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_TOKEN, tok), 0);
	cr_assert_eq(apitoken_msg_encode(&m, b, sizeof(b), &n1), 0);
	m.n--;
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_TOKEN, "nope"), 0);
	cr_assert_eq(apitoken_msg_encode(&m, b + n1, sizeof(b) - n1, &n2), 0);
	memcpy(b + n1 + n2, b, n1);
	cr_assert_eq(write(fd, b, 2 * n1 + n2), (ssize_t)(2 * n1 + n2));
	cr_assert_eq(read_reply(fd), APITOKEN_ACCEPTED);
	cr_assert_eq(read_reply(fd), APITOKEN_R_MALFORMED);
	cr_assert_eq(read_reply(fd), APITOKEN_ACCEPTED);
	for (i = 0; i < n2; i++)
		cr_assert_eq(write(fd, b + n1 + i, 1), 1);
	cr_assert_eq(read_reply(fd), APITOKEN_R_MALFORMED);
	close(fd);
	free(tok);
}
