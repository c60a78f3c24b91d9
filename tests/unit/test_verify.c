/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_verify.c - the one verify path: every reason code through
 * apitoken_verify and apitoken_verify_once, apitoken_verify_owner (no
 * claimed user), the documented check order,
 * result metadata and the absence of secrets in it, fail-closed store
 * errors, and concurrent use of one store handle from several threads.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define NOW ((time_t)1750000000)
#define PAST ((int64_t)1740000000)
#define FUTURE ((int64_t)4000000000)

struct tok {
	char s[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_token parts;
	char hash[APITOKEN_HASH_MAX];
};

enum { T_ACTIVE, T_DISABLED, T_REVOKED, T_EXPIRED, T_SERVICES, T_FROM4,
	T_FROM6, T_BOTH, T_COMBO_DIS, T_COMBO_EXP, T_COMBO_ACT, T_FUTURE,
	T_UNSTORED, NTOK };

static struct tu_env E;
static struct tok T[NTOK];
static struct apitoken_store *S;
static struct apitoken_result R;

static void
gen(struct tok *t, const char *prefix)
{
	cr_assert_eq(apitoken_token_generate(prefix, t->s, sizeof(t->s),
	    &t->parts, t->hash), 0);
}

static struct apitoken_record *
rec_for(const struct tok *t)
{
	struct apitoken_record *r = tu_record(t->parts.id, "alice", NULL);

	cr_assert_eq(apitoken_record_set(&r->hash, t->hash), 0);
	return r;
}

static void
add(struct apitoken_record *r, int services, const char *v)
{
	if (services)
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, v), 0);
	else
		cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from, v),
		    0);
}

static void
build_all(const char *prefix)
{
	struct apitoken_record *recs[NTOK];
	int i, n = 0;

	for (i = 0; i < NTOK; i++)
		gen(&T[i], prefix);
	for (i = 0; i < T_UNSTORED; i++)
		recs[n++] = rec_for(&T[i]);
	cr_assert_eq(apitoken_record_set(&recs[T_ACTIVE]->label,
	    "CI deploy key"), 0);
	recs[T_DISABLED]->status = APITOKEN_DISABLED;
	recs[T_REVOKED]->status = APITOKEN_REVOKED;
	recs[T_REVOKED]->revoked_at = 1700000500;
	recs[T_EXPIRED]->expires = PAST;
	add(recs[T_SERVICES], 1, "sshd");
	add(recs[T_SERVICES], 1, "sudo");
	add(recs[T_FROM4], 0, "10.1.0.0/16");
	add(recs[T_FROM6], 0, "2001:db8::/32");
	add(recs[T_BOTH], 0, "192.168.7.0/24");
	add(recs[T_BOTH], 0, "fd00::/8");
	/* combinations for the check order */
	recs[T_COMBO_DIS]->status = APITOKEN_DISABLED;
	recs[T_COMBO_DIS]->expires = PAST;
	add(recs[T_COMBO_DIS], 1, "sshd");
	add(recs[T_COMBO_DIS], 0, "10.0.0.0/8");
	recs[T_COMBO_EXP]->expires = PAST;
	add(recs[T_COMBO_EXP], 1, "sshd");
	add(recs[T_COMBO_EXP], 0, "10.0.0.0/8");
	recs[T_COMBO_ACT]->expires = FUTURE;
	add(recs[T_COMBO_ACT], 1, "sshd");
	add(recs[T_COMBO_ACT], 0, "10.0.0.0/8");
	recs[T_FUTURE]->expires = FUTURE;
	tu_store_build(E.cfg, recs, (size_t)n);
	for (i = 0; i < n; i++)
		apitoken_record_free(recs[i]);
}

