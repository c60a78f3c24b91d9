/*
 * db.c - the store in memory, read through the library
 * (apitoken_store_foreach / apitoken_txn_foreach) and, inside a write
 * transaction, changed only through apitoken_txn_insert/replace/delete so
 * the library checks and writes every change.  One commit per command.
 *
 * Most writers change a few records of a large store: they get the index
 * form (see tokenctl.h), built during the library's own validation pass
 * (apitoken_txn_begin_scan) and keeping no record, O(1) look-ups by
 * id and by (user, label), and apitoken_txn_find for the records they use.
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

/* ------------------------------------------------------ index form */

#define FNV_OFF	UINT64_C(0xcbf29ce484222325)
#define FNV_MUL	UINT64_C(0x100000001b3)

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * FNV_MUL;
	return h;
}

uint64_t
db_user_hash(const char *user)
{
	return fnv(FNV_OFF, user);
}

static uint64_t
label_hash(const char *user, const char *label)
{
	/* the 0xff separator cannot occur in UTF-8 text */
	return fnv((fnv(FNV_OFF, user) ^ 0xff) * FNV_MUL, label);
}

static size_t
slot_of(uint64_t h, size_t cap)
{
	h ^= h >> 29;
	return (size_t)(h * UINT64_C(0xbf58476d1ce4e5b9) >> 7) & (cap - 1);
}

/* Put entry i into an open-addressing table of cap (a power of 2). */
static void
table_put(uint32_t *t, size_t cap, uint64_t h, size_t i)
{
	size_t s = slot_of(h, cap);

	while (t[s] != 0)
		s = (s + 1) & (cap - 1);
	t[s] = (uint32_t)(i + 1);
}

static size_t
table_cap(size_t n)
{
	size_t cap = 64;

	while (cap < 2 * n + 2)
		cap *= 2;
	return cap;
}

static void
byid_rebuild(struct ctl_db *db)
{
	size_t i;

	free(db->byid);
	db->idcap = table_cap(db->ne + db->ne / 2);
	db->byid = xcalloc(db->idcap, sizeof(*db->byid));
	for (i = 0; i < db->ne; i++)
		if (!db->e[i].gone)
			table_put(db->byid, db->idcap, fnv(FNV_OFF,
			    db->e[i].id), i);
}

static int
labelled(const struct ctl_ent *e)
{
	return !e->gone && e->status != APITOKEN_REVOKED;
}

static void
bylabel_rebuild(struct ctl_db *db)
{
	size_t i, n = 0;

	for (i = 0; i < db->ne; i++)
		n += labelled(&db->e[i]);
	free(db->bylabel);
	db->lcap = table_cap(n + n / 2);
	db->bylabel = xcalloc(db->lcap, sizeof(*db->bylabel));
	db->nl = 0;
	for (i = 0; i < db->ne; i++)
		if (labelled(&db->e[i])) {
			table_put(db->bylabel, db->lcap, db->e[i].ulh, i);
			db->nl++;
		}
}

/* Index entry i under its (user, label), unless revoked. */
static void
bylabel_add(struct ctl_db *db, size_t i)
{
	if (!labelled(&db->e[i]))
		return;
	if (2 * (db->nl + 1) > db->lcap)
		bylabel_rebuild(db);	/* includes i */
	else {
		table_put(db->bylabel, db->lcap, db->e[i].ulh, i);
		db->nl++;
	}
}

