/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl_fake.c - tokenctl verify --daemon, lockouts and unlock against
 * the fake apitokend (td_fake.h): what is sent, how answers are shown, and
 * that a daemon's nonsense is refused, not shown.  The same verbs against
 * the real daemon are in test_module.c.
 */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apitoken.h"
#include "td_fake.h"
#include "tl.h"

static struct td_fake F;
static struct tl_proc P;

static void
setup(void)
{
	tl_watchdog(30);
	TL_NEED_ROOT("the client trusts only a root-owned socket");
	td_fake_setup(&F);
	memset(&P, 0, sizeof(P));
}

static void
teardown(void)
{
	tl_proc_free(&P);
	td_fake_teardown(&F);
}

TestSuite(ctl_fake, .init = setup, .fini = teardown);

/* tokenctl -c CONF args... (at most 4), stdin input; exit status */
static int
ctl(const char *input, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	const char *argv[] = { TL_TOKENCTL, "-c", F.conf, a1, a2, a3, a4,
	    NULL };
	struct tl_cmd c;

	memset(&c, 0, sizeof(c));
	c.argv = argv;
	c.input = input;
	c.setenv = (const char *const[]){ "TZ=UTC", NULL };
	tl_proc_free(&P);
	memset(&P, 0, sizeof(P));
	return tl_run(&c, &P);
}

static void
lockouts_reply(void)
{
	F.want_op = APITOKEN_OP_LOCKOUTS;
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	td_fake_reply(&F, APITOKEN_T_ENTRY, "token AbCdEfGh0123 1893456000 10");
	td_fake_reply(&F, APITOKEN_T_ENTRY, "user 0 alice 1893456060 12");
}

Test(ctl_fake, lockouts_table)
{
	lockouts_reply();
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 0, "%s", P.err);
	cr_assert_eq(td_fake_wait(&F), 0, "the request was not LOCKOUTS");
	cr_assert_eq(tl_count_lines(P.out), 3, "%s", P.out);
	cr_assert_eq(strncmp(P.out, "LOCKED ", 7), 0, "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\ntoken AbCdEfGh0123 "), "%s",
	    P.out);
	cr_assert_not_null(strstr(P.out, "2030-01-01T00:00:00Z"), "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\nuser alice             root "),
	    "%s", P.out);
	cr_assert_not_null(strstr(P.out, " 12\n"), "%s", P.out);
}

Test(ctl_fake, lockouts_json)
{
	lockouts_reply();
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", "--json", NULL, NULL), 0, "%s",
	    P.err);
	cr_assert_not_null(strstr(P.out, "\"kind\": \"token\""), "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\"id\": \"AbCdEfGh0123\""), "%s",
	    P.out);
	cr_assert_not_null(strstr(P.out, "\"until\": \"2030-01-01T00:00:00Z\""),
	    "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\"caller_uid\": 0"), "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\"failures\": 12"), "%s", P.out);
}

/* An HTTP client address's lockout: its own row kind and JSON kind,
 * the other kinds' fields null, as theirs are for it. */
Test(ctl_fake, lockouts_address_table)
{
	lockouts_reply();
	td_fake_reply(&F, APITOKEN_T_ENTRY, "address 2001:db8::9 1893456120 "
	    "10");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 0, "%s", P.err);
	cr_assert_eq(tl_count_lines(P.out), 4, "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\nuser alice             root "),
	    "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\naddress 2001:db8::9    -            "
	    "2030-01-01T00:02:00Z"), "%s", P.out);
}

Test(ctl_fake, lockouts_address_json)
{
	lockouts_reply();
	td_fake_reply(&F, APITOKEN_T_ENTRY, "address 203.0.113.9 1893456120 "
	    "10");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", "--json", NULL, NULL), 0, "%s",
	    P.err);
#define NL ",\n    "
	cr_assert_not_null(strstr(P.out, "\"kind\": \"address\"" NL
	    "\"id\": null" NL "\"user\": null" NL "\"caller_uid\": null" NL
	    "\"address\": \"203.0.113.9\"" NL
	    "\"until\": \"2030-01-01T00:02:00Z\"" NL "\"failures\": 10"),
	    "%s", P.out);
	cr_assert_not_null(strstr(P.out, "\"kind\": \"token\"" NL
	    "\"id\": \"AbCdEfGh0123\"" NL "\"user\": null" NL
	    "\"caller_uid\": null" NL "\"address\": null" NL), "%s", P.out);
#undef NL
}

