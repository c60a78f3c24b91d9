/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - fixtures for the PAM module tests (see util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <security/pam_appl.h>

#include "util.h"

/* ------------------------------------------------------------ fixture */

void
fx_setup(struct fixture *fx)
{
	char text[1024], err[512];
	int r;

	memset(fx, 0, sizeof(*fx));
	tl_tmpdir(fx->dir, sizeof(fx->dir), "pamtest");
	snprintf(fx->config, sizeof(fx->config), "%s/apitoken.yaml", fx->dir);
	snprintf(fx->store, sizeof(fx->store), "%s/store/tokens", fx->dir);
	snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
	snprintf(fx->pamdir, sizeof(fx->pamdir), "%s/pam.d", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/apitokend.sock", fx->dir);
	snprintf(text, sizeof(text), "%s/store", fx->dir);
	cr_assert(mkdir(text, 0700) == 0);
	cr_assert(mkdir(fx->state, 0700) == 0);
	cr_assert(mkdir(fx->pamdir, 0700) == 0);
	snprintf(text, sizeof(text), "%s/other", fx->pamdir);
	tl_write_str(text, "auth required pam_deny.so\n"
	    "account required pam_deny.so\n", 0644);
	snprintf(text, sizeof(text), "token_prefix: apitok\n"
	    "default_lifetime: never\nmax_lifetime: never\n"
	    "lock_timeout: 5s\ndaemon_socket: %s\n", fx->sock);
	tl_write_config(fx->config, fx->store, fx->state, text, 0644);
	r = apitoken_config_load(fx->config, &fx->cfg, err, sizeof(err));
	cr_assert(r == 0, "config_load: %s", err);
	/* an empty store as the format defines it (header, trailer); see
	 * contract.c for why not an empty CREATE transaction */
	snprintf(text, sizeof(text), "%s\n%s\n", apitoken_store_header(),
	    apitoken_store_trailer());
	tl_write_str(fx->store, text, 0600);
}

void
fx_teardown(struct fixture *fx)
{
	become_root_again();
	apitoken_config_free(fx->cfg);
	fx->cfg = NULL;
	if (fx->dir[0] != '\0') {
		chmod(fx->dir, 0700);
		tl_rmrf(fx->dir);
	}
}

static void
add_list(char ***list, size_t *n, const char *csv)
{
	char buf[512], *save = NULL, *p;

	if (csv == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", csv);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		cr_assert(apitoken_record_list_add(list, n, p) == 0);
}

static struct apitoken_record *
new_record(const char *user, const char *label, const struct issue_opts *o,
    const char *hash)
{
	struct apitoken_record *rec = apitoken_record_new();
	int64_t now = (int64_t)time(NULL);

	cr_assert(rec != NULL);
	cr_assert(apitoken_record_set(&rec->user, user) == 0);
	cr_assert(apitoken_record_set(&rec->label, label) == 0);
	cr_assert(apitoken_record_set(&rec->hash, hash) == 0);
	cr_assert(apitoken_record_set(&rec->created_by, "test-pam") == 0);
	rec->created = now - 86400;
	rec->updated = rec->created;
	if (o != NULL) {
		add_list(&rec->services, &rec->n_services, o->services);
		add_list(&rec->from, &rec->n_from, o->from);
		add_list(&rec->hosts, &rec->n_hosts, o->hosts);
		rec->expires = o->expires;
		if (o->parent != NULL)
			cr_assert(apitoken_record_set(&rec->parent,
			    o->parent) == 0);
	}
	return rec;
}

static void
commit_record(struct fixture *fx, const struct apitoken_record *rec,
    int replace)
{
	struct apitoken_txn *txn = NULL;
	char err[512];
	int r;

	r = apitoken_txn_begin(fx->cfg, 0, &txn, err, sizeof(err));
	cr_assert(r == 0, "txn_begin: %s", err);
	r = replace ? apitoken_txn_replace(txn, rec, err, sizeof(err)) :
	    apitoken_txn_insert(txn, rec, err, sizeof(err));
	cr_assert(r == 0, "txn %s: %s", replace ? "replace" : "insert", err);
	r = apitoken_txn_commit(txn, err, sizeof(err));
	cr_assert(r == 0, "txn_commit: %s", err);
	apitoken_txn_free(txn);
}

void
fx_issue(struct fixture *fx, const char *user, const char *label,
    const struct issue_opts *o, char tok[TOK_BUF],
    char id[APITOKEN_ID_LEN + 1])
{
	struct apitoken_token parts;
	struct apitoken_record *rec;
	char hash[APITOKEN_HASH_MAX];

	cr_assert(apitoken_token_generate(
	    apitoken_config_token_prefix(fx->cfg), tok, TOK_BUF, &parts,
	    hash) == 0);
	rec = new_record(user, label, o, hash);
	memcpy(rec->id, parts.id, sizeof(rec->id));
	memcpy(id, parts.id, APITOKEN_ID_LEN + 1);
	apitoken_token_clear(&parts);
	commit_record(fx, rec, 0);
	apitoken_record_free(rec);
}

static struct apitoken_record *
find(struct fixture *fx, const char *id)
{
	struct apitoken_store *store = NULL;
	struct apitoken_record *rec = NULL;
	char err[512];
	int r;

	r = apitoken_store_open(fx->cfg, &store, err, sizeof(err));
	cr_assert(r == 0, "store_open: %s", err);
	r = apitoken_store_find(store, id, &rec, err, sizeof(err));
	cr_assert(r == 0, "store_find %s: %s", id, err);
	apitoken_store_close(store);
	return rec;
}

void
fx_set_status(struct fixture *fx, const char *id, enum apitoken_status st)
{
	struct apitoken_record *rec = find(fx, id);

	rec->status = st;
	rec->updated = (int64_t)time(NULL);
	if (st == APITOKEN_REVOKED) {
		rec->revoked_at = rec->updated;
		cr_assert(apitoken_record_set(&rec->revoke_reason,
		    "test") == 0);
	}
	commit_record(fx, rec, 1);
	apitoken_record_free(rec);
}

void
fx_rotate(struct fixture *fx, const char *old_id, char tok[TOK_BUF],
    char id[APITOKEN_ID_LEN + 1])
{
	struct apitoken_record *old = find(fx, old_id);
	struct issue_opts o;

	memset(&o, 0, sizeof(o));
	o.parent = old_id;
	/* revoked first: the successor takes over its label */
	fx_set_status(fx, old_id, APITOKEN_REVOKED);
	fx_issue(fx, old->user, old->label, &o, tok, id);
	apitoken_record_free(old);
}

static void
replace_all(char *out, size_t outlen, const char *text, const char *key,
    const char *value)
{
	char buf[4096];
	const char *p = text, *q;
	size_t o = 0;

	while ((q = strstr(p, key)) != NULL) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%.*s%s",
		    (int)(q - p), p, value);
		cr_assert(o < sizeof(buf));
		p = q + strlen(key);
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", p);
	cr_assert(o < sizeof(buf) && o < outlen);
	memcpy(out, buf, o + 1);
}

void
fx_service(struct fixture *fx, const char *name, const char *text)
{
	char a[4096], b[4096], path[512];

	if (fx->module[0] == '\0') {
		/* a copy in the fixture, which a test run as another user
		 * can reach wherever the checkout lives (a 0700 home) */
		snprintf(fx->module, sizeof(fx->module), "%s/pam_apitoken.so",
		    fx->dir);
		tl_copy_file(MODULE_PATH, fx->module, 0755);
	}
	replace_all(b, sizeof(b), text, "@MOD@", fx->module);
	replace_all(a, sizeof(a), b, "@SMOD@", STATIC_MODULE_PATH);
	replace_all(b, sizeof(b), a, "@CFG@", fx->config);
	replace_all(a, sizeof(a), b, "@SET@", SET_ITEMS_PATH);
	replace_all(b, sizeof(b), a, "@GET@", GET_ITEMS_PATH);
	memcpy(a, b, sizeof(a));
	snprintf(path, sizeof(path), "%s/%s", fx->pamdir, name);
	tl_write_str(path, a, 0644);
}

/* ------------------------------------------------------- libpam runner */

static void
append(char *buf, size_t buflen, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, buflen - n, "%s\n", s);
}

static int
conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct pam_run *r = appdata;
	struct pam_response *out = calloc((size_t)n, sizeof(*out));
	int i;

	if (out == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		const char *text = msg[i]->msg != NULL ? msg[i]->msg : "";

		if (msg[i]->msg_style == PAM_ERROR_MSG ||
		    msg[i]->msg_style == PAM_TEXT_INFO) {
			append(r->errors, sizeof(r->errors), text);
			continue;
		}
		snprintf(r->last_prompt, sizeof(r->last_prompt), "%s", text);
		if (r->prompts >= 4 || r->answers[r->prompts] == NULL) {
			while (i-- > 0)
				free(out[i].resp);
			free(out);
			r->prompts++;
			return PAM_CONV_ERR;
		}
		out[i].resp = strdup(r->answers[r->prompts++]);
	}
	*resp = out;
	return PAM_SUCCESS;
}

