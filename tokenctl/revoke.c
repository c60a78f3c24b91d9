/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revoke.c - tokenctl revoke and rotate, and the cascade they share:
 * revoking (or rotating) a token revokes every token derived from it
 * (parent links, any depth), in the same transaction.  Revocation is
 * final: nothing un-revokes a record.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenctl.h"

int
revoke_one(const struct ctl *ctl, struct ctl_db *db,
    struct apitoken_record *rec, const char *reason)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_txn_revoke(db->txn, rec->id, reason, (int64_t)ctl->now,
	    err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, rec->id, err);
	db_changed(rec->id, db);	/* rec stays readable */
	return CTL_EXIT_OK;
}

struct revoked {
	struct ctl_db *db;
	struct ctl_idlist *out;
};

/* The library's cascades report each id they revoked. */
static int
note_revoked(const char *id, void *ctx)
{
	struct revoked *rv = ctx;

	idlist_add(rv->out, id);
	return db_changed(id, rv->db);
}

int
revoke_descendants(const struct ctl *ctl, struct ctl_db *db, const char *id,
    const char *why, struct ctl_idlist *out)
{
	struct revoked rv = { db, out };
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_txn_revoke_descendants(db->txn, id, why,
	    (int64_t)ctl->now, note_revoked, &rv, err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, id, err);
	return CTL_EXIT_OK;
}

void
revoke_report(const struct ctl *ctl, const struct ctl_db *db,
    const struct ctl_idlist *l, const char *via, FILE *out)
{
	const struct apitoken_record *rec;
	size_t i;

	for (i = 0; i < l->n; i++) {
		rec = db_find(db, l->id[i]);
		ctl_audit(ctl, "revoke id=%s user=%s reason=\"%s\"%s%s",
		    l->id[i], ctl_esc(rec != NULL ? rec->user : "?", 0),
		    ctl_esc(rec != NULL ? rec->revoke_reason : "", 1),
		    via ? " via=" : "",
		    via ? via : "");
	}
	for (i = 0; i < l->n; i++)
		fprintf(out, "revoked %s\n", l->id[i]);
}

/* Revoke rec (unless already revoked) and its descendants. */
static int
cascade(const struct ctl *ctl, struct ctl_db *db,
    struct apitoken_record *rec, const char *reason, struct ctl_idlist *l)
{
	char why[64 + APITOKEN_ID_LEN];
	int r;

	if (rec->status != APITOKEN_REVOKED) {
		if ((r = revoke_one(ctl, db, rec, reason)) != CTL_EXIT_OK)
			return r;
		idlist_add(l, rec->id);
	}
	snprintf(why, sizeof(why), "derived from revoked token %s", rec->id);
	return revoke_descendants(ctl, db, rec->id, why, l);
}

/* Commit if anything changed, then audit and print. */
static int
finish(struct ctl *ctl, struct ctl_db *db, struct ctl_idlist *l,
    const char *via)
{
	int r;

	if (l->n == 0)
		return CTL_EXIT_OK;
	if ((r = db_commit(ctl, db)) == CTL_EXIT_OK)
		revoke_report(ctl, db, l, via, stdout);
	return r;
}

static int
revoke_id(struct ctl *ctl, struct ctl_db *db, const char *id,
    const char *reason, struct ctl_idlist *l)
{
	struct apitoken_record *rec;
	int r;

	if ((r = db_get(db, id, &rec)) != CTL_EXIT_OK)
		return r;
	if (rec->status == APITOKEN_REVOKED)
		ctl_err("token %s is already revoked", rec->id);
	return cascade(ctl, db, rec, reason, l);
}

static int
revoke_user(struct ctl *ctl, struct ctl_db *db, const char *user,
    const char *reason, struct ctl_idlist *l)
{
	struct revoked rv = { db, l };
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_txn_revoke_user(db->txn, user, reason, (int64_t)ctl->now,
	    note_revoked, &rv, err, sizeof(err));
	if (r == APITOKEN_ERR_NOT_FOUND) {
		ctl_err("%s", err);
		return CTL_EXIT_REJECT;
	}
	return r == APITOKEN_OK ? CTL_EXIT_OK : ctl_lib_fail(r, user, err);
}

/* Constant-time equality of two NUL-terminated hash strings. */
static int
hash_equal(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && apitoken_ct_equal(a, b, strlen(a));
}

/* Parse the token on stdin and find its record; the secret must match. */
static int
stdin_token_id(struct ctl *ctl, const struct ctl_db *db,
    struct apitoken_record **recp)
{
	char buf[APITOKEN_INPUT_MAX + 1], hash[APITOKEN_HASH_MAX] = "";
	struct apitoken_token t;
	const char *tok;
	size_t len = 0, toklen;
	enum apitoken_format f = APITOKEN_FMT_EMPTY;
	int r = CTL_EXIT_REJECT, e;