Test(ctl_fake, no_lockouts)
{
	F.want_op = APITOKEN_OP_LOCKOUTS;
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 0, "%s", P.err);
	cr_assert_str_eq(P.out, "no lockouts\n");
}

/* An entry that is not one of the two forms: nothing is shown. */
Test(ctl_fake, malformed_entry_is_not_shown)
{
	static const char *const bad[] = { "token AbCdEfGh0123 soon 10",
	    "token AbCd 1893456000 10", "user x alice 1 2",
	    "user 0 alice 1893456060", "lock everything", "token  x 1 1",
	    "address 203.0.113 1 1", "address example.org 1 1",
	    "address 203.0.113.9 1" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(F.val, 0, sizeof(F.val));
		F.n = 0;
		F.want_op = APITOKEN_OP_LOCKOUTS;
		F.op = APITOKEN_OP_REPLY;
		td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
		td_fake_reply(&F, APITOKEN_T_ENTRY, bad[i]);
		td_fake_serve(&F, TD_FAKE_REPLY, 0);
		cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 4,
		    "%s: %s", bad[i], P.err);
		cr_assert_str_empty(P.out, "%s", P.out);
		cr_assert_not_null(strstr(P.err, "malformed lockout entry"),
		    "%s", P.err);
		(void)td_fake_wait(&F);
		unlink(F.sock);
	}
}

/* The daemon's note that a listing did not fit goes to stderr. */
Test(ctl_fake, listing_cut_short)
{
	lockouts_reply();
	td_fake_reply(&F, APITOKEN_T_DETAIL, "3 more not listed (the reply is "
	    "full)");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 0, "%s", P.err);
	cr_assert_eq(tl_count_lines(P.out), 3, "%s", P.out);
	cr_assert_str_eq(P.err, "tokenctl lockouts: apitokend: 3 more not "
	    "listed (the reply is full)\n");
}

/* tokenctl unlock OPT ARG (OPT NULL: unlock ARG): the request carries
 * tag = value, the daemon answers accepted with entry (NULL: none
 * cleared), tokenctl prints want and exits 0. */
static void
unlock_one(int tag, const char *value, const char *entry, const char *opt,
    const char *arg, const char *want)
{
	F.want_op = APITOKEN_OP_UNLOCK;
	td_fake_expect(&F, tag, value);
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	if (entry != NULL)
		td_fake_reply(&F, APITOKEN_T_ENTRY, entry);
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(opt != NULL ? ctl(NULL, "unlock", opt, arg, NULL) :
	    ctl(NULL, "unlock", arg, NULL, NULL), 0, "%s", P.err);
	cr_assert_eq(td_fake_wait(&F), 0, "the request was not UNLOCK %s",
	    value);
	cr_assert_str_eq(P.out, want);
}

Test(ctl_fake, unlock_token)
{
	unlock_one(APITOKEN_T_ID, "AbCdEfGh0123",
	    "token AbCdEfGh0123 1893456000 10", NULL, "AbCdEfGh0123",
	    "unlocked token AbCdEfGh0123\n");
}

Test(ctl_fake, unlock_user_nothing_locked)
{
	unlock_one(APITOKEN_T_USER, "alice", NULL, "--user", "alice",
	    "user alice was not locked out\n");
}

Test(ctl_fake, unlock_address)
{
	unlock_one(APITOKEN_T_RHOST, "2001:DB8::9",
	    "address 2001:db8::9 1893456000 10", "--address", "2001:DB8::9",
	    "unlocked address 2001:db8::9\n");
}

Test(ctl_fake, unlock_address_nothing_locked)
{
	unlock_one(APITOKEN_T_RHOST, "203.0.113.9", NULL, "--address",
	    "203.0.113.9", "address 203.0.113.9 was not locked out\n");
}

Test(ctl_fake, unlock_usage)
{
	cr_assert_eq(ctl(NULL, "unlock", NULL, NULL, NULL), 2);
	cr_assert_eq(ctl(NULL, "unlock", "not-an-id", NULL, NULL), 2);
	cr_assert_not_null(strstr(P.err, "is not a token ID"), "%s", P.err);
	cr_assert_eq(ctl(NULL, "unlock", "AbCdEfGh0123", "--user", "alice"),
	    2);
	cr_assert_not_null(strstr(P.err, "not both"), "%s", P.err);
	cr_assert_eq(ctl(NULL, "unlock", "--address", "203.0.113.300", NULL),
	    2);
	cr_assert_str_eq(P.err, "tokenctl unlock: --address: '203.0.113.300' "
	    "is not an IPv4 or IPv6 address\n");
	cr_assert_eq(ctl(NULL, "unlock", "--address", "10.0.0.0/8", NULL), 2);
	cr_assert_not_null(strstr(P.err, "'10.0.0.0/8' is not an IPv4"), "%s",
	    P.err);
	cr_assert_eq(ctl(NULL, "unlock", "--address=10.1.2.3", "--user",
	    "alice"), 2);
	cr_assert_not_null(strstr(P.err, "--address ADDR alone"), "%s", P.err);
	cr_assert_eq(ctl(NULL, "unlock", "--address", "10.1.2.3",
	    "AbCdEfGh0123"), 2);
	cr_assert_not_null(strstr(P.err, "--address ADDR alone"), "%s", P.err);
}

