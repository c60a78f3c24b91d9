/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inst.h - helpers for the install, man page and secret-scanner tests:
 * run a program (or make) as a shell would, and their temp dirs.  The
 * rest is in tests/lib/tl.h.
 */
#ifndef INST_H
#define INST_H

#include <stddef.h>
#include <sys/types.h>

#include "tl.h"

/*
 * Run argv (argv[0] looked up in PATH) with stdin from /dev/null and
 * stdout+stderr captured; setenv_list is NULL or "NAME=VALUE" strings
 * added to (or, for "NAME=" with nothing after, removed from) the child's
 * environment.  MAKEFLAGS, MFLAGS and MAKELEVEL are always removed, so a
 * "make" started from a test under "make check" is a fresh top-level make.
 * Returns the exit status (128 + signal when killed, -1 if it could not
 * run).  *out (if out is not NULL) gets the output, NUL-terminated; free it.
 */
int inst_run(const char *const argv[], const char *const setenv_list[],
    char **out);
/* The same; *outlen gets the output's length (it may hold NULs). */
int inst_run_len(const char *const argv[], const char *const setenv_list[],
    char **out, size_t *outlen);

/* A new 0700 directory under $TMPDIR or /tmp; free() the result. */
char *inst_tmpdir(const char *tag);
/* The multiarch name the tests install libraries under. */
#define INST_MA "test-multiarch"

/*
 * "make -C SRC_DIR B=BUILD_DIR DESTDIR=destdir <vars...> target": the
 * install rules against the objects this "make check" already built.
 * vars is NULL-terminated; the output goes to *out.  Returns the status.
 */
int inst_make(const char *destdir, const char *target,
    const char *const vars[], char **out);

#endif
