/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - reading the store: a safe open, header and trailer checks,
 * and a search by id over the sorted record lines through a read window:
 * pread(2) on the kept-open file, so a look-up reads a few KiB, maps
 * nothing, and memory does not grow with the store (the module); or, for
 * a handle opened with apitoken_store_open_mapped (apitokend), a
 * read-only mapping of the whole file, so a look-up makes no system
 * call.  Walks (foreach) and writers (txn.c) map the file.  Readers never
 * lock: writers replace the file by rename(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct apitoken_store {
	int fd;			/* kept open, O_CLOEXEC; read with pread(2) */
	const char *map;	/* or: the whole file mapped (size bytes) */
	uint64_t size, maxsize;
	uint64_t body;		/* offset of the first record line */
	uint64_t end;		/* offset of the trailer line */
	char *path;
	char prefix[APITOKEN_PREFIX_MAX + 1];
	struct svc_aliases aliases;	/* a copy of the config's */
	struct hostid host;		/* a copy of the config's */
	/* a fleet replica (postgresql configured): its state file, read
	 * at every verification for staleness (replica.c) */
	int rdirfd;			/* the store's directory; -1: none */
	char *rpath;			/* "<store>.replica" */
	int64_t max_staleness;
};

/* Header check on the first bytes of the file (n <= its size); *bodyp
 * gets the offset of the first record line. */
static int
check_header(const char *head, size_t n, const char *path, uint64_t *bodyp,
    char *err, size_t errlen)
{
	static const char magic[] = "#apitoken-store\t";
	const char *hdr = apitoken_store_header();
	size_t scan = strlen(hdr) + 1 < n ? strlen(hdr) + 1 : n;
	const char *nl = memchr(head, '\n', scan);	/* never the whole file */
	const char *v;

	n = nl ? (size_t)(nl - head) : scan;
	if (n < sizeof(magic) - 1 || memcmp(head, magic, sizeof(magic) - 1))
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: not a token store (no \"#apitoken-store\" header)",
		    path);
	v = head + sizeof(magic) - 1;
	if (n < sizeof(magic) + 2 || memcmp(v, "v1", 2) != 0 ||
	    (v[2] != '\t' && v[2] != '\n'))
		return set_err(err, errlen, APITOKEN_ERR_STORE_VERSION,
		    "%s:1: unknown store format version (this library reads v1)",
		    path);
	if (nl == NULL || apitoken_store_header_valid(head, n) != 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: v1 header does not list the v1 columns", path);
	*bodyp = (uint64_t)n + 1;
	return APITOKEN_OK;
}

#define TRAILER "\n#end\n"

/* tail: the file's last 6 bytes, or NULL if it is too short to hold a
 * trailer after the header. */
static int
check_trailer(const char *tail, const char *path, char *err, size_t errlen)
{
	if (tail == NULL || memcmp(tail, TRAILER, sizeof(TRAILER) - 1) != 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s: truncated (last line is not \"#end\")", path);
	return APITOKEN_OK;
}

/* size cap and emptiness, from the file's fstat */
static int
check_size(const struct stat *st, const char *path, uint64_t maxsize,
    uint64_t *sizep, char *err, size_t errlen)
{
	if ((uint64_t)st->st_size > maxsize)
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: %lld bytes, larger than max_store_size (%llu)", path,
		    (long long)st->st_size, (unsigned long long)maxsize);
	if (st->st_size == 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s: empty file (no header); run \"tokenctl init\"", path);
	*sizep = (uint64_t)st->st_size;
	return APITOKEN_OK;
}

int
store_map_fd(int fd, const char *path, uint64_t maxsize, struct store_map *m,
    char *err, size_t errlen)
{
	struct stat st;
	uint64_t size = 0, body;
	void *p;
	int r;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &st) != 0)
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if ((r = check_size(&st, path, maxsize, &size, err, errlen)) != 0)
		return r;
	p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return set_err(err, errlen, errno == ENOMEM ? APITOKEN_ERR_NOMEM :
		    APITOKEN_ERR_SYSTEM, "%s: mmap: %s", path, strerror(errno));
	m->base = p;
	m->size = (size_t)size;
	(void)madvise(p, m->size, MADV_RANDOM);
	if ((r = check_header(m->base, m->size, path, &body, err, errlen)) != 0)
		goto fail;
	m->body = m->base + body;
	r = check_trailer(m->size < body + sizeof(TRAILER) - 2 ? NULL :
	    m->base + m->size - (sizeof(TRAILER) - 1), path, err, errlen);
	if (r != APITOKEN_OK)
		goto fail;
	m->end = m->base + m->size - (sizeof(TRAILER) - 2);
	return APITOKEN_OK;
fail:
	store_unmap(m);
	return r;
}

