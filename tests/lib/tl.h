/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tl.h - the one helper library of the test suites (tests/lib/), linked
 * into every test binary (and, its Criterion-free part, into the fuzz
 * targets).
 *
 * Conventions: every name starts with tl_ (TL_ for macros).  A helper
 * that cannot go on (out of memory, a fixture it cannot make) calls
 * tl_die(), which fails the current test: cr_assert_fail() in a Criterion
 * test, a message and _exit(125) in a child made by tl_fork(), abort()
 * in a fuzz target (die-abort.c).  Helpers that report a failure the
 * test may expect return -1 (errno set) or NULL instead.
 *
 * The oracles (CRC-32, base62, SHA-256 via OpenSSL) are written from the
 * token and store formats (apitoken-store(5)), never with libapitoken:
 * they check the library, so they must not share its code.
 */
#ifndef TESTS_LIB_TL_H
#define TESTS_LIB_TL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* The built programs (BUILD_DIR and SRC_DIR come from the Makefile). */
#ifdef BUILD_DIR
#define TL_TOKENCTL BUILD_DIR "/tokenctl"
#define TL_MODULE BUILD_DIR "/pam_apitoken.so"
#endif

/* ------------------------------------------------------------ failure */

void tl_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* malloc'ed printf; dies on failure. */
char *tl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The time limit of a test: a hung test dies by SIGALRM, which Criterion
 * reports as a crash.  Criterion's own .timeout is not used anywhere: in
 * 2.4.1 the runner allocates a timer record per timed test and does not
 * always free it, which fails the SANITIZE=1 build under LeakSanitizer.
 * Each test runs in its own process: arm it in the test or the suite's
 * .init; children made by tl_fork() die with the test.
 */
void tl_watchdog(unsigned secs);

/*
 * Skip the current Criterion test and say so on stderr: Criterion shows
 * skips only with --verbose, and a skipped test must not go unnoticed.
 * TL_NEED_ROOT(why) skips unless the suite runs as root.
 */
#define TL_SKIP(...) do { \
	fprintf(stderr, "[SKIP] %s: ", criterion_current_test->name); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	cr_skip_test(__VA_ARGS__); \
} while (0)
#define TL_NEED_ROOT(why) do { \
	if (geteuid() != 0) \
		TL_SKIP("needs root (%s)", (why)); \
} while (0)

/* -------------------------------------------------------------- files */

/* A new 0700 directory "$TMPDIR/<tag>.XXXXXX" (TMPDIR defaults to /tmp)
 * into buf; dies on failure. */
void tl_tmpdir(char *buf, size_t size, const char *tag);
/* rm -rf path, never following a symlink; refuses "" and "/".
 * 0, or -1 if something could not be removed. */
int tl_rmrf(const char *path);
/* The whole file, malloc'ed and NUL-terminated (*lenp, if not NULL, gets
 * its length without the NUL; the data may hold NULs); NULL with errno
 * set if it cannot be opened.  Does not follow a final symlink. */
char *tl_read_file(const char *path, size_t *lenp);
/* Replace path (O_TRUNC, not following a symlink) with len bytes and set
 * its mode; dies on failure. */
void tl_write_file(const char *path, const void *data, size_t len,
    mode_t mode);
/* The same with a string. */
void tl_write_str(const char *path, const char *text, mode_t mode);
/* Replace path with a test's apitoken.yaml: store and state_dir, then
 * the lines of extra (may be NULL); dies on failure. */
void tl_write_config(const char *path, const char *store, const char *state,
    const char *extra, mode_t mode);
/* Create path (O_EXCL) with mode and text; 0 or -1. */
int tl_create_file(const char *path, const char *text, mode_t mode);
/* Copy the file src to dst (replaced) with mode; dies on failure. */
void tl_copy_file(const char *src, const char *dst, mode_t mode);
/* Number of '\n' in s. */
size_t tl_count_lines(const char *s);
/* Number of entries of dir whose name starts with prefix; -1 if dir
 * cannot be read. */
int tl_count_prefix(const char *dir, const char *prefix);
/* 1 if the nlen bytes at needle occur in the first hlen bytes of hay. */
int tl_mem_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen);
/* 1 if the len bytes at needle occur in the file, or any file of the
 * tree, at path (each file where it is found is named on stderr). */
int tl_file_contains(const char *path, const char *needle, size_t len);

/* ---------------------------------------------------------- processes */

/* Set in a child made by tl_fork(): Criterion must not be used there. */
extern int tl_in_child;

/* fork(2) for tests: the child dies with its parent (PR_SET_PDEATHSIG)
 * and tl_die() in it exits instead of using Criterion (a child that
 * calls cr_assert blocks on the runner's socket).  Dies on failure. */
pid_t tl_fork(void);

/* What to run. */
struct tl_cmd {
	const char *const *argv;	/* NULL-terminated */
	const char *prog;		/* path to exec; NULL = argv[0] */
	int search_path;		/* look prog up in PATH */
	char *const *envp;		/* the whole environment, NULL = ours */
	const char *const *setenv;	/* "NAME=VALUE" set in the child,
					   "NAME=" unset; NULL = none */
	const char *input;		/* stdin; NULL = empty */
	size_t inlen;			/* its length; 0 = strlen(input) */
	int merge_err;			/* stderr into out */
	int timeout_ms;			/* SIGKILL after; 0 = 60 s */
};

/* What it did. */
struct tl_proc {
	char *out;		/* stdout, NUL-terminated (malloc'ed) */
	size_t outlen;
	char *err;		/* stderr, NUL-terminated (malloc'ed) */
	size_t errlen;
	int status;		/* exit code, 128 + signal, or -1 */
	int timed_out;		/* killed after timeout_ms */
	int64_t ms;		/* wall time */
	long maxrss_kb;		/* the child's peak RSS */
};

/* Run c, capturing stdout and stderr; returns p->status.  Free p with
 * tl_proc_free().  Dies only when no process can be made at all. */
int tl_run(const struct tl_cmd *c, struct tl_proc *p);
void tl_proc_free(struct tl_proc *p);

/* Monotonic milliseconds. */
int64_t tl_now_ms(void);

/* A scratch xorshift PRNG seeded from the environment (TL_SEED, or the
 * older SX_SEED) or the clock; the seed is printed on stderr so that a
 * failure can be replayed. */
void tl_rand_seed(const char *what);
uint64_t tl_rand(void);
/* A positive integer knob from the environment, or def. */
long tl_knob(const char *name, long def);

/* -------------------------------------------------------------- users */

/* The name of the user the suite runs as (static storage). */
const char *tl_user(void);
/* Some other existing account, for "another user's token". */
const char *tl_other_user(void);

/* ------------------------------------------------------------ oracles */

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
uint32_t tl_crc32(const void *data, size_t n);
/* The 6 base62 digits (0-9 A-Z a-z, most significant first) of v. */
void tl_base62_6(uint32_t v, char out[7]);
/* 1 if c is one of 0-9 A-Z a-z. */
int tl_is_b62(unsigned char c);
/* "<prefix>_<id>_<secret><crc>" with a correct checksum into buf; dies
 * if it does not fit. */
void tl_token_build(const char *prefix, const char *id, const char *secret,
    char *buf, size_t bufsize);
/* Recompute the last 6 characters of tok (the checksum) in place. */
void tl_token_recrc(char *tok);
/* "sha256$" + hex(SHA-256("<id>_<secret>")), NUL-terminated, computed
 * with OpenSSL. */
void tl_sha256_hash(const char *id, const char *secret, char out[72]);

#endif
