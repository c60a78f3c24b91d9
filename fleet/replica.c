/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica.c - what a replica (apitokend) asks of and tells the central
 * store: the changes after its cursor, applied to the local store in
 * one library transaction; the last uses it saw; its row in
 * apitoken_replicas.  fleet_snapshot, the full copy, is in snapshot.c.
 *
 * The cursor is (xid, seq) of the last change applied.  Only changes of
 * transactions below the snapshot's xmin are read: seq is drawn at
 * insert, so a transaction that inserted a lower seq may commit after
 * a higher one is read; none below xmin can still commit (fleet.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

#define Q_PRUNED "SELECT key, value FROM apitoken_meta " \
	"WHERE key IN ('pruned_xid', 'pruned_seq') UNION ALL " \
	"SELECT 'next_xid', pg_snapshot_xmax(pg_current_snapshot())::text"
#define Q_CHANGES "SELECT xid::text, seq, id, line FROM apitoken_changes " \
	"WHERE (xid, seq) > ($1::xid8, $2::bigint) " \
	"AND xid < pg_snapshot_xmin(pg_current_snapshot()) " \
	"ORDER BY xid, seq LIMIT $3"
/* The newest use wins; a use older than the one recorded changes
 * nothing (another host may have reported a later one). */
#define Q_USES "UPDATE apitoken_tokens AS t SET last_used = u.at, " \
	"last_host = $1 FROM (SELECT unnest($2::text[]) AS id, " \
	"unnest($3::bigint[]) AS at) AS u WHERE t.id = u.id " \
	"AND (t.last_used IS NULL OR t.last_used < u.at)"
#define Q_REPLICA "INSERT INTO apitoken_replicas " \
	"(host, cursor_xid, cursor_seq, last_sync, version) " \
	"VALUES ($1, $2::xid8, $3::bigint, now(), $4) " \
	"ON CONFLICT (host) DO UPDATE SET cursor_xid = EXCLUDED.cursor_xid, " \
	"cursor_seq = EXCLUDED.cursor_seq, last_sync = EXCLUDED.last_sync, " \
	"version = EXCLUDED.version"

/* A decimal text from the server into *v: 0, or -1. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
parse_i64(const char *s, int64_t *v)
{
	uint64_t u;

	if (parse_u64(s, &u) != 0 || u > INT64_MAX)
		return -1;
	*v = (int64_t)u;
	return 0;
}

/*
 * FLEET_ERR_SNAPSHOT if cur is at or below the newest change pruned, or
 * ahead of the server's next transaction id (xmax): a change taken was
 * below xmin, so on the same server cur.xid < xmax; a snapshot's cursor
 * (xmin, 0) may equal xmax.  A server where that does not hold (a
 * failover to a standby that had not received the last commits, a
 * restore) would hand out the ids up to cur.xid again, and their
 * changes would be skipped.
 */
static int
check_pruned(struct fleet *f, const struct fleet_cursor *cur, char *err,
    size_t errlen)
{
	PGresult *res = PQexec(f->conn, Q_PRUNED);
	struct fleet_cursor p = { 0, 0 };
	uint64_t next = 0;
	int i, r;

	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen)) != 0)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		const char *k = PQgetvalue(res, i, 0);
		const char *v = PQgetvalue(res, i, 1);

		if ((strcmp(k, "pruned_xid") == 0 && parse_u64(v, &p.xid)) ||
		    (strcmp(k, "pruned_seq") == 0 && parse_i64(v, &p.seq)) ||
		    (strcmp(k, "next_xid") == 0 && parse_u64(v, &next))) {
			(void)snprintf(err, errlen, "PostgreSQL server at %s: "
			    "apitoken_meta %s is not a number", f->server, k);
			PQclear(res);
			return FLEET_ERR_SQL;
		}
	}
	PQclear(res);
	if (cur->xid > next || (cur->xid == next && cur->seq > 0)) {
		(void)snprintf(err, errlen, "cursor %" PRIu64 ":%" PRId64
		    " is ahead of the server's next transaction id %" PRIu64
		    " (a failover that lost commits, or a restore)", cur->xid,
		    cur->seq, next);
		return FLEET_ERR_SNAPSHOT;
	}
	if (p.xid == 0 && p.seq == 0)
		return APITOKEN_OK;	/* nothing pruned yet */
	if (cur->xid < p.xid || (cur->xid == p.xid && cur->seq <= p.seq)) {
		(void)snprintf(err, errlen, "cursor %" PRIu64 ":%" PRId64
		    " is older than the change log keeps", cur->xid, cur->seq);
		return FLEET_ERR_SNAPSHOT;
	}
	return APITOKEN_OK;
}

