/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * issue.c - tokenctl issue: new tokens, one from the command line or many
 * from a --batch file of JSON lines, in one transaction.  A secret is
 * printed once, after the commit succeeded, and wiped afterwards.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/* A token issued in this run; holds the secret until printed. */
struct issued {
	char token[APITOKEN_TOKEN_MAX + 1];
	char id[APITOKEN_ID_LEN + 1];
	size_t line;		/* --batch input line, else 0 */
};

int
token_stage(const struct ctl *ctl, struct ctl_db *db,
    struct apitoken_record *rec, char *token, size_t tokensize, char *err,
    size_t errlen)
{
	int r;

	err[0] = '\0';
	r = apitoken_txn_insert_new(db->txn,
	    apitoken_config_token_prefix(ctl->cfg), rec, token, tokensize,
	    err, errlen);
	if (r != APITOKEN_OK)
		return r == APITOKEN_ERR_INVALID ? CTL_EXIT_REJECT :
		    ctl_exit_code(r);
	db_keep(db, rec);
	return CTL_EXIT_OK;
}

/* Validate f, build the record and stage it.  err gets the reason. */
static int
issue_one(const struct ctl *ctl, struct ctl_db *db,
    const struct ctl_fields *f, struct issued *out, char *err, size_t errlen)
{
	struct apitoken_record *rec = apitoken_record_new();
	int r;

	err[0] = '\0';
	if (rec == NULL) {
		ctl_err("out of memory");
		exit(CTL_EXIT_SYSTEM);
	}
	r = fields_apply(ctl, db, f, rec, 1, err, errlen);
	if (r == CTL_EXIT_OK) {
		rec->status = APITOKEN_ACTIVE;
		rec->created = rec->updated = (int64_t)ctl->now;
		if (apitoken_record_set(&rec->created_by, ctl->actor) != 0)
			r = CTL_EXIT_SYSTEM;
	}
	if (r == CTL_EXIT_OK && (r = token_stage(ctl, db, rec, out->token,
	    sizeof(out->token), err, errlen)) == CTL_EXIT_OK) {
		memcpy(out->id, rec->id, sizeof(out->id));
		rec = NULL;	/* rec belongs to db */
	}
	apitoken_record_free(rec);
	return r;
}

static json_t *
issued_json(const struct ctl *ctl, const struct ctl_db *db,
    const struct issued *t)
{
	const struct apitoken_record *r = db_find(db, t->id);
	json_t *o = view_json(ctl, r);

	json_object_set_new(o, "token", json_string(t->token));
	if (t->line != 0)
		json_object_set_new(o, "line", json_integer((json_int_t)t->line));
	return o;
}

/* After the commit: audit, then print each secret once and wipe it. */
static int
report(const struct ctl *ctl, const struct ctl_db *db, struct issued *t,
    size_t n, int json)
{
	const struct apitoken_record *r;
	size_t i;
	int st = CTL_EXIT_OK;

	for (i = 0; i < n; i++) {
		r = db_find(db, t[i].id);
		ctl_audit(ctl, "issue id=%s user=%s%s%s", t[i].id,
		    ctl_esc(r->user, 0),
		    r->parent[0] ? " parent=" : "", r->parent);
	}
	for (i = 0; i < n && st == CTL_EXIT_OK; i++) {
		if (json)
			st = json_print(issued_json(ctl, db, &t[i]), 1);
		else
			st = ctl_write_secret_line(t[i].token,
			    strlen(t[i].token));
	}
	apitoken_wipe(t, n * sizeof(*t));
	return st;
}

