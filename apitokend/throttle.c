/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throttle.c - failure counts and lockouts (throttle.h).  A chained hash
 * table per kind of key.  A count starts at the first failure and lasts
 * failure_window; reaching max_failures inside it locks the key out until
 * now + lockout; a success or an unlock forgets the key.  When a table is
 * full, entries neither counting inside their window nor locked out are
 * swept (at most once a second); if none can go, the new failure is not
 * recorded and that is logged (at most once a minute): existing counts
 * and lockouts are never dropped to make room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "throttle.h"

struct tentry {
	struct tentry *next;
	uid_t uid;
	int64_t first;		/* first failure counted */
	int64_t until;		/* locked out until; 0 = not */
	uint32_t failures;
	char name[];		/* user name, token id or address */
};

void
throttle_init(struct throttle *t, int64_t max, int64_t window,
    int64_t lockout)
{
	t->max = max;
	t->window = window;
	t->lockout = lockout;
}

static void
free_chain(struct tentry *e)
{
	struct tentry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
}

void
throttle_clear(struct throttle *t)
{
	size_t k, i;

	for (k = 0; k < T_KINDS; k++) {
		for (i = 0; i < THROTTLE_BUCKETS; i++) {
			free_chain(t->t[k].b[i]);
			t->t[k].b[i] = NULL;
		}
		t->t[k].n = 0;
	}
}

/* FNV-1a of uid and name. */
static size_t
bucket(const struct tkey *k)
{
	uint32_t h = 2166136261u;
	const unsigned char *p = (const unsigned char *)k->name;
	size_t i;

	for (i = 0; i < sizeof(k->uid); i++)
		h = (h ^ (uint32_t)((k->uid >> (8 * i)) & 0xff)) * 16777619u;
	for (; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h % THROTTLE_BUCKETS;
}

/* The link pointing at k's entry (*link is NULL when absent). */
static struct tentry **
find(struct throttle *t, const struct tkey *k)
{
	struct tentry **l = &t->t[k->kind].b[bucket(k)];

	for (; *l != NULL; l = &(*l)->next)
		if ((*l)->uid == k->uid && strcmp((*l)->name, k->name) == 0)
			break;
	return l;
}

static void
unlink_entry(struct ttable *tt, struct tentry **l)
{
	struct tentry *e = *l;

	*l = e->next;
	free(e);
	tt->n--;
}

/* An entry that matters no more at now: not locked out, window over. */
static int
stale(const struct throttle *t, const struct tentry *e, int64_t now)
{
	if (e->until != 0)
		return now >= e->until;
	return now - e->first >= t->window;
}

static void
sweep(struct throttle *t, struct ttable *tt, int64_t now)
{
	struct tentry **l;
	size_t i;

	for (i = 0; i < THROTTLE_BUCKETS; i++)
		for (l = &tt->b[i]; *l != NULL;)
			if (stale(t, *l, now))
				unlink_entry(tt, l);
			else
				l = &(*l)->next;
	tt->last_purge = now;
}

int
throttle_blocked(struct throttle *t, const struct tkey *k, int64_t now,
    int64_t *until)
{
	struct tentry **l = find(t, k);

	*until = 0;
	if (*l == NULL || (*l)->until == 0)
		return 0;
	if (now >= (*l)->until) {	/* served: starts afresh */
		unlink_entry(&t->t[k->kind], l);
		return 0;
	}
	*until = (*l)->until;
	return 1;
}

/* A new entry for k, or NULL when the table is full (logged). */
static struct tentry *
add(struct throttle *t, const struct tkey *k, int64_t now)
{
	struct ttable *tt = &t->t[k->kind];
	struct tentry *e;
	size_t len = strlen(k->name), b;

	if (tt->n >= THROTTLE_MAX && now != tt->last_purge)
		sweep(t, tt, now);
	if (tt->n >= THROTTLE_MAX) {
		if (now - tt->full_logged >= 60) {
			core_log(LOG_WARNING, "throttle table of %s full "
			    "(%d entries): new failures not counted",
			    k->kind == T_USER ? "users" : k->kind == T_TOKEN ?
			    "token ids" : "client addresses",
			    THROTTLE_MAX);
			tt->full_logged = now;
		}
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e) + len + 1)) == NULL)
		return NULL;
	memcpy(e->name, k->name, len + 1);
	e->uid = k->uid;
	e->first = now;
	b = bucket(k);
	e->next = tt->b[b];
	tt->b[b] = e;
	tt->n++;
	return e;
}

int
throttle_fail(struct throttle *t, const struct tkey *k, int64_t now)
{
	struct tentry **l = find(t, k), *e = *l;

	if (e != NULL && stale(t, e, now)) {
		unlink_entry(&t->t[k->kind], l);
		e = NULL;
	}
	if (e == NULL && (e = add(t, k, now)) == NULL)
		return 0;
	if (e->until != 0)
		return 0;	/* already locked out */
	if (e->failures < UINT32_MAX)
		e->failures++;
	if ((int64_t)e->failures < t->max)
		return 0;
	e->until = now + t->lockout;
	return 1;
}

void
throttle_ok(struct throttle *t, const struct tkey *k)
{
	struct tentry **l = find(t, k);

	if (*l != NULL)
		unlink_entry(&t->t[k->kind], l);
}

/* The entry line of e (core.h). */
static void
entry_line(enum tkind kind, const struct tentry *e, char *buf, size_t n)
{
	char esc[400];	/* so that the line fits an ENTRY (512) */

	if (kind == T_TOKEN || kind == T_ADDR) {
		snprintf(buf, n, "%s %s %lld %u", kind == T_TOKEN ? "token" :
		    "address", e->name, (long long)e->until, e->failures);
		return;
	}
	apitoken_log_escape(esc, sizeof(esc), e->name, 0);
	snprintf(buf, n, "user %lu %s %lld %u", (unsigned long)e->uid, esc,
	    (long long)e->until, e->failures);
}

int
throttle_lockouts(struct throttle *t, int64_t now, core_entry_fn fn,
    void *ctx)
{
	const struct tentry *e;
	char line[600];
	size_t k, i;
	int r;

	for (k = 0; k < T_KINDS; k++)
		for (i = 0; i < THROTTLE_BUCKETS; i++)
			for (e = t->t[k].b[i]; e != NULL; e = e->next) {
				if (e->until == 0 || now >= e->until)
					continue;
				entry_line((enum tkind)k, e, line,
				    sizeof(line));
				if ((r = fn(line, ctx)) != 0)
					return r;
			}
	return 0;
}

int
throttle_unlock(struct throttle *t, enum tkind kind, const char *name,
    int64_t now, core_entry_fn fn, void *ctx)
{
	struct ttable *tt = &t->t[kind];
	struct tentry **l;
	char line[600];
	size_t i;
	int n = 0;

	for (i = 0; i < THROTTLE_BUCKETS; i++)
		for (l = &tt->b[i]; *l != NULL;) {
			if (strcmp((*l)->name, name) != 0) {
				l = &(*l)->next;
				continue;
			}
			if ((*l)->until != 0 && now < (*l)->until) {
				entry_line(kind, *l, line, sizeof(line));
				if (fn != NULL)
					fn(line, ctx);
				n++;
			}
			unlink_entry(tt, l);
		}
	return n;
}
