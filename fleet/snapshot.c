/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapshot.c - the whole central store into a local store file, through
 * the library's one parser (apitoken_record_parse) and its transaction
 * (APITOKEN_TXN_EMPTY | MIRROR | CREATE: the file is replaced by what
 * was read, atomically).  Rows come through a server-side cursor in
 * batches, so a million-token store never sits in one result.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

#define BATCH "5000"

/* The xmin of the transaction's snapshot: its first statement. */
static int
snapshot_xmin(struct fleet *f, struct fleet_cursor *cur, char *err,
    size_t errlen)
{
	PGresult *res;
	char *end;
	int r;

	res = PQexec(f->conn, "SELECT pg_snapshot_xmin(pg_current_snapshot())");
	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen)) != 0)
		return r;
	cur->xid = strtoull(PQgetvalue(res, 0, 0), &end, 10);
	cur->seq = 0;
	r = *end == '\0' ? APITOKEN_OK : FLEET_ERR_SQL;
	if (r != APITOKEN_OK)
		(void)snprintf(err, errlen, "PostgreSQL server at %s: "
		    "snapshot xmin '%.32s' is not a number", f->server,
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

/* Row i of res (id, line) into txn. */
static int
put_row(struct fleet *f, PGresult *res, int i, struct apitoken_txn *txn,
    char *err, size_t errlen)
{
	struct apitoken_record *rec = NULL;
	const char *id = PQgetvalue(res, i, 0);
	char msg[256];
	int r;

	r = apitoken_record_parse(PQgetvalue(res, i, 1),
	    (size_t)PQgetlength(res, i, 1), &rec, msg, sizeof(msg));
	if (r == APITOKEN_OK && strcmp(rec->id, id) != 0) {
		(void)snprintf(msg, sizeof(msg), "its line holds id %s",
		    rec->id);
		r = APITOKEN_ERR_STORE_FORMAT;
	}
	if (r == APITOKEN_OK)
		r = apitoken_txn_insert(txn, rec, msg, sizeof(msg));
	apitoken_record_free(rec);
	if (r != APITOKEN_OK)
		(void)snprintf(err, errlen, "PostgreSQL server at %s: "
		    "apitoken_tokens row %.32s: %s", f->server, id, msg);
	return r;
}

/* Every row into txn, through the cursor c. */
static int
read_rows(struct fleet *f, struct apitoken_txn *txn, char *err,
    size_t errlen)
{
	PGresult *res;
	int i, n, r;

	if ((r = fleet_exec(f, "DECLARE apitoken_snap NO SCROLL CURSOR FOR "
	    "SELECT id, line FROM apitoken_tokens", err, errlen)) != 0)
		return r;
	do {
		res = PQexec(f->conn, "FETCH " BATCH " FROM apitoken_snap");
		if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err,
		    errlen)) != 0)
			return r;
		n = PQntuples(res);
		for (i = 0; i < n && r == APITOKEN_OK; i++)
			r = put_row(f, res, i, txn, err, errlen);
		PQclear(res);
	} while (r == APITOKEN_OK && n > 0);
	if (r == APITOKEN_OK)
		r = fleet_exec(f, "CLOSE apitoken_snap", err, errlen);
	return r;
}

int
fleet_snapshot(struct fleet *f, const struct apitoken_config *cfg,
    struct fleet_cursor *cur, char *err, size_t errlen)
{
	struct apitoken_txn *txn = NULL;
	int own = PQtransactionStatus(f->conn) == PQTRANS_IDLE;
	int r;

	if (own && (r = fleet_exec(f, "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY", err, errlen)) != 0)
		return r;
	if (own && cur != NULL &&
	    (r = snapshot_xmin(f, cur, err, errlen)) != 0)
		goto out;
	r = apitoken_txn_begin(cfg, APITOKEN_TXN_EMPTY | APITOKEN_TXN_MIRROR |
	    APITOKEN_TXN_CREATE, &txn, err, errlen);
	if (r == APITOKEN_OK)
		r = read_rows(f, txn, err, errlen);
	if (r == APITOKEN_OK && own)
		r = fleet_exec(f, "COMMIT", err, errlen);
	if (r == APITOKEN_OK)
		r = apitoken_txn_commit(txn, err, errlen);
out:
	apitoken_txn_free(txn);
	if (r != APITOKEN_OK && own)
		fleet_rollback(f);
	return r;
}
