/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helpers.c - run tokenctl as a subprocess (fork/exec, pipes for stdin,
 * stdout, stderr) against a store in a fresh mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

struct env E;

void
env_make(struct env *e, const char *extra_yaml)
{
	const char *sudo = e->sudo_user;

	memset(e, 0, sizeof(*e));
	e->sudo_user = sudo;
	tl_tmpdir(e->dir, sizeof(e->dir), "tokenctl-test");
	snprintf(e->cfg, sizeof(e->cfg), "%s/apitoken.yaml", e->dir);
	snprintf(e->store, sizeof(e->store), "%s/db/tokens", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	tl_write_config(e->cfg, e->store, e->state, extra_yaml, 0644);
}

void
env_init(struct env *e, const char *extra_yaml)
{
	struct run r;

	env_make(e, extra_yaml);
	ctl_env(e, &r, NULL, "init", NULL);
	if (r.status != 0)
		env_clean(e);	/* a failed setup gets no teardown */
	cr_assert_eq(r.status, 0, "init failed (%d): %s", r.status, r.err);
	run_free(&r);
}

void
env_clean(struct env *e)
{
	if (e->dir[0] != '\0')
		tl_rmrf(e->dir);
	e->dir[0] = '\0';
}

void
setup_env(void)
{
	env_init(&E, NULL);
}

void
teardown_env(void)
{
	env_clean(&E);
}

/* ------------------------------------------------------------- runs */

/* The child's environment: ours minus what would change tokenctl. */
static char **
child_env(struct env *e, const char *cfg_env)
{
	static const char *const keep[] = { "PATH=", "ASAN_OPTIONS=",
	    "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "LANG=", NULL };
	extern char **environ;
	char **v = calloc(16, sizeof(*v));
	size_t n = 0, i, k;

	cr_assert_not_null(v);
	for (i = 0; environ[i] != NULL && n < 10; i++)
		for (k = 0; keep[k] != NULL; k++)
			if (strncmp(environ[i], keep[k], strlen(keep[k])) == 0)
				v[n++] = strdup(environ[i]);
	if (cfg_env != NULL)
		cr_assert(asprintf(&v[n++], "APITOKEN_CONFIG=%s", cfg_env) > 0);
	if (e != NULL && e->sudo_user != NULL) {
		struct passwd *pw = getpwnam(e->sudo_user);

		cr_assert(asprintf(&v[n++], "SUDO_USER=%s", e->sudo_user) > 0);
		if (pw != NULL)	/* as sudo would set it */
			cr_assert(asprintf(&v[n++], "SUDO_UID=%lu",
			    (unsigned long)pw->pw_uid) > 0);
	}
	return v;
}

void
ctl_argv(struct env *e, struct run *r, const char *input,
    const char *const *argv, const char *cfg_env)
{
	run_prog(e, r, TOKENCTL, input, argv, cfg_env);
}

void
run_prog(struct env *e, struct run *r, const char *prog, const char *input,
    const char *const *argv, const char *cfg_env)
{
	char **envp = child_env(e, cfg_env);
	struct tl_cmd c = { .argv = argv, .prog = prog, .envp = envp,
	    .input = input, .timeout_ms = 60000 };
	struct tl_proc p;

	tl_run(&c, &p);
	cr_assert(!p.timed_out, "%s hangs", prog);
	r->status = p.status;
	r->out = p.out;
	r->outlen = p.outlen;
	r->err = p.err;
	for (int i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

static void
vctl(struct env *e, struct run *r, const char *input, va_list ap)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = "tokenctl";
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		cr_assert(++n < 63);
	ctl_argv(e, r, input, argv, e->cfg);
}

void
ctl_env(struct env *e, struct run *r, const char *input, ...)
{
	va_list ap;

	va_start(ap, input);
	vctl(e, r, input, ap);
	va_end(ap);
}

void
ctl(struct run *r, const char *input, ...)
{
	va_list ap;

	va_start(ap, input);
	vctl(&E, r, input, ap);
	va_end(ap);
}

void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ tokens */

char *
issue_token(const char *user, const char *label, ...)
{
	const char *argv[64];
	size_t n = 0;
	struct run r;
	va_list ap;
	char *tok;

	argv[n++] = "tokenctl";
	argv[n++] = "issue";
	argv[n++] = user;
	argv[n++] = "--label";
	argv[n++] = label;
	va_start(ap, label);
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		cr_assert(++n < 63);
	va_end(ap);
	ctl_argv(&E, &r, NULL, argv, E.cfg);
	cr_assert_eq(r.status, 0, "issue %s %s failed (%d): %s", user, label,
	    r.status, r.err);
	cr_assert_eq(tl_count_lines(r.out), 1, "issue printed: %s", r.out);
	cr_assert(r.outlen > 1 && r.out[r.outlen - 1] == '\n');
	r.out[r.outlen - 1] = '\0';
	tok = strdup(r.out);
	run_free(&r);
	return tok;
}

void
token_id(const char *token, char id[13])
{
	const char *p = strchr(token, '_');

	cr_assert_not_null(p, "not a token: %s", token);
	memcpy(id, p + 1, 12);
	id[12] = '\0';
}

char *
forge_secret(const char *token)
{
	char *t = strdup(token);
	size_t i;

	cr_assert_not_null(t);
	/* flip the first secret character, then recompute the CRC */
	i = strrchr(t, '_') - t + 1;
	t[i] = t[i] == 'A' ? 'B' : 'A';
	tl_token_recrc(t);
	return t;
}

/* ------------------------------------------------------------- JSON */

json_t *
out_json(const struct run *r)
{
	json_error_t jerr;
	json_t *j = json_loads(r->out, 0, &jerr);

	cr_assert_not_null(j, "stdout is not JSON (%s): %s", jerr.text,
	    r->out);
	return j;
}

json_t *
show_json(const char *id)
{
	struct run r;
	json_t *j;

	ctl(&r, NULL, "show", id, "--json", NULL);
	cr_assert_eq(r.status, 0, "show %s: %s", id, r.err);
	j = out_json(&r);
	run_free(&r);
	return j;
}

const char *
jget(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