	memset(&t, 0, sizeof(t));
	*recp = NULL;
	e = ctl_read_secret(buf, APITOKEN_INPUT_MAX, &len);
	if (e != APITOKEN_OK) {
		ctl_err("stdin: %s", e == APITOKEN_ERR_TOO_LONG ? "input "
		    "longer than any token" : "read error");
		goto out;
	}
	if (apitoken_strip_scheme(buf, len, &tok, &toklen) != APITOKEN_OK ||
	    (f = apitoken_token_parse(apitoken_config_token_prefix(ctl->cfg),
	    tok, toklen, &t)) != APITOKEN_FMT_OK) {
		ctl_err("stdin: not a token: %s", apitoken_format_str(f));
		goto out;
	}
	if ((r = db_get(db, t.id, recp)) != CTL_EXIT_OK)
		goto out;
	if (apitoken_hash(&t, hash) != APITOKEN_OK ||
	    !hash_equal(hash, (*recp)->hash)) {
		ctl_err("stdin: the secret does not match token %s; nothing "
		    "revoked", t.id);
		*recp = NULL;
		r = CTL_EXIT_REJECT;
		goto out;
	}
	r = CTL_EXIT_OK;
out:
	apitoken_token_clear(&t);
	apitoken_wipe(buf, sizeof(buf));
	apitoken_wipe(hash, sizeof(hash));
	return r;
}

static int
revoke_stdin(struct ctl *ctl, struct ctl_db *db, const char *reason,
    struct ctl_idlist *l)
{
	struct apitoken_record *rec;
	int r;

	if ((r = stdin_token_id(ctl, db, &rec)) != CTL_EXIT_OK)
		return r;
	if (rec->status == APITOKEN_REVOKED)
		ctl_err("token %s is already revoked", rec->id);
	return cascade(ctl, db, rec, reason, l);
}

struct revoke_args {
	const char *id, *user, *reason;
	int from_stdin;
};

/* The command line of revoke: CTL_GO, or the exit status. */
static int
revoke_parse(int argc, char **argv, struct revoke_args *a)
{
	const struct ctl_opt o[] = {
		{ "reason", &a->reason, NULL },
		{ "user", &a->user, NULL },
		{ "token-stdin", NULL, &a->from_stdin },
		{ NULL, NULL, NULL },
	};
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = ctl_options("revoke", argc, argv, o)) != CTL_GO)
		return r;
	if (optind < argc)
		a->id = argv[optind++];
	if (optind != argc || (a->id != NULL) + (a->user != NULL) +
	    a->from_stdin != 1) {
		ctl_err("give exactly one of ID, --user USER, --token-stdin");
		return ctl_help("revoke", 0);
	}
	if (a->reason != NULL && apitoken_text_valid(a->reason,
	    APITOKEN_REASON_MAX) != APITOKEN_OK) {
		ctl_err("invalid --reason: must be one line of at most %d "
		    "bytes of UTF-8 text without control characters",
		    APITOKEN_REASON_MAX);
		return CTL_EXIT_USAGE;
	}
	return CTL_GO;
}

