/*
 * transfer.c - tokenctl export and import: every record with its hash
 * (never a secret), for backup, restore and moving hosts.
 *
 * The text form is the store's own: apitoken_store_header(), one line per
 * record from apitoken_record_format(), apitoken_store_trailer(); import
 * reads it back with apitoken_record_parse(), so the CLI cannot disagree
 * with the store about a record.  The JSON form is view.c's record form
 * inside {"version": 1, "records": [...]}.  An import is all or nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/* ------------------------------------------------------------ export */

static int
export_text(const struct ctl_db *db)
{
	char *line;
	size_t i, len;
	int r;

	printf("%s\n", apitoken_store_header());
	for (i = 0; i < db->n; i++) {
		if ((r = apitoken_record_format(db->v[i], &line, &len)) != 0)
			return ctl_lib_fail(r, db->v[i]->id, NULL);
		fwrite(line, 1, len, stdout);
		free(line);
	}
	printf("%s\n", apitoken_store_trailer());
	return CTL_EXIT_OK;
}

static int
export_json(const struct ctl_db *db)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	for (i = 0; i < db->n; i++)
		json_array_append_new(a, record_to_json(db->v[i]));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "records", a);
	return json_print(o, 0);
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_db db;
	int c, json = 0, r;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': return ctl_help("export", 1);
		default: return ctl_bad_option(argc, argv, c);
		}
	}
	if (optind != argc) {
		ctl_err("unexpected argument '%s' (export writes to stdout)",
		    argv[optind]);
		return ctl_help("export", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK ||
	    (r = db_open(ctl, &db)) != CTL_EXIT_OK)
		return r;
	r = json ? export_json(&db) : export_text(&db);
	if (r == CTL_EXIT_OK)
		ctl_audit(ctl, "export records=%zu format=%s", db.n,
		    json ? "json" : "text");
	db_free(&db);
	return r;
}

/* ------------------------------------------------------------ import */

struct item {
	struct apitoken_record *rec;
	size_t where;		/* text: line number; JSON: index */
};

struct import {
	const char *name;
	int json;
	struct item *v;
	size_t n;
	size_t added, replaced, skipped;
};

static void
item_where(const struct import *im, const struct item *it, char *buf,
    size_t size)
{
	if (im->json)
		snprintf(buf, size, "%s: records[%zu]", im->name, it->where);
	else
		snprintf(buf, size, "%s:%zu", im->name, it->where);
}

static void
import_add(struct import *im, struct apitoken_record *rec, size_t where)
{
	im->v = xreallocarray(im->v, im->n + 1, sizeof(*im->v));
	im->v[im->n].rec = rec;
	im->v[im->n++].where = where;
}

static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		apitoken_record_free(im->v[i].rec);
	free(im->v);
}

static int
read_all(FILE *fp, const char *name, char **bufp, size_t *lenp)
{
	size_t cap = 65536, n = 0, got;
	char *buf = xmalloc(cap);

	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			if (cap >= CTL_IMPORT_MAX) {
				ctl_err("%s: larger than %zu bytes", name,
				    CTL_IMPORT_MAX);
				free(buf);
				return CTL_EXIT_REJECT;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
	}
	if (ferror(fp)) {
		ctl_err("%s: read error: %s", name, strerror(errno));
		free(buf);
		return CTL_EXIT_SYSTEM;
	}
	*bufp = buf;
	*lenp = n;
	return CTL_EXIT_OK;
}

/* One line of the text form; *state: 0 header, 1 records, 2 after end. */
static int
text_line(struct import *im, const char *p, size_t len, size_t lineno,
    int *state)
{
	struct apitoken_record *rec;
	char err[CTL_ERR_MAX] = "";
	int r;

	if (*state == 0) {
		if (len != strlen(apitoken_store_header()) ||
		    memcmp(p, apitoken_store_header(), len) != 0) {
			ctl_err("%s:%zu: not a tokenctl export (expected the "
			    "store header line)", im->name, lineno);
			return CTL_EXIT_REJECT;
		}
		*state = 1;
		return CTL_EXIT_OK;
	}
	if (*state == 2) {
		ctl_err("%s:%zu: text after the %s line", im->name, lineno,
		    apitoken_store_trailer());
		return CTL_EXIT_REJECT;
	}
	if (len == strlen(apitoken_store_trailer()) &&
	    memcmp(p, apitoken_store_trailer(), len) == 0) {
		*state = 2;
		return CTL_EXIT_OK;
	}
	if ((r = apitoken_record_parse(p, len, &rec, err, sizeof(err))) != 0) {
		ctl_err("%s:%zu: %s", im->name, lineno,
		    err[0] ? err : apitoken_strerror(r));
		return r == APITOKEN_ERR_NOMEM ? CTL_EXIT_SYSTEM :
		    CTL_EXIT_REJECT;
	}
	import_add(im, rec, lineno);
	return CTL_EXIT_OK;
}

