/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config_keys.c - the config keys added after the table-driven
 * loader: default_lifetime following a shorter max_lifetime (issue 15
 * item 7) and service_aliases (issue 15 item 2), in the loader and in the
 * one verify path; and that the shipped conf/apitoken.yaml says exactly
 * what the built-in defaults are.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

#define DAY (24LL * 3600)

static struct tu_env E;

/* The unit helpers' config loaders (helpers.h), on this suite's E. */
#define load(extra, cfgp) tu_config_load(&E, (extra), (cfgp))
#define load_ok(extra) tu_config_load_ok(&E, (extra))
#define load_bad(extra, line, text) \
	tu_config_load_bad(&E, (extra), (line), (text))

static void
setup(void)
{
	tl_watchdog(20);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(config_keys, .init = setup, .fini = teardown);

/* ------------------------------------------------ issue 15 item 7 */

Test(config_keys, default_lifetime_follows_a_shorter_max_lifetime)
{
	struct apitoken_config *c = load_ok("max_lifetime: 30d\n");

	cr_assert_eq(apitoken_config_default_lifetime(c), 30 * DAY);
	cr_assert_eq(apitoken_config_max_lifetime(c), 30 * DAY);
	apitoken_config_free(c);
	c = load_ok("max_lifetime: 12h\n");
	cr_assert_eq(apitoken_config_default_lifetime(c), 12 * 3600);
	apitoken_config_free(c);
}

Test(config_keys, default_lifetime_unchanged_by_a_longer_max_lifetime)
{
	struct apitoken_config *c = load_ok("max_lifetime: 2y\n");

	cr_assert_eq(apitoken_config_default_lifetime(c), 90 * DAY);
	apitoken_config_free(c);
	c = load_ok("max_lifetime: never\n");
	cr_assert_eq(apitoken_config_default_lifetime(c), 90 * DAY);
	apitoken_config_free(c);
	c = load_ok("max_lifetime: 90d\n");
	cr_assert_eq(apitoken_config_default_lifetime(c), 90 * DAY);
	apitoken_config_free(c);
}

Test(config_keys, explicit_conflicting_lifetimes_stay_an_error)
{
	struct apitoken_config *c = NULL;
	const char *bad[] = {
		"default_lifetime: 90d\nmax_lifetime: 30d\n",
		"max_lifetime: 30d\ndefault_lifetime: 31d\n",
		"default_lifetime: never\nmax_lifetime: 1y\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(load(bad[i], &c), APITOKEN_ERR_CONFIG, "%s",
		    bad[i]);
		cr_assert_null(c);
		cr_assert_not_null(strstr(E.err, "default_lifetime is longer "
		    "than max_lifetime"), "%s", E.err);
		cr_assert_eq(strncmp(E.err, E.conf, strlen(E.conf)), 0, "%s",
		    E.err);
	}
	c = load_ok("default_lifetime: 30d\nmax_lifetime: 30d\n");
	cr_assert_eq(apitoken_config_default_lifetime(c), 30 * DAY);
	apitoken_config_free(c);
}

/* ------------------------------------------------ issue 15 item 2 */

Test(config_keys, builtin_aliases_are_debians_pairs)
{
	struct apitoken_config *c = load_ok("");

	cr_assert_eq(apitoken_config_service_covers(c, "su", "su-l"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "sudo", "sudo-i"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "su", "su"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "sshd", "sshd"), 1);
	/* one way only, and nothing else */
	cr_assert_eq(apitoken_config_service_covers(c, "su-l", "su"), 0);
	cr_assert_eq(apitoken_config_service_covers(c, "sudo-i", "sudo"), 0);
	cr_assert_eq(apitoken_config_service_covers(c, "su", "sudo-i"), 0);
	cr_assert_eq(apitoken_config_service_covers(c, "sudo", "su-l"), 0);
	cr_assert_eq(apitoken_config_service_covers(c, "su", "su-"), 0);
	cr_assert_str_eq(apitoken_config_service_alias(c, "su", 0), "su-l");
	cr_assert_null(apitoken_config_service_alias(c, "su", 1));
	cr_assert_str_eq(apitoken_config_service_alias(c, "sudo", 0),
	    "sudo-i");
	cr_assert_null(apitoken_config_service_alias(c, "sshd", 0));
	apitoken_config_free(c);
}