static void
setup(void)
{
	tl_watchdog(30);
	tu_env_setup(&E, NULL);
	build_all(APITOKEN_DEFAULT_PREFIX);
	S = NULL;
	cr_assert_eq(apitoken_store_open(E.cfg, &S, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
}

static void
teardown(void)
{
	int i;

	apitoken_store_close(S);
	S = NULL;
	for (i = 0; i < NTOK; i++)
		apitoken_token_clear(&T[i].parts);
	tu_env_teardown(&E);
}

TestSuite(verify, .init = setup, .fini = teardown);
TestSuite(verify_once, .init = setup, .fini = teardown);

static enum apitoken_reason
vlen(const char *tok, size_t len,
    const char *user, const char *service, const char *rhost, time_t now)
{
	struct apitoken_request req = { user, service, rhost, now };
	enum apitoken_reason r;

	memset(&R, 0xa5, sizeof(R));
	r = apitoken_verify(S, tok, len, &req, &R);
	cr_assert_eq(r, R.reason, "return value != res->reason");
	cr_assert_not_null(memchr(R.detail, '\0', sizeof(R.detail)));
	cr_assert_not_null(memchr(R.id, '\0', sizeof(R.id)));
	cr_assert_not_null(memchr(R.user, '\0', sizeof(R.user)));
	cr_assert_not_null(memchr(R.label, '\0', sizeof(R.label)));
	return r;
}

static enum apitoken_reason
v(const char *tok, const char *user,
    const char *service, const char *rhost)
{
	return vlen(tok, strlen(tok), user, service, rhost, NOW);
}

static void
expect(int idx, const char *user, const char *service,
    const char *rhost, enum apitoken_reason want)
{
	enum apitoken_reason got = v(T[idx].s, user, service, rhost);

	cr_expect_eq(got, want, "token %d user=%s service=%s rhost=%s: got "
	    "%s, want %s", idx, user ? user : "(null)",
	    service ? service : "(null)", rhost ? rhost : "(null)",
	    apitoken_reason_str(got), apitoken_reason_str(want));
}

/* nothing secret in the result: not the secret, not the stored hash */
static void
assert_no_secret(const struct tok *t)
{
	cr_assert_null(memmem(&R, sizeof(R), t->parts.secret,
	    APITOKEN_SECRET_LEN), "secret in result");
	cr_assert_null(memmem(&R, sizeof(R), t->parts.secret, 12),
	    "part of the secret in result");
	cr_assert_null(memmem(&R, sizeof(R), t->hash + 7, 16),
	    "stored hash in result");
	cr_assert_null(memmem(&R, sizeof(R), "sha256$", 7), "hash in result");
}

/* ---------------------------------------------------------- reasons */

Test(verify, accepted_with_metadata)
{
	cr_assert_eq(v(T[T_ACTIVE].s, "alice", "sshd", "10.9.9.9"),
	    APITOKEN_ACCEPTED);
	cr_assert_str_eq(R.id, T[T_ACTIVE].parts.id);
	cr_assert_str_eq(R.user, "alice");
	cr_assert_str_eq(R.label, "CI deploy key");
	cr_assert_eq(R.status, APITOKEN_ACTIVE);
	cr_assert_eq(R.expires, 0);
	cr_assert_eq(R.format, APITOKEN_FMT_OK);
	assert_no_secret(&T[T_ACTIVE]);
	cr_assert_eq(v(T[T_FUTURE].s, "alice", NULL, NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(R.expires, FUTURE);
}

Test(verify, input_need_not_be_nul_terminated)
{
	size_t n = strlen(T[T_ACTIVE].s);
	char *exact = malloc(n);

	cr_assert_not_null(exact);
	memcpy(exact, T[T_ACTIVE].s, n);
	cr_assert_eq(vlen(exact, n, "alice", "sshd", NULL, NOW),
	    APITOKEN_ACCEPTED);
	free(exact);
}

Test(verify, malformed)
{
	char big[APITOKEN_INPUT_MAX + 10];
	char other[APITOKEN_TOKEN_MAX + 1], h[APITOKEN_HASH_MAX];
	struct apitoken_token p;

	cr_assert_eq(v("hunter2", "alice", NULL, NULL), APITOKEN_R_MALFORMED);
	cr_assert_neq(R.format, APITOKEN_FMT_OK);
	cr_assert_str_eq(R.id, "");
	cr_assert_str_eq(R.user, "");
	cr_assert_eq(v("", "alice", NULL, NULL), APITOKEN_R_MALFORMED);
	cr_assert_eq(R.format, APITOKEN_FMT_EMPTY);
	cr_assert_eq(v("correct horse battery", "alice", NULL, NULL),
	    APITOKEN_R_MALFORMED);
	cr_assert_eq(R.format, APITOKEN_FMT_ALPHABET);
	/* sshd's dummy password for users it will not allow */
	cr_assert_eq(v("\b\n\r\177INCORRECT", "alice", NULL, NULL),
	    APITOKEN_R_MALFORMED);
	memset(big, 'a', sizeof(big));
	cr_assert_eq(vlen(big, sizeof(big), "alice", NULL, NULL, NOW),
	    APITOKEN_R_MALFORMED);
	cr_assert_eq(R.format, APITOKEN_FMT_TOO_LONG);
	cr_assert_eq(apitoken_token_generate("ghp", other, sizeof(other), &p,
	    h), 0);
	cr_assert_eq(v(other, "alice", NULL, NULL), APITOKEN_R_MALFORMED);
	cr_assert_eq(R.format, APITOKEN_FMT_PREFIX);
	apitoken_token_clear(&p);
	/* the header form is not stripped by verify */
	snprintf(big, sizeof(big), "Bearer %s", T[T_ACTIVE].s);
	cr_assert_eq(v(big, "alice", NULL, NULL), APITOKEN_R_MALFORMED);
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify, bad_checksum)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	size_t n;

	memcpy(tok, T[T_ACTIVE].s, sizeof(tok));
	n = strlen(tok);
	tok[n - 1] = tok[n - 1] == '0' ? '1' : '0';
	cr_assert_eq(v(tok, "alice", NULL, NULL), APITOKEN_R_BAD_CHECKSUM);
	cr_assert_eq(R.format, APITOKEN_FMT_CHECKSUM);
	/* a typo in the secret: caught by the CRC, not the store */
	memcpy(tok, T[T_ACTIVE].s, sizeof(tok));
	tok[30] = tok[30] == 'x' ? 'y' : 'x';
	cr_assert_eq(v(tok, "alice", NULL, NULL), APITOKEN_R_BAD_CHECKSUM);
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify, unknown_id)
{
	cr_assert_eq(v(T[T_UNSTORED].s, "alice", NULL, NULL),
	    APITOKEN_R_UNKNOWN);
	cr_assert_str_eq(R.id, T[T_UNSTORED].parts.id);
	assert_no_secret(&T[T_UNSTORED]);
}

Test(verify, wrong_secret)
{
	char tok[APITOKEN_TOKEN_MAX + 1];

	/* the stored id with another token's secret and a correct CRC */
	tl_token_build(APITOKEN_DEFAULT_PREFIX, T[T_ACTIVE].parts.id,
	    T[T_UNSTORED].parts.secret, tok, sizeof(tok));
	cr_assert_eq(v(tok, "alice", NULL, NULL), APITOKEN_R_WRONG_SECRET);
	cr_assert_str_eq(R.id, T[T_ACTIVE].parts.id);
	assert_no_secret(&T[T_ACTIVE]);
	assert_no_secret(&T[T_UNSTORED]);
	/* one secret character off */
	{
		char sec[APITOKEN_SECRET_LEN + 1];

		memcpy(sec, T[T_ACTIVE].parts.secret, sizeof(sec));
		sec[0] = sec[0] == 'A' ? 'B' : 'A';
		tl_token_build(APITOKEN_DEFAULT_PREFIX, T[T_ACTIVE].parts.id,
		    sec, tok, sizeof(tok));
		cr_assert_eq(v(tok, "alice", NULL, NULL),
		    APITOKEN_R_WRONG_SECRET);
	}
}

Test(verify, disabled_revoked_expired)
{
	expect(T_DISABLED, "alice", NULL, NULL, APITOKEN_R_DISABLED);
	cr_assert_eq(R.status, APITOKEN_DISABLED);
	expect(T_REVOKED, "alice", NULL, NULL, APITOKEN_R_REVOKED);
	cr_assert_eq(R.status, APITOKEN_REVOKED);
	expect(T_EXPIRED, "alice", NULL, NULL, APITOKEN_R_EXPIRED);
	cr_assert_eq(R.expires, PAST);
}

Test(verify, expiry_boundary)
{
	const char *t = T[T_EXPIRED].s;

	cr_assert_eq(vlen(t, strlen(t), "alice", NULL, NULL, PAST - 1),
	    APITOKEN_ACCEPTED);
	cr_assert_eq(vlen(t, strlen(t), "alice", NULL, NULL, PAST),
	    APITOKEN_R_EXPIRED, "at expiry");
	cr_assert_eq(vlen(t, strlen(t), "alice", NULL, NULL, PAST + 1),
	    APITOKEN_R_EXPIRED);
}

Test(verify, now_zero_means_current_time)
{
	const char *t = T[T_EXPIRED].s;	/* expired 2025-02 */
	const char *f = T[T_FUTURE].s;	/* expires 2096 */

	cr_assert_gt(time(NULL), PAST, "clock before 2025?");
	cr_assert_eq(vlen(t, strlen(t), "alice", NULL, NULL, 0),
	    APITOKEN_R_EXPIRED);
	cr_assert_eq(vlen(f, strlen(f), "alice", NULL, NULL, 0),
	    APITOKEN_ACCEPTED);
	/* and with NOW before PAST the same token is fine */
	cr_assert_eq(vlen(t, strlen(t), "alice", NULL, NULL, PAST - 100),
	    APITOKEN_ACCEPTED);
}

Test(verify, wrong_user)
{
	expect(T_ACTIVE, "bob", NULL, NULL, APITOKEN_R_WRONG_USER);
	expect(T_ACTIVE, "Alice", NULL, NULL, APITOKEN_R_WRONG_USER);
	expect(T_ACTIVE, "alic", NULL, NULL, APITOKEN_R_WRONG_USER);
	expect(T_ACTIVE, "alice ", NULL, NULL, APITOKEN_R_WRONG_USER);
	expect(T_ACTIVE, "root", NULL, NULL, APITOKEN_R_WRONG_USER);
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify, missing_user_never_accepted)
{
	/* user is "required"; which refusal is not specified */
	cr_assert_neq(v(T[T_ACTIVE].s, NULL, NULL, NULL), APITOKEN_ACCEPTED);
	cr_assert_neq(v(T[T_ACTIVE].s, "", NULL, NULL), APITOKEN_ACCEPTED);
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify, services)
{
	expect(T_SERVICES, "alice", "sshd", NULL, APITOKEN_ACCEPTED);
	expect(T_SERVICES, "alice", "sudo", NULL, APITOKEN_ACCEPTED);
	expect(T_SERVICES, "alice", "login", NULL, APITOKEN_R_SERVICE);
	expect(T_SERVICES, "alice", "sshd2", NULL, APITOKEN_R_SERVICE);
	expect(T_SERVICES, "alice", "ssh", NULL, APITOKEN_R_SERVICE);
	expect(T_SERVICES, "alice", "", NULL, APITOKEN_R_SERVICE);
	/* a scoped token with no service named is refused (fail closed) */
	expect(T_SERVICES, "alice", NULL, NULL, APITOKEN_R_SERVICE);
	/* empty list = all services */
	expect(T_ACTIVE, "alice", "login", NULL, APITOKEN_ACCEPTED);
	expect(T_ACTIVE, "alice", "anything-else", NULL, APITOKEN_ACCEPTED);
	expect(T_ACTIVE, "alice", NULL, NULL, APITOKEN_ACCEPTED);
}

Test(verify, source_ipv4)
{
	expect(T_FROM4, "alice", NULL, "10.1.2.3", APITOKEN_ACCEPTED);
	expect(T_FROM4, "alice", NULL, "10.1.0.0", APITOKEN_ACCEPTED);
	expect(T_FROM4, "alice", NULL, "10.1.255.255", APITOKEN_ACCEPTED);
	expect(T_FROM4, "alice", NULL, "10.2.0.1", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "10.0.255.255", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "192.168.1.1", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "2001:db8::1", APITOKEN_R_SOURCE);
}

Test(verify, source_ipv6)
{
	expect(T_FROM6, "alice", NULL, "2001:db8::1", APITOKEN_ACCEPTED);
	expect(T_FROM6, "alice", NULL, "2001:db8:ffff:ffff::1",
	    APITOKEN_ACCEPTED);
	expect(T_FROM6, "alice", NULL, "2001:0db8:0000::0001",
	    APITOKEN_ACCEPTED);
	expect(T_FROM6, "alice", NULL, "2001:db9::1", APITOKEN_R_SOURCE);
	expect(T_FROM6, "alice", NULL, "::1", APITOKEN_R_SOURCE);
	expect(T_FROM6, "alice", NULL, "10.1.2.3", APITOKEN_R_SOURCE);
	expect(T_BOTH, "alice", NULL, "192.168.7.200", APITOKEN_ACCEPTED);
	expect(T_BOTH, "alice", NULL, "fd12:3456::1", APITOKEN_ACCEPTED);
	expect(T_BOTH, "alice", NULL, "192.168.8.1", APITOKEN_R_SOURCE);
	expect(T_BOTH, "alice", NULL, "fe80::1", APITOKEN_R_SOURCE);
}

Test(verify, source_unknown_or_not_an_ip)
{
	expect(T_FROM4, "alice", NULL, NULL, APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "host.example.com", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "10.1.2.3.example.com",
	    APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "10.1.2", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "10.1.2.3/32", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, " 10.1.2.3", APITOKEN_R_SOURCE);
	expect(T_FROM4, "alice", NULL, "10.1.2.3 ", APITOKEN_R_SOURCE);
	expect(T_FROM6, "alice", NULL, NULL, APITOKEN_R_SOURCE);
	expect(T_FROM6, "alice", NULL, "[2001:db8::1]", APITOKEN_R_SOURCE);
	/* no from list: any address, known or not */
	expect(T_ACTIVE, "alice", NULL, NULL, APITOKEN_ACCEPTED);
	expect(T_ACTIVE, "alice", NULL, "", APITOKEN_ACCEPTED);
	expect(T_ACTIVE, "alice", NULL, "host.example.com", APITOKEN_ACCEPTED);
}

Test(verify, check_order)
{
	char tok[APITOKEN_TOKEN_MAX + 1];

	/* hash compare before status: a revoked id with a wrong secret */
	tl_token_build(APITOKEN_DEFAULT_PREFIX, T[T_REVOKED].parts.id,
	    T[T_UNSTORED].parts.secret, tok, sizeof(tok));
	cr_assert_eq(v(tok, "bob", "login", "1.1.1.1"),
	    APITOKEN_R_WRONG_SECRET);
	/* status before expiry, owner, service, source */
	expect(T_COMBO_DIS, "bob", "login", "1.1.1.1", APITOKEN_R_DISABLED);
	/* expiry before owner, service, source */
	expect(T_COMBO_EXP, "bob", "login", "1.1.1.1", APITOKEN_R_EXPIRED);
	/* owner before service and source */
	expect(T_COMBO_ACT, "bob", "login", "1.1.1.1", APITOKEN_R_WRONG_USER);
	/* service before source */
	expect(T_COMBO_ACT, "alice", "login", "1.1.1.1", APITOKEN_R_SERVICE);
	expect(T_COMBO_ACT, "alice", "sshd", "1.1.1.1", APITOKEN_R_SOURCE);
	expect(T_COMBO_ACT, "alice", "sshd", NULL, APITOKEN_R_SOURCE);
	expect(T_COMBO_ACT, "alice", "sshd", "10.20.30.40", APITOKEN_ACCEPTED);
}

Test(verify, custom_prefix_from_config)
{
	struct apitoken_record *r;
	struct tok c;

	apitoken_store_close(S);
	S = NULL;
	tu_env_reconfig(&E, "token_prefix: corp\n");
	cr_assert_str_eq(apitoken_config_token_prefix(E.cfg), "corp");
	gen(&c, "corp");
	r = rec_for(&c);
	{
		struct apitoken_txn *t = NULL;

		cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &t, NULL, 0), 0);
		cr_assert_eq(apitoken_txn_insert(t, r, NULL, 0), 0);
		cr_assert_eq(apitoken_txn_commit(t, NULL, 0), 0);
		apitoken_txn_free(t);
	}
	apitoken_record_free(r);
	cr_assert_eq(apitoken_store_open(E.cfg, &S, NULL, 0), 0);
	cr_assert_eq(v(c.s, "alice", NULL, NULL), APITOKEN_ACCEPTED);
	cr_assert_eq(v(T[T_ACTIVE].s, "alice", NULL, NULL),
	    APITOKEN_R_MALFORMED, "apitok_ token with prefix corp");
	cr_assert_eq(R.format, APITOKEN_FMT_PREFIX);
	apitoken_token_clear(&c.parts);
}

Test(verify, corrupt_record_is_store_error_not_unknown)
{
	char *data, *p;
	size_t len;

	apitoken_store_close(S);
	S = NULL;
	data = tl_read_file(E.store, &len);
	p = strstr(data, T[T_ACTIVE].parts.id);
	cr_assert_not_null(p);
	p = strstr(p, "\tactive\t");
	cr_assert_not_null(p);
	memcpy(p + 1, "ACTIVE", 6);
	tl_write_file(E.store, data, len, 0600);
	free(data);
	cr_assert_eq(apitoken_store_open(E.cfg, &S, NULL, 0), 0);
	cr_assert_eq(v(T[T_ACTIVE].s, "alice", NULL, NULL),
	    APITOKEN_R_STORE_ERROR);
	cr_assert_eq(R.error, APITOKEN_ERR_STORE_FORMAT);
	cr_assert_neq(R.detail[0], '\0');
	assert_no_secret(&T[T_ACTIVE]);
	/* the other records still work */
	expect(T_FUTURE, "alice", NULL, NULL, APITOKEN_ACCEPTED);
}

/* ------------------------------------------------------ verify_owner */

/* apitoken_verify_owner: no user claimed, the owner comes back */
static enum apitoken_reason
vo(int idx, const char *service, const char *rhost)
{
	struct apitoken_request req = { NULL, service, rhost, NOW };
	enum apitoken_reason r;

	memset(&R, 0xa5, sizeof(R));
	r = apitoken_verify_owner(S, T[idx].s, strlen(T[idx].s), &req, &R);
	cr_assert_eq(r, R.reason, "return value != res->reason");
	cr_assert_not_null(memchr(R.user, '\0', sizeof(R.user)));
	return r;
}

Test(verify, owner_accepted_returns_the_owner)
{
	cr_assert_eq(vo(T_ACTIVE, "billing-api", "10.9.9.9"),
	    APITOKEN_ACCEPTED);
	cr_assert_str_eq(R.user, "alice");
	cr_assert_str_eq(R.id, T[T_ACTIVE].parts.id);
	cr_assert_str_eq(R.label, "CI deploy key");
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify, owner_every_other_check_still_applies)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_request req = { NULL, "sshd", NULL, NOW };

	cr_expect_eq(vo(T_DISABLED, NULL, NULL), APITOKEN_R_DISABLED);
	cr_expect_eq(vo(T_REVOKED, NULL, NULL), APITOKEN_R_REVOKED);
	cr_expect_eq(vo(T_EXPIRED, NULL, NULL), APITOKEN_R_EXPIRED);
	cr_expect_eq(vo(T_SERVICES, "login", NULL), APITOKEN_R_SERVICE);
	cr_expect_eq(vo(T_SERVICES, NULL, NULL), APITOKEN_R_SERVICE);
	cr_expect_eq(vo(T_SERVICES, "sudo", NULL), APITOKEN_ACCEPTED);
	cr_expect_eq(vo(T_FROM4, NULL, "10.2.0.1"), APITOKEN_R_SOURCE);
	cr_expect_eq(vo(T_FROM4, NULL, NULL), APITOKEN_R_SOURCE);
	cr_expect_eq(vo(T_FROM4, NULL, "10.1.2.3"), APITOKEN_ACCEPTED);
	cr_expect_eq(vo(T_UNSTORED, NULL, NULL), APITOKEN_R_UNKNOWN);
	cr_expect_eq(vo(T_COMBO_ACT, "sshd", "1.1.1.1"), APITOKEN_R_SOURCE);
	tl_token_build(APITOKEN_DEFAULT_PREFIX, T[T_ACTIVE].parts.id,
	    T[T_UNSTORED].parts.secret, tok, sizeof(tok));
	cr_expect_eq(apitoken_verify_owner(S, tok, strlen(tok), &req, &R),
	    APITOKEN_R_WRONG_SECRET);
	cr_expect_eq(apitoken_verify_owner(S, "apitok_x", 8, &req, &R),
	    APITOKEN_R_MALFORMED);
}

