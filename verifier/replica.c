/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica.c - a fleet replica's state, "<store>.replica"
 * (apitoken-store(5), REPLICA STATE), and the staleness rule every
 * verification applies when postgresql is configured.
 *
 *   #apitoken-replica v1
 *   cursor_xid 7493          (decimal, each key once, in any order)
 *   cursor_seq 1204
 *   last_sync 1764629000     (Unix time; 0: never synced)
 *   updated 1764629003
 *   connected 1              (0 or 1)
 *   pending_reports 0
 *   pid 812
 *   server db.example:5432   (text: no control characters, may be empty)
 *   error
 *
 * Written by apitokend only (temp file, fsync, rename, as the store);
 * read with the store's file rule (no symlink, owner root or euid, not
 * group/other-writable) and refused whole if any line is wrong: a state
 * that cannot be read makes the replica stale (fail closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define STATE_MAX 4096		/* bytes; a written state is < 1 KiB */
#define STATE_HEADER "#apitoken-replica v1"
#define STATE_SUFFIX ".replica"

enum rkey {
	RK_CURSOR_XID, RK_CURSOR_SEQ, RK_LAST_SYNC, RK_UPDATED, RK_CONNECTED,
	RK_PENDING, RK_PID, RK_SERVER, RK_ERROR, RK_COUNT
};

static const char *const rkeys[RK_COUNT] = {
	"cursor_xid", "cursor_seq", "last_sync", "updated", "connected",
	"pending_reports", "pid", "server", "error",
};

/* A decimal number of 1 to 20 digits, at most max: 0 or -1. */
static int
num_parse(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0, d;
	size_t i;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (x > max / 10 || (x == max / 10 && d > max % 10))
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* Text: no control characters, shorter than size. */
static int
text_set(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	if (n >= size)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The value of key k: 0, or -1 if it is not one. */
static int
value_set(struct apitoken_replica_state *st, enum rkey k, const char *v,
    size_t n)
{
	uint64_t x;

	if (k == RK_SERVER)
		return text_set(v, n, st->server, sizeof(st->server));
	if (k == RK_ERROR)
		return text_set(v, n, st->error, sizeof(st->error));
	if (num_parse(v, n, k == RK_CURSOR_XID ? UINT64_MAX :
	    k == RK_CONNECTED ? 1 : k == RK_PID ? (uint64_t)INT32_MAX :
	    (uint64_t)INT64_MAX, &x) != 0)
		return -1;
	switch (k) {
	case RK_CURSOR_XID: st->cursor_xid = x; break;
	case RK_CURSOR_SEQ: st->cursor_seq = (int64_t)x; break;
	case RK_LAST_SYNC: st->last_sync = (int64_t)x; break;
	case RK_UPDATED: st->updated = (int64_t)x; break;
	case RK_CONNECTED: st->connected = (int)x; break;
	case RK_PENDING: st->pending_reports = (int64_t)x; break;
	case RK_PID: st->pid = (long)x; break;
	default: return -1;
	}
	return 0;
}

/* One "key value" line (no '\n'): 0, or its error. */
static int
line_parse(struct apitoken_replica_state *st, const char *p, size_t n,
    unsigned *seen, const char *path, size_t lineno, char *err,
    size_t errlen)
{
	const char *sp = memchr(p, ' ', n);
	size_t klen = sp ? (size_t)(sp - p) : n, k;

	for (k = 0; k < RK_COUNT; k++)
		if (strlen(rkeys[k]) == klen && memcmp(p, rkeys[k], klen) == 0)
			break;
	if (k == RK_COUNT)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:%zu: unknown key", path, lineno);
	if (*seen & (1u << k))
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:%zu: %s given twice", path, lineno, rkeys[k]);
	*seen |= 1u << k;
	if (value_set(st, (enum rkey)k, sp ? sp + 1 : p + n,
	    sp ? n - klen - 1 : 0) != 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:%zu: %s: bad value", path, lineno, rkeys[k]);
	return APITOKEN_OK;
}

static int
state_parse(const char *buf, size_t n, const char *path,
    struct apitoken_replica_state *st, char *err, size_t errlen)
{
	const char *p = buf, *nl;
	size_t lineno = 1, k;
	unsigned seen = 0;
	int r;

	memset(st, 0, sizeof(*st));
	if (n == 0 || buf[n - 1] != '\n')
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: truncated (no final newline)", path);
	nl = memchr(p, '\n', n);
	if ((size_t)(nl - p) != strlen(STATE_HEADER) ||
	    memcmp(p, STATE_HEADER, strlen(STATE_HEADER)) != 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s:1: not a replica state (\"%s\" expected)", path,
		    STATE_HEADER);
	for (p = nl + 1; p < buf + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + n - p));
		if ((r = line_parse(st, p, (size_t)(nl - p), &seen, path,
		    ++lineno, err, errlen)) != APITOKEN_OK)
			return r;
	}
	for (k = 0; k < RK_COUNT; k++)
		if (!(seen & (1u << k)))
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "%s:%zu: %s missing", path, lineno + 1, rkeys[k]);
	return APITOKEN_OK;
}

/* Read name in dirfd (path for messages) under the store's file rule
 * into buf (STATE_MAX + 1 bytes); *np gets its length. */
static int
state_load(int fd, const char *path, char *buf, size_t *np, char *err,
    size_t errlen)
{
	struct stat sb;
	ssize_t n;
	int r;

	if (fstat(fd, &sb) != 0)
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if ((r = safe_check(&sb, path, 0, err, errlen)) != APITOKEN_OK)
		return r;
	if ((n = read(fd, buf, STATE_MAX + 1)) < 0)
		return set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: read: %s",
		    path, strerror(errno));
	if (n > STATE_MAX)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s: larger than %d bytes", path, STATE_MAX);
	*np = (size_t)n;
	return APITOKEN_OK;
}

static int
open_error(int e, const char *path, char *err, size_t errlen)
{
	if (e == ENOENT)
		return set_err(err, errlen, APITOKEN_ERR_NOT_FOUND,
		    "%s: does not exist (never synced)", path);
	return set_err(err, errlen, e == EACCES ? APITOKEN_ERR_ACCESS :
	    e == ELOOP ? APITOKEN_ERR_STORE_UNSAFE : APITOKEN_ERR_SYSTEM,
	    "%s: %s%s", path, strerror(e), e == ELOOP ?
	    " (a symbolic link; refused)" : "");
}

/* Read and parse name in dirfd (path for messages). */
static int
state_read_at(int dirfd, const char *name, const char *path,
    struct apitoken_replica_state *st, char *err, size_t errlen)
{
	char buf[STATE_MAX + 1];
	size_t n = 0;
	int fd, r;

	memset(st, 0, sizeof(*st));
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0)
		return open_error(errno, path, err, errlen);
	r = state_load(fd, path, buf, &n, err, errlen);
	close(fd);
	if (r == APITOKEN_OK)
		r = state_parse(buf, n, path, st, err, errlen);
	return r;
}

