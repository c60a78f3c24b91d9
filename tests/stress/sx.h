/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sx.h - fixtures shared by the stress, crash-safety, secret-scan and
 * bad-input tests (tests/stress/, tests/badinput/).
 *
 * Black-box: only the public header apitoken.h and the built programs
 * (BUILD_DIR/tokenctl, BUILD_DIR/pam_apitoken.so) are used.  Each test
 * gets a fresh mkdtemp directory under /tmp:
 *
 *   DIR/apitoken.yaml   the config (store and state_dir below)
 *   DIR/db/tokens       the store (DIR/db is 0700)
 *   DIR/state/          state_dir
 *
 * and sx_teardown() removes it.  Processes, files, the PRNG and the
 * oracles are in tests/lib/tl.h.
 */
#ifndef TESTS_STRESS_SX_H
#define TESTS_STRESS_SX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "apitoken.h"
#include "tl.h"

#define SX_ERRLEN 512
#define SX_PATHLEN 256
#define SX_TOKCTL TL_TOKENCTL
#define SX_MODULE TL_MODULE
#define SX_TOKBUF (APITOKEN_TOKEN_MAX + 1)

struct sx_env {
	char dir[64];
	char dbdir[128];
	char store[SX_PATHLEN];
	char state[SX_PATHLEN];
	char conf[SX_PATHLEN];
	struct apitoken_config *cfg;
};

/* Make DIR, DIR/db, DIR/state, write the config (store, state_dir and
 * the YAML lines in extra, may be NULL) and load it.  The store is not
 * created.  Asserts on failure. */
void sx_setup(struct sx_env *e, const char *extra);
/* Rewrite the config with other extra lines and reload it. */
void sx_reconfig(struct sx_env *e, const char *extra);
void sx_teardown(struct sx_env *e);

/* Create an empty store through the library (APITOKEN_TXN_CREATE). */
void sx_store_create(struct sx_env *e);
/* Issue a token through the library only (no tokenctl): a new active
 * record for user with label, never expiring.  Asserts. */
void sx_issue_lib(struct sx_env *e, const char *user, const char *label,
    char tok[SX_TOKBUF], char id[APITOKEN_ID_LEN + 1]);

/* ------------------------------------------------------- processes */

/* tokenctl -c CONF args...: a NULL-terminated argument list. */
int sx_ctl(const struct sx_env *e, struct tl_proc *p, const char *input,
    ...) __attribute__((sentinel));
/* The same with an explicit argument vector (args NULL-terminated). */
int sx_ctlv(const struct sx_env *e, const char *conf, struct tl_proc *p,
    const char *input, const char *const *args);

/* Start tokenctl -c CONF args... with stdin, stdout and stderr on
 * /dev/null; returns its pid (for kill/waitpid). */
pid_t sx_ctl_spawn(const struct sx_env *e, const char *const *args);

/* ------------------------------------------------------ record sets */

/* Every record of the store, each re-serialized with
 * apitoken_record_format, in id order. */
struct sx_recset {
	size_t n, cap;
	char (*ids)[APITOKEN_ID_LEN + 1];
	char **lines;
	struct apitoken_record **recs;
};

/* Open the store read-only and parse every record.  Returns 0 or the
 * library's error code (message in err). */
int sx_recset_load(const struct apitoken_config *cfg, struct sx_recset *s,
    char *err, size_t errlen);
void sx_recset_free(struct sx_recset *s);
/* Index of id in s, or -1. */
ssize_t sx_recset_find(const struct sx_recset *s, const char *id);

/* ------------------------------------------------------------- misc */

/* The "id" member of the JSON object text (issue --json); 0 or -1. */
int sx_json_id(const char *text, char id[APITOKEN_ID_LEN + 1]);

#endif
