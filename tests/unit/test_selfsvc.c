/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_selfsvc.c - the self_service mapping of apitoken.yaml and
 * apitoken_self_check, the one rule of what an ordinary user may do to
 * their own tokens through apitokend (issue 16).
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define DAY (24LL * 3600)
#define NOW ((time_t)1800000000)

static struct tu_env E;

/* The unit helpers' config loaders (helpers.h), on this suite's E. */
#define load(extra, cfgp) tu_config_load(&E, (extra), (cfgp))
#define load_ok(extra) tu_config_load_ok(&E, (extra))
#define load_bad(extra, line, text) \
	tu_config_load_bad(&E, (extra), (line), (text))
static char me[APITOKEN_USER_MAX + 1];	/* an account that exists */

static void
setup(void)
{
	struct passwd *pw = getpwuid(geteuid());

	tl_watchdog(20);
	cr_assert_not_null(pw);
	snprintf(me, sizeof(me), "%s", pw->pw_name);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(selfsvc, .init = setup, .fini = teardown);

Test(selfsvc, defaults_when_absent)
{
	const struct apitoken_self_service *s =
	    apitoken_config_self_service(E.cfg);

	cr_assert_eq(s->enabled, 0);
	cr_assert_eq(s->n_services, 0);
	cr_assert_eq(s->max_lifetime, 90 * DAY);
	cr_assert_eq(s->max_tokens, 20);
	cr_assert_eq(s->from_required, 0);
	cr_assert_eq(s->n_users, 0);
	cr_assert_eq(s->n_groups, 0);
	cr_assert_str_eq(s->reauth_service, "apitoken-selfservice");
}

Test(selfsvc, full_mapping)
{
	const struct apitoken_self_service *s;

	tu_env_reconfig(&E, "self_service:\n"
	    "  enabled: true\n"
	    "  services: [sshd, imap]\n"
	    "  max_lifetime: 30d\n"
	    "  max_tokens: 5\n"
	    "  allow_from_required: true\n"
	    "  users: [alice, bob]\n"
	    "  groups: [staff]\n"
	    "  reauth_service: other-auth\n");
	s = apitoken_config_self_service(E.cfg);
	cr_assert_eq(s->enabled, 1);
	cr_assert_eq(s->n_services, 2);
	cr_assert_str_eq(s->services[0], "sshd");
	cr_assert_str_eq(s->services[1], "imap");
	cr_assert_eq(s->max_lifetime, 30 * DAY);
	cr_assert_eq(s->max_tokens, 5);
	cr_assert_eq(s->from_required, 1);
	cr_assert_eq(s->n_users, 2);
	cr_assert_str_eq(s->users[1], "bob");
	cr_assert_eq(s->n_groups, 1);
	cr_assert_str_eq(s->groups[0], "staff");
	cr_assert_str_eq(s->reauth_service, "other-auth");
}

Test(selfsvc, max_lifetime_never_above_the_global_one)
{
	tu_env_reconfig(&E, "max_lifetime: 30d\nself_service:\n"
	    "  enabled: true\n");
	cr_assert_eq(apitoken_config_self_service(E.cfg)->max_lifetime,
	    30 * DAY);
	tu_env_reconfig(&E, "max_lifetime: never\nself_service:\n"
	    "  max_lifetime: never\n");
	cr_assert_eq(apitoken_config_self_service(E.cfg)->max_lifetime,
	    APITOKEN_NEVER);
	load_bad("max_lifetime: 30d\nself_service:\n  max_lifetime: 31d\n",
	    0, "self_service.max_lifetime is longer than max_lifetime");
	load_bad("self_service:\n  max_lifetime: never\n", 0,
	    "self_service.max_lifetime is longer than max_lifetime");
}

Test(selfsvc, bad_values_name_their_line_and_key)
{
	load_bad("self_service: yes\n", 3, "expected a mapping");
	load_bad("self_service:\n  enable: true\n", 4,
	    "self_service.enable\": unknown key");
	load_bad("self_service:\n  enabled: yes\n", 4, "true or false");
	load_bad("self_service:\n  enabled: true\n  enabled: false\n", 5,
	    "given twice");
	load_bad("self_service:\n  services: sshd\n", 4, "expected a list");
	load_bad("self_service:\n  services: [sshd, 'a b']\n", 4,
	    "PAM service names");
	load_bad("self_service:\n  services: [sshd, sshd]\n", 4,
	    "listed twice");
	load_bad("self_service:\n  services: [[sshd]]\n", 4, "plain values");
	load_bad("self_service:\n  max_tokens: 0\n", 4, "1 to 10000");
	load_bad("self_service:\n  max_tokens: 10001\n", 4, "1 to 10000");
	load_bad("self_service:\n  max_tokens: -3\n", 4, "1 to 10000");
	load_bad("self_service:\n  max_lifetime: 0d\n", 4, "duration");
	load_bad("self_service:\n  users: ['a,b']\n", 4, "user names");
	load_bad("self_service:\n  groups: ['']\n", 4, "group names");
	load_bad("self_service:\n  reauth_service: 'x/y'\n", 4,
	    "PAM service name");
	load_bad("self_service:\n  allow_from_required: [true]\n", 4,
	    "expected a scalar");
}

/* ------------------------------------------------------------ check */

#define ENABLED "self_service:\n  enabled: true\n  services: [sshd, imap]\n" \
	"  max_lifetime: 30d\n  max_tokens: 2\n"

static struct apitoken_record *
rec_for(unsigned n, const char *user, const char *svc, int64_t expires)
{
	char id[APITOKEN_ID_LEN + 1];
	struct apitoken_record *r;

	tu_id(n, id);
	r = tu_record(id, user, NULL);
	if (svc != NULL)
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, svc), 0);
	r->expires = expires;
	return r;
}

