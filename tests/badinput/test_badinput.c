/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_badinput.c - bad input fails closed, with a clear message, and
 * loses nothing (issue 5, "Bad input").
 *
 * One table, one Criterion test per row.  Every row starts from the same
 * fixture: a config, and a store of five records with fixed ids
 * AAAAAAAAAAA1..5 and equal-length lines, whose third (AAAAAAAAAAA3) is
 * the known-good token G.  The row's setup breaks one thing (store file,
 * its directory, the config) or prepares a bad input; then its action
 * runs and must give the documented outcome:
 *
 *   CTL     tokenctl -c CONF ARGS...: exit status and a stderr substring
 *           (statuses from tokenctl(8), EXIT STATUS: 1 rejected, 2 usage,
 *           3 config, 4 store);
 *   VERIFY  apitoken_verify_once() with the row's input, run in a child
 *           process: the reason, the library error code for store
 *           errors, and a substring of the detail (store errors) or of
 *           apitoken_format_str() (malformed input).
 *
 * Then, for every row:
 *   - nothing authenticates: with a broken store or config the good token
 *     G is not accepted (library, and `tokenctl verify` when the config
 *     does not load); with bad input the input was not accepted, and G
 *     still is (a live control: the store is intact);
 *   - nothing changed: the store's bytes (or its absence) and the names in
 *     its directory are the same before and after the action;
 *   - rows marked with rss_mb: the action's peak RSS stays below it, so a
 *     100 MB store is refused without being read into memory.
 *
 * Decisions: a 100 MB store of junk with the default max_store_size (1G)
 * is refused as corrupt ("not a token store" / "not a record"), without
 * reading it all; with max_store_size: 50M the same file is refused as
 * too large.  "Config unreadable" cannot be made with chmod 000 when the
 * tests run as root (root reads it anyway), so the rows use a directory
 * as the config path, and files that break the owner/mode rule.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "stress/sx.h"

#define NREC 5
#define GOOD 2			/* index of G among the five records */
#define BIG ((off_t)100 << 20)	/* the 100 MB store */
#define NOBODY 65534

struct bctx {
	struct sx_env e;
	char conf[SX_PATHLEN + 32];	/* the config the action uses */
	char ids[NREC][APITOKEN_ID_LEN + 1];
	char tok[SX_TOKBUF];		/* G */
	char input[1024];		/* VERIFY input (may hold NULs) */
	size_t inlen;
};

enum act { CTL, VERIFY };

struct bcase {
	const char *name;
	const char *yaml;		/* extra config lines */
	void (*setup)(struct bctx *);
	enum act act;
	const char *args[10];		/* CTL; "@G" = G's id */
	int want;			/* exit status, or the reason */
	int want_err;			/* VERIFY store-error: error code */
	const char *msg;		/* substring of stderr / detail */
	int good_ok;			/* G still accepted afterwards? */
	int rss_mb;			/* peak RSS cap of the action, or 0 */
};

/* ------------------------------------------------ token construction */

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void
secret_for(int k, char secret[APITOKEN_SECRET_LEN + 1])
{
	int i;

	for (i = 0; i < APITOKEN_SECRET_LEN; i++)
		secret[i] = b62[(i * 7 + k * 13 + 5) % 62];
	secret[APITOKEN_SECRET_LEN] = '\0';
}

/* ------------------------------------------------------------ fixture */

