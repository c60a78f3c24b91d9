/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_transfer.c - tokenctl export and import: text and JSON forms,
 * round trips between stores, and all-or-nothing refusal of bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(transfer, .init = setup_env, .fini = teardown_env);

static char *tokens[3];

static void
populate(void)
{
	char id[13];
	struct run r;

	tokens[0] = issue_token("root", "one", "--service", "sshd",
	    "--from", "10.0.0.0/8", "--description", "back\\slash, comma \xc3\xa9", NULL);
	tokens[1] = issue_token("nobody", "two, with comma", NULL);
	token_id(tokens[0], id);
	tokens[2] = issue_token("root", "three", "--parent", id, NULL);
	token_id(tokens[1], id);
	ctl(&r, NULL, "revoke", id, "--reason", "test", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
}

static void
unpopulate(void)
{
	for (int i = 0; i < 3; i++)
		free(tokens[i]);
}

static char *
export(struct env *e, const char *fmt)
{
	struct run r;
	char *s;

	ctl_env(e, &r, NULL, "export", fmt, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	s = strdup(r.out);
	run_free(&r);
	return s;
}

Test(transfer, text_export_is_the_store_form_without_secrets)
{
	char *x;
	size_t i;

	populate();
	x = export(&E, NULL);
	cr_assert_eq(strncmp(x, apitoken_store_header(),
	    strlen(apitoken_store_header())), 0, "%s", x);
	cr_assert_not_null(strstr(x, "\n#end\n"));
	cr_assert_eq(tl_count_lines(x), 5, "%s", x);
	cr_assert_not_null(strstr(x, "sha256$"));
	for (i = 0; i < 3; i++)
		cr_assert_null(strstr(x, strrchr(tokens[i], '_') + 1),
		    "secret %zu exported", i);
	free(x);
	unpopulate();
}

Test(transfer, text_round_trip_is_byte_identical)
{
	struct env e2 = { .sudo_user = NULL };
	struct run r;
	char *x, *y, in[256], id[13], idl[16];

	populate();
	x = export(&E, NULL);
	env_init(&e2, NULL);
	ctl_env(&e2, &r, x, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "3 added"), "%s", r.out);
	run_free(&r);
	y = export(&e2, NULL);
	cr_assert_str_eq(x, y);
	/* the hashes moved: the token verifies on the new host */
	snprintf(in, sizeof(in), "%s\n", tokens[0]);
	token_id(tokens[0], id);
	snprintf(idl, sizeof(idl), "%s\n", id);
	ctl_env(&e2, &r, in, "verify", "--user", "root", "--service", "sshd",
	    "--rhost", "10.0.0.1", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, idl);
	run_free(&r);
	/* importing the same again changes nothing */
	ctl_env(&e2, &r, x, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "3 unchanged"), "%s", r.out);
	run_free(&r);
	free(x);
	free(y);
	env_clean(&e2);
	unpopulate();
}

Test(transfer, json_round_trip)
{
	struct env e2 = { .sudo_user = NULL };
	struct run r;
	char *j1, *t1, *t2, path[320];
	json_t *j, *recs, *o;
	size_t i;

	populate();
	j1 = export(&E, "--json");
	j = json_loads(j1, 0, NULL);
	cr_assert_not_null(j, "%s", j1);
	cr_assert_eq(json_integer_value(json_object_get(j, "version")), 1);
	recs = json_object_get(j, "records");
	cr_assert_eq(json_array_size(recs), 3);
	json_array_foreach(recs, i, o) {
		cr_assert_not_null(jget(o, "id"));
		cr_assert_eq(strncmp(jget(o, "hash"), "sha256$", 7), 0);
		cr_assert_not_null(jget(o, "status"));
	}
	json_decref(j);
	env_init(&e2, NULL);
	snprintf(path, sizeof(path), "%s/export.json", e2.dir);
	tl_write_str(path, j1, 0644);
	ctl_env(&e2, &r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	t1 = export(&E, NULL);
	t2 = export(&e2, NULL);
	cr_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	free(j1);
	env_clean(&e2);
	unpopulate();
}

/* Import input into E; expect failure with needle; store unchanged. */
static void
import_fails_in(struct env *e, const char *input, const char *needle,
    const char *opt)
{
	struct run r;
	char *before = tl_read_file(e->store, NULL), *after;

	ctl_env(e, &r, input, "import", opt != NULL ? opt : "-",
	    opt != NULL ? "-" : NULL, NULL);
	cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s': %s",
	    needle, r.err);
	after = tl_read_file(e->store, NULL);
	cr_assert_str_eq(before, after, "the store changed");
	free(before);
	free(after);
	run_free(&r);
}

