/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * static.c - what the modules link in.  The default module has nettle
 * linked in and loads libyaml as a shared library; the one built with
 * STATIC_DEPS=1 (libyaml and nettle linked in;
 * build/static/pam_apitoken.so) needs no shared object but libpam and
 * libc, still exports only pam_sm_*, and behaves as the default module
 * through real libpam (accepts, refuses, reads YAML).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

static struct fixture fx;
static char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];

static void
setup(void)
{
	fx_setup(&fx);
	fx_service(&fx, "svc",
	    "auth required @SMOD@ config=@CFG@\n"
	    "account required @SMOD@ config=@CFG@\n");
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(static_deps, .init = setup, .fini = teardown);

/* readelf -dW path (the dynamic section: NEEDED lines) into out. */
static void
dynamic_section(const char *path, char *out, size_t outsz)
{
	const char *argv[] = { "/usr/bin/readelf", "-dW", path, NULL };

	cr_assert_eq(run_cmd(argv, NULL, NULL, out, outsz, 20), 0,
	    "readelf: %s", out);
}

Test(static_deps, default_module_has_nettle_linked_in_and_libyaml_shared)
{
	char out[16384];

	dynamic_section(MODULE_PATH, out, sizeof(out));
	cr_assert(strstr(out, "libpam.so") != NULL, "%s", out);
	cr_assert(strstr(out, "libnettle") == NULL, "nettle is NEEDED:\n%s",
	    out);
	cr_assert(strstr(out, "libyaml") != NULL,
	    "libyaml is not NEEDED (linked in?):\n%s", out);
}

Test(static_deps, needs_no_libyaml_or_nettle)
{
	char out[16384];

	dynamic_section(STATIC_MODULE_PATH, out, sizeof(out));
	cr_assert(strstr(out, "(NEEDED)") != NULL, "%s", out);
	cr_assert(strstr(out, "libpam.so") != NULL, "%s", out);
	cr_assert(strstr(out, "libyaml") == NULL, "libyaml is NEEDED:\n%s",
	    out);
	cr_assert(strstr(out, "libnettle") == NULL, "nettle is NEEDED:\n%s",
	    out);
}

Test(static_deps, exports_only_pam_sm)
{
	/* nothing of libyaml's or nettle's leaks out either */
	assert_exports_only_pam_sm(STATIC_MODULE_PATH);
}

Test(static_deps, accepts_the_token_and_refuses_another)
{
	char other[TOK_BUF], secret[APITOKEN_SECRET_LEN + 1];
	struct pam_run r;

	fx_issue(&fx, tl_user(), "laptop", NULL, tok, id);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.env_id, id);
	/* well-formed, good checksum, known id, another secret */
	token_parts(tok, id, secret);
	secret[0] = secret[0] == 'a' ? 'b' : 'a';
	tl_token_build("apitok", id, secret, other, sizeof(other));
	assert_pam(auth_with(&fx, "svc", tl_user(), other, NULL),
	    PAM_AUTH_ERR);
	/* and a bad checksum (a typo) */
	tok[strlen(tok) - 1] = tok[strlen(tok) - 1] == 'a' ? 'b' : 'a';
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
}

Test(static_deps, a_bad_config_fails_closed)
{
	fx_service(&fx, "broken",
	    "auth required @SMOD@ config=/nonexistent/apitoken.yaml\n");
	fx_issue(&fx, tl_user(), "laptop", NULL, tok, id);
	assert_pam(auth_with(&fx, "broken", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}
