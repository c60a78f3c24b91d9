/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pgconf.c - the one check the library makes of postgresql.conninfo
 * (apitoken.yaml(5)): it parses like a libpq connection string or URI
 * and sets no password.  The library does not link libpq (the PAM
 * module uses it), so this follows libpq's documented syntax
 * ("keyword = value", values single-quoted with \' and \\, or a
 * postgres[ql]:// URI with its ?key=value parameters); fleet/pg.c
 * checks again with libpq's own parser before it connects.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define MSG_PASSWORD "a password does not belong in the config; use " \
	"postgresql.passfile"

/* 1 if the keyword [k, k + n) is "password" (any case: fail closed). */
static int
is_password(const char *k, size_t n)
{
	return n == 8 && strncasecmp(k, "password", 8) == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A URI parameter's keyword [k, k + n), percent-decoded as libpq does,
 * is "password". */
static int
uri_is_password(const char *k, size_t n)
{
	char d[9];
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n && o < sizeof(d) - 1; i++, o++) {
		d[o] = k[i];
		if (k[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)k[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)k[i + 2])) >= 0) {
			d[o] = (char)(hi * 16 + lo);
			i += 2;
		}
	}
	return i == n && is_password(d, o);
}

/* One "keyword = value" at *pp; NULL and *pp past it, or what is wrong. */
static const char *
kv_pair(const char **pp, int *pw)
{
	const char *p = *pp, *k = p;

	while (*p && *p != '=' && !isspace((unsigned char)*p))
		p++;
	if (p == k)
		return "expected keyword = value";
	*pw |= is_password(k, (size_t)(p - k));
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '=')
		return "expected \"=\" after a keyword (keyword = value, or a "
		    "postgresql:// URI)";
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\'') {
		for (p++; *p && *p != '\''; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p++ != '\'')
			return "unterminated quoted value";
	} else
		for (; *p && !isspace((unsigned char)*p); p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
	*pp = p;
	return NULL;
}

static const char *
kv_check(const char *s)
{
	const char *p = s, *msg;
	int pw = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if ((msg = kv_pair(&p, &pw)) != NULL)
			return msg;
	}
	return pw ? MSG_PASSWORD : NULL;
}

/* A URI: a password in its user info ("user:secret@") or a "password"
 * parameter. */
static const char *
uri_check(const char *s)
{
	const char *a = strstr(s, "://") + 3;
	size_t alen = strcspn(a, "/?#");
	const char *at = NULL, *p, *q;

	for (p = a; p < a + alen; p++)
		if (*p == '@')
			at = p;
	if (at != NULL && memchr(a, ':', (size_t)(at - a)) != NULL)
		return MSG_PASSWORD;
	if ((q = strchr(a, '?')) == NULL)
		return NULL;
	for (p = q + 1; *p; p += strcspn(p, "&") + (p[strcspn(p, "&")] != 0))
		if (uri_is_password(p, strcspn(p, "=&#")))
			return MSG_PASSWORD;
	return NULL;
}

/* NULL if s is acceptable as postgresql.conninfo, else why not. */
const char *
pg_conninfo_check(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return "must not be empty";
	if (strlen(s) > 4096)
		return "longer than 4096 bytes";
	for (i = 0; s[i]; i++)
		if (((unsigned char)s[i] < 0x20 &&
		    !isspace((unsigned char)s[i])) || s[i] == 0x7f)
			return "control character in value";
	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)
		return uri_check(s);
	return kv_check(s);
}
