/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txnindex.c - what the store-wide rules look up in a transaction's view:
 * a record's status, expiry and parent by id, the live record of a
 * (user, label), the children of a record and the records of a user.
 *
 * The originals' entries (txn.h, struct ent) are filled by begin's one
 * validation pass and never change; a staged change overrides its
 * original.  The hash tables over the entries are therefore built once,
 * on first need, and never go stale: a look-up checks each candidate
 * against the staged changes, and scans those (few) itself.  After a
 * MIRROR begin that trusted its own store (txn.c) there are no entries
 * until txn_need_ents: label owner, children and user records call it;
 * txn_look is only reached after one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

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
txn_str_hash(const char *s)
{
	return fnv(FNV_OFF, s);
}

uint64_t
txn_label_hash(const char *user, const char *label)
{
	/* the 0xff separator cannot occur in UTF-8 text */
	return fnv((fnv(FNV_OFF, user) ^ 0xff) * FNV_MUL, label);
}

void
txn_ent_set(struct ent *e, const struct apitoken_record *r)
{
	memset(e->parent, 0, sizeof(e->parent));
	memcpy(e->parent, r->parent, strnlen(r->parent, APITOKEN_ID_LEN));
	e->status = (unsigned char)r->status;
	e->expires = r->expires;
	e->uh = txn_str_hash(r->user);
	e->ulh = txn_label_hash(r->user, r->label);
}

void
txn_index_free(struct apitoken_txn *t)
{
	free(t->bylabel);
	free(t->slabel);
	t->slabel = NULL;
	t->slcap = t->nsl = 0;
	free(t->kids);
	t->bylabel = t->kids = NULL;
	t->lcap = t->nkids = 0;
	t->kids_ok = 0;
}

int
txn_look(const struct apitoken_txn *t, const char *id, struct vrec *v)
{
	const struct staged *s;
	const struct ent *e;
	ssize_t i;

	memset(v, 0, sizeof(*v));
	v->orig = -1;
	if (apitoken_id_valid(id) != 0)
		return 0;
	memcpy(v->id, id, APITOKEN_ID_LEN);
	if ((s = staged_find(t, id)) != NULL) {
		if (s->rec == NULL)
			return 0;
		v->staged = s->rec;
		snprintf(v->parent, sizeof(v->parent), "%s", s->rec->parent);
		v->status = s->rec->status;
		v->expires = s->rec->expires;
		return 1;
	}
	if ((i = orig_find(t, id)) < 0)
		return 0;
	e = &t->ents[i];
	v->orig = i;
	memcpy(v->parent, e->parent, APITOKEN_ID_LEN);
	v->status = (enum apitoken_status)e->status;
	v->expires = e->expires;
	return 1;
}

/* ------------------------------------------------------------ labels */

static size_t
slot_of(uint64_t h, size_t cap)
{
	h ^= h >> 29;
	return (size_t)(h * UINT64_C(0xbf58476d1ce4e5b9) >> 7) & (cap - 1);
}

static int
label_table(struct apitoken_txn *t)
{
	size_t i, n = 0, s;

	for (i = 0; i < t->nlines; i++)
		n += t->ents[i].status != APITOKEN_REVOKED;
	for (t->lcap = 64; t->lcap < 2 * n + 2; t->lcap *= 2)
		;
	if ((t->bylabel = calloc(t->lcap, sizeof(*t->bylabel))) == NULL) {
		t->lcap = 0;
		return APITOKEN_ERR_NOMEM;
	}
	for (i = 0; i < t->nlines; i++) {
		if (t->ents[i].status == APITOKEN_REVOKED)
			continue;
		for (s = slot_of(t->ents[i].ulh, t->lcap); t->bylabel[s];
		    s = (s + 1) & (t->lcap - 1))
			;
		t->bylabel[s] = (uint32_t)(i + 1);
	}
	return APITOKEN_OK;
}

/* 1 if original line i is a live (user, label) record other than except
 * that no staged change overrides; <0 on error. */
static int
orig_label_match(const struct apitoken_txn *t, size_t i, uint64_t h,
    const char *user, const char *label, const char *except)
{
	const char *id = t->m.base + t->lines[i];
	struct apitoken_record *rec = NULL;
	int r;

	if (t->ents[i].ulh != h || t->ents[i].status == APITOKEN_REVOKED ||
	    (except != NULL && strncmp(id, except, APITOKEN_ID_LEN) == 0))
		return 0;
	if ((r = orig_parse(t, i, &rec)) != APITOKEN_OK)
		return r;
	r = staged_find(t, rec->id) == NULL && strcmp(rec->user, user) == 0 &&
	    strcmp(rec->label, label) == 0;
	apitoken_record_free(rec);
	return r;
}

