/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_store.c - the store file: layout, sorted look-up at the edges,
 * foreach/count, hand-written bad files, and the safe-open rules; the
 * look-ups and the bad files also through a mapped handle
 * (apitoken_store_open_mapped, apitokend's).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static struct tu_env E;
static int Mapped;	/* open_ok and open_rc: apitoken_store_open_mapped */

static int
open_mode(struct apitoken_store **sp)
{
	if (Mapped)
		return apitoken_store_open_mapped(E.cfg, sp, E.err,
		    sizeof(E.err));
	return apitoken_store_open(E.cfg, sp, E.err, sizeof(E.err));
}

static void
setup(void)
{
	tl_watchdog(30);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(store, .init = setup, .fini = teardown);
TestSuite(store_file, .init = setup, .fini = teardown);
TestSuite(store_safe, .init = setup, .fini = teardown);

static struct apitoken_store *
open_ok(void)
{
	struct apitoken_store *s = NULL;
	int r;

	E.err[0] = '\0';
	r = open_mode(&s);
	cr_assert_eq(r, 0, "store_open = %d: %s", r, E.err);
	cr_assert_not_null(s);
	return s;
}

static int
open_rc(void)
{
	struct apitoken_store *s = (struct apitoken_store *)&E;
	int r;

	memset(E.err, 0, sizeof(E.err));
	r = open_mode(&s);
	if (r == 0)
		apitoken_store_close(s);
	else
		cr_assert_null(s, "*storep not cleared on error");
	return r;
}

static void
assert_found(struct apitoken_store *s, const char *id)
{
	struct apitoken_record *rec = NULL;
	char err[TU_ERRLEN] = "";
	int r;

	r = apitoken_store_find(s, id, &rec, err, sizeof(err));
	cr_assert_eq(r, 0, "find(%s) = %d: %s", id, r, err);
	cr_assert_not_null(rec);
	cr_assert_str_eq(rec->id, id);
	cr_assert_str_eq(rec->user, "alice");
	apitoken_record_free(rec);
}

static void
assert_missing(struct apitoken_store *s, const char *id)
{
	struct apitoken_record *rec = (struct apitoken_record *)&E;
	int r;

	r = apitoken_store_find(s, id, &rec, NULL, 0);
	cr_assert_eq(r, APITOKEN_ERR_NOT_FOUND, "find(%s) = %d", id, r);
	cr_assert_null(rec);
}

static void
assert_found_n(struct apitoken_store *s, unsigned n)
{
	char id[APITOKEN_ID_LEN + 1];

	tu_id(n, id);
	assert_found(s, id);
}

static void
assert_missing_n(struct apitoken_store *s, unsigned n)
{
	char id[APITOKEN_ID_LEN + 1];

	tu_id(n, id);
	assert_missing(s, id);
}

/* ------------------------------------------------------- foreach */

struct walk {
	size_t count;
	size_t stop_after;	/* 0 = never */
	int ordered;
	char last[APITOKEN_ID_LEN + 1];
	struct apitoken_record *stolen;
};

static int
walk_fn(struct apitoken_record **rec, void *ctx)
{
	struct walk *w = ctx;

	if (w->count > 0 && strcmp(w->last, (*rec)->id) >= 0)
		w->ordered = 0;
	memcpy(w->last, (*rec)->id, sizeof(w->last));
	w->count++;
	if (w->stolen == NULL && w->count == 2) {
		w->stolen = *rec;	/* take ownership */
		*rec = NULL;
	}
	if (w->stop_after && w->count == w->stop_after)
		return 7;
	return 0;
}

/* --------------------------------------------------------- layout */

Test(store, empty_store_layout)
{
	struct apitoken_store *s;
	struct walk w = { .ordered = 1 };
	char *data, want[1024];
	size_t len;
	struct stat st;

	tu_store_build(E.cfg, NULL, 0);
	data = tl_read_file(E.store, &len);
	cr_assert_not_null(data);
	snprintf(want, sizeof(want), "%s\n%s\n", apitoken_store_header(),
	    apitoken_store_trailer());
	cr_assert_str_eq(data, want);
	cr_assert_eq(stat(E.store, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	free(data);

	s = open_ok();
	cr_assert_eq(apitoken_store_count(s), 0u);
	assert_missing_n(s, 10);
	cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, NULL, 0), 0);
	cr_assert_eq(w.count, 0u);
	apitoken_store_close(s);
}

Test(store, one_record)
{
	struct apitoken_store *s;

	tu_store_build_ids(E.cfg, 10, 2, 1);
	s = open_ok();
	cr_assert_eq(apitoken_store_count(s), 1u);
	assert_found_n(s, 10);
	assert_missing_n(s, 9);
	assert_missing_n(s, 11);
	assert_missing(s, "000000000000");
	assert_missing(s, "zzzzzzzzzzzz");
	apitoken_store_close(s);
}

Test(store, two_records)
{
	struct apitoken_store *s;

	tu_store_build_ids(E.cfg, 10, 2, 2);
	s = open_ok();
	cr_assert_eq(apitoken_store_count(s), 2u);
	assert_found_n(s, 10);
	assert_found_n(s, 12);
	assert_missing_n(s, 9);
	assert_missing_n(s, 11);
	assert_missing_n(s, 13);
	apitoken_store_close(s);
}

static void
thousand_records_edges(void)
{
	enum { N = 1000 };
	struct apitoken_store *s;
	unsigned i;

	tu_store_build_ids(E.cfg, 10, 2, N);
	s = open_ok();
	cr_assert_eq(apitoken_store_count(s), (size_t)N);
	cr_assert_eq(apitoken_store_count(s), (size_t)N, "count twice");
	assert_found_n(s, 10);			/* first */
	assert_found_n(s, 10 + 2 * (N - 1));	/* last */
	assert_found_n(s, 10 + 2 * (N / 2));	/* middle */
	assert_missing_n(s, 9);			/* just before the first */
	assert_missing_n(s, 0);
	assert_missing(s, "000000000000");
	assert_missing(s, "Lzzzzzzzzzzz");
	assert_missing_n(s, 10 + 2 * N - 1);	/* just after the last */
	assert_missing(s, "zzzzzzzzzzzz");
	assert_missing(s, "N00000000000");
	for (i = 0; i < N; i++) {
		assert_found_n(s, 10 + 2 * i);
		assert_missing_n(s, 11 + 2 * i);	/* between */
	}
	apitoken_store_close(s);
}

Test(store, thousand_records_edges)
{
	thousand_records_edges();
}

Test(store, thousand_records_edges_mapped)
{
	Mapped = 1;
	thousand_records_edges();
}

Test(store, find_invalid_id)
{
	struct apitoken_store *s;
	struct apitoken_record *rec = NULL;
	const char *bad[] = { "", "short", "../../../etc", "M0000000001",
	    "M000000000100", "M0000000001_" };
	size_t i;

	tu_store_build_ids(E.cfg, 10, 2, 3);
	s = open_ok();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(apitoken_store_find(s, bad[i], &rec, NULL, 0) < 0,
		    "find(\"%s\") succeeded", bad[i]);
		cr_assert_null(rec);
	}
	apitoken_store_close(s);
}

Test(store, foreach_order_count_stop_steal)
{
	struct apitoken_store *s;
	struct walk w = { .ordered = 1 };
	char first[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 10, 3, 50);
	s = open_ok();
	cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, NULL, 0), 0);
	cr_assert_eq(w.count, 50u);
	cr_assert(w.ordered, "foreach not in id order");
	tu_id(10 + 3 * 49, first);
	cr_assert_str_eq(w.last, first);
	cr_assert_not_null(w.stolen);
	tu_id(13, first);
	cr_assert_str_eq(w.stolen->id, first, "stolen record freed/reused?");
	apitoken_record_free(w.stolen);

	memset(&w, 0, sizeof(w));
	w.ordered = 1;
	w.stop_after = 5;
	cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, NULL, 0), 7);
	cr_assert_eq(w.count, 5u);
	apitoken_record_free(w.stolen);
	apitoken_store_close(s);
}

