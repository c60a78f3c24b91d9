/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl.c - tokenctl against PostgreSQL (issue 13, "Central store"):
 * db init and db status, a newer schema refused, every verb as with the
 * file store, audit rows, two writers at once, the server down, and
 * only hashes in the database.  A real server per test (tf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tf.h"

#define MAXARG 24

/* One test's PostgreSQL, a config naming it and a twin with a file. */
struct env {
	struct tf_pg *pg;
	char dir[256];
	char cfg[300];		/* postgresql */
	char fcfg[300];		/* the file store, for comparison */
};

struct res {
	int status;
	char *out, *err;
};

static struct env E;

static void
init(void)
{
	tl_watchdog(300);
}

TestSuite(ctl, .init = init);

static void
res_free(struct res *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* tokenctl -c cfg argv[0]... with input on stdin. */
static int
runv(const char *cfg, const char *input, struct res *r,
    const char *const *args)
{
	const char *argv[MAXARG + 4];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	size_t n = 0, i;

	argv[n++] = TL_TOKENCTL;
	argv[n++] = "-c";
	argv[n++] = cfg;
	for (i = 0; args[i] != NULL && i < MAXARG; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	c.argv = argv;
	c.input = input;
	c.timeout_ms = 120000;
	(void)tl_run(&c, &p);
	r->status = p.status;
	r->out = p.out;
	r->err = p.err;
	p.out = p.err = NULL;
	tl_proc_free(&p);
	return r->status;
}

/* The NULL-ended arguments after last into v. */
#define ARGS(v, last) do { \
	va_list ap_; \
	const char *a_; \
	size_t n_ = 0; \
	va_start(ap_, last); \
	while ((a_ = va_arg(ap_, const char *)) != NULL && n_ < MAXARG) \
		(v)[n_++] = a_; \
	(v)[n_] = NULL; \
	va_end(ap_); \
} while (0)

static int
run(const char *cfg, const char *input, struct res *r, ...)
{
	const char *v[MAXARG + 1];

	ARGS(v, r);
	return runv(cfg, input, r, v);
}

/* Run and expect status; the result stays in *r. */
static void
expect(int status, const char *cfg, const char *input, struct res *r, ...)
{
	const char *v[MAXARG + 1];

	ARGS(v, r);
	(void)runv(cfg, input, r, v);
	cr_assert_eq(r->status, status, "tokenctl %s exited %d, not %d\n"
	    "stdout: %s\nstderr: %s", v[0], r->status, status, r->out,
	    r->err);
}

static void
env_start(const char *extra)
{
	char store[300], state[300], *yaml;
	struct res r;

	TL_NEED_ROOT("PostgreSQL runs as the user postgres");
	memset(&E, 0, sizeof(E));
	E.pg = tf_pg_start();
	tl_tmpdir(E.dir, sizeof(E.dir), "tctl");
	yaml = tl_fmt("host_name: adminhost\npostgresql:\n"
	    "  conninfo: \"%s\"\n%s", E.pg->conninfo, extra ? extra : "");
	(void)snprintf(E.cfg, sizeof(E.cfg), "%s/pg.yaml", E.dir);
	(void)snprintf(store, sizeof(store), "%s/db/tokens", E.dir);
	(void)snprintf(state, sizeof(state), "%s/state", E.dir);
	tl_write_config(E.cfg, store, state, yaml, 0600);
	free(yaml);
	(void)snprintf(E.fcfg, sizeof(E.fcfg), "%s/file.yaml", E.dir);
	(void)snprintf(store, sizeof(store), "%s/fdb/tokens", E.dir);
	(void)snprintf(state, sizeof(state), "%s/fstate", E.dir);
	tl_write_config(E.fcfg, store, state, "host_name: adminhost\n",
	    0600);
	expect(0, E.fcfg, NULL, &r, "init", NULL);
	res_free(&r);
}

static void
env_init(void)
{
	struct res r;

	env_start(NULL);
	expect(0, E.cfg, NULL, &r, "db", "init", NULL);
	res_free(&r);
}

static void
env_stop(void)
{
	tf_pg_stop(E.pg);
	(void)tl_rmrf(E.dir);
}

/* psql's answer to sql, trimmed of the final newline (malloc'ed). */
static char *
sql1(const char *sql)
{
	char *out = NULL;
	size_t n;

	cr_assert_eq(tf_psql(E.pg, &out, sql), 0, "psql %s: %s", sql, out);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

/* sql1 of a formatted query. */
static char *
sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
sqlf(const char *fmt, ...)
{
	va_list ap;
	char *q, *s;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&q, fmt, ap), 0);
	va_end(ap);
	s = sql1(q);
	free(q);
	return s;
}

static long
sqlnum(const char *sql)
{
	char *s = sql1(sql);
	long n = strtol(s, NULL, 10);

	free(s);
	return n;
}

/* The ID of a token (apitok_ID_SECRET...). */
static void
token_id(const char *tok, char id[13])
{
	const char *p = strchr(tok, '_');

	cr_assert_not_null(p, "not a token: %s", tok);
	memcpy(id, p + 1, 12);
	id[12] = '\0';
}

/* tokenctl issue ARGS... on cfg: the token (first line) and its ID. */
static void
issue(const char *cfg, char tok[128], char id[13], ...)
{
	const char *v[MAXARG + 2];
	struct res r;

	v[0] = "issue";
	ARGS(v + 1, id);
	(void)runv(cfg, NULL, &r, v);
	cr_assert_eq(r.status, 0, "issue: %d %s", r.status, r.err);
	(void)snprintf(tok, 128, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	token_id(tok, id);
	res_free(&r);
}

/* ------------------------------------------------------------ schema */

Test(ctl, db_init_twice_then_status)
{
	struct res r;
	json_t *j;

	env_start(NULL);
	expect(4, E.cfg, NULL, &r, "list", NULL);
	cr_assert(strstr(r.err, "no apitoken schema; run tokenctl db init"),
	    "%s", r.err);
	res_free(&r);
	expect(0, E.cfg, NULL, &r, "db", "init", NULL);
	cr_assert(strstr(r.out, "created schema version 1 at "), "%s", r.out);
	res_free(&r);
	expect(0, E.cfg, NULL, &r, "db", "init", NULL);
	cr_assert(strstr(r.out, "schema version 1 at ") &&
	    strstr(r.out, "is up to date"), "%s", r.out);
	res_free(&r);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_meta"), 4);
	expect(0, E.cfg, NULL, &r, "issue", "root", "--label", "a", NULL);
	res_free(&r);
	expect(0, E.cfg, NULL, &r, "db", "status", NULL);
	cr_assert(strstr(r.out, "schema version: 1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "tokens:         1 (active 1, disabled 0, "
	    "revoked 0)\n"), "%s", r.out);
	cr_assert(strstr(r.out, "retention 604800s"), "%s", r.out);
	res_free(&r);
	free(sql1("INSERT INTO apitoken_replicas VALUES ('web1', '42', 7, "
	    "now() - interval '5 seconds', '0.1.0')"));
	expect(0, E.cfg, NULL, &r, "db", "status", "--json", NULL);
	j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "schema_version")),
	    1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j,
	    "tokens"), "active")), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j,
	    "changes"), "rows")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "audit_rows")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "replicas"), 0), "host")), "web1");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "replicas"), 0), "cursor_xid")), "42");
	cr_assert_geq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(j, "replicas"), 0), "age_seconds")), 4);
	json_decref(j);
	res_free(&r);
	expect(3, E.fcfg, NULL, &r, "db", "status", NULL);
	cr_assert(strstr(r.err, "no postgresql mapping"), "%s", r.err);
	res_free(&r);
	/* init makes the local replica's directories and points here */
	expect(0, E.cfg, NULL, &r, "init", NULL);
	cr_assert(strstr(r.out, "postgresql is configured: create the "
	    "central store with 'tokenctl db init'"), "%s", r.out);
	res_free(&r);
	env_stop();
}