static void
delay_fn(int status, unsigned usec, void *appdata)
{
	struct pam_run *r = appdata;

	(void)status;
	r->delay_called = 1;
	r->delay_usec = usec;
}

static void
collect_env(pam_handle_t *pamh, struct pam_run *r)
{
	const char *v;
	char **list = pam_getenvlist(pamh);
	size_t i;

	if ((v = pam_getenv(pamh, "APITOKEN_ID")) != NULL)
		snprintf(r->env_id, sizeof(r->env_id), "%s", v);
	if ((v = pam_getenv(pamh, "APITOKEN_LABEL")) != NULL)
		snprintf(r->env_label, sizeof(r->env_label), "%s", v);
	r->items_seen = pam_getenv(pamh, "PAM_SERVICE") != NULL;
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strncmp(list[i], "APITOKEN_ID=", 12) == 0)
			r->env_in_list = 1;
		free(list[i]);
	}
	free(list);
}

void
run_pam(struct fixture *fx, const char *service, const char *user,
    struct pam_run *r)
{
	struct pam_conv conv = { conv_fn, r };
	pam_handle_t *pamh = NULL;
	union {
		void (*fn)(int, unsigned, void *);
		const void *p;
	} delay;
	int rc;

	r->prompts = r->env_in_list = r->delay_called = 0;
	r->delay_usec = 0;
	r->last_prompt[0] = r->errors[0] = r->env_id[0] = r->env_label[0] = 0;
	rc = pam_start_confdir(service, user, &conv, fx->pamdir, &pamh);
	cr_assert(rc == PAM_SUCCESS, "pam_start_confdir: %d", rc);
	delay.fn = delay_fn;
	cr_assert(pam_set_item(pamh, PAM_FAIL_DELAY, delay.p) == PAM_SUCCESS);
	if (r->rhost != NULL)
		cr_assert(pam_set_item(pamh, PAM_RHOST, r->rhost) ==
		    PAM_SUCCESS);
	if (r->ssh_connection != NULL) {
		char env[256];

		snprintf(env, sizeof(env), "SSH_CONNECTION=%s",
		    r->ssh_connection);
		cr_assert(pam_putenv(pamh, env) == PAM_SUCCESS);
	}
	r->auth_rc = r->acct_rc = r->chauthtok_rc = -1;
	r->setcred_rc = r->session_rc = -1;
	if (r->chauthtok)
		r->chauthtok_rc = pam_chauthtok(pamh, 0);
	else if (!r->account_only)
		r->auth_rc = pam_authenticate(pamh, 0);
	if (r->between != NULL && r->auth_rc == PAM_SUCCESS)
		cr_assert(r->between(r) == 0);
	if (r->account_only || (r->account && r->auth_rc == PAM_SUCCESS))
		r->acct_rc = pam_acct_mgmt(pamh, 0);
	/* as sshd and sudo do: account, then credentials, then session */
	if (r->auth_rc == PAM_SUCCESS && !r->no_setcred &&
	    (!r->account || r->acct_rc == PAM_SUCCESS))
		r->setcred_rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	if (r->session && (r->setcred_rc == PAM_SUCCESS || r->account_only))
		r->session_rc = pam_open_session(pamh, 0);
	collect_env(pamh, r);
	pam_end(pamh, r->auth_rc == -1 ? PAM_SUCCESS : r->auth_rc);
}