Test(store, file_lines_match_serializer)
{
	enum { N = 20 };
	struct apitoken_store *s;
	char *data, *p, *nl, *line;
	char prev[64] = "";
	size_t len, n, nlines = 0;

	tu_store_build_ids(E.cfg, 100, 7, N);
	data = tl_read_file(E.store, &len);
	cr_assert_not_null(data);
	cr_assert_eq(data[len - 1], '\n');
	cr_assert_eq(strlen(data), len, "NUL in store file");
	s = open_ok();
	for (p = data; *p; p = nl + 1, nlines++) {
		nl = strchr(p, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		if (nlines == 0) {
			cr_assert_str_eq(p, apitoken_store_header());
		} else if (nl[1] == '\0') {
			cr_assert_str_eq(p, apitoken_store_trailer());
		} else {
			struct apitoken_record *rec = NULL;
			char id[APITOKEN_ID_LEN + 1];

			snprintf(id, sizeof(id), "%.12s", p);
			cr_assert(strcmp(prev, id) < 0, "unsorted at %s", id);
			snprintf(prev, sizeof(prev), "%s", id);
			cr_assert_eq(apitoken_store_find(s, id, &rec, NULL, 0),
			    0);
			cr_assert_eq(apitoken_record_format(rec, &line, &n), 0);
			cr_assert_eq(n, strlen(p) + 1);
			cr_assert(memcmp(line, p, n - 1) == 0,
			    "store line differs from record_format");
			free(line);
			apitoken_record_free(rec);
		}
	}
	cr_assert_eq(nlines, (size_t)N + 2);
	apitoken_store_close(s);
	free(data);
}

/* ---------------------------------------------- hand-written files */

static char *
rec_line(unsigned n)
{
	char id[APITOKEN_ID_LEN + 1];
	struct apitoken_record *r;
	char *line = NULL;
	size_t len;

	tu_id(n, id);
	r = tu_record(id, "alice", NULL);
	cr_assert_eq(apitoken_record_format(r, &line, &len), 0);
	apitoken_record_free(r);
	return line;
}

/* header + the given record numbers (in that order) + trailer */
static void
write_store(const unsigned *nums, size_t n, int trailer)
{
	char *buf = malloc(65536), *line;
	size_t i, len = 0;

	cr_assert_not_null(buf);
	len += (size_t)sprintf(buf, "%s\n", apitoken_store_header());
	for (i = 0; i < n; i++) {
		line = rec_line(nums[i]);
		memcpy(buf + len, line, strlen(line));
		len += strlen(line);
		free(line);
	}
	if (trailer)
		len += (size_t)sprintf(buf + len, "%s\n",
		    apitoken_store_trailer());
	tl_write_file(E.store, buf, len, 0600);
	free(buf);
}

static int
txn_rc(int flags)
{
	struct apitoken_txn *t = NULL;
	int r;

	E.err[0] = '\0';
	r = apitoken_txn_begin(E.cfg, flags, &t, E.err, sizeof(E.err));
	if (r == 0)
		apitoken_txn_free(t);
	else
		cr_assert_null(t);
	return r;
}

Test(store_file, hand_written_good_file_opens)
{
	unsigned nums[] = { 1, 2, 3 };
	struct apitoken_store *s;

	write_store(nums, 3, 1);
	s = open_ok();
	cr_assert_eq(apitoken_store_count(s), 3u);
	assert_found_n(s, 2);
	apitoken_store_close(s);
	cr_assert_eq(txn_rc(0), 0, "%s", E.err);
}

Test(store_file, empty_file)
{
	tl_write_file(E.store, "", 0, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_not_null(strstr(E.err, E.store), "err: %s", E.err);
	/* an empty file is not a missing store, even with CREATE */
	cr_assert_eq(txn_rc(APITOKEN_TXN_CREATE), APITOKEN_ERR_STORE_FORMAT);
}

Test(store_file, not_a_store)
{
	tl_write_file(E.store, "hello\n#end\n", 11, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
}

Test(store_file, header_only_no_trailer)
{
	write_store(NULL, 0, 0);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_neq(E.err[0], '\0');
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
}

Test(store_file, records_without_trailer)
{
	unsigned nums[] = { 1, 2 };

	write_store(nums, 2, 0);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
}

Test(store_file, truncated_mid_record)
{
	unsigned nums[] = { 1, 2 };
	char *data;
	size_t len;

	write_store(nums, 2, 1);
	data = tl_read_file(E.store, &len);
	/* cut in the middle of the second record: no newline, no trailer */
	len -= strlen("#end\n") + 40;
	tl_write_file(E.store, data, len, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
	free(data);
}

Test(store_file, bad_files_refused_mapped)
{
	unsigned nums[] = { 1, 2 };
	char *data;
	size_t len;

	Mapped = 1;
	tl_write_file(E.store, "", 0, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	tl_write_file(E.store, "hello\n#end\n", 11, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	write_store(nums, 2, 0);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	write_store(nums, 2, 1);
	data = tl_read_file(E.store, &len);
	tl_write_file(E.store, data, len - strlen("#end\n") - 40, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_not_null(strstr(E.err, E.store), "err: %s", E.err);
	free(data);
}

Test(store_file, trailer_without_newline)
{
	unsigned nums[] = { 1 };
	char *data;
	size_t len;

	write_store(nums, 1, 1);
	data = tl_read_file(E.store, &len);
	tl_write_file(E.store, data, len - 1, 0600);
	cr_expect_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT,
	    "a last line without '\\n' accepted");
	free(data);
}

Test(store_file, garbage_after_trailer)
{
	unsigned nums[] = { 1 };
	char *data;
	size_t len;

	write_store(nums, 1, 1);
	data = tl_read_file(E.store, &len);
	data = realloc(data, len + 16);
	memcpy(data + len, "junk\n", 5);
	tl_write_file(E.store, data, len + 5, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_FORMAT);
	free(data);
}

Test(store_file, unknown_version)
{
	char hdr[1024], *v, buf[2048];
	int n;

	snprintf(hdr, sizeof(hdr), "%s", apitoken_store_header());
	v = strstr(hdr, "\tv1\t");
	cr_assert_not_null(v);
	v[2] = '2';
	n = snprintf(buf, sizeof(buf), "%s\n#end\n", hdr);
	tl_write_file(E.store, buf, (size_t)n, 0600);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_VERSION, "%s", E.err);
	cr_assert_not_null(strstr(E.err, E.store), "err: %s", E.err);
	cr_assert_eq(txn_rc(APITOKEN_TXN_CREATE), APITOKEN_ERR_STORE_VERSION);
	/* the writer must not have replaced a newer store */
	{
		char *data = tl_read_file(E.store, NULL);

		cr_assert_str_eq(data, buf);
		free(data);
	}
}

/* Unsorted or duplicate: a look-up returns the right record, NOT_FOUND
 * or STORE_FORMAT - never another id; foreach never reports success
 * with ids out of order; a writer refuses the file. */
static void
check_broken_order_1(const unsigned *nums, size_t n)
{
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec;
	struct walk w = { .ordered = 1 };
	char id[APITOKEN_ID_LEN + 1];
	size_t i;
	int r;

	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT,
	    "txn_begin accepted a broken store: %s", E.err);
	cr_assert_neq(E.err[0], '\0');
	r = open_mode(&s);
	if (r != 0) {
		cr_assert_eq(r, APITOKEN_ERR_STORE_FORMAT);
		return;
	}
	for (i = 0; i < n; i++) {
		rec = NULL;
		tu_id(nums[i], id);
		r = apitoken_store_find(s, id, &rec, NULL, 0);
		cr_assert(r == 0 || r == APITOKEN_ERR_NOT_FOUND ||
		    r == APITOKEN_ERR_STORE_FORMAT, "find = %d", r);
		if (r == 0) {
			cr_assert_str_eq(rec->id, id, "wrong record returned");
			apitoken_record_free(rec);
		}
	}
	r = apitoken_store_foreach(s, walk_fn, &w, NULL, 0);
	apitoken_record_free(w.stolen);
	cr_assert(r != 0 || w.ordered,
	    "foreach returned 0 but visited ids out of order");
	cr_assert(r != 0 || w.count == n);
	apitoken_store_close(s);
}

/* ... through either kind of handle */
static void
check_broken_order(const unsigned *nums, size_t n)
{
	Mapped = 0;
	check_broken_order_1(nums, n);
	Mapped = 1;
	check_broken_order_1(nums, n);
}

Test(store_file, unsorted_records)
{
	unsigned nums[] = { 1, 2, 5, 3, 4, 6, 7 };

	write_store(nums, 7, 1);
	check_broken_order(nums, 7);
}

Test(store_file, unsorted_pair)
{
	unsigned nums[] = { 2, 1 };

	write_store(nums, 2, 1);
	check_broken_order(nums, 2);
}

Test(store_file, duplicate_ids)
{
	unsigned nums[] = { 1, 2, 3, 3, 4 };

	write_store(nums, 5, 1);
	check_broken_order(nums, 5);
}

Test(store_file, nul_byte_in_record)
{
	unsigned nums[] = { 1, 2, 3 };
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec = NULL;
	struct walk w = { .ordered = 1 };
	char *data, *p, id[APITOKEN_ID_LEN + 1];
	size_t len;
	int r;

	write_store(nums, 3, 1);
	data = tl_read_file(E.store, &len);
	tu_id(2, id);
	p = strstr(data, id);
	cr_assert_not_null(p);
	p = strstr(p, "unit test");	/* the label */
	cr_assert_not_null(p);
	p[4] = '\0';
	tl_write_file(E.store, data, len, 0600);
	free(data);

	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
	r = apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err));
	if (r != 0) {
		cr_assert_eq(r, APITOKEN_ERR_STORE_FORMAT);
		return;
	}
	r = apitoken_store_find(s, id, &rec, NULL, 0);
	cr_assert_eq(r, APITOKEN_ERR_STORE_FORMAT, "find of the NUL record");
	cr_assert_null(rec);
	cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, E.err,
	    sizeof(E.err)), APITOKEN_ERR_STORE_FORMAT);
	apitoken_record_free(w.stolen);
	apitoken_store_close(s);
}