static int
parse_text(struct import *im, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t lineno = 0;
	int state = 0, r = CTL_EXIT_OK;

	while (p < end && r == CTL_EXIT_OK) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		r = text_line(im, p, (size_t)(nl - p), ++lineno, &state);
		p = nl + 1;
	}
	if (r == CTL_EXIT_OK && state != 2) {
		ctl_err("%s: truncated: no %s line after line %zu", im->name,
		    apitoken_store_trailer(), lineno);
		r = CTL_EXIT_REJECT;
	}
	return r;
}

/* {"version": 1, "records": [...]} or a bare array of records. */
static json_t *
json_records(const struct import *im, json_t *root)
{
	json_t *v = json_object_get(root, "version");
	const char *key;
	json_t *val;

	if (json_is_array(root))
		return root;
	if (!json_is_object(root)) {
		ctl_err("%s: not a JSON export", im->name);
		return NULL;
	}
	json_object_foreach(root, key, val)
		if (strcmp(key, "version") != 0 && strcmp(key, "records") != 0) {
			ctl_err("%s: unknown key '%s'", im->name, key);
			return NULL;
		}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		ctl_err("%s: \"version\" must be 1", im->name);
		return NULL;
	}
	if (!json_is_array(json_object_get(root, "records"))) {
		ctl_err("%s: \"records\" must be an array", im->name);
		return NULL;
	}
	return json_object_get(root, "records");
}

static int
parse_json(struct import *im, const char *buf, size_t len)
{
	struct apitoken_record *rec;
	json_error_t jerr;
	json_t *root, *a, *e;
	char err[CTL_ERR_MAX];
	size_t i;
	int r = CTL_EXIT_REJECT;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ctl_err("%s:%d:%d: invalid JSON: %s", im->name, jerr.line,
		    jerr.column, ctl_json_error(&jerr));
		return CTL_EXIT_REJECT;
	}
	if ((a = json_records(im, root)) == NULL)
		goto out;
	json_array_foreach(a, i, e) {
		err[0] = '\0';
		if (record_from_json(e, &rec, err, sizeof(err)) != 0) {
			ctl_err("%s: records[%zu]: %s", im->name, i, err);
			goto out;
		}
		import_add(im, rec, i);
	}
	r = CTL_EXIT_OK;
out:
	json_decref(root);
	return r;
}

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->rec->id,
	    ((const struct item *)b)->rec->id);
}

/* Two records of one ID in the input is an error, whatever they hold. */
static int
check_unique(const struct import *im)
{
	struct item *s = xcalloc(im->n + 1, sizeof(*s));
	char w1[CTL_ERR_MAX], w2[CTL_ERR_MAX];
	size_t i;
	int r = CTL_EXIT_OK;

	memcpy(s, im->v, im->n * sizeof(*s));
	qsort(s, im->n, sizeof(*s), item_cmp);
	for (i = 1; i < im->n && r == CTL_EXIT_OK; i++)
		if (strcmp(s[i - 1].rec->id, s[i].rec->id) == 0) {
			item_where(im, &s[i - 1], w1, sizeof(w1));
			item_where(im, &s[i], w2, sizeof(w2));
			ctl_err("%s: duplicate token ID %s (also at %s)", w2,
			    s[i].rec->id, w1);
			r = CTL_EXIT_REJECT;
		}
	free(s);
	return r;
}

/* 1 if a and b serialize to the same store line. */
static int
same_record(const struct apitoken_record *a, const struct apitoken_record *b)
{
	char *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0;
	int same;

	same = apitoken_record_format(a, &la, &na) == 0 &&
	    apitoken_record_format(b, &lb, &nb) == 0 && na == nb &&
	    memcmp(la, lb, na) == 0;
	free(la);
	free(lb);
	return same;
}

