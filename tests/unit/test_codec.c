/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_codec.c - the record model and the one store-line serializer and
 * parser: round trips (byte-identical), escaping, every parse rejection.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helpers.h"

static const char ID[] = "Ab3dEf6hIj9K";

static struct apitoken_record *
full_record(void)
{
	struct apitoken_record *r = tu_record(ID, "alice", "s3cr3t");

	r->status = APITOKEN_REVOKED;
	cr_assert_eq(apitoken_record_set(&r->label,
	    "Deploy \\ key, caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91"), 0);
	cr_assert_eq(apitoken_record_set(&r->description,
	    "Back\\slash\\\\twice, \"quotes\", 'single', #hash,\ttab\n"
	    "second line\r\nthird (CRLF)\n\\n literal, \\t too\t\n"
	    "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\n"),
	    0);
	cr_assert_eq(apitoken_record_set(&r->external_id, "SU-160-984-311"),
	    0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sshd"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sudo"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "login"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "my.svc_1+x-y"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "10.0.0.0/8"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "192.168.1.5/32"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "2001:db8::/32"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "fe80::/10"), 0);
	r->created = 1700000000;
	r->updated = 1700000100;
	cr_assert_eq(apitoken_record_set(&r->created_by, "root"), 0);
	r->expires = 1800000000;
	r->revoked_at = 1700000200;
	cr_assert_eq(apitoken_record_set(&r->revoke_reason,
	    "leaked in CI log \\o/ \xe2\x80\x94 rotated"), 0);
	cr_assert_eq(apitoken_record_set(&r->parent, "Zz9yX8wV7uT6"), 0);
	return r;
}

static void
assert_same(const struct apitoken_record *a,
    const struct apitoken_record *b)
{
	size_t i;

	cr_assert_str_eq(a->id, b->id);
	cr_assert_eq(a->status, b->status);
	cr_assert_str_eq(a->user, b->user);
	cr_assert_str_eq(a->hash, b->hash);
	cr_assert_str_eq(a->label, b->label);
	cr_assert_str_eq(a->description, b->description);
	cr_assert_str_eq(a->external_id, b->external_id);
	cr_assert_eq(a->n_services, b->n_services);
	for (i = 0; i < a->n_services; i++)
		cr_assert_str_eq(a->services[i], b->services[i]);
	cr_assert_eq(a->n_from, b->n_from);
	for (i = 0; i < a->n_from; i++)
		cr_assert_str_eq(a->from[i], b->from[i]);
	cr_assert_eq(a->created, b->created);
	cr_assert_eq(a->updated, b->updated);
	cr_assert_str_eq(a->created_by, b->created_by);
	cr_assert_eq(a->expires, b->expires);
	cr_assert_eq(a->revoked_at, b->revoked_at);
	cr_assert_str_eq(a->revoke_reason, b->revoke_reason);
	cr_assert_str_eq(a->parent, b->parent);
}

static void
round_trip(const struct apitoken_record *r)
{
	char *l1 = NULL, *l2 = NULL, *exact;
	size_t n1 = 0, n2 = 0;
	struct apitoken_record *p = NULL, *q = NULL;
	char err[TU_ERRLEN] = "";
	int rc;

	rc = apitoken_record_check(r, err, sizeof(err));
	cr_assert_eq(rc, 0, "record_check: %s", err);
	cr_assert_eq(apitoken_record_format(r, &l1, &n1), 0);
	cr_assert_not_null(l1);
	cr_assert_eq(strlen(l1), n1, "line has a NUL or wrong length");
	cr_assert_eq(l1[n1 - 1], '\n');
	cr_assert_null(memchr(l1, '\n', n1 - 1), "raw newline inside: %s", l1);
	rc = apitoken_record_parse(l1, n1, &p, err, sizeof(err));
	cr_assert_eq(rc, 0, "parse(%s) = %d: %s", l1, rc, err);
	assert_same(r, p);
	cr_assert_eq(apitoken_record_format(p, &l2, &n2), 0);
	cr_assert_eq(n1, n2);
	cr_assert(memcmp(l1, l2, n1) == 0, "re-format differs:\n%s%s", l1, l2);
	/* without the '\n', and without a terminating NUL */
	exact = malloc(n1 - 1);
	cr_assert_not_null(exact);
	memcpy(exact, l1, n1 - 1);
	rc = apitoken_record_parse(exact, n1 - 1, &q, err, sizeof(err));
	cr_assert_eq(rc, 0, "parse without newline: %s", err);
	assert_same(r, q);
	free(exact);
	free(l1);
	free(l2);
	apitoken_record_free(p);
	apitoken_record_free(q);
}

