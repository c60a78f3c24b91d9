/*
 * db.c - the store's records in memory, read through the library
 * (apitoken_store_foreach / apitoken_txn_foreach) and, inside a write
 * transaction, changed only through apitoken_txn_insert/replace/delete so
 * the library checks and writes every change.  One commit per command.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

static void
db_push(struct ctl_db *db, struct apitoken_record *rec)
{
	if (db->n == db->cap) {
		db->cap = db->cap ? db->cap * 2 : 64;
		db->v = xreallocarray(db->v, db->cap, sizeof(*db->v));
	}
	db->v[db->n++] = rec;
}

/* foreach callback: keep (steal) every record. */
static int
collect(struct apitoken_record **rec, void *ctx)
{
	db_push(ctx, *rec);
	*rec = NULL;
	return 0;
}

int
db_open(struct ctl *ctl, struct ctl_db *db)
{
	struct apitoken_store *store = NULL;
	char err[CTL_ERR_MAX] = "";
	int r;

	memset(db, 0, sizeof(*db));
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
	r = apitoken_txn_begin(ctl->cfg, flags, &db->txn, err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot open the store for writing",
		    err);
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
	int r;

	(void)ctl;
	r = apitoken_txn_commit(db->txn, err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot write the store", err);
	return CTL_EXIT_OK;
}

void
db_free(struct ctl_db *db)
{
	size_t i;

	apitoken_txn_free(db->txn);
	for (i = 0; i < db->n; i++)
		apitoken_record_free(db->v[i]);
	free(db->v);
	memset(db, 0, sizeof(*db));
}

size_t
db_index(const struct ctl_db *db, const char *id)
{
	size_t i;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->v[i]->id, id) == 0)
			break;
	return i;
}

struct apitoken_record *
db_find(const struct ctl_db *db, const char *id)
{
	size_t i = db_index(db, id);

	return i < db->n ? db->v[i] : NULL;
}

int
db_get(const struct ctl_db *db, const char *id, struct apitoken_record **recp)
{
	*recp = db_find(db, id);
	if (*recp != NULL)
		return CTL_EXIT_OK;
	if (apitoken_id_valid(id))
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
	int r;

	if (db_find(db, rec->id) != NULL)
		return APITOKEN_ERR_EXISTS;
	r = apitoken_txn_insert(db->txn, rec, err, errlen);
	if (r == APITOKEN_OK)
		db_push(db, rec);
	return r;
}

int
db_update(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen)
{
	return apitoken_txn_replace(db->txn, rec, err, errlen);
}

int
db_delete(struct ctl_db *db, const char *id)
{
	size_t i = db_index(db, id);
	int r;

	if (i == db->n)
		return APITOKEN_ERR_NOT_FOUND;
	if ((r = apitoken_txn_delete(db->txn, id)) != APITOKEN_OK)
		return r;
	apitoken_record_free(db->v[i]);
	memmove(&db->v[i], &db->v[i + 1], (db->n - i - 1) * sizeof(*db->v));
	db->n--;
	return APITOKEN_OK;
}

const struct apitoken_record *
db_label_taken(const struct ctl_db *db, const char *user, const char *label,
    const char *except_id)
{
	size_t i;
	const struct apitoken_record *r;

	for (i = 0; i < db->n; i++) {
		r = db->v[i];
		if (r->status != APITOKEN_REVOKED &&
		    strcmp(r->user, user) == 0 &&
		    strcmp(r->label, label) == 0 &&
		    (except_id == NULL || strcmp(r->id, except_id) != 0))
			return r;
	}
	return NULL;
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