Test(config_keys, explicit_aliases_replace_the_builtin_ones)
{
	struct apitoken_config *c = load_ok("service_aliases:\n"
	    "  login: [sshd, 'su-l']\n"
	    "  cron: []\n"
	    "  a: [b]\n"
	    "  b: [c]\n");

	cr_assert_eq(apitoken_config_service_covers(c, "login", "sshd"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "login", "su-l"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "su", "su-l"), 0);
	cr_assert_eq(apitoken_config_service_covers(c, "sudo", "sudo-i"), 0);
	/* not transitive */
	cr_assert_eq(apitoken_config_service_covers(c, "a", "b"), 1);
	cr_assert_eq(apitoken_config_service_covers(c, "a", "c"), 0);
	cr_assert_str_eq(apitoken_config_service_alias(c, "login", 0), "sshd");
	cr_assert_str_eq(apitoken_config_service_alias(c, "login", 1), "su-l");
	cr_assert_null(apitoken_config_service_alias(c, "login", 2));
	cr_assert_null(apitoken_config_service_alias(c, "cron", 0));
	apitoken_config_free(c);
	c = load_ok("service_aliases: {}\n");
	cr_assert_eq(apitoken_config_service_covers(c, "su", "su-l"), 0);
	cr_assert_null(apitoken_config_service_alias(c, "su", 0));
	apitoken_config_free(c);
}

Test(config_keys, bad_aliases_name_their_line)
{
	load_bad("service_aliases: su\n", 3, "expected a mapping");
	load_bad("service_aliases:\n  - su\n", 4, "expected a mapping");
	load_bad("service_aliases:\n  su: su-l\n", 4,
	    "\"su\": expected a list");
	load_bad("service_aliases:\n  su:\n    - su-l\n    - [x]\n", 6,
	    "expected a list");
	load_bad("service_aliases:\n  su: [su-l]\n  'bad name': [x]\n", 5,
	    "a key must be a PAM service name");
	load_bad("service_aliases:\n  su: [su-l, 'a/b']\n", 4,
	    "expected a list of PAM service names");
	load_bad("service_aliases:\n  su: [su-l]\n  su: [x]\n", 5,
	    "given twice");
	load_bad("service_aliases:\n  su: [su-l, su-l]\n", 4, "listed twice");
	load_bad("service_aliases:\n  su: [su]\n", 4, "not an alias of itself");
	load_bad("service_aliases: {}\nservice_aliases: {}\n", 4,
	    "given twice");
	load_bad("service_aliases:\n  su: [\"a\\0b\"]\n", 4, "expected a list");
}

Test(config_keys, alias_limit)
{
	struct apitoken_config *c = NULL;
	char *text = malloc(64 * 1024);
	size_t n = 0, i;

	cr_assert_not_null(text);
	n += (size_t)sprintf(text + n, "service_aliases:\n  s: [");
	for (i = 0; i < 256; i++)
		n += (size_t)sprintf(text + n, "%sa%zu", i ? ", " : "", i);
	sprintf(text + n, "]\n");
	c = load_ok(text);
	cr_assert_eq(apitoken_config_service_covers(c, "s", "a255"), 1);
	apitoken_config_free(c);
	sprintf(text + n, ", one-more]\n");
	load_bad(text, 4, "limit of 256");
	free(text);
}

static void
self_service_same(const struct apitoken_self_service *a,
    const struct apitoken_self_service *b)
{
	cr_assert_eq(a->enabled, b->enabled);
	cr_assert_eq(a->n_services, b->n_services);
	cr_assert_eq(a->max_lifetime, b->max_lifetime);
	cr_assert_eq(a->max_tokens, b->max_tokens);
	cr_assert_eq(a->from_required, b->from_required);
	cr_assert_eq(a->n_users, b->n_users);
	cr_assert_eq(a->n_groups, b->n_groups);
	cr_assert_str_eq(a->reauth_service, b->reauth_service);
}

