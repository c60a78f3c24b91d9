/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hosts.c - scoping a token to hosts (issue 13): the hosts column
 * in the store codec (round trip, left out when empty, a store written
 * before the column still loads and is upgraded by the next write), the
 * syntax of host names, patterns and @groups, the config keys host_name
 * and host_groups, and the match in the one verify path (reason
 * host-not-allowed, after owner, before service).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define NOW ((time_t)1750000000)

static struct tu_env E;

static void
setup(void)
{
	tl_watchdog(30);
	tu_env_setup(&E, "host_name: build-7.eu.example.com\n"
	    "host_groups: [build, eu]\n");
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(hosts, .init = setup, .fini = teardown);

static struct apitoken_record *
with_hosts(const char *id, const char *const *h, size_t n)
{
	struct apitoken_record *r = tu_record(id, "alice", "s3cr3t");
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts,
		    h[i]), 0);
	return r;
}

static size_t
count_tabs(const char *s, size_t n)
{
	size_t i, t = 0;

	for (i = 0; i < n; i++)
		t += s[i] == '\t';
	return t;
}

/* ------------------------------------------------------------ codec */

Test(hosts, codec_round_trip_with_hosts)
{
	static const char *const h[] = { "db-1", "build-*", "@eu",
	    "web[0-9].example.com" };
	struct apitoken_record *r = with_hosts("Ab3dEf6hIj9K", h, 4), *p;
	char *line = NULL, *again = NULL, err[TU_ERRLEN] = "";
	size_t n, n2, i;

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	cr_assert_eq(count_tabs(line, n), 16, "17 fields: %s", line);
	cr_assert_not_null(strstr(line, "\tdb-1,build-*,@eu,"
	    "web[0-9].example.com\n"), "%s", line);
	cr_assert_eq(apitoken_record_parse(line, n, &p, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(p->n_hosts, 4);
	for (i = 0; i < 4; i++)
		cr_assert_str_eq(p->hosts[i], h[i]);
	cr_assert_eq(apitoken_record_format(p, &again, &n2), 0);
	cr_assert(n == n2 && memcmp(line, again, n) == 0, "not identical");
	free(line);
	free(again);
	apitoken_record_free(p);
	apitoken_record_free(r);
}

Test(hosts, codec_leaves_out_an_empty_hosts_column)
{
	struct apitoken_record *r = with_hosts("Ab3dEf6hIj9K", NULL, 0), *p;
	char *line = NULL, *bad, err[TU_ERRLEN] = "";
	size_t n;

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	cr_assert_eq(count_tabs(line, n), 15, "16 fields, as v1: %s", line);
	cr_assert_eq(apitoken_record_parse(line, n, &p, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(p->n_hosts, 0);
	apitoken_record_free(p);
	/* an empty 17th column is a second spelling: refused */
	bad = malloc(n + 2);
	cr_assert_not_null(bad);
	memcpy(bad, line, n - 1);
	memcpy(bad + n - 1, "\t\n", 3);
	p = (struct apitoken_record *)1;
	cr_assert_lt(apitoken_record_parse(bad, n + 1, &p, err, sizeof(err)),
	    0);
	cr_assert_null(p);
	cr_assert_not_null(strstr(err, "hosts"), "%s", err);
	free(bad);
	free(line);
	apitoken_record_free(r);
}

Test(hosts, codec_refuses_a_bad_hosts_column)
{
	static const char *const bad[] = { "bad_host", "a..b", "-a", "@",
	    "@no/slash", "x,", ",x", "a,a", "[z-a]", "[]", "b[0-9" };
	struct apitoken_record *r = with_hosts("Ab3dEf6hIj9K", NULL, 0), *p;
	char *line = NULL, buf[512], err[TU_ERRLEN];
	size_t n, i;

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	line[n - 1] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s\t%s", line, bad[i]);
		p = NULL;
		err[0] = '\0';
		cr_expect_lt(apitoken_record_parse(buf, strlen(buf), &p, err,
		    sizeof(err)), 0, "accepted hosts \"%s\"", bad[i]);
		apitoken_record_free(p);
	}
	free(line);
	apitoken_record_free(r);
}

/* ------------------------------------------------ old store format */

/* A store as a library without hosts wrote it: the 16-column header. */
static void
write_old_store(const struct apitoken_record *r)
{
	const char *hdr = apitoken_store_header();
	char *line = NULL, buf[4096];
	size_t n, hl = strlen(hdr) - strlen("\thosts");

	cr_assert_str_eq(hdr + hl, "\thosts");
	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	snprintf(buf, sizeof(buf), "%.*s\n%s#end\n", (int)hl, hdr, line);
	tl_write_str(E.store, buf, 0600);
	free(line);
}

Test(hosts, a_store_without_the_column_loads_with_hosts_empty)
{
	struct apitoken_record *r = tu_record("Ab3dEf6hIj9K", "alice", "x");
	struct apitoken_store *s = NULL;
	struct apitoken_record *got = NULL;

	write_old_store(r);
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	cr_assert_eq(apitoken_store_find(s, r->id, &got, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	cr_assert_eq(got->n_hosts, 0);
	apitoken_record_free(got);
	apitoken_store_close(s);
	apitoken_record_free(r);
}

Test(hosts, the_next_write_names_the_column_and_keeps_old_lines)
{
	static const char *const h[] = { "@build" };
	struct apitoken_record *old = tu_record("Ab3dEf6hIj9K", "alice", "x");
	struct apitoken_record *neu = with_hosts("Zb3dEf6hIj9K", h, 1);
	struct apitoken_txn *txn = NULL;
	struct apitoken_store *s = NULL;
	struct apitoken_record *got = NULL;
	char *text, *oldline = NULL;
	size_t len, n;

	write_old_store(old);
	cr_assert_eq(apitoken_record_format(old, &oldline, &n), 0);
	cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &txn, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	cr_assert_eq(apitoken_txn_insert(txn, neu, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	cr_assert_eq(apitoken_txn_commit(txn, E.err, sizeof(E.err)), 0, "%s",
	    E.err);
	apitoken_txn_free(txn);
	text = tl_read_file(E.store, &len);
	cr_assert_eq(strncmp(text, apitoken_store_header(),
	    strlen(apitoken_store_header())), 0, "header: %.200s", text);
	cr_assert_not_null(strstr(text, oldline), "old line changed");
	cr_assert_not_null(strstr(text, "\t@build\n"), "%s", text);
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	cr_assert_eq(apitoken_store_find(s, neu->id, &got, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	cr_assert_eq(got->n_hosts, 1);
	cr_assert_str_eq(got->hosts[0], "@build");
	apitoken_record_free(got);
	apitoken_store_close(s);
	free(text);
	free(oldline);
	apitoken_record_free(neu);
	apitoken_record_free(old);
}

Test(hosts, a_header_with_other_columns_is_still_refused)
{
	struct apitoken_store *s = NULL;
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s\tmore\n#end\n",
	    apitoken_store_header());
	tl_write_str(E.store, buf, 0600);
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)),
	    APITOKEN_ERR_STORE_FORMAT);
	cr_assert_not_null(strstr(E.err, "columns"), "%s", E.err);
}

/* ------------------------------------------------------- validation */

Test(hosts, item_syntax)
{
	static const char *const good[] = { "db-1", "DB-1", "a", "1",
	    "build-7.eu.example.com", "10.0.0.1", "build-*", "*",
	    "*.example.com", "web?", "web[0-9]", "web[!0-9a-f]", "x[-a]",
	    "@build", "@eu.west_2-x", "a.b-c.d" };
	static const char *const bad[] = { "", "bad_host", "-db", "db-",
	    "a..b", ".a", "a.", "a b", "a,b", "a/b", "a\\*", "@", "@a b",
	    "@a,b", "@@a", "[z-a]", "[]", "[!]", "w[0-9", "w]", "{a,b}",
	    "caf\xc3\xa9", "a\tb", "!a" };
	char longname[300], longlabel[80];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(apitoken_host_valid(good[i]), 0, "\"%s\"",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(apitoken_host_valid(bad[i]), APITOKEN_ERR_INVALID,
		    "\"%s\"", bad[i]);
	memset(longlabel, 'a', 63);
	longlabel[63] = '\0';
	cr_expect_eq(apitoken_host_name_valid(longlabel), 0);
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	cr_expect_eq(apitoken_host_name_valid(longlabel),
	    APITOKEN_ERR_INVALID, "64-byte label");
	/* 253 bytes in labels of 63: fine; 254: too long */
	memset(longname, 'a', sizeof(longname));
	longname[63] = longname[127] = longname[191] = '.';
	longname[APITOKEN_HOST_MAX] = '\0';
	cr_expect_eq(apitoken_host_name_valid(longname), 0);
	longname[APITOKEN_HOST_MAX] = 'a';
	longname[APITOKEN_HOST_MAX + 1] = '\0';
	cr_expect_eq(apitoken_host_valid(longname), APITOKEN_ERR_INVALID);
	cr_expect_eq(apitoken_host_name_valid("build-*"),
	    APITOKEN_ERR_INVALID, "a pattern is not a host name");
	memset(longlabel, 'g', 65);
	longlabel[0] = '@';
	longlabel[65] = '\0';
	cr_expect_eq(apitoken_host_valid(longlabel), 0, "@ + 64");
	longlabel[65] = 'g';
	longlabel[66] = '\0';
	cr_expect_eq(apitoken_host_valid(longlabel), APITOKEN_ERR_INVALID);
}

Test(hosts, record_check_caps_and_duplicates)
{
	static const char *const two[] = { "db-1", "db-1" };
	struct apitoken_record *r = with_hosts("Ab3dEf6hIj9K", two, 2);
	char err[TU_ERRLEN] = "", name[16];
	int i;

	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strstr(err, "hosts"), "%s", err);
	apitoken_record_free(r);
	r = with_hosts("Ab3dEf6hIj9K", NULL, 0);
	for (i = 0; i < APITOKEN_HOSTS_MAX; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts,
		    name), 0);
	}
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts, "one"),
	    0);
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strstr(err, "hosts: more than 32"), "%s", err);
	apitoken_record_free(r);
}

