/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ops.c - the requests of the socket protocol (apitokend(8), PROTOCOL):
 * VERIFY for any allowed caller, LOCKOUTS and UNLOCK for root.  A request
 * with a missing, repeated or foreign field is malformed: logged, and
 * the connection closed without a reply.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sock.h"

/* Fields of req: each tag in want at most once (required ones exactly
 * once), no other tag.  0 or -1. */
static int
fields_ok(const struct apitoken_msg *req, unsigned want, unsigned required)
{
	unsigned seen = 0, bit;
	size_t i;

	for (i = 0; i < req->n; i++) {
		bit = 1u << req->f[i].tag;
		if (!(want & bit) || (seen & bit))
			return -1;
		seen |= bit;
	}
	return (seen & required) == required ? 0 : -1;
}

#define B(t) (1u << (t))

static void
log_malformed(const struct peer *p, const char *why)
{
	core_log(LOG_WARNING, "malformed request from caller_uid=%lu "
	    "caller_pid=%ld caller_comm=%s: %s; connection closed",
	    (unsigned long)p->who.uid, (long)p->who.pid, p->who.comm, why);
}

static int
add(struct reply *rp, uint8_t tag, const char *s)
{
	size_t len = strlen(s);

	if (rp->body + 3 + len > APITOKEN_MSG_MAX ||
	    apitoken_msg_add(&rp->m, tag, s, len) != 0)
		return -1;
	rp->body += 3 + len;
	return 0;
}

void
reply_reason(struct reply *rp, enum apitoken_reason r, const char *detail)
{
	apitoken_msg_init(&rp->m, APITOKEN_OP_REPLY);
	rp->body = 2;
	rp->used = rp->dropped = 0;
	(void)add(rp, APITOKEN_T_REASON, apitoken_reason_str(r));
	if (detail != NULL) {
		snprintf(rp->detail, sizeof(rp->detail), "%s", detail);
		(void)add(rp, APITOKEN_T_DETAIL, rp->detail);
	}
}

/* The reply to a VERIFY, as struct apitoken_result is filled. */
static void
verify_reply(struct reply *rp)
{
	const struct apitoken_result *res = &rp->res;

	reply_reason(rp, res->reason, NULL);
	if (res->id[0] != '\0')
		(void)add(rp, APITOKEN_T_ID, res->id);
	if (core_reply_has_record(res->reason)) {
		snprintf(rp->expires, sizeof(rp->expires), "%lld",
		    (long long)res->expires);
		(void)add(rp, APITOKEN_T_LABEL, res->label);
		(void)add(rp, APITOKEN_T_OWNER, res->user);
		(void)add(rp, APITOKEN_T_EXPIRES, rp->expires);
	}
	if (res->reason == APITOKEN_R_STORE_ERROR) {
		snprintf(rp->detail, sizeof(rp->detail), "token store: %s "
		    "(see the daemon's log)", apitoken_strerror(res->error));
		(void)add(rp, APITOKEN_T_DETAIL, rp->detail);
	}
}

static int
op_verify(struct core *c, struct peer *p, const struct apitoken_msg *req,
    struct reply *rp)
{
	char user[APITOKEN_USER_MAX + 1], service[APITOKEN_SERVICE_MAX + 1];
	char rhost[65];
	const struct apitoken_config *cfg;
	struct ask a = { p->who.uid, p->who.pid, p->who.comm, "socket", NULL,
		user, service, NULL, NULL, 0 };
	size_t i;

	if (fields_ok(req, B(APITOKEN_T_USER) | B(APITOKEN_T_SERVICE) |
	    B(APITOKEN_T_RHOST) | B(APITOKEN_T_TOKEN), B(APITOKEN_T_USER) |
	    B(APITOKEN_T_SERVICE) | B(APITOKEN_T_TOKEN)) != 0 ||
	    apitoken_msg_get(req, APITOKEN_T_USER, user, sizeof(user)) != 0 ||
	    apitoken_msg_get(req, APITOKEN_T_SERVICE, service,
	    sizeof(service)) != 0 || user[0] == '\0' ||
	    apitoken_service_valid(service) != 0) {
		log_malformed(p, "VERIFY needs USER, SERVICE, TOKEN and at "
		    "most RHOST, each once, and a valid service name");
		return -1;
	}
	if (apitoken_msg_get(req, APITOKEN_T_RHOST, rhost, sizeof(rhost)) == 0)
		a.rhost = rhost;
	for (i = 0; i < req->n; i++)
		if (req->f[i].tag == APITOKEN_T_TOKEN) {
			a.token = req->f[i].val;
			a.len = req->f[i].len;
		}
	cfg = core_config_get(c);
	i = (size_t)peer_may_verify(p, cfg, user, service);
	core_config_put(c, cfg);
	if (i == 0) {
		memset(&rp->res, 0, sizeof(rp->res));
		rp->res.reason = APITOKEN_R_CALLER;
		core_log_decision(&a, &rp->res);
	} else
		(void)core_verify(c, &a, &rp->res);
	verify_reply(rp);
	return 0;
}

