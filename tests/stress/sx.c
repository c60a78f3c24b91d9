/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sx.c - fixtures for tests/stress and tests/badinput: temp environments,
 * tokenctl runs and a parsed snapshot of the store's records.
 */
#include "stress/sx.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static void
load_config(struct sx_env *e)
{
	char err[SX_ERRLEN] = "";
	int r;

	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	r = apitoken_config_load(e->conf, &e->cfg, err, sizeof(err));
	cr_assert_eq(r, 0, "config_load(%s) = %d: %s", e->conf, r, err);
}

void
sx_setup(struct sx_env *e, const char *extra)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/apitoken-stress.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
	snprintf(e->dbdir, sizeof(e->dbdir), "%s/db", e->dir);
	snprintf(e->store, sizeof(e->store), "%s/tokens", e->dbdir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/apitoken.yaml", e->dir);
	cr_assert_eq(mkdir(e->dbdir, 0700), 0, "mkdir %s", e->dbdir);
	cr_assert_eq(mkdir(e->state, 0700), 0, "mkdir %s", e->state);
	tl_write_config(e->conf, e->store, e->state, extra, 0600);
	load_config(e);
}

void
sx_reconfig(struct sx_env *e, const char *extra)
{
	tl_write_config(e->conf, e->store, e->state, extra, 0600);
	load_config(e);
}

void
sx_teardown(struct sx_env *e)
{
	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	if (e->dir[0] == '\0')
		return;
	/* undo chmod/chown games so the tree can be removed */
	(void)!chown(e->dir, 0, 0);
	(void)!chmod(e->dir, 0700);
	(void)!chown(e->dbdir, 0, 0);
	(void)!chmod(e->dbdir, 0700);
	tl_rmrf(e->dir);
	e->dir[0] = '\0';
}

void
sx_store_create(struct sx_env *e)
{
	struct apitoken_txn *t = NULL;
	char err[SX_ERRLEN] = "";
	int r;

	r = apitoken_txn_begin(e->cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "txn_begin: %d %s", r, err);
	r = apitoken_txn_commit(t, err, sizeof(err));
	apitoken_txn_free(t);
	cr_assert_eq(r, 0, "txn_commit: %d %s", r, err);
}

void
sx_issue_lib(struct sx_env *e, const char *user, const char *label,
    char tok[SX_TOKBUF], char id[APITOKEN_ID_LEN + 1])
{
	struct apitoken_token parts;
	struct apitoken_record *rec;
	struct apitoken_txn *t = NULL;
	char hash[APITOKEN_HASH_MAX], err[SX_ERRLEN] = "";
	int r;

	r = apitoken_token_generate(apitoken_config_token_prefix(e->cfg), tok,
	    SX_TOKBUF, &parts, hash);
	cr_assert_eq(r, 0, "token_generate: %d", r);
	memcpy(id, parts.id, APITOKEN_ID_LEN + 1);
	apitoken_token_clear(&parts);
	rec = apitoken_record_new();
	cr_assert_not_null(rec);
	memcpy(rec->id, id, APITOKEN_ID_LEN + 1);
	rec->status = APITOKEN_ACTIVE;
	cr_assert_eq(apitoken_record_set(&rec->user, user), 0);
	cr_assert_eq(apitoken_record_set(&rec->hash, hash), 0);
	cr_assert_eq(apitoken_record_set(&rec->label, label), 0);
	cr_assert_eq(apitoken_record_set(&rec->created_by, "stress-test"), 0);
	rec->created = rec->updated = (int64_t)time(NULL);
	r = apitoken_txn_begin(e->cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "txn_begin: %d %s", r, err);
	r = apitoken_txn_insert(t, rec, err, sizeof(err));
	cr_assert_eq(r, 0, "txn_insert: %d %s", r, err);
	r = apitoken_txn_commit(t, err, sizeof(err));
	cr_assert_eq(r, 0, "txn_commit: %d %s", r, err);
	apitoken_txn_free(t);
	apitoken_record_free(rec);
}

/* -------------------------------------------------------- processes */

int
sx_ctlv(const struct sx_env *e, const char *conf, struct tl_proc *p,
    const char *input, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = SX_TOKCTL;
	argv[n++] = "-c";
	argv[n++] = conf ? conf : e->conf;
	while (*args != NULL && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	return tl_run(&(struct tl_cmd){ .argv = argv, .input = input,
	    .timeout_ms = 60000 }, p);
}

int
sx_ctl(const struct sx_env *e, struct tl_proc *p, const char *input, ...)
{
	const char *args[60];
	size_t n = 0;
	va_list ap;

	va_start(ap, input);
	while (n < 59 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return sx_ctlv(e, NULL, p, input, args);
}

pid_t
sx_ctl_spawn(const struct sx_env *e, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;
	pid_t pid;
	int nul;

	argv[n++] = SX_TOKCTL;
	argv[n++] = "-c";
	argv[n++] = e->conf;
	while (*args != NULL && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = tl_fork();
	if (pid == 0) {
		nul = open("/dev/null", O_RDWR);
		if (nul < 0)
			_exit(126);
		if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

/* ------------------------------------------------------ record sets */

static int
recset_add(struct apitoken_record **recp, void *ctx)
{
	struct sx_recset *s = ctx;
	struct apitoken_record *r = *recp;
	char *line = NULL;
	size_t len;
	int rc;

	if ((rc = apitoken_record_format(r, &line, &len)) != 0)
		return rc;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ids = reallocarray(s->ids, s->cap, sizeof(*s->ids));
		s->lines = reallocarray(s->lines, s->cap, sizeof(*s->lines));
		s->recs = reallocarray(s->recs, s->cap, sizeof(*s->recs));
		if (s->ids == NULL || s->lines == NULL || s->recs == NULL) {
			free(line);
			return APITOKEN_ERR_NOMEM;
		}
	}
	memcpy(s->ids[s->n], r->id, APITOKEN_ID_LEN + 1);
	s->lines[s->n] = line;
	s->recs[s->n] = r;
	*recp = NULL;	/* stolen */
	s->n++;
	return 0;
}

int
sx_recset_load(const struct apitoken_config *cfg, struct sx_recset *s,
    char *err, size_t errlen)
{
	struct apitoken_store *st = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = apitoken_store_open(cfg, &st, err, errlen);
	if (r != 0)
		return r;
	r = apitoken_store_foreach(st, recset_add, s, err, errlen);
	apitoken_store_close(st);
	return r;
}

void
sx_recset_free(struct sx_recset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->lines[i]);
		apitoken_record_free(s->recs[i]);
	}
	free(s->ids);
	free(s->lines);
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

ssize_t
sx_recset_find(const struct sx_recset *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return (ssize_t)i;
	return -1;
}

/* ------------------------------------------------------------- misc */

int
sx_json_id(const char *text, char id[APITOKEN_ID_LEN + 1])
{
	json_error_t je;
	json_t *o = json_loads(text, JSON_DISABLE_EOF_CHECK, &je), *v;
	int r = -1;

	id[0] = '\0';
	if (o == NULL)
		return -1;
	v = json_object_get(o, "id");
	if (json_is_string(v) &&
	    apitoken_id_valid(json_string_value(v)) == 0) {
		snprintf(id, APITOKEN_ID_LEN + 1, "%s", json_string_value(v));
		r = 0;
	}
	json_decref(o);
	return r;
}