/* Stage one record: insert, skip an identical one, or replace. */
static int
stage_item(struct import *im, struct ctl_db *db, struct item *it,
    int replace)
{
	struct apitoken_record *old = db_find(db, it->rec->id);
	const struct apitoken_record *dup;
	char where[CTL_ERR_MAX], err[CTL_ERR_MAX] = "";
	int r;

	item_where(im, it, where, sizeof(where));
	if (old != NULL && same_record(old, it->rec)) {
		im->skipped++;
		return CTL_EXIT_OK;
	}
	if (old != NULL && !replace) {
		ctl_err("%s: token %s already exists in the store with other "
		    "content (use --replace)", where, it->rec->id);
		return CTL_EXIT_REJECT;
	}
	if (it->rec->status != APITOKEN_REVOKED && (dup = db_label_taken(db,
	    it->rec->user, it->rec->label, it->rec->id)) != NULL) {
		ctl_err("%s: user %s already has a token labelled '%s' (%s)",
		    where, it->rec->user, it->rec->label, dup->id);
		return CTL_EXIT_REJECT;
	}
	r = old != NULL ? db_update(db, it->rec, err, sizeof(err)) :
	    db_insert(db, it->rec, err, sizeof(err));
	if (r != APITOKEN_OK) {
		ctl_err("%s: %s", where, err[0] ? err : apitoken_strerror(r));
		return ctl_exit_code(r);
	}
	if (old != NULL) {	/* keep db's copy in step with the txn */
		im->replaced++;
		db->v[db_index(db, it->rec->id)] = it->rec;
		apitoken_record_free(old);
	} else {
		im->added++;
	}
	it->rec = NULL;		/* belongs to db now */
	return CTL_EXIT_OK;
}

static int
import_run(struct ctl *ctl, struct import *im, int replace)
{
	struct ctl_db db;
	struct ctl_idlist l = { NULL, 0 };
	size_t i;
	int r;

	if ((r = check_unique(im)) != CTL_EXIT_OK ||
	    (r = db_begin_full(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	for (i = 0; i < im->n && r == CTL_EXIT_OK; i++) {
		idlist_add(&l, im->v[i].rec->id);
		r = stage_item(im, &db, &im->v[i], replace);
	}
	if (r == CTL_EXIT_OK && im->added + im->replaced > 0)
		r = db_commit(ctl, &db);
	if (r == CTL_EXIT_OK) {
		for (i = 0; i < l.n; i++)
			if (im->v[i].rec == NULL)
				ctl_audit(ctl, "import id=%s user=%s",
				    l.id[i],
				    ctl_esc(db_find(&db, l.id[i])->user, 0));
		printf("imported %zu records (%zu added, %zu replaced, %zu "
		    "unchanged)\n", im->n, im->added, im->replaced,
		    im->skipped);
	}
	idlist_free(&l);
	db_free(&db);
	return r;
}

static int
import_file(struct ctl *ctl, const char *path, int replace)
{
	struct import im;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, i = 0;
	int r;

	memset(&im, 0, sizeof(im));
	im.name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (fp == NULL) {
		ctl_err("cannot open %s: %s", path, strerror(errno));
		return CTL_EXIT_REJECT;
	}
	r = read_all(fp, im.name, &buf, &len);
	if (fp != stdin)
		fclose(fp);
	if (r != CTL_EXIT_OK)
		return r;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' ||
	    buf[i] == '\n' || buf[i] == '\r'))
		i++;
	im.json = i < len && (buf[i] == '{' || buf[i] == '[');
	r = im.json ? parse_json(&im, buf, len) : parse_text(&im, buf, len);
	free(buf);
	if (r == CTL_EXIT_OK)
		r = import_run(ctl, &im, replace);
	import_free(&im);
	return r;
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, replace = 0, r;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': replace = 1; break;
		case 'h': return ctl_help("import", 1);
		default: return ctl_bad_option(argc, argv, c);
		}
	}
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing FILE (or - for stdin)" :
		    "too many arguments");
		return ctl_help("import", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	return import_file(ctl, argv[optind], replace);
}
