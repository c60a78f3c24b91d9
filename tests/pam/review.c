/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * review.c - regression tests for the module's findings of issue 14
 * (security review) and issue 15 (real PAM clients), through real libpam:
 * the fail delay can be turned off (nodelay), expiry warnings, "not a
 * token" as its own outcome and the shipped stacks that end at a refused
 * token, an account line that survives a missing module, the login
 * published only after the whole auth stack (setcred), the session
 * variables re-asserted by open_session, a locked account.
 */
#include <errno.h>
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
	fx_issue(&fx, tl_user(), "laptop", NULL, tok, id);
	fx_service(&fx, "svc", "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n"
	    "session required @MOD@ config=@CFG@\n");
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(review, .init = setup, .fini = teardown);

static struct pam_run
run(const char *service, const char *user, const char *answer)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.answers[0] = answer;
	run_pam(&fx, service, user, &r);
	return r;
}

/* issue 15 item 1 */
Test(review, nodelay_turns_the_fail_delay_off)
{
	struct pam_run r;

	r = run("svc", tl_user(), "hunter2");
	/* libpam passes on between half and one and a half of it */
	cr_assert(r.delay_called && r.delay_usec >= 999999,
	    "default: a 2 s delay (%u us)", r.delay_usec);
	fx_service(&fx, "nd", "auth required @MOD@ config=@CFG@ nodelay\n");
	r = run("nd", tl_user(), "hunter2");
	assert_pam(r.auth_rc, PAM_CRED_INSUFFICIENT);
	cr_assert(!r.delay_called || r.delay_usec == 0,
	    "nodelay asked for %u us", r.delay_usec);
	r = run("nd", tl_user(), tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
}

/* labels are unique among a user's live tokens: revoke the last one */
static void
issue_expiring(int64_t in_secs)
{
	struct issue_opts o;

	if (strcmp(id, "") != 0)
		fx_set_status(&fx, id, APITOKEN_REVOKED);
	memset(&o, 0, sizeof(o));
	o.expires = (int64_t)time(NULL) + in_secs;
	fx_issue(&fx, tl_user(), "ci-runner", &o, tok, id);
}

/* issue 15 item 6 */
Test(review, warn_expiry)
{
	char want[256];
	struct pam_run r;

	issue_expiring(3 * 86400 + 600);
	snprintf(want, sizeof(want),
	    "Your API token 'ci-runner' (%s) expires in 3 days.", id);
	r = run("svc", tl_user(), tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert(strstr(r.errors, want) != NULL, "no \"%s\" in \"%s\"", want,
	    r.errors);
	fx_service(&fx, "off", "auth required @MOD@ config=@CFG@ "
	    "warn_expiry=0\n");
	fx_service(&fx, "q", "auth required @MOD@ config=@CFG@ quiet\n");
	fx_service(&fx, "short", "auth required @MOD@ config=@CFG@ "
	    "warn_expiry=1d\n");
	cr_assert_str_empty(run("off", tl_user(), tok).errors);
	cr_assert_str_empty(run("q", tl_user(), tok).errors);
	cr_assert_str_empty(run("short", tl_user(), tok).errors);
	/* not within 7 days: nothing; a longer window: the warning */
	issue_expiring(30 * 86400 + 600);
	cr_assert_str_empty(run("svc", tl_user(), tok).errors);
	fx_service(&fx, "long", "auth required @MOD@ config=@CFG@ "
	    "warn_expiry=5w\n");
	cr_assert(strstr(run("long", tl_user(), tok).errors,
	    "expires in 30 days") != NULL);
	issue_expiring(5 * 3600 + 60);
	cr_assert(strstr(run("svc", tl_user(), tok).errors,
	    "expires in 5 hours") != NULL);
	/* a bad value fails closed like any bad option */
	fx_service(&fx, "bad", "auth required @MOD@ config=@CFG@ "
	    "warn_expiry=soon\n");
	assert_pam(run("bad", tl_user(), tok).auth_rc, PAM_SERVICE_ERR);
}

/* Replace the first "from" in s (of size cap) by "to". */
static void
replace_in(char *s, size_t cap, const char *from, const char *to)
{
	char *p = strstr(s, from);
	size_t fl = strlen(from), tl = strlen(to);

	if (p == NULL)
		return;
	cr_assert(strlen(s) - fl + tl < cap);
	memmove(p + tl, p + fl, strlen(p + fl) + 1);
	memcpy(p, to, tl);
}

/* One pam.d line for a test service: the module by path, with the
 * fixture's config; pam-auth-update's "end" becomes "done". */
static size_t
test_line(char *out, size_t outlen, const char *type, const char *line)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s %s", type, line + strspn(line, " \t"));
	replace_in(buf, sizeof(buf), "success=end", "success=done");
	replace_in(buf, sizeof(buf), "pam_apitoken.so",
	    "@MOD@ config=@CFG@");
	return (size_t)snprintf(out, outlen, "%s", buf);
}

/* The lines of type ("auth", "account") naming pam_apitoken.so in a
 * shipped pam.d example. */
static void
shipped_lines(const char *file, const char *type, char *out, size_t outlen)
{
	char path[512], line[512];
	size_t o = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", SRC_DIR, file);
	f = fopen(path, "r");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, type, strlen(type)) != 0 ||
		    strstr(line, "pam_apitoken.so") == NULL)
			continue;
		o += test_line(out + o, outlen - o, "", line);
		cr_assert(o < outlen);
	}
	fclose(f);
}

