/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_install.c - "make install" / "make uninstall" into temp DESTDIRs,
 * run against the objects this "make check" built (B=BUILD_DIR).
 *
 * Checks the exact list of files and symlinks with their modes, that the
 * installed copies are the built ones, that an existing config is never
 * overwritten (nor a symlink followed), that uninstall leaves no file
 * behind, the PAMDIR default, and that the installed header, .pc, library
 * and module can be used.
 */
#include <dlfcn.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "inst.h"
#include "tl.h"

#define LIBD "/usr/lib/" INST_MA
#define PAMD "/lib/" INST_MA "/security"

static const char *const debian_vars[] = {
	"PREFIX=/usr", "LIBDIR=" LIBD, "PAMDIR=" PAMD, "SYSCONFDIR=/etc",
	NULL
};

/* ------------------------------------------------------------ listing */

struct listing {
	char *text;		/* "path type mode[ -> target]\n" lines, sorted */
	size_t n;
	char **lines;
	size_t root_len;
};

static struct listing *walk_into;

static int
walk_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	char target[4096];
	ssize_t tn;
	char *line;
	char **nl;

	(void)f;
	if (type == FTW_D || type == FTW_DP)
		return 0;
	if (type == FTW_SL) {
		tn = readlink(path, target, sizeof(target) - 1);
		if (tn < 0)
			return -1;
		target[tn] = '\0';
		line = tl_fmt("%s l -> %s", path + walk_into->root_len,
		    target);
	} else {
		line = tl_fmt("%s %c %04o", path + walk_into->root_len,
		    S_ISREG(sb->st_mode) ? 'f' : '?',
		    (unsigned)(sb->st_mode & 07777));
	}
	nl = realloc(walk_into->lines, (walk_into->n + 1) * sizeof(*nl));
	if (nl == NULL)
		return -1;
	walk_into->lines = nl;
	walk_into->lines[walk_into->n++] = line;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort lines and join them into one text. */
static void
listing_finish(struct listing *l)
{
	size_t i, len = 1;

	if (l->n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(l->lines, l->n, sizeof(*l->lines), cmp_str);
	for (i = 0; i < l->n; i++)
		len += strlen(l->lines[i]) + 1;
	l->text = calloc(1, len);
	cr_assert_not_null(l->text);
	for (i = 0; i < l->n; i++) {
		strcat(l->text, l->lines[i]);
		strcat(l->text, "\n");
	}
}

/* Every non-directory under root (symlinks not followed). */
static struct listing *
listing_of(const char *root)
{
	struct listing *l = calloc(1, sizeof(*l));

	cr_assert_not_null(l);
	l->root_len = strlen(root);
	walk_into = l;
	cr_assert_eq(nftw(root, walk_one, 16, FTW_PHYS), 0, "walk %s", root);
	walk_into = NULL;
	listing_finish(l);
	return l;
}

static void
listing_add(struct listing *l, char *line)
{
	char **nl = realloc(l->lines, (l->n + 1) * sizeof(*nl));

	cr_assert_not_null(nl);
	l->lines = nl;
	l->lines[l->n++] = line;
}

static void
listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	free(l->text);
	free(l);
}

/* The man pages in SRC_DIR/man, as installed paths under mandir. */
static void
add_man_pages(struct listing *l, const char *mandir)
{
	glob_t g;
	size_t i;
	char *pat = tl_fmt("%s/man/*.[58]", SRC_DIR);

	cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no man pages in %s/man",
	    SRC_DIR);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		const char *sect = strrchr(base, '.') + 1;

		listing_add(l, tl_fmt("%s/man%s/%s f 0644", mandir, sect,
		    base));
	}
	globfree(&g);
	free(pat);
}

/* The PAM service files of SRC_DIR/conf/pam.d, as installed under dir. */
static void
add_pamd_examples(struct listing *l, const char *dir)
{
	char *pat = tl_fmt("%s/conf/pam.d/*", SRC_DIR);
	glob_t g;
	size_t i;

	cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no %s", pat);
	for (i = 0; i < g.gl_pathc; i++)
		listing_add(l, tl_fmt("%s/%s f 0644", dir,
		    strrchr(g.gl_pathv[i], '/') + 1));
	globfree(&g);
	free(pat);
}

