/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_txn.c - write transactions: staging, EXISTS/NOT_FOUND/STALE,
 * discard, the lock (timeout, never unlinked, released by a dying
 * writer), concurrent writers losing nothing, readers never waiting and
 * never seeing a partial store, stale temp files from a killed writer.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static struct tu_env E;

static void
setup(void)
{
	tl_watchdog(60);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(txn, .init = setup, .fini = teardown);

static struct apitoken_txn *
begin(int flags)
{
	struct apitoken_txn *t = NULL;
	int r;

	E.err[0] = '\0';
	r = apitoken_txn_begin(E.cfg, flags, &t, E.err, sizeof(E.err));
	cr_assert_eq(r, 0, "txn_begin = %d: %s", r, E.err);
	cr_assert_not_null(t);
	return t;
}

static void
commit(struct apitoken_txn *t)
{
	int r;

	E.err[0] = '\0';
	r = apitoken_txn_commit(t, E.err, sizeof(E.err));
	cr_assert_eq(r, 0, "txn_commit = %d: %s", r, E.err);
	apitoken_txn_free(t);
}

static struct apitoken_record *
rec_n(unsigned n, const char *user)
{
	char id[APITOKEN_ID_LEN + 1];

	tu_id(n, id);
	return tu_record(id, user, NULL);
}

static int
insert_n(struct apitoken_txn *t, unsigned n)
{
	struct apitoken_record *r = rec_n(n, "alice");
	int rc;

	rc = apitoken_txn_insert(t, r, E.err, sizeof(E.err));
	apitoken_record_free(r);
	return rc;
}

static size_t
store_count(void)
{
	struct apitoken_store *s = NULL;
	size_t n;

	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	n = apitoken_store_count(s);
	apitoken_store_close(s);
	return n;
}

static int
store_has(unsigned n, const char *user)
{
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1];
	int r;

	tu_id(n, id);
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	r = apitoken_store_find(s, id, &rec, NULL, 0);
	cr_assert(r == 0 || r == APITOKEN_ERR_NOT_FOUND, "find = %d", r);
	if (r == 0 && user != NULL)
		cr_assert_str_eq(rec->user, user);
	apitoken_record_free(rec);
	apitoken_store_close(s);
	return r == 0;
}

/* ------------------------------------------------------- staging */

Test(txn, create_flag)
{
	struct apitoken_txn *t = NULL;
	struct stat st;
	mode_t old;

	cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err)),
	    APITOKEN_ERR_STORE_MISSING);
	cr_assert_null(t);
	old = umask(0);		/* the store's mode must not depend on it */
	t = begin(APITOKEN_TXN_CREATE);
	cr_assert_eq(insert_n(t, 1), 0, "%s", E.err);
	commit(t);
	umask(old);
	cr_assert_eq(stat(E.store, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(store_count(), 1u);
	/* CREATE on an existing store keeps it */
	t = begin(APITOKEN_TXN_CREATE);
	cr_assert_eq(insert_n(t, 2), 0, "%s", E.err);
	commit(t);
	cr_assert_eq(store_count(), 2u);
}

Test(txn, insert_duplicate_exists)
{
	struct apitoken_txn *t;

	tu_store_build_ids(E.cfg, 1, 1, 3);
	t = begin(0);
	cr_assert_eq(insert_n(t, 2), APITOKEN_ERR_EXISTS, "in the store");
	cr_assert_eq(insert_n(t, 10), 0, "%s", E.err);
	cr_assert_eq(insert_n(t, 10), APITOKEN_ERR_EXISTS, "staged twice");
	commit(t);
	cr_assert_eq(store_count(), 4u);
}

Test(txn, replace_delete_missing_not_found)
{
	struct apitoken_txn *t;
	struct apitoken_record *r;
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 2, 3);	/* 1 3 5 */
	t = begin(0);
	r = rec_n(2, "bob");
	cr_assert_eq(apitoken_txn_replace(t, r, E.err, sizeof(E.err)),
	    APITOKEN_ERR_NOT_FOUND);
	apitoken_record_free(r);
	tu_id(4, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), APITOKEN_ERR_NOT_FOUND);
	tu_id(3, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), APITOKEN_ERR_NOT_FOUND,
	    "deleted twice");
	r = rec_n(3, "bob");
	cr_assert_eq(apitoken_txn_replace(t, r, E.err, sizeof(E.err)),
	    APITOKEN_ERR_NOT_FOUND, "replace of a staged deletion");
	apitoken_record_free(r);
	apitoken_txn_free(t);
	cr_assert_eq(store_count(), 3u);
}

