/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fwatch.c - apitokend's change watch alone (apitokend/fwatch.c,
 * linked in directly): what the core no longer stat(2)s at every request
 * must still be reported at the very next call after any change, and a
 * file it cannot watch must read as changed every time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../apitokend/fwatch.h"
#include "tl.h"

static char Dir[256], *File, *Other;
static struct fwatch W;

static void
setup(void)
{
	tl_watchdog(30);
	tl_tmpdir(Dir, sizeof(Dir), "fwatch");
	File = tl_fmt("%s/tokens", Dir);
	Other = tl_fmt("%s/tokens.tmp", Dir);
	tl_write_str(File, "one\n", 0600);
	fwatch_init(&W);
	cr_assert_geq(W.fd, 0, "no inotify");
	cr_assert_eq(fwatch_file(&W, 0, File), 0);
	cr_assert_eq(fwatch_file(&W, 1, "/nonexistent-apitoken-dir/x"), -1);
}

static void
teardown(void)
{
	fwatch_close(&W);
	(void)tl_rmrf(Dir);
	free(File);
	free(Other);
}

TestSuite(fwatch, .init = setup, .fini = teardown);

/* file 0's bit (file 1, never watchable, is always set) */
static unsigned
changed0(void)
{
	unsigned m = fwatch_changed(&W);

	cr_assert(m & 2u, "an unwatched file read as unchanged");
	return m & 1u;
}

Test(fwatch, every_change_is_seen_at_the_next_call)
{
	cr_assert_eq(changed0(), 0u);
	tl_write_str(File, "two\n", 0600);		/* in place */
	cr_assert_eq(changed0(), 1u);
	cr_assert_eq(changed0(), 0u, "seen once");
	tl_write_str(Other, "three\n", 0600);		/* another name */
	cr_assert_eq(changed0(), 0u);
	cr_assert_eq(rename(Other, File), 0);		/* as tokenctl */
	cr_assert_eq(changed0(), 1u);
	cr_assert_eq(chmod(File, 0644), 0);
	cr_assert_eq(changed0(), 1u);
	cr_assert_eq(unlink(File), 0);
	cr_assert_eq(changed0(), 1u);
	cr_assert_eq(changed0(), 0u);
}

Test(fwatch, a_directory_gone_reads_as_changed_until_watched_again)
{
	char *moved = tl_fmt("%s.moved", Dir);

	cr_assert_eq(rename(Dir, moved), 0);
	cr_assert_eq(changed0(), 1u);
	cr_assert_eq(changed0(), 1u, "not watched: changed every time");
	cr_assert(!fwatch_watched(&W, 0));
	cr_assert_eq(rename(moved, Dir), 0);
	cr_assert_eq(changed0(), 1u);	/* watched again from here */
	cr_assert(fwatch_watched(&W, 0));
	cr_assert_eq(changed0(), 0u);
	tl_write_str(File, "four\n", 0600);
	cr_assert_eq(changed0(), 1u);
	free(moved);
}

/* A reload naming another store: the new directory is watched, the old
 * one no longer reports. */
Test(fwatch, a_file_watched_again_elsewhere)
{
	char dir2[256], *file2;

	tl_tmpdir(dir2, sizeof(dir2), "fwatch2");
	file2 = tl_fmt("%s/tokens", dir2);
	cr_assert_eq(fwatch_file(&W, 0, file2), 0);
	cr_assert_eq(changed0(), 0u);
	tl_write_str(File, "old\n", 0600);
	cr_assert_eq(changed0(), 0u, "the old directory still reports");
	tl_write_str(file2, "new\n", 0600);
	cr_assert_eq(changed0(), 1u);
	(void)tl_rmrf(dir2);
	free(file2);
}
