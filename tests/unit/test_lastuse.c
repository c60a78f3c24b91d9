/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lastuse.c - last-use state in state_dir/lastuse/<id>: record, get,
 * throttling, remove, bad ids, and no writes through symlinks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define NOW ((time_t)1700000000)

static struct tu_env E;
static const char ID[] = "Ab3dEf6hIj9K";

static void
setup(void)
{
	tl_watchdog(10);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(lastuse, .init = setup, .fini = teardown);

static int
rec(const char *id, const char *svc, const char *rhost, time_t now,
    int64_t min)
{
	E.err[0] = '\0';
	return apitoken_lastuse_record(E.cfg, id, svc, rhost, now, min, E.err,
	    sizeof(E.err));
}

static struct apitoken_lastuse
get(const char *id)
{
	struct apitoken_lastuse lu;
	int r;

	memset(&lu, 0xa5, sizeof(lu));
	r = apitoken_lastuse_get(E.cfg, id, &lu, E.err, sizeof(E.err));
	cr_assert_eq(r, 0, "lastuse_get = %d: %s", r, E.err);
	cr_assert_not_null(memchr(lu.service, '\0', sizeof(lu.service)));
	cr_assert_not_null(memchr(lu.rhost, '\0', sizeof(lu.rhost)));
	return lu;
}

Test(lastuse, never_used)
{
	struct apitoken_lastuse lu = get(ID);

	cr_assert_eq(lu.when, 0);
}

Test(lastuse, record_then_get)
{
	struct apitoken_lastuse lu;
	char path[TU_PATHLEN + 64];
	struct stat st;

	cr_assert_eq(rec(ID, "sshd", "10.1.2.3", NOW, 60), 0, "%s", E.err);
	lu = get(ID);
	cr_assert_eq(lu.when, NOW);
	cr_assert_str_eq(lu.service, "sshd");
	cr_assert_str_eq(lu.rhost, "10.1.2.3");
	snprintf(path, sizeof(path), "%s/lastuse/%s", E.state, ID);
	cr_assert_eq(lstat(path, &st), 0, "no %s", path);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 022, 0, "mode %o", st.st_mode & 07777);
}

Test(lastuse, ipv6_and_nulls)
{
	struct apitoken_lastuse lu;
	const char *v6 = "2001:0db8:85a3:0000:0000:8a2e:0370:7334";

	cr_assert_eq(rec(ID, "sudo", v6, NOW, 0), 0, "%s", E.err);
	lu = get(ID);
	cr_assert_str_eq(lu.rhost, v6);
	cr_assert_eq(rec(ID, NULL, NULL, NOW + 1, 0), 0, "%s", E.err);
	lu = get(ID);
	cr_assert_eq(lu.when, NOW + 1);
	cr_assert_str_eq(lu.service, "");
	cr_assert_str_eq(lu.rhost, "");
}

Test(lastuse, throttled_within_min_interval)
{
	struct apitoken_lastuse lu;

	cr_assert_eq(rec(ID, "sshd", "10.1.2.3", NOW, 60), 0);
	cr_assert_eq(rec(ID, "sudo", "10.9.9.9", NOW + 30, 60), 0);
	lu = get(ID);
	cr_assert_eq(lu.when, NOW, "updated within min_interval");
	cr_assert_str_eq(lu.service, "sshd");
	cr_assert_str_eq(lu.rhost, "10.1.2.3");
	cr_assert_eq(rec(ID, "sudo", "10.9.9.9", NOW + 59, 60), 0);
	cr_assert_eq(get(ID).when, NOW);
	/* 60 s later is not "less than 60 s ago": written */
	cr_assert_eq(rec(ID, "sudo", "10.9.9.9", NOW + 60, 60), 0);
	lu = get(ID);
	cr_assert_eq(lu.when, NOW + 60);
	cr_assert_str_eq(lu.service, "sudo");
	/* min_interval 0: every use is written */
	cr_assert_eq(rec(ID, "login", NULL, NOW + 61, 0), 0);
	cr_assert_eq(get(ID).when, NOW + 61);
}

Test(lastuse, remove)
{
	cr_assert_eq(rec(ID, "sshd", "10.1.2.3", NOW, 0), 0);
	cr_assert_eq(apitoken_lastuse_remove(E.cfg, ID), 0);
	cr_assert_eq(get(ID).when, 0);
	cr_assert_eq(apitoken_lastuse_remove(E.cfg, ID), 0, "absent is fine");
	cr_assert_eq(apitoken_lastuse_remove(E.cfg, "ZZZZZZZZZZZZ"), 0);
}

Test(lastuse, separate_ids)
{
	cr_assert_eq(rec(ID, "sshd", NULL, NOW, 0), 0);
	cr_assert_eq(rec("000000000000", "sudo", NULL, NOW + 5, 0), 0);
	cr_assert_eq(get(ID).when, NOW);
	cr_assert_eq(get("000000000000").when, NOW + 5);
	cr_assert_eq(apitoken_lastuse_remove(E.cfg, ID), 0);
	cr_assert_eq(get("000000000000").when, NOW + 5);
}