static void
import_fails(const char *input, const char *needle, const char *opt)
{
	import_fails_in(&E, input, needle, opt);
}

/* Replace line n (1-based) of s with repl. */
static char *
with_line(const char *s, int n, const char *repl)
{
	char *out = calloc(1, strlen(s) + strlen(repl) + 2);
	const char *p = s, *nl;
	int i;

	for (i = 1; *p != '\0'; i++) {
		nl = strchr(p, '\n');
		if (i == n) {
			strcat(out, repl);
			strcat(out, "\n");
		} else {
			strncat(out, p, (size_t)(nl - p + 1));
		}
		p = nl + 1;
	}
	return out;
}

Test(transfer, import_rejects_malformed_input_and_writes_nothing)
{
	struct env src = { .sudo_user = NULL };
	struct env *saved;
	char *x, *bad, *line3, *p;

	/* build an export from another store, then import into E */
	saved = malloc(sizeof(*saved));
	memcpy(saved, &E, sizeof(E));
	env_init(&E, NULL);
	populate();
	x = export(&E, NULL);
	memcpy(&src, &E, sizeof(E));
	memcpy(&E, saved, sizeof(E));
	free(saved);
	free(issue_token("root", "local", NULL));

	bad = with_line(x, 3, "garbage\tline");
	import_fails(bad, "<stdin>:3:", NULL);
	free(bad);
	/* a record with a broken hash */
	line3 = strdup(strchr(strchr(x, '\n') + 1, '\n') + 1);
	*strchr(line3, '\n') = '\0';
	p = strstr(line3, "sha256$");
	p[7] = 'Z';
	bad = with_line(x, 3, line3);
	import_fails(bad, "<stdin>:3:", NULL);
	free(bad);
	free(line3);
	bad = with_line(x, 1, "#apitoken-store\tv9");
	import_fails(bad, "<stdin>:1:", NULL);
	free(bad);
	bad = strdup(x);
	*strstr(bad, "#end\n") = '\0';	/* truncated */
	import_fails(bad, "truncated", NULL);
	free(bad);
	bad = malloc(strlen(x) + 8);
	sprintf(bad, "%sextra\n", x);
	import_fails(bad, "after the #end", NULL);
	free(bad);
	import_fails("{\"version\": 1, \"records\": [{\"id\": \"x\"}]}",
	    "records[0]", NULL);
	import_fails("{\"version\": 2, \"records\": []}", "version", NULL);
	import_fails("[{\"id\": ", "invalid JSON", NULL);
	/* the same id twice in one file */
	line3 = strdup(strchr(strchr(x, '\n') + 1, '\n') + 1);
	*strchr(line3, '\n') = '\0';
	bad = with_line(x, 2, line3);
	import_fails(bad, "duplicate token ID", NULL);
	free(bad);
	free(line3);
	free(x);
	unpopulate();
	env_clean(&src);
}

Test(transfer, import_conflict_needs_replace)
{
	struct run r;
	char *x, *y, id[13];

	populate();
	x = export(&E, NULL);
	token_id(tokens[0], id);
	ctl(&r, NULL, "edit", id, "--description", "changed", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	import_fails(x, "already exists", NULL);
	ctl(&r, x, "import", "--replace", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "1 replaced"), "%s", r.out);
	run_free(&r);
	y = export(&E, NULL);
	cr_assert_str_eq(x, y);
	free(x);
	free(y);
	unpopulate();
}

