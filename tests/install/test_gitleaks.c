/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_gitleaks.c - the secret-scanner rule in contrib/gitleaks/apitoken.toml.
 *
 * gitleaks is not packaged in Debian 12, so the rule is applied the way
 * gitleaks applies it: the regex (read from the .toml, never copied here)
 * run by grep -P (this regex is in the subset PCRE and Go's RE2 agree on),
 * the keyword pre-filter, the Shannon-entropy floor over the match, and
 * lines carrying "gitleaks:allow" skipped.
 *
 * It must find a token really issued by tokenctl, and nothing in the
 * project's own tracked files.  "tokenctl check" confirms a finding.
 */
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inst.h"
#include "tl.h"

#define RULE SRC_DIR "/contrib/gitleaks/apitoken.toml"

struct rule {
	char *regex;
	char *keyword;
	double entropy;
};

/* The text between open and close on the line starting with key. */
static char *
toml_value(const char *toml, const char *key, const char *open,
    const char *close)
{
	const char *p = toml, *v, *e;
	size_t kl = strlen(key);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, kl) != 0 || (p[kl] != ' ' && p[kl] != '='))
			continue;
		v = strstr(p, open);
		if (v == NULL || v > strchr(p, '\n'))
			return NULL;
		v += strlen(open);
		e = strstr(v, close);
		if (e == NULL || e > strchr(p, '\n'))
			return NULL;
		return strndup(v, (size_t)(e - v));
	}
	return NULL;
}

static void
rule_load(struct rule *r)
{
	char *toml = tl_read_file(RULE, NULL), *ent;

	cr_assert_not_null(toml, "cannot read %s", RULE);
	r->regex = toml_value(toml, "regex", "'''", "'''");
	r->keyword = toml_value(toml, "keywords", "[\"", "\"");
	ent = toml_value(toml, "entropy", "= ", "\n");
	cr_assert_not_null(r->regex, "no regex = '''...''' in %s", RULE);
	cr_assert_not_null(r->keyword, "no keywords = [\"...\"] in %s", RULE);
	cr_assert_not_null(ent, "no entropy = N in %s", RULE);
	r->entropy = strtod(ent, NULL);
	cr_assert(r->entropy > 0 && r->entropy < 6, "entropy %s", ent);
	free(ent);
	free(toml);
}

static void
rule_free(struct rule *r)
{
	free(r->regex);
	free(r->keyword);
}

/* Shannon entropy in bits per character, as gitleaks computes it. */
static double
shannon(const char *s)
{
	size_t count[256] = { 0 }, n = strlen(s), i;
	double h = 0;

	for (i = 0; i < n; i++)
		count[(unsigned char)s[i]]++;
	for (i = 0; i < 256; i++) {
		double f = (double)count[i] / (double)n;

		if (count[i] != 0)
			h -= f * log2(f);
	}
	return h;
}

/* Does gitleaks report this match?  Keyword (any case) and entropy. */
static int
rule_reports(const struct rule *r, const char *match)
{
	return strcasestr(match, r->keyword) != NULL &&
	    shannon(match) >= r->entropy;
}

/*
 * grep -P -o the rule's regex over files; returns the output lines
 * ("file:line:match" when with_names) and the grep status in *rcp.
 */
static char *
rule_grep(const struct rule *r, const char *const files[], size_t nfiles,
    int with_names, int *rcp)
{
	const char **argv = calloc(nfiles + 10, sizeof(*argv));
	size_t n = 0, i;
	char *out = NULL;

	cr_assert_not_null(argv);
	argv[n++] = "grep";
	argv[n++] = "-P";
	argv[n++] = "-o";
	argv[n++] = "-a";
	argv[n++] = with_names ? "-Hn" : "-h";
	argv[n++] = "-e";
	argv[n++] = r->regex;
	argv[n++] = "--";
	for (i = 0; i < nfiles; i++)
		argv[n++] = files[i];
	argv[n] = NULL;
	*rcp = inst_run(argv, NULL, &out);
	free(argv);
	return out;
}

/* ---------------------------------------------------- a real token */

static char *dir;
static char *cfg;

