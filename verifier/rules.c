/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules.c - the rules that span records, which the write transaction
 * enforces on every insert, replace and delete (apitoken.h, "Store
 * rules"), and the cascades it offers: revoke the descendants of a
 * token, revoke a user's tokens, change an expiry and cap the tree.
 *
 * A record is live when it is not revoked.  Parent links are followed
 * through revoked records: a rotated token's successor names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txn.h"

/* 1 if expiry a is later than b; 0 means never (the latest). */
static int
later(int64_t a, int64_t b)
{
	return b != 0 && (a == 0 || a > b);
}

static const char *
when(int64_t t, char *buf, size_t size)
{
	if (t == 0 || apitoken_time_format(t, buf, size) != APITOKEN_OK)
		snprintf(buf, size, "never");
	return buf;
}

/* ------------------------------------------------- descendant walks */

/* Ids in breadth-first order; a set over them guards against loops. */
struct walk {
	struct apitoken_txn *t;
	char (*q)[APITOKEN_ID_LEN + 1];
	size_t n, cap;
	uint32_t *set;		/* index + 1 */
	size_t setcap;
};

static int
walk_seen(struct walk *w, const char *id, int add)
{
	size_t s, m = w->setcap - 1;

	for (s = txn_str_hash(id) & m; w->set[s]; s = (s + 1) & m)
		if (strcmp(w->q[w->set[s] - 1], id) == 0)
			return 1;
	if (add)
		w->set[s] = (uint32_t)w->n;	/* q[n - 1], just pushed */
	return 0;
}

static int
walk_grow(struct walk *w)
{
	size_t i, cap = w->cap ? w->cap * 2 : 64;
	void *q;

	if ((q = realloc(w->q, cap * sizeof(*w->q))) == NULL)
		return APITOKEN_ERR_NOMEM;
	w->q = q;
	w->cap = cap;
	free(w->set);
	w->setcap = 2 * cap;
	if ((w->set = calloc(w->setcap, sizeof(*w->set))) == NULL)
		return APITOKEN_ERR_NOMEM;
	for (i = 0, cap = w->n, w->n = 0; i < cap; i++) {
		w->n++;
		(void)walk_seen(w, w->q[i], 1);
	}
	return APITOKEN_OK;
}

static int
walk_push(const char *id, void *ctx)
{
	struct walk *w = ctx;
	int r;

	if (w->n + 1 >= w->cap && (r = walk_grow(w)) != APITOKEN_OK)
		return r;
	if (walk_seen(w, id, 0))
		return 0;
	memcpy(w->q[w->n++], id, APITOKEN_ID_LEN + 1);
	(void)walk_seen(w, id, 1);
	return 0;
}

/* Every descendant of id (any depth, through revoked ones), id first. */
static int
walk_tree(struct apitoken_txn *t, const char *id, struct walk *w)
{
	size_t head;
	int r;

	memset(w, 0, sizeof(*w));
	w->t = t;
	if ((r = walk_push(id, w)) != APITOKEN_OK)
		return r;
	for (head = 0; head < w->n; head++)
		if ((r = txn_children(t, w->q[head], walk_push, w)) != 0)
			return r;
	return APITOKEN_OK;
}

static void
walk_free(struct walk *w)
{
	free(w->q);
	free(w->set);
}

/* ------------------------------------------------------------- rules */

static int
rule_label(struct apitoken_txn *t, const struct apitoken_record *rec,
    char *err, size_t errlen)
{
	char owner[APITOKEN_ID_LEN + 1];
	int r = txn_label_owner(t, rec->user, rec->label, rec->id, owner);

	if (r <= 0)
		return r;
	return set_err(err, errlen, APITOKEN_ERR_RULE, "user %s already has "
	    "a token labelled '%s' (%s); labels are unique among a user's "
	    "non-revoked tokens", rec->user, rec->label, owner);
}

/* No live ancestor may expire before rec; the parent must exist. */
static int
rule_ancestors(struct apitoken_txn *t, const struct apitoken_record *rec,
    int want_parent, char *err, size_t errlen)
{
	char cur[APITOKEN_ID_LEN + 1], a[32], b[32];
	struct vrec v;
	size_t steps;

	snprintf(cur, sizeof(cur), "%s", rec->parent);
	for (steps = 0; cur[0] != '\0' && steps <= t->nlines + t->nsv;
	    steps++) {
		if (!txn_look(t, cur, &v)) {
			if (steps == 0 && want_parent)
				return set_err(err, errlen, APITOKEN_ERR_RULE,
				    "token %s: parent: no token with ID '%s'",
				    rec->id, cur);
			break;
		}
		if (strcmp(v.id, rec->id) == 0)
			break;		/* a loop back to rec */
		if (v.status != APITOKEN_REVOKED && later(rec->expires,
		    v.expires))
			return set_err(err, errlen, APITOKEN_ERR_RULE, "token "
			    "%s: expires %s, after its %s %s (%s); a derived "
			    "token cannot outlive it", rec->id,
			    when(rec->expires, a, sizeof(a)), steps == 0 ?
			    "parent" : "ancestor", v.id,
			    when(v.expires, b, sizeof(b)));
		memcpy(cur, v.parent, sizeof(cur));
	}
	return APITOKEN_OK;
}

/* No live descendant of rec may expire after it. */
static int
rule_descendants(struct apitoken_txn *t, const struct apitoken_record *rec,
    char *err, size_t errlen)
{
	struct walk w;
	struct vrec v;
	char a[32], b[32];
	size_t i;
	int r;

	if ((r = walk_tree(t, rec->id, &w)) != APITOKEN_OK)
		goto out;
	for (i = 1; i < w.n; i++)
		if (txn_look(t, w.q[i], &v) && v.status != APITOKEN_REVOKED &&
		    later(v.expires, rec->expires)) {
			r = set_err(err, errlen, APITOKEN_ERR_RULE, "token %s: "
			    "expires %s, before its derived token %s (%s); "
			    "cap the tree (apitoken_txn_set_expiry)", rec->id,
			    when(rec->expires, a, sizeof(a)), v.id,
			    when(v.expires, b, sizeof(b)));
			break;
		}
out:
	walk_free(&w);
	return r;
}

/* A revoked record stays revoked, with the same owner and hash. */
static int
rule_final(const struct apitoken_record *old,
    const struct apitoken_record *rec, char *err, size_t errlen)
{
	if (old->status != APITOKEN_REVOKED)
		return APITOKEN_OK;
	if (rec->status != APITOKEN_REVOKED)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "token %s is "
		    "revoked; revocation is final (status cannot become %s)",
		    rec->id, apitoken_status_str(rec->status));
	if (strcmp(old->user, rec->user) != 0 ||
	    strcmp(old->hash, rec->hash) != 0)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "token %s is "
		    "revoked; its %s cannot change", rec->id,
		    strcmp(old->user, rec->user) != 0 ? "user" : "hash");
	return APITOKEN_OK;
}

