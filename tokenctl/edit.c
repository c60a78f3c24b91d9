/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * edit.c - tokenctl edit: change a token's metadata (never its secret,
 * owner, parent or status) in one transaction.
 */
#include <getopt.h>
#include <string.h>

#include "tokenctl.h"

struct capped {
	struct ctl_db *db;
	struct ctl_idlist l;
};

/* A descendant the library capped to its ancestor's new expiry. */
static int
note_capped(const char *id, void *ctx)
{
	struct capped *c = ctx;

	idlist_add(&c->l, id);
	return db_changed(id, c->db);
}

/* After the commit: audit and tell of each token capped. */
static void
report_capped(const struct ctl *ctl, const struct ctl_db *db,
    const struct capped *c, const char *parent)
{
	const struct apitoken_record *rec;
	char when[32];
	size_t i;

	for (i = 0; i < c->l.n; i++) {
		if ((rec = db_find(db, c->l.id[i])) == NULL)
			continue;
		ctl_time_abs(rec->expires, when, sizeof(when));
		ctl_audit(ctl, "edit id=%s user=%s fields=expires via=%s",
		    rec->id, rec->user, parent);
		ctl_err("note: token %s (derived from %s) now expires at %s "
		    "too", rec->id, parent, when);
	}
}

static int
edit_run(struct ctl *ctl, const char *id, const struct ctl_fields *f)
{
	struct ctl_db db;
	struct capped c = { &db, { NULL, 0 } };
	struct apitoken_record *rec;
	char err[CTL_ERR_MAX] = "", names[96];
	int r;

	if ((r = db_begin(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	if ((r = db_get(&db, id, &rec)) != CTL_EXIT_OK)
		goto out;
	if (rec->status == APITOKEN_REVOKED) {
		ctl_err("token %s is revoked; revoked tokens cannot be edited",
		    rec->id);
		r = CTL_EXIT_REJECT;
		goto out;
	}
	if ((r = fields_apply(ctl, &db, f, rec, 0, err, sizeof(err))) != 0) {
		ctl_err("%s", err);
		goto out;
	}
	rec->updated = (int64_t)ctl->now;
	/* a new expiry caps every token derived from rec (the library's
	 * cascade); then the other fields */
	if ((f->expires != NULL && (r = apitoken_txn_set_expiry(db.txn,
	    rec->id, rec->expires, (int64_t)ctl->now, note_capped, &c, err,
	    sizeof(err))) != APITOKEN_OK) ||
	    (r = db_update(&db, rec, err, sizeof(err))) != APITOKEN_OK) {
		r = ctl_lib_fail(r, rec->id, err);
		goto out;
	}
	if ((r = db_commit(ctl, &db)) != CTL_EXIT_OK)
		goto out;
	snprintf(names, sizeof(names), "%s%s%s%s%s%s%s",
	    f->label ? "label," : "", f->description ? "description," : "",
	    f->external_id ? "external_id," : "",
	    f->services_set ? "services," : "", f->from_set ? "from," : "",
	    f->hosts_set ? "hosts," : "", f->expires ? "expires," : "");
	if (names[0] != '\0')
		names[strlen(names) - 1] = '\0';	/* the last comma */
	ctl_audit(ctl, "edit id=%s user=%s fields=%s", rec->id,
	    ctl_esc(rec->user, 0), names);
	printf("edited %s\n", rec->id);
	report_capped(ctl, &db, &c, rec->id);
out:
	idlist_free(&c.l);
	db_free(&db);
	return r;
}

int
cmd_edit(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		CTL_FIELD_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_fields f;
	int c, n = 0, r = CTL_EXIT_USAGE;

	memset(&f, 0, sizeof(f));
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		n++;
		if (fields_option(&f, c, optarg))
			continue;
		switch (c) {
		case 'h': r = ctl_help("edit", 1); goto out;
		default: r = ctl_bad_option(argc, argv, c); goto out;
		}
	}
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing ID" : "too many arguments");
		r = ctl_help("edit", 0);
	} else if (n == 0) {
		ctl_err("nothing to change: give at least one option");
		r = ctl_help("edit", 0);
	} else if ((r = ctl_config(ctl)) == CTL_EXIT_OK) {
		r = ctl_self(ctl) ? self_edit(ctl, argv[optind], &f) :
		    edit_run(ctl, argv[optind], &f);
	}
out:
	fields_free(&f);
	return r;
}
