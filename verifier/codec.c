/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.c - the store's one record-line serializer and one parser
 * (CVE-2013-7322: a parser and a rewriter that disagree let tokens be
 * replayed; here both sides are these two functions, round-trip tested).
 *
 * A record line is 16 or 17 TAB-separated fields, the rows of the field
 * table (fields.c, in this order), ending in '\n':
 *   id status user hash label description external_id services from
 *   created updated created_by expires revoked_at revoke_reason parent
 *   [hosts]
 * The columns after the first 16 (APITOKEN_FIELD_OPTIONAL: hosts) came
 * later in v1: a line leaves them out exactly when they are empty, so
 * every line of a store written before them is still a valid line with
 * its one spelling, and a writer copies such lines unchanged.  The
 * header names the columns; the one without "hosts" is still read.
 * Every field is escaped: "\\" "\t" "\n" "\r", and "\xHH" (lowercase hex)
 * for any other byte below 0x20 and 0x7f.  The parser accepts exactly these
 * escapes and nothing else, so format(parse(line)) == line for every line
 * it accepts: an id can never be spelt two ways.  Lists are
 * comma-separated (their items can hold no commas).  Times are
 * YYYY-MM-DDTHH:MM:SSZ, empty when unset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define HEADER_V1_16 "#apitoken-store\tv1\tid\tstatus\tuser\thash\tlabel" \
	"\tdescription\texternal_id\tservices\tfrom\tcreated\tupdated" \
	"\tcreated_by\texpires\trevoked_at\trevoke_reason\tparent"

const char *
apitoken_store_header(void)
{
	return HEADER_V1_16 "\thosts";
}

int
apitoken_store_header_valid(const char *line, size_t len)
{
	const char *hdr = apitoken_store_header();

	if ((len == strlen(hdr) && memcmp(line, hdr, len) == 0) ||
	    (len == sizeof(HEADER_V1_16) - 1 &&
	    memcmp(line, HEADER_V1_16, len) == 0))
		return APITOKEN_OK;
	return APITOKEN_ERR_INVALID;
}

const char *
apitoken_store_trailer(void)
{
	return "#end";
}

/*
 * Eight bytes at a time (SWAR): each helper sets the high bit of every
 * byte of the result whose byte in x has the property, exactly (no
 * carries cross bytes).
 */
#define B_ONES UINT64_C(0x0101010101010101)
#define B_HIGH UINT64_C(0x8080808080808080)
#define B_LOW7 UINT64_C(0x7f7f7f7f7f7f7f7f)

static uint64_t
bytes_zero(uint64_t x)
{
	return ~(((x & B_LOW7) + B_LOW7) | x) & B_HIGH;
}

static uint64_t
bytes_below_0x20(uint64_t x)
{
	return ~((x | B_HIGH) - 0x20 * B_ONES) & ~x & B_HIGH;
}

/* Up to 8 bytes of p as a word, byte 0 lowest; the rest filled with ' '. */
static uint64_t
load_word(const char *p, size_t k)
{
	uint64_t w = 0x20 * B_ONES;

	if (k == 8)
		memcpy(&w, p, 8);	/* one load */
	else
		memcpy(&w, p, k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);	/* memory byte m -> bits 8m..8m+7 */
#endif
	return w;
}