Test(codec, round_trip_full_record)
{
	struct apitoken_record *r = full_record();

	round_trip(r);
	apitoken_record_free(r);
}

Test(codec, round_trip_minimal_record)
{
	struct apitoken_record *r = tu_record(ID, "bob", NULL);

	round_trip(r);
	apitoken_record_free(r);
}

Test(codec, round_trip_each_status)
{
	struct apitoken_record *r = tu_record(ID, "bob", NULL);

	r->status = APITOKEN_DISABLED;
	round_trip(r);
	r->status = APITOKEN_ACTIVE;
	r->expires = 1700086400;
	round_trip(r);
	apitoken_record_free(r);
}

Test(codec, round_trip_long_fields)
{
	struct apitoken_record *r = tu_record(ID, "bob", NULL);
	char label[APITOKEN_LABEL_MAX + 1], desc[APITOKEN_DESCRIPTION_MAX + 1];
	char svc[16];
	int i;

	memset(label, '\\', APITOKEN_LABEL_MAX);	/* doubles when escaped */
	label[APITOKEN_LABEL_MAX] = '\0';
	memset(desc, 'd', APITOKEN_DESCRIPTION_MAX);
	desc[APITOKEN_DESCRIPTION_MAX] = '\0';
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->description, desc), 0);
	for (i = 0; i < APITOKEN_SERVICES_MAX; i++) {
		snprintf(svc, sizeof(svc), "svc%d", i);
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, svc), 0);
	}
	round_trip(r);
	apitoken_record_free(r);
}

Test(codec, backslash_escaped_as_documented)
{
	struct apitoken_record *r = tu_record(ID, "bob", NULL);
	char *line = NULL;
	size_t n;

	cr_assert_eq(apitoken_record_set(&r->label, "a\\b"), 0);
	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	cr_assert_not_null(strstr(line, "\ta\\\\b\t"), "line: %s", line);
	free(line);
	apitoken_record_free(r);
}

Test(codec, fields_in_header_order)
{
	struct apitoken_record *r = full_record();
	char *line = NULL, *p, *tab;
	size_t n;
	int i, nf = 0;
	char fields[16][256];

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	line[n - 1] = '\0';
	for (p = line; p != NULL && nf < 16; nf++) {
		tab = strchr(p, '\t');
		snprintf(fields[nf], sizeof(fields[nf]), "%.*s",
		    (int)(tab ? tab - p : (long)strlen(p)), p);
		p = tab ? tab + 1 : NULL;
	}
	cr_assert_eq(nf, 16);
	cr_assert_null(p, "more than 16 fields");
	cr_assert_str_eq(fields[tu_field_index("id")], ID);
	cr_assert_str_eq(fields[tu_field_index("status")], "revoked");
	cr_assert_str_eq(fields[tu_field_index("user")], "alice");
	cr_assert_str_eq(fields[tu_field_index("hash")], r->hash);
	cr_assert_str_eq(fields[tu_field_index("external_id")],
	    "SU-160-984-311");
	cr_assert_str_eq(fields[tu_field_index("services")],
	    "sshd,sudo,login,my.svc_1+x-y");
	cr_assert_str_eq(fields[tu_field_index("from")],
	    "10.0.0.0/8,192.168.1.5/32,2001:db8::/32,fe80::/10");
	cr_assert_str_eq(fields[tu_field_index("created")],
	    "2023-11-14T22:13:20Z");
	cr_assert_str_eq(fields[tu_field_index("updated")],
	    "2023-11-14T22:15:00Z");
	cr_assert_str_eq(fields[tu_field_index("expires")],
	    "2027-01-15T08:00:00Z");
	cr_assert_str_eq(fields[tu_field_index("parent")], "Zz9yX8wV7uT6");
	i = tu_field_index("created_by");
	cr_assert_str_eq(fields[i], "root");
	free(line);
	apitoken_record_free(r);
}

