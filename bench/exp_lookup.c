/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exp_lookup - an experiment, not part of the table: what a cold look-up
 * (open the store, find one id, close) costs with three strategies; it
 * sized the move from mmap to pread in BENCHMARKS.md ("History").
 *
 *   exp_lookup STORE SAMPLE_FILE [ITERS]
 *
 * It only locates the line of an id (compares the 12-byte id at line
 * starts); it parses no record and writes nothing, so it is no second
 * reader of the record format.  Strategies, each timed like verify_once
 * (open dir + fstat, openat + fstat, ..., close):
 *   mmap-bisect   what store.c did until b18ad4b: mmap, MADV_RANDOM,
 *                 bisect by byte offset, back up to the line start, munmap;
 *   pread-bisect  the same bisection on pread(2) windows of 1 KiB:
 *                 no page tables to build and tear down, no fault-around;
 *   pread-interp  interpolation search on pread windows: ids are uniform
 *                 random base62, so the expected position of an id is
 *                 known; falls back to bisection when a probe does not
 *                 shrink the range enough (what store.c does now).
 * Prints per strategy: median and p99 (us) and probes per look-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apitoken.h"

#define IDL APITOKEN_ID_LEN
#define WIN 1024
#define MAXIDS 20000

struct ctx {
	char dir[4096];
	const char *base;
	char (*ids)[IDL + 1];
	size_t nids;
	uint64_t rng;
	size_t probes;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
b62(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return 0;
}

/* An id's position in [0, 1) from its first 6 digits. */
static double
id_frac(const char *id)
{
	double v = 0;
	int i;

	for (i = 0; i < 6; i++)
		v = v * 62 + b62((unsigned char)id[i]);
	return v / 56800235584.0;	/* 62^6 */
}

/* ------------------------------------------------------------- mmap */

static int
find_mmap(struct ctx *c, const char *m, size_t size, const char *id)
{
	const char *body = memchr(m, '\n', size), *end = m + size - 5;
	const char *lo, *hi, *ls, *le;
	int cmp;

	if (body == NULL || memcmp(end, "#end\n", 5) != 0)
		return -1;
	for (lo = body + 1, hi = end; lo < hi;) {
		ls = lo + (hi - lo) / 2;
		while (ls > lo && ls[-1] != '\n')
			ls--;
		if ((le = memchr(ls, '\n', (size_t)(hi - ls))) == NULL)
			return -1;
		c->probes++;
		if ((cmp = strncmp(id, ls, IDL)) == 0)
			return 0;
		if (cmp < 0)
			hi = ls;
		else
			lo = le + 1;
	}
	return 1;
}

/* ------------------------------------------------------------- pread */

/*
 * The line containing byte mid of [lo, hi): its start and the start of
 * the next line, and its first IDL bytes into id.  One pread of a 1 KiB
 * window around mid in the common case (lines are ~230 bytes); a longer
 * line takes more reads.
 */
static int
line_at(int fd, off_t lo, off_t hi, off_t mid, off_t *ls, off_t *next,
    char id[IDL])
{
	char buf[WIN];
	off_t w0 = mid - WIN / 2 < lo ? lo : mid - WIN / 2, ws = w0, p;
	size_t want = (size_t)(hi - w0 < WIN ? hi - w0 : WIN);
	ssize_t n = pread(fd, buf, want, w0);
	char *nl;

	if (n != (ssize_t)want)
		return -1;
	for (p = mid; p > w0 && buf[p - 1 - w0] != '\n'; p--)
		;
	if ((p > w0 || w0 == lo) && p + IDL <= w0 + n &&
	    (nl = memchr(buf + (p - w0), '\n', (size_t)(w0 + n - p))) != NULL) {
		memcpy(id, buf + (p - w0), IDL);	/* the common case */
		*ls = p;
		*next = w0 + (nl - buf) + 1;
		return 0;
	}
	while (p == ws && ws > lo) {	/* the line starts before the window */
		ws = ws - WIN < lo ? lo : ws - WIN;
		if (pread(fd, buf, (size_t)(p - ws), ws) != p - ws)
			return -1;
		for (; p > ws && buf[p - 1 - ws] != '\n'; p--)
			;
	}
	*ls = p;
	for (ws = p;;) {	/* forward to the line end */
		want = (size_t)(hi - ws < WIN ? hi - ws : WIN);
		if ((n = pread(fd, buf, want, ws)) <= 0)
			return -1;
		if (ws == p) {
			if (n < IDL)
				return -1;
			memcpy(id, buf, IDL);
		}
		if ((nl = memchr(buf, '\n', (size_t)n)) != NULL) {
			*next = ws + (nl - buf) + 1;
			return 0;
		}
		ws += n;
	}
}

static int
find_pread(struct ctx *c, int fd, off_t size, const char *id, int interp)
{
	char buf[WIN], lid[IDL];
	double vlo = 0, vhi = 1, f;
	off_t lo, hi, mid, ls, next, width;
	ssize_t n;
	int cmp, bisect = !interp;

	if ((n = pread(fd, buf, sizeof(buf), 0)) <= 0 ||
	    memchr(buf, '\n', (size_t)n) == NULL)
		return -1;
	lo = (char *)memchr(buf, '\n', (size_t)n) - buf + 1;
	if (pread(fd, buf, 5, size - 5) != 5 || memcmp(buf, "#end\n", 5) != 0)
		return -1;
	hi = size - 5;
	while (lo < hi) {
		width = hi - lo;
		if (bisect || vhi <= vlo)
			mid = lo + width / 2;
		else {
			f = (id_frac(id) - vlo) / (vhi - vlo);
			f = f < 0 ? 0 : f > 1 ? 1 : f;
			mid = lo + (off_t)((double)width * f);
			if (mid >= hi)
				mid = hi - 1;
		}
		if (line_at(fd, lo, hi, mid, &ls, &next, lid) != 0)
			return -1;
		c->probes++;
		if ((cmp = strncmp(id, lid, IDL)) == 0)
			return 0;
		if (cmp < 0) {
			hi = ls;
			vhi = id_frac(lid);
		} else {
			lo = next;
			vlo = id_frac(lid);
		}
		/* a probe that kept > 1/2 of the range: bisect next time */
		if (interp)
			bisect = hi - lo > width / 2;
	}
	return 1;
}

/* ------------------------------------------------------------- timing */

enum strategy { MMAP_BISECT, PREAD_BISECT, PREAD_INTERP, NSTRATEGY };
static const char *const names[NSTRATEGY] = {
	"mmap-bisect (before b18ad4b)", "pread-bisect",
	"pread-interp (the library)",
};

static int
lookup_once(struct ctx *c, enum strategy s, const char *id)
{
	struct stat st;
	void *m;
	int dfd, fd, r = -1;

	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) != 0)
		goto out;
	fd = openat(dfd, c->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) == 0) {
		if (s == MMAP_BISECT) {
			m = mmap(NULL, (size_t)st.st_size, PROT_READ,
			    MAP_PRIVATE, fd, 0);
			if (m != MAP_FAILED) {
				(void)madvise(m, (size_t)st.st_size,
				    MADV_RANDOM);
				r = find_mmap(c, m, (size_t)st.st_size, id);
				munmap(m, (size_t)st.st_size);
			}
		} else
			r = find_pread(c, fd, st.st_size, id,
			    s == PREAD_INTERP);
	}
	close(fd);
