/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_apitoken.h - declarations shared by the PAM module's own files.
 * Nothing here is exported: the version script (pam_apitoken.map) keeps
 * only pam_sm_* visible.
 */
#ifndef PAM_APITOKEN_H
#define PAM_APITOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "apitoken.h"

#define MODULE_DATA_KEY "pam_apitoken.login"	/* pam_set_data() key */
/* The token id between a successful auth and setcred/open_session, in the
 * PAM environment (the only thing sshd carries over); never in a session. */
#define PENDING_VAR "APITOKEN_AUTH_PENDING"
#define DEFAULT_PROMPT "API token: "
#define FAIL_DELAY_USEC 2000000u		/* pam_fail_delay() on failure */
#define LASTUSE_INTERVAL 60			/* seconds between last-use writes */
#define RHOST_MAX 64
#define WARN_EXPIRY_DEFAULT (7 * 86400)		/* warn_expiry= default, seconds */

/* Objects are built with -fvisibility=hidden; the entry points must be
 * visible for the version script to export them. */
#define MODULE_EXPORT __attribute__((visibility("default")))

/* mode=: where a token is checked. */
enum mode {
	MODE_AUTO,	/* the store when this process can read it, else
			   apitokend */
	MODE_LOCAL,	/* the store only */
	MODE_DAEMON,	/* apitokend only */
};

/* Module options (argv of the pam.d line); strings are borrowed from argv. */
struct args {
	const char *config;	/* config=PATH, default APITOKEN_DEFAULT_CONFIG */
	const char *prompt;	/* prompt=TEXT, default DEFAULT_PROMPT */
	int debug;
	int use_first_pass;	/* wins over try_first_pass */
	int try_first_pass;
	int quiet;		/* no messages to the user */
	int nodelay;		/* no pam_fail_delay() on failure */
	int allow_locked;	/* do not refuse tokens of locked accounts */
	int64_t warn_expiry;	/* warn_expiry=DURATION in seconds, 0 = off */
	enum mode mode;		/* mode=auto|local|daemon, default auto */
};

/* args.c: parse argv.  Returns 0, or -1 with the offending option in err. */
int args_parse(int argc, const char **argv, struct args *a,
    char *err, size_t errlen);

enum phase { PHASE_AUTH, PHASE_ACCOUNT };

/*
 * Why a decision was made: an enum apitoken_reason (the library's verdict)
 * or one of these module-side outcomes, which happen before any verdict.
 */
enum {
	WHY_BAD_OPTION = 100,	/* unknown or malformed module option */
	WHY_CONFIG,		/* the config file did not load */
	WHY_NO_USER,		/* PAM_USER unset or empty */
	WHY_USER_UNKNOWN,	/* no such account (getpwnam) */
	WHY_USER_LOOKUP,	/* getpwnam itself failed */
	WHY_NO_TOKEN,		/* use_first_pass but nothing cached */
	WHY_TOO_LONG,		/* input longer than PAM_MAX_RESP_SIZE */
	WHY_NOT_TOKEN,		/* input not token-shaped (a password) */
	WHY_LOCKED,		/* the account is locked (passwd -l) */
	WHY_CONV,		/* the conversation failed */
	WHY_CONV_AGAIN,		/* the conversation is not finished */
	WHY_NOMEM,
	WHY_INTERNAL,		/* a PAM call failed unexpectedly */
};

/* One decision, filled in step by step by auth or account. */
struct decision {
	int why;			/* WHY_* or enum apitoken_reason */
	int error;			/* APITOKEN_ERR_* behind a fault */
	const char *user;		/* PAM_USER (owned by PAM) or NULL */
	int user_exists;		/* 1: user is a known account */
	const char *service;		/* PAM_SERVICE (owned by PAM) or NULL */
	const char *rhost;		/* rhostbuf: an IP address, or NULL */
	char rhostbuf[RHOST_MAX];
	const char *rhost_item;		/* PAM_RHOST as given (for the log) */
	struct apitoken_result res;	/* token id, owner, label */
	const char *note;		/* text for the log (static or notebuf),
					   or NULL */
	char notebuf[256];
	char detail[256];		/* a library or option message */
	int via_daemon;			/* apitokend gave the verdict */
};

/* decide.c: the one place library verdicts become PAM codes. */
int decision_pam_code(enum phase ph, const struct decision *d);
const char *decision_why_str(int why);
/* The audit line: exactly one per decision, never the typed text. */
void decision_log(pam_handle_t *pamh, const struct decision *d, int pam_rc);
/* A short message for the user, only when the secret was right. */
void decision_tell_user(pam_handle_t *pamh, const struct decision *d,
    enum phase ph);
/* "Your API token ... expires in N days", when it expires within
 * a->warn_expiry seconds of now (PAM_TEXT_INFO; not with quiet). */
void decision_warn_expiry(pam_handle_t *pamh, const struct decision *d,
    int64_t within, int64_t now);

/* input.c: where the token and the remote address come from. */
int input_get_token(pam_handle_t *pamh, const struct args *a,
    const char *prefix, const char **tokp, size_t *lenp,
    struct decision *d);
int input_looks_like_token(const char *prefix, const char *s);
int input_is_sshd_dummy(const char *s, size_t len);
void input_remote_addr(pam_handle_t *pamh, struct decision *d);

/* account.c: the account behind PAM_USER.  0 when it exists; -1 with
 * d->why set (unknown, lookup failed, out of memory). */
int account_exists(struct decision *d);

#endif