Test(verify, owner_refuses_a_claimed_user)
{
	struct apitoken_request req = { "alice", NULL, NULL, NOW };
	const char *t = T[T_ACTIVE].s;

	/* a caller mixing the two up fails closed, even for the owner */
	cr_assert_eq(apitoken_verify_owner(S, t, strlen(t), &req, &R),
	    APITOKEN_R_STORE_ERROR);
	cr_assert_eq(R.error, APITOKEN_ERR_INTERNAL);
	req.user = "";
	cr_assert_eq(apitoken_verify_owner(S, t, strlen(t), &req, &R),
	    APITOKEN_R_STORE_ERROR);
	/* and apitoken_verify still needs one */
	req.user = NULL;
	cr_assert_eq(apitoken_verify(S, t, strlen(t), &req, &R),
	    APITOKEN_R_STORE_ERROR);
}

/* ------------------------------------------------------ threads */

struct job {
	int ok;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	int i;

	j->ok = 1;
	for (i = 0; i < 300; i++) {
		struct apitoken_request req = { "alice", "sshd", "10.1.2.3",
		    NOW };
		struct apitoken_result res;
		int k = i % 4;
		static const int idx[4] = { T_ACTIVE, T_REVOKED, T_FROM4,
		    T_UNSTORED };
		static const enum apitoken_reason want[4] = {
			APITOKEN_ACCEPTED, APITOKEN_R_REVOKED,
			APITOKEN_ACCEPTED, APITOKEN_R_UNKNOWN };

		if (apitoken_verify(S, T[idx[k]].s, strlen(T[idx[k]].s), &req,
		    &res) != want[k] || (k == 0 && strcmp(res.id,
		    T[T_ACTIVE].parts.id) != 0))
			j->ok = 0;
	}
	return NULL;
}