static int
issue_single(struct ctl *ctl, struct ctl_fields *f, int json)
{
	struct ctl_db db;
	struct issued t;
	char err[CTL_ERR_MAX];
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = db_begin(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	r = issue_one(ctl, &db, f, &t, err, sizeof(err));
	if (r != CTL_EXIT_OK)
		ctl_err("%s", err);
	else if ((r = db_commit(ctl, &db)) == CTL_EXIT_OK)
		r = report(ctl, &db, &t, 1, json);
	apitoken_wipe(&t, sizeof(t));
	db_free(&db);
	return r;
}

/* ---------------------------------------------------------- --batch */

struct batch {
	const char *name;	/* file name for messages */
	FILE *fp;
	struct issued *t;	/* secrets: grown by issued_grow only */
	size_t n, cap;
	size_t line;
};

/* A JSON string (or null = absent) for key. */
static int
jstr(json_t *v, const char *key, const char **out, char *err, size_t errlen)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v)) {
		snprintf(err, errlen, "%s: must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A JSON array of strings, or one string, for key. */
static int
jlist(json_t *v, const char *key, const char ***list, size_t *n, int *set,
    char *err, size_t errlen)
{
	size_t i;
	json_t *e;
	const char *s = NULL;

	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (jstr(v, key, &s, err, errlen) != 0)
			return -1;
		fields_add(list, n, set, s);
		return 0;
	}
	if (!json_is_array(v)) {
		snprintf(err, errlen, "%s: must be an array of strings", key);
		return -1;
	}
	*set = 1;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || jstr(e, key, &s, err, errlen) != 0) {
			snprintf(err, errlen, "%s[%zu]: must be a string", key,
			    i);
			return -1;
		}
		fields_add(list, n, set, s);
	}
	return 0;
}

/* A key we may echo: a short lower-case word, as keys are; anything
 * else may be a fragment of a file that is no batch file. */
static int
key_word(const char *key)
{
	size_t n = strlen(key);

	return n > 0 && n <= 20 &&
	    strspn(key, "abcdefghijklmnopqrstuvwxyz_-") == n;
}

/* Fill f from one request object (strings borrowed from obj). */
static int
batch_fields(json_t *obj, struct ctl_fields *f, char *err, size_t errlen)
{
	struct ctl_field_ref ref;
	const char *key;
	char keys[128];
	json_t *v;

	f->json = 1;
	json_object_foreach(obj, key, v) {
		if (fields_ref(f, key, &ref) != 0) {
			fields_keys(keys, sizeof(keys));
			snprintf(err, errlen, "unknown key%s%s%s (known: %s)",
			    key_word(key) ? " '" : "", key_word(key) ? key : "",
			    key_word(key) ? "'" : "", keys);
			return -1;
		}
		if ((ref.str != NULL ? jstr(v, key, ref.str, err, errlen) :
		    jlist(v, key, ref.list, ref.n, ref.set, err, errlen)) != 0)
			return -1;
	}
	return 0;
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r')
			return 0;
	return 1;
}

/*
 * Room for one more token in b->t.  Never realloc: it would free the old
 * block, secrets and all, unwiped (issue 14 item 6); copy, wipe, free.
 */
static void
issued_grow(struct batch *b)
{
	struct issued *t;
	size_t cap;

	if (b->n < b->cap)
		return;
	cap = b->cap == 0 ? 16 : b->cap * 2;
	t = xcalloc(cap, sizeof(*t));
	if (b->t != NULL) {
		memcpy(t, b->t, b->n * sizeof(*t));
		apitoken_wipe(b->t, b->cap * sizeof(*t));
		free(b->t);
	}
	b->t = t;
	b->cap = cap;
}

/* One input line: parse, validate, stage. */
static int
batch_line(struct ctl *ctl, struct ctl_db *db, struct batch *b,
    const char *line, size_t len)
{
	struct ctl_fields f;
	json_error_t jerr;
	json_t *obj;
	char err[CTL_ERR_MAX] = "";
	int r = CTL_EXIT_REJECT;

	memset(&f, 0, sizeof(f));
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		ctl_err("%s:%zu: invalid JSON at column %d: %s", b->name,
		    b->line, jerr.column, ctl_json_error(&jerr));
		return CTL_EXIT_REJECT;
	}
	if (!json_is_object(obj))
		snprintf(err, sizeof(err), "not a JSON object");
	else if (batch_fields(obj, &f, err, sizeof(err)) == 0) {
		issued_grow(b);
		memset(&b->t[b->n], 0, sizeof(b->t[b->n]));
		b->t[b->n].line = b->line;
		r = issue_one(ctl, db, &f, &b->t[b->n], err, sizeof(err));
		if (r == CTL_EXIT_OK)
			b->n++;
	}
	if (r != CTL_EXIT_OK) {
		ctl_err("%s:%zu: %s", b->name, b->line, err);
		if (r == CTL_EXIT_USAGE)
			r = CTL_EXIT_REJECT;	/* bad data, not bad usage */
	}
	fields_free(&f);
	json_decref(obj);
	return r;
}

