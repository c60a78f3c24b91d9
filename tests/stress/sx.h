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
 * and sx_teardown() removes it.
 */
#ifndef TESTS_STRESS_SX_H
#define TESTS_STRESS_SX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "apitoken.h"

#define SX_ERRLEN 512
#define SX_PATHLEN 256
#define SX_TOKCTL BUILD_DIR "/tokenctl"
#define SX_MODULE BUILD_DIR "/pam_apitoken.so"
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

/* fork(2) for tests: the child dies with its parent (PR_SET_PDEATHSIG)
 * and the helpers here stop using Criterion in it (a child must not
 * call cr_assert or cr_log: it would block on the runner's socket). */
pid_t sx_fork(void);

struct sx_proc {
	char *out;		/* stdout, NUL-terminated (malloc'ed) */
	size_t outlen;
	char *err;		/* stderr, NUL-terminated (malloc'ed) */
	size_t errlen;
	int status;		/* exit code, 128 + signal, or -1 */
	int64_t ms;		/* wall time */
	long maxrss_kb;		/* the child's peak RSS */
};

/*
 * Run argv[0] (a path) with argv, stdin fed from input (inlen bytes,
 * input may be NULL for an empty stdin), capturing stdout and stderr.
 * Killed with SIGKILL after timeout_ms.  Returns p->status.
 */
int sx_run(char *const argv[], const char *input, size_t inlen,
    struct sx_proc *p, int timeout_ms);
void sx_proc_free(struct sx_proc *p);

/* tokenctl -c CONF args...: a NULL-terminated argument list. */
int sx_ctl(const struct sx_env *e, struct sx_proc *p, const char *input,
    ...) __attribute__((sentinel));
/* The same with an explicit argument vector (args NULL-terminated). */
int sx_ctlv(const struct sx_env *e, const char *conf, struct sx_proc *p,
    const char *input, const char *const *args);

/* Start tokenctl -c CONF args... with stdin, stdout and stderr on
 * /dev/null; returns its pid (for kill/waitpid). */
pid_t sx_ctl_spawn(const struct sx_env *e, const char *const *args);

/* ------------------------------------------------------------ files */

void sx_write_file(const char *path, const void *data, size_t len,
    mode_t mode);
/* Whole file, malloc'ed and NUL-terminated; NULL (errno set) if absent. */
char *sx_read_file(const char *path, size_t *lenp);
void sx_rmrf(const char *path);
/* Number of entries of dir whose name starts with prefix. */
int sx_count_prefix(const char *dir, const char *prefix);
/* 1 if the len bytes at needle occur in the file (or tree) at path. */
int sx_file_contains(const char *path, const char *needle, size_t len);
/* 1 if needle occurs in the first hlen bytes of hay. */
int sx_mem_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen);

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

/* "<prefix>_<id>_<secret><crc>" with the CRC-32/base62 checksum computed
 * here, independently of the library (README, "Token format"). */
void sx_token_build(const char *prefix, const char *id, const char *secret,
    char *out, size_t outsize);

int64_t sx_now_ms(void);
/* The "id" member of the JSON object text (issue --json); 0 or -1. */
int sx_json_id(const char *text, char id[APITOKEN_ID_LEN + 1]);
/* A scratch xorshift PRNG seeded from the environment (SX_SEED) or the
 * clock; the seed is printed so a failure can be replayed. */
uint64_t sx_rand(void);
void sx_rand_seed(const char *what);
/* Kill this test with SIGALRM after secs (a crash in the report) unless
 * it ends first.  Used instead of Criterion's .timeout, whose runner
 * bookkeeping leaks and fails the SANITIZE=1 build under LeakSanitizer.
 * Children made by sx_fork() die with the test. */
void sx_watchdog(unsigned secs);
/* Read an integer knob from the environment with a default. */
long sx_knob(const char *name, long def);

#endif
