/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hosts.c - a token scoped to hosts (issue 13) through the module and
 * real libpam: refused on another host with host-not-allowed (auth:
 * PAM_AUTH_ERR and a message; account re-check: PAM_PERM_DENIED), and a
 * token issued for @build accepted where the config says
 * host_groups: [build].  The reason in the log line is checked on a
 * private /dev/log when root.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

static struct fixture fx;

static void
setup(void)
{
	tl_watchdog(60);
	fx_setup(&fx);
	fx_service(&fx, "svc",
	    "auth required @MOD@ config=@CFG@\n"
	    "account required @MOD@ config=@CFG@\n");
	fx_config_with(&fx, "host_name: db-1.example.com\nhost_groups: [db]\n");
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(hosts, .init = setup, .fini = teardown);

static void
issue_for(const char *hosts, char tok[TOK_BUF], char id[APITOKEN_ID_LEN + 1])
{
	struct issue_opts o = { .hosts = hosts };

	fx_issue(&fx, tl_user(), hosts ? hosts : "all", &o, tok, id);
}

Test(hosts, another_host_is_refused_with_host_not_allowed)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
	struct pam_run r = { .answers = { NULL } };

	issue_for("build-*,@build", tok, id);
	r.answers[0] = tok;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_AUTH_ERR);
	cr_assert(strstr(r.errors, "not valid on this host") != NULL, "%s",
	    r.errors);
}

Test(hosts, this_host_by_name_pattern_or_group_is_accepted)
{
	static const char *const ok[] = { "db-1.example.com", "db-*",
	    "@db", "web-1,*.example.com", NULL };
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
	size_t i;

	for (i = 0; ok[i] != NULL; i++) {
		issue_for(ok[i], tok, id);
		assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL),
		    PAM_SUCCESS);
	}
	issue_for(NULL, tok, id);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_SUCCESS);
}

Test(hosts, host_groups_build_accepts_at_build)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];

	issue_for("@build", tok, id);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_AUTH_ERR);
	fx_config_with(&fx, "host_name: db-1.example.com\nhost_groups: [build]\n");
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_SUCCESS);
}

/* Between auth and account the host leaves group db. */
static int
leave_db(struct pam_run *r)
{
	(void)r;
	fx_config_with(&fx, "host_name: db-1.example.com\nhost_groups: []\n");
	return 0;
}

Test(hosts, account_recheck_denies_a_host_no_longer_named)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1];
	struct pam_run r = { .answers = { NULL } };

	issue_for("@db", tok, id);
	r.answers[0] = tok;
	r.account = 1;
	r.between = leave_db;
	run_pam(&fx, "svc", tl_user(), &r);
	assert_pam(r.auth_rc, PAM_SUCCESS);
	assert_pam(r.acct_rc, PAM_PERM_DENIED);
}

Test(hosts, the_log_line_says_host_not_allowed)
{
	char tok[TOK_BUF], id[APITOKEN_ID_LEN + 1], why[256], want[128];
	static char buf[16384];
	struct logcap lc = { .fd = -1 };

	TL_NEED_ROOT("catches syslog on a private /dev/log");
	issue_for("web-1", tok, id);
	if (logcap_start(&lc, why, sizeof(why)) != 0)
		TL_SKIP("syslog lines not checked: %s", why);
	assert_pam(auth_with(&fx, "svc", tl_user(), tok, NULL), PAM_AUTH_ERR);
	buf[0] = '\0';
	logcap_read(&lc, buf, sizeof(buf));
	logcap_stop(&lc);
	snprintf(want, sizeof(want), "token=%s", id);
	cr_assert(strstr(buf, want) != NULL, "%s", buf);
	cr_assert(strstr(buf, "reason=host-not-allowed") != NULL, "%s", buf);
}
