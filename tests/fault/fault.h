/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault.h - failure injection for the fault tests.
 *
 * test-fault is linked with -Wl,--wrap=<fn> for each libc function in
 * enum fault_kind (see FAULT_WRAP in the Makefile), so every call the
 * library (and this test) makes to one of them goes through the
 * __wrap_* functions in wrap.c first.  Calls made inside shared
 * libraries (glibc itself, OpenSSL, libyaml, Criterion) are not
 * wrapped.  Nothing is counted or failed unless armed: the tests arm
 * around exactly the operation under test.
 */
#ifndef TESTS_FAULT_H
#define TESTS_FAULT_H

#include <stddef.h>
#include <sys/types.h>

enum fault_kind {
	FK_ALLOC,	/* malloc calloc realloc strdup: NULL, ENOMEM */
	FK_OPEN,	/* open openat: -1, EIO */
	FK_READ,	/* read: -1, EIO */
	FK_WRITE,	/* write: -1, EIO */
	FK_FSYNC,	/* fsync: -1, EIO */
	FK_RENAME,	/* rename renameat: -1, EIO */
	FK_MMAP,	/* mmap: MAP_FAILED, ENOMEM */
	FK_RANDOM,	/* getrandom: -1, EIO */
	FK_NKINDS,
	FK_NONE = FK_NKINDS	/* count only */
};

enum fault_mode {
	FM_ONCE,	/* only the n-th call fails */
	FM_STICKY,	/* the n-th and every later call fails */
	FM_SHORT,	/* read/write: the n-th call moves half the bytes */
};

/* Count calls of every kind; make call n (1-based) of kind fail. */
void fault_arm(enum fault_kind kind, unsigned long n, enum fault_mode mode);
/* Stop counting and failing. */
void fault_disarm(void);
/* Failures injected since the last fault_arm(). */
unsigned long fault_fired(void);
/* Calls of kind seen while armed since the last fault_arm(). */
unsigned long fault_calls(enum fault_kind kind);
const char *fault_kind_name(enum fault_kind kind);
const char *fault_mode_name(enum fault_mode mode);

/* The wrapped functions (prototypes for -Wmissing-prototypes). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
int __real_open(const char *path, int flags, ...);
int __real_openat(int dirfd, const char *path, int flags, ...);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
int __real_renameat(int fromfd, const char *from, int tofd, const char *to);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
    off_t off);
ssize_t __real_getrandom(void *buf, size_t n, unsigned int flags);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
int __wrap_open(const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_renameat(int fromfd, const char *from, int tofd, const char *to);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
    off_t off);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned int flags);

#endif
