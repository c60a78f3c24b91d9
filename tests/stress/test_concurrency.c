/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_concurrency.c - many tokenctl writers against readers that never
 * lock (issue 5, "Concurrency").
 *
 * 8 writer processes each run 40 tokenctl commands (issue, edit, revoke
 * of their own tokens) while 4 reader processes loop: open the store,
 * parse every record (apitoken_store_foreach), and verify the known-good
 * tokens issued before the writers started through apitoken_verify_once,
 * the same call the PAM module makes.  Afterwards every issued token is
 * in the store exactly once with the last edit and revocation applied,
 * no reader ever failed to parse the store or saw a good token refused,
 * and no temp file is left.
 *
 * Knobs (environment): STRESS_WRITERS (8), STRESS_OPS (40 per writer),
 * STRESS_READERS (4), SX_SEED (replay a run).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "stress/sx.h"

#define NGOOD 4
#define MAXW 32

struct good {
	char tok[SX_TOKBUF];
	char id[APITOKEN_ID_LEN + 1];
};

/* ------------------------------------------------------------ readers */

struct reader_stats {
	long iters, busy_iters, failures;
	size_t last_count;
	char first[600];
};

static int
count_rec(struct apitoken_record **rec, void *ctx)
{
	(void)rec;
	(*(size_t *)ctx)++;
	return 0;
}

static void
fail(struct reader_stats *rs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct reader_stats *rs, const char *fmt, ...)
{
	va_list ap;

	if (rs->failures++ == 0) {
		va_start(ap, fmt);
		vsnprintf(rs->first, sizeof(rs->first), fmt, ap);
		va_end(ap);
	}
}

static void
reader_iter(const struct sx_env *e, const struct good *g,
    struct reader_stats *rs)
{
	struct apitoken_request req = { .user = "root", .service = "sshd" };
	struct apitoken_result res;
	struct apitoken_store *st = NULL;
	char err[SX_ERRLEN] = "";
	size_t n = 0;
	int r, i;

	r = apitoken_store_open(e->cfg, &st, err, sizeof(err));
	if (r != 0) {
		fail(rs, "store_open: %d %s", r, err);
		return;
	}
	r = apitoken_store_foreach(st, count_rec, &n, err, sizeof(err));
	apitoken_store_close(st);
	if (r != 0)
		fail(rs, "store_foreach: %d %s", r, err);
	else if (n < rs->last_count || n < NGOOD)
		fail(rs, "record count went from %zu to %zu", rs->last_count,
		    n);
	rs->last_count = n;
	for (i = 0; i < NGOOD; i++) {
		r = (int)apitoken_verify_once(e->cfg, g[i].tok,
		    strlen(g[i].tok), &req, &res);
		if (r != APITOKEN_ACCEPTED)
			fail(rs, "good token %s refused: %s (error %d: %s)",
			    g[i].id, apitoken_reason_str(res.reason), res.error,
			    res.detail);
	}
}

static void
reader_main(const struct sx_env *e, const struct good *g, int k,
    const char *stop, const char *busy)
{
	struct reader_stats rs;
	struct stat sb;
	char path[SX_PATHLEN + 32];
	int64_t deadline = tl_now_ms() + 170 * 1000;
	FILE *f;

	memset(&rs, 0, sizeof(rs));
	while (stat(stop, &sb) != 0 && tl_now_ms() < deadline) {
		reader_iter(e, g, &rs);
		rs.iters++;
		if (stat(busy, &sb) == 0)
			rs.busy_iters++;
	}
	snprintf(path, sizeof(path), "%s/reader-%d", e->dir, k);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld %ld %ld\n%s\n", rs.iters, rs.busy_iters,
		    rs.failures, rs.first);
		fclose(f);
	}
	_exit(rs.failures ? 1 : 0);
}

/* ------------------------------------------------------------ writers */

struct wtok {
	char id[APITOKEN_ID_LEN + 1];
	int revoked;
};

static int
writer_issue(const struct sx_env *e, FILE *log, int w, int i,
    struct wtok *mine, int *nmine)
{
	char label[64], id[APITOKEN_ID_LEN + 1], *nl;
	const char *user = w % 2 ? "daemon" : "root";
	struct tl_proc p;
	int rc;

