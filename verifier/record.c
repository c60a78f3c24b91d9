/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.c - a token's record: allocation, copying and the field rules
 * that the store, tokenctl and import all share (apitoken_record_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"


/* The row's member is a heap string (text, hash, parent). */
static int
is_str(const struct apitoken_field *f)
{
	return f->kind == APITOKEN_FIELD_TEXT ||
	    f->kind == APITOKEN_FIELD_HASH || f->kind == APITOKEN_FIELD_REF;
}

struct apitoken_record *
apitoken_record_new(void)
{
	struct apitoken_record *r = calloc(1, sizeof(*r));
	const struct apitoken_field *f;
	size_t i, n;

	if (r == NULL)
		return NULL;
	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		if (is_str(&f[i]) &&
		    apitoken_record_set(apitoken_field_str(r, &f[i]), "") != 0) {
			apitoken_record_free(r);
			return NULL;
		}
	return r;
}

static void
free_str(char **s)
{
	if (*s != NULL) {
		apitoken_wipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void
apitoken_record_list_clear(char ***list, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free_str(&(*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void
apitoken_record_free(struct apitoken_record *r)
{
	const struct apitoken_field *f;
	size_t i, n;

	if (r == NULL)
		return;
	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		if (is_str(&f[i]))
			free_str(apitoken_field_str(r, &f[i]));
		else if (f[i].kind == APITOKEN_FIELD_LIST)
			apitoken_record_list_clear(
			    (char ***)apitoken_field_str(r, &f[i]),
			    apitoken_field_count(r, &f[i]));
	apitoken_wipe(r, sizeof(*r));
	free(r);
}

int
apitoken_record_set(char **field, const char *value)
{
	char *s = strdup(value != NULL ? value : "");

	if (s == NULL)
		return APITOKEN_ERR_NOMEM;
	free_str(field);
	*field = s;
	return APITOKEN_OK;
}

int
apitoken_record_list_add(char ***list, size_t *n, const char *value)
{
	char **l;
	char *s;

	if ((s = strdup(value)) == NULL)
		return APITOKEN_ERR_NOMEM;
	if ((l = realloc(*list, (*n + 1) * sizeof(*l))) == NULL) {
		free(s);
		return APITOKEN_ERR_NOMEM;
	}
	l[(*n)++] = s;
	*list = l;
	return APITOKEN_OK;
}

static int
dup_list(char *const *src, size_t n, char ***dst, size_t *dn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (apitoken_record_list_add(dst, dn, src[i]) != APITOKEN_OK)
			return APITOKEN_ERR_NOMEM;
	return APITOKEN_OK;
}

/* Copy the row's member of r into d (a record_new one).  0 or NOMEM. */
static int
dup_field(struct apitoken_record *d, const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	if (is_str(f))
		return apitoken_record_set(apitoken_field_str(d, f),
		    apitoken_field_cstr(r, f));
	if (f->kind == APITOKEN_FIELD_LIST)
		return dup_list(apitoken_field_clist(r, f),
		    apitoken_field_ccount(r, f),
		    (char ***)apitoken_field_str(d, f),
		    apitoken_field_count(d, f));
	if (f->kind == APITOKEN_FIELD_ID)
		memcpy(d->id, r->id, sizeof(d->id));
	else if (f->kind == APITOKEN_FIELD_STATUS)
		d->status = r->status;
	else
		*apitoken_field_time(d, f) = apitoken_field_ctime(r, f);
	return APITOKEN_OK;
}

struct apitoken_record *
apitoken_record_dup(const struct apitoken_record *r)
{
	struct apitoken_record *d = apitoken_record_new();
	const struct apitoken_field *f;
	size_t i, n;

	if (d == NULL)
		return NULL;
	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		if (dup_field(d, r, &f[i]) != APITOKEN_OK) {
			apitoken_record_free(d);
			return NULL;
		}
	return d;
}

int
apitoken_record_expired(const struct apitoken_record *r, time_t now)
{
	return r->expires != 0 && r->expires <= (int64_t)now;
}

size_t
apitoken_utf8_decode(const char *str, size_t n, uint32_t *cpp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len, i;
	uint32_t cp;

	*cpp = 0;
	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		len = 1, cp = s[0];
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	*cpp = cp;
	return len;
}

/*
 * A valid UTF-8 sequence of l bytes at p that a terminal would obey
 * rather than show: a C1 control (U+0080-U+009F, e.g. CSI) or a
 * bidirectional override (U+202A-U+202E, U+2066-U+2069).
 */
static int
utf8_control(const unsigned char *p, size_t l)
{
	if (l == 2)
		return p[0] == 0xc2 && p[1] <= 0x9f;
	return l == 3 && p[0] == 0xe2 &&
	    ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
	    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

/* UTF-8 text of at most max bytes; control characters (C0, DEL, C1) and
 * bidi overrides refused, except the C0 ones in allowed (e.g. "\t\n\r"
 * for multi-line descriptions). */
static int
text_ok(const char *s, size_t max, const char *allowed)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, l;
	uint32_t cp;

	if (n > max)
		return 0;
	while (i < n) {
		if ((p[i] < 0x20 || p[i] == 0x7f) &&
		    (allowed == NULL || strchr(allowed, p[i]) == NULL))
			return 0;
		if ((l = apitoken_utf8_decode(s + i, n - i, &cp)) == 0 ||
		    (l > 1 && utf8_control(p + i, l)))
			return 0;
		i += l;
	}
	return 1;
}

int
apitoken_text_valid(const char *s, size_t max)
{
	return text_ok(s, max, NULL) ? APITOKEN_OK : APITOKEN_ERR_INVALID;
}

int
apitoken_label_valid(const char *s)
{
	return s[0] != '\0' && text_ok(s, APITOKEN_LABEL_MAX, NULL) ?
	    APITOKEN_OK : APITOKEN_ERR_INVALID;
}

int
apitoken_service_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > APITOKEN_SERVICE_MAX)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (!is_base62((unsigned char)s[i]) && strchr("._+-", s[i]) == NULL)
			return APITOKEN_ERR_INVALID;
	return APITOKEN_OK;
}

/* A text row's value: its limit, and the flags' extra rules. */
static int
text_row_ok(const char *s, const struct apitoken_field *f)
{
	if (s == NULL || ((f->flags & APITOKEN_FIELD_NONEMPTY) && *s == '\0'))
		return 0;
	if ((f->flags & APITOKEN_FIELD_NOBLANK) && strpbrk(s, " ,") != NULL)
		return 0;
	return text_ok(s, f->max,
	    (f->flags & APITOKEN_FIELD_MULTILINE) ? "\t\n\r" : NULL);
}

/* One item of a list row, by the row's flags. */
static int
list_item_valid(const struct apitoken_field *f, const char *s)
{
	if (f->flags & APITOKEN_FIELD_SERVICES)
		return apitoken_service_valid(s);
	if (f->flags & APITOKEN_FIELD_HOSTS)
		return apitoken_host_valid(s);
	return apitoken_cidr_valid(s);
}

/* A list row: at most max items, each a service or a host item (no
 * duplicates) or a CIDR. */
static int
list_row_check(const struct apitoken_record *r, const struct apitoken_field *f,
    char *err, size_t errlen)
{
	char *const *v = apitoken_field_clist(r, f);
	size_t i, j, n = apitoken_field_ccount(r, f);
	int uniq = (f->flags & (APITOKEN_FIELD_SERVICES |
	    APITOKEN_FIELD_HOSTS)) != 0;

	if (n > f->max)
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "%s: more than %zu", f->name, f->max);
	for (i = 0; i < n; i++) {
		if (list_item_valid(f, v[i]) != 0)
			return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
			    f->why);
		for (j = 0; uniq && j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				return set_err(err, errlen, APITOKEN_ERR_INVALID,
				    "%s: \"%s\" listed twice", f->name, v[i]);
	}
	return APITOKEN_OK;
}

/* A time row against its flags (some rules span created and status). */
static int
time_row_ok(const struct apitoken_record *r, const struct apitoken_field *f)
{
	int64_t t = apitoken_field_ctime(r, f);

	if (f->flags & APITOKEN_FIELD_SET)
		return t > 0;
	if (f->flags & APITOKEN_FIELD_AFTER_CREATED)
		return t >= r->created;
	if (f->flags & APITOKEN_FIELD_IF_REVOKED)
		return (r->status == APITOKEN_REVOKED) == (t > 0);
	return t >= 0;
}

/* 1 if the row's value in r follows the row's rules (lists apart). */
static int
row_ok(const struct apitoken_record *r, const struct apitoken_field *f)
{
	const char *s;

	switch (f->kind) {
	case APITOKEN_FIELD_ID:
		return apitoken_id_valid(r->id) == 0;
	case APITOKEN_FIELD_STATUS:
		return r->status == APITOKEN_ACTIVE ||
		    r->status == APITOKEN_DISABLED ||
		    r->status == APITOKEN_REVOKED;
	case APITOKEN_FIELD_TEXT:
		return text_row_ok(apitoken_field_cstr(r, f), f);
	case APITOKEN_FIELD_HASH:
		s = apitoken_field_cstr(r, f);
		return s != NULL && apitoken_hash_valid(s) == 0;
	case APITOKEN_FIELD_REF:
		s = apitoken_field_cstr(r, f);
		return s != NULL && (s[0] == '\0' ||
		    (apitoken_id_valid(s) == 0 && strcmp(s, r->id) != 0));
	case APITOKEN_FIELD_TIME:
		return time_row_ok(r, f);
	case APITOKEN_FIELD_LIST:
		break;
	}
	return 0;
}

int
apitoken_record_check(const struct apitoken_record *r, char *err,
    size_t errlen)
{
	const struct apitoken_field *f;
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++) {
		if (f[i].kind == APITOKEN_FIELD_LIST) {
			if (list_row_check(r, &f[i], err, errlen) != 0)
				return APITOKEN_ERR_INVALID;
		} else if (!row_ok(r, &f[i])) {
			return set_err(err, errlen, APITOKEN_ERR_INVALID, "%s",
			    f[i].why);
		}
	}
	return APITOKEN_OK;
}