Test(store_file, corrupt_record_in_middle)
{
	unsigned nums[] = { 1, 2, 3 };
	struct apitoken_store *s;
	struct apitoken_record *rec = NULL;
	struct walk w = { .ordered = 1 };
	char *data, *p, id[APITOKEN_ID_LEN + 1];
	size_t len;

	write_store(nums, 3, 1);
	data = tl_read_file(E.store, &len);
	tu_id(2, id);
	p = strstr(strstr(data, id), "\tactive\t");
	cr_assert_not_null(p);
	memcpy(p + 1, "ACTIVE", 6);	/* bad status, same length */
	tl_write_file(E.store, data, len, 0600);
	free(data);

	s = open_ok();
	assert_found_n(s, 1);
	assert_found_n(s, 3);
	cr_assert_eq(apitoken_store_find(s, id, &rec, NULL, 0),
	    APITOKEN_ERR_STORE_FORMAT);
	cr_assert_null(rec);
	E.err[0] = '\0';
	cr_assert_eq(apitoken_store_foreach(s, walk_fn, &w, E.err,
	    sizeof(E.err)), APITOKEN_ERR_STORE_FORMAT);
	cr_assert_neq(E.err[0], '\0');
	cr_assert_eq(w.count, 1u, "foreach called fn for the bad record");
	apitoken_record_free(w.stolen);
	apitoken_store_close(s);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_FORMAT);
}

