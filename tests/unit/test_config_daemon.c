/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config_daemon.c - apitokend's config keys (issue 11):
 * daemon_socket, daemon_callers, max_failures, failure_window and
 * lockout; their defaults, their checks, and the commented block in the
 * shipped conf/apitoken.yaml naming the defaults.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static struct tu_env E;

/* The unit helpers' config loaders (helpers.h), on this suite's E. */
#define load(extra, cfgp) tu_config_load(&E, (extra), (cfgp))
#define load_ok(extra) tu_config_load_ok(&E, (extra))
#define load_bad(extra, line, text) \
	tu_config_load_bad(&E, (extra), (line), (text))

static void
setup(void)
{
	tl_watchdog(20);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(config_daemon, .init = setup, .fini = teardown);

Test(config_daemon, defaults)
{
	struct apitoken_config *c = load_ok("");

	cr_assert_str_eq(apitoken_config_daemon_socket(c),
	    "/run/apitoken/apitokend.sock");
	cr_assert_str_eq(apitoken_config_daemon_socket(c),
	    APITOKEN_DEFAULT_SOCKET);
	cr_assert_eq(apitoken_config_max_failures(c), 10);
	cr_assert_eq(apitoken_config_failure_window(c), 15 * 60);
	cr_assert_eq(apitoken_config_lockout(c), 15 * 60);
	cr_assert_eq(apitoken_config_caller_allowed(c, "www-data", "sshd"), 0);
	cr_assert_eq(apitoken_config_caller_allowed(c, "root", "sshd"), 0);
	apitoken_config_free(c);
}

Test(config_daemon, values)
{
	struct apitoken_config *c = load_ok("daemon_socket: /run/x/y.sock\n"
	    "max_failures: 3\nfailure_window: 2m\nlockout: 1h\n"
	    "daemon_callers:\n  www-data: [nginx-api]\n"
	    "  dovecot: [imap, pop3, dovecot]\n  '@mail': [smtp]\n"
	    "  nobody: []\n");

	cr_assert_str_eq(apitoken_config_daemon_socket(c), "/run/x/y.sock");
	cr_assert_eq(apitoken_config_max_failures(c), 3);
	cr_assert_eq(apitoken_config_failure_window(c), 120);
	cr_assert_eq(apitoken_config_lockout(c), 3600);
	cr_assert_eq(apitoken_config_caller_allowed(c, "www-data",
	    "nginx-api"), 1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "www-data", "imap"), 0);
	cr_assert_eq(apitoken_config_caller_allowed(c, "dovecot", "pop3"), 1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "dovecot", "dovecot"),
	    1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "@mail", "smtp"), 1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "mail", "smtp"), 0);
	cr_assert_eq(apitoken_config_caller_allowed(c, "@dovecot", "imap"), 0);
	cr_assert_eq(apitoken_config_caller_allowed(c, "nobody", "imap"), 0);
	apitoken_config_free(c);
}

Test(config_daemon, bad_values_name_their_line)
{
	load_bad("daemon_socket: run/x\n", 3, "absolute path");
	load_bad("max_failures: 0\n", 3, "from 1 to 1000000");
	load_bad("max_failures: 1000001\n", 3, "from 1 to 1000000");
	load_bad("max_failures: -1\n", 3, "whole number");
	load_bad("max_failures: 3x\n", 3, "whole number");
	load_bad("failure_window: never\n", 3, "from 1s to 7d");
	load_bad("failure_window: 8d\n", 3, "from 1s to 7d");
	load_bad("lockout: 0s\n", 3, "from 1s to 7d");
	load_bad("lockout: []\n", 3, "expected a scalar");
}

Test(config_daemon, bad_callers_name_their_line)
{
	load_bad("daemon_callers: www-data\n", 3, "expected a mapping");
	load_bad("daemon_callers:\n  - www-data\n", 4, "expected a mapping");
	load_bad("daemon_callers:\n  www-data: nginx\n", 4,
	    "\"www-data\": expected a list");
	load_bad("daemon_callers:\n  'www data': [x]\n", 4,
	    "a key must be a user name or @group name");
	load_bad("daemon_callers:\n  -x: [x]\n", 4, "a key must be a user");
	load_bad("daemon_callers:\n  '@': [x]\n", 4, "a key must be a user");
	load_bad("daemon_callers:\n  abcdefghijabcdefghijabcdefghijabc: [x]\n",
	    4, "a key must be a user");
	load_bad("daemon_callers:\n  www-data: [nginx, 'a/b']\n", 4,
	    "expected a list of PAM service names");
	load_bad("daemon_callers:\n  www-data: [x]\n  www-data: [y]\n", 5,
	    "given twice");
	load_bad("daemon_callers:\n  www-data: [x, x]\n", 4, "listed twice");
	load_bad("daemon_callers: {}\ndaemon_callers: {}\n", 4, "given twice");
}

Test(config_daemon, caller_names)
{
	struct apitoken_config *c = load_ok("daemon_callers:\n"
	    "  'host$': [a]\n  a.b_c-d: [a]\n  '@x': [a]\n"
	    "  abcdefghijabcdefghijabcdefghijab: [a]\n");

	cr_assert_eq(apitoken_config_caller_allowed(c, "host$", "a"), 1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "a.b_c-d", "a"), 1);
	cr_assert_eq(apitoken_config_caller_allowed(c, "@x", "a"), 1);
	apitoken_config_free(c);
}

/* The commented apitokend block of the shipped file, uncommented, says
 * exactly the built-in defaults (its example daemon_callers aside). */
Test(config_daemon, shipped_comments_are_the_defaults)
{
	const char *keys[] = { "daemon_socket:", "max_failures:",
		"failure_window:", "lockout:" };
	struct apitoken_config *shipped = NULL, *builtin = load_ok("");
	char *text = tl_read_file(SRC_DIR "/conf/apitoken.yaml", NULL);
	char *out, *line, *save = NULL;
	size_t i, o = 0, found = 0;

	cr_assert_not_null(text);
	out = calloc(1, strlen(text) + 1);
	cr_assert_not_null(out);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (line[0] == '#' &&
			    strncmp(line + 1, keys[i], strlen(keys[i])) == 0) {
				o += (size_t)sprintf(out + o, "%s\n", line + 1);
				found++;
			}
	cr_assert_eq(found, 4, "%s", out);
	cr_assert_eq(load(out, &shipped), 0, "%s", E.err);
	cr_assert_str_eq(apitoken_config_daemon_socket(shipped),
	    apitoken_config_daemon_socket(builtin));
	cr_assert_eq(apitoken_config_max_failures(shipped),
	    apitoken_config_max_failures(builtin));
	cr_assert_eq(apitoken_config_failure_window(shipped),
	    apitoken_config_failure_window(builtin));
	cr_assert_eq(apitoken_config_lockout(shipped),
	    apitoken_config_lockout(builtin));
	apitoken_config_free(shipped);
	apitoken_config_free(builtin);
	free(out);
	free(text);
}