/* Up to max changes after cur, in one consistent snapshot. */
static int
fetch(struct fleet *f, const struct fleet_cursor *cur, size_t max,
    PGresult **resp, char *err, size_t errlen)
{
	char xid[24], seq[24], lim[24];
	const char *v[3] = { xid, seq, lim };
	PGresult *res;
	int r;

	*resp = NULL;
	(void)snprintf(xid, sizeof(xid), "%" PRIu64, cur->xid);
	(void)snprintf(seq, sizeof(seq), "%" PRId64, cur->seq);
	(void)snprintf(lim, sizeof(lim), "%zu", max);
	if ((r = fleet_exec(f, "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY", err, errlen)) != 0)
		return r;
	if ((r = check_pruned(f, cur, err, errlen)) == 0) {
		res = PQexecParams(f->conn, Q_CHANGES, 3, NULL, v, NULL, NULL,
		    0);
		r = fleet_result(f, res, PGRES_TUPLES_OK, err, errlen);
		if (r == 0)
			*resp = res;
	}
	if (r == 0 && (r = fleet_exec(f, "COMMIT", err, errlen)) != 0) {
		PQclear(*resp);
		*resp = NULL;
	}
	if (r != 0 && PQstatus(f->conn) == CONNECTION_OK)
		PQclear(PQexec(f->conn, "ROLLBACK"));
	return r;
}

/* Row i's line into a record whose id is the row's. */
static int
row_record(const PGresult *res, int i, struct apitoken_record **recp,
    char *err, size_t errlen)
{
	const char *id = PQgetvalue(res, i, 2);
	char msg[256];
	int r;

	r = apitoken_record_parse(PQgetvalue(res, i, 3),
	    (size_t)PQgetlength(res, i, 3), recp, msg, sizeof(msg));
	if (r == APITOKEN_OK && strcmp((*recp)->id, id) != 0) {
		(void)snprintf(msg, sizeof(msg), "the line is token %s's",
		    (*recp)->id);
		apitoken_record_free(*recp);
		*recp = NULL;
		r = APITOKEN_ERR_STORE_FORMAT;
	}
	if (r != APITOKEN_OK)
		(void)snprintf(err, errlen, "apitoken_changes seq %s (token "
		    "%.*s): %s", PQgetvalue(res, i, 1), APITOKEN_ID_LEN, id,
		    msg);
	return r;
}

/* One change, idempotently: a deletion of a missing record and an
 * upsert of one the snapshot already had are no-ops or replacements.
 * Whether the record exists is the library's own check in replace and
 * delete (no parse of the original, as apitoken_txn_find would do). */
static int
apply_one(struct apitoken_txn *txn, const PGresult *res, int i, char *err,
    size_t errlen)
{
	struct apitoken_record *rec = NULL;
	int r;

	if (PQgetisnull(res, i, 3)) {
		r = apitoken_txn_delete(txn, PQgetvalue(res, i, 2), err,
		    errlen);
		return r == APITOKEN_ERR_NOT_FOUND ? APITOKEN_OK : r;
	}
	if ((r = row_record(res, i, &rec, err, errlen)) != 0)
		return r;
	r = apitoken_txn_replace(txn, rec, err, errlen);
	if (r == APITOKEN_ERR_NOT_FOUND)
		r = apitoken_txn_insert(txn, rec, err, errlen);
	apitoken_record_free(rec);
	return r;
}

/* The (xid, seq) of row i. */
static int
row_cursor(const PGresult *res, int i, struct fleet_cursor *cur)
{
	return parse_u64(PQgetvalue(res, i, 0), &cur->xid) == 0 &&
	    parse_i64(PQgetvalue(res, i, 1), &cur->seq) == 0 ? 0 : -1;
}

/* Every row of res in one library transaction; *cur moves to the last
 * one only once it is committed. */
