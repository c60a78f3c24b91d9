/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txn.c - writing the store.  One writer at a time holds an exclusive
 * flock on "<store>.lock" (created once, never unlinked); it re-reads and
 * fully validates the current store under the lock, stages changes in
 * memory, and commits by writing ".<store>.tmp.XXXXXX" in the same
 * directory, fsync, rename over the store, fsync of the directory.
 * Unchanged record lines are copied byte for byte; changed ones go
 * through the one serializer.  Readers never wait: rename is atomic.
 *
 * The store this process wrote itself (a replica's bursts, issue 13).
 * Decoding every record at begin was half of a 10,000-change burst into
 * a 1,000,000-token replica, and a replica's store is, between two of
 * its own bursts, the file its previous commit wrote: every line in it
 * was validated at that begin or serialized from a checked record.  So
 * each commit notes, process-wide (apitokend is threaded: a mutex), the
 * identity of the file it renamed in place, per store path: st_dev,
 * st_ino, st_size, st_mtim and st_ctim, from fstat of the still-open
 * temp file after the rename (no other file can be stat'ed by mistake,
 * and the rename itself may change ctime).  A MIRROR begin whose store
 * has exactly that identity indexes its lines (length cap, id syntax,
 * order and uniqueness) without decoding the records and without the
 * rules' entries, which MIRROR does not use (built, decoding, on first
 * need if a caller asks for a rule look-up: txn_need_ents).  Any other
 * writer -- tokenctl, an editor, a chmod, even an in-place write of the
 * same size -- changes ctime (and usually the inode), and the next begin
 * validates every record as before; the identity is only trusted in
 * this process's memory, never read from disk.  Other transactions
 * always validate.  Chosen over a checksum of the file (another pass
 * over it) and over trusting mtime alone (settable by utimensat).  The
 * commit of a trusted transaction checks (fstat of the store it mapped,
 * before the rename) that nobody wrote it in place meanwhile, and fails
 * if so: its lines, copied unread, are not to be trusted.  Limit: with
 * coarse file times (before Linux 6.13: one clock tick), a write of the
 * same size within the tick of our own commit keeps every field.
 *
 * apply_one in fleet/replica.c learns whether a record exists from
 * replace and delete themselves (no parse of the original).  Not done:
 * copy_file_range(2) of unchanged runs: 10,000 changes spread over the
 * store leave runs of ~23 KB, as many system calls again, and ext4 (no
 * reflink) copies the pages in the kernel anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "txn.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the exclusive lock on "<store>.lock", polling every 5 ms. */
