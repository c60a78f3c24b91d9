/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_stale.c - tokenctl verify on a fleet replica (issue 13): with
 * postgresql configured and no fresh sync, every token is refused with
 * replica-stale and exit status 4 (the store cannot be trusted, as with
 * store-error); after a sync within max_staleness it is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

#define PG "postgresql:\n  conninfo: host=/nonexistent dbname=apitoken\n" \
	"max_staleness: 1h\n"

TestSuite(stale, .init = setup_env, .fini = teardown_env);

/* The replica's state as apitokend writes it, synced ago s ago. */
static void
synced_ago(time_t ago)
{
	struct apitoken_config *cfg = NULL;
	struct apitoken_replica_state st;
	char err[512];

	cr_assert_eq(apitoken_config_load(E.cfg, &cfg, err, sizeof(err)), 0,
	    "%s", err);
	memset(&st, 0, sizeof(st));
	st.last_sync = (int64_t)(time(NULL) - ago);
	st.updated = st.last_sync;
	cr_assert_eq(apitoken_replica_state_write(cfg, &st, err,
	    sizeof(err)), 0, "%s", err);
	apitoken_config_free(cfg);
}

static void
verify_is(const char *tok, int status, const char *text)
{
	struct run r;
	char in[256];

	snprintf(in, sizeof(in), "%s\n", tok);
	ctl(&r, in, "verify", "--user", "root", NULL);
	cr_assert_eq(r.status, status, "%d: %s", r.status, r.err);
	if (text != NULL)
		cr_assert_not_null(strstr(r.err, text), "%s", r.err);
	run_free(&r);
}

Test(stale, verify_refuses_a_stale_replica_with_status_4)
{
	char *t = issue_token("root", "fleet", NULL);

	tl_write_config(E.cfg, E.store, E.state, PG, 0644);
	verify_is(t, 4, "rejected: replica-stale: ");
	synced_ago(2 * 3600);
	verify_is(t, 4, "longer ago than max_staleness");
	synced_ago(5);
	verify_is(t, 0, NULL);
	verify_is("not-a-token", 1, "rejected: malformed");
	free(t);
}