void
store_unmap(struct store_map *m)
{
	if (m->base != NULL)
		munmap((void *)(uintptr_t)m->base, m->size);
	memset(m, 0, sizeof(*m));
}

/* End of the line at p (its '\n'), looking at most STORE_LINE_MAX + 1
 * bytes ahead; NULL for a longer line. */
const char *
store_line_end(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	return memchr(p, '\n', n < STORE_LINE_MAX + 1 ? n : STORE_LINE_MAX + 1);
}

/* The id that starts a record line, or -1 if the line has none. */
int
store_line_id(const char *line, size_t len, char id[APITOKEN_ID_LEN + 1])
{
	size_t i;

	if (len <= APITOKEN_ID_LEN || line[APITOKEN_ID_LEN] != '\t')
		return -1;
	for (i = 0; i < APITOKEN_ID_LEN; i++)
		if (!is_base62((unsigned char)line[i]))
			return -1;
	memcpy(id, line, APITOKEN_ID_LEN);
	id[APITOKEN_ID_LEN] = '\0';
	return 0;
}

/* --------------------------------------------- look-up: the read window
 *
 * A look-up reads small windows of the kept-open file with pread(2)
 * instead of mapping it: no page faults, no page tables, no store pages
 * in the process (BENCHMARKS.md, "Cold look-up strategies").  Windows
 * start at 1 KiB around a probe and grow up to a whole STORE_LINE_MAX
 * either side, so a line longer than that is reported, never read whole.
 * A mapped handle's window is the whole mapping from the start: the same
 * search then never reads, and its scans stay capped as above.
 */
#define WIN_HALF0 512
#define WIN_HALF_MAX (STORE_LINE_MAX + 1)
#define WIN_SIZE (2 * WIN_HALF_MAX)
#define WIN_TAIL 4096	/* a range this small is read whole, once */
#ifndef INTERP_MIN
#define INTERP_MIN 16384
#endif

struct win {		/* bytes [off, off + n) of the store */
	const char *buf;	/* mem, or the mapping */
	uint64_t off;
	size_t n;
	char *mem;		/* WIN_SIZE bytes, for pread */
};

static int
read_at(const struct apitoken_store *s, uint64_t off, size_t n, char *buf,
    char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t r;

	if (s->map != NULL) {
		if (off > s->size || n > s->size - off)
			return set_err(err, errlen, APITOKEN_ERR_INTERNAL,
			    "%s: read past the end", s->path);
		memcpy(buf, s->map + off, n);
		return APITOKEN_OK;
	}
	while (got < n) {
		r = pread(s->fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return set_err(err, errlen, APITOKEN_ERR_SYSTEM,
			    "%s: read: %s", s->path, strerror(errno));
		if (r == 0)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s: truncated (shorter than when opened)", s->path);
		got += (size_t)r;
	}
	return APITOKEN_OK;
}

static int
not_a_record(const struct apitoken_store *s, uint64_t at, char *err,
    size_t errlen)
{
	return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
	    "%s: line at byte %llu is not a record (no id, or longer than %d "
	    "bytes)", s->path, (unsigned long long)at, STORE_LINE_MAX);
}

/*
 * The line of [lo, hi) holding byte mid (lo is a line start, mid < hi):
 * *ls its start, *le its '\n', both inside w.  Both scans are capped at
 * STORE_LINE_MAX, so a huge line cannot make a look-up read the file.
 */
