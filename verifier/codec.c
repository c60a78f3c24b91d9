/*
 * codec.c - the store's one record-line serializer and one parser
 * (CVE-2013-7322: a parser and a rewriter that disagree let tokens be
 * replayed; here both sides are these two functions, round-trip tested).
 *
 * A record line is 16 TAB-separated fields ending in '\n':
 *   id status user hash label description external_id services from
 *   created updated created_by expires revoked_at revoke_reason parent
 * Every field is escaped: "\\" "\t" "\n" "\r", and "\xHH" for any other
 * byte below 0x20 and 0x7f.  Lists are comma-separated (their items can
 * hold no commas).  Times are YYYY-MM-DDTHH:MM:SSZ, empty when unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const field_names[STORE_NFIELDS] = {
	"id", "status", "user", "hash", "label", "description", "external_id",
	"services", "from", "created", "updated", "created_by", "expires",
	"revoked_at", "revoke_reason", "parent",
};

const char *
apitoken_store_header(void)
{
	return "#apitoken-store\tv1\tid\tstatus\tuser\thash\tlabel\tdescription"
	    "\texternal_id\tservices\tfrom\tcreated\tupdated\tcreated_by"
	    "\texpires\trevoked_at\trevoke_reason\tparent";
}

const char *
apitoken_store_trailer(void)
{
	return "#end";
}

/* Split a line (a trailing '\n' is allowed) into its 16 raw fields. */
int
codec_split(const char *line, size_t len, struct slice f[STORE_NFIELDS],
    char *err, size_t errlen)
{
	size_t i, start = 0, nf = 0;
	unsigned char c;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > STORE_LINE_MAX)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "record longer than %d bytes", STORE_LINE_MAX);
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)line[i] : '\t';
		if (c != '\t') {
			if (c < 0x20 || c == 0x7f)
				return set_err(err, errlen,
				    APITOKEN_ERR_STORE_FORMAT,
				    "raw control byte 0x%02x in record", c);
			continue;
		}
		if (nf == STORE_NFIELDS)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "more than %d fields", STORE_NFIELDS);
		f[nf].p = line + start;
		f[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	if (nf != STORE_NFIELDS)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%zu fields, expected %d", nf, STORE_NFIELDS);
	return APITOKEN_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one escaped field into a new string. */
static int
unescape(struct slice s, char **out)
{
	char *d = malloc(s.n + 1);
	size_t i, o = 0;
	int h, l;

	*out = NULL;
	if (d == NULL)
		return APITOKEN_ERR_NOMEM;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] != '\\') {
			d[o++] = s.p[i];
			continue;
		}
		if (++i == s.n)
			goto bad;
		switch (s.p[i]) {
		case '\\': d[o++] = '\\'; break;
		case 't': d[o++] = '\t'; break;
		case 'n': d[o++] = '\n'; break;
		case 'r': d[o++] = '\r'; break;
		case 'x':
			if (i + 2 >= s.n)
				goto bad;
			if ((h = hexval(s.p[i + 1])) < 0 ||
			    (l = hexval(s.p[i + 2])) < 0 || (h == 0 && l == 0))
				goto bad;
			d[o++] = (char)(h << 4 | l);
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	d[o] = '\0';
	*out = d;
	return APITOKEN_OK;
bad:
	free(d);
	return APITOKEN_ERR_STORE_FORMAT;
}

static int
parse_list(const char *s, char ***list, size_t *n)
{
	const char *p = s, *comma;
	char item[128];
	size_t len;

	if (*s == '\0')
		return APITOKEN_OK;
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(item))
			return APITOKEN_ERR_STORE_FORMAT;
		memcpy(item, p, len);
		item[len] = '\0';
		if (apitoken_record_list_add(list, n, item) != APITOKEN_OK)
			return APITOKEN_ERR_NOMEM;
		if (comma == NULL)
			return APITOKEN_OK;
		p = comma + 1;
	}
}

static int
parse_time(const char *s, int64_t *t)
{
	*t = 0;
	return *s == '\0' ? APITOKEN_OK : apitoken_time_parse(s, t);
}

static int
parse_status(const char *s, enum apitoken_status *st)
{
	if (strcmp(s, "active") == 0)
		*st = APITOKEN_ACTIVE;
	else if (strcmp(s, "disabled") == 0)
		*st = APITOKEN_DISABLED;
	else if (strcmp(s, "revoked") == 0)
		*st = APITOKEN_REVOKED;
	else
		return APITOKEN_ERR_STORE_FORMAT;
	return APITOKEN_OK;
}

