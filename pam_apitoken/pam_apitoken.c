/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_apitoken.c - the PAM entry points.
 *
 * auth:    token typed at a prompt -> shape check (no store for anything
 *          that is not a token) -> account exists -> apitoken_verify_once(),
 *          or apitokend when this process cannot read the store (mode=)
 *          -> not locked -> one PAM code (decide.c) -> one audit line.
 *          An accepted token is remembered on the handle, nothing more.
 * setcred, open_session: the whole auth stack succeeded (an application
 *          calls them only then): publish APITOKEN_ID/APITOKEN_LABEL and
 *          record the last use, once.  open_session puts the variables
 *          back from the module's own data (a module before it, such as
 *          pam_env, may have set them), or removes them after a login
 *          that was not a token.
 * account: re-checks the token that authenticated this handle, the way
 *          auth checked it (store or apitokend); PAM_IGNORE when this
 *          module did not authenticate it.
 * chauthtok: not supported.
 */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_apitoken.h"

/* What auth leaves for setcred, session and account (pam_set_data,
 * MODULE_DATA_KEY). */
struct login {
	char id[APITOKEN_ID_LEN + 1];
	char label[APITOKEN_LABEL_MAX + 1];
	char *user;	/* the account it logged in */
	char *config;	/* the config file that verified it */
	char *service;	/* for the last-use record */
	char rhost[RHOST_MAX];	/* "" = none */
	int published;	/* environment set and last use recorded */
	int via_daemon;	/* apitokend verified it: it re-checks it, and it
			   records the last use */
	char *token;	/* via_daemon: the token, for the daemon's account
			   re-check (libpam clears PAM_AUTHTOK when
			   pam_authenticate returns); wiped when freed */
	size_t token_len;
};

static void
login_free(struct login *l)
{
	if (l == NULL)
		return;
	if (l->token != NULL) {
		apitoken_wipe(l->token, l->token_len);
		free(l->token);
	}
	free(l->user);
	free(l->config);
	free(l->service);
	free(l);
}

static void
login_cleanup(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	login_free(data);
}

/* With the debug option: "what value"; never the typed text. */
static void
debug_log(pam_handle_t *pamh, const struct args *a, const char *what,
    const char *value)
{
	char esc[512];

	if (!a->debug)
		return;
	apitoken_log_escape(esc, sizeof(esc), value, 0);
	pam_syslog(pamh, LOG_AUTHPRIV | LOG_DEBUG, "debug: %s %s", what, esc);
}

static void
decision_init(pam_handle_t *pamh, struct decision *d)
{
	const void *item = NULL;

	memset(d, 0, sizeof(*d));
	d->why = WHY_INTERNAL;
	d->res.reason = APITOKEN_R_STORE_ERROR;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		d->service = item;
	input_remote_addr(pamh, d);	/* every decision line carries it */
}

static int
parse_options(int argc, const char **argv, struct args *a,
    struct decision *d)
{
	if (args_parse(argc, argv, a, d->detail, sizeof(d->detail)) == 0)
		return 0;
	d->why = WHY_BAD_OPTION;
	return -1;
}

static int
load_config(const char *path, struct apitoken_config **cfgp,
    struct decision *d)
{
	int r = apitoken_config_load(path, cfgp, d->detail, sizeof(d->detail));

	if (r == 0)
		return 0;
	d->why = WHY_CONFIG;
	d->error = r;
	return -1;
}

static int
get_user(pam_handle_t *pamh, struct decision *d)
{
	const char *user = NULL;
	int rc = pam_get_user(pamh, &user, NULL);

	if (rc == PAM_CONV_AGAIN || rc == PAM_INCOMPLETE)
		d->why = WHY_CONV_AGAIN;
	else if (rc == PAM_CONV_ERR)
		d->why = WHY_CONV;
	else if (rc == PAM_BUF_ERR)
		d->why = WHY_NOMEM;
	else if (rc != PAM_SUCCESS)
		d->why = WHY_INTERNAL;
	else if (user == NULL || user[0] == '\0')
		d->why = WHY_NO_USER;
	else {
		d->user = user;
		return 0;
	}
	return -1;
}

