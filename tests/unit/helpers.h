/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helpers.h - shared fixtures for the libapitoken unit tests.
 *
 * Black-box: only the public header is used.  Each test gets a fresh
 * mkdtemp directory under /tmp holding a config file, the store path and
 * the state dir; tu_env_teardown() removes it.  Files, processes and the
 * independent oracles (CRC-32, base62, SHA-256) are in tests/lib/tl.h.
 */
#ifndef TESTS_UNIT_HELPERS_H
#define TESTS_UNIT_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "apitoken.h"
#include "tl.h"

#define TU_ERRLEN 512
#define TU_PATHLEN 512

struct tu_env {
	char dir[64];			/* mkdtemp root, 0700 */
	char store[TU_PATHLEN];		/* dir/tokens (not created) */
	char state[TU_PATHLEN];		/* dir/state (created 0700) */
	char conf[TU_PATHLEN];		/* dir/apitoken.yaml */
	struct apitoken_config *cfg;
	char err[TU_ERRLEN];
};

/* Make the temp dir, write a config (store/state_dir inside it, plus the
 * YAML lines in extra, may be NULL), load it.  Asserts on failure. */
void tu_env_setup(struct tu_env *e, const char *extra);
/* Rewrite the config with other extra lines and reload it. */
void tu_env_reconfig(struct tu_env *e, const char *extra);
void tu_env_teardown(struct tu_env *e);
/* Write e's config with the extra lines after store and state_dir (so the
 * first extra line is line 3) and load it: apitoken_config_load's result,
 * its message in e->err. */
int tu_config_load(struct tu_env *e, const char *extra,
    struct apitoken_config **cfgp);
/* The same, asserting success; the caller frees the config. */
struct apitoken_config *tu_config_load_ok(struct tu_env *e,
    const char *extra);
/* Asserts that extra is refused with a one-line message holding text and,
 * when line > 0, starting "<config>:<line>:". */
void tu_config_load_bad(struct tu_env *e, const char *extra, int line,
    const char *text);

/* Deterministic valid id "M%011u" (sorts numerically). */
void tu_id(unsigned n, char id[APITOKEN_ID_LEN + 1]);

/* A record that passes apitoken_record_check: user, label, a valid hash
 * (of secret, or a fixed one if NULL), created/updated, created_by. */
struct apitoken_record *tu_record(const char *id, const char *user,
    const char *secret);

/* Create (APITOKEN_TXN_CREATE) and fill the store with recs; asserts. */
void tu_store_build(const struct apitoken_config *cfg,
    struct apitoken_record *const *recs, size_t n);
/* The same with ids tu_id(first + step*i), i < n. */
void tu_store_build_ids(const struct apitoken_config *cfg, unsigned first,
    unsigned step, size_t n);

/* Split the store header into field names; index of name among the 16
 * record fields (after "#apitoken-store" and "v1"), asserts found. */
int tu_field_index(const char *name);
/* Replace field idx of a record line (no '\n') with value; malloc'ed. */
char *tu_line_set_field(const char *line, int idx, const char *value);

/* Every open descriptor whose target lies under dir has FD_CLOEXEC;
 * returns how many such descriptors were seen. */
int tu_assert_cloexec_under(const char *dir);

#endif
