/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostscope.c - scoping a token to hosts (a record's hosts list): the
 * syntax of its items and the match against this host's identity
 * (config host_name and host_groups, copied into each store handle).
 *
 * Matching, decided here once (apitoken-store(5), apitoken.yaml(5)):
 * names and patterns are compared with fnmatch(3) with FNM_CASEFOLD
 * (host names are not case-sensitive) and FNM_NOESCAPE, without
 * FNM_PATHNAME or FNM_PERIOD: a '*' also matches dots, so "build-*"
 * covers "build-7.eu.example.com" and "*.example.com" any depth below
 * example.com.  Only host name characters can reach fnmatch (the items
 * are validated), so no other rule of it applies.  Group names are
 * compared exactly.  An empty host_name (gethostname(2) failed or gave
 * no valid host name) matches no name or pattern, not even "*".
 */
#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

int
apitoken_host_name_valid(const char *s)
{
	size_t n = strlen(s), i, start = 0;

	if (n == 0 || n > APITOKEN_HOST_MAX)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum((unsigned char)s[i]) && s[i] != '-')
				return APITOKEN_ERR_INVALID;
			continue;
		}
		/* a label s[start..i) */
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return APITOKEN_ERR_INVALID;
		start = i + 1;
	}
	return APITOKEN_OK;
}

int
apitoken_host_group_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > APITOKEN_HOST_GROUP_MAX)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (!is_alnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return APITOKEN_ERR_INVALID;
	return APITOKEN_OK;
}

/* A bracket expression at s ('['): its length up to and including ']',
 * or 0 if it is not "[" ["!"] ["-"] (C | C "-" C)... "]" with C a letter
 * or digit and every range in order. */
static size_t
bracket_len(const char *s)
{
	size_t i = 1, items = 0;

	if (s[i] == '!')
		i++;
	if (s[i] == '-') {
		i++;
		items++;
	}
	while (is_alnum((unsigned char)s[i])) {
		if (s[i + 1] == '-' && is_alnum((unsigned char)s[i + 2])) {
			if (s[i + 2] < s[i])
				return 0;
			i += 2;
		}
		i++;
		items++;
	}
	return s[i] == ']' && items > 0 ? i + 1 : 0;
}

/* A pattern: host name characters, '.' between non-empty parts, and at
 * least one wildcard. */
static int
pattern_valid(const char *s)
{
	size_t i = 0, b, n = strlen(s);
	int wild = 0;

	if (n == 0 || n > APITOKEN_HOST_MAX || s[0] == '.' || s[n - 1] == '.')
		return APITOKEN_ERR_INVALID;
	while (i < n) {
		if (s[i] == '*' || s[i] == '?') {
			wild = 1;
			i++;
		} else if (s[i] == '[') {
			if ((b = bracket_len(s + i)) == 0)
				return APITOKEN_ERR_INVALID;
			wild = 1;
			i += b;
		} else if (s[i] == '.' ? s[i + 1] != '.' :
		    is_alnum((unsigned char)s[i]) || s[i] == '-') {
			i++;
		} else {
			return APITOKEN_ERR_INVALID;
		}
	}
	return wild ? APITOKEN_OK : APITOKEN_ERR_INVALID;
}

int
apitoken_host_valid(const char *s)
{
	if (s[0] == '@')
		return apitoken_host_group_valid(s + 1);
	if (strpbrk(s, "*?[") != NULL)
		return pattern_valid(s);
	return apitoken_host_name_valid(s);
}

/* ------------------------------------------------- this host */

void
hostid_default_name(struct hostid *h)
{
	char name[256];

	h->name[0] = '\0';
	if (gethostname(name, sizeof(name)) != 0)
		return;
	name[sizeof(name) - 1] = '\0';
	if (apitoken_host_name_valid(name) == APITOKEN_OK)
		memcpy(h->name, name, strlen(name) + 1);
}

const char *
hostid_set_name(struct hostid *h, const char *name)
{
	if (apitoken_host_name_valid(name) != APITOKEN_OK)
		return "must be a host name: dot-separated labels of "
		    "[A-Za-z0-9-], each 1 to 63 characters, neither starting "
		    "nor ending with \"-\"";
	memcpy(h->name, name, strlen(name) + 1);
	return NULL;
}

const char *
hostid_add_group(struct hostid *h, const char *g)
{
	size_t i;

	if (apitoken_host_group_valid(g) != APITOKEN_OK)
		return "a group name is 1 to 64 of [A-Za-z0-9._-]";
	for (i = 0; i < h->n_groups; i++)
		if (strcmp(h->groups[i], g) == 0)
			return "listed twice";
	if (h->n_groups == APITOKEN_HOST_GROUPS_MAX)
		return "too many groups (at most 32)";
	memcpy(h->groups[h->n_groups++], g, strlen(g) + 1);
	return NULL;
}

/* One item of a hosts list against this host. */
static int
item_matches(const struct hostid *h, const char *item)
{
	size_t i;

	if (item[0] == '@') {
		for (i = 0; i < h->n_groups; i++)
			if (strcmp(h->groups[i], item + 1) == 0)
				return 1;
		return 0;
	}
	return h->name[0] != '\0' &&
	    fnmatch(item, h->name, FNM_CASEFOLD | FNM_NOESCAPE) == 0;
}

int
hostid_allows(const struct hostid *h, char *const *hosts, size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (item_matches(h, hosts[i]))
			return 1;
	return 0;
}
