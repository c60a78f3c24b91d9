/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self.c - self-service (issue 16): an ordinary user's tokenctl asks
 * apitokend to list, edit, disable, enable and revoke the user's own
 * tokens (issue and rotate: self_issue.c).  The user is the socket's
 * SO_PEERCRED uid, never anything in the request; another user's token
 * is answered exactly like an unknown id.  The rules are the library's:
 * apitoken_self_check and the store transaction.  The ops and their
 * replies: apitokend(8), SELF-SERVICE PROTOCOL.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "self.h"

const char *
self_esc(char *buf, size_t size, const char *v, int quoted)
{
	apitoken_log_escape(buf, size, v, quoted);
	return buf;
}

void
self_audit(const struct self *s, const char *fmt, ...)
{
	char msg[1024], by[4 * APITOKEN_USER_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	core_log(LOG_NOTICE, "%s via=self-service by=%s uid=%lu", msg,
	    self_esc(by, sizeof(by), s->user, 0), (unsigned long)s->who->uid);
}

void
self_note(struct self *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n_notes >= sizeof(s->notes) / sizeof(s->notes[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(s->notes[s->n_notes++], sizeof(s->notes[0]), fmt, ap);
	va_end(ap);
}

int
self_flush(struct self *s)
{
	int r = msg_send(s->fd, &s->out);

	apitoken_msg_init(&s->out, APITOKEN_OP_REPLY);
	while (s->n_held > 0)
		free(s->held[--s->n_held]);
	return r;
}

int
self_finish(struct self *s, enum apitoken_reason reason, int status)
{
	char st[8];
	size_t i;

	/* room for the closing fields: else what is there goes first */
	if (s->out.n + s->n_notes + 2 > APITOKEN_MSG_FIELDS &&
	    self_flush(s) != 0)
		return -1;
	snprintf(st, sizeof(st), "%d", status);
	if (apitoken_msg_add_str(&s->out, APITOKEN_T_REASON,
	    apitoken_reason_str(reason)) != 0 ||
	    apitoken_msg_add_str(&s->out, APITOKEN_T_STATUS, st) != 0)
		return -1;
	for (i = 0; i < s->n_notes; i++)
		if (apitoken_msg_add_str(&s->out, APITOKEN_T_DETAIL,
		    s->notes[i]) != 0)
			return -1;
	return self_flush(s);
}

int
self_fail(struct self *s, int code, const char *msg)
{
	enum apitoken_reason why = APITOKEN_R_CALLER;
	int st = SELF_REJECT;

	switch (code) {
	case APITOKEN_ERR_NOT_FOUND:
		why = APITOKEN_R_UNKNOWN;
		break;
	case APITOKEN_ERR_ACCESS: case APITOKEN_ERR_RULE:
	case APITOKEN_ERR_INVALID: case APITOKEN_ERR_EXISTS:
	case APITOKEN_ERR_TOO_LONG:
		break;
	case APITOKEN_ERR_STORE_MISSING: case APITOKEN_ERR_STORE_UNSAFE:
	case APITOKEN_ERR_STORE_FORMAT: case APITOKEN_ERR_STORE_VERSION:
	case APITOKEN_ERR_LOCK_TIMEOUT:
		why = APITOKEN_R_STORE_ERROR;
		st = SELF_STORE;
		break;
	default:
		why = APITOKEN_R_STORE_ERROR;
		st = SELF_SYSTEM;
	}
	if (st != SELF_REJECT)	/* the details (paths) stay in the log */
		core_log(LOG_ERR, "self-service for %s: %s", s->user,
		    msg && msg[0] ? msg : apitoken_strerror(code));
	self_note(s, "%s", st != SELF_REJECT ? "the token store cannot "
	    "be used now (see apitokend's log)" : msg && msg[0] ? msg :
	    apitoken_strerror(code));
	return self_finish(s, why, st);
}

/* Add a copy of text as a field of tag to s->out (freed by self_flush). */
static int
hold_str(struct self *s, uint8_t tag, const char *text)
{
	char *copy;

	if ((copy = strdup(text)) == NULL)
		return -1;
	if (apitoken_msg_add_str(&s->out, tag, copy) != 0) {
		free(copy);
		return -1;
	}
	s->held[s->n_held++] = copy;
	return 0;
}

int
self_add_line(struct self *s, const char *text)
{

	if ((s->out.n + 8 > APITOKEN_MSG_FIELDS ||
	    s->n_held >= APITOKEN_MSG_FIELDS) && self_flush(s) != 0)
		return -1;
	return hold_str(s, APITOKEN_T_ENTRY, text);
}

/* The bytes m's body takes encoded. */
static size_t
msg_bytes(const struct apitoken_msg *m)
{
	size_t i, n = 2;

	for (i = 0; i < m->n; i++)
		n += 3 + m->f[i].len;
	return n;
}

/* After a record line: its last use (T_LASTUSE), as root's tokenctl
 * reads it from state_dir; none when that cannot be read, or next to a
 * record so long that it would not fit (the user's tokenctl then shows
 * "unknown", as root's does for what it cannot read). */
static int
add_lastuse(struct self *s, const char *id)
{
	struct apitoken_lastuse lu;
	char buf[APITOKEN_LASTUSE_LINE_MAX];

	if (apitoken_lastuse_get(s->cfg, id, &lu, NULL, 0) != APITOKEN_OK ||
	    apitoken_lastuse_format(&lu, buf, sizeof(buf)) != APITOKEN_OK ||
	    msg_bytes(&s->out) + 3 + strlen(buf) > APITOKEN_MSG_MAX - 512)
		return 0;
	return hold_str(s, APITOKEN_T_LASTUSE, buf);
}

int
self_add_record(struct self *s, const struct apitoken_record *rec)
{
	struct apitoken_record *r = apitoken_record_dup(rec);
	char *line = NULL;
	size_t len = 0, pieces;
	int e = -1;

	if (r == NULL || apitoken_record_set(&r->hash,
	    APITOKEN_HASH_HIDDEN) != 0 ||
	    apitoken_record_format(r, &line, &len) != APITOKEN_OK)
		goto out;
	pieces = len / APITOKEN_LINE_PIECE + 1;
	if ((s->out.n + pieces + 8 > APITOKEN_MSG_FIELDS ||
	    s->n_held + 2 > APITOKEN_MSG_FIELDS) && self_flush(s) != 0)
		goto out;
	if (apitoken_msg_add_line(&s->out, APITOKEN_T_ENTRY, line, len) == 0) {
		s->held[s->n_held++] = line;	/* freed by self_flush */
		line = NULL;
		e = add_lastuse(s, rec->id);
	}
out:
	free(line);
	apitoken_record_free(r);
	return e;
}

/* A message holds at most APITOKEN_MSG_MAX bytes: before each record, send
 * what is there when the record might not fit. */
struct lister {
	struct self *s;
	size_t bytes;		/* of the records in s->out */
	int e;
};

static int
list_one(struct apitoken_record **rp, void *ctx)
{
	struct lister *l = ctx;
	const struct apitoken_record *r = *rp;
	char *line = NULL;
	size_t len = 0;

	if (strcmp(r->user, l->s->user) != 0)
		return 0;
	if (apitoken_record_format(r, &line, &len) != APITOKEN_OK)
		return l->e = -1;
	free(line);
	/* the record's pieces and its last use, each with a 3-byte header */
	len += 3 * (len / APITOKEN_LINE_PIECE + 1) + 3 +
	    APITOKEN_LASTUSE_LINE_MAX;
	if (l->bytes + len + 64 > APITOKEN_MSG_MAX / 2) {
		if (self_flush(l->s) != 0)
			return l->e = -1;
		l->bytes = 0;
	}
	l->bytes += len;
	return l->e = self_add_record(l->s, r);
}

static int
self_list(struct self *s)
{
	struct apitoken_store *st = NULL;
	struct lister l = { s, 0, 0 };
	char err[SELF_ERR_MAX] = "";
	int r;

	if ((r = apitoken_store_open(s->cfg, &st, err, sizeof(err))) != 0)
		return self_fail(s, r, err);
	r = apitoken_store_foreach(st, list_one, &l, err, sizeof(err));
	apitoken_store_close(st);
	if (l.e != 0)
		return -1;
	if (r != 0)
		return self_fail(s, r, err);
	return self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
}

/* The request's T_ID, valid; else a reply is sent (*sent = 1). */
int
self_req_id(struct self *s, char id[APITOKEN_ID_LEN + 1], int *sent)
{
	char buf[64];

	*sent = 0;
	if (apitoken_msg_get(s->req, APITOKEN_T_ID, buf, sizeof(buf)) != 0 ||
	    apitoken_id_valid(buf) != 0) {
		*sent = 1;
		self_note(s, "no token ID in the request");
		return self_finish(s, APITOKEN_R_MALFORMED, SELF_USAGE);
	}
	memcpy(id, buf, APITOKEN_ID_LEN + 1);
	return 0;
}

int
self_find(struct self *s, const char *id, struct apitoken_txn **txnp,
    struct apitoken_record **rp, int *sent)
{
	char err[SELF_ERR_MAX] = "";
	int r;

	*txnp = NULL;
	*rp = NULL;
	*sent = 1;
	if ((r = apitoken_txn_begin(s->cfg, 0, txnp, err, sizeof(err))) != 0)
		return self_fail(s, r, err);
	r = apitoken_txn_find(*txnp, id, rp, err, sizeof(err));
	if (r == APITOKEN_OK && strcmp((*rp)->user, s->user) == 0) {
		*sent = 0;
		return 0;
	}
	apitoken_record_free(*rp);
	*rp = NULL;
	apitoken_txn_free(*txnp);
	*txnp = NULL;
	if (r != APITOKEN_OK && r != APITOKEN_ERR_NOT_FOUND)
		return self_fail(s, r, err);
	/* someone else's token: the same answer as no token at all */
	snprintf(err, sizeof(err), "no token with ID '%s'", id);
	return self_fail(s, APITOKEN_ERR_NOT_FOUND, err);
}

/* disable, enable: tokenctl's messages and statuses, for own tokens */
static int
set_status(struct self *s, struct apitoken_txn *txn,
    struct apitoken_record *rec, enum apitoken_status want)
{
	const char *verb = want == APITOKEN_ACTIVE ? "enable" : "disable";
	char err[SELF_ERR_MAX] = "", esc[4 * APITOKEN_USER_MAX + 1];
	int r;

	rec->status = want;
	rec->updated = (int64_t)s->now;
	if ((r = apitoken_txn_replace(txn, rec, err, sizeof(err))) != 0 ||
	    (r = apitoken_txn_commit(txn, err, sizeof(err))) != 0)
		return self_fail(s, r, err);
	self_audit(s, "%s id=%s user=%s", verb, rec->id,
	    self_esc(esc, sizeof(esc), rec->user, 0));
	snprintf(err, sizeof(err), "%sd %s", verb, rec->id);
	if (want == APITOKEN_ACTIVE && apitoken_record_expired(rec, s->now)) {
		apitoken_time_format(rec->expires, esc, sizeof(esc));
		self_note(s, "note: token %s expired at %s (change it with "
		    "'tokenctl edit %s --expires WHEN')", rec->id, esc,
		    rec->id);
	}
	if (self_add_line(s, err) != 0)
		return -1;
	return self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
}

static int
self_status(struct self *s, enum apitoken_status want)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1], err[SELF_ERR_MAX];
	int r, sent;

	if ((r = self_req_id(s, id, &sent)) != 0 || sent ||
	    (r = self_find(s, id, &txn, &rec, &sent)) != 0 || sent)
		return r;
	if (rec->status == APITOKEN_REVOKED) {
		snprintf(err, sizeof(err), want == APITOKEN_ACTIVE ? "token %s "
		    "is revoked; a revoked token cannot be enabled (issue a "
		    "new one)" : "token %s is revoked", id);
		r = self_fail(s, APITOKEN_ERR_RULE, err);
	} else if (rec->status == want) {
		self_note(s, "token %s is already %s", id, want ==
		    APITOKEN_ACTIVE ? "enabled" : "disabled");
		r = self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
	} else {
		r = set_status(s, txn, rec, want);
	}
	apitoken_record_free(rec);
	apitoken_txn_free(txn);
	return r;
}

int
self_revoked_add(const char *id, void *ctx)
{
	struct revoked *rv = ctx;
	void *p = reallocarray(rv->v, rv->n + 1, sizeof(*rv->v));

	if (p == NULL)
		return APITOKEN_ERR_NOMEM;
	rv->v = p;
	memset(&rv->v[rv->n], 0, sizeof(rv->v[0]));
	snprintf(rv->v[rv->n++].id, sizeof(rv->v[0].id), "%s", id);
	return 0;
}

void
self_revoked_details(const struct self *s, struct apitoken_txn *txn,
    struct revoked *rv)
{
	struct apitoken_record *r;
	size_t i;

	for (i = 0; i < rv->n; i++) {
		r = NULL;
		if (apitoken_txn_find(txn, rv->v[i].id, &r, NULL, 0) != 0)
			r = NULL;
		apitoken_log_escape(rv->v[i].user, sizeof(rv->v[i].user),
		    r ? r->user : "?", 0);
		apitoken_log_escape(rv->v[i].reason, sizeof(rv->v[i].reason),
		    r ? r->revoke_reason : "", 1);
		rv->v[i].mine = r != NULL && strcmp(r->user, s->user) == 0;
		apitoken_record_free(r);
	}
}

int
self_revoked_report(struct self *s, const struct revoked *rv, int out)
{
	char line[64];
	size_t i;

	for (i = 0; i < rv->n; i++) {
		self_audit(s, "revoke id=%s user=%s reason=\"%s\"",
		    rv->v[i].id, rv->v[i].user, rv->v[i].reason);
		if (!rv->v[i].mine)	/* another user's: not a word of it */
			continue;
		snprintf(line, sizeof(line), "revoked %s", rv->v[i].id);
		if (!out)
			self_note(s, "%s", line);
		else if (self_add_line(s, line) != 0)
			return -1;
	}
	return 0;
}

/* revoke ID [ARG reason]: the token and every token derived from it */
static int
revoke_run(struct self *s, struct apitoken_txn *txn,
    const struct apitoken_record *rec, const char *reason)
{
	struct revoked rv = { NULL, 0 };
	char err[SELF_ERR_MAX] = "", why[80];
	int r = 0;

	if (rec->status == APITOKEN_REVOKED)
		self_note(s, "token %s is already revoked", rec->id);
	else if ((r = apitoken_txn_revoke(txn, rec->id, reason,
	    (int64_t)s->now, err, sizeof(err))) == 0)
		r = self_revoked_add(rec->id, &rv);
	snprintf(why, sizeof(why), "derived from revoked token %s", rec->id);
	if (r == 0)
		r = apitoken_txn_revoke_descendants(txn, rec->id, why,
		    (int64_t)s->now, self_revoked_add, &rv, err, sizeof(err));
	if (r == 0 && rv.n > 0) {
		self_revoked_details(s, txn, &rv);
		r = apitoken_txn_commit(txn, err, sizeof(err));
	}
	if (r != 0)
		r = self_fail(s, r, err);
	else if ((r = self_revoked_report(s, &rv, 1)) == 0)
		r = self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
	free(rv.v);
	return r;
}

static int
self_revoke(struct self *s)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1];
	char reason[APITOKEN_REASON_MAX + 1] = "manual";
	int r, sent;

	if ((r = self_req_id(s, id, &sent)) != 0 || sent)
		return r;
	r = apitoken_msg_get(s->req, APITOKEN_T_ARG, reason, sizeof(reason));
	if ((r != 0 && r != APITOKEN_ERR_NOT_FOUND) ||
	    apitoken_text_valid(reason, APITOKEN_REASON_MAX) != 0) {
		self_note(s, "invalid --reason: must be one line of at most %d "
		    "bytes of UTF-8 text without control characters",
		    APITOKEN_REASON_MAX);
		return self_finish(s, APITOKEN_R_MALFORMED, SELF_USAGE);
	}
	if (r == APITOKEN_ERR_NOT_FOUND)
		snprintf(reason, sizeof(reason), "manual");
	if ((r = self_find(s, id, &txn, &rec, &sent)) != 0 || sent)
		return r;
	r = revoke_run(s, txn, rec, reason);
	apitoken_record_free(rec);
	apitoken_txn_free(txn);
	return r;
}