int
auth_with(struct fixture *fx, const char *service, const char *user,
    const char *answer, const char *rhost)
{
	struct pam_run r;

	memset(&r, 0, sizeof(r));
	r.answers[0] = answer;
	r.rhost = rhost;
	run_pam(fx, service, user, &r);
	return r.auth_rc;
}

/* ------------------------------------------------------------- tokens */

void
token_parts(const char *tok, char id[APITOKEN_ID_LEN + 1],
    char secret[APITOKEN_SECRET_LEN + 1])
{
	const char *p = strchr(tok, '_');

	cr_assert(p != NULL && strlen(p) == 1 + APITOKEN_ID_LEN + 1 +
	    APITOKEN_SECRET_LEN + APITOKEN_CRC_LEN, "token shape: %s", tok);
	memcpy(id, p + 1, APITOKEN_ID_LEN);
	id[APITOKEN_ID_LEN] = '\0';
	memcpy(secret, p + 2 + APITOKEN_ID_LEN, APITOKEN_SECRET_LEN);
	secret[APITOKEN_SECRET_LEN] = '\0';
}

const char *
pamstr(int rc)
{
	return rc < 0 ? "not called" : pam_strerror(NULL, rc);
}

/* ---------------------------------------------------------- processes */

int
run_cmd(const char *const argv[], const char *const envp[], const char *input,
    char *out, size_t outlen, int timeout_s)
{
	struct tl_cmd c = { .argv = argv, .envp = (char *const *)(uintptr_t)envp,
	    .input = input, .merge_err = 1, .timeout_ms = timeout_s * 1000 };
	struct tl_proc p;
	int rc;

	rc = tl_run(&c, &p);
	snprintf(out, outlen, "%s", p.out);
	if (p.timed_out)
		rc = -1;
	tl_proc_free(&p);
	return rc;
}