Test(lastuse, bad_ids_refused)
{
	const char *bad[] = { "", "short", "../../x", "..", "a/b/c/d/e/f0",
	    "Ab3dEf6hIj9K/", "Ab3dEf6hIj9KZ" };
	size_t i;
	char outside[TU_PATHLEN + 16];
	struct apitoken_lastuse lu;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_lt(rec(bad[i], "sshd", NULL, NOW, 0), 0,
		    "record(\"%s\") accepted", bad[i]);
		cr_expect_lt(apitoken_lastuse_get(E.cfg, bad[i], &lu, NULL, 0),
		    0, "get(\"%s\") accepted", bad[i]);
	}
	snprintf(outside, sizeof(outside), "%s/x", E.state);
	cr_assert_eq(access(outside, F_OK), -1, "wrote %s", outside);
	snprintf(outside, sizeof(outside), "%s/x", E.dir);
	cr_assert_eq(access(outside, F_OK), -1, "wrote %s", outside);
}

Test(lastuse, long_rhost_bounded)
{
	char big[200];
	struct apitoken_lastuse lu;
	int r;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = rec(ID, "sshd", big, NOW, 0);
	if (r == 0) {
		lu = get(ID);
		cr_assert_lt(strlen(lu.rhost), sizeof(lu.rhost));
	}
}

Test(lastuse, no_write_through_symlink)
{
	char dir[TU_PATHLEN + 16], link[TU_PATHLEN + 64];
	char victim[TU_PATHLEN + 16];
	char *data;
	struct stat st;

	/* create lastuse/ the library's way, then plant a link for ID */
	cr_assert_eq(rec("000000000000", "sshd", NULL, NOW, 0), 0, "%s",
	    E.err);
	snprintf(dir, sizeof(dir), "%s/lastuse", E.state);
	snprintf(link, sizeof(link), "%s/%s", dir, ID);
	snprintf(victim, sizeof(victim), "%s/victim", E.dir);
	tl_write_file(victim, "precious\n", 9, 0644);
	cr_assert_eq(symlink(victim, link), 0);
	(void)rec(ID, "sshd", "10.1.2.3", NOW, 0);
	data = tl_read_file(victim, NULL);
	cr_assert_str_eq(data, "precious\n", "wrote through a symlink");
	free(data);
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "victim chmod'ed");
}

Test(lastuse, garbage_file_does_not_crash)
{
	char dir[TU_PATHLEN + 16], path[TU_PATHLEN + 64];
	struct apitoken_lastuse lu;
	int r;

	cr_assert_eq(rec("000000000000", "sshd", NULL, NOW, 0), 0);
	snprintf(dir, sizeof(dir), "%s/lastuse", E.state);
	snprintf(path, sizeof(path), "%s/%s", dir, ID);
	tl_write_file(path, "\xff\xfe garbage\n\n\t\t\n", 14, 0600);
	memset(&lu, 0xa5, sizeof(lu));
	r = apitoken_lastuse_get(E.cfg, ID, &lu, NULL, 0);
	if (r == 0) {
		cr_assert_not_null(memchr(lu.service, '\0',
		    sizeof(lu.service)));
		cr_assert_not_null(memchr(lu.rhost, '\0', sizeof(lu.rhost)));
	}
	/* and the next use repairs it */
	cr_assert_eq(rec(ID, "sshd", "10.0.0.1", NOW, 0), 0, "%s", E.err);
	cr_assert_eq(get(ID).when, NOW);
}

/* The line apitokend sends (T_LASTUSE): the file's form without its LF,
 * "never" for a token never used; format and parse are inverses, and
 * the parser refuses what is not one. */
Test(lastuse, line_format_and_parse)
{
	struct apitoken_lastuse lu, back;
	char line[APITOKEN_LASTUSE_LINE_MAX];
	static const char *const bad[] = { "", "v2\tnever\t\t",
		"v1\tyesterday\t\t", "v1\tnever\tss hd\t", "v1\tnever\t\tx",
		"v1\tnever\t\t\t", "v1\tnever\t\t1.2.3.4\n" };
	size_t i;

	memset(&lu, 0, sizeof(lu));
	cr_assert_eq(apitoken_lastuse_format(&lu, line, sizeof(line)), 0);
	cr_assert_str_eq(line, "v1\tnever\t\t");
	cr_assert_eq(apitoken_lastuse_parse(line, strlen(line), &back), 0);
	cr_assert_eq(back.when, 0);
	lu.when = NOW;
	snprintf(lu.service, sizeof(lu.service), "sshd");
	snprintf(lu.rhost, sizeof(lu.rhost), "2001:db8::1");
	cr_assert_eq(apitoken_lastuse_format(&lu, line, sizeof(line)), 0);
	cr_assert_eq(apitoken_lastuse_parse(line, strlen(line), &back), 0);
	cr_assert_eq(memcmp(&lu, &back, sizeof(lu)), 0, "%s", line);
	cr_assert_eq(rec(ID, "sshd", "2001:db8::1", NOW, 0), 0, "%s", E.err);
	back = get(ID);
	cr_assert_eq(memcmp(&lu, &back, sizeof(lu)), 0, "the file's form");
	for (i = 1; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(apitoken_lastuse_parse(bad[i], strlen(bad[i]),
		    &back), APITOKEN_ERR_INVALID, "%s", bad[i]);
	cr_assert_eq(apitoken_lastuse_parse(bad[0], 0, &back),
	    APITOKEN_ERR_INVALID);
	snprintf(lu.rhost, sizeof(lu.rhost), "not-an-address");
	cr_assert_eq(apitoken_lastuse_format(&lu, line, sizeof(line)),
	    APITOKEN_ERR_INVALID);
}
