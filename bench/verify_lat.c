/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify_lat - in-process verify latency against one store.
 *
 *   verify_lat CONFIG SAMPLE_FILE [COLD_ITERS [WARM_ITERS [EVICT_ITERS]]]
 *
 * SAMPLE_FILE is mkstore's "token TAB user" list.  Each iteration picks a
 * random sampled token (so a random id, anywhere in the store) and times
 * one call with CLOCK_MONOTONIC:
 *   cold:  apitoken_verify_once() - open, mmap, look-up, parse, hash,
 *          compare, policy, close: what pam_apitoken does per login;
 *   warm:  apitoken_verify() on a store opened once: the library's floor;
 *   evict: verify_once after posix_fadvise(POSIX_FADV_DONTNEED) of the
 *          store file, so the look-up reads its pages from disk.
 * Every call must return "accepted"; anything else aborts the benchmark.
 * Prints "key value" lines: median and p99 in microseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apitoken.h"

struct tok {
	char token[APITOKEN_TOKEN_MAX + 1];
	char user[APITOKEN_USER_MAX + 1];
};

struct ctx {
	struct apitoken_config *cfg;
	struct apitoken_store *store;
	struct tok *v;
	size_t n;
	uint64_t rng;
	int evict_fd;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t
pick(struct ctx *c)
{
	/* xorshift64*: cheap and good enough to scatter the picks */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (size_t)((c->rng * 2685821657736338717ULL) >> 11) % c->n;
}

static void
load_sample(struct ctx *c, const char *path)
{
	char line[1024], *tab;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(stderr, "verify_lat: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (strlen(line) >= sizeof(c->v->token) ||
		    strlen(tab + 1) >= sizeof(c->v->user)) {
			fprintf(stderr, "verify_lat: %s: line too long\n", path);
			exit(1);
		}
		if (c->n == cap) {
			cap = cap ? cap * 2 : 1024;
			c->v = realloc(c->v, cap * sizeof(*c->v));
			if (c->v == NULL)
				exit(1);
		}
		memcpy(c->v[c->n].token, line, strlen(line) + 1);
		memcpy(c->v[c->n].user, tab + 1, strlen(tab + 1) + 1);
		c->n++;
	}
	fclose(f);
	if (c->n == 0) {
		fprintf(stderr, "verify_lat: %s: no tokens\n", path);
		exit(1);
	}
}

enum mode { COLD, WARM, EVICT };

/* One timed verify of a random sampled token; ns. */
static uint64_t
one(struct ctx *c, enum mode m)
{
	const struct tok *t = &c->v[pick(c)];
	struct apitoken_request req = { t->user, "sshd", "10.1.2.3", 0 };
	struct apitoken_result res;
	enum apitoken_reason why;
	uint64_t t0, t1;

	if (m == EVICT)
		(void)posix_fadvise(c->evict_fd, 0, 0, POSIX_FADV_DONTNEED);
	t0 = now_ns();
	if (m == WARM)
		why = apitoken_verify(c->store, t->token, strlen(t->token), &req,
		    &res);
	else
		why = apitoken_verify_once(c->cfg, t->token, strlen(t->token),
		    &req, &res);
	t1 = now_ns();
	if (why != APITOKEN_ACCEPTED) {
		fprintf(stderr, "verify_lat: token %s for %s: %s %s\n", res.id,
		    t->user, apitoken_reason_str(why), res.detail);
		exit(1);
	}
	return t1 - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
run(struct ctx *c, enum mode m, size_t iters, const char *name)
{
	uint64_t *ns = calloc(iters, sizeof(*ns));
	size_t i;

	if (ns == NULL)
		exit(1);
	for (i = 0; i < iters / 10 + 1; i++)	/* warm-up, not counted */
		(void)one(c, m == EVICT ? COLD : m);
	for (i = 0; i < iters; i++)
		ns[i] = one(c, m);
	qsort(ns, iters, sizeof(*ns), cmp_u64);
	printf("%s_median_us %.2f\n", name, (double)ns[iters / 2] / 1000.0);
	printf("%s_p99_us %.2f\n", name,
	    (double)ns[(iters * 99) / 100] / 1000.0);
	printf("%s_iters %zu\n", name, iters);
	free(ns);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	char err[512] = "";
	size_t cold = 20000, warm = 200000, evict = 0;
	int r;

	memset(&c, 0, sizeof(c));
	c.rng = 0x9e3779b97f4a7c15ULL;
	c.evict_fd = -1;
	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: verify_lat CONFIG SAMPLE_FILE "
		    "[COLD [WARM [EVICT]]]\n");
		return 2;
	}
	if (argc > 3)
		cold = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		warm = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		evict = strtoul(argv[5], NULL, 10);
	load_sample(&c, argv[2]);
	if ((r = apitoken_config_load(argv[1], &c.cfg, err, sizeof(err))) != 0) {
		fprintf(stderr, "verify_lat: %s\n", err);
		return 1;
	}
	if (cold)
		run(&c, COLD, cold, "cold");
	if (warm) {
		if ((r = apitoken_store_open(c.cfg, &c.store, err,
		    sizeof(err))) != APITOKEN_OK) {
			fprintf(stderr, "verify_lat: %s\n", err);
			return 1;
		}
		run(&c, WARM, warm, "warm");
		apitoken_store_close(c.store);
	}
	if (evict) {
		c.evict_fd = open(apitoken_config_store(c.cfg),
		    O_RDONLY | O_CLOEXEC);
		if (c.evict_fd < 0) {
			perror("verify_lat: store");
			return 1;
		}
		run(&c, EVICT, evict, "evict");
		close(c.evict_fd);
	}
	apitoken_config_free(c.cfg);
	free(c.v);
	return 0;
}
