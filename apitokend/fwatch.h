/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwatch.h - whether files the core checks at every request (the store,
 * /etc/shadow) may have changed, from one inotify(7) instance: one
 * read(2) that finds nothing replaces a stat(2) of each.
 */
#ifndef APITOKEND_FWATCH_H
#define APITOKEND_FWATCH_H

#define FWATCH_FILES 2

struct fwatch {
	int fd;				/* inotify; -1: none (stat every time) */
	int wd[FWATCH_FILES];		/* the file's directory; -1: none */
	char *dir[FWATCH_FILES];	/* that directory */
	char *name[FWATCH_FILES];	/* the file's name in it */
};

/* Set up w (no file watched yet); without inotify every file reads as
 * changed at each fwatch_changed. */
void fwatch_init(struct fwatch *w);
void fwatch_close(struct fwatch *w);
/* Watch file i (< FWATCH_FILES) by the directory holding path; 0, or -1
 * (then file i reads as changed at each fwatch_changed, which tries
 * again). */
int fwatch_file(struct fwatch *w, int i, const char *path);
/* The files that may have changed since the last call (bit i: file i),
 * all of them for a file not watched or when events were lost.  A
 * change finished before the call is always seen: inotify queues its
 * event before the system call that made it returns. */
unsigned fwatch_changed(struct fwatch *w);
/* Whether file i's directory is watched now. */
#define fwatch_watched(w, i) ((w)->wd[(i)] >= 0)

#endif
