/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.c - pam_sm_authenticate through real libpam (pam_start_confdir with
 * a service file naming the built module by absolute path): each verify
 * reason, the input rules, the store and config faults, the options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	fx_service(&fx, "svc",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n"
	    "password required @MOD@ config=@CFG@\n");
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(auth, .init = setup, .fini = teardown);

static void
issue(const char *user, const struct issue_opts *o)
{
	fx_issue(&fx, user, "laptop", o, tok, id);
}

Test(auth, accepted_sets_env_and_prompts_once)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_eq(r.prompts, 1);
	cr_assert_str_eq(r.last_prompt, "API token: ");
	cr_assert_str_eq(r.env_id, id);
	cr_assert_str_eq(r.env_label, "laptop");
	cr_assert(r.env_in_list, "APITOKEN_ID missing from pam_getenvlist");
	cr_assert_str_empty(r.errors);
}

Test(auth, accepted_records_last_use)
{
	struct apitoken_lastuse lu;

	issue(tl_user(), NULL);
	cr_assert(apitoken_lastuse_get(fx.cfg, id, &lu, NULL, 0) == 0);
	cr_assert_eq(lu.when, 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, "192.0.2.7"),
	    PAM_SUCCESS);
	cr_assert(apitoken_lastuse_get(fx.cfg, id, &lu, NULL, 0) == 0);
	cr_assert(lu.when > time(NULL) - 60 && lu.when <= time(NULL));
	cr_assert_str_eq(lu.service, "svc");
	cr_assert_str_eq(lu.rhost, "192.0.2.7");
}

Test(auth, last_use_failure_does_not_fail_login)
{
	char path[512];

	issue(tl_user(), NULL);
	/* state_dir is a file now: the last-use write must fail */
	cr_assert(rmdir(fx.state) == 0);
	snprintf(path, sizeof(path), "%s", fx.state);
	cr_assert(fclose(fopen(path, "w")) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
}

Test(auth, wrong_secret)
{
	char forged[TOK_BUF], tid[APITOKEN_ID_LEN + 1];
	char secret[APITOKEN_SECRET_LEN + 1];
	struct pam_run r;

	issue(tl_user(), NULL);
	token_parts(tok, tid, secret);
	secret[5] = secret[5] == 'a' ? 'b' : 'a';
	tl_token_build("apitok", tid, secret, forged, sizeof(forged));
	memset(&r, 0, sizeof(r));
	r.answers[0] = forged;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert_str_empty(r.env_id);
	cr_assert_str_empty(r.errors, "told the user: %s", r.errors);
	cr_assert(r.delay_called && r.delay_usec >= 1000000,
	    "fail delay %u", r.delay_usec);
	/* the genuine token still works: the forgery is only a wrong secret */
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
}

Test(auth, bad_checksum_never_opens_the_store)
{
	char typo[TOK_BUF];
	size_t n;

	issue(tl_user(), NULL);
	snprintf(typo, sizeof(typo), "%s", tok);
	n = strlen(typo);
	typo[n - 1] = typo[n - 1] == '0' ? '1' : '0';
	assert_pam(auth_with(&fx, "svc", tl_user(), typo, NULL),
	    PAM_AUTH_ERR);
	/* with no store at all it is still a plain failure, not "unavail" */
	cr_assert(unlink(fx.store) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), typo, NULL),
	    PAM_AUTH_ERR);
}

Test(auth, unknown_id)
{
	char forged[TOK_BUF];

	issue(tl_user(), NULL);
	tl_token_build("apitok", "AAAAAAAAAAAA",
	    "0123456789abcdefghijABCDEFGHIJ01", forged, sizeof(forged));
	assert_pam(auth_with(&fx, "svc", tl_user(), forged, NULL),
	    PAM_AUTH_ERR);
}

Test(auth, another_users_token)
{
	struct pam_run r;

	issue(tl_other_user(), NULL);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert_str_empty(r.env_id);
	cr_assert(strstr(r.errors, "another account") != NULL, "%s",
	    r.errors);
	/* and it works for its owner */
	assert_pam(auth_with(&fx, "svc", tl_other_user(), tok, NULL),
	    PAM_SUCCESS);
}