/* An insert may not bring back a revoked record this txn deleted. */
static int
rule_no_return(struct apitoken_txn *t, const char *id, char *err,
    size_t errlen)
{
	ssize_t i = orig_find(t, id);

	if (i >= 0 && t->ents[i].status == APITOKEN_REVOKED)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "token %s is "
		    "revoked; revocation is final (it cannot be deleted and "
		    "inserted again)", id);
	return APITOKEN_OK;
}

static int
check_live(struct apitoken_txn *t, const struct apitoken_record *old,
    const struct apitoken_record *rec, char *err, size_t errlen)
{
	int r, moved = old == NULL || strcmp(old->parent, rec->parent) != 0;

	if ((old == NULL || strcmp(old->user, rec->user) != 0 ||
	    strcmp(old->label, rec->label) != 0 ||
	    old->status == APITOKEN_REVOKED) &&
	    (r = rule_label(t, rec, err, errlen)) != APITOKEN_OK)
		return r;
	if ((moved || later(rec->expires, old->expires)) &&
	    (r = rule_ancestors(t, rec, moved, err, errlen)) != APITOKEN_OK)
		return r;
	if (old != NULL && later(old->expires, rec->expires))
		return rule_descendants(t, rec, err, errlen);
	return APITOKEN_OK;
}

