/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * list.c - tokenctl list and show: read-only views of the store (no lock
 * taken).  Never shows a hash or a secret.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

#define NCOLS 8

struct filter {
	const char *user;
	const char *status;	/* as view_status() shows it */
	const char *service;
	int64_t expiring;	/* 0 = no filter */
	int ids_only;
	int json;
};

/* As verify decides it: service_aliases count (a su token is listed for
 * su-l). */
static int
allows_service(const struct ctl *ctl, const struct apitoken_record *r,
    const char *service)
{
	size_t i;

	if (r->n_services == 0)
		return 1;
	for (i = 0; i < r->n_services; i++)
		if (apitoken_config_service_covers(ctl->cfg, r->services[i],
		    service))
			return 1;
	return 0;
}

static int
matches(const struct ctl *ctl, const struct filter *f,
    const struct apitoken_record *r)
{
	time_t now = ctl->now;

	if (f->user != NULL && strcmp(r->user, f->user) != 0)
		return 0;
	if (f->status != NULL && strcmp(view_status(r, now), f->status) != 0)
		return 0;
	if (f->service != NULL && !allows_service(ctl, r, f->service))
		return 0;
	if (f->expiring != 0 && (r->status == APITOKEN_REVOKED ||
	    r->expires == 0 || r->expires <= (int64_t)now ||
	    r->expires > f->expiring))
		return 0;
	return 1;
}

/* Oldest first; ties by id. */
static int
by_created(const void *a, const void *b)
{
	const struct apitoken_record *x = *(struct apitoken_record *const *)a;
	const struct apitoken_record *y = *(struct apitoken_record *const *)b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Display width of UTF-8 text: one column per code point. */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static char *
join(const char *const *v, size_t n, const char *none)
{
	size_t i, len = 1;
	char *s;

	if (n == 0)
		return xstrdup(none);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, v[i]);
	}
	return s;
}

static char *
last_used_text(const struct ctl *ctl, const char *id)
{
	struct apitoken_lastuse lu;
	char err[CTL_ERR_MAX], buf[96];

	if (apitoken_lastuse_get(ctl->cfg, id, &lu, err, sizeof(err)) !=
	    APITOKEN_OK)
		return xstrdup("unknown");
	ctl_time_both(lu.when, ctl->now, "never", buf, sizeof(buf));
	return xstrdup(buf);
}

static void
row(const struct ctl *ctl, const struct apitoken_record *r, char **cols)
{
	char buf[96];

	cols[0] = ctl_escape(r->id);
	cols[1] = ctl_escape(r->user);
	cols[2] = ctl_escape(r->label);
	cols[3] = join((const char *const *)r->services, r->n_services, "all");
	cols[4] = xstrdup(view_status(r, ctl->now));
	ctl_time_both(r->created, ctl->now, "-", buf, sizeof(buf));
	cols[5] = xstrdup(buf);
	ctl_time_both(r->expires, ctl->now, "never", buf, sizeof(buf));
	cols[6] = xstrdup(buf);
	cols[7] = last_used_text(ctl, r->id);
}

static void
print_row(char *const *cols, const size_t *w)
{
	size_t i, pad;

	for (i = 0; i < NCOLS; i++) {
		fputs(cols[i], stdout);
		if (i + 1 == NCOLS)
			break;
		for (pad = width(cols[i]); pad < w[i] + 2; pad++)
			putchar(' ');
	}
	putchar('\n');
}

/* Row 0 is the heading; widths fit the widest cell of each column. */
static void
print_table(const struct ctl *ctl, struct apitoken_record **v, size_t n)
{
	static const char *const head[NCOLS] = { "ID", "USER", "LABEL",
	    "SERVICES", "STATUS", "CREATED", "EXPIRES", "LAST USED" };
	char **cells = xcalloc((n + 1) * NCOLS, sizeof(*cells));
	size_t w[NCOLS] = { 0 }, i, j;

	for (j = 0; j < NCOLS; j++)
		cells[j] = xstrdup(head[j]);
	for (i = 0; i < n; i++)
		row(ctl, v[i], cells + (i + 1) * NCOLS);
	for (i = 0; i < (n + 1) * NCOLS; i++)
		if (width(cells[i]) > w[i % NCOLS])
			w[i % NCOLS] = width(cells[i]);
	for (i = 0; i <= n; i++)
		print_row(cells + i * NCOLS, w);
	for (i = 0; i < (n + 1) * NCOLS; i++)
		free(cells[i]);
	free(cells);
}