Test(codec, unset_times_are_empty)
{
	struct apitoken_record *r = tu_record(ID, "bob", NULL);
	char *line = NULL, *l2;
	size_t n;

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	line[n - 1] = '\0';
	/* expires, revoked_at empty; setting expires back to "" is the same */
	l2 = tu_line_set_field(line, tu_field_index("expires"), "");
	cr_assert_str_eq(l2, line);
	free(l2);
	l2 = tu_line_set_field(line, tu_field_index("revoked_at"), "");
	cr_assert_str_eq(l2, line);
	free(l2);
	free(line);
	apitoken_record_free(r);
}

/* ------------------------------------------ control characters */

/* A record with a control byte in a text field fails record_check (but a
 * description may hold TAB, LF and CR, which must round-trip).  The
 * serializer must never emit a line that could split a record: if it
 * formats at all, the result is one line with exactly 15 tabs and no raw
 * control byte. */
static void
control_char_field(char **field, const char *value)
{
	cr_assert_eq(apitoken_record_set(field, value), 0);
}

Test(codec, control_chars_never_emitted_raw)
{
	const char *vals[] = { "a\x01z", "a\x7fz", "a\x1b[2J", "a\tb", "a\nb",
	    "a\rb", "a\n1234567890AB\tactive\tmallory" };
	const char *names[] = { "label", "description", "revoke_reason",
	    "external_id", "created_by" };
	size_t v, f;

	for (f = 0; f < 5; f++) {
		for (v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			struct apitoken_record *r = tu_record(ID, "bob", NULL);
			char **field[] = { &r->label, &r->description,
			    &r->revoke_reason, &r->external_id,
			    &r->created_by };
			char err[TU_ERRLEN] = "";
			char *line = NULL;
			size_t n = 0, i, tabs = 0;
			int rc;

			control_char_field(field[f], vals[v]);
			/* description may hold TAB, LF, CR (v >= 3) */
			if (f != 1 || v < 3)
				cr_expect_eq(apitoken_record_check(r, err,
				    sizeof(err)), APITOKEN_ERR_INVALID,
				    "%s with byte 0x%02x passes record_check",
				    names[f], (unsigned char)vals[v][1]);
			else
				round_trip(r);
			rc = apitoken_record_format(r, &line, &n);
			if (rc == 0) {
				for (i = 0; i < n; i++) {
					unsigned char c = (unsigned char)line[i];

					if (c == '\t')
						tabs++;
					else if (c == '\n')
						cr_assert_eq(i, n - 1,
						    "raw newline emitted");
					else
						cr_assert(c >= 0x20 && c != 0x7f,
						    "raw byte 0x%02x emitted "
						    "for %s", c, names[f]);
				}
				cr_assert_eq(tabs, 15u, "%s: %zu tabs",
				    names[f], tabs);
				free(line);
			}
			apitoken_record_free(r);
		}
	}
}

/* ------------------------------------------------ parse rejections */

static char *
good_line(void)
{
	struct apitoken_record *r = full_record();
	char *line = NULL;
	size_t n;

	cr_assert_eq(apitoken_record_format(r, &line, &n), 0);
	line[n - 1] = '\0';
	apitoken_record_free(r);
	return line;
}

static void
reject_line(const char *line, size_t len, const char *what)
{
	struct apitoken_record *rec = (struct apitoken_record *)1;
	char err[TU_ERRLEN];
	int rc;

	memset(err, 0, sizeof(err));
	rc = apitoken_record_parse(line, len, &rec, err, sizeof(err));
	cr_expect(rc < 0, "%s: parse accepted \"%.*s\"", what, (int)len, line);
	cr_expect_null(rec, "%s: *recp not cleared", what);
	cr_expect(err[0] != '\0', "%s: no message", what);
	if (rc == 0)
		apitoken_record_free(rec);
}

static void
reject_field(const char *field, const char *value)
{
	char *line = good_line();
	char *bad = tu_line_set_field(line, tu_field_index(field), value);
	char what[128];

	snprintf(what, sizeof(what), "%s=\"%s\"", field, value);
	reject_line(bad, strlen(bad), what);
	free(bad);
	free(line);
}

Test(codec_parse, good_line_parses)
{
	char *line = good_line();
	struct apitoken_record *rec = NULL;
	char err[TU_ERRLEN] = "";

	cr_assert_eq(apitoken_record_parse(line, strlen(line), &rec, err,
	    sizeof(err)), 0, "%s", err);
	apitoken_record_free(rec);
	free(line);
}

