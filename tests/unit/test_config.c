/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - apitoken_config_load: a full file, defaults, and every
 * error with its "path:line:column" position.
 *
 * Defaults assumed (apitoken.yaml(5)): store /var/lib/apitoken/tokens,
 * state_dir /var/lib/apitoken/state, token_prefix apitok,
 * default_lifetime 90d, max_lifetime 1y (365 days), lock_timeout 10s,
 * max_store_size 1G (2^30 bytes; K/M/G are binary, as "4K" = 4096).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static char dir[64];
static char path[128];
static char err[TU_ERRLEN];

static void
setup(void)
{
	tl_watchdog(10);
	snprintf(dir, sizeof(dir), "/tmp/apitoken-unit.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/apitoken.yaml", dir);
}

static void
teardown(void)
{
	tl_rmrf(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

static int
load_text(const char *text, struct apitoken_config **cfg)
{
	struct apitoken_config *c = (struct apitoken_config *)dir;
	int r;

	tl_write_file(path, text, strlen(text), 0600);
	memset(err, 0, sizeof(err));
	r = apitoken_config_load(path, &c, err, sizeof(err));
	if (r != 0)
		cr_assert_null(c, "*cfgp set on failure");
	*cfg = r == 0 ? c : NULL;
	return r;
}

/* text must fail with APITOKEN_ERR_CONFIG and "path:line:col" in err */
static void
bad_at(const char *text, int line)
{
	struct apitoken_config *c;
	int r = load_text(text, &c), l = -1, col = -1;
	size_t n = strlen(path);

	cr_assert_eq(r, APITOKEN_ERR_CONFIG, "accepted:\n%s", text);
	cr_assert(strncmp(err, path, n) == 0 && err[n] == ':',
	    "err does not start with the path: %s", err);
	cr_assert_eq(sscanf(err + n, ":%d:%d", &l, &col), 2,
	    "no line:column in: %s", err);
	cr_assert_eq(l, line, "line %d, want %d: %s", l, line, err);
	cr_assert_geq(col, 0, "%s", err);
	apitoken_config_free(c);
}

Test(config, full_file)
{
	struct apitoken_config *c;
	char text[1024];
	int r;

	snprintf(text, sizeof(text),
	    "# every key\n"
	    "store: %s/db/tokens\n"
	    "state_dir: %s/st\n"
	    "token_prefix: corp1\n"
	    "default_lifetime: 30d\n"
	    "max_lifetime: 2y\n"
	    "lock_timeout: 5s\n"
	    "max_store_size: 64M\n", dir, dir);
	r = load_text(text, &c);
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_str_eq(apitoken_config_path(c), path);
	cr_assert_not_null(strstr(apitoken_config_store(c), "/db/tokens"));
	cr_assert_eq(strncmp(apitoken_config_store(c), dir, strlen(dir)), 0);
	cr_assert_not_null(strstr(apitoken_config_state_dir(c), "/st"));
	cr_assert_str_eq(apitoken_config_token_prefix(c), "corp1");
	cr_assert_eq(apitoken_config_default_lifetime(c), 30 * 86400);
	cr_assert_eq(apitoken_config_max_lifetime(c), 2 * 365 * 86400);
	cr_assert_eq(apitoken_config_lock_timeout_ms(c), 5000);
	cr_assert_eq(apitoken_config_max_store_size(c), 64ull << 20);
	apitoken_config_free(c);
	apitoken_config_free(NULL);
}

Test(config, quoted_scalars_and_never)
{
	struct apitoken_config *c;
	int r;

	r = load_text("token_prefix: \"abc\"\n"
	    "default_lifetime: 'never'\n"
	    "max_lifetime: never\n"
	    "max_store_size: 8192\n", &c);
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_str_eq(apitoken_config_token_prefix(c), "abc");
	cr_assert_eq(apitoken_config_default_lifetime(c), APITOKEN_NEVER);
	cr_assert_eq(apitoken_config_max_lifetime(c), APITOKEN_NEVER);
	cr_assert_eq(apitoken_config_max_store_size(c), 8192u);
	apitoken_config_free(c);
}

Test(config, defaults_when_keys_omitted)
{
	struct apitoken_config *c;
	int r;

	r = load_text("# only one key\nlock_timeout: 10s\n", &c);
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_str_eq(apitoken_config_store(c), "/var/lib/apitoken/tokens");
	cr_assert_str_eq(apitoken_config_state_dir(c),
	    "/var/lib/apitoken/state");
	cr_assert_str_eq(apitoken_config_token_prefix(c), "apitok");
	cr_assert_eq(apitoken_config_default_lifetime(c), 90 * 86400);
	cr_assert_eq(apitoken_config_max_lifetime(c), 365 * 86400);
	cr_assert_eq(apitoken_config_lock_timeout_ms(c), 10000);
	cr_assert_eq(apitoken_config_max_store_size(c), 1ull << 30);
	apitoken_config_free(c);
}

Test(config, empty_file_loads_or_fails_cleanly)
{
	struct apitoken_config *c;
	int r;

	r = load_text("", &c);
	cr_assert(r == 0 || r == APITOKEN_ERR_CONFIG, "r = %d", r);
	if (r == 0) {
		cr_assert_str_eq(apitoken_config_token_prefix(c), "apitok");
		apitoken_config_free(c);
	} else {
		cr_assert_not_null(strstr(err, path), "%s", err);
	}
	r = load_text("# comments only\n\n", &c);
	cr_assert(r == 0 || r == APITOKEN_ERR_CONFIG, "r = %d", r);
	apitoken_config_free(c);
}

Test(config, missing_file)
{
	struct apitoken_config *c = (struct apitoken_config *)dir;
	int r;

	r = apitoken_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(r, APITOKEN_ERR_CONFIG);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, path), "err: %s", err);
	/* err may be NULL */
	r = apitoken_config_load(path, &c, NULL, 0);
	cr_assert_eq(r, APITOKEN_ERR_CONFIG);
}

