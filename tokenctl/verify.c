/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify.c - tokenctl verify (the PAM module's decision, via
 * apitoken_verify_once, or with --daemon apitokend's, via
 * apitoken_client_verify) and tokenctl check (offline format and checksum
 * check).  Tokens are read from stdin, capped at APITOKEN_INPUT_MAX, and
 * wiped; neither verb ever prints what it read.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenctl.h"

struct verify_args {
	const char *user, *service, *rhost;
	int daemon;		/* ask apitokend */
};

static int
verify_report(enum apitoken_reason why, const struct apitoken_result *res)
{
	if (why == APITOKEN_ACCEPTED) {
		printf("%s\n", res->id);
		return CTL_EXIT_OK;
	}
	if (res->detail[0] != '\0')
		ctl_err("rejected: %s: %s", apitoken_reason_str(why),
		    res->detail);
	else if (why == APITOKEN_R_MALFORMED || why == APITOKEN_R_BAD_CHECKSUM)
		ctl_err("rejected: %s: %s", apitoken_reason_str(why),
		    apitoken_format_str(res->format));
	else if (res->id[0] != '\0')
		ctl_err("rejected: %s (token %s)", apitoken_reason_str(why),
		    res->id);
	else
		ctl_err("rejected: %s", apitoken_reason_str(why));
	return why == APITOKEN_R_STORE_ERROR || why == APITOKEN_R_UNAVAILABLE ||
	    why == APITOKEN_R_STALE ? CTL_EXIT_STORE : CTL_EXIT_REJECT;
}

static int
verify_run(struct ctl *ctl, const struct verify_args *a)
{
	char buf[APITOKEN_INPUT_MAX + 1], me[APITOKEN_USER_MAX + 1];
	struct apitoken_request req;
	struct apitoken_result res;
	enum apitoken_reason why;
	const char *tok;
	size_t len = 0, toklen;
	int r = CTL_EXIT_REJECT, e;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	if (a->user == NULL && (r = ctl_real_user(me, sizeof(me))) != 0)
		goto out;
	req.user = a->user != NULL ? a->user : me;
	req.service = a->service;
	req.rhost = a->rhost;
	req.now = ctl->now;
	e = ctl_read_secret(buf, APITOKEN_INPUT_MAX, &len);
	if (e != APITOKEN_OK) {
		ctl_err("rejected: %s", e == APITOKEN_ERR_TOO_LONG ?
		    "malformed: input longer than any token" : "read error");
		r = e == APITOKEN_ERR_TOO_LONG ? CTL_EXIT_REJECT :
		    CTL_EXIT_SYSTEM;
		goto out;
	}
	if (apitoken_strip_scheme(buf, len, &tok, &toklen) != APITOKEN_OK) {
		ctl_err("rejected: malformed: an authorization scheme must be "
		    "followed by one space and the token");
		r = CTL_EXIT_REJECT;
		goto out;
	}
	why = a->daemon ?
	    apitoken_client_verify(ctl->cfg, tok, toklen, &req, &res) :
	    apitoken_verify_once(ctl->cfg, tok, toklen, &req, &res);
	r = verify_report(why, &res);
out:
	apitoken_wipe(buf, sizeof(buf));
	return r;
}

int
cmd_verify(struct ctl *ctl, int argc, char **argv)
{
	struct verify_args a;
	const struct ctl_opt o[] = {
		{ "user", &a.user, NULL },
		{ "service", &a.service, NULL },
		{ "rhost", &a.rhost, NULL },
		{ "daemon", NULL, &a.daemon },
		{ NULL, NULL, NULL },
	};
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = ctl_options("verify", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s' (the token is read from "
		    "stdin)", argv[optind]);
		return ctl_help("verify", 0);
	}
	if (a.daemon && a.service == NULL) {
		ctl_err("--daemon needs --service NAME (apitokend answers for a "
		    "PAM service)");
		return ctl_help("verify", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK)
		return r;
	return verify_run(ctl, &a);
}

/* ------------------------------------------------------------ check */

