/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * e2e.c - the end-to-end scripts in tests/e2e (a real sshd on
 * loopback, a real sudo) as counted tests.  A script exits 77 with the
 * reason when it cannot run here (not root, SANITIZE=1, a tool missing);
 * that is reported as a skip, visibly.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "util.h"
#include "tl.h"

static void
arm_watchdog(void)
{
	tl_watchdog(200);
}

TestSuite(e2e, .init = arm_watchdog);

static void
run_script(const char *name)
{
	char script[512], out[32768];
	const char *argv[] = { "/bin/sh", script, BUILD_DIR, NULL };
	int rc;

	snprintf(script, sizeof(script), "%s/tests/e2e/%s", SRC_DIR, name);
	rc = run_cmd(argv, NULL, NULL, out, sizeof(out), 180);
	if (rc == 77) {
		char *nl = strchr(out, '\n');

		if (nl != NULL)
			*nl = '\0';
		TL_SKIP("%s", strncmp(out, "SKIP: ", 6) == 0 ?
		    out + 6 : out);
	}
	cr_log_info("%s", out);
	cr_assert_eq(rc, 0, "%s exited %d:\n%s", name, rc, out);
}

Test(e2e, sshd_token_login_and_revocation)
{
	run_script("sshd.sh");
}

Test(e2e, sudo_token_and_revocation)
{
	run_script("sudo.sh");
}