Test(ctl, a_newer_schema_is_refused_with_a_clear_message)
{
	static const char msg[] = "schema version 2 is newer than this "
	    "tokenctl knows (1); upgrade tokenctl";
	struct res r;

	env_init();
	free(sql1("UPDATE apitoken_meta SET value = '2' "
	    "WHERE key = 'schema_version'"));
	expect(4, E.cfg, NULL, &r, "db", "init", NULL);
	cr_assert(strstr(r.err, msg), "%s", r.err);
	res_free(&r);
	expect(4, E.cfg, NULL, &r, "issue", "root", "--label", "a", NULL);
	cr_assert(strstr(r.err, msg), "%s", r.err);
	res_free(&r);
	expect(4, E.cfg, NULL, &r, "list", NULL);
	cr_assert(strstr(r.err, msg), "%s", r.err);
	res_free(&r);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens"), 0);
	env_stop();
}

Test(ctl, the_change_log_trigger_and_its_retention)
{
	char tok[128], id[13], *s;

	env_init();
	issue(E.cfg, tok, id, "root", "--label", "a", NULL);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_changes"), 1);
	/* a last-use report is no change */
	free(sql1("UPDATE apitoken_tokens SET last_used = 5, "
	    "last_host = 'web1'"));
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_changes"), 1);
	free(sql1("UPDATE apitoken_meta SET value = '0' "
	    "WHERE key = 'retention_seconds'"));
	issue(E.cfg, tok, id, "root", "--label", "b", NULL);
	/* the writer pruned every change older than 0 s, its own kept */
	cr_assert_leq(sqlnum("SELECT count(*) FROM apitoken_changes"), 1);
	s = sql1("SELECT value FROM apitoken_meta WHERE key = 'pruned_seq'");
	cr_assert_str_neq(s, "0", "pruned_seq not recorded");
	free(s);
	env_stop();
}

