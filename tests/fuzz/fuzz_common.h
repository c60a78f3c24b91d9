/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.h - shared pieces of the libFuzzer targets in tests/fuzz/.
 *
 * Each target links the library sources directly (built with
 * -fsanitize=fuzzer-no-link,address,undefined) and checks invariants of
 * its own on top of the sanitizers: a violated one calls FUZZ_ASSERT,
 * which prints what broke and abort()s, so libFuzzer saves the input.
 */
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "apitoken.h"
#include "tl.h"

/* The libFuzzer entry points (prototypes for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond,
    const char *fmt, ...) __attribute__((noreturn, format(printf, 4, 5)));

/*
 * A private 0700 directory (mkdtemp under $TMPDIR, default /tmp), made on
 * first use and removed at exit, holding "tokens", "state/" and
 * "apitoken.yaml".
 */
struct fuzz_env {
	char dir[512];
	char store[600];
	char state[600];
	char conf[600];
};
const struct fuzz_env *fuzz_env(void);

/* Write the env's config (store and state_dir inside the env) and load
 * it; aborts on failure.  The caller frees the result. */
struct apitoken_config *fuzz_env_config(void);

/* A NUL-terminated malloc'ed copy of data (aborts on ENOMEM). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * The record codec's round-trip rule (CVE-2013-7322): if line parses,
 * formatting the record gives back exactly line (canonical form), and
 * parsing that again gives the same record and the same bytes.
 * Returns 1 if line parsed, else 0.
 */
int fuzz_record_roundtrip(const char *line, size_t len);

/* 1 if the two records hold identical field values. */
int fuzz_record_equal(const struct apitoken_record *a,
    const struct apitoken_record *b);

#endif
