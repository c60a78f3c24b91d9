/*
 * decide.c - the one place a decision becomes a PAM return code, the
 * audit line, and what the user is told.
 *
 * The PAM code table (pam_apitoken(8), RETURN VALUES):
 *
 *   accepted                                   PAM_SUCCESS
 *   malformed, bad-checksum, unknown,
 *   wrong-secret, wrong-user,
 *   service-not-allowed, source-not-allowed,
 *   input-too-long, no-cached-token            PAM_AUTH_ERR
 *   disabled, revoked        auth: PAM_AUTH_ERR  account: PAM_PERM_DENIED
 *   expired                  auth: PAM_AUTH_ERR  account: PAM_ACCT_EXPIRED
 *   unknown, wrong-user (account re-check)     PAM_PERM_DENIED
 *   no-user, user-unknown                      PAM_USER_UNKNOWN
 *   store-error, config-error                  PAM_AUTHINFO_UNAVAIL
 *     (out of memory behind either)            PAM_BUF_ERR
 *   conversation-failed                        PAM_CONV_ERR
 *   conversation-incomplete                    PAM_INCOMPLETE
 *   bad-option                                 PAM_SERVICE_ERR
 *   user-lookup-failed, internal-error         PAM_SYSTEM_ERR
 *
 * Nothing but "accepted" is PAM_SUCCESS, and auth never returns PAM_IGNORE
 * (CVE-2025-23013: error paths that returned PAM_IGNORE).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "pam_apitoken.h"

static int
fault_code(int error)
{
	return error == APITOKEN_ERR_NOMEM ? PAM_BUF_ERR : PAM_AUTHINFO_UNAVAIL;
}

int
decision_pam_code(enum phase ph, const struct decision *d)
{
	int account = ph == PHASE_ACCOUNT;

	switch (d->why) {
	case APITOKEN_ACCEPTED:
		return PAM_SUCCESS;
	case APITOKEN_R_MALFORMED:
	case APITOKEN_R_BAD_CHECKSUM:
	case APITOKEN_R_WRONG_SECRET:
	case APITOKEN_R_SERVICE:
	case APITOKEN_R_SOURCE:
	case WHY_TOO_LONG:
	case WHY_NO_TOKEN:
		return PAM_AUTH_ERR;
	case APITOKEN_R_UNKNOWN:
	case APITOKEN_R_WRONG_USER:
	case APITOKEN_R_DISABLED:
	case APITOKEN_R_REVOKED:
		return account ? PAM_PERM_DENIED : PAM_AUTH_ERR;
	case APITOKEN_R_EXPIRED:
		return account ? PAM_ACCT_EXPIRED : PAM_AUTH_ERR;
	case WHY_NO_USER:
	case WHY_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case APITOKEN_R_STORE_ERROR:
	case WHY_CONFIG:
		return fault_code(d->error);
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
		{ WHY_CONV, "conversation-failed" },
		{ WHY_CONV_AGAIN, "conversation-incomplete" },
		{ WHY_NOMEM, "out-of-memory" },
		{ WHY_INTERNAL, "internal-error" },
	};
	size_t i;

	if (why >= APITOKEN_ACCEPTED && why <= APITOKEN_R_STORE_ERROR)
		return apitoken_reason_str((enum apitoken_reason)why);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].why == why)
			return names[i].name;
	return "internal-error";
}

void
log_escape(char *dst, size_t dstlen, const char *s, int quoted)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return;
	for (; s != NULL && *s != '\0' && o + 5 < dstlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (((c == ' ' && quoted) || (c > 0x20 && c < 0x7f)) &&
		    c != '"' && c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
	if (o == 0 && !quoted && dstlen > 1) {
		dst[0] = '-';
		dst[1] = '\0';
	}
}

/* " detail=..." for faults: the library's or the option parser's text. */
static void
extra_text(const struct decision *d, char *buf, size_t buflen)
{
	char esc[300], owner[APITOKEN_USER_MAX * 4 + 1];
	size_t n = 0;

	buf[0] = '\0';
	if (d->why == APITOKEN_R_WRONG_USER && d->res.user[0] != '\0') {
		log_escape(owner, sizeof(owner), d->res.user, 0);
		n = (size_t)snprintf(buf, buflen, " owner=%s", owner);
	}
	if (n < buflen && d->note != NULL)
		n += (size_t)snprintf(buf + n, buflen - n, " note=\"%s\"",
		    d->note);
	if (n < buflen && d->detail[0] != '\0') {
		log_escape(esc, sizeof(esc), d->detail, 1);
		snprintf(buf + n, buflen - n, " detail=\"%s\"", esc);
	}
}

void
decision_log(pam_handle_t *pamh, const struct decision *d, int pam_rc)
{
	char user[128], service[128], rhost[RHOST_MAX * 4 + 1];
	char label[APITOKEN_LABEL_MAX * 4 + 1], extra[1024];
	int ok = pam_rc == PAM_SUCCESS;

	log_escape(user, sizeof(user), d->user, 0);
	log_escape(service, sizeof(service), d->service, 0);
	log_escape(rhost, sizeof(rhost), d->rhost, 0);
	log_escape(label, sizeof(label), d->res.label, 1);
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
