/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tr.c - the replica tests' helpers (tr.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "fleet.h"
#include "tr.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

PGconn *
tr_conn(const struct tf_pg *pg)
{
	PGconn *c = PQconnectdb(pg->conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		tl_die("connect %s: %s", pg->conninfo, PQerrorMessage(c));
	return c;
}

struct tf_pg *
tr_pg(void)
{
	struct tf_pg *pg = tf_pg_start();
	struct fleet f = { 0 };
	char err[512];

	f.conn = tr_conn(pg);
	snprintf(f.server, sizeof(f.server), "%.100s", pg->dir);
	if (fleet_schema_init(&f, err, sizeof(err)) != 0)
		tl_die("fleet_schema_init: %s", err);
	PQfinish(f.conn);
	return pg;
}

char *
tr_yaml(const struct tf_pg *pg, const char *host, const char *extra)
{
	/* the tests poll with tokens not yet replicated: no lockout */
	return tl_fmt("postgresql:\n  conninfo: \"%s\"\nhost_name: %s\n"
	    "max_failures: 1000000\n%s", pg->conninfo, host,
	    extra != NULL ? extra : "");
}

static void
random_b62(char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = b62[tl_rand() % 62];
	out[n] = '\0';
}

void
tr_tok_new(struct tr_tok *t, const char *label)
{
	char secret[33], hash[72];
	struct apitoken_record *r = apitoken_record_new();
	int64_t now = (int64_t)time(NULL);

	cr_assert_not_null(r);
	random_b62(t->id, APITOKEN_ID_LEN);
	random_b62(secret, 32);
	tl_token_build(APITOKEN_DEFAULT_PREFIX, t->id, secret, t->token,
	    sizeof(t->token));
	tl_sha256_hash(t->id, secret, hash);
	memcpy(r->id, t->id, sizeof(r->id));
	r->status = APITOKEN_ACTIVE;
	cr_assert_eq(apitoken_record_set(&r->user, tl_user()), 0);
	cr_assert_eq(apitoken_record_set(&r->hash, hash), 0);
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->created_by, "test"), 0);
	r->created = r->updated = now;
	t->rec = r;
}

void
tr_tok_free(struct tr_tok *t)
{
	apitoken_record_free(t->rec);
	t->rec = NULL;
}

static void
exec_params(PGconn *c, const char *sql, int n, const char *const *v)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		tl_die("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

void
tr_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);	/* several statements allowed */

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		tl_die("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* The record's line, without its newline. */
static char *
line_of(const struct apitoken_record *r)
{
	char *line = NULL;
	size_t len = 0;

	cr_assert_eq(apitoken_record_format(r, &line, &len), 0);
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	return line;
}

void
tr_insert(PGconn *c, const struct tr_tok *t)
{
	char *line = line_of(t->rec);
	const char *v[5] = { t->id, t->rec->user, t->rec->label,
		apitoken_status_str(t->rec->status), line };

	exec_params(c, "INSERT INTO apitoken_tokens (id, user_name, label, "
	    "status, line) VALUES ($1, $2, $3, $4, $5)", 5, v);
	free(line);
}

void
tr_revoke(PGconn *c, struct tr_tok *t)
{
	int64_t now = (int64_t)time(NULL);
	char *line;
	const char *v[2];

	t->rec->status = APITOKEN_REVOKED;
	t->rec->revoked_at = t->rec->updated = now;
	cr_assert_eq(apitoken_record_set(&t->rec->revoke_reason, "test"), 0);
	line = line_of(t->rec);
	v[0] = t->id;
	v[1] = line;
	exec_params(c, "UPDATE apitoken_tokens SET status = 'revoked', "
	    "line = $2 WHERE id = $1", 2, v);
	free(line);
}

int
tr_wait_reason(const struct td *d, const struct tr_tok *t,
    enum apitoken_reason want, int ms)
{
	int64_t end = tl_now_ms() + ms;

	for (;;) {
		if (td_verify(d, tl_user(), "sshd", NULL, t->token, NULL,
		    NULL) == want)
			return 1;
		if (tl_now_ms() > end)
			return 0;
		nap(20);
	}
}

static struct apitoken_config *
config_of(const struct td *d)
{
	struct apitoken_config *cfg = NULL;
	char err[512];

	if (apitoken_config_load(d->conf, &cfg, err, sizeof(err)) != 0)
		tl_die("%s", err);
	return cfg;
}

void
tr_state(const struct td *d, struct apitoken_replica_state *st)
{
	struct apitoken_config *cfg = config_of(d);
	char err[512];
	int r;

	r = apitoken_replica_state_read(cfg, st, err, sizeof(err));
	apitoken_config_free(cfg);
	if (r != 0)
		tl_die("replica state of %s: %s", d->conf, err);
}

int
tr_wait_connected(const struct td *d, int want, int ms)
{
	struct apitoken_config *cfg = config_of(d);
	struct apitoken_replica_state st;
	int64_t end = tl_now_ms() + ms;
	char err[512];
	int ok = 0;

	while (!ok && tl_now_ms() <= end) {
		ok = apitoken_replica_state_read(cfg, &st, err,
		    sizeof(err)) == 0 && st.connected == want;
		if (!ok)
			nap(20);
	}
	apitoken_config_free(cfg);
	return ok;
}

size_t
tr_store_count(const struct td *d)
{
	struct apitoken_config *cfg = config_of(d);
	struct apitoken_store *s = NULL;
	char err[512];
	size_t n;

	if (apitoken_store_open(cfg, &s, err, sizeof(err)) != 0)
		tl_die("store of %s: %s", d->conf, err);
	n = apitoken_store_count(s);
	apitoken_store_close(s);
	apitoken_config_free(cfg);
	return n;
}

int
tr_status(struct td *d, int json, char **out)
{
	return json ? td_ctl(d, out, "replica", "status", "--json", NULL) :
	    td_ctl(d, out, "replica", "status", NULL);
}