/* Check one candidate; prints "line N: ok ID" or "line N: invalid: ...". */
static int
check_one(const char *prefix, size_t n, const char *s, size_t len)
{
	struct apitoken_token t;
	enum apitoken_format f = APITOKEN_FMT_TOO_LONG;
	const char *tok;
	size_t toklen;

	memset(&t, 0, sizeof(t));
	if (len <= APITOKEN_INPUT_MAX) {
		if (apitoken_strip_scheme(s, len, &tok, &toklen) != 0)
			f = APITOKEN_FMT_SHAPE;
		else
			f = apitoken_token_parse(prefix, tok, toklen, &t);
	}
	if (f == APITOKEN_FMT_OK)
		printf("line %zu: ok %s\n", n, t.id);
	else
		printf("line %zu: invalid: %s\n", n, apitoken_format_str(f));
	apitoken_token_clear(&t);
	return f == APITOKEN_FMT_OK ? CTL_EXIT_OK : CTL_EXIT_REJECT;
}

static int
check_stdin(const char *prefix)
{
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	int r = CTL_EXIT_OK;

	setvbuf(stdin, NULL, _IONBF, 0);	/* no unwiped copy in stdio */
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (check_one(prefix, ++n, line, (size_t)len) != 0)
			r = CTL_EXIT_REJECT;
		apitoken_wipe(line, cap);
	}
	if (ferror(stdin)) {
		ctl_err("stdin: read error");
		r = CTL_EXIT_SYSTEM;
	} else if (n == 0) {
		ctl_err("stdin: nothing to check");
		r = CTL_EXIT_REJECT;
	}
	if (line != NULL)
		apitoken_wipe(line, cap);
	free(line);
	return r;
}

/* The token prefix: --prefix, else the config's; only an implicit
 * default config that cannot be loaded falls back to the default. */
static int
check_prefix(struct ctl *ctl, const char *opt, const char **prefix)
{
	char err[CTL_ERR_MAX];

	*prefix = APITOKEN_DEFAULT_PREFIX;
	if (opt != NULL) {
		*prefix = opt;
		return CTL_EXIT_OK;
	}
	if (!ctl->config_explicit && apitoken_config_load(ctl->config_path,
	    &ctl->cfg, err, sizeof(err)) != APITOKEN_OK)
		return CTL_EXIT_OK;
	if (ctl_config(ctl) != CTL_EXIT_OK)
		return CTL_EXIT_CONFIG;
	*prefix = apitoken_config_token_prefix(ctl->cfg);
	return CTL_EXIT_OK;
}

/* A word that may be a token: the prefix's form, or a long word of the
 * token alphabet with a '_' (another prefix). */
static int
token_shaped(const char *prefix, const char *s)
{
	struct apitoken_token t;
	enum apitoken_format f;
	size_t plen = strlen(prefix), n = strlen(s);

	memset(&t, 0, sizeof(t));
	f = apitoken_token_parse(prefix, s, n, &t);
	apitoken_token_clear(&t);
	if (f == APITOKEN_FMT_OK || f == APITOKEN_FMT_CHECKSUM ||
	    (n > plen && strncmp(s, prefix, plen) == 0 && s[plen] == '_'))
		return 1;
	return n >= 32 && strchr(s, '_') != NULL && strspn(s,
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
	    == n;
}

/*
 * Operands are refused (issue 14 item 9): a token in argv is visible to
 * every local user in /proc/PID/cmdline and stays in shell history.  The
 * operand is never echoed; one that looks like a token gets a warning.
 */
static int
check_operands(const char *prefix, int argc, char **argv)
{
	int i, shaped = 0;

	for (i = optind; i < argc; i++)
		shaped |= token_shaped(prefix, argv[i]);
	ctl_err("tokens are read from standard input only, e.g. "
	    "printf '%%s\\n' \"$TOKEN\" | tokenctl check");
	if (shaped)
		fputs("tokenctl check: an argument looks like a token: it was "
		    "visible in the process list and may be in your shell "
		    "history; treat it as exposed\n", stderr);
	return ctl_help("check", 0);
}

int
cmd_check(struct ctl *ctl, int argc, char **argv)
{
	const char *popt = NULL, *prefix;
	const struct ctl_opt o[] = {
		{ "prefix", &popt, NULL },
		{ NULL, NULL, NULL },
	};
	int r;

	if ((r = ctl_options("check", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc)
		return check_operands(popt != NULL ? popt :
		    APITOKEN_DEFAULT_PREFIX, argc, argv);
	if ((r = check_prefix(ctl, popt, &prefix)) != CTL_EXIT_OK)
		return r;
	return check_stdin(prefix);
}
