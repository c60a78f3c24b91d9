/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * schema.c - the central store's schema (fleet.h) and its migrations.
 * Each version is one step of SQL run in the transaction that moves the
 * database to it; a new version appends a step and never edits an old
 * one.  fleet_schema_init runs the missing steps under the writers'
 * advisory lock, so two `tokenctl db init` at once do the work once.
 * A database at a newer version than this binary knows is refused:
 * an older tokenctl must not write rows whose meaning it does not know.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

/*
 * Version 1.  The partial unique index enforces the library's label
 * rule a second time (a live record's (user, label) is unique).  The
 * change log is written by triggers in the writer's transaction: an
 * insert or a delete, or an update that changes line (last-use reports
 * update last_used/last_host only and log nothing).  pg_notify carries
 * no data: it only wakes the replicas, which read the log themselves;
 * PostgreSQL folds a transaction's identical notifications into one.
 */
static const char schema_v1[] =
"CREATE TABLE apitoken_meta ("
"  key text PRIMARY KEY,"
"  value text NOT NULL);"
"CREATE TABLE apitoken_tokens ("
"  id text PRIMARY KEY,"
"  user_name text NOT NULL,"
"  label text NOT NULL,"
"  status text NOT NULL,"
"  parent text NOT NULL DEFAULT '',"
"  line text NOT NULL,"
"  last_used bigint,"
"  last_host text);"
"CREATE UNIQUE INDEX apitoken_tokens_live_label"
"  ON apitoken_tokens (user_name, label) WHERE status <> 'revoked';"
"CREATE INDEX apitoken_tokens_user ON apitoken_tokens (user_name);"
"CREATE INDEX apitoken_tokens_parent ON apitoken_tokens (parent)"
"  WHERE parent <> '';"
"CREATE TABLE apitoken_changes ("
"  seq bigserial PRIMARY KEY,"
"  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
"  id text NOT NULL,"
"  line text,"
"  at timestamptz NOT NULL DEFAULT now());"
"CREATE INDEX apitoken_changes_cursor ON apitoken_changes (xid, seq);"
"CREATE INDEX apitoken_changes_at ON apitoken_changes (at);"
"CREATE TABLE apitoken_audit ("
"  seq bigserial PRIMARY KEY,"
"  at timestamptz NOT NULL DEFAULT now(),"
"  actor text NOT NULL,"
"  host text NOT NULL,"
"  action text NOT NULL,"
"  token_id text,"
"  detail text NOT NULL DEFAULT '');"
"CREATE INDEX apitoken_audit_token ON apitoken_audit (token_id);"
"CREATE TABLE apitoken_replicas ("
"  host text PRIMARY KEY,"
"  cursor_xid xid8,"
"  cursor_seq bigint,"
"  last_sync timestamptz,"
"  version text);"
"CREATE FUNCTION apitoken_log_change() RETURNS trigger"
"  LANGUAGE plpgsql AS $f$"
"BEGIN"
"  IF TG_OP = 'DELETE' THEN"
"    INSERT INTO apitoken_changes (id, line) VALUES (OLD.id, NULL);"
"  ELSE"
"    INSERT INTO apitoken_changes (id, line) VALUES (NEW.id, NEW.line);"
"  END IF;"
"  PERFORM pg_notify('" FLEET_CHANNEL "', '');"
"  RETURN NULL;"
"END $f$;"
"CREATE TRIGGER apitoken_tokens_log AFTER INSERT OR DELETE"
"  ON apitoken_tokens FOR EACH ROW EXECUTE FUNCTION apitoken_log_change();"
"CREATE TRIGGER apitoken_tokens_log_line AFTER UPDATE OF line"
"  ON apitoken_tokens FOR EACH ROW"
"  WHEN (OLD.line IS DISTINCT FROM NEW.line)"
"  EXECUTE FUNCTION apitoken_log_change();"
"INSERT INTO apitoken_meta (key, value) VALUES"
"  ('schema_version', '1'),"
"  ('retention_seconds', '604800'),"
"  ('pruned_xid', '0'),"
"  ('pruned_seq', '0');";

/* The migrations: steps[i] takes the database to version i + 1. */
static const char *const steps[] = {
	schema_v1,
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

_Static_assert(FLEET_RETENTION_DEFAULT == 604800,
    "schema_v1's retention_seconds is the default");
_Static_assert(NSTEPS == FLEET_SCHEMA_VERSION,
    "one migration step per schema version");

/*
 * Least privilege (docs/fleet.md, "Roles"), each statement ending in
 * "TO role": the administrators' role (tokenctl: every verb, db status;
 * the change-log trigger runs as the writer) and the hosts' role
 * (apitokend: read tokens, changes and meta, report last use, keep its
 * row of apitoken_replicas).  The schema's owner runs db init.
 */
static const char *const admin_grants[] = {
	"GRANT SELECT, INSERT, UPDATE, DELETE ON apitoken_tokens",
	"GRANT SELECT, INSERT, DELETE ON apitoken_changes",
	"GRANT SELECT, INSERT ON apitoken_audit",
	"GRANT SELECT, UPDATE ON apitoken_meta",
	"GRANT SELECT ON apitoken_replicas",
	"GRANT USAGE ON SEQUENCE apitoken_changes_seq_seq, "
	    "apitoken_audit_seq_seq",
};
static const char *const hosts_grants[] = {
	"GRANT SELECT ON apitoken_tokens, apitoken_changes, apitoken_meta",
	"GRANT UPDATE (last_used, last_host) ON apitoken_tokens",
	"GRANT SELECT, INSERT, UPDATE ON apitoken_replicas",
};

/* 1 if the result is a failure with SQLSTATE state. */
static int
failed_with(const PGresult *res, const char *state)
{
	const char *s;

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR)
		return 0;
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL && strcmp(s, state) == 0;
}