/* The record line of the request (the first T_ENTRY line), parsed. */
int
self_req_record(struct self *s, struct apitoken_record **rp)
{
	char line[APITOKEN_LINE_MAX + 1], err[SELF_ERR_MAX] = "";
	size_t pos = 0, len = 0;
	int r;

	*rp = NULL;
	if ((r = apitoken_msg_next_line(s->req, APITOKEN_T_ENTRY, &pos, line,
	    sizeof(line), &len)) != 0 ||
	    (r = apitoken_record_parse(line, len, rp, err, sizeof(err))) != 0) {
		self_note(s, "the request's token fields: %s", err[0] ? err :
		    "missing or cut short");
		return self_finish(s, APITOKEN_R_MALFORMED, SELF_USAGE) == 0 ?
		    1 : -1;
	}
	return 0;
}

/* 1 if the request has T_ARG name. */
int
self_has_arg(const struct apitoken_msg *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n; i++)
		if (req->f[i].tag == APITOKEN_T_ARG &&
		    req->f[i].len == strlen(name) &&
		    memcmp(req->f[i].val, name, req->f[i].len) == 0)
			return 1;
	return 0;
}

static int
copy_list(char ***dst, size_t *dn, char *const *src, size_t n)
{
	size_t i;

	apitoken_record_list_clear(dst, dn);
	for (i = 0; i < n; i++)
		if (apitoken_record_list_add(dst, dn, src[i]) != 0)
			return -1;
	return 0;
}

