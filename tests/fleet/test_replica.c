/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_replica.c - apitokend keeps its local store a replica of the
 * central PostgreSQL store (issue 13, "Replicas"): a snapshot at start,
 * changes as they commit, none skipped when transactions commit out of
 * the order of their change-log ids, a fresh snapshot once the change
 * log no longer reaches back to the cursor, and a replica killed in the
 * middle of a large burst keeps an intact store and resumes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "tr.h"

#define WAIT_MS 30000	/* generous: valgrind, ASan, a busy machine */

static void
init(void)
{
	tl_watchdog(300);
	tl_rand_seed("replica");
}

TestSuite(replica, .init = init);

/* A replica of pg named host, once its first snapshot is in. */
static struct td *
replica(const struct tf_pg *pg, const char *host, const char *extra)
{
	char *yaml = tr_yaml(pg, host, extra);
	struct td *d = td_start(yaml);

	free(yaml);
	cr_assert(td_log_wait(d, "snapshot taken", WAIT_MS), "no snapshot: %s",
	    td_log(d));
	return d;
}

/* Poll t's row until its last use is reported from host. */
static int
last_host_is(PGconn *c, const struct tr_tok *t, const char *host, int ms)
{
	int64_t end = tl_now_ms() + ms;
	const char *v[1] = { t->id };
	PGresult *res;
	int ok;

	do {
		res = PQexecParams(c, "SELECT last_host FROM apitoken_tokens "
		    "WHERE id = $1 AND last_used > 0", 1, NULL, v, NULL, NULL,
		    0);
		ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), host) == 0;
		PQclear(res);
		if (!ok)
			nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	} while (!ok && tl_now_ms() < end);
	return ok;
}

/* A use recorded in d's state_dir as the module records one. */
static void
module_use(const struct td *d, const struct tr_tok *t)
{
	struct apitoken_config *cfg = NULL;
	char err[512];

	cr_assert_eq(apitoken_config_load(d->conf, &cfg, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(apitoken_lastuse_record(cfg, t->id, "sshd", NULL,
	    time(NULL), 60, err, sizeof(err)), 0, "%s", err);
	apitoken_config_free(cfg);
}

Test(replica, a_snapshot_at_start_then_changes_as_they_commit)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct tr_tok a, b, m, n;
	struct td *d;
	char *out = NULL;

	tr_tok_new(&a, "a");
	tr_tok_new(&b, "b");
	tr_tok_new(&m, "m");
	tr_insert(c, &a);
	tr_insert(c, &b);
	tr_insert(c, &m);
	d = replica(pg, "r1", NULL);
	cr_assert(td_log_wait(d, "snapshot taken (3 records", 1000),
	    "%s", td_log(d));
	/* m logs in through the module (no daemon): its last use too */
	module_use(d, &m);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, a.token, NULL,
	    NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, b.token, NULL,
	    NULL), APITOKEN_ACCEPTED);
	/* a new token arrives (after a reload: the replica reconnects) */
	td_reload(d);
	tr_tok_new(&n, "n");
	tr_insert(c, &n);
	cr_assert(tr_wait_reason(d, &n, APITOKEN_ACCEPTED, WAIT_MS), "%s",
	    td_log(d));
	/* the uses went back to PostgreSQL, with this host's name */
	cr_assert(last_host_is(c, &a, "r1", WAIT_MS));
	cr_assert(last_host_is(c, &n, "r1", WAIT_MS));
	cr_assert(last_host_is(c, &m, "r1", WAIT_MS));
	/* a revoked one is refused */
	tr_revoke(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_R_REVOKED, WAIT_MS));
	tr_exec(c, "DELETE FROM apitoken_tokens");
	cr_assert(tr_wait_reason(d, &b, APITOKEN_R_UNKNOWN, WAIT_MS));
	cr_assert_eq(tr_store_count(d), 0);
	cr_assert(td_log_wait(d, "batch applied", 1000));
	cr_assert_eq(tr_status(d, 0, &out), 0, "%s", out);
	cr_assert(strstr(out, "connection:       connected\n") != NULL, "%s",
	    out);
	free(out);
	tr_tok_free(&a);
	tr_tok_free(&b);
	tr_tok_free(&m);
	tr_tok_free(&n);
	PQfinish(c);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

