/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - the one place a decision becomes a PAM return code, the
 * audit line, and what the user is told.
 *
 * The PAM code table (pam_apitoken(8), RETURN VALUES):
 *
 *   accepted                                   PAM_SUCCESS
 *   not-a-token, input-too-long,
 *   no-cached-token (not a token at all)       PAM_CRED_INSUFFICIENT
 *   bad-checksum, unknown,
 *   wrong-secret, wrong-user,
 *   service-not-allowed, source-not-allowed,
 *   caller-not-allowed, throttled              PAM_AUTH_ERR
 *   disabled, revoked        auth: PAM_AUTH_ERR  account: PAM_PERM_DENIED
 *   expired                  auth: PAM_AUTH_ERR  account: PAM_ACCT_EXPIRED
 *   host-not-allowed auth: PAM_AUTH_ERR  account: PAM_PERM_DENIED
 *   unknown, wrong-user (account re-check)     PAM_PERM_DENIED
 *   account-locked                             PAM_PERM_DENIED
 *   no-user, user-unknown                      PAM_USER_UNKNOWN
 *   store-error, config-error,
 *   daemon-unavailable, replica-stale          PAM_AUTHINFO_UNAVAIL
 *   out of memory, at any step                 PAM_BUF_ERR
 *   conversation-failed                        PAM_CONV_ERR
 *   conversation-incomplete                    PAM_INCOMPLETE
 *   bad-option                                 PAM_SERVICE_ERR
 *   user-lookup-failed, internal-error         PAM_SYSTEM_ERR
 *
 * Nothing but "accepted" is PAM_SUCCESS, and auth never returns PAM_IGNORE
 * (CVE-2025-23013: error paths that returned PAM_IGNORE).  "Not a token"
 * has its own code so that a stack can pass a password on to the next
 * module (cred_insufficient=ignore) and end at a refused token (die).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "pam_apitoken.h"

int
decision_pam_code(enum phase ph, const struct decision *d)
{
	int account = ph == PHASE_ACCOUNT;

	if (d->why != APITOKEN_ACCEPTED && d->error == APITOKEN_ERR_NOMEM)
		return PAM_BUF_ERR;	/* whichever step ran out */
	switch (d->why) {
	case APITOKEN_ACCEPTED:
		return PAM_SUCCESS;
	case WHY_NOT_TOKEN:
	case WHY_TOO_LONG:
	case WHY_NO_TOKEN:
		return PAM_CRED_INSUFFICIENT;
	case APITOKEN_R_MALFORMED:
	case APITOKEN_R_BAD_CHECKSUM:
	case APITOKEN_R_WRONG_SECRET:
	case APITOKEN_R_SERVICE:
	case APITOKEN_R_SOURCE:
	case APITOKEN_R_CALLER:
	case APITOKEN_R_THROTTLED:
		return PAM_AUTH_ERR;
	case APITOKEN_R_HOST:
	case APITOKEN_R_UNKNOWN:
	case APITOKEN_R_WRONG_USER:
	case APITOKEN_R_DISABLED:
	case APITOKEN_R_REVOKED:
		return account ? PAM_PERM_DENIED : PAM_AUTH_ERR;
	case WHY_LOCKED:
	case APITOKEN_R_LOCKED:
		return PAM_PERM_DENIED;
	case APITOKEN_R_EXPIRED:
		return account ? PAM_ACCT_EXPIRED : PAM_AUTH_ERR;
	case WHY_NO_USER:
	case WHY_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case APITOKEN_R_STORE_ERROR:
	case APITOKEN_R_UNAVAILABLE:
	case APITOKEN_R_STALE:
	case WHY_CONFIG:
		return PAM_AUTHINFO_UNAVAIL;
	case WHY_CONV:
		return PAM_CONV_ERR;
	case WHY_CONV_AGAIN:
		return PAM_INCOMPLETE;
	case WHY_NOMEM:
		return PAM_BUF_ERR;
	case WHY_BAD_OPTION:
		return PAM_SERVICE_ERR;
	case WHY_USER_LOOKUP:
	case WHY_INTERNAL:
	default:
		return PAM_SYSTEM_ERR;
	}
}

const char *
decision_why_str(int why)
{
	static const struct {
		int why;
		const char *name;
	} names[] = {
		{ WHY_BAD_OPTION, "bad-option" },
		{ WHY_CONFIG, "config-error" },
		{ WHY_NO_USER, "no-user" },
		{ WHY_USER_UNKNOWN, "user-unknown" },
		{ WHY_USER_LOOKUP, "user-lookup-failed" },
		{ WHY_NO_TOKEN, "no-cached-token" },
		{ WHY_TOO_LONG, "input-too-long" },
		{ WHY_NOT_TOKEN, "not-a-token" },
		{ WHY_LOCKED, "account-locked" },
		{ WHY_CONV, "conversation-failed" },
		{ WHY_CONV_AGAIN, "conversation-incomplete" },
		{ WHY_NOMEM, "out-of-memory" },
		{ WHY_INTERNAL, "internal-error" },
	};
	size_t i;

	if (why >= APITOKEN_ACCEPTED && why < APITOKEN_R_COUNT)
		return apitoken_reason_str((enum apitoken_reason)why);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].why == why)
			return names[i].name;
	return "internal-error";
}

