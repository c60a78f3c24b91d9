/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rules.c - the store-wide rules as tokenctl meets them, now that
 * the library's transaction owns them: an expiry edit caps the tokens
 * derived from the token (issue 14 item 7), an import cannot bring a
 * revoked token back (issue 14 item 1), a rotation may outlive the token
 * it replaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(rules, .init = setup_env, .fini = teardown_env);

static void
ok(struct run *r, const char *what)
{
	cr_assert_eq(r->status, 0, "%s: exit %d: %s", what, r->status,
	    r->err);
	run_free(r);
}

static char *
field(const char *id, const char *key)
{
	json_t *j = show_json(id);
	char *v = strdup(jget(j, key));

	json_decref(j);
	return v;
}

/* Shortening a parent's expiry caps its descendants, at any depth. */
Test(rules, edit_expires_caps_the_derived_tokens)
{
	char *p, *c, *g, pid[13], cid[13], gid[13], *pe, *ce, *ge;
	struct run r;

	p = issue_token("root", "p", "--expires", "30d", NULL);
	token_id(p, pid);
	c = issue_token("root", "c", "--parent", pid, "--expires", "20d",
	    NULL);
	token_id(c, cid);
	g = issue_token("root", "g", "--parent", cid, "--expires", "2d",
	    NULL);
	token_id(g, gid);
	ctl(&r, NULL, "edit", pid, "--expires", "10d", NULL);
	cr_assert_not_null(strstr(r.err, cid), "a note names %s: %s", cid,
	    r.err);
	cr_assert_null(strstr(r.err, gid), "%s expired earlier: %s", gid,
	    r.err);
	ok(&r, "edit parent");
	pe = field(pid, "expires");
	ce = field(cid, "expires");
	ge = field(gid, "expires");
	cr_assert_str_eq(ce, pe, "child capped to its parent's expiry");
	cr_assert_str_neq(ge, pe, "grandchild kept its earlier expiry");
	/* the other order: the child cannot be moved past its parent */
	ctl(&r, NULL, "edit", cid, "--expires", "15d", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "cannot outlive"), "%s", r.err);
	run_free(&r);
	free(pe);
	free(ce);
	free(ge);
	free(p);
	free(c);
	free(g);
}

/* export; revoke; import --replace of the old export: still revoked. */
Test(rules, import_replace_cannot_resurrect_a_revoked_token)
{
	char *t, id[13], *old, *st;
	struct run r;

	t = issue_token("root", "leaky", NULL);
	token_id(t, id);
	ctl(&r, NULL, "export", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	old = strdup(r.out);
	run_free(&r);
	ctl(&r, NULL, "revoke", id, "--reason", "leaked", NULL);
	ok(&r, "revoke");
	ctl(&r, old, "import", "--replace", "-", NULL);
	cr_assert_eq(r.status, 1, "import must refuse: %s", r.err);
	cr_assert_not_null(strstr(r.err, id), "names the id: %s", r.err);
	cr_assert_not_null(strstr(r.err, "revoked"), "%s", r.err);
	run_free(&r);
	st = field(id, "status");
	cr_assert_str_eq(st, "revoked");
	free(st);
	free(old);
	free(t);
}

/* The successor of a rotation answers to the old token's ancestors, not
 * to the old token: it may be given a later expiry. */
Test(rules, rotate_may_outlive_the_rotated_token)
{
	char *t, id[13], nid[13], *st;
	struct run r;

	t = issue_token("root", "rot", "--expires", "2d", NULL);
	token_id(t, id);
	ctl(&r, NULL, "rotate", id, "--expires", "30d", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	token_id(r.out, nid);
	run_free(&r);
	st = field(id, "revoke_reason");
	cr_assert_not_null(strstr(st, nid), "reason names %s: %s", nid, st);
	free(st);
	st = field(nid, "parent");
	cr_assert_str_eq(st, id);
	free(st);
	free(t);
}
