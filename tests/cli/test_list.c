/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_list.c - tokenctl list (table, filters, --json, --ids) and show.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(list, .init = setup_env, .fini = teardown_env);

/* IDs printed by `list --ids` with the given filter arguments. */
static char *
ids(const char *a1, const char *a2, const char *a3, const char *a4)
{
	struct run r;
	char *s;

	ctl(&r, NULL, "list", "--ids", a1, a2, a3, a4, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	s = strdup(r.out);
	run_free(&r);
	return s;
}

static void
has(const char *list, const char *id, int want)
{
	cr_assert_eq(strstr(list, id) != NULL, want, "%s %s in:\n%s", id,
	    want ? "missing" : "unexpected", list);
}

static void
record_use(const char *id, const char *service, const char *rhost,
    time_t when)
{
	struct apitoken_config *cfg;
	char err[256] = "";

	cr_assert_eq(apitoken_config_load(E.cfg, &cfg, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(apitoken_lastuse_record(cfg, id, service, rhost, when, 0,
	    err, sizeof(err)), 0, "%s", err);
	apitoken_config_free(cfg);
}

Test(list, table_has_every_column_and_one_row_per_token)
{
	struct run r;
	char *t1, *t2, id1[13], id2[13], *row;

	t1 = issue_token("root", "alpha", "--service", "sshd", NULL);
	t2 = issue_token("nobody", "beta", NULL);
	token_id(t1, id1);
	token_id(t2, id2);
	record_use(id1, "sshd", "10.1.2.3", time(NULL) - 7200);
	ctl(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 3, "%s", r.out);
	cr_assert_eq(strncmp(r.out, "ID ", 3), 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out, "USER"));
	cr_assert_not_null(strstr(r.out, "LABEL"));
	cr_assert_not_null(strstr(r.out, "SERVICES"));
	cr_assert_not_null(strstr(r.out, "STATUS"));
	cr_assert_not_null(strstr(r.out, "CREATED"));
	cr_assert_not_null(strstr(r.out, "EXPIRES"));
	cr_assert_not_null(strstr(r.out, "LAST USED"));
	row = strstr(r.out, id1);
	cr_assert_not_null(row);
	cr_assert_not_null(strstr(row, "alpha"));
	cr_assert_not_null(strstr(row, "sshd"));
	cr_assert_not_null(strstr(row, "(in "), "%s", r.out);
	cr_assert_not_null(strstr(row, "(2h ago)"), "%s", r.out);
	row = strstr(r.out, id2);
	cr_assert_not_null(row);
	cr_assert_not_null(strstr(row, "all"));
	cr_assert_not_null(strstr(row, "never"));
	cr_assert_null(strstr(r.out, "sha256$"));
	cr_assert_null(strstr(r.out, strrchr(t1, '_') + 1), "secret shown");
	run_free(&r);
	free(t1);
	free(t2);
}

Test(list, filters_by_user_status_service_expiring)
{
	struct run r;
	char *a, *b, *c, *d, *e, ia[13], ib[13], ic[13], id[13], ie[13], *l;

	a = issue_token("root", "a", "--service", "sshd", NULL);
	b = issue_token("root", "b", "--service", "sudo", "--expires", "3d",
	    NULL);
	c = issue_token("nobody", "c", NULL);
	d = issue_token("nobody", "d", NULL);
	e = issue_token("daemon", "e", "--expires", "1s", NULL);
	token_id(a, ia); token_id(b, ib); token_id(c, ic);
	token_id(d, id); token_id(e, ie);
	ctl(&r, NULL, "disable", ic, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "revoke", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sleep(2);	/* e expires */

	l = ids("--user", "root", NULL, NULL);
	has(l, ia, 1); has(l, ib, 1); has(l, ic, 0); has(l, ie, 0);
	free(l);
	l = ids("--status", "active", NULL, NULL);
	has(l, ia, 1); has(l, ib, 1); has(l, ic, 0); has(l, id, 0);
	has(l, ie, 0);
	free(l);
	l = ids("--status", "disabled", NULL, NULL);
	has(l, ic, 1); has(l, ia, 0);
	cr_assert_eq(tl_count_lines(l), 1);
	free(l);
	l = ids("--status", "revoked", NULL, NULL);
	has(l, id, 1);
	cr_assert_eq(tl_count_lines(l), 1);
	free(l);
	l = ids("--status", "expired", NULL, NULL);
	has(l, ie, 1);
	cr_assert_eq(tl_count_lines(l), 1);
	free(l);
	l = ids("--service", "sshd", NULL, NULL);	/* "all" included */
	has(l, ia, 1); has(l, ib, 0); has(l, ic, 1);
	free(l);
	l = ids("--expiring", "7d", NULL, NULL);
	has(l, ib, 1); has(l, ia, 0); has(l, ie, 0); has(l, id, 0);
	cr_assert_eq(tl_count_lines(l), 1);
	free(l);
	l = ids("--user", "root", "--service", "sudo");
	has(l, ib, 1); has(l, ia, 0);
	free(l);
	free(a); free(b); free(c); free(d); free(e);
}

Test(list, json_is_an_array_of_objects_without_secrets)
{
	struct run r;
	json_t *j, *o;
	char *t, tid[13];
	size_t i;

	t = issue_token("root", "j1", "--service", "login", NULL);
	token_id(t, tid);
	free(issue_token("nobody", "j2", NULL));
	record_use(tid, "login", "192.0.2.1", time(NULL) - 30);
	ctl(&r, NULL, "list", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "sha256"));
	cr_assert_null(strstr(r.out, strrchr(t, '_') + 1));
	j = out_json(&r);
	cr_assert(json_is_array(j));
	cr_assert_eq(json_array_size(j), 2);
	json_array_foreach(j, i, o) {
		cr_assert(json_is_object(o));
		cr_assert_not_null(jget(o, "id"));
		cr_assert_not_null(jget(o, "user"));
		cr_assert_not_null(jget(o, "status"));
		cr_assert_not_null(jget(o, "created"));
		cr_assert(json_is_array(json_object_get(o, "services")));
		cr_assert_null(json_object_get(o, "hash"));
		if (strcmp(jget(o, "id"), tid) == 0) {
			cr_assert_str_eq(jget(o, "label"), "j1");
			cr_assert_str_eq(jget(o, "last_used_service"), "login");
			cr_assert_str_eq(jget(o, "last_used_rhost"),
			    "192.0.2.1");
			cr_assert_not_null(jget(o, "last_used"));
		} else {
			cr_assert(json_is_null(json_object_get(o,
			    "last_used")));
		}
	}
	json_decref(j);
	run_free(&r);
	ctl(&r, NULL, "list", "--json", "--user", "nosuch", NULL);
	cr_assert_eq(r.status, 0);
	j = out_json(&r);
	cr_assert_eq(json_array_size(j), 0);
	json_decref(j);
	run_free(&r);
	free(t);
}

Test(list, usage_errors)
{
	struct run r;

	ctl(&r, NULL, "list", "--status", "sleeping", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "--status 'sleeping'"), "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "list", "--expiring", "later", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "--expiring 'later'"), "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "list", "extra", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
}

Test(list, show_gives_every_field_but_the_hash)
{
	struct run r;
	char *t, id[13];
	static const char *const names[] = { "id:", "user:", "label:",
	    "description:", "external id:", "services:", "from:", "status:",
	    "created:", "created by:", "updated:", "expires:", "revoked:",
	    "revoke reason:", "parent:", "derived:", "last used:" };
	size_t i;

	t = issue_token("root", "shown", "--description", "desc text",
	    "--external-id", "X-1", "--from", "10.0.0.0/8", NULL);
	token_id(t, id);
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_not_null(strstr(r.out, names[i]), "no %s in %s",
		    names[i], r.out);
	cr_assert_not_null(strstr(r.out, "desc text"));
	cr_assert_not_null(strstr(r.out, "X-1"));
	cr_assert_not_null(strstr(r.out, "10.0.0.0/8"));
	cr_assert_not_null(strstr(r.out, "services:      all"), "%s", r.out);
	cr_assert_null(strstr(r.out, "sha256"));
	cr_assert_null(strstr(r.out, strrchr(t, '_') + 1));
	run_free(&r);
	free(t);
}

/* show's heading of a field: its name with blanks, but revoked_at. */
static void
heading(const struct apitoken_field *f, char *buf, size_t size)
{
	size_t k;

	snprintf(buf, size, "\n%s:", strcmp(f->name, "revoked_at") == 0 ?
	    "revoked" : f->name);
	for (k = 0; buf[k] != '\0'; k++)
		if (buf[k] == '_')
			buf[k] = ' ';
}

/* The library's field table drives the views: every row is in show's
 * text (in view order) and JSON, and in export's records; only the
 * hash (view 0) is hidden from list and show. */
Test(list, every_field_of_the_table_is_shown_but_the_hash)
{
	const struct apitoken_field *f;
	struct run r;
	json_t *o, *ex, *rec;
	char *p, *t, *text, pid[13], id[13], head[40];
	const char *at;
	size_t i, n, rank, last = 0;

	p = issue_token("root", "parent", NULL);
	token_id(p, pid);
	t = issue_token("root", "child", "--description", "d",
	    "--external-id", "X-1", "--service", "sshd", "--from",
	    "10.0.0.0/8", "--parent", pid, NULL);
	token_id(t, id);
	ctl(&r, NULL, "revoke", id, "--reason", "gone", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	o = show_json(id);
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(asprintf(&text, "\n%s", r.out) > 0, 1);
	run_free(&r);
	f = apitoken_record_fields(&n);
	for (rank = 1; rank < n; rank++) {
		for (i = 0; i < n && f[i].view != rank; i++)
			;
		cr_assert_lt(i, n, "no field at view place %zu", rank);
		heading(&f[i], head, sizeof(head));
		at = strstr(text, head);
		cr_assert_not_null(at, "show has no '%s':%s", head, text);
		cr_assert(rank == 1 || (size_t)(at - text) > last,
		    "'%s' out of view order", head);
		last = (size_t)(at - text);
		cr_assert_not_null(json_object_get(o, f[i].name),
		    "show --json has no %s", f[i].name);
	}
	free(text);
	ctl(&r, NULL, "export", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	ex = out_json(&r);
	rec = json_array_get(json_object_get(ex, "records"), 0);
	for (i = 0; i < n; i++) {
		cr_assert_not_null(json_object_get(rec, f[i].name),
		    "export --json has no %s", f[i].name);
		if (f[i].view == 0) {
			cr_assert_eq(f[i].kind, APITOKEN_FIELD_HASH);
			cr_assert_null(json_object_get(o, f[i].name));
		}
	}
	cr_assert_null(json_object_get(o, "hash"));
	json_decref(ex);
	json_decref(o);
	run_free(&r);
	free(p);
	free(t);
}

Test(list, show_unknown_id_fails)
{
	struct run r;

	ctl(&r, NULL, "show", "AAAAAAAAAAAA", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "no token with ID 'AAAAAAAAAAAA'"),
	    "%s", r.err);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	ctl(&r, NULL, "show", "nope", NULL);
	cr_assert_eq(r.status, 1);
	run_free(&r);
	ctl(&r, NULL, "show", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
}