static int
orig_label_owner(struct apitoken_txn *t, uint64_t h, const char *user,
    const char *label, const char *except, ssize_t *found)
{
	size_t i, s;
	int r;

	*found = -1;
	/* one look-up scans; many (a --batch) get a table */
	if (t->lcap == 0 && ++t->labelq > 1 && t->nlines > 0 &&
	    (r = label_table(t)) != APITOKEN_OK)
		return r;
	if (t->lcap == 0) {
		for (i = 0; i < t->nlines; i++)
			if ((r = orig_label_match(t, i, h, user, label,
			    except)) != 0)
				return r < 0 ? r : (*found = (ssize_t)i, 0);
		return APITOKEN_OK;
	}
	for (s = slot_of(h, t->lcap); t->bylabel[s];
	    s = (s + 1) & (t->lcap - 1)) {
		i = t->bylabel[s] - 1;
		if ((r = orig_label_match(t, i, h, user, label, except)) < 0)
			return r;
		if (r && (*found < 0 || (ssize_t)i < *found))
			*found = (ssize_t)i;
	}
	return APITOKEN_OK;
}

static void
slabel_put(struct apitoken_txn *t, size_t i)
{
	const struct apitoken_record *rec = t->sv[i].rec;
	size_t s;

	/* Only live records own a label, and a revoked one stays revoked
	 * (under MIRROR no label is looked up).  Indexing revoked ones made
	 * a snapshot of many revoked records of one (user, label), a token
	 * rotated for years, quadratic: they all probe one cluster. */
	if (rec->status == APITOKEN_REVOKED)
		return;
	for (s = slot_of(txn_label_hash(rec->user, rec->label), t->slcap);
	    t->slabel[s]; s = (s + 1) & (t->slcap - 1))
		;
	t->slabel[s] = (uint32_t)(i + 1);
	t->nsl++;
}

int
txn_staged_label_rebuild(struct apitoken_txn *t)
{
	size_t i, cap = 64;

	while (cap < 4 * t->nsv + 4)
		cap *= 2;
	free(t->slabel);
	t->nsl = 0;
	if ((t->slabel = calloc(cap, sizeof(*t->slabel))) == NULL) {
		t->slcap = 0;
		return APITOKEN_ERR_NOMEM;
	}
	t->slcap = cap;
	for (i = 0; i < t->nsv; i++)
		if (t->sv[i].rec != NULL)
			slabel_put(t, i);
	return APITOKEN_OK;
}

int
txn_staged_label_add(struct apitoken_txn *t, size_t i)
{
	if (t->sv[i].rec == NULL)
		return APITOKEN_OK;
	if (2 * (t->nsl + 1) > t->slcap)
		return txn_staged_label_rebuild(t);	/* includes i */
	slabel_put(t, i);
	return APITOKEN_OK;
}

/* A live staged record of (user, label) other than except. */
static const struct apitoken_record *
staged_label_owner(const struct apitoken_txn *t, const char *user,
    const char *label, const char *except)
{
	const struct apitoken_record *s;
	size_t k;

	if (t->slcap == 0)
		return NULL;
	for (k = slot_of(txn_label_hash(user, label), t->slcap);
	    t->slabel[k]; k = (k + 1) & (t->slcap - 1)) {
		s = t->sv[t->slabel[k] - 1].rec;
		if (s != NULL && s->status != APITOKEN_REVOKED &&
		    (except == NULL || strcmp(s->id, except) != 0) &&
		    strcmp(s->user, user) == 0 && strcmp(s->label, label) == 0)
			return s;
	}
	return NULL;
}

int
txn_label_owner(struct apitoken_txn *t, const char *user, const char *label,
    const char *except, char owner[APITOKEN_ID_LEN + 1])
{
	const struct apitoken_record *s;
	ssize_t i;
	int r;

	owner[0] = '\0';
	if ((r = txn_need_ents(t)) != APITOKEN_OK)
		return r;
	r = orig_label_owner(t, txn_label_hash(user, label), user, label,
	    except, &i);
	if (r != APITOKEN_OK)
		return r;
	if (i >= 0) {
		memcpy(owner, t->m.base + t->lines[i], APITOKEN_ID_LEN);
		owner[APITOKEN_ID_LEN] = '\0';
		return 1;
	}
	if ((s = staged_label_owner(t, user, label, except)) == NULL)
		return 0;
	memcpy(owner, s->id, APITOKEN_ID_LEN + 1);
	return 1;
}

