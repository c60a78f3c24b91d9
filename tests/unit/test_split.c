/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_split.c - the store-line splitter (codec_split, word-at-a-time)
 * against a byte-by-byte reference written here: the same verdict, the
 * same message, the same fields and the same "has a backslash" bits (and
 * the optional last column left out as p == NULL), for
 * random lines rich in TABs, backslashes, control bytes and DEL, of every
 * length across the 8-byte word boundaries and around STORE_LINE_MAX.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "internal.h"

struct ref {
	int rc;
	char msg[128];
	struct slice f[STORE_NFIELDS];
	unsigned esc;
};

static void
ref_split(const char *line, size_t len, struct ref *r)
{
	size_t i, start = 0, nf = 0;
	unsigned char c;

	memset(r, 0, sizeof(*r));
	r->rc = APITOKEN_ERR_STORE_FORMAT;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > STORE_LINE_MAX) {
		snprintf(r->msg, sizeof(r->msg), "record longer than %d bytes",
		    STORE_LINE_MAX);
		return;
	}
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)line[i] : '\t';
		if (c == '\\' && nf < STORE_NFIELDS)
			r->esc |= 1u << nf;
		if (c != '\t') {
			if (c < 0x20 || c == 0x7f) {
				snprintf(r->msg, sizeof(r->msg),
				    "raw control byte 0x%02x in record", c);
				return;
			}
			continue;
		}
		if (nf == STORE_NFIELDS) {
			snprintf(r->msg, sizeof(r->msg), "more than %d fields",
			    STORE_NFIELDS);
			return;
		}
		r->f[nf].p = line + start;
		r->f[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	if (nf < STORE_NFIELDS_V1) {
		snprintf(r->msg, sizeof(r->msg), "%zu fields, expected %d to "
		    "%d", nf, STORE_NFIELDS_V1, STORE_NFIELDS);
		return;
	}
	for (; nf < STORE_NFIELDS; nf++)
		r->f[nf].p = NULL;
	r->rc = APITOKEN_OK;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* A byte: mostly text, often TAB or backslash, sometimes a fault. */
static char
rand_byte(unsigned fault_rate)
{
	uint32_t x = next() % 1000;

	if (x < 120)
		return '\t';
	if (x < 200)
		return '\\';
	if (x < 200 + fault_rate) {
		switch (next() % 4) {
		case 0: return 0x7f;
		case 1: return '\n';
		case 2: return '\0';
		default: return (char)(next() % 0x20);
		}
	}
	if (x < 260)
		return (char)(0x80 + next() % 0x80);
	return (char)(0x20 + next() % 0x5f);
}

static void
check_one(const char *line, size_t len)
{
	struct slice f[STORE_NFIELDS];
	struct ref r;
	char err[256] = "";
	unsigned esc = 0xdead;
	int rc, i;

	ref_split(line, len, &r);
	rc = codec_split(line, len, f, &esc, err, sizeof(err));
	cr_assert_eq(rc, r.rc, "len %zu: rc %d, reference %d (%s / %s)", len,
	    rc, r.rc, err, r.msg);
	if (rc != APITOKEN_OK) {
		cr_assert_str_eq(err, r.msg, "len %zu", len);
		return;
	}
	cr_assert_eq(esc, r.esc, "len %zu: escape bits %#x, reference %#x",
	    len, esc, r.esc);
	for (i = 0; i < STORE_NFIELDS; i++) {
		cr_assert(f[i].p == r.f[i].p && f[i].n == r.f[i].n,
		    "len %zu: field %d differs", len, i);
	}
}

Test(split, random_lines_agree_with_the_byte_by_byte_reference)
{
	static char line[STORE_LINE_MAX + 64];
	size_t len, i, n;
	unsigned fault;

	tl_watchdog(60);
	for (n = 0; n < 200000; n++) {
		len = next() % 300;
		fault = n % 3 == 0 ? 0 : n % 3 == 1 ? 2 : 30;
		for (i = 0; i < len; i++)
			line[i] = rand_byte(fault);
		if (len > 0 && n % 5 == 0)
			line[len - 1] = '\n';
		check_one(line, len);
	}
}

Test(split, sixteen_or_seventeen_fields_with_every_padding)
{
	char line[256];
	size_t len, i, pad, tabs;

	/* 15 or 16 TABs, a field of every length 0..17 at the end: every
	 * word boundary; then the same with one TAB more (17 fields, or too
	 * many) */
	for (tabs = 15; tabs <= 16; tabs++)
		for (pad = 0; pad < 18; pad++) {
			len = 0;
			for (i = 0; i < tabs; i++) {
				line[len++] = (char)('a' + i);
				line[len++] = '\t';
			}
			for (i = 0; i < pad; i++)
				line[len++] = i % 7 == 3 ? '\\' : 'z';
			check_one(line, len);
			line[len] = '\t';
			check_one(line, len + 1);
		}
}

Test(split, long_lines_around_the_limit)
{
	static char line[STORE_LINE_MAX + 16];
	size_t len, i;

	for (len = STORE_LINE_MAX - 9; len <= STORE_LINE_MAX + 9; len++) {
		for (i = 0; i < len; i++)
			line[i] = i % 1000 == 999 && i / 1000 < 15 ? '\t' :
			    i == len - 3 ? '\\' : 'x';
		check_one(line, len);
		line[len] = '\n';
		check_one(line, len + 1);
		line[len / 2] = 0x7f;
		check_one(line, len);
	}
}