/* dst gets at most APITOKEN_ID_LEN bytes of src (an id or ""). */
static void
id_copy(char *dst, const char *src)
{
	size_t n = strnlen(src, APITOKEN_ID_LEN);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
ent_set(struct ctl_ent *e, const struct apitoken_record *r)
{
	id_copy(e->id, r->id);
	id_copy(e->parent, r->parent);
	e->status = (unsigned char)r->status;
	e->uh = db_user_hash(r->user);
	e->ulh = label_hash(r->user, r->label);
}

static size_t
ent_push(struct ctl_db *db, const struct apitoken_record *r)
{
	if (db->ne == db->ecap) {
		db->ecap = db->ecap ? db->ecap * 2 : 1024;
		db->e = xreallocarray(db->e, db->ecap, sizeof(*db->e));
	}
	memset(&db->e[db->ne], 0, sizeof(db->e[db->ne]));
	ent_set(&db->e[db->ne], r);
	return db->ne++;
}

/* begin_scan callback: an entry per record; the record is borrowed. */
static int
index_one(const struct apitoken_record *rec, void *ctx)
{
	ent_push(ctx, rec);
	return 0;
}

void
db_tables(struct ctl_db *db)
{
	if (db->idcap != 0)
		return;
	byid_rebuild(db);
	bylabel_rebuild(db);
}

size_t
db_slot(const struct ctl_db *db, const char *id)
{
	size_t s, i;

	if (db->idcap == 0) {	/* no tables yet: one scan of the entries */
		for (i = 0; i < db->ne; i++)
			if (db->e[i].id[0] == id[0] && !db->e[i].gone &&
			    strcmp(db->e[i].id, id) == 0)
				break;
		return i;
	}
	for (s = slot_of(fnv(FNV_OFF, id), db->idcap); db->byid[s] != 0;
	    s = (s + 1) & (db->idcap - 1)) {
		i = db->byid[s] - 1;
		if (!db->e[i].gone && strcmp(db->e[i].id, id) == 0)
			return i;
	}
	return db->ne;
}

/* The record of entry i, loaded on first use.  NULL only after the
 * commit (the transaction is closed) for a record never loaded. */
static struct apitoken_record *
ent_record(const struct ctl_db *db, size_t i)
{
	struct ctl_ent *e = &db->e[i];
	char err[CTL_ERR_MAX] = "";
	int r;

	if (e->rec != NULL || db->committed)
		return e->rec;
	r = apitoken_txn_find(db->txn, e->id, &e->rec, err, sizeof(err));
	if (r != APITOKEN_OK) {
		/* the index mirrors the view: only ENOMEM or a broken
		 * library gets here; nothing was committed */
		exit(ctl_lib_fail(r, "cannot read the store", err));
	}
	return e->rec;
}

static int
kid_cmp(const void *a, const void *b, void *ctx)
{
	const struct ctl_db *db = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(db->e[x].parent, db->e[y].parent);

	return c != 0 ? c : (x > y) - (x < y);
}

const uint32_t *
db_children(struct ctl_db *db, const char *pid, size_t *np)
{
	size_t i, lo = 0, hi, n;

	if (!db->kids_ok) {
		free(db->kids);
		db->kids = NULL;
		db->nkids = 0;
		for (i = 0; i < db->ne; i++)
			db->nkids += !db->e[i].gone && db->e[i].parent[0];
		db->kids = xcalloc(db->nkids + 1, sizeof(*db->kids));
		for (n = 0, i = 0; i < db->ne; i++)
			if (!db->e[i].gone && db->e[i].parent[0])
				db->kids[n++] = (uint32_t)i;
		qsort_r(db->kids, db->nkids, sizeof(*db->kids), kid_cmp, db);
		db->kids_ok = 1;
	}
	hi = db->nkids;
	while (lo < hi) {	/* first with parent >= pid */
		i = lo + (hi - lo) / 2;
		if (strcmp(db->e[db->kids[i]].parent, pid) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	for (n = lo; n < db->nkids &&
	    strcmp(db->e[db->kids[n]].parent, pid) == 0; n++)
		;
	*np = n - lo;
	return db->kids + lo;
}

/* 1 if entry i is a non-revoked token of user with label (hash h). */
static int
label_match(const struct ctl_db *db, size_t i, uint64_t h, const char *user,
    const char *label, const char *except_id)
{
	const struct ctl_ent *e = &db->e[i];
	const struct apitoken_record *r;

	if (e->ulh != h || !labelled(e) ||
	    (except_id != NULL && strcmp(e->id, except_id) == 0))
		return 0;
	r = ent_record(db, i);
	return r != NULL && strcmp(r->user, user) == 0 &&
	    strcmp(r->label, label) == 0;
}

/* The first such entry in the view's order (as the full form finds). */
static const struct apitoken_record *
index_label_taken(const struct ctl_db *db, const char *user,
    const char *label, const char *except_id)
{
	uint64_t h = label_hash(user, label);
	size_t s, i, best = db->ne;

	if (db->lcap == 0) {	/* no tables yet: one scan of the entries */
		for (i = 0; i < db->ne; i++)
			if (label_match(db, i, h, user, label, except_id))
				return db->e[i].rec;
		return NULL;
	}
	for (s = slot_of(h, db->lcap); db->bylabel[s] != 0;
	    s = (s + 1) & (db->lcap - 1)) {
		i = db->bylabel[s] - 1;
		if (i < best && label_match(db, i, h, user, label, except_id))
			best = i;
	}
	return best < db->ne ? db->e[best].rec : NULL;
}

static int
index_insert(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen)
{
	size_t i;
	int r;

	if (db_slot(db, rec->id) < db->ne)
		return APITOKEN_ERR_EXISTS;
	r = apitoken_txn_insert(db->txn, rec, err, errlen);
	if (r != APITOKEN_OK)
		return r;
	i = ent_push(db, rec);
	db->e[i].rec = rec;
	if (db->idcap == 0) {
		/* a second insert: a --batch; index from now on */
		if (++db->inserted >= 2)
			db_tables(db);
	} else {
		if (2 * (db->ne + 1) > db->idcap)
			byid_rebuild(db);
		else
			table_put(db->byid, db->idcap, fnv(FNV_OFF, rec->id),
			    i);
		bylabel_add(db, i);
	}
	db->kids_ok = 0;
	return APITOKEN_OK;
}

/* After a replace: the entry follows the record (never its id/parent). */
static void
index_update(struct ctl_db *db, const struct apitoken_record *rec)
{
	size_t i = db_slot(db, rec->id);
	struct ctl_ent *e;
	uint64_t old;
	int was;

	if (i == db->ne)
		return;
	e = &db->e[i];
	old = e->ulh;
	was = labelled(e);
	e->status = (unsigned char)rec->status;
	e->uh = db_user_hash(rec->user);
	e->ulh = label_hash(rec->user, rec->label);
	if (db->lcap != 0 && labelled(e) && (!was || e->ulh != old))
		bylabel_add(db, i);
}

static int
index_delete(struct ctl_db *db, const char *id)
{
	size_t i = db_slot(db, id);
	int r;

	if (i == db->ne)
		return APITOKEN_ERR_NOT_FOUND;
	if ((r = apitoken_txn_delete(db->txn, id)) != APITOKEN_OK)
		return r;
	apitoken_record_free(db->e[i].rec);
	db->e[i].rec = NULL;
	db->e[i].gone = 1;
	db->kids_ok = 0;
	return APITOKEN_OK;
}

/* ------------------------------------------------------------ common */

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
	db->indexed = 1;
	/* one pass: the entries come from begin's own validation */
	r = apitoken_txn_begin_scan(ctl->cfg, flags, index_one, db, &db->txn,
	    err, sizeof(err));
	if (r != APITOKEN_OK) {
		db_free(db);
		return ctl_lib_fail(r, "cannot open the store for writing",
		    err);
	}
	return CTL_EXIT_OK;	/* the tables come with the first many look-ups */
}

int
db_begin_full(struct ctl *ctl, int flags, struct ctl_db *db)
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
	mode_t before = ctl_store_mode(ctl);
	int r;

	r = apitoken_txn_commit(db->txn, err, sizeof(err));
	db->committed = 1;
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot write the store", err);
	ctl_warn_exposed(ctl, before);
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
	for (i = 0; i < db->ne; i++)
		apitoken_record_free(db->e[i].rec);
	free(db->e);
	free(db->byid);
	free(db->bylabel);
	free(db->kids);
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
	size_t i;

	if (db->indexed)
		return (i = db_slot(db, id)) < db->ne ? ent_record(db, i) :
		    NULL;
	i = db_index(db, id);

	return i < db->n ? db->v[i] : NULL;
}

int
db_get(const struct ctl_db *db, const char *id, struct apitoken_record **recp)
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
	int r;

	if (db->indexed)
		return index_insert(db, rec, err, errlen);
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
	int r = apitoken_txn_replace(db->txn, rec, err, errlen);

	if (r == APITOKEN_OK && db->indexed)
		index_update(db, rec);
	return r;
}

int
db_delete(struct ctl_db *db, const char *id)
{
	size_t i;
	int r;

	if (db->indexed)
		return index_delete(db, id);
	if ((i = db_index(db, id)) == db->n)
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

	if (db->indexed)
		return index_label_taken(db, user, label, except_id);
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