/* The fields an edit may change, by the names its T_ARGs give: copied
 * from p into rec, their names (comma separated) into names.  -1 for
 * an ARG naming anything else, or out of memory. */
static int
take_fields(const struct apitoken_msg *req, const struct apitoken_record *p,
    struct apitoken_record *rec, char *names, size_t size)
{
	static const char *const editable[] = { "label", "description",
		"external_id", "services", "from", "expires" };
	size_t i, k, n = 0;
	int e = 0;

	names[0] = '\0';
	for (k = 0; k < sizeof(editable) / sizeof(editable[0]); k++) {
		if (!self_has_arg(req, editable[k]))
			continue;
		n++;
		snprintf(names + strlen(names), size - strlen(names), "%s%s",
		    names[0] ? "," : "", editable[k]);
		switch (k) {
		case 0: e |= apitoken_record_set(&rec->label, p->label); break;
		case 1: e |= apitoken_record_set(&rec->description,
		    p->description); break;
		case 2: e |= apitoken_record_set(&rec->external_id,
		    p->external_id); break;
		case 3: e |= copy_list(&rec->services, &rec->n_services,
		    p->services, p->n_services); break;
		case 4: e |= copy_list(&rec->from, &rec->n_from, p->from,
		    p->n_from); break;
		default: rec->expires = p->expires;
		}
	}
	for (i = 0, k = 0; i < req->n; i++)
		k += req->f[i].tag == APITOKEN_T_ARG;
	return e != 0 || k != n || n == 0 ? -1 : 0;
}

