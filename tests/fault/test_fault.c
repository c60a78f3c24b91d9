/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fault.c - failure injection at every call site, in turn.
 *
 * For each operation below and each kind of libc call (allocation, open,
 * read, pread, write, fsync, rename, mmap, getrandom), run the operation with
 * call 1 of that kind failing, then call 2, ... until a run completes
 * without reaching the injected failure.  Modes: "once" (only call n
 * fails), "sticky" (call n and every later one fails: no retry can
 * paper over it) and "short" (read/write call n moves half the bytes).
 *
 * Every run gets a fresh temp dir with the same store bytes.  After each:
 *  - verify: accepted exactly when no failure was injected; an injected
 *    failure is reported as store-error with an error code, never as
 *    "unknown" or "wrong-secret" (CVE-2020-24612: a read failure is not
 *    "no such token"); verify never writes.
 *  - issue / revoke: the store file is byte for byte either the state
 *    before or the state after the change (computed by the same change
 *    without faults), and the after state when the operation said OK;
 *    it parses (open + foreach); no temp file is left; the lock is free;
 *    the changed token verifies as the state says.
 *  - config load, last-use record/get: fail, or give exactly the right
 *    values; no temp files; no descriptor leaked (all operations).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apitoken.h"
#include "fault.h"
#include "tl.h"

#define NOW ((time_t)1700000000)	/* 2023-11-14T22:13:20Z */
#define ERRLEN 512

struct env {
	char dir[64];
	char store[256];
	char state[256];
	char conf[256];
	struct apitoken_config *cfg;
};

/* The tokens of the fixture store; B is revoked, N is issued. */
static const struct tok {
	const char *id, *secret, *user;
} TOKS[] = {
	{ "A0000000000a", "aSecretForTokenA000000000000000a", "deploy" },
	{ "B0000000000b", "bSecretForTokenB000000000000000b", "deploy" },
	{ "C0000000000c", "cSecretForTokenC000000000000000c", "root" },
	{ "D0000000000d", "dSecretForTokenD000000000000000d", "backup" },
};
static const struct tok TOK_N = {
	"N0000000000n", "nSecretForTokenN000000000000000n", "deploy"
};

/* ------------------------------------------------------------ helpers */

/* The temp dir of the run in progress, removed by the suite's fini if
 * an assertion ends the test half-way. */
static char live_dir[64];

static void
rm_tree(const char *dir)
{
	if (strncmp(dir, "/tmp/apitoken-fault.", 20) == 0)
		(void)tl_rmrf(dir);
}

static void
env_setup(struct env *e, const char *store, size_t len)
{
	char err[ERRLEN] = "";
	int r;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/apitoken-fault.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
	memcpy(live_dir, e->dir, sizeof(live_dir));
	snprintf(e->store, sizeof(e->store), "%s/tokens", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/apitoken.yaml", e->dir);
	cr_assert_eq(mkdir(e->state, 0700), 0);
	tl_write_config(e->conf, e->store, e->state, "token_prefix: apitok\n"
	    "default_lifetime: 30d\nmax_lifetime: 2y\nlock_timeout: 1s\n"
	    "max_store_size: 1M\n", 0600);
	r = apitoken_config_load(e->conf, &e->cfg, err, sizeof(err));
	cr_assert_eq(r, 0, "config_load: %s", err);
	if (store != NULL)
		tl_write_file(e->store, store, len, 0600);
}

static void
env_teardown(struct env *e)
{
	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	rm_tree(e->dir);
	live_dir[0] = '\0';
}

/* Entries of dir whose name starts with "." (temp files), not . and .. */
static int
count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t
token_string(const struct tok *t, char buf[APITOKEN_TOKEN_MAX + 1])
{
	int n = snprintf(buf, APITOKEN_TOKEN_MAX + 1, "apitok_%s_%s", t->id,
	    t->secret);

	tl_base62_6(tl_crc32(buf, (size_t)n), buf + n);
	buf[n + 6] = '\0';
	return (size_t)n + 6;
}

static struct apitoken_record *
make_record(const struct tok *t, int with_lists)
{
	struct apitoken_record *r = apitoken_record_new();
	struct apitoken_token pt;
	char hash[APITOKEN_HASH_MAX], label[32];

	cr_assert_not_null(r);
	memset(&pt, 0, sizeof(pt));
	memcpy(pt.id, t->id, APITOKEN_ID_LEN);
	memcpy(pt.secret, t->secret, APITOKEN_SECRET_LEN);
	cr_assert_eq(apitoken_hash(&pt, hash), 0);
	memcpy(r->id, t->id, sizeof(r->id));
	cr_assert_eq(apitoken_record_set(&r->user, t->user), 0);
	cr_assert_eq(apitoken_record_set(&r->hash, hash), 0);
	/* labels are unique among a user's live tokens */
	snprintf(label, sizeof(label), "fault test %s", t->id);
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->description,
	    "multi-line\ndescription\twith a tab"), 0);
	cr_assert_eq(apitoken_record_set(&r->created_by, "alice"), 0);
	if (with_lists) {
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, "sshd"), 0);
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, "sudo"), 0);
		cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
		    "10.0.0.0/8"), 0);
		cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
		    "2001:db8::/32"), 0);
	}
	r->created = NOW - 86400;
	r->updated = NOW - 3600;
	r->expires = NOW + 30 * 86400;
	return r;
}

