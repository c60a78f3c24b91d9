/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_replica.c - a fleet replica's state file "<store>.replica"
 * (round trip, mode, every corruption named by its line, missing) and
 * staleness: apitoken_replica_stale and every verify entry refusing
 * with replica-stale when postgresql is configured and the replica has
 * not synced within max_staleness (fail closed on a bad state file).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define NOW ((time_t)1750000000)
#define PG "postgresql:\n  conninfo: host=/nonexistent dbname=x\n"

static struct tu_env E;
static char SP[TU_PATHLEN + 16];	/* the state file's path */

static void
setup(void)
{
	tl_watchdog(30);
	tu_env_setup(&E, PG);
	snprintf(SP, sizeof(SP), "%s.replica", E.store);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(replica_state, .init = setup, .fini = teardown);
TestSuite(replica_stale, .init = setup, .fini = teardown);

static struct apitoken_replica_state
sample(int64_t last_sync)
{
	struct apitoken_replica_state st;

	memset(&st, 0, sizeof(st));
	st.cursor_xid = 18446744073709551615ULL;
	st.cursor_seq = 1204;
	st.last_sync = last_sync;
	st.updated = last_sync + 3;
	st.connected = 1;
	st.pending_reports = 17;
	st.pid = 812;
	snprintf(st.server, sizeof(st.server), "db.example:5432");
	return st;
}

static void
write_state(const struct apitoken_replica_state *st)
{
	int r = apitoken_replica_state_write(E.cfg, st, E.err, sizeof(E.err));

	cr_assert_eq(r, 0, "state_write = %d: %s", r, E.err);
}

static int
read_state(struct apitoken_replica_state *st)
{
	E.err[0] = '\0';
	return apitoken_replica_state_read(E.cfg, st, E.err, sizeof(E.err));
}

/* ------------------------------------------------------ state file */

Test(replica_state, round_trip)
{
	struct apitoken_replica_state w = sample(NOW), r;
	struct stat sb;

	snprintf(w.error, sizeof(w.error), "PostgreSQL server at db: "
	    "connection refused \\ (50%%)");
	write_state(&w);
	cr_assert_eq(read_state(&r), 0, "%s", E.err);
	cr_assert_eq(memcmp(&w, &r, sizeof(w)), 0);
	cr_assert_eq(stat(SP, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(sb.st_uid, geteuid());
	/* written again: replaced, never appended to */
	w.connected = 0;
	w.error[0] = '\0';
	write_state(&w);
	cr_assert_eq(read_state(&r), 0, "%s", E.err);
	cr_assert_eq(r.connected, 0);
	cr_assert_str_eq(r.error, "");
	cr_assert_str_eq(r.server, "db.example:5432");
}

Test(replica_state, mode_follows_the_store)
{
	struct apitoken_replica_state w = sample(NOW);
	struct stat sb;

	tu_store_build_ids(E.cfg, 1, 1, 1);
	cr_assert_eq(chmod(E.store, 0640), 0);
	write_state(&w);
	cr_assert_eq(stat(SP, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0640);
}

Test(replica_state, control_characters_are_not_written)
{
	struct apitoken_replica_state w = sample(NOW), r;

	snprintf(w.error, sizeof(w.error), "line one\nline\ttwo\033[1m");
	write_state(&w);
	cr_assert_eq(read_state(&r), 0, "%s", E.err);
	cr_assert_str_eq(r.error, "line one?line?two?[1m");
	w.connected = 2;
	cr_assert_eq(apitoken_replica_state_write(E.cfg, &w, NULL, 0),
	    APITOKEN_ERR_INVALID);
	w.connected = 1;
	w.last_sync = -1;
	cr_assert_eq(apitoken_replica_state_write(E.cfg, &w, NULL, 0),
	    APITOKEN_ERR_INVALID);
}

Test(replica_state, missing_is_not_found)
{
	struct apitoken_replica_state r;

	memset(&r, 0x55, sizeof(r));
	cr_assert_eq(read_state(&r), APITOKEN_ERR_NOT_FOUND);
	cr_assert_eq(r.last_sync, 0);
	cr_assert_eq(r.server[0], '\0');
}

#define GOOD_HEAD "#apitoken-replica v1\ncursor_xid 5\ncursor_seq 6\n"
#define GOOD_TAIL "last_sync 1750000000\nupdated 1750000001\n" \
	"connected 1\npending_reports 0\npid 9\nserver \nerror\n"

static void
bad(const char *text, int line, const char *what)
{
	struct apitoken_replica_state r;
	char want[TU_PATHLEN + 64];

	tl_write_file(SP, text, strlen(text), 0600);
	cr_assert_eq(read_state(&r), APITOKEN_ERR_STORE_FORMAT, "accepted: %s",
	    text);
	if (line > 0) {
		snprintf(want, sizeof(want), "%s:%d: ", SP, line);
		cr_assert_eq(strncmp(E.err, want, strlen(want)), 0,
		    "want %s: %s", want, E.err);
	}
	cr_assert_not_null(strstr(E.err, what), "want \"%s\" in %s", what,
	    E.err);
	cr_assert_eq(r.last_sync, 0, "nothing of a bad file is kept");
}

Test(replica_state, every_corruption_names_its_line)
{
	struct apitoken_replica_state r;

	tl_write_file(SP, GOOD_HEAD GOOD_TAIL, strlen(GOOD_HEAD GOOD_TAIL),
	    0600);
	cr_assert_eq(read_state(&r), 0, "%s", E.err);
	bad("", 1, "truncated");
	bad(GOOD_HEAD GOOD_TAIL "x", 0, "truncated");
	bad("#apitoken-replica v2\n" GOOD_TAIL, 1, "not a replica state");
	bad(GOOD_HEAD "colour blue\n" GOOD_TAIL, 4, "unknown key");
	bad(GOOD_HEAD "cursor_seq 7\n" GOOD_TAIL, 4, "cursor_seq given twice");
	bad("#apitoken-replica v1\ncursor_xid -5\ncursor_seq 6\n" GOOD_TAIL,
	    2, "cursor_xid: bad value");
	bad("#apitoken-replica v1\ncursor_xid 18446744073709551616\n"
	    "cursor_seq 6\n" GOOD_TAIL, 2, "cursor_xid: bad value");
	bad("#apitoken-replica v1\ncursor_xid 05\ncursor_seq 6\n" GOOD_TAIL,
	    2, "bad value");
	bad(GOOD_HEAD "last_sync 1750000000\nupdated 1\nconnected 2\n"
	    "pending_reports 0\npid 9\nserver \nerror\n", 6,
	    "connected: bad value");
	bad(GOOD_HEAD "last_sync 1750000000\nupdated 1\nconnected 1\n"
	    "pending_reports 0\npid 9\nserver a\033b\nerror\n", 9,
	    "server: bad value");
	bad(GOOD_HEAD "last_sync 1750000000\nupdated 1\nconnected 1\n"
	    "pending_reports 0\npid 9\nserver \n", 10, "error missing");
	bad(GOOD_HEAD "\n" GOOD_TAIL, 4, "unknown key");
	bad(GOOD_HEAD "last_sync  1750000000\n", 4, "last_sync: bad value");
}

Test(replica_state, a_symlink_or_a_writable_file_is_refused)
{
	struct apitoken_replica_state w = sample(NOW), r;
	char other[TU_PATHLEN + 16];

	write_state(&w);
	snprintf(other, sizeof(other), "%s/elsewhere", E.dir);
	cr_assert_eq(rename(SP, other), 0);
	cr_assert_eq(symlink(other, SP), 0);
	cr_assert_eq(read_state(&r), APITOKEN_ERR_STORE_UNSAFE, "%s", E.err);
	cr_assert_eq(unlink(SP), 0);
	cr_assert_eq(rename(other, SP), 0);
	cr_assert_eq(chmod(SP, 0620), 0);
	cr_assert_eq(read_state(&r), APITOKEN_ERR_STORE_UNSAFE, "%s", E.err);
}

/* ------------------------------------------------------- staleness */

Test(replica_stale, the_rule)
{
	struct apitoken_replica_state w = sample(NOW - 3600);

	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 1, "no state yet");
	write_state(&w);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 0);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW - 3600 + 86400), 0,
	    "exactly max_staleness old");
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW - 3600 + 86401), 1);
	w.last_sync = 0;	/* written, never synced */
	write_state(&w);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 1);
	tl_write_file(SP, "garbage\n", 8, 0600);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 1, "fail closed");
}