int
rules_check_put(struct apitoken_txn *t, const struct apitoken_record *rec,
    int is_insert, char *err, size_t errlen)
{
	struct apitoken_record *old = NULL;
	int r;

	if (is_insert)
		r = rule_no_return(t, rec->id, err, errlen);
	else if ((r = apitoken_txn_find(t, rec->id, &old, err, errlen)) ==
	    APITOKEN_OK)
		r = rule_final(old, rec, err, errlen);
	if (r == APITOKEN_OK && rec->status != APITOKEN_REVOKED)
		r = check_live(t, old, rec, err, errlen);
	apitoken_record_free(old);
	return r;
}

struct live_kid {
	struct apitoken_txn *t;
	time_t now;
	char id[APITOKEN_ID_LEN + 1];
};

static int
live_kid(const char *id, void *ctx)
{
	struct live_kid *k = ctx;
	struct vrec v;

	if (!txn_look(k->t, id, &v) || v.status == APITOKEN_REVOKED ||
	    (v.expires != 0 && v.expires <= k->now))
		return 0;
	memcpy(k->id, id, sizeof(k->id));
	return 1;
}

int
rules_check_delete(struct apitoken_txn *t, const char *id, char *err,
    size_t errlen)
{
	struct live_kid k = { t, time(NULL), "" };
	struct vrec v;
	int r;

	if (!txn_look(t, id, &v) || v.status == APITOKEN_REVOKED)
		return APITOKEN_OK;
	if ((r = txn_children(t, id, live_kid, &k)) <= 0)
		return r;
	return set_err(err, errlen, APITOKEN_ERR_RULE, "token %s has a live "
	    "derived token %s; revoke its descendants first", id, k.id);
}

/* ---------------------------------------------------------- cascades */

int
apitoken_txn_label_owner(struct apitoken_txn *t, const char *user,
    const char *label, const char *except_id, char id[APITOKEN_ID_LEN + 1])
{
	int r = txn_label_owner(t, user, label, except_id, id);

	return r < 0 ? r : r ? APITOKEN_OK : APITOKEN_ERR_NOT_FOUND;
}

/* The record id in t's view, unless it is absent or revoked (then
 * APITOKEN_ERR_RULE with "token ID <revoked_text>"). */
static int
find_live(struct apitoken_txn *t, const char *id, const char *revoked_text,
    struct apitoken_record **recp, char *err, size_t errlen)
{
	int r;

	*recp = NULL;
	if ((r = apitoken_txn_find(t, id, recp, err, errlen)) != APITOKEN_OK)
		return set_err(err, errlen, r, "token %s: %s", id,
		    apitoken_strerror(r));
	if ((*recp)->status != APITOKEN_REVOKED)
		return APITOKEN_OK;
	apitoken_record_free(*recp);
	*recp = NULL;
	return set_err(err, errlen, APITOKEN_ERR_RULE, "token %s %s", id,
	    revoked_text);
}

int
apitoken_txn_revoke(struct apitoken_txn *t, const char *id,
    const char *reason, int64_t now, char *err, size_t errlen)
{
	struct apitoken_record *rec = NULL;
	int r;

	if ((r = find_live(t, id, "is already revoked", &rec, err,
	    errlen)) != APITOKEN_OK)
		return r;
	if ((r = apitoken_record_set(&rec->revoke_reason,
	    reason != NULL ? reason : "")) == APITOKEN_OK) {
		rec->status = APITOKEN_REVOKED;
		rec->revoked_at = rec->updated = now;
		r = txn_put(t, rec, 1, err, errlen);
	}
	apitoken_record_free(rec);
	return r;
}

int
apitoken_txn_revoke_descendants(struct apitoken_txn *t, const char *id,
    const char *reason, int64_t now, apitoken_id_fn fn, void *ctx,
    char *err, size_t errlen)
{
	struct walk w;
	struct vrec v;
	size_t i;
	int r;

	if (t->done)
		return APITOKEN_ERR_STALE;
	if ((r = walk_tree(t, id, &w)) != APITOKEN_OK)
		goto out;
	for (i = 1; i < w.n && r == APITOKEN_OK; i++) {
		if (!txn_look(t, w.q[i], &v) || v.status == APITOKEN_REVOKED)
			continue;
		if ((r = apitoken_txn_revoke(t, w.q[i], reason, now, err,
		    errlen)) == APITOKEN_OK && fn != NULL)
			r = fn(w.q[i], ctx);
	}
out:
	walk_free(&w);
	return r;
}