Test(auth, unknown_account_never_succeeds)
{
	issue("no-such-user-apitok", NULL);
	assert_pam(auth_with(&fx, "svc", "no-such-user-apitok", tok, NULL),
	    PAM_USER_UNKNOWN);
}

Test(auth, disabled_then_enabled)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	fx_set_status(&fx, id, APITOKEN_DISABLED);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert(strstr(r.errors, "disabled") != NULL, "%s", r.errors);
	fx_set_status(&fx, id, APITOKEN_ACTIVE);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
}

Test(auth, revoked)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert(strstr(r.errors, "revoked") != NULL, "%s", r.errors);
}

Test(auth, expired)
{
	struct issue_opts o;
	struct pam_run r;

	memset(&o, 0, sizeof(o));
	o.expires = (int64_t)time(NULL) - 60;
	issue(tl_user(), &o);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert(strstr(r.errors, "expired") != NULL, "%s", r.errors);
}

Test(auth, not_yet_expired)
{
	struct issue_opts o;

	memset(&o, 0, sizeof(o));
	o.expires = (int64_t)time(NULL) + 3600;
	issue(tl_user(), &o);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
}

Test(auth, rotated_old_refused_new_accepted)
{
	char newtok[TOK_BUF], newid[APITOKEN_ID_LEN + 1];
	struct pam_run r;

	issue(tl_user(), NULL);
	fx_rotate(&fx, id, newtok, newid);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
	memset(&r, 0, sizeof(r));
	r.answers[0] = newtok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.env_id, newid);
}

Test(auth, service_scope)
{
	struct issue_opts o;

	memset(&o, 0, sizeof(o));
	o.services = "sshd,login";
	issue(tl_user(), &o);
	fx_service(&fx, "sshd", "auth required @MOD@ config=@CFG@\n");
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
	assert_pam(auth_with(&fx, "sshd", tl_user(), tok, NULL),
	    PAM_SUCCESS);
}

/* service_aliases (apitoken.yaml(5)): Debian's su - asks as su-l. */
Test(auth, su_token_accepted_for_su_l)
{
	struct issue_opts o;
	FILE *f;

	memset(&o, 0, sizeof(o));
	o.services = "su";
	issue(tl_user(), &o);
	fx_service(&fx, "su-l", "auth required @MOD@ config=@CFG@\n");
	fx_service(&fx, "sudo-i", "auth required @MOD@ config=@CFG@\n");
	assert_pam(auth_with(&fx, "su-l", tl_user(), tok, NULL),
	    PAM_SUCCESS);
	assert_pam(auth_with(&fx, "sudo-i", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
	/* aliases turned off: su-l is another service again */
	cr_assert_not_null(f = fopen(fx.config, "a"));
	cr_assert_gt(fputs("service_aliases: {}\n", f), 0);
	cr_assert_eq(fclose(f), 0);
	assert_pam(auth_with(&fx, "su-l", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
}

Test(auth, source_address_from_rhost)
{
	struct issue_opts o;

	memset(&o, 0, sizeof(o));
	o.from = "10.1.0.0/16,2001:db8::/32";
	issue(tl_user(), &o);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, "10.1.2.3"),
	    PAM_SUCCESS);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, "2001:db8::5"),
	    PAM_SUCCESS);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, "10.2.0.1"),
	    PAM_AUTH_ERR);
	/* no address (sudo, login): a from-restricted token is refused */
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
	/* a host name is not an address */
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, "host.example"),
	    PAM_AUTH_ERR);
}