/* ------------------------------------------------------ safe open */

static void
assert_unsafe(const char *what)
{
	int r = open_rc();

	cr_assert_eq(r, APITOKEN_ERR_STORE_UNSAFE, "%s: store_open = %d (%s)",
	    what, r, E.err);
	cr_assert_not_null(strstr(E.err, E.dir), "%s: err does not name the "
	    "path: %s", what, E.err);
}

static void
need_root(void)
{
	TL_NEED_ROOT("files owned by another user");
}

Test(store_safe, missing)
{
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_MISSING);
	cr_assert_not_null(strstr(E.err, E.store), "err: %s", E.err);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_MISSING);
	cr_assert_eq(access(E.store, F_OK), -1, "txn_begin created the store");
}

Test(store_safe, good_modes_accepted)
{
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chmod(E.store, 0644), 0);
	cr_assert_eq(chmod(E.dir, 0755), 0);
	cr_assert_eq(open_rc(), 0, "%s", E.err);
	cr_assert_eq(chmod(E.store, 0400), 0);
	cr_assert_eq(open_rc(), 0, "%s", E.err);
}

Test(store_safe, symlink)
{
	char real[TU_PATHLEN + 16];

	tu_store_build_ids(E.cfg, 1, 1, 2);
	snprintf(real, sizeof(real), "%s.real", E.store);
	cr_assert_eq(rename(E.store, real), 0);
	cr_assert_eq(symlink(real, E.store), 0);
	assert_unsafe("symlinked store");
	cr_assert_eq(txn_rc(APITOKEN_TXN_CREATE), APITOKEN_ERR_STORE_UNSAFE,
	    "writer through a symlink: %s", E.err);
	{
		struct stat st;

		cr_assert_eq(lstat(E.store, &st), 0);
		cr_assert(S_ISLNK(st.st_mode), "writer replaced the symlink");
	}
}

