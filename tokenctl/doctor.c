/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor.c - tokenctl doctor: what is wrong with this host's setup, and
 * what to do about it.  It reads the config, the store, state_dir and the
 * PAM service files that use the module, and changes nothing.
 *
 * Every finding has a level (ok, warn, error), a subject (a file, a
 * file:line or a token id), a message and, unless ok, what to do.  Exit
 * status 0 when there is nothing to fix, 1 when there is.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokenctl.h"
#include "doctor.h"

#define DOC_EXPIRY_WARN	(7 * 86400)	/* "expires soon": within 7 days */

static const char *const level_names[] = { "ok", "warn", "error" };

void
doc_add(struct doc *d, int level, const char *subject, const char *fix,
    const char *fmt, ...)
{
	struct doc_finding *f;
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	f = &d->v[d->n++];
	f->level = level;
	f->subject = xstrdup(subject);
	f->fix = fix != NULL ? xstrdup(fix) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	va_end(ap);
	if (f->message == NULL) {
		ctl_err("out of memory");
		exit(CTL_EXIT_SYSTEM);
	}
	if (level != DOC_OK)
		d->problems++;
}

static void
doc_free(struct doc *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].subject);
		free(d->v[i].message);
		free(d->v[i].fix);
	}
	free(d->v);
	free(d->services);
	memset(d, 0, sizeof(*d));
}

/* "owner only", "group", "everyone": who can read a file of mode m. */
static const char *
readers(mode_t m)
{
	if (m & S_IROTH)
		return "everyone";
	if (m & S_IRGRP)
		return "its group";
	return "its owner only";
}

/* ------------------------------------------------------------ config */

static int
check_config(struct ctl *ctl, struct doc *d)
{
	const char *path = ctl->config_path;
	char err[CTL_ERR_MAX] = "";
	char fix[PATH_MAX + 128];
	int fd = -1, r;

	snprintf(fix, sizeof(fix), "make %s and every directory above it "
	    "owned by root and writable by nobody else", path);
	if ((r = apitoken_open_trusted(path, &fd, err, sizeof(err))) != 0) {
		doc_add(d, DOC_ERROR, path, r == APITOKEN_ERR_STORE_MISSING ?
		    "install the config (see apitoken.yaml(5)) or name it "
		    "with -c" : fix, "%s", err[0] ? err : apitoken_strerror(r));
		return -1;
	}
	close(fd);
	if (apitoken_config_load(path, &ctl->cfg, err, sizeof(err)) != 0) {
		doc_add(d, DOC_ERROR, path, "correct the file (see "
		    "apitoken.yaml(5)), then run tokenctl doctor again",
		    "%s", err);
		return -1;
	}
	doc_add(d, DOC_OK, path, NULL, "loads; store %s, state_dir %s",
	    apitoken_config_store(ctl->cfg),
	    apitoken_config_state_dir(ctl->cfg));
	return 0;
}

/* ------------------------------------------------------------- store */

