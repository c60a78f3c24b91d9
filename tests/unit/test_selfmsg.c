/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_selfmsg.c - record lines longer than one protocol field, as the
 * self-service ops carry them (apitoken_msg_add_line / _next_line): cut
 * and joined again through encode and parse, other fields in between,
 * and every malformed shape refused.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"

static char *
line_of(size_t len, char fill)
{
	char *s = malloc(len + 1);

	cr_assert_not_null(s);
	memset(s, fill, len - 1);
	s[len - 1] = '\n';
	s[len] = '\0';
	return s;
}

/* m encoded and parsed again into *out (fields point into buf). */
static void
roundtrip(const struct apitoken_msg *m, struct apitoken_msg *out,
    unsigned char *buf, size_t size)
{
	size_t len = 0;

	cr_assert_eq(apitoken_msg_encode(m, buf, size, &len), 0);
	cr_assert_eq(apitoken_msg_parse(buf + 4, len - 4, out), 0);
}

Test(selfmsg, lines_cut_and_joined)
{
	static unsigned char buf[APITOKEN_MSG_MAX + 4];
	static char got[APITOKEN_LINE_MAX + 1];
	char *a = line_of(1, 'a'), *b = line_of(APITOKEN_LINE_PIECE, 'b');
	char *c = line_of(3 * APITOKEN_LINE_PIECE + 7, 'c');
	struct apitoken_msg m, p;
	size_t pos = 0, len = 0;

	apitoken_msg_init(&m, APITOKEN_OP_REPLY);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, a, 1), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_REASON, "accepted"),
	    0);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, b,
	    strlen(b)), 0);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, c,
	    strlen(c)), 0);
	cr_assert_eq(m.n, 1 + 1 + 1 + 4);
	roundtrip(&m, &p, buf, sizeof(buf));
	cr_assert_eq(apitoken_msg_next_line(&p, APITOKEN_T_ENTRY, &pos, got,
	    sizeof(got), &len), 0);
	cr_assert_str_eq(got, a);
	cr_assert_eq(apitoken_msg_next_line(&p, APITOKEN_T_ENTRY, &pos, got,
	    sizeof(got), &len), 0);
	cr_assert_str_eq(got, b);
	cr_assert_eq(len, strlen(b));
	cr_assert_eq(apitoken_msg_next_line(&p, APITOKEN_T_ENTRY, &pos, got,
	    sizeof(got), &len), 0);
	cr_assert_str_eq(got, c);
	cr_assert_eq(apitoken_msg_next_line(&p, APITOKEN_T_ENTRY, &pos, got,
	    sizeof(got), &len), APITOKEN_ERR_NOT_FOUND);
	/* too small a buffer */
	pos = 0;
	cr_assert_eq(apitoken_msg_next_line(&p, APITOKEN_T_ENTRY, &pos, got,
	    1, &len), APITOKEN_ERR_TOO_LONG);
	free(a);
	free(b);
	free(c);
}

Test(selfmsg, bad_lines)
{
	static char got[APITOKEN_LINE_MAX + 1];
	struct apitoken_msg m;
	char *big = line_of(APITOKEN_LINE_MAX + 1, 'x');
	size_t pos = 0, len;

	apitoken_msg_init(&m, APITOKEN_OP_REPLY);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, "no end", 6),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, "a\nb\n", 4),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, "", 0),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add_line(&m, APITOKEN_T_ENTRY, big,
	    strlen(big)), APITOKEN_ERR_TOO_LONG);
	cr_assert_eq(m.n, 0);
	/* a line cut short: its last piece missing */
	cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_ENTRY, "abc", 3), 0);
	cr_assert_eq(apitoken_msg_next_line(&m, APITOKEN_T_ENTRY, &pos, got,
	    sizeof(got), &len), APITOKEN_ERR_INVALID);
	free(big);
}