/* After the commit: each descendant the library capped to the new
 * expiry of parent, audited as tokenctl edit does; told of to the user
 * only when it is the user's own. */
static void
report_capped(struct self *s, const struct revoked *cap, const char *parent,
    int64_t expires)
{
	char when[32];
	size_t i;

	apitoken_time_format(expires, when, sizeof(when));
	for (i = 0; i < cap->n; i++) {
		self_audit(s, "edit id=%s user=%s fields=expires ancestor=%s",
		    cap->v[i].id, cap->v[i].user, parent);
		if (cap->v[i].mine)
			self_note(s, "note: token %s (derived from %s) now "
			    "expires at %s too", cap->v[i].id, parent, when);
	}
}

static int
edit_run(struct self *s, struct apitoken_txn *txn,
    const struct apitoken_record *old, struct apitoken_record *rec,
    const char *names)
{
	struct apitoken_self_change ch = { APITOKEN_SELF_EDIT, s->user, old,
		rec, txn, s->now };
	struct revoked cap = { NULL, 0 };
	char err[SELF_ERR_MAX] = "", esc[4 * APITOKEN_USER_MAX + 1];
	int r;

	rec->updated = (int64_t)s->now;
	if ((r = apitoken_self_check(s->cfg, &ch, err, sizeof(err))) != 0 ||
	    (rec->expires != old->expires && (r = apitoken_txn_set_expiry(txn,
	    rec->id, rec->expires, (int64_t)s->now, self_revoked_add, &cap,
	    err, sizeof(err))) != 0) ||
	    (r = apitoken_txn_replace(txn, rec, err, sizeof(err))) != 0)
		goto fail;
	self_revoked_details(s, txn, &cap);
	if ((r = apitoken_txn_commit(txn, err, sizeof(err))) != 0)
		goto fail;
	self_audit(s, "edit id=%s user=%s fields=%s", rec->id,
	    self_esc(esc, sizeof(esc), rec->user, 0), names);
	report_capped(s, &cap, rec->id, rec->expires);
	free(cap.v);
	snprintf(err, sizeof(err), "edited %s", rec->id);
	if (self_add_line(s, err) != 0)
		return -1;
	return self_finish(s, APITOKEN_ACCEPTED, SELF_OK);
fail:
	free(cap.v);
	return self_fail(s, r, err);
}

