/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_e2e.c - real programs that are not root asking apitokend (issue 11),
 * the scripts in tests/e2e as counted tests: nginx with auth_pam (workers
 * as www-data), Dovecot IMAP (auth workers as dovecot), pamtester as an
 * ordinary user.  A script exits 77 with the reason when it cannot run
 * here (not root, SANITIZE=1, a program missing): a visible skip.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tl.h"

static void
arm_watchdog(void)
{
	tl_watchdog(300);
}

TestSuite(e2e, .init = arm_watchdog);

static void
run_script(const char *name)
{
	char script[512], out[32768];
	const char *argv[] = { "/bin/sh", script, BUILD_DIR, NULL };
	struct tl_cmd c = { .argv = argv, .merge_err = 1,
	    .timeout_ms = 240 * 1000 };
	struct tl_proc p;
	int rc, timed_out;

	snprintf(script, sizeof(script), "%s/tests/e2e/%s", SRC_DIR, name);
	rc = tl_run(&c, &p);
	timed_out = p.timed_out;
	snprintf(out, sizeof(out), "%s", p.out);
	tl_proc_free(&p);
	if (rc == 77) {
		char *nl = strchr(out, '\n');

		if (nl != NULL)
			*nl = '\0';
		TL_SKIP("%s", strncmp(out, "SKIP: ", 6) == 0 ? out + 6 : out);
	}
	cr_log_info("%s", out);
	cr_assert(!timed_out, "%s timed out:\n%s", name, out);
	cr_assert_eq(rc, 0, "%s exited %d:\n%s", name, rc, out);
}

Test(e2e, nginx_auth_pam_as_www_data)
{
	run_script("nginx.sh");
}

Test(e2e, dovecot_imap_auth_worker_as_dovecot)
{
	run_script("dovecot.sh");
}

Test(e2e, pamtester_as_an_ordinary_user)
{
	run_script("pamtester.sh");
}