static int
take_lock(struct apitoken_txn *t, int64_t timeout_ms, char *err,
    size_t errlen)
{
	char name[512];
	struct stat st;
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	int64_t deadline = now_ms() + timeout_ms;
	int r;

	if ((size_t)snprintf(name, sizeof(name), "%s.lock", t->base) >=
	    sizeof(name))
		return set_err(err, errlen, APITOKEN_ERR_TOO_LONG,
		    "%s: name too long", t->path);
	t->lockfd = openat(t->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (t->lockfd < 0 || fstat(t->lockfd, &st) != 0)
		return set_err(err, errlen, errno == EACCES ?
		    APITOKEN_ERR_ACCESS : APITOKEN_ERR_SYSTEM,
		    "%s.lock: %s", t->path, strerror(errno));
	if ((r = safe_check(&st, name, 0, err, errlen)) != APITOKEN_OK)
		return r;
	while (flock(t->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return set_err(err, errlen, APITOKEN_ERR_SYSTEM,
			    "%s.lock: %s", t->path, strerror(errno));
		if (now_ms() >= deadline)
			return set_err(err, errlen, APITOKEN_ERR_LOCK_TIMEOUT,
			    "%s.lock: another writer held the lock for more "
			    "than %lld ms (lock_timeout)", t->path,
			    (long long)timeout_ms);
		nanosleep(&pause, NULL);
	}
	return APITOKEN_OK;
}

/* Temp files of writers that were killed; we hold the lock, so stale. */
static void
remove_stale_temps(struct apitoken_txn *t)
{
	char pre[512];
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(pre, sizeof(pre), ".%s.tmp.", t->base);
	if ((fd = fcntl(t->dirfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, pre, strlen(pre)) == 0)
			(void)unlinkat(t->dirfd, de->d_name, 0);
	closedir(d);
}

/* Room for one more line (and its entry, if the store is decoded). */
static int
grow_lines(struct apitoken_txn *t, size_t *cap, int with_ents)
{
	size_t *nlp;
	struct ent *ne;

	if (t->nlines < *cap)
		return APITOKEN_OK;
	*cap = *cap ? *cap * 2 : 1024;
	if ((nlp = realloc(t->lines, *cap * sizeof(*nlp))) == NULL)
		return APITOKEN_ERR_NOMEM;
	t->lines = nlp;
	if (!with_ents)
		return APITOKEN_OK;
	if ((ne = realloc(t->ents, *cap * sizeof(*ne))) == NULL)
		return APITOKEN_ERR_NOMEM;
	t->ents = ne;
	return APITOKEN_OK;
}

/* The record line [p, nl) (line lineno of the file) decoded into *v. */
static int
decode_line(const struct apitoken_txn *t, const char *p, const char *nl,
    size_t lineno, char *scratch, struct rec_view *v, char *err,
    size_t errlen)
{
	char why[200];
	int r;

	if ((r = codec_decode(p, (size_t)(nl - p), scratch, v, why,
	    sizeof(why))) != APITOKEN_OK)
		return set_err(err, errlen, r, "%s:%zu: %s", t->path, lineno,
		    why);
	return APITOKEN_OK;
}

/*
 * Index the lines of the store.  decode: decode every record (validation,
 * no allocation per record) and keep what the rules need of each (txn.h,
 * struct ent).  Otherwise (the file this process committed, see the top)
 * only each line's length, its id's syntax and the ids' order.
 */
static int
index_store(struct apitoken_txn *t, int decode, char *err, size_t errlen)
{
	const char *p = t->m.body, *nl, *id;
	char prev[APITOKEN_ID_LEN + 1] = "", idbuf[APITOKEN_ID_LEN + 1];
	char *scratch = NULL;
	struct rec_view v;
	size_t cap = 0, lineno = 2;
	int r = APITOKEN_ERR_NOMEM;

	if (decode && (scratch = malloc(CODEC_SCRATCH)) == NULL)
		return r;
	for (; p < t->m.end; p = nl + 1, lineno++) {
		if ((nl = store_line_end(p, t->m.end)) == NULL) {
			r = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: line longer than %d bytes", t->path,
			    lineno, STORE_LINE_MAX);
			goto out;
		}
		if (decode) {
			if ((r = decode_line(t, p, nl, lineno, scratch, &v, err,
			    errlen)) != APITOKEN_OK)
				goto out;
			id = v.r.id;
		} else if (store_line_id(p, (size_t)(nl - p), idbuf) == 0)
			id = idbuf;
		else {
			r = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: no token id", t->path, lineno);
			goto out;
		}
		if (strcmp(id, prev) <= 0) {
			r = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: id out of order or duplicated", t->path,
			    lineno);
			goto out;
		}
		memcpy(prev, id, sizeof(prev));
		if ((r = grow_lines(t, &cap, decode)) != APITOKEN_OK)
			goto out;
		if (decode)
			txn_ent_set(&t->ents[t->nlines], &v.r);
		t->lines[t->nlines++] = (size_t)(p - t->m.base);
	}
	r = APITOKEN_OK;
out:
	free(scratch);
	return r;
}

/* The rules' entries of a store indexed without them (a MIRROR begin on
 * this process's own file), for a caller asking a rule's question. */
int
txn_need_ents(struct apitoken_txn *t)
{
	const char *p, *nl;
	char *scratch;
	struct rec_view v;
	size_t i;
	int r = APITOKEN_ERR_NOMEM;

	if (t->ents != NULL || t->nlines == 0)
		return APITOKEN_OK;
	if ((t->ents = calloc(t->nlines, sizeof(*t->ents))) == NULL)
		return r;
	if ((scratch = malloc(CODEC_SCRATCH)) == NULL)
		goto out;
	for (i = 0; i < t->nlines; i++) {
		p = t->m.base + t->lines[i];
		nl = memchr(p, '\n', (size_t)(t->m.end - p));
		if ((r = decode_line(t, p, nl, i + 2, scratch, &v, NULL, 0)) !=
		    APITOKEN_OK)
			goto out;
		txn_ent_set(&t->ents[i], &v.r);
	}
	r = APITOKEN_OK;
out:
	free(scratch);
	if (r != APITOKEN_OK) {
		free(t->ents);
		t->ents = NULL;
	}
	return r;
}

/* ------------------------------------- the store this process wrote */

struct own_store {
	int used;
	uint64_t path;		/* txn_str_hash of the store's path */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

#define OWN_SLOTS 8		/* store paths remembered (apitokend: one) */

static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static struct own_store own[OWN_SLOTS];
static unsigned own_next;

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The slot of path h, or NULL; own_lock held. */
static struct own_store *
own_slot(uint64_t h)
{
	size_t i;

	for (i = 0; i < OWN_SLOTS; i++)
		if (own[i].used && own[i].path == h)
			return &own[i];
	return NULL;
}

/* Note st, fstat'ed after the rename, as the file committed at t->path;
 * NULL: forget what was noted for it (a commit not to be trusted). */
static void
own_note(const struct apitoken_txn *t, const struct stat *st)
{
	uint64_t h = txn_str_hash(t->path);
	struct own_store *o;

	pthread_mutex_lock(&own_lock);
	if ((o = own_slot(h)) == NULL && st == NULL) {
		pthread_mutex_unlock(&own_lock);
		return;
	}
	if (o == NULL)
		o = &own[own_next++ % OWN_SLOTS];
	if (st == NULL) {
		o->used = 0;
		pthread_mutex_unlock(&own_lock);
		return;
	}
	o->used = 1;
	o->path = h;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	o->size = st->st_size;
	o->mtim = st->st_mtim;
	o->ctim = st->st_ctim;
	pthread_mutex_unlock(&own_lock);
}

/* 1 if t->st (begin's fstat) is the file this process last committed at
 * t->path, byte for byte as it wrote it; else 0. */
static int
own_check(const struct apitoken_txn *t)
{
	uint64_t h = txn_str_hash(t->path);
	const struct own_store *o;
	int same;

	pthread_mutex_lock(&own_lock);
	o = own_slot(h);
	same = o != NULL && o->dev == t->st.st_dev && o->ino == t->st.st_ino &&
	    o->size == t->st.st_size && same_time(&o->mtim, &t->st.st_mtim) &&
	    same_time(&o->ctim, &t->st.st_ctim);
	pthread_mutex_unlock(&own_lock);
	return same;
}

static int
open_store(struct apitoken_txn *t, const struct apitoken_config *cfg,
    int flags, char *err, size_t errlen)
{
	int fd, r;

	r = safe_open_file(t->dirfd, t->base, t->path, &fd, &t->st, err,
	    errlen);
	if (r == APITOKEN_ERR_STORE_MISSING && (flags & APITOKEN_TXN_CREATE))
		return APITOKEN_OK;
	if (r != APITOKEN_OK)
		return r;
	if (flags & APITOKEN_TXN_EMPTY) {
		/* replaced whole: its content is not read (a damaged store
		 * is replaced too), only its owner and mode are kept */
		close(fd);
		t->have_store = 1;
		return APITOKEN_OK;
	}
	r = store_map_fd(fd, t->path, apitoken_config_max_store_size(cfg),
	    &t->m, err, errlen);
	if (r != APITOKEN_OK) {
		close(fd);
		return r;
	}
	t->storefd = fd;	/* commit: was it changed meanwhile? */
	t->have_store = 1;
	t->trusted = (flags & APITOKEN_TXN_MIRROR) && own_check(t);
	return index_store(t, !t->trusted, err, errlen);
}

int
apitoken_txn_begin(const struct apitoken_config *cfg, int flags,
    struct apitoken_txn **txnp, char *err, size_t errlen)
{
	struct apitoken_txn *t;
	int r;

	*txnp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return APITOKEN_ERR_NOMEM;
	t->dirfd = t->lockfd = t->storefd = -1;
	t->flags = flags;
	if ((t->path = strdup(apitoken_config_store(cfg))) == NULL) {
		r = APITOKEN_ERR_NOMEM;
		goto fail;
	}
	if ((r = safe_open_dir_of(t->path, &t->dirfd, &t->base, err,
	    errlen)) != APITOKEN_OK)
		goto fail;
	if ((r = take_lock(t, apitoken_config_lock_timeout_ms(cfg), err,
	    errlen)) != APITOKEN_OK)
		goto fail;
	remove_stale_temps(t);
	if ((r = open_store(t, cfg, flags, err, errlen)) != APITOKEN_OK)
		goto fail;
	*txnp = t;
	return APITOKEN_OK;
fail:
	apitoken_txn_free(t);
	return r;
}

void
apitoken_txn_free(struct apitoken_txn *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsv; i++)
		apitoken_record_free(t->sv[i].rec);
	free(t->sv);
	free(t->slots);
	free(t->lines);
	free(t->ents);
	txn_index_free(t);
	store_unmap(&t->m);
	if (t->storefd >= 0)
		close(t->storefd);
	if (t->lockfd >= 0)
		close(t->lockfd);	/* releases the flock */
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->path);
	free(t);
}

