/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self.h - self-service inside apitokend (issue 16): what self.c,
 * self_issue.c and self_pam.c share.  The rules are the library's
 * (apitoken_self_check, the store transaction); these files only carry
 * one request through them for the user on the other end of the socket.
 */
#ifndef APITOKEND_SELF_H
#define APITOKEND_SELF_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "apitoken.h"
#include "core.h"

/* The exit statuses tokenctl(8) documents, carried in T_STATUS. */
#define SELF_OK		0
#define SELF_REJECT	1
#define SELF_USAGE	2
#define SELF_STORE	4
#define SELF_SYSTEM	5

#define SELF_ERR_MAX	512
/* Steps return 0 (go on), 1 (a reply was sent: stop) or -1 (the
 * connection broke); SELF_SENT turns a send's 0/-1 into 1/-1. */
#define SELF_SENT(r)	((r) == 0 ? 1 : -1)
#define SELF_ANSWER_MS	120000	/* the longest a PROMPT waits for its ANSWER */

/* One self-service request. */
struct self {
	struct core *core;
	const struct apitoken_config *cfg;	/* held for the request */
	int fd;
	const struct caller *who;
	const char *user;			/* name: the uid's account */
	char name[APITOKEN_USER_MAX + 1];
	const struct apitoken_msg *req;
	time_t now;
	/* the reply being built: lines for stdout, notes for stderr */
	struct apitoken_msg out;
	char *held[APITOKEN_MSG_FIELDS];	/* what out's fields point at */
	size_t n_held;
	char notes[16][256];
	size_t n_notes;
};

/* self.c: the reply */
/* Add a stderr line (printf-like) to the reply; at most sixteen. */
void self_note(struct self *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send the final reply: reason, status, the notes; 0 or -1. */
int self_finish(struct self *s, enum apitoken_reason reason, int status);
/* self_note(msg) and self_finish with the status and reason an
 * APITOKEN_ERR_* code stands for; returns self_finish's value. */
int self_fail(struct self *s, int code, const char *msg);
/* Send s->out when it cannot take a record line more; start another. */
int self_flush(struct self *s);
/* Add a line of output (T_ENTRY, copied) to the reply.  0 or -1. */
int self_add_line(struct self *s, const char *text);
/* Add rec to the reply as a record line (hash hidden). 0 or -1. */
int self_add_record(struct self *s, const struct apitoken_record *rec);
/* One audit line (syslog authpriv notice), " via=self-service by=USER
 * uid=N" appended; values in fmt's arguments escaped by self_esc. */
void self_audit(const struct self *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* v escaped for a log value (apitoken_log_escape) into buf. */
const char *self_esc(char *buf, size_t size, const char *v, int quoted);
/* Begin a transaction and find the caller's record id: 0, or a reply
 * already sent (another user's id answered as an unknown one); *rp is
 * owned by the caller. */
int self_find(struct self *s, const char *id, struct apitoken_txn **txnp,
    struct apitoken_record **rp, int *sent);

/* The request's record line (first T_ENTRY line) parsed into *rp: 0;
 * or 1 when a reply saying why was sent, -1 when sending failed. */
int self_req_record(struct self *s, struct apitoken_record **rp);

/* The request's T_ID into id: 0; or a reply saying it is missing was
 * sent (*sent = 1; returns that send's 0 or -1). */
int self_req_id(struct self *s, char id[APITOKEN_ID_LEN + 1], int *sent);
/* 1 if the request carries T_ARG name. */
int self_has_arg(const struct apitoken_msg *req, const char *name);

/* The tokens a cascade (revocation, a capped expiry) changed, for the
 * audit and the reply (owners and reasons, escaped, read before the
 * commit).  A token derived from the user's may be another user's: it
 * is audited but its id never told to the user (mine == 0). */
struct revoked_one {
	char id[APITOKEN_ID_LEN + 1];
	char user[4 * APITOKEN_USER_MAX + 1];
	char reason[4 * APITOKEN_REASON_MAX + 1];
	int mine;		/* owned by the caller */
};
struct revoked {
	struct revoked_one *v;
	size_t n;
};
/* An apitoken_id_fn (ctx: struct revoked) for the cascades. */
int self_revoked_add(const char *id, void *ctx);
/* Before the commit: each one's owner and reason, and whether it is
 * s->user's. */
void self_revoked_details(const struct self *s, struct apitoken_txn *txn,
    struct revoked *rv);
/* After it: an audit line for each, and "revoked ID" for each of the
 * user's own, as output lines (out) or notes. */
int self_revoked_report(struct self *s, const struct revoked *rv, int out);

/* self_issue.c */
int self_issue(struct self *s);
int self_rotate(struct self *s);

/* self_pam.c: the only PAM calls of apitokend.  Re-authenticate
 * s->user through the PAM service self_service.reauth_service, the
 * conversation carried over s->fd (OP_PROMPT / OP_ANSWER).  0 when it
 * passed auth and account; APITOKEN_ERR_ACCESS (refused) or
 * _SYSTEM (the conversation broke) with why in err. */
int self_reauth(struct self *s, char *err, size_t errlen);

#endif
