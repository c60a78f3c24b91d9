/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_completion.c - the bash completion script, run by a real bash
 * against the built tokenctl and a real store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(completion, .init = setup_env, .fini = teardown_env);

/* COMPREPLY for the command line `words` with the cursor on the last
 * word, one per line (sorted). */
static char *
complete(const char *words)
{
	struct run r;
	char script[2048];
	const char *argv[] = { "bash", "--norc", "--noprofile", "-c", script,
	    NULL };
	char *s;

	snprintf(script, sizeof(script),
	    "PATH=%s:$PATH; . %s/contrib/bash-completion/tokenctl || exit 9; "
	    "COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
	    "_tokenctl; [ ${#COMPREPLY[@]} -eq 0 ] || "
	    "printf '%%s\\n' \"${COMPREPLY[@]}\" | sort",
	    BUILD_DIR, SRC_DIR, words);
	run_prog(&E, &r, "/bin/bash", NULL, argv, E.cfg);
	cr_assert_eq(r.status, 0, "bash: %s", r.err);
	s = strdup(r.out);
	run_free(&r);
	return s;
}

Test(completion, verbs_options_and_values)
{
	char *s;

	s = complete("tokenctl ''");
	cr_assert_not_null(strstr(s, "issue\n"), "%s", s);
	cr_assert_not_null(strstr(s, "rotate\n"), "%s", s);
	cr_assert_eq(tl_count_lines(s), 19, "%s", s);
	free(s);
	s = complete("tokenctl ro");
	cr_assert_str_eq(s, "rotate\n");
	free(s);
	s = complete("tokenctl list --st");
	cr_assert_str_eq(s, "--status\n");
	free(s);
	s = complete("tokenctl list --status ''");
	cr_assert_str_eq(s, "active\ndisabled\nexpired\nrevoked\n");
	free(s);
	s = complete("tokenctl issue roo");
	cr_assert_str_eq(s, "root\n");
	free(s);
	s = complete("tokenctl -c /x.yaml revoke --");
	cr_assert_not_null(strstr(s, "--token-stdin\n"), "%s", s);
	free(s);
}

Test(completion, token_ids_from_the_store)
{
	char *a, *b, ia[13], ib[13], *s, want[400];
	struct run r;

	a = issue_token("root", "a", NULL);
	b = issue_token("root", "b", NULL);
	token_id(a, ia);
	token_id(b, ib);
	ctl(&r, NULL, "disable", ib, NULL);
	cr_assert_eq(r.status, 0);
	run_free(&r);
	s = complete("tokenctl show ''");
	cr_assert_not_null(strstr(s, ia), "%s", s);
	cr_assert_not_null(strstr(s, ib), "%s", s);
	cr_assert_eq(tl_count_lines(s), 2, "%s", s);
	free(s);
	s = complete("tokenctl enable ''");
	snprintf(want, sizeof(want), "%s\n", ib);
	cr_assert_str_eq(s, want);
	free(s);
	snprintf(want, sizeof(want), "tokenctl -c %s rotate %.3s", E.cfg, ia);
	s = complete(want);
	cr_assert_not_null(strstr(s, ia), "%s", s);
	free(s);
	s = complete("tokenctl show AAAA 'x'");	/* one operand only */
	cr_assert_str_eq(s, "");
	free(s);
	free(a);
	free(b);
}
