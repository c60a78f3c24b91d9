/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tf.c - the PostgreSQL fixture (tf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tf.h"

#define TF_TEMPLATE BUILD_DIR "/pg-template"

/* Debian's server binaries: /usr/lib/postgresql/<major>/bin/<prog>. */
static int
pg_bin(const char *prog, char *buf, size_t size)
{
	char pat[128];
	glob_t g;
	int found = 0;

	(void)snprintf(pat, sizeof(pat), "/usr/lib/postgresql/*/bin/%s", prog);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		(void)snprintf(buf, size, "%s", g.gl_pathv[g.gl_pathc - 1]);
		found = 1;
	}
	globfree(&g);
	return found;
}

/* Run argv as the user postgres; its exit status, output in *out. */
static int
as_postgres(const char *const *argv, char **out, int timeout_ms)
{
	const char *full[28];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	size_t i, n = 0;
	int st;

	full[n++] = "runuser";
	full[n++] = "-u";
	full[n++] = "postgres";
	full[n++] = "--";
	full[n++] = "env";	/* from /: our cwd may be a 0700 clone */
	full[n++] = "-C";
	full[n++] = "/";
	for (i = 0; argv[i] != NULL && n < 27; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	c.argv = full;
	c.search_path = 1;
	c.merge_err = 1;
	c.timeout_ms = timeout_ms;
	st = tl_run(&c, &p);
	if (st != 0)
		fprintf(stderr, "tf: %s exited %d: %s\n", argv[0], st, p.out);
	if (out != NULL) {
		*out = p.out;
		p.out = NULL;
	}
	tl_proc_free(&p);
	return st;
}

static void
chown_postgres(const char *path)
{
	struct passwd *pw = getpwnam("postgres");

	if (pw == NULL || chown(path, pw->pw_uid, pw->pw_gid) != 0)
		tl_die("tf: chown %s to postgres: %s", path, strerror(errno));
}

/* Run argv as root (ourselves): 0 or its exit status, said on stderr. */
static int
as_root(const char *const *argv)
{
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	int st;

	c.argv = argv;
	c.search_path = 1;
	c.merge_err = 1;
	c.timeout_ms = 180000;
	st = tl_run(&c, &p);
	if (st != 0)
		fprintf(stderr, "tf: %s exited %d: %s\n", argv[0], st, p.out);
	tl_proc_free(&p);
	return st;
}

/* The template cluster, made once per build dir (under a lock: tests
 * run in parallel).  initdb runs as postgres in a temp dir, since the
 * build dir may sit in a clone no other user can enter (0700); root
 * copies the cluster in and out, keeping its owner. */
static void
make_template(void)
{
	char initdb[256], tmp[256], data[300];
	struct stat st;
	int fd;

	if (!pg_bin("initdb", initdb, sizeof(initdb)))
		tl_die("tf: no initdb");
	fd = open(TF_TEMPLATE ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0)
		tl_die("tf: lock %s.lock: %s", TF_TEMPLATE, strerror(errno));
	if (stat(TF_TEMPLATE "/PG_VERSION", &st) == 0) {
		close(fd);
		return;
	}
	tl_tmpdir(tmp, sizeof(tmp), "tf-initdb");
	chown_postgres(tmp);
	(void)snprintf(data, sizeof(data), "%s/data", tmp);
	{
		const char *argv[] = { initdb, "-D", data, "-U", "postgres",
		    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
		    "--no-sync", NULL };
		if (as_postgres(argv, NULL, 180000) != 0)
			tl_die("tf: initdb failed");
	}
	(void)tl_rmrf(TF_TEMPLATE ".new");
	{
		const char *argv[] = { "cp", "-a", data, TF_TEMPLATE ".new",
		    NULL };
		if (as_root(argv) != 0)
			tl_die("tf: copy of the new template failed");
	}
	if (rename(TF_TEMPLATE ".new", TF_TEMPLATE) != 0)
		tl_die("tf: rename %s.new: %s", TF_TEMPLATE, strerror(errno));
	(void)tl_rmrf(tmp);
	close(fd);
}

static void
pg_ctl_start(struct tf_pg *pg)
{
	char pgctl[256], opts[512], log[320];
	const char *argv[] = { pgctl, "-D", pg->data, "-l", log, "-w",
	    "-t", "120", "-o", opts, "start", NULL };

	if (!pg_bin("pg_ctl", pgctl, sizeof(pgctl)))
		tl_die("tf: no pg_ctl");
	(void)snprintf(log, sizeof(log), "%s/server.log", pg->dir);
	(void)snprintf(opts, sizeof(opts), "-k %s -c listen_addresses= "
	    "-p 5432 -c fsync=off -c synchronous_commit=off "
	    "-c full_page_writes=off -c max_connections=200", pg->dir);
	if (as_postgres(argv, NULL, 180000) != 0)
		tl_die("tf: the server did not start (see %s)", log);
	pg->running = 1;
}

/* Servers still running when the test process exits (an assertion
 * failed before tf_pg_stop): stopped then, so none outlives its test. */
static struct tf_pg *live[8];

static void
stop_live(void)
{
	size_t i;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] != NULL && live[i]->running)
			tf_pg_pause(live[i]);
}

