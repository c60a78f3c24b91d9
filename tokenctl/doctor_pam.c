/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor_pam.c - tokenctl doctor's look at the PAM service files that use
 * pam_apitoken.so: options the module would refuse (parsed by the
 * module's own args_parse, so the two cannot disagree), an auth line
 * without an account line, use_first_pass with nothing before it, the
 * module not last in the session stack, and service names that a token's
 * service list misses for want of a service_aliases entry (su vs su-l).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"
#include "doctor.h"
#include "../pam_apitoken/pam_apitoken.h"

#define PAM_ARGS_MAX	32
#define PAM_LINES_MAX	1000
#define PAM_INCLUDE_DEPTH 8
#define MODULE_NAME	"pam_apitoken.so"

/* One line of a PAM service file, split in place. */
struct pline {
	int lineno;
	const char *type;	/* "auth", "account", ... without a '-' */
	const char *control;	/* "required", "[...]" or "@include" */
	const char *module;	/* or the file an @include names */
	int argc;
	const char *argv[PAM_ARGS_MAX];
};

struct pfile {
	char path[PATH_MAX];
	char *text;
	struct pline v[PAM_LINES_MAX];
	size_t n;
};

static int
is_module(const char *path)
{
	const char *base = strrchr(path, '/');

	return strcmp(base != NULL ? base + 1 : path, MODULE_NAME) == 0;
}

/* The next blank-separated word of *sp; a '[' word runs to its ']'. */
static char *
next_word(char **sp)
{
	char *s = *sp + strspn(*sp, " \t"), *end;

	if (*s == '\0')
		return NULL;
	if (*s == '[' && (end = strchr(s, ']')) != NULL)
		end++;
	else
		end = s + strcspn(s, " \t");
	if (*end != '\0')
		*end++ = '\0';
	*sp = end;
	return s;
}

/* Split line (NUL-terminated, no '\n'); 0 if it holds a rule. */
static int
split_line(char *line, int lineno, struct pline *p)
{
	char *s = line, *w;

	if ((w = strchr(line, '#')) != NULL)
		*w = '\0';
	memset(p, 0, sizeof(*p));
	p->lineno = lineno;
	if ((w = next_word(&s)) == NULL)
		return -1;
	p->type = w[0] == '-' ? w + 1 : w;
	if (w[0] == '@') {	/* "@include name" */
		p->control = w;
		p->type = "";
		p->module = next_word(&s);
		return p->module != NULL ? 0 : -1;
	}
	if ((p->control = next_word(&s)) == NULL ||
	    (p->module = next_word(&s)) == NULL)
		return -1;
	while (p->argc < PAM_ARGS_MAX && (w = next_word(&s)) != NULL)
		p->argv[p->argc++] = w;
	return 0;
}

static int
pfile_read(struct pfile *f, const char *dir, const char *name)
{
	char *line, *nl;
	size_t len = 0;
	FILE *fp;
	int lineno = 0;

	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	f->n = 0;
	f->text = NULL;
	if ((fp = fopen(f->path, "re")) == NULL)
		return -1;
	if (getdelim(&f->text, &len, '\0', fp) < 0) {
		free(f->text);
		f->text = NULL;
	}
	fclose(fp);
	if (f->text == NULL)
		return -1;
	for (line = f->text; line != NULL && f->n < PAM_LINES_MAX;
	    line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (split_line(line, ++lineno, &f->v[f->n]) == 0)
			f->n++;
	}
	return 0;
}

/* ------------------------------------------------------------ checks */

/* Does name (in dir), or a file it includes, have an account line for
 * the module? */
static int
has_account(const char *dir, const char *name, int depth)
{
	struct pfile *f = xcalloc(1, sizeof(*f));
	int found = 0;
	size_t i;

	if (depth < PAM_INCLUDE_DEPTH && strchr(name, '/') == NULL &&
	    pfile_read(f, dir, name) == 0) {
		for (i = 0; i < f->n && !found; i++) {
			struct pline *p = &f->v[i];

			if (strcmp(p->control, "@include") == 0 ||
			    strcmp(p->control, "include") == 0 ||
			    strcmp(p->control, "substack") == 0)
				found = has_account(dir, p->module, depth + 1);
			else if (strcmp(p->type, "account") == 0)
				found = is_module(p->module);
		}
	}
	free(f->text);
	free(f);
	return found;
}

static void
where(char *buf, size_t size, const struct pfile *f, const struct pline *p)
{
	snprintf(buf, size, "%s:%d", f->path, p->lineno);
}

static int
has_config_arg(const struct pline *p)
{
	int i;

	for (i = 0; i < p->argc; i++)
		if (strncmp(p->argv[i], "config=", 7) == 0)
			return 1;
	return 0;
}

/* The module's options on line p, by the module's own parser; a config
 * the line names (config=) must load too. */
static void
check_options(const struct ctl *ctl, struct doc *d, const struct pfile *f,
    struct pline *p)
{
	struct apitoken_config *cfg = NULL;
	char at[PATH_MAX + 16], err[CTL_ERR_MAX] = "";
	struct args a;

	where(at, sizeof(at), f, p);
	if (args_parse(p->argc, p->argv, &a, err, sizeof(err)) != 0) {
		doc_add(d, DOC_ERROR, at, "correct the option (see "
		    "pam_apitoken(8)): the module refuses every login on "
		    "this line", "%s", err);
		return;
	}
	if (!has_config_arg(p) || strcmp(a.config, ctl->config_path) == 0)
		return;
	if (apitoken_config_load(a.config, &cfg, err, sizeof(err)) != 0)
		doc_add(d, DOC_ERROR, at, "correct config= or the file it "
		    "names", "config=%s: %s", a.config, err);
	apitoken_config_free(cfg);
}

/* su vs su-l: a token for svc is refused by this service unless an
 * alias covers it. */
static void
check_aliases(const struct ctl *ctl, struct doc *d, const struct pfile *f,
    const char *name)
{
	char fix[512];
	size_t i, len;

	for (i = 0; ctl->cfg != NULL && i < d->n_services; i++) {
		const char *svc = d->services[i];

		len = strlen(svc);
		if (strncmp(name, svc, len) != 0 || name[len] != '-' ||
		    apitoken_config_service_covers(ctl->cfg, svc, name))
			continue;
		snprintf(fix, sizeof(fix), "add \"%s: [%s]\" under "
		    "service_aliases in %s", svc, name, ctl->config_path);
		doc_add(d, DOC_WARN, f->path, fix, "tokens allowed service "
		    "'%s' are refused by PAM service '%s'", svc, name);
	}
}

/* The stack of one file that names the module. */
static void
check_stack(const struct pfile *f, struct doc *d, const char *dir,
    const char *name)
{
	const struct pline *first_auth = NULL, *last_session = NULL;
	const struct pline *mod_auth = NULL, *mod_session = NULL;
	char at[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct pline *p = &f->v[i];
		int mine = is_module(p->module);

		if (strcmp(p->type, "auth") == 0 && first_auth == NULL)
			first_auth = p;
		if (strcmp(p->type, "auth") == 0 && mine && mod_auth == NULL)
			mod_auth = p;
		if (strcmp(p->type, "session") == 0) {
			last_session = p;
			if (mine)
				mod_session = p;
		}
	}
	if (mod_auth != NULL && !has_account(dir, name, 0))
		doc_add(d, DOC_WARN, f->path, "add an account line for "
		    MODULE_NAME " (see pam_apitoken(8), EXAMPLES)", "auth uses "
		    MODULE_NAME " but no account line does: the account "
		    "phase does not re-check the token");
	if (mod_auth != NULL && mod_auth == first_auth) {
		for (i = 0; i < (size_t)mod_auth->argc; i++)
			if (strcmp(mod_auth->argv[i], "use_first_pass") == 0)
				break;
		where(at, sizeof(at), f, mod_auth);
		if (i < (size_t)mod_auth->argc)
			doc_add(d, DOC_ERROR, at, "drop use_first_pass, or put "
			    "the module after the one that asks", "use_first_"
			    "pass, but no module before it asks for the token: "
			    "every login fails");
	}
	if (mod_session != NULL && mod_session != last_session) {
		where(at, sizeof(at), f, mod_session);
		doc_add(d, DOC_WARN, at, "make it the last session line",
		    "not the last session line: a later module may change "
		    "APITOKEN_ID and APITOKEN_LABEL");
	}
}

static int
uses_module(const struct pfile *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (is_module(f->v[i].module))
			return 1;
	return 0;
}

static void
check_file(const struct ctl *ctl, struct doc *d, const char *dir,
    const char *name, size_t *users)
{
	struct pfile *f = xcalloc(1, sizeof(*f));
	size_t i, before = d->problems;

	if (pfile_read(f, dir, name) != 0 || !uses_module(f))
		goto out;
	(*users)++;
	for (i = 0; i < f->n; i++)
		if (is_module(f->v[i].module) && f->v[i].type[0] != '\0')
			check_options(ctl, d, f, &f->v[i]);
	check_stack(f, d, dir, name);
	check_aliases(ctl, d, f, name);
	if (d->problems == before)
		doc_add(d, DOC_OK, f->path, NULL, "uses " MODULE_NAME);
out:
	free(f->text);
	free(f);
}

/* A service file, not a dot file or a package manager's backup. */
static int
service_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && name[len - 1] != '~' &&
	    strstr(name, ".dpkg-") == NULL && strstr(name, ".ucf-") == NULL;
}

void
doc_check_pam(const struct ctl *ctl, struct doc *d, const char *pamdir)
{
	struct dirent **names = NULL;
	size_t users = 0;
	int i, n;

	if ((n = scandir(pamdir, &names, NULL, alphasort)) < 0) {
		doc_add(d, DOC_ERROR, pamdir, "name the directory with "
		    "--pam-dir", "%s", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (service_name(names[i]->d_name))
			check_file(ctl, d, pamdir, names[i]->d_name, &users);
		free(names[i]);
	}
	free(names);
	if (users == 0)
		doc_add(d, DOC_WARN, pamdir, "add the module to a service "
		    "(see pam_apitoken(8), EXAMPLES)", "no PAM service uses "
		    MODULE_NAME ": tokens are accepted nowhere");
}