/* Index (0-7) of the byte whose high bit is the lowest set bit of m. */
static size_t
first_byte(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

/*
 * Split a line (a trailing '\n' is allowed) into its 16 or 17 raw fields
 * (a field left out gets p == NULL) and set bit i of *escp when field i
 * holds a backslash.  The line is read
 * once, a word at a time, left to right; the first fault found is the
 * one reported, as a byte-by-byte scan would.
 */
int
codec_split(const char *line, size_t len, struct slice f[STORE_NFIELDS],
    unsigned *escp, char *err, size_t errlen)
{
	size_t i, k, start = 0, nf = 0, j;
	uint64_t w, t, tabs, bad, bsl, upto;
	unsigned esc = 0;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > STORE_LINE_MAX)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "record longer than %d bytes", STORE_LINE_MAX);
	for (i = 0; i < len; i += 8) {
		k = len - i < 8 ? len - i : 8;
		w = load_word(line + i, k);
		t = w ^ ('\t' * B_ONES);
		tabs = bytes_zero(t);
		/* XOR with TAB keeps bytes below 0x20 below it and turns TAB
		 * alone into 0: a control byte other than TAB, or DEL */
		bad = (bytes_below_0x20(t) & ~tabs) |
		    bytes_zero(w ^ (0x7f * B_ONES));
		bsl = bytes_zero(w ^ ('\\' * B_ONES));
		upto = bad ? (bad & -bad) - 1 : ~UINT64_C(0);
		tabs &= upto;
		bsl &= upto;
		for (;;) {
			/* a backslash before the next tab is in field nf */
			j = tabs ? first_byte(tabs) : 8;
			if (bsl != 0 && first_byte(bsl) < j && nf < STORE_NFIELDS)
				esc |= 1u << nf;
			if (tabs == 0)
				break;
			if (nf == STORE_NFIELDS)
				return set_err(err, errlen,
				    APITOKEN_ERR_STORE_FORMAT,
				    "more than %d fields", STORE_NFIELDS);
			f[nf].p = line + start;
			f[nf].n = i + j - start;
			nf++;
			start = i + j + 1;
			bsl &= ~((tabs & -tabs) | ((tabs & -tabs) - 1));
			tabs &= tabs - 1;
		}
		if (bad)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "raw control byte 0x%02x in record",
			    (unsigned char)line[i + first_byte(bad)]);
	}
	if (nf == STORE_NFIELDS)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "more than %d fields", STORE_NFIELDS);
	f[nf].p = line + start;
	f[nf].n = len - start;
	nf++;
	if (nf < STORE_NFIELDS_V1)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%zu fields, expected %d to %d", nf, STORE_NFIELDS_V1,
		    STORE_NFIELDS);
	for (j = nf; j < STORE_NFIELDS; j++) {
		f[j].p = NULL;
		f[j].n = 0;
	}
	*escp = esc;
	return APITOKEN_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* the serializer writes lowercase only */
}

/* Decode one escaped field to *o (NUL-terminated); advances *o.
 * has_esc: the field holds a backslash (else it is copied as is). */
static int
unescape(struct slice s, int has_esc, char **o)
{
	char *d = *o;
	unsigned char c;
	size_t i;
	int h, l;

	if (!has_esc) {
		memcpy(d, s.p, s.n);
		d[s.n] = '\0';
		*o = d + s.n + 1;
		return APITOKEN_OK;
	}
	for (i = 0; i < s.n; i++) {
		if (s.p[i] != '\\') {
			*d++ = s.p[i];
			continue;
		}
		if (++i == s.n)
			return APITOKEN_ERR_STORE_FORMAT;
		switch (s.p[i]) {
		case '\\': *d++ = '\\'; break;
		case 't': *d++ = '\t'; break;
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 'x':
			if (i + 2 >= s.n || (h = hexval(s.p[i + 1])) < 0 ||
			    (l = hexval(s.p[i + 2])) < 0)
				return APITOKEN_ERR_STORE_FORMAT;
			c = (unsigned char)(h << 4 | l);
			/* only what put_escaped writes as \xHH: canonical */
			if (c == 0 || c == '\t' || c == '\n' || c == '\r' ||
			    (c >= 0x20 && c != 0x7f))
				return APITOKEN_ERR_STORE_FORMAT;
			*d++ = (char)c;
			i += 2;
			break;
		default:
			return APITOKEN_ERR_STORE_FORMAT;
		}
	}
	*d++ = '\0';
	*o = d;
	return APITOKEN_OK;
}