/* Interpret decoded field i into r; 0 or an error code. */
static int
set_field(struct apitoken_record *r, int i, char **v)
{
	char **str[STORE_NFIELDS] = {
		[2] = &r->user, [3] = &r->hash, [4] = &r->label,
		[5] = &r->description, [6] = &r->external_id,
		[11] = &r->created_by, [14] = &r->revoke_reason,
		[15] = &r->parent,
	};

	switch (i) {
	case 0:
		if (strlen(*v) != APITOKEN_ID_LEN)
			return APITOKEN_ERR_STORE_FORMAT;
		memcpy(r->id, *v, APITOKEN_ID_LEN + 1);
		return APITOKEN_OK;
	case 1: return parse_status(*v, &r->status);
	case 7: return parse_list(*v, &r->services, &r->n_services);
	case 8: return parse_list(*v, &r->from, &r->n_from);
	case 9: return parse_time(*v, &r->created);
	case 10: return parse_time(*v, &r->updated);
	case 12: return parse_time(*v, &r->expires);
	case 13: return parse_time(*v, &r->revoked_at);
	}
	free(*str[i]);
	*str[i] = *v;	/* ownership moves to the record */
	*v = NULL;
	return APITOKEN_OK;
}

int
codec_parse(const char *line, size_t len, struct apitoken_record **recp,
    char *err, size_t errlen)
{
	struct slice f[STORE_NFIELDS];
	struct apitoken_record *r = NULL;
	char *v = NULL, why[160];
	int i, rc;

	*recp = NULL;
	if ((rc = codec_split(line, len, f, err, errlen)) != APITOKEN_OK)
		return rc;
	if ((r = apitoken_record_new()) == NULL)
		return APITOKEN_ERR_NOMEM;
	for (i = 0; i < STORE_NFIELDS; i++) {
		if ((rc = unescape(f[i], &v)) == APITOKEN_OK)
			rc = set_field(r, i, &v);
		free(v);
		v = NULL;
		if (rc == APITOKEN_ERR_NOMEM)
			goto out;
		if (rc != APITOKEN_OK) {
			rc = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "field %d (%s): bad value or escape", i + 1,
			    field_names[i]);
			goto out;
		}
	}
	if (apitoken_record_check(r, why, sizeof(why)) != APITOKEN_OK) {
		rc = set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT, "%s", why);
		goto out;
	}
	*recp = r;
	r = NULL;
	rc = APITOKEN_OK;
out:
	apitoken_record_free(r);
	return rc;
}

int
apitoken_record_parse(const char *line, size_t len,
    struct apitoken_record **recp, char *err, size_t errlen)
{
	return codec_parse(line, len, recp, err, errlen);
}

/* ------------------------------------------------------- serializer */

struct buf {
	char *p;
	size_t n, cap;
	int failed;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		cap = (b->cap ? b->cap * 2 : 256);
		while (cap < b->n + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
put_escaped(struct buf *b, const char *s)
{
	char esc[5];
	unsigned char c;

	for (; *s; s++) {
		c = (unsigned char)*s;
		if (c == '\\')
			put(b, "\\\\", 2);
		else if (c == '\t')
			put(b, "\\t", 2);
		else if (c == '\n')
			put(b, "\\n", 2);
		else if (c == '\r')
			put(b, "\\r", 2);
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put(b, esc, 4);
		} else
			put(b, s, 1);
	}
}

static void
put_list(struct buf *b, char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			put(b, ",", 1);
		put_escaped(b, l[i]);
	}
}

static void
put_time(struct buf *b, int64_t t)
{
	char s[32];

	if (t != 0 && apitoken_time_format(t, s, sizeof(s)) == APITOKEN_OK)
		put(b, s, strlen(s));
	else if (t != 0)
		b->failed = 1;
}

int
codec_format(const struct apitoken_record *r, char **linep, size_t *lenp)
{
	struct buf b = { NULL, 0, 0, 0 };
	const char *tab = "\t";

	*linep = NULL;
	*lenp = 0;
	put_escaped(&b, r->id), put(&b, tab, 1);
	put(&b, apitoken_status_str(r->status),
	    strlen(apitoken_status_str(r->status))), put(&b, tab, 1);
	put_escaped(&b, r->user), put(&b, tab, 1);
	put_escaped(&b, r->hash), put(&b, tab, 1);
	put_escaped(&b, r->label), put(&b, tab, 1);
	put_escaped(&b, r->description), put(&b, tab, 1);
	put_escaped(&b, r->external_id), put(&b, tab, 1);
	put_list(&b, r->services, r->n_services), put(&b, tab, 1);
	put_list(&b, r->from, r->n_from), put(&b, tab, 1);
	put_time(&b, r->created), put(&b, tab, 1);
	put_time(&b, r->updated), put(&b, tab, 1);
	put_escaped(&b, r->created_by), put(&b, tab, 1);
	put_time(&b, r->expires), put(&b, tab, 1);
	put_time(&b, r->revoked_at), put(&b, tab, 1);
	put_escaped(&b, r->revoke_reason), put(&b, tab, 1);
	put_escaped(&b, r->parent), put(&b, "\n", 1);
	if (b.failed) {
		free(b.p);
		return APITOKEN_ERR_NOMEM;
	}
	*linep = b.p;
	*lenp = b.n;
	return APITOKEN_OK;
}

int
apitoken_record_format(const struct apitoken_record *r, char **linep,
    size_t *lenp)
{
	char why[160];

	*linep = NULL;
	*lenp = 0;
	if (apitoken_record_check(r, why, sizeof(why)) != APITOKEN_OK)
		return APITOKEN_ERR_INVALID;
	return codec_format(r, linep, lenp);
}
