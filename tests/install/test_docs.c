/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_docs.c - the documentation does not drift from the program or
 * point at nothing:
 *   helpman:  every verb's synopsis and options in "tokenctl VERB --help"
 *             (tokenctl/help.c) and in man/tokenctl.8 agree, and so do
 *             the verbs and the global options;
 *   docrefs:  no reference to a docs/ file or a Markdown link target that
 *             does not exist, no README section that does not exist, and
 *             no path of a development machine, in the documentation,
 *             sources, tests and scripts.
 */
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inst.h"

/* A growable list of strings (owned). */
struct strs {
	char	**v;
	size_t	  n;
};

static void
strs_add(struct strs *s, const char *p, size_t len)
{
	char **nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

	cr_assert_not_null(nv);
	s->v = nv;
	s->v[s->n] = strndup(p, len);
	cr_assert_not_null(s->v[s->n]);
	s->n++;
}

static int
strs_has(const struct strs *s, const char *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return 1;
	return 0;
}

static void
strs_add_once(struct strs *s, const char *p, size_t len)
{
	char *tmp = strndup(p, len);

	cr_assert_not_null(tmp);
	if (!strs_has(s, tmp))
		strs_add(s, p, len);
	free(tmp);
}

static void
strs_free(struct strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* The list as one string "a | b | c" for messages; free() it. */
static char *
strs_show(const struct strs *s)
{
	char *out = strdup(""), *next;
	size_t i;

	for (i = 0; i < s->n; i++) {
		next = tl_fmt("%s%s%s", out, i ? " | " : "", s->v[i]);
		free(out);
		out = next;
	}
	return out;
}

/* Every element of a is in b and the other way round. */
static int
strs_same_set(const struct strs *a, const struct strs *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!strs_has(b, a->v[i]))
			return 0;
	for (i = 0; i < b->n; i++)
		if (!strs_has(a, b->v[i]))
			return 0;
	return 1;
}

/* Append to dst the text with runs of blanks squeezed to one space. */
static void
squeeze_into(char **dst, const char *p, size_t len)
{
	char *out = tl_fmt("%s %.*s", *dst, (int)len, p), *r, *w;

	for (r = w = out; *r != '\0'; r++)
		if (!(*r == ' ' || *r == '\t') ||
		    (w > out && w[-1] != ' '))
			*w++ = *r == '\t' ? ' ' : *r;
	while (w > out && w[-1] == ' ')
		w--;
	*w = '\0';
	free(*dst);
	*dst = out;
}

/* Every "--name" in [p, p+len) (all, or only the first one). */
static void
long_options(struct strs *out, const char *p, size_t len, int first_only)
{
	const char *end = p + len;

	for (; p + 2 < end; p++) {
		const char *q = p + 2;

		if (p[0] != '-' || p[1] != '-' || q[0] < 'a' || q[0] > 'z' ||
		    (p > end - len && p[-1] == '-'))
			continue;
		while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '-'))
			q++;
		strs_add_once(out, p, (size_t)(q - p));
		if (first_only)
			return;
		p = q - 1;
	}
}

/* ------------------------------------------------------- tokenctl --help */

static char *
help_of(const char *verb)
{
	char *prog = tl_fmt("%s/tokenctl", BUILD_DIR);
	const char *const argv[] = { prog, verb != NULL ? verb : "--help",
		verb != NULL ? "--help" : NULL, NULL };
	const char *const env[] = { "APITOKEN_CONFIG=/nonexistent/apitoken.yaml",
		NULL };
	char *out = NULL;
	int rc = inst_run(argv, env, &out);

	cr_assert_eq(rc, 0, "tokenctl %s --help: exit %d\n%s",
	    verb != NULL ? verb : "", rc, out);
	free(prog);
	return out;
}

/*
 * The synopsis forms of a verb's --help: "usage: tokenctl ..." and the
 * lines after it that start with "tokenctl " or continue one (indented).
 */
static void
help_forms(const char *out, struct strs *forms)
{
	const char *p = out, *nl;
	char *cur = NULL;

	if (strncmp(p, "usage: ", 7) == 0)
		p += 7;
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (strncmp(p, "tokenctl ", 9) == 0) {
			if (cur != NULL)
				strs_add(forms, cur, strlen(cur));
			free(cur);
			cur = strdup("");
			squeeze_into(&cur, p, (size_t)(nl - p));
		} else if (cur != NULL && *p == ' ' && nl > p) {
			squeeze_into(&cur, p, (size_t)(nl - p));
		} else {
			break;
		}
		if (*nl == '\0')
			break;
	}
	if (cur != NULL)
		strs_add(forms, cur, strlen(cur));
	free(cur);
}