/* Until ms pass or the state is written again after before. */
static void
wait_state_after(const struct td *d, int64_t before, int ms)
{
	struct apitoken_replica_state st;
	int64_t end = tl_now_ms() + ms;

	do {
		tr_state(d, &st);
		if (st.updated > before)
			return;
		td_log_wait(d, "never logged", 50);
	} while (tl_now_ms() < end);
	cr_assert_fail("the replica did not sync within %d ms", ms);
}

/*
 * Transaction A draws the lower change-log seq but commits after B.  A
 * replica that asked for "seq above my cursor" would take B's change,
 * move past A's seq and never see A's.
 */
Test(replica, changes_committed_out_of_id_order_are_not_skipped)
{
	struct tf_pg *pg = tr_pg();
	PGconn *ca = tr_conn(pg), *cb = tr_conn(pg);
	struct apitoken_replica_state st;
	struct tr_tok a, b;
	struct td *d = replica(pg, "r1", NULL);

	tr_tok_new(&a, "a");
	tr_tok_new(&b, "b");
	tr_exec(ca, "BEGIN");
	tr_insert(ca, &a);
	tr_exec(cb, "BEGIN");
	tr_insert(cb, &b);
	tr_exec(cb, "COMMIT");
	/* the replica syncs (B's NOTIFY woke it) while A is open */
	tr_state(d, &st);
	wait_state_after(d, st.updated, WAIT_MS);
	wait_state_after(d, st.updated + 1, WAIT_MS);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, b.token, NULL,
	    NULL), APITOKEN_R_UNKNOWN, "B's change was not held back behind "
	    "A's open transaction");
	tr_exec(ca, "COMMIT");
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS),
	    "A's change was skipped: %s", td_log(d));
	cr_assert(tr_wait_reason(d, &b, APITOKEN_ACCEPTED, WAIT_MS));
	tr_tok_free(&a);
	tr_tok_free(&b);
	PQfinish(ca);
	PQfinish(cb);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

/* Writers prune the change log past its retention and record the
 * newest change pruned; a replica whose cursor is at or below it takes
 * a fresh snapshot.  Pruned here by hand, as a writer would. */
Test(replica, a_cursor_older_than_the_change_log_takes_a_snapshot)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct tr_tok a, b;
	struct td *d = replica(pg, "r1", NULL);
	char *log;

	tr_tok_new(&a, "a");
	tr_insert(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS));
	cr_assert_eq(td_kill(d, SIGTERM), 0);
	tr_tok_new(&b, "b");
	tr_insert(c, &b);
	tr_revoke(c, &a);
	tr_exec(c, "UPDATE apitoken_meta SET value = (SELECT xid::text "
	    "FROM apitoken_changes ORDER BY xid DESC, seq DESC LIMIT 1) "
	    "WHERE key = 'pruned_xid'; "
	    "UPDATE apitoken_meta SET value = (SELECT seq::text "
	    "FROM apitoken_changes ORDER BY xid DESC, seq DESC LIMIT 1) "
	    "WHERE key = 'pruned_seq'; "
	    "DELETE FROM apitoken_changes");
	td_restart(d);
	cr_assert(td_log_wait(d, "older than the change log keeps: taking a "
	    "snapshot", WAIT_MS), "%s", td_log(d));
	cr_assert(tr_wait_reason(d, &b, APITOKEN_ACCEPTED, WAIT_MS));
	cr_assert(tr_wait_reason(d, &a, APITOKEN_R_REVOKED, WAIT_MS));
	/* the line follows the new store, which the verifications saw */
	if (!td_log_wait(d, "snapshot taken (2 records", WAIT_MS)) {
		log = td_log(d);
		cr_assert_fail("%s", log);
	}
	tr_tok_free(&a);
	tr_tok_free(&b);
	PQfinish(c);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

/* A cursor ahead of the server's next transaction id, as a failover to
 * a standby that missed the last commits leaves it: the ids up to it
 * come again, so the replica takes a snapshot instead of skipping
 * their changes (b's here, whose xid is below the cursor). */