static int
add_entry(const char *entry, void *ctx)
{
	struct reply *rp = ctx;
	size_t len = strlen(entry);

	/* keep room for a closing DETAIL */
	if (rp->m.n + 2 >= APITOKEN_MSG_FIELDS ||
	    rp->used + len + 1 > sizeof(rp->entries) ||
	    rp->body + 3 + len + 3 + 64 > APITOKEN_MSG_MAX) {
		rp->dropped++;
		return 0;
	}
	memcpy(rp->entries + rp->used, entry, len + 1);
	if (add(rp, APITOKEN_T_ENTRY, rp->entries + rp->used) == 0)
		rp->used += len + 1;
	return 0;
}

/* After a listing: say how many entries did not fit, if any. */
static void
close_listing(struct reply *rp)
{
	if (rp->dropped == 0)
		return;
	snprintf(rp->detail, sizeof(rp->detail), "%zu more not listed "
	    "(the reply is full)", rp->dropped);
	(void)add(rp, APITOKEN_T_DETAIL, rp->detail);
}

/* UNLOCK: exactly one field, ID, USER or RHOST (an HTTP client
 * address, matched in its one spelling). */
static int
op_unlock(struct core *c, struct peer *p, const struct apitoken_msg *req,
    struct reply *rp)
{
	char id[APITOKEN_ID_LEN + 1] = "", user[APITOKEN_USER_MAX + 1] = "";
	char addr[65] = "", canon[INET6_ADDRSTRLEN];
	char esc[4 * APITOKEN_USER_MAX + 1];
	const char *what;
	int ok = 0, n;

	if (req->n == 1 && req->f[0].tag == APITOKEN_T_ID)
		ok = apitoken_msg_get(req, APITOKEN_T_ID, id, sizeof(id)) ==
		    0 && apitoken_id_valid(id) == 0;
	else if (req->n == 1 && req->f[0].tag == APITOKEN_T_USER)
		ok = apitoken_msg_get(req, APITOKEN_T_USER, user,
		    sizeof(user)) == 0 && user[0] != '\0';
	else if (req->n == 1 && req->f[0].tag == APITOKEN_T_RHOST)
		ok = apitoken_msg_get(req, APITOKEN_T_RHOST, addr,
		    sizeof(addr)) == 0 &&
		    apitoken_addr_canon(addr, canon, sizeof(canon)) == 0;
	if (!ok) {
		log_malformed(p, "UNLOCK takes exactly one ID, USER or RHOST "
		    "(an address)");
		return -1;
	}
	n = core_unlock(c, id[0] ? id : NULL, user[0] ? user : NULL,
	    addr[0] ? canon : NULL, add_entry, rp);
	what = id[0] ? "token" : user[0] ? "user" : "rhost";
	apitoken_log_escape(esc, sizeof(esc), id[0] ? id : user[0] ? user :
	    canon, 0);
	core_log(LOG_NOTICE, "unlock %s=%s by caller_pid=%ld caller_comm=%s: "
	    "%d lockout(s) cleared", what, esc, (long)p->who.pid, p->who.comm,
	    n);
	close_listing(rp);
	return 0;
}

static int
op_admin(struct core *c, struct peer *p, const struct apitoken_msg *req,
    struct reply *rp)
{
	if (p->who.uid != 0) {
		core_log(LOG_WARNING, "%s refused: caller_uid=%lu "
		    "caller_pid=%ld caller_comm=%s is not root",
		    req->op == APITOKEN_OP_LOCKOUTS ? "LOCKOUTS" : "UNLOCK",
		    (unsigned long)p->who.uid, (long)p->who.pid, p->who.comm);
		reply_reason(rp, APITOKEN_R_CALLER, NULL);
		return 0;
	}
	reply_reason(rp, APITOKEN_ACCEPTED, NULL);
	if (req->op == APITOKEN_OP_UNLOCK)
		return op_unlock(c, p, req, rp);
	if (req->n != 0) {
		log_malformed(p, "LOCKOUTS takes no field");
		return -1;
	}
	(void)core_lockouts(c, add_entry, rp);
	close_listing(rp);
	return 0;
}

int
ops_is_self(uint8_t op)
{
	return op >= 16 && op <= 63;
}

int
ops_handle(struct core *c, struct peer *p, const struct apitoken_msg *req,
    struct reply *rp)
{
	switch (req->op) {
	case APITOKEN_OP_VERIFY:
		return op_verify(c, p, req, rp);
	case APITOKEN_OP_LOCKOUTS:
	case APITOKEN_OP_UNLOCK:
		return op_admin(c, p, req, rp);
	default:
		log_malformed(p, "not a request op");
		return -1;
	}
}