/* edit: ID, the record as the user's tokenctl changed it (ENTRY) and
 * the names of the fields it changed (ARG...) */
static int
self_edit(struct self *s)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_record *old = NULL, *rec = NULL, *p = NULL;
	char id[APITOKEN_ID_LEN + 1], names[96], err[SELF_ERR_MAX];
	int r, sent;

	if ((r = self_req_id(s, id, &sent)) != 0 || sent ||
	    (r = self_req_record(s, &p)) != 0)
		return r < 0 ? -1 : 0;
	if ((r = self_find(s, id, &txn, &old, &sent)) != 0 || sent)
		goto out;
	if (old->status == APITOKEN_REVOKED) {
		snprintf(err, sizeof(err), "token %s is revoked; revoked "
		    "tokens cannot be edited", id);
		r = self_fail(s, APITOKEN_ERR_RULE, err);
	} else if ((rec = apitoken_record_dup(old)) == NULL) {
		r = self_fail(s, APITOKEN_ERR_NOMEM, NULL);
	} else if (take_fields(s->req, p, rec, names, sizeof(names)) != 0) {
		self_note(s, "nothing to change, or a field an edit cannot "
		    "change");
		r = self_finish(s, APITOKEN_R_MALFORMED, SELF_USAGE);
	} else {
		r = edit_run(s, txn, old, rec, names);
	}
