/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_module.c - the PAM module and tokenctl through a real apitokend
 * (td.h): mode=daemon and mode=auto via real libpam (pam_start_confdir,
 * tests/pam/util.h), as root and as an unprivileged user in a forked
 * child; the daemon stopped; a revocation seen at once; tokenctl verify
 * --daemon; lockouts and unlock after max_failures wrong tokens.
 */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <security/pam_appl.h>

#include "pam/util.h"
#include "td.h"

static struct fixture fx;
static struct td *D;
static char tokens[2][TOK_BUF];	/* issue()'s, static: no heap copy that
				   a forked child would leak */
static int ntokens;

/* The fixture's PAM services, on the daemon's config: "d" mode=daemon,
 * "a" mode=auto (the default), both with debug. */
static void
start(const char *yaml_extra)
{
	tl_watchdog(120);
	TL_NEED_ROOT("the daemon runs as root; callers switch users");
	fx_setup(&fx);
	D = td_start(yaml_extra);
	cr_assert_lt(strlen(D->conf), sizeof(fx.config));
	memcpy(fx.config, D->conf, strlen(D->conf) + 1);
	fx_service(&fx, "d",
	    "auth required @MOD@ config=@CFG@ mode=daemon debug\n"
	    "account required @MOD@ config=@CFG@ mode=daemon debug\n");
	fx_service(&fx, "a",
	    "auth required @MOD@ config=@CFG@ debug\n"
	    "account required @MOD@ config=@CFG@ debug\n");
	ntokens = 0;
}

static void
setup(void)
{
	start("max_failures: 3\n");
}

static void
teardown(void)
{
	become_root_again();
	if (D != NULL)
		td_stop(D);
	D = NULL;
	fx_teardown(&fx);
}

TestSuite(module, .init = setup, .fini = teardown);

/* The daemon's log has needle (within 5 s). */
static void
assert_dlog(const char *needle)
{
	cr_assert(td_log_wait(D, needle, 5000), "no \"%s\" in:\n%s", needle,
	    td_log(D));
}

/* A token for user; its id into id. */
static const char *
issue(const char *user, char id[APITOKEN_ID_LEN + 1])
{
	char *tok = td_issue(D, user, "--label", "via the daemon", NULL);
	char *slot = tokens[ntokens++ % 2];

	snprintf(slot, TOK_BUF, "%s", tok);
	apitoken_wipe(tok, strlen(tok));
	free(tok);
	token_parts(slot, id, (char[APITOKEN_SECRET_LEN + 1]){ 0 });
	return slot;
}

/* auth, account and setcred through service svc as root. */
static void
login(const char *svc, const char *user, const char *tok, struct pam_run *r)
{
	memset(r, 0, sizeof(*r));
	r->answers[0] = tok;
	r->account = 1;
	run_pam(&fx, svc, user, r);
}

Test(module, daemon_mode_accepted)
{
	struct pam_run r;
	char id[APITOKEN_ID_LEN + 1], want[256];
	const char *tok = issue(tl_user(), id);

	login("d", tl_user(), tok, &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_SUCCESS);
	assert_pam(r.setcred_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.env_id, id);
	cr_assert_str_eq(r.env_label, "via the daemon");
	/* the daemon decided, twice (auth, and the account re-check) */
	snprintf(want, sizeof(want), "token=%s", id);
	cr_assert(td_log_wait(D, want, 5000), "%s", td_log(D));
}

Test(module, daemon_mode_wrong_token)
{
	char id[APITOKEN_ID_LEN + 1], forged[TOK_BUF];
	char secret[APITOKEN_SECRET_LEN + 1];
	const char *tok = issue(tl_user(), id);

	token_parts(tok, id, secret);
	secret[0] = secret[0] == 'Z' ? 'Y' : 'Z';
	tl_token_build("apitok", id, secret, forged, sizeof(forged));
	assert_pam(auth_with(&fx, "d", tl_user(), forged, NULL), PAM_AUTH_ERR);
	assert_dlog("reason=wrong-secret");
}