Test(codec_parse, field_count)
{
	char *line = good_line();
	char *more = malloc(strlen(line) + 8);
	char *cut;

	cr_assert_not_null(more);
	sprintf(more, "%s\tx\ty", line);
	reject_line(more, strlen(more), "18 fields");
	sprintf(more, "%s\t", line);
	reject_line(more, strlen(more), "17 fields, hosts empty");
	cut = strrchr(line, '\t');
	*cut = '\0';
	reject_line(line, strlen(line), "15 fields");
	reject_line("", 0, "empty line");
	reject_line("\n", 1, "newline only");
	reject_line(ID, strlen(ID), "id only");
	free(more);
	free(line);
}

Test(codec_parse, bad_escapes)
{
	reject_field("label", "ab\\qcd");
	reject_field("label", "ab\\x1");
	reject_field("label", "ab\\x");
	reject_field("label", "ab\\xZZ");
	reject_field("label", "ab\\");
	reject_field("description", "trailing\\");
	reject_field("revoke_reason", "\\q");
}

Test(codec_parse, escaped_control_chars_fail_validation)
{
	/* the escapes decode, but a label may not hold control chars */
	reject_field("label", "a\\tb");
	reject_field("label", "a\\nb");
	reject_field("label", "a\\x01b");
	reject_field("description", "a\\x01b");
	reject_field("description", "a\\x7fb");
	reject_field("revoke_reason", "a\\nb");
}

