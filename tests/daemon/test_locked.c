/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_locked.c - apitokend refuses the token of a locked account
 * (passwd -l), as the module does for the logins it checks itself: a
 * non-root caller cannot read shadow, so the daemon must.  With a real
 * throw-away user (fixed name: the suite runs under its flock); root only.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include "td.h"

#define LUSER "apitok-dlocked"

static struct td *D;

/* Remove the user if it exists; its absence is fine. */
static void
drop_user(void)
{
	if (system("userdel -f " LUSER " >/dev/null 2>&1") == -1)
		cr_log_error("userdel: cannot run");
}

static void
sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

static void
setup(void)
{
	TL_NEED_ROOT("useradd, passwd -l");
	tl_watchdog(120);
	drop_user();
	sh("useradd -M -s /bin/sh " LUSER);
	D = td_start(NULL);
}

static void
teardown(void)
{
	if (geteuid() != 0)
		return;
	cr_expect_eq(td_stop(D), 0, "apitokend did not exit cleanly");
	drop_user();
}

TestSuite(locked, .init = setup, .fini = teardown);

Test(locked, a_locked_account_is_refused_and_unlocked_accepted_again)
{
	char *tok = td_issue(D, LUSER, "--label", "locked", NULL);

	/* useradd's "!" alone (no password yet) is not a lock */
	cr_assert_eq(td_verify(D, LUSER, "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	sh("echo " LUSER ":not-a-token-pw | chpasswd");
	sh("usermod -L " LUSER);
	cr_assert_eq(td_verify(D, LUSER, "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_R_LOCKED);
	cr_assert(td_log_wait(D, "reason=account-locked", 10000));
	sh("usermod -U " LUSER);
	cr_assert_eq(td_verify(D, LUSER, "sshd", NULL, tok, NULL, NULL),
	    APITOKEN_ACCEPTED);
	free(tok);
}
