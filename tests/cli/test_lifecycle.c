/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lifecycle.c - tokenctl edit, disable, enable, revoke (cascade,
 * --user, --token-stdin), rotate, delete and prune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(lifecycle, .init = setup_env, .fini = teardown_env);

static void
ok(const char *verb, const char *arg)
{
	struct run r;

	ctl(&r, NULL, verb, arg, NULL);
	cr_assert_eq(r.status, 0, "%s %s: %s", verb, arg, r.err);
	run_free(&r);
}

static void
status_is(const char *id, const char *want)
{
	json_t *j = show_json(id);

	cr_assert_str_eq(jget(j, "status"), want, "%s", id);
	json_decref(j);
}

/* verify token as user root; returns exit status, stderr in *why. */
static int
verify(const char *token, const char *extra1, const char *extra2,
    char **why)
{
	struct run r;
	char in[256];
	int st;

	snprintf(in, sizeof(in), "%s\n", token);
	ctl(&r, in, "verify", "--user", "root", extra1, extra2, NULL);
	st = r.status;
	if (why != NULL)
		*why = strdup(r.err);
	run_free(&r);
	return st;
}

/* ------------------------------------------------------------ edit */

Test(lifecycle, edit_changes_each_field)
{
	struct run r;
	char *t, id[13];
	json_t *j;

	t = issue_token("root", "before", "--service", "sshd", "--from",
	    "10.0.0.0/8", NULL);
	token_id(t, id);
	ctl(&r, NULL, "edit", id, "--label", "after", "--description", "new d",
	    "--external-id", "EXT-9", "--service", "sudo", "--service", "login",
	    "--from", "192.168.1.0/24", "--expires", "2d", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	j = show_json(id);
	cr_assert_str_eq(jget(j, "label"), "after");
	cr_assert_str_eq(jget(j, "description"), "new d");
	cr_assert_str_eq(jget(j, "external_id"), "EXT-9");
	cr_assert_eq(json_array_size(json_object_get(j, "services")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j,
	    "services"), 0)), "sudo");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j,
	    "from"), 0)), "192.168.1.0/24");
	json_decref(j);
	/* the secret is unchanged: the token still verifies */
	cr_assert_eq(verify(t, "--service", "sudo", NULL), 1);	/* no rhost */
	ctl(&r, NULL, "edit", id, "--service", "all", "--from", "any",
	    "--description", "", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	j = show_json(id);
	cr_assert_eq(json_array_size(json_object_get(j, "services")), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "from")), 0);
	cr_assert_str_eq(jget(j, "description"), "");
	json_decref(j);
	cr_assert_eq(verify(t, "--service", "sudo", NULL), 0);
	free(t);
}

Test(lifecycle, edit_failures)
{
	struct run r;
	char *t, id[13];

	free(issue_token("root", "other", NULL));
	t = issue_token("root", "mine", NULL);
	token_id(t, id);
	ctl(&r, NULL, "edit", id, "--label", "other", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "already has a token labelled"));
	run_free(&r);
	ctl(&r, NULL, "edit", id, "--expires", "tomorrowish", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "edit", id, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "nothing to change"));
	run_free(&r);
	ctl(&r, NULL, "edit", "BBBBBBBBBBBB", "--label", "x", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	ok("revoke", id);
	ctl(&r, NULL, "edit", id, "--label", "x", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "revoked"));
	run_free(&r);
	free(t);
}

/* --------------------------------------------------- disable/enable */