static void
setup(void)
{
	char *text;

	tl_watchdog(60);
	dir = inst_tmpdir("scan");
	cfg = tl_fmt("%s/apitoken.yaml", dir);
	text = tl_fmt("store: %s/store/tokens\nstate_dir: %s/state\n", dir,
	    dir);
	cr_assert_eq(tl_create_file(cfg, text, 0600), 0);
	free(text);
}

static void
teardown(void)
{
	if (dir != NULL)
		tl_rmrf(dir);
	free(dir);
	free(cfg);
	dir = cfg = NULL;
}

static int
tokenctl(const char *const args[], char **out)
{
	const char *argv[16];
	size_t n = 0, i;

	argv[n++] = BUILD_DIR "/tokenctl";
	argv[n++] = "-c";
	argv[n++] = cfg;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return inst_run(argv, NULL, out);
}

/* tokenctl check with tok on standard input (never in argv). */
static int
tokenctl_check(const char *tok, char **out)
{
	char *in = tl_fmt("%s/check.in", dir), *text = tl_fmt("%s\n", tok);
	const char *argv[] = { "/bin/sh", "-c",
	    "exec \"$0\" -c \"$1\" check < \"$2\"", BUILD_DIR "/tokenctl",
	    cfg, in, NULL };
	int rc;

	cr_assert_eq(tl_create_file(in, text, 0600), 0);
	rc = inst_run(argv, NULL, out);
	unlink(in);
	free(in);
	free(text);
	return rc;
}

/* Issue a token for the current user; returns it (no newline). */
static char *
issue_token(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *const init[] = { "init", NULL };
	const char *issue[] = { "issue", NULL, "--label", "scanner test",
		NULL };
	char *out = NULL;
	int rc;

	cr_assert_not_null(pw);
	rc = tokenctl(init, &out);
	cr_assert_eq(rc, 0, "tokenctl init: %s", out);
	free(out);
	issue[1] = pw->pw_name;
	rc = tokenctl(issue, &out);
	cr_assert_eq(rc, 0, "tokenctl issue: %s", out);
	out[strcspn(out, "\n")] = '\0';
	cr_assert(strncmp(out, "apitok_", 7) == 0, "issued: %s", out);
	return out;
}

TestSuite(gitleaks, .init = setup, .fini = teardown);

Test(gitleaks, finds_an_issued_token_in_a_file)
{
	struct rule r;
	char *tok = issue_token();
	char *file = tl_fmt("%s/deploy.env", dir);
	char *text = tl_fmt(
	    "# deploy settings\n"
	    "APITOKEN=%s\n"
	    "curl -H 'Authorization: Bearer %s' https://ci.example/\n"
	    "password: \"%s\"\n", tok, tok, tok);
	char *want = tl_fmt("%s\n%s\n%s\n", tok, tok, tok);
	const char *const files[] = { file };
	char *out, *chk = NULL;
	int rc;

	rule_load(&r);
	cr_assert_eq(tl_create_file(file, text, 0600), 0);
	out = rule_grep(&r, files, 1, 0, &rc);
	cr_assert_eq(rc, 0, "the rule missed a real token (grep %d): %s", rc,
	    out);
	cr_expect_str_eq(out, want);
	cr_expect(rule_reports(&r, tok), "entropy %.2f below %.2f for %s",
	    shannon(tok), r.entropy, tok);

	/* and tokenctl check confirms it offline */
	rc = tokenctl_check(tok, &chk);
	cr_expect_eq(rc, 0, "tokenctl check rejected an issued token: %s", chk);
	free(chk);
	free(out);
	free(want);
	free(text);
	free(file);
	free(tok);
	rule_free(&r);
}

/* Token-shaped with a wrong CRC: the regex cannot tell, tokenctl check can. */
Test(gitleaks, tokenctl_check_rejects_a_bad_checksum)
{
	struct rule r;
	char *tok = issue_token();
	char *file = tl_fmt("%s/typo.txt", dir);
	const char *const files[] = { file };
	char *out, *line;
	size_t i = 20;		/* a secret character */
	int rc;

	rule_load(&r);
	tok[i] = tok[i] == 'A' ? 'B' : 'A';
	line = tl_fmt("token %s here\n", tok);
	cr_assert_eq(tl_create_file(file, line, 0600), 0);
	out = rule_grep(&r, files, 1, 0, &rc);
	cr_expect_eq(rc, 0, "shape-only match expected: %s", out);
	free(out);
	rc = tokenctl_check(tok, &out);
	cr_expect_neq(rc, 0, "tokenctl check accepted a bad checksum: %s", out);
	free(out);
	free(line);
	free(file);
	free(tok);
	rule_free(&r);
}

