/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lifecycle.c - tokenctl disable, enable, delete and prune: status
 * changes and removal of records, one transaction each.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

int
one_id_args(const char *verb, int argc, char **argv, const char **id)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*id = NULL;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return -1;	/* caller prints help, exits 0 */
		return ctl_bad_option(argc, argv, c);
	}
	if (optind != argc - 1) {
		ctl_err(optind == argc ? "missing ID" : "too many arguments");
		return ctl_help(verb, 0);
	}
	*id = argv[optind];
	return CTL_EXIT_OK;
}

/* Load the config and begin; the verb's one ID operand in *id. */
static int
begin_one(struct ctl *ctl, const char *verb, int argc, char **argv,
    struct ctl_db *db, struct apitoken_record **recp)
{
	const char *id;
	int r;

	*recp = NULL;
	memset(db, 0, sizeof(*db));
	if ((r = one_id_args(verb, argc, argv, &id)) != CTL_EXIT_OK)
		return r < 0 ? ctl_help(verb, 1) : r;
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	if (ctl_self(ctl) && (strcmp(verb, "disable") == 0 ||
	    strcmp(verb, "enable") == 0))
		return self_simple(ctl, verb, id, NULL);	/* *recp NULL */
	if ((r = db_begin(ctl, 0, db)) != CTL_EXIT_OK)
		return r;
	return db_get(db, id, recp);
}

/* Stage rec's new status and commit. */
static int
set_status(struct ctl *ctl, struct ctl_db *db, struct apitoken_record *rec,
    enum apitoken_status st)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	rec->status = st;
	rec->updated = (int64_t)ctl->now;
	if ((r = db_update(db, rec, err, sizeof(err))) != APITOKEN_OK)
		return ctl_lib_fail(r, rec->id, err);
	if ((r = db_commit(ctl, db)) != CTL_EXIT_OK)
		return r;
	ctl_audit(ctl, "%s id=%s user=%s", st == APITOKEN_ACTIVE ? "enable" :
	    "disable", rec->id, ctl_esc(rec->user, 0));
	printf("%s %s\n", st == APITOKEN_ACTIVE ? "enabled" : "disabled",
	    rec->id);
	return CTL_EXIT_OK;
}

int
cmd_disable(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_db db;
	struct apitoken_record *rec;
	int r;

	if ((r = begin_one(ctl, "disable", argc, argv, &db, &rec)) != 0 ||
	    rec == NULL)
		goto out;
	if (rec->status == APITOKEN_REVOKED) {
		ctl_err("token %s is revoked", rec->id);
		r = CTL_EXIT_REJECT;
	} else if (rec->status == APITOKEN_DISABLED) {
		ctl_err("token %s is already disabled", rec->id);
	} else {
		r = set_status(ctl, &db, rec, APITOKEN_DISABLED);
	}
out:
	db_free(&db);
	return r;
}

int
cmd_enable(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_db db;
	struct apitoken_record *rec;
	char when[32];
	int r;

	if ((r = begin_one(ctl, "enable", argc, argv, &db, &rec)) != 0 ||
	    rec == NULL)
		goto out;
	if (rec->status == APITOKEN_REVOKED) {
		ctl_err("token %s is revoked; a revoked token cannot be "
		    "enabled (issue a new one)", rec->id);
		r = CTL_EXIT_REJECT;
	} else if (rec->status == APITOKEN_ACTIVE) {
		ctl_err("token %s is already enabled", rec->id);
	} else if ((r = set_status(ctl, &db, rec, APITOKEN_ACTIVE)) == 0 &&
	    apitoken_record_expired(rec, ctl->now)) {
		ctl_time_abs(rec->expires, when, sizeof(when));
		ctl_err("note: token %s expired at %s (change it with "
		    "'tokenctl edit %s --expires WHEN')", rec->id, when,
		    rec->id);
	}
out:
	db_free(&db);
	return r;
}

