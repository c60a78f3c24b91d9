/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * locked.c - issue 14 items 12 and 16: a locked account (passwd -l,
 * usermod -L: "!" in front of the shadow hash) does not log in with a
 * token, in auth and in the account re-check; unlocked it does again; an
 * account that never had a password (Debian's useradd: hash "!") is not
 * locked; allow_locked turns the check off.  With a real throw-away user
 * (fixed name, so the suite runs under its flock); root only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

#define LUSER "apitok-locked"

static struct fixture fx;
static char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];

static int
sh(const char *cmd)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char out[2048];
	int rc = run_cmd(argv, NULL, NULL, out, sizeof(out), 30);

	if (rc != 0)
		cr_log_warn("%s: exit %d: %s", cmd, rc, out);
	return rc;
}

static void
setup(void)
{
	if (geteuid() != 0)
		TL_SKIP("needs root (useradd, passwd -l)");
	fx_setup(&fx);
	if (system("getent passwd " LUSER " >/dev/null") == 0)
		sh("userdel -f " LUSER);
	cr_assert(sh("useradd -M -s /bin/sh " LUSER) == 0);
	fx_issue(&fx, LUSER, "locked", NULL, tok, id);
	fx_service(&fx, "svc", "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	fx_service(&fx, "allow", "auth required @MOD@ config=@CFG@ "
	    "allow_locked\n");
}

static void
teardown(void)
{
	if (geteuid() != 0)
		return;
	sh("userdel -f " LUSER);
	fx_teardown(&fx);
}

TestSuite(locked, .init = setup, .fini = teardown);

static int
lock_between(struct pam_run *r)
{
	(void)r;
	return sh("usermod -L " LUSER);
}

Test(locked, passwd_l_stops_token_logins)
{
	struct pam_run r;

	/* never had a password ("!"): a token-only account, not locked */
	assert_pam(auth_with(&fx, "svc", LUSER, tok, NULL), PAM_SUCCESS);
	cr_assert(sh("echo '" LUSER ":Locked-pw-42' | chpasswd") == 0);
	assert_pam(auth_with(&fx, "svc", LUSER, tok, NULL), PAM_SUCCESS);
	cr_assert(sh("passwd -l " LUSER) == 0);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", LUSER, &r);
	assert_pam(r.auth_rc, PAM_PERM_DENIED);
	cr_assert(strstr(r.errors, "locked") != NULL, "%s", r.errors);
	assert_pam(auth_with(&fx, "allow", LUSER, tok, NULL), PAM_SUCCESS);
	cr_assert(sh("passwd -u " LUSER) == 0);
	assert_pam(auth_with(&fx, "svc", LUSER, tok, NULL), PAM_SUCCESS);
	/* locked between auth and account: the re-check sees it */
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	r.between = lock_between;
	run_pam(&fx, "svc", LUSER, &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_PERM_DENIED);
	/* a wrong secret is told nothing about the lock */
	memset(&r, 0, sizeof(r));
	r.answers[0] = "apitok_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000";
	run_pam(&fx, "svc", LUSER, &r);
	cr_assert(strstr(r.errors, "locked") == NULL, "%s", r.errors);
}