static int
batch_read(struct ctl *ctl, struct ctl_db *db, struct batch *b)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = CTL_EXIT_OK;

	errno = 0;
	while (r == CTL_EXIT_OK && (len = getline(&line, &cap, b->fp)) >= 0) {
		b->line++;
		if ((size_t)len > CTL_LINE_MAX) {
			ctl_err("%s:%zu: line longer than %d bytes", b->name,
			    b->line, CTL_LINE_MAX);
			r = CTL_EXIT_REJECT;
		} else if (!blank(line, (size_t)len)) {
			r = batch_line(ctl, db, b, line, (size_t)len);
		}
	}
	if (r == CTL_EXIT_OK && ferror(b->fp)) {
		ctl_err("%s: read error: %s", b->name, strerror(errno));
		r = CTL_EXIT_SYSTEM;
	}
	if (r == CTL_EXIT_OK && b->n == 0) {
		ctl_err("%s: no requests", b->name);
		r = CTL_EXIT_REJECT;
	}
	free(line);
	return r;
}

static int
issue_batch(struct ctl *ctl, const char *path, int json)
{
	struct batch b;
	struct ctl_db db;
	int r;

	memset(&b, 0, sizeof(b));
	memset(&db, 0, sizeof(db));
	b.name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	b.fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (b.fp == NULL) {
		ctl_err("--batch: cannot open %s: %s", path, strerror(errno));
		return CTL_EXIT_REJECT;
	}
	if ((r = db_begin(ctl, 0, &db)) == CTL_EXIT_OK &&
	    (r = batch_read(ctl, &db, &b)) == CTL_EXIT_OK &&
	    (r = db_commit(ctl, &db)) == CTL_EXIT_OK)
		r = report(ctl, &db, b.t, b.n, json);
	if (b.t != NULL)
		apitoken_wipe(b.t, b.cap * sizeof(*b.t));
	free(b.t);
	if (b.fp != stdin)
		fclose(b.fp);
	db_free(&db);
	return r;
}

/* ------------------------------------------------------------ verb */

int
cmd_issue(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		CTL_FIELD_OPTIONS,
		{ "parent", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_fields f;
	const char *batch = NULL;
	int c, json = 0, nf = 0, r = CTL_EXIT_USAGE;

	memset(&f, 0, sizeof(f));
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		nf += c != 'b' && c != 'j' && c != 'h';
		if (fields_option(&f, c, optarg))
			continue;
		switch (c) {
		case 'p': f.parent = optarg; break;
		case 'b': batch = optarg; break;
		case 'j': json = 1; break;
		case 'h': r = ctl_help("issue", 1); goto out;
		default: r = ctl_bad_option(argc, argv, c); goto out;
		}
	}
	if (batch != NULL && (nf > 0 || optind != argc)) {
		ctl_err("--batch takes no USER and no other options but "
		    "--json");
		r = ctl_help("issue", 0);
	} else if (batch == NULL && optind < argc - 1) {
		ctl_err("too many arguments");
		r = ctl_help("issue", 0);
	} else if ((r = ctl_config(ctl)) != CTL_EXIT_OK) {
		/* r says why */
	} else if (ctl_self(ctl) && batch != NULL) {
		ctl_err("--batch is root's; issue your own tokens one at a "
		    "time");
		r = CTL_EXIT_REJECT;
	} else if (ctl_self(ctl)) {
		/* a user's own token, through apitokend: USER optional */
		r = self_issue(ctl, &f, optind < argc ? argv[optind] : NULL,
		    json);
	} else if (batch == NULL && optind == argc) {
		ctl_err("missing USER");
		r = ctl_help("issue", 0);
	} else {
		f.user = batch == NULL ? argv[optind] : NULL;
		r = batch != NULL ? issue_batch(ctl, batch, json) :
		    issue_single(ctl, &f, json);
	}
out:
	fields_free(&f);
	return r;
}