out:
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
run(struct ctx *c, enum strategy s, size_t iters)
{
	uint64_t *ns = calloc(iters, sizeof(*ns)), t0;
	size_t i, k;
	int r;

	if (ns == NULL)
		exit(1);
	for (i = 0; i < iters + iters / 10; i++) {
		c->rng ^= c->rng << 13;
		c->rng ^= c->rng >> 7;
		c->rng ^= c->rng << 17;
		k = (size_t)(c->rng % c->nids);
		if (i == iters / 10)
			c->probes = 0;
		t0 = now_ns();
		r = lookup_once(c, s, c->ids[k]);
		if (r != 0) {
			fprintf(stderr, "exp_lookup: %s: id %s: %s\n", names[s],
			    c->ids[k], r < 0 ? "error" : "not found");
			exit(1);
		}
		if (i >= iters / 10)
			ns[i - iters / 10] = now_ns() - t0;
	}
	qsort(ns, iters, sizeof(*ns), cmp_u64);
	printf("%-34s median %7.2f us  p99 %7.2f us  probes %5.1f\n", names[s],
	    (double)ns[iters / 2] / 1e3, (double)ns[iters * 99 / 100] / 1e3,
	    (double)c->probes / (double)iters);
	free(ns);
}

static void
load_ids(struct ctx *c, const char *path)
{
	char line[1024], *u;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(stderr, "exp_lookup: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((c->ids = calloc(MAXIDS, sizeof(*c->ids))) == NULL)
		exit(1);
	while (c->nids < MAXIDS && fgets(line, sizeof(line), f) != NULL)
		if ((u = strchr(line, '_')) != NULL && strlen(u) > IDL) {
			memcpy(c->ids[c->nids], u + 1, IDL);
			c->ids[c->nids++][IDL] = '\0';
		}
	fclose(f);
	if (c->nids == 0)
		exit(1);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	char *slash;
	size_t iters = 20000;
	int s;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: exp_lookup STORE SAMPLE_FILE [ITERS]\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.rng = 88172645463325252ULL;
	if (argc == 4)
		iters = strtoul(argv[3], NULL, 10);
	if (iters < 10 || strlen(argv[1]) >= sizeof(c.dir) ||
	    (slash = strrchr(argv[1], '/')) == NULL || slash == argv[1])
		return 2;
	memcpy(c.dir, argv[1], (size_t)(slash - argv[1]));
	c.base = slash + 1 - argv[1] + argv[1];
	load_ids(&c, argv[2]);
	for (s = 0; s < NSTRATEGY; s++)
		run(&c, (enum strategy)s, iters);
	free(c.ids);
	return 0;
}