static enum apitoken_reason
verify(const struct env *e, const struct tok *t)
{
	struct apitoken_request req = { "deploy", "sshd", "10.1.2.3", NOW };
	struct apitoken_result res;
	char tok[APITOKEN_TOKEN_MAX + 1];
	size_t n = token_string(t, tok);

	return apitoken_verify_once(e->cfg, tok, n, &req, &res);
}

/* ---------------------------------------------------------- the states */

static char *before, *after_issue, *after_revoke;
static enum fault_mode cur_mode;	/* of the run being checked */
static size_t before_len, after_issue_len, after_revoke_len;

static int op_issue(struct env *e, void *ctx);
static int op_revoke(struct env *e, void *ctx);

/* The fixture store, built once through the library without faults. */
static void
build_before(void)
{
	struct apitoken_txn *t = NULL;
	struct apitoken_record *r;
	struct env e;
	char err[ERRLEN] = "";
	size_t i;

	env_setup(&e, NULL, 0);
	cr_assert_eq(apitoken_txn_begin(e.cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err)), 0, "txn_begin: %s", err);
	for (i = 0; i < sizeof(TOKS) / sizeof(TOKS[0]); i++) {
		r = make_record(&TOKS[i], i == 0);
		cr_assert_eq(apitoken_txn_insert(t, r, err, sizeof(err)), 0,
		    "insert: %s", err);
		apitoken_record_free(r);
	}
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0, "%s", err);
	apitoken_txn_free(t);
	cr_assert_not_null(before = tl_read_file(e.store, &before_len));
	env_teardown(&e);
}

/* The state after op, from a run without faults. */
static char *
reference(int (*op)(struct env *, void *), size_t *lenp)
{
	struct env e;
	char *s;
	int r;

	env_setup(&e, before, before_len);
	r = op(&e, NULL);
	cr_assert_eq(r, 0, "reference run failed: %d", r);
	cr_assert_not_null(s = tl_read_file(e.store, lenp));
	env_teardown(&e);
	return s;
}

static void
init_states(void)
{
	tl_watchdog(120);
	build_before();
	after_issue = reference(op_issue, &after_issue_len);
	after_revoke = reference(op_revoke, &after_revoke_len);
	cr_assert(after_issue_len != before_len ||
	    memcmp(after_issue, before, before_len) != 0);
	cr_assert(after_revoke_len != before_len ||
	    memcmp(after_revoke, before, before_len) != 0);
}

static void
fini_states(void)
{
	if (live_dir[0] != '\0')
		rm_tree(live_dir);
	free(before);
	free(after_issue);
	free(after_revoke);
	before = after_issue = after_revoke = NULL;
}

/* ------------------------------------------------------ the operations
 *
 * Each runs armed: fault_arm() was called by the driver, fault_disarm()
 * is called by the op as soon as the library call returns, so that only
 * the library's calls are counted.  ctx carries what the op prepared.
 */