static int
list_print(const struct ctl *ctl, const struct filter *f,
    struct apitoken_record **v, size_t n)
{
	json_t *a;
	size_t i;

	if (f->ids_only) {
		for (i = 0; i < n; i++)
			puts(v[i]->id);
		return CTL_EXIT_OK;
	}
	if (!f->json) {
		print_table(ctl, v, n);
		return CTL_EXIT_OK;
	}
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, view_json(ctl, v[i]));
	return json_print(a, 0);
}

static int
list_run(struct ctl *ctl, const struct filter *f)
{
	struct ctl_db db;
	struct apitoken_record **sel;
	size_t i, n = 0;
	int r;

	if ((r = db_open(ctl, &db)) != CTL_EXIT_OK)
		return r;
	sel = xcalloc(db.n + 1, sizeof(*sel));
	for (i = 0; i < db.n; i++)
		if (matches(ctl, f, db.v[i]))
			sel[n++] = db.v[i];
	qsort(sel, n, sizeof(*sel), by_created);
	r = list_print(ctl, f, sel, n);
	free(sel);
	db_free(&db);
	return r;
}

static int
status_valid(const char *s)
{
	return strcmp(s, "active") == 0 || strcmp(s, "disabled") == 0 ||
	    strcmp(s, "revoked") == 0 || strcmp(s, "expired") == 0;
}

/* --expiring WHEN: an absolute limit ("never": any expiry). */
static int
parse_expiring(const struct ctl *ctl, const char *s, int64_t *limit)
{
	if (apitoken_when_parse(s, ctl->now, limit) != APITOKEN_OK) {
		ctl_err("invalid --expiring '%s': give a duration (45s, 30m, "
		    "12h, 90d, 2w, 1y), a date YYYY-MM-DD, a UTC time "
		    "YYYY-MM-DDTHH:MM[:SS]Z, or never", s);
		return CTL_EXIT_USAGE;
	}
	if (*limit == APITOKEN_NEVER)
		*limit = INT64_MAX;
	return CTL_EXIT_OK;
}

int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct filter f;
	const char *expiring = NULL;
	const struct ctl_opt o[] = {
		{ "user", &f.user, NULL },
		{ "status", &f.status, NULL },
		{ "service", &f.service, NULL },
		{ "expiring", &expiring, NULL },
		{ "json", NULL, &f.json },
		{ "ids", NULL, &f.ids_only },
		{ NULL, NULL, NULL },
	};
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = ctl_options("list", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("list", 0);
	}
	if (f.status != NULL && !status_valid(f.status)) {
		ctl_err("invalid --status '%s': give active, disabled, "
		    "revoked or expired", f.status);
		return CTL_EXIT_USAGE;
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	if (expiring != NULL &&
	    (r = parse_expiring(ctl, expiring, &f.expiring)) != CTL_EXIT_OK)
		return r;
	return list_run(ctl, &f);
}

/* ------------------------------------------------------------ show */

static char *
children(const struct ctl_db *db, const char *id, json_t *ja)
{
	const char **ids = xcalloc(db->n + 1, sizeof(*ids));
	size_t i, n = 0;
	char *s;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->v[i]->parent, id) == 0) {
			ids[n++] = db->v[i]->id;
			if (ja != NULL)
				json_array_append_new(ja,
				    json_string(db->v[i]->id));
		}
	s = join(ids, n, "-");
	free(ids);
	return s;
}

/* One "name: value" line; the value escaped, so it stays one line. */
static void
field(const char *name, const char *value)
{
	char *safe = ctl_escape(value);

	printf("%-15s%s\n", name, safe[0] != '\0' ? safe : "-");
	free(safe);
}