Test(auth, source_address_from_ssh_connection)
{
	struct issue_opts o;
	struct pam_run r;

	memset(&o, 0, sizeof(o));
	o.from = "10.1.0.0/16";
	issue(tl_user(), &o);
	fx_service(&fx, "sshd", "auth required @MOD@ config=@CFG@\n");
	/* sshd with UseDNS: PAM_RHOST is a name, the IP is in the PAM env */
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.rhost = "client.example";
	r.ssh_connection = "10.1.9.9 50000 10.0.0.1 22";
	run_pam(&fx, "sshd", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.rhost = "client.example";
	r.ssh_connection = "10.9.9.9 50000 10.0.0.1 22";
	run_pam(&fx, "sshd", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	/* PAM_RHOST, when an address, wins over SSH_CONNECTION */
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.rhost = "10.9.9.9";
	r.ssh_connection = "10.1.9.9 50000 10.0.0.1 22";
	run_pam(&fx, "sshd", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	/* issue 14 item 21: only where needed.  No PAM_RHOST (a local
	 * login), or a service other than sshd: SSH_CONNECTION is not
	 * consulted */
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.ssh_connection = "10.1.9.9 50000 10.0.0.1 22";
	run_pam(&fx, "sshd", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.rhost = "client.example";
	r.ssh_connection = "10.1.9.9 50000 10.0.0.1 22";
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
}

Test(auth, process_environment_is_not_an_address)
{
	struct issue_opts o;

	memset(&o, 0, sizeof(o));
	o.from = "10.1.0.0/16";
	issue(tl_user(), &o);
	/* under sudo the caller controls the process environment */
	cr_assert(setenv("SSH_CONNECTION", "10.1.9.9 50000 10.0.0.1 22",
	    1) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTH_ERR);
}

Test(auth, password_input_never_opens_the_store)
{
	issue(tl_user(), NULL);
	cr_assert(unlink(fx.store) == 0);
	/* not a token: its own code (issue 14 item 19) */
	assert_pam(auth_with(&fx, "svc", tl_user(), "hunter2", NULL),
	    PAM_CRED_INSUFFICIENT);
	assert_pam(auth_with(&fx, "svc", tl_user(), "", NULL),
	    PAM_CRED_INSUFFICIENT);
	assert_pam(auth_with(&fx, "svc", tl_user(),
	    "\b\n\r\177INCORRECT", NULL), PAM_CRED_INSUFFICIENT);
	/* a token for another prefix is not ours */
	assert_pam(auth_with(&fx, "svc", tl_user(),
	    "ghp_AAAAAAAAAAAA_0123456789abcdefghijABCDEFGHIJ01000000", NULL),
	    PAM_CRED_INSUFFICIENT);
	/* a real token hits the missing store: unavailable, not "wrong" */
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, sshd_dummy_password_for_a_valid_token_user)
{
	/* sshd pads the dummy to the length of what was typed */
	char dummy[64];
	size_t i;

	issue(tl_user(), NULL);
	for (i = 0; i < strlen(tok) && i < sizeof(dummy) - 1; i++)
		dummy[i] = "\b\n\r\177INCORRECT"[i % 13];
	dummy[i] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_user(), dummy, NULL),
	    PAM_CRED_INSUFFICIENT);
}

Test(auth, overlong_input_refused)
{
	char big[PAM_MAX_RESP_SIZE + 64];

	issue(tl_user(), NULL);
	/* a valid token followed by junk: refused unread */
	snprintf(big, sizeof(big), "%s", tok);
	memset(big + strlen(tok), 'A', sizeof(big) - 1 - strlen(tok));
	big[sizeof(big) - 1] = '\0';
	assert_pam(auth_with(&fx, "svc", tl_user(), big, NULL),
	    PAM_CRED_INSUFFICIENT);
	big[PAM_MAX_RESP_SIZE] = '\0';	/* at the limit: not a token */
	assert_pam(auth_with(&fx, "svc", tl_user(), big, NULL),
	    PAM_CRED_INSUFFICIENT);
}

Test(auth, missing_store_is_unavailable)
{
	issue(tl_user(), NULL);
	cr_assert(unlink(fx.store) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, unsafe_store_is_unavailable)
{
	char dir[512];

	issue(tl_user(), NULL);
	cr_assert(chmod(fx.store, 0666) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	cr_assert(chmod(fx.store, 0600) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_SUCCESS);
	snprintf(dir, sizeof(dir), "%s/store", fx.dir);
	cr_assert(chmod(dir, 0777) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, symlinked_store_is_unavailable)
{
	char real[512];

	issue(tl_user(), NULL);
	snprintf(real, sizeof(real), "%s/store/real", fx.dir);
	cr_assert(rename(fx.store, real) == 0);
	cr_assert(symlink(real, fx.store) == 0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, corrupt_store_is_unavailable)
{
	FILE *f;

	issue(tl_user(), NULL);
	f = fopen(fx.store, "w");
	cr_assert(f != NULL);
	fputs("this is not a token store\n", f);
	fclose(f);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, config_errors_are_unavailable)
{
	FILE *f;

	issue(tl_user(), NULL);
	fx_service(&fx, "nocfg",
	    "auth required @MOD@ config=/nonexistent/apitoken.yaml\n");
	assert_pam(auth_with(&fx, "nocfg", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	f = fopen(fx.config, "a");
	cr_assert(f != NULL);
	fputs("no_such_key: 1\n", f);
	fclose(f);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
}

Test(auth, bad_options_fail_closed)
{
	issue(tl_user(), NULL);
	fx_service(&fx, "typo",
	    "auth required @MOD@ config=@CFG@ use_frist_pass\n");
	assert_pam(auth_with(&fx, "typo", tl_user(), tok, NULL),
	    PAM_SERVICE_ERR);
	fx_service(&fx, "relative",
	    "auth required @MOD@ config=apitoken.yaml\n");
	assert_pam(auth_with(&fx, "relative", tl_user(), tok, NULL),
	    PAM_SERVICE_ERR);
	fx_service(&fx, "noprompt",
	    "auth required @MOD@ config=@CFG@ prompt=\n");
	assert_pam(auth_with(&fx, "noprompt", tl_user(), tok, NULL),
	    PAM_SERVICE_ERR);
}

Test(auth, prompt_option)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	fx_service(&fx, "prompt",
	    "auth required @MOD@ config=@CFG@ debug [prompt=Token, please: ]\n");
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "prompt", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.last_prompt, "Token, please: ");
}

Test(auth, quiet_tells_the_user_nothing)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	fx_service(&fx, "quiet", "auth required @MOD@ config=@CFG@ quiet\n");
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	run_pam(&fx, "quiet", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert_str_empty(r.errors, "quiet, yet said: %s", r.errors);
}

Test(auth, conversation_failure)
{
	struct pam_run r;

	issue(tl_user(), NULL);
	memset(&r, 0, sizeof(r));	/* no answers: the conversation fails */
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_CONV_ERR);
}

Test(auth, setcred_succeeds)
{
	struct pam_conv conv = { NULL, NULL };
	pam_handle_t *pamh = NULL;

	fx_service(&fx, "cred", "auth required @MOD@ config=@CFG@\n");
	cr_assert(pam_start_confdir("cred", tl_user(), &conv, fx.pamdir,
	    &pamh) == PAM_SUCCESS);
	assert_pam(pam_setcred(pamh, PAM_ESTABLISH_CRED), PAM_SUCCESS);
	assert_pam(pam_setcred(pamh, PAM_DELETE_CRED), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
}

Test(auth, password_change_not_supported)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.chauthtok = 1;
	run_pam(&fx, "svc", tl_user(), &r);
	cr_assert(r.chauthtok_rc != PAM_SUCCESS && r.chauthtok_rc != PAM_IGNORE,
	    "chauthtok: %s", pamstr(r.chauthtok_rc));
}

Test(auth, non_root_caller_is_unavailable)
{
	TL_NEED_ROOT("drops to the user nobody");
	issue("nobody", NULL);
	become_nobody(&fx);
	/* a screen locker or su run by a user cannot read the store */
	assert_pam(auth_with(&fx, "svc", "nobody", tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	/* what is not a token still fails plainly, without the store */
	assert_pam(auth_with(&fx, "svc", "nobody", "hunter2", NULL),
	    PAM_CRED_INSUFFICIENT);
}
