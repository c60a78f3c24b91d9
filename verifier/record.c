/*
 * record.c - a token's record: allocation, copying and the field rules
 * that the store, tokenctl and import all share (apitoken_record_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"


struct apitoken_record *
apitoken_record_new(void)
{
	struct apitoken_record *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (apitoken_record_set(&r->user, "") != 0 ||
	    apitoken_record_set(&r->hash, "") != 0 ||
	    apitoken_record_set(&r->label, "") != 0 ||
	    apitoken_record_set(&r->description, "") != 0 ||
	    apitoken_record_set(&r->external_id, "") != 0 ||
	    apitoken_record_set(&r->created_by, "") != 0 ||
	    apitoken_record_set(&r->revoke_reason, "") != 0 ||
	    apitoken_record_set(&r->parent, "") != 0) {
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
	if (r == NULL)
		return;
	free_str(&r->user);
	free_str(&r->hash);
	free_str(&r->label);
	free_str(&r->description);
	free_str(&r->external_id);
	free_str(&r->created_by);
	free_str(&r->revoke_reason);
	free_str(&r->parent);
	apitoken_record_list_clear(&r->services, &r->n_services);
	apitoken_record_list_clear(&r->from, &r->n_from);
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
dup_list(char **src, size_t n, char ***dst, size_t *dn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (apitoken_record_list_add(dst, dn, src[i]) != APITOKEN_OK)
			return APITOKEN_ERR_NOMEM;
	return APITOKEN_OK;
}

struct apitoken_record *
apitoken_record_dup(const struct apitoken_record *r)
{
	struct apitoken_record *d = apitoken_record_new();

	if (d == NULL)
		return NULL;
	memcpy(d->id, r->id, sizeof(d->id));
	d->status = r->status;
	d->created = r->created;
	d->updated = r->updated;
	d->expires = r->expires;
	d->revoked_at = r->revoked_at;
	if (apitoken_record_set(&d->user, r->user) != 0 ||
	    apitoken_record_set(&d->hash, r->hash) != 0 ||
	    apitoken_record_set(&d->label, r->label) != 0 ||
	    apitoken_record_set(&d->description, r->description) != 0 ||
	    apitoken_record_set(&d->external_id, r->external_id) != 0 ||
	    apitoken_record_set(&d->created_by, r->created_by) != 0 ||
	    apitoken_record_set(&d->revoke_reason, r->revoke_reason) != 0 ||
	    apitoken_record_set(&d->parent, r->parent) != 0 ||
	    dup_list(r->services, r->n_services, &d->services,
	    &d->n_services) != 0 ||
	    dup_list(r->from, r->n_from, &d->from, &d->n_from) != 0) {
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

/* Length of a valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
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

	if (n > max)
		return 0;
	while (i < n) {
		if ((p[i] < 0x20 || p[i] == 0x7f) &&
		    (allowed == NULL || strchr(allowed, p[i]) == NULL))
			return 0;
		if ((l = utf8_len(p + i, n - i)) == 0 ||
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

/* A user name as stored: no blanks, commas or control characters. */
static int
user_ok(const char *s)
{
	return s[0] != '\0' && text_ok(s, APITOKEN_USER_MAX, NULL) &&
	    strpbrk(s, " ,") == NULL;
}

static int
lists_check(const struct apitoken_record *r, char *err, size_t errlen)
{
	size_t i, j;

	if (r->n_services > APITOKEN_SERVICES_MAX)
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "services: more than %d", APITOKEN_SERVICES_MAX);
	for (i = 0; i < r->n_services; i++) {
		if (apitoken_service_valid(r->services[i]) != 0)
			return set_err(err, errlen, APITOKEN_ERR_INVALID,
			    "services: invalid service name");
		for (j = 0; j < i; j++)
			if (strcmp(r->services[i], r->services[j]) == 0)
				return set_err(err, errlen, APITOKEN_ERR_INVALID,
				    "services: \"%s\" listed twice", r->services[i]);
	}
	if (r->n_from > APITOKEN_FROM_MAX)
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "from: more than %d", APITOKEN_FROM_MAX);
	for (i = 0; i < r->n_from; i++)
		if (apitoken_cidr_valid(r->from[i]) != 0)
			return set_err(err, errlen, APITOKEN_ERR_INVALID,
			    "from: invalid CIDR");
	return APITOKEN_OK;
}

int
apitoken_record_check(const struct apitoken_record *r, char *err,
    size_t errlen)
{
#define BAD(what) set_err(err, errlen, APITOKEN_ERR_INVALID, "%s", what)
	if (apitoken_id_valid(r->id) != 0)
		return BAD("id: not 12 base62 characters");
	if (r->status != APITOKEN_ACTIVE && r->status != APITOKEN_DISABLED &&
	    r->status != APITOKEN_REVOKED)
		return BAD("status: not active, disabled or revoked");
	if (r->user == NULL || !user_ok(r->user))
		return BAD("user: empty, too long or has blanks/control characters");
	if (r->hash == NULL || apitoken_hash_valid(r->hash) != 0)
		return BAD("hash: not a supported stored hash");
	if (r->label == NULL || apitoken_label_valid(r->label) != 0)
		return BAD("label: empty, too long, not UTF-8 or has control characters");
	if (r->description == NULL ||
	    !text_ok(r->description, APITOKEN_DESCRIPTION_MAX, "\t\n\r"))
		return BAD("description: too long, not UTF-8 or has control characters");
	if (r->external_id == NULL ||
	    apitoken_text_valid(r->external_id, APITOKEN_EXTERNAL_ID_MAX) != 0)
		return BAD("external_id: too long, not UTF-8 or has control characters");
	if (lists_check(r, err, errlen) != 0)
		return APITOKEN_ERR_INVALID;
	if (r->created <= 0 || r->updated < r->created)
		return BAD("created/updated: unset or updated before created");
	if (r->created_by == NULL ||
	    apitoken_text_valid(r->created_by, APITOKEN_USER_MAX) != 0)
		return BAD("created_by: too long or has control characters");
	if (r->expires < 0)
		return BAD("expires: negative");
	if ((r->status == APITOKEN_REVOKED) != (r->revoked_at > 0))
		return BAD("revoked_at: must be set exactly when status is revoked");
	if (r->revoke_reason == NULL ||
	    apitoken_text_valid(r->revoke_reason, APITOKEN_REASON_MAX) != 0)
		return BAD("revoke_reason: too long or has control characters");
	if (r->parent == NULL || (r->parent[0] != '\0' &&
	    (apitoken_id_valid(r->parent) != 0 || strcmp(r->parent, r->id) == 0)))
		return BAD("parent: not a token id (or the token itself)");
	return APITOKEN_OK;
#undef BAD
}