struct op {
	const char *name;
	/* unarmed preparation (may be NULL); returns ctx */
	void *(*prepare)(struct env *e);
	int (*run)(struct env *e, void *ctx);
	/* judge one run; fired = failures injected */
	void (*check)(struct env *e, int r, unsigned long fired,
	    const char *what);
	void (*release)(void *ctx);
	unsigned kinds_used;	/* bit per fault_kind: must be called */
	unsigned kinds_unused;	/* bit per fault_kind: must never be */
};

#define BIT(k) (1u << (k))

static int
op_verify(struct env *e, void *ctx)
{
	enum apitoken_reason r;

	(void)ctx;
	r = verify(e, &TOKS[0]);
	fault_disarm();
	return (int)r;
}

static void *
prepare_issue(struct env *e)
{
	(void)e;
	return make_record(&TOK_N, 0);
}

static int
op_issue(struct env *e, void *ctx)
{
	struct apitoken_record *rec = ctx ? ctx : make_record(&TOK_N, 0);
	struct apitoken_txn *t = NULL;
	char err[ERRLEN];
	int r;

	r = apitoken_txn_begin(e->cfg, 0, &t, err, sizeof(err));
	if (r == 0)
		r = apitoken_txn_insert(t, rec, err, sizeof(err));
	if (r == 0)
		r = apitoken_txn_commit(t, err, sizeof(err));
	apitoken_txn_free(t);
	fault_disarm();
	if (ctx == NULL)
		apitoken_record_free(rec);
	return r;
}

/* What tokenctl revoke does: find, change status, replace, commit. */
static int
op_revoke(struct env *e, void *ctx)
{
	struct apitoken_record *rec = NULL;
	struct apitoken_txn *t = NULL;
	char err[ERRLEN];
	int r;

	(void)ctx;
	r = apitoken_txn_begin(e->cfg, 0, &t, err, sizeof(err));
	if (r == 0)
		r = apitoken_txn_find(t, TOKS[1].id, &rec, err, sizeof(err));
	if (r == 0) {
		rec->status = APITOKEN_REVOKED;
		rec->revoked_at = NOW;
		rec->updated = NOW;
		r = apitoken_record_set(&rec->revoke_reason, "fault test");
	}
	if (r == 0)
		r = apitoken_txn_replace(t, rec, err, sizeof(err));
	if (r == 0)
		r = apitoken_txn_commit(t, err, sizeof(err));
	apitoken_txn_free(t);
	fault_disarm();
	apitoken_record_free(rec);
	return r;
}

static int
op_config(struct env *e, void *ctx)
{
	struct apitoken_config *c = NULL;
	char err[ERRLEN];
	int r;

	(void)ctx;
	r = apitoken_config_load(e->conf, &c, err, sizeof(err));
	fault_disarm();
	if (r == 0) {
		/* a config that loads must be exactly the file's */
		cr_assert_str_eq(apitoken_config_store(c), e->store);
		cr_assert_str_eq(apitoken_config_state_dir(c), e->state);
		cr_assert_str_eq(apitoken_config_token_prefix(c), "apitok");
		cr_assert_eq(apitoken_config_default_lifetime(c), 30 * 86400);
		cr_assert_eq(apitoken_config_max_lifetime(c), 2 * 365 * 86400);
		cr_assert_eq(apitoken_config_lock_timeout_ms(c), 1000);
		cr_assert_eq(apitoken_config_max_store_size(c), 1u << 20,
		    "a short read loaded a different config");
	} else
		cr_assert_null(c);
	apitoken_config_free(c);
	return r;
}

static int
op_lastuse_record(struct env *e, void *ctx)
{
	int r;

	(void)ctx;
	r = apitoken_lastuse_record(e->cfg, TOKS[0].id, "sshd", "10.1.2.3",
	    NOW, 0, NULL, 0);
	fault_disarm();
	return r;
}

static void *
prepare_lastuse_get(struct env *e)
{
	cr_assert_eq(op_lastuse_record(e, NULL), 0);
	return NULL;
}