/* Split a decoded list in place at commas. */
static int
split_list(char *s, char **items, size_t max, char ***list, size_t *n)
{
	char *p = s, *comma;

	*list = items;
	*n = 0;
	if (*s == '\0')
		return APITOKEN_OK;
	for (;;) {
		if (*n == max)
			return APITOKEN_ERR_STORE_FORMAT;
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0')
			return APITOKEN_ERR_STORE_FORMAT;
		items[(*n)++] = p;
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
	return apitoken_status_parse(s, st) == APITOKEN_OK ? APITOKEN_OK :
	    APITOKEN_ERR_STORE_FORMAT;
}

/* Interpret decoded field i (in scratch) into the view, by its row. */
static int
set_field(struct rec_view *v, const struct apitoken_field *f, char *val)
{
	struct apitoken_record *r = &v->r;

	switch (f->kind) {
	case APITOKEN_FIELD_ID:
		if (strlen(val) != APITOKEN_ID_LEN)
			return APITOKEN_ERR_STORE_FORMAT;
		memcpy(r->id, val, APITOKEN_ID_LEN + 1);
		return APITOKEN_OK;
	case APITOKEN_FIELD_STATUS:
		return parse_status(val, &r->status);
	case APITOKEN_FIELD_LIST:
		return split_list(val, (f->flags & APITOKEN_FIELD_SERVICES) ?
		    v->svc : (f->flags & APITOKEN_FIELD_HOSTS) ? v->hosts :
		    v->from, f->max, (char ***)apitoken_field_str(r, f),
		    apitoken_field_count(r, f));
	case APITOKEN_FIELD_TIME:
		return parse_time(val, apitoken_field_time(r, f));
	default:
		*apitoken_field_str(r, f) = val;
		return APITOKEN_OK;
	}
}

/* An optional column present but empty: a second spelling of the line
 * without it.  The first such field, or -1. */
static int
noncanonical_tail(const struct slice f[STORE_NFIELDS])
{
	int i;

	for (i = STORE_NFIELDS - 1; i >= STORE_NFIELDS_V1; i--)
		if (f[i].p != NULL)
			return f[i].n == 0 ? i : -1;
	return -1;
}

/*
 * The parser.  Decodes a line into v without allocating: every string of
 * v->r points into scratch (CODEC_SCRATCH bytes), then applies the field
 * rules (apitoken_record_check).  v->r must not be freed.  A column the
 * line leaves out is empty.
 */
int
codec_decode(const char *line, size_t len, char *scratch, struct rec_view *v,
    char *err, size_t errlen)
{
	const struct apitoken_field *row;
	struct slice f[STORE_NFIELDS];
	char *o = scratch, *val, why[160];
	unsigned esc;
	size_t nrow;
	int i, rc;

	memset(v, 0, sizeof(*v));
	row = apitoken_record_fields(&nrow);
	if ((rc = codec_split(line, len, f, &esc, err, errlen)) !=
	    APITOKEN_OK)
		return rc;
	if ((i = noncanonical_tail(f)) >= 0)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "field %d (%s): empty (the column is left out when empty)",
		    i + 1, row[i].name);
	for (i = 0; i < STORE_NFIELDS; i++) {
		val = o;
		if (f[i].p == NULL)
			f[i].p = "";	/* left out: empty */
		if (unescape(f[i], (esc >> i) & 1, &o) != APITOKEN_OK ||
		    set_field(v, &row[i], val) != APITOKEN_OK)
			return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
			    "field %d (%s): bad value or escape", i + 1,
			    row[i].name);
	}
	if (apitoken_record_check(&v->r, why, sizeof(why)) != APITOKEN_OK)
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT, "%s", why);
	return APITOKEN_OK;
}

/* The same, materialized into a record the caller owns. */
int
codec_parse(const char *line, size_t len, struct apitoken_record **recp,
    char *err, size_t errlen)
{
	struct rec_view v;
	char *scratch;
	int rc;

	*recp = NULL;
	if ((scratch = malloc(CODEC_SCRATCH)) == NULL)
		return APITOKEN_ERR_NOMEM;
	rc = codec_decode(line, len, scratch, &v, err, errlen);
	if (rc == APITOKEN_OK && (*recp = apitoken_record_dup(&v.r)) == NULL)
		rc = APITOKEN_ERR_NOMEM;
	free(scratch);	/* store lines hold hashes, not secrets: no wipe */
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
put_list(struct buf *b, char *const *l, size_t n)
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

/* The row's value of r, escaped, into b. */
static void
put_field(struct buf *b, const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	const char *st;

	switch (f->kind) {
	case APITOKEN_FIELD_STATUS:
		st = apitoken_status_str(r->status);
		put(b, st, strlen(st));
		break;
	case APITOKEN_FIELD_LIST:
		put_list(b, apitoken_field_clist(r, f),
		    apitoken_field_ccount(r, f));
		break;
	case APITOKEN_FIELD_TIME:
		put_time(b, apitoken_field_ctime(r, f));
		break;
	default:
		put_escaped(b, apitoken_field_cstr(r, f));
		break;
	}
}

/* 1 if the row's value in r is empty (what an empty column decodes to). */
static int
field_empty(const struct apitoken_record *r, const struct apitoken_field *f)
{
	switch (f->kind) {
	case APITOKEN_FIELD_LIST:
		return apitoken_field_ccount(r, f) == 0;
	case APITOKEN_FIELD_TIME:
		return apitoken_field_ctime(r, f) == 0;
	case APITOKEN_FIELD_ID:
	case APITOKEN_FIELD_STATUS:
		return 0;
	default:
		return apitoken_field_cstr(r, f)[0] == '\0';
	}
}

int
codec_format(const struct apitoken_record *r, char **linep, size_t *lenp)
{
	struct buf b = { NULL, 0, 0, 0 };
	const struct apitoken_field *f;
	size_t i, n;

	*linep = NULL;
	*lenp = 0;
	f = apitoken_record_fields(&n);
	/* trailing optional columns that are empty are left out */
	while (n > STORE_NFIELDS_V1 && (f[n - 1].flags &
	    APITOKEN_FIELD_OPTIONAL) && field_empty(r, &f[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		put_field(&b, r, &f[i]);
		put(&b, i + 1 < n ? "\t" : "\n", 1);
	}
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