/* ---------------------------------------------------------- config */

static int
load(const char *extra, struct apitoken_config **c)
{
	char buf[2 * TU_PATHLEN + 1024];

	snprintf(buf, sizeof(buf), "store: %s\nstate_dir: %s\n%s", E.store,
	    E.state, extra);
	tl_write_str(E.conf, buf, 0600);
	*c = NULL;
	E.err[0] = '\0';
	return apitoken_config_load(E.conf, c, E.err, sizeof(E.err));
}

Test(hosts, config_keys)
{
	struct apitoken_config *c;
	char name[256];

	cr_assert_str_eq(apitoken_config_host_name(E.cfg),
	    "build-7.eu.example.com");
	cr_assert_str_eq(apitoken_config_host_group(E.cfg, 0), "build");
	cr_assert_str_eq(apitoken_config_host_group(E.cfg, 1), "eu");
	cr_assert_null(apitoken_config_host_group(E.cfg, 2));
	/* defaults: gethostname(2), no groups */
	cr_assert_eq(load("", &c), 0, "%s", E.err);
	cr_assert_eq(gethostname(name, sizeof(name)), 0);
	if (apitoken_host_name_valid(name) == 0)
		cr_assert_str_eq(apitoken_config_host_name(c), name);
	else
		cr_assert_str_eq(apitoken_config_host_name(c), "");
	cr_assert_null(apitoken_config_host_group(c, 0));
	apitoken_config_free(c);
	cr_assert_eq(load("host_groups: []\n", &c), 0, "%s", E.err);
	cr_assert_null(apitoken_config_host_group(c, 0));
	apitoken_config_free(c);
}