static int
op_lastuse_get(struct env *e, void *ctx)
{
	struct apitoken_lastuse lu;
	int r;

	(void)ctx;
	r = apitoken_lastuse_get(e->cfg, TOKS[0].id, &lu, NULL, 0);
	fault_disarm();
	if (r == 0) {
		cr_assert_eq(lu.when, NOW);
		cr_assert_str_eq(lu.service, "sshd");
		cr_assert_str_eq(lu.rhost, "10.1.2.3");
	}
	return r;
}

static void
release_record(void *ctx)
{
	apitoken_record_free(ctx);
}

/* ------------------------------------------------------------ checks */

static int
same(const char *s, size_t n, const char *t, size_t m)
{
	return n == m && memcmp(s, t, n) == 0;
}

static int
count_cb(struct apitoken_record **rec, void *ctx)
{
	(void)rec;
	++*(size_t *)ctx;
	return 0;
}

/* The store parses, is one of the two states, nothing is left over. */
static int
check_store(struct env *e, int r, const char *want, size_t want_len,
    const char *what)
{
	struct apitoken_store *st = NULL;
	struct apitoken_txn *t = NULL;
	char err[ERRLEN] = "", *now;
	size_t len = 0, n = 0;
	int is_after;

	now = tl_read_file(e->store, &len);
	cr_assert_not_null(now, "%s: store gone", what);
	is_after = same(now, len, want, want_len);
	cr_assert(is_after || same(now, len, before, before_len),
	    "%s: store is neither the state before nor after (r=%d):\n%.*s",
	    what, r, (int)len, now);
	if (r == 0)
		cr_assert(is_after, "%s: OK but the change is not there", what);
	free(now);
	cr_assert_eq(apitoken_store_open(e->cfg, &st, err, sizeof(err)), 0,
	    "%s: store_open: %s", what, err);
	cr_assert_eq(apitoken_store_foreach(st, count_cb, &n, err,
	    sizeof(err)), 0, "%s: foreach: %s", what, err);
	apitoken_store_close(st);
	cr_assert_eq(count_temps(e->dir), 0, "%s: temp file left in %s", what,
	    e->dir);
	/* the lock was released: a writer gets it at once */
	cr_assert_eq(apitoken_txn_begin(e->cfg, 0, &t, err, sizeof(err)), 0,
	    "%s: lock not released? %s", what, err);
	apitoken_txn_free(t);
	cr_assert_eq(verify(e, &TOKS[0]), APITOKEN_ACCEPTED,
	    "%s: the untouched token A no longer verifies", what);
	return is_after;
}

static void
check_verify(struct env *e, int r, unsigned long fired, const char *what)
{
	size_t len;
	char *now = tl_read_file(e->store, &len);

	cr_assert(same(now, len, before, before_len), "%s: verify wrote", what);
	free(now);
	if (!fired) {
		cr_assert_eq(r, APITOKEN_ACCEPTED, "%s: %s without a fault", what,
		    apitoken_reason_str((enum apitoken_reason)r));
		return;
	}
	cr_assert_neq(r, APITOKEN_ACCEPTED, "%s: ACCEPTED after an injected "
	    "failure", what);
	cr_assert_eq(r, APITOKEN_R_STORE_ERROR, "%s: an injected failure "
	    "reported as \"%s\", not store-error", what,
	    apitoken_reason_str((enum apitoken_reason)r));
}

static void
check_issue(struct env *e, int r, unsigned long fired, const char *what)
{
	int is_after = check_store(e, r, after_issue, after_issue_len, what);

	if (!fired)
		cr_assert_eq(r, 0, "%s: failed (%d) without a fault", what, r);
	cr_assert_eq(verify(e, &TOK_N), is_after ? APITOKEN_ACCEPTED :
	    APITOKEN_R_UNKNOWN, "%s: new token", what);
}

static void
check_revoke(struct env *e, int r, unsigned long fired, const char *what)
{
	int is_after = check_store(e, r, after_revoke, after_revoke_len, what);

	if (!fired)
		cr_assert_eq(r, 0, "%s: failed (%d) without a fault", what, r);
	cr_assert_eq(verify(e, &TOKS[1]), is_after ? APITOKEN_R_REVOKED :
	    APITOKEN_ACCEPTED, "%s: revoked token", what);
}

/* A failed call fails the load; a short read may only load the same
 * values (op_config compared them). */