/* What "make install" with debian_vars must produce, exactly. */
static struct listing *
expected_layout(void)
{
	struct listing *l = calloc(1, sizeof(*l));

	cr_assert_not_null(l);
	listing_add(l, tl_fmt(LIBD "/libapitoken.so.0.1.0 f 0644"));
	listing_add(l, tl_fmt(LIBD "/libapitoken.so.0 l -> "
	    "libapitoken.so.0.1.0"));
	listing_add(l, tl_fmt(LIBD "/libapitoken.so l -> libapitoken.so.0"));
	listing_add(l, tl_fmt(LIBD "/pkgconfig/libapitoken.pc f 0644"));
	listing_add(l, tl_fmt("/usr/include/apitoken.h f 0644"));
	listing_add(l, tl_fmt(PAMD "/pam_apitoken.so f 0644"));
	listing_add(l, tl_fmt("/usr/sbin/tokenctl f 0755"));
	listing_add(l, tl_fmt("/usr/sbin/apitokend f 0755"));
	listing_add(l, tl_fmt("/usr/lib/systemd/system/apitokend.socket "
	    "f 0644"));
	listing_add(l, tl_fmt("/usr/lib/systemd/system/apitokend.service "
	    "f 0644"));
	listing_add(l, tl_fmt("/usr/share/bash-completion/completions/"
	    "tokenctl f 0644"));
	listing_add(l, tl_fmt("/etc/apitoken/apitoken.yaml f 0644"));
	add_man_pages(l, "/usr/share/man");
	add_pamd_examples(l, "/usr/share/doc/pam_apitoken/examples/pam.d");
	listing_finish(l);
	return l;
}

/* ------------------------------------------------------------ helpers */

static char *destdir;

static void
setup_destdir(void)
{
	tl_watchdog(120);
	destdir = inst_tmpdir("install");
}

static void
teardown_destdir(void)
{
	if (destdir != NULL)
		tl_rmrf(destdir);
	free(destdir);
	destdir = NULL;
}

static void
must_make(const char *target, const char *const vars[])
{
	char *out = NULL;
	int rc = inst_make(destdir, target, vars, &out);

	cr_assert_eq(rc, 0, "make %s failed (%d):\n%s", target, rc,
	    out != NULL ? out : "");
	free(out);
}

static char *
dpath(const char *rel)
{
	return tl_fmt("%s%s", destdir, rel);
}

/* mkdir -p of rel (absolute, under destdir) with mode 0755. */
static void
dmkdirs(const char *rel)
{
	char *p = dpath(rel);
	size_t i;

	for (i = strlen(destdir) + 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		mkdir(p, 0755);
		p[i] = '/';
	}
	cr_assert(mkdir(p, 0755) == 0, "mkdir %s", p);
	free(p);
}

/* The installed file rel is byte-identical to the source file src. */
static void
assert_same(const char *rel, const char *src)
{
	char *p = dpath(rel);
	size_t la = 0, lb = 0;
	char *a = tl_read_file(p, &la), *b = tl_read_file(src, &lb);

	cr_assert_not_null(a, "cannot read %s", p);
	cr_assert_not_null(b, "cannot read %s", src);
	cr_assert(la == lb && memcmp(a, b, la) == 0, "%s differs from %s",
	    p, src);
	free(a);
	free(b);
	free(p);
}

/* ------------------------------------------------------------- tests */

TestSuite(install, .init = setup_destdir, .fini = teardown_destdir);

Test(install, layout_and_modes)
{
	struct listing *want, *got;

	must_make("install", debian_vars);
	want = expected_layout();
	got = listing_of(destdir);
	cr_assert_str_eq(got->text, want->text,
	    "installed files differ.\n--- expected:\n%s--- installed:\n%s",
	    want->text, got->text);
	listing_free(want);
	listing_free(got);
}

Test(install, required_pieces_present)
{
	static const char *const need[] = {
		"/usr/share/man/man5/apitoken-store.5",
		"/usr/share/man/man5/apitoken.yaml.5",
		"/usr/share/man/man8/pam_apitoken.8",
		"/usr/share/man/man8/tokenctl.8",
		"/usr/share/man/man8/apitokend.8",
		"/usr/share/bash-completion/completions/tokenctl",
	};
	size_t i;

	must_make("install", debian_vars);
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		char *p = dpath(need[i]);
		struct stat st;

		cr_expect_eq(lstat(p, &st), 0, "%s was not installed", need[i]);
		free(p);
	}
}