/* -------------------------------------------------------------- verbs */

/* The same command on both stores: the same exit status and as many
 * lines out; stdout of the PostgreSQL run into *out if not NULL. */
static int
json_lines(const char *const *v)
{
	for (; *v != NULL; v++)
		if (strcmp(*v, "--json") == 0)
			return 1;
	return 0;
}

/* How many records a JSON output holds (an array, or export's form). */
static size_t
json_records(const char *out)
{
	json_t *j = json_loads(out, 0, NULL), *a;
	size_t n;

	cr_assert_not_null(j, "not JSON: %s", out);
	a = json_is_array(j) ? j : json_object_get(j, "records");
	n = json_array_size(a);
	json_decref(j);
	return n;
}

static void
both(const char *input, char **out, ...)
{
	const char *v[MAXARG + 1];
	struct res a, b;

	ARGS(v, out);
	(void)runv(E.cfg, input, &a, v);
	(void)runv(E.fcfg, input, &b, v);
	cr_assert_eq(a.status, b.status, "%s: %d with PostgreSQL, %d with "
	    "the file\n%s%s\n--\n%s%s", v[0], a.status, b.status, a.out,
	    a.err, b.out, b.err);
	if (json_lines(v))	/* PostgreSQL adds last_used_host */
		cr_assert_eq(json_records(a.out), json_records(b.out),
		    "%s: output differs:\n%s\n--\n%s", v[0], a.out, b.out);
	else
		cr_assert_eq(tl_count_lines(a.out), tl_count_lines(b.out),
		    "%s: output differs:\n%s\n--\n%s", v[0], a.out, b.out);
	if (out != NULL) {
		*out = a.out;
		a.out = NULL;
	}
	res_free(&a);
	res_free(&b);
}

/* A token by label on each store. */
struct pair {
	char pt[128], pid[13];	/* PostgreSQL */
	char ft[128], fid[13];	/* file */
};