Test(transfer, usage)
{
	struct run r;

	ctl(&r, NULL, "import", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "import", "/nonexistent/export", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "/nonexistent/export"));
	run_free(&r);
	ctl(&r, NULL, "export", "file", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
}

/* ------------------------------------------------ issue 14 items 1, 2 */

/* The JSON export with records[i].key set to v (a string or integer). */
static char *
json_with(const char *x, size_t i, const char *key, json_t *v)
{
	json_t *o = json_loads(x, 0, NULL), *rec;
	char *s;

	cr_assert_not_null(o);
	rec = json_array_get(json_object_get(o, "records"), i);
	cr_assert_not_null(rec);
	json_object_set_new(rec, key, v);
	s = json_dumps(o, 0);
	json_decref(o);
	return s;
}

/* 0 if tok is accepted by `tokenctl verify` for root. */
static int
verify_status(const char *tok)
{
	struct run r;
	int st;

	ctl(&r, tok, "verify", "--user", "root", NULL);
	st = r.status;
	run_free(&r);
	return st;
}

/* export; revoke; import --replace the export: the token stays revoked
 * (issue 14 item 1), with every option, and a dry run says so too. */
Test(transfer, import_never_resurrects_a_revoked_token)
{
	static const char *const opts[][3] = {
		{ "--replace", NULL, NULL },
		{ "--replace", "--allow-identity-change", NULL },
		{ "--replace", "--dry-run", NULL },
	};
	char *tok = issue_token("root", "res", NULL), *x, want[128], id[13];
	struct run r;
	size_t i;

	token_id(tok, id);
	x = export(&E, NULL);
	ctl(&r, NULL, "revoke", id, "--reason", "leaked", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	snprintf(want, sizeof(want), "token %s: revoked in the store, active "
	    "in the import (revocation is final)", id);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		ctl(&r, x, "import", opts[i][0], opts[i][1] ? opts[i][1] : "-",
		    opts[i][1] ? "-" : NULL, NULL);
		cr_assert_eq(r.status, 1, "%s", r.err);
		cr_assert_not_null(strstr(r.err, want), "%s", r.err);
		cr_assert_not_null(strstr(r.err, "nothing written"), "%s",
		    r.err);
		run_free(&r);
	}
	cr_assert_neq(verify_status(tok), 0, "the revoked token logs in");
	free(x);
	free(tok);
}

Test(transfer, import_changes_hash_or_user_only_when_allowed)
{
	char *t1 = issue_token("root", "h1", NULL), *t2, *x, *y, id[13];
	json_t *o;
	struct run r;

	t2 = issue_token("root", "h2", NULL);
	x = export(&E, "--json");
	o = json_loads(x, 0, NULL);
	cr_assert_not_null(o);
	/* record 0 gets record 1's hash: t2's secret would open it */
	y = json_with(x, 0, "hash", json_string(json_string_value(
	    json_object_get(json_array_get(json_object_get(o, "records"), 1),
	    "hash"))));
	json_decref(o);
	import_fails(y, "the import changes its hash (allowed only with "
	    "--allow-identity-change)", "--replace");
	free(y);
	y = json_with(x, 0, "user", json_string("nobody"));
	import_fails(y, "the import changes its user", "--replace");
	ctl(&r, y, "import", "--replace", "--allow-identity-change", "-",
	    NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "accounts gaining a token: nobody"),
	    "%s", r.out);
	run_free(&r);
	o = json_loads(x, 0, NULL);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(
	    json_array_get(json_object_get(o, "records"), 0), "id")));
	json_decref(o);
	o = show_json(id);
	cr_assert_str_eq(jget(o, "user"), "nobody");
	json_decref(o);
	free(y);
	free(x);
	free(t1);
	free(t2);
}

