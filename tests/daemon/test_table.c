/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_table.c - apitokend's throttle table alone (apitokend/throttle.c,
 * linked in): counting within the window, lockout and its end, and the
 * cap that keeps a flood of made-up user names from exhausting memory
 * or pushing out the counts and lockouts already there.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../apitokend/throttle.h"
#include "tl.h"

static struct throttle T;

static void
setup(void)
{
	tl_watchdog(60);
	memset(&T, 0, sizeof(T));
	throttle_init(&T, 3, 60, 100);
}

static void
teardown(void)
{
	throttle_clear(&T);
}

TestSuite(table, .init = setup, .fini = teardown);

static int
count_entry(const char *entry, void *ctx)
{
	(void)entry;
	(*(int *)ctx)++;
	return 0;
}

Test(table, window_lockout_and_its_end)
{
	struct tkey k = { T_USER, 1000, "alice" };
	int64_t until;

	cr_assert_eq(throttle_fail(&T, &k, 1000), 0);
	cr_assert_eq(throttle_fail(&T, &k, 1010), 0);
	/* the window (60 s from the first failure) ends: a new count */
	cr_assert_eq(throttle_fail(&T, &k, 1060), 0);
	cr_assert_eq(throttle_fail(&T, &k, 1061), 0);
	cr_assert_eq(throttle_blocked(&T, &k, 1061, &until), 0);
	cr_assert_eq(throttle_fail(&T, &k, 1062), 1);
	cr_assert_eq(throttle_blocked(&T, &k, 1062, &until), 1);
	cr_assert_eq(until, 1162);
	cr_assert_eq(throttle_blocked(&T, &k, 1161, &until), 1);
	cr_assert_eq(throttle_blocked(&T, &k, 1162, &until), 0);
	/* another uid asking for the same user is another pair */
	k.uid = 33;
	cr_assert_eq(throttle_blocked(&T, &k, 1062, &until), 0);
}

Test(table, unlock_by_name_for_every_caller)
{
	struct tkey a = { T_USER, 1, "bob" }, b = { T_USER, 2, "bob" };
	int i, n = 0;
	int64_t until;

	for (i = 0; i < 3; i++) {
		throttle_fail(&T, &a, 10);
		throttle_fail(&T, &b, 10);
	}
	cr_assert_eq(throttle_lockouts(&T, 10, count_entry, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(throttle_unlock(&T, T_USER, "bob", 10, NULL, NULL), 2);
	cr_assert_eq(throttle_blocked(&T, &a, 10, &until), 0);
	cr_assert_eq(throttle_unlock(&T, T_USER, "bob", 10, NULL, NULL), 0);
}

/* A flood of distinct names fills the table to its cap and no further;
 * a lockout made before it stays; the token table is untouched. */
Test(table, the_cap_holds_and_keeps_what_is_there)
{
	struct tkey locked = { T_USER, 7, "victim" };
	struct tkey tok = { T_TOKEN, 0, "AAAAAAAAAAAA" };
	struct tkey k = { T_USER, 7, NULL };
	char name[32];
	int64_t until;
	int i, n = 0;

	for (i = 0; i < 3; i++)
		throttle_fail(&T, &locked, 100);
	throttle_fail(&T, &tok, 100);
	for (i = 0; i < THROTTLE_MAX + 1000; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		k.name = name;
		throttle_fail(&T, &k, 100);
	}
	cr_assert_eq(T.t[T_USER].n, THROTTLE_MAX);
	cr_assert_eq(T.t[T_TOKEN].n, 1);
	cr_assert_eq(throttle_blocked(&T, &locked, 100, &until), 1);
	/* once their window has passed, flood entries make room again */
	k.name = "late";
	cr_assert_eq(throttle_fail(&T, &k, 161), 0);
	cr_assert_leq(T.t[T_USER].n, 2);
	cr_assert_eq(throttle_blocked(&T, &locked, 161, &until), 1);
	cr_assert_eq(throttle_lockouts(&T, 161, count_entry, &n), 0);
	cr_assert_eq(n, 1);
}