static void
issue2(struct pair *p, const char *user, const char *label,
    const char *parent_pg, const char *parent_file)
{
	if (parent_pg == NULL) {
		issue(E.cfg, p->pt, p->pid, user, "--label", label, NULL);
		issue(E.fcfg, p->ft, p->fid, user, "--label", label, NULL);
	} else {
		issue(E.cfg, p->pt, p->pid, user, "--label", label,
		    "--parent", parent_pg, NULL);
		issue(E.fcfg, p->ft, p->fid, user, "--label", label,
		    "--parent", parent_file, NULL);
	}
}

/* A command with a token ID on both stores (the IDs differ). */
static void
both_id(const struct pair *p, int status, const char *verb,
    const char *opt, const char *arg)
{
	struct res a, b;

	(void)run(E.cfg, NULL, &a, verb, p->pid, opt, arg, NULL);
	(void)run(E.fcfg, NULL, &b, verb, p->fid, opt, arg, NULL);
	cr_assert_eq(a.status, status, "%s with PostgreSQL: %d\n%s%s", verb,
	    a.status, a.out, a.err);
	cr_assert_eq(b.status, status, "%s with the file: %d\n%s%s", verb,
	    b.status, b.out, b.err);
	cr_assert_eq(tl_count_lines(a.out), tl_count_lines(b.out),
	    "%s: output differs:\n%s\n--\n%s", verb, a.out, b.out);
	res_free(&a);
	res_free(&b);
}

static char *
status_of(const char *id)
{
	return sqlf("SELECT status FROM apitoken_tokens WHERE id = '%s'", id);
}

Test(ctl, every_verb_works_against_postgresql_as_with_the_file)
{
	struct pair a, b, c, d;
	char *out, *s;

	env_init();
	issue2(&a, "root", "alpha", NULL, NULL);
	issue2(&b, "root", "beta", a.pid, a.fid);
	issue2(&c, "root", "gamma", b.pid, b.fid);
	issue2(&d, "nobody", "delta", NULL, NULL);
	/* the label rule, enforced by the library in the locked copy */
	both(NULL, NULL, "issue", "root", "--label", "alpha", NULL);
	both("{\"user\":\"root\",\"label\":\"b1\"}\n"
	    "{\"user\":\"root\",\"label\":\"b2\"}\n", NULL,
	    "issue", "--batch", "-", NULL);
	both("{\"user\":\"root\",\"label\":\"b3\"}\n"
	    "{\"user\":\"root\",\"label\":\"b3\"}\n", NULL,
	    "issue", "--batch", "-", NULL);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens"), 6);
	both_id(&a, 0, "edit", "--description", "hello");
	s = sqlf("SELECT line LIKE '%%hello%%' FROM apitoken_tokens "
	    "WHERE id = '%s'", a.pid);
	cr_assert_str_eq(s, "t");
	free(s);
	both_id(&d, 0, "disable", NULL, NULL);
	cr_assert_str_eq((s = status_of(d.pid)), "disabled");
	free(s);
	both_id(&d, 0, "enable", NULL, NULL);
	cr_assert_str_eq((s = status_of(d.pid)), "active");
	free(s);
	/* revoke cascades to b and c; revoked is final */
	both_id(&a, 0, "revoke", "--reason", "test");
	cr_assert_str_eq((s = status_of(c.pid)), "revoked");
	free(s);
	both_id(&a, 1, "enable", NULL, NULL);
	both_id(&b, 1, "rotate", NULL, NULL);
	both_id(&d, 0, "rotate", NULL, NULL);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens WHERE "
	    "user_name = 'nobody' AND status = 'active'"), 1);
	both(NULL, NULL, "revoke", "--user", "nobody", NULL);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens WHERE "
	    "user_name = 'nobody' AND status <> 'revoked'"), 0);
	/* revoke --token-stdin: the secret must match */
	issue2(&d, "root", "epsilon", NULL, NULL);
	{
		struct res r1, r2;

		expect(0, E.cfg, d.pt, &r1, "revoke", "--token-stdin", NULL);
		expect(0, E.fcfg, d.ft, &r2, "revoke", "--token-stdin", NULL);
		res_free(&r1);
		res_free(&r2);
		cr_assert_str_eq((s = status_of(d.pid)), "revoked");
		free(s);
	}
	issue2(&d, "root", "zeta", NULL, NULL);
	(void)snprintf(d.pt + strlen(d.pt) - 3, 4, "AAA");
	(void)snprintf(d.ft + strlen(d.ft) - 3, 4, "AAA");
	{
		struct res r1, r2;

		(void)run(E.cfg, d.pt, &r1, "revoke", "--token-stdin", NULL);
		(void)run(E.fcfg, d.ft, &r2, "revoke", "--token-stdin", NULL);
		cr_assert_eq(r1.status, r2.status, "%s / %s", r1.err, r2.err);
		cr_assert_neq(r1.status, 0);
		res_free(&r1);
		res_free(&r2);
	}
	both_id(&c, 0, "delete", NULL, NULL);
	cr_assert_str_eq((s = sqlf("SELECT count(*) FROM apitoken_tokens "
	    "WHERE id = '%s'", c.pid)), "0");
	free(s);
	both(NULL, &out, "list", NULL);
	free(out);
	both(NULL, &out, "list", "--status", "revoked", "--json", NULL);
	free(out);
	both_id(&a, 0, "show", NULL, NULL);
	both(NULL, NULL, "prune", NULL);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens "
	    "WHERE status = 'revoked'"), 0);
	/* export, then import into an empty central store */
	both(NULL, &out, "export", "--json", NULL);
	free(sql1("TRUNCATE apitoken_tokens"));
	{
		struct res r;

		expect(0, E.cfg, out, &r, "import", "-", NULL);
		res_free(&r);
		expect(0, E.cfg, NULL, &r, "export", "--json", NULL);
		cr_assert_str_eq(r.out, out);
		res_free(&r);
	}
	free(out);
	env_stop();
}

