/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.c - pam_apitoken among other modules, through real libpam:
 * use_first_pass / try_first_pass after a module that sets PAM_AUTHTOK
 * (pam_wrapper's pam_set_items.so, which copies $PAM_AUTHTOK into the
 * item), sufficient stacks falling through, token-or-password with one
 * prompt, and the account re-check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

static struct fixture fx;
static char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];

static void
setup(void)
{
	fx_setup(&fx);
	fx_issue(&fx, tl_user(), "ci", NULL, tok, id);
	cr_assert(access(SET_ITEMS_PATH, R_OK) == 0,
	    "%s missing: install libpam-wrapper", SET_ITEMS_PATH);
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(stack, .init = setup, .fini = teardown);

/* PAM_AUTHTOK as set by an earlier module (pam_set_items reads $PAM_AUTHTOK) */
static void
cached(const char *value)
{
	cr_assert(setenv("PAM_AUTHTOK", value, 1) == 0);
}

static struct pam_run
run(const char *service, const char *answer)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.answers[0] = answer;
	run_pam(&fx, service, tl_user(), &r);
	return r;
}

Test(stack, use_first_pass_takes_the_cached_token)
{
	struct pam_run r;

	fx_service(&fx, "ufp", "auth required @SET@\n"
	    "auth required @MOD@ config=@CFG@ use_first_pass\n");
	cached(tok);
	r = run("ufp", NULL);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 0);
	cr_assert_str_eq(r.env_id, id);
	/* a cached password: fails (not a token), and never prompts */
	cached("hunter2");
	r = run("ufp", tok);
	assert_pam(r.auth_rc, PAM_CRED_INSUFFICIENT);
	cr_assert_eq(r.prompts, 0);
}

Test(stack, use_first_pass_without_a_cached_token)
{
	struct pam_run r;

	fx_service(&fx, "ufp",
	    "auth required @MOD@ config=@CFG@ use_first_pass\n");
	r = run("ufp", tok);
	assert_pam(r.auth_rc, PAM_CRED_INSUFFICIENT);
	cr_assert_eq(r.prompts, 0);
}

Test(stack, try_first_pass)
{
	struct pam_run r;
	char typo[TOK_BUF];

	fx_service(&fx, "tfp", "auth required @SET@\n"
	    "auth required @MOD@ config=@CFG@ try_first_pass\n");
	cached(tok);
	r = run("tfp", NULL);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 0);
	/* a cached password is not a token: prompt for one */
	cached("hunter2");
	r = run("tfp", tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 1);
	cr_assert_str_eq(r.last_prompt, "API token: ");
	/* a cached token with a typo is a token attempt: no second prompt */
	snprintf(typo, sizeof(typo), "%s", tok);
	typo[strlen(typo) - 1] = tok[strlen(tok) - 1] == '0' ? '1' : '0';
	cached(typo);
	r = run("tfp", tok);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert_eq(r.prompts, 0);
	/* nothing cached: prompt */
	fx_service(&fx, "tfp2",
	    "auth required @MOD@ config=@CFG@ try_first_pass\n");
	r = run("tfp2", tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 1);
}

Test(stack, no_option_always_prompts)
{
	struct pam_run r;

	fx_service(&fx, "plain", "auth required @SET@\n"
	    "auth required @MOD@ config=@CFG@\n");
	cached("hunter2");
	r = run("plain", tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 1);
}

Test(stack, sufficient_falls_through)
{
	fx_service(&fx, "suf_deny", "auth sufficient @MOD@ config=@CFG@\n"
	    "auth required pam_deny.so\n");
	fx_service(&fx, "suf_permit", "auth sufficient @MOD@ config=@CFG@\n"
	    "auth required pam_permit.so\n");
	assert_pam(run("suf_deny", tok).auth_rc, PAM_SUCCESS);
	assert_pam(run("suf_deny", "hunter2").auth_rc, PAM_AUTH_ERR);
	/* a wrong token leaves the decision to the next module */
	assert_pam(run("suf_permit", "hunter2").auth_rc, PAM_SUCCESS);
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	assert_pam(run("suf_deny", tok).auth_rc, PAM_AUTH_ERR);
}