Test(codec_parse, escaped_description_decodes)
{
	char *line = good_line();
	char *l2 = tu_line_set_field(line, tu_field_index("description"),
	    "a\\tb\\nc\\r\\nd\\\\e");
	struct apitoken_record *rec = NULL;
	char err[TU_ERRLEN] = "";

	cr_assert_eq(apitoken_record_parse(l2, strlen(l2), &rec, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(rec->description, "a\tb\nc\r\nd\\e");
	apitoken_record_free(rec);
	free(l2);
	free(line);
}

Test(codec_parse, raw_control_bytes)
{
	char *line = good_line();
	char *bad = tu_line_set_field(line, tu_field_index("label"), "a\rb");

	reject_line(bad, strlen(bad), "raw CR");
	free(bad);
	bad = tu_line_set_field(line, tu_field_index("label"), "a\x01z");
	reject_line(bad, strlen(bad), "raw 0x01");
	free(bad);
	/* a NUL inside the label, len covering the whole line */
	bad = tu_line_set_field(line, tu_field_index("label"), "aXb");
	{
		char *x = strstr(bad, "\taXb\t");
		size_t len = strlen(bad);

		cr_assert_not_null(x);
		x[2] = '\0';
		reject_line(bad, len, "NUL in label");
	}
	free(bad);
	free(line);
}

Test(codec_parse, bad_status)
{
	reject_field("status", "enabled");
	reject_field("status", "");
	reject_field("status", "Active");
	reject_field("status", "active ");
	reject_field("status", "0");
}

Test(codec_parse, bad_times)
{
	reject_field("created", "2023-13-01T00:00:00Z");
	reject_field("created", "1700000000");
	reject_field("created", "2023-11-14 22:13:20Z");
	reject_field("created", "2023-11-14T22:13:20");
	reject_field("created", "2023-02-30T00:00:00Z");
	reject_field("updated", "yesterday");
	reject_field("expires", "2030-01-01");
	reject_field("expires", "never");
	reject_field("revoked_at", "2023-11-14T25:00:00Z");
}

Test(codec_parse, bad_hash)
{
	char h[128];

	reject_field("hash", "");
	reject_field("hash", "plain");
	reject_field("hash", "md5$0123456789abcdef0123456789abcdef");
	memset(h, 0, sizeof(h));
	memcpy(h, "sha256$", 7);
	memset(h + 7, 'a', 63);
	reject_field("hash", h);		/* 63 hex */
	memset(h + 7, 'a', 65);
	reject_field("hash", h);		/* 65 hex */
	memset(h + 7, 'A', 64);
	h[7 + 64] = '\0';
	reject_field("hash", h);		/* uppercase */
	memset(h + 7, 'g', 64);
	reject_field("hash", h);		/* not hex */
}

Test(codec_parse, bad_lists)
{
	reject_field("from", "10.0.0.0/33");
	reject_field("from", "not-an-ip");
	reject_field("from", "10.0.0.0/8,,192.168.0.0/16");
	reject_field("from", "10.0.0.0/8,");
	reject_field("from", "2001:db8::/129");
	reject_field("from", "300.1.1.1");
	reject_field("services", "ssh d");
	reject_field("services", "a/b");
	reject_field("services", "sshd,,sudo");
}

Test(codec_parse, bad_ids)
{
	reject_field("id", "short");
	reject_field("id", "");
	reject_field("id", "Ab3dEf6h_j9K");
	reject_field("id", "Ab3dEf6hIj9KL");
	reject_field("id", "../../etc/pw");
	reject_field("parent", "xyz");
	reject_field("parent", "Ab3dEf6h-j9K");
}

Test(codec_parse, bad_text_fields)
{
	char big[APITOKEN_LABEL_MAX + 2];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reject_field("label", big);
	reject_field("label", "bad utf8 \xff\xfe");
	reject_field("description", "overlong \xc0\xaf");
}

/* ------------------------------------------------- record model */

Test(record, new_is_empty)
{
	struct apitoken_record *r = apitoken_record_new();

	cr_assert_not_null(r);
	cr_assert_str_eq(r->user, "");
	cr_assert_str_eq(r->hash, "");
	cr_assert_str_eq(r->label, "");
	cr_assert_str_eq(r->description, "");
	cr_assert_str_eq(r->external_id, "");
	cr_assert_str_eq(r->created_by, "");
	cr_assert_str_eq(r->revoke_reason, "");
	cr_assert_str_eq(r->parent, "");
	cr_assert_eq(r->n_services, 0u);
	cr_assert_eq(r->n_from, 0u);
	cr_assert_eq(r->expires, 0);
	apitoken_record_free(r);
	apitoken_record_free(NULL);
}

Test(record, dup_is_deep)
{
	struct apitoken_record *r = full_record(), *d;

	d = apitoken_record_dup(r);
	cr_assert_not_null(d);
	assert_same(r, d);
	cr_assert_neq(r->label, d->label);
	cr_assert_neq(r->services, d->services);
	cr_assert_neq(r->services[0], d->services[0]);
	cr_assert_neq(r->from[0], d->from[0]);
	cr_assert_eq(apitoken_record_set(&r->label, "changed"), 0);
	apitoken_record_list_clear(&r->services, &r->n_services);
	cr_assert_eq(r->n_services, 0u);
	cr_assert_eq(d->n_services, 4u);
	cr_assert_str_eq(d->services[3], "my.svc_1+x-y");
	cr_assert_str_neq(d->label, "changed");
	apitoken_record_free(r);
	apitoken_record_free(d);
}

Test(record, check_names_the_field)
{
	struct apitoken_record *r;
	char err[TU_ERRLEN];

	r = tu_record(ID, "alice", NULL);
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(apitoken_record_set(&r->label, "bad\nlabel"), 0);
	err[0] = '\0';
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strcasestr(err, "label"), "err: %s", err);
	apitoken_record_free(r);

	r = tu_record(ID, "alice", NULL);
	cr_assert_eq(apitoken_record_set(&r->hash, "md5$x"), 0);
	err[0] = '\0';
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strcasestr(err, "hash"), "err: %s", err);
	apitoken_record_free(r);

	r = tu_record(ID, "alice", NULL);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from, "1.2.3"),
	    0);
	err[0] = '\0';
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strcasestr(err, "from"), "err: %s", err);
	apitoken_record_free(r);

	r = tu_record(ID, "alice", NULL);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "no such/service"), 0);
	err[0] = '\0';
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strcasestr(err, "service"), "err: %s", err);
	apitoken_record_free(r);

	r = tu_record(ID, "alice", NULL);
	r->id[3] = '_';
	err[0] = '\0';
	cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID);
	cr_assert_not_null(strcasestr(err, "id"), "err: %s", err);
	apitoken_record_free(r);

	r = tu_record(ID, "alice", NULL);
	cr_assert_eq(apitoken_record_set(&r->parent, "bad"), 0);
	cr_assert_eq(apitoken_record_check(r, NULL, 0), APITOKEN_ERR_INVALID);
	apitoken_record_free(r);
}