static void
insert(struct bctx *c, int k)
{
	struct apitoken_token t;
	struct apitoken_record *r = apitoken_record_new();
	struct apitoken_txn *x = NULL;
	char label[16], hash[APITOKEN_HASH_MAX], err[SX_ERRLEN] = "";

	cr_assert_not_null(r);
	snprintf(c->ids[k], sizeof(c->ids[k]), "AAAAAAAAAAA%d", k + 1);
	memset(&t, 0, sizeof(t));
	memcpy(t.id, c->ids[k], sizeof(t.id));
	secret_for(k, t.secret);
	cr_assert_eq(apitoken_hash(&t, hash), 0);
	memcpy(r->id, t.id, sizeof(r->id));
	snprintf(label, sizeof(label), "label-%d", k + 1);
	cr_assert_eq(apitoken_record_set(&r->user, "root"), 0);
	cr_assert_eq(apitoken_record_set(&r->hash, hash), 0);
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->created_by, "badinput"), 0);
	r->created = r->updated = 1767225600;	/* 2026-01-01: equal lines */
	cr_assert_eq(apitoken_txn_begin(c->e.cfg, APITOKEN_TXN_CREATE, &x,
	    err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(apitoken_txn_insert(x, r, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(apitoken_txn_commit(x, err, sizeof(err)), 0, "%s", err);
	apitoken_txn_free(x);
	apitoken_record_free(r);
	if (k == GOOD)
		tl_token_build("apitok", t.id, t.secret, c->tok, sizeof(c->tok));
	apitoken_token_clear(&t);
}

static void
fixture(struct bctx *c, const char *yaml)
{
	struct apitoken_token t;
	int k;

	memset(c, 0, sizeof(*c));
	sx_setup(&c->e, yaml);
	snprintf(c->conf, sizeof(c->conf), "%s", c->e.conf);
	for (k = 0; k < NREC; k++)
		insert(c, k);
	/* our independent token builder agrees with the library */
	cr_assert_eq(apitoken_token_parse("apitok", c->tok, strlen(c->tok),
	    &t), APITOKEN_FMT_OK, "fixture token %s", c->tok);
	apitoken_token_clear(&t);
	memcpy(c->input, c->tok, strlen(c->tok));
	c->inlen = strlen(c->tok);
}

/* ------------------------------------------------ store manipulation */

static char *
store_read(struct bctx *c, size_t *len)
{
	char *s = tl_read_file(c->e.store, len);

	cr_assert_not_null(s, "read %s: %s", c->e.store, strerror(errno));
	return s;
}

/* Start and length of record line k (0-based, after the header). */
static const char *
line_of(const char *s, int k, size_t *len)
{
	const char *p = strchr(s, '\n') + 1, *nl;

	while (k-- > 0)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	*len = (size_t)(nl - p) + 1;
	return p;
}

/* Rewrite the store with the record lines in the given order (indexes of
 * the original lines; -1 ends the list) and line k replaced by repl. */
static void
store_rewrite(struct bctx *c, const int *order, int k, const char *repl,
    size_t repl_len)
{
	size_t len, n, ll;
	char *s = store_read(c, &len), *out = malloc(len + repl_len + 4096);
	const char *l;
	int i;

	cr_assert_not_null(out);
	l = strchr(s, '\n') + 1;
	n = (size_t)(l - s);
	memcpy(out, s, n);
	for (i = 0; order[i] >= 0; i++) {
		l = line_of(s, order[i], &ll);
		if (order[i] == k) {
			l = repl;
			ll = repl_len;
		}
		memcpy(out + n, l, ll);
		n += ll;
	}
	memcpy(out + n, "#end\n", 5);
	tl_write_file(c->e.store, out, n + 5, 0600);
	free(out);
	free(s);
}

static const int in_order[] = { 0, 1, 2, 3, 4, -1 };

/* Replace G's line by f(G's line). */
static void
edit_good(struct bctx *c, void (*f)(char *line, size_t *len))
{
	char line[4096];
	size_t len, ll;
	char *s = store_read(c, &len);
	const char *l = line_of(s, GOOD, &ll);

	cr_assert_lt(ll + 64, sizeof(line));
	memcpy(line, l, ll);
	f(line, &ll);
	store_rewrite(c, in_order, GOOD, line, ll);
	free(s);
}

static void
f_extra_field(char *l, size_t *n)
{
	/* two more: a 17th column (hosts) may follow the first 16 */
	memcpy(l + *n - 1, "\textra\tmore\n", 12);
	*n += 11;
}

static void
f_drop_field(char *l, size_t *n)
{
	char *tab = memrchr(l, '\t', *n);

	*tab = '\n';
	*n = (size_t)(tab - l) + 1;
}

/* the label "label-3" becomes "lab\qel-3" (no such escape) */
static void
f_bad_escape(char *l, size_t *n)
{
	char *p = memmem(l, *n, "label-3", 7);

	memmove(p + 5, p + 3, (size_t)(l + *n - (p + 3)));
	memcpy(p + 3, "\\q", 2);
	*n += 2;
}

static void
f_nul(char *l, size_t *n)
{
	char *p = memmem(l, *n, "label-3", 7);

	p[2] = '\0';
}

static void
s_missing(struct bctx *c)
{
	cr_assert_eq(unlink(c->e.store), 0);
}

static void
s_empty(struct bctx *c)
{
	cr_assert_eq(truncate(c->e.store, 0), 0);
}

/* cut in the middle of G's record line: no "#end", no final newline */
static void
s_truncated(struct bctx *c)
{
	size_t len, ll;
	char *s = store_read(c, &len);
	const char *l = line_of(s, GOOD, &ll);

	tl_write_file(c->e.store, s, (size_t)(l - s) + ll / 2, 0600);
	free(s);
}

static void s_extra_field(struct bctx *c) { edit_good(c, f_extra_field); }
static void s_drop_field(struct bctx *c) { edit_good(c, f_drop_field); }
static void s_bad_escape(struct bctx *c) { edit_good(c, f_bad_escape); }
static void s_nul(struct bctx *c) { edit_good(c, f_nul); }

static void
s_duplicate(struct bctx *c)
{
	static const int order[] = { 0, 1, 2, 2, 3, 4, -1 };

	store_rewrite(c, order, -1, NULL, 0);
}

/* 1 5 4 3 2: the search for 3 probes 4, then 5, which is out of order */
static void
s_unsorted(struct bctx *c)
{
	static const int order[] = { 0, 4, 3, 2, 1, -1 };

	store_rewrite(c, order, -1, NULL, 0);
}

static void
s_version(struct bctx *c)
{
	size_t len;
	char *s = store_read(c, &len), *v = strstr(s, "\tv1\t");

	v[2] = '2';
	tl_write_file(c->e.store, s, len, 0600);
	free(s);
}

/* A 100 MB file (sparse) with head at the start and tail at the end. */
static void
big_file(struct bctx *c, const char *head, const char *tail)
{
	int fd = open(c->e.store, O_WRONLY | O_TRUNC | O_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	cr_assert_eq(pwrite(fd, tail, strlen(tail), BIG - (off_t)strlen(tail)),
	    (ssize_t)strlen(tail));
	cr_assert_eq(close(fd), 0);
}

/* junk: NUL bytes from start to end (a zeroed disk block, a bad copy) */
static void
s_big_nul(struct bctx *c)
{
	cr_assert_eq(truncate(c->e.store, 0), 0);
	cr_assert_eq(truncate(c->e.store, BIG), 0);
}

/* junk text lines, then NULs */
static void
s_big_text(struct bctx *c)
{
	big_file(c, "<html><body>this is not a token store\n", "</html>\n");
}

/* the real header and trailer around one 100 MB junk "record" */
static void
s_big_line(struct bctx *c)
{
	char hdr[512];

	snprintf(hdr, sizeof(hdr), "%s\n", apitoken_store_header());
	big_file(c, hdr, "\n#end\n");
}

static void
s_symlink(struct bctx *c)
{
	char real[SX_PATHLEN + 8];

	snprintf(real, sizeof(real), "%s.real", c->e.store);
	cr_assert_eq(rename(c->e.store, real), 0);
	cr_assert_eq(symlink(real, c->e.store), 0);
}

/* a second name for the store (issue 14 item 12) */
static void
s_hardlink(struct bctx *c)
{
	char other[SX_PATHLEN + 8];

	snprintf(other, sizeof(other), "%s/tokens.copy", c->e.dir);
	cr_assert_eq(link(c->e.store, other), 0, "link: %s", strerror(errno));
}

/* the directory above the store's (and the config's) (issue 14 item 3) */
static void s_ancestor_g(struct bctx *c) { cr_assert_eq(chmod(c->e.dir, 0771), 0); }

static void s_store_g(struct bctx *c) { cr_assert_eq(chmod(c->e.store, 0620), 0); }
static void s_store_o(struct bctx *c) { cr_assert_eq(chmod(c->e.store, 0602), 0); }
static void s_dir_g(struct bctx *c) { cr_assert_eq(chmod(c->e.dbdir, 0770), 0); }
static void s_dir_o(struct bctx *c) { cr_assert_eq(chmod(c->e.dbdir, 0707), 0); }

/* chown to another user needs root; elsewhere the row is skipped */
static void
need_root(struct bctx *c)
{
	if (geteuid() == 0)
		return;
	sx_teardown(&c->e);
	TL_SKIP("needs root to chown a file to nobody");
}

static void
s_store_nobody(struct bctx *c)
{
	need_root(c);
	cr_assert_eq(chown(c->e.store, NOBODY, NOBODY), 0, "chown: %s",
	    strerror(errno));
}

static void
s_dir_nobody(struct bctx *c)
{
	need_root(c);
	cr_assert_eq(chown(c->e.dbdir, NOBODY, NOBODY), 0, "chown: %s",
	    strerror(errno));
}

/* ------------------------------------------------------ config cases */

static void
s_conf_missing(struct bctx *c)
{
	snprintf(c->conf, sizeof(c->conf), "%s/no-such.yaml", c->e.dir);
}

static void
s_conf_dir(struct bctx *c)
{
	snprintf(c->conf, sizeof(c->conf), "%s", c->e.state);
}

static void
s_conf_g(struct bctx *c)
{
	cr_assert_eq(chmod(c->conf, 0660), 0);
}

static void
s_conf_nobody(struct bctx *c)
{
	need_root(c);
	cr_assert_eq(chown(c->conf, NOBODY, NOBODY), 0);
}

static void
s_conf_symlink(struct bctx *c)
{
	char real[SX_PATHLEN + 8];

	snprintf(real, sizeof(real), "%s.real", c->e.conf);
	cr_assert_eq(rename(c->e.conf, real), 0);
	cr_assert_eq(symlink(real, c->e.conf), 0);
}

/* Append text to the config (after the valid store/state_dir lines). */
static void
conf_append(struct bctx *c, const char *text)
{
	size_t len;
	char *s = tl_read_file(c->e.conf, &len), *t;

	cr_assert_not_null(s);
	t = malloc(len + strlen(text) + 1);
	cr_assert_not_null(t);
	memcpy(t, s, len);
	memcpy(t + len, text, strlen(text) + 1);
	tl_write_file(c->e.conf, t, strlen(t), 0600);
	free(s);
	free(t);
}

static void s_yaml(struct bctx *c) { conf_append(c, "token_prefix: [apitok\n"); }
static void s_unknown_key(struct bctx *c) { conf_append(c, "stor: /tmp/x\n"); }
static void s_wrong_type(struct bctx *c) { conf_append(c, "max_lifetime:\n  - 1y\n"); }
static void s_bad_duration(struct bctx *c) { conf_append(c, "lock_timeout: 5 minutes\n"); }
static void s_bad_size(struct bctx *c) { conf_append(c, "max_store_size: lots\n"); }

/* the config names a relative store: written whole, not appended */
static void
s_relative(struct bctx *c)
{
	char text[SX_PATHLEN + 64];

	snprintf(text, sizeof(text), "store: db/tokens\nstate_dir: %s\n",
	    c->e.state);
	tl_write_file(c->e.conf, text, strlen(text), 0600);
}

/* ------------------------------------------------------- token inputs */

static void
set_input(struct bctx *c, const char *p, size_t n)
{
	cr_assert_lt(n, sizeof(c->input));
	memcpy(c->input, p, n);
	c->inlen = n;
}

static void
t_long(struct bctx *c)
{
	char buf[600];

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, c->tok, strlen(c->tok));	/* G, then 543 more bytes */
	set_input(c, buf, sizeof(buf));
}

static void
t_nul(struct bctx *c)
{
	char buf[SX_TOKBUF + 1];
	size_t n = strlen(c->tok);

	memcpy(buf, c->tok, 20);
	buf[20] = '\0';
	memcpy(buf + 21, c->tok + 20, n - 20);
	set_input(c, buf, n + 1);
}

static void
t_nul_end(struct bctx *c)
{
	char buf[SX_TOKBUF + 1];
	size_t n = strlen(c->tok);

	memcpy(buf, c->tok, n);
	buf[n] = '\0';
	set_input(c, buf, n + 1);	/* a C string would hide it */
}

static void
t_non_ascii(struct bctx *c)
{
	char buf[SX_TOKBUF + 4];
	size_t n = strlen(c->tok);

	memcpy(buf, c->tok, n);
	memcpy(buf + 25, "\xc3\xa9", 2);	/* é inside the secret */
	set_input(c, buf, n + 1);
}

static void
t_prefix(struct bctx *c)
{
	char buf[SX_TOKBUF + 16], secret[APITOKEN_SECRET_LEN + 1];

	secret_for(GOOD, secret);
	tl_token_build("other", c->ids[GOOD], secret, buf, sizeof(buf));  /* CRC is right */
	set_input(c, buf, strlen(buf));
}

static void
t_checksum(struct bctx *c)
{
	char buf[SX_TOKBUF];
	size_t n = strlen(c->tok);

	memcpy(buf, c->tok, n);
	buf[30] = buf[30] == 'x' ? 'y' : 'x';	/* a typo in the secret */
	set_input(c, buf, n);
}

static void
t_unknown(struct bctx *c)
{
	char buf[SX_TOKBUF + 16], secret[APITOKEN_SECRET_LEN + 1];

	secret_for(GOOD, secret);
	tl_token_build("apitok", "AAAAAAAAAAA9", secret, buf, sizeof(buf));
	set_input(c, buf, strlen(buf));
}

static void
t_wrong_secret(struct bctx *c)
{
	char buf[SX_TOKBUF + 16], secret[APITOKEN_SECRET_LEN + 1];

	secret_for(GOOD + 1, secret);
	tl_token_build("apitok", c->ids[GOOD], secret, buf, sizeof(buf));
	set_input(c, buf, strlen(buf));
}

static void
t_empty(struct bctx *c)
{
	set_input(c, "", 0);
}

static void
t_dummy(struct bctx *c)
{
	set_input(c, "\b\n\r\177INCORRECT", 13);	/* sshd's dummy */
}

/* --------------------------------------------------------- the table */

#define STORE_BAD(e) .want = APITOKEN_R_STORE_ERROR, .want_err = (e)

static const struct bcase cases[] = {
	/* the store file */
	{ "store missing", NULL, s_missing, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_MISSING), "does not exist", 0, 0 },
	{ "store missing (tokenctl list)", NULL, s_missing, CTL, { "list" },
	    4, 0, "tokenctl init", 0, 0 },
	{ "store empty", NULL, s_empty, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "empty file", 0, 0 },
	{ "store truncated mid-record", NULL, s_truncated, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "truncated", 0, 0 },
	{ "store truncated mid-record (tokenctl issue)", NULL, s_truncated,
	    CTL, { "issue", "root", "--label", "new" }, 4, 0, "truncated",
	    0, 0 },
	{ "record with too many fields", NULL, s_extra_field, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "more than 17 fields", 0,
	    0 },
	{ "record with too few fields", NULL, s_drop_field, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT),
	    "15 fields, expected 16 to 17", 0, 0 },
	{ "record with too few fields (tokenctl list)", NULL, s_drop_field,
	    CTL, { "list" }, 4, 0, ":4: 15 fields", 0, 0 },
	{ "record with a bad escape", NULL, s_bad_escape, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "escape", 0, 0 },
	{ "duplicate ids", NULL, s_duplicate, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "duplicated", 0, 0 },
	{ "duplicate ids (tokenctl revoke)", NULL, s_duplicate, CTL,
	    { "revoke", "@G" }, 4, 0, "out of order or duplicated", 0, 0 },
	{ "unsorted records", NULL, s_unsorted, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "not sorted", 0, 0 },
	{ "unsorted records (tokenctl list)", NULL, s_unsorted, CTL,
	    { "list" }, 4, 0, "out of order", 0, 0 },
	{ "unknown format version", NULL, s_version, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_VERSION),
	    "unknown store format version", 0, 0 },
	{ "NUL byte in a record", NULL, s_nul, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "raw control byte 0x00", 0,
	    0 },
	{ "100 MB of NUL bytes", NULL, s_big_nul, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "not a token store", 0, 40 },
	{ "100 MB of NUL bytes (tokenctl list)", NULL, s_big_nul, CTL,
	    { "list" }, 4, 0, "not a token store", 0, 40 },
	{ "100 MB of junk text", NULL, s_big_text, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "not a token store", 0, 40 },
	{ "100 MB record line between header and #end", NULL, s_big_line,
	    VERIFY, {0}, STORE_BAD(APITOKEN_ERR_STORE_FORMAT), "not a record",
	    0, 40 },
	{ "100 MB store, max_store_size 50M", "max_store_size: 50M\n",
	    s_big_nul, VERIFY, {0}, STORE_BAD(APITOKEN_ERR_STORE_UNSAFE),
	    "larger than max_store_size", 0, 40 },
	{ "100 MB store, max_store_size 50M (tokenctl issue)",
	    "max_store_size: 50M\n", s_big_text, CTL,
	    { "issue", "root", "--label", "new" }, 4, 0,
	    "larger than max_store_size", 0, 40 },
	{ "store is a symlink", NULL, s_symlink, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "symbolic link", 0, 0 },
	{ "store is a symlink (tokenctl edit)", NULL, s_symlink, CTL,
	    { "edit", "@G", "--label", "x" }, 4, 0, "symbolic link", 0, 0 },
	{ "store with a second hard link", NULL, s_hardlink, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "has 2 hard links", 0, 0 },
	{ "store with a second hard link (tokenctl issue)", NULL, s_hardlink,
	    CTL, { "issue", "root", "--label", "new" }, 4, 0,
	    "has 2 hard links", 0, 0 },
	{ "store's parent directory group-writable", NULL, s_ancestor_g,
	    VERIFY, {0}, STORE_BAD(APITOKEN_ERR_STORE_UNSAFE),
	    "writable by group (mode 0771)", 0, 0 },
	{ "config's directory group-writable (tokenctl list)", NULL,
	    s_ancestor_g, CTL, { "list" }, 3, 0,
	    "writable by group (mode 0771)", 0, 0 },
	{ "store group-writable", NULL, s_store_g, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "writable by group", 0, 0 },
	{ "store world-writable", NULL, s_store_o, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "writable by others", 0, 0 },
	{ "store directory group-writable", NULL, s_dir_g, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "db: writable by group", 0,
	    0 },
	{ "store directory world-writable (tokenctl issue)", NULL, s_dir_o,
	    CTL, { "issue", "root", "--label", "new" }, 4, 0,
	    "db: writable by others", 0, 0 },
	{ "store owned by nobody", NULL, s_store_nobody, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "owned by uid 65534", 0, 0 },
	{ "store directory owned by nobody", NULL, s_dir_nobody, VERIFY, {0},
	    STORE_BAD(APITOKEN_ERR_STORE_UNSAFE), "owned by uid 65534", 0, 0 },

	/* the config */
	{ "config missing", NULL, s_conf_missing, CTL, { "list" }, 3, 0,
	    "no-such.yaml: No such file or directory", 0, 0 },
	{ "config unreadable (a directory)", NULL, s_conf_dir, CTL,
	    { "list" }, 3, 0, "not a regular file", 0, 0 },
	{ "config group-writable", NULL, s_conf_g, CTL, { "list" }, 3, 0,
	    "writable by group", 0, 0 },
	{ "config owned by nobody", NULL, s_conf_nobody, CTL, { "list" }, 3, 0,
	    "owned by uid 65534", 0, 0 },
	{ "config is a symlink", NULL, s_conf_symlink, CTL, { "list" }, 3, 0,
	    "symbolic link", 0, 0 },
	{ "config invalid YAML", NULL, s_yaml, CTL, { "list" }, 3, 0,
	    "invalid YAML", 0, 0 },
	{ "config unknown key", NULL, s_unknown_key, CTL, { "list" }, 3, 0,
	    ":3:1: key \"stor\": unknown key", 0, 0 },
	{ "config wrong type", NULL, s_wrong_type, CTL, { "list" }, 3, 0,
	    "key \"max_lifetime\": wrong type", 0, 0 },
	{ "config bad duration", NULL, s_bad_duration, CTL, { "list" }, 3, 0,
	    ":3:15: key \"lock_timeout\": must be a duration", 0, 0 },
	{ "config bad size", NULL, s_bad_size, CTL, { "list" }, 3, 0,
	    "key \"max_store_size\": must be a size", 0, 0 },
	{ "config store path relative", NULL, s_relative, CTL, { "list" }, 3,
	    0, "key \"store\": must be an absolute path", 0, 0 },

	/* what is typed at the prompt */
	{ "token over-long", NULL, t_long, VERIFY, {0}, APITOKEN_R_MALFORMED,
	    0, "too long", 1, 0 },
	{ "token with a NUL", NULL, t_nul, VERIFY, {0}, APITOKEN_R_MALFORMED,
	    0, "character outside", 1, 0 },
	{ "token with a trailing NUL", NULL, t_nul_end, VERIFY, {0},
	    APITOKEN_R_MALFORMED, 0, "character outside", 1, 0 },
	{ "token with non-ASCII", NULL, t_non_ascii, VERIFY, {0},
	    APITOKEN_R_MALFORMED, 0, "character outside", 1, 0 },
	{ "token with a wrong prefix", NULL, t_prefix, VERIFY, {0},
	    APITOKEN_R_MALFORMED, 0, "wrong prefix", 1, 0 },
	{ "token with a bad checksum", NULL, t_checksum, VERIFY, {0},
	    APITOKEN_R_BAD_CHECKSUM, 0, "checksum mismatch", 1, 0 },
	{ "token with a valid checksum, unknown id", NULL, t_unknown, VERIFY,
	    {0}, APITOKEN_R_UNKNOWN, 0, "well-formed", 1, 0 },
	{ "token with a valid checksum, wrong secret", NULL, t_wrong_secret,
	    VERIFY, {0}, APITOKEN_R_WRONG_SECRET, 0, "well-formed", 1, 0 },
	{ "empty input", NULL, t_empty, VERIFY, {0}, APITOKEN_R_MALFORMED, 0,
	    "empty", 1, 0 },
	{ "sshd's dummy password", NULL, t_dummy, VERIFY, {0},
	    APITOKEN_R_MALFORMED, 0, "character outside", 1, 0 },
	{ "over-long token (tokenctl verify)", NULL, NULL, CTL,
	    { "verify", "--user", "root", "@LONG" }, 1, 0,
	    "rejected: malformed", 1, 0 },

	/* metadata given to tokenctl */
	{ "label with a newline", NULL, NULL, CTL,
	    { "issue", "root", "--label", "two\nlines" }, 2, 0,
	    "invalid --label", 1, 0 },
	{ "label with a control character", NULL, NULL, CTL,
	    { "issue", "root", "--label", "bell\a" }, 2, 0, "invalid --label",
	    1, 0 },
	{ "label with an escape sequence", NULL, NULL, CTL,
	    { "issue", "root", "--label", "\x1b[31mred" }, 2, 0,
	    "invalid --label", 1, 0 },
	{ "label with a tab (edit)", NULL, NULL, CTL,
	    { "edit", "@G", "--label", "a\tb" }, 2, 0, "invalid --label", 1,
	    0 },
	{ "label with a C1 control (CSI, U+009B)", NULL, NULL, CTL,
	    { "issue", "root", "--label", "\xc2\x9b" "31mred" }, 2, 0,
	    "invalid --label", 1, 0 },
	{ "label with a bidi override (U+202E)", NULL, NULL, CTL,
	    { "issue", "root", "--label", "txt.\xe2\x80\xae" "exe" }, 2, 0,
	    "invalid --label", 1, 0 },
	{ "description with a bidi isolate (U+2066, edit)", NULL, NULL, CTL,
	    { "edit", "@G", "--description", "a\xe2\x81\xa6" "b" }, 2, 0,
	    "invalid --description", 1, 0 },
	{ "external id with a C1 control (U+0085)", NULL, NULL, CTL,
	    { "issue", "root", "--label", "x", "--external-id",
	    "a\xc2\x85" "b" }, 2, 0, "invalid --external-id", 1, 0 },
	{ "label not UTF-8", NULL, NULL, CTL,
	    { "issue", "root", "--label", "caf\xe9" }, 2, 0, "invalid --label",
	    1, 0 },
	{ "invalid CIDR prefix length", NULL, NULL, CTL,
	    { "issue", "root", "--label", "x", "--from", "10.0.0.0/33" }, 2,
	    0, "invalid --from '10.0.0.0/33'", 1, 0 },
	{ "invalid CIDR address (edit)", NULL, NULL, CTL,
	    { "edit", "@G", "--from", "10.0.0.256/8" }, 2, 0,
	    "invalid --from", 1, 0 },
	{ "CIDR with host bits set (issue 14 item 20)", NULL, NULL, CTL,
	    { "issue", "root", "--label", "x", "--from", "10.20.1.2/0" }, 2,
	    0, "the network is 0.0.0.0/0", 1, 0 },
	{ "CIDR with host bits set (edit)", NULL, NULL, CTL,
	    { "edit", "@G", "--from", "2001:db8::1/32" }, 2, 0,
	    "the network is 2001:db8::/32", 1, 0 },
	{ "expiry in the past", NULL, NULL, CTL,
	    { "issue", "root", "--label", "x", "--expires", "2020-01-01" }, 1,
	    0, "in the past", 1, 0 },
	{ "expiry beyond max_lifetime", "max_lifetime: 30d\n"
	    "default_lifetime: 7d\n", NULL, CTL,
	    { "issue", "root", "--label", "x", "--expires", "31d" }, 1, 0,
	    "beyond max_lifetime", 1, 0 },
	{ "expiry never with max_lifetime (edit)", NULL, NULL, CTL,
	    { "edit", "@G", "--expires", "never" }, 1, 0, "max_lifetime", 1,
	    0 },
	{ "expiry unparsable", NULL, NULL, CTL,
	    { "issue", "root", "--label", "x", "--expires", "tomorrow" }, 2, 0,
	    "invalid --expires", 1, 0 },
	{ "user that does not exist", NULL, NULL, CTL,
	    { "issue", "no-such-user-x", "--label", "x" }, 1, 0,
	    "no such user", 1, 0 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ------------------------------------------------------------ actions */

/* Run the library verify in a child: reason, error, detail, peak RSS. */
static enum apitoken_reason
verify_child(const struct bctx *c, const struct apitoken_config *cfg,
    const char *in, size_t n, struct apitoken_result *res, long *rss_kb)
{
	struct apitoken_request req = { .user = "root", .service = "sshd" };
	struct rusage ru;
	int fd[2], st;
	pid_t pid;

	(void)c;
	memset(res, 0, sizeof(*res));
	cr_assert_eq(pipe(fd), 0);
	if ((pid = tl_fork()) == 0) {
		close(fd[0]);
		if (apitoken_verify_once(cfg, in, n, &req, res) ==
		    APITOKEN_ACCEPTED)
			res->reason = APITOKEN_ACCEPTED;	/* (reported) */
		_exit(write(fd[1], res, sizeof(*res)) == sizeof(*res) ? 0 : 1);
	}
	close(fd[1]);
	cr_assert_eq(read(fd[0], res, sizeof(*res)), (ssize_t)sizeof(*res),
	    "verify child died");
	close(fd[0]);
	cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
	*rss_kb = ru.ru_maxrss;
	return res->reason;
}

static void
act_verify(struct bctx *c, const struct bcase *k)
{
	struct apitoken_result res;
	const char *text;
	long rss = 0;

	verify_child(c, c->e.cfg, c->input, c->inlen, &res, &rss);
	cr_expect_eq(res.reason, (enum apitoken_reason)k->want,
	    "[%s] reason %s, expected %s (error %d, detail \"%s\")",
	    k->name, apitoken_reason_str(res.reason),
	    apitoken_reason_str((enum apitoken_reason)k->want), res.error,
	    res.detail);
	cr_assert_neq(res.reason, APITOKEN_ACCEPTED, "[%s] bad input accepted", k->name);
	if (k->want == APITOKEN_R_STORE_ERROR) {
		cr_expect_eq(res.error, k->want_err, "[%s] error %d (%s), "
		    "expected %d", k->name, res.error, apitoken_strerror(res.error), k->want_err);
		text = res.detail;
	} else {
		text = apitoken_format_str(res.format);
	}
	cr_expect(strstr(text, k->msg) != NULL, "[%s] message \"%s\" lacks "
	    "\"%s\"", k->name, text, k->msg);
	if (k->rss_mb > 0)
		cr_expect_lt(rss, k->rss_mb * 1024L, "[%s] verify used %ld KB "
		    "of memory for a %lld-byte store (cap %d MB): it read the "
		    "whole file", k->name, rss, (long long)BIG, k->rss_mb);
}

static void
act_ctl(struct bctx *c, const struct bcase *k)
{
	const char *args[12];
	char longtok[700] = "";
	const char *input = NULL;
	struct tl_proc p;
	int i, n = 0;

	for (i = 0; i < 10 && k->args[i] != NULL; i++) {
		if (strcmp(k->args[i], "@G") == 0) {
			args[n++] = c->ids[GOOD];
		} else if (strcmp(k->args[i], "@LONG") == 0) {
			memset(longtok, 'a', 600);
			memcpy(longtok, c->tok, strlen(c->tok));
			input = longtok;	/* on stdin */
		} else {
			args[n++] = k->args[i];
		}
	}
	args[n] = NULL;
	sx_ctlv(&c->e, c->conf, &p, input, args);
	cr_expect_eq(p.status, k->want, "[%s] tokenctl exit %d, expected "
	    "%d; stderr: %s", k->name, p.status, k->want, p.err);
	cr_expect(strstr(p.err, k->msg) != NULL, "[%s] stderr \"%s\" lacks "
	    "\"%s\"", k->name, p.err, k->msg);
	cr_expect(k->args[0] == NULL || strcmp(k->args[0], "verify") != 0 ||
	    strstr(p.out, c->ids[GOOD]) == NULL, "verify printed the id");
	if (k->rss_mb > 0)
		cr_expect_lt(p.maxrss_kb, k->rss_mb * 1024L, "[%s] tokenctl used "
		    "%ld KB for a %lld-byte store (cap %d MB)", k->name,
		    p.maxrss_kb,
		    (long long)BIG, k->rss_mb);
	tl_proc_free(&p);
}

/* --------------------------------------------------- the after-checks */

struct state {
	int exists;
	off_t size;
	unsigned char digest[32];	/* SHA-256 of the store's bytes */
	char names[2048];		/* the store directory's entries */
};

/* SHA-256 of a file read in chunks: the 100 MB stores must not be
 * pulled into this process (the verify child inherits its memory). */
static int
file_digest(const char *path, unsigned char out[32], off_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	*size = 0;
	cr_assert_not_null(md);
	if (fd < 0) {
		EVP_MD_CTX_free(md);
		return 0;
	}
	cr_assert_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		cr_assert_eq(EVP_DigestUpdate(md, buf, (size_t)n), 1);
		*size += n;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	cr_assert_eq(EVP_DigestFinal_ex(md, out, NULL), 1);
	EVP_MD_CTX_free(md);
	return 1;
}

static void
state_take(const struct bctx *c, struct state *s)
{
	struct dirent *de;
	DIR *d;
	char *names[64];
	int n = 0, i, j;

	memset(s, 0, sizeof(*s));
	s->exists = file_digest(c->e.store, s->digest, &s->size);
	d = opendir(c->e.dbdir);
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL && n < 64)
		names[n++] = strdup(de->d_name);
	closedir(d);
	for (i = 1; i < n; i++)	/* sort for a stable comparison */
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *x = names[j];
			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	for (i = 0; i < n; i++) {
		strncat(s->names, names[i], sizeof(s->names) -
		    strlen(s->names) - 2);
		strcat(s->names, " ");
		free(names[i]);
	}
}

static void
state_same(const struct bcase *k, const struct state *a,
    const struct state *b)
{
	cr_expect_eq(a->exists, b->exists, "[%s] the store was %s", k->name,
	    a->exists ? "removed" : "created");
	cr_expect(a->size == b->size && memcmp(a->digest, b->digest, 32) == 0,
	    "[%s] the store's bytes changed", k->name);
	cr_expect_str_eq(a->names, b->names, "[%s] the store directory "
	    "changed", k->name);
}

/* Nothing authenticates: G with a broken store/config; G still does
 * when only the input was bad. */
static void
check_auth(struct bctx *c, const struct bcase *k)
{
	struct apitoken_config *cfg = NULL;
	struct apitoken_result res;
	char err[SX_ERRLEN] = "";
	struct tl_proc p;
	long rss;
	int r;

	r = apitoken_config_load(c->conf, &cfg, err, sizeof(err));
	if (r != 0) {
		cr_expect_eq(r, APITOKEN_ERR_CONFIG, "config_load: %d", r);
		cr_expect(!k->good_ok, "[%s] the config does not load: %s",
		    k->name, err);
		sx_ctlv(&c->e, c->conf, &p, c->tok,
		    (const char *[]){ "verify", "--user", "root", NULL });
		cr_expect_eq(p.status, 3, "[%s] tokenctl verify with a bad "
		    "config exited %d", k->name, p.status);
		cr_expect(strstr(p.out, c->ids[GOOD]) == NULL);
		tl_proc_free(&p);
		return;
	}
	verify_child(c, cfg, c->tok, strlen(c->tok), &res, &rss);
	if (k->good_ok)
		cr_expect_eq(res.reason, APITOKEN_ACCEPTED, "[%s] control: the "
		    "good token is refused (%s: %s)", k->name,
		    apitoken_reason_str(res.reason),
		    res.detail);
	else
		cr_expect_neq(res.reason, APITOKEN_ACCEPTED, "[%s] the good "
		    "token is accepted from a broken store", k->name);
	apitoken_config_free(cfg);
}

/* ----------------------------------------------------------- the test */

ParameterizedTestParameters(badinput, table)
{
	static size_t idx[NCASES];
	size_t i;

	for (i = 0; i < NCASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NCASES);
}

ParameterizedTest(size_t *i, badinput, table)
{
	const struct bcase *k = &cases[*i];
	struct state before, after;
	struct bctx c;

	tl_watchdog(60);

	cr_log_info("case %zu: %s", *i, k->name);
	fixture(&c, k->yaml);
	if (k->setup != NULL)
		k->setup(&c);
	state_take(&c, &before);
	if (k->act == VERIFY)
		act_verify(&c, k);
	else
		act_ctl(&c, k);
	state_take(&c, &after);
	state_same(k, &before, &after);
	check_auth(&c, k);
	if (k->rss_mb > 0)	/* the 100 MB files: drop them at once */
		(void)unlink(c.e.store);
	sx_teardown(&c.e);
}

Test(badinput, table_size)
{
	cr_expect_geq(NCASES, 30, "the issue asks for at least 30 cases");
}
