/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleetdb.c - tokenctl db init and tokenctl db status: the central
 * store's schema in PostgreSQL (fleet/schema.c) and what it holds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "tokenctl.h"

/* Connected, or the config names no postgresql (exit 3). */
static int
db_connect(struct ctl *ctl, int check_schema, struct fleet **fp)
{
	int r;

	*fp = NULL;
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	if (!pg_mode(ctl)) {
		ctl_err("%s: no postgresql mapping: the store is the file %s",
		    apitoken_config_path(ctl->cfg),
		    apitoken_config_store(ctl->cfg));
		return CTL_EXIT_CONFIG;
	}
	return pg_connect(ctl, check_schema, fp);
}

/* ---------------------------------------------------------- db init */

static void
granted(const char *whose, const char *role)
{
	char *safe;

	if (role == NULL)
		return;
	safe = ctl_escape(role);
	printf("granted the %s role %s its privileges\n", whose, safe);
	free(safe);
}

static int
init_run(struct ctl *ctl, const char *admin, const char *hosts)
{
	struct fleet *f = NULL;
	char err[CTL_ERR_MAX] = "";
	int r, before = 0, after = 0;

	if ((r = db_connect(ctl, 0, &f)) != CTL_EXIT_OK)
		return r;
	if ((r = fleet_schema_version(f, &before, err, sizeof(err))) != 0 ||
	    (r = fleet_schema_init(f, err, sizeof(err))) != 0 ||
	    (r = fleet_schema_version(f, &after, err, sizeof(err))) != 0 ||
	    ((admin != NULL || hosts != NULL) &&
	    (r = fleet_schema_grants(f, admin, hosts, err, sizeof(err))) != 0))
		goto out;
	if (before == 0)
		printf("created schema version %d at %s\n", after, f->server);
	else if (before < after)
		printf("migrated schema from version %d to %d at %s\n",
		    before, after, f->server);
	else
		printf("schema version %d at %s is up to date\n", after,
		    f->server);
	granted("administrators'", admin);
	granted("hosts'", hosts);
	ctl_audit(ctl, "db init schema=%d%s%s%s%s", after,
	    admin != NULL ? " admin_role=" : "",
	    admin != NULL ? ctl_esc(admin, 0) : "",
	    hosts != NULL ? " hosts_role=" : "",
	    hosts != NULL ? ctl_esc(hosts, 0) : "");
out:
	if (r != 0)
		ctl_err("%s", err);
	fleet_close(f);
	return r == 0 ? CTL_EXIT_OK : r == FLEET_ERR_CONNECT ||
	    r == FLEET_ERR_SCHEMA || r == FLEET_ERR_SQL ? CTL_EXIT_STORE :
	    ctl_exit_code(r);
}

