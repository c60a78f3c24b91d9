/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helpers.c - shared fixtures of the unit tests.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
load_config(struct tu_env *e)
{
	int r;

	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	e->err[0] = '\0';
	r = apitoken_config_load(e->conf, &e->cfg, e->err, sizeof(e->err));
	cr_assert_eq(r, 0, "config_load(%s) = %d: %s", e->conf, r, e->err);
	cr_assert_not_null(e->cfg);
}

void
tu_env_setup(struct tu_env *e, const char *extra)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/apitoken-unit.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
	snprintf(e->store, sizeof(e->store), "%s/tokens", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/apitoken.yaml", e->dir);
	cr_assert_eq(mkdir(e->state, 0700), 0, "mkdir %s", e->state);
	tl_write_config(e->conf, e->store, e->state, extra, 0600);
	load_config(e);
}

void
tu_env_reconfig(struct tu_env *e, const char *extra)
{
	tl_write_config(e->conf, e->store, e->state, extra, 0600);
	load_config(e);
}

void
tu_env_teardown(struct tu_env *e)
{
	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	if (e->dir[0] != '\0') {
		/* undo chmod/chown games so the tree can be removed */
		if (chown(e->dir, 0, 0) != 0 || chmod(e->dir, 0700) != 0) {
			/* best effort */
		}
		tl_rmrf(e->dir);
	}
	e->dir[0] = '\0';
}

void
tu_id(unsigned n, char id[APITOKEN_ID_LEN + 1])
{
	snprintf(id, APITOKEN_ID_LEN + 1, "M%011u", n);
}

struct apitoken_record *
tu_record(const char *id, const char *user,
    const char *secret)
{
	struct apitoken_record *r;
	char hash[APITOKEN_HASH_MAX], label[64];

	r = apitoken_record_new();
	cr_assert_not_null(r);
	cr_assert_eq(strlen(id), (size_t)APITOKEN_ID_LEN, "bad test id %s", id);
	memcpy(r->id, id, APITOKEN_ID_LEN + 1);
	r->status = APITOKEN_ACTIVE;
	tl_sha256_hash(id, secret ? secret :
	    "0123456789abcdefghijABCDEFGHIJ01", hash);
	cr_assert_eq(apitoken_record_set(&r->user, user), 0);
	cr_assert_eq(apitoken_record_set(&r->hash, hash), 0);
	/* one label per id: labels are unique among a user's live tokens */
	snprintf(label, sizeof(label), "unit test %s", id);
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->created_by, "root"), 0);
	r->created = 1700000000;
	r->updated = 1700000000;
	return r;
}

void
tu_store_build(const struct apitoken_config *cfg,
    struct apitoken_record *const *recs, size_t n)
{
	struct apitoken_txn *txn = NULL;
	char err[TU_ERRLEN] = "";
	size_t i;
	int r;

	r = apitoken_txn_begin(cfg, APITOKEN_TXN_CREATE, &txn, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "txn_begin = %d: %s", r, err);
	for (i = 0; i < n; i++) {
		r = apitoken_txn_insert(txn, recs[i], err, sizeof(err));
		cr_assert_eq(r, 0, "txn_insert(%s) = %d: %s", recs[i]->id, r,
		    err);
	}
	r = apitoken_txn_commit(txn, err, sizeof(err));
	cr_assert_eq(r, 0, "txn_commit = %d: %s", r, err);
	apitoken_txn_free(txn);
}

void
tu_store_build_ids(const struct apitoken_config *cfg, unsigned first,
    unsigned step, size_t n)
{
	struct apitoken_record **recs;
	char id[APITOKEN_ID_LEN + 1];
	size_t i, j;

	recs = calloc(n ? n : 1, sizeof(*recs));
	cr_assert_not_null(recs);
	for (i = 0; i < n; i++) {
		tu_id(first + step * (unsigned)i, id);
		recs[i] = tu_record(id, "alice", NULL);
	}
	/* insert in a scrambled order: the store must sort */
	for (i = n; i > 1; i--) {
		struct apitoken_record *t;

		j = (i * 7919u + 13u) % i;
		t = recs[i - 1];
		recs[i - 1] = recs[j];
		recs[j] = t;
	}
	tu_store_build(cfg, recs, n);
	for (i = 0; i < n; i++)
		apitoken_record_free(recs[i]);
	free(recs);
}

int
tu_field_index(const char *name)
{
	const char *h = apitoken_store_header();
	const char *p = h, *tab;
	size_t len = strlen(name);
	int col = 0;

	for (;;) {
		tab = strchr(p, '\t');
		if ((tab ? (size_t)(tab - p) : strlen(p)) == len &&
		    strncmp(p, name, len) == 0) {
			cr_assert(col >= 2, "field %s in header prefix", name);
			return col - 2;
		}
		if (tab == NULL)
			break;
		p = tab + 1;
		col++;
	}
	cr_assert_fail("field %s not in store header", name);
	return -1;
}

char *
tu_line_set_field(const char *line, int idx, const char *value)
{
	const char *start = line, *end;
	size_t len = strlen(line);
	char *out;
	int i;

	for (i = 0; i < idx; i++) {
		start = strchr(start, '\t');
		cr_assert_not_null(start, "line has no field %d", idx);
		start++;
	}
	end = strchr(start, '\t');
	if (end == NULL)
		end = line + len;
	out = malloc(len + strlen(value) + 1);
	cr_assert_not_null(out);
	memcpy(out, line, (size_t)(start - line));
	strcpy(out + (start - line), value);
	strcat(out, end);
	return out;
}

int
tu_assert_cloexec_under(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char link[64], target[TU_PATHLEN];
	ssize_t n;
	int fd, seen = 0, flags;

	d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, strlen(dir)) != 0)
			continue;
		seen++;
		flags = fcntl(fd, F_GETFD);
		cr_assert(flags >= 0 && (flags & FD_CLOEXEC),
		    "fd %d (%s) lacks FD_CLOEXEC", fd, target);
	}
	closedir(d);
	return seen;
}

int
tu_config_load(struct tu_env *e, const char *extra,
    struct apitoken_config **cfgp)
{
	tl_write_config(e->conf, e->store, e->state, extra, 0600);
	e->err[0] = '\0';
	return apitoken_config_load(e->conf, cfgp, e->err, sizeof(e->err));
}

struct apitoken_config *
tu_config_load_ok(struct tu_env *e, const char *extra)
{
	struct apitoken_config *c = NULL;

	cr_assert_eq(tu_config_load(e, extra, &c), 0, "%s: %s", extra,
	    e->err);
	return c;
}

void
tu_config_load_bad(struct tu_env *e, const char *extra, int line,
    const char *text)
{
	struct apitoken_config *c = NULL;
	char want[600];

	cr_assert_eq(tu_config_load(e, extra, &c), APITOKEN_ERR_CONFIG,
	    "accepted: %s", extra);
	cr_assert_null(c);
	if (line > 0) {
		snprintf(want, sizeof(want), "%s:%d:", e->conf, line);
		cr_assert_eq(strncmp(e->err, want, strlen(want)), 0,
		    "want %s...: %s", want, e->err);
	}
	cr_assert_not_null(strstr(e->err, text), "want \"%s\" in: %s", text,
	    e->err);
	cr_assert_null(strpbrk(e->err, "\r\n"), "not one line: %s", e->err);
}