static void
check_bad(struct apitoken_record *r, const char *field,
    const char *what)
{
	char err[TU_ERRLEN] = "";

	cr_expect_eq(apitoken_record_check(r, err, sizeof(err)),
	    APITOKEN_ERR_INVALID, "record_check accepted %s", what);
	cr_expect_not_null(strcasestr(err, field), "%s: err \"%s\" does not "
	    "name %s", what, err, field);
	apitoken_record_free(r);
}

static struct apitoken_record *
base(void)
{
	return tu_record(ID, "alice", NULL);
}

Test(record, check_documented_rules)
{
	struct apitoken_record *r;
	char big[APITOKEN_USER_MAX + 2];

	r = base();
	cr_assert_eq(apitoken_record_set(&r->user, ""), 0);
	check_bad(r, "user", "empty user");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->user, "a b"), 0);
	check_bad(r, "user", "user with blank");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->user, "a,b"), 0);
	check_bad(r, "user", "user with comma");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->user, "a\tb"), 0);
	check_bad(r, "user", "user with tab");
	r = base();
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(apitoken_record_set(&r->user, big), 0);
	check_bad(r, "user", "user over APITOKEN_USER_MAX");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->label, ""), 0);
	check_bad(r, "label", "empty label");
	r = base();
	r->status = (enum apitoken_status)7;
	check_bad(r, "status", "status 7");
	r = base();
	r->created = 0;
	r->updated = 0;
	check_bad(r, "created", "created 0");
	r = base();
	r->updated = r->created - 1;
	check_bad(r, "updated", "updated < created");
	r = base();
	r->expires = -5;
	check_bad(r, "expires", "negative expires");
	r = base();
	r->status = APITOKEN_REVOKED;
	check_bad(r, "revoked", "revoked without revoked_at");
	r = base();
	r->revoked_at = 1700000500;
	check_bad(r, "revoked", "active with revoked_at");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->parent, ID), 0);
	check_bad(r, "parent", "parent == own id");
	r = base();
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sshd"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sshd"), 0);
	check_bad(r, "service", "duplicate service");
	r = base();
	cr_assert_eq(apitoken_record_set(&r->description, "a\x01b"), 0);
	check_bad(r, "description", "description with 0x01");

	/* the allowed variants */
	r = base();
	cr_assert_eq(apitoken_record_set(&r->description, "l1\r\nl2\tx"), 0);
	r->status = APITOKEN_REVOKED;
	r->revoked_at = 1700000001;
	r->expires = 1;		/* expiry in the past is still a valid field */
	cr_assert_eq(apitoken_record_check(r, NULL, 0), 0);
	apitoken_record_free(r);
	r = base();
	memset(big, 'u', APITOKEN_USER_MAX);
	big[APITOKEN_USER_MAX] = '\0';
	cr_assert_eq(apitoken_record_set(&r->user, big), 0);
	cr_assert_eq(apitoken_record_check(r, NULL, 0), 0, "max-length user");
	cr_assert_eq(apitoken_record_set(&r->user, "j\xc3\xb6rg.m-1@x"), 0);
	cr_assert_eq(apitoken_record_check(r, NULL, 0), 0);
	apitoken_record_free(r);
}

Test(record, too_many_list_entries)
{
	struct apitoken_record *r = tu_record(ID, "alice", NULL);
	char buf[32];
	int i;

	for (i = 0; i <= APITOKEN_FROM_MAX; i++) {
		snprintf(buf, sizeof(buf), "10.0.%d.0/24", i);
		cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
		    buf), 0);
	}
	cr_assert_eq(apitoken_record_check(r, NULL, 0), APITOKEN_ERR_INVALID);
	apitoken_record_list_clear(&r->from, &r->n_from);
	for (i = 0; i <= APITOKEN_SERVICES_MAX; i++) {
		snprintf(buf, sizeof(buf), "svc%d", i);
		cr_assert_eq(apitoken_record_list_add(&r->services,
		    &r->n_services, buf), 0);
	}
	cr_assert_eq(apitoken_record_check(r, NULL, 0), APITOKEN_ERR_INVALID);
	apitoken_record_free(r);
}

Test(record, expired)
{
	struct apitoken_record *r = tu_record(ID, "alice", NULL);

	cr_assert_eq(apitoken_record_expired(r, 2000000000), 0, "never");
	r->expires = 1800000000;
	cr_assert_eq(apitoken_record_expired(r, 1799999999), 0);
	cr_assert_eq(apitoken_record_expired(r, 1800000000), 1, "at expiry");
	cr_assert_eq(apitoken_record_expired(r, 1800000001), 1);
	apitoken_record_free(r);
}