static int
db_init(struct ctl *ctl, int argc, char **argv)
{
	const char *admin = NULL, *hosts = NULL;
	const struct ctl_opt o[] = {
		{ "admin-role", &admin, NULL },
		{ "hosts-role", &hosts, NULL },
		{ NULL, NULL, NULL },
	};
	int r;

	if ((r = ctl_options("db", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("db", 0);
	}
	return init_run(ctl, admin, hosts);
}

/* -------------------------------------------------------- db status */

struct status {
	int version;
	int64_t tokens, by[3];		/* by enum apitoken_status */
	int64_t changes, audit, retention;
	char pruned_xid[24], pruned_seq[24];
	struct replica {
		char *host, *xid, *version;
		int64_t seq, last_sync;
	} *rep;
	size_t nrep;
};

/* One query's result, or an exit status (its message printed). */
static int
query(struct fleet *f, const char *sql, PGresult **resp)
{
	char err[CTL_ERR_MAX] = "";

	*resp = PQexec(f->conn, sql);
	if (fleet_result(f, *resp, PGRES_TUPLES_OK, err, sizeof(err)) != 0) {
		*resp = NULL;
		ctl_err("%s", err);
		return CTL_EXIT_STORE;
	}
	return CTL_EXIT_OK;
}

static int64_t
num(PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int
read_counts(struct fleet *f, struct status *st)
{
	enum apitoken_status s;
	PGresult *res;
	int i, r;

	if ((r = query(f, "SELECT status, count(*) FROM apitoken_tokens "
	    "GROUP BY status", &res)) != CTL_EXIT_OK)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		st->tokens += num(res, i, 1);
		if (apitoken_status_parse(PQgetvalue(res, i, 0), &s) == 0)
			st->by[s] += num(res, i, 1);
	}
	PQclear(res);
	if ((r = query(f, "SELECT count(*), has_table_privilege("
	    "'apitoken_audit', 'SELECT') FROM apitoken_changes", &res)) !=
	    CTL_EXIT_OK)
		return r;
	st->changes = num(res, 0, 0);
	st->audit = -1;		/* the hosts' role may not read it */
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		PQclear(res);
		if ((r = query(f, "SELECT count(*) FROM apitoken_audit",
		    &res)) != CTL_EXIT_OK)
			return r;
		st->audit = num(res, 0, 0);
	}
	PQclear(res);
	return CTL_EXIT_OK;
}

static int
read_meta(struct fleet *f, struct status *st)
{
	PGresult *res;
	const char *k, *v;
	int i, r;

	if ((r = query(f, "SELECT key, value FROM apitoken_meta", &res)) !=
	    CTL_EXIT_OK)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		k = PQgetvalue(res, i, 0);
		v = PQgetvalue(res, i, 1);
		if (strcmp(k, "retention_seconds") == 0)
			st->retention = strtoll(v, NULL, 10);
		else if (strcmp(k, "pruned_xid") == 0)
			(void)snprintf(st->pruned_xid, sizeof(st->pruned_xid),
			    "%s", v);
		else if (strcmp(k, "pruned_seq") == 0)
			(void)snprintf(st->pruned_seq, sizeof(st->pruned_seq),
			    "%s", v);
		else if (strcmp(k, "schema_version") == 0)
			st->version = (int)strtol(v, NULL, 10);
	}
	PQclear(res);
	return CTL_EXIT_OK;
}

static int
read_replicas(struct fleet *f, struct status *st)
{
	struct replica *p;
	PGresult *res;
	int i, r;

	if ((r = query(f, "SELECT host, coalesce(cursor_xid::text, '0'), "
	    "coalesce(cursor_seq, 0), coalesce(extract(epoch FROM "
	    "last_sync)::bigint, 0), coalesce(version, '') "
	    "FROM apitoken_replicas ORDER BY host COLLATE \"C\"", &res)) !=
	    CTL_EXIT_OK)
		return r;
	st->nrep = (size_t)PQntuples(res);
	st->rep = xcalloc(st->nrep, sizeof(*st->rep));
	for (i = 0; i < PQntuples(res); i++) {
		p = &st->rep[i];
		p->host = xstrdup(PQgetvalue(res, i, 0));
		p->xid = xstrdup(PQgetvalue(res, i, 1));
		p->seq = num(res, i, 2);
		p->last_sync = num(res, i, 3);
		p->version = xstrdup(PQgetvalue(res, i, 4));
	}
	PQclear(res);
	return CTL_EXIT_OK;
}

static void
status_free(struct status *st)
{
	size_t i;

	for (i = 0; i < st->nrep; i++) {
		free(st->rep[i].host);
		free(st->rep[i].xid);
		free(st->rep[i].version);
	}
	free(st->rep);
}

