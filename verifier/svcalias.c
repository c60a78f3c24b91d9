/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * svcalias.c - service_aliases: the PAM services a token's service also
 * covers (on Debian "su -" asks as su-l, "sudo -i" as sudo-i).  A flat
 * list of (service, alias) pairs; not transitive: su: [su-l] and
 * su-l: [x] do not make su cover x.  Copied into each store handle, so
 * the one verify path needs no config.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void
aliases_clear(struct svc_aliases *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

int
pairs_append(struct svc_aliases *a, const char *from, const char *to)
{
	struct svc_alias *v;
	size_t cap;

	if (a->n == a->cap) {
		cap = a->cap ? 2 * a->cap : 4;
		if ((v = realloc(a->v, cap * sizeof(*v))) == NULL)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	memcpy(a->v[a->n].from, from, strlen(from) + 1);
	memcpy(a->v[a->n].to, to, strlen(to) + 1);
	a->n++;
	return 0;
}

/* Add "from also covers to", both valid service names; NULL, or what
 * is wrong with the pair. */
const char *
aliases_add(struct svc_aliases *a, const char *from, const char *to)
{
	if (strcmp(from, to) == 0)
		return "a service is not an alias of itself";
	if (aliases_covers(a, from, to))
		return "listed twice";
	if (a->n >= SVC_ALIASES_MAX)
		return "more aliases than the limit of 256";
	return pairs_append(a, from, to) == 0 ? NULL : "out of memory";
}

/* The built-in default, "from:to from:to" (trusted, from config.c's key
 * table; a unit test checks what it says).  0, or -1 if out of memory or
 * not of that form. */
int
aliases_parse(struct svc_aliases *a, const char *text)
{
	size_t n = 1, i, f, t;
	const char *p;

	aliases_clear(a);
	for (p = text; *p != '\0'; p++)
		n += *p == ' ';
	if ((a->v = calloc(n, sizeof(*a->v))) == NULL)
		return -1;
	a->cap = n;
	for (i = 0; i < n; i++, text += f + t + 1 + (text[f + t + 1] == ' ')) {
		f = strcspn(text, ": ");
		t = text[f] == ':' ? strcspn(text + f + 1, ": ") : 0;
		if (f == 0 || f > APITOKEN_SERVICE_MAX || t == 0 ||
		    t > APITOKEN_SERVICE_MAX) {
			aliases_clear(a);
			return -1;
		}
		memcpy(a->v[i].from, text, f);
		memcpy(a->v[i].to, text + f + 1, t);
	}
	a->n = n;
	return 0;
}

int
aliases_copy(struct svc_aliases *dst, const struct svc_aliases *src)
{
	dst->v = NULL;
	dst->n = dst->cap = 0;
	if (src->n == 0)
		return APITOKEN_OK;
	if ((dst->v = malloc(src->n * sizeof(*dst->v))) == NULL)
		return APITOKEN_ERR_NOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return APITOKEN_OK;
}

int
aliases_covers(const struct svc_aliases *a, const char *svc, const char *req)
{
	size_t i;

	if (strcmp(svc, req) == 0)
		return 1;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].from, svc) == 0 &&
		    strcmp(a->v[i].to, req) == 0)
			return 1;
	return 0;
}

const char *
aliases_nth(const struct svc_aliases *a, const char *svc, size_t nth)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].from, svc) == 0 && nth-- == 0)
			return a->v[i].to;
	return NULL;
}
