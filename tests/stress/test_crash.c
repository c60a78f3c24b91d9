/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_crash.c - SIGKILL tokenctl writers at random moments (issue 5,
 * "Crash safety").
 *
 * A few hundred times: start `tokenctl issue`, `edit` or `revoke`, sleep
 * a random time between 0 and the typical duration of such a run, kill
 * it with SIGKILL.  After each kill the store must
 *  - open and parse completely (apitoken_store_open + foreach), and a
 *    known-good token must still verify;
 *  - be byte for byte the store from before the command, or be the
 *    store from before with exactly that one change applied: the other
 *    records' lines unchanged, and for issue exactly one new record with
 *    the label used (times such as updated/revoked_at cannot be known in
 *    advance, so the changed record is compared field by field);
 *  - never lose a change that tokenctl reported as done (exit 0).
 * Temp files a killed writer leaves must not confuse later runs: every
 * successful write afterwards leaves no ".tokens.tmp.*" in the store's
 * directory, and a final tokenctl write succeeds.
 *
 * Knobs: CRASH_KILLS (300), CRASH_BUDGET_S (80, wall-time cap of the
 * kill loop), SX_SEED (replay the random choices).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "stress/sx.h"

enum op { OP_ISSUE, OP_EDIT, OP_REVOKE, OP_N };
static const char *const op_name[OP_N] = { "issue", "edit", "revoke" };

struct crash_stats {
	long runs, killed, completed, same, changed, temps_seen;
	long by_op[OP_N][2];	/* [op][0 = before, 1 = after] */
};

struct snap {
	char *raw;
	size_t len;
	struct sx_recset rs;
};

static void
snap_take(const struct sx_env *e, struct snap *s)
{
	char err[SX_ERRLEN];
	int r;

	s->raw = tl_read_file(e->store, &s->len);
	cr_assert_not_null(s->raw, "store %s vanished", e->store);
	r = sx_recset_load(e->cfg, &s->rs, err, sizeof(err));
	cr_assert_eq(r, 0, "store does not parse (%d): %s", r, err);
}

static void
snap_free(struct snap *s)
{
	free(s->raw);
	sx_recset_free(&s->rs);
	memset(s, 0, sizeof(*s));
}

/* The record of before (index bi) with the fields an op may change
 * copied from the after record: must then format to the after line. */
static int
same_but(const struct apitoken_record *b, const struct apitoken_record *a,
    enum op op, const char *arg)
{
	struct apitoken_record *x = apitoken_record_dup(b);
	char *l1 = NULL, *l2 = NULL;
	size_t n1, n2;
	int ok = 0;

	cr_assert_not_null(x);
	x->updated = a->updated;
	if (op == OP_REVOKE) {
		if (a->status != APITOKEN_REVOKED ||
		    strcmp(a->revoke_reason, arg) != 0)
			goto out;
		x->status = a->status;
		x->revoked_at = a->revoked_at;
		cr_assert_eq(apitoken_record_set(&x->revoke_reason,
		    a->revoke_reason), 0);
	} else if (op == OP_EDIT) {
		if (strcmp(a->description, arg) != 0)
			goto out;
		cr_assert_eq(apitoken_record_set(&x->description,
		    a->description), 0);
	}
	if (a->updated < b->updated)
		goto out;
	cr_assert_eq(apitoken_record_format(x, &l1, &n1), 0);
	cr_assert_eq(apitoken_record_format(a, &l2, &n2), 0);
	ok = n1 == n2 && memcmp(l1, l2, n1) == 0;
out:
	free(l1);
	free(l2);
	apitoken_record_free(x);
	return ok;
}

/*
 * Is after == before plus the one change?  target is the id changed
 * (edit/revoke) or the label of the new record (issue).
 */