static void
config_bad(const char *extra, const char *line, const char *text)
{
	struct apitoken_config *c;

	cr_expect_eq(load(extra, &c), APITOKEN_ERR_CONFIG, "accepted: %s",
	    extra);
	cr_expect_null(c);
	cr_expect_not_null(strstr(E.err, line), "want %s in: %s", line,
	    E.err);
	cr_expect_not_null(strstr(E.err, text), "want %s in: %s", text,
	    E.err);
	apitoken_config_free(c);
}

Test(hosts, config_errors_name_the_line)
{
	config_bad("host_name: build-*\n", ":3:", "host_name");
	config_bad("host_name: bad_name\n", ":3:", "must be a host name");
	config_bad("host_name: [a]\n", ":3:", "scalar");
	config_bad("host_groups: build\n", ":3:", "list of host group names");
	config_bad("host_groups: [build, 'a b']\n", ":3:", "a b");
	config_bad("host_groups: [build, build]\n", ":3:", "listed twice");
	config_bad("host_groups: [[x]]\n", ":3:", "host group names");
	config_bad("host_groups: [\"@build\"]\n", ":3:", "[A-Za-z0-9._-]");
}

/* --------------------------------------------------------- matching */

static int
allows(const struct apitoken_config *c, const char *item)
{
	char *v[1];

	v[0] = (char *)(uintptr_t)item;
	return apitoken_config_hosts_allow(c, v, 1);
}

