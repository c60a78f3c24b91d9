/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwatch.c - one inotify(7) instance watching the directories of the
 * files the core checks at every request (fwatch.h).  A directory, not
 * the file: the store and /etc/shadow are replaced by rename(2), which
 * a watch on the old file would not report.  Events for other names in
 * the directory are read and ignored.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fwatch.h"

#define EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR)
/* the directory itself went: its watch no longer says anything */
#define GONE (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

void
fwatch_init(struct fwatch *w)
{
	int i;

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	for (i = 0; i < FWATCH_FILES; i++) {
		w->wd[i] = -1;
		w->dir[i] = w->name[i] = NULL;
	}
}

void
fwatch_close(struct fwatch *w)
{
	int i;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	for (i = 0; i < FWATCH_FILES; i++) {
		free(w->dir[i]);
		free(w->name[i]);
		w->dir[i] = w->name[i] = NULL;
		w->wd[i] = -1;
	}
}

/* Add the watch of file i, whose directory is set. */
static int
add(struct fwatch *w, int i)
{
	int wd;

	if (w->fd < 0 || w->dir[i] == NULL ||
	    (wd = inotify_add_watch(w->fd, w->dir[i], EVENTS)) < 0)
		return -1;
	w->wd[i] = wd;
	return 0;
}

int
fwatch_file(struct fwatch *w, int i, const char *path)
{
	const char *slash = strrchr(path, '/');
	int j;

	for (j = 0; j < FWATCH_FILES && (j == i || w->wd[j] != w->wd[i]); j++)
		;
	if (w->wd[i] >= 0 && j == FWATCH_FILES)	/* no other file's */
		(void)inotify_rm_watch(w->fd, w->wd[i]);
	free(w->dir[i]);
	free(w->name[i]);
	w->dir[i] = w->name[i] = NULL;
	w->wd[i] = -1;
	if (slash == NULL || slash[1] == '\0' ||
	    (w->name[i] = strdup(slash + 1)) == NULL ||
	    (w->dir[i] = strndup(path, slash == path ? 1 :
	    (size_t)(slash - path))) == NULL)
		return -1;
	return add(w, i);
}

/* Which files event e may have changed. */
static unsigned
event_files(struct fwatch *w, const struct inotify_event *e)
{
	unsigned m = 0;
	int i;

	if (e->mask & IN_Q_OVERFLOW)
		return ~0u;
	for (i = 0; i < FWATCH_FILES; i++) {
		if (w->wd[i] < 0 || e->wd != w->wd[i])
			continue;
		if (e->mask & GONE) {
			if (!(e->mask & IN_IGNORED))	/* moved: drop it */
				(void)inotify_rm_watch(w->fd, e->wd);
			w->wd[i] = -1;	/* added again by fwatch_changed */
			m |= 1u << i;
		} else if (e->len > 0 && strcmp(e->name, w->name[i]) == 0)
			m |= 1u << i;
	}
	return m;
}

unsigned
fwatch_changed(struct fwatch *w)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	unsigned m = 0;
	ssize_t n, off;
	int i;

	if (w->fd < 0)
		return ~0u;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += (ssize_t)sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(const void *)
			    (buf + off);
			m |= event_files(w, e);
		}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		m = ~0u;
	for (i = 0; i < FWATCH_FILES; i++)
		if (w->wd[i] < 0) {
			m |= 1u << i;
			(void)add(w, i);
		}
	return m;
}