Test(store_safe, dangling_symlink)
{
	cr_assert_eq(symlink("/tmp/apitoken-unit-nonexistent", E.store), 0);
	cr_assert_neq(open_rc(), 0);
	cr_assert_neq(txn_rc(APITOKEN_TXN_CREATE), 0,
	    "CREATE followed a dangling symlink");
	cr_assert_eq(access("/tmp/apitoken-unit-nonexistent", F_OK), -1);
}

Test(store_safe, group_writable)
{
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chmod(E.store, 0620), 0);
	assert_unsafe("group-writable store");
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_UNSAFE);
}

Test(store_safe, world_writable)
{
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chmod(E.store, 0602), 0);
	assert_unsafe("world-writable store");
	cr_assert_eq(chmod(E.store, 0666), 0);
	assert_unsafe("0666 store");
}

Test(store_safe, dir_group_writable)
{
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chmod(E.dir, 0770), 0);
	assert_unsafe("group-writable directory");
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_UNSAFE);
}

Test(store_safe, dir_world_writable)
{
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chmod(E.dir, 0777), 0);
	assert_unsafe("world-writable directory");
	cr_assert_eq(chmod(E.dir, 01777), 0);
	assert_unsafe("sticky world-writable directory");
}

Test(store_safe, owned_by_other_user)
{
	need_root();
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chown(E.store, 65534, 65534), 0);
	assert_unsafe("store owned by nobody");
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_UNSAFE);
}

