/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - apitoken_config_load on arbitrary bytes written to a
 * config file in a private 0700 temp dir.
 *
 * A config that loads must satisfy apitoken.yaml(5)'s rules (absolute
 * clean paths, a valid prefix, lifetimes and limits in range, default <=
 * max, service aliases that are service names);
 * one that does not must leave *cfgp NULL and give a message naming the
 * file.
 */
#include <string.h>

#include "fuzz_common.h"

static char path[700];

static int
clean_abs_path(const char *s)
{
	size_t n = strlen(s);

	return s[0] == '/' && n > 1 && s[n - 1] != '/' &&
	    strstr(s, "//") == NULL && strstr(s, "/./") == NULL &&
	    strstr(s, "/../") == NULL &&
	    !(n >= 3 && strcmp(s + n - 3, "/..") == 0) &&
	    !(n >= 2 && strcmp(s + n - 2, "/.") == 0);
}

static int
lifetime_ok(int64_t v)
{
	return v == APITOKEN_NEVER || (v > 0 && v <= 100LL * 365 * 86400);
}

/* service_aliases: valid names, never the service itself, and covered. */
static void
check_aliases(const struct apitoken_config *c, const char *svc)
{
	const char *a;
	size_t i;

	FUZZ_ASSERT(apitoken_config_service_covers(c, svc, svc) == 1,
	    "\"%s\" does not cover itself", svc);
	for (i = 0; (a = apitoken_config_service_alias(c, svc, i)); i++) {
		FUZZ_ASSERT(apitoken_service_valid(a) == 0 &&
		    strcmp(a, svc) != 0, "alias \"%s\" of %s", a, svc);
		FUZZ_ASSERT(apitoken_config_service_covers(c, svc, a) == 1,
		    "%s does not cover its alias %s", svc, a);
	}
}

/* apitokend's keys: a clean socket path, throttling within its ranges,
 * and no grant to a name daemon_callers could not have accepted. */
static void
check_daemon(const struct apitoken_config *c)
{
	int64_t n = apitoken_config_max_failures(c);
	int64_t w = apitoken_config_failure_window(c);
	int64_t l = apitoken_config_lockout(c);

	FUZZ_ASSERT(clean_abs_path(apitoken_config_daemon_socket(c)),
	    "daemon_socket \"%s\"", apitoken_config_daemon_socket(c));
	FUZZ_ASSERT(n >= 1 && n <= 1000000, "max_failures %lld",
	    (long long)n);
	FUZZ_ASSERT(w >= 1 && w <= 7 * 86400 && l >= 1 && l <= 7 * 86400,
	    "failure_window %lld, lockout %lld", (long long)w, (long long)l);
	FUZZ_ASSERT(!apitoken_config_caller_allowed(c, "", "sshd") &&
	    !apitoken_config_caller_allowed(c, "@", "sshd") &&
	    !apitoken_config_caller_allowed(c, "a b", "sshd") &&
	    !apitoken_config_caller_allowed(c, "-x", "sshd"),
	    "daemon_callers holds an invalid name");
}

/* The fleet's keys: a conninfo (never empty), a clean passfile path,
 * max_staleness a duration or never; a copy with another store holds
 * the same values. */
static void
check_fleet(const struct apitoken_config *c)
{
	const char *ci = apitoken_config_pg_conninfo(c);
	const char *pf = apitoken_config_pg_passfile(c);
	struct apitoken_config *d = NULL;

	FUZZ_ASSERT(ci == NULL || ci[0] != '\0', "empty conninfo");
	FUZZ_ASSERT(pf == NULL || (ci != NULL && clean_abs_path(pf)),
	    "passfile \"%s\"", pf);
	FUZZ_ASSERT(lifetime_ok(apitoken_config_max_staleness(c)),
	    "max_staleness %lld", (long long)apitoken_config_max_staleness(c));
	FUZZ_ASSERT(apitoken_config_clone_store(c, "/x/copy", &d) == 0,
	    "clone_store failed");
	FUZZ_ASSERT(strcmp(apitoken_config_store(d), "/x/copy") == 0 &&
	    (ci == NULL ? apitoken_config_pg_conninfo(d) == NULL :
	    strcmp(apitoken_config_pg_conninfo(d), ci) == 0) &&
	    apitoken_config_max_staleness(d) ==
	    apitoken_config_max_staleness(c), "the copy differs");
	apitoken_config_free(d);
}

static void
check_loaded(const struct apitoken_config *c)
{
	const char *p = apitoken_config_token_prefix(c);
	int64_t def = apitoken_config_default_lifetime(c);
	int64_t max = apitoken_config_max_lifetime(c);
	int64_t lock = apitoken_config_lock_timeout_ms(c);

	FUZZ_ASSERT(strcmp(apitoken_config_path(c), path) == 0, "path");
	FUZZ_ASSERT(clean_abs_path(apitoken_config_store(c)), "store \"%s\"",
	    apitoken_config_store(c));
	FUZZ_ASSERT(clean_abs_path(apitoken_config_state_dir(c)),
	    "state_dir \"%s\"", apitoken_config_state_dir(c));
	FUZZ_ASSERT(strlen(p) >= 1 && strlen(p) <= APITOKEN_PREFIX_MAX &&
	    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(p),
	    "token_prefix \"%s\"", p);
	FUZZ_ASSERT(lifetime_ok(def) && lifetime_ok(max), "lifetimes %lld %lld",
	    (long long)def, (long long)max);
	FUZZ_ASSERT(max == APITOKEN_NEVER || (def != APITOKEN_NEVER &&
	    def <= max), "default_lifetime %lld > max_lifetime %lld",
	    (long long)def, (long long)max);
	FUZZ_ASSERT(lock >= 1000 && lock <= 3600 * 1000, "lock_timeout %lld ms",
	    (long long)lock);
	FUZZ_ASSERT(apitoken_config_max_store_size(c) >= 4096,
	    "max_store_size %llu",
	    (unsigned long long)apitoken_config_max_store_size(c));
	check_aliases(c, "su");
	check_aliases(c, "sudo");
	check_daemon(c);
	check_fleet(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apitoken_config *c = (struct apitoken_config *)&path;
	char err[512];
	int r;

	tl_write_file(path, data, size, 0600);
	memset(err, 0x5a, sizeof(err));
	r = apitoken_config_load(path, &c, err, sizeof(err));
	if (r == 0) {
		FUZZ_ASSERT(c != NULL, "config_load OK without a config");
		check_loaded(c);
		apitoken_config_free(c);
		return 0;
	}
	FUZZ_ASSERT(c == NULL, "*cfgp not cleared on error %d", r);
	FUZZ_ASSERT(r == APITOKEN_ERR_CONFIG || r == APITOKEN_ERR_NOMEM,
	    "config_load returned %d", r);
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL, "err not terminated");
	FUZZ_ASSERT(r == APITOKEN_ERR_NOMEM ||
	    strncmp(err, path, strlen(path)) == 0,
	    "message does not name the file: %s", err);
	FUZZ_ASSERT(strpbrk(err, "\r\n") == NULL,
	    "message is not one line: %s", err);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(path, fuzz_env()->conf);
	return 0;
}