static int
line_at(const struct apitoken_store *s, uint64_t lo, uint64_t hi,
    uint64_t mid, struct win *w, uint64_t *ls, uint64_t *le, char *err,
    size_t errlen)
{
	uint64_t half = WIN_HALF0, ws, we, lim;
	const char *q;
	int r;

	for (;; half = half * 2 < WIN_HALF_MAX ? half * 2 : WIN_HALF_MAX) {
		ws = mid - lo > half && hi - lo > WIN_TAIL ? mid - half : lo;
		we = hi - mid > half && hi - lo > WIN_TAIL ? mid + half : hi;
		if (ws < w->off || we > w->off + w->n) {	/* not held yet */
			if ((r = read_at(s, ws, (size_t)(we - ws), w->mem, err,
			    errlen)) != APITOKEN_OK)
				return r;
			w->buf = w->mem;
			w->off = ws;
			w->n = (size_t)(we - ws);
		}
		q = memrchr(w->buf + (ws - w->off), '\n', (size_t)(mid - ws));
		if (q != NULL)
			*ls = w->off + (uint64_t)(q - w->buf) + 1;
		else if (ws == lo)
			*ls = lo;
		else if (half == WIN_HALF_MAX)
			return not_a_record(s, ws, err, errlen);
		else
			continue;
		lim = we - *ls < STORE_LINE_MAX + 1 ? we : *ls + STORE_LINE_MAX + 1;
		q = memchr(w->buf + (*ls - w->off), '\n', (size_t)(lim - *ls));
		if (q != NULL) {
			*le = w->off + (uint64_t)(q - w->buf);
			return APITOKEN_OK;
		}
		if (we == hi || lim == *ls + STORE_LINE_MAX + 1)
			return not_a_record(s, *ls, err, errlen);
	}
}

/* Whether the (up to) APITOKEN_ID_LEN bytes at off equal id: from the
 * window if it holds them, else read into tmp. */
static int
id_at(const struct apitoken_store *s, const struct win *w, uint64_t off,
    const char *id, char *tmp, int *same, char *err, size_t errlen)
{
	uint64_t n = s->size - off < APITOKEN_ID_LEN ? s->size - off :
	    APITOKEN_ID_LEN;
	const char *p = tmp;
	int r;

	*same = 0;
	if (off >= w->off && off + n <= w->off + w->n)
		p = w->buf + (off - w->off);
	else if ((r = read_at(s, off, (size_t)n, tmp, err, errlen)) != 0)
		return r;
	*same = n == APITOKEN_ID_LEN && memcmp(p, id, APITOKEN_ID_LEN) == 0;
	return APITOKEN_OK;
}

/*
 * The id before and after the hit [ls, le] must differ from it: a
 * duplicated id is corruption.  The previous line's start is searched at
 * most STORE_LINE_MAX bytes back, in the window first.  tmp: WIN_HALF_MAX
 * bytes (the hit line in w is left alone).
 */
static int
neighbours_differ(const struct apitoken_store *s, const struct win *w,
    uint64_t ls, uint64_t le, const char *id, char *tmp, int *dup,
    char *err, size_t errlen)
{
	uint64_t a, e, p;
	const char *q = NULL;
	int r;

	*dup = 0;
	if (le + 1 < s->end && ((r = id_at(s, w, le + 1, id, tmp, dup, err,
	    errlen)) != APITOKEN_OK || *dup))
		return r;
	if (ls <= s->body)
		return APITOKEN_OK;
	a = ls - s->body > STORE_LINE_MAX ? ls - STORE_LINE_MAX : s->body;
	p = a;
	if (w->off < ls - 1)	/* the window's part of [a, ls - 1) */
		q = memrchr(w->buf + (a > w->off ? a - w->off : 0), '\n',
		    (size_t)(ls - 1 - (a > w->off ? a : w->off)));
	if (q != NULL)
		p = w->off + (uint64_t)(q - w->buf) + 1;
	else if (a < w->off) {	/* the rest, before the window */
		e = w->off < ls - 1 ? w->off : ls - 1;
		if ((r = read_at(s, a, (size_t)(e - a), tmp, err,
		    errlen)) != APITOKEN_OK)
			return r;
		if ((q = memrchr(tmp, '\n', (size_t)(e - a))) != NULL)
			p = a + (uint64_t)(q - tmp) + 1;
	}
	return id_at(s, w, p, id, tmp, dup, err, errlen);
}

