/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamtester.c - the module in a real PAM application: pamtester under
 * pam_wrapper (LD_PRELOAD=libpam_wrapper.so, PAM_WRAPPER_SERVICE_DIR),
 * the token on stdin, -I rhost=... for the remote address.  Each refusal
 * costs the 2 s pam_fail_delay, so the cases are few.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "util.h"
#include "tl.h"

#define PAMTESTER "/usr/bin/pamtester"
#define WRAPPER "libpam_wrapper.so"

static struct fixture fx;
static char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
static char out[8192];

static void
setup(void)
{
	struct issue_opts o;

	tl_watchdog(60);
	fx_setup(&fx);
	memset(&o, 0, sizeof(o));
	o.from = "10.1.0.0/16";
	fx_issue(&fx, tl_user(), "pamtester", &o, tok, id);
	fx_service(&fx, "svc",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	if (access(PAMTESTER, X_OK) != 0) {
		fx_teardown(&fx);
		TL_SKIP("pamtester not installed: apt-get install "
		    "pamtester libpam-wrapper");
	}
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(pamtester, .init = setup, .fini = teardown);

/*
 * A module built with SANITIZE=1 needs the ASan runtime loaded first:
 * take the one this (equally sanitized) test binary runs with.
 */
static const char *
preload(void)
{
	static char buf[1024];
	char mapline[1024], path[900];
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(buf, sizeof(buf), "LD_PRELOAD=%s", WRAPPER);
	while (f != NULL && fgets(mapline, sizeof(mapline), f) != NULL) {
		if (strstr(mapline, "/libasan.so") == NULL ||
		    sscanf(mapline, "%*s %*s %*s %*s %*s %899s", path) != 1)
			continue;
		snprintf(buf, sizeof(buf), "LD_PRELOAD=%s %s", path, WRAPPER);
		break;
	}
	if (f != NULL)
		fclose(f);
	return buf;
}

/* pamtester [-I rhost=...] svc user authenticate acct_mgmt; exit code. */
static int
pamtester(const char *rhost, const char *user, const char *input)
{
	char svcdir[300], rh[128];
	const char *env[] = { preload(), "PAM_WRAPPER=1", svcdir,
	    "PAM_WRAPPER_DISABLE_DEEPBIND=1", "ASAN_OPTIONS=detect_leaks=0",
	    "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	const char *argv[10];
	int n = 0;

	snprintf(svcdir, sizeof(svcdir), "PAM_WRAPPER_SERVICE_DIR=%s",
	    fx.pamdir);
	argv[n++] = PAMTESTER;
	argv[n++] = "-v";
	if (rhost != NULL) {
		snprintf(rh, sizeof(rh), "rhost=%s", rhost);
		argv[n++] = "-I";
		argv[n++] = rh;
	}
	argv[n++] = "svc";
	argv[n++] = user;
	argv[n++] = "authenticate";
	argv[n++] = "acct_mgmt";
	argv[n] = NULL;
	return run_cmd(argv, env, input, out, sizeof(out), 30);
}

static void
line(char *buf, size_t len, const char *s)
{
	snprintf(buf, len, "%s\n", s);
}

Test(pamtester, accepted)
{
	char in[TOK_BUF + 1];

	line(in, sizeof(in), tok);
	cr_assert_eq(pamtester("10.1.2.3", tl_user(), in), 0, "%s", out);
	cr_assert(strstr(out, "successfully authenticated") != NULL, "%s",
	    out);
	cr_assert(strstr(out, "API token: ") != NULL, "%s", out);
}

Test(pamtester, wrong_token)
{
	char in[TOK_BUF + 1];

	line(in, sizeof(in), tok);
	in[20] = in[20] == 'x' ? 'y' : 'x';
	cr_assert_eq(pamtester("10.1.2.3", tl_user(), in), 1, "%s", out);
	cr_assert(strstr(out, "Authentication failure") != NULL, "%s", out);
}

Test(pamtester, rhost_outside_from)
{
	char in[TOK_BUF + 1];

	line(in, sizeof(in), tok);
	cr_assert_eq(pamtester("10.2.0.1", tl_user(), in), 1, "%s", out);
	cr_assert(strstr(out, "not valid from this address") != NULL, "%s",
	    out);
}

Test(pamtester, revoked)
{
	char in[TOK_BUF + 1];

	line(in, sizeof(in), tok);
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	cr_assert_eq(pamtester("10.1.2.3", tl_user(), in), 1, "%s", out);
	cr_assert(strstr(out, "revoked") != NULL, "%s", out);
}