Test(lifecycle, disable_and_enable)
{
	struct run r;
	char *t, id[13], *why;

	t = issue_token("root", "de", NULL);
	token_id(t, id);
	cr_assert_eq(verify(t, NULL, NULL, NULL), 0);
	ok("disable", id);
	status_is(id, "disabled");
	cr_assert_eq(verify(t, NULL, NULL, &why), 1);
	cr_assert_not_null(strstr(why, "disabled"), "%s", why);
	free(why);
	ok("disable", id);	/* idempotent */
	ok("enable", id);
	status_is(id, "active");
	cr_assert_eq(verify(t, NULL, NULL, NULL), 0);
	ctl(&r, NULL, "disable", "CCCCCCCCCCCC", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(t);
}

Test(lifecycle, revoked_token_cannot_be_enabled)
{
	struct run r;
	char *t, id[13], *before, *after;

	t = issue_token("root", "gone", NULL);
	token_id(t, id);
	ok("revoke", id);
	before = tl_read_file(E.store, NULL);
	ctl(&r, NULL, "enable", id, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "cannot be enabled"), "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "disable", id, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after);
	status_is(id, "revoked");
	free(before);
	free(after);
	free(t);
}

/* ------------------------------------------------------------ revoke */

Test(lifecycle, revoke_records_reason_and_refuses_token)
{
	struct run r;
	char *t, id[13], *why;
	json_t *j;

	t = issue_token("root", "r", NULL);
	token_id(t, id);
	ctl(&r, NULL, "revoke", id, "--reason", "laptop stolen", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	j = show_json(id);
	cr_assert_str_eq(jget(j, "status"), "revoked");
	cr_assert_str_eq(jget(j, "revoke_reason"), "laptop stolen");
	cr_assert_not_null(jget(j, "revoked_at"));
	json_decref(j);
	cr_assert_eq(verify(t, NULL, NULL, &why), 1);
	cr_assert_not_null(strstr(why, "revoked"), "%s", why);
	free(why);
	ctl(&r, NULL, "revoke", "DDDDDDDDDDDD", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	ctl(&r, NULL, "revoke", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "revoke", id, "--user", "root", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	free(t);
}

Test(lifecycle, revoke_cascades_to_derived_tokens)
{
	struct run r;
	char *a, *b, *c, *d, *x, ia[13], ib[13], ic[13], id[13], ix[13];
	char want[64];
	json_t *j;

	a = issue_token("root", "A", NULL);
	token_id(a, ia);
	b = issue_token("root", "B", "--parent", ia, NULL);
	token_id(b, ib);
	c = issue_token("nobody", "C", "--parent", ib, NULL);
	token_id(c, ic);
	d = issue_token("root", "D", "--parent", ia, NULL);
	token_id(d, id);
	x = issue_token("root", "X", NULL);
	token_id(x, ix);
	ok("disable", ic);
	ctl(&r, NULL, "revoke", ia, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 4, "%s", r.out);
	run_free(&r);
	status_is(ia, "revoked");
	status_is(ib, "revoked");
	status_is(ic, "revoked");
	status_is(id, "revoked");
	status_is(ix, "active");
	j = show_json(ic);
	snprintf(want, sizeof(want), "derived from revoked token %s", ia);
	cr_assert_str_eq(jget(j, "revoke_reason"), want);
	json_decref(j);
	cr_assert_eq(verify(b, NULL, NULL, NULL), 1);
	cr_assert_eq(verify(d, NULL, NULL, NULL), 1);
	cr_assert_eq(verify(x, NULL, NULL, NULL), 0);
	/* a revoked token cannot be a parent */
	ctl(&r, NULL, "issue", "root", "--label", "E", "--parent", ia, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(a); free(b); free(c); free(d); free(x);
}

Test(lifecycle, revoke_user_revokes_only_that_user)
{
	struct run r;
	char *a, *b, *c, ia[13], ib[13], ic[13];

	a = issue_token("nobody", "1", NULL);
	b = issue_token("nobody", "2", NULL);
	c = issue_token("root", "3", NULL);
	token_id(a, ia); token_id(b, ib); token_id(c, ic);
	ctl(&r, NULL, "revoke", "--user", "nobody", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 2, "%s", r.out);
	run_free(&r);
	status_is(ia, "revoked");
	status_is(ib, "revoked");
	status_is(ic, "active");
	ctl(&r, NULL, "revoke", "--user", "nobody", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(a); free(b); free(c);
}

Test(lifecycle, revoke_token_stdin)
{
	struct run r;
	char *t, id[13], in[256], *forged, *before, *after;

	t = issue_token("root", "leaked", NULL);
	token_id(t, id);
	forged = forge_secret(t);
	snprintf(in, sizeof(in), "Bearer %s\n", forged);
	before = tl_read_file(E.store, NULL);
	ctl(&r, in, "revoke", "--token-stdin", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "does not match"), "%s", r.err);
	run_free(&r);
	ctl(&r, "not a token\n", "revoke", "--token-stdin", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after);
	status_is(id, "active");
	snprintf(in, sizeof(in), "ApiKey %s\n", t);
	ctl(&r, in, "revoke", "--token-stdin", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, strrchr(t, '_') + 1));
	cr_assert_null(strstr(r.err, strrchr(t, '_') + 1));
	run_free(&r);
	status_is(id, "revoked");
	free(forged); free(before); free(after); free(t);
}

/* ------------------------------------------------------------ rotate */

Test(lifecycle, rotate_replaces_secret_keeps_metadata)
{
	struct run r;
	char *old, oid[13], nid[13], *newt, *why, *c, cid[13];
	json_t *oj, *nj;

	old = issue_token("root", "rot", "--description", "dd",
	    "--external-id", "E1", "--service", "sshd", "--expires", "20d",
	    NULL);
	token_id(old, oid);
	c = issue_token("root", "child", "--parent", oid, NULL);
	token_id(c, cid);
	cr_assert_eq(verify(old, "--service", "sshd", NULL), 0);
	ctl(&r, NULL, "rotate", oid, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 1, "stdout must be the token only: "
	    "%s", r.out);
	r.out[r.outlen - 1] = '\0';
	newt = strdup(r.out);
	run_free(&r);
	token_id(newt, nid);
	cr_assert_str_neq(nid, oid);
	cr_assert_eq(verify(old, "--service", "sshd", &why), 1);
	cr_assert_not_null(strstr(why, "revoked"), "%s", why);
	free(why);
	cr_assert_eq(verify(newt, "--service", "sshd", NULL), 0);
	cr_assert_eq(verify(c, "--service", "sshd", NULL), 1);	/* cascade */
	oj = show_json(oid);
	nj = show_json(nid);
	cr_assert_str_eq(jget(oj, "status"), "revoked");
	cr_assert_not_null(strstr(jget(oj, "revoke_reason"), "rotated"));
	cr_assert_str_eq(jget(nj, "parent"), oid);
	cr_assert_str_eq(jget(nj, "label"), "rot");
	cr_assert_str_eq(jget(nj, "description"), "dd");
	cr_assert_str_eq(jget(nj, "external_id"), "E1");
	cr_assert_str_eq(jget(nj, "user"), "root");
	cr_assert_str_eq(jget(nj, "expires"), jget(oj, "expires"));
	cr_assert(json_equal(json_object_get(nj, "services"),
	    json_object_get(oj, "services")));
	json_decref(oj);
	json_decref(nj);
	status_is(cid, "revoked");
	ctl(&r, NULL, "rotate", oid, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	free(old); free(newt); free(c);
}

Test(lifecycle, rotate_json_and_unknown)
{
	struct run r;
	char *t, id[13], nid[13];
	json_t *j;

	t = issue_token("nobody", "rj", NULL);
	token_id(t, id);
	ctl(&r, NULL, "rotate", id, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = out_json(&r);
	cr_assert_not_null(jget(j, "id"));
	cr_assert_not_null(jget(j, "token"));
	token_id(jget(j, "token"), nid);
	cr_assert_str_eq(nid, jget(j, "id"));
	cr_assert_str_eq(jget(j, "replaces"), id);
	json_decref(j);
	run_free(&r);
	ctl(&r, NULL, "rotate", "EEEEEEEEEEEE", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(t);
}

/* ------------------------------------------------------ delete/prune */

static char *
lastuse_path(const char *id)
{
	char *p;

	cr_assert(asprintf(&p, "%s/lastuse/%s", E.state, id) > 0);
	return p;
}

static void
record_use(const char *id)
{
	struct apitoken_config *cfg;
	char err[256] = "";
	char *p;
	struct stat st;

	cr_assert_eq(apitoken_config_load(E.cfg, &cfg, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(apitoken_lastuse_record(cfg, id, "sshd", "10.0.0.1",
	    time(NULL), 0, err, sizeof(err)), 0, "%s", err);
	apitoken_config_free(cfg);
	p = lastuse_path(id);
	cr_assert_eq(stat(p, &st), 0, "no last-use file %s", p);
	free(p);
}

static int
exists(const char *id)
{
	struct stat st;
	char *p = lastuse_path(id);
	int e = stat(p, &st) == 0;

	free(p);
	return e;
}

Test(lifecycle, delete_removes_record_and_lastuse)
{
	struct run r;
	char *t, id[13], *c, cid[13];

	t = issue_token("root", "del", NULL);
	token_id(t, id);
	c = issue_token("root", "delchild", "--parent", id, NULL);
	token_id(c, cid);
	record_use(id);
	ok("delete", id);
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	cr_assert(!exists(id));
	cr_assert_eq(verify(t, NULL, NULL, NULL), 1);
	status_is(cid, "revoked");
	ctl(&r, NULL, "delete", id, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(t);
	free(c);
}

Test(lifecycle, prune_drops_revoked_and_expired_only)
{
	struct run r;
	char *a, *b, *c, ia[13], ib[13], ic[13];

	a = issue_token("root", "keep", NULL);
	b = issue_token("root", "revoked", NULL);
	c = issue_token("root", "expiring", "--expires", "1s", NULL);
	token_id(a, ia); token_id(b, ib); token_id(c, ic);
	record_use(ib);
	record_use(ic);
	ok("revoke", ib);
	sleep(2);
	ctl(&r, NULL, "prune", "--older-than", "30d", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");	/* nothing that old */
	run_free(&r);
	ctl(&r, NULL, "prune", "--older-than", "whenever", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "prune", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 2, "%s", r.out);
	run_free(&r);
	status_is(ia, "active");
	ctl(&r, NULL, "show", ib, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	ctl(&r, NULL, "show", ic, NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	cr_assert(!exists(ib));
	cr_assert(!exists(ic));
	free(a); free(b); free(c);
}