static int
is_after(const struct snap *b, const struct snap *a, enum op op,
    const char *target, const char *arg, char *why, size_t whylen)
{
	size_t i, extra = 0;
	ssize_t k;
	const struct apitoken_record *nr = NULL;

	if (a->rs.n != b->rs.n + (op == OP_ISSUE)) {
		snprintf(why, whylen, "%zu records before, %zu after", b->rs.n,
		    a->rs.n);
		return 0;
	}
	for (i = 0; i < a->rs.n; i++) {
		k = sx_recset_find(&b->rs, a->rs.ids[i]);
		if (k < 0) {
			extra++;
			nr = a->rs.recs[i];
			continue;
		}
		if (op != OP_ISSUE && strcmp(a->rs.ids[i], target) == 0) {
			if (!same_but(b->rs.recs[k], a->rs.recs[i], op, arg)) {
				snprintf(why, whylen, "%s changed wrongly by "
				    "%s:\n%s%s", target, op_name[op],
				    b->rs.lines[k], a->rs.lines[i]);
				return 0;
			}
			continue;
		}
		if (strcmp(b->rs.lines[k], a->rs.lines[i]) != 0) {
			snprintf(why, whylen, "untouched record %s changed:\n"
			    "%s%s", a->rs.ids[i], b->rs.lines[k],
			    a->rs.lines[i]);
			return 0;
		}
	}
	if (op == OP_ISSUE && (extra != 1 || strcmp(nr->label, target) != 0 ||
	    nr->status != APITOKEN_ACTIVE)) {
		snprintf(why, whylen, "issue: %zu new records (label %s)", extra,
		    nr ? nr->label : "-");
		return 0;
	}
	if (op != OP_ISSUE && sx_recset_find(&a->rs, target) < 0) {
		snprintf(why, whylen, "%s disappeared", target);
		return 0;
	}
	return 1;
}

/* A random active record id of the snapshot, or NULL. */
static const char *
pick_active(const struct snap *s, const char *keep)
{
	size_t i, start, k;

	if (s->rs.n == 0)
		return NULL;
	start = (size_t)(tl_rand() % s->rs.n);
	for (k = 0; k < s->rs.n; k++) {
		i = (start + k) % s->rs.n;
		if (s->rs.recs[i]->status == APITOKEN_ACTIVE &&
		    strcmp(s->rs.ids[i], keep) != 0)
			return s->rs.ids[i];
	}
	return NULL;
}

static void
good_still_verifies(const struct sx_env *e, const char *tok, long run)
{
	struct apitoken_request req = { .user = "root" };
	struct apitoken_result res;
	enum apitoken_reason r;

	r = apitoken_verify_once(e->cfg, tok, strlen(tok), &req, &res);
	cr_assert_eq(r, APITOKEN_ACCEPTED, "run %ld: good token refused: %s "
	    "(%d: %s)", run, apitoken_reason_str(r), res.error, res.detail);
}