int
fleet_schema_version(struct fleet *f, int *version, char *err,
    size_t errlen)
{
	PGresult *res;
	const char *v;
	char *end;
	long n;
	int r;

	*version = 0;
	res = PQexec(f->conn, "SELECT value FROM apitoken_meta "
	    "WHERE key = 'schema_version'");
	if (failed_with(res, "42P01") &&
	    PQtransactionStatus(f->conn) == PQTRANS_IDLE) {
		PQclear(res);	/* undefined_table: no schema yet */
		return APITOKEN_OK;
	}
	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen)) != 0)
		return r;
	if (PQntuples(res) == 1) {
		v = PQgetvalue(res, 0, 0);
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 1 || n > 1000000) {
			(void)snprintf(err, errlen, "PostgreSQL server at %s: "
			    "apitoken_meta: schema_version '%.32s' is not a "
			    "version", f->server, v);
			PQclear(res);
			return FLEET_ERR_SCHEMA;
		}
		*version = (int)n;
	}
	PQclear(res);
	return APITOKEN_OK;
}

/* The refusal of a schema this binary does not know. */
static int
too_new(struct fleet *f, int version, char *err, size_t errlen)
{
	(void)snprintf(err, errlen, "PostgreSQL server at %s: schema version "
	    "%d is newer than this tokenctl knows (%d); upgrade tokenctl",
	    f->server, version, FLEET_SCHEMA_VERSION);
	return FLEET_ERR_SCHEMA;
}

/* 1 if table is visible in the search path, 0 if not, or an error. */
static int
table_exists(struct fleet *f, const char *table, char *err, size_t errlen)
{
	const char *params[1] = { table };
	PGresult *res;
	int r;

	res = PQexecParams(f->conn, "SELECT to_regclass($1) IS NOT NULL", 1,
	    NULL, params, NULL, NULL, 0);
	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen)) != 0)
		return r;
	r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return r;
}

/* Under the lock: the missing steps, then the version. */
static int
migrate(struct fleet *f, char *err, size_t errlen)
{
	char sql[96];
	int r, v;
	size_t i;

	if ((r = table_exists(f, "apitoken_meta", err, errlen)) < 0)
		return r;
	v = 0;
	if (r == 1 && (r = fleet_schema_version(f, &v, err, errlen)) != 0)
		return r;
	if (v > FLEET_SCHEMA_VERSION)
		return too_new(f, v, err, errlen);
	for (i = (size_t)v; i < NSTEPS; i++) {
		if ((r = fleet_exec(f, steps[i], err, errlen)) != 0)
			return r;
		(void)snprintf(sql, sizeof(sql), "UPDATE apitoken_meta SET "
		    "value = '%zu' WHERE key = 'schema_version'", i + 1);
		if ((r = fleet_exec(f, sql, err, errlen)) != 0)
			return r;
	}
	return APITOKEN_OK;
}

int
fleet_schema_init(struct fleet *f, char *err, size_t errlen)
{
	int r;

	if ((r = fleet_begin_locked(f, err, errlen)) != 0)
		return r;
	if ((r = migrate(f, err, errlen)) == 0)
		return fleet_exec(f, "COMMIT", err, errlen);
	fleet_rollback(f);
	return r;
}

int
fleet_schema_check(struct fleet *f, char *err, size_t errlen)
{
	int r, v;

	if ((r = fleet_schema_version(f, &v, err, errlen)) != 0)
		return r;
	if (v > FLEET_SCHEMA_VERSION)
		return too_new(f, v, err, errlen);
	if (v < FLEET_SCHEMA_VERSION) {
		(void)snprintf(err, errlen, "PostgreSQL server at %s: %s; "
		    "run tokenctl db init", f->server, v == 0 ?
		    "no apitoken schema" : "the apitoken schema is older "
		    "than this tokenctl");
		return FLEET_ERR_SCHEMA;
	}
	return APITOKEN_OK;
}

/* Each of the n statements of v "TO role". */
static int
grant(struct fleet *f, const char *const *v, size_t n, const char *role,
    char *err, size_t errlen)
{
	char *id, sql[256];
	size_t i;
	int r = APITOKEN_OK;

	if ((id = PQescapeIdentifier(f->conn, role, strlen(role))) == NULL) {
		(void)snprintf(err, errlen, "role '%.64s': %s", role,
		    PQerrorMessage(f->conn));
		return FLEET_ERR_SQL;
	}
	for (i = 0; i < n && r == APITOKEN_OK; i++) {
		if ((size_t)snprintf(sql, sizeof(sql), "%s TO %s", v[i], id) >=
		    sizeof(sql)) {
			(void)snprintf(err, errlen, "role '%.64s': name too "
			    "long", role);
			r = FLEET_ERR_SQL;
		} else
			r = fleet_exec(f, sql, err, errlen);
	}
	PQfreemem(id);
	return r;
}

/* Role names (either may be NULL) are quoted as identifiers; one
 * transaction. */
int
fleet_schema_grants(struct fleet *f, const char *admin, const char *hosts,
    char *err, size_t errlen)
{
	int r;

	if ((r = fleet_exec(f, "BEGIN", err, errlen)) != 0)
		return r;
	if ((admin == NULL || (r = grant(f, admin_grants,
	    sizeof(admin_grants) / sizeof(admin_grants[0]), admin, err,
	    errlen)) == 0) &&
	    (hosts == NULL || (r = grant(f, hosts_grants,
	    sizeof(hosts_grants) / sizeof(hosts_grants[0]), hosts, err,
	    errlen)) == 0))
		return fleet_exec(f, "COMMIT", err, errlen);
	fleet_rollback(f);
	return r;
}