/* Where an id falls in [0, 1): ids are uniformly random base62
 * (0-9 A-Z a-z, in byte order). */
static double
id_frac(const char *id)
{
	double f = 0, scale = 1.0 / 62;
	int i, c, v;

	for (i = 0; i < 6; i++, scale /= 62) {
		c = (unsigned char)id[i];
		v = c <= '9' ? c - '0' : c <= 'Z' ? c - 'A' + 10 : c - 'a' + 36;
		f += (double)v * scale;
	}
	return f;
}

/*
 * Interpolation search over byte offsets (ids are uniformly random, so
 * the first probes land next to the target), falling back to bisection
 * for the next probe whenever one kept more than half of the range: the
 * worst case stays O(log n).  Every probed id must lie strictly between
 * the bounds seen so far, and a hit must differ from both neighbours, so
 * an unsorted or duplicated store is reported instead of answered
 * wrongly.  On a hit, the line is w->buf[*ls - w->off ...], *len bytes.
 */
static int
store_search(const struct apitoken_store *s, const char *id, struct win *w,
    char *tmp, uint64_t *lsp, size_t *lenp, char *err, size_t errlen)
{
	uint64_t lo = s->body, hi = s->end, ls = 0, le = 0, mid, width;
	char lid[APITOKEN_ID_LEN + 1], lo_id[APITOKEN_ID_LEN + 1] = "";
	char hi_id[APITOKEN_ID_LEN + 1] = "";
	double flo = 0, fhi = 1, fid = id_frac(id), f;
	int c, r, bisect = 0, dup;

	while (lo < hi) {
		width = hi - lo;
		f = bisect || width < INTERP_MIN || fhi <= flo ? 0.5 :
		    (fid - flo) / (fhi - flo);
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		mid = lo + (uint64_t)((double)width * f);
		if (mid >= hi)
			mid = hi - 1;
		if ((r = line_at(s, lo, hi, mid, w, &ls, &le, err, errlen)) != 0)
			return r;
		if (store_line_id(w->buf + (ls - w->off), (size_t)(le - ls),
		    lid) != 0)
			return not_a_record(s, ls, err, errlen);
		if ((lo_id[0] && strcmp(lid, lo_id) <= 0) ||
		    (hi_id[0] && strcmp(lid, hi_id) >= 0))
			goto unsorted;
		if ((c = strcmp(id, lid)) == 0)
			break;
		if (c < 0) {
			hi = ls;
			memcpy(hi_id, lid, sizeof(lid));
			fhi = id_frac(lid);
		} else {
			lo = le + 1;
			memcpy(lo_id, lid, sizeof(lid));
			flo = id_frac(lid);
		}
		bisect = hi - lo > width / 2;
	}
	if (lo >= hi)
		return APITOKEN_ERR_NOT_FOUND;
	if ((r = neighbours_differ(s, w, ls, le, id, tmp, &dup, err,
	    errlen)) != APITOKEN_OK)
		return r;
	if (dup)
		goto unsorted;
	*lsp = ls;
	*lenp = (size_t)(le - ls);
	return APITOKEN_OK;
unsorted:
	return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
	    "%s: records not sorted by id or an id is duplicated (near byte "
	    "%llu)", s->path, (unsigned long long)ls);
}

/* Header and trailer, read with pread. */
static int
store_check(struct apitoken_store *s, char *err, size_t errlen)
{
	char head[512], tail[sizeof(TRAILER) - 1];
	size_t n = strlen(apitoken_store_header()) + 1;
	int r;

	if (n > sizeof(head))
		return APITOKEN_ERR_INTERNAL;
	if (n > s->size)
		n = (size_t)s->size;
	if ((r = read_at(s, 0, n, head, err, errlen)) != APITOKEN_OK ||
	    (r = check_header(head, n, s->path, &s->body, err,
	    errlen)) != APITOKEN_OK)
		return r;
	if (s->size < s->body + sizeof(TRAILER) - 2)
		return check_trailer(NULL, s->path, err, errlen);
	if ((r = read_at(s, s->size - sizeof(tail), sizeof(tail), tail, err,
	    errlen)) != APITOKEN_OK ||
	    (r = check_trailer(tail, s->path, err, errlen)) != APITOKEN_OK)
		return r;
	s->end = s->size - (sizeof(TRAILER) - 2);
	return APITOKEN_OK;
}