static void
track(struct tf_pg *pg, struct tf_pg *with)
{
	static int registered;
	size_t i;

	if (!registered && atexit(stop_live) == 0)
		registered = 1;
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == pg) {
			live[i] = with;
			return;
		}
}

struct tf_pg *
tf_pg_start(void)
{
	char initdb[256], *out = NULL;
	struct tf_pg *pg;

	TL_NEED_ROOT("PostgreSQL runs as the user postgres");
	if (!pg_bin("initdb", initdb, sizeof(initdb)) ||
	    getpwnam("postgres") == NULL)
		TL_SKIP("no PostgreSQL server (Debian package postgresql)");
	make_template();
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		tl_die("tf: out of memory");
	tl_tmpdir(pg->dir, sizeof(pg->dir), "tf-pg");
	chown_postgres(pg->dir);
	(void)snprintf(pg->data, sizeof(pg->data), "%s/data", pg->dir);
	{
		const char *argv[] = { "cp", "-a", TF_TEMPLATE, pg->data,
		    NULL };
		if (as_root(argv) != 0)
			tl_die("tf: copy of the template failed");
	}
	pg_ctl_start(pg);
	track(NULL, pg);
	(void)snprintf(pg->conninfo, sizeof(pg->conninfo),
	    "host=%s port=5432 dbname=postgres user=postgres", pg->dir);
	if (tf_psql(pg, &out, "CREATE DATABASE apitoken") != 0)
		tl_die("tf: CREATE DATABASE failed: %s", out ? out : "");
	free(out);
	(void)snprintf(pg->conninfo, sizeof(pg->conninfo),
	    "host=%s port=5432 dbname=apitoken user=postgres", pg->dir);
	return pg;
}

void
tf_pg_pause(struct tf_pg *pg)
{
	char pgctl[256];
	const char *argv[] = { pgctl, "-D", pg->data, "-w", "-t", "120",
	    "-m", "fast", "stop", NULL };

	if (!pg->running)
		return;
	if (!pg_bin("pg_ctl", pgctl, sizeof(pgctl)))
		tl_die("tf: no pg_ctl");
	if (as_postgres(argv, NULL, 180000) != 0)
		tl_die("tf: the server did not stop");
	pg->running = 0;
}

void
tf_pg_resume(struct tf_pg *pg)
{
	if (!pg->running)
		pg_ctl_start(pg);
}

void
tf_pg_stop(struct tf_pg *pg)
{
	if (pg == NULL)
		return;
	tf_pg_pause(pg);
	track(pg, NULL);
	(void)tl_rmrf(pg->dir);
	free(pg);
}

int
tf_psql(const struct tf_pg *pg, char **out, const char *sql)
{
	char psql[256];
	const char *argv[] = { psql, "-X", "-A", "-t", "-q", "-v",
	    "ON_ERROR_STOP=1", "-d", pg->conninfo, "-c", sql, NULL };

	if (!pg_bin("psql", psql, sizeof(psql)))
		(void)snprintf(psql, sizeof(psql), "psql");
	return as_postgres(argv, out, 120000);
}
