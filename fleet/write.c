/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * write.c - tokenctl's writes to the central store.  A writer holds the
 * advisory lock FLEET_LOCK_KEY for its whole transaction, so writers run
 * one at a time and each sees the last one's commit: the library's rules,
 * checked on a private copy read inside the lock, hold for the database
 * too (the live-label index checks that rule once more).  The rows go
 * as the library serializes them; the change log and NOTIFY come from
 * the schema's triggers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

int
fleet_begin_locked(struct fleet *f, char *err, size_t errlen)
{
	const char *p[1];
	char key[24];
	PGresult *res;
	int r;

	if ((r = fleet_exec(f, "BEGIN", err, errlen)) != 0)
		return r;
	(void)snprintf(key, sizeof(key), "%ld", (long)FLEET_LOCK_KEY);
	p[0] = key;
	res = PQexecParams(f->conn, "SELECT pg_advisory_xact_lock($1::bigint)",
	    1, NULL, p, NULL, NULL, 0);
	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen)) != 0) {
		fleet_rollback(f);
		return r;
	}
	PQclear(res);
	return APITOKEN_OK;
}

void
fleet_rollback(struct fleet *f)
{
	if (PQtransactionStatus(f->conn) != PQTRANS_IDLE)
		PQclear(PQexec(f->conn, "ROLLBACK"));
}

/* One row upserted (a new or changed record), its audit row with it. */
static const char upsert_sql[] =
"WITH t AS ("
"  INSERT INTO apitoken_tokens (id, user_name, label, status, parent, line)"
"  VALUES ($1, $2, $3, $4, $5, $6)"
"  ON CONFLICT (id) DO UPDATE SET user_name = EXCLUDED.user_name,"
"    label = EXCLUDED.label, status = EXCLUDED.status,"
"    parent = EXCLUDED.parent, line = EXCLUDED.line"
"  RETURNING id, xmax = 0 AS created)"
"INSERT INTO apitoken_audit (actor, host, action, token_id, detail)"
"  SELECT $7, $8, $9, id, CASE WHEN created THEN 'created'"
"    ELSE 'updated' END || ' status=' || $4 FROM t";

static const char delete_sql[] =
"WITH t AS (DELETE FROM apitoken_tokens WHERE id = $1 RETURNING id)"
"INSERT INTO apitoken_audit (actor, host, action, token_id, detail)"
"  SELECT $2, $3, $4, id, 'deleted' FROM t";

/*
 * The change log past retention_seconds, up to the newest such change in
 * (xid, seq) order, which becomes pruned_xid/pruned_seq: a replica whose
 * cursor is not past it must take a snapshot.
 */
static const char prune_sql[] =
"WITH mark AS ("
"  SELECT xid, seq FROM apitoken_changes"
"  WHERE at < now() - make_interval(secs => (SELECT value::bigint"
"    FROM apitoken_meta WHERE key = 'retention_seconds'))"
"  ORDER BY xid DESC, seq DESC LIMIT 1),"
" gone AS (DELETE FROM apitoken_changes c USING mark"
"  WHERE (c.xid, c.seq) <= (mark.xid, mark.seq))"
"UPDATE apitoken_meta m SET value = CASE m.key"
"  WHEN 'pruned_xid' THEN mark.xid::text ELSE mark.seq::text END"
"  FROM mark WHERE m.key IN ('pruned_xid', 'pruned_seq')";

/* COMMIT, which answers ROLLBACK for a transaction that failed. */
static int
commit(struct fleet *f, char *err, size_t errlen)
{
	PGresult *res = PQexec(f->conn, "COMMIT");
	int r;

	if ((r = fleet_result(f, res, PGRES_COMMAND_OK, err, errlen)) != 0)
		return r;
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		(void)snprintf(err, errlen, "PostgreSQL server at %s: the "
		    "transaction was rolled back", f->server);
		r = FLEET_ERR_SQL;
	}
	PQclear(res);
	return r;
}

/*
 * The rows go in pipeline mode (one round trip per PIPE_CHUNK statements
 * rather than one each: an import or a revoke --user of thousands);
 * results are read at each chunk's sync point, so neither side's socket
 * buffer can fill up while the other waits.
 */
#define PIPE_CHUNK 256

struct send {
	struct fleet *f;
	const struct fleet_who *who;
	int pass;		/* 0 deletes, 1 revoked records, 2 others */
	size_t n;		/* changes sent */
	size_t queued;		/* statements since the last sync */
	char *err;
	size_t errlen;
};

/* One result of the pipeline: 0, 1 at the sync point, or an error (the
 * first one is kept in s->err; the statements after it are aborted). */