out:
	apitoken_record_free(p);
	apitoken_record_free(old);
	apitoken_record_free(rec);
	apitoken_txn_free(txn);
	return r;
}

/* ------------------------------------------------------------ dispatch */

static int
self_run(struct self *s)
{
	struct apitoken_self_change ch = { APITOKEN_SELF_USE, s->user, NULL,
		NULL, NULL, s->now };
	char err[SELF_ERR_MAX] = "";
	int r;

	if (s->who->uid == 0)
		return self_fail(s, APITOKEN_ERR_ACCESS, "root manages the "
		    "store with tokenctl directly, not through apitokend");
	if (s->user[0] == '\0')
		return self_fail(s, APITOKEN_ERR_ACCESS, "self-service: the "
		    "caller's uid has no account name");
	if ((r = apitoken_self_check(s->cfg, &ch, err, sizeof(err))) != 0)
		return self_fail(s, r, err);
	/* On a fleet host the store is a replica: a change made here would
	 * live on this host alone, unseen by PostgreSQL and its audit. */
	if (apitoken_config_pg_conninfo(s->cfg) != NULL &&
	    s->req->op != APITOKEN_OP_SELF_LIST)
		return self_fail(s, APITOKEN_ERR_ACCESS, "self-service cannot "
		    "change tokens on a fleet host: its store is a replica of "
		    "PostgreSQL (ask an administrator)");
	switch (s->req->op) {
	case APITOKEN_OP_SELF_LIST: return self_list(s);
	case APITOKEN_OP_SELF_ISSUE: return self_issue(s);
	case APITOKEN_OP_SELF_EDIT: return self_edit(s);
	case APITOKEN_OP_SELF_DISABLE: return self_status(s, APITOKEN_DISABLED);
	case APITOKEN_OP_SELF_ENABLE: return self_status(s, APITOKEN_ACTIVE);
	case APITOKEN_OP_SELF_REVOKE: return self_revoke(s);
	case APITOKEN_OP_SELF_ROTATE: return self_rotate(s);
	}
	core_log(LOG_WARNING, "self-service: unknown op %u from uid %lu pid "
	    "%ld; connection closed", (unsigned)s->req->op,
	    (unsigned long)s->who->uid, (long)s->who->pid);
	return -1;
}

/* The account name of uid into buf ("" if it has none). */
static const char *
user_of(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *p = NULL;
	char tmp[16384];

	buf[0] = '\0';
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &p) == 0 && p != NULL &&
	    strlen(pw.pw_name) < size)
		snprintf(buf, size, "%s", pw.pw_name);
	return buf;
}

int
self_dispatch(struct core *c, int fd, const struct caller *who,
    const struct apitoken_msg *req)
{
	struct self *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return -1;
	s->core = c;
	s->cfg = core_config_get(c);
	s->fd = fd;
	s->who = who;
	s->user = user_of(who->uid, s->name, sizeof(s->name));
	s->req = req;
	s->now = time(NULL);
	apitoken_msg_init(&s->out, APITOKEN_OP_REPLY);
	r = self_run(s);
	core_config_put(c, s->cfg);
	while (s->n_held > 0)
		free(s->held[--s->n_held]);
	apitoken_wipe(s, sizeof(*s));
	free(s);
	return r;
}