static void
check_config(struct env *e, int r, unsigned long fired, const char *what)
{
	(void)e;
	if (!fired)
		cr_assert_eq(r, 0, "%s: failed (%d) without a fault", what, r);
	else if (cur_mode != FM_SHORT)
		cr_assert_neq(r, 0, "%s: loaded although a call failed", what);
	cr_assert(r == 0 || r == APITOKEN_ERR_CONFIG ||
	    r == APITOKEN_ERR_NOMEM, "%s: returned %d", what, r);
}

static void
check_lastuse(struct env *e, int r, unsigned long fired, const char *what)
{
	struct apitoken_lastuse lu;
	char dir[300];
	int g;

	if (!fired)
		cr_assert_eq(r, 0, "%s: failed (%d) without a fault", what, r);
	snprintf(dir, sizeof(dir), "%s/lastuse", e->state);
	cr_assert_eq(count_temps(dir), 0, "%s: temp file left", what);
	g = apitoken_lastuse_get(e->cfg, TOKS[0].id, &lu, NULL, 0);
	cr_assert_eq(g, 0, "%s: last-use file unreadable afterwards (%d)",
	    what, g);
	if (r == 0 || lu.when != 0) {
		cr_assert_eq(lu.when, NOW, "%s: last-use time", what);
		cr_assert_str_eq(lu.service, "sshd");
		cr_assert_str_eq(lu.rhost, "10.1.2.3");
	}
}

static void
check_lastuse_get(struct env *e, int r, unsigned long fired,
    const char *what)
{
	check_lastuse(e, fired ? 0 : r, 0, what);
	if (fired && cur_mode != FM_SHORT)
		cr_assert_neq(r, 0, "%s: OK although its read failed", what);
}

/* ------------------------------------------------------------ driver */

static const struct op OPS[] = {
	{ "verify", NULL, op_verify, check_verify, NULL,
	    BIT(FK_ALLOC) | BIT(FK_OPEN) | BIT(FK_READ),
	    BIT(FK_WRITE) | BIT(FK_FSYNC) | BIT(FK_RENAME) | BIT(FK_RANDOM) },
	{ "issue", prepare_issue, op_issue, check_issue, release_record,
	    BIT(FK_ALLOC) | BIT(FK_OPEN) | BIT(FK_WRITE) | BIT(FK_FSYNC) |
	    BIT(FK_RENAME) | BIT(FK_MMAP) | BIT(FK_RANDOM), 0 },
	{ "revoke", NULL, op_revoke, check_revoke, NULL,
	    BIT(FK_ALLOC) | BIT(FK_OPEN) | BIT(FK_WRITE) | BIT(FK_FSYNC) |
	    BIT(FK_RENAME) | BIT(FK_MMAP) | BIT(FK_RANDOM), 0 },
	{ "config", NULL, op_config, check_config, NULL,
	    BIT(FK_ALLOC) | BIT(FK_OPEN) | BIT(FK_READ),
	    BIT(FK_WRITE) | BIT(FK_FSYNC) | BIT(FK_RENAME) },
	{ "lastuse-record", NULL, op_lastuse_record, check_lastuse, NULL,
	    BIT(FK_OPEN) | BIT(FK_WRITE) | BIT(FK_RENAME) | BIT(FK_RANDOM), 0 },
	{ "lastuse-get", prepare_lastuse_get, op_lastuse_get,
	    check_lastuse_get, NULL, BIT(FK_OPEN) | BIT(FK_READ),
	    BIT(FK_WRITE) | BIT(FK_RENAME) },
};

static const struct op *
find_op(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++)
		if (strcmp(OPS[i].name, name) == 0)
			return &OPS[i];
	cr_assert_fail("no op %s", name);
	return NULL;
}

/* One run with call n of kind k failing; returns failures injected. */
static unsigned long
run_one(const struct op *op, enum fault_kind k, unsigned long n,
    enum fault_mode m)
{
	struct env e;
	char what[128];
	void *ctx = NULL;
	unsigned long fired;
	int r, fds;

