/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_replica_down.c - a replica while PostgreSQL is down (issue 13):
 * logins go on from the local store, the state and tokenctl replica
 * status say disconnected, the replica reconnects by itself; past
 * max_staleness every login is refused with replica-stale, and accepted
 * again once it has synced.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tr.h"

#define WAIT_MS 30000
/* reconnects back off to 30 s at most (apitokend(8), REPLICA) */
#define RECONNECT_MS 90000

static void
init(void)
{
	tl_watchdog(300);
	tl_rand_seed("replica_down");
}

TestSuite(replica_down, .init = init);

static struct td *
replica(const struct tf_pg *pg, const char *extra)
{
	char *yaml = tr_yaml(pg, "r1", extra);
	struct td *d = td_start(yaml);

	free(yaml);
	cr_assert(td_log_wait(d, "snapshot taken", WAIT_MS), "%s", td_log(d));
	return d;
}

Test(replica_down, logins_go_on_while_postgresql_is_down)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct apitoken_replica_state st;
	struct tr_tok a, b;
	struct td *d = replica(pg, NULL);
	char *out = NULL;

	tr_tok_new(&a, "a");
	tr_insert(c, &a);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS));
	PQfinish(c);
	tf_pg_pause(pg);
	cr_assert(tr_wait_connected(d, 0, WAIT_MS), "%s", td_log(d));
	cr_assert(td_log_wait(d, "replica: connection lost", WAIT_MS));
	tr_state(d, &st);
	cr_assert_neq(st.error[0], '\0');
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, a.token, NULL,
	    NULL), APITOKEN_ACCEPTED);
	/* still within max_staleness (24h): exit 0, but disconnected */
	cr_assert_eq(tr_status(d, 0, &out), 0, "%s", out);
	cr_assert(strstr(out, "connection:       disconnected\n") != NULL,
	    "%s", out);
	cr_assert(strstr(out, "fresh") != NULL, "%s", out);
	free(out);
	/* back: it reconnects by itself and catches up */
	tf_pg_resume(pg);
	c = tr_conn(pg);
	tr_tok_new(&b, "b");
	tr_insert(c, &b);
	cr_assert(tr_wait_connected(d, 1, RECONNECT_MS), "%s", td_log(d));
	cr_assert(td_log_wait(d, "connection restored", 1000));
	cr_assert(tr_wait_reason(d, &b, APITOKEN_ACCEPTED, WAIT_MS));
	tr_tok_free(&a);
	tr_tok_free(&b);
	PQfinish(c);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

Test(replica_down, past_max_staleness_logins_are_refused_until_synced)
{
	struct tf_pg *pg = tr_pg();
	PGconn *c = tr_conn(pg);
	struct tr_tok a;
	struct td *d = replica(pg, "max_staleness: 3s\n");
	char *out = NULL;

	tr_tok_new(&a, "a");
	tr_insert(c, &a);
	PQfinish(c);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, WAIT_MS));
	tf_pg_pause(pg);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_R_STALE, WAIT_MS),
	    "%s", td_log(d));
	cr_assert_eq(tr_status(d, 0, &out), 1, "%s", out);
	cr_assert(strstr(out, "stale (max_staleness 3s)") != NULL, "%s", out);
	free(out);
	cr_assert_eq(tr_status(d, 1, &out), 1, "%s", out);
	cr_assert(strstr(out, "\"stale\": true") != NULL, "%s", out);
	free(out);
	tf_pg_resume(pg);
	cr_assert(tr_wait_reason(d, &a, APITOKEN_ACCEPTED, RECONNECT_MS),
	    "%s", td_log(d));
	cr_assert_eq(tr_status(d, 0, NULL), 0);
	tr_tok_free(&a);
	cr_assert_eq(td_stop(d), 0);
	tf_pg_stop(pg);
}

/* No server at all: never synced, exit 1; the daemon gone: said so.
 * The daemon starts without postgresql (tokenctl init would ask the
 * server), which a reload then adds: the replica starts with it. */
Test(replica_down, status_of_a_replica_that_never_synced)
{
	struct tf_pg *pg = tr_pg();
	char *yaml, *out = NULL;
	struct tr_tok a;
	struct td *d = td_start(NULL);

	tf_pg_pause(pg);
	yaml = tr_yaml(pg, "r1", NULL);
	td_config(d, yaml);
	td_reload(d);
	free(yaml);
	cr_assert(tr_wait_connected(d, 0, WAIT_MS), "%s", td_log(d));
	cr_assert_eq(tr_status(d, 0, &out), 1, "%s", out);
	cr_assert(strstr(out, "never synced") != NULL, "%s", out);
	cr_assert(strstr(out, "PostgreSQL server at") != NULL, "%s", out);
	free(out);
	tr_tok_new(&a, "a");
	cr_assert_eq(td_verify(d, tl_user(), "sshd", NULL, a.token, NULL,
	    NULL), APITOKEN_R_STALE);
	tr_tok_free(&a);
	tf_pg_resume(pg);
	cr_assert(td_log_wait(d, "snapshot taken (0 records", RECONNECT_MS),
	    "%s", td_log(d));
	cr_assert_eq(td_kill(d, SIGTERM), 0);
	cr_assert_eq(tr_status(d, 0, &out), 0, "%s", out);
	cr_assert(strstr(out, "apitokend not running") != NULL, "%s", out);
	free(out);
	cr_assert_eq(td_stop(d), -1);
	tf_pg_stop(pg);
}