static void
issue_one(const struct sx_env *e, const char *label, char *tok, char *id)
{
	struct tl_proc p;
	json_t *o;

	cr_assert_eq(sx_ctl(e, &p, NULL, "issue", "root", "--label", label,
	    "--json", (char *)NULL), 0, "tokenctl issue: %s", p.err);
	o = json_loads(p.out, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert(json_is_string(json_object_get(o, "token")), "issue --json: "
	    "%s", p.out);
	if (tok != NULL)
		snprintf(tok, SX_TOKBUF, "%s",
		    json_string_value(json_object_get(o, "token")));
	if (id != NULL)
		cr_assert_eq(sx_json_id(p.out, id), 0);
	json_decref(o);
	tl_proc_free(&p);
}

static int wait_status(pid_t pid);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The args of one run of op (issue: label; edit/revoke: id, arg). */
static void
op_args(enum op op, const char *id, const char *label, const char *arg,
    const char *args[5])
{
	args[0] = op_name[op];
	if (op == OP_ISSUE) {
		args[1] = "root", args[2] = "--label", args[3] = label;
	} else {
		args[1] = id;
		args[2] = op == OP_EDIT ? "--description" : "--reason";
		args[3] = arg;
	}
	args[4] = NULL;
}

/*
 * Median wall time, from fork to exit, of uninterrupted runs of each
 * kind started exactly as the killed ones are: the "typical duration".
 */
static long
typical_us(const struct sx_env *e, const char *keep)
{
	int64_t t[15], x, t1;
	const char *args[5];
	char label[32], arg[32];
	struct snap s;
	int i, j;
	pid_t pid;

	for (i = 0; i < 15; i++) {
		snap_take(e, &s);
		snprintf(label, sizeof(label), "warmup-%d", i);
		snprintf(arg, sizeof(arg), "warm %d", i);
		op_args((enum op)(i % OP_N), pick_active(&s, keep), label, arg,
		    args);
		t1 = now_us();
		pid = sx_ctl_spawn(e, args);
		cr_assert_eq(wait_status(pid), 0, "warm-up %s failed",
		    args[0]);
		t[i] = now_us() - t1;
		snap_free(&s);
	}
	for (i = 1; i < 15; i++)	/* insertion sort */
		for (j = i; j > 0 && t[j - 1] > t[j]; j--)
			x = t[j], t[j] = t[j - 1], t[j - 1] = x;
	return (long)(t[7] > 0 ? t[7] : 1);
}

/*
 * Keep "typical" honest while the machine's load changes (Criterion runs
 * other tests alongside): every 25 runs, if nearly every run was killed
 * the delays are too short to reach the commit, if nearly none was they
 * are too long to interrupt anything.
 */
static long
retune(long typ, struct crash_stats *cs, long run)
{
	static long last_completed, last_runs;
	long done, n;

	if ((run + 1) % 25 != 0)
		return typ;
	done = cs->completed - last_completed;
	n = cs->runs - last_runs;
	last_completed = cs->completed;
	last_runs = cs->runs;
	if (done * 5 < n)		/* < 20 % finished */
		return typ + typ / 3;
	if (done * 5 > n * 3)		/* > 60 % finished */
		return typ - typ / 4;
	return typ;
}

static int
wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		cr_assert_eq(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
one_kill(const struct sx_env *e, long run, long typ_us, const char *keep,
    const char *keep_tok, struct crash_stats *cs)
{
	char label[32], arg[48], why[2048], tmpname[] = ".tokens.tmp.";
	const char *args[5], *target;
	struct snap b, a;
	enum op op;
	int st, same, ntemp;
	pid_t pid;

	snap_take(e, &b);
	ntemp = tl_count_prefix(e->dbdir, tmpname);
	op = (enum op)(tl_rand() % OP_N);
	target = op == OP_ISSUE ? NULL : pick_active(&b, keep);
	if (target == NULL)
		op = OP_ISSUE;
	snprintf(label, sizeof(label), "crash-%ld", run);
	snprintf(arg, sizeof(arg), "crash run %ld", run);
	if (op == OP_ISSUE)
		target = label;
	op_args(op, target, label, arg, args);
	pid = sx_ctl_spawn(e, args);
	usleep((useconds_t)(tl_rand() % (uint64_t)(typ_us + 1)));
	kill(pid, SIGKILL);
	st = wait_status(pid);
	cs->runs++;
	cs->killed += st == 128 + SIGKILL;
	cs->completed += st == 0;
	cr_assert(st == 0 || st == 128 + SIGKILL, "run %ld: tokenctl %s "
	    "exited %d", run, op_name[op], st);
	if (tl_count_prefix(e->dbdir, tmpname) > ntemp)
		cs->temps_seen++;	/* killed while writing its temp file */

	snap_take(e, &a);	/* asserts that it parses */
	same = a.len == b.len && memcmp(a.raw, b.raw, a.len) == 0;
	why[0] = '\0';
	cr_assert(same || is_after(&b, &a, op, target, arg, why, sizeof(why)),
	    "run %ld (%s %s, exit %d): store is neither before nor after: %s",
	    run, op_name[op], target, st, why);
	cr_assert(!(same && st == 0), "run %ld: tokenctl %s %s succeeded but "
	    "the store did not change", run, op_name[op], target);
	if (st == 0)
		cr_assert_eq(tl_count_prefix(e->dbdir, tmpname), 0, "run %ld: "
		    "temp files left after a successful write", run);
	cs->same += same;
	cs->changed += !same;
	cs->by_op[op][!same]++;
	good_still_verifies(e, keep_tok, run);
	snap_free(&b);
	snap_free(&a);
}

Test(crash, sigkill_writers)
{
	long kills = tl_knob("CRASH_KILLS", 300), typ, i;
	int64_t budget = tl_knob("CRASH_BUDGET_S", 80) * 1000, t0;
	char tok[SX_TOKBUF], id[APITOKEN_ID_LEN + 1], label[32];
	struct crash_stats cs;
	struct sx_recset rs;
	struct sx_env e;
	struct tl_proc p;
	char err[SX_ERRLEN];

	tl_watchdog(170);

	memset(&cs, 0, sizeof(cs));
	sx_setup(&e, NULL);
	tl_rand_seed("crash");
	cr_assert_eq(sx_ctl(&e, &p, NULL, "init", (char *)NULL), 0,
	    "tokenctl init: %s", p.err);
	tl_proc_free(&p);
	issue_one(&e, "known-good", tok, id);
	for (i = 0; i < 20; i++) {
		snprintf(label, sizeof(label), "seed-%ld", i);
		issue_one(&e, label, NULL, NULL);
	}
	typ = typical_us(&e, id);
	t0 = tl_now_ms();
	for (i = 0; i < kills && tl_now_ms() - t0 < budget; i++) {
		one_kill(&e, i, typ, id, tok, &cs);
		typ = retune(typ, &cs, i);
	}
	fprintf(stderr, "crash: %ld runs in %lld ms (typical run %ld us at the "
	    "end): "
	    "%ld killed, %ld finished; store unchanged %ld times, changed "
	    "%ld times (issue %ld/%ld, edit %ld/%ld, revoke %ld/%ld "
	    "before/after); killed while its temp file existed %ld times\n",
	    cs.runs, (long long)(tl_now_ms() - t0), typ, cs.killed,
	    cs.completed, cs.same, cs.changed, cs.by_op[OP_ISSUE][0],
	    cs.by_op[OP_ISSUE][1], cs.by_op[OP_EDIT][0], cs.by_op[OP_EDIT][1],
	    cs.by_op[OP_REVOKE][0], cs.by_op[OP_REVOKE][1], cs.temps_seen);
	/* enough runs, and kills really landed inside running writers */
	cr_expect_geq(cs.runs, kills < 50 ? kills : 50);
	cr_expect_gt(cs.killed, 0, "no run was actually killed");

	/* a later write works and cleans up whatever the kills left */
	cr_assert_eq(sx_ctl(&e, &p, NULL, "issue", "root", "--label",
	    "after-the-crashes", (char *)NULL), 0, "issue after kills: %s",
	    p.err);
	tl_proc_free(&p);
	cr_expect_eq(tl_count_prefix(e.dbdir, ".tokens.tmp."), 0,
	    "temp files remain after a successful write");
	cr_assert_eq(sx_ctl(&e, &p, NULL, "list", (char *)NULL), 0,
	    "list: %s", p.err);
	cr_expect(strstr(p.out, "after-the-crashes") != NULL);
	tl_proc_free(&p);
	cr_assert_eq(sx_recset_load(e.cfg, &rs, err, sizeof(err)), 0, "%s",
	    err);
	sx_recset_free(&rs);
	good_still_verifies(&e, tok, -1);
	sx_teardown(&e);
}