/* ---------------------------------------------------------- children */

static int
kid_cmp(const void *a, const void *b, void *ctx)
{
	const struct apitoken_txn *t = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = memcmp(t->ents[x].parent, t->ents[y].parent, APITOKEN_ID_LEN);

	return c != 0 ? c : (x > y) - (x < y);
}

static int
kids_build(struct apitoken_txn *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nlines; i++)
		n += t->ents[i].parent[0] != '\0';
	if ((t->kids = calloc(n + 1, sizeof(*t->kids))) == NULL)
		return APITOKEN_ERR_NOMEM;
	for (i = 0; i < t->nlines; i++)
		if (t->ents[i].parent[0] != '\0')
			t->kids[t->nkids++] = (uint32_t)i;
	qsort_r(t->kids, t->nkids, sizeof(*t->kids), kid_cmp, t);
	t->kids_ok = 1;
	return APITOKEN_OK;
}

/* The originals whose parent is pid and that no staged change overrides. */
static int
orig_children(struct apitoken_txn *t, const char *pid, apitoken_id_fn fn,
    void *ctx)
{
	char id[APITOKEN_ID_LEN + 1];
	size_t lo = 0, hi, mid, k;
	int r;

	if (!t->kids_ok && (r = kids_build(t)) != APITOKEN_OK)
		return r;
	for (hi = t->nkids; lo < hi; ) {	/* first with parent >= pid */
		mid = lo + (hi - lo) / 2;
		if (memcmp(t->ents[t->kids[mid]].parent, pid,
		    APITOKEN_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < t->nkids && memcmp(t->ents[t->kids[k]].parent, pid,
	    APITOKEN_ID_LEN) == 0; k++) {
		memcpy(id, t->m.base + t->lines[t->kids[k]], APITOKEN_ID_LEN);
		id[APITOKEN_ID_LEN] = '\0';
		if (staged_find(t, id) == NULL && (r = fn(id, ctx)) != 0)
			return r;
	}
	return APITOKEN_OK;
}

int
txn_children(struct apitoken_txn *t, const char *pid, apitoken_id_fn fn,
    void *ctx)
{
	char id[APITOKEN_ID_LEN + 1];
	size_t j, n = t->nsv;
	int r;

	if ((r = txn_need_ents(t)) != APITOKEN_OK)
		return r;
	if (strlen(pid) != APITOKEN_ID_LEN)
		return APITOKEN_OK;
	if ((r = orig_children(t, pid, fn, ctx)) != APITOKEN_OK)
		return r;
	/* the changes staged before the call; fn's own come later */
	for (j = 0; j < n; j++) {
		if (t->sv[j].rec == NULL ||
		    strcmp(t->sv[j].rec->parent, pid) != 0)
			continue;
		memcpy(id, t->sv[j].id, sizeof(id));
		if ((r = fn(id, ctx)) != 0)
			return r;
	}
	return APITOKEN_OK;
}

/* ------------------------------------------------------------- users */

int
txn_user_records(struct apitoken_txn *t, const char *user,
    apitoken_id_fn fn, void *ctx)
{
	struct apitoken_record *rec;
	char id[APITOKEN_ID_LEN + 1];
	uint64_t uh = txn_str_hash(user);
	size_t i, n = t->nsv;
	int r, mine;

	if ((r = txn_need_ents(t)) != APITOKEN_OK)
		return r;
	for (i = 0; i < t->nlines; i++) {
		if (t->ents[i].uh != uh)
			continue;
		memcpy(id, t->m.base + t->lines[i], APITOKEN_ID_LEN);
		id[APITOKEN_ID_LEN] = '\0';
		if (staged_find(t, id) != NULL)
			continue;	/* seen below, as staged */
		if ((r = orig_parse(t, i, &rec)) != APITOKEN_OK)
			return r;
		mine = strcmp(rec->user, user) == 0;
		apitoken_record_free(rec);
		if (mine && (r = fn(id, ctx)) != 0)
			return r;
	}
	for (i = 0; i < n; i++) {	/* staged before the call */
		if (t->sv[i].rec == NULL || strcmp(t->sv[i].rec->user, user))
			continue;
		memcpy(id, t->sv[i].id, sizeof(id));
		if ((r = fn(id, ctx)) != 0)
			return r;
	}
	return APITOKEN_OK;
}
