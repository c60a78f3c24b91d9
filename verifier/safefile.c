/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * safefile.c - the one rule for trusted files and their directory
 * (CVE-2024-47191, CVE-2019-12209): never follow a symlink, a regular file
 * (or directory) owned by root or the effective uid, writable by nobody
 * else.  Every open here is O_NOFOLLOW|O_CLOEXEC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Split path into its directory (into dir) and its last component. */
int
dir_of(const char *path, char *dir, size_t dirsize, const char **basep)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	*basep = NULL;
	if (slash == NULL || slash[1] == '\0')
		return APITOKEN_ERR_INVALID;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirsize)
		return APITOKEN_ERR_TOO_LONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*basep = slash + 1;
	return APITOKEN_OK;
}

/*
 * The permission rule: right type, owner root or euid, no group/other
 * write.  Returns 0 or APITOKEN_ERR_STORE_UNSAFE with a message naming
 * path and the rule broken.
 */
int
safe_check(const struct stat *st, const char *path, int want_dir, char *err,
    size_t errlen)
{
	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: not a %s", path, want_dir ? "directory" : "regular file");
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: owned by uid %u, must be owned by root or uid %u",
		    path, (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: writable by %s (mode %04o), must not be", path,
		    (st->st_mode & S_IWOTH) ? "others" : "group",
		    (unsigned)(st->st_mode & 07777));
	return APITOKEN_OK;
}

/* Map an open() errno to our code and message. */
static int
open_error(int e, const char *path, const char *what, char *err,
    size_t errlen)
{
	if (e == ENOENT)
		return set_err(err, errlen, APITOKEN_ERR_STORE_MISSING,
		    "%s: %s does not exist", path, what);
	if (e == ELOOP || e == ENOTDIR)
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: %s is a symbolic link (or not a directory); refused",
		    path, what);
	if (e == EACCES || e == EPERM)
		return set_err(err, errlen, APITOKEN_ERR_ACCESS,
		    "%s: permission denied (the %s is readable by root only?)",
		    path, what);
	if (e == ENOMEM)
		return APITOKEN_ERR_NOMEM;
	return set_err(err, errlen, APITOKEN_ERR_SYSTEM, "%s: %s", path,
	    strerror(e));
}

/*
 * The rule for an ancestor of a trusted file (issue 14 item 3, OpenSSH's
 * safe_path): owned by root or the euid, and not writable by group or
 * others -- except a root-owned directory with the sticky bit (/tmp),
 * where nobody else can rename or remove what is not theirs.
 */
static int
ancestor_check(const struct stat *st, const char *path, char *err,
    size_t errlen)
{
	struct stat relaxed = *st;

	if (S_ISDIR(st->st_mode) && st->st_uid == 0 &&
	    (st->st_mode & S_ISVTX) != 0)
		relaxed.st_mode &= ~(mode_t)(S_IWGRP | S_IWOTH);
	return safe_check(&relaxed, path, 1, err, errlen);
}

/* Open component name (len bytes) of walked below fd, checked. */
static int
walk_step(int *fdp, char *walked, size_t wsize, const char *name,
    size_t len, int last, char *err, size_t errlen)
{
	struct stat st;
	size_t w = strlen(walked);
	int fd, r;

	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' &&
	    name[1] == '.'))
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: \".\" or \"..\" in a trusted path; refused", walked);
	if (w + len + 2 > wsize)
		return APITOKEN_ERR_TOO_LONG;
	if (w > 1)
		walked[w++] = '/';
	memcpy(walked + w, name, len);
	walked[w + len] = '\0';
	fd = openat(*fdp, walked + w, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return open_error(errno, walked, "directory", err, errlen);
	if (fstat(fd, &st) != 0)
		r = open_error(errno, walked, "directory", err, errlen);
	else if (last)
		r = safe_check(&st, walked, 1, err, errlen);
	else
		r = ancestor_check(&st, walked, err, errlen);
	close(*fdp);
	*fdp = fd;
	return r;
}

/*
 * Open the absolute directory dir by walking it from "/" with
 * openat(O_NOFOLLOW|O_DIRECTORY): every ancestor must pass
 * ancestor_check, dir itself safe_check; a violation names the
 * component.  No component is ever followed through a symbolic link.
 */