Test(txn, replace_delete_commit)
{
	struct apitoken_txn *t;
	struct apitoken_record *r;
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 5);
	t = begin(0);
	r = rec_n(2, "bob");
	cr_assert_eq(apitoken_txn_replace(t, r, E.err, sizeof(E.err)), 0, "%s",
	    E.err);
	apitoken_record_free(r);
	tu_id(4, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	cr_assert_eq(insert_n(t, 4), 0, "re-insert after delete: %s", E.err);
	tu_id(5, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	commit(t);
	cr_assert_eq(store_count(), 4u);
	cr_assert(store_has(2, "bob"));
	cr_assert(store_has(1, "alice"));
	cr_assert(store_has(4, "alice"));
	cr_assert(!store_has(5, NULL));
}

Test(txn, insert_invalid_record)
{
	struct apitoken_txn *t;
	struct apitoken_record *r = rec_n(1, "alice");

	cr_assert_eq(apitoken_record_set(&r->hash, "plaintext-secret"), 0);
	tu_store_build(E.cfg, NULL, 0);
	t = begin(0);
	E.err[0] = '\0';
	cr_assert_eq(apitoken_txn_insert(t, r, E.err, sizeof(E.err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_neq(E.err[0], '\0');
	cr_assert_eq(apitoken_txn_replace(t, r, E.err, sizeof(E.err)),
	    APITOKEN_ERR_INVALID, "replace checks before looking up");
	commit(t);
	cr_assert_eq(store_count(), 0u);
	apitoken_record_free(r);
}

/* apitoken_txn_insert_new: a fresh token whose id and hash the record
 * gets, staged; what is committed verifies with that token.  A record
 * the store refuses is not staged, and the token is wiped. */
Test(txn, insert_new_stages_a_fresh_token)
{
	const char *prefix = apitoken_config_token_prefix(E.cfg);
	struct apitoken_record *r = rec_n(100, "alice"), *found = NULL;
	struct apitoken_request req = { "alice", NULL, NULL, 0 };
	struct apitoken_result res;
	struct apitoken_txn *t;
	char tok[APITOKEN_TOKEN_MAX + 1], zero[sizeof(tok)];
	char old[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 3);
	memcpy(old, r->id, sizeof(old));
	t = begin(0);
	E.err[0] = '\0';
	cr_assert_eq(apitoken_txn_insert_new(t, prefix, r, tok, sizeof(tok),
	    E.err, sizeof(E.err)), 0, "%s", E.err);
	cr_assert_str_neq(r->id, old, "the record keeps its old id");
	cr_assert_not_null(strstr(tok, r->id), "%s vs %s", tok, r->id);
	cr_assert_eq(apitoken_txn_find(t, r->id, &found, NULL, 0), 0);
	cr_assert_str_eq(found->hash, r->hash);
	apitoken_record_free(found);
	commit(t);
	cr_assert_eq(store_count(), 4u);
	cr_assert_eq(apitoken_verify_once(E.cfg, tok, strlen(tok), &req, &res),
	    APITOKEN_ACCEPTED, "%s", res.detail);
	cr_assert_str_eq(res.id, r->id);
	/* refused: nothing staged, the token wiped, err says why */
	cr_assert_eq(apitoken_record_set(&r->label, ""), 0);
	t = begin(0);
	E.err[0] = '\0';
	cr_assert_eq(apitoken_txn_insert_new(t, prefix, r, tok, sizeof(tok),
	    E.err, sizeof(E.err)), APITOKEN_ERR_INVALID);
	cr_assert_neq(E.err[0], '\0');
	memset(zero, 0, sizeof(zero));
	cr_assert_eq(memcmp(tok, zero, sizeof(tok)), 0, "token not wiped");
	commit(t);
	cr_assert_eq(store_count(), 4u);
	apitoken_wipe(tok, sizeof(tok));
	apitoken_record_free(r);
}

struct walk {
	size_t n;
	int ordered;
	char last[APITOKEN_ID_LEN + 1];
};

static int
walk_fn(struct apitoken_record **rec, void *ctx)
{
	struct walk *w = ctx;

	if (w->n > 0 && strcmp(w->last, (*rec)->id) >= 0)
		w->ordered = 0;
	memcpy(w->last, (*rec)->id, sizeof(w->last));
	w->n++;
	return 0;
}

Test(txn, view_includes_staged_changes)
{
	struct apitoken_txn *t;
	struct apitoken_record *r = NULL;
	struct walk w = { .ordered = 1 };
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 10, 10, 5);	/* 10..50 */
	t = begin(0);
	cr_assert_eq(insert_n(t, 25), 0);
	cr_assert_eq(insert_n(t, 5), 0);
	cr_assert_eq(insert_n(t, 99), 0);
	tu_id(30, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	tu_id(25, id);
	cr_assert_eq(apitoken_txn_find(t, id, &r, NULL, 0), 0);
	cr_assert_str_eq(r->id, id);
	apitoken_record_free(r);
	r = NULL;
	tu_id(30, id);
	cr_assert_eq(apitoken_txn_find(t, id, &r, NULL, 0),
	    APITOKEN_ERR_NOT_FOUND);
	cr_assert_null(r);
	cr_assert_eq(apitoken_txn_foreach(t, walk_fn, &w, NULL, 0), 0);
	cr_assert_eq(w.n, 7u);
	cr_assert(w.ordered, "txn_foreach not in id order");
	tu_id(99, id);
	cr_assert_str_eq(w.last, id);
	/* the store itself is unchanged until commit */
	cr_assert_eq(store_count(), 5u);
	commit(t);
	cr_assert_eq(store_count(), 7u);
}

/* ------------------------------------------- begin: full validation */

Test(txn, begin_on_a_bad_record_fails_naming_its_line)
{
	struct apitoken_txn *t = NULL;
	char *text, *line, *bad, *nl, *out;
	size_t len, i;
	int r;

	tu_store_build_ids(E.cfg, 10, 10, 5);
	cr_assert_not_null(text = tl_read_file(E.store, &len));
	/* line 4 of the file is the third record: make its status bogus */
	for (line = text, i = 0; i < 3; i++)
		line = strchr(line, '\n') + 1;
	nl = strchr(line, '\n');
	*nl = '\0';
	bad = tu_line_set_field(line, tu_field_index("status"), "bogus");
	cr_assert_not_null(out = malloc(len + 16));
	len = (size_t)sprintf(out, "%.*s%s\n%s", (int)(line - text), text,
	    bad, nl + 1);
	tl_write_file(E.store, out, len, 0600);
	r = apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err));
	cr_assert_eq(r, APITOKEN_ERR_STORE_FORMAT, "begin = %d", r);
	cr_assert_null(t);
	cr_assert(strstr(E.err, ":4: ") != NULL, "message: %s", E.err);
	free(bad);
	free(out);
	free(text);
}

Test(txn, free_without_commit_leaves_file_identical)
{
	struct apitoken_txn *t;
	char *before, *after;
	size_t n1, n2;
	struct stat st1, st2;
	char id[APITOKEN_ID_LEN + 1];
	int64_t t0;

	tu_store_build_ids(E.cfg, 1, 1, 20);
	before = tl_read_file(E.store, &n1);
	cr_assert_eq(stat(E.store, &st1), 0);
	t = begin(0);
	cr_assert_eq(insert_n(t, 100), 0);
	tu_id(3, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	apitoken_txn_free(t);
	after = tl_read_file(E.store, &n2);
	cr_assert_eq(stat(E.store, &st2), 0);
	cr_assert_eq(n1, n2);
	cr_assert(memcmp(before, after, n1) == 0, "store changed");
	cr_assert_eq(st1.st_ino, st2.st_ino, "store replaced");
	/* and the lock was released */
	tu_env_reconfig(&E, "lock_timeout: 1s\n");
	t0 = tl_now_ms();
	t = begin(0);
	cr_assert_lt(tl_now_ms() - t0, 500, "lock still held after free");
	apitoken_txn_free(t);
	apitoken_txn_free(NULL);
	free(before);
	free(after);
}

Test(txn, commit_then_stale)
{
	struct apitoken_txn *t;

	tu_store_build(E.cfg, NULL, 0);
	t = begin(0);
	cr_assert_eq(insert_n(t, 1), 0);
	cr_assert_eq(apitoken_txn_commit(t, E.err, sizeof(E.err)), 0);
	cr_assert_eq(apitoken_txn_commit(t, E.err, sizeof(E.err)),
	    APITOKEN_ERR_STALE, "second commit");
	cr_assert_eq(insert_n(t, 2), APITOKEN_ERR_STALE, "insert after commit");
	apitoken_txn_free(t);
	cr_assert_eq(store_count(), 1u);
}

Test(txn, descriptors_cloexec)
{
	struct apitoken_txn *t;

	tu_store_build_ids(E.cfg, 1, 1, 2);
	t = begin(0);
	cr_assert_eq(insert_n(t, 5), 0);
	cr_assert_gt(tu_assert_cloexec_under(E.dir), 0,
	    "no descriptor open under the store dir during a txn (lock?)");
	commit(t);
}

/* ------------------------------------------------------------ lock */

static void
lock_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s.lock", E.store);
}

Test(txn, lock_file_never_unlinked)
{
	struct apitoken_txn *t;
	char lp[TU_PATHLEN + 8];
	struct stat st1, st2;

	lock_path(lp, sizeof(lp));
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(stat(lp, &st1), 0, "no %s after a commit", lp);
	cr_assert(S_ISREG(st1.st_mode));
	cr_assert_eq(st1.st_mode & 022, 0, "lock file writable by others");
	t = begin(0);
	cr_assert_eq(insert_n(t, 9), 0);
	commit(t);
	t = begin(0);
	apitoken_txn_free(t);
	cr_assert_eq(stat(lp, &st2), 0, "lock file unlinked");
	cr_assert_eq(st1.st_ino, st2.st_ino, "lock file recreated");
}

Test(txn, lock_is_not_a_symlink_target)
{
	char lp[TU_PATHLEN + 8];
	struct apitoken_txn *t = NULL;
	const char *victim = "/tmp/apitoken-unit-lock-victim";

	unlink(victim);
	tu_store_build_ids(E.cfg, 1, 1, 2);
	lock_path(lp, sizeof(lp));
	cr_assert_eq(unlink(lp), 0);
	cr_assert_eq(symlink(victim, lp), 0);
	if (apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err)) == 0)
		apitoken_txn_free(t);
	cr_assert_eq(access(victim, F_OK), -1,
	    "txn_begin created a file through a symlinked lock");
	unlink(victim);
}