/* Near misses built from a real token: none may match. */
Test(gitleaks, near_misses_do_not_match)
{
	struct rule r;
	char *tok = issue_token();
	char *file = tl_fmt("%s/near.txt", dir);
	char *text = tl_fmt(
	    "x%s\n"			/* inside a longer word */
	    "%sQ\n"			/* one character too many */
	    "%s_x\n"			/* followed by more word chars */
	    "%.56s\n"			/* one character short */
	    "apitokx%s\n"		/* another prefix */
	    "%.19s-%s\n",		/* a '-' inside */
	    tok, tok, tok, tok, tok + 6, tok, tok + 20);
	const char *const files[] = { file };
	char *out;
	int rc;

	rule_load(&r);
	cr_assert_eq(tl_create_file(file, text, 0600), 0);
	out = rule_grep(&r, files, 1, 0, &rc);
	cr_expect_eq(rc, 1, "near misses matched:\n%s", out);
	free(out);
	free(text);
	free(file);
	free(tok);
	rule_free(&r);
}

/* A placeholder matches the regex; the entropy floor drops it. */
Test(gitleaks, entropy_drops_placeholders)
{
	struct rule r;
	char ph[64];

	rule_load(&r);
	memcpy(ph, "apitok_", 7);
	memset(ph + 7, 'X', 12);
	ph[19] = '_';
	memset(ph + 20, 'X', 38);
	ph[58] = '\0';
	cr_expect(!rule_reports(&r, ph), "placeholder reported: %s", ph);
	rule_free(&r);
}

/* ---------------------------------------- the project's own sources */

static int
line_allowed(const char *path, long lineno)
{
	char *text = tl_read_file(path, NULL), *p = text;
	int allowed = 0;
	long l = 1;

	for (; p != NULL && l < lineno; l++) {
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	if (p != NULL) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		allowed = strstr(p, "gitleaks:allow") != NULL;
	}
	free(text);
	return allowed;
}

/* NUL-separated names -> paths under SRC_DIR of the regular files. */
static char **
path_vector(char *names, size_t len, size_t *np)
{
	char **v = NULL;
	size_t n = 0, off;
	struct stat st;

	for (off = 0; off < len; off += strlen(names + off) + 1) {
		char *p = tl_fmt("%s/%s", SRC_DIR, names + off);
		char **nv;

		if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);	/* deleted in the work tree, or a link */
			continue;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		cr_assert_not_null(nv);
		v = nv;
		v[n++] = p;
	}
	*np = n;
	return v;
}

Test(gitleaks, no_finding_in_tracked_files)
{
	const char *const ls[] = { "git", "-C", SRC_DIR, "ls-files", "-z",
		NULL };
	struct rule r;
	char *names = NULL, *out, *line, *save = NULL, *report = NULL;
	char **paths;
	size_t np = 0, i, len;
	int rc, findings = 0;

	if (inst_run_len(ls, NULL, &names, &len) != 0) {
		free(names);
		TL_SKIP("not a git checkout: no tracked files to scan");
	}
	paths = path_vector(names, len, &np);
	cr_assert(np > 10, "git ls-files listed %zu files", np);
	rule_load(&r);
	out = rule_grep(&r, (const char *const *)paths, np, 1, &rc);
	cr_assert(rc == 0 || rc == 1, "grep failed (%d): %s", rc, out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;
		long ln;

		if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c1 = *c2 = '\0';
		ln = strtol(c1 + 1, NULL, 10);
		if (!rule_reports(&r, c2 + 1) || line_allowed(line, ln))
			continue;
		findings++;
		free(report);
		report = tl_fmt("%s:%ld: %s", line, ln, c2 + 1);
	}
	cr_expect_eq(findings, 0, "%d finding(s) in tracked files, last: %s",
	    findings, report != NULL ? report : "");
	free(report);
	free(out);
	for (i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	free(names);
	rule_free(&r);
}