Test(verify, shared_store_handle_across_threads)
{
	enum { N = 4 };
	pthread_t th[N];
	struct job jobs[N];
	int i;

	for (i = 0; i < N; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, worker, &jobs[i]),
		    0);
	for (i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		cr_assert(jobs[i].ok, "thread %d saw a wrong decision", i);
	}
}

/* ------------------------------------------------------ verify_once */

static enum apitoken_reason
once(const char *tok, const char *user)
{
	struct apitoken_request req = { user, NULL, NULL, NOW };
	enum apitoken_reason r;

	memset(&R, 0xa5, sizeof(R));
	r = apitoken_verify_once(E.cfg, tok, strlen(tok), &req, &R);
	cr_assert_eq(r, R.reason);
	return r;
}

Test(verify_once, every_reason)
{
	char tok[APITOKEN_TOKEN_MAX + 1];

	cr_assert_eq(once(T[T_ACTIVE].s, "alice"), APITOKEN_ACCEPTED);
	cr_assert_str_eq(R.label, "CI deploy key");
	assert_no_secret(&T[T_ACTIVE]);
	cr_assert_eq(once("hunter2", "alice"), APITOKEN_R_MALFORMED);
	memcpy(tok, T[T_ACTIVE].s, sizeof(tok));
	tok[strlen(tok) - 1] = tok[strlen(tok) - 1] == '0' ? '1' : '0';
	cr_assert_eq(once(tok, "alice"), APITOKEN_R_BAD_CHECKSUM);
	cr_assert_eq(once(T[T_UNSTORED].s, "alice"), APITOKEN_R_UNKNOWN);
	tl_token_build(APITOKEN_DEFAULT_PREFIX, T[T_ACTIVE].parts.id,
	    T[T_UNSTORED].parts.secret, tok, sizeof(tok));
	cr_assert_eq(once(tok, "alice"), APITOKEN_R_WRONG_SECRET);
	cr_assert_eq(once(T[T_DISABLED].s, "alice"), APITOKEN_R_DISABLED);
	cr_assert_eq(once(T[T_REVOKED].s, "alice"), APITOKEN_R_REVOKED);
	cr_assert_eq(once(T[T_EXPIRED].s, "alice"), APITOKEN_R_EXPIRED);
	cr_assert_eq(once(T[T_ACTIVE].s, "bob"), APITOKEN_R_WRONG_USER);
	cr_assert_eq(once(T[T_SERVICES].s, "alice"), APITOKEN_R_SERVICE);
	cr_assert_eq(once(T[T_FROM4].s, "alice"), APITOKEN_R_SOURCE);
}

