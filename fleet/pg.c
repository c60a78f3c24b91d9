/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg.c - the connection to the fleet's PostgreSQL server, and the error
 * text every caller shows: it names the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

/* 1 if conninfo sets keyword (a string or URI, as libpq parses it). */
static int
conninfo_has(const char *conninfo, const char *keyword)
{
	PQconninfoOption *opts, *o;
	int has = 0;

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return 0;	/* PQconnectdbParams reports the error */
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			has = 1;
	PQconninfoFree(opts);
	return has;
}

/* "host:port", or the socket directory, for messages. */
static void
name_server(struct fleet *f, const char *conninfo)
{
	const char *host = PQhost(f->conn), *port = PQport(f->conn);

	if (host == NULL || host[0] == '\0') {
		(void)snprintf(f->server, sizeof(f->server), "%s", conninfo);
		return;
	}
	if (host[0] == '/')
		(void)snprintf(f->server, sizeof(f->server), "%s/.s.PGSQL.%s",
		    host, port != NULL ? port : "5432");
	else
		(void)snprintf(f->server, sizeof(f->server), "%s:%s", host,
		    port != NULL ? port : "5432");
}

/* libpq's message, first line only, without the trailing newline. */
static void
pq_message(const char *msg, char *buf, size_t buflen)
{
	size_t n = strcspn(msg, "\n");

	(void)snprintf(buf, buflen, "%.*s", (int)n, msg);
}

int
fleet_connect(const struct apitoken_config *cfg, const char *app,
    struct fleet **fp, char *err, size_t errlen)
{
	const char *conninfo = apitoken_config_pg_conninfo(cfg);
	const char *passfile = apitoken_config_pg_passfile(cfg);
	const char *kw[5], *val[5];
	struct fleet *f;
	char msg[256];
	int n = 0;

	*fp = NULL;
	if (conninfo == NULL) {
		(void)snprintf(err, errlen, "no postgresql in the config");
		return FLEET_ERR_CONNECT;
	}
	if (conninfo_has(conninfo, "password")) {
		(void)snprintf(err, errlen, "postgresql.conninfo: a password "
		    "does not belong in the config; use postgresql.passfile");
		return FLEET_ERR_CONNECT;
	}
	kw[n] = "dbname", val[n++] = conninfo;
	kw[n] = "application_name", val[n++] = app;
	if (passfile != NULL)
		kw[n] = "passfile", val[n++] = passfile;
	if (!conninfo_has(conninfo, "connect_timeout"))
		kw[n] = "connect_timeout", val[n++] = "5";
	kw[n] = NULL, val[n] = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return APITOKEN_ERR_NOMEM;
	f->conn = PQconnectdbParams(kw, val, 1);
	if (f->conn == NULL) {
		free(f);
		return APITOKEN_ERR_NOMEM;
	}
	name_server(f, conninfo);
	if (PQstatus(f->conn) != CONNECTION_OK) {
		pq_message(PQerrorMessage(f->conn), msg, sizeof(msg));
		(void)snprintf(err, errlen, "PostgreSQL server at %s: %s",
		    f->server, msg);
		fleet_close(f);
		return FLEET_ERR_CONNECT;
	}
	*fp = f;
	return APITOKEN_OK;
}

void
fleet_close(struct fleet *f)
{
	if (f == NULL)
		return;
	PQfinish(f->conn);
	free(f);
}

int
fleet_result(struct fleet *f, PGresult *res, ExecStatusType want,
    char *err, size_t errlen)
{
	char msg[256];

	if (res != NULL && PQresultStatus(res) == want)
		return APITOKEN_OK;
	if (res != NULL && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
		pq_message(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
		    msg, sizeof(msg));	/* without "ERROR:  " */
	else
		pq_message(res != NULL ? PQresultErrorMessage(res) :
		    PQerrorMessage(f->conn), msg, sizeof(msg));
	if (msg[0] == '\0')
		pq_message(PQerrorMessage(f->conn), msg, sizeof(msg));
	(void)snprintf(err, errlen, "PostgreSQL server at %s: %s", f->server,
	    msg);
	PQclear(res);
	return PQstatus(f->conn) == CONNECTION_OK ? FLEET_ERR_SQL :
	    FLEET_ERR_CONNECT;
}

int
fleet_exec(struct fleet *f, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(f->conn, sql);
	int r;

	if ((r = fleet_result(f, res, PGRES_COMMAND_OK, err, errlen)) != 0)
		return r;
	PQclear(res);
	return APITOKEN_OK;
}
