/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_throttle.c - throttling (issue 11): after max_failures guesses
 * for a (caller, user) pair or a token id, even the right token is
 * refused with "throttled" until the lockout ends or UNLOCK clears it; a
 * success resets the count; what is no token at all never counts; the
 * LOCKOUTS and UNLOCK ops and their entries (HTTP client addresses'
 * lockouts are in test_http.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "td.h"

static struct td *D;

static void
setup(void)
{
	tl_watchdog(120);
	D = td_start("max_failures: 3\nfailure_window: 15m\nlockout: 15m\n");
}

static void
teardown(void)
{
	cr_expect_eq(td_stop(D), 0, "apitokend did not exit cleanly");
}

TestSuite(throttle, .init = setup, .fini = teardown);

/* The token with another secret (its last secret character c, or 'z'
 * if it already was c) and a valid checksum. */
static char *
forge(const char *tok, char c)
{
	char *f = tl_fmt("%s", tok);
	size_t i = strlen(f) - 7;

	f[i] = f[i] == c ? 'z' : c;
	tl_token_recrc(f);
	return f;
}

static enum apitoken_reason
verify(const char *tok)
{
	return td_verify(D, tl_user(), "sshd", NULL, tok, NULL, NULL);
}

/* An admin request (LOCKOUTS, or UNLOCK with tag = value); the reply's
 * entries joined with "\n" (malloc'ed); dies unless "accepted". */
static char *
admin(uint8_t op, uint8_t tag, const char *value)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg req, rep;
	char *out = tl_fmt("%s", ""), *t;
	const char *reason;
	size_t i;

	apitoken_msg_init(&req, op);
	if (value != NULL)
		cr_assert_eq(apitoken_msg_add_str(&req, tag, value), 0);
	cr_assert_eq(td_call(D, &req, &rep, buf), 0, "no reply");
	reason = td_field(&rep, APITOKEN_T_REASON);
	cr_assert_str_eq(reason, "accepted");
	for (i = 0; i < rep.n; i++)
		if (rep.f[i].tag == APITOKEN_T_ENTRY) {
			t = tl_fmt("%s%.*s\n", out, (int)rep.f[i].len,
			    rep.f[i].val);
			free(out);
			out = t;
		}
	return out;
}

Test(throttle, right_token_refused_after_max_failures_until_unlocked)
{
	char *tok = td_issue(D, tl_user(), "--label", "t", NULL);
	char *bad = forge(tok, 'a'), *bad2 = forge(tok, 'b'), *l, *want;
	char id[13];
	const char *p;
	long long now = (long long)time(NULL), until;

	TL_NEED_ROOT("LOCKOUTS and UNLOCK are root's");
	memcpy(id, tok + 7, 12);
	id[12] = '\0';
	cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(verify(bad2), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(verify(tok), APITOKEN_R_THROTTLED);
	cr_assert(td_log_wait(D, "lockout token=", 5000));
	l = admin(APITOKEN_OP_LOCKOUTS, 0, NULL);
	want = tl_fmt("user 0 %s ", tl_user());
	cr_assert_not_null(strstr(l, want), "%s", l);
	cr_assert_not_null(strstr(l, " 3\n"), "%s", l);
	free(want);
	want = tl_fmt("token %s ", id);
	cr_assert_not_null(p = strstr(l, want), "%s", l);
	until = strtoll(p + strlen(want), NULL, 10);
	cr_assert(until >= now + 900 && until <= now + 910, "%s", l);
	free(want);
	free(l);
	l = admin(APITOKEN_OP_UNLOCK, APITOKEN_T_USER, tl_user());
	cr_assert_eq(tl_count_lines(l), 1, "%s", l);
	free(l);
	cr_assert_eq(verify(tok), APITOKEN_R_THROTTLED, "the id is locked");
	l = admin(APITOKEN_OP_UNLOCK, APITOKEN_T_ID, id);
	cr_assert_eq(tl_count_lines(l), 1, "%s", l);
	free(l);
	cr_assert_eq(verify(tok), APITOKEN_ACCEPTED);
	l = admin(APITOKEN_OP_LOCKOUTS, 0, NULL);
	cr_assert_str_eq(l, "");
	free(l);
	l = admin(APITOKEN_OP_UNLOCK, APITOKEN_T_ID, id);
	cr_assert_str_eq(l, "", "nothing was locked");
	free(l);
	free(tok);
	free(bad);
	free(bad2);
}

/* UNLOCK by RHOST: an address in any spelling; anything else, or RHOST
 * with another field, is malformed (no reply, logged). */
Test(throttle, unlock_by_address)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg req, rep;
	char *l;

	TL_NEED_ROOT("UNLOCK is root's");
	l = admin(APITOKEN_OP_UNLOCK, APITOKEN_T_RHOST, "2001:DB8::9");
	cr_assert_str_eq(l, "", "nothing was locked");
	free(l);
	cr_assert(td_log_wait(D, "unlock rhost=2001:db8::9 by caller_pid=",
	    5000));
	apitoken_msg_init(&req, APITOKEN_OP_UNLOCK);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_RHOST,
	    "203.0.113.9/32"), 0);
	cr_assert_neq(td_call(D, &req, &rep, buf), 0, "a CIDR is no address");
	apitoken_msg_init(&req, APITOKEN_OP_UNLOCK);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_RHOST,
	    "203.0.113.9"), 0);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_USER, "root"), 0);
	cr_assert_neq(td_call(D, &req, &rep, buf), 0, "two fields");
	cr_assert(td_log_wait(D, "UNLOCK takes exactly one ID, USER or RHOST",
	    5000));
}

