/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit.c - the syslog lines, caught on a private /dev/log (root only):
 * exactly one line per decision at LOG_AUTHPRIV with NOTICE (accepted) or
 * WARNING (anything else), carrying token id, user, service, address and
 * reason; never the typed text, not even with debug.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

#define PRI_NOTICE "<85>"	/* LOG_AUTHPRIV (10 << 3) | LOG_NOTICE */
#define PRI_WARNING "<84>"	/* LOG_AUTHPRIV | LOG_WARNING */

static struct fixture fx;
static struct logcap lc;
static char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
static char logbuf[16384];

static void
setup(void)
{
	char why[256];

	lc.fd = -1;
	TL_NEED_ROOT("catches syslog on a private /dev/log");
	fx_setup(&fx);
	fx_service(&fx, "svc",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n"
	    "password required @MOD@ config=@CFG@\n");
	fx_service(&fx, "dbg",
	    "auth required @MOD@ config=@CFG@ debug\n"
	    "account required @MOD@ config=@CFG@ debug\n");
	fx_issue(&fx, tl_user(), "ci \"runner\"", NULL, tok, id);
	logbuf[0] = '\0';
	if (logcap_start(&lc, why, sizeof(why)) != 0) {
		fx_teardown(&fx);
		TL_SKIP("syslog lines not checked: %s", why);
	}
}

static void
teardown(void)
{
	become_root_again();	/* unmounting needs root */
	logcap_stop(&lc);
	fx_teardown(&fx);
}

TestSuite(audit, .init = setup, .fini = teardown);

/* Lines at NOTICE/WARNING (the decision lines), after one action. */
static int
decision_lines(void)
{
	const char *p;
	int n = 0;

	logcap_read(&lc, logbuf, sizeof(logbuf));
	for (p = logbuf; (p = strstr(p, "pam_apitoken(")) != NULL; p++) {
		const char *start = p;

		while (start > logbuf && start[-1] != '\n')
			start--;
		if (strncmp(start, PRI_NOTICE, 4) == 0 ||
		    strncmp(start, PRI_WARNING, 4) == 0)
			n++;
	}
	return n;
}

static void
assert_has(const char *needle)
{
	logcap_read(&lc, logbuf, sizeof(logbuf));
	cr_assert(strstr(logbuf, needle) != NULL, "no \"%s\" in:\n%s",
	    needle, logbuf);
}

static void
assert_secret_absent(const char *typed)
{
	char id_[APITOKEN_ID_LEN + 1], secret[APITOKEN_SECRET_LEN + 1];

	cr_assert(strstr(logbuf, typed) == NULL, "typed text logged:\n%s",
	    logbuf);
	if (strlen(typed) == strlen(tok)) {
		token_parts(typed, id_, secret);
		cr_assert(strstr(logbuf, secret) == NULL,
		    "secret logged:\n%s", logbuf);
	}
}

Test(audit, accepted_line)
{
	char want[512];

	assert_pam(auth_with(&fx, "dbg", tl_user(), tok, "192.0.2.1"),
	    PAM_SUCCESS);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	snprintf(want, sizeof(want), PRI_NOTICE);
	assert_has(want);
	snprintf(want, sizeof(want), "pam_apitoken(dbg:auth): accepted "
	    "token=%s label=\"ci \\x22runner\\x22\" user=%s service=dbg "
	    "rhost=192.0.2.1 reason=accepted", id, tl_user());
	assert_has(want);
	assert_secret_absent(tok);
}

Test(audit, wrong_secret_line)
{
	char forged[TOK_BUF], tid[APITOKEN_ID_LEN + 1];
	char secret[APITOKEN_SECRET_LEN + 1], want[512];

	token_parts(tok, tid, secret);
	secret[0] = secret[0] == 'Z' ? 'Y' : 'Z';
	tl_token_build("apitok", tid, secret, forged, sizeof(forged));
	assert_pam(auth_with(&fx, "dbg", tl_user(), forged, NULL),
	    PAM_AUTH_ERR);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	snprintf(want, sizeof(want), PRI_WARNING);
	assert_has(want);
	snprintf(want, sizeof(want), "rejected token=%s", id);
	assert_has(want);
	assert_has("rhost=- reason=wrong-secret");
	assert_secret_absent(forged);
}

Test(audit, reasons)
{
	static const struct {
		enum apitoken_status st;
		const char *reason;
	} cases[] = {
		{ APITOKEN_DISABLED, "reason=disabled" },
		{ APITOKEN_REVOKED, "reason=revoked" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_set_status(&fx, id, cases[i].st);
		logbuf[0] = '\0';
		assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
		    PAM_AUTH_ERR);
		cr_assert_eq(decision_lines(), 1, "%s", logbuf);
		assert_has(cases[i].reason);
	}
	logbuf[0] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_other_user(), tok, NULL),
	    PAM_AUTH_ERR);
	assert_has("reason=revoked");	/* status comes before owner */
}

Test(audit, typed_password_never_logged_even_with_debug)
{
	assert_pam(auth_with(&fx, "dbg", tl_user(), "Correct Horse 42",
	    NULL), PAM_CRED_INSUFFICIENT);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("token=- label=\"\"");
	assert_has("reason=not-a-token");
	cr_assert(strstr(logbuf, "Correct") == NULL &&
	    strstr(logbuf, "Horse") == NULL, "typed text logged:\n%s", logbuf);
}