Test(replica_stale, max_staleness_and_never)
{
	struct apitoken_replica_state w = sample(NOW - 600);

	tu_env_reconfig(&E, PG "max_staleness: 5m\n");
	write_state(&w);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 1);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW - 300), 0);
	tu_env_reconfig(&E, PG "max_staleness: never\n");
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW + 10 * 365 * 86400), 0);
	cr_assert_eq(unlink(SP), 0);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 1,
	    "never synced is stale even with never");
}

Test(replica_stale, without_postgresql_nothing_is_read)
{
	tu_env_reconfig(&E, NULL);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 0);
	tl_write_file(SP, "garbage\n", 8, 0600);
	cr_assert_eq(apitoken_replica_stale(E.cfg, NOW), 0);
}

struct tok {
	char s[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_token parts;
	char hash[APITOKEN_HASH_MAX];
};

static void
one_token(struct tok *t)
{
	struct apitoken_record *r;

	cr_assert_eq(apitoken_token_generate(APITOKEN_DEFAULT_PREFIX, t->s,
	    sizeof(t->s), &t->parts, t->hash), 0);
	r = tu_record(t->parts.id, "alice", NULL);
	cr_assert_eq(apitoken_record_set(&r->hash, t->hash), 0);
	tu_store_build(E.cfg, &r, 1);
	apitoken_record_free(r);
}

/* Every verify entry's verdict on t at now. */
static void
verdicts(const struct tok *t, time_t now, enum apitoken_reason want)
{
	struct apitoken_request req = { .user = "alice", .service = "sshd",
		.now = now };
	struct apitoken_request any = { .service = "sshd", .now = now };
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec = NULL;
	struct apitoken_result res;

	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	cr_assert_eq(apitoken_verify(s, t->s, strlen(t->s), &req, &res), want,
	    "verify: %s (%s)", apitoken_reason_str(res.reason), res.detail);
	if (want == APITOKEN_R_STALE) {
		cr_assert_str_eq(res.id, t->parts.id);
		cr_assert_str_eq(res.user, "", "not looked up");
		cr_assert_neq(res.detail[0], '\0');
	}
	cr_assert_eq(apitoken_verify_owner(s, t->s, strlen(t->s), &any, &res),
	    want, "verify_owner: %s", apitoken_reason_str(res.reason));
	cr_assert_eq(apitoken_verify_once(E.cfg, t->s, strlen(t->s), &req,
	    &res), want, "verify_once: %s", apitoken_reason_str(res.reason));
	cr_assert_eq(apitoken_store_find(s, t->parts.id, &rec, NULL, 0), 0);
	cr_assert_eq(apitoken_record_usable(E.cfg, rec, &req), want,
	    "record_usable");
	/* not a token: still malformed, stale or not */
	cr_assert_eq(apitoken_verify(s, "apitok_nope", 11, &req, &res),
	    APITOKEN_R_MALFORMED);
	apitoken_record_free(rec);
	apitoken_store_close(s);
}

Test(replica_stale, every_verify_entry_refuses_a_stale_replica)
{
	struct apitoken_replica_state w = sample(NOW - 60);
	struct tok t;

	one_token(&t);
	verdicts(&t, NOW, APITOKEN_R_STALE);		/* no state */
	write_state(&w);
	verdicts(&t, NOW, APITOKEN_ACCEPTED);
	verdicts(&t, NOW + 86400, APITOKEN_R_STALE);
	tl_write_file(SP, "#apitoken-replica v1\n", 21, 0600);
	verdicts(&t, NOW, APITOKEN_R_STALE);
	tu_env_reconfig(&E, NULL);	/* no fleet: the state is not read */
	verdicts(&t, NOW, APITOKEN_ACCEPTED);
	cr_assert_str_eq(apitoken_reason_str(APITOKEN_R_STALE),
	    "replica-stale");
}

Test(replica_stale, an_open_store_sees_each_new_state)
{
	struct apitoken_replica_state w = sample(NOW - 90000);
	struct apitoken_request req = { .user = "alice", .service = "sshd",
		.now = NOW };
	struct apitoken_store *s = NULL;
	struct apitoken_result res;
	struct tok t;

	one_token(&t);
	write_state(&w);
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	cr_assert_eq(apitoken_verify(s, t.s, strlen(t.s), &req, &res),
	    APITOKEN_R_STALE);
	cr_assert_not_null(strstr(res.detail, "max_staleness"), "%s",
	    res.detail);
	w.last_sync = NOW - 5;
	write_state(&w);
	cr_assert_eq(apitoken_verify(s, t.s, strlen(t.s), &req, &res),
	    APITOKEN_ACCEPTED, "%s", res.detail);
	apitoken_store_close(s);
}