/* A child holds a transaction until the parent closes `release`. */
struct holder {
	pid_t pid;
	int release;	/* write end: close to let the child go */
};

static struct holder
hold_lock(void)
{
	int ready[2], rel[2];
	struct holder h;
	char c = 0;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(rel), 0);
	h.pid = fork();
	cr_assert(h.pid >= 0);
	if (h.pid == 0) {
		struct apitoken_txn *t = NULL;

		close(ready[0]);
		close(rel[1]);
		if (apitoken_txn_begin(E.cfg, APITOKEN_TXN_CREATE, &t, NULL,
		    0) != 0) {
			(void)!write(ready[1], "E", 1);
			_exit(1);
		}
		(void)!write(ready[1], "K", 1);
		(void)!read(rel[0], &c, 1);	/* EOF when released */
		apitoken_txn_free(t);
		_exit(0);
	}
	close(ready[1]);
	close(rel[0]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(c, 'K', "child could not begin a transaction");
	close(ready[0]);
	h.release = rel[1];
	return h;
}

static void
release_lock(struct holder *h)
{
	int st;

	close(h->release);
	cr_assert_eq(waitpid(h->pid, &st, 0), h->pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(txn, lock_timeout)
{
	struct holder h;
	struct apitoken_txn *t = (struct apitoken_txn *)&E;
	int64_t t0, ms;
	int r;

	tu_store_build_ids(E.cfg, 1, 1, 2);
	tu_env_reconfig(&E, "lock_timeout: 1s\n");
	cr_assert_eq(apitoken_config_lock_timeout_ms(E.cfg), 1000);
	h = hold_lock();
	E.err[0] = '\0';
	t0 = tl_now_ms();
	r = apitoken_txn_begin(E.cfg, 0, &t, E.err, sizeof(E.err));
	ms = tl_now_ms() - t0;
	cr_assert_eq(r, APITOKEN_ERR_LOCK_TIMEOUT, "begin = %d after %lld ms",
	    r, (long long)ms);
	cr_assert_null(t);
	cr_assert_geq(ms, 900, "gave up after %lld ms", (long long)ms);
	cr_assert_lt(ms, 2500, "waited %lld ms for a 1 s timeout",
	    (long long)ms);
	cr_assert_not_null(strstr(E.err, E.store), "err: %s", E.err);
	release_lock(&h);
	t = begin(0);
	apitoken_txn_free(t);
}

Test(txn, waiting_writer_gets_lock_when_released)
{
	struct holder h;
	struct apitoken_txn *t;
	int64_t t0, ms;

	tu_store_build_ids(E.cfg, 1, 1, 2);
	tu_env_reconfig(&E, "lock_timeout: 10s\n");
	h = hold_lock();
	if (fork() == 0) {
		usleep(300 * 1000);
		close(h.release);
		_exit(0);
	}
	close(h.release);	/* the helper above still holds a copy */
	t0 = tl_now_ms();
	t = begin(0);
	ms = tl_now_ms() - t0;
	cr_assert_geq(ms, 200, "did not wait for the holder (%lld ms)",
	    (long long)ms);
	cr_assert_lt(ms, 3000, "waited %lld ms", (long long)ms);
	cr_assert_eq(insert_n(t, 7), 0);
	commit(t);
	while (wait(NULL) > 0)
		;
	cr_assert(store_has(7, "alice"));
}

Test(txn, readers_never_wait_for_writer)
{
	struct holder h;
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1];
	int64_t t0;

	tu_store_build_ids(E.cfg, 1, 1, 3);
	h = hold_lock();
	t0 = tl_now_ms();
	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	tu_id(2, id);
	cr_assert_eq(apitoken_store_find(s, id, &rec, NULL, 0), 0);
	cr_assert_lt(tl_now_ms() - t0, 500, "reader waited for the lock");
	apitoken_record_free(rec);
	apitoken_store_close(s);
	release_lock(&h);
}

Test(txn, dead_writer_releases_lock)
{
	pid_t pid;
	int ready[2], st;
	char c = 0;
	struct apitoken_txn *t;
	int64_t t0;

	tu_store_build_ids(E.cfg, 1, 1, 3);
	tu_env_reconfig(&E, "lock_timeout: 2s\n");
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		struct apitoken_txn *ct = NULL;

		if (apitoken_txn_begin(E.cfg, 0, &ct, NULL, 0) == 0)
			(void)!write(ready[1], "K", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(c, 'K');
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t0 = tl_now_ms();
	t = begin(0);
	cr_assert_lt(tl_now_ms() - t0, 1000);
	cr_assert_eq(insert_n(t, 50), 0);
	commit(t);
	cr_assert_eq(store_count(), 4u);
}

/* ------------------------------------------------- concurrency */

Test(txn, concurrent_writers_lose_nothing)
{
	enum { KIDS = 6, EACH = 30 };
	pid_t pids[KIDS];
	int k, i, st, running;
	size_t last = 0, n, opens = 0;

	tl_watchdog(120);
	tu_env_reconfig(&E, "lock_timeout: 60s\n");
	tu_store_build(E.cfg, NULL, 0);
	for (k = 0; k < KIDS; k++) {
		pids[k] = fork();
		cr_assert(pids[k] >= 0);
		if (pids[k] == 0) {
			for (i = 0; i < EACH; i++) {
				struct apitoken_txn *t = NULL;
				struct apitoken_record *r;
				char id[APITOKEN_ID_LEN + 1];

				if (apitoken_txn_begin(E.cfg, 0, &t, NULL, 0))
					_exit(10);
				tu_id((unsigned)(k * 1000 + i), id);
				r = apitoken_record_new();
				if (r == NULL)
					_exit(11);
				memcpy(r->id, id, sizeof(id));
				if (apitoken_record_set(&r->user, "alice") ||
				    apitoken_record_set(&r->label, id) ||
				    apitoken_record_set(&r->hash,
				    "sha256$0123456789abcdef0123456789abcdef"
				    "0123456789abcdef0123456789abcdef"))
					_exit(12);
				r->created = r->updated = 1700000000;
				if (apitoken_txn_insert(t, r, NULL, 0))
					_exit(13);
				if (apitoken_txn_commit(t, NULL, 0))
					_exit(14);
				apitoken_txn_free(t);
				apitoken_record_free(r);
			}
			_exit(0);
		}
	}
	/* meanwhile a reader: every open succeeds and counts never drop */
	do {
		struct apitoken_store *s = NULL;
		int r = apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err));

		cr_assert_eq(r, 0, "reader saw a broken store: %d %s", r,
		    E.err);
		n = apitoken_store_count(s);
		cr_assert_geq(n, last, "count went back from %zu to %zu",
		    last, n);
		last = n;
		apitoken_store_close(s);
		opens++;
		running = 0;
		for (k = 0; k < KIDS; k++)
			if (pids[k] > 0 && waitpid(pids[k], &st, WNOHANG) ==
			    pids[k]) {
				cr_assert(WIFEXITED(st) &&
				    WEXITSTATUS(st) == 0, "writer %d failed: "
				    "status %#x", k, st);
				pids[k] = 0;
			} else if (pids[k] > 0) {
				running = 1;
			}
		usleep(2000);
	} while (running);
	cr_log_info("reader opened the store %zu times during the writes",
	    opens);

	cr_assert_eq(store_count(), (size_t)(KIDS * EACH));
	{
		struct apitoken_store *s = NULL;
		struct walk w = { .ordered = 1 };

		cr_assert_eq(apitoken_store_open(E.cfg, &s, NULL, 0), 0);
		cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, E.err,
		    sizeof(E.err)), 0, "%s", E.err);
		cr_assert_eq(w.n, (size_t)(KIDS * EACH));
		cr_assert(w.ordered);
		for (k = 0; k < KIDS; k++)
			for (i = 0; i < EACH; i++) {
				struct apitoken_record *rec = NULL;
				char id[APITOKEN_ID_LEN + 1];

				tu_id((unsigned)(k * 1000 + i), id);
				cr_assert_eq(apitoken_store_find(s, id, &rec,
				    NULL, 0), 0, "lost %s", id);
				apitoken_record_free(rec);
			}
		apitoken_store_close(s);
	}
}