/* ------------------------------------------------- the staged changes */

static size_t
id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < APITOKEN_ID_LEN; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
	return (size_t)h;
}

static void
slot_add(struct apitoken_txn *t, size_t i)
{
	size_t h;

	for (h = id_hash(t->sv[i].id) & (t->nslots - 1); t->slots[h];
	    h = (h + 1) & (t->nslots - 1))
		;
	t->slots[h] = i + 1;
}

static int
rehash(struct apitoken_txn *t, size_t nslots)
{
	size_t *s = calloc(nslots, sizeof(*s)), i;

	if (s == NULL)
		return APITOKEN_ERR_NOMEM;
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	for (i = 0; i < t->nsv; i++)
		slot_add(t, i);
	return APITOKEN_OK;
}

struct staged *
staged_find(const struct apitoken_txn *t, const char *id)
{
	size_t h;

	if (t->nslots == 0)
		return NULL;
	for (h = id_hash(id) & (t->nslots - 1); t->slots[h];
	    h = (h + 1) & (t->nslots - 1))
		if (strcmp(t->sv[t->slots[h] - 1].id, id) == 0)
			return &t->sv[t->slots[h] - 1];
	return NULL;
}

/* Index of the original record line with this id, or -1. */
ssize_t
orig_find(const struct apitoken_txn *t, const char *id)
{
	size_t lo = 0, hi = t->nlines, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(id, t->m.base + t->lines[mid], APITOKEN_ID_LEN);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int
view_has(const struct apitoken_txn *t, const char *id)
{
	const struct staged *s = staged_find(t, id);

	return s ? s->rec != NULL : orig_find(t, id) >= 0;
}

/* Index sv[i] for the label rule.  rec is staged already (owned): if the
 * index cannot grow, the transaction fails closed (no write, no commit). */
static int
label_index(struct apitoken_txn *t, size_t i)
{
	if (txn_staged_label_add(t, i) != APITOKEN_OK)
		t->done = 1;
	return APITOKEN_OK;
}

/* Stage rec (owned on success; NULL = delete) for id. */
static int
stage(struct apitoken_txn *t, const char *id, struct apitoken_record *rec)
{
	struct staged *s = staged_find(t, id), *nsv;
	size_t cap;

	if (s != NULL) {
		apitoken_record_free(s->rec);
		s->rec = rec;
		return label_index(t, (size_t)(s - t->sv));
	}
	if (t->nsv == t->capsv) {
		cap = t->capsv ? t->capsv * 2 : 16;
		if ((nsv = realloc(t->sv, cap * sizeof(*nsv))) == NULL)
			return APITOKEN_ERR_NOMEM;
		t->sv = nsv;
		t->capsv = cap;
	}
	memcpy(t->sv[t->nsv].id, id, APITOKEN_ID_LEN + 1);
	t->sv[t->nsv++].rec = rec;
	t->sorted = 0;
	if (2 * t->nsv > t->nslots &&
	    rehash(t, t->nslots ? t->nslots * 4 : 64) != APITOKEN_OK) {
		t->nsv--;	/* not staged: the caller still owns rec */
		return APITOKEN_ERR_NOMEM;
	}
	slot_add(t, t->nsv - 1);
	return label_index(t, t->nsv - 1);
}

/* Check rec alone, then against the view (rules.c), and stage a copy. */
int
txn_put(struct apitoken_txn *t, const struct apitoken_record *rec,
    int want_exists, char *err, size_t errlen)
{
	struct apitoken_record *d;
	int r;

	if (t->done)
		return APITOKEN_ERR_STALE;
	if ((r = apitoken_record_check(rec, err, errlen)) != APITOKEN_OK)
		return r;
	if (view_has(t, rec->id) != want_exists)
		return set_err(err, errlen, want_exists ? APITOKEN_ERR_NOT_FOUND :
		    APITOKEN_ERR_EXISTS, "token %s %s", rec->id, want_exists ?
		    "not found" : "already exists");
	if (!(t->flags & APITOKEN_TXN_MIRROR) &&
	    (r = rules_check_put(t, rec, !want_exists, err, errlen)) !=
	    APITOKEN_OK)
		return r;
	if ((d = apitoken_record_dup(rec)) == NULL)
		return APITOKEN_ERR_NOMEM;
	if ((r = stage(t, rec->id, d)) != APITOKEN_OK)
		apitoken_record_free(d);
	return r;
}

int
apitoken_txn_insert(struct apitoken_txn *t, const struct apitoken_record *rec,
    char *err, size_t errlen)
{
	return txn_put(t, rec, 0, err, errlen);
}

int
apitoken_txn_replace(struct apitoken_txn *t, const struct apitoken_record *rec,
    char *err, size_t errlen)
{
	return txn_put(t, rec, 1, err, errlen);
}

int
apitoken_txn_delete(struct apitoken_txn *t, const char *id, char *err,
    size_t errlen)
{
	int r;

	if (t->done)
		return APITOKEN_ERR_STALE;
	if (apitoken_id_valid(id) != 0 || !view_has(t, id))
		return set_err(err, errlen, APITOKEN_ERR_NOT_FOUND,
		    "token %s not found", id);
	if (!(t->flags & APITOKEN_TXN_MIRROR) &&
	    (r = rules_check_delete(t, id, err, errlen)) != APITOKEN_OK)
		return r;
	return stage(t, id, NULL);
}

int
orig_parse(const struct apitoken_txn *t, size_t i,
    struct apitoken_record **recp)
{
	const char *p = t->m.base + t->lines[i];
	const char *nl = memchr(p, '\n', (size_t)(t->m.end - p));

	return codec_parse(p, (size_t)(nl - p), recp, NULL, 0);
}

int
apitoken_txn_find(struct apitoken_txn *t, const char *id,
    struct apitoken_record **recp, char *err, size_t errlen)
{
	const struct staged *s;
	ssize_t i;

	*recp = NULL;
	(void)err, (void)errlen;
	if (apitoken_id_valid(id) != 0)
		return APITOKEN_ERR_NOT_FOUND;
	if ((s = staged_find(t, id)) != NULL) {
		if (s->rec == NULL)
			return APITOKEN_ERR_NOT_FOUND;
		return (*recp = apitoken_record_dup(s->rec)) ? APITOKEN_OK :
		    APITOKEN_ERR_NOMEM;
	}
	if ((i = orig_find(t, id)) < 0)
		return APITOKEN_ERR_NOT_FOUND;
	return orig_parse(t, (size_t)i, recp);
}

static int
cmp_staged(const void *a, const void *b)
{
	return strcmp(((const struct staged *)a)->id,
	    ((const struct staged *)b)->id);
}

static int
sort_staged(struct apitoken_txn *t)
{
	if (t->sorted)
		return APITOKEN_OK;
	size_t *slots = NULL, i;

	/* the new index is allocated before the order changes, so a failure
	 * leaves the staged list and its index as they were */
	if (t->nslots && (slots = calloc(t->nslots, sizeof(*slots))) == NULL)
		return APITOKEN_ERR_NOMEM;
	if (t->nsv > 1)
		qsort(t->sv, t->nsv, sizeof(*t->sv), cmp_staged);
	if (slots != NULL) {
		free(t->slots);
		t->slots = slots;
		for (i = 0; i < t->nsv; i++)
			slot_add(t, i);
	}
	t->sorted = 1;
	return txn_staged_label_rebuild(t);
}

/*
 * Walk the merged view in id order: emit(ctx, orig line index or -1,
 * staged entry or NULL).  Deleted ids are skipped.
 */
typedef int (*merge_fn)(struct apitoken_txn *t, ssize_t orig,
    const struct staged *s, void *ctx);

static int
merge(struct apitoken_txn *t, merge_fn emit, void *ctx)
{
	size_t i = 0, j = 0;
	int c, r;

	if ((r = sort_staged(t)) != APITOKEN_OK)
		return r;
	while (i < t->nlines || j < t->nsv) {
		if (j == t->nsv)
			c = -1;
		else if (i == t->nlines)
			c = 1;
		else
			c = strncmp(t->m.base + t->lines[i], t->sv[j].id,
			    APITOKEN_ID_LEN);
		if (c < 0)
			r = emit(t, (ssize_t)i++, NULL, ctx);
		else {
			r = t->sv[j].rec ? emit(t, -1, &t->sv[j], ctx) : 0;
			j++;
			i += c == 0;
		}
		if (r != 0)
			return r;
	}
	return APITOKEN_OK;
}

struct foreach_ctx {
	apitoken_record_fn fn;
	void *ctx;
};

static int
foreach_emit(struct apitoken_txn *t, ssize_t orig, const struct staged *s,
    void *vctx)
{
	struct foreach_ctx *fc = vctx;
	struct apitoken_record *rec = NULL;
	int r;

	if (s != NULL)
		r = (rec = apitoken_record_dup(s->rec)) ? 0 : APITOKEN_ERR_NOMEM;
	else
		r = orig_parse(t, (size_t)orig, &rec);
	if (r == APITOKEN_OK)
		r = fc->fn(&rec, fc->ctx);
	apitoken_record_free(rec);
	return r;
}

int
apitoken_txn_foreach(struct apitoken_txn *t, apitoken_record_fn fn,
    void *ctx, char *err, size_t errlen)
{
	struct foreach_ctx fc = { fn, ctx };

	(void)err, (void)errlen;
	return merge(t, foreach_emit, &fc);
}

/* The staged changes in id order; a delete of an id the store did not
 * hold (inserted and deleted in this transaction) changed nothing. */
int
apitoken_txn_changes(struct apitoken_txn *t, apitoken_change_fn fn,
    void *ctx)
{
	size_t i;
	int r;

	if ((r = sort_staged(t)) != APITOKEN_OK)
		return r;
	for (i = 0; i < t->nsv; i++) {
		if (t->sv[i].rec == NULL && orig_find(t, t->sv[i].id) < 0)
			continue;
		if ((r = fn(t->sv[i].id, t->sv[i].rec, ctx)) != 0)
			return r;
	}
	return APITOKEN_OK;
}

/* ------------------------------------------------------------ commit */

struct out {
	int fd;
	char buf[1 << 16];
	size_t n;
	int failed;	/* errno of the first failed write */
};

static void
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t w;

	while (off < o->n && !o->failed) {
		w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno != EINTR)
			o->failed = errno ? errno : EIO;
		else if (w > 0)
			off += (size_t)w;
	}
	o->n = 0;
}

