/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mode.c - the module's mode= option without a daemon: auto reads the
 * store when it can and asks apitokend only when the store is closed to
 * this process (EACCES), local never asks, daemon always does.  No
 * apitokend listens on the fixture's daemon_socket, so "asked" shows as
 * daemon-unavailable with the socket named in the log line.  The paths
 * through a real daemon are tested in tests/daemon/.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

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
	fx_service(&fx, "auto",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	fx_service(&fx, "local",
	    "auth required @MOD@ config=@CFG@ mode=local\n"
	    "account required @MOD@ config=@CFG@ mode=local\n");
	fx_service(&fx, "daemon",
	    "auth required @MOD@ config=@CFG@ mode=daemon\n"
	    "account required @MOD@ config=@CFG@ mode=daemon\n");
	fx_service(&fx, "bad",
	    "auth required @MOD@ config=@CFG@ mode=sometimes\n");
	fx_issue(&fx, "nobody", "nobody's", NULL, tok, id);
	logbuf[0] = '\0';
	if (logcap_start(&lc, why, sizeof(why)) != 0) {
		fx_teardown(&fx);
		TL_SKIP("syslog lines not checked: %s", why);
	}
}

static void
teardown(void)
{
	become_root_again();
	logcap_stop(&lc);
	fx_teardown(&fx);
}

TestSuite(mode, .init = setup, .fini = teardown);

static int
has(const char *needle)
{
	logcap_read(&lc, logbuf, sizeof(logbuf));
	return strstr(logbuf, needle) != NULL;
}

#define assert_log(needle) cr_assert(has(needle), "no \"%s\" in:\n%s", \
	(needle), logbuf)
#define assert_no_log(needle) cr_assert(!has(needle), "\"%s\" in:\n%s", \
	(needle), logbuf)

static void
assert_daemon_asked(void)
{
	char want[512];

	snprintf(want, sizeof(want), "reason=daemon-unavailable result="
	    "Authentication service cannot retrieve authentication info "
	    "note=\"apitokend "
	    "at %s: no such file or directory (is apitokend running?)\"",
	    fx.sock);
	assert_log(want);
	snprintf(want, sizeof(want), "token=%s", id);
	assert_log(want);
}

Test(mode, bad_value_fails_closed)
{
	assert_pam(auth_with(&fx, "bad", "nobody", tok, NULL),
	    PAM_SERVICE_ERR);
	assert_log("reason=bad-option");
	assert_log("mode= needs auto, local or daemon");
}

/* root reads the store: the daemon is neither needed nor asked */
Test(mode, root_auto_reads_the_store)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	run_pam(&fx, "auto", "nobody", &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_SUCCESS);
	assert_log("reason=accepted");
	assert_no_log("apitokend");
}

/* Any store fault but "permission denied" stays a store error: a root
 * caller never depends on the daemon. */
Test(mode, root_auto_store_fault_stays_a_store_error)
{
	cr_assert_eq(unlink(fx.store), 0);
	assert_pam(auth_with(&fx, "auto", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	assert_log("reason=store-error");
	assert_log("does not exist");
	assert_no_log("apitokend");
}

Test(mode, daemon_mode_never_reads_the_store)
{
	assert_pam(auth_with(&fx, "daemon", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	assert_daemon_asked();
}

/* not a token: refused before any store or daemon */
Test(mode, daemon_mode_not_a_token)
{
	assert_pam(auth_with(&fx, "daemon", "nobody", "hunter2", NULL),
	    PAM_CRED_INSUFFICIENT);
	assert_log("reason=not-a-token");
	assert_no_log("apitokend");
}

Test(mode, non_root_auto_asks_the_daemon)
{
	become_nobody(&fx);
	assert_pam(auth_with(&fx, "auto", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	assert_daemon_asked();
}

Test(mode, non_root_local_is_a_store_error)
{
	become_nobody(&fx);
	assert_pam(auth_with(&fx, "local", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	assert_log("reason=store-error");
	assert_log("does not run as root");
	assert_no_log("apitokend");
}
