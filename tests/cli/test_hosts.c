/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hosts.c - tokenctl and a token's hosts (issue 13): issue and edit
 * --host NAME|PATTERN|@GROUP ('all' clears), the batch key host, list,
 * show and JSON, verify on this host (host_name, host_groups), export
 * and import (an export written before the column still imports).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

static void
setup(void)
{
	env_init(&E, "host_name: db-1.example.com\nhost_groups: [db, eu]\n");
}

TestSuite(hosts, .init = setup, .fini = teardown_env);

/* The hosts array of show --json ID, joined by commas. */
static char *
hosts_of(const char *id)
{
	json_t *o = show_json(id), *a, *v;
	char *s = calloc(1, 1024);
	size_t i;

	cr_assert_not_null(s);
	a = json_object_get(o, "hosts");
	cr_assert(json_is_array(a), "no hosts array");
	json_array_foreach(a, i, v) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, json_string_value(v));
	}
	json_decref(o);
	return s;
}

static void
expect_hosts(const char *id, const char *want)
{
	char *s = hosts_of(id);

	cr_assert_str_eq(s, want);
	free(s);
}

Test(hosts, issue_records_every_form_and_list_and_show_show_them)
{
	struct run r;
	char *t, id[13], *row;

	t = issue_token("root", "scoped", "--host", "db-1", "--host",
	    "build-*", "--host", "@eu", "--host", "db-1", NULL);
	token_id(t, id);
	expect_hosts(id, "db-1,build-*,@eu");
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\nhosts:         db-1,build-*,@eu\n"),
	    "%s", r.out);
	run_free(&r);
	ctl(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "HOSTS"), "%s", r.out);
	row = strstr(r.out, id);
	cr_assert_not_null(row);
	cr_assert_not_null(strstr(row, "db-1,build-*,@eu"), "%s", r.out);
	run_free(&r);
	ctl(&r, NULL, "list", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\"hosts\""), "%s", r.out);
	run_free(&r);
	free(t);
	t = issue_token("root", "anywhere", NULL);
	token_id(t, id);
	expect_hosts(id, "");
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_not_null(strstr(r.out, "\nhosts:         all\n"), "%s",
	    r.out);
	run_free(&r);
	free(t);
}

static void
issue_fails(const char *host, const char *host2, const char *text)
{
	struct run r;

	ctl(&r, NULL, "issue", "root", "--label", "bad", "--host", host,
	    host2 ? "--host" : NULL, host2, NULL);
	cr_assert_eq(r.status, 2, "--host %s: status %d (%s)", host, r.status,
	    r.err);
	cr_assert_not_null(strstr(r.err, text), "want '%s' in: %s", text,
	    r.err);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
}

Test(hosts, issue_refuses_bad_hosts_with_a_clear_message)
{
	issue_fails("bad_host", NULL, "invalid --host 'bad_host'");
	issue_fails("-db", NULL, "a pattern of one with * ? or [...]");
	issue_fails("a,b", NULL, "invalid --host");
	issue_fails("web[9-0]", NULL, "invalid --host");
	issue_fails("@a b", NULL, "a host group is @ and 1..64");
	issue_fails("@", NULL, "invalid --host '@'");
	issue_fails("all", "db-1", "--host all cannot be combined with "
	    "other hosts");
}

Test(hosts, too_many_hosts)
{
	const char *argv[5 + 2 * 33 + 1];
	char names[33][8];
	struct run r;
	size_t n = 0, i;

	argv[n++] = "tokenctl";
	argv[n++] = "issue";
	argv[n++] = "root";
	argv[n++] = "--label";
	argv[n++] = "many";
	for (i = 0; i < 33; i++) {
		snprintf(names[i], sizeof(names[i]), "h%zu", i);
		argv[n++] = "--host";
		argv[n++] = names[i];
	}
	argv[n] = NULL;
	ctl_argv(&E, &r, NULL, argv, E.cfg);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "too many --host values (at most "
	    "32)"), "%s", r.err);
	run_free(&r);
}

