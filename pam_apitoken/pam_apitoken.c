/*
 * pam_apitoken.c - the PAM entry points.
 *
 * auth:    token typed at a prompt -> shape check (no store for anything
 *          that is not a token) -> account exists -> apitoken_verify_once()
 *          -> one PAM code (decide.c) -> one audit line.
 * account: re-checks the token that authenticated this handle; PAM_IGNORE
 *          when this module did not authenticate it.
 * setcred: PAM_SUCCESS.  chauthtok: not supported.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_apitoken.h"

/* What auth leaves for account (pam_set_data, MODULE_DATA_KEY). */
struct login {
	char id[APITOKEN_ID_LEN + 1];
	char *user;	/* the account it logged in */
	char *config;	/* the config file that verified it */
};

static void
login_free(struct login *l)
{
	if (l == NULL)
		return;
	free(l->user);
	free(l->config);
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
	log_escape(esc, sizeof(esc), value, 0);
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

/* The account must exist: an unknown user never succeeds (CVE-2020-27780). */
static int
user_exists(struct decision *d)
{
	struct passwd pw, *found = NULL;
	size_t size = 16384;
	char *buf = NULL;
	int r;

	for (;;) {
		char *nbuf = realloc(buf, size);

		if (nbuf == NULL) {
			d->why = WHY_NOMEM;
			r = -1;
			goto out;
		}
		buf = nbuf;
		r = getpwnam_r(d->user, &pw, buf, size, &found);
		if (r != ERANGE || size >= 1048576)
			break;
		size *= 2;
	}
	if (r != 0)
		d->why = WHY_USER_LOOKUP;
	else if (found == NULL)
		d->why = WHY_USER_UNKNOWN;
	r = (r == 0 && found != NULL) ? 0 : -1;
out:
	free(buf);
	return r;
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
	d->why = f == APITOKEN_FMT_CHECKSUM ? APITOKEN_R_BAD_CHECKSUM :
	    APITOKEN_R_MALFORMED;
	d->res.format = f;
	d->note = input_is_sshd_dummy(tok, len) ?
	    "sshd's dummy password: sshd refused this user before PAM" :
	    apitoken_format_str(f);
	return -1;
}

static void
verify(const struct apitoken_config *cfg, const char *tok, size_t len,
    struct decision *d)
{
	struct apitoken_request req;

	memset(&req, 0, sizeof(req));
	req.user = d->user;
	req.service = d->service;
	req.rhost = d->rhost;
	d->why = apitoken_verify_once(cfg, tok, len, &req, &d->res);
	if (d->why != APITOKEN_R_STORE_ERROR)
		return;
	d->error = d->res.error;
	snprintf(d->detail, sizeof(d->detail), "%s", d->res.detail);
	if (d->error == APITOKEN_ERR_ACCESS)
		d->note = geteuid() == 0 ? "permission denied" :
		    "the store is readable by root only; this program "
		    "does not run as root";
}

/* Forget what an earlier auth on this handle left behind. */
static void
forget_login(pam_handle_t *pamh)
{
	(void)pam_set_data(pamh, MODULE_DATA_KEY, NULL, NULL);
	/* deleting an absent entry makes libpam log an error */
	if (pam_getenv(pamh, "APITOKEN_ID") != NULL)
		(void)pam_putenv(pamh, "APITOKEN_ID");
	if (pam_getenv(pamh, "APITOKEN_LABEL") != NULL)
		(void)pam_putenv(pamh, "APITOKEN_LABEL");
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

/* APITOKEN_ID/APITOKEN_LABEL for the session; the id for account. */
static int
remember_login(pam_handle_t *pamh, const char *config, struct decision *d)
{
	struct login *l = calloc(1, sizeof(*l));
	int rc = PAM_BUF_ERR;

	if (l == NULL || (l->user = strdup(d->user)) == NULL ||
	    (l->config = strdup(config)) == NULL)
		goto out;
	memcpy(l->id, d->res.id, sizeof(l->id));
	rc = put_env(pamh, "APITOKEN_ID", d->res.id);
	if (rc == PAM_SUCCESS)
		rc = put_env(pamh, "APITOKEN_LABEL", d->res.label);
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

/* Last use is best effort: a failure is logged, the login goes on. */
static void
record_use(pam_handle_t *pamh, const struct args *a,
    const struct apitoken_config *cfg, const struct decision *d)
{
	char err[256], esc[1024];
	int r;

	err[0] = '\0';
	r = apitoken_lastuse_record(cfg, d->res.id, d->service, d->rhost, 0,
	    LASTUSE_INTERVAL, err, sizeof(err));
	if (r != 0) {
		log_escape(esc, sizeof(esc), err[0] != '\0' ? err :
		    apitoken_strerror(r), 1);
		pam_syslog(pamh, LOG_AUTHPRIV | LOG_WARNING,
		    "token=%s: last use not recorded: \"%s\"", d->res.id, esc);
	} else
		debug_log(pamh, a, "last use noted (at most once a minute):",
		    d->res.id);
}

static void
finish(pam_handle_t *pamh, const struct args *a, struct decision *d,
    int rc, enum phase ph)
{
	decision_log(pamh, d, rc);
	if (rc != PAM_SUCCESS && !a->quiet)
		decision_tell_user(pamh, d, ph);
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
	(void)pam_fail_delay(pamh, FAIL_DELAY_USEC);
	forget_login(pamh);
	if (parse_options(argc, argv, &a, &d) != 0)
		goto out;
	if (flags & PAM_SILENT)
		a.quiet = 1;
	debug_log(pamh, &a, "config", a.config);
	if (load_config(a.config, &cfg, &d) != 0 ||
	    get_user(pamh, &d) != 0 ||
	    input_get_token(pamh, &a, apitoken_config_token_prefix(cfg), &tok,
	    &len, &d) != 0 ||
	    shape_ok(apitoken_config_token_prefix(cfg), tok, len, &d) != 0 ||
	    user_exists(&d) != 0)
		goto out;
	input_remote_addr(pamh, &d);
	debug_log(pamh, &a, "remote address", d.rhost);
	verify(cfg, tok, len, &d);
	if (d.why == APITOKEN_ACCEPTED &&
	    remember_login(pamh, a.config, &d) == 0)
		record_use(pamh, &a, cfg, &d);
out:
	rc = decision_pam_code(PHASE_AUTH, &d);
	finish(pamh, &a, &d, rc, PHASE_AUTH);
	apitoken_config_free(cfg);
	return rc;
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
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

static void
account_check(pam_handle_t *pamh, const struct args *a,
    const struct login *l, struct decision *d)
{
	struct apitoken_config *cfg = NULL;
	struct apitoken_store *store = NULL;
	int r;

	memcpy(d->res.id, l->id, sizeof(d->res.id));
	debug_log(pamh, a, "re-checking token", l->id);
	input_remote_addr(pamh, d);
	if (load_config(l->config, &cfg, d) != 0 || get_user(pamh, d) != 0)
		goto out;
	r = apitoken_store_open(cfg, &store, d->detail, sizeof(d->detail));
	if (r != 0) {
		d->why = APITOKEN_R_STORE_ERROR;
		d->error = r;
		goto out;
	}
	recheck(cfg, store, l, d);
out:
	apitoken_store_close(store);
	apitoken_config_free(cfg);
}

MODULE_EXPORT PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	struct decision d;
	struct args a;
	int rc;

	decision_init(pamh, &d);
	if (parse_options(argc, argv, &a, &d) != 0)
		goto out;
	if (flags & PAM_SILENT)
		a.quiet = 1;
	if (pam_get_data(pamh, MODULE_DATA_KEY, &data) != PAM_SUCCESS ||
	    data == NULL) {
		debug_log(pamh, &a, "not authenticated by a token:",
		    "ignored");
		return PAM_IGNORE;
	}
	account_check(pamh, &a, data, &d);
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
