/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet_rows - the rows of a central store for bench/fleet.sh, made from
 * a store file (bench/mkstore's) with the library's own reader and
 * serializer (apitoken_store_foreach, apitoken_record_format), in
 * PostgreSQL's COPY text format:
 *
 *   fleet_rows CONFIG ROWS BURST N
 *
 * ROWS gets every record as "id user_name label status parent line"
 * (the columns of apitoken_tokens, fleet/fleet.h); BURST gets N records
 * spread over the store, disabled, as "id status line": the rows of a
 * burst of N changes (an UPDATE from them fires the change-log trigger
 * once per row).  Prints "rows R" and "burst B".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"

struct out {
	FILE *rows, *burst;
	size_t n, every, nburst, max;
};

/* s as a COPY text field: backslash, tab, newline and CR escaped. */
static void
field(FILE *f, const char *s, int last)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			fputc(*s, f);
		}
	}
	fputc(last ? '\n' : '\t', f);
}

static int
line_of(const struct apitoken_record *rec, char **line)
{
	size_t len;

	return apitoken_record_format(rec, line, &len);
}

static int
one(struct apitoken_record **recp, void *ctx)
{
	struct apitoken_record *rec = *recp;
	struct out *o = ctx;
	char *line = NULL;

	if (line_of(rec, &line) != 0)
		return -1;
	field(o->rows, rec->id, 0);
	field(o->rows, rec->user, 0);
	field(o->rows, rec->label, 0);
	field(o->rows, apitoken_status_str(rec->status), 0);
	field(o->rows, rec->parent, 0);
	field(o->rows, line, 1);
	free(line);
	if (o->n++ % o->every == 0 && o->nburst < o->max &&
	    rec->status == APITOKEN_ACTIVE) {
		rec->status = APITOKEN_DISABLED;
		if (line_of(rec, &line) != 0)
			return -1;
		field(o->burst, rec->id, 0);
		field(o->burst, apitoken_status_str(rec->status), 0);
		field(o->burst, line, 1);
		free(line);
		o->nburst++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct apitoken_config *cfg = NULL;
	struct apitoken_store *store = NULL;
	struct out o = { 0 };
	char err[512] = "";
	size_t count;

	if (argc != 5 || (o.max = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: fleet_rows CONFIG ROWS BURST N\n");
		return 2;
	}
	if (apitoken_config_load(argv[1], &cfg, err, sizeof(err)) != 0 ||
	    apitoken_store_open(cfg, &store, err, sizeof(err)) != 0) {
		fprintf(stderr, "fleet_rows: %s\n", err);
		return 1;
	}
	count = apitoken_store_count(store);
	o.every = count / o.max > 0 ? count / o.max : 1;
	if ((o.rows = fopen(argv[2], "we")) == NULL ||
	    (o.burst = fopen(argv[3], "we")) == NULL) {
		perror("fleet_rows");
		return 1;
	}
	if (apitoken_store_foreach(store, one, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "fleet_rows: %s\n", err);
		return 1;
	}
	if (fclose(o.rows) != 0 || fclose(o.burst) != 0) {
		perror("fleet_rows");
		return 1;
	}
	printf("rows %zu\nburst %zu\n", o.n, o.nburst);
	apitoken_store_close(store);
	apitoken_config_free(cfg);
	return 0;
}