Test(stack, success_done_default_ignore)
{
	fx_service(&fx, "jump",
	    "auth [success=done default=ignore] @MOD@ config=@CFG@\n"
	    "auth required pam_deny.so\n");
	assert_pam(run("jump", tok).auth_rc, PAM_SUCCESS);
	assert_pam(run("jump", "hunter2").auth_rc, PAM_AUTH_ERR);
	/* a broken store is never success, whatever the stack says */
	cr_assert(unlink(fx.store) == 0);
	assert_pam(run("jump", tok).auth_rc, PAM_AUTH_ERR);
}

Test(stack, required_alone_with_broken_store)
{
	fx_service(&fx, "req", "auth required @MOD@ config=@CFG@\n"
	    "auth optional pam_permit.so\n");
	cr_assert(unlink(fx.store) == 0);
	assert_pam(run("req", tok).auth_rc, PAM_AUTHINFO_UNAVAIL);
}

/* token-or-password, one prompt: what was typed is PAM_AUTHTOK for the
 * password module (pam_get_items.so puts the items in the PAM env). */
Test(stack, token_or_password_one_prompt)
{
	static const char get_items[] =
	    "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_get_items.so";
	char text[512];
	struct pam_run r;

	snprintf(text, sizeof(text),
	    "auth [success=done default=ignore] @MOD@ config=@CFG@ "
	    "[prompt=Password or API token: ]\n"
	    "auth required %s\n", get_items);
	fx_service(&fx, "both", text);
	r = run("both", tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.last_prompt, "Password or API token: ");
	cr_assert_str_eq(r.env_id, id);
	r = run("both", "hunter2");
	cr_assert_eq(r.prompts, 1);
	cr_assert_str_empty(r.env_id);
}

static int
revoke_now(struct pam_run *r)
{
	(void)r;
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	return 0;
}

static int
disable_now(struct pam_run *r)
{
	(void)r;
	fx_set_status(&fx, id, APITOKEN_DISABLED);
	return 0;
}

Test(stack, account_rechecks_the_token)
{
	struct pam_run r;

	fx_service(&fx, "acct", "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	run_pam(&fx, "acct", tl_user(), &r);
	assert_pam(r.acct_rc, PAM_SUCCESS);
	r.between = disable_now;
	run_pam(&fx, "acct", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_PERM_DENIED);
	fx_set_status(&fx, id, APITOKEN_ACTIVE);
	r.between = revoke_now;
	run_pam(&fx, "acct", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_PERM_DENIED);
}

struct expiring {
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
};

static int
wait_expiry(struct pam_run *r)
{
	(void)r;
	sleep(2);
	return 0;
}

Test(stack, account_sees_expiry)
{
	struct issue_opts o;
	struct pam_run r;

	memset(&o, 0, sizeof(o));
	o.expires = (int64_t)time(NULL) + 2;
	fx_issue(&fx, tl_user(), "short", &o, tok, id);
	fx_service(&fx, "acct", "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	r.between = wait_expiry;
	run_pam(&fx, "acct", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_ACCT_EXPIRED);
}

Test(stack, account_ignores_other_logins)
{
	struct pam_run r;

	/* authenticated by another module: pam_apitoken has no say */
	fx_service(&fx, "other", "auth required pam_permit.so\n"
	    "account required @MOD@ config=@CFG@\n"
	    "account required pam_permit.so\n");
	memset(&r, 0, sizeof(r));
	r.account = 1;
	run_pam(&fx, "other", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_SUCCESS);
	/* ...and with nothing else in the stack, PAM_IGNORE is no "yes" */
	fx_service(&fx, "alone", "auth required pam_permit.so\n"
	    "account required @MOD@ config=@CFG@\n");
	run_pam(&fx, "alone", tl_user(), &r);
	cr_assert(r.acct_rc != PAM_SUCCESS, "account: %s",
	    pamstr(r.acct_rc));
	/* a failed token login leaves nothing for account to vouch for */
	fx_service(&fx, "failed", "auth optional @MOD@ config=@CFG@\n"
	    "auth required pam_permit.so\n"
	    "account required @MOD@ config=@CFG@\n");
	memset(&r, 0, sizeof(r));
	r.answers[0] = "hunter2";
	r.account = 1;
	run_pam(&fx, "failed", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert(r.acct_rc != PAM_SUCCESS, "account: %s",
	    pamstr(r.acct_rc));
}
