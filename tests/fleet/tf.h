/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tf.h - a real PostgreSQL server for the fleet tests (tests/fleet/, the
 * test-fleet binary).  tf_pg_start() runs Debian's postgres as the
 * unprivileged user "postgres" in a fresh temp dir, listening only on a
 * Unix socket in that dir, with a database "apitoken"; tf_pg_stop()
 * stops it and removes the dir.  The cluster is copied from a template
 * made once per build dir by initdb (BUILD_DIR/pg-template), so a test
 * pays for a server start, not an initdb.  Needs root (CI runs as root)
 * and the postgresql package; skips otherwise.
 */
#ifndef TESTS_FLEET_TF_H
#define TESTS_FLEET_TF_H

#include <sys/types.h>

#include "tl.h"

struct tf_pg {
	char dir[256];		/* mkdtemp, owned by postgres */
	char data[300];		/* dir/data */
	char conninfo[512];	/* "host=DIR port=5432 dbname=apitoken
				   user=postgres" */
	int running;
};

/* Start a server (skips the test if root or postgres is missing; dies if
 * it does not answer within 60 s).  Free with tf_pg_stop. */
struct tf_pg *tf_pg_start(void);
/* Stop it (fast shutdown), keep the data: tf_pg_resume starts it again
 * on the same socket. */
void tf_pg_pause(struct tf_pg *pg);
void tf_pg_resume(struct tf_pg *pg);
/* Stop it if running and remove the dir. */
void tf_pg_stop(struct tf_pg *pg);
/* Run sql with psql (-X -A -t -v ON_ERROR_STOP=1) against the database
 * as the superuser; its exit status, stdout (malloc'ed) in *out if out
 * is not NULL. */
int tf_psql(const struct tf_pg *pg, char **out, const char *sql);

#endif