Test(ctl, audit_rows_say_what_which_token_who_where_and_when)
{
	char tok[128], id[13], *s, *q;
	struct res r;

	env_init();
	issue(E.cfg, tok, id, "root", "--label", "a", NULL);
	expect(0, E.cfg, NULL, &r, "revoke", id, NULL);
	res_free(&r);
	q = tl_fmt("SELECT string_agg(action || ' ' || token_id || ' ' || "
	    "actor || ' ' || host || ' ' || detail || ' ' || "
	    "(at > now() - interval '5 minutes'), ',' ORDER BY seq) "
	    "FROM apitoken_audit");
	s = sql1(q);
	free(q);
	q = tl_fmt("issue %s root adminhost created status=active true,"
	    "revoke %s root adminhost updated status=revoked true", id, id);
	cr_assert_str_eq(s, q);
	free(s);
	free(q);
	expect(0, E.cfg, NULL, &r, "delete", id, NULL);
	res_free(&r);
	s = sql1("SELECT action || ' ' || detail FROM apitoken_audit "
	    "ORDER BY seq DESC LIMIT 1");
	cr_assert_str_eq(s, "delete deleted");
	free(s);
	env_stop();
}

Test(ctl, list_and_show_give_the_fleet_wide_last_use_and_its_host)
{
	char tok[128], id[13];
	struct res r;
	json_t *j;

	env_init();
	issue(E.cfg, tok, id, "root", "--label", "a", NULL);
	expect(0, E.cfg, NULL, &r, "show", id, NULL);
	cr_assert(strstr(r.out, "last used:     never\n"), "%s", r.out);
	res_free(&r);
	free(sqlf("UPDATE apitoken_tokens SET last_used = %lld, "
	    "last_host = 'web7' WHERE id = '%s'", (long long)time(NULL) - 600,
	    id));
	expect(0, E.cfg, NULL, &r, "show", id, NULL);
	cr_assert(strstr(r.out, "(10m ago) on web7\n"), "%s", r.out);
	res_free(&r);
	expect(0, E.cfg, NULL, &r, "list", NULL);
	cr_assert(strstr(r.out, "(10m ago) on web7"), "%s", r.out);
	res_free(&r);
	expect(0, E.cfg, NULL, &r, "show", id, "--json", NULL);
	j = json_loads(r.out, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(j,
	    "last_used_host")), "web7");
	cr_assert(json_is_string(json_object_get(j, "last_used")));
	json_decref(j);
	res_free(&r);
	env_stop();
}

