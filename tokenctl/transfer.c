/* SPDX-License-Identifier: BSD-2-Clause */
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	struct ctl_db db;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("export", argc, argv, o)) != CTL_GO)
		return r;
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
	size_t depth, order;	/* parents_first() */
};

struct import {
	const char *name;
	int json;
	int replace;		/* --replace */
	int identity;		/* --allow-identity-change */
	int dry_run;		/* --dry-run: print the plan, write nothing */
	struct item *v;
	size_t n;
	size_t added, replaced, skipped, refused;
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
		if (apitoken_store_header_valid(p, len) != APITOKEN_OK) {
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

/* ------------------------------------------------ policy (issue 14) */

/* Print "WHERE: token ID: why" for a refused record and count it. */
static void
refuse(struct import *im, const struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct import *im, const struct item *it, const char *fmt, ...)
{
	char where[CTL_ERR_MAX], why[CTL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	item_where(im, it, where, sizeof(where));
	ctl_err("%s: token %s: %s", where, it->rec->id, why);
	im->refused++;
}

static const char *
status_word(int status)
{
	return status == APITOKEN_ACTIVE ? "active" :
	    status == APITOKEN_DISABLED ? "disabled" : "revoked";
}

/* Revocation is final; a hash or user changes only when allowed. */
static void
check_change(struct import *im, const struct item *it,
    const struct apitoken_record *old)
{
	const struct apitoken_record *r = it->rec;
	int ident = strcmp(old->hash, r->hash) != 0 ||
	    strcmp(old->user, r->user) != 0;

	if (old->status == APITOKEN_REVOKED && r->status != APITOKEN_REVOKED)
		refuse(im, it, "revoked in the store, %s in the import "
		    "(revocation is final)", status_word(r->status));
	else if (old->status == APITOKEN_REVOKED && ident)
		refuse(im, it, "revoked in the store; its hash and user "
		    "cannot change");
	else if (ident && !im->identity)
		refuse(im, it, "the import changes its %s (allowed only with "
		    "--allow-identity-change)", strcmp(old->user, r->user) ?
		    "user" : "hash");
}

static int
in_import(const struct import *im, const char *id)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		if (im->v[i].rec != NULL && strcmp(im->v[i].rec->id, id) == 0)
			return 1;
	return 0;
}

/* What issue would refuse: no account, beyond max_lifetime, a CIDR with
 * host bits, a parent that is nowhere.  Revoked records cannot log in. */
static void
check_policy(const struct ctl *ctl, struct import *im, const struct item *it,
    const struct ctl_db *db)
{
	const struct apitoken_record *r = it->rec;
	int64_t max = apitoken_config_max_lifetime(ctl->cfg);
	char net[64];
	size_t i;

	if (r->status == APITOKEN_REVOKED)
		return;
	if (!ctl_user_exists(r->user))
		refuse(im, it, "no such user '%s' on this host", r->user);
	if (max > 0 && (r->expires == 0 || r->expires > (int64_t)ctl->now +
	    max))
		refuse(im, it, "%s beyond max_lifetime from now",
		    r->expires == 0 ? "never expires:" : "expires");
	for (i = 0; i < r->n_from; i++)
		if (apitoken_cidr_strict(r->from[i], net, sizeof(net)) != 0)
			refuse(im, it, "from %s: address bits set past the "
			    "prefix length (the network is %s)", r->from[i],
			    net);
	if (r->parent[0] != '\0' && db_find(db, r->parent) == NULL &&
	    !in_import(im, r->parent))
		refuse(im, it, "parent %s is neither in the store nor in the "
		    "import", r->parent);
}

/* Every refusal of the whole input, before anything is staged. */
static int
import_policy(const struct ctl *ctl, struct import *im,
    const struct ctl_db *db)
{
	const struct apitoken_record *old;
	size_t i;

	for (i = 0; i < im->n; i++) {
		old = db_find(db, im->v[i].rec->id);
		if (old != NULL && same_record(old, im->v[i].rec))
			continue;
		if (old != NULL)
			check_change(im, &im->v[i], old);
		check_policy(ctl, im, &im->v[i], db);
	}
	if (im->refused == 0)
		return CTL_EXIT_OK;
	ctl_err("%s: %zu record%s refused; nothing written", im->name,
	    im->refused, im->refused == 1 ? "" : "s");
	return CTL_EXIT_REJECT;
}

/* --dry-run: one line per record that would change. */
static void
plan_line(const struct apitoken_record *old, const struct apitoken_record *r)
{
	json_t *a, *b;
	const char *key;
	json_t *v;
	int first = 1;

	if (old == NULL) {
		printf("add %s user=%s status=%s\n", r->id, r->user,
		    status_word(r->status));
		return;
	}
	a = record_to_json(old);
	b = record_to_json(r);
	printf("replace %s user=%s:", r->id, r->user);
	json_object_foreach(b, key, v)
		if (!json_equal(v, json_object_get(a, key))) {
			printf("%s%s", first ? " " : ",", key);
			first = 0;
		}
	printf("\n");
	json_decref(a);
	json_decref(b);
}

/* Stage one record: insert, skip an identical one, or replace. */
static int
stage_item(struct import *im, struct ctl_db *db, struct item *it)
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
	if (old != NULL && !im->replace) {
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
	if (im->dry_run)
		plan_line(old, it->rec);
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

/* "accounts gaining a token: a, b" for the records written that can log
 * in (or be enabled); l holds the ids of the input, in order. */
static void
print_gainers(const struct import *im, const struct ctl_db *db,
    const struct ctl_idlist *l)
{
	const struct apitoken_record *r, *q;
	size_t i, j;
	int n = 0, dup;

	for (i = 0; i < l->n; i++) {
		r = db_find(db, l->id[i]);
		if (im->v[i].rec != NULL || r == NULL ||
		    r->status == APITOKEN_REVOKED)
			continue;
		for (j = 0, dup = 0; j < i && !dup; j++)
			dup = im->v[j].rec == NULL &&
			    (q = db_find(db, l->id[j])) != NULL &&
			    q->status != APITOKEN_REVOKED &&
			    strcmp(q->user, r->user) == 0;
		if (!dup)
			printf("%s%s", n++ ? ", " : "accounts gaining a "
			    "token: ", r->user);
	}
	if (n > 0)
		printf("\n");
}

static void
import_report(struct ctl *ctl, struct import *im, struct ctl_db *db,
    const struct ctl_idlist *l)
{
	size_t i;

	if (im->dry_run) {
		printf("would import %zu records (%zu to add, %zu to replace, "
		    "%zu unchanged); nothing written\n", im->n, im->added,
		    im->replaced, im->skipped);
		print_gainers(im, db, l);
		return;
	}
	for (i = 0; i < l->n; i++)
		if (im->v[i].rec == NULL)
			ctl_audit(ctl, "import id=%s user=%s", l->id[i],
			    ctl_esc(db_find(db, l->id[i])->user, 0));
	printf("imported %zu records (%zu added, %zu replaced, %zu "
	    "unchanged)\n", im->n, im->added, im->replaced, im->skipped);
	print_gainers(im, db, l);
}

/* How many of its ancestors the input holds (bounded: links may loop). */
static size_t
depth_in(const struct item *byid, size_t n, const struct item *it)
{
	struct apitoken_record key;
	struct item k;
	const struct item *p;
	size_t d = 0;

	memset(&k, 0, sizeof(k));
	k.rec = &key;
	key.parent = it->rec->parent;
	while (d < n && key.parent[0] != '\0') {
		memcpy(key.id, key.parent, sizeof(key.id));
		key.id[APITOKEN_ID_LEN] = '\0';
		if ((p = bsearch(&k, byid, n, sizeof(*byid), item_cmp)) == NULL)
			break;
		d++;
		key.parent = p->rec->parent;
	}
	return d;
}

static int
depth_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Parents before the records derived from them: the library checks
 * that a live record's parent exists when it is inserted. */
static void
parents_first(struct import *im)
{
	struct item *byid = xcalloc(im->n + 1, sizeof(*byid));
	size_t i;

	memcpy(byid, im->v, im->n * sizeof(*byid));
	qsort(byid, im->n, sizeof(*byid), item_cmp);
	for (i = 0; i < im->n; i++) {
		im->v[i].depth = depth_in(byid, im->n, &im->v[i]);
		im->v[i].order = i;
	}
	free(byid);
	qsort(im->v, im->n, sizeof(*im->v), depth_cmp);
}

static int
import_run(struct ctl *ctl, struct import *im)
{
	struct ctl_db db;
	struct ctl_idlist l = { NULL, 0 };
	size_t i;
	int r;

	if ((r = check_unique(im)) != CTL_EXIT_OK ||
	    (r = db_begin_full(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	parents_first(im);
	r = import_policy(ctl, im, &db);
	for (i = 0; i < im->n && r == CTL_EXIT_OK; i++) {
		idlist_add(&l, im->v[i].rec->id);
		r = stage_item(im, &db, &im->v[i]);
	}
	if (r == CTL_EXIT_OK && !im->dry_run && im->added + im->replaced > 0)
		r = db_commit(ctl, &db);
	if (r == CTL_EXIT_OK)
		import_report(ctl, im, &db, &l);
	idlist_free(&l);
	db_free(&db);	/* a dry run's transaction ends unwritten */
	return r;
}

/* The input: stdin, or a file under the config's trust rule. */
static FILE *
import_open(const char *path)
{
	char err[CTL_ERR_MAX] = "";
	FILE *fp;
	int fd, r;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((r = apitoken_open_trusted(path, &fd, err, sizeof(err))) != 0) {
		ctl_err("cannot import %s: %s", path, err[0] ? err :
		    apitoken_strerror(r));
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		ctl_err("cannot import %s: %s", path, strerror(errno));
		close(fd);
	}
	return fp;
}

static int
import_file(struct ctl *ctl, const char *path, struct import *im0)
{
	struct import im = *im0;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, i = 0;
	int r;

	im.name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if ((fp = import_open(path)) == NULL)
		return CTL_EXIT_REJECT;
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
		r = import_run(ctl, &im);
	import_free(&im);
	return r;
}

int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct import im;
	const struct ctl_opt o[] = {
		{ "replace", NULL, &im.replace },
		{ "allow-identity-change", NULL, &im.identity },
		{ "dry-run", NULL, &im.dry_run },
		{ NULL, NULL, NULL },
	};
	int r;

	memset(&im, 0, sizeof(im));
	if ((r = ctl_options("import", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing FILE (or - for stdin)" :
		    "too many arguments");
		return ctl_help("import", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	return import_file(ctl, argv[optind], &im);
}
