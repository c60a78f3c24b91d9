/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.c - the private temp directory, file helpers and the record
 * round-trip oracle shared by the libFuzzer targets.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fuzz_env env;
static int env_ready;

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==FUZZ== invariant broken at %s:%d: %s\n==FUZZ== ",
	    file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void
env_cleanup(void)
{
	if (env_ready && strstr(env.dir, "/apitoken-fuzz.") != NULL)
		(void)tl_rmrf(env.dir);
	env_ready = 0;
}

const struct fuzz_env *
fuzz_env(void)
{
	const char *tmp = getenv("TMPDIR");

	if (env_ready)
		return &env;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(env.dir, sizeof(env.dir), "%s/apitoken-fuzz.XXXXXX", tmp);
	FUZZ_ASSERT(mkdtemp(env.dir) != NULL, "mkdtemp %s: %s", env.dir,
	    strerror(errno));
	snprintf(env.store, sizeof(env.store), "%s/tokens", env.dir);
	snprintf(env.state, sizeof(env.state), "%s/state", env.dir);
	snprintf(env.conf, sizeof(env.conf), "%s/apitoken.yaml", env.dir);
	FUZZ_ASSERT(mkdir(env.state, 0700) == 0, "mkdir %s: %s", env.state,
	    strerror(errno));
	env_ready = 1;
	atexit(env_cleanup);
	return &env;
}

struct apitoken_config *
fuzz_env_config(void)
{
	const struct fuzz_env *e = fuzz_env();
	struct apitoken_config *cfg = NULL;
	char buf[2048], err[512] = "";
	int n, r;

	n = snprintf(buf, sizeof(buf), "store: %s\nstate_dir: %s\n"
	    "lock_timeout: 1s\nmax_store_size: 1M\n", e->store, e->state);
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof(buf), "config too long");
	tl_write_file(e->conf, buf, (size_t)n, 0600);
	r = apitoken_config_load(e->conf, &cfg, err, sizeof(err));
	FUZZ_ASSERT(r == 0 && cfg != NULL, "config_load = %d: %s", r, err);
	return cfg;
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s != NULL, "out of memory");
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static int
str_list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

int
fuzz_record_equal(const struct apitoken_record *a,
    const struct apitoken_record *b)
{
	return strcmp(a->id, b->id) == 0 && a->status == b->status &&
	    strcmp(a->user, b->user) == 0 && strcmp(a->hash, b->hash) == 0 &&
	    strcmp(a->label, b->label) == 0 &&
	    strcmp(a->description, b->description) == 0 &&
	    strcmp(a->external_id, b->external_id) == 0 &&
	    str_list_equal(a->services, a->n_services, b->services,
	    b->n_services) &&
	    str_list_equal(a->from, a->n_from, b->from, b->n_from) &&
	    a->created == b->created && a->updated == b->updated &&
	    strcmp(a->created_by, b->created_by) == 0 &&
	    a->expires == b->expires && a->revoked_at == b->revoked_at &&
	    strcmp(a->revoke_reason, b->revoke_reason) == 0 &&
	    strcmp(a->parent, b->parent) == 0;
}

int
fuzz_record_roundtrip(const char *line, size_t len)
{
	struct apitoken_record *r1 = NULL, *r2 = NULL, *r3 = NULL;
	char *l1 = NULL, *l2 = NULL, err[256] = "";
	size_t n1 = 0, n2 = 0, n;
	int r;

	if (apitoken_record_parse(line, len, &r1, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(r1 == NULL, "record_parse failed but set *recp");
		return 0;
	}
	FUZZ_ASSERT(r1 != NULL, "record_parse OK without a record");
	FUZZ_ASSERT(apitoken_record_check(r1, err, sizeof(err)) == 0,
	    "a parsed record fails record_check: %s", err);
	r = apitoken_record_format(r1, &l1, &n1);
	FUZZ_ASSERT(r == 0, "a parsed record does not format (%d)", r);
	FUZZ_ASSERT(n1 > 0 && l1[n1 - 1] == '\n' &&
	    memchr(l1, '\n', n1 - 1) == NULL && strlen(l1) == n1,
	    "formatted line is not one line ending in \\n: %.*s", (int)n1, l1);
	/* the parser accepts only canonical lines (6cd7600): what it reads
	 * is exactly what the serializer writes back */
	n = len > 0 && line[len - 1] == '\n' ? len - 1 : len;
	FUZZ_ASSERT(n1 == n + 1 && memcmp(l1, line, n) == 0,
	    "accepted a line the serializer writes differently:\n%.*s\n%.*s",
	    (int)n, line, (int)n1, l1);
	r = apitoken_record_parse(l1, n1, &r2, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "formatted line does not parse back (%s): %.*s",
	    err, (int)n1, l1);
	FUZZ_ASSERT(fuzz_record_equal(r1, r2),
	    "parse(format(parse(x))) differs from parse(x): %.*s", (int)n1, l1);
	r = apitoken_record_format(r2, &l2, &n2);
	FUZZ_ASSERT(r == 0 && n1 == n2 && memcmp(l1, l2, n1) == 0,
	    "format is not stable:\n%.*s%.*s", (int)n1, l1, (int)n2, l2);
	/* the same line without its '\n' parses to the same record */
	r = apitoken_record_parse(l1, n1 - 1, &r3, err, sizeof(err));
	FUZZ_ASSERT(r == 0 && fuzz_record_equal(r1, r3),
	    "line without its newline parses differently: %.*s", (int)n1, l1);
	/* a copy is the same record */
	apitoken_record_free(r3);
	r3 = apitoken_record_dup(r1);
	FUZZ_ASSERT(r3 != NULL && fuzz_record_equal(r1, r3), "record_dup");
	apitoken_record_free(r1);
	apitoken_record_free(r2);
	apitoken_record_free(r3);
	free(l1);
	free(l2);
	return 1;
}