static void
out_put(struct out *o, const char *p, size_t n)
{
	size_t k;

	while (n > 0 && !o->failed) {
		if (o->n == sizeof(o->buf))
			out_flush(o);
		k = sizeof(o->buf) - o->n < n ? sizeof(o->buf) - o->n : n;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
	}
}

static int
commit_emit(struct apitoken_txn *t, ssize_t orig, const struct staged *s,
    void *ctx)
{
	struct out *o = ctx;
	const char *p, *next;
	char *line;
	size_t len;

	if (s == NULL) {
		/* the line runs up to the next one (begin found its end) */
		p = t->m.base + t->lines[orig];
		next = (size_t)orig + 1 < t->nlines ?
		    t->m.base + t->lines[orig + 1] : t->m.end;
		out_put(o, p, (size_t)(next - p));
		return APITOKEN_OK;
	}
	if (codec_format(s->rec, &line, &len) != APITOKEN_OK)
		return APITOKEN_ERR_NOMEM;
	out_put(o, line, len);
	free(line);
	return APITOKEN_OK;
}

/* Keep the replaced store's group and read bits (never write bits). */
static void
keep_owner_mode(const struct apitoken_txn *t, int fd)
{
	if (!t->have_store)
		return;
	if (fchown(fd, (uid_t)-1, t->st.st_gid) == 0)
		(void)fchmod(fd, t->st.st_mode & 0640);
}