Test(config, directory_is_not_a_config)
{
	struct apitoken_config *c = NULL;

	cr_assert_eq(apitoken_config_load(dir, &c, err, sizeof(err)),
	    APITOKEN_ERR_CONFIG);
	cr_assert_null(c);
}

Test(config, unknown_key)
{
	bad_at("token_prefix: abc\nlock_timeout: 5s\nbogus: 1\n", 3);
	bad_at("Store: /x\n", 1);
	bad_at("# c\n\ntoken-prefix: abc\n", 3);
}

Test(config, wrong_type)
{
	bad_at("token_prefix: abc\nstore: [a, b]\n", 2);
	bad_at("store:\n  - /a\n  - /b\n", 2);
	bad_at("token_prefix: {a: b}\n", 1);
	bad_at("lock_timeout: 5s\nmax_lifetime:\n  x: 1\n", 3);
}

Test(config, bad_durations)
{
	bad_at("default_lifetime: 90x\n", 1);
	bad_at("token_prefix: abc\nmax_lifetime: -1d\n", 2);
	bad_at("default_lifetime: 1.5d\n", 1);
	bad_at("default_lifetime: 0s\n", 1);
	bad_at("default_lifetime: d\n", 1);
	bad_at("default_lifetime: 99999999999999y\n", 1);
	bad_at("lock_timeout: forever\n", 1);
	bad_at("max_lifetime: 12\n", 1);
}

Test(config, bad_paths)
{
	bad_at("store: var/lib/tokens\n", 1);
	bad_at("token_prefix: abc\nstate_dir: state\n", 2);
	bad_at("store: ''\n", 1);
}

Test(config, bad_prefix)
{
	bad_at("token_prefix: Api-Tok\n", 1);
	bad_at("token_prefix: API\n", 1);
	bad_at("token_prefix: a_b\n", 1);
	bad_at("token_prefix: ''\n", 1);
	bad_at("token_prefix: abcdefghij0123456\n", 1);
}

Test(config, bad_size)
{
	bad_at("max_store_size: 12Q\n", 1);
	bad_at("max_store_size: -5\n", 1);
	bad_at("max_store_size: lots\n", 1);
	bad_at("max_store_size: 99999999999999999999999G\n", 1);
}

Test(config, invalid_yaml)
{
	struct apitoken_config *c;
	size_t n = strlen(path);
	int l, col;

	cr_assert_eq(load_text("store: /a\ntoken_prefix: [unclosed\n", &c),
	    APITOKEN_ERR_CONFIG);
	cr_assert(strncmp(err, path, n) == 0, "%s", err);
	cr_assert_eq(sscanf(err + n, ":%d:%d", &l, &col), 2,
	    "no position: %s", err);
	cr_assert_eq(load_text("store: /a\n  bad indent: x\n", &c),
	    APITOKEN_ERR_CONFIG);
	cr_assert(strncmp(err, path, n) == 0, "%s", err);
	cr_assert_eq(load_text("\"unterminated\n", &c), APITOKEN_ERR_CONFIG);
	cr_assert_eq(load_text("\t- tab\n", &c), APITOKEN_ERR_CONFIG);
}

Test(config, not_a_mapping)
{
	struct apitoken_config *c;

	cr_assert_eq(load_text("- store\n- state_dir\n", &c),
	    APITOKEN_ERR_CONFIG);
	cr_assert_eq(load_text("just a string\n", &c), APITOKEN_ERR_CONFIG);
	cr_assert_not_null(strstr(err, path), "%s", err);
}

Test(config, binary_garbage)
{
	struct apitoken_config *c = NULL;
	char junk[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)((i * 131u + 7u) & 0xff);
	tl_write_file(path, junk, sizeof(junk), 0600);
	r = apitoken_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(r, APITOKEN_ERR_CONFIG);
	cr_assert_null(c);
}