/* Cheap shape check: nothing that is not a token touches the store. */
static int
shape_ok(const char *prefix, const char *tok, size_t len, struct decision *d)
{
	struct apitoken_token t;
	enum apitoken_format f = apitoken_token_parse(prefix, tok, len, &t);

	apitoken_token_clear(&t);
	if (f == APITOKEN_FMT_OK)
		return 0;
	d->res.format = f;
	if (f == APITOKEN_FMT_CHECKSUM) {
		/* a token with a typo: still (nearly) a secret */
		d->why = APITOKEN_R_BAD_CHECKSUM;
		d->note = apitoken_format_str(f);
		return -1;
	}
	/* one neutral outcome whatever the text was: the log must not tell
	 * what kind of password someone typed */
	d->why = WHY_NOT_TOKEN;
	if (input_is_sshd_dummy(tok, len))
		d->note = "sshd's dummy password: sshd refused this user "
		    "before PAM";
	return -1;
}

/* The store said no before any verdict: why, for the log. */
static void
store_fault(struct decision *d)
{
	d->error = d->res.error;
	snprintf(d->detail, sizeof(d->detail), "%s", d->res.detail);
	if (d->error == APITOKEN_ERR_ACCESS)
		d->note = geteuid() == 0 ? "permission denied" :
		    "the store is readable by root only; this program "
		    "does not run as root";
}

/* apitokend's verdict.  Unreachable: the note names the socket. */
static void
ask_daemon(const struct apitoken_config *cfg, const char *tok, size_t len,
    const struct apitoken_request *req, struct decision *d)
{
	d->via_daemon = 1;
	d->why = apitoken_client_verify(cfg, tok, len, req, &d->res);
	if (d->why == APITOKEN_R_UNAVAILABLE) {
		d->error = d->res.error;
		snprintf(d->notebuf, sizeof(d->notebuf), "%s", d->res.detail);
		d->note = d->notebuf;
	} else if (d->why == APITOKEN_R_STORE_ERROR) {
		d->error = d->res.error;
		snprintf(d->detail, sizeof(d->detail), "%s", d->res.detail);
	}
}

/* 1: a store this process may not open (EACCES, EPERM), which mode=auto
 * hands to apitokend.  Any other store fault stays a store error, so a
 * root caller never depends on the daemon. */
static int
store_unreadable(const struct decision *d)
{
	return d->why == APITOKEN_R_STORE_ERROR &&
	    d->res.error == APITOKEN_ERR_ACCESS;
}

static void
verify(pam_handle_t *pamh, const struct args *a,
    const struct apitoken_config *cfg, const char *tok, size_t len,
    struct decision *d)
{
	struct apitoken_request req;

	memset(&req, 0, sizeof(req));
	req.user = d->user;
	req.service = d->service;
	req.rhost = d->rhost;
	if (a->mode != MODE_DAEMON) {
		d->why = apitoken_verify_once(cfg, tok, len, &req, &d->res);
		if (a->mode == MODE_LOCAL || !store_unreadable(d)) {
			if (d->why == APITOKEN_R_STORE_ERROR ||
			    d->why == APITOKEN_R_STALE)
				store_fault(d);
			return;
		}
		debug_log(pamh, a, "store not readable here, asking apitokend "
		    "at", apitoken_config_daemon_socket(cfg));
	}
	ask_daemon(cfg, tok, len, &req, d);
}

/* The account is locked (passwd -l): refuse its token, unless the
 * allow_locked option says not to look.  Only after the secret matched,
 * so that only its holder learns why. */
static void
check_locked(pam_handle_t *pamh, const struct args *a, struct decision *d)
{
	int unreadable = 0, r;

	if (a->allow_locked || d->why != APITOKEN_ACCEPTED)
		return;
	if (d->via_daemon && geteuid() != 0) {
		/* shadow is root's; what NSS gives others is no answer
		 * (nss-systemd makes up "!*" for nobody): apitokend,
		 * which runs as root, checked the lock instead */
		debug_log(pamh, a, "not root: lock not checked for", d->user);
		return;
	}
	r = apitoken_account_locked(d->user, &unreadable);
	if (r < 0)
		d->why = WHY_USER_LOOKUP;
	else if (r > 0)
		d->why = WHY_LOCKED;
	else if (unreadable)
		debug_log(pamh, a, "shadow not readable, lock not checked for",
		    d->user);
}

static void
unset_env(pam_handle_t *pamh, const char *name)
{
	/* deleting an absent entry makes libpam log an error */
	if (pam_getenv(pamh, name) != NULL)
		(void)pam_putenv(pamh, name);
}

/* Forget what an earlier auth on this handle left behind. */
static void
forget_env(pam_handle_t *pamh)
{
	unset_env(pamh, "APITOKEN_ID");
	unset_env(pamh, "APITOKEN_LABEL");
	unset_env(pamh, PENDING_VAR);
}

static void
forget_login(pam_handle_t *pamh)
{
	(void)pam_set_data(pamh, MODULE_DATA_KEY, NULL, NULL);
	forget_env(pamh);
}