static int
one_result(struct send *s, PGresult *res, int *r)
{
	switch (PQresultStatus(res)) {
	case PGRES_PIPELINE_SYNC:
		PQclear(res);
		return 1;
	case PGRES_COMMAND_OK:
	case PGRES_PIPELINE_ABORTED:
		PQclear(res);
		return 0;
	default:
		if (*r == APITOKEN_OK)
			*r = fleet_result(s->f, res, PGRES_COMMAND_OK, s->err,
			    s->errlen);	/* clears res */
		else
			PQclear(res);
		return 0;
	}
}

/* Sync and read every result of the statements queued since the last. */
static int
drain(struct send *s)
{
	PGresult *res;
	int r = APITOKEN_OK, nulls = 0;

	if (s->queued == 0)
		return APITOKEN_OK;
	s->queued = 0;
	if (PQpipelineSync(s->f->conn) != 1)
		return fleet_result(s->f, NULL, PGRES_COMMAND_OK, s->err,
		    s->errlen);
	for (;;) {
		if ((res = PQgetResult(s->f->conn)) == NULL) {
			/* one ends each statement's results; two in a row:
			 * the connection is gone */
			if (++nulls > 1)
				return r != APITOKEN_OK ? r : fleet_result(s->f,
				    NULL, PGRES_COMMAND_OK, s->err, s->errlen);
			continue;
		}
		nulls = 0;
		if (one_result(s, res, &r) == 1)
			return r;
	}
}

static int
queue(struct send *s, const char *sql, int n, const char *const *p)
{
	if (PQsendQueryParams(s->f->conn, sql, n, NULL, p, NULL, NULL, 0) !=
	    1)
		return fleet_result(s->f, NULL, PGRES_COMMAND_OK, s->err,
		    s->errlen);
	if (++s->queued >= PIPE_CHUNK)
		return drain(s);
	return APITOKEN_OK;
}

static int
send_upsert(struct send *s, const struct apitoken_record *rec)
{
	const char *p[9];
	char *line = NULL;
	size_t len = 0;
	int r;

	if ((r = apitoken_record_format(rec, &line, &len)) != APITOKEN_OK) {
		(void)snprintf(s->err, s->errlen, "token %s: %s", rec->id,
		    apitoken_strerror(r));
		return r;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	p[0] = rec->id, p[1] = rec->user, p[2] = rec->label;
	p[3] = apitoken_status_str(rec->status), p[4] = rec->parent;
	p[5] = line, p[6] = s->who->actor, p[7] = s->who->host;
	p[8] = s->who->action;
	r = queue(s, upsert_sql, 9, p);	/* libpq copied the values */
	free(line);
	return r;
}

static int
send_delete(struct send *s, const char *id)
{
	const char *p[4] = { id, s->who->actor, s->who->host,
	    s->who->action };

	return queue(s, delete_sql, 4, p);
}

/* apitoken_change_fn: the changes of this pass. */
static int
send_change(const char *id, const struct apitoken_record *rec, void *ctx)
{
	struct send *s = ctx;
	int pass = rec == NULL ? 0 : rec->status == APITOKEN_REVOKED ? 1 : 2;

	if (pass != s->pass)
		return 0;
	s->n++;
	return rec == NULL ? send_delete(s, id) : send_upsert(s, rec);
}

/* Every change, in the three passes, through the pipeline. */
static int
send_all(struct send *s, struct apitoken_txn *txn)
{
	int r = APITOKEN_OK, d;

	if (PQenterPipelineMode(s->f->conn) != 1)
		return fleet_result(s->f, NULL, PGRES_COMMAND_OK, s->err,
		    s->errlen);
	for (s->pass = 0; s->pass < 3 && r == APITOKEN_OK; s->pass++)
		r = apitoken_txn_changes(txn, send_change, s);
	d = drain(s);
	if (r == APITOKEN_OK)
		r = d;
	if (PQexitPipelineMode(s->f->conn) != 1 && r == APITOKEN_OK)
		r = fleet_result(s->f, NULL, PGRES_COMMAND_OK, s->err,
		    s->errlen);
	return r;
}

int
fleet_write_commit(struct fleet *f, struct apitoken_txn *txn,
    const struct fleet_who *who, size_t *n, char *err, size_t errlen)
{
	struct send s = { f, who, 0, 0, 0, err, errlen };
	int r;

	*n = 0;
	r = send_all(&s, txn);
	if (r == APITOKEN_OK)
		r = fleet_exec(f, prune_sql, err, errlen);
	if (r == APITOKEN_OK)
		r = commit(f, err, errlen);
	if (r != APITOKEN_OK) {
		fleet_rollback(f);
		return r;
	}
	*n = s.n;
	return APITOKEN_OK;
}