static json_t *
status_json(const struct ctl *ctl, const struct fleet *f,
    const struct status *st)
{
	json_t *o = json_object(), *a = json_array(), *r;
	char t[32];
	size_t i;

	json_object_set_new(o, "server", json_string(f->server));
	json_object_set_new(o, "schema_version", json_integer(st->version));
	json_object_set_new(o, "tokens", json_pack("{s:I,s:I,s:I,s:I}",
	    "total", (json_int_t)st->tokens,
	    "active", (json_int_t)st->by[APITOKEN_ACTIVE],
	    "disabled", (json_int_t)st->by[APITOKEN_DISABLED],
	    "revoked", (json_int_t)st->by[APITOKEN_REVOKED]));
	json_object_set_new(o, "changes", json_pack("{s:I,s:I,s:s,s:s}",
	    "rows", (json_int_t)st->changes,
	    "retention_seconds", (json_int_t)st->retention,
	    "pruned_xid", st->pruned_xid, "pruned_seq", st->pruned_seq));
	json_object_set_new(o, "audit_rows", st->audit < 0 ? json_null() :
	    json_integer(st->audit));
	for (i = 0; i < st->nrep; i++) {
		ctl_time_abs(st->rep[i].last_sync, t, sizeof(t));
		r = json_pack("{s:s,s:s,s:I,s:s,s:I,s:s}",
		    "host", st->rep[i].host, "cursor_xid", st->rep[i].xid,
		    "cursor_seq", (json_int_t)st->rep[i].seq, "last_sync", t,
		    "age_seconds", (json_int_t)(ctl->now -
		    st->rep[i].last_sync), "version", st->rep[i].version);
		if (st->rep[i].last_sync == 0) {
			json_object_set_new(r, "last_sync", json_null());
			json_object_set_new(r, "age_seconds", json_null());
		}
		json_array_append_new(a, r);
	}
	json_object_set_new(o, "replicas", a);
	return o;
}

static void
status_text(const struct ctl *ctl, const struct fleet *f,
    const struct status *st)
{
	char t[96], *h;
	size_t i;

	printf("server:         %s\n", f->server);
	printf("schema version: %d\n", st->version);
	printf("tokens:         %" PRId64 " (active %" PRId64 ", disabled %"
	    PRId64 ", revoked %" PRId64 ")\n", st->tokens,
	    st->by[APITOKEN_ACTIVE], st->by[APITOKEN_DISABLED],
	    st->by[APITOKEN_REVOKED]);
	printf("change log:     %" PRId64 " rows kept, retention %" PRId64
	    "s\n", st->changes, st->retention);
	if (st->audit < 0)
		printf("audit:          not readable by this role\n");
	else
		printf("audit:          %" PRId64 " rows\n", st->audit);
	printf("replicas:       %zu\n", st->nrep);
	for (i = 0; i < st->nrep; i++) {
		ctl_time_both(st->rep[i].last_sync, ctl->now, "never", t,
		    sizeof(t));
		h = ctl_escape(st->rep[i].host);
		printf("  %s cursor %s/%" PRId64 " last sync %s\n", h,
		    st->rep[i].xid, st->rep[i].seq, t);
		free(h);
	}
}

static int
db_status(struct ctl *ctl, int argc, char **argv)
{
	struct status st;
	struct fleet *f = NULL;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("db", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("db", 0);
	}
	if ((r = db_connect(ctl, 1, &f)) != CTL_EXIT_OK)
		return r;
	memset(&st, 0, sizeof(st));
	if ((r = read_meta(f, &st)) == CTL_EXIT_OK &&
	    (r = read_counts(f, &st)) == CTL_EXIT_OK &&
	    (r = read_replicas(f, &st)) == CTL_EXIT_OK) {
		if (json)
			r = json_print(status_json(ctl, f, &st), 0);
		else
			status_text(ctl, f, &st);
	}
	status_free(&st);
	fleet_close(f);
	return r;
}

/* tokenctl db init|status ... */
int
cmd_db(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2) {
		ctl_err("missing 'init' or 'status'");
		return ctl_help("db", 0);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return ctl_help("db", 1);
	if (strcmp(argv[1], "init") == 0) {
		ctl_set_verb("db init");
		return db_init(ctl, argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "status") == 0) {
		ctl_set_verb("db status");
		return db_status(ctl, argc - 1, argv + 1);
	}
	ctl_err("unknown db command '%s' (init or status)", argv[1]);
	return ctl_help("db", 0);
}