static int
revoke_between(struct pam_run *r)
{
	const char *id = r->ctx;

	return td_ctl(D, NULL, "revoke", id, NULL);
}

/* tokenctl revoke is seen by the very next request, and by the account
 * re-check of a login already authenticated. */
Test(module, revoked_at_once)
{
	struct pam_run r;
	char id[APITOKEN_ID_LEN + 1];
	const char *tok = issue(tl_user(), id);

	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	r.between = revoke_between;
	r.ctx = id;
	run_pam(&fx, "d", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_PERM_DENIED);
	assert_pam(auth_with(&fx, "d", tl_user(), tok, NULL), PAM_AUTH_ERR);
	assert_dlog("reason=revoked");
}

/* Daemon gone: fail closed (the log line naming the socket is checked
 * in tests/pam/mode.c). */
Test(module, daemon_stopped)
{
	char id[APITOKEN_ID_LEN + 1];
	const char *tok = issue(tl_user(), id);

	cr_assert_eq(kill(D->pid, SIGTERM), 0);
	cr_assert_eq(waitpid(D->pid, NULL, 0), D->pid);
	D->pid = 0;
	assert_pam(auth_with(&fx, "d", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	/* root in auto mode reads the store: still works */
	assert_pam(auth_with(&fx, "a", tl_user(), tok, NULL), PAM_SUCCESS);
}

/* ------------------------------------------------ as another user */

/* Open the fixture to an unprivileged user: the config and the module,
 * not the store (its directory stays 0700). */
static void
open_to_others(void)
{
	cr_assert_eq(chmod(D->dir, 0755), 0);
	cr_assert_eq(chmod(D->conf, 0644), 0);
	cr_assert_eq(chmod(fx.dir, 0755), 0);
	cr_assert_eq(chmod(fx.pamdir, 0755), 0);
}

static int
conv_one(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(data);
	*resp = r;
	return PAM_SUCCESS;
}

/* In a child running as user nobody: auth (and account when it passed)
 * through service svc for user with tok; the child's exit status is the
 * first PAM code that was not success (or 0). */
static int
login_as_nobody(const char *svc, const char *user, const char *tok)
{
	struct passwd *pw = getpwnam("nobody");
	struct pam_conv conv = { conv_one, (void *)(uintptr_t)tok };
	pam_handle_t *pamh = NULL;
	pid_t pid;
	int rc, st = -1;

	cr_assert_not_null(pw);
	pid = tl_fork();
	if (pid == 0) {
		if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
			_exit(126);
		/* a change of uid cleared tl_fork's parent-death signal */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pam_start_confdir(svc, user, &conv, fx.pamdir, &pamh) !=
		    PAM_SUCCESS)
			_exit(127);
		rc = pam_authenticate(pamh, 0);
		if (rc == PAM_SUCCESS)
			rc = pam_acct_mgmt(pamh, 0);
		pam_end(pamh, rc);
		_exit(rc);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the child died: %d", st);
	return WEXITSTATUS(st);
}

/* mode=auto as a user who cannot read the store: the daemon answers,
 * and lets the user check only its own account. */
Test(module, non_root_auto_goes_to_the_daemon)
{
	char id[APITOKEN_ID_LEN + 1], other[APITOKEN_ID_LEN + 1], want[128];
	const char *tok = issue("nobody", id), *root_tok = issue(tl_user(), other);
	struct passwd *pw = getpwnam("nobody");

	open_to_others();
	assert_pam(login_as_nobody("a", "nobody", tok), PAM_SUCCESS);
	snprintf(want, sizeof(want), "caller_uid=%lu",
	    (unsigned long)pw->pw_uid);
	cr_assert(td_log_wait(D, want, 5000), "%s", td_log(D));
	/* another user's login: not this caller's to check */
	assert_pam(login_as_nobody("a", tl_user(), root_tok), PAM_AUTH_ERR);
	cr_assert(td_log_wait(D, "caller-not-allowed", 5000), "%s",
	    td_log(D));
}

/* ---------------------------------------------------------- tokenctl */

static int
verify_daemon(const char *tok, char **out, char **err)
{
	const char *argv[] = { TL_TOKENCTL, "-c", D->conf, "verify",
	    "--daemon", "--service=sshd", NULL, NULL };
	char *line = tl_fmt("%s\n", tok), *user = tl_fmt("--user=%s",
	    tl_user());
	struct tl_cmd c;
	struct tl_proc p;
	int rc;

	argv[6] = user;
	memset(&c, 0, sizeof(c));
	c.argv = argv;
	c.input = line;
	rc = tl_run(&c, &p);
	*out = p.out;
	*err = p.err;
	p.out = p.err = NULL;
	tl_proc_free(&p);
	free(line);
	free(user);
	return rc;
}

Test(module, tokenctl_verify_daemon)
{
	char id[APITOKEN_ID_LEN + 1], *out, *err, want[64];
	const char *tok = issue(tl_user(), id);

	cr_assert_eq(verify_daemon(tok, &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "%s\n", id);
	cr_assert_str_eq(out, want);
	free(out);
	free(err);
	cr_assert_eq(td_ctl(D, NULL, "disable", id, NULL), 0);
	cr_assert_eq(verify_daemon(tok, &out, &err), 1);
	snprintf(want, sizeof(want), "tokenctl verify: rejected: disabled "
	    "(token %s)\n", id);
	cr_assert_str_eq(err, want);
	free(out);
	free(err);
}

/* max_failures (3) wrong secrets lock the token out, even with the right
 * secret; lockouts lists it; unlock lets it in again. */
Test(module, lockouts_and_unlock)
{
	char id[APITOKEN_ID_LEN + 1], secret[APITOKEN_SECRET_LEN + 1];
	char forged[TOK_BUF], *out, *err, want[128];
	const char *tok = issue(tl_user(), id);
	int i;

	token_parts(tok, id, secret);
	secret[0] = secret[0] == 'Z' ? 'Y' : 'Z';
	tl_token_build("apitok", id, secret, forged, sizeof(forged));
	for (i = 0; i < 3; i++) {
		cr_assert_eq(verify_daemon(forged, &out, &err), 1, "%s", err);
		free(out);
		free(err);
	}
	cr_assert_eq(verify_daemon(tok, &out, &err), 1, "not locked out");
	cr_assert_not_null(strstr(err, "rejected: throttled"), "%s", err);
	free(out);
	free(err);
	assert_pam(auth_with(&fx, "d", tl_user(), tok, NULL), PAM_AUTH_ERR);
	assert_dlog("reason=throttled");

	cr_assert_eq(td_ctl(D, &out, "lockouts", NULL), 0);
	snprintf(want, sizeof(want), "\ntoken %s ", id);
	cr_assert_not_null(strstr(out, want), "%s", out);
	cr_assert_not_null(strstr(out, "\nuser "), "%s", out);
	free(out);
	cr_assert_eq(td_ctl(D, &out, "lockouts", "--json", NULL), 0);
	snprintf(want, sizeof(want), "\"id\": \"%s\"", id);
	cr_assert_not_null(strstr(out, want), "%s", out);
	free(out);

	cr_assert_eq(td_ctl(D, &out, "unlock", id, NULL), 0);
	snprintf(want, sizeof(want), "unlocked token %s\n", id);
	cr_assert_str_eq(out, want);
	free(out);
	cr_assert_eq(td_ctl(D, &out, "unlock", "--user", tl_user(), NULL), 0);
	snprintf(want, sizeof(want), "unlocked user %s for uid 0\n",
	    tl_user());
	cr_assert_str_eq(out, want);
	free(out);
	cr_assert_eq(td_ctl(D, &out, "lockouts", NULL), 0);
	cr_assert_str_eq(out, "no lockouts\n");
	free(out);
	cr_assert_eq(verify_daemon(tok, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	assert_pam(auth_with(&fx, "d", tl_user(), tok, NULL), PAM_SUCCESS);
}