Test(install, copies_are_the_built_files)
{
	char *s;

	must_make("install", debian_vars);
	assert_same(LIBD "/libapitoken.so.0.1.0",
	    s = tl_fmt("%s/libapitoken.so.0.1.0", BUILD_DIR));
	free(s);
	assert_same(PAMD "/pam_apitoken.so",
	    s = tl_fmt("%s/pam_apitoken.so", BUILD_DIR));
	free(s);
	assert_same("/usr/sbin/tokenctl", s = tl_fmt("%s/tokenctl",
	    BUILD_DIR));
	free(s);
	assert_same("/usr/include/apitoken.h",
	    s = tl_fmt("%s/verifier/include/apitoken.h", SRC_DIR));
	free(s);
	assert_same("/etc/apitoken/apitoken.yaml",
	    s = tl_fmt("%s/conf/apitoken.yaml", SRC_DIR));
	free(s);
	assert_same("/usr/share/man/man5/apitoken.yaml.5",
	    s = tl_fmt("%s/man/apitoken.yaml.5", SRC_DIR));
	free(s);
}

/* The .pc names the install-time dirs, even when B was built for others. */
Test(install, pkgconfig_names_install_dirs)
{
	char *p, *pc;

	must_make("install", debian_vars);
	p = dpath(LIBD "/pkgconfig/libapitoken.pc");
	pc = tl_read_file(p, NULL);
	cr_assert_not_null(pc, "cannot read %s", p);
	cr_expect(strstr(pc, "prefix=/usr\n") != NULL, "%s", pc);
	cr_expect(strstr(pc, "libdir=" LIBD "\n") != NULL, "%s", pc);
	cr_expect(strstr(pc, "includedir=/usr/include\n") != NULL, "%s", pc);
	cr_expect(strstr(pc, "Version: 0.1.0\n") != NULL, "%s", pc);
	cr_expect(strchr(pc, '@') == NULL, "unsubstituted @VAR@: %s", pc);
	free(pc);
	free(p);
}

/* PAMDIR defaults to where libpam looks: pkg-config's pam libdir. */
Test(install, pamdir_default_from_pam_pc)
{
	static const char *const vars[] = { "PREFIX=/usr", NULL };
	static const char *const pc[] = {
		"pkg-config", "--variable=libdir", "pam", NULL
	};
	char *libdir = NULL, *p, *nl;
	struct stat st;

	if (inst_run(pc, NULL, &libdir) != 0 || libdir[0] != '/') {
		free(libdir);
		libdir = tl_fmt("/usr/lib");	/* $(LIBDIR) */
	}
	nl = strchr(libdir, '\n');
	if (nl != NULL)
		*nl = '\0';
	must_make("install", vars);
	p = tl_fmt("%s%s/security/pam_apitoken.so", destdir, libdir);
	cr_expect_eq(stat(p, &st), 0, "module not at %s", p);
	free(p);
	free(libdir);
}

