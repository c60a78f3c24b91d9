/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_use.c - the last uses this host has not reported to the
 * central store yet: one slot per token (open addressing over a few
 * probes; a use that finds no free slot is dropped and counted), the
 * newest use kept, a token reported at most once a
 * REPLICA_USE_INTERVAL.  Guarded by its own mutex, taken after core's
 * (core.c calls replica_used under its lock), never the other way.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "replica.h"

#define USE_SLOTS 65536
#define USE_PROBES 8

struct use_slot {
	char id[APITOKEN_ID_LEN + 1];	/* "" free */
	int dirty;			/* when not reported yet */
	int64_t when;			/* newest use seen */
	int64_t sent;			/* the use last reported */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct use_slot *slots;	/* NULL: no replica running */
static int64_t ndirty;
static int64_t dropped;

int
uses_init(void)
{
	pthread_mutex_lock(&mu);
	if (slots == NULL)
		slots = calloc(USE_SLOTS, sizeof(*slots));
	ndirty = dropped = 0;
	pthread_mutex_unlock(&mu);
	return slots != NULL ? 0 : -1;
}

void
uses_free(void)
{
	pthread_mutex_lock(&mu);
	free(slots);
	slots = NULL;
	ndirty = 0;
	pthread_mutex_unlock(&mu);
}

/* id's slot, or a free one, or a reported one to reuse; NULL if the
 * probes found only other tokens' pending uses. */
static struct use_slot *
slot_for(const char *id)
{
	struct use_slot *s, *spare = NULL;
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	for (i = 0; i < USE_PROBES; i++) {
		s = &slots[(h + i) % USE_SLOTS];
		if (strcmp(s->id, id) == 0)
			return s;
		if (spare == NULL && (s->id[0] == '\0' || !s->dirty))
			spare = s;
	}
	if (spare != NULL) {
		memset(spare, 0, sizeof(*spare));
		memcpy(spare->id, id, sizeof(spare->id));
	}
	return spare;
}

void
replica_used(const char *id, int64_t when)
{
	struct use_slot *s;

	if (strlen(id) != APITOKEN_ID_LEN)
		return;
	pthread_mutex_lock(&mu);
	if (slots == NULL)
		goto out;
	if ((s = slot_for(id)) == NULL) {
		if (dropped++ % 1000 == 0)
			core_log(LOG_WARNING, "replica: too many last uses "
			    "pending; some are not reported");
		goto out;
	}
	if (s->dirty) {
		if (when > s->when)
			s->when = when;
	} else if (s->sent == 0 || when - s->sent >= REPLICA_USE_INTERVAL) {
		s->when = when;
		s->dirty = 1;
		ndirty++;
	}
out:
	pthread_mutex_unlock(&mu);
}

size_t
uses_take(struct fleet_use *u, size_t max)
{
	size_t i, n = 0;

	pthread_mutex_lock(&mu);
	for (i = 0; slots != NULL && i < USE_SLOTS && n < max &&
	    ndirty > 0; i++) {
		if (!slots[i].dirty)
			continue;
		memcpy(u[n].id, slots[i].id, sizeof(u[n].id));
		u[n++].when = slots[i].when;
		slots[i].dirty = 0;
		slots[i].sent = slots[i].when;
		ndirty--;
	}
	pthread_mutex_unlock(&mu);
	return n;
}

void
uses_restore(const struct fleet_use *u, size_t n)
{
	struct use_slot *s;
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; slots != NULL && i < n; i++) {
		if ((s = slot_for(u[i].id)) == NULL || s->dirty)
			continue;	/* a newer use is pending already */
		s->when = u[i].when;
		s->sent = 0;
		s->dirty = 1;
		ndirty++;
	}
	pthread_mutex_unlock(&mu);
}

int64_t
uses_pending(void)
{
	int64_t n;

	pthread_mutex_lock(&mu);
	n = ndirty;
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * Uses the module recorded by itself (a root caller such as sshd reads
 * the store without the daemon): each state_dir/lastuse/<id> written
 * since the last scan (its mtime), read through the library.  The first
 * scan takes them all (uses made while apitokend was down).
 */
void
uses_scan(const struct apitoken_config *cfg, int64_t since)
{
	struct apitoken_lastuse lu;
	struct dirent *e;
	struct stat st;
	char path[4096], err[256];
	DIR *dir;

	(void)snprintf(path, sizeof(path), "%s/lastuse",
	    apitoken_config_state_dir(cfg));
	if ((dir = opendir(path)) == NULL)
		return;		/* none yet */
	while ((e = readdir(dir)) != NULL) {
		if (apitoken_id_valid(e->d_name) != 0 ||
		    fstatat(dirfd(dir), e->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    (int64_t)st.st_mtime < since)
			continue;
		if (apitoken_lastuse_get(cfg, e->d_name, &lu, err,
		    sizeof(err)) == 0 && lu.when > 0)
			replica_used(e->d_name, lu.when);
	}
	closedir(dir);
}
