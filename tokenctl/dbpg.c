/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dbpg.c - db.c's store when the config has postgresql (fleet/fleet.h):
 * PostgreSQL is the store, the local file only apitokend's replica.
 *
 * A read is one SELECT of every row, each line parsed by the library.
 * A write is one PostgreSQL transaction holding the writers' advisory
 * lock: every row is read into a private store file (a 0700 temp dir),
 * the verb runs its unchanged logic on it through the library's own
 * transaction (every store rule, as for the file), and the changes that
 * transaction staged go back as rows with their audit rows before
 * COMMIT.  The private copy is never committed and is removed after.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "tokenctl.h"

struct ctl_pg {
	struct fleet *f;
	struct apitoken_config *copy;	/* ctl->cfg with the private store */
	char dir[64];			/* the private copy's directory */
};

/* Fleet-wide last use, by id in strcmp order (the rows' order). */
struct ctl_fleetuse {
	struct fleetuse {
		char id[APITOKEN_ID_LEN + 1];
		int64_t when;
		char *host;
	} *v;
	size_t n;
};

int
pg_mode(const struct ctl *ctl)
{
	return ctl->cfg != NULL && apitoken_config_pg_conninfo(ctl->cfg) !=
	    NULL;
}

/* A fleet error as tokenctl reports it: the server named, exit 4. */
static int
fleet_fail(int r, const char *what, const char *err)
{
	if (r == FLEET_ERR_CONNECT || r == FLEET_ERR_SCHEMA ||
	    r == FLEET_ERR_SQL || r == FLEET_ERR_SNAPSHOT) {
		if (what != NULL)
			ctl_err("%s: %s", what, err);
		else
			ctl_err("%s", err);
		return CTL_EXIT_STORE;
	}
	return ctl_lib_fail(r, what != NULL ? what : "PostgreSQL", err);
}

int
pg_connect(struct ctl *ctl, int check_schema, struct fleet **fp)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	*fp = NULL;
	r = fleet_connect(ctl->cfg, "tokenctl", fp, err, sizeof(err));
	if (r == APITOKEN_OK && check_schema)
		r = fleet_schema_check(*fp, err, sizeof(err));
	if (r != APITOKEN_OK) {
		fleet_close(*fp);
		*fp = NULL;
		return fleet_fail(r, NULL, err);
	}
	return CTL_EXIT_OK;
}

/* ------------------------------------------------------------- reads */

static void
fleetuse_add(struct ctl_fleetuse *u, const char *id, const char *when,
    const char *host)
{
	struct fleetuse *e;

	if (when[0] == '\0')
		return;
	u->v = xreallocarray(u->v, u->n + 1, sizeof(*u->v));
	e = &u->v[u->n++];
	(void)snprintf(e->id, sizeof(e->id), "%s", id);
	e->when = strtoll(when, NULL, 10);
	e->host = xstrdup(host);
}

static void
fleetuse_free(struct ctl_fleetuse *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		free(u->v[i].host);
	free(u->v);
	free(u);
}

/* Row i (id, line, last_used, last_host) into db and ctl's last use. */
static int
take_row(struct ctl *ctl, struct ctl_db *db, PGresult *res, int i,
    const char *server)
{
	struct apitoken_record *rec = NULL;
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_record_parse(PQgetvalue(res, i, 1),
	    (size_t)PQgetlength(res, i, 1), &rec, err, sizeof(err));
	if (r != APITOKEN_OK) {
		ctl_err("PostgreSQL server at %s: apitoken_tokens row %.32s: "
		    "%s", server, PQgetvalue(res, i, 0), err);
		return CTL_EXIT_STORE;
	}
	db_adopt(db, rec);
	fleetuse_add(ctl->fleetuse, rec->id, PQgetvalue(res, i, 2),
	    PQgetvalue(res, i, 3));
	return CTL_EXIT_OK;
}

int
pg_open(struct ctl *ctl, struct ctl_db *db)
{
	struct fleet *f = NULL;
	PGresult *res;
	char err[CTL_ERR_MAX] = "";
	int i, n, r;

	if ((r = pg_connect(ctl, 1, &f)) != CTL_EXIT_OK)
		return r;
	res = PQexec(f->conn, "SELECT id, line, last_used, "
	    "coalesce(last_host, '') FROM apitoken_tokens "
	    "ORDER BY id COLLATE \"C\"");
	if ((r = fleet_result(f, res, PGRES_TUPLES_OK, err,
	    sizeof(err))) != 0) {
		fleet_close(f);
		return fleet_fail(r, "cannot read the store", err);
	}
	fleetuse_free(ctl->fleetuse);
	ctl->fleetuse = xcalloc(1, sizeof(*ctl->fleetuse));
	n = PQntuples(res);
	for (i = 0, r = CTL_EXIT_OK; i < n && r == CTL_EXIT_OK; i++)
		r = take_row(ctl, db, res, i, f->server);
	PQclear(res);
	fleet_close(f);
	return r;
}

static int
cmp_use(const void *k, const void *e)
{
	return strcmp(k, ((const struct fleetuse *)e)->id);
}

