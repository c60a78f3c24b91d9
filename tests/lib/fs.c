/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fs.c - temp directories and their removal, whole-file reads and
 * writes, and searches in files, for every test suite.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tl.h"

char *
tl_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		tl_die("vasprintf: out of memory");
	return s;
}

void
tl_tmpdir(char *buf, size_t size, const char *tag)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (base == NULL || base[0] != '/')
		base = "/tmp";
	n = snprintf(buf, size, "%s/%s.XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= size)
		tl_die("temp dir name \"%s/%s.XXXXXX\" too long", base, tag);
	if (mkdtemp(buf) == NULL)
		tl_die("mkdtemp %s: %s", buf, strerror(errno));
}

static int rm_failed;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int r;

	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		r = rmdir(path);
	else
		r = unlink(path);
	if (r != 0)
		rm_failed = 1;
	return 0;
}

int
tl_rmrf(const char *path)
{
	if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0)
		return -1;
	rm_failed = 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return errno == ENOENT ? 0 : -1;
	return rm_failed ? -1 : 0;
}

static void
buf_add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (*buf == NULL)
			tl_die("out of memory");
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

char *
tl_read_file(const char *path, size_t *lenp)
{
	char *buf = NULL, chunk[65536];
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if (lenp != NULL)
		*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	buf_add(&buf, &len, &cap, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&buf, &len, &cap, chunk, (size_t)n);
	close(fd);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

void
tl_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0)
		tl_die("open %s: %s", path, strerror(errno));
	while (len > 0) {
		w = write(fd, p, len);
		if (w <= 0)
			tl_die("write %s: %s", path, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0)
		tl_die("chmod/close %s: %s", path, strerror(errno));
}

void
tl_write_str(const char *path, const char *text, mode_t mode)
{
	tl_write_file(path, text, strlen(text), mode);
}

void
tl_write_config(const char *path, const char *store, const char *state,
    const char *extra, mode_t mode)
{
	char *text = tl_fmt("store: %s\nstate_dir: %s\n%s", store, state,
	    extra != NULL ? extra : "");

	tl_write_str(path, text, mode);
	free(text);
}

int
tl_create_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);
	int r = -1;

	if (fd < 0)
		return -1;
	if (write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0)
		r = 0;
	if (close(fd) != 0)
		r = -1;
	return r;
}

void
tl_copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t len;
	char *data = tl_read_file(src, &len);

	if (data == NULL)
		tl_die("read %s: %s", src, strerror(errno));
	tl_write_file(dst, data, len, mode);
	free(data);
}

size_t
tl_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

int
tl_count_prefix(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

int
tl_mem_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen)
{
	return hay != NULL && nlen > 0 && memmem(hay, hlen, needle, nlen) !=
	    NULL;
}

static const char *scan_needle;
static size_t scan_nlen;
static int scan_hits;

static int
scan_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t len;
	char *buf;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	buf = tl_read_file(path, &len);
	if (tl_mem_contains(buf, len, scan_needle, scan_nlen)) {
		fprintf(stderr, "found in %s\n", path);
		scan_hits++;
	}
	free(buf);
	return 0;
}

int
tl_file_contains(const char *path, const char *needle, size_t len)
{
	scan_needle = needle;
	scan_nlen = len;
	scan_hits = 0;
	(void)nftw(path, scan_one, 16, FTW_PHYS);
	return scan_hits > 0;
}
