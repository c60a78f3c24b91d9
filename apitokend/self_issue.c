/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self_issue.c - self-service issue and rotate: the two ops that make a
 * secret, so the two that first re-authenticate the user through PAM
 * (self_pam.c).  Each checks the request before it asks for the
 * password (no password typed for a token that would be refused), then
 * again in the transaction that stages it.  The store lock is never
 * held while the user types.  The new secret goes back once, in
 * T_TOKEN, and is wiped here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "self.h"

/* The reply of issue and rotate: the secret and the new record. */
static int
send_token(struct self *s, const struct apitoken_record *rec, char *token)
{
	int r = -1;

	if (apitoken_msg_add_str(&s->out, APITOKEN_T_TOKEN, token) == 0 &&
	    self_add_record(s, rec) == 0)
		r = self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
	apitoken_wipe(token, APITOKEN_TOKEN_MAX + 1);
	apitoken_wipe(&s->out, sizeof(s->out));	/* pointed at token */
	return r;
}

/* Re-authenticate: 0, or SELF_SENT (throttled, refused). */
static int
reauth(struct self *s)
{
	char err[SELF_ERR_MAX] = "";
	int r;

	if (core_locked(s->core, s->who->uid, s->user)) {
		self_note(s, "too many failed attempts; try again later");
		return SELF_SENT(self_finish(s, APITOKEN_R_THROTTLED,
		    SELF_REJECT));
	}
	if ((r = self_reauth(s, err, sizeof(err))) == APITOKEN_OK) {
		core_ok(s->core, s->who->uid, s->user);
		return 0;
	}
	core_log(LOG_NOTICE, "self-service re-authentication failed for %s "
	    "(uid %lu pid %ld): %s", s->user, (unsigned long)s->who->uid,
	    (long)s->who->pid, err);
	if (r != APITOKEN_ERR_ACCESS)
		return -1;	/* the conversation broke: nobody to tell */
	core_fail(s->core, s->who->uid, s->user);
	self_note(s, "re-authentication failed: %s", err);
	return SELF_SENT(self_finish(s, APITOKEN_R_WRONG_SECRET, SELF_REJECT));
}

/* ------------------------------------------------------------ issue */

/* The record a user asked for (p: label, description, external_id,
 * services, from and, with ARG expires, expiry), owned by the user. */
static int
new_record(struct self *s, const struct apitoken_record *p,
    struct apitoken_record **rp)
{
	const struct apitoken_self_service *ss =
	    apitoken_config_self_service(s->cfg);
	struct apitoken_record *r = apitoken_record_dup(p);
	int64_t life = apitoken_config_default_lifetime(s->cfg);

	*rp = NULL;
	if (r == NULL || apitoken_record_set(&r->user, s->user) != 0 ||
	    apitoken_record_set(&r->created_by, s->user) != 0 ||
	    apitoken_record_set(&r->hash, APITOKEN_HASH_HIDDEN) != 0 ||
	    apitoken_record_set(&r->revoke_reason, "") != 0 ||
	    apitoken_id_generate(r->id) != 0) {
		apitoken_record_free(r);
		return APITOKEN_ERR_NOMEM;
	}
	r->status = APITOKEN_ACTIVE;
	r->created = r->updated = (int64_t)s->now;
	r->revoked_at = 0;
	if (!self_has_arg(s->req, "expires")) {
		/* the default lifetime, within the self-service limit */
		if (ss->max_lifetime != APITOKEN_NEVER &&
		    (life == APITOKEN_NEVER || life > ss->max_lifetime))
			life = ss->max_lifetime;
		r->expires = life == APITOKEN_NEVER ? 0 :
		    (int64_t)s->now + life;
	}
	*rp = r;
	return APITOKEN_OK;
}

/* Every rule for rec, in txn: 0, or SELF_SENT (refused). */
static int
issue_check(struct self *s, struct apitoken_txn *txn,
    const struct apitoken_record *rec)
{
	struct apitoken_self_change ch = { APITOKEN_SELF_ISSUE, s->user, NULL,
		rec, txn, s->now };
	char err[SELF_ERR_MAX] = "", id[APITOKEN_ID_LEN + 1];
	int r;

	if (rec->parent[0] != '\0')
		return SELF_SENT(self_fail(s, APITOKEN_ERR_INVALID, "--parent is "
		    "not available through self-service"));
	if ((r = apitoken_record_check(rec, err, sizeof(err))) != 0 ||
	    (r = apitoken_self_check(s->cfg, &ch, err, sizeof(err))) != 0)
		return SELF_SENT(self_fail(s, r, err));
	if (apitoken_txn_label_owner(txn, s->user, rec->label, NULL, id) == 0) {
		snprintf(err, sizeof(err), "user %s already has a token "
		    "labelled '%s' (%s); labels are unique among a user's "
		    "non-revoked tokens", s->user, rec->label, id);
		return SELF_SENT(self_fail(s, APITOKEN_ERR_RULE, err));
	}
	return 0;
}

