/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wrap.c - the --wrap'ed libc functions: count while armed, fail the
 * chosen call, otherwise pass through to the real function.
 */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mman.h>

static struct {
	int armed;
	enum fault_kind kind;
	unsigned long n;
	enum fault_mode mode;
	unsigned long calls[FK_NKINDS];
	unsigned long fired;
} F;

void
fault_arm(enum fault_kind kind, unsigned long n, enum fault_mode mode)
{
	int k;

	for (k = 0; k < FK_NKINDS; k++)
		F.calls[k] = 0;
	F.kind = kind;
	F.n = n;
	F.mode = mode;
	F.fired = 0;
	F.armed = 1;
}

void
fault_disarm(void)
{
	F.armed = 0;
}

unsigned long
fault_fired(void)
{
	return F.fired;
}

unsigned long
fault_calls(enum fault_kind kind)
{
	return kind < FK_NKINDS ? F.calls[kind] : 0;
}

const char *
fault_kind_name(enum fault_kind kind)
{
	static const char *const names[] = { "alloc", "open", "read", "write",
	    "fsync", "rename", "mmap", "getrandom", "none" };

	return kind <= FK_NONE ? names[kind] : "?";
}

const char *
fault_mode_name(enum fault_mode mode)
{
	return mode == FM_ONCE ? "once" : mode == FM_STICKY ? "sticky" :
	    "short";
}

/* Count a call of kind k; 1 if it is to fail (or be short). */
static int
hit(enum fault_kind k)
{
	unsigned long c;

	if (!F.armed)
		return 0;
	c = ++F.calls[k];
	if (k != F.kind || c < F.n || (c > F.n && F.mode != FM_STICKY))
		return 0;
	F.fired++;
	return 1;
}

static int
fail_errno(int e)
{
	errno = e;
	return -1;
}

void *
__wrap_malloc(size_t n)
{
	if (hit(FK_ALLOC))
		return errno = ENOMEM, (void *)0;
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t m, size_t n)
{
	if (hit(FK_ALLOC))
		return errno = ENOMEM, (void *)0;
	return __real_calloc(m, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (hit(FK_ALLOC))
		return errno = ENOMEM, (void *)0;
	return __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	if (hit(FK_ALLOC))
		return errno = ENOMEM, (char *)0;
	return __real_strdup(s);
}

/* open(2) has a mode argument only with O_CREAT or O_TMPFILE. */
static int
needs_mode(int flags)
{
	return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

int
__wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	int mode = 0;

	if (needs_mode(flags)) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (hit(FK_OPEN))
		return fail_errno(EIO);
	return __real_open(path, flags, mode);
}

int
__wrap_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int mode = 0;

	if (needs_mode(flags)) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (hit(FK_OPEN))
		return fail_errno(EIO);
	return __real_openat(dirfd, path, flags, mode);
}

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	if (hit(FK_READ)) {
		if (F.mode != FM_SHORT)
			return fail_errno(EIO);
		n = n > 1 ? n / 2 : n;
	}
	return __real_read(fd, buf, n);
}

/* pread counts as a read: the store's look-up reads with it. */
ssize_t
__wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	if (hit(FK_READ)) {
		if (F.mode != FM_SHORT)
			return fail_errno(EIO);
		n = n > 1 ? n / 2 : n;
	}
	return __real_pread(fd, buf, n, off);
}

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	if (hit(FK_WRITE)) {
		if (F.mode != FM_SHORT)
			return fail_errno(EIO);
		n = n > 1 ? n / 2 : n;
	}
	return __real_write(fd, buf, n);
}

int
__wrap_fsync(int fd)
{
	if (hit(FK_FSYNC))
		return fail_errno(EIO);
	return __real_fsync(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
	if (hit(FK_RENAME))
		return fail_errno(EIO);
	return __real_rename(from, to);
}

int
__wrap_renameat(int fromfd, const char *from, int tofd, const char *to)
{
	if (hit(FK_RENAME))
		return fail_errno(EIO);
	return __real_renameat(fromfd, from, tofd, to);
}

void *
__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (hit(FK_MMAP))
		return errno = ENOMEM, MAP_FAILED;
	return __real_mmap(addr, len, prot, flags, fd, off);
}

ssize_t
__wrap_getrandom(void *buf, size_t n, unsigned int flags)
{
	if (hit(FK_RANDOM))
		return fail_errno(EIO);
	return __real_getrandom(buf, n, flags);
}