/* Map the whole file read-only (size bytes, checked by check_size). */
static int
store_map_whole(struct apitoken_store *s, char *err, size_t errlen)
{
	void *p = mmap(NULL, (size_t)s->size, PROT_READ, MAP_SHARED, s->fd, 0);

	if (p == MAP_FAILED)
		return set_err(err, errlen, errno == ENOMEM ? APITOKEN_ERR_NOMEM :
		    APITOKEN_ERR_SYSTEM, "%s: mmap: %s", s->path,
		    strerror(errno));
	s->map = p;
	return APITOKEN_OK;
}

static int
store_open(const struct apitoken_config *cfg, int mapped,
    struct apitoken_store **storep, char *err, size_t errlen)
{
	const char *path = apitoken_config_store(cfg), *base;
	struct apitoken_store *s = NULL;
	struct stat st;
	int dirfd = -1, fd = -1, r;

	*storep = NULL;
	if ((r = safe_open_dir_of(path, &dirfd, &base, err, errlen)) != 0)
		goto out;
	if ((r = safe_open_file(dirfd, base, path, &fd, &st, err, errlen)) != 0)
		goto out;
	r = APITOKEN_ERR_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->rdirfd = -1;
	if ((s->path = strdup(path)) == NULL)
		goto out;
	s->fd = fd;
	fd = -1;
	if (apitoken_config_pg_conninfo(cfg) != NULL) {
		if (asprintf(&s->rpath, "%s.replica", path) < 0) {
			s->rpath = NULL;
			goto out;
		}
		s->rdirfd = dirfd;	/* kept: one openat per verification */
		dirfd = -1;
		s->max_staleness = apitoken_config_max_staleness(cfg);
	}
	snprintf(s->prefix, sizeof(s->prefix), "%s",
	    apitoken_config_token_prefix(cfg));
	s->maxsize = apitoken_config_max_store_size(cfg);
	s->host = *config_hostid(cfg);
	/* st: safe_open_file's fstat of this fd */
	if ((r = aliases_copy(&s->aliases, config_aliases(cfg))) != 0 ||
	    (r = check_size(&st, path, s->maxsize, &s->size, err,
	    errlen)) != APITOKEN_OK ||
	    (mapped && (r = store_map_whole(s, err, errlen)) != APITOKEN_OK) ||
	    (r = store_check(s, err, errlen)) != APITOKEN_OK)
		goto out;
	*storep = s;
	s = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	apitoken_store_close(s);
	return r;
}

int
apitoken_store_open(const struct apitoken_config *cfg,
    struct apitoken_store **storep, char *err, size_t errlen)
{
	return store_open(cfg, 0, storep, err, errlen);
}

int
apitoken_store_open_mapped(const struct apitoken_config *cfg,
    struct apitoken_store **storep, char *err, size_t errlen)
{
	return store_open(cfg, 1, storep, err, errlen);
}

void
apitoken_store_close(struct apitoken_store *s)
{
	if (s == NULL)
		return;
	if (s->map != NULL)
		munmap((void *)(uintptr_t)s->map, (size_t)s->size);
	if (s->path != NULL)	/* fd is set once path is */
		close(s->fd);
	free(s->path);
	aliases_clear(&s->aliases);
	if (s->rdirfd >= 0)
		close(s->rdirfd);
	free(s->rpath);
	free(s);
}

int
store_replica_stale(const struct apitoken_store *s, time_t now, char *why,
    size_t whylen)
{
	if (s->rpath == NULL)
		return 0;
	return replica_stale_at(s->rdirfd, strrchr(s->rpath, '/') + 1,
	    s->rpath, s->max_staleness, now, why, whylen);
}

const char *
store_prefix(const struct apitoken_store *s)
{
	return s->prefix;
}