static int
listed(const char *const *v, size_t n, const char *s)
{
	while (n-- > 0)
		if (strcmp(v[n], s) == 0)
			return 1;
	return 0;
}

/* The services r is also accepted for under service_aliases, besides
 * its own list, comma-separated ("" if none); appended to ja too. */
static char *
also_covers(const struct ctl *ctl, const struct apitoken_record *r,
    json_t *ja)
{
	const char **v = NULL, *a;
	size_t i, k, n = 0;
	char *s;

	for (i = 0; i < r->n_services; i++)
		for (k = 0; (a = apitoken_config_service_alias(ctl->cfg,
		    r->services[i], k)) != NULL; k++) {
			if (listed((const char *const *)r->services,
			    r->n_services, a) || listed(v, n, a))
				continue;
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = a;
			if (ja != NULL)
				json_array_append_new(ja, json_string(a));
		}
	s = join(v, n, "");
	free(v);
	return s;
}

static void
show_times(const struct ctl *ctl, const struct apitoken_record *r)
{
	char buf[96];

	ctl_time_both(r->created, ctl->now, "-", buf, sizeof(buf));
	field("created:", buf);
	field("created by:", r->created_by);
	ctl_time_both(r->updated, ctl->now, "-", buf, sizeof(buf));
	field("updated:", buf);
	ctl_time_both(r->expires, ctl->now, "never", buf, sizeof(buf));
	field("expires:", buf);
	ctl_time_both(r->revoked_at, ctl->now, "-", buf, sizeof(buf));
	field("revoked:", buf);
	field("revoke reason:", r->revoke_reason);
}

static void
show_lastuse(const struct ctl *ctl, const struct apitoken_record *r)
{
	struct apitoken_lastuse lu;
	char err[CTL_ERR_MAX], when[96], buf[256];

	if (apitoken_lastuse_get(ctl->cfg, r->id, &lu, err, sizeof(err)) !=
	    APITOKEN_OK) {
		field("last used:", "unknown");
		return;
	}
	ctl_time_both(lu.when, ctl->now, "never", when, sizeof(when));
	snprintf(buf, sizeof(buf), "%s%s%s%s%s", when,
	    lu.when && lu.service[0] ? " via " : "",
	    lu.when ? lu.service : "",
	    lu.when && lu.rhost[0] ? " from " : "", lu.when ? lu.rhost : "");
	field("last used:", buf);
}

static void
show_text(const struct ctl *ctl, const struct ctl_db *db,
    const struct apitoken_record *r)
{
	char *s;

	field("id:", r->id);
	field("user:", r->user);
	field("label:", r->label);
	field("description:", r->description);
	field("external id:", r->external_id);
	s = join((const char *const *)r->services, r->n_services, "all");
	field("services:", s);
	free(s);
	if ((s = also_covers(ctl, r, NULL))[0] != '\0')
		field("also covers:", s);
	free(s);
	s = join((const char *const *)r->from, r->n_from, "any");
	field("from:", s);
	free(s);
	field("status:", view_status(r, ctl->now));
	show_times(ctl, r);
	field("parent:", r->parent);
	s = children(db, r->id, NULL);
	field("derived:", s);
	free(s);
	show_lastuse(ctl, r);
}

int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_db db;
	struct apitoken_record *rec;
	json_t *o, *kids;
	int json = 0, r;
	const struct ctl_opt opts[] = {
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("show", argc, argv, opts)) != CTL_GO)
		return r;
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing ID" : "too many arguments");
		return ctl_help("show", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK ||
	    (r = db_open(ctl, &db)) != CTL_EXIT_OK)
		return r;
	if ((r = db_get(&db, argv[optind], &rec)) == CTL_EXIT_OK) {
		if (json) {
			o = view_json(ctl, rec);
			kids = json_array();
			free(children(&db, rec->id, kids));
			json_object_set_new(o, "children", kids);
			kids = json_array();
			free(also_covers(ctl, rec, kids));
			json_object_set_new(o, "also_covers", kids);
			r = json_print(o, 0);
		} else {
			show_text(ctl, &db, rec);
		}
	}
	db_free(&db);
	return r;
}
