/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * db.c - the store as tokenctl holds it: every record (read-only
 * commands, prune and import), or inside a write transaction only the
 * records a command uses, loaded on demand (apitoken_txn_find).  Every
 * change goes through apitoken_txn_*, which enforces the store's rules
 * and keeps its own indexes (apitoken.h, "Store rules").  One commit per
 * command.  With postgresql the same, on a private copy read inside a
 * locked PostgreSQL transaction (dbpg.c).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/* Records loaded or inserted in index form, and the copies a cascade
 * made stale (kept until db_free: a caller may still read them). */
struct ctl_cache {
	struct apitoken_record **v, **stale;
	size_t n, cap, nstale, capstale;
};

static void
push(struct apitoken_record ***v, size_t *n, size_t *cap,
    struct apitoken_record *rec)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = rec;
}

/* foreach callback: keep (steal) every record. */
static int
collect(struct apitoken_record **rec, void *ctx)
{
	struct ctl_db *db = ctx;

	push(&db->v, &db->n, &db->cap, *rec);
	*rec = NULL;
	return 0;
}

void
db_adopt(struct ctl_db *db, struct apitoken_record *rec)
{
	push(&db->v, &db->n, &db->cap, rec);
}

int
db_open(struct ctl *ctl, struct ctl_db *db)
{
	struct apitoken_store *store = NULL;
	char err[CTL_ERR_MAX] = "";
	int r;

	if (ctl_self(ctl))
		return self_db_open(ctl, db);
	memset(db, 0, sizeof(*db));
	db->full = 1;
	if (pg_mode(ctl)) {
		if ((r = pg_open(ctl, db)) != CTL_EXIT_OK)
			db_free(db);
		return r;
	}
	r = apitoken_store_open(ctl->cfg, &store, err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot open the store", err);
	r = apitoken_store_foreach(store, collect, db, err, sizeof(err));
	apitoken_store_close(store);
	if (r != APITOKEN_OK) {
		db_free(db);
		return ctl_lib_fail(r, "cannot read the store", err);
	}
	return CTL_EXIT_OK;
}

int
db_begin(struct ctl *ctl, int flags, struct ctl_db *db)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	memset(db, 0, sizeof(*db));
	db->c = xcalloc(1, sizeof(*db->c));
	if (pg_mode(ctl)) {
		if ((r = pg_begin(ctl, flags, db)) != CTL_EXIT_OK)
			db_free(db);
		return r;
	}
	r = apitoken_txn_begin(ctl->cfg, flags, &db->txn, err, sizeof(err));
	if (r != APITOKEN_OK) {
		db_free(db);
		return ctl_lib_fail(r, "cannot open the store for writing",
		    err);
	}
	return CTL_EXIT_OK;
}

int
db_begin_full(struct ctl *ctl, int flags, struct ctl_db *db)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	if ((r = db_begin(ctl, flags, db)) != CTL_EXIT_OK)
		return r;
	db->full = 1;
	r = apitoken_txn_foreach(db->txn, collect, db, err, sizeof(err));
	if (r != APITOKEN_OK) {
		db_free(db);
		return ctl_lib_fail(r, "cannot read the store", err);
	}
	return CTL_EXIT_OK;
}

int
db_commit(struct ctl *ctl, struct ctl_db *db)
{
	char err[CTL_ERR_MAX] = "";
	mode_t before;
	int r;

	if (db->pg != NULL) {
		db->committed = 1;
		return pg_commit(ctl, db);
	}
	before = ctl_store_mode(ctl);
	r = apitoken_txn_commit(db->txn, err, sizeof(err));
	db->committed = 1;
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot write the store", err);
	ctl_warn_exposed(ctl, before);
	return CTL_EXIT_OK;
}

static void
free_all(struct apitoken_record **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		apitoken_record_free(v[i]);
	free(v);
}

void
db_free(struct ctl_db *db)
{
	apitoken_txn_free(db->txn);
	pg_free(db->pg);	/* after the txn on its private copy */
	free_all(db->v, db->n);
	if (db->c != NULL) {
		free_all(db->c->v, db->c->n);
		free_all(db->c->stale, db->c->nstale);
		free(db->c);
	}
	memset(db, 0, sizeof(*db));
}

static size_t
find_in(struct apitoken_record *const *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->id, id) == 0)
			break;
	return i;
}

size_t
db_index(const struct ctl_db *db, const char *id)
{
	return find_in(db->v, db->n, id);
}