Test(hosts, matching_by_name_pattern_and_group)
{
	static const char *const yes[] = { "build-7.eu.example.com",
	    "BUILD-7.EU.example.COM", "build-*", "*.example.com", "*",
	    "build-?.eu.example.com", "build-[0-9].eu.*",
	    "build-[!a-z]*", "@build", "@eu", "*.eu.*" };
	static const char *const no[] = { "build-7", "build-8.eu.example.com",
	    "db-*", "*.example.org", "build-[!0-9]*", "@db", "@Build",
	    "build-7.eu.example.com.x", "?" };
	char *two[2] = { (char *)(uintptr_t)"db-1", (char *)(uintptr_t)"@eu" };
	size_t i;

	cr_assert_eq(apitoken_config_hosts_allow(E.cfg, NULL, 0), 1,
	    "empty: every host");
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect_eq(allows(E.cfg, yes[i]), 1, "%s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_eq(allows(E.cfg, no[i]), 0, "%s", no[i]);
	cr_assert_eq(apitoken_config_hosts_allow(E.cfg, two, 2), 1,
	    "any item suffices");
	two[1] = (char *)(uintptr_t)"@db";
	cr_assert_eq(apitoken_config_hosts_allow(E.cfg, two, 2), 0);
}

/* ------------------------------------------------------ the verify */

struct tok {
	char s[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_token parts;
	char hash[APITOKEN_HASH_MAX];
};

/* One token of alice for hosts (and services, may be NULL) in a store
 * of its own. */
static void
store_one(struct tok *t, const char *host, const char *service)
{
	struct apitoken_record *r;

	cr_assert_eq(apitoken_token_generate(APITOKEN_DEFAULT_PREFIX, t->s,
	    sizeof(t->s), &t->parts, t->hash), 0);
	r = tu_record(t->parts.id, "alice", NULL);
	cr_assert_eq(apitoken_record_set(&r->hash, t->hash), 0);
	if (host != NULL)
		cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts,
		    host), 0);
	if (service != NULL)
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, service), 0);
	unlink(E.store);
	tu_store_build(E.cfg, &r, 1);
	apitoken_record_free(r);
}

static enum apitoken_reason
verify(const struct apitoken_config *c, const struct tok *t,
    const char *user, const char *service)
{
	struct apitoken_request req = { user, service, NULL, NOW };
	struct apitoken_result res;
	struct apitoken_store *s = NULL;
	enum apitoken_reason once, r;

	once = apitoken_verify_once(c, t->s, strlen(t->s), &req, &res);
	cr_assert_eq(apitoken_store_open(c, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	r = apitoken_verify(s, t->s, strlen(t->s), &req, &res);
	apitoken_store_close(s);
	cr_assert_eq(r, once, "verify %d, verify_once %d", r, once);
	return r;
}

Test(hosts, verify_refuses_another_host_with_host_not_allowed)
{
	struct tok t;

	store_one(&t, "db-*", NULL);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_R_HOST);
	cr_assert_str_eq(apitoken_reason_str(APITOKEN_R_HOST),
	    "host-not-allowed");
	store_one(&t, "@build", NULL);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_ACCEPTED);
	store_one(&t, "build-7.eu.example.com", NULL);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_ACCEPTED);
	store_one(&t, NULL, NULL);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_ACCEPTED);
	apitoken_token_clear(&t.parts);
}

Test(hosts, verify_uses_the_configs_groups)
{
	struct apitoken_config *c;
	struct tok t;

	store_one(&t, "@build", NULL);
	cr_assert_eq(load("host_name: db-1\n", &c), 0, "%s", E.err);
	cr_assert_eq(verify(c, &t, "alice", "sshd"), APITOKEN_R_HOST);
	apitoken_config_free(c);
	cr_assert_eq(load("host_name: db-1\nhost_groups: [db, build]\n", &c),
	    0, "%s", E.err);
	cr_assert_eq(verify(c, &t, "alice", "sshd"), APITOKEN_ACCEPTED);
	apitoken_config_free(c);
	apitoken_token_clear(&t.parts);
}

Test(hosts, order_after_owner_before_service)
{
	struct tok t;

	store_one(&t, "db-1", "sudo");
	cr_assert_eq(verify(E.cfg, &t, "bob", "sshd"), APITOKEN_R_WRONG_USER);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_R_HOST);
	store_one(&t, "@eu", "sudo");
	cr_assert_eq(verify(E.cfg, &t, "alice", "sshd"), APITOKEN_R_SERVICE);
	cr_assert_eq(verify(E.cfg, &t, "alice", "sudo"), APITOKEN_ACCEPTED);
	apitoken_token_clear(&t.parts);
}

Test(hosts, record_usable_checks_the_host)
{
	static const char *const h[] = { "db-*" };
	struct apitoken_record *r = with_hosts("Ab3dEf6hIj9K", h, 1);
	struct apitoken_request req = { "alice", "sshd", NULL, NOW };

	cr_assert_eq(apitoken_record_usable(E.cfg, r, &req), APITOKEN_R_HOST);
	apitoken_record_list_clear(&r->hosts, &r->n_hosts);
	cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts, "@eu"),
	    0);
	cr_assert_eq(apitoken_record_usable(E.cfg, r, &req),
	    APITOKEN_ACCEPTED);
	apitoken_record_free(r);
}