/* The daemon refuses the caller: exit 1, and the reason said. */
Test(ctl_fake, refused_caller)
{
	F.want_op = APITOKEN_OP_LOCKOUTS;
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "caller-not-allowed");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 1);
	cr_assert_not_null(strstr(P.err, "refused: caller-not-allowed"), "%s",
	    P.err);
}

Test(ctl_fake, no_daemon)
{
	char want[200];

	snprintf(want, sizeof(want), "tokenctl lockouts: apitokend at %s: "
	    "no such file or directory (is apitokend running?)\n", F.sock);
	cr_assert_eq(ctl(NULL, "lockouts", NULL, NULL, NULL), 4);
	cr_assert_str_eq(P.err, want);
	cr_assert_eq(ctl(NULL, "unlock", "AbCdEfGh0123", NULL, NULL), 4);
	cr_assert_eq(ctl("apitok_AbCdEfGh0123_x\n", "verify", "--daemon",
	    "--service=imap", NULL), 1, "not a token: never sent");
	cr_assert_eq(ctl("apitok_AbCdEfGh0123_x\n", "verify", "--daemon",
	    NULL, NULL), 2, "--daemon without --service");
	cr_assert_not_null(strstr(P.err, "--daemon needs --service"), "%s",
	    P.err);
}

Test(ctl_fake, not_root)
{
	const char *argv[] = { "setpriv", "--reuid=nobody", "--regid=nogroup",
	    "--clear-groups", TL_TOKENCTL, "-c", F.conf, "lockouts", NULL };
	struct tl_cmd c;

	memset(&c, 0, sizeof(c));
	c.argv = argv;
	c.search_path = 1;
	cr_assert_eq(tl_run(&c, &P), 1, "%s", P.err);
	cr_assert_not_null(strstr(P.err, "only root may do this"), "%s",
	    P.err);
}

/* verify --daemon: the request, and verify's own output */
Test(ctl_fake, verify_daemon)
{
	char tok[APITOKEN_TOKEN_MAX + 1], line[APITOKEN_TOKEN_MAX + 2];
	int r;

	tl_token_build("apitok", "AbCdEfGh0123",
	    "0123456789abcdefghijABCDEFGHIJxy", tok, sizeof(tok));
	snprintf(line, sizeof(line), "%s\n", tok);
	F.want_op = APITOKEN_OP_VERIFY;
	td_fake_expect(&F, APITOKEN_T_USER, "alice");
	td_fake_expect(&F, APITOKEN_T_SERVICE, "imap");
	td_fake_expect(&F, APITOKEN_T_TOKEN, tok);
	F.op = APITOKEN_OP_REPLY;
	td_fake_reply(&F, APITOKEN_T_REASON, "accepted");
	td_fake_reply(&F, APITOKEN_T_ID, "AbCdEfGh0123");
	td_fake_reply(&F, APITOKEN_T_LABEL, "phone");
	td_fake_reply(&F, APITOKEN_T_OWNER, "alice");
	td_fake_reply(&F, APITOKEN_T_EXPIRES, "0");
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	r = ctl(line, "verify", "--daemon", "--user=alice", "--service=imap");
	cr_assert_eq(r, 0, "%s", P.err);
	cr_assert_str_eq(P.out, "AbCdEfGh0123\n");
	cr_assert_eq(td_fake_wait(&F), 0, "the request was not as sent");
	/* and refused */
	unlink(F.sock);
	F.val[0] = "throttled";
	td_fake_serve(&F, TD_FAKE_REPLY, 0);
	cr_assert_eq(ctl(line, "verify", "--daemon", "--user=alice",
	    "--service=imap"), 1, "%s", P.err);
	cr_assert_str_empty(P.out);
	cr_assert_str_eq(P.err, "tokenctl verify: rejected: throttled (token "
	    "AbCdEfGh0123)\n");
	cr_assert_eq(td_fake_wait(&F), 0);
}
