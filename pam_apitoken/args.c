/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * args.c - the module's options.  An unknown or malformed option is an
 * error: the caller fails closed with PAM_SERVICE_ERR, because a typo in
 * a security option (say "use_frist_pass") must not silently change what
 * the stack does.
 */
#include <stdio.h>
#include <string.h>

#include "pam_apitoken.h"

/* Flags that take no value. */
static int
parse_flag(const char *opt, struct args *a)
{
	if (strcmp(opt, "debug") == 0)
		a->debug = 1;
	else if (strcmp(opt, "use_first_pass") == 0)
		a->use_first_pass = 1;
	else if (strcmp(opt, "try_first_pass") == 0)
		a->try_first_pass = 1;
	else if (strcmp(opt, "quiet") == 0)
		a->quiet = 1;
	else if (strcmp(opt, "nodelay") == 0)
		a->nodelay = 1;
	else if (strcmp(opt, "allow_locked") == 0)
		a->allow_locked = 1;
	else
		return -1;
	return 0;
}

/* warn_expiry=DURATION: "0" turns the warning off. */
static int
parse_warn_expiry(const char *v, struct args *a)
{
	int64_t secs;

	if (strcmp(v, "0") == 0) {
		a->warn_expiry = 0;
		return 0;
	}
	if (apitoken_duration_parse(v, &secs) != 0 || secs <= 0 ||
	    secs == APITOKEN_NEVER)
		return -1;
	a->warn_expiry = secs;
	return 0;
}

/* mode=auto|local|daemon */
static int
parse_mode(const char *v, struct args *a)
{
	if (strcmp(v, "auto") == 0)
		a->mode = MODE_AUTO;
	else if (strcmp(v, "local") == 0)
		a->mode = MODE_LOCAL;
	else if (strcmp(v, "daemon") == 0)
		a->mode = MODE_DAEMON;
	else
		return -1;
	return 0;
}

/* "name=value" options; the value must not be empty. */
static int
parse_value(const char *opt, struct args *a)
{
	static const char config[] = "config=", prompt[] = "prompt=";
	static const char warn[] = "warn_expiry=", mode[] = "mode=";

	if (strncmp(opt, config, sizeof(config) - 1) == 0) {
		a->config = opt + sizeof(config) - 1;
		return a->config[0] == '/' ? 0 : -1;
	}
	if (strncmp(opt, prompt, sizeof(prompt) - 1) == 0) {
		a->prompt = opt + sizeof(prompt) - 1;
		return a->prompt[0] != '\0' ? 0 : -1;
	}
	if (strncmp(opt, warn, sizeof(warn) - 1) == 0)
		return parse_warn_expiry(opt + sizeof(warn) - 1, a);
	if (strncmp(opt, mode, sizeof(mode) - 1) == 0)
		return parse_mode(opt + sizeof(mode) - 1, a);
	return -1;
}

int
args_parse(int argc, const char **argv, struct args *a, char *err,
    size_t errlen)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->config = APITOKEN_DEFAULT_CONFIG;
	a->prompt = DEFAULT_PROMPT;
	a->warn_expiry = WARN_EXPIRY_DEFAULT;
	for (i = 0; i < argc; i++) {
		const char *opt = argv[i] != NULL ? argv[i] : "";

		if (parse_flag(opt, a) == 0 || parse_value(opt, a) == 0)
			continue;
		if (strncmp(opt, "config=", 7) == 0)
			snprintf(err, errlen, "config= needs an absolute path");
		else if (strncmp(opt, "prompt=", 7) == 0)
			snprintf(err, errlen, "prompt= needs a text");
		else if (strncmp(opt, "mode=", 5) == 0)
			snprintf(err, errlen, "mode= needs auto, local or "
			    "daemon");
		else if (strncmp(opt, "warn_expiry=", 12) == 0)
			snprintf(err, errlen, "warn_expiry= needs a duration "
			    "(e.g. 7d) or 0");
		else
			snprintf(err, errlen, "unknown option \"%.64s\"", opt);
		return -1;
	}
	return 0;
}