static int
put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	char buf[64 + APITOKEN_LABEL_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s=%s", name, value) >=
	    sizeof(buf))
		return PAM_BUF_ERR;
	return pam_putenv(pamh, buf);
}

/* A daemon login keeps its token for the account phase: only the
 * daemon can re-check it, and it needs the token, not the id. */
static int
keep_token(struct login *l, const char *tok, size_t len)
{
	if (!l->via_daemon || tok == NULL)
		return 0;
	if ((l->token = malloc(len + 1)) == NULL)
		return -1;
	memcpy(l->token, tok, len);
	l->token[len] = '\0';
	l->token_len = len;
	return 0;
}

/* The token login, kept on the handle; published later (setcred).  tok
 * (may be NULL) is what was verified. */
static int
remember_login(pam_handle_t *pamh, const char *config, struct decision *d,
    const char *tok, size_t len)
{
	struct login *l = calloc(1, sizeof(*l));
	int rc = PAM_BUF_ERR;

	if (l == NULL || (l->user = strdup(d->user)) == NULL ||
	    (l->config = strdup(config)) == NULL ||
	    (l->service = strdup(d->service != NULL ? d->service : "")) ==
	    NULL)
		goto out;
	l->via_daemon = d->via_daemon;
	if (keep_token(l, tok, len) != 0)
		goto out;
	memcpy(l->id, d->res.id, sizeof(l->id));
	memcpy(l->label, d->res.label, sizeof(l->label));
	if (d->rhost != NULL)
		snprintf(l->rhost, sizeof(l->rhost), "%s", d->rhost);
	rc = put_env(pamh, PENDING_VAR, l->id);
	if (rc == PAM_SUCCESS)
		rc = pam_set_data(pamh, MODULE_DATA_KEY, l, login_cleanup);
	if (rc == PAM_SUCCESS)
		l = NULL;	/* owned by PAM now */
out:
	login_free(l);
	if (rc != PAM_SUCCESS) {
		d->why = rc == PAM_BUF_ERR ? WHY_NOMEM : WHY_INTERNAL;
		forget_login(pamh);
	}
	return rc == PAM_SUCCESS ? 0 : -1;
}

/* APITOKEN_ID/APITOKEN_LABEL from the module's own data. */
static int
assert_env(pam_handle_t *pamh, const struct login *l)
{
	int rc = put_env(pamh, "APITOKEN_ID", l->id);

	if (rc == PAM_SUCCESS)
		rc = put_env(pamh, "APITOKEN_LABEL", l->label);
	if (rc != PAM_SUCCESS)
		forget_env(pamh);
	return rc;
}

/* Last use is best effort: a failure is logged, the login goes on. */
static void
record_use(pam_handle_t *pamh, const struct args *a, const struct login *l)
{
	struct apitoken_config *cfg = NULL;
	char err[256], esc[1024];
	int r;

	err[0] = '\0';
	r = apitoken_config_load(l->config, &cfg, err, sizeof(err));
	if (r == 0)
		r = apitoken_lastuse_record(cfg, l->id, l->service,
		    l->rhost[0] != '\0' ? l->rhost : NULL, 0, LASTUSE_INTERVAL,
		    err, sizeof(err));
	apitoken_config_free(cfg);
	if (r != 0) {
		apitoken_log_escape(esc, sizeof(esc), err[0] != '\0' ? err :
		    apitoken_strerror(r), 1);
		pam_syslog(pamh, LOG_AUTHPRIV | LOG_WARNING,
		    "token=%s: last use not recorded: \"%s\"", l->id, esc);
	} else
		debug_log(pamh, a, "last use noted (at most once a minute):",
		    l->id);
}

/* The whole auth stack succeeded: publish the login, once. */
static int
publish_login(pam_handle_t *pamh, const struct args *a, struct login *l)
{
	int rc;

	if (l->published)
		return PAM_SUCCESS;
	unset_env(pamh, PENDING_VAR);
	if ((rc = assert_env(pamh, l)) != PAM_SUCCESS)
		return rc;
	l->published = 1;
	if (l->via_daemon)	/* this process may not write state_dir */
		debug_log(pamh, a, "last use noted by apitokend for", l->id);
	else
		record_use(pamh, a, l);
	return PAM_SUCCESS;
}

static struct login *
get_login(pam_handle_t *pamh)
{
	const void *data = NULL;

	if (pam_get_data(pamh, MODULE_DATA_KEY, &data) != PAM_SUCCESS)
		return NULL;
	return (struct login *)(uintptr_t)data;
}

static void recheck(const struct apitoken_config *, struct apitoken_store *,
    const struct login *, struct decision *);