static int
check(enum apitoken_self_op op, const char *user,
    const struct apitoken_record *old, const struct apitoken_record *rec,
    struct apitoken_txn *txn)
{
	struct apitoken_self_change c = { op, user, old, rec, txn, NOW };

	E.err[0] = '\0';
	return apitoken_self_check(E.cfg, &c, E.err, sizeof(E.err));
}

Test(selfsvc, disabled_by_default)
{
	cr_assert_eq(check(APITOKEN_SELF_USE, me, NULL, NULL, NULL),
	    APITOKEN_ERR_ACCESS);
	cr_assert_not_null(strstr(E.err, "not enabled"), "%s", E.err);
}

Test(selfsvc, who_may_use_it)
{
	struct group *g = getgrgid(getegid());
	char conf[512];

	tu_env_reconfig(&E, ENABLED);
	cr_assert_eq(check(APITOKEN_SELF_USE, me, NULL, NULL, NULL), 0, "%s",
	    E.err);
	cr_assert_eq(check(APITOKEN_SELF_USE, "no-such-user-here", NULL, NULL,
	    NULL), APITOKEN_ERR_ACCESS);
	snprintf(conf, sizeof(conf), ENABLED "  users: [somebody-else]\n");
	tu_env_reconfig(&E, conf);
	cr_assert_eq(check(APITOKEN_SELF_USE, me, NULL, NULL, NULL),
	    APITOKEN_ERR_ACCESS);
	cr_assert_not_null(strstr(E.err, "not allowed for user"), "%s",
	    E.err);
	snprintf(conf, sizeof(conf), ENABLED "  users: [somebody-else, %s]\n",
	    me);
	tu_env_reconfig(&E, conf);
	cr_assert_eq(check(APITOKEN_SELF_USE, me, NULL, NULL, NULL), 0);
	cr_assert_not_null(g);
	snprintf(conf, sizeof(conf), ENABLED "  users: [somebody-else]\n"
	    "  groups: [no-such-group-here, %s]\n", g->gr_name);
	tu_env_reconfig(&E, conf);
	cr_assert_eq(check(APITOKEN_SELF_USE, me, NULL, NULL, NULL), 0, "%s",
	    E.err);
}