/* Options in the forms, and the first "--name" of each "  -..." line. */
static void
help_options(const char *out, const struct strs *forms, struct strs *opts)
{
	const char *p, *nl;
	size_t i;

	for (i = 0; i < forms->n; i++)
		long_options(opts, forms->v[i], strlen(forms->v[i]), 0);
	for (p = out; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (strncmp(p, "  -", 3) == 0)
			long_options(opts, p, (size_t)(nl - p), 1);
		if (*nl == '\0')
			break;
	}
}

/* The verbs listed under "Commands:" in tokenctl --help. */
static void
help_verbs(const char *out, struct strs *verbs)
{
	const char *p = strstr(out, "\nCommands:\n"), *q;

	cr_assert_not_null(p, "tokenctl --help lists no Commands:");
	for (p += 11; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1) {
		for (q = p += 2; *q >= 'a' && *q <= 'z'; q++)
			;
		if (q > p)
			strs_add_once(verbs, p, (size_t)(q - p));
	}
}

/* ---------------------------------------------------------- tokenctl.8 */

/* One roff line as plain text: font escapes gone, \- and \e resolved. */
static char *
deroff(const char *p, size_t len)
{
	char *out = malloc(len + 1), *w = out;
	const char *end = p + len;

	cr_assert_not_null(out);
	while (p < end) {
		if (p[0] == '\\' && p + 2 < end && p[1] == 'f') {
			p += 3;
		} else if (p[0] == '\\' && p + 1 < end &&
		    (p[1] == '-' || p[1] == 'e')) {
			*w++ = p[1] == '-' ? '-' : '\\';
			p += 2;
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
	return out;
}

/* The man page as an array of de-roffed lines. */
static void
man_lines(struct strs *lines)
{
	char *path = tl_fmt("%s/man/tokenctl.8", SRC_DIR);
	char *text = tl_read_file(path, NULL), *p, *nl, *line;

	cr_assert_not_null(text, "cannot read %s", path);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		line = deroff(p, (size_t)(nl - p));
		strs_add(lines, line, strlen(line));
		free(line);
		if (*nl == '\0')
			break;
	}
	free(text);
	free(path);
}

/* The synopsis forms of the SYNOPSIS section's .nf block (".B ..."). */
static void
man_forms(const struct strs *lines, struct strs *forms)
{
	size_t i;
	int in = 0;
	char *cur = NULL;

	for (i = 0; i < lines->n; i++) {
		const char *l = lines->v[i];
		size_t len;

		if (strcmp(l, ".nf") == 0)
			in = 1;
		if (strcmp(l, ".fi") == 0 || strncmp(l, ".SH DESC", 8) == 0)
			break;
		if (!in || strncmp(l, ".B ", 3) != 0)
			continue;
		l += 3;
		len = strlen(l);
		if (l[0] == '"' && len > 1 && l[len - 1] == '"') {
			l++;
			len -= 2;
		}
		if (l[0] != ' ' && cur != NULL) {
			strs_add(forms, cur, strlen(cur));
			free(cur);
			cur = NULL;
		}
		if (cur == NULL)
			cur = strdup("");
		squeeze_into(&cur, l, len);
	}
	if (cur != NULL)
		strs_add(forms, cur, strlen(cur));
	free(cur);
}

/* Does the line ".SS a, b, c" name verb? */
static int
ss_names(const char *l, const char *verb)
{
	size_t n = strlen(verb);
	const char *p;

	if (strncmp(l, ".SS ", 4) != 0)
		return 0;
	for (p = l + 4; (p = strstr(p, verb)) != NULL; p += n)
		if ((p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
	return 0;
}

/*
 * Options a man section defines: ".TP" followed by a font macro line
 * whose first "--name" it is.  Section: ".SS" naming verb, or for a NULL
 * verb ".SH OPTIONS".
 */
static void
man_defined(const struct strs *lines, const char *verb, struct strs *opts)
{
	size_t i;
	int in = 0;

	for (i = 0; i < lines->n; i++) {
		const char *l = lines->v[i];

		if (strncmp(l, ".SS ", 4) == 0 || strncmp(l, ".SH ", 4) == 0)
			in = verb != NULL ? ss_names(l, verb) :
			    strcmp(l, ".SH OPTIONS") == 0;
		else if (in && strcmp(l, ".TP") == 0 && i + 1 < lines->n &&
		    lines->v[i + 1][0] == '.')
			long_options(opts, lines->v[i + 1],
			    strlen(lines->v[i + 1]), 1);
	}
}

/* The forms of one verb (second word) out of all forms. */
static void
forms_of(const struct strs *all, const char *verb, struct strs *out)
{
	char *want = tl_fmt("tokenctl %s", verb);
	size_t i, n = strlen(want);

	for (i = 0; i < all->n; i++)
		if (strncmp(all->v[i], want, n) == 0 &&
		    (all->v[i][n] == ' ' || all->v[i][n] == '\0'))
			strs_add(out, all->v[i], strlen(all->v[i]));
	free(want);
}

/* ----------------------------------------------------------- helpman */

static struct strs manl, manforms, verbs;

static void
helpman_setup(void)
{
	char *global;

	tl_watchdog(60);
	man_lines(&manl);
	man_forms(&manl, &manforms);
	global = help_of(NULL);
	help_verbs(global, &verbs);
	free(global);
	cr_assert_gt(verbs.n, 10, "too few verbs in tokenctl --help");
}

static void
helpman_teardown(void)
{
	strs_free(&manl);
	strs_free(&manforms);
	strs_free(&verbs);
}

TestSuite(helpman, .init = helpman_setup, .fini = helpman_teardown);

Test(helpman, same_commands)
{
	struct strs manverbs = { 0 };
	size_t i;
	char *a, *b;

	for (i = 0; i < manforms.n; i++) {
		const char *v = manforms.v[i] + strlen("tokenctl ");

		if (strncmp(manforms.v[i], "tokenctl ", 9) == 0 &&
		    v[0] >= 'a' && v[0] <= 'z')
			strs_add_once(&manverbs, v, strcspn(v, " "));
	}
	a = strs_show(&verbs);
	b = strs_show(&manverbs);
	cr_expect(strs_same_set(&verbs, &manverbs),
	    "commands differ:\n  --help: %s\n  tokenctl.8: %s",
	    a, b);
	free(a);
	free(b);
	strs_free(&manverbs);
}

Test(helpman, same_synopsis)
{
	size_t i;

	for (i = 0; i < verbs.n; i++) {
		struct strs hf = { 0 }, mf = { 0 };
		char *out = help_of(verbs.v[i]), *a, *b;

		help_forms(out, &hf);
		forms_of(&manforms, verbs.v[i], &mf);
		a = strs_show(&hf);
		b = strs_show(&mf);
		cr_expect(hf.n > 0 && strs_same_set(&hf, &mf),
		    "synopsis of %s differs:\n  --help:     %s\n"
		    "  tokenctl.8: %s", verbs.v[i], a,
		    b);
		free(a);
		free(b);
		free(out);
		strs_free(&hf);
		strs_free(&mf);
	}
}

/* One verb: options of its --help vs. its man synopsis + section. */
static void
expect_same_options(const char *verb)
{
	struct strs hf = { 0 }, ho = { 0 }, mf = { 0 }, mo = { 0 };
	char *out = help_of(verb), *a, *b;
	size_t i;

	help_forms(out, &hf);
	help_options(out, &hf, &ho);
	forms_of(&manforms, verb, &mf);
	for (i = 0; i < mf.n; i++)
		long_options(&mo, mf.v[i], strlen(mf.v[i]), 0);
	man_defined(&manl, verb, &mo);
	a = strs_show(&ho);
	b = strs_show(&mo);
	cr_expect(strs_same_set(&ho, &mo),
	    "options of %s differ:\n  --help:     %s\n  tokenctl.8: %s",
	    verb, a, b);
	free(a);
	free(b);
	free(out);
	strs_free(&hf);
	strs_free(&ho);
	strs_free(&mf);
	strs_free(&mo);
}

Test(helpman, same_options)
{
	size_t i;

	for (i = 0; i < verbs.n; i++)
		expect_same_options(verbs.v[i]);
}

Test(helpman, same_global_options)
{
	struct strs ho = { 0 }, mo = { 0 }, none = { 0 };
	char *out = help_of(NULL), *a, *b;

	help_options(out, &none, &ho);
	man_defined(&manl, NULL, &mo);
	a = strs_show(&ho);
	b = strs_show(&mo);
	cr_expect(ho.n > 0 && strs_same_set(&ho, &mo),
	    "global options differ:\n  --help:     %s\n  tokenctl.8: %s",
	    a, b);
	free(a);
	free(b);
	free(out);
	strs_free(&ho);
	strs_free(&mo);
}

/* ----------------------------------------------------------- docrefs */

/* Files whose text is checked: documentation, sources, tests, scripts. */
static const char *const doc_globs[] = {
	"*.md", "docs/*.md", "man/*.[58]", "Makefile", "scripts/*",
	".ci/*", "debian/*.README.Debian", "debian/rules",
	"verifier/*.[ch]", "verifier/include/*.h", "pam_apitoken/*.[ch]",
	"tokenctl/*.[ch]", "conf/*.c", "conf/pam.d/*", "conf/*.yaml",
	"tests/*.sh", "tests/*/*.[ch]", "tests/*/*.sh",
	"tests/*/*.md", "tests/fuzz/crashers/*.md", "bench/*",
	"contrib/*/*",
};

static glob_t docs;

static void
docrefs_setup(void)
{
	size_t i;
	int flags = 0;

	tl_watchdog(60);
	cr_assert_eq(chdir(SRC_DIR), 0, "chdir %s", SRC_DIR);
	for (i = 0; i < sizeof(doc_globs) / sizeof(doc_globs[0]); i++) {
		glob(doc_globs[i], flags, NULL, &docs);
		flags = GLOB_APPEND;
	}
	cr_assert_gt(docs.gl_pathc, 50, "too few files to check");
}

static void
docrefs_teardown(void)
{
	globfree(&docs);
}

TestSuite(docrefs, .init = docrefs_setup, .fini = docrefs_teardown);

/* Line number of offset off in text. */
static int
line_of(const char *text, size_t off)
{
	int n = 1;
	size_t i;

	for (i = 0; i < off; i++)
		n += text[i] == '\n';
	return n;
}

/*
 * Each match of re (group 1: a path) in every file must exist: relative
 * to the project, or (rel_to_file) to the file's own directory.
 */
static void
expect_targets_exist(const char *pattern, int group, int rel_to_file)
{
	regex_t re;
	size_t i;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
	for (i = 0; i < docs.gl_pathc; i++) {
		const char *f = docs.gl_pathv[i];
		char *text = tl_read_file(f, NULL), *p;
		regmatch_t m[3];

		if (text == NULL)
			continue;
		for (p = text; regexec(&re, p, 3, m, 0) == 0; p += m[0].rm_eo) {
			const char *slash = strrchr(f, '/');
			char *t = tl_fmt("%.*s%.*s", rel_to_file && slash ?
			    (int)(slash - f + 1) : 0, f,
			    (int)(m[group].rm_eo - m[group].rm_so),
			    p + m[group].rm_so);

			cr_expect_eq(access(t, F_OK), 0,
			    "%s:%d: refers to %s, which does not exist", f,
			    line_of(text, (size_t)(p - text + m[group].rm_so)),
			    t);
			free(t);
		}
		free(text);
	}
	regfree(&re);
}

Test(docrefs, docs_files_exist)
{
	expect_targets_exist("(^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_.-]*"
	    "[A-Za-z0-9_])", 2, 0);
}

Test(docrefs, markdown_links_exist)
{
	expect_targets_exist("\\]\\(([A-Za-z0-9_.][A-Za-z0-9_./-]*)"
	    "(#[^)]*)?\\)", 1, 1);
}

/* A reference to a README section by its quoted title names a heading. */
Test(docrefs, readme_sections_exist)
{
	char *readme = tl_read_file("README.md", NULL);
	regex_t re;
	size_t i;

	cr_assert_not_null(readme);
	cr_assert_eq(regcomp(&re, "README(\\.md)?,? \\(?\"([^\"\n]+)\"",
	    REG_EXTENDED), 0);
	for (i = 0; i < docs.gl_pathc; i++) {
		char *text = tl_read_file(docs.gl_pathv[i], NULL), *p, *h;
		regmatch_t m[3];

		for (p = text; text != NULL &&
		    regexec(&re, p, 3, m, 0) == 0; p += m[0].rm_eo) {
			h = tl_fmt("# %.*s\n", (int)(m[2].rm_eo - m[2].rm_so),
			    p + m[2].rm_so);
			cr_expect_not_null(strstr(readme, h),
			    "%s:%d: README has no section \"%.*s\"",
			    docs.gl_pathv[i],
			    line_of(text, (size_t)(p - text + m[0].rm_so)),
			    (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
			free(h);
		}
		free(text);
	}
	regfree(&re);
	free(readme);
}

/* No path of a development machine or of a directory outside the tree. */
Test(docrefs, no_paths_outside_the_project)
{
	/* split, so that this file does not name them */
	static const char *const bad[] = { "/wor" "k/", "/hom" "e/",
		"../shar" "ed/" };
	size_t i, j;

	for (i = 0; i < docs.gl_pathc; i++) {
		char *text = tl_read_file(docs.gl_pathv[i], NULL), *p;

		for (j = 0; text != NULL && j < sizeof(bad) / sizeof(bad[0]);
		    j++)
			if ((p = strstr(text, bad[j])) != NULL)
				cr_expect_fail("%s:%d: mentions %s",
				    docs.gl_pathv[i],
				    line_of(text, (size_t)(p - text)), bad[j]);
		free(text);
	}
}

/* The README stays an introduction: the reference is in man/. */
Test(docrefs, readme_is_short)
{
	char *readme = tl_read_file("README.md", NULL);
	int lines;

	cr_assert_not_null(readme);
	lines = line_of(readme, strlen(readme)) - 1;
	cr_expect_leq(lines, 300, "README.md has %d lines; at most 300 "
	    "(move reference text to the man pages)", lines);
	cr_expect_not_null(strstr(readme, "\nmake check "),
	    "README.md no longer shows the test command \"make check\"");
	free(readme);
}
