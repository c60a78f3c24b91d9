/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet.h - PostgreSQL as the fleet's source of truth (docs/fleet.md).
 * Every libpq call of the project is in fleet/, a static archive that
 * tokenctl and apitokend link; the PAM module never does (it reads the
 * local store, which apitokend keeps a replica of).  Not installed.
 *
 * Schema (version FLEET_SCHEMA_VERSION; fleet/schema.c owns the SQL):
 *
 *   apitoken_meta(key text PRIMARY KEY, value text NOT NULL)
 *       schema_version, retention_seconds (change log kept; default
 *       7 days), pruned_xid/pruned_seq (the newest change pruned)
 *   apitoken_tokens(id text PRIMARY KEY, user_name, label, status,
 *       parent, line text NOT NULL, last_used bigint, last_host text)
 *       line is the record as the library's one serializer writes a
 *       store line (apitoken_record_format): hashes, never secrets.
 *       user_name, label, status, parent are copies for indexes and
 *       the partial unique index on (user_name, label) of live records
 *       (the library's label rule, enforced a second time).
 *   apitoken_changes(seq bigserial PRIMARY KEY,
 *       xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
 *       id text NOT NULL, line text (NULL: deleted),
 *       at timestamptz NOT NULL DEFAULT now())
 *       written by a trigger on apitoken_tokens (insert, delete, update
 *       of line) in the same transaction, which also NOTIFYs
 *       FLEET_CHANNEL; last-use updates write no change.
 *   apitoken_audit(seq bigserial PRIMARY KEY, at timestamptz, actor,
 *       host, action, token_id, detail)
 *   apitoken_replicas(host text PRIMARY KEY, cursor_xid xid8,
 *       cursor_seq bigint, last_sync timestamptz, version text)
 *
 * Writers (tokenctl) serialise on pg_advisory_xact_lock(FLEET_LOCK_KEY)
 * inside one transaction, read the whole store into a private copy, run
 * the library's transaction on it (every store rule, as for the file),
 * and send its changes (apitoken_txn_changes) with the audit rows before
 * COMMIT.  Readers of changes (replicas) take only changes with
 * xid < pg_snapshot_xmin(pg_current_snapshot()), in (xid, seq) order:
 * seq is drawn at insert, not at commit, so "seq above my cursor" alone
 * could skip a change committed late; no transaction below xmin can
 * still commit.
 */
#ifndef APITOKEN_FLEET_H
#define APITOKEN_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "apitoken.h"

#define FLEET_SCHEMA_VERSION 1
#define FLEET_CHANNEL "apitoken_changes"
#define FLEET_LOCK_KEY 0x61706974 /* "apit": the writers' advisory lock */
#define FLEET_RETENTION_DEFAULT (7 * 86400)

/* Return values besides APITOKEN_OK (0) and the library's own codes. */
#define FLEET_ERR_CONNECT	(-100)	/* no connection; err names server */
#define FLEET_ERR_SCHEMA	(-101)	/* none, older, or newer than ours */
#define FLEET_ERR_SQL		(-102)	/* a statement failed; err says */
#define FLEET_ERR_SNAPSHOT	(-103)	/* cursor older than the change
					   log's retention: snapshot again */

struct fleet {
	PGconn *conn;
	char server[128];	/* "host:port" or the socket directory */
};

/* pg.c: connect with cfg's conninfo (and passfile), application_name
 * app, connect_timeout 5 s unless conninfo sets one.  An error message
 * names the server: "PostgreSQL server at db.example:5432: ...". */
int fleet_connect(const struct apitoken_config *cfg, const char *app,
    struct fleet **fp, char *err, size_t errlen);
void fleet_close(struct fleet *f);
/* Run sql (no parameters) expecting no rows: 0 or FLEET_ERR_SQL. */
int fleet_exec(struct fleet *f, const char *sql, char *err, size_t errlen);
/* Check a result: 0 if its status is want, else FLEET_ERR_SQL with the
 * server's message in err (res is cleared then). */
int fleet_result(struct fleet *f, PGresult *res, ExecStatusType want,
    char *err, size_t errlen);

/* schema.c */
/* The schema version in the database, 0 if none. */
int fleet_schema_version(struct fleet *f, int *version, char *err,
    size_t errlen);
/* Create the schema, or migrate an older one; refuse a newer one. */
int fleet_schema_init(struct fleet *f, char *err, size_t errlen);
/* 0 if the schema is ours, else FLEET_ERR_SCHEMA ("run tokenctl db init"
 * or "made by a newer tokenctl"). */
int fleet_schema_check(struct fleet *f, char *err, size_t errlen);
/* GRANT the least privileges to an administrators' role admin (every
 * tokenctl verb) and a hosts' role hosts (apitokend: read tokens,
 * changes and meta, report last use, keep apitoken_replicas); either
 * may be NULL.  The SQL is in schema.c and docs/fleet.md. */
int fleet_schema_grants(struct fleet *f, const char *admin,
    const char *hosts, char *err, size_t errlen);

/* write.c (tokenctl) */
/* BEGIN and take the writers' lock (FLEET_LOCK_KEY) until its end. */
int fleet_begin_locked(struct fleet *f, char *err, size_t errlen);
/* Roll back the transaction in progress, if any (errors ignored: the
 * server drops it with the connection anyway). */
void fleet_rollback(struct fleet *f);
/* Who made a change, for apitoken_audit. */
struct fleet_who {
	const char *actor;	/* SUDO_USER, else the login name of the uid */
	const char *host;	/* host_name */
	const char *action;	/* the tokenctl verb */
};
/* In the locked transaction: txn's changes (apitoken_txn_changes) as
 * rows of apitoken_tokens (deletes first, then records becoming revoked,
 * then the rest: the live-label index never sees two at once), one
 * audit row per change, the change log pruned past its retention; then
 * COMMIT.  *n gets the number of records changed. */
int fleet_write_commit(struct fleet *f, struct apitoken_txn *txn,
    const struct fleet_who *who, size_t *n, char *err, size_t errlen);

struct fleet_cursor {
	uint64_t xid;
	int64_t seq;
};

/* snapshot.c: the whole central store into cfg's store file
 * (APITOKEN_TXN_EMPTY | MIRROR | CREATE), each line parsed by
 * apitoken_record_parse.  On an idle connection it reads in its own
 * REPEATABLE READ transaction and sets *cur to (xmin of its snapshot, 0):
 * every change below is in the store.  Inside the caller's transaction
 * (tokenctl's locked writer) it reads there, and cur may be NULL. */
int fleet_snapshot(struct fleet *f, const struct apitoken_config *cfg,
    struct fleet_cursor *cur, char *err, size_t errlen);
/* replica.c (apitokend): apply up to max changes after *cur to cfg's
 * store in one library transaction; *n gets how many.  FLEET_ERR_SNAPSHOT if *cur is older
 * than the change log keeps. */
int fleet_catch_up(struct fleet *f, const struct apitoken_config *cfg,
    struct fleet_cursor *cur, size_t max, size_t *n, char *err,
    size_t errlen);

/* A use of a token this host saw (apitokend reports them in batches,
 * at most once a minute per token). */
struct fleet_use {
	char id[APITOKEN_ID_LEN + 1];
	int64_t when;
};
/* Set last_used and last_host = host on each of the n tokens whose
 * recorded last use is older (or none); unknown ids are skipped. */
int fleet_report_uses(struct fleet *f, const char *host,
    const struct fleet_use *u, size_t n, char *err, size_t errlen);
/* This host's row in apitoken_replicas: cursor, last_sync = now(),
 * version (tokenctl db status lists them). */
int fleet_replica_report(struct fleet *f, const char *host,
    const struct fleet_cursor *cur, const char *version, char *err,
    size_t errlen);

#endif