/* The record of id from the transaction, kept in db; NULL if absent. */
static struct apitoken_record *
load(const struct ctl_db *db, const char *id)
{
	struct apitoken_record *rec = NULL;
	char err[CTL_ERR_MAX] = "";
	int r;

	if (db->txn == NULL || db->committed)
		return NULL;
	r = apitoken_txn_find(db->txn, id, &rec, err, sizeof(err));
	if (r == APITOKEN_ERR_NOT_FOUND)
		return NULL;
	if (r != APITOKEN_OK)	/* ENOMEM; nothing was committed */
		exit(ctl_lib_fail(r, "cannot read the store", err));
	push(&db->c->v, &db->c->n, &db->c->cap, rec);
	return rec;
}

struct apitoken_record *
db_find(const struct ctl_db *db, const char *id)
{
	size_t i;

	if ((i = db_index(db, id)) < db->n)
		return db->v[i];
	if (db->c == NULL)
		return NULL;
	if ((i = find_in(db->c->v, db->c->n, id)) < db->c->n)
		return db->c->v[i];
	return db->full ? NULL : load(db, id);
}

int
db_get(const struct ctl_db *db, const char *id,
    struct apitoken_record **recp)
{
	*recp = db_find(db, id);
	if (*recp != NULL)
		return CTL_EXIT_OK;
	if (apitoken_id_valid(id) == 0)
		ctl_err("no token with ID '%s'", id);
	else
		ctl_err("no token with ID '%s' (not a token ID: %d base62 "
		    "characters)", id, APITOKEN_ID_LEN);
	return CTL_EXIT_REJECT;
}

int
db_insert(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen)
{
	int r = apitoken_txn_insert(db->txn, rec, err, errlen);

	if (r == APITOKEN_OK)
		db_keep(db, rec);
	return r;
}

void
db_keep(struct ctl_db *db, struct apitoken_record *rec)
{
	if (db->full)
		push(&db->v, &db->n, &db->cap, rec);
	else
		push(&db->c->v, &db->c->n, &db->c->cap, rec);
}

int
db_update(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen)
{
	return apitoken_txn_replace(db->txn, rec, err, errlen);
}

/* Take id's record out of v[0..n-1]; NULL if absent. */
static struct apitoken_record *
take(struct apitoken_record **v, size_t *n, const char *id)
{
	size_t i = find_in(v, *n, id);
	struct apitoken_record *rec;

	if (i == *n)
		return NULL;
	rec = v[i];
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
	return rec;
}

int
db_delete(struct ctl_db *db, const char *id, char *err, size_t errlen)
{
	int r;

	if ((r = apitoken_txn_delete(db->txn, id, err, errlen)) != APITOKEN_OK)
		return r;
	if (db->full)
		apitoken_record_free(take(db->v, &db->n, id));
	else
		apitoken_record_free(take(db->c->v, &db->c->n, id));
	return APITOKEN_OK;
}

/* (Full form: the record leaves v for the cache.) */
int
db_changed(const char *id, void *ctx)
{
	struct ctl_db *db = ctx;
	struct apitoken_record *rec;

	if ((rec = take(db->v, &db->n, id)) == NULL)
		rec = take(db->c->v, &db->c->n, id);
	(void)load(db, id);	/* the new content, also for after commit */
	if (rec != NULL)
		push(&db->c->stale, &db->c->nstale, &db->c->capstale, rec);
	return 0;
}

const struct apitoken_record *
db_label_taken(const struct ctl_db *db, const char *user, const char *label,
    const char *except_id)
{
	char id[APITOKEN_ID_LEN + 1];
	size_t i;

	if (db->txn == NULL) {	/* read-only: every record is in v */
		for (i = 0; i < db->n; i++)
			if (db->v[i]->status != APITOKEN_REVOKED &&
			    strcmp(db->v[i]->user, user) == 0 &&
			    strcmp(db->v[i]->label, label) == 0 &&
			    (except_id == NULL ||
			    strcmp(db->v[i]->id, except_id) != 0))
				return db->v[i];
		return NULL;
	}
	if (apitoken_txn_label_owner(db->txn, user, label, except_id, id) !=
	    APITOKEN_OK)
		return NULL;
	return db_find(db, id);
}

void
idlist_add(struct ctl_idlist *l, const char *id)
{
	l->id = xreallocarray(l->id, l->n + 1, sizeof(*l->id));
	snprintf(l->id[l->n++], sizeof(*l->id), "%s", id);
}

void
idlist_free(struct ctl_idlist *l)
{
	free(l->id);
	memset(l, 0, sizeof(*l));
}