/* ------------------------------------------------------ two writers */

/* A child: n issues of user with labels "<prefix>N"; exits with the
 * number that failed with a status other than reject (1). */
static void
writer(const char *prefix, int n, int *rejected)
{
	char label[32];
	struct res r;
	int i, bad = 0, rej = 0;

	for (i = 0; i < n; i++) {
		(void)snprintf(label, sizeof(label), "%s%d", prefix, i);
		(void)run(E.cfg, NULL, &r, "issue", "root", "--label", label,
		    NULL);
		if (r.status == 1)
			rej++;
		else if (r.status != 0) {
			fprintf(stderr, "writer %s: %d %s", label, r.status,
			    r.err);
			bad++;
		}
		res_free(&r);
	}
	if (rejected != NULL)
		*rejected = rej;
	_exit(bad > 0 ? 100 + bad : rej);
}

static int
reap(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(ctl, two_writers_at_once_lose_no_update_and_keep_the_label_rule)
{
	pid_t a, b;
	int ra, rb;

	env_init();
	if ((a = tl_fork()) == 0)
		writer("a", 15, NULL);
	if ((b = tl_fork()) == 0)
		writer("b", 15, NULL);
	ra = reap(a);
	rb = reap(b);
	cr_assert_eq(ra, 0, "writer a: %d", ra);
	cr_assert_eq(rb, 0, "writer b: %d", rb);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens"), 30);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_audit"), 30);
	/* the same labels at once: one live token per label, the other
	 * writer refused (exit 1) */
	if ((a = tl_fork()) == 0)
		writer("s", 10, NULL);
	if ((b = tl_fork()) == 0)
		writer("s", 10, NULL);
	ra = reap(a);
	rb = reap(b);
	cr_assert_lt(ra, 100, "writer a failed");
	cr_assert_lt(rb, 100, "writer b failed");
	cr_assert_eq(ra + rb, 10, "refused: %d + %d", ra, rb);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens "
	    "WHERE label LIKE 's%'"), 10);
	cr_assert_eq(sqlnum("SELECT count(*) FROM (SELECT label FROM "
	    "apitoken_tokens WHERE status <> 'revoked' GROUP BY label "
	    "HAVING count(*) > 1) x"), 0);
	env_stop();
}

/* ------------------------------------------------------ server down */

Test(ctl, with_the_server_stopped_tokenctl_names_it_and_exits_4)
{
	char tok[128], id[13], *want;
	struct res r;

	env_init();
	issue(E.cfg, tok, id, "root", "--label", "a", NULL);
	tf_pg_pause(E.pg);
	want = tl_fmt("PostgreSQL server at %s/.s.PGSQL.5432: ", E.pg->dir);
	expect(4, E.cfg, NULL, &r, "list", NULL);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert(strncmp(r.err, "tokenctl list: ", 15) == 0, "%s", r.err);
	res_free(&r);
	expect(4, E.cfg, NULL, &r, "issue", "root", "--label", "b", NULL);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert_str_eq(r.out, "", "a token printed: %s", r.out);
	res_free(&r);
	expect(4, E.cfg, NULL, &r, "revoke", id, NULL);
	cr_assert(strstr(r.err, want), "%s", r.err);
	res_free(&r);
	expect(4, E.cfg, NULL, &r, "db", "status", NULL);
	res_free(&r);
	free(want);
	tf_pg_resume(E.pg);
	expect(0, E.cfg, NULL, &r, "revoke", id, NULL);
	res_free(&r);
	env_stop();
}