Test(selfsvc, issue_rules)
{
	struct apitoken_record *r;
	struct apitoken_txn *t = NULL;

	tu_env_reconfig(&E, ENABLED "  allow_from_required: true\n");
	tu_store_build(E.cfg, NULL, 0);
	cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err)),
	    0, "%s", E.err);
	r = rec_for(1, me, NULL, NOW + DAY);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "at least one service"), "%s", E.err);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sudo"), 0);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "service sudo is not one"), "%s",
	    E.err);
	apitoken_record_list_clear(&r->services, &r->n_services);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "imap"), 0);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "--from"), "%s", E.err);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "192.0.2.0/24"), 0);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t), 0, "%s",
	    E.err);
	r->expires = 0;
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "must expire within 30d"), "%s",
	    E.err);
	r->expires = NOW + 30 * DAY + 1;
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "limit of 30d"), "%s", E.err);
	r->expires = NOW + 30 * DAY;
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t), 0);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, "root-not-me", NULL, r, t),
	    APITOKEN_ERR_ACCESS);
	apitoken_record_free(r);
	apitoken_txn_free(t);
}

/* max_tokens counts the user's live, unexpired tokens in the store */
Test(selfsvc, max_tokens)
{
	struct apitoken_record *recs[4], *r;
	struct apitoken_txn *t = NULL;
	size_t i;

	tu_env_reconfig(&E, ENABLED);
	recs[0] = rec_for(1, me, "sshd", NOW + DAY);
	recs[1] = rec_for(2, me, "sshd", NOW - DAY);	/* expired */
	recs[2] = rec_for(3, "someone-else", "sshd", 0);
	recs[3] = rec_for(4, me, "sshd", 0);
	recs[3]->status = APITOKEN_REVOKED;
	recs[3]->revoked_at = 1700000000;
	tu_store_build(E.cfg, recs, 4);
	cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err)),
	    0, "%s", E.err);
	r = rec_for(5, me, "sshd", NOW + DAY);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t), 0, "%s",
	    E.err);
	cr_assert_eq(apitoken_txn_insert(t, r, E.err, sizeof(E.err)), 0, "%s",
	    E.err);
	apitoken_record_free(r);
	r = rec_for(6, me, "sshd", NOW + DAY);
	cr_assert_eq(check(APITOKEN_SELF_ISSUE, me, NULL, r, t),
	    APITOKEN_ERR_RULE);
	cr_assert_not_null(strstr(E.err, "has 2 live tokens"), "%s", E.err);
	cr_assert_not_null(strstr(E.err, "max_tokens: 2"), "%s", E.err);
	/* a rotation replaces a token: not counted */
	cr_assert_eq(check(APITOKEN_SELF_ROTATE, me, recs[0], r, t), 0, "%s",
	    E.err);
	apitoken_record_free(r);
	apitoken_txn_free(t);
	for (i = 0; i < 4; i++)
		apitoken_record_free(recs[i]);
}

/* An edit is held to the rules only in what it changes; a rotation
 * makes a new token and is held to all of them. */
Test(selfsvc, edit_and_rotate)
{
	struct apitoken_record *old, *r;

	tu_env_reconfig(&E, ENABLED);
	old = rec_for(1, me, NULL, 0);	/* root's: all services, never */
	r = apitoken_record_dup(old);
	cr_assert_not_null(r);
	cr_assert_eq(apitoken_record_set(&r->label, "renamed"), 0);
	cr_assert_eq(check(APITOKEN_SELF_EDIT, me, old, r, NULL), 0, "%s",
	    E.err);
	cr_assert_eq(check(APITOKEN_SELF_ROTATE, me, old, r, NULL),
	    APITOKEN_ERR_RULE);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sudo"), 0);
	cr_assert_eq(check(APITOKEN_SELF_EDIT, me, old, r, NULL),
	    APITOKEN_ERR_RULE);
	apitoken_record_list_clear(&r->services, &r->n_services);
	r->expires = NOW + 31 * DAY;
	cr_assert_eq(check(APITOKEN_SELF_EDIT, me, old, r, NULL),
	    APITOKEN_ERR_RULE);
	r->expires = NOW + DAY;
	cr_assert_eq(check(APITOKEN_SELF_EDIT, me, old, r, NULL), 0, "%s",
	    E.err);
	cr_assert_eq(check(APITOKEN_SELF_EDIT, me, NULL, r, NULL),
	    APITOKEN_ERR_INVALID);
	apitoken_record_free(old);
	apitoken_record_free(r);
}