Test(store_safe, dir_owned_by_other_user)
{
	need_root();
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(chown(E.dir, 65534, 65534), 0);
	assert_unsafe("directory owned by nobody");
}

Test(store_safe, too_large)
{
	struct stat st;
	char extra[64];

	tu_store_build_ids(E.cfg, 1, 1, 60);
	cr_assert_eq(stat(E.store, &st), 0);
	cr_assert(st.st_size > 4096, "store only %lld bytes",
	    (long long)st.st_size);
	tu_env_reconfig(&E, "max_store_size: 4K\n");
	cr_assert_eq(apitoken_config_max_store_size(E.cfg), 4096u);
	assert_unsafe("store over max_store_size");
	/* the boundary: exactly max_store_size is fine, one byte less not */
	snprintf(extra, sizeof(extra), "max_store_size: %lld\n",
	    (long long)st.st_size);
	tu_env_reconfig(&E, extra);
	cr_assert_eq(open_rc(), 0, "size == max refused: %s", E.err);
	snprintf(extra, sizeof(extra), "max_store_size: %lld\n",
	    (long long)st.st_size - 1);
	tu_env_reconfig(&E, extra);
	assert_unsafe("store one byte over");
}

Test(store_safe, directory_instead_of_file)
{
	cr_assert_eq(mkdir(E.store, 0700), 0);
	assert_unsafe("store is a directory");
}

Test(store_safe, fifo_refused_without_blocking)
{
	tl_watchdog(10);
	cr_assert_eq(mkfifo(E.store, 0600), 0);
	assert_unsafe("store is a FIFO");
}

Test(store_safe, fds_cloexec_and_not_leaked)
{
	struct apitoken_store *s;
	int fd1, fd2;

	tu_store_build_ids(E.cfg, 1, 1, 2);
	fd1 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(fd1);
	s = open_ok();
	(void)tu_assert_cloexec_under(E.dir);
	assert_found_n(s, 1);
	apitoken_store_close(s);
	apitoken_store_close(NULL);
	fd2 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(fd1, fd2, "store_close leaked a descriptor");
	close(fd2);
}

/* ------------------------------------------- ancestors (issue 14 item 3) */

/*
 * Store, state_dir and config below E.dir/a/b: every directory from "/"
 * is checked, and a violation names the component.  E.cfg is replaced by
 * the config there (loaded once, before a is broken).
 */
static char anc[TU_PATHLEN];