/* Begin, check, and (commit) stage and commit rec with a new token:
 * 0, or SELF_SENT. */
static int
issue_txn(struct self *s, struct apitoken_record *rec, int commit,
    char *token, size_t tokensize)
{
	struct apitoken_txn *txn = NULL;
	char err[SELF_ERR_MAX] = "";
	int r;

	if ((r = apitoken_txn_begin(s->cfg, 0, &txn, err, sizeof(err))) != 0)
		return SELF_SENT(self_fail(s, r, err));
	if ((r = issue_check(s, txn, rec)) == 0 && commit &&
	    ((r = apitoken_txn_insert_new(txn,
	    apitoken_config_token_prefix(s->cfg), rec, token, tokensize, err,
	    sizeof(err))) != 0 ||
	    (r = apitoken_txn_commit(txn, err, sizeof(err))) != 0))
		r = SELF_SENT(self_fail(s, r, err));
	apitoken_txn_free(txn);
	return r;
}

int
self_issue(struct self *s)
{
	struct apitoken_record *p = NULL, *rec = NULL;
	char token[APITOKEN_TOKEN_MAX + 1] = "", esc[4 * APITOKEN_USER_MAX + 1];
	int r;

	if ((r = self_req_record(s, &p)) != 0)
		return r < 0 ? -1 : 0;
	if ((r = new_record(s, p, &rec)) != 0) {
		r = self_fail(s, r, NULL);
		goto out;
	}
	/* checked before the password is asked for, and again after */
	if ((r = issue_txn(s, rec, 0, NULL, 0)) != 0 ||
	    (r = reauth(s)) != 0 ||
	    (r = issue_txn(s, rec, 1, token, sizeof(token))) != 0) {
		r = r > 0 ? 0 : -1;
		goto out;
	}
	self_audit(s, "issue id=%s user=%s", rec->id,
	    self_esc(esc, sizeof(esc), rec->user, 0));
	r = send_token(s, rec, token);
out:
	apitoken_wipe(token, sizeof(token));
	apitoken_record_free(p);
	apitoken_record_free(rec);
	return r;
}

/* ----------------------------------------------------------- rotate */

/* The request's T_EXPIRES (0 = never), or the old expiry; 0 or what is
 * wrong in err. */
static int
successor_expiry(struct self *s, const struct apitoken_record *old,
    int64_t *expires, char *err, size_t errlen)
{
	char buf[24], *end, when[32];
	long long v;

	*expires = old->expires;
	if (apitoken_msg_get(s->req, APITOKEN_T_EXPIRES, buf,
	    sizeof(buf)) == 0) {
		v = strtoll(buf, &end, 10);
		if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || v < 0)
			return snprintf(err, errlen, "invalid --expires"), -1;
		*expires = v;
		return 0;
	}
	if (!apitoken_record_expired(old, s->now))
		return 0;
	apitoken_time_format(old->expires, when, sizeof(when));
	snprintf(err, errlen, "token %s expired at %s; give --expires WHEN "
	    "for its successor", old->id, when);
	return -1;
}

/* old's successor in *np: same metadata, parent old, made by the user.
 * 0, or SELF_SENT (refused). */
static int
successor(struct self *s, const struct apitoken_record *old,
    struct apitoken_record **np)
{
	struct apitoken_self_change ch = { APITOKEN_SELF_ROTATE, s->user, old,
		NULL, NULL, s->now };
	struct apitoken_record *n = NULL;
	char err[SELF_ERR_MAX] = "";
	int r = APITOKEN_ERR_NOMEM;

