/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_doctor.c - tokenctl doctor against real files: a healthy setup
 * exits 0, each problem it knows is reported with a fix and exits 1, the
 * JSON form counts the same, and nothing is changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(doctor, .init = setup_env, .fini = teardown_env);

static char pamdir[300];

/* A PAM service file NAME in the test's pam.d, %C = the config path. */
static void
pam_file(const char *name, const char *text)
{
	char path[400], buf[2048];
	const char *p;
	size_t n = 0;

	snprintf(pamdir, sizeof(pamdir), "%s/pam.d", E.dir);
	mkdir(pamdir, 0755);
	for (p = text; *p != '\0' && n + 300 < sizeof(buf); p++) {
		if (p[0] == '%' && p[1] == 'C') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
			    E.cfg);
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", pamdir, name);
	tl_write_str(path, buf, 0644);
}

static const char good_stack[] =
    "auth sufficient pam_apitoken.so config=%C\n"
    "auth required pam_deny.so\n"
    "account required pam_apitoken.so config=%C\n";

static void
doctor(struct run *r, int json)
{
	ctl(r, NULL, "doctor", "--pam-dir", pamdir, json ? "--json" : NULL,
	    NULL);
}

Test(doctor, healthy_setup_is_all_well)
{
	struct run r;
	char *tok;

	pam_file("sshd", good_stack);
	tok = issue_token("root", "far", "--expires", "30d", NULL);
	free(tok);
	doctor(&r, 0);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "doctor: all is well"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "1 record, parses"), "%s", r.out);
	cr_assert_null(strstr(r.out, "warn "), "%s", r.out);
	run_free(&r);
}

Test(doctor, world_readable_store_is_a_problem)
{
	struct run r;
	char dir[300];

	pam_file("sshd", good_stack);
	snprintf(dir, sizeof(dir), "%s/db", E.dir);
	cr_assert_eq(chmod(E.store, 0644), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "readable by everyone"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "fix: chmod 0600"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "directory is open to others"), "%s",
	    r.out);
	run_free(&r);
}

Test(doctor, bad_module_option_names_file_and_line)
{
	struct run r;
	char want[400];

	pam_file("sshd", "# a comment\n\nauth sufficient pam_apitoken.so "
	    "config=%C use_frist_pass\naccount required pam_apitoken.so "
	    "config=%C\n");
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	snprintf(want, sizeof(want), "error  %s/sshd:3: unknown option "
	    "\"use_frist_pass\"", pamdir);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	run_free(&r);
}

Test(doctor, stack_order_and_account_line)
{
	struct run r;

	pam_file("login", "auth required pam_apitoken.so use_first_pass "
	    "config=%C\nsession optional pam_apitoken.so config=%C\n"
	    "session required pam_env.so\n");
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "no account line"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "login:1: use_first_pass"), "%s",
	    r.out);
	cr_assert_not_null(strstr(r.out, "login:2: not the last session"),
	    "%s", r.out);
	run_free(&r);
}

Test(doctor, account_line_in_an_included_file_counts)
{
	struct run r;

	pam_file("common-account", "account required pam_apitoken.so "
	    "config=%C\n");
	pam_file("sshd", "auth sufficient pam_apitoken.so config=%C\n"
	    "@include common-account\n");
	doctor(&r, 0);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	run_free(&r);
}

Test(doctor, expiring_token_is_named)
{
	struct run r;
	char *tok, id[13], want[64];

	pam_file("sshd", good_stack);
	tok = issue_token("root", "soon", "--expires", "3d", NULL);
	token_id(tok, id);
	free(tok);
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	snprintf(want, sizeof(want), "warn   %s: token of root", id);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	run_free(&r);
}

Test(doctor, service_alias_trap)
{
	struct run r;
	char *tok;

	env_clean(&E);
	env_init(&E, "service_aliases:\n  sudo: [sudo-i]\n");
	pam_file("su-l", good_stack);
	tok = issue_token("root", "su", "--service", "su", NULL);
	free(tok);
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "tokens allowed service 'su' are "
	    "refused by PAM service 'su-l'"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"su: [su-l]\" under "
	    "service_aliases"), "%s", r.out);
	run_free(&r);
}

Test(doctor, missing_store_says_init)
{
	struct run r;

	pam_file("sshd", good_stack);
	cr_assert_eq(unlink(E.store), 0);
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "fix: run tokenctl init"), "%s",
	    r.out);
	run_free(&r);
}

Test(doctor, no_service_uses_the_module)
{
	struct run r;

	pam_file("other", "auth required pam_deny.so\n");
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "no PAM service uses"), "%s", r.out);
	run_free(&r);
}

Test(doctor, json_counts_the_problems)
{
	struct run r;
	json_t *j, *checks;
	size_t i, bad = 0;

	pam_file("login", "auth required pam_apitoken.so use_first_pass "
	    "config=%C\n");
	doctor(&r, 1);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	j = out_json(&r);
	checks = json_object_get(j, "checks");
	cr_assert(json_is_array(checks));
	for (i = 0; i < json_array_size(checks); i++) {
		const char *lv = jget(json_array_get(checks, i), "level");

		cr_assert(lv != NULL && (strcmp(lv, "ok") == 0 ||
		    strcmp(lv, "warn") == 0 || strcmp(lv, "error") == 0));
		if (strcmp(lv, "ok") != 0)
			bad++;
	}
	cr_assert_eq(bad, 2);
	cr_assert_eq(json_integer_value(json_object_get(j, "problems")), 2);
	cr_assert(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	run_free(&r);
}

Test(doctor, changes_nothing)
{
	struct run r;
	struct stat a, b;
	char *before, *after, *tok;
	size_t la, lb;

	pam_file("sshd", good_stack);
	tok = issue_token("root", "x", NULL);
	free(tok);
	cr_assert_eq(chmod(E.store, 0644), 0);
	cr_assert_eq(stat(E.store, &a), 0);
	before = tl_read_file(E.store, &la);
	doctor(&r, 0);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_eq(stat(E.store, &b), 0);
	after = tl_read_file(E.store, &lb);
	cr_assert_eq(a.st_mode, b.st_mode);
	cr_assert_eq(a.st_mtime, b.st_mtime);
	cr_assert(la == lb && memcmp(before, after, la) == 0);
	free(before);
	free(after);
	run_free(&r);
}