int
cmd_revoke(struct ctl *ctl, int argc, char **argv)
{
	struct revoke_args a;
	struct ctl_idlist l = { NULL, 0 };
	struct ctl_db db;
	int r;

	if ((r = revoke_parse(argc, argv, &a)) != CTL_GO)
		return r;
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	if (ctl_self(ctl)) {
		if (a.id != NULL)
			return self_simple(ctl, "revoke", a.id, a.reason);
		ctl_err("%s is for root; revoke your tokens one ID at a time",
		    a.user != NULL ? "--user" : "--token-stdin");
		return CTL_EXIT_REJECT;
	}
	if ((r = db_begin(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	if (a.id != NULL)
		r = revoke_id(ctl, &db, a.id, a.reason ? a.reason : "manual",
		    &l);
	else if (a.user != NULL)
		r = revoke_user(ctl, &db, a.user, a.reason ? a.reason :
		    "all tokens of the user revoked", &l);
	else
		r = revoke_stdin(ctl, &db, a.reason ? a.reason :
		    "revoked by value", &l);
	if (r == CTL_EXIT_OK)
		r = finish(ctl, &db, &l, a.from_stdin ? "token-stdin" :
		    a.user != NULL ? "user" : NULL);
	idlist_free(&l);
	db_free(&db);
	return r;
}

/* ------------------------------------------------------------ rotate */

/* The successor of old: same metadata, new id and secret, parent old. */
static int
rotate_stage(struct ctl *ctl, struct ctl_db *db, struct apitoken_record *old,
    const char *expires, char *token, size_t tokensize, char **newid)
{
	struct apitoken_record *n = apitoken_record_dup(old);
	char err[CTL_ERR_MAX] = "", when[32];
	int r = CTL_EXIT_SYSTEM;

	if (n == NULL || apitoken_record_set(&n->parent, old->id) != 0 ||
	    apitoken_record_set(&n->created_by, ctl->actor) != 0 ||
	    apitoken_record_set(&n->revoke_reason, "") != 0)
		goto out;
	n->created = n->updated = (int64_t)ctl->now;
	n->revoked_at = 0;
	if (expires != NULL) {
		r = fields_expiry(ctl, db, "--expires", expires, old->parent,
		    &n->expires, err, sizeof(err));
		if (r != CTL_EXIT_OK)
			goto out;
	} else if (apitoken_record_expired(old, ctl->now)) {
		ctl_time_abs(old->expires, when, sizeof(when));
		snprintf(err, sizeof(err), "token %s expired at %s; give "
		    "--expires WHEN for its successor", old->id, when);
		r = CTL_EXIT_REJECT;
		goto out;
	}
	r = token_stage(ctl, db, n, token, tokensize, err, sizeof(err));
	if (r == CTL_EXIT_OK) {
		*newid = n->id;
		n = NULL;	/* belongs to db */
	}
out:
	if (r != CTL_EXIT_OK)
		ctl_err("%s", err[0] ? err : "out of memory");
	apitoken_record_free(n);
	return r;
}

/* The reason old was revoked: its successor's id. */
static int
rotate_reason(struct ctl_db *db, const char *oldid, const char *newid)
{
	struct apitoken_record *rec;
	char why[64], err[CTL_ERR_MAX] = "";
	int r;

	if ((r = db_get(db, oldid, &rec)) != CTL_EXIT_OK)
		return r;
	snprintf(why, sizeof(why), "rotated to %s", newid);
	if ((r = apitoken_record_set(&rec->revoke_reason, why)) != 0 ||
	    (r = db_update(db, rec, err, sizeof(err))) != 0)
		return ctl_lib_fail(r, oldid, err);
	return CTL_EXIT_OK;
}

static int
rotate_print(const struct ctl *ctl, const struct ctl_db *db,
    const char *newid, const char *oldid, const char *token, int json)
{
	json_t *o;

	if (!json)
		return ctl_write_secret_line(token, strlen(token));
	o = view_json(ctl, db_find(db, newid));
	json_object_set_new(o, "token", json_string(token));
	json_object_set_new(o, "replaces", json_string(oldid));
	return json_print(o, 1);
}

static int
rotate_run(struct ctl *ctl, struct ctl_db *db, const char *id,
    const char *expires, int json)
{
	struct apitoken_record *old;
	struct ctl_idlist l = { NULL, 0 };
	char token[APITOKEN_TOKEN_MAX + 1] = "", why[64], *newid = NULL;
	int r;

	if ((r = db_get(db, id, &old)) != CTL_EXIT_OK)
		goto out;
	if (old->status == APITOKEN_REVOKED) {
		ctl_err("token %s is revoked; a revoked token cannot be "
		    "rotated", old->id);
		r = CTL_EXIT_REJECT;
		goto out;
	}
	/* old is revoked before its successor is staged: the successor
	 * then answers to old's live ancestors, not to old */
	snprintf(why, sizeof(why), "derived from rotated token %s", old->id);
	if ((r = revoke_descendants(ctl, db, old->id, why, &l)) != 0 ||
	    (r = revoke_one(ctl, db, old, "rotated")) != 0 ||
	    (r = rotate_stage(ctl, db, old, expires, token, sizeof(token),
	    &newid)) != 0 ||
	    (r = rotate_reason(db, old->id, newid)) != 0 ||
	    (r = db_commit(ctl, db)) != CTL_EXIT_OK)
		goto out;
	ctl_audit(ctl, "rotate id=%s user=%s new=%s", old->id,
	    ctl_esc(old->user, 0),
	    newid);
	ctl_audit(ctl, "issue id=%s user=%s parent=%s", newid,
	    ctl_esc(old->user, 0),
	    old->id);
	revoke_report(ctl, db, &l, "rotate", stderr);	/* stdout: token only */
	r = rotate_print(ctl, db, newid, old->id, token, json);
out:
	apitoken_wipe(token, sizeof(token));
	idlist_free(&l);
	return r;
}

int
cmd_rotate(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_db db;
	const char *expires = NULL;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "expires", &expires, NULL },
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("rotate", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing ID" : "too many arguments");
		return ctl_help("rotate", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	if (ctl_self(ctl))
		return self_rotate(ctl, argv[optind], expires, json);
	if ((r = db_begin(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	r = rotate_run(ctl, &db, argv[optind], expires, json);
	db_free(&db);
	return r;
}
