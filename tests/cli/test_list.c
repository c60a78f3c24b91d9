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