int
safe_open_dir(const char *dir, int *dirfdp, char *err, size_t errlen)
{
	char walked[4096] = "/";
	const char *p = dir, *end;
	struct stat st;
	int fd, r;

	*dirfdp = -1;
	if (dir[0] != '/')
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "%s: not an absolute path", dir);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return open_error(errno, "/", "directory", err, errlen);
	while (*p == '/')
		p++;
	r = fstat(fd, &st) != 0 ? open_error(errno, "/", "directory", err,
	    errlen) : *p == '\0' ? safe_check(&st, "/", 1, err, errlen) :
	    ancestor_check(&st, "/", err, errlen);
	while (r == APITOKEN_OK && *p != '\0') {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		r = walk_step(&fd, walked, sizeof(walked), p, (size_t)(end - p),
		    end[strspn(end, "/")] == '\0', err, errlen);
		p = end + strspn(end, "/");
	}
	if (r != APITOKEN_OK) {
		close(fd);
		return r == APITOKEN_ERR_TOO_LONG ? set_err(err, errlen, r,
		    "%s: path too long", dir) : r;
	}
	*dirfdp = fd;
	return APITOKEN_OK;
}

/*
 * Open the directory holding path (walked and checked by safe_open_dir)
 * and return its fd and the last component of path.
 */
int
safe_open_dir_of(const char *orig, int *dirfdp, const char **basep,
    char *err, size_t errlen)
{
	const char *path = orig;
	char abs[4096], dir[4096];
	const char *base;
	int r;

	*dirfdp = -1;
	*basep = NULL;
	if (path[0] != '/') {	/* relative: below the (physical) cwd */
		if (getcwd(abs, sizeof(abs)) == NULL ||
		    strlen(abs) + strlen(path) + 2 > sizeof(abs))
			return set_err(err, errlen, APITOKEN_ERR_TOO_LONG,
			    "%s: path too long", path);
		snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "%s%s",
		    strcmp(abs, "/") == 0 ? "" : "/", path);
		path = abs;
	}
	if ((r = dir_of(path, dir, sizeof(dir), &base)) != APITOKEN_OK)
		return set_err(err, errlen, r, "%s: not a file path", path);
	*basep = strrchr(orig, '/') != NULL ? strrchr(orig, '/') + 1 : orig;
	return safe_open_dir(dir, dirfdp, err, errlen);
}

/*
 * A store has exactly one name (issue 14 item 12): a second hard link,
 * wherever it lives, is a name whose directory we never checked, and a
 * way to keep an old copy (with a token still active) for a later swap.
 */
static int
one_name(const struct stat *st, const char *path, char *err, size_t errlen)
{
	if (st->st_nlink > 1)
		return set_err(err, errlen, APITOKEN_ERR_STORE_UNSAFE,
		    "%s: has %lu hard links, must have one (remove the other "
		    "names: find / -xdev -samefile %s)", path,
		    (unsigned long)st->st_nlink, path);
	return APITOKEN_OK;
}

/* openat(dirfd, base) read-only, without following links, and check it
 * (the rule, and a single name). */
int
safe_open_file(int dirfd, const char *base, const char *path, int *fdp,
    struct stat *st, char *err, size_t errlen)
{
	int fd, r;

	*fdp = -1;
	fd = openat(dirfd, base,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_error(errno, path, "file", err, errlen);
	if (fstat(fd, st) != 0) {
		r = open_error(errno, path, "file", err, errlen);
		close(fd);
		return r;
	}
	if ((r = safe_check(st, path, 0, err, errlen)) != APITOKEN_OK ||
	    (r = one_name(st, path, err, errlen)) != APITOKEN_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return APITOKEN_OK;
}

int
apitoken_open_trusted(const char *path, int *fdp, char *err, size_t errlen)
{
	const char *base;
	struct stat st;
	int dirfd, fd, r;

	*fdp = -1;
	if ((r = safe_open_dir_of(path, &dirfd, &base, err, errlen)) != 0)
		return r;
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	close(dirfd);
	if (fd < 0)
		return open_error(errno, path, "file", err, errlen);
	if (fstat(fd, &st) != 0)
		r = open_error(errno, path, "file", err, errlen);
	else
		r = safe_check(&st, path, 0, err, errlen);
	if (r != APITOKEN_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return APITOKEN_OK;
}