Test(replica, a_cursor_ahead_of_the_server_takes_a_snapshot)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct apitoken_replica_state st;
	struct apitoken_config *cfg = NULL;
	struct tr_tok a, b;
	struct td *d = replica(pg, "r1", NULL);
	char err[512];

	tr_tok_new(&a, "a");
	tr_insert(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS));
	cr_assert_eq(td_kill(d, SIGTERM), 0);
	cr_assert_eq(apitoken_config_load(d->conf, &cfg, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(apitoken_replica_state_read(cfg, &st, err, sizeof(err)),
	    0, "%s", err);
	st.cursor_xid += 1000;	/* ids the server has not handed out */
	st.cursor_seq = 1;
	st.connected = 0;
	cr_assert_eq(apitoken_replica_state_write(cfg, &st, err,
	    sizeof(err)), 0, "%s", err);
	apitoken_config_free(cfg);
	tr_tok_new(&b, "b");
	tr_insert(c, &b);
	tr_revoke(c, &a);
	td_restart(d);
	cr_assert(td_log_wait(d, "is ahead of the server's next transaction "
	    "id", WAIT_MS), "%s", td_log(d));
	cr_assert(td_log_wait(d, "taking a snapshot", WAIT_MS), "%s",
	    td_log(d));
	cr_assert(tr_wait_reason(d, &b, APITOKEN_ACCEPTED, WAIT_MS), "%s",
	    td_log(d));
	cr_assert(tr_wait_reason(d, &a, APITOKEN_R_REVOKED, WAIT_MS));
	tr_tok_free(&a);
	tr_tok_free(&b);
	PQfinish(c);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

#define BURST 50000

/* BURST copies of t's row under ids Z00000000001..., in one commit. */
static void
burst(PGconn *c, const struct tr_tok *t)
{
	char *sql = tl_fmt("INSERT INTO apitoken_tokens (id, user_name, "
	    "label, status, line) SELECT 'Z' || lpad(i::text, 11, '0'), "
	    "user_name, 'bulk' || i, status, replace(line, id, "
	    "'Z' || lpad(i::text, 11, '0')) FROM apitoken_tokens, "
	    "generate_series(1, %d) AS i WHERE id = '%s'", BURST, t->id);

	tr_exec(c, sql);
	free(sql);
}

Test(replica, killed_while_applying_a_burst_keeps_its_store_and_resumes)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct tr_tok a;
	struct td *d = replica(pg, "r1", NULL);
	size_t n;

	tr_tok_new(&a, "a");
	tr_insert(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS));
	burst(c, &a);
	cr_assert(td_log_wait(d, "batch applied (20000 changes", WAIT_MS),
	    "%s", td_log(d));
	td_kill(d, SIGKILL);
	/* the store opens and holds whole batches only */
	n = tr_store_count(d);
	cr_log_info("%zu of %d records in when killed", n, BURST + 1);
	cr_assert_eq((n - 1) % 20000, 0, "%zu records after the kill", n);
	td_restart(d);
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, a.token, NULL,
	    NULL), APITOKEN_ACCEPTED);
	tr_revoke(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_R_REVOKED, WAIT_MS),
	    "%s", td_log(d));
	cr_assert_eq(tr_store_count(d), BURST + 1);
	tr_tok_free(&a);
	PQfinish(c);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

/* The whole path: tokenctl writes PostgreSQL (ctl's writer and the
 * change-log trigger), the replica's store follows. */
Test(replica, tokens_issued_and_revoked_with_tokenctl_follow)
{
	struct tf_pg *pg = tr_pg();
	struct td *d = replica(pg, "r1", NULL);
	struct tr_tok t = { .rec = NULL };
	char *tok = td_issue(d, tl_user(), "--label", "ci", NULL);

	snprintf(t.token, sizeof(t.token), "%s", tok);
	snprintf(t.id, sizeof(t.id), "%.12s", tok + strlen("apitok_"));
	cr_assert(tr_wait_reason(d, &t, APITOKEN_ACCEPTED, WAIT_MS), "%s",
	    td_log(d));
	cr_assert_eq(td_ctl(d, NULL, "revoke", t.id, NULL), 0);
	cr_assert(tr_wait_reason(d, &t, APITOKEN_R_REVOKED, WAIT_MS), "%s",
	    td_log(d));
	free(tok);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}
