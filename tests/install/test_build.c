/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_build.c - the Makefile itself: per-object header dependencies
 * (touching tokenctl's header rebuilds tokenctl and nothing of the
 * library; touching the public header rebuilds the library), "make
 * clean B=dir" removes that directory only, and WERROR= builds without
 * -Werror.  Every make here is "make -n" against this check's build
 * directory, or works in a directory of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "inst.h"
#include "tl.h"

static void
setup(void)
{
	tl_watchdog(120);
}

TestSuite(build, .init = setup);

/* make -C SRC_DIR <args...>; the output goes to *out.  Returns the status. */
static int
make_in_src(const char *const args[], char **out)
{
	const char *argv[16];
	size_t n = 0, i;

	argv[n++] = "make";
	argv[n++] = "--no-print-directory";
	argv[n++] = "-C";
	argv[n++] = SRC_DIR;
#ifdef __SANITIZE_ADDRESS__
	argv[n++] = "SANITIZE=1";	/* same flags as the objects in B */
#endif
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return inst_run(argv, NULL, out);
}

/*
 * B as "make check" spelled it: the .d files name their objects as the
 * compiler was told (build/obj/...), relative to SRC_DIR.
 */
static char *
b_as_built(void)
{
	size_t n = strlen(SRC_DIR);

	if (strncmp(BUILD_DIR, SRC_DIR, n) == 0 && BUILD_DIR[n] == '/')
		return tl_fmt("B=%s", BUILD_DIR + n + 1);
	return tl_fmt("B=%s", BUILD_DIR);
}

/* The commands "make all" would run after touching header. */
static char *
after_touching(const char *header)
{
	char *b = b_as_built();
	const char *const args[] = { "-n", "-W", header, b, "all", NULL };
	char *out = NULL;
	int rc = make_in_src(args, &out);

	cr_assert_eq(rc, 0, "make -n -W %s: %d\n%s", header, rc, out);
	free(b);
	return out;
}

/* 1 if out compiles ("-c -o PATH") an object whose path holds dir. */
static int
compiles(const char *out, const char *dir)
{
	const char *p, *end;

	for (p = out; (p = strstr(p, "-c -o ")) != NULL; p = end) {
		p += 6;
		end = p + strcspn(p, " \n");
		if (memmem(p, (size_t)(end - p), dir, strlen(dir)) != NULL)
			return 1;
	}
	return 0;
}

Test(build, tokenctl_header_rebuilds_tokenctl_only)
{
	char *out = after_touching("tokenctl/tokenctl.h");

	cr_expect(compiles(out, "/obj/tokenctl/main.o"),
	    "tokenctl/main.o not rebuilt:\n%s", out);
	cr_expect(!compiles(out, "/obj/verifier/"),
	    "a library object is rebuilt:\n%s", out);
	cr_expect(!compiles(out, "/obj/pam_apitoken/"),
	    "a module object is rebuilt:\n%s", out);
	cr_expect(strstr(out, "-soname") == NULL && strstr(out, " rcs ") == NULL,
	    "the library is relinked:\n%s", out);
	free(out);
}

Test(build, public_header_rebuilds_the_library)
{
	/* the object rules name no header: this comes from the .d files */
	char *out = after_touching("verifier/include/apitoken.h");

	cr_expect(strstr(out, "/obj/verifier/token.o") != NULL,
	    "verifier/token.o not rebuilt:\n%s", out);
	cr_expect(strstr(out, "/obj/pam_apitoken/") != NULL,
	    "no module object rebuilt:\n%s", out);
	free(out);
}