Test(install, existing_config_is_kept)
{
	static const char mine[] = "store: /srv/tokens\n";
	char *cfg = dpath("/etc/apitoken/apitoken.yaml"), *s;
	struct stat st;

	dmkdirs("/etc/apitoken");
	cr_assert_eq(tl_create_file(cfg, mine, 0600), 0);
	must_make("install", debian_vars);
	s = tl_read_file(cfg, NULL);
	cr_assert_str_eq(s, mine, "install overwrote the config");
	free(s);
	cr_assert_eq(stat(cfg, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "config mode changed");

	/* A second install (an upgrade) keeps it too. */
	must_make("install", debian_vars);
	s = tl_read_file(cfg, NULL);
	cr_expect_str_eq(s, mine);
	free(s);
	free(cfg);
}

Test(install, config_symlink_is_not_followed)
{
	char *cfg = dpath("/etc/apitoken/apitoken.yaml");
	char *victim = dpath("/victim");
	char *s;
	struct stat st;

	cr_assert_eq(tl_create_file(victim, "untouched\n", 0644), 0);
	dmkdirs("/etc/apitoken");
	cr_assert_eq(symlink(victim, cfg), 0);
	must_make("install", debian_vars);
	cr_assert_eq(lstat(cfg, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "config symlink replaced");
	s = tl_read_file(victim, NULL);
	cr_expect_str_eq(s, "untouched\n", "install wrote through a symlink");
	free(s);
	free(cfg);
	free(victim);
}

Test(install, uninstall_removes_every_file)
{
	struct listing *left;

	must_make("install", debian_vars);
	must_make("uninstall", debian_vars);
	left = listing_of(destdir);
	cr_expect_str_eq(left->text, "", "left behind by uninstall:\n%s",
	    left->text);
	listing_free(left);
}

Test(install, uninstall_keeps_an_edited_config)
{
	struct listing *left;
	char *cfg = dpath("/etc/apitoken/apitoken.yaml");
	FILE *f;

	must_make("install", debian_vars);
	f = fopen(cfg, "a");
	cr_assert_not_null(f);
	fputs("lock_timeout: 30s\n", f);
	cr_assert_eq(fclose(f), 0);
	must_make("uninstall", debian_vars);
	left = listing_of(destdir);
	cr_expect_str_eq(left->text, "/etc/apitoken/apitoken.yaml f 0644\n",
	    "after uninstall:\n%s", left->text);
	listing_free(left);
	free(cfg);
}

/* ------------------------------------- the installed pieces are usable */

static const char prog_src[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include <apitoken.h>\n"
	"int main(void) {\n"
	"  struct apitoken_token t;\n"
	"  const char *s = \"apitok_short\";\n"
	"  enum apitoken_format f = apitoken_token_parse(\"apitok\", s,\n"
	"      strlen(s), &t);\n"
	"  printf(\"%s|%s\\n\", apitoken_format_str(f),\n"
	"      apitoken_strerror(APITOKEN_ERR_NOMEM));\n"
	"  return f == APITOKEN_FMT_OK;\n"
	"}\n";

/* Compile against the installed header and .pc, run with the installed
 * library found through its SONAME link. */
Test(install, header_pc_and_library_build_a_program)
{
	char *src = dpath("/prog.c"), *exe = dpath("/prog");
	char *pcdir = tl_fmt("PKG_CONFIG_PATH=%s%s/pkgconfig", destdir,
	    LIBD);
	char *sysroot = tl_fmt("PKG_CONFIG_SYSROOT_DIR=%s", destdir);
	char *ldpath = tl_fmt("LD_LIBRARY_PATH=%s%s", destdir, LIBD);
	const char *const pcenv[] = { pcdir, sysroot, NULL };
	const char *const runenv[] = { ldpath, NULL };
	const char *const pcargs[] = { "pkg-config", "--cflags", "--libs",
		"libapitoken", NULL };
	const char *const run[] = { exe, NULL };
	char *flags = NULL, *out = NULL, *cmd;
	int rc;

	must_make("install", debian_vars);
	cr_assert_eq(tl_create_file(src, prog_src, 0644), 0);
	rc = inst_run(pcargs, pcenv, &flags);
	cr_assert_eq(rc, 0, "pkg-config libapitoken: %s", flags);
	flags[strcspn(flags, "\n")] = '\0';
	cr_expect(strstr(flags, "-lapitoken") != NULL, "%s", flags);
	cmd = tl_fmt("cc %s -o '%s' '%s' %s",
#ifdef __SANITIZE_ADDRESS__
	    "-fsanitize=address,undefined",
#else
	    "",
#endif
	    exe, src, flags);
	{
		const char *const sh[] = { "sh", "-c", cmd, NULL };

		rc = inst_run(sh, NULL, &out);
		cr_assert_eq(rc, 0, "%s\n%s", cmd, out);
		free(out);
	}
	rc = inst_run(run, runenv, &out);
	cr_assert_eq(rc, 0, "program failed (%d): %s", rc, out);
	cr_expect(strchr(out, '|') != NULL && strncmp(out, "|", 1) != 0,
	    "unexpected output: %s", out);
	free(out);
	free(cmd);
	free(flags);
	free(src);
	free(exe);
	free(pcdir);
	free(sysroot);
	free(ldpath);
}

Test(install, module_exports_pam_entry_points)
{
	char *mod = dpath(PAMD "/pam_apitoken.so");
	void *h;

	must_make("install", debian_vars);
	h = dlopen(mod, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(h, "dlopen %s: %s", mod, dlerror());
	cr_expect_not_null(dlsym(h, "pam_sm_authenticate"));
	cr_expect_not_null(dlsym(h, "pam_sm_acct_mgmt"));
	cr_expect_null(dlsym(h, "apitoken_verify_once"),
	    "the module exports library symbols");
	dlclose(h);
	free(mod);
}

Test(install, installed_tokenctl_runs)
{
	char *ctl = dpath("/usr/sbin/tokenctl");
	const char *const argv[] = { ctl, "--help", NULL };
	char *out = NULL;
	int rc;

	must_make("install", debian_vars);
	rc = inst_run(argv, NULL, &out);
	cr_expect_eq(rc, 0, "%s --help: %d\n%s", ctl, rc, out);
	cr_expect(strstr(out, "init") != NULL, "%s", out);
	free(out);
	free(ctl);
}
