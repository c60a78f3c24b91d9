/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exp_txn - an experiment, not part of the table: the library's share of
 * a tokenctl write, to tell what tokenctl adds from what the store
 * design costs.  Each step is timed on the store named by CONFIG:
 *
 *   begin+free       apitoken_txn_begin (lock, map, validate every
 *                    record) then discard: the floor of any write;
 *   begin+foreach    the same plus apitoken_txn_foreach over every
 *                    record with a no-op callback (what tokenctl does to
 *                    load the store into memory);
 *   issue 1          begin, one apitoken_txn_insert, commit (write the
 *                    temp file, fsync, rename, fsync the directory);
 *   issue 1000       begin, 1,000 inserts, commit.
 *
 *   exp_txn CONFIG [RUNS]     prints "step median_ms" lines
 *
 * It inserts 1 + 1,000 tokens per run into the store (root's, random).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apitoken.h"

#define MAXRUNS 15

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
check(int r, const char *what, const char *err)
{
	if (r != APITOKEN_OK) {
		fprintf(stderr, "exp_txn: %s: %s: %s\n", what,
		    apitoken_strerror(r), err);
		exit(1);
	}
}

static int
noop(struct apitoken_record **rec, void *ctx)
{
	(void)rec;
	++*(size_t *)ctx;
	return 0;
}

static void
insert_new(struct apitoken_txn *txn, unsigned serial)
{
	char tok[APITOKEN_TOKEN_MAX + 1], hash[APITOKEN_HASH_MAX], label[64];
	char err[256] = "";
	struct apitoken_token parts;
	struct apitoken_record *rec = apitoken_record_new();
	time_t now = time(NULL);

	if (rec == NULL)
		exit(1);
	check(apitoken_token_generate(APITOKEN_DEFAULT_PREFIX, tok,
	    sizeof(tok), &parts, hash), "generate", "");
	memcpy(rec->id, parts.id, sizeof(rec->id));
	apitoken_token_clear(&parts);
	apitoken_wipe(tok, sizeof(tok));
	snprintf(label, sizeof(label), "exp_txn %ld %u", (long)now, serial);
	if (apitoken_record_set(&rec->user, "root") != 0 ||
	    apitoken_record_set(&rec->hash, hash) != 0 ||
	    apitoken_record_set(&rec->label, label) != 0 ||
	    apitoken_record_set(&rec->created_by, "bench") != 0)
		exit(1);
	rec->status = APITOKEN_ACTIVE;
	rec->created = rec->updated = now;
	check(apitoken_txn_insert(txn, rec, err, sizeof(err)), "insert", err);
	apitoken_record_free(rec);
}

/* One timed step; kind 0 begin+free, 1 begin+foreach, else n inserts. */
static double
step(const struct apitoken_config *cfg, int kind, unsigned n, unsigned *serial)
{
	struct apitoken_txn *txn = NULL;
	char err[512] = "";
	size_t count = 0;
	unsigned i;
	double t0 = now_ms();

	check(apitoken_txn_begin(cfg, 0, &txn, err, sizeof(err)), "begin", err);
	if (kind == 1)
		check(apitoken_txn_foreach(txn, noop, &count, err, sizeof(err)),
		    "foreach", err);
	if (kind == 2) {
		for (i = 0; i < n; i++)
			insert_new(txn, (*serial)++);
		check(apitoken_txn_commit(txn, err, sizeof(err)), "commit", err);
	}
	apitoken_txn_free(txn);
	return now_ms() - t0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "begin+free", "begin+foreach",
	    "issue_1", "issue_1000" };
	struct apitoken_config *cfg = NULL;
	double ms[MAXRUNS];
	char err[512] = "";
	unsigned serial = 0, runs = 3, r;
	int k;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: exp_txn CONFIG [RUNS]\n");
		return 2;
	}
	if (argc == 3)
		runs = (unsigned)strtoul(argv[2], NULL, 10);
	if (runs == 0 || runs > MAXRUNS)
		return 2;
	check(apitoken_config_load(argv[1], &cfg, err, sizeof(err)), "config",
	    err);
	for (k = 0; k < 4; k++) {
		for (r = 0; r < runs; r++)
			ms[r] = step(cfg, k < 2 ? k : 2, k == 3 ? 1000 : 1,
			    &serial);
		qsort(ms, runs, sizeof(double), cmp_d);
		printf("%s_ms %.1f\n", names[k], ms[runs / 2]);
	}
	apitoken_config_free(cfg);
	return 0;
}