Test(throttle, unknown_ids_lock_the_pair_not_the_token)
{
	char *tok = td_issue(D, tl_user(), "--label", "t", NULL);
	char *other = tl_fmt("%s", tok);
	int i;

	memcpy(other + 7, "ZZZZZZZZZZZZ", 12);
	tl_token_recrc(other);
	for (i = 0; i < 3; i++)
		cr_assert_eq(verify(other), APITOKEN_R_UNKNOWN);
	cr_assert_eq(verify(tok), APITOKEN_R_THROTTLED);
	/* the token itself is not locked: another user's pair is free */
	if (geteuid() == 0)
		cr_assert_eq(td_verify(D, tl_other_user(), "sshd", NULL, tok,
		    NULL, NULL), APITOKEN_R_WRONG_USER);
	free(tok);
	free(other);
}

Test(throttle, a_success_resets_the_count)
{
	char *tok = td_issue(D, tl_user(), "--label", "t", NULL);
	char *bad = forge(tok, 'a');
	int round;

	for (round = 0; round < 3; round++) {
		cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
		cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
		cr_assert_eq(verify(tok), APITOKEN_ACCEPTED);
	}
	free(tok);
	free(bad);
}

Test(throttle, passwords_and_typos_never_count)
{
	char *tok = td_issue(D, tl_user(), "--label", "t", NULL);
	char *typo = tl_fmt("%s", tok);
	int i;

	typo[strlen(typo) - 1] = typo[strlen(typo) - 1] == 'x' ? 'y' : 'x';
	for (i = 0; i < 10; i++) {
		cr_assert_eq(verify("correct horse battery staple"),
		    APITOKEN_R_MALFORMED);
		cr_assert_eq(verify(typo), APITOKEN_R_BAD_CHECKSUM);
	}
	cr_assert_eq(verify(tok), APITOKEN_ACCEPTED);
	free(tok);
	free(typo);
}

Test(throttle, a_lockout_ends_by_itself)
{
	char *tok, *bad;
	int64_t end;
	enum apitoken_reason r;

	cr_assert_eq(td_stop(D), 0);
	D = td_start("max_failures: 2\nlockout: 2s\n");
	tok = td_issue(D, tl_user(), "--label", "t", NULL);
	bad = forge(tok, 'a');
	cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(verify(bad), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(verify(tok), APITOKEN_R_THROTTLED);
	end = tl_now_ms() + 10000;
	while ((r = verify(tok)) == APITOKEN_R_THROTTLED &&
	    tl_now_ms() < end)
		usleep(50000);	/* waiting for the clock, not for the daemon */
	cr_assert_eq(r, APITOKEN_ACCEPTED);
	free(tok);
	free(bad);
}