/* -------------------------------------------------------------- users */

void
become_nobody(struct fixture *fx)
{
	struct passwd *pw = getpwnam("nobody");
	char path[512];

	cr_assert(pw != NULL, "no user nobody");
	/* everything readable, the store itself root-only (0600) */
	cr_assert(chmod(fx->dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/store", fx->dir);
	cr_assert(chmod(path, 0755) == 0);
	cr_assert(chmod(fx->pamdir, 0755) == 0);
	cr_assert(chmod(fx->store, 0600) == 0);
	/* the saved uid stays 0 so that teardown can clean up */
	cr_assert(setresgid(pw->pw_gid, pw->pw_gid, 0) == 0);
	cr_assert(setresuid(pw->pw_uid, pw->pw_uid, 0) == 0);
}

void
become_root_again(void)
{
	uid_t r, e, saved;

	/* only a test that ran become_nobody() switches back */
	if (getresuid(&r, &e, &saved) == 0 && saved == 0 && e != 0) {
		cr_assert(setresuid(0, 0, 0) == 0);
		cr_assert(setresgid(0, 0, 0) == 0);
	}
}

/* ------------------------------------------------------------- syslog */

static int
bind_node(const char *dev, const char *name, int dir)
{
	char src[64], dst[128];
	struct stat st;
	int fd;

	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), "%s/%s", dev, name);
	if (stat(src, &st) != 0)
		return 0;
	if (dir) {
		if (mkdir(dst, 0755) != 0)
			return -1;
	} else {
		if ((fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0)
			return -1;
		close(fd);
	}
	return mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
}

static int
make_dev(struct logcap *lc, char *why, size_t whylen)
{
	static const char *const files[] = { "null", "zero", "full", "random",
	    "urandom", "tty" };
	static const char *const dirs[] = { "shm", "pts", "mqueue" };
	size_t i;

	if (mount("tmpfs", lc->dir, "tmpfs", 0, "mode=0755,size=64k") != 0) {
		snprintf(why, whylen, "mount tmpfs: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (bind_node(lc->dir, files[i], 0) != 0)
			goto fail;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (bind_node(lc->dir, dirs[i], 1) != 0)
			goto fail;
	return 0;
fail:
	snprintf(why, whylen, "bind /dev node: %s", strerror(errno));
	return -1;
}

int
logcap_start(struct logcap *lc, char *why, size_t whylen)
{
	struct sockaddr_un sa;

	memset(lc, 0, sizeof(*lc));
	lc->fd = -1;
	if (geteuid() != 0) {
		snprintf(why, whylen, "not root: cannot catch syslog lines");
		return -1;
	}
	strcpy(lc->dir, "/tmp/pamlog.XXXXXX");
	if (mkdtemp(lc->dir) == NULL || unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		snprintf(why, whylen, "mount namespace: %s", strerror(errno));
		return -1;
	}
	if (make_dev(lc, why, whylen) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", lc->dir);
	lc->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lc->fd < 0 || bind(lc->fd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0 || chmod(sa.sun_path, 0666) != 0 ||
	    mount(lc->dir, "/dev", NULL, MS_BIND | MS_REC, NULL) != 0) {
		snprintf(why, whylen, "/dev/log: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
logcap_read(struct logcap *lc, char *buf, size_t buflen)
{
	char msg[2048];
	ssize_t n;
	int count = 0;

	while ((n = recv(lc->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[n] = '\0';
		append(buf, buflen, msg);
		count++;
	}
	return count;
}

void
logcap_stop(struct logcap *lc)
{
	if (lc->fd >= 0)
		close(lc->fd);
	lc->fd = -1;
	if (lc->dir[0] == '\0')
		return;
	umount2("/dev", MNT_DETACH);
	umount2(lc->dir, MNT_DETACH);
	rmdir(lc->dir);
}

/* ------------------------------------------------------------- exports */

const char *const pam_sm_names[PAM_SM_COUNT] = {
	"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
	"pam_sm_open_session", "pam_sm_close_session", "pam_sm_chauthtok",
};

static int
is_pam_sm(const char *name)
{
	size_t i;

	for (i = 0; i < PAM_SM_COUNT; i++)
		if (strcmp(name, pam_sm_names[i]) == 0)
			return 1;
	return 0;
}

void
assert_exports_only_pam_sm(const char *module)
{
	const char *argv[] = { "/usr/bin/nm", "-D", "--defined-only", module,
		NULL };
	char out[16384], *save = NULL, *line;
	int found = 0;

	cr_assert_eq(run_cmd(argv, NULL, NULL, out, sizeof(out), 20), 0,
	    "nm: %s", out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char addr[64], type[8], name[256];

		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		cr_assert(is_pam_sm(name), "%s exports: %s", module, line);
		found++;
	}
	cr_assert_eq(found, PAM_SM_COUNT, "%s: %d pam_sm_* symbols", module,
	    found);
}

void
fx_config_with(struct fixture *fx, const char *extra)
{
	char text[1024], err[512];
	int r;

	snprintf(text, sizeof(text),
	    "store: %s\nstate_dir: %s\ntoken_prefix: apitok\n"
	    "default_lifetime: never\nmax_lifetime: never\n"
	    "lock_timeout: 5s\n%s", fx->store, fx->state, extra);
	tl_write_str(fx->config, text, 0644);
	apitoken_config_free(fx->cfg);
	fx->cfg = NULL;
	r = apitoken_config_load(fx->config, &fx->cfg, err, sizeof(err));
	cr_assert(r == 0, "config_load: %s", err);
}