Test(build, clean_honours_B)
{
	char *tmp = inst_tmpdir("clean");
	char *dir = tl_fmt("%s/b", tmp);
	char *file = tl_fmt("%s/b/x.o", tmp);
	char *b = tl_fmt("B=%s", dir);
	const char *const args[] = { b, "clean", NULL };
	char *out = NULL;
	struct stat st;

	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(tl_create_file(file, "", 0600), 0);
	cr_assert_eq(make_in_src(args, &out), 0, "%s", out);
	cr_expect(stat(dir, &st) != 0, "make clean %s left %s:\n%s", b, dir,
	    out);
	cr_expect(stat(BUILD_DIR, &st) == 0, "make clean %s removed %s", b,
	    BUILD_DIR);
	cr_expect(strstr(out, "build-san") == NULL &&
	    strstr(out, "build-fuzz") == NULL, "%s", out);
	tl_rmrf(tmp);
	free(out);
	free(b);
	free(file);
	free(dir);
	free(tmp);
}

/* The compile command of one object into a fresh B, with extra args. */
static char *
compile_line(const char *tmp, const char *extra)
{
	char *b = tl_fmt("B=%s", tmp);
	char *obj = tl_fmt("%s/obj/verifier/token.o", tmp);
	const char *const with[] = { "-n", "-B", b, extra, obj, NULL };
	const char *const without[] = { "-n", "-B", b, obj, NULL };
	char *out = NULL;
	int rc = make_in_src(extra != NULL ? with : without, &out);

	cr_assert_eq(rc, 0, "make -n %s: %d\n%s", obj, rc, out);
	cr_assert(strstr(out, "-Wall") != NULL, "no compile line:\n%s", out);
	free(obj);
	free(b);
	return out;
}

Test(build, werror_by_default_and_off_with_WERROR_empty)
{
	char *tmp = inst_tmpdir("werror");
	char *dev = compile_line(tmp, NULL);
	char *dist = compile_line(tmp, "WERROR=");
	char *rules = tl_read_file(SRC_DIR "/debian/rules", NULL);

	cr_expect(strstr(dev, "-Werror") != NULL, "%s", dev);
	cr_expect(strstr(dist, "-Werror") == NULL, "%s", dist);
	/* and the Debian build is a distribution build */
	cr_assert_not_null(rules);
	cr_expect(strstr(rules, "WERROR=") != NULL,
	    "debian/rules does not clear WERROR");
	tl_rmrf(tmp);
	free(rules);
	free(dist);
	free(dev);
	free(tmp);
}

/* Every tracked source file carries the licence line (LICENSE). */
Test(build, every_source_file_has_the_licence_line)
{
	const char *const args[] = { "sh", SRC_DIR "/scripts/spdx-check.sh",
		NULL };
	char *out = NULL;
	int rc = inst_run(args, NULL, &out);

	if (rc == 2)
		TL_SKIP("not a git work tree: %s", out);
	cr_expect_eq(rc, 0, "files without the SPDX line:\n%s", out);
	free(out);
}

/* scripts/spdx-check.sh on given files: lists those without the line. */
Test(build, spdx_check_lists_files_without_the_licence_line)
{
	char *tmp = inst_tmpdir("spdx");
	char *with = tl_fmt("%s/with.c", tmp);
	char *without = tl_fmt("%s/without.sh", tmp);
	const char *const ok[] = { "sh", SRC_DIR "/scripts/spdx-check.sh",
		with, NULL };
	const char *const bad[] = { "sh", SRC_DIR "/scripts/spdx-check.sh",
		with, without, NULL };
	char *out = NULL;

	cr_assert_eq(tl_create_file(with, "/*\n * x.c\n * SPDX-License-Identifier:"
	    " BSD-2-Clause\n */\n", 0600), 0);
	cr_assert_eq(tl_create_file(without, "#!/bin/sh\n# MIT, say\n", 0600), 0);
	cr_expect_eq(inst_run(ok, NULL, &out), 0, "%s", out);
	free(out);
	cr_expect_eq(inst_run(bad, NULL, &out), 1, "%s", out);
	cr_expect(strstr(out, without) != NULL, "%s", out);
	cr_expect(strstr(out, "with.c") == NULL, "%s", out);
	tl_rmrf(tmp);
	free(out);
	free(without);
	free(with);
	free(tmp);
}