/* ---------------------------------------------------------- secrets */

Test(ctl, only_hashes_are_in_the_database)
{
	char tok[4][128], id[13], *dump;
	struct res r;
	int i;

	env_init();
	issue(E.cfg, tok[0], id, "root", "--label", "a", NULL);
	issue(E.cfg, tok[1], id, "root", "--label", "b", "--parent", id,
	    NULL);
	expect(0, E.cfg, NULL, &r, "rotate", id, NULL);
	(void)snprintf(tok[2], sizeof(tok[2]), "%.*s",
	    (int)strcspn(r.out, "\n"), r.out);
	res_free(&r);
	expect(0, E.cfg, "{\"user\":\"root\",\"label\":\"c\"}\n", &r,
	    "issue", "--batch", "-", NULL);
	(void)snprintf(tok[3], sizeof(tok[3]), "%.*s",
	    (int)strcspn(r.out, "\n"), r.out);
	res_free(&r);
	dump = sql1("SELECT string_agg(x, E'\\n') FROM ("
	    "SELECT t::text AS x FROM apitoken_tokens t UNION ALL "
	    "SELECT c::text FROM apitoken_changes c UNION ALL "
	    "SELECT a::text FROM apitoken_audit a UNION ALL "
	    "SELECT m::text FROM apitoken_meta m UNION ALL "
	    "SELECT r::text FROM apitoken_replicas r) y");
	cr_assert(strstr(dump, "sha256"), "no hashes? %s", dump);
	for (i = 0; i < 4; i++) {
		/* the secret part: after the second '_' */
		const char *sec = strchr(strchr(tok[i], '_') + 1, '_') + 1;
		char part[17];

		cr_assert_gt(strlen(sec), 16, "%s", tok[i]);
		memcpy(part, sec, 16);
		part[16] = '\0';
		cr_assert_null(strstr(dump, part), "a secret is in the "
		    "database: %s", tok[i]);
	}
	free(dump);
	env_stop();
}

/* ------------------------------------------------------------ roles */

Test(ctl, the_hosts_role_reads_and_reports_but_cannot_write)
{
	char tok[128], id[13], *s;
	struct res r;

	env_init();
	free(sql1("CREATE ROLE fleet_admin; CREATE ROLE fleet_hosts"));
	expect(0, E.cfg, NULL, &r, "db", "init", "--admin-role",
	    "fleet_admin", "--hosts-role", "fleet_hosts", NULL);
	cr_assert(strstr(r.out, "granted the hosts' role fleet_hosts"), "%s",
	    r.out);
	res_free(&r);
	issue(E.cfg, tok, id, "root", "--label", "a", NULL);
	s = sql1("SET ROLE fleet_hosts; SELECT count(*) FROM apitoken_tokens, "
	    "apitoken_changes, apitoken_meta; UPDATE apitoken_tokens SET "
	    "last_used = 1, last_host = 'h'; INSERT INTO apitoken_replicas "
	    "(host) VALUES ('h'); UPDATE apitoken_replicas SET cursor_seq = 1");
	free(s);
	cr_assert_neq(tf_psql(E.pg, &s, "SET ROLE fleet_hosts; UPDATE "
	    "apitoken_tokens SET line = 'x'"), 0, "hosts changed a line");
	cr_assert(strstr(s, "permission denied"), "%s", s);
	free(s);
	cr_assert_neq(tf_psql(E.pg, &s, "SET ROLE fleet_hosts; SELECT * "
	    "FROM apitoken_audit"), 0, "hosts read the audit log");
	free(s);
	/* the administrators' role can do what tokenctl does */
	s = sql1("SET ROLE fleet_admin; BEGIN; INSERT INTO apitoken_tokens "
	    "(id, user_name, label, status, line) SELECT 'x' || id, "
	    "user_name, 'l2', status, line FROM apitoken_tokens; "
	    "INSERT INTO apitoken_audit (actor, host, action) VALUES "
	    "('a', 'h', 'x'); DELETE FROM apitoken_changes; "
	    "UPDATE apitoken_meta SET value = value; ROLLBACK");
	free(s);
	env_stop();
}