	snprintf(label, sizeof(label), "w%d-op%d", w, i);
	rc = sx_ctl(e, &p, NULL, "issue", user, "--label", label, "--json",
	    (char *)NULL);
	if (rc != 0 || sx_json_id(p.out, id) != 0) {
		if ((nl = strchr(p.err, '\n')) != NULL)
			*nl = '\0';
		fprintf(log, "F issue exit %d: %s\n", rc, p.err);
		tl_proc_free(&p);
		return -1;
	}
	{
		json_t *o = json_loads(p.out, JSON_DISABLE_EOF_CHECK, NULL);
		const char *tok = json_string_value(json_object_get(o,
		    "token"));
		fprintf(log, "I %s %s %s %s\n", id, user, label, tok ? tok :
		    "-");
		json_decref(o);
	}
	memcpy(mine[*nmine].id, id, sizeof(id));
	mine[(*nmine)++].revoked = 0;
	tl_proc_free(&p);
	return 0;
}

static int
pick_live(const struct wtok *mine, int nmine)
{
	int i, start, k;

	if (nmine == 0)
		return -1;
	start = (int)(tl_rand() % (uint64_t)nmine);
	for (k = 0; k < nmine; k++) {
		i = (start + k) % nmine;
		if (!mine[i].revoked)
			return i;
	}
	return -1;
}

static int
writer_change(const struct sx_env *e, FILE *log, int w, int i,
    struct wtok *t, int revoke)
{
	char a[64], b[64], *nl;
	struct tl_proc p;
	int rc;

	snprintf(a, sizeof(a), "w%d-op%d-%s", w, i, revoke ? "why" : "label");
	snprintf(b, sizeof(b), "description from w%d op%d", w, i);
	if (revoke)
		rc = sx_ctl(e, &p, NULL, "revoke", t->id, "--reason", a,
		    (char *)NULL);
	else
		rc = sx_ctl(e, &p, NULL, "edit", t->id, "--label", a,
		    "--description", b, (char *)NULL);
	if (rc != 0) {
		if ((nl = strchr(p.err, '\n')) != NULL)
			*nl = '\0';
		fprintf(log, "F %s exit %d: %s\n", revoke ? "revoke" : "edit",
		    rc, p.err);
		tl_proc_free(&p);
		return -1;
	}
	if (revoke) {
		fprintf(log, "R %s %s\n", t->id, a);
		t->revoked = 1;
	} else {
		fprintf(log, "E %s %s %s\n", t->id, a, b);
	}
	tl_proc_free(&p);
	return 0;
}

static void
writer_main(const struct sx_env *e, int w, int ops)
{
	struct wtok *mine = calloc((size_t)ops, sizeof(*mine));
	char path[SX_PATHLEN + 32];
	int nmine = 0, i, k, failures = 0;
	FILE *log;

	snprintf(path, sizeof(path), "%s/writer-%d", e->dir, w);
	if (mine == NULL || (log = fopen(path, "w")) == NULL)
		_exit(3);
	for (i = 0; i <= w; i++)	/* each writer its own sequence */
		(void)tl_rand();
	for (i = 0; i < ops; i++) {
		/* ops 0, 1 issue; 2 edits; 3 revokes (issue if none live) */
		k = i % 4 >= 2 ? pick_live(mine, nmine) : -1;
		if (k >= 0)
			failures += writer_change(e, log, w, i, &mine[k],
			    i % 4 == 3) != 0;
		else
			failures += writer_issue(e, log, w, i, mine,
			    &nmine) != 0;
	}
	fclose(log);
	free(mine);
	_exit(failures ? 1 : 0);
}

/* ------------------------------------------------------- the checker */

/* Copy s into d (size n), truncating. */
static void
scpy(char *d, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);

	memcpy(d, s, l);
	d[l] = '\0';
}

struct expect {
	char id[APITOKEN_ID_LEN + 1];
	char user[16], label[64], desc[64], reason[64];
	char tok[SX_TOKBUF];
	int revoked, edited;
};