/* The shipped file's comment says its values are the defaults. */
Test(config_keys, shipped_config_equals_builtin_defaults)
{
	struct apitoken_config *shipped = NULL, *builtin = NULL;
	size_t len = 0;
	char *text = tl_read_file(SRC_DIR "/conf/apitoken.yaml", &len);

	cr_assert_not_null(text);
	tl_write_file(E.conf, text, len, 0600);
	free(text);
	cr_assert_eq(apitoken_config_load(E.conf, &shipped, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	tl_write_file(E.conf, "", 0, 0600);
	cr_assert_eq(apitoken_config_load(E.conf, &builtin, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	cr_assert_str_eq(apitoken_config_store(shipped),
	    apitoken_config_store(builtin));
	cr_assert_str_eq(apitoken_config_state_dir(shipped),
	    apitoken_config_state_dir(builtin));
	cr_assert_str_eq(apitoken_config_token_prefix(shipped),
	    apitoken_config_token_prefix(builtin));
	cr_assert_eq(apitoken_config_default_lifetime(shipped),
	    apitoken_config_default_lifetime(builtin));
	cr_assert_eq(apitoken_config_max_lifetime(shipped),
	    apitoken_config_max_lifetime(builtin));
	cr_assert_eq(apitoken_config_lock_timeout_ms(shipped),
	    apitoken_config_lock_timeout_ms(builtin));
	cr_assert_eq(apitoken_config_max_store_size(shipped),
	    apitoken_config_max_store_size(builtin));
	cr_assert_str_eq(apitoken_config_service_alias(shipped, "su", 0),
	    "su-l");
	cr_assert_str_eq(apitoken_config_service_alias(shipped, "sudo", 0),
	    "sudo-i");
	cr_assert_null(apitoken_config_service_alias(shipped, "su", 1));
	cr_assert_null(apitoken_config_service_alias(shipped, "sudo", 1));
	self_service_same(apitoken_config_self_service(shipped),
	    apitoken_config_self_service(builtin));
	cr_assert_null(apitoken_config_host_group(shipped, 0));
	cr_assert_str_eq(apitoken_config_host_name(shipped),
	    apitoken_config_host_name(builtin));
	apitoken_config_free(shipped);
	apitoken_config_free(builtin);
}

/* ---------------------------------- service_aliases in verify */

struct su_token {
	char s[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_token parts;
	char hash[APITOKEN_HASH_MAX];
};

/* A store holding one token of alice's limited to service su. */
static void
su_store(struct su_token *t)
{
	struct apitoken_record *r;

	cr_assert_eq(apitoken_token_generate(APITOKEN_DEFAULT_PREFIX, t->s,
	    sizeof(t->s), &t->parts, t->hash), 0);
	r = tu_record(t->parts.id, "alice", NULL);
	cr_assert_eq(apitoken_record_set(&r->hash, t->hash), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "su"), 0);
	tu_store_build(E.cfg, &r, 1);
	apitoken_record_free(r);
}

static enum apitoken_reason
verify_for(const struct su_token *t, const char *service)
{
	struct apitoken_request req = { "alice", service, NULL, 0 };
	struct apitoken_store *s = NULL;
	struct apitoken_result res, once;
	enum apitoken_reason r;

	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	r = apitoken_verify(s, t->s, strlen(t->s), &req, &res);
	apitoken_store_close(s);
	cr_assert_eq(apitoken_verify_once(E.cfg, t->s, strlen(t->s), &req,
	    &once), r, "verify_once disagrees for %s", service);
	return r;
}

Test(config_keys, verify_accepts_a_su_token_for_su_l)
{
	struct su_token t;

	su_store(&t);
	cr_assert_eq(verify_for(&t, "su"), APITOKEN_ACCEPTED);
	cr_assert_eq(verify_for(&t, "su-l"), APITOKEN_ACCEPTED);
	cr_assert_eq(verify_for(&t, "sudo-i"), APITOKEN_R_SERVICE);
	cr_assert_eq(verify_for(&t, "sshd"), APITOKEN_R_SERVICE);
	apitoken_token_clear(&t.parts);
}

Test(config_keys, verify_without_aliases_refuses_su_l)
{
	struct su_token t;

	tu_env_reconfig(&E, "service_aliases: {}\n");
	su_store(&t);
	cr_assert_eq(verify_for(&t, "su"), APITOKEN_ACCEPTED);
	cr_assert_eq(verify_for(&t, "su-l"), APITOKEN_R_SERVICE);
	tu_env_reconfig(&E, "service_aliases:\n  su: [login]\n");
	cr_assert_eq(verify_for(&t, "su-l"), APITOKEN_R_SERVICE);
	cr_assert_eq(verify_for(&t, "login"), APITOKEN_ACCEPTED);
	apitoken_token_clear(&t.parts);
}