static int
collect_id(const char *id, void *ctx)
{
	struct walk *w = ctx;

	return walk_push(id, w);
}

/* Revoke one of the user's tokens, then what derives from it. */
static int
revoke_tree(struct apitoken_txn *t, const char *id, const char *reason,
    int64_t now, apitoken_id_fn fn, void *ctx, char *err, size_t errlen)
{
	char why[64 + APITOKEN_ID_LEN];
	int r;

	if ((r = apitoken_txn_revoke(t, id, reason, now, err, errlen)) != 0 ||
	    (fn != NULL && (r = fn(id, ctx)) != 0))
		return r;
	snprintf(why, sizeof(why), "derived from revoked token %s", id);
	return apitoken_txn_revoke_descendants(t, id, why, now, fn, ctx, err,
	    errlen);
}

int
apitoken_txn_revoke_user(struct apitoken_txn *t, const char *user,
    const char *reason, int64_t now, apitoken_id_fn fn, void *ctx,
    char *err, size_t errlen)
{
	struct walk w;
	struct vrec v;
	size_t i, n = 0;
	int r;

	if (t->done)
		return APITOKEN_ERR_STALE;
	memset(&w, 0, sizeof(w));
	if ((r = txn_user_records(t, user, collect_id, &w)) != APITOKEN_OK)
		goto out;
	for (i = 0; i < w.n && r == APITOKEN_OK; i++)
		if (txn_look(t, w.q[i], &v) && v.status != APITOKEN_REVOKED) {
			n++;
			r = revoke_tree(t, w.q[i], reason, now, fn, ctx, err,
			    errlen);
		}
	if (r == APITOKEN_OK && n == 0)
		r = set_err(err, errlen, APITOKEN_ERR_NOT_FOUND, "user '%s' "
		    "has no active or disabled tokens", user);
out:
	walk_free(&w);
	return r;
}

/* Cap every live descendant of id that expires after expires. */
static int
cap_tree(struct apitoken_txn *t, const char *id, int64_t expires,
    int64_t now, apitoken_id_fn fn, void *ctx, char *err, size_t errlen)
{
	struct apitoken_record *rec;
	struct walk w;
	struct vrec v;
	size_t i;
	int r;

	if ((r = walk_tree(t, id, &w)) != APITOKEN_OK)
		goto out;
	for (i = 1; i < w.n && r == APITOKEN_OK; i++) {
		if (!txn_look(t, w.q[i], &v) || v.status == APITOKEN_REVOKED ||
		    !later(v.expires, expires))
			continue;
		if ((r = apitoken_txn_find(t, w.q[i], &rec, err, errlen)) != 0)
			break;
		rec->expires = expires;
		rec->updated = now;
		r = txn_put(t, rec, 1, err, errlen);
		apitoken_record_free(rec);
		if (r == APITOKEN_OK && fn != NULL)
			r = fn(w.q[i], ctx);
	}
out:
	walk_free(&w);
	return r;
}

int
apitoken_txn_set_expiry(struct apitoken_txn *t, const char *id,
    int64_t expires, int64_t now, apitoken_id_fn fn, void *ctx, char *err,
    size_t errlen)
{
	struct apitoken_record *rec = NULL;
	int r;

	if ((r = find_live(t, id, "is revoked; its expiry cannot change",
	    &rec, err, errlen)) != APITOKEN_OK)
		return r;
	if (!later(rec->expires, expires) ||
	    (r = cap_tree(t, id, expires, now, fn, ctx, err, errlen)) == 0) {
		rec->expires = expires;
		rec->updated = now;
		r = txn_put(t, rec, 1, err, errlen);
	}
	apitoken_record_free(rec);
	return r;
}