/*
 * sshd runs auth in a child process and hands only the PAM environment
 * back to the process that calls setcred and open_session: there the
 * login is rebuilt from PENDING_VAR, and only for a token that is still
 * the user's and usable now (a value planted in the PAM environment can
 * name nothing but the user's own token).
 */
static struct login *
login_from_env(pam_handle_t *pamh, const struct args *a)
{
	const char *id = pam_getenv(pamh, PENDING_VAR);
	struct apitoken_config *cfg = NULL;
	struct apitoken_store *store = NULL;
	struct login probe;
	struct decision d;

	if (id == NULL || apitoken_id_valid(id) != 0)
		return NULL;
	if (a->mode == MODE_DAEMON) {
		/* only the store looks a token up by its id: nothing is
		 * rebuilt (no APITOKEN_ID in the session) */
		unset_env(pamh, PENDING_VAR);
		return NULL;
	}
	decision_init(pamh, &d);
	memset(&probe, 0, sizeof(probe));
	snprintf(probe.id, sizeof(probe.id), "%s", id);
	if (get_user(pamh, &d) == 0 && load_config(a->config, &cfg, &d) == 0 &&
	    apitoken_store_open(cfg, &store, d.detail, sizeof(d.detail)) == 0)
		recheck(cfg, store, &probe, &d);
	apitoken_store_close(store);
	apitoken_config_free(cfg);
	unset_env(pamh, PENDING_VAR);
	if (d.why != APITOKEN_ACCEPTED)
		return NULL;
	memcpy(d.res.id, probe.id, sizeof(d.res.id));
	if (remember_login(pamh, a->config, &d, NULL, 0) != 0)
		return NULL;
	return get_login(pamh);
}

static struct login *
find_login(pam_handle_t *pamh, const struct args *a)
{
	struct login *l = get_login(pamh);

	return l != NULL ? l : login_from_env(pamh, a);
}

static void
finish(pam_handle_t *pamh, const struct args *a, struct decision *d,
    int rc, enum phase ph)
{
	decision_log(pamh, d, rc);
	if (rc != PAM_SUCCESS && !a->quiet)
		decision_tell_user(pamh, d, ph);
}

/* Options, and the fail delay (unless nodelay). */
static int
auth_options(pam_handle_t *pamh, int flags, int argc, const char **argv,
    struct args *a, struct decision *d)
{
	int r = parse_options(argc, argv, a, d);

	if (r != 0 || !a->nodelay)
		(void)pam_fail_delay(pamh, FAIL_DELAY_USEC);
	if (flags & PAM_SILENT)
		a->quiet = 1;
	return r;
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct apitoken_config *cfg = NULL;
	struct decision d;
	struct args a;
	const char *tok = NULL;
	size_t len = 0;
	int rc;

	decision_init(pamh, &d);
	forget_login(pamh);
	if (auth_options(pamh, flags, argc, argv, &a, &d) != 0)
		goto out;
	debug_log(pamh, &a, "config", a.config);
	if (load_config(a.config, &cfg, &d) != 0 ||
	    get_user(pamh, &d) != 0 ||
	    input_get_token(pamh, &a, apitoken_config_token_prefix(cfg), &tok,
	    &len, &d) != 0 ||
	    shape_ok(apitoken_config_token_prefix(cfg), tok, len, &d) != 0 ||
	    account_exists(&d) != 0)
		goto out;
	debug_log(pamh, &a, "remote address", d.rhost);
	verify(pamh, &a, cfg, tok, len, &d);
	check_locked(pamh, &a, &d);
	if (d.why == APITOKEN_ACCEPTED)
		(void)remember_login(pamh, a.config, &d, tok, len);
out:
	rc = decision_pam_code(PHASE_AUTH, &d);
	finish(pamh, &a, &d, rc, PHASE_AUTH);
	if (rc == PAM_SUCCESS && !a.quiet)
		decision_warn_expiry(pamh, &d, a.warn_expiry,
		    (int64_t)time(NULL));
	apitoken_config_free(cfg);
	return rc;
}

/* setcred and open_session: an option error was already reported (and
 * failed) by auth. */