const struct svc_aliases *
store_aliases(const struct apitoken_store *s)
{
	return &s->aliases;
}

const struct hostid *
store_hostid(const struct apitoken_store *s)
{
	return &s->host;
}

int
apitoken_store_find(struct apitoken_store *s, const char *id,
    struct apitoken_record **recp, char *err, size_t errlen)
{
	struct win w = { NULL, 0, 0, NULL };
	uint64_t ls = 0;
	char why[200];
	size_t len = 0;
	int r;

	*recp = NULL;
	if (apitoken_id_valid(id) != 0)
		return APITOKEN_ERR_NOT_FOUND;
	/* tmp (the last WIN_HALF_MAX bytes) is not read from when mapped */
	if ((w.mem = malloc(WIN_SIZE + WIN_HALF_MAX)) == NULL)
		return APITOKEN_ERR_NOMEM;
	if (s->map != NULL) {	/* the window: the whole file */
		w.buf = s->map;
		w.n = (size_t)s->size;
	}
	r = store_search(s, id, &w, w.mem + WIN_SIZE, &ls, &len, err, errlen);
	if (r != APITOKEN_OK)
		goto out;
	r = codec_parse(w.buf + (ls - w.off), len, recp, why, sizeof(why));
	if (r != APITOKEN_OK && r != APITOKEN_ERR_NOMEM)
		r = set_err(err, errlen, r, "%s: record %s: %s", s->path, id,
		    why);
out:
	free(w.mem);
	return r;
}

/* Walk every record line of a map in order, checking the id order. */
int
store_map_foreach(const struct store_map *m, const char *path,
    apitoken_record_fn fn, void *ctx, char *err, size_t errlen)
{
	const char *p = m->body, *nl;
	char prev[APITOKEN_ID_LEN + 1] = "", why[200];
	struct apitoken_record *rec = NULL;
	size_t lineno = 2;
	int r = APITOKEN_OK;

	for (; p < m->end; p = nl + 1, lineno++) {
		if ((nl = store_line_end(p, m->end)) == NULL)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: line longer than %d bytes", path, lineno,
			    STORE_LINE_MAX);
		if ((r = codec_parse(p, (size_t)(nl - p), &rec, why,
		    sizeof(why))) != APITOKEN_OK)
			return r == APITOKEN_ERR_NOMEM ? r : set_err(err, errlen,
			    r, "%s:%zu: %s", path, lineno, why);
		if (strcmp(rec->id, prev) <= 0) {
			apitoken_record_free(rec);
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: id out of order or duplicated", path, lineno);
		}
		memcpy(prev, rec->id, sizeof(prev));
		r = fn(&rec, ctx);
		apitoken_record_free(rec);
		rec = NULL;
		if (r != 0)
			return r;
	}
	return APITOKEN_OK;
}

int
apitoken_store_foreach(struct apitoken_store *s, apitoken_record_fn fn,
    void *ctx, char *err, size_t errlen)
{
	struct store_map m;
	int r;

	/* a map for the duration of the call: the handle stays read-only */
	if ((r = store_map_fd(s->fd, s->path, s->maxsize, &m, err,
	    errlen)) != APITOKEN_OK)
		return r;
	r = store_map_foreach(&m, s->path, fn, ctx, err, errlen);
	store_unmap(&m);
	return r;
}

/* Counts the lines between header and trailer, 64 KiB per pread; 0 if
 * the file cannot be read. */
size_t
apitoken_store_count(struct apitoken_store *s)
{
	enum { CHUNK = 65536 };
	uint64_t off = s->body, k;
	const char *p, *e;
	size_t n = 0;
	char *buf;

	if ((buf = malloc(CHUNK)) == NULL)
		return 0;
	for (; off < s->end; off += k) {
		k = s->end - off < CHUNK ? s->end - off : CHUNK;
		if (read_at(s, off, (size_t)k, buf, NULL, 0) != APITOKEN_OK) {
			n = 0;
			break;
		}
		for (p = buf, e = buf + k; (p = memchr(p, '\n',
		    (size_t)(e - p))) != NULL; p++)
			n++;
	}
	free(buf);
	return n;
}