/* Write the new store to tmp: its fd, still open (commit fstats it after
 * the rename), in *fdp. */
static int
write_temp(struct apitoken_txn *t, const char *tmp, int *fdp, char *err,
    size_t errlen)
{
	struct out *o;
	int r;

	*fdp = -1;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return APITOKEN_ERR_NOMEM;
	o->fd = openat(t->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (o->fd < 0) {
		r = set_err(err, errlen, errno == EACCES ? APITOKEN_ERR_ACCESS :
		    APITOKEN_ERR_SYSTEM, "%s: cannot create temp file: %s",
		    t->path, strerror(errno));
		free(o);
		return r;
	}
	keep_owner_mode(t, o->fd);
	out_put(o, apitoken_store_header(), strlen(apitoken_store_header()));
	out_put(o, "\n", 1);
	r = merge(t, commit_emit, o);
	out_put(o, apitoken_store_trailer(), strlen(apitoken_store_trailer()));
	out_put(o, "\n", 1);
	out_flush(o);
	if (r == APITOKEN_OK && (o->failed || fsync(o->fd) != 0))
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM,
		    "%s: writing temp file: %s", t->path,
		    strerror(o->failed ? o->failed : errno));
	if (r == APITOKEN_OK)
		*fdp = o->fd;
	else
		(void)close(o->fd);
	free(o);
	return r;
}