/* The pam-auth-update profile: the pam_apitoken.so lines of a section
 * ("Auth-Initial:", "Account:"), as lines of type. */
static void
profile_lines(const char *section, const char *type, char *out,
    size_t outlen)
{
	char path[512], line[512];
	size_t o = 0;
	int in = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/debian/pam-configs/apitoken",
	    SRC_DIR);
	f = fopen(path, "r");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] != '\t' && line[0] != ' ') {
			in = strncmp(line, section, strlen(section)) == 0;
			continue;
		}
		if (!in || strstr(line, "pam_apitoken.so") == NULL)
			continue;
		o += test_line(out + o, outlen - o, type, line);
		cr_assert(o < outlen);
	}
	fclose(f);
	cr_assert(out[0] != '\0', "no %s line with pam_apitoken.so", section);
}

/*
 * issue 14 item 19: with the shipped token-or-password stacks, a password
 * goes on to the next module (pam_get_items.so stands in for pam_unix)
 * and a refused token does not: the stack ends there.
 */
static void
assert_token_stops_password_goes_on(const char *auth_line)
{
	char text[2048];
	struct pam_run r;

	snprintf(text, sizeof(text), "%sauth required @GET@\n"
	    "account required pam_permit.so\n", auth_line);
	fx_service(&fx, "either", text);
	r = run("either", tl_user(), "hunter2");
	cr_assert(r.items_seen, "a password did not reach the next module "
	    "(%s):\n%s", pamstr(r.auth_rc), auth_line);
	r = run("either", tl_user(), tok);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	fx_set_status(&fx, id, APITOKEN_REVOKED);
	r = run("either", tl_user(), tok);
	cr_assert(r.auth_rc != PAM_SUCCESS);
	cr_assert(!r.items_seen, "a refused token went on to the next "
	    "module:\n%s", auth_line);
	r = run("either", tl_other_user(), tok);
	cr_assert(!r.items_seen, "another user's token went on:\n%s",
	    auth_line);
}

Test(review, refused_token_ends_the_shipped_stack)
{
	char lines[1024];

	shipped_lines("conf/pam.d/sshd-token-or-password", "auth", lines,
	    sizeof(lines));
	cr_assert(lines[0] != '\0');
	assert_token_stops_password_goes_on(lines);
}

Test(review, refused_token_ends_the_profile_stack)
{
	char lines[1024];

	profile_lines("Auth-Initial:", "auth", lines, sizeof(lines));
	assert_token_stops_password_goes_on(lines);
}

/* issue 14 item 15: an account line that outlives the module (package
 * removed, common-account locally edited) must not lock everyone out */
static void
assert_account_line_tolerates_missing_module(const char *lines,
    const char *file)
{
	char text[2048], *p, *q;
	struct pam_run r;

	cr_assert(lines[0] != '\0', "%s: no account line", file);
	/* the module by a path that does not exist */
	snprintf(text, sizeof(text), "auth required pam_permit.so\n%s"
	    "account required pam_permit.so\n", lines);
	while ((p = strstr(text, "@MOD@")) != NULL) {
		q = p + 5;
		memmove(p + 30, q, strlen(q) + 1);
		memcpy(p, "/nonexistent/pam_apitoken.so  ", 30);
	}
	fx_service(&fx, "missing", text);
	memset(&r, 0, sizeof(r));
	r.account = 1;
	run_pam(&fx, "missing", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert(r.acct_rc == PAM_SUCCESS, "%s: account with the module "
	    "missing: %s", file, pamstr(r.acct_rc));
}

Test(review, account_line_tolerates_a_missing_module)
{
	static const char *const files[] = { "conf/pam.d/sshd-token-only",
	    "conf/pam.d/sshd-token-or-password", "conf/pam.d/sudo-token-only" };
	char lines[1024];
	size_t i;

	profile_lines("Account:", "account", lines, sizeof(lines));
	assert_account_line_tolerates_missing_module(lines, "profile");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		shipped_lines(files[i], "account", lines, sizeof(lines));
		assert_account_line_tolerates_missing_module(lines, files[i]);
	}
}