	*np = NULL;
	if (old->status == APITOKEN_REVOKED) {
		snprintf(err, sizeof(err), "token %s is revoked; a revoked "
		    "token cannot be rotated", old->id);
		return SELF_SENT(self_fail(s, APITOKEN_ERR_RULE, err));
	}
	if ((n = apitoken_record_dup(old)) == NULL ||
	    apitoken_record_set(&n->parent, old->id) != 0 ||
	    apitoken_record_set(&n->created_by, s->user) != 0 ||
	    apitoken_record_set(&n->revoke_reason, "") != 0)
		goto fail;
	n->created = n->updated = (int64_t)s->now;
	n->revoked_at = 0;
	r = APITOKEN_ERR_RULE;
	if (successor_expiry(s, old, &n->expires, err, sizeof(err)) != 0)
		goto fail;
	ch.rec = n;
	if ((r = apitoken_self_check(s->cfg, &ch, err, sizeof(err))) != 0)
		goto fail;
	*np = n;
	return 0;
fail:
	apitoken_record_free(n);
	return SELF_SENT(self_fail(s, r, err));
}

/* In txn: revoke old's descendants and old ("rotated to NEW"), stage n
 * with a new token.  0 or an APITOKEN_ERR_* code with err. */
static int
rotate_stage(struct self *s, struct apitoken_txn *txn, const char *oldid,
    struct apitoken_record *n, struct revoked *rv, char *token,
    size_t tokensize, char *err, size_t errlen)
{
	struct apitoken_record *o = NULL;
	char why[80];
	int r;

	snprintf(why, sizeof(why), "derived from rotated token %s", oldid);
	if ((r = apitoken_txn_revoke_descendants(txn, oldid, why,
	    (int64_t)s->now, self_revoked_add, rv, err, errlen)) != 0 ||
	    (r = apitoken_txn_revoke(txn, oldid, "rotated", (int64_t)s->now,
	    err, errlen)) != 0 ||
	    (r = apitoken_txn_insert_new(txn, apitoken_config_token_prefix(
	    s->cfg), n, token, tokensize, err, errlen)) != 0 ||
	    (r = apitoken_txn_find(txn, oldid, &o, err, errlen)) != 0)
		return r;
	snprintf(why, sizeof(why), "rotated to %s", n->id);
	if ((r = apitoken_record_set(&o->revoke_reason, why)) == 0)
		r = apitoken_txn_replace(txn, o, err, errlen);
	apitoken_record_free(o);
	self_revoked_details(s, txn, rv);
	return r;
}

/* Find old and make its successor, in a transaction: 0 (*txnp open,
 * *np set), or SELF_SENT. */
static int
rotate_begin(struct self *s, const char *id, struct apitoken_txn **txnp,
    struct apitoken_record **np)
{
	struct apitoken_record *old = NULL;
	int r, sent;

	*np = NULL;
	if ((r = self_find(s, id, txnp, &old, &sent)) != 0 || sent)
		return r < 0 ? -1 : 1;
	r = successor(s, old, np);
	apitoken_record_free(old);
	if (r != 0) {
		apitoken_txn_free(*txnp);
		*txnp = NULL;
	}
	return r;
}

static int
rotate_done(struct self *s, const char *oldid, struct apitoken_record *n,
    const struct revoked *rv, char *token)
{
	char esc[4 * APITOKEN_USER_MAX + 1];

	self_esc(esc, sizeof(esc), n->user, 0);
	self_audit(s, "rotate id=%s user=%s new=%s", oldid, esc, n->id);
	self_audit(s, "issue id=%s user=%s parent=%s", n->id, esc, oldid);
	if (self_revoked_report(s, rv, 0) != 0)
		return -1;
	return send_token(s, n, token);
}

int
self_rotate(struct self *s)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_record *n = NULL;
	struct revoked rv = { NULL, 0 };
	char id[APITOKEN_ID_LEN + 1], token[APITOKEN_TOKEN_MAX + 1] = "";
	char err[SELF_ERR_MAX] = "";
	int r, sent;

	if ((r = self_req_id(s, id, &sent)) != 0 || sent)
		return r;
	/* checked before the password is asked for (the lock let go while
	 * the user types), and again after */
	if ((r = rotate_begin(s, id, &txn, &n)) != 0)
		goto out;
	apitoken_txn_free(txn);
	txn = NULL;
	apitoken_record_free(n);
	n = NULL;
	if ((r = reauth(s)) != 0 || (r = rotate_begin(s, id, &txn, &n)) != 0)
		goto out;
	if ((r = rotate_stage(s, txn, id, n, &rv, token, sizeof(token), err,
	    sizeof(err))) != 0 ||
	    (r = apitoken_txn_commit(txn, err, sizeof(err))) != 0)
		r = SELF_SENT(self_fail(s, r, err));
	else
		r = rotate_done(s, id, n, &rv, token);
out:
	apitoken_wipe(token, sizeof(token));
	apitoken_txn_free(txn);
	apitoken_record_free(n);
	free(rv.v);
	return r > 0 ? 0 : r;
}