Test(record, text_validators)
{
	char s[APITOKEN_LABEL_MAX + 2];

	cr_assert_eq(apitoken_label_valid("ok"), 0);
	cr_assert_eq(apitoken_label_valid("caf\xc3\xa9 \xf0\x9f\x94\x91"), 0);
	cr_assert_eq(apitoken_label_valid(""), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("a\tb"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("a\nb"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("a\x7f"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("a\x1b[31m"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("\xff"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("\xc3"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("\xc0\xaf"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_label_valid("\xed\xa0\x80"),
	    APITOKEN_ERR_INVALID, "UTF-16 surrogate accepted");
	memset(s, 'x', sizeof(s));
	s[APITOKEN_LABEL_MAX] = '\0';
	cr_assert_eq(apitoken_label_valid(s), 0);
	s[APITOKEN_LABEL_MAX] = 'x';
	s[APITOKEN_LABEL_MAX + 1] = '\0';
	cr_assert_eq(apitoken_label_valid(s), APITOKEN_ERR_INVALID);

	cr_assert_eq(apitoken_text_valid("", 10), 0);
	cr_assert_eq(apitoken_text_valid("0123456789", 10), 0);
	cr_assert_eq(apitoken_text_valid("0123456789a", 10),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_text_valid("a\rb", 10), APITOKEN_ERR_INVALID);
}

Test(record, service_names)
{
	char s[APITOKEN_SERVICE_MAX + 2];

	cr_assert_eq(apitoken_service_valid("sshd"), 0);
	cr_assert_eq(apitoken_service_valid("sudo-i"), 0);
	cr_assert_eq(apitoken_service_valid("a.b_c+d-E9"), 0);
	cr_assert_eq(apitoken_service_valid(""), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_service_valid("ssh d"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_service_valid("a/b"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_service_valid("a,b"), APITOKEN_ERR_INVALID);
	memset(s, 's', sizeof(s));
	s[APITOKEN_SERVICE_MAX] = '\0';
	cr_assert_eq(apitoken_service_valid(s), 0);
	s[APITOKEN_SERVICE_MAX] = 's';
	s[APITOKEN_SERVICE_MAX + 1] = '\0';
	cr_assert_eq(apitoken_service_valid(s), APITOKEN_ERR_INVALID);
}

Test(record, store_header_and_trailer)
{
	const char *h = apitoken_store_header();

	cr_assert_not_null(h);
	cr_assert_eq(strncmp(h, "#apitoken-store\tv1\t", 19), 0, "%s", h);
	cr_assert_null(strchr(h, '\n'));
	cr_assert_str_eq(apitoken_store_trailer(), "#end");
	cr_assert_eq(tu_field_index("id"), 0);
	cr_assert_eq(tu_field_index("parent"), 15);
}

/* The one UTF-8 decoder (used by the text rules and tokenctl's escaper). */
Test(codec, utf8_decode)
{
	static const struct {
		const char *s;
		size_t len;
		uint32_t cp;
	} cases[] = {
		{ "A", 1, 0x41 },
		{ "\xc3\xa9", 2, 0xe9 },		/* é */
		{ "\xc2\x9b", 2, 0x9b },		/* C1 CSI: valid UTF-8 */
		{ "\xe2\x80\xae", 3, 0x202e },		/* RLO */
		{ "\xf0\x9f\x94\x91", 4, 0x1f511 },	/* a key */
		{ "\xc0\xaf", 0, 0 },			/* overlong */
		{ "\xe0\x80\xaf", 0, 0 },		/* overlong */
		{ "\xed\xa0\x80", 0, 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 0, 0 },		/* past U+10FFFF */
		{ "\xe2\x80", 0, 0 },			/* cut short */
		{ "\x80", 0, 0 },			/* lone continuation */
	};
	size_t i;
	uint32_t cp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp = 1;
		cr_expect_eq(apitoken_utf8_decode(cases[i].s,
		    strlen(cases[i].s), &cp), cases[i].len, "case %zu", i);
		cr_expect_eq(cp, cases[i].cp, "case %zu: %x", i, cp);
	}
	cr_expect_eq(apitoken_utf8_decode("\xc3\xa9", 1, &cp), 0);
	cr_expect_eq(apitoken_utf8_decode("", 0, &cp), 0);
}