/* "<store>.replica" and the directory it is in (dirfd, checked). */
struct state_loc {
	char path[4096 + sizeof(STATE_SUFFIX)];
	const char *name;	/* in path */
	int dirfd;
};

static int
state_locate(const struct apitoken_config *cfg, struct state_loc *l,
    char *err, size_t errlen)
{
	const char *store = apitoken_config_store(cfg);

	l->dirfd = -1;
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s%s", store,
	    STATE_SUFFIX) >= sizeof(l->path))
		return set_err(err, errlen, APITOKEN_ERR_TOO_LONG,
		    "%s: name too long", store);
	return safe_open_dir_of(l->path, &l->dirfd, &l->name, err, errlen);
}

int
apitoken_replica_state_read(const struct apitoken_config *cfg,
    struct apitoken_replica_state *st, char *err, size_t errlen)
{
	struct state_loc l;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = state_locate(cfg, &l, err, errlen)) == APITOKEN_OK)
		r = state_read_at(l.dirfd, l.name, l.path, st, err, errlen);
	if (l.dirfd >= 0)
		close(l.dirfd);
	if (r != APITOKEN_OK)
		memset(st, 0, sizeof(*st));
	return r;
}

/* ------------------------------------------------------------ write */

/* A text field as written: control characters become '?'. */
static void
text_put(char *out, size_t size, const char *s, size_t max)
{
	size_t i, n = strnlen(s, max - 1);

	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

static int
state_format(const struct apitoken_replica_state *st, char *buf, size_t size)
{
	char server[sizeof(st->server)], error[sizeof(st->error)];
	int n;

	if (st->cursor_seq < 0 || st->last_sync < 0 || st->updated < 0 ||
	    (st->connected != 0 && st->connected != 1) ||
	    st->pending_reports < 0 || st->pid < 0 || st->pid > INT32_MAX)
		return APITOKEN_ERR_INVALID;
	text_put(server, sizeof(server), st->server, sizeof(st->server));
	text_put(error, sizeof(error), st->error, sizeof(st->error));
	n = snprintf(buf, size, "%s\ncursor_xid %llu\ncursor_seq %lld\n"
	    "last_sync %lld\nupdated %lld\nconnected %d\n"
	    "pending_reports %lld\npid %ld\nserver %s\nerror %s\n",
	    STATE_HEADER, (unsigned long long)st->cursor_xid,
	    (long long)st->cursor_seq, (long long)st->last_sync,
	    (long long)st->updated, st->connected,
	    (long long)st->pending_reports, st->pid, server, error);
	return n < 0 || (size_t)n >= size ? APITOKEN_ERR_INTERNAL : n;
}

/* Owner, group and read bits of the store (0600 without one). */
static void
state_owner(int dirfd, const char *store, int fd)
{
	const char *base = strrchr(store, '/') + 1;
	struct stat sb;

	if (fstatat(dirfd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(sb.st_mode))
		return;
	if (fchown(fd, sb.st_uid, sb.st_gid) == 0)
		(void)fchmod(fd, sb.st_mode & 0640);
}

static int
state_write_tmp(const struct state_loc *l, const char *store,
    const char *tmp, const char *buf, size_t n, char *err, size_t errlen)
{
	int fd, r = APITOKEN_OK;

	fd = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return set_err(err, errlen, errno == EACCES ?
		    APITOKEN_ERR_ACCESS : APITOKEN_ERR_SYSTEM,
		    "%s: cannot create temp file: %s", l->path, strerror(errno));
	state_owner(l->dirfd, store, fd);
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd) != 0)
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: writing "
		    "temp file: %s", l->path, strerror(errno ? errno : EIO));
	if (close(fd) != 0 && r == APITOKEN_OK)
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: closing "
		    "temp file: %s", l->path, strerror(errno));
	return r;
}

