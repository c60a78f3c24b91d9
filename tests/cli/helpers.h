/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helpers.h - shared helpers of the tokenctl CLI tests.  Every test runs
 * the built tokenctl (BUILD_DIR "/tokenctl") as a real process against a
 * real store in its own mkdtemp directory, and removes that directory.
 */
#ifndef CLI_HELPERS_H
#define CLI_HELPERS_H

#include <stddef.h>
#include <jansson.h>

#include "tl.h"

#define TOKENCTL TL_TOKENCTL

/* One test's world: a temp dir with a config, store and state dir. */
struct env {
	char dir[256];		/* mkdtemp */
	char cfg[300];		/* dir/apitoken.yaml */
	char store[300];	/* dir/db/tokens */
	char state[300];	/* dir/state */
	const char *sudo_user;	/* SUDO_USER for the child, or NULL */
};

/* What a run of tokenctl produced. */
struct run {
	int status;		/* exit status, or 128+signal */
	char *out;		/* stdout, NUL-terminated */
	size_t outlen;
	char *err;		/* stderr, NUL-terminated */
};

extern struct env E;		/* the current test's env */

/* Create the temp dir and a config (extra YAML lines appended). */
void env_make(struct env *e, const char *extra_yaml);
/* env_make + `tokenctl init` (asserted to succeed). */
void env_init(struct env *e, const char *extra_yaml);
/* Remove the temp dir recursively. */
void env_clean(struct env *e);
/* Criterion .init/.fini for suites that want an initialised E. */
void setup_env(void);
void teardown_env(void);

/* Run tokenctl with the NULL-terminated arguments (after "tokenctl"),
 * feeding input (may be NULL) on stdin, APITOKEN_CONFIG=e->cfg. */
void ctl(struct run *r, const char *input, ...);
void ctl_env(struct env *e, struct run *r, const char *input, ...);
void ctl_argv(struct env *e, struct run *r, const char *input,
    const char *const *argv, const char *cfg_env);
/* The same for any program (absolute path). */
void run_prog(struct env *e, struct run *r, const char *prog,
    const char *input, const char *const *argv, const char *cfg_env);
void run_free(struct run *r);

/* Issue a token for user with label (plus extra NULL-terminated args);
 * asserts success; returns the token (malloc'ed, no newline). */
char *issue_token(const char *user, const char *label, ...);
/* The id part of a token. */
void token_id(const char *token, char id[13]);
/* A token with the same id but another secret and a valid checksum. */
char *forge_secret(const char *token);

/* `tokenctl show ID --json`, asserted to succeed. */
json_t *show_json(const char *id);
/* Parse r->out as JSON (asserted). */
json_t *out_json(const struct run *r);
/* The string value of key in obj, or NULL. */
const char *jget(json_t *obj, const char *key);

#endif