static int
load_expectations(const struct sx_env *e, int nw, struct expect *ex,
    int maxex)
{
	char path[SX_PATHLEN + 32], line[512], k;
	char a[128], b[128], c[128], d[128];
	int w, n = 0, j, fails = 0;
	FILE *f;

	for (w = 0; w < nw; w++) {
		snprintf(path, sizeof(path), "%s/writer-%d", e->dir, w);
		f = fopen(path, "r");
		cr_assert_not_null(f, "writer %d left no log", w);
		while (fgets(line, sizeof(line), f) != NULL) {
			k = line[0];
			if (k == 'F') {
				fprintf(stderr, "stress: writer %d: %s", w, line);
				fails++;
				continue;
			}
			if (k == 'I' && n < maxex &&
			    sscanf(line, "I %127s %127s %127s %127s", a, b, c,
			    d) == 4) {
				memset(&ex[n], 0, sizeof(ex[n]));
				scpy(ex[n].id, sizeof(ex[n].id), a);
				scpy(ex[n].user, sizeof(ex[n].user), b);
				scpy(ex[n].label, sizeof(ex[n].label), c);
				scpy(ex[n].tok, sizeof(ex[n].tok), d);
				n++;
				continue;
			}
			if (sscanf(line, "%*c %127s %127s", a, b) != 2)
				continue;
			for (j = 0; j < n && strcmp(ex[j].id, a) != 0; j++)
				;
			cr_assert_lt(j, n, "writer %d changed unknown id %s", w,
			    a);
			if (k == 'R') {
				ex[j].revoked = 1;
				scpy(ex[j].reason, sizeof(ex[j].reason), b);
			} else if (k == 'E') {
				ex[j].edited = 1;
				scpy(ex[j].label, sizeof(ex[j].label), b);
				/* the description has blanks: after label */
				c[0] = '\0';
				sscanf(line, "%*c %*s %*s %127[^\n]", c);
				scpy(ex[j].desc, sizeof(ex[j].desc), c);
			}
		}
		fclose(f);
	}
	cr_expect_eq(fails, 0, "%d tokenctl writes failed", fails);
	return n;
}

/* How many lines of the raw store start with "<id>\t". */
static int
raw_count(const char *buf, size_t len, const char *id)
{
	char pat[APITOKEN_ID_LEN + 3];
	const char *p = buf, *end = buf + len, *q;
	int n = 0;

	snprintf(pat, sizeof(pat), "\n%s\t", id);
	while (p < end && (q = memmem(p, (size_t)(end - p), pat,
	    strlen(pat))) != NULL) {
		n++;
		p = q + 1;
	}
	return n;
}

static void
check_record(const struct sx_env *e, const struct sx_recset *rs,
    const char *raw, size_t rawlen, const struct expect *x)
{
	struct apitoken_request req = { .user = x->user, .service = "sshd" };
	struct apitoken_result res;
	const struct apitoken_record *r;
	enum apitoken_reason why;
	ssize_t i = sx_recset_find(rs, x->id);

	cr_assert_geq(i, 0, "issued token %s is not in the store", x->id);
	cr_expect_eq(raw_count(raw, rawlen, x->id), 1,
	    "token %s appears %d times in the store", x->id,
	    raw_count(raw, rawlen, x->id));
	r = rs->recs[i];
	cr_expect_str_eq(r->user, x->user, "%s: user", x->id);
	cr_expect_str_eq(r->label, x->label, "%s: label (edit lost?)", x->id);
	if (x->edited)
		cr_expect_str_eq(r->description, x->desc, "%s: description",
		    x->id);
	cr_expect_eq(r->status, x->revoked ? APITOKEN_REVOKED :
	    APITOKEN_ACTIVE, "%s: status %s", x->id,
	    apitoken_status_str(r->status));
	if (x->revoked)
		cr_expect_str_eq(r->revoke_reason, x->reason, "%s: reason",
		    x->id);
	why = apitoken_verify_once(e->cfg, x->tok, strlen(x->tok), &req, &res);
	cr_expect_eq(why, x->revoked ? APITOKEN_R_REVOKED : APITOKEN_ACCEPTED,
	    "%s: verify says %s", x->id, apitoken_reason_str(why));
}