Test(txn, open_reader_keeps_its_snapshot)
{
	struct apitoken_store *old = NULL, *cur = NULL;
	struct apitoken_record *rec = NULL;
	struct apitoken_txn *t;
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 5);
	cr_assert_eq(apitoken_store_open(E.cfg, &old, NULL, 0), 0);
	t = begin(0);
	tu_id(3, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	cr_assert_eq(insert_n(t, 9), 0);
	commit(t);
	/* the old handle still answers from the old, complete file */
	cr_assert_eq(apitoken_store_count(old), 5u);
	cr_assert_eq(apitoken_store_find(old, id, &rec, NULL, 0), 0);
	apitoken_record_free(rec);
	rec = NULL;
	cr_assert_eq(apitoken_store_open(E.cfg, &cur, NULL, 0), 0);
	cr_assert_eq(apitoken_store_find(cur, id, &rec, NULL, 0),
	    APITOKEN_ERR_NOT_FOUND);
	cr_assert_eq(apitoken_store_count(cur), 5u);
	apitoken_store_close(old);
	apitoken_store_close(cur);
}

/* ------------------------------------------- killed writer leftovers */

static int
list_strays(char names[][256], int max)
{
	DIR *d = opendir(E.dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "tokens") == 0 ||
		    strcmp(de->d_name, "tokens.lock") == 0 ||
		    strcmp(de->d_name, "apitoken.yaml") == 0 ||
		    strcmp(de->d_name, "state") == 0)
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