int
cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_db db;
	struct apitoken_record *rec;
	struct ctl_idlist l = { NULL, 0 };
	char id[APITOKEN_ID_LEN + 1], user[APITOKEN_USER_MAX + 1], why[64];
	char err[CTL_ERR_MAX] = "";
	int r;

	if ((r = begin_one(ctl, "delete", argc, argv, &db, &rec)) != 0 ||
	    rec == NULL)
		goto out;
	snprintf(id, sizeof(id), "%s", rec->id);
	snprintf(user, sizeof(user), "%s", rec->user);
	snprintf(why, sizeof(why), "derived from deleted token %s", id);
	if ((r = revoke_descendants(ctl, &db, id, why, &l)) != CTL_EXIT_OK)
		goto out;
	if ((r = db_delete(&db, id, err, sizeof(err))) != APITOKEN_OK) {
		r = ctl_lib_fail(r, id, err);
		goto out;
	}
	if ((r = db_commit(ctl, &db)) != CTL_EXIT_OK)
		goto out;
	apitoken_lastuse_remove(ctl->cfg, id);
	ctl_audit(ctl, "delete id=%s user=%s", id, ctl_esc(user, 0));
	printf("deleted %s\n", id);
	revoke_report(ctl, &db, &l, "delete", stdout);
out:
	idlist_free(&l);
	db_free(&db);
	return r;
}

/* ------------------------------------------------------------ prune */

/* When a record stopped being usable: revoked_at, or its expiry. */
static int
prunable(const struct apitoken_record *r, time_t now, int64_t cutoff)
{
	int64_t t;

	if (r->status == APITOKEN_REVOKED)
		t = r->revoked_at != 0 ? r->revoked_at : r->updated;
	else if (apitoken_record_expired(r, now))
		t = r->expires;
	else
		return 0;
	return t <= cutoff;
}

/* --older-than WHEN: a duration counts back from now. */
static int
parse_cutoff(const struct ctl *ctl, const char *s, int64_t *cutoff)
{
	int64_t d;

	*cutoff = (int64_t)ctl->now;
	if (s == NULL)
		return CTL_EXIT_OK;
	if (apitoken_duration_parse(s, &d) == APITOKEN_OK &&
	    d != APITOKEN_NEVER) {
		*cutoff -= d;
		return CTL_EXIT_OK;
	}
	if (strcmp(s, "never") != 0 &&
	    apitoken_when_parse(s, ctl->now, &d) == APITOKEN_OK) {
		*cutoff = d;
		return CTL_EXIT_OK;
	}
	ctl_err("invalid --older-than '%s': give a duration (30d = 30 days "
	    "ago), a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM[:SS]Z", s);
	return CTL_EXIT_USAGE;
}

static int
prune_run(struct ctl *ctl, int64_t cutoff)
{
	struct ctl_db db;
	struct ctl_idlist l = { NULL, 0 };
	char err[CTL_ERR_MAX] = "";
	size_t i;
	int r;

	if ((r = db_begin_full(ctl, 0, &db)) != CTL_EXIT_OK)
		return r;
	for (i = 0; i < db.n; i++)
		if (prunable(db.v[i], ctl->now, cutoff))
			idlist_add(&l, db.v[i]->id);
	for (i = 0; i < l.n && r == CTL_EXIT_OK; i++)
		if ((r = db_delete(&db, l.id[i], err, sizeof(err))) != 0)
			r = ctl_lib_fail(r, l.id[i], err);
	if (r == CTL_EXIT_OK && l.n > 0)
		r = db_commit(ctl, &db);
	for (i = 0; i < l.n && r == CTL_EXIT_OK; i++) {
		apitoken_lastuse_remove(ctl->cfg, l.id[i]);
		ctl_audit(ctl, "prune id=%s", l.id[i]);
		printf("pruned %s\n", l.id[i]);
	}
	idlist_free(&l);
	db_free(&db);
	return r;
}

int
cmd_prune(struct ctl *ctl, int argc, char **argv)
{
	const char *older = NULL;
	const struct ctl_opt o[] = {
		{ "older-than", &older, NULL },
		{ NULL, NULL, NULL },
	};
	int64_t cutoff;
	int r;

	if ((r = ctl_options("prune", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("prune", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK ||
	    (r = parse_cutoff(ctl, older, &cutoff)) != CTL_EXIT_OK)
		return r;
	return prune_run(ctl, cutoff);
}
