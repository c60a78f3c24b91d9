/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - tokenctl: parse the global options, pick the verb, run it.
 *
 *   tokenctl [-c CONFIG] COMMAND [ARGS...]
 *
 * Each verb lives in its own function with its own option table; see
 * help.c for the text of every verb's --help and tokenctl(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "tokenctl.h"

#define TOKENCTL_VERSION "0.1.0"

static int cmd_help(struct ctl *ctl, int argc, char **argv);

static const struct verb {
	const char *name;
	int (*fn)(struct ctl *, int, char **);	/* loads the config itself */
} verbs[] = {
	{ "init",	cmd_init },
	{ "issue",	cmd_issue },
	{ "list",	cmd_list },
	{ "show",	cmd_show },
	{ "edit",	cmd_edit },
	{ "disable",	cmd_disable },
	{ "enable",	cmd_enable },
	{ "revoke",	cmd_revoke },
	{ "rotate",	cmd_rotate },
	{ "delete",	cmd_delete },
	{ "prune",	cmd_prune },
	{ "verify",	cmd_verify },
	{ "check",	cmd_check },
	{ "export",	cmd_export },
	{ "import",	cmd_import },
	{ "doctor",	cmd_doctor },
	{ "lockouts",	cmd_lockouts },
	{ "unlock",	cmd_unlock },
	{ "db",		cmd_db },
	{ "replica",	cmd_replica },
	{ "help",	cmd_help },
};

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* tokenctl help [COMMAND] */
static int
cmd_help(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	if (argc > 2)
		return ctl_help("help", 0);
	if (argc == 1)
		return ctl_help(NULL, 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return ctl_help("help", 1);
	if (find_verb(argv[1]) == NULL) {
		ctl_err("unknown command '%s'", argv[1]);
		return CTL_EXIT_USAGE;
	}
	return ctl_help(argv[1], 1);
}

static void
config_path(struct ctl *ctl, const char *opt)
{
	const char *env = getenv("APITOKEN_CONFIG");

	if (opt != NULL) {
		ctl->config_path = opt;
		ctl->config_explicit = 1;
	} else if (env != NULL && env[0] != '\0') {
		ctl->config_path = env;
		ctl->config_explicit = 1;
	} else {
		ctl->config_path = APITOKEN_DEFAULT_CONFIG;
	}
}

/* Global options up to the verb; returns the verb's index in argv or
 * a negative exit status (as -(status + 1)). */
static int
parse_global(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg = optarg;
			break;
		case 'h':
			return -(ctl_help(NULL, 1) + 1);
		case 'V':
			printf("tokenctl %s\n", TOKENCTL_VERSION);
			return -(CTL_EXIT_OK + 1);
		default:
			return -(ctl_bad_option(argc, argv, c) + 1);
		}
	}
	config_path(ctl, cfg);
	if (optind >= argc) {
		ctl_err("no command given");
		return -(ctl_help(NULL, 0) + 1);
	}
	return optind;
}

static int
run(struct ctl *ctl, int argc, char **argv)
{
	const struct verb *v;
	int i;

	if ((i = parse_global(ctl, argc, argv)) < 0)
		return -i - 1;
	if ((v = find_verb(argv[i])) == NULL) {
		ctl_err("unknown command '%s' (try 'tokenctl --help')",
		    argv[i]);
		return CTL_EXIT_USAGE;
	}
	ctl->verb = v->name;
	ctl_set_verb(v->name);
	optind = 0;	/* glibc: reinitialise getopt for the verb */
	return v->fn(ctl, argc - i, argv + i);
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	int r;

	ctl_no_core();
	memset(&ctl, 0, sizeof(ctl));
	ctl.now = time(NULL);
	ctl_actor(&ctl);
	ctl_json_init();
	openlog("tokenctl", LOG_PID, LOG_AUTHPRIV);
	r = run(&ctl, argc, argv);
	db_fleetuse_free(&ctl);
	self_lastuse_free(&ctl);
	apitoken_config_free(ctl.cfg);
	closelog();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_err("error writing to standard output");
		if (r == CTL_EXIT_OK)
			r = CTL_EXIT_SYSTEM;
	}
	return r;
}