static int
apply(const struct apitoken_config *cfg, const PGresult *res,
    struct fleet_cursor *cur, char *err, size_t errlen)
{
	struct apitoken_txn *txn = NULL;
	struct fleet_cursor last;
	int i, n = PQntuples(res), r;

	if (n == 0)
		return APITOKEN_OK;
	if (row_cursor(res, n - 1, &last) != 0) {
		(void)snprintf(err, errlen, "apitoken_changes: a cursor that "
		    "is not a number");
		return FLEET_ERR_SQL;
	}
	r = apitoken_txn_begin(cfg, APITOKEN_TXN_MIRROR, &txn, err, errlen);
	for (i = 0; r == APITOKEN_OK && i < n; i++)
		r = apply_one(txn, res, i, err, errlen);
	if (r == APITOKEN_OK)
		r = apitoken_txn_commit(txn, err, errlen);
	apitoken_txn_free(txn);
	if (r == APITOKEN_OK)
		*cur = last;
	return r;
}

int
fleet_catch_up(struct fleet *f, const struct apitoken_config *cfg,
    struct fleet_cursor *cur, size_t max, size_t *n, char *err,
    size_t errlen)
{
	PGresult *res = NULL;
	int r;

	*n = 0;
	if (max == 0 || max > INT32_MAX)
		return APITOKEN_ERR_INVALID;
	if ((r = fetch(f, cur, max, &res, err, errlen)) != 0)
		return r;
	if ((r = apply(cfg, res, cur, err, errlen)) == 0)
		*n = (size_t)PQntuples(res);
	PQclear(res);
	return r;
}

/* ids and times as array literals: ids are base62, times digits. */
static int
use_arrays(const struct fleet_use *u, size_t n, char **ids, char **ats)
{
	size_t i, o = 0, t = 0;
	char *a, *b;

	*ids = *ats = NULL;
	if (n > SIZE_MAX / 32 || (a = malloc(n * 16 + 3)) == NULL)
		return APITOKEN_ERR_NOMEM;
	if ((b = malloc(n * 22 + 3)) == NULL) {
		free(a);
		return APITOKEN_ERR_NOMEM;
	}
	a[o++] = '{';
	b[t++] = '{';
	for (i = 0; i < n; i++) {
		if (apitoken_id_valid(u[i].id) != 0)
			continue;	/* never: ids come from the store */
		o += (size_t)sprintf(a + o, "%s%s", o > 1 ? "," : "", u[i].id);
		t += (size_t)sprintf(b + t, "%s%" PRId64, t > 1 ? "," : "",
		    u[i].when);
	}
	(void)strcpy(a + o, "}");
	(void)strcpy(b + t, "}");
	*ids = a;
	*ats = b;
	return APITOKEN_OK;
}

int
fleet_report_uses(struct fleet *f, const char *host,
    const struct fleet_use *u, size_t n, char *err, size_t errlen)
{
	const char *v[3];
	char *ids, *ats;
	PGresult *res;
	int r;

	if (n == 0)
		return APITOKEN_OK;
	if ((r = use_arrays(u, n, &ids, &ats)) != 0)
		return r;
	v[0] = host, v[1] = ids, v[2] = ats;
	res = PQexecParams(f->conn, Q_USES, 3, NULL, v, NULL, NULL, 0);
	free(ids);
	free(ats);
	if ((r = fleet_result(f, res, PGRES_COMMAND_OK, err, errlen)) != 0)
		return r;
	PQclear(res);
	return APITOKEN_OK;
}

int
fleet_replica_report(struct fleet *f, const char *host,
    const struct fleet_cursor *cur, const char *version, char *err,
    size_t errlen)
{
	char xid[24], seq[24];
	const char *v[4] = { host, xid, seq, version };
	PGresult *res;
	int r;

	(void)snprintf(xid, sizeof(xid), "%" PRIu64, cur->xid);
	(void)snprintf(seq, sizeof(seq), "%" PRId64, cur->seq);
	res = PQexecParams(f->conn, Q_REPLICA, 4, NULL, v, NULL, NULL, 0);
	if ((r = fleet_result(f, res, PGRES_COMMAND_OK, err, errlen)) != 0)
		return r;
	PQclear(res);
	return APITOKEN_OK;
}
