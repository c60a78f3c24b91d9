/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inst.c - process and temp-dir helpers for tests/install/.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "inst.h"

int
inst_run(const char *const argv[], const char *const setenv_list[],
    char **out)
{
	return inst_run_len(argv, setenv_list, out, NULL);
}

int
inst_run_len(const char *const argv[], const char *const setenv_list[],
    char **out, size_t *outlen)
{
	/* a make started from a test is a fresh top-level make */
	static const char *const nomake[] = { "MAKEFLAGS=", "MFLAGS=",
	    "MAKELEVEL=", NULL };
	const char *env[64];
	struct tl_cmd c = { .argv = argv, .search_path = 1, .setenv = env,
	    .merge_err = 1, .timeout_ms = 15 * 60 * 1000 };
	struct tl_proc p;
	size_t n = 0, i;
	int rc;

	for (i = 0; nomake[i] != NULL; i++)
		env[n++] = nomake[i];
	for (i = 0; setenv_list != NULL && setenv_list[i] != NULL; i++)
		if (n < 63)
			env[n++] = setenv_list[i];
	env[n] = NULL;
	rc = tl_run(&c, &p);
	if (outlen != NULL)
		*outlen = p.outlen;
	if (out != NULL) {
		*out = p.out;
		p.out = NULL;
	}
	tl_proc_free(&p);
	return rc;
}

char *
inst_tmpdir(const char *tag)
{
	char *d = malloc(PATH_MAX), *t = tl_fmt("apitoken-%s", tag);

	cr_assert_not_null(d);
	tl_tmpdir(d, PATH_MAX, t);
	free(t);
	return d;
}

int
inst_make(const char *destdir, const char *target, const char *const vars[],
    char **out)
{
	const char *argv[32];
	char *b = tl_fmt("B=%s", BUILD_DIR);
	char *d = tl_fmt("DESTDIR=%s", destdir);
	size_t n = 0, i;
	int rc;

	argv[n++] = "make";
	argv[n++] = "--no-print-directory";
	argv[n++] = "-C";
	argv[n++] = SRC_DIR;
	argv[n++] = b;
	argv[n++] = d;
#ifdef __SANITIZE_ADDRESS__
	argv[n++] = "SANITIZE=1";	/* same flags as the objects in B */
#endif
	for (i = 0; vars != NULL && vars[i] != NULL && n < 30; i++)
		argv[n++] = vars[i];
	argv[n++] = target;
	argv[n] = NULL;
	rc = inst_run(argv, NULL, out);
	free(b);
	free(d);
	return rc;
}
