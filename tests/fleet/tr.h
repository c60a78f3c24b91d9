/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tr.h - helpers of the replica tests (test_replica*.c): a PostgreSQL
 * server with the schema (tf.h), apitokend replicas of it (td.h), and
 * token rows written straight into apitoken_tokens with libpq, each
 * line made by the library's one serializer (apitoken_record_format).
 */
#ifndef TESTS_FLEET_TR_H
#define TESTS_FLEET_TR_H

#include <libpq-fe.h>

#include "apitoken.h"
#include "daemon/td.h"
#include "tf.h"

struct tr_tok {
	char id[APITOKEN_ID_LEN + 1];
	char token[APITOKEN_TOKEN_MAX + 1];	/* the secret token */
	struct apitoken_record *rec;
};

/* A server with the schema (fleet_schema_init). */
struct tf_pg *tr_pg(void);
/* A libpq connection to it (dies on failure). */
PGconn *tr_conn(const struct tf_pg *pg);
/* The YAML of a replica of pg named host, with extra (may be NULL);
 * no lockouts (tests poll with tokens that have not arrived yet). */
char *tr_yaml(const struct tf_pg *pg, const char *host, const char *extra);

/* A new active token of tl_user() labelled label (not yet in PG). */
void tr_tok_new(struct tr_tok *t, const char *label);
void tr_tok_free(struct tr_tok *t);
/* Insert t's row (in c's transaction, if one is open); dies on error. */
void tr_insert(PGconn *c, const struct tr_tok *t);
/* Revoke t and update its row. */
void tr_revoke(PGconn *c, struct tr_tok *t);
/* Run sql (no result expected); dies on error. */
void tr_exec(PGconn *c, const char *sql);

/* Poll td_verify of t on d until it gives want (up to ms): 1, else 0. */
int tr_wait_reason(const struct td *d, const struct tr_tok *t,
    enum apitoken_reason want, int ms);
/* d's replica state (dies if it cannot be read). */
void tr_state(const struct td *d, struct apitoken_replica_state *st);
/* Poll d's state until connected == want (up to ms): 1, else 0. */
int tr_wait_connected(const struct td *d, int want, int ms);
/* The number of records in d's store (dies if it does not open). */
size_t tr_store_count(const struct td *d);
/* tokenctl replica status [--json] on d's config: exit status, output. */
int tr_status(struct td *d, int json, char **out);

#endif
