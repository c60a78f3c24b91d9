/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - fixtures for the PAM module tests: a throw-away config and
 * store in a mkdtemp directory (made with the library, so these tests do
 * not depend on tokenctl), PAM service files naming the built module by
 * absolute path, a real-libpam runner (pam_start_confdir) with a scripted
 * conversation, a child-process runner, and a syslog catcher.
 */
#ifndef TESTS_PAM_UTIL_H
#define TESTS_PAM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "apitoken.h"
#include "tl.h"

#define MODULE_PATH TL_MODULE
/* the same module with libyaml and nettle linked in (make STATIC_DEPS=1) */
#define STATIC_MODULE_PATH BUILD_DIR "/static/pam_apitoken.so"
#define SET_ITEMS_PATH "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"
/* puts the PAM items into the PAM environment (PAM_SERVICE=... etc.) */
#define GET_ITEMS_PATH "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_get_items.so"
#define TOK_BUF (APITOKEN_TOKEN_MAX + 1)

struct fixture {
	char dir[64];			/* mkdtemp, 0700 */
	char config[256];		/* dir/apitoken.yaml */
	char store[256];		/* dir/store/tokens */
	char state[256];		/* dir/state */
	char pamdir[256];		/* dir/pam.d: service files */
	char module[256];		/* dir/pam_apitoken.so: @MOD@ */
	char sock[256];			/* dir/apitokend.sock: daemon_socket,
					   where no daemon listens */
	struct apitoken_config *cfg;
};

/* Token options for fx_issue(); zero = defaults (all services, anywhere,
 * never expires). */
struct issue_opts {
	const char *services;		/* comma-separated, or NULL */
	const char *from;		/* comma-separated CIDRs, or NULL */
	int64_t expires;		/* absolute, 0 = never */
	const char *parent;		/* id, or NULL */
	const char *hosts;		/* comma-separated, or NULL */
};

void fx_setup(struct fixture *fx);
void fx_teardown(struct fixture *fx);
/* The fixture's config plus extra lines, reloaded into fx->cfg. */
void fx_config_with(struct fixture *fx, const char *extra);
/* Issue a token for user; writes the token text and its id. */
void fx_issue(struct fixture *fx, const char *user, const char *label,
    const struct issue_opts *o, char tok[TOK_BUF],
    char id[APITOKEN_ID_LEN + 1]);
void fx_set_status(struct fixture *fx, const char *id,
    enum apitoken_status st);
/* Rotation as tokenctl does it: a new token (parent = old), old revoked. */
void fx_rotate(struct fixture *fx, const char *old_id, char tok[TOK_BUF],
    char id[APITOKEN_ID_LEN + 1]);
/*
 * Write the PAM service file pamdir/name.  In text, "@MOD@" becomes the
 * module's absolute path, "@CFG@" the fixture's config path and "@SET@"
 * pam_wrapper's pam_set_items.so.
 */
void fx_service(struct fixture *fx, const char *name, const char *text);

/* One run through real libpam. */
struct pam_run {
	const char *answers[4];		/* echo-off prompts answered in order;
					   past the end the conversation fails */
	const char *rhost;		/* PAM_RHOST, or NULL */
	const char *ssh_connection;	/* SSH_CONNECTION in the PAM env */
	int account;			/* also pam_acct_mgmt() after auth */
	int account_only;		/* pam_acct_mgmt() alone */
	int chauthtok;			/* pam_chauthtok() instead */
	int no_setcred;			/* no pam_setcred() after auth */
	int session;			/* pam_open_session() after setcred */
	int (*between)(struct pam_run *);	/* after auth, before account */
	void *ctx;
	/* results */
	int auth_rc, acct_rc, chauthtok_rc, setcred_rc, session_rc;
	int prompts;			/* echo-off prompts asked */
	char last_prompt[128];
	char errors[512];		/* PAM_ERROR_MSG texts, '\n'-separated */
	char env_id[64], env_label[256];
	int env_in_list;		/* APITOKEN_ID= in pam_getenvlist() */
	int items_seen;			/* pam_get_items.so ran (PAM_SERVICE
					   in the PAM environment) */
	unsigned delay_usec;		/* pam_fail_delay the app was asked for */
	int delay_called;
};
void run_pam(struct fixture *fx, const char *service, const char *user,
    struct pam_run *r);
/* Convenience: authenticate with one answer; returns the PAM code. */
int auth_with(struct fixture *fx, const char *service, const char *user,
    const char *answer, const char *rhost);

/* The id and secret parts of a token string made by fx_issue(). */
void token_parts(const char *tok, char id[APITOKEN_ID_LEN + 1],
    char secret[APITOKEN_SECRET_LEN + 1]);

/* The module's entry points, and the check that a module's dynamic
 * symbol table (nm -D --defined-only) defines them and nothing else. */
#define PAM_SM_COUNT 6
extern const char *const pam_sm_names[PAM_SM_COUNT];
void assert_exports_only_pam_sm(const char *module);

/* pam_strerror() without a handle, for messages. */
const char *pamstr(int rc);
#define assert_pam(got, want) cr_assert((got) == (want), \
	"PAM code %d (%s), expected %d (%s)", (got), pamstr(got), (want), \
	pamstr(want))

/* Run argv with env (NULL = inherit), stdin text; capture stdout+stderr.
 * Returns the exit status, 128+signal, or -1; kills after timeout_s. */
int run_cmd(const char *const argv[], const char *const envp[],
    const char *input,
    char *out, size_t outlen, int timeout_s);

/* Root only: make the fixture readable except the store, then run as
 * "nobody" (saved uid 0); fx_teardown() switches back. */
void become_nobody(struct fixture *fx);
void become_root_again(void);

/*
 * Catch syslog lines of this process: a private mount namespace with a
 * tmpfs /dev holding a datagram socket "log".  Root only; returns 0, or -1
 * (with a reason in why) when not possible.
 */
struct logcap {
	int fd;
	char dir[64];
};
int logcap_start(struct logcap *lc, char *why, size_t whylen);
/* Append every line received so far to buf ('\n'-separated); count. */
int logcap_read(struct logcap *lc, char *buf, size_t buflen);
void logcap_stop(struct logcap *lc);

#endif