/* The store file's owner, mode and size, before the library opens it. */
static int
check_store_file(const struct apitoken_config *cfg, struct doc *d)
{
	const char *path = apitoken_config_store(cfg);
	char dir[PATH_MAX], fix[2 * PATH_MAX + 64];
	const char *slash = strrchr(path, '/');
	struct stat st, dst;

	if (lstat(path, &st) != 0) {
		doc_add(d, DOC_ERROR, path, errno == ENOENT ?
		    "run tokenctl init" : "run tokenctl doctor as root",
		    "%s", strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL && slash != path ?
	    (int)(slash - path) : 1, path);
	snprintf(fix, sizeof(fix), "chmod 0600 %s", path);
	if (st.st_mode & S_IROTH)
		doc_add(d, DOC_WARN, path, fix, "readable by everyone (mode "
		    "%04o): every id, user, label and hash is public",
		    (unsigned)(st.st_mode & 07777));
	snprintf(fix, sizeof(fix), "chmod o-rwx %s", dir);
	if (stat(dir, &dst) == 0 && (dst.st_mode & (S_IROTH | S_IXOTH)))
		doc_add(d, DOC_WARN, dir, fix, "the store's directory is open "
		    "to others (mode %04o)", (unsigned)(dst.st_mode & 07777));
	if ((uint64_t)st.st_size > apitoken_config_max_store_size(cfg) / 10 *
	    9)
		doc_add(d, DOC_WARN, path, "run tokenctl prune, or raise "
		    "max_store_size", "%lld bytes, near max_store_size (%llu)",
		    (long long)st.st_size, (unsigned long long)
		    apitoken_config_max_store_size(cfg));
	d->store_mode = st.st_mode;
	return 0;
}

static void
note_service(struct doc *d, const char *svc)
{
	size_t i;

	for (i = 0; i < d->n_services; i++)
		if (strcmp(d->services[i], svc) == 0)
			return;
	if (d->n_services == d->cap_services) {
		d->cap_services = d->cap_services ? d->cap_services * 2 : 8;
		d->services = xreallocarray(d->services, d->cap_services,
		    sizeof(*d->services));
	}
	/* borrowed: the records stay in struct scan until the end */
	d->services[d->n_services++] = svc;
}

struct scan {
	struct doc *d;
	time_t now;
	size_t records;
	struct apitoken_record **keep;	/* records whose services we note */
	size_t n_keep, cap_keep;
};

/* foreach: count, warn about live tokens that expire soon, keep the
 * live records that name services (for the alias check). */
static int
scan_one(struct apitoken_record **recp, void *ctx)
{
	struct scan *s = ctx;
	struct apitoken_record *r = *recp;
	char when[64], fix[96];

	s->records++;
	if (r->status != APITOKEN_ACTIVE || apitoken_record_expired(r, s->now))
		return 0;
	if (r->expires != 0 && r->expires - s->now <= DOC_EXPIRY_WARN) {
		ctl_time_both(r->expires, s->now, "never", when, sizeof(when));
		snprintf(fix, sizeof(fix), "tokenctl rotate %s, or tokenctl "
		    "edit %s --expires WHEN", r->id, r->id);
		doc_add(s->d, DOC_WARN, r->id, fix, "token of %s labelled "
		    "'%s' expires %s", r->user, r->label, when);
	}
	if (r->n_services == 0)
		return 0;
	if (s->n_keep == s->cap_keep) {
		s->cap_keep = s->cap_keep ? s->cap_keep * 2 : 16;
		s->keep = xreallocarray(s->keep, s->cap_keep,
		    sizeof(*s->keep));
	}
	s->keep[s->n_keep++] = r;
	*recp = NULL;
	return 0;
}

static void
check_store(struct ctl *ctl, struct doc *d, struct scan *s)
{
	struct apitoken_store *store = NULL;
	const char *path = apitoken_config_store(ctl->cfg);
	char err[CTL_ERR_MAX] = "";
	size_t i, j;
	int r;

	if (check_store_file(ctl->cfg, d) != 0)
		return;
	r = apitoken_store_open(ctl->cfg, &store, err, sizeof(err));
	if (r == 0)
		r = apitoken_store_foreach(store, scan_one, s, err,
		    sizeof(err));
	apitoken_store_close(store);
	if (r != 0) {
		doc_add(d, DOC_ERROR, path, r == APITOKEN_ERR_ACCESS ||
		    r == APITOKEN_ERR_SYSTEM ? "run tokenctl doctor as root" :
		    "see apitoken-store(5); restore the store from a backup "
		    "or an export", "%s", err[0] ? err : apitoken_strerror(r));
		return;
	}
	for (i = 0; i < s->n_keep; i++)
		for (j = 0; j < s->keep[i]->n_services; j++)
			note_service(d, s->keep[i]->services[j]);
	doc_add(d, DOC_OK, path, NULL, "%zu record%s, parses; mode %04o, "
	    "readable by %s", s->records, s->records == 1 ? "" : "s",
	    (unsigned)(d->store_mode & 07777),
	    readers(d->store_mode));
}

/* --------------------------------------------------------- state_dir */

static void
check_state_dir(const struct apitoken_config *cfg, struct doc *d)
{
	const char *path = apitoken_config_state_dir(cfg);
	char fix[PATH_MAX + 64];
	struct stat st;

	if (lstat(path, &st) != 0) {
		doc_add(d, DOC_ERROR, path, errno == ENOENT ?
		    "run tokenctl init" : "run tokenctl doctor as root",
		    "%s", strerror(errno));
		return;
	}
	snprintf(fix, sizeof(fix), "chown root %s; chmod 0700 %s", path,
	    path);
	if (!S_ISDIR(st.st_mode))
		doc_add(d, DOC_ERROR, path, "remove it, then run tokenctl "
		    "init", "not a directory");
	else if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		doc_add(d, DOC_ERROR, path, fix, "owned by uid %lu, mode %04o: "
		    "must be root's and writable by nobody else",
		    (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
	else
		doc_add(d, DOC_OK, path, NULL, "directory, mode %04o",
		    (unsigned)(st.st_mode & 07777));
}

/* ------------------------------------------------------------ verb */

static int
doc_print(const struct doc *d, int json)
{
	json_t *a, *o;
	size_t i;

	if (!json) {
		for (i = 0; i < d->n; i++)
			doc_print_one(&d->v[i]);
		if (d->problems == 0)
			printf("doctor: all is well\n");
		else
			printf("doctor: %zu problem%s to fix\n", d->problems,
			    d->problems == 1 ? "" : "s");
		return CTL_EXIT_OK;
	}
	if ((a = json_array()) == NULL)
		return json_print(NULL, 0);
	for (i = 0; i < d->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}",
		    "level", level_names[d->v[i].level],
		    "subject", d->v[i].subject, "message", d->v[i].message,
		    "fix", d->v[i].fix));
	o = json_pack("{s:b, s:I, s:o}", "ok", d->problems == 0,
	    "problems", (json_int_t)d->problems, "checks", a);
	return json_print(o, 0);
}

void
doc_print_one(const struct doc_finding *f)
{
	char *subject = ctl_escape(f->subject);
	char *message = ctl_escape(f->message);
	char *fix = f->fix != NULL ? ctl_escape(f->fix) : NULL;

	printf("%-6s %s: %s\n", level_names[f->level], subject, message);
	if (fix != NULL)
		printf("       fix: %s\n", fix);
	free(subject);
	free(message);
	free(fix);
}

static void
scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n_keep; i++)
		apitoken_record_free(s->keep[i]);
	free(s->keep);
}

static int
doctor_run(struct ctl *ctl, const char *pamdir, int json)
{
	struct doc d;
	struct scan s;
	int r;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	s.d = &d;
	s.now = ctl->now;
	if (check_config(ctl, &d) == 0) {
		check_store(ctl, &d, &s);
		check_state_dir(ctl->cfg, &d);
	}
	doc_check_pam(ctl, &d, pamdir);
	r = doc_print(&d, json);
	if (r == CTL_EXIT_OK && d.problems != 0)
		r = CTL_EXIT_REJECT;
	scan_free(&s);
	doc_free(&d);
	return r;
}

int
cmd_doctor(struct ctl *ctl, int argc, char **argv)
{
	const char *pamdir = DOC_PAM_DIR;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "json", NULL, &json },
		{ "pam-dir", &pamdir, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("doctor", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("doctor", 0);
	}
	return doctor_run(ctl, pamdir, json);
}