static int
lastuse_when(void)
{
	struct apitoken_lastuse lu;

	memset(&lu, 0, sizeof(lu));
	cr_assert(apitoken_lastuse_get(fx.cfg, id, &lu, NULL, 0) == 0);
	return lu.when != 0;
}

/* issue 14 item 18: nothing published by a stack that failed later */
Test(review, failed_stack_publishes_nothing)
{
	struct pam_run r;

	fx_service(&fx, "later", "auth required @MOD@ config=@CFG@\n"
	    "auth required pam_deny.so\n");
	r = run("later", tl_user(), tok);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert_str_empty(r.env_id, "APITOKEN_ID=%s after a failed stack",
	    r.env_id);
	cr_assert(!lastuse_when(), "last use recorded for a failed stack");
	/* auth alone succeeded, setcred not (yet) called: not published */
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.no_setcred = 1;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	cr_assert_str_empty(r.env_id);
	cr_assert(!lastuse_when());
	/* setcred: published, last use recorded */
	r = run("svc", tl_user(), tok);
	assert_pam(r.setcred_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.env_id, id);
	cr_assert_str_eq(r.env_label, "laptop");
	cr_assert(lastuse_when());
}

/* issue 14 item 17: the module, last in the session stack, puts its own
 * values back over what pam_env read from a file the user controls */
Test(review, session_reasserts_the_token_variables)
{
	char envfile[300], text[1024];
	struct pam_run r;
	FILE *f;

	snprintf(envfile, sizeof(envfile), "%s/user-env", fx.dir);
	f = fopen(envfile, "w");
	cr_assert(f != NULL);
	fputs("APITOKEN_ID=AAAAAAAAAAAA\nAPITOKEN_LABEL=forged\n", f);
	cr_assert(fclose(f) == 0);
	snprintf(text, sizeof(text), "auth required @MOD@ config=@CFG@\n"
	    "session required pam_env.so readenv=1 envfile=%s "
	    "conffile=/dev/null\n"
	    "session required @MOD@ config=@CFG@\n", envfile);
	fx_service(&fx, "sess", text);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.session = 1;
	run_pam(&fx, "sess", tl_user(), &r);
	assert_pam(r.session_rc, PAM_SUCCESS);
	cr_assert_str_eq(r.env_id, id);
	cr_assert_str_eq(r.env_label, "laptop");
	/* not a token login: no token variables at all */
	snprintf(text, sizeof(text), "auth required pam_permit.so\n"
	    "session required pam_env.so readenv=1 envfile=%s "
	    "conffile=/dev/null\n"
	    "session required @MOD@ config=@CFG@\n", envfile);
	fx_service(&fx, "pw", text);
	memset(&r, 0, sizeof(r));
	r.session = 1;
	run_pam(&fx, "pw", tl_user(), &r);
	assert_pam(r.session_rc, PAM_SUCCESS);
	cr_assert_str_empty(r.env_id, "a password login kept APITOKEN_ID=%s",
	    r.env_id);
}

/* ...and the shipped examples are built that way */
Test(review, examples_end_the_session_stack_with_the_module)
{
	static const char *const files[] = { "sshd-token-only",
	    "sshd-token-or-password", "sudo-token-only" };
	char path[512], line[512], last[512];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/conf/pam.d/%s", SRC_DIR,
		    files[i]);
		f = fopen(path, "r");
		cr_assert(f != NULL, "%s", path);
		last[0] = '\0';
		while (fgets(line, sizeof(line), f) != NULL) {
			cr_assert(line[0] == '#' ||
			    strstr(line, "user_readenv=1") == NULL,
			    "%s: %s", files[i], line);
			if (strncmp(line, "session", 7) == 0 ||
			    strstr(line, "common-session") != NULL)
				snprintf(last, sizeof(last), "%s", line);
		}
		fclose(f);
		cr_assert(strstr(last, "pam_apitoken.so") != NULL,
		    "%s: last session line is \"%s\"", files[i], last);
	}
}