/* " detail=..." for faults: the library's or the option parser's text. */
static void
extra_text(const struct decision *d, char *buf, size_t buflen)
{
	char esc[300], owner[APITOKEN_USER_MAX * 4 + 1];
	size_t n = 0;

	buf[0] = '\0';
	if (d->why == APITOKEN_R_WRONG_USER && d->res.user[0] != '\0') {
		apitoken_log_escape(owner, sizeof(owner), d->res.user, 0);
		n = (size_t)snprintf(buf, buflen, " owner=%s", owner);
	}
	if (n < buflen && d->note != NULL) {
		apitoken_log_escape(esc, sizeof(esc), d->note, 1);
		n += (size_t)snprintf(buf + n, buflen - n, " note=\"%s\"",
		    esc);
	}
	if (n < buflen && d->detail[0] != '\0') {
		apitoken_log_escape(esc, sizeof(esc), d->detail, 1);
		snprintf(buf + n, buflen - n, " detail=\"%s\"", esc);
	}
}

/*
 * The user name only when it is an account: what was typed at a user-name
 * prompt may be a password or a token (pam_unix logs no unknown names).
 */
static void
user_text(const struct decision *d, char *buf, size_t buflen)
{
	struct decision probe;

	if (d->user != NULL && !d->user_exists) {
		memset(&probe, 0, sizeof(probe));
		probe.user = d->user;
		if (account_exists(&probe) != 0) {
			snprintf(buf, buflen, "(unknown)");
			return;
		}
	}
	apitoken_log_escape(buf, buflen, d->user, 0);
}

void
decision_log(pam_handle_t *pamh, const struct decision *d, int pam_rc)
{
	char user[128], service[128], rhost[RHOST_MAX * 4 + 1];
	char label[APITOKEN_LABEL_MAX * 4 + 1], extra[1024];
	int ok = pam_rc == PAM_SUCCESS;

	user_text(d, user, sizeof(user));
	apitoken_log_escape(service, sizeof(service), d->service, 0);
	apitoken_log_escape(rhost, sizeof(rhost), d->rhost != NULL ? d->rhost :
	    d->rhost_item, 0);
	apitoken_log_escape(label, sizeof(label), d->res.label, 1);
	extra_text(d, extra, sizeof(extra));
	pam_syslog(pamh, LOG_AUTHPRIV | (ok ? LOG_NOTICE : LOG_WARNING),
	    "%s token=%s label=\"%s\" user=%s service=%s rhost=%s "
	    "reason=%s result=%s%s",
	    ok ? "accepted" : "rejected",
	    d->res.id[0] != '\0' ? d->res.id : "-",
	    label,
	    user, service, rhost, decision_why_str(d->why),
	    pam_strerror(pamh, pam_rc), extra);
}

/*
 * The library checks the secret before status, expiry, owner, service and
 * source, so these reasons reach only someone who holds the secret; for
 * anything else the user learns nothing beyond "failed".
 */
static const char *
user_message(const struct decision *d, enum phase ph)
{
	switch (d->why) {
	case APITOKEN_R_DISABLED:
		return "This API token is disabled.";
	case APITOKEN_R_REVOKED:
		return "This API token has been revoked.";
	case APITOKEN_R_EXPIRED:
		return "This API token has expired.";
	case APITOKEN_R_WRONG_USER:
		return ph == PHASE_AUTH ?
		    "This API token belongs to another account." : NULL;
	case APITOKEN_R_SERVICE:
		return "This API token is not valid for this service.";
	case APITOKEN_R_SOURCE:
		return "This API token is not valid from this address.";
	case APITOKEN_R_HOST:
		return "This API token is not valid on this host.";
	case WHY_LOCKED:
	case APITOKEN_R_LOCKED:
		return "This account is locked.";
	default:
		return NULL;
	}
}

void
decision_tell_user(pam_handle_t *pamh, const struct decision *d,
    enum phase ph)
{
	const char *msg = user_message(d, ph);

	if (msg != NULL)
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "%s", msg);
}

/* "3 days", "5 hours", "1 minute": the time left, rounded down. */
static void
time_left(int64_t left, char *buf, size_t buflen)
{
	static const struct {
		int64_t secs;
		const char *unit;
	} units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" } };
	size_t i;
	int64_t n = 1;
	const char *unit = "minute";

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (left >= units[i].secs) {
			n = left / units[i].secs;
			unit = units[i].unit;
			break;
		}
	snprintf(buf, buflen, "%lld %s%s", (long long)n, unit,
	    n == 1 ? "" : "s");
}

void
decision_warn_expiry(pam_handle_t *pamh, const struct decision *d,
    int64_t within, int64_t now)
{
	char left[64];

	if (within <= 0 || d->res.expires <= 0 || d->res.expires <= now ||
	    d->res.expires - now > within)
		return;
	time_left(d->res.expires - now, left, sizeof(left));
	(void)pam_prompt(pamh, PAM_TEXT_INFO, NULL,
	    "Your API token '%s' (%s) expires in %s.", d->res.label,
	    d->res.id, left);
}