int
apitoken_replica_state_write(const struct apitoken_config *cfg,
    const struct apitoken_replica_state *st, char *err, size_t errlen)
{
	char buf[1024], tmp[512], sfx[7];
	struct state_loc l;
	int n, r;

	if ((n = state_format(st, buf, sizeof(buf))) < 0)
		return set_err(err, errlen, n, "replica state: a negative "
		    "number, or connected other than 0 or 1");
	if ((r = state_locate(cfg, &l, err, errlen)) != APITOKEN_OK ||
	    (r = base62_random(sfx, 6)) != APITOKEN_OK)
		goto out;
	sfx[6] = '\0';
	r = APITOKEN_ERR_TOO_LONG;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp.%s", l.name, sfx) >=
	    sizeof(tmp))
		goto out;
	if ((r = state_write_tmp(&l, apitoken_config_store(cfg), tmp, buf,
	    (size_t)n, err, errlen)) != APITOKEN_OK)
		goto fail;
	if (renameat(l.dirfd, tmp, l.dirfd, l.name) != 0) {
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: rename: %s",
		    l.path, strerror(errno));
		goto fail;
	}
	if (fsync(l.dirfd) != 0)
		r = set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: fsync of "
		    "directory: %s", l.path, strerror(errno));
	goto out;
fail:
	(void)unlinkat(l.dirfd, tmp, 0);
out:
	if (l.dirfd >= 0)
		close(l.dirfd);
	return r;
}

/* -------------------------------------------------------- staleness */

/*
 * 1 if the replica whose state is name in dirfd is stale at now: no
 * state, one that cannot be read, never synced, or last synced longer
 * than max ago (max APITOKEN_NEVER: no time limit).  why gets the reason.
 */
int
replica_stale_at(int dirfd, const char *name, const char *path, int64_t max,
    time_t now, char *why, size_t whylen)
{
	struct apitoken_replica_state st;
	char when[32];
	int r = state_read_at(dirfd, name, path, &st, why, whylen);

	if (r != APITOKEN_OK)
		return 1;
	if (st.last_sync == 0) {
		set_err(why, whylen, 0, "%s: never synced", path);
		return 1;
	}
	if (max == APITOKEN_NEVER || (int64_t)now - st.last_sync <= max)
		return 0;
	if (apitoken_time_format(st.last_sync, when, sizeof(when)) != 0)
		snprintf(when, sizeof(when), "%lld", (long long)st.last_sync);
	set_err(why, whylen, 0, "last synced %s, longer ago than "
	    "max_staleness (%lld s)", when, (long long)max);
	return 1;
}

int
apitoken_replica_stale(const struct apitoken_config *cfg, time_t now)
{
	struct state_loc l;
	int stale = 1;

	if (apitoken_config_pg_conninfo(cfg) == NULL)
		return 0;
	if (state_locate(cfg, &l, NULL, 0) == APITOKEN_OK)
		stale = replica_stale_at(l.dirfd, l.name, l.path,
		    apitoken_config_max_staleness(cfg), now, NULL, 0);
	if (l.dirfd >= 0)
		close(l.dirfd);
	return stale;
}
