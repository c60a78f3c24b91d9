/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * list.c - tokenctl list and show: read-only views of the store (no lock
 * taken).  Never shows a hash or a secret.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/*
 * The text views name the library's field table's rows by the member
 * they describe (a renamed member does not compile): the list table's
 * columns and the few places where show's heading or an empty value's
 * text is not the default ("name with blanks:", "-").
 */
#define AT(m)		offsetof(struct apitoken_record, m)
#define LAST_USED	SIZE_MAX	/* not a field: the last-use state */

static const struct {
	size_t at;
	const char *head;
} columns[] = {
	{ AT(id), "ID" }, { AT(user), "USER" }, { AT(label), "LABEL" },
	{ AT(services), "SERVICES" }, { AT(hosts), "HOSTS" },
	{ AT(status), "STATUS" },
	{ AT(created), "CREATED" }, { AT(expires), "EXPIRES" },
	{ LAST_USED, "LAST USED" },
};
#define NCOLS	(sizeof(columns) / sizeof(columns[0]))

static const struct {
	size_t at;
	const char *head;	/* show's heading, or NULL: from the name */
	const char *none;	/* an empty value, or NULL: "-" */
} shown[] = {
	{ AT(services), NULL, "all" }, { AT(from), NULL, "any" },
	{ AT(hosts), NULL, "all" },
	{ AT(expires), NULL, "never" }, { AT(revoked_at), "revoked:", NULL },
};

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
	char host[APITOKEN_HOST_MAX + 1], buf[96 + sizeof(host)];
	size_t n;

	if (db_lastuse(ctl, id, &lu, host, sizeof(host)) != APITOKEN_OK)
		return xstrdup("unknown");
	ctl_time_both(lu.when, ctl->now, "never", buf, sizeof(buf));
	n = strlen(buf);
	if (lu.when != 0 && host[0] != '\0')
		(void)snprintf(buf + n, sizeof(buf) - n, " on %s", host);
	return ctl_escape(buf);
}

/* The field table's row of the member at offset at. */
static const struct apitoken_field *
field_at(size_t at)
{
	const struct apitoken_field *f;
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		if (f[i].offset == at)
			return &f[i];
	abort();	/* a view names a member the table has no row for */
}

/* What an empty value of f reads as; show's heading of f into head. */
static const char *
shown_as(const struct apitoken_field *f, char *head, size_t size)
{
	size_t i, k;

	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (shown[i].at == f->offset)
			break;
	if (i < sizeof(shown) / sizeof(shown[0]) && shown[i].head != NULL) {
		snprintf(head, size, "%s", shown[i].head);
	} else {
		snprintf(head, size, "%s:", f->name);
		for (k = 0; head[k] != '\0'; k++)
			if (head[k] == '_')
				head[k] = ' ';
	}
	if (i < sizeof(shown) / sizeof(shown[0]) && shown[i].none != NULL)
		return shown[i].none;
	return "-";
}

/* A row's value of r as the text views show it, unescaped; xmalloc'ed. */
static char *
field_text(const struct ctl *ctl, const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	char head[32], buf[96];
	const char *none = shown_as(f, head, sizeof(head));

	switch (f->kind) {
	case APITOKEN_FIELD_STATUS:
		return xstrdup(view_status(r, ctl->now));
	case APITOKEN_FIELD_LIST:
		return join((const char *const *)apitoken_field_clist(r, f),
		    apitoken_field_ccount(r, f), none);
	case APITOKEN_FIELD_TIME:
		ctl_time_both(apitoken_field_ctime(r, f), ctl->now, none, buf,
		    sizeof(buf));
		return xstrdup(buf);
	default:
		return xstrdup(apitoken_field_cstr(r, f));
	}
}

static void
row(const struct ctl *ctl, const struct apitoken_record *r, char **cells)
{
	char *s;
	size_t j;

	for (j = 0; j < NCOLS; j++) {
		if (columns[j].at == LAST_USED) {
			cells[j] = last_used_text(ctl, r->id);
			continue;
		}
		s = field_text(ctl, r, field_at(columns[j].at));
		cells[j] = ctl_escape(s);
		free(s);
	}
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
	char **cells = xcalloc((n + 1) * NCOLS, sizeof(*cells));
	size_t w[NCOLS] = { 0 }, i, j;

	for (j = 0; j < NCOLS; j++)
		cells[j] = xstrdup(columns[j].head);
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
show_lastuse(const struct ctl *ctl, const struct apitoken_record *r)
{
	struct apitoken_lastuse lu;
	char host[APITOKEN_HOST_MAX + 1], when[96], buf[512];

	if (db_lastuse(ctl, r->id, &lu, host, sizeof(host)) != APITOKEN_OK) {
		field("last used:", "unknown");
		return;
	}
	ctl_time_both(lu.when, ctl->now, "never", when, sizeof(when));
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s", when,
	    lu.when && lu.service[0] ? " via " : "",
	    lu.when ? lu.service : "",
	    lu.when && lu.rhost[0] ? " from " : "", lu.when ? lu.rhost : "",
	    lu.when && host[0] ? " on " : "", lu.when ? host : "");
	field("last used:", buf);
}

/* What show adds after f: the services service_aliases add to its
 * own, the tokens derived from it. */
static void
show_extra(const struct ctl *ctl, const struct ctl_db *db,
    const struct apitoken_record *r, const struct apitoken_field *f)
{
	char *s = NULL;

	if (f->offset == AT(services)) {
		if ((s = also_covers(ctl, r, NULL))[0] != '\0')
			field("also covers:", s);
	} else if (f->offset == AT(parent)) {
		s = children(db, r->id, NULL);
		field("derived:", s);
	}
	free(s);
}

/* Every field in view order (never the hash), then the last use. */
static void
show_text(const struct ctl *ctl, const struct ctl_db *db,
    const struct apitoken_record *r)
{
	const struct apitoken_field *f;
	char head[32], *s;
	size_t rank;

	for (rank = 1; (f = view_field(rank)) != NULL; rank++) {
		(void)shown_as(f, head, sizeof(head));
		s = field_text(ctl, r, f);
		field(head, s);
		free(s);
		show_extra(ctl, db, r, f);
	}
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
