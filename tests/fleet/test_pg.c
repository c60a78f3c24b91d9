/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pg.c - the PostgreSQL fixture itself: a server starts, answers,
 * stops and starts again with its data.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tf.h"

static void
init(void)
{
	tl_watchdog(300);
}

TestSuite(pg, .init = init);

Test(pg, a_server_starts_keeps_its_data_and_stops)
{
	struct tf_pg *pg = tf_pg_start();
	char *out = NULL;

	cr_assert_eq(tf_psql(pg, NULL, "CREATE TABLE t (x int); "
	    "INSERT INTO t VALUES (42)"), 0);
	tf_pg_pause(pg);
	cr_assert_neq(tf_psql(pg, NULL, "SELECT 1"), 0,
	    "a stopped server answered");
	tf_pg_resume(pg);
	cr_assert_eq(tf_psql(pg, &out, "SELECT x FROM t"), 0);
	cr_assert_str_eq(out, "42\n");
	free(out);
	tf_pg_stop(pg);
}