/* A statement the server refuses in the middle of a large write: the
 * whole write is rolled back and the message is the server's. */
Test(ctl, a_refused_row_in_a_large_write_rolls_it_all_back)
{
	char *batch = NULL, *line;
	size_t len = 0;
	struct res r;
	FILE *f;
	int i;

	env_init();
	free(sql1("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql "
	    "AS $$BEGIN IF NEW.label = 'l300' THEN RAISE EXCEPTION "
	    "'no label l300 here'; END IF; RETURN NEW; END$$; "
	    "CREATE TRIGGER boom BEFORE INSERT ON apitoken_tokens "
	    "FOR EACH ROW EXECUTE FUNCTION boom()"));
	cr_assert_not_null(f = open_memstream(&batch, &len));
	for (i = 0; i < 600; i++)
		fprintf(f, "{\"user\":\"root\",\"label\":\"l%d\"}\n", i);
	fclose(f);
	expect(4, E.cfg, batch, &r, "issue", "--batch", "-", NULL);
	cr_assert(strstr(r.err, "no label l300 here"), "%s", r.err);
	cr_assert_str_eq(r.out, "", "tokens printed for a failed write");
	res_free(&r);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens"), 0);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_audit"), 0);
	/* and 600 at once go through */
	free(sql1("DROP TRIGGER boom ON apitoken_tokens"));
	expect(0, E.cfg, batch, &r, "issue", "--batch", "-", NULL);
	for (i = 0, line = r.out; (line = strchr(line, '\n')) != NULL; line++)
		i++;
	cr_assert_eq(i, 600);
	res_free(&r);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_tokens"), 600);
	cr_assert_eq(sqlnum("SELECT count(*) FROM apitoken_audit"), 600);
	free(batch);
	env_stop();
}

/* ------------------------------------------------- killed writers */

/* A private copy dir as a writer of pid would leave it, with a file. */
static char *
fake_copy(long pid, uid_t uid)
{
	char *dir = tl_fmt("/tmp/tokenctl.%ld.Zq9xYw", pid), *f;

	cr_assert_eq(mkdir(dir, 0700), 0, "%s: %s", dir, strerror(errno));
	f = tl_fmt("%s/store", dir);
	tl_write_file(f, "a copy\n", 7, 0600);
	free(f);
	cr_assert_eq(chown(dir, uid, (gid_t)-1), 0);
	return dir;
}

static int
gone(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) != 0 && errno == ENOENT;
}

static void
rm_fake(char *dir)
{
	char *f = tl_fmt("%s/store", dir);

	(void)unlink(f);
	(void)rmdir(dir);
	free(f);
	free(dir);
}

/* The copy of a tokenctl that was killed in a write is removed by the
 * next write; a running writer's and another user's copies are not. */
Test(ctl, a_killed_writers_private_copy_is_removed_by_the_next_write)
{
	char tok[128], id[13], *dead, *live, *other;
	pid_t p;
	int st;

	env_init();
	cr_assert_geq(p = fork(), 0);
	if (p == 0)
		_exit(0);
	cr_assert_eq(waitpid(p, &st, 0), p);	/* p runs no more */
	dead = fake_copy((long)p, 0);
	live = fake_copy((long)getpid(), 0);
	cr_assert_geq(p = fork(), 0);
	if (p == 0)
		_exit(0);
	cr_assert_eq(waitpid(p, &st, 0), p);
	other = fake_copy((long)p, 65534);
	issue(E.cfg, tok, id, "root", "--label", "after a kill", NULL);
	cr_assert(gone(dead), "%s is still there", dead);
	cr_assert_not(gone(live), "a running writer's copy was removed");
	cr_assert_not(gone(other), "another user's copy was removed");
	rm_fake(dead);
	rm_fake(live);
	rm_fake(other);
	env_stop();
}