int
db_lastuse(const struct ctl *ctl, const char *id, struct apitoken_lastuse *lu,
    char *host, size_t hostlen)
{
	const struct fleetuse *e = NULL;
	char err[CTL_ERR_MAX];
	int r;

	host[0] = '\0';
	if (ctl->self_lu != NULL)	/* a user's: what apitokend sent */
		return self_lastuse(ctl, id, lu) == 0 ? APITOKEN_OK :
		    APITOKEN_ERR_NOT_FOUND;
	r = apitoken_lastuse_get(ctl->cfg, id, lu, err, sizeof(err));
	if (ctl->fleetuse == NULL)
		return r;
	if (r != APITOKEN_OK)
		memset(lu, 0, sizeof(*lu));
	if (ctl->fleetuse->n > 0)
		e = bsearch(id, ctl->fleetuse->v, ctl->fleetuse->n,
		    sizeof(*e), cmp_use);
	if (lu->when != 0 && (e == NULL || lu->when > e->when)) {
		/* used here since this host last reported */
		(void)snprintf(host, hostlen, "%s",
		    apitoken_config_host_name(ctl->cfg));
	} else if (e != NULL) {
		memset(lu, 0, sizeof(*lu));
		lu->when = e->when;
		(void)snprintf(host, hostlen, "%s", e->host);
	}
	return APITOKEN_OK;
}

void
db_fleetuse_free(struct ctl *ctl)
{
	fleetuse_free(ctl->fleetuse);
	ctl->fleetuse = NULL;
}

/* ------------------------------------------------------------ writes */

/* Remove the private copy (store, its lock, a killed writer's temp). */
static void
rm_private(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}

void
pg_free(struct ctl_pg *pg)
{
	if (pg == NULL)
		return;
	if (pg->f != NULL)
		fleet_rollback(pg->f);
	fleet_close(pg->f);
	apitoken_config_free(pg->copy);
	rm_private(pg->dir);
	free(pg);
}

/*
 * Remove the private copies of writers that died (killed, or the host
 * lost power under a /tmp on disk): /tmp/tokenctl.PID.XXXXXX of a PID
 * that no longer runs, a directory of ours with no access for others.
 * A live writer's PID answers kill(pid, 0), so its copy stays.
 */
static void
sweep_dead(void)
{
	struct dirent *de;
	struct stat st;
	char path[sizeof(((struct ctl_pg *)0)->dir)], x[8];
	long pid;
	DIR *d;

	if ((d = opendir("/tmp")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "tokenctl.%ld.%7s", &pid, x) != 2 ||
		    pid <= 0 || pid == (long)getpid() || strlen(x) != 6 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "/tmp/%s",
		    de->d_name) >= sizeof(path) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 077) != 0)
			continue;
		rm_private(path);
	}
	closedir(d);
}

/* The locked transaction and the private copy of every row. */
static int
pg_copy(struct ctl *ctl, struct ctl_pg *pg)
{
	char err[CTL_ERR_MAX] = "", path[96];
	int r;

	if ((r = fleet_begin_locked(pg->f, err, sizeof(err))) != 0)
		return fleet_fail(r, "cannot open the store for writing", err);
	sweep_dead();
	(void)snprintf(pg->dir, sizeof(pg->dir), "/tmp/tokenctl.%ld.XXXXXX",
	    (long)getpid());
	if (mkdtemp(pg->dir) == NULL) {
		ctl_err("cannot create a private directory in /tmp: %s",
		    strerror(errno));
		pg->dir[0] = '\0';
		return CTL_EXIT_SYSTEM;
	}
	(void)snprintf(path, sizeof(path), "%s/store", pg->dir);
	if ((r = apitoken_config_clone_store(ctl->cfg, path,
	    &pg->copy)) != 0)
		return ctl_lib_fail(r, "config", NULL);
	if ((r = fleet_snapshot(pg->f, pg->copy, NULL, err,
	    sizeof(err))) != 0)
		return fleet_fail(r, "cannot read the store", err);
	return CTL_EXIT_OK;
}

int
pg_begin(struct ctl *ctl, int flags, struct ctl_db *db)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	db->pg = xcalloc(1, sizeof(*db->pg));
	if ((r = pg_connect(ctl, 1, &db->pg->f)) != CTL_EXIT_OK ||
	    (r = pg_copy(ctl, db->pg)) != CTL_EXIT_OK)
		return r;
	r = apitoken_txn_begin(db->pg->copy, flags & ~APITOKEN_TXN_CREATE,
	    &db->txn, err, sizeof(err));
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot open the store for writing",
		    err);
	return CTL_EXIT_OK;
}

int
pg_commit(struct ctl *ctl, struct ctl_db *db)
{
	struct fleet_who who;
	char err[CTL_ERR_MAX] = "";
	size_t n;
	int r;

	who.actor = ctl->actor;
	who.host = apitoken_config_host_name(ctl->cfg);
	who.action = ctl->verb != NULL ? ctl->verb : "tokenctl";
	r = fleet_write_commit(db->pg->f, db->txn, &who, &n, err,
	    sizeof(err));
	if (r != APITOKEN_OK)
		return fleet_fail(r, "cannot write the store", err);
	return CTL_EXIT_OK;
}
