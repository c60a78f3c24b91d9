/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * oom.c - issue 14 item 11: out of memory is PAM_BUF_ERR at every step,
 * as pam_apitoken(8) says.  The account look-up (getpwnam_r) is made to
 * fail with ENOMEM: this test program's getpwnam_r interposes on libc's
 * for the module too, and passes calls through unless armed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
    struct passwd **result);

static int fail_getpwnam;	/* armed: getpwnam_r fails with ENOMEM */

int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
    struct passwd **result)
{
	static int (*real)(const char *, struct passwd *, char *, size_t,
	    struct passwd **);

	if (fail_getpwnam) {
		*result = NULL;
		return ENOMEM;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "getpwnam_r");
	return real(name, pw, buf, len, result);
}

static struct fixture fx;

static void
setup(void)
{
	fx_setup(&fx);
	fx_service(&fx, "svc", "auth required @MOD@ config=@CFG@\n");
}

static void
teardown(void)
{
	fail_getpwnam = 0;
	fx_teardown(&fx);
}

TestSuite(oom, .init = setup, .fini = teardown);

Test(oom, account_lookup_out_of_memory_is_buf_err)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
	const char *user = tl_user();
	int rc;

	fx_issue(&fx, user, "oom", NULL, tok, id);
	fail_getpwnam = 1;
	rc = auth_with(&fx, "svc", user, tok, NULL);
	fail_getpwnam = 0;
	assert_pam(rc, PAM_BUF_ERR);
	assert_pam(auth_with(&fx, "svc", user, tok, NULL), PAM_SUCCESS);
}