static int
quiet_options(int argc, const char **argv, struct args *a)
{
	char err[128];

	return args_parse(argc, argv, a, err, sizeof(err));
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login *l;
	struct args a;

	if (flags & PAM_DELETE_CRED)
		return PAM_SUCCESS;
	if (quiet_options(argc, argv, &a) != 0)
		return PAM_SERVICE_ERR;
	if ((l = find_login(pamh, &a)) == NULL)
		return PAM_SUCCESS;
	return publish_login(pamh, &a, l);
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct login *l;
	struct args a;
	int rc;

	(void)flags;
	if (quiet_options(argc, argv, &a) != 0)
		return PAM_SERVICE_ERR;
	if ((l = find_login(pamh, &a)) == NULL) {
		forget_env(pamh);	/* not a token login: no token id */
		return PAM_SUCCESS;
	}
	rc = publish_login(pamh, &a, l);
	return rc == PAM_SUCCESS ? assert_env(pamh, l) : rc;
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* The token's state now, as a verdict: accepted, or why not. */
static void
recheck(const struct apitoken_config *cfg, struct apitoken_store *store,
    const struct login *l, struct decision *d)
{
	struct apitoken_record *rec = NULL;
	struct apitoken_request req;
	int r;

	memset(&req, 0, sizeof(req));
	req.user = d->user;
	req.service = d->service;
	req.rhost = d->rhost;
	r = apitoken_store_find(store, l->id, &rec, d->detail,
	    sizeof(d->detail));
	if (r == APITOKEN_ERR_NOT_FOUND) {
		d->why = APITOKEN_R_UNKNOWN;
		d->detail[0] = '\0';
	} else if (r != 0) {
		d->why = APITOKEN_R_STORE_ERROR;
		d->error = r;
	} else
		d->why = apitoken_record_usable(cfg, rec, &req);
	if (rec != NULL)
		snprintf(d->res.label, sizeof(d->res.label), "%s", rec->label);
	apitoken_record_free(rec);
}

/* The store: the token looked up by id, its policy checked now. */
static void
recheck_local(const struct apitoken_config *cfg, const struct login *l,
    struct decision *d)
{
	struct apitoken_store *store = NULL;
	int r;

	r = apitoken_store_open(cfg, &store, d->detail, sizeof(d->detail));
	if (r != 0) {
		d->why = APITOKEN_R_STORE_ERROR;
		d->error = r;
		return;
	}
	recheck(cfg, store, l, d);
	apitoken_store_close(store);
}

/*
 * apitokend: the daemon verifies the token again (the caller may not read
 * the store, so it cannot look the id up), with the copy auth kept.
 */
static void
recheck_daemon(const struct apitoken_config *cfg, const struct login *l,
    struct decision *d)
{
	struct apitoken_request req;

	if (l->token == NULL) {
		d->why = WHY_NO_TOKEN;
		d->note = "the token was not kept; apitokend cannot re-check it";
		return;
	}
	memset(&req, 0, sizeof(req));
	req.user = d->user;
	req.service = d->service;
	req.rhost = d->rhost;
	ask_daemon(cfg, l->token, l->token_len, &req, d);
	if (d->why == APITOKEN_ACCEPTED && strcmp(d->res.id, l->id) != 0)
		d->why = APITOKEN_R_UNKNOWN;	/* cannot happen */
	memcpy(d->res.id, l->id, sizeof(d->res.id));
}

static void
account_check(pam_handle_t *pamh, const struct args *a,
    const struct login *l, struct decision *d)
{
	struct apitoken_config *cfg = NULL;

	memcpy(d->res.id, l->id, sizeof(d->res.id));
	debug_log(pamh, a, l->via_daemon ? "re-checking through apitokend "
	    "token" : "re-checking token", l->id);
	if (load_config(l->config, &cfg, d) != 0 || get_user(pamh, d) != 0)
		goto out;
	if (l->via_daemon)
		recheck_daemon(cfg, l, d);
	else
		recheck_local(cfg, l, d);
	if (d->why == APITOKEN_ACCEPTED && account_exists(d) == 0)
		check_locked(pamh, a, d);
out:
	apitoken_config_free(cfg);
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct login *l;
	struct decision d;
	struct args a;
	int rc;

	decision_init(pamh, &d);
	if (parse_options(argc, argv, &a, &d) != 0)
		goto out;
	if (flags & PAM_SILENT)
		a.quiet = 1;
	if ((l = get_login(pamh)) == NULL) {
		debug_log(pamh, &a, "not authenticated by a token:",
		    "ignored");
		return PAM_IGNORE;
	}
	account_check(pamh, &a, l, &d);
out:
	rc = decision_pam_code(PHASE_ACCOUNT, &d);
	finish(pamh, &a, &d, rc, PHASE_ACCOUNT);
	return rc;
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	(void)argc;
	(void)argv;
	pam_syslog(pamh, LOG_AUTHPRIV | LOG_NOTICE,
	    "password changes are not supported: API tokens are issued, "
	    "rotated and revoked with tokenctl");
	return PAM_SERVICE_ERR;
}