Test(verify_once, missing_store)
{
	cr_assert_eq(unlink(E.store), 0);
	cr_assert_eq(once(T[T_ACTIVE].s, "alice"), APITOKEN_R_STORE_ERROR);
	cr_assert_eq(R.error, APITOKEN_ERR_STORE_MISSING);
	cr_assert_neq(R.detail[0], '\0');
	cr_assert_not_null(memchr(R.detail, '\0', sizeof(R.detail)));
	cr_assert_not_null(strstr(R.detail, E.store), "detail: %s", R.detail);
	assert_no_secret(&T[T_ACTIVE]);
}

Test(verify_once, unsafe_store)
{
	cr_assert_eq(chmod(E.store, 0666), 0);
	cr_assert_eq(once(T[T_ACTIVE].s, "alice"), APITOKEN_R_STORE_ERROR);
	cr_assert_eq(R.error, APITOKEN_ERR_STORE_UNSAFE);
	cr_assert_not_null(strstr(R.detail, E.store), "detail: %s", R.detail);
}

Test(verify_once, corrupt_store)
{
	tl_write_file(E.store, "garbage\n", 8, 0600);
	cr_assert_eq(once(T[T_ACTIVE].s, "alice"), APITOKEN_R_STORE_ERROR);
	cr_assert_eq(R.error, APITOKEN_ERR_STORE_FORMAT);
	cr_assert_neq(R.detail[0], '\0');
}

Test(verify_once, malformed_never_opens_store)
{
	char tok[APITOKEN_TOKEN_MAX + 1];

	/* with the store gone, a malformed token is still "malformed" */
	cr_assert_eq(unlink(E.store), 0);
	cr_assert_eq(once("hunter2", "alice"), APITOKEN_R_MALFORMED);
	cr_assert_eq(once("", "alice"), APITOKEN_R_MALFORMED);
	memcpy(tok, T[T_ACTIVE].s, sizeof(tok));
	tok[strlen(tok) - 1] = tok[strlen(tok) - 1] == '0' ? '1' : '0';
	cr_assert_eq(once(tok, "alice"), APITOKEN_R_BAD_CHECKSUM);
}