Test(audit, bad_checksum_and_dummy_password)
{
	char typo[TOK_BUF];

	snprintf(typo, sizeof(typo), "%s", tok);
	typo[strlen(typo) - 2] = tok[strlen(tok) - 2] == '0' ? '1' : '0';
	assert_pam(auth_with(&fx, "dbg", tl_user(), typo, NULL),
	    PAM_AUTH_ERR);
	assert_has("reason=bad-checksum");
	assert_secret_absent(typo);
	logbuf[0] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_user(), "\b\n\r\177INCORRECT",
	    NULL), PAM_CRED_INSUFFICIENT);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("reason=not-a-token");
	assert_has("sshd's dummy password");
}

Test(audit, faults_name_their_cause)
{
	fx_service(&fx, "typo", "auth required @MOD@ config=@CFG@ nulok\n");
	assert_pam(auth_with(&fx, "typo", tl_user(), tok, NULL),
	    PAM_SERVICE_ERR);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("reason=bad-option");
	assert_has("detail=\"unknown option \\x22nulok\\x22\"");
	logbuf[0] = '\0';
	cr_assert(unlink(fx.store) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("reason=store-error");
	assert_has(fx.store);
}

/* issue 14 item 4: what was typed at a user-name prompt may be a token
 * or a password; only an account's name is logged */
Test(audit, unknown_user_line)
{
	assert_pam(auth_with(&fx, "svc", "no-such-user-apitok", tok, NULL),
	    PAM_USER_UNKNOWN);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("user=(unknown)");
	assert_has("reason=user-unknown");
	cr_assert(strstr(logbuf, "no-such-user-apitok") == NULL, "%s",
	    logbuf);
	/* a token pasted at the user-name prompt, then a password */
	logbuf[0] = '\0';
	assert_pam(auth_with(&fx, "svc", tok, "hunter2", NULL),
	    PAM_CRED_INSUFFICIENT);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("user=(unknown)");
	assert_secret_absent(tok);
	cr_assert(strstr(logbuf, id) == NULL, "token id logged:\n%s",
	    logbuf);
}

Test(audit, hostile_user_name_is_not_logged)
{
	assert_pam(auth_with(&fx, "svc", "evil\nuser=root reason=accepted",
	    tok, NULL), PAM_USER_UNKNOWN);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("user=(unknown)");
	cr_assert(strstr(logbuf, "evil") == NULL, "%s", logbuf);
}

Test(audit, account_lines)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	run_pam(&fx, "dbg", tl_user(), &r);
	assert_pam(r.acct_rc, PAM_SUCCESS);
	cr_assert_eq(decision_lines(), 2, "%s", logbuf);
	assert_has("pam_apitoken(dbg:account): accepted");
}

Test(audit, password_change_line)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.chauthtok = 1;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_has("password changes are not supported");
}

/* mode=auto: a caller that cannot read the store asks apitokend; none
 * listens here (mode.c has the other modes) */
Test(audit, non_root_caller_line)
{
	char want[512];

	fx_issue(&fx, "nobody", "nobody's", NULL, tok, id);
	become_nobody(&fx);
	assert_pam(auth_with(&fx, "svc", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	cr_assert_eq(decision_lines(), 1, "%s", logbuf);
	assert_has("reason=daemon-unavailable");
	snprintf(want, sizeof(want), "note=\"apitokend at %s: no such file "
	    "or directory (is apitokend running?)\"", fx.sock);
	assert_has(want);
}

/* issue 14 item 8 and issue 15 item 3: whatever password was typed, one
 * neutral line; and every line carries the address PAM has */
Test(audit, non_tokens_log_one_neutral_line)
{
	static const char *const typed[] = { "hunter2", "Correct Horse 42",
	    "ghp_AAAAAAAAAAAA_0123456789abcdefghijABCDEFGHIJ01000000",
	    "apitok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
	char typo[TOK_BUF];
	size_t i;

	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		logbuf[0] = '\0';
		assert_pam(auth_with(&fx, "svc", tl_user(), typed[i],
		    "192.0.2.9"), PAM_CRED_INSUFFICIENT);
		cr_assert_eq(decision_lines(), 1, "%s", logbuf);
		assert_has("rhost=192.0.2.9 reason=not-a-token "
		    "result=Insufficient credentials to access authentication "
		    "data\n");
		cr_assert(strstr(logbuf, "note=") == NULL, "%s", logbuf);
	}
	snprintf(typo, sizeof(typo), "%s", tok);
	typo[strlen(typo) - 2] = tok[strlen(tok) - 2] == '0' ? '1' : '0';
	logbuf[0] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_user(), typo, "192.0.2.9"),
	    PAM_AUTH_ERR);
	assert_has("rhost=192.0.2.9 reason=bad-checksum");
	/* a host name PAM_RHOST is logged as given */
	logbuf[0] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_user(), "hunter2",
	    "client.example"), PAM_CRED_INSUFFICIENT);
	assert_has("rhost=client.example reason=not-a-token");
}
