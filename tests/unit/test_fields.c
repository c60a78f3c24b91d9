/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fields.c - the record's one field table (apitoken_record_fields):
 * it matches the store header column by column, covers every member that
 * record new/dup/free handle, and each row's limits and rules are the
 * ones apitoken_record_check applies.  Adding a field without its row (or
 * a row without its column) fails here.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

static const struct apitoken_field *
rows(size_t *n)
{
	const struct apitoken_field *f = apitoken_record_fields(n);

	cr_assert_not_null(f);
	return f;
}

static int
is_str(const struct apitoken_field *f)
{
	return f->kind == APITOKEN_FIELD_TEXT ||
	    f->kind == APITOKEN_FIELD_HASH || f->kind == APITOKEN_FIELD_REF;
}

Test(fields, rows_are_the_store_header_columns_in_order)
{
	const char *h = apitoken_store_header(), *p;
	size_t n, i, len;
	const struct apitoken_field *f = rows(&n);

	cr_assert_eq(n, 17);
	p = strchr(strchr(h, '\t') + 1, '\t') + 1;	/* past "v1" */
	for (i = 0; i < n; i++) {
		len = strcspn(p, "\t");
		cr_assert_eq(len, strlen(f[i].name), "row %zu", i);
		cr_assert_eq(strncmp(p, f[i].name, len), 0, "row %zu: %s", i,
		    f[i].name);
		cr_assert_eq(tu_field_index(f[i].name), (int)i);
		p += len + (p[len] == '\t');
	}
	cr_assert_eq(*p, '\0', "header has more columns than rows: %s", p);
}

Test(fields, offsets_are_distinct_and_inside_the_record)
{
	size_t n, i, j;
	const struct apitoken_field *f = rows(&n);

	for (i = 0; i < n; i++) {
		cr_assert_lt(f[i].offset, sizeof(struct apitoken_record));
		cr_assert_not_null(f[i].why);
		cr_assert_eq(f[i].kind == APITOKEN_FIELD_LIST,
		    f[i].count_offset != 0, "%s", f[i].name);
		for (j = 0; j < i; j++)
			cr_assert_neq(f[i].offset, f[j].offset, "%s, %s",
			    f[i].name, f[j].name);
	}
}

Test(fields, view_ranks_are_a_permutation_and_hide_the_hash)
{
	size_t n, i, rank, hits;
	const struct apitoken_field *f = rows(&n);

	for (rank = 1; rank < n; rank++) {
		for (hits = 0, i = 0; i < n; i++)
			hits += f[i].view == rank;
		cr_assert_eq(hits, 1, "view rank %zu", rank);
	}
	for (i = 0; i < n; i++)
		cr_assert_eq(f[i].view == 0, f[i].kind == APITOKEN_FIELD_HASH,
		    "%s", f[i].name);
}

Test(fields, new_dup_free_walk_every_row)
{
	struct apitoken_record *r = tu_record("AAAAAAAAAAAA", "root", NULL);
	struct apitoken_record *d;
	size_t n, i;
	const struct apitoken_field *f = rows(&n);

	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sshd"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "10.0.0.0/8"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->hosts, &r->n_hosts,
	    "build-*"), 0);
	cr_assert_eq(apitoken_record_set(&r->description, "d"), 0);
	d = apitoken_record_dup(r);
	cr_assert_not_null(d);
	for (i = 0; i < n; i++) {
		if (is_str(&f[i])) {
			cr_assert_str_eq(apitoken_field_cstr(d, &f[i]),
			    apitoken_field_cstr(r, &f[i]), "%s", f[i].name);
			cr_assert_neq(apitoken_field_cstr(d, &f[i]),
			    apitoken_field_cstr(r, &f[i]), "%s shared",
			    f[i].name);
		} else if (f[i].kind == APITOKEN_FIELD_LIST) {
			cr_assert_eq(apitoken_field_ccount(d, &f[i]), 1);
			cr_assert_str_eq(apitoken_field_clist(d, &f[i])[0],
			    apitoken_field_clist(r, &f[i])[0]);
		} else if (f[i].kind == APITOKEN_FIELD_TIME) {
			cr_assert_eq(apitoken_field_ctime(d, &f[i]),
			    apitoken_field_ctime(r, &f[i]), "%s", f[i].name);
		}
	}
	cr_assert_str_eq(d->id, r->id);
	cr_assert_eq(apitoken_record_check(d, NULL, 0), 0);
	apitoken_record_free(d);
	apitoken_record_free(r);
	r = apitoken_record_new();
	for (i = 0; i < n; i++)
		if (is_str(&f[i]))
			cr_assert_str_eq(apitoken_field_cstr(r, &f[i]), "");
	apitoken_record_free(r);
}

/* Each text row: one byte over its limit is refused with its message;
 * a NONEMPTY row refuses "". */
Test(fields, text_rows_limits_are_what_the_check_applies)
{
	struct apitoken_record *r = tu_record("AAAAAAAAAAAA", "root", NULL);
	char err[256], *keep, *big;
	size_t n, i;
	const struct apitoken_field *f = rows(&n);

	for (i = 0; i < n; i++) {
		if (f[i].kind != APITOKEN_FIELD_TEXT)
			continue;
		keep = strdup(apitoken_field_cstr(r, &f[i]));
		big = malloc(f[i].max + 2);
		memset(big, 'a', f[i].max);
		big[f[i].max] = '\0';
		cr_assert_eq(apitoken_record_set(apitoken_field_str(r, &f[i]),
		    big), 0);
		cr_assert_eq(apitoken_record_check(r, err, sizeof(err)), 0,
		    "%s at its limit: %s", f[i].name, err);
		strcat(big, "a");
		cr_assert_eq(apitoken_record_set(apitoken_field_str(r, &f[i]),
		    big), 0);
		cr_assert_eq(apitoken_record_check(r, err, sizeof(err)),
		    APITOKEN_ERR_INVALID, "%s over its limit", f[i].name);
		cr_assert_str_eq(err, f[i].why);
		cr_assert_eq(apitoken_record_set(apitoken_field_str(r, &f[i]),
		    ""), 0);
		cr_assert_eq(apitoken_record_check(r, NULL, 0) != 0,
		    (f[i].flags & APITOKEN_FIELD_NONEMPTY) != 0, "%s empty",
		    f[i].name);
		cr_assert_eq(apitoken_record_set(apitoken_field_str(r, &f[i]),
		    keep), 0);
		free(big);
		free(keep);
	}
	apitoken_record_free(r);
}

/* A record written through the table's rows survives format and parse. */
Test(fields, codec_round_trip_through_the_rows)
{
	struct apitoken_record *r = tu_record("AAAAAAAAAAAA", "root", NULL);
	struct apitoken_record *p;
	char *line, *again, err[256];
	size_t len, len2;

	cr_assert_eq(apitoken_record_set(&r->description, "a\tb\nc\\d"), 0);
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sudo"), 0);
	r->expires = r->created + 3600;
	cr_assert_eq(apitoken_record_format(r, &line, &len), 0);
	cr_assert_eq(apitoken_record_parse(line, len, &p, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(apitoken_record_format(p, &again, &len2), 0);
	cr_assert_eq(len, len2);
	cr_assert_eq(memcmp(line, again, len), 0);
	free(line);
	free(again);
	apitoken_record_free(p);
	apitoken_record_free(r);
}
