/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_e2e.c - the fleet end to end (issue 13, "Tested end to end"): a
 * real PostgreSQL server (tf.h), three replica hosts on this machine
 * (apitokend per host, td.h: its own config, host_name, host_groups,
 * local store and socket) and two administrators' hosts (tokenctl
 * configs only).  Logins go through real libpam and the PAM module
 * reading each replica's store (mode=local: the login path of a host).
 * Set up as docs/fleet.md says: the schema's owner runs tokenctl db
 * init granting the administrators' and the hosts' roles their part (the
 * guide's GRANT block, read from it, is run too); the administrators'
 * tokenctl and every replica log in with those roles only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <security/pam_appl.h>

#include "pam/util.h"
#include "daemon/td.h"
#include "tf.h"

#define NHOSTS 3
#define NADMINS 2

/* The issue's bound from commit to refusal on every replica; ASan
 * slows every process down several times (the watchdog still bounds
 * the test there). */
#if defined(__SANITIZE_ADDRESS__)
#define PROPAGATION_MS 10000
#else
#define PROPAGATION_MS 1000
#endif

static const char *const host_name[NHOSTS] = { "web-1", "build-1", "db-1" };
static const char *const host_groups[NHOSTS] = { "[eu]", "[build, eu]",
    "[us]" };

static struct tf_pg *PG;
static struct td *H[NHOSTS];
static struct fixture fx;
static char admin_dir[200];
static char admin_conf[NADMINS][300];

/* ------------------------------------------------------------ helpers */

static void
nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Run tokenctl -c conf ARGS...; exit status; stdout and stderr
 * (malloc'ed) in *out and *err when not NULL. */
static int
ctl(const char *conf, char **out, char **err, ...)
{
	const char *argv[32];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	va_list ap;
	size_t n = 0;
	int rc;

	argv[n++] = "tokenctl";
	argv[n++] = "-c";
	argv[n++] = conf;
	va_start(ap, err);
	while ((argv[n] = va_arg(ap, const char *)) != NULL && n < 30)
		n++;
	va_end(ap);
	argv[n] = NULL;
	c.argv = argv;
	c.prog = TL_TOKENCTL;
	c.timeout_ms = 120000;
	rc = tl_run(&c, &p);
	if (out != NULL) {
		*out = p.out;
		p.out = NULL;
	}
	if (err != NULL) {
		*err = p.err;
		p.err = NULL;
	}
	tl_proc_free(&p);
	return rc;
}

/* tokenctl issue on an administrator's host; the token (malloc'ed) and
 * its id. */
static char *
issue(int admin, const char *label, const char *host,
    char id[APITOKEN_ID_LEN + 1])
{
	char *out = NULL, *err = NULL, *tok;
	int rc;

	if (host != NULL)
		rc = ctl(admin_conf[admin], &out, &err, "issue", tl_user(),
		    "--label", label, "--host", host, NULL);
	else
		rc = ctl(admin_conf[admin], &out, &err, "issue", tl_user(),
		    "--label", label, NULL);
	cr_assert_eq(rc, 0, "tokenctl issue against PostgreSQL: %d: %s", rc,
	    err);
	out[strcspn(out, "\n")] = '\0';
	tok = out;
	token_parts(tok, id, (char[APITOKEN_SECRET_LEN + 1]){ 0 });
	free(err);
	return tok;
}

/* A token no longer needed: wiped, freed. */
static void
drop(char *tok)
{
	apitoken_wipe(tok, strlen(tok));
	free(tok);
}

static void
admin_ok(int admin, const char *verb, const char *arg)
{
	char *err = NULL;
	int rc = ctl(admin_conf[admin], NULL, &err, verb, arg, NULL);

	cr_assert_eq(rc, 0, "tokenctl %s %s: %d: %s", verb, arg, rc, err);
	free(err);
}

/* A login (auth and account) on host h through its PAM service. */
static int
login(int h, const char *tok)
{
	struct pam_run r;
	char svc[16];

	snprintf(svc, sizeof(svc), "host%d", h);
	memset(&r, 0, sizeof(r));
	r.answers[0] = tok;
	r.account = 1;
	run_pam(&fx, svc, tl_user(), &r);
	return r.auth_rc != PAM_SUCCESS ? r.auth_rc : r.acct_rc;
}

/* Host h's decision (its apitokend) with its reason. */
static enum apitoken_reason
reason_on(int h, const char *tok)
{
	return td_verify(H[h], tl_user(), "sshd", NULL, tok, NULL, NULL);
}

/* Poll host h's apitokend until it answers want (up to ms). */
static void
until_reason(int h, const char *tok, enum apitoken_reason want, int ms)
{
	int64_t end = tl_now_ms() + ms;
	enum apitoken_reason got;

	while ((got = reason_on(h, tok)) != want) {
		if (tl_now_ms() > end)
			cr_assert_fail("%s answers %s, not %s, after %d ms",
			    host_name[h], apitoken_reason_str(got),
			    apitoken_reason_str(want), ms);
		nap_ms(10);
	}
}

/* Poll every 10 ms until every host's login gives want; the ms each
 * host took into ms[] (-1: not within limit_ms).  1 if all did. */
static int
until_all(const char *tok, int want, int limit_ms, int64_t t0,
    int64_t ms[NHOSTS])
{
	int h, left = NHOSTS;

	for (h = 0; h < NHOSTS; h++)
		ms[h] = -1;
	while (left > 0 && tl_now_ms() - t0 <= limit_ms) {
		for (h = 0; h < NHOSTS; h++)
			if (ms[h] < 0 && login(h, tok) == want) {
				ms[h] = tl_now_ms() - t0;
				left--;
			}
		if (left > 0)
			nap_ms(10);
	}
	return left == 0;
}

static void
assert_everywhere(const char *tok, int want, int limit_ms, const char *what)
{
	int64_t ms[NHOSTS];

	cr_assert(until_all(tok, want, limit_ms, tl_now_ms(), ms),
	    "%s: not on every replica within %d ms (PAM %s expected)", what,
	    limit_ms, pamstr(want));
}

/* Poll tokenctl -c admin-0 ARGS until its output holds needle (up to
 * ms); dies with the last output if it never does. */
static void
until_output(const char *needle, int ms, const char *a1, const char *a2,
    const char *a3)
{
	int64_t end = tl_now_ms() + ms;
	char *out = NULL;

	for (;;) {
		free(out);
		out = NULL;
		if (ctl(admin_conf[0], &out, NULL, a1, a2, a3, NULL) == 0 &&
		    strstr(out, needle) != NULL)
			break;
		if (tl_now_ms() > end)
			cr_assert_fail("no \"%s\" in tokenctl %s %s within %d "
			    "ms:\n%s", needle, a1, a2 ? a2 : "", ms,
			    out ? out : "");
		nap_ms(200);
	}
	free(out);
}

/* ------------------------------------------------------------ fixture */

/* The grants of docs/fleet.md: its first sql block after the
 * heading "## Least-privilege roles". */
static char *
guide_grants(void)
{
	char *doc = tl_read_file(SRC_DIR "/docs/fleet.md", NULL), *s, *e;
	char *sql;

	cr_assert_not_null(doc, "docs/fleet.md is missing");
	s = strstr(doc, "\n## Least-privilege roles");
	cr_assert_not_null(s, "no \"## Least-privilege roles\" in the guide");
	s = strstr(s, "\n```sql\n");
	cr_assert_not_null(s, "no sql block under Least-privilege roles");
	s += strlen("\n```sql\n");
	e = strstr(s, "\n```");
	cr_assert_not_null(e);
	sql = tl_fmt("%.*s", (int)(e - s), s);
	free(doc);
	return sql;
}

static char *
conninfo_as(const char *role)
{
	return tl_fmt("host=%s port=5432 dbname=apitoken user=%s", PG->dir,
	    role);
}

/* A root-only config on an administrator's host: role's conninfo. */
static void
admin_config(char *conf, size_t size, const char *name, const char *role)
{
	char *ci = conninfo_as(role), *text, dir[280];

	snprintf(dir, sizeof(dir), "%s/%s", admin_dir, name);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(conf, size, "%s/apitoken.yaml", dir);
	text = tl_fmt("store: %s/tokens\nstate_dir: %s/state\n"
	    "host_name: %s\npostgresql:\n  conninfo: \"%s\"\n", dir, dir,
	    name, ci);
	tl_write_str(conf, text, 0600);
	free(text);
	free(ci);
}

/* An empty PostgreSQL made ready as docs/fleet.md says: the three
 * roles, the schema by tokenctl db init as its owner granting the
 * others their part, the guide's grants (the same again). */
static void
central_store(void)
{
	char *out = NULL, *err = NULL, *sql, owner[300], name[24];
	int rc, a;

	PG = tf_pg_start();
	cr_assert_eq(tf_psql(PG, &out, "CREATE ROLE apitoken_owner LOGIN; "
	    "CREATE ROLE apitoken_admin LOGIN; "
	    "CREATE ROLE apitoken_host LOGIN; "
	    "ALTER DATABASE apitoken OWNER TO apitoken_owner; "
	    "REVOKE ALL ON DATABASE apitoken FROM PUBLIC; "
	    "GRANT CONNECT ON DATABASE apitoken TO apitoken_owner, "
	    "apitoken_admin, apitoken_host"), 0, "%s", out);
	free(out);
	tl_tmpdir(admin_dir, sizeof(admin_dir), "fleet-admin");
	admin_config(owner, sizeof(owner), "owner", "apitoken_owner");
	for (a = 0; a < NADMINS; a++) {
		snprintf(name, sizeof(name), "admin-%d", a);
		admin_config(admin_conf[a], sizeof(admin_conf[a]), name,
		    "apitoken_admin");
	}
	rc = ctl(owner, &out, &err, "db", "init", "--admin-role",
	    "apitoken_admin", "--hosts-role", "apitoken_host", NULL);
	cr_assert_eq(rc, 0, "tokenctl db init: %d: %s%s", rc, out, err);
	free(out);
	free(err);
	sql = guide_grants();
	cr_assert_eq(tf_psql(PG, &out, sql), 0, "the guide's grants: %s",
	    out);
	free(out);
	free(sql);
}

/* Wait until host h's replica has synced once and is connected. */
static void
wait_synced(int h)
{
	struct apitoken_replica_state st;
	struct apitoken_config *cfg = NULL;
	char err[256];
	int64_t end = tl_now_ms() + 120000;

	cr_assert_eq(apitoken_config_load(H[h]->conf, &cfg, err,
	    sizeof(err)), 0, "%s", err);
	for (;;) {
		memset(&st, 0, sizeof(st));
		if (apitoken_replica_state_read(cfg, &st, err,
		    sizeof(err)) == 0 && st.last_sync > 0 && st.connected)
			break;
		if (tl_now_ms() > end)
			cr_assert_fail("replica %s never synced; its log:\n%s",
			    host_name[h], td_log(H[h]));
		nap_ms(20);
	}
	apitoken_config_free(cfg);
}

/* The fleet: PostgreSQL, the admins' configs, NHOSTS replicas (extra
 * config lines for each in yaml_extra, may be NULL), a PAM service
 * "hostN" per replica. */
static void
fleet_up(const char *yaml_extra)
{
	char *ci, *yaml, *svc, name[16];
	int h;

	tl_watchdog(300);
	TL_NEED_ROOT("PostgreSQL runs as postgres, apitokend as root");
	central_store();
	ci = conninfo_as("apitoken_host");
	fx_setup(&fx);
	for (h = 0; h < NHOSTS; h++) {
		/* max_failures: the polls for a token not there yet are
		 * unknown-token failures, not an attack to throttle */
		yaml = tl_fmt("host_name: %s\nhost_groups: %s\n"
		    "max_failures: 1000000\npostgresql:\n"
		    "  conninfo: \"%s\"\n%s", host_name[h], host_groups[h],
		    ci, yaml_extra ? yaml_extra : "");
		H[h] = td_start(yaml);
		free(yaml);
		svc = tl_fmt("auth required @MOD@ config=%s mode=local\n"
		    "account required @MOD@ config=%s mode=local\n",
		    H[h]->conf, H[h]->conf);
		snprintf(name, sizeof(name), "host%d", h);
		fx_service(&fx, name, svc);
		free(svc);
	}
	free(ci);
	for (h = 0; h < NHOSTS; h++)
		wait_synced(h);
}

static void
fleet_down(void)
{
	int h;

	for (h = 0; h < NHOSTS; h++) {
		if (H[h] != NULL)
			td_stop(H[h]);
		H[h] = NULL;
	}
	if (fx.dir[0] != '\0')
		fx_teardown(&fx);
	memset(&fx, 0, sizeof(fx));
	tf_pg_stop(PG);
	PG = NULL;
	if (admin_dir[0] != '\0')
		tl_rmrf(admin_dir);
	admin_dir[0] = '\0';
}

TestSuite(e2e, .fini = fleet_down);

/* ---------------------------------------------------------- the tests */

/* On a host's own config (the hosts' role) tokenctl reads the central
 * store; PostgreSQL refuses it a write. */
static void
host_role_reads_only(const char *id)
{
	char *out = NULL, *err = NULL;
	int rc;

	rc = ctl(H[0]->conf, &out, &err, "show", id, NULL);
	cr_assert_eq(rc, 0, "tokenctl show as the hosts' role: %d: %s", rc,
	    err);
	cr_assert_not_null(strstr(out, id), "%s", out);
	free(out);
	free(err);
	/* db status works too; the audit log is not its to read */
	rc = ctl(H[0]->conf, &out, &err, "db", "status", NULL);
	cr_assert_eq(rc, 0, "tokenctl db status as the hosts' role: %d: %s",
	    rc, err);
	cr_assert_not_null(strstr(out, "audit:          not readable by this "
	    "role\n"), "%s", out);
	cr_assert_not_null(strstr(out, host_name[0]), "%s", out);
	free(out);
	free(err);
	rc = ctl(H[0]->conf, &out, &err, "db", "status", "--json", NULL);
	cr_assert_eq(rc, 0, "tokenctl db status --json: %d: %s", rc, err);
	cr_assert_not_null(strstr(out, "\"audit_rows\": null"), "%s", out);
	free(out);
	free(err);
	rc = ctl(H[0]->conf, NULL, &err, "issue", tl_user(), "--label",
	    "from a host", NULL);
	cr_assert_neq(rc, 0, "the hosts' role could issue a token");
	cr_assert_not_null(strstr(err, "permission denied"), "%s", err);
	free(err);
}

/* Issued by tokenctl against PostgreSQL, a token logs in on every
 * replica; revoked from another administrator's host, every replica
 * refuses it within 1 s of the commit (tokenctl's exit). */
Test(e2e, issued_once_logs_in_everywhere_and_revocation_reaches_all_in_1s)
{
	char id[APITOKEN_ID_LEN + 1], *tok;
	int64_t ms[NHOSTS], t0;
	int h;

	fleet_up(NULL);
	tok = issue(0, "fleet", NULL, id);
	assert_everywhere(tok, PAM_SUCCESS, 30000, "the new token");
	for (h = 0; h < NHOSTS; h++)
		cr_assert_eq(reason_on(h, tok), APITOKEN_ACCEPTED);
	for (h = 0; h < NHOSTS; h++)	/* each reported in */
		until_output(host_name[h], 60000, "db", "status", NULL);
	admin_ok(1, "revoke", id);
	t0 = tl_now_ms();
	cr_assert(until_all(tok, PAM_AUTH_ERR, PROPAGATION_MS, t0, ms),
	    "a revoked token is not refused everywhere %d ms after the "
	    "commit (%lld, %lld, %lld ms)", PROPAGATION_MS, (long long)ms[0],
	    (long long)ms[1], (long long)ms[2]);
	for (h = 0; h < NHOSTS; h++)
		cr_assert_eq(reason_on(h, tok), APITOKEN_R_REVOKED);
	host_role_reads_only(id);
	fprintf(stderr, "e2e: revocation seen on %s %lld ms, %s %lld ms, "
	    "%s %lld ms after the commit\n", host_name[0], (long long)ms[0],
	    host_name[1], (long long)ms[1], host_name[2], (long long)ms[2]);
	drop(tok);
}

/* A transaction held open on the server: while it runs, no change
 * committed after it started is below pg_snapshot_xmin, so no replica
 * may take one (fleet.h's guard).  Closed by the server's stop. */
static PGconn *
hold_xmin(void)
{
	PGconn *c = PQconnectdb(PG->conninfo);
	PGresult *res;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, "BEGIN; SELECT pg_current_xact_id()");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	PQclear(res);
	return c;
}

/* tokenctl replica status on host h: 1 if it says connected, 0 if it
 * says disconnected (dies if it says neither). */
static int
replica_connected(int h)
{
	char *out = NULL, *err = NULL;
	int rc = ctl(H[h]->conf, &out, &err, "replica", "status", NULL);
	int up;

	/* exit 1 once stale: the connection line is what counts here */
	cr_assert(rc == 0 || rc == 1, "tokenctl replica status: %d: %s", rc,
	    err);
	up = strstr(out, "disconnected") == NULL;
	cr_assert(!up || strstr(out, "connected") != NULL,
	    "replica status says neither connected nor disconnected:\n%s",
	    out);
	free(out);
	free(err);
	return up;
}

static void
until_status(int h, int connected, int limit_ms)
{
	int64_t end = tl_now_ms() + limit_ms;

	while (replica_connected(h) != connected) {
		if (tl_now_ms() > end)
			cr_assert_fail("replica status on %s does not say %s within "
			    "%d ms", host_name[h], connected ? "connected" :
			    "disconnected", limit_ms);
		nap_ms(50);
	}
}

/* PostgreSQL stopped: logins go on from the replicas, tokenctl fails
 * naming the server (exit 4, as a store it cannot open), replica status
 * says disconnected.  A revocation committed just before the stop and
 * not yet taken by any replica (held back by an older open
 * transaction) is caught up by every replica on its own once the server
 * is back, and so is what is issued after. */
Test(e2e, database_down_logins_go_on_and_replicas_catch_up_after)
{
	char id1[APITOKEN_ID_LEN + 1], id2[APITOKEN_ID_LEN + 1];
	char id3[APITOKEN_ID_LEN + 1], *t1, *t2, *t3, *out, *err, *want;
	PGconn *held;
	int h, rc;

	fleet_up(NULL);
	t1 = issue(0, "goes before the stop", NULL, id1);
	t2 = issue(1, "stays", NULL, id2);
	assert_everywhere(t1, PAM_SUCCESS, 30000, "t1");
	assert_everywhere(t2, PAM_SUCCESS, 30000, "t2");
	held = hold_xmin();
	admin_ok(0, "revoke", id1);
	nap_ms(500);	/* the guard holds: no replica may take it yet */
	for (h = 0; h < NHOSTS; h++)
		assert_pam(login(h, t1), PAM_SUCCESS);
	tf_pg_pause(PG);
	PQfinish(held);

	for (h = 0; h < NHOSTS; h++) {
		assert_pam(login(h, t2), PAM_SUCCESS);
		until_status(h, 0, 60000);
	}
	rc = ctl(admin_conf[1], &out, &err, "list", NULL);
	cr_assert_eq(rc, 4, "tokenctl list with PostgreSQL down: %d", rc);
	want = tl_fmt("PostgreSQL server at %s", PG->dir);
	cr_assert_not_null(strstr(err, want), "no \"%s\" in: %s", want, err);
	cr_assert_not_null(strstr(err, "tokenctl"), "%s", err);
	free(want);
	free(out);
	free(err);

	tf_pg_resume(PG);
	assert_everywhere(t1, PAM_AUTH_ERR, 180000, "the revocation made "
	    "before the stop");
	for (h = 0; h < NHOSTS; h++)
		until_status(h, 1, 60000);
	t3 = issue(1, "after the restart", NULL, id3);
	assert_everywhere(t3, PAM_SUCCESS, 30000, "a token issued after");
	assert_everywhere(t2, PAM_SUCCESS, 0, "t2 after the restart");
	drop(t1);
	drop(t2);
	drop(t3);
}

/* Past max_staleness without a sync every login is refused with
 * replica-stale (PAM_AUTHINFO_UNAVAIL: a stack may fall through to
 * another method); reconnected, the same token logs in again. */
Test(e2e, past_max_staleness_refused_then_accepted_after_reconnect)
{
	char id[APITOKEN_ID_LEN + 1], *tok;
	int h;

	/* above apitokend's backstop poll (10 s), which keeps an idle
	 * connected replica's last sync fresh */
	fleet_up("max_staleness: 30s\n");
	tok = issue(0, "stale", NULL, id);
	assert_everywhere(tok, PAM_SUCCESS, 30000, "the token");
	tf_pg_pause(PG);
	assert_everywhere(tok, PAM_AUTHINFO_UNAVAIL, 120000, "replica-stale");
	for (h = 0; h < NHOSTS; h++)
		cr_assert_eq(reason_on(h, tok), APITOKEN_R_STALE, "%s",
		    host_name[h]);
	tf_pg_resume(PG);
	assert_everywhere(tok, PAM_SUCCESS, 180000, "after the reconnect");
	for (h = 0; h < NHOSTS; h++)
		cr_assert_eq(reason_on(h, tok), APITOKEN_ACCEPTED);
	drop(tok);
}

/* One writer's work in a child: the shared label once (after the
 * barrier), NWRITES tokens of its own labels, an edit of the common
 * token.  Exit status: bit 0 the shared label was granted, bit 1 the
 * edit failed, bits 2.. the failed issues. */
#define NWRITES 6
static void
writer(int a, int barrier, const char *common, const char *edit_opt,
    const char *edit_val)
{
	char label[32], c;
	int failed = 0, shared, edit = 0, i;

	if (read(barrier, &c, 1) != 1)
		_exit(255);
	shared = ctl(admin_conf[a], NULL, NULL, "issue", tl_user(),
	    "--label", "shared", NULL) == 0;
	for (i = 0; i < NWRITES; i++) {
		snprintf(label, sizeof(label), "w%d-%d", a, i);
		if (i == NWRITES / 2)
			edit = ctl(admin_conf[a], NULL, NULL, "edit", common,
			    edit_opt, edit_val, NULL) != 0;
		failed += ctl(admin_conf[a], NULL, NULL, "issue", tl_user(),
		    "--label", label, NULL) != 0;
	}
	_exit(shared | edit << 1 | failed << 2);
}

static int
count_of(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

/* Two administrators on two hosts write at once: every issue and both
 * edits of one token arrive (no lost update), and of two issues of the
 * same label exactly one is granted. */
Test(e2e, two_writers_at_once_lose_nothing_and_keep_the_label_rule)
{
	char id[APITOKEN_ID_LEN + 1], *tok, *out = NULL;
	int p[2], st[NADMINS], a, shared = 0;
	pid_t pid[NADMINS];

	fleet_up(NULL);
	tok = issue(0, "edited twice", NULL, id);
	cr_assert_eq(pipe(p), 0);
	for (a = 0; a < NADMINS; a++) {
		if ((pid[a] = tl_fork()) == 0) {
			close(p[1]);
			writer(a, p[0], id, a == 0 ? "--description" : "--host",
			    a == 0 ? "set by admin-0" : "@build");
		}
	}
	close(p[0]);
	cr_assert_eq(write(p[1], "go", 2), 2);
	close(p[1]);
	for (a = 0; a < NADMINS; a++) {
		cr_assert_eq(waitpid(pid[a], &st[a], 0), pid[a]);
		cr_assert(WIFEXITED(st[a]), "writer %d died", a);
		st[a] = WEXITSTATUS(st[a]);
		cr_assert_eq(st[a] >> 1, 0, "writer %d: edit failed %d, "
		    "issues failed %d", a, st[a] >> 1 & 1, st[a] >> 2);
		shared += st[a] & 1;
	}
	cr_assert_eq(shared, 1, "the label \"shared\" granted %d times",
	    shared);
	cr_assert_eq(ctl(admin_conf[1], &out, NULL, "list", "--json", NULL),
	    0);
	cr_assert_eq(count_of(out, "\"label\": \"w"), NADMINS * NWRITES,
	    "%s", out);
	cr_assert_eq(count_of(out, "\"label\": \"shared\""), 1, "%s", out);
	free(out);
	cr_assert_eq(ctl(admin_conf[0], &out, NULL, "show", id, "--json",
	    NULL), 0);
	cr_assert_not_null(strstr(out, "set by admin-0"), "lost: %s", out);
	cr_assert_not_null(strstr(out, "@build"), "lost: %s", out);
	free(out);
	/* and the replicas follow: on build-1 only, now */
	until_reason(0, tok, APITOKEN_R_HOST, 30000);
	until_reason(2, tok, APITOKEN_R_HOST, 30000);
	assert_pam(login(1, tok), PAM_SUCCESS);
	drop(tok);
}

/* --host @build: accepted on the replica whose host_groups has build,
 * refused with host-not-allowed on the others. */
Test(e2e, host_group_scoped_token_only_on_the_build_replica)
{
	char id[APITOKEN_ID_LEN + 1], *tok;
	int h;

	fleet_up(NULL);
	tok = issue(1, "runner", "@build", id);
	until_reason(1, tok, APITOKEN_ACCEPTED, 30000);
	assert_pam(login(1, tok), PAM_SUCCESS);
	for (h = 0; h < NHOSTS; h += 2) {
		until_reason(h, tok, APITOKEN_R_HOST, 30000);
		cr_assert_neq(login(h, tok), PAM_SUCCESS, "%s", host_name[h]);
	}
	/* its use on build-1 (apitokend's verification) is the fleet-wide
	 * last use, with the host, in tokenctl show */
	until_output("\"last_used_host\": \"build-1\"", 120000, "show", id,
	    "--json");
	drop(tok);
}