Test(txn, killed_writer_temp_file_does_not_break_next_writer)
{
	char strays[8][256];
	char *before, *after;
	size_t n1, n2;
	pid_t pid;
	int st, nstray, i;
	struct apitoken_txn *t;

	/* a store well over 4 KiB, so a writer limited to 4 KiB files dies
	 * (SIGXFSZ) half-way through writing its temp file */
	tu_store_build_ids(E.cfg, 1, 1, 100);
	before = tl_read_file(E.store, &n1);
	cr_assert_gt(n1, 8192u);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct apitoken_txn *ct = NULL;

		signal(SIGXFSZ, SIG_DFL);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(20);
		if (apitoken_txn_begin(E.cfg, 0, &ct, NULL, 0) != 0)
			_exit(21);
		if (insert_n(ct, 500) != 0)
			_exit(22);
		if (apitoken_txn_commit(ct, NULL, 0) == 0)
			_exit(24);	/* wrote 8 KiB under a 4 KiB limit? */
		_exit(23);	/* commit failed cleanly */
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(!WIFEXITED(st) || WEXITSTATUS(st) == 23,
	    "writer child failed early: %d", WEXITSTATUS(st));
	cr_log_info("writer: %s %d", WIFSIGNALED(st) ? "signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

	/* the store is untouched */
	after = tl_read_file(E.store, &n2);
	cr_assert_eq(n1, n2);
	cr_assert(memcmp(before, after, n1) == 0, "store damaged");
	free(after);
	nstray = list_strays(strays, 8);
	cr_log_info("%d stray file(s) after the killed writer", nstray);

	/* the next writer works, and removes the leftovers */
	t = begin(0);
	cr_assert_eq(insert_n(t, 501), 0);
	commit(t);
	cr_assert_eq(store_count(), 101u);
	cr_assert(store_has(501, "alice"));
	cr_assert(!store_has(500, NULL), "half-written change published");
	i = list_strays(strays, 8);
	cr_assert_eq(i, 0, "%d stray file(s) left after the next writer, "
	    "e.g. %s", i, strays[0]);
	free(before);
}

Test(txn, foreign_file_in_dir_is_left_alone)
{
	/* only the library's own temp files are "stale": an admin's backup
	 * next to the store must survive */
	char path[TU_PATHLEN + 32];
	struct apitoken_txn *t;

	tu_store_build_ids(E.cfg, 1, 1, 2);
	snprintf(path, sizeof(path), "%s/tokens.bak", E.dir);
	tl_write_file(path, "backup\n", 7, 0600);
	t = begin(0);
	cr_assert_eq(insert_n(t, 3), 0);
	commit(t);
	cr_assert_eq(access(path, F_OK), 0, "tokens.bak was removed");
}
