/*
 * store.c - reading the store: a safe open, an mmap, header and trailer
 * checks, and a binary search by id over the sorted record lines, so a
 * look-up touches O(log n) pages and memory does not grow with the store.
 * Readers never lock: writers replace the file by rename(2).
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
	struct store_map m;
	char *path;
	char prefix[APITOKEN_PREFIX_MAX + 1];
};

static int
check_header(const struct store_map *m, const char *path, const char **body,
    char *err, size_t errlen)
{
	static const char magic[] = "#apitoken-store\t";
	const char *hdr = apitoken_store_header();
	size_t scan = strlen(hdr) + 1 < m->size ? strlen(hdr) + 1 : m->size;
	const char *nl = memchr(m->base, '\n', scan);	/* never the whole file */
	size_t n = nl ? (size_t)(nl - m->base) : scan;
	const char *v;

	if (n < sizeof(magic) - 1 || memcmp(m->base, magic, sizeof(magic) - 1))
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: not a token store (no \"#apitoken-store\" header)",
		    path);
	v = m->base + sizeof(magic) - 1;
	if (n < sizeof(magic) + 2 || memcmp(v, "v1", 2) != 0 ||
	    (v[2] != '\t' && v[2] != '\n'))
		return set_err(err, errlen, APITOKEN_ERR_STORE_VERSION,
		    "%s:1: unknown store format version (this library reads v1)",
		    path);
	if (nl == NULL || n != strlen(hdr) || memcmp(m->base, hdr, n) != 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: v1 header does not list the v1 columns", path);
	*body = nl + 1;
	return APITOKEN_OK;
}

int
store_map_fd(int fd, const char *path, uint64_t maxsize, struct store_map *m,
    char *err, size_t errlen)
{
	static const char trailer[] = "\n#end\n";
	struct stat st;
	void *p;
	int r;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &st) != 0)
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if ((uint64_t)st.st_size > maxsize)
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: %lld bytes, larger than max_store_size (%llu)", path,
		    (long long)st.st_size, (unsigned long long)maxsize);
	if (st.st_size == 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s: empty file (no header); run \"tokenctl init\"", path);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return set_err(err, errlen, errno == ENOMEM ? APITOKEN_ERR_NOMEM :
		    APITOKEN_ERR_SYSTEM, "%s: mmap: %s", path, strerror(errno));
	m->base = p;
	m->size = (size_t)st.st_size;
	(void)madvise(p, m->size, MADV_RANDOM);
	if ((r = check_header(m, path, &m->body, err, errlen)) != APITOKEN_OK)
		goto fail;
	if (m->size < (size_t)(m->body - m->base) + sizeof(trailer) - 2 ||
	    memcmp(m->base + m->size - (sizeof(trailer) - 1), trailer,
	    sizeof(trailer) - 1) != 0) {
		r = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s: truncated (last line is not \"#end\")", path);
		goto fail;
	}
	m->end = m->base + m->size - (sizeof(trailer) - 2);
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

/*
 * Binary search over byte offsets: probe the middle, back up to its line
 * start, compare ids.  Every probed id must lie strictly between the
 * bounds seen so far, and a hit must differ from both neighbours, so an
 * unsorted or duplicated store is reported instead of answered wrongly.
 */
int
store_map_find(const struct store_map *m, const char *path, const char *id,
    const char **linep, size_t *lenp, char *err, size_t errlen)
{
	const char *lo = m->body, *hi = m->end, *ls, *le;
	char lid[APITOKEN_ID_LEN + 1], lo_id[APITOKEN_ID_LEN + 1] = "";
	char hi_id[APITOKEN_ID_LEN + 1] = "";
	int c;

	*linep = NULL;
	*lenp = 0;
	while (lo < hi) {
		ls = lo + (hi - lo) / 2;
		/* both scans are capped, so a huge line cannot make a look-up
		 * read the whole file */
		while (ls > lo && ls[-1] != '\n' && lo + (hi - lo) / 2 - ls <
		    STORE_LINE_MAX)
			ls--;
		le = memchr(ls, '\n', (size_t)(hi - ls) < STORE_LINE_MAX + 1 ?
		    (size_t)(hi - ls) : STORE_LINE_MAX + 1);
		if ((ls > lo && ls[-1] != '\n') || le == NULL ||
		    store_line_id(ls, (size_t)(le - ls), lid) != 0)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s: line at byte %zu is not a record (no id, or longer "
			    "than %d bytes)", path,
			    (size_t)(ls - m->base), STORE_LINE_MAX);
		if ((lo_id[0] && strcmp(lid, lo_id) <= 0) ||
		    (hi_id[0] && strcmp(lid, hi_id) >= 0))
			goto unsorted;
		c = strcmp(id, lid);
		if (c == 0)
			break;
		if (c < 0) {
			hi = ls;
			memcpy(hi_id, lid, sizeof(lid));
		} else {
			lo = le + 1;
			memcpy(lo_id, lid, sizeof(lid));
		}
	}
	if (lo >= hi)
		return APITOKEN_ERR_NOT_FOUND;
	/* neighbours must differ: a duplicate id is corruption */
	if (le + 1 < m->end && strncmp(le + 1, id, APITOKEN_ID_LEN) == 0)
		goto unsorted;
	if (ls > m->body) {
		const char *p = ls - 1;
		while (p > m->body && p[-1] != '\n' && ls - p < STORE_LINE_MAX)
			p--;
		if (strncmp(p, id, APITOKEN_ID_LEN) == 0)
			goto unsorted;
	}
	*linep = ls;
	*lenp = (size_t)(le - ls);
	return APITOKEN_OK;
unsorted:
	return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
	    "%s: records not sorted by id or an id is duplicated (near byte "
	    "%zu)", path, (size_t)(ls - m->base));
}

int
apitoken_store_open(const struct apitoken_config *cfg,
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
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL)
		goto out;
	snprintf(s->prefix, sizeof(s->prefix), "%s",
	    apitoken_config_token_prefix(cfg));
	r = store_map_fd(fd, path, apitoken_config_max_store_size(cfg), &s->m,
	    err, errlen);
	if (r != APITOKEN_OK)
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

void
apitoken_store_close(struct apitoken_store *s)
{
	if (s == NULL)
		return;
	store_unmap(&s->m);
	free(s->path);
	free(s);
}

const char *
store_prefix(const struct apitoken_store *s)
{
	return s->prefix;
}

int
apitoken_store_find(struct apitoken_store *s, const char *id,
    struct apitoken_record **recp, char *err, size_t errlen)
{
	const char *line;
	char why[200];
	size_t len;
	int r;

	*recp = NULL;
	if (!apitoken_id_valid(id))
		return APITOKEN_ERR_NOT_FOUND;
	r = store_map_find(&s->m, s->path, id, &line, &len, err, errlen);
	if (r != APITOKEN_OK)
		return r;
	if ((r = codec_parse(line, len, recp, why, sizeof(why))) != 0)
		return r == APITOKEN_ERR_NOMEM ? r : set_err(err, errlen, r,
		    "%s: record %s: %s", s->path, id, why);
	return APITOKEN_OK;
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
	return store_map_foreach(&s->m, s->path, fn, ctx, err, errlen);
}

size_t
apitoken_store_count(struct apitoken_store *s)
{
	const char *p = s->m.body;
	size_t n = 0;

	while (p < s->m.end && (p = memchr(p, '\n', (size_t)(s->m.end - p)))) {
		n++;
		p++;
	}
	return n;
}
