/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_aliases.c - tokenctl and the config keys of issue 15: show and
 * list --service follow service_aliases (item 2), and max_lifetime alone
 * makes a working config whose default lifetime follows it (item 7).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(aliases, .timeout = 60);

/* tokenctl issue in e; the new token's id. */
static void
issue_in(struct env *e, const char *label, const char *svc1,
    const char *svc2, char id[13])
{
	struct run r;

	ctl_env(e, &r, NULL, "issue", "root", "--label", label,
	    svc1 ? "--service" : NULL, svc1, svc2 ? "--service" : NULL, svc2,
	    NULL);
	cr_assert_eq(r.status, 0, "issue %s: %s", label, r.err);
	token_id(r.out, id);
	run_free(&r);
}

/* The ids `tokenctl list --ids --service svc` prints in e. */
static char *
ids_for(struct env *e, const char *svc)
{
	struct run r;
	char *out;

	ctl_env(e, &r, NULL, "list", "--ids", "--service", svc, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	out = strdup(r.out);
	run_free(&r);
	return out;
}

/* The "also covers:" line of `tokenctl show id`, or NULL. */
static char *
also_line(struct env *e, const char *id)
{
	struct run r;
	char *p, *line = NULL;

	ctl_env(e, &r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	if ((p = strstr(r.out, "also covers:")) != NULL)
		line = strndup(p, strcspn(p, "\n"));
	run_free(&r);
	return line;
}

static json_t *
show_in(struct env *e, const char *id)
{
	struct run r;
	json_t *o;

	ctl_env(e, &r, NULL, "show", id, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	o = out_json(&r);
	run_free(&r);
	return o;
}

Test(aliases, show_and_list_follow_the_builtin_aliases)
{
	struct env e = { .sudo_user = NULL };
	char su[13], both[13], all[13], *l;
	json_t *o, *a;

	env_init(&e, NULL);
	issue_in(&e, "su", "su", NULL, su);
	issue_in(&e, "both", "su", "su-l", both);
	issue_in(&e, "all", NULL, NULL, all);
	l = also_line(&e, su);
	cr_assert_not_null(l);
	cr_assert_str_eq(l, "also covers:   su-l");
	free(l);
	cr_assert_null(also_line(&e, both), "su-l listed twice");
	cr_assert_null(also_line(&e, all));
	o = show_in(&e, su);
	a = json_object_get(o, "also_covers");
	cr_assert(json_is_array(a) && json_array_size(a) == 1);
	cr_assert_str_eq(json_string_value(json_array_get(a, 0)), "su-l");
	json_decref(o);
	o = show_in(&e, all);
	a = json_object_get(o, "also_covers");
	cr_assert(json_is_array(a) && json_array_size(a) == 0);
	json_decref(o);
	l = ids_for(&e, "su-l");
	cr_assert(strstr(l, su) && strstr(l, both) && strstr(l, all), "%s", l);
	free(l);
	l = ids_for(&e, "sudo-i");
	cr_assert(!strstr(l, su) && !strstr(l, both) && strstr(l, all), "%s",
	    l);
	free(l);
	env_clean(&e);
}

Test(aliases, show_and_list_without_aliases)
{
	struct env e = { .sudo_user = NULL };
	char su[13], *l;

	env_init(&e, "service_aliases: {}\n");
	issue_in(&e, "su", "su", NULL, su);
	cr_assert_null(also_line(&e, su));
	l = ids_for(&e, "su-l");
	cr_assert_null(strstr(l, su), "%s", l);
	free(l);
	l = ids_for(&e, "su");
	cr_assert_not_null(strstr(l, su), "%s", l);
	free(l);
	env_clean(&e);
}

Test(aliases, bad_aliases_stop_every_command)
{
	struct env e = { .sudo_user = NULL };
	struct run r;

	env_make(&e, "service_aliases:\n  su: su-l\n");
	ctl_env(&e, &r, NULL, "list", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "service_aliases"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "expected a list"), "%s", r.err);
	run_free(&r);
	env_clean(&e);
}

Test(aliases, max_lifetime_alone_sets_the_default_lifetime)
{
	struct env e = { .sudo_user = NULL };
	struct run r;
	time_t now = time(NULL);
	json_t *j;
	int64_t t;

	env_init(&e, "max_lifetime: 30d\n");
	ctl_env(&e, &r, NULL, "issue", "root", "--label", "d", "--json",
	    NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = out_json(&r);
	cr_assert_eq(apitoken_time_parse(jget(j, "expires"), &t), 0);
	cr_assert(t >= now + 30 * 86400 && t <= now + 30 * 86400 + 60,
	    "expires %s", jget(j, "expires"));
	json_decref(j);
	run_free(&r);
	env_clean(&e);
}

Test(aliases, conflicting_lifetimes_stay_an_error)
{
	struct env e = { .sudo_user = NULL };
	struct run r;

	env_make(&e, "default_lifetime: 90d\nmax_lifetime: 30d\n");
	ctl_env(&e, &r, NULL, "list", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "default_lifetime is longer than "
	    "max_lifetime"), "%s", r.err);
	run_free(&r);
	env_clean(&e);
}
