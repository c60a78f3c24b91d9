/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_escape.c - control characters never reach the administrator's
 * terminal (issue 14, item 5): C1 controls and bidi overrides are refused
 * on every input path; what tokenctl prints (show, errors) escapes every
 * non-printable character, so an imported description cannot forge lines
 * and a JSON "\u001b" is not echoed raw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(escape, .init = setup_env, .fini = teardown_env);

/* No byte of s is a C0 control (but LF), DEL, or starts C1 / U+202x. */
static void
assert_printable(const char *what, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		cr_assert(*p == '\n' || (*p >= 0x20 && *p != 0x7f),
		    "%s holds byte 0x%02x: %s", what, *p, s);
		cr_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f),
		    "%s holds a C1 control: %s", what, s);
		cr_assert(!(p[0] == 0xe2 && (p[1] == 0x80 || p[1] == 0x81)),
		    "%s holds U+20xx: %s", what, s);
	}
}

/* The export of E with the first record's key set to a JSON string. */
static char *
export_with(const char *key, const char *value)
{
	struct run r;
	json_t *root, *rec;
	char *s;

	ctl(&r, NULL, "export", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	root = out_json(&r);
	rec = json_array_get(json_object_get(root, "records"), 0);
	cr_assert_not_null(rec);
	json_object_set_new(rec, key, json_string(value));
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	run_free(&r);
	return s;
}

/* Import input with --replace; expect failure, the store unchanged. */
static void
import_refused(const char *input, const char *needle)
{
	char *before = tl_read_file(E.store, NULL), *after;
	struct run r;

	ctl(&r, input, "import", "--replace", "-", NULL);
	cr_assert_neq(r.status, 0, "accepted: %s", r.out);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s': %s",
	    needle, r.err);
	assert_printable("stderr", r.err);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after, "the store changed");
	free(before);
	free(after);
	run_free(&r);
}

Test(escape, imported_description_cannot_forge_lines_in_show)
{
	char *tok = issue_token("root", "plain", NULL), id[13], *in;
	struct run r;

	token_id(tok, id);
	in = export_with("description",
	    "one\nstatus:        revoked\rtwo\tthree");
	ctl(&r, in, "import", "--replace", "-", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	ctl(&r, NULL, "show", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_printable("show", r.out);
	cr_assert_not_null(strstr(r.out, "description:   one\\nstatus:"
	    "        revoked\\rtwo\\tthree\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "\nstatus:        revoked"), "%s",
	    r.out);
	run_free(&r);
	free(in);
	free(tok);
}

Test(escape, import_refuses_c1_controls_and_bidi_overrides)
{
	char *tok = issue_token("root", "plain", NULL), *in;
	static const char *const bad[] = {
		"a\xc2\x9b" "31mred", "a\xc2\x80", "a\xc2\x9f",
		"txt\xe2\x80\xae" "exe", "a\xe2\x80\xaa", "a\xe2\x81\xa6",
		"a\xe2\x81\xa9",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = export_with("label", bad[i]);
		import_refused(in, "label");
		free(in);
		in = export_with("revoke_reason", bad[i]);
		import_refused(in, "revoke_reason");
		free(in);
	}
	free(tok);
}

Test(escape, json_escapes_are_not_echoed_raw_in_errors)
{
	char *tok = issue_token("root", "plain", NULL), *in;

	in = export_with("\x1b[2J\x1b]0;owned\a", "x");
	import_refused(in, "\\x1b[2J\\x1b]0;owned\\x07: unknown key");
	free(in);
	free(tok);
}

Test(escape, option_values_are_escaped_in_errors)
{
	static const char *const bad[][2] = {
		{ "--service", "ssh\x1b[2Jd" },
		{ "--from", "10.0.0.0/8\r\xc2\x9b" },
		{ "--expires", "1d\n\xe2\x80\xae" },
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl(&r, NULL, "issue", "root", "--label", "x", bad[i][0],
		    bad[i][1], NULL);
		cr_assert_eq(r.status, 2, "%s: %d %s", bad[i][0], r.status,
		    r.err);
		assert_printable("stderr", r.err);
		cr_assert_eq(tl_count_lines(r.err), 1, "%s", r.err);
		run_free(&r);
	}
	ctl(&r, NULL, "list", "--status", "x\xc2\x85y", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "'x\\u{0085}y'"), "%s", r.err);
	run_free(&r);
}

Test(escape, library_refuses_c1_and_bidi_in_every_text_field)
{
	struct apitoken_record *rec = apitoken_record_new();
	char **f[] = { &rec->label, &rec->description, &rec->external_id,
	    &rec->created_by, &rec->revoke_reason, &rec->user };
	size_t i;

	cr_assert_not_null(rec);
	memcpy(rec->id, "AAAAAAAAAAAA", 13);
	rec->created = rec->updated = 1700000000;
	cr_assert_eq(apitoken_record_set(&rec->user, "root"), 0);
	cr_assert_eq(apitoken_record_set(&rec->label, "l"), 0);
	cr_assert_eq(apitoken_record_set(&rec->hash, "sha256$"
	    "0000000000000000000000000000000000000000000000000000000000000000"),
	    0);
	cr_assert_eq(apitoken_record_check(rec, NULL, 0), 0);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char *keep = strdup(*f[i]);

		cr_assert_eq(apitoken_record_set(f[i], "a\xc2\x9b" "b"), 0);
		cr_assert_eq(apitoken_record_check(rec, NULL, 0),
		    APITOKEN_ERR_INVALID, "field %zu", i);
		cr_assert_eq(apitoken_record_set(f[i], "a\xe2\x80\xae" "b"), 0);
		cr_assert_eq(apitoken_record_check(rec, NULL, 0),
		    APITOKEN_ERR_INVALID, "field %zu", i);
		cr_assert_eq(apitoken_record_set(f[i], "caf\xc3\xa9\xe2\x80\x94"),
		    0);
		cr_assert_eq(apitoken_record_check(rec, NULL, 0), 0,
		    "field %zu: ordinary UTF-8 refused", i);
		cr_assert_eq(apitoken_record_set(f[i], keep), 0);
		free(keep);
	}
	cr_assert_eq(apitoken_label_valid("\xc2\xa0nbsp"), 0);
	cr_assert_eq(apitoken_text_valid("a\xe2\x81\xa9", 10),
	    APITOKEN_ERR_INVALID);
	apitoken_record_free(rec);
}