	snprintf(what, sizeof(what), "%s, %s call %lu %s", op->name,
	    fault_kind_name(k), n, fault_mode_name(m));
	if (getenv("FAULT_TRACE") != NULL)	/* which run crashed? */
		fprintf(stderr, "fault: %s\n", what);
	env_setup(&e, before, before_len);
	if (op->prepare)
		ctx = op->prepare(&e);
	fds = count_fds();
	cur_mode = m;
	fault_arm(k, n, m);
	r = op->run(&e, ctx);
	fault_disarm();
	fired = fault_fired();
	cr_assert_eq(count_fds(), fds, "%s: descriptor leaked", what);
	op->check(&e, r, fired, what);
	if (op->release)
		op->release(ctx);
	env_teardown(&e);
	return fired;
}

/* Call counts of a run without faults; checks which kinds are used. */
static void
census(const struct op *op, unsigned long calls[FK_NKINDS])
{
	int k;

	cr_assert_eq(run_one(op, FK_NONE, 1, FM_ONCE), 0);
	for (k = 0; k < FK_NKINDS; k++) {
		calls[k] = fault_calls((enum fault_kind)k);
		if (op->kinds_used & BIT(k))
			cr_assert_gt(calls[k], 0, "%s makes no %s call: are the "
			    "--wrap flags missing?", op->name,
			    fault_kind_name((enum fault_kind)k));
		if (op->kinds_unused & BIT(k))
			cr_assert_eq(calls[k], 0, "%s makes %lu %s calls",
			    op->name, calls[k],
			    fault_kind_name((enum fault_kind)k));
	}
}

static void
sweep(const char *name, enum fault_mode m)
{
	const struct op *op = find_op(name);
	unsigned long calls[FK_NKINDS], n, total = 0;
	int k;

	census(op, calls);
	for (k = 0; k < FK_NKINDS; k++) {
		if (m == FM_SHORT && k != FK_READ && k != FK_WRITE)
			continue;
		for (n = 1; run_one(op, (enum fault_kind)k, n, m) > 0; n++)
			cr_assert_lt(n, 100000, "%s: no end", name);
		cr_assert_eq(n - 1, calls[k], "%s %s: %lu call sites failed, "
		    "but a clean run makes %lu calls", name,
		    fault_kind_name((enum fault_kind)k), n - 1, calls[k]);
		total += n - 1;
	}
	cr_log_info("%s (%s): %lu injected failures", name,
	    fault_mode_name(m), total);
}

TestSuite(fault, .init = init_states, .fini = fini_states);

Test(fault, verify_once) { sweep("verify", FM_ONCE); }
Test(fault, verify_sticky) { sweep("verify", FM_STICKY); }
Test(fault, issue_once) { sweep("issue", FM_ONCE); }
Test(fault, issue_sticky) { sweep("issue", FM_STICKY); }
Test(fault, issue_short) { sweep("issue", FM_SHORT); }
Test(fault, revoke_once) { sweep("revoke", FM_ONCE); }
Test(fault, revoke_sticky) { sweep("revoke", FM_STICKY); }
Test(fault, revoke_short) { sweep("revoke", FM_SHORT); }
Test(fault, config_once) { sweep("config", FM_ONCE); }
Test(fault, config_sticky) { sweep("config", FM_STICKY); }
Test(fault, config_short) { sweep("config", FM_SHORT); }
Test(fault, lastuse_record_once) { sweep("lastuse-record", FM_ONCE); }
Test(fault, lastuse_record_sticky) { sweep("lastuse-record", FM_STICKY); }
Test(fault, lastuse_record_short) { sweep("lastuse-record", FM_SHORT); }
Test(fault, lastuse_get_once) { sweep("lastuse-get", FM_ONCE); }
Test(fault, lastuse_get_short) { sweep("lastuse-get", FM_SHORT); }

/* The wraps are really in place: an armed failure reaches the library. */
Test(fault, wraps_reach_the_library)
{
	struct env e;
	int r;

	env_setup(&e, before, before_len);
	fault_arm(FK_READ, 1, FM_ONCE);
	r = verify(&e, &TOKS[0]);
	fault_disarm();
	cr_assert_eq(fault_fired(), 1);
	cr_assert_eq(r, APITOKEN_R_STORE_ERROR);
	cr_assert_eq(verify(&e, &TOKS[0]), APITOKEN_ACCEPTED);
	env_teardown(&e);
}