Test(transfer, import_dry_run_lists_changes_and_writes_nothing)
{
	struct env e2 = { .sudo_user = NULL };
	char *tok = issue_token("root", "dry", NULL), *x, *before, *after;
	char id[13], want[128];
	struct run r;

	token_id(tok, id);
	x = export(&E, NULL);
	ctl(&r, NULL, "edit", id, "--label", "renamed", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	before = tl_read_file(E.store, NULL);
	ctl(&r, x, "import", "--replace", "--dry-run", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "replace %s user=root: label", id);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "would import 1 records (0 to add, "
	    "1 to replace, 0 unchanged); nothing written"), "%s", r.out);
	run_free(&r);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after, "a dry run wrote the store");
	env_init(&e2, NULL);
	before = (free(before), tl_read_file(e2.store, NULL));
	ctl_env(&e2, &r, x, "import", "--dry-run", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "add %s user=root status=active\n", id);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "accounts gaining a token: root"),
	    "%s", r.out);
	run_free(&r);
	free(after);
	after = tl_read_file(e2.store, NULL);
	cr_assert_str_eq(before, after, "a dry run wrote the store");
	env_clean(&e2);
	free(before);
	free(after);
	free(x);
	free(tok);
}

/* issue 14 item 2: what issue refuses, import refuses too. */
Test(transfer, import_applies_the_issue_policy)
{
	struct env e2 = { .sudo_user = NULL };
	char *tok = issue_token("root", "pol", NULL), *x, *y;
	struct run r;

	x = export(&E, "--json");
	env_init(&e2, "max_lifetime: 30d\ndefault_lifetime: 7d\n");
	y = json_with(x, 0, "user", json_string("no-such-user-x"));
	import_fails_in(&e2, y, "no such user 'no-such-user-x' on this host", NULL);
	free(y);
	y = json_with(x, 0, "expires", json_null());
	import_fails_in(&e2, y, "never expires: beyond max_lifetime", NULL);
	free(y);
	y = json_with(x, 0, "expires", json_string("2100-01-01T00:00:00Z"));
	import_fails_in(&e2, y, "expires beyond max_lifetime", NULL);
	free(y);
	y = json_with(x, 0, "from", json_pack("[s]", "10.20.1.2/0"));
	import_fails_in(&e2, y, "the network is 0.0.0.0/0", NULL);
	free(y);
	y = json_with(x, 0, "parent", json_string("ZZZZZZZZZZZ9"));
	import_fails_in(&e2, y, "parent ZZZZZZZZZZZ9 is neither in the store nor in "
	    "the import", NULL);
	free(y);
	/* a revoked record cannot log in: no account needed */
	y = json_with(x, 0, "user", json_string("no-such-user-x"));
	free(x);
	x = y;
	y = json_with(x, 0, "status", json_string("revoked"));
	free(x);
	x = json_with(y, 0, "revoked_at", json_string("2026-01-01T00:00:00Z"));
	ctl_env(&e2, &r, x, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "accounts gaining"), "%s", r.out);
	run_free(&r);
	free(y);
	free(x);
	free(tok);
	env_clean(&e2);
}

/* issue 14 item 2: a file is read under the config's trust rule. */
Test(transfer, import_file_must_be_trusted)
{
	char *tok = issue_token("root", "trust", NULL), *x, path[400],
	    link[420];
	struct run r;

	x = export(&E, NULL);
	snprintf(path, sizeof(path), "%s/export", E.dir);
	tl_write_str(path, x, 0644);
	cr_assert_eq(chmod(path, 0666), 0);
	ctl(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "writable by others"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(chmod(path, 0644), 0);
	snprintf(link, sizeof(link), "%s.link", path);
	cr_assert_eq(symlink(path, link), 0);
	ctl(&r, NULL, "import", link, NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "symbolic link"), "%s", r.err);
	run_free(&r);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 65534, 65534), 0);
		ctl(&r, NULL, "import", path, NULL);
		cr_assert_eq(r.status, 1, "%s", r.err);
		cr_assert_not_null(strstr(r.err, "owned by uid 65534"), "%s",
		    r.err);
		run_free(&r);
		ctl(&r, x, "import", "-", NULL);	/* stdin: no rule */
		cr_assert_eq(r.status, 0, "%s", r.err);
		run_free(&r);
	}
	free(x);
	free(tok);
}
