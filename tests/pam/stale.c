/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stale.c - a fleet replica past max_staleness (issue 13) through the
 * module and real libpam: with postgresql configured, a replica whose
 * last sync is older than max_staleness (or that never synced) refuses
 * every token with PAM_AUTHINFO_UNAVAIL and reason replica-stale in the
 * log line; a fresh one accepts, and the account re-check refuses once
 * the replica went stale between auth and account.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

static struct fixture fx;

/* The replica's state as apitokend writes it: last synced ago s ago. */
static void
synced_ago(time_t ago)
{
	struct apitoken_replica_state st;
	char err[512];
	int r;

	memset(&st, 0, sizeof(st));
	st.last_sync = (int64_t)(time(NULL) - ago);
	st.updated = st.last_sync;
	st.cursor_xid = 1000;
	st.cursor_seq = 1;
	snprintf(st.server, sizeof(st.server), "db.example:5432");
	r = apitoken_replica_state_write(fx.cfg, &st, err, sizeof(err));
	cr_assert(r == 0, "replica_state_write: %s", err);
}

static void
setup(void)
{
	tl_watchdog(60);
	fx_setup(&fx);
	fx_service(&fx, "svc",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	fx_config_with(&fx, "postgresql:\n"
	    "  conninfo: host=db.example dbname=apitoken\n"
	    "max_staleness: 1h\n");
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(stale, .init = setup, .fini = teardown);

static void
issue(char tok[TOK_BUF], char id[APITOKEN_ID_LEN + 1])
{
	struct issue_opts o = { .services = NULL };

	fx_issue(&fx, tl_user(), "fleet", &o, tok, id);
}

Test(stale, an_old_last_sync_is_authinfo_unavail_a_fresh_one_accepts)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];

	issue(tok, id);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);	/* never synced */
	synced_ago(2 * 3600);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	synced_ago(10);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_SUCCESS);
	fx_config_with(&fx, "postgresql:\n  conninfo: host=db.example\n"
	    "max_staleness: never\n");
	synced_ago(100 * 86400);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_SUCCESS);
}

Test(stale, a_password_is_still_not_a_token)
{
	synced_ago(2 * 3600);
	assert_pam(auth_with(&fx, "svc", tl_user(), "hunter2", NULL),
	    PAM_CRED_INSUFFICIENT);
}

/* Between auth and account the replica falls past max_staleness. */
static int
go_stale(struct pam_run *r)
{
	(void)r;
	synced_ago(2 * 3600);
	return 0;
}

Test(stale, account_recheck_refuses_once_stale)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
	struct pam_run r = { .answers = { NULL } };

	issue(tok, id);
	synced_ago(0);
	r.answers[0] = tok;
	r.account = 1;
	r.between = go_stale;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_AUTHINFO_UNAVAIL);
}

Test(stale, the_log_line_says_replica_stale)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1], why[256], want[128];
	static char buf[16384];
	struct logcap lc = { .fd = -1 };

	TL_NEED_ROOT("catches syslog on a private /dev/log");
	issue(tok, id);
	synced_ago(2 * 3600);
	if (logcap_start(&lc, why, sizeof(why)) != 0)
		TL_SKIP("syslog lines not checked: %s", why);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
	    PAM_AUTHINFO_UNAVAIL);
	synced_ago(0);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_SUCCESS);
	buf[0] = '\0';
	logcap_read(&lc, buf, sizeof(buf));
	logcap_stop(&lc);
	snprintf(want, sizeof(want), "rejected token=%s", id);
	cr_assert(strstr(buf, want) != NULL, "%s", buf);
	cr_assert(strstr(buf, "reason=replica-stale") != NULL, "%s", buf);
	snprintf(want, sizeof(want), "accepted token=%s", id);
	cr_assert(strstr(buf, want) != NULL, "%s", buf);
}