Test(hosts, edit_replaces_and_all_clears)
{
	struct run r;
	char *t, id[13];

	t = issue_token("root", "e", "--host", "db-1", NULL);
	token_id(t, id);
	ctl(&r, NULL, "edit", id, "--host", "@build", "--host", "web?", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	expect_hosts(id, "@build,web?");
	ctl(&r, NULL, "edit", id, "--label", "e2", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	expect_hosts(id, "@build,web?");
	ctl(&r, NULL, "edit", id, "--host", "all", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	expect_hosts(id, "");
	ctl(&r, NULL, "edit", id, "--host", "x_y", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_free(&r);
	expect_hosts(id, "");
	free(t);
}

Test(hosts, batch_key_host)
{
	struct run r;
	json_t *o;
	char *line;

	ctl(&r, "{\"user\": \"root\", \"label\": \"b1\", \"host\": "
	    "[\"@build\", \"db-*\"]}\n{\"user\": \"root\", \"label\": \"b2\", "
	    "\"host\": \"db-2\"}\n", "issue", "--batch", "-", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	line = strtok(r.out, "\n");
	o = json_loads(line, 0, NULL);
	cr_assert_not_null(o);
	expect_hosts(jget(o, "id"), "@build,db-*");
	json_decref(o);
	o = json_loads(strtok(NULL, "\n"), 0, NULL);
	cr_assert_not_null(o);
	expect_hosts(jget(o, "id"), "db-2");
	json_decref(o);
	run_free(&r);
	ctl(&r, "{\"user\": \"root\", \"label\": \"b3\", \"host\": "
	    "[\"no_such\"]}\n", "issue", "--batch", "-", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);	/* as any bad batch line */
	cr_assert_not_null(strstr(r.err, "invalid host 'no_such'"), "%s",
	    r.err);
	run_free(&r);
}

/* verify as the module decides, on this host (db-1.example.com, groups
 * db and eu) */
static void
verify_is(const char *host, int status, const char *reason)
{
	struct run r;
	char *t, in[256];

	t = issue_token("root", host, "--host", host, NULL);
	snprintf(in, sizeof(in), "%s\n", t);
	ctl(&r, in, "verify", "--user", "root", NULL);
	cr_assert_eq(r.status, status, "--host %s: %d (%s)", host, r.status,
	    r.err);
	if (reason != NULL)
		cr_assert_not_null(strstr(r.err, reason), "--host %s: %s",
		    host, r.err);
	run_free(&r);
	free(t);
}

Test(hosts, verify_accepts_this_host_and_refuses_others)
{
	verify_is("db-1.example.com", 0, NULL);
	verify_is("DB-1.example.com", 0, NULL);
	verify_is("db-*", 0, NULL);
	verify_is("*.example.com", 0, NULL);
	verify_is("@eu", 0, NULL);
	verify_is("@db", 0, NULL);
	verify_is("db-1", 1, "rejected: host-not-allowed");
	verify_is("build-*", 1, "rejected: host-not-allowed");
	verify_is("@build", 1, "rejected: host-not-allowed");
}

Test(hosts, export_import_keeps_hosts_and_reads_an_old_export)
{
	struct env e2 = { .sudo_user = NULL };
	struct run r;
	char *t, id[13], *x, *old, *nl, *line;
	const char *hdr = apitoken_store_header();
	size_t hl = strlen(hdr) - strlen("\thosts");

	t = issue_token("root", "x", "--host", "@db", NULL);
	token_id(t, id);
	free(t);
	t = issue_token("root", "y", NULL);
	free(t);
	ctl(&r, NULL, "export", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	x = strdup(r.out);
	run_free(&r);
	cr_assert_not_null(strstr(x, "\t@db\n"), "%s", x);
	env_init(&e2, NULL);
	ctl_env(&e2, &r, x, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	ctl_env(&e2, &r, NULL, "show", id, "--json", NULL);
	cr_assert_not_null(strstr(r.out, "\"@db\""), "%s", r.out);
	run_free(&r);
	env_clean(&e2);
	/* an export of a store from before hosts: the 16-column header and
	 * lines without the column (the scoped token's line left out) */
	old = calloc(1, strlen(x) + 1);
	cr_assert_not_null(old);
	memcpy(old, hdr, hl);
	for (line = strchr(x, '\n') + 1; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl);
		if (strncmp(line, id, strlen(id)) != 0)
			strncat(old, line - 1, (size_t)(nl - line) + 1);
	}
	strcat(old, "\n");
	cr_assert_null(strstr(old, "@db"), "%s", old);
	env_init(&e2, NULL);
	ctl_env(&e2, &r, old, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.err, old);
	run_free(&r);
	env_clean(&e2);
	free(old);
	free(x);
}
