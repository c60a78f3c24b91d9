/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_manlint.c - every man page in man/ (*.5, *.8) is clean under
 * mandoc's linter and under groff with all warnings on (what
 * "man --warnings" runs), and names itself consistently.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "inst.h"
#include "tl.h"

static glob_t pages;

static void
find_pages(void)
{
	tl_watchdog(60);
	cr_assert_eq(glob(SRC_DIR "/man/*.[58]", 0, NULL, &pages), 0,
	    "no man pages in %s/man", SRC_DIR);
}

static void
free_pages(void)
{
	globfree(&pages);
}

static int
have(const char *prog)
{
	const char *const argv[] = { "sh", "-c", "command -v \"$0\"", prog,
		NULL };

	return inst_run(argv, NULL, NULL) == 0;
}

TestSuite(manlint, .init = find_pages, .fini = free_pages);

Test(manlint, all_five_pages_exist)
{
	static const char *const need[] = {
		"apitoken-store.5", "apitoken.yaml.5", "pam_apitoken.8",
		"tokenctl.8", "apitokend.8"
	};
	size_t i, j;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		int found = 0;

		for (j = 0; j < pages.gl_pathc; j++)
			found |= strcmp(strrchr(pages.gl_pathv[j], '/') + 1,
			    need[i]) == 0;
		cr_expect(found, "man/%s is missing", need[i]);
	}
}

Test(manlint, mandoc_lint_clean)
{
	size_t i;

	if (!have("mandoc"))
		TL_SKIP("mandoc is not installed (apt-get install mandoc)");
	for (i = 0; i < pages.gl_pathc; i++) {
		const char *const argv[] = { "mandoc", "-T", "lint", "-W",
			"warning", pages.gl_pathv[i], NULL };
		char *out = NULL;
		int rc = inst_run(argv, NULL, &out);

		cr_expect(rc == 0 && out[0] == '\0',
		    "mandoc -T lint %s (exit %d):\n%s", pages.gl_pathv[i], rc,
		    out);
		free(out);
	}
}

Test(manlint, groff_warnings_clean)
{
	size_t i;

	if (!have("groff"))
		TL_SKIP("groff is not installed (apt-get install "
		    "groff-base)");
	for (i = 0; i < pages.gl_pathc; i++) {
		const char *const argv[] = { "groff", "-man", "-Tutf8", "-ww",
			"-z", pages.gl_pathv[i], NULL };
		char *out = NULL;
		int rc = inst_run(argv, NULL, &out);

		cr_expect(rc == 0 && out[0] == '\0',
		    "groff -ww %s (exit %d):\n%s", pages.gl_pathv[i], rc, out);
		free(out);
	}
}

/* ".TH NAME SECTION" matches the file name (in any case). */
Test(manlint, title_matches_the_file)
{
	size_t i;

	for (i = 0; i < pages.gl_pathc; i++) {
		const char *path = pages.gl_pathv[i];
		const char *base = strrchr(path, '/') + 1;
		const char *dot = strrchr(base, '.');
		char *text = tl_read_file(path, NULL), *th, *want;

		cr_assert_not_null(text, "cannot read %s", path);
		want = tl_fmt(".TH %.*s %s ", (int)(dot - base), base,
		    dot + 1);
		th = strncmp(text, ".TH ", 4) == 0 ? text :
		    strstr(text, "\n.TH ");
		if (th != NULL && th != text)
			th++;
		cr_expect(th != NULL && strncasecmp(th, want, strlen(want)) == 0,
		    "%s: expected a line starting \"%s\"", path, want);
		free(want);
		free(text);
	}
}