/* 1 if the lines commit copied came from the store exactly as begin
 * opened it (nobody wrote it in place meanwhile), or none were copied. */
static int
copied_as_opened(const struct apitoken_txn *t)
{
	struct stat st;

	if (t->storefd < 0)
		return 1;
	return fstat(t->storefd, &st) == 0 && st.st_dev == t->st.st_dev &&
	    st.st_ino == t->st.st_ino && st.st_size == t->st.st_size &&
	    same_time(&st.st_mtim, &t->st.st_mtim) &&
	    same_time(&st.st_ctim, &t->st.st_ctim);
}

int
apitoken_txn_commit(struct apitoken_txn *t, char *err, size_t errlen)
{
	char tmp[512], sfx[7];
	struct stat st;
	int fd, mine, r;

	if (t->done)
		return APITOKEN_ERR_STALE;
	t->done = 1;
	if ((r = base62_random(sfx, 6)) != APITOKEN_OK)
		return r;
	sfx[6] = '\0';
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp.%s", t->base, sfx) >=
	    sizeof(tmp))
		return APITOKEN_ERR_TOO_LONG;
	if ((r = write_temp(t, tmp, &fd, err, errlen)) != APITOKEN_OK)
		goto fail;
	mine = copied_as_opened(t);	/* before the rename unlinks it */
	if (!mine && t->trusted) {
		/* its lines were not validated: the store changed under us */
		r = set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: written by another process during the transaction",
		    t->path);
		(void)close(fd);
		goto fail;
	}
	if (renameat(t->dirfd, tmp, t->dirfd, t->base) != 0) {
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM,
		    "%s: rename: %s", t->path, strerror(errno));
		(void)close(fd);
		goto fail;
	}
	if (fsync(t->dirfd) != 0) {
		(void)close(fd);
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM,
		    "%s: fsync of directory: %s", t->path, strerror(errno));
	}
	/* the renamed file itself (rename may change its ctime); its data
	 * is on disk already (fsync), so a failing close only costs trust */
	mine = mine && fstat(fd, &st) == 0;
	mine = close(fd) == 0 && mine;
	own_note(t, mine ? &st : NULL);
	return APITOKEN_OK;
fail:
	(void)unlinkat(t->dirfd, tmp, 0);
	return r;
}