static void
ancestors_setup(void)
{
	char b[TU_PATHLEN + 8], conf[TU_PATHLEN + 32], text[3 * TU_PATHLEN];

	snprintf(anc, sizeof(anc), "%s/a", E.dir);
	snprintf(b, sizeof(b), "%s/b", anc);
	cr_assert_eq(mkdir(anc, 0755), 0);
	cr_assert_eq(mkdir(b, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/apitoken.yaml", b);
	snprintf(text, sizeof(text), "store: %s/tokens\nstate_dir: %s\n", b,
	    E.state);
	tl_write_file(conf, text, strlen(text), 0600);
	apitoken_config_free(E.cfg);
	E.cfg = NULL;
	cr_assert_eq(apitoken_config_load(conf, &E.cfg, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	tu_store_build_ids(E.cfg, 1, 1, 2);
	cr_assert_eq(open_rc(), 0, "%s", E.err);
	cr_assert_lt(strlen(conf), sizeof(E.conf));
	memcpy(E.conf, conf, strlen(conf) + 1);
}

/* Store, writer and config all refused, err naming a with what. */
static void
ancestor_refused(const char *what)
{
	struct apitoken_config *cfg = NULL;
	char want[TU_PATHLEN + 64];

	snprintf(want, sizeof(want), "%s: %s", anc, what);
	cr_assert_eq(open_rc(), APITOKEN_ERR_STORE_UNSAFE, "%s", E.err);
	cr_assert_not_null(strstr(E.err, want), "%s", E.err);
	cr_assert_eq(txn_rc(0), APITOKEN_ERR_STORE_UNSAFE, "%s", E.err);
	cr_assert_not_null(strstr(E.err, want), "%s", E.err);
	cr_assert_eq(apitoken_config_load(E.conf, &cfg, E.err,
	    sizeof(E.err)), APITOKEN_ERR_CONFIG, "config loaded");
	cr_assert_not_null(strstr(E.err, want), "%s", E.err);
}

Test(store_safe, ancestor_group_writable)
{
	ancestors_setup();
	cr_assert_eq(chmod(anc, 0775), 0);
	ancestor_refused("writable by group");
}

Test(store_safe, ancestor_is_a_symlink)
{
	char real[TU_PATHLEN + 8];

	ancestors_setup();
	snprintf(real, sizeof(real), "%s.real", anc);
	cr_assert_eq(rename(anc, real), 0);
	cr_assert_eq(symlink(real, anc), 0);
	ancestor_refused("directory is a symbolic link");
}

Test(store_safe, ancestor_owned_by_other_user)
{
	need_root();
	ancestors_setup();
	cr_assert_eq(chown(anc, 65534, 65534), 0);
	ancestor_refused("owned by uid 65534");
}

/* A root-owned sticky directory (as /tmp) is a safe ancestor: nobody
 * else can rename what is not theirs there.  Not as the store's own. */
Test(store_safe, sticky_root_ancestor_accepted)
{
	need_root();
	ancestors_setup();
	cr_assert_eq(chmod(anc, 01777), 0);
	cr_assert_eq(open_rc(), 0, "%s", E.err);
	cr_assert_eq(chown(anc, 65534, 0), 0);
	ancestor_refused("owned by uid 65534");
}

/* state_dir is walked the same way (last-use records). */
Test(store_safe, state_dir_ancestor_checked)
{
	struct apitoken_lastuse lu;
	char sd[TU_PATHLEN + 16], text[3 * TU_PATHLEN];

	snprintf(anc, sizeof(anc), "%s/s", E.dir);
	snprintf(sd, sizeof(sd), "%s/state", anc);
	cr_assert_eq(mkdir(anc, 0755), 0);
	cr_assert_eq(mkdir(sd, 0700), 0);
	snprintf(text, sizeof(text), "store: %s\nstate_dir: %s\n", E.store,
	    sd);
	tl_write_file(E.conf, text, strlen(text), 0600);
	apitoken_config_free(E.cfg);
	E.cfg = NULL;
	cr_assert_eq(apitoken_config_load(E.conf, &E.cfg, E.err,
	    sizeof(E.err)), 0, "%s", E.err);
	cr_assert_eq(chmod(anc, 0775), 0);
	memset(&lu, 0, sizeof(lu));
	cr_assert_eq(apitoken_lastuse_get(E.cfg, "M00000000001", &lu, E.err,
	    sizeof(E.err)), APITOKEN_ERR_STORE_UNSAFE, "%s", E.err);
	cr_assert_not_null(strstr(E.err, anc), "%s", E.err);
}