static void
issue_good(const struct sx_env *e, struct good *g, int k)
{
	char label[32];
	struct tl_proc p;
	json_t *o;

	snprintf(label, sizeof(label), "known-good-%d", k);
	cr_assert_eq(sx_ctl(e, &p, NULL, "issue", "root", "--label", label,
	    "--service", "sshd", "--json", (char *)NULL), 0,
	    "tokenctl issue: %s", p.err);
	o = json_loads(p.out, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert_not_null(o, "issue --json printed: %s", p.out);
	cr_assert(json_is_string(json_object_get(o, "token")));
	snprintf(g->tok, sizeof(g->tok), "%s",
	    json_string_value(json_object_get(o, "token")));
	cr_assert_eq(sx_json_id(p.out, g->id), 0);
	json_decref(o);
	tl_proc_free(&p);
}

static void
wait_all(pid_t *pids, int n, int *bad)
{
	int i, st;

	for (i = 0; i < n; i++) {
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			(*bad)++;
	}
}

static void
check_readers(const struct sx_env *e, int nr)
{
	char path[SX_PATHLEN + 32], first[600];
	long iters, busy, fails;
	int k;
	FILE *f;

	for (k = 0; k < nr; k++) {
		snprintf(path, sizeof(path), "%s/reader-%d", e->dir, k);
		f = fopen(path, "r");
		cr_assert_not_null(f, "reader %d left no report", k);
		cr_assert_eq(fscanf(f, "%ld %ld %ld\n", &iters, &busy, &fails),
		    3);
		first[0] = '\0';
		(void)!fgets(first, sizeof(first), f);
		fclose(f);
		fprintf(stderr, "stress: reader %d: %ld iterations (%ld while "
		    "writers ran), %ld failures\n", k, iters, busy, fails);
		cr_expect_eq(fails, 0, "reader %d: %ld failures, first: %s", k,
		    fails, first);
		/* the readers really overlapped the writers */
		cr_expect_geq(busy, 5, "reader %d ran only %ld iterations "
		    "while writers were busy", k, busy);
	}
}

Test(stress, writers_and_readers)
{
	int nw = (int)tl_knob("STRESS_WRITERS", 8), nr, ops, i, bad = 0, n;
	struct good g[NGOOD];
	struct sx_env e;
	struct sx_recset rs;
	struct expect *ex;
	pid_t wp[MAXW], rp[MAXW];
	char stop[SX_PATHLEN + 8], busy[SX_PATHLEN + 8], err[SX_ERRLEN];
	struct tl_proc p;
	size_t rawlen;
	char *raw;
	int64_t t0;

	tl_watchdog(170);

	ops = (int)tl_knob("STRESS_OPS", 40);
	nr = (int)tl_knob("STRESS_READERS", 4);
	nw = nw > MAXW ? MAXW : nw;
	nr = nr > MAXW ? MAXW : nr;
	sx_setup(&e, "lock_timeout: 60s\n");
	tl_rand_seed("stress");
	cr_assert_eq(sx_ctl(&e, &p, NULL, "init", (char *)NULL), 0,
	    "tokenctl init: %s", p.err);
	tl_proc_free(&p);
	for (i = 0; i < NGOOD; i++)
		issue_good(&e, &g[i], i);
	snprintf(stop, sizeof(stop), "%s/stop", e.dir);
	snprintf(busy, sizeof(busy), "%s/busy", e.dir);
	tl_write_file(busy, "", 0, 0600);
	fflush(NULL);

	t0 = tl_now_ms();
	for (i = 0; i < nr; i++)
		if ((rp[i] = tl_fork()) == 0)
			reader_main(&e, g, i, stop, busy);
	for (i = 0; i < nw; i++)
		if ((wp[i] = tl_fork()) == 0)
			writer_main(&e, i, ops);
	wait_all(wp, nw, &bad);
	unlink(busy);
	fprintf(stderr, "stress: %d writers x %d tokenctl runs took %lld ms\n",
	    nw, ops, (long long)(tl_now_ms() - t0));
	tl_write_file(stop, "", 0, 0600);
	wait_all(rp, nr, &bad);
	check_readers(&e, nr);

	ex = calloc((size_t)(nw * ops), sizeof(*ex));
	cr_assert_not_null(ex);
	n = load_expectations(&e, nw, ex, nw * ops);
	cr_expect_eq(bad, 0, "%d writer/reader processes failed", bad);
	cr_assert_eq(sx_recset_load(e.cfg, &rs, err, sizeof(err)), 0,
	    "final store does not parse: %s", err);
	cr_expect_eq(rs.n, (size_t)(n + NGOOD), "store has %zu records, "
	    "expected %d issued + %d known-good", rs.n, n, NGOOD);
	raw = tl_read_file(e.store, &rawlen);
	cr_assert_not_null(raw);
	for (i = 0; i < n; i++)
		check_record(&e, &rs, raw, rawlen, &ex[i]);
	for (i = 0; i < NGOOD; i++)
		cr_expect_geq(sx_recset_find(&rs, g[i].id), 0);
	cr_expect_eq(tl_count_prefix(e.dbdir, ".tokens.tmp."), 0,
	    "temp files left in %s", e.dbdir);
	fprintf(stderr, "stress: %d tokens issued, %zu records, all checked "
	    "in %lld ms\n", n, rs.n, (long long)(tl_now_ms() - t0));
	free(raw);
	free(ex);
	sx_recset_free(&rs);
	sx_teardown(&e);
}
