/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto.c - the apitokend wire format (verifier/proto.c): encode and
 * parse round trips, every tag's cap, and the malformed forms the parser
 * must refuse (apitoken.h "apitokend protocol", apitokend(8) PROTOCOL).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(proto, .init = NULL);

/* The caps the man page documents, by tag. */
static const size_t caps[] = {
	[APITOKEN_T_USER] = 256, [APITOKEN_T_SERVICE] = 64,
	[APITOKEN_T_RHOST] = 64, [APITOKEN_T_TOKEN] = 512,
	[APITOKEN_T_REASON] = 32, [APITOKEN_T_ID] = 12,
	[APITOKEN_T_LABEL] = 512, [APITOKEN_T_OWNER] = 256,
	[APITOKEN_T_EXPIRES] = 20, [APITOKEN_T_DETAIL] = 256,
	[APITOKEN_T_ENTRY] = 512, [APITOKEN_T_ARG] = 1024,
	[APITOKEN_T_STYLE] = 2, [APITOKEN_T_TEXT] = 512,
	[APITOKEN_T_STATUS] = 3, [APITOKEN_T_LASTUSE] = 160,
};
#define NTAGS (sizeof(caps) / sizeof(caps[0]))

static unsigned char buf[4 + APITOKEN_MSG_MAX + 64];

/* Encode m; the body length from the prefix must match. */
static size_t
encode(const struct apitoken_msg *m)
{
	size_t n = 0;

	cr_assert_eq(apitoken_msg_encode(m, buf, sizeof(buf), &n), 0);
	cr_assert_geq(n, 6);
	cr_assert_eq(((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	    (size_t)buf[2] << 8 | buf[3]), n - 4);
	return n;
}

Test(proto, verify_request_round_trip)
{
	struct apitoken_msg m, p;
	char v[600];
	size_t n;

	apitoken_msg_init(&m, APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_USER, "alice"), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_SERVICE, "imap"), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_RHOST, "::1"), 0);
	cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_TOKEN, "secretXX", 6), 0);
	n = encode(&m);
	cr_assert_eq(n, 4 + 2 + 4 * 3 + 5 + 4 + 3 + 6);
	cr_assert_eq(buf[4], APITOKEN_PROTO_VERSION);
	cr_assert_eq(buf[5], APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_parse(buf + 4, n - 4, &p), 0);
	cr_assert_eq(p.op, APITOKEN_OP_VERIFY);
	cr_assert_eq(p.n, 4);
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_USER, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "alice");
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_TOKEN, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "secret");
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_RHOST, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "::1");
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_LABEL, v, sizeof(v)),
	    APITOKEN_ERR_NOT_FOUND);
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_USER, v, 5),
	    APITOKEN_ERR_TOO_LONG);
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_USER, v, 6), 0);
}

Test(proto, repeated_and_empty_fields)
{
	struct apitoken_msg m, p;
	char v[16];
	size_t n, i;

	apitoken_msg_init(&m, APITOKEN_OP_REPLY);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_REASON, "accepted"),
	    0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_ENTRY, "a"), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_ENTRY, ""), 0);
	cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_ENTRY, NULL, 0), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_ENTRY, "b"), 0);
	n = encode(&m);
	cr_assert_eq(apitoken_msg_parse(buf + 4, n - 4, &p), 0);
	cr_assert_eq(p.n, 5);
	for (i = 0; i < p.n; i++)
		cr_assert_eq(p.f[i].tag, m.f[i].tag);
	cr_assert_eq(p.f[2].len, 0);
	cr_assert_eq(p.f[4].len, 1);
	cr_assert_eq(p.f[4].val[0], 'b');
	cr_assert_eq(apitoken_msg_get(&p, APITOKEN_T_ENTRY, v, sizeof(v)), 0);
	cr_assert_str_eq(v, "a");
}

Test(proto, every_tag_has_its_cap)
{
	struct apitoken_msg m, p;
	char *big = malloc(2000);
	size_t t, n;

	cr_assert_not_null(big);
	memset(big, 'x', 2000);
	for (t = 1; t < NTAGS; t++) {
		apitoken_msg_init(&m, APITOKEN_OP_REPLY);
		cr_assert_eq(apitoken_msg_add(&m, (uint8_t)t, big, caps[t]), 0,
		    "tag %zu at its cap", t);
		cr_assert_eq(apitoken_msg_add(&m, (uint8_t)t, big,
		    caps[t] + 1), APITOKEN_ERR_TOO_LONG, "tag %zu", t);
		n = encode(&m);
		cr_assert_eq(apitoken_msg_parse(buf + 4, n - 4, &p), 0);
		/* the same field one byte longer on the wire */
		buf[7] = (unsigned char)((caps[t] + 1) >> 8);
		buf[8] = (unsigned char)((caps[t] + 1) & 0xff);
		buf[n] = 'x';
		cr_assert_eq(apitoken_msg_parse(buf + 4, n - 3, &p),
		    APITOKEN_ERR_INVALID, "tag %zu past its cap parsed", t);
		cr_assert_eq(p.n, 0);
	}
	free(big);
}

Test(proto, unknown_tags_nul_bytes_and_too_many_fields)
{
	struct apitoken_msg m;
	size_t i;

	apitoken_msg_init(&m, APITOKEN_OP_VERIFY);
	cr_assert_eq(apitoken_msg_add_str(&m, 0, "x"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add_str(&m, 17, "x"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add_str(&m, 255, "x"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_USER, "a\0b", 3),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_USER, NULL, 1),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(m.n, 0);
	for (i = 0; i < APITOKEN_MSG_FIELDS; i++)
		cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_ARG, "a"), 0);
	cr_assert_eq(apitoken_msg_add_str(&m, APITOKEN_T_ARG, "a"),
	    APITOKEN_ERR_TOO_LONG);
}

Test(proto, body_over_the_max_is_not_encoded)
{
	static char arg[1024];
	struct apitoken_msg m;
	size_t i, n = 99;

	memset(arg, 'a', sizeof(arg));
	apitoken_msg_init(&m, APITOKEN_OP_REPLY);
	/* 7 * 1027 + 2 = 7191 fits, 8 does not */
	for (i = 0; i < 8; i++)
		cr_assert_eq(apitoken_msg_add(&m, APITOKEN_T_ARG, arg,
		    sizeof(arg)), 0);
	cr_assert_eq(apitoken_msg_encode(&m, buf, sizeof(buf), &n),
	    APITOKEN_ERR_TOO_LONG);
	cr_assert_eq(n, 0);
	m.n = 7;
	cr_assert_eq(apitoken_msg_encode(&m, buf, sizeof(buf), &n), 0);
	cr_assert_eq(n, 4 + 2 + 7 * 1027);
	cr_assert_eq(apitoken_msg_encode(&m, buf, n - 1, &n),
	    APITOKEN_ERR_TOO_LONG);
}

Test(proto, ops)
{
	static const int good[] = { 1, 2, 3, 16, 40, 63, 128, 129, 130 };
	static const int bad[] = { 0, 4, 15, 64, 127, 131, 255 };
	struct apitoken_msg m;
	unsigned char b[2] = { APITOKEN_PROTO_VERSION, 0 };
	size_t i, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		b[1] = (unsigned char)good[i];
		cr_assert_eq(apitoken_msg_parse(b, 2, &m), 0, "op %d", good[i]);
		cr_assert_eq(m.op, good[i]);
		cr_assert_eq(m.n, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b[1] = (unsigned char)bad[i];
		cr_assert_eq(apitoken_msg_parse(b, 2, &m),
		    APITOKEN_ERR_INVALID, "op %d", bad[i]);
		apitoken_msg_init(&m, (uint8_t)bad[i]);
		cr_assert_eq(apitoken_msg_encode(&m, buf, sizeof(buf), &n),
		    APITOKEN_ERR_INVALID, "op %d", bad[i]);
	}
}

/* Each malformed body is refused, and the message left empty. */
Test(proto, malformed_bodies)
{
	static const struct {
		const char *what;
		size_t len;
		const char *body;
	} bad[] = {
		{ "empty", 0, "" },
		{ "version only", 1, "\x01" },
		{ "version 0", 2, "\x00\x01" },
		{ "version 2", 2, "\x02\x01" },
		{ "half a field header", 4, "\x01\x01\x01\x00" },
		{ "field longer than the body", 6, "\x01\x01\x01\x00\x02x" },
		{ "unknown tag 0", 6, "\x01\x01\x00\x00\x01x" },
		{ "unknown tag 17", 6, "\x01\x01\x11\x00\x01x" },
		{ "NUL in a value", 7, "\x01\x01\x01\x00\x02x\x00" },
		{ "trailing byte", 7, "\x01\x01\x01\x00\x01xy" },
		{ "ID past 12", 18, "\x01\x80\x06\x00\x0d" "abcdefghijklm" },
	};
	struct apitoken_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		apitoken_msg_init(&m, 7);
		m.n = 3;
		cr_assert_eq(apitoken_msg_parse((const unsigned char *)
		    bad[i].body, bad[i].len, &m), APITOKEN_ERR_INVALID, "%s",
		    bad[i].what);
		cr_assert_eq(m.n, 0, "%s", bad[i].what);
		cr_assert_eq(m.op, 0, "%s", bad[i].what);
	}
}

Test(proto, too_many_fields_and_too_long_a_body_on_the_wire)
{
	static unsigned char b[APITOKEN_MSG_MAX + 8];
	struct apitoken_msg m;
	size_t i, n = 2;

	b[0] = APITOKEN_PROTO_VERSION;
	b[1] = APITOKEN_OP_REPLY;
	for (i = 0; i < APITOKEN_MSG_FIELDS; i++, n += 3) {
		b[n] = APITOKEN_T_ENTRY;
		b[n + 1] = b[n + 2] = 0;
	}
	cr_assert_eq(apitoken_msg_parse(b, n, &m), 0);
	cr_assert_eq(m.n, APITOKEN_MSG_FIELDS);
	b[n] = APITOKEN_T_ENTRY;
	b[n + 1] = b[n + 2] = 0;
	cr_assert_eq(apitoken_msg_parse(b, n + 3, &m), APITOKEN_ERR_INVALID);
	memset(b + 2, 0, sizeof(b) - 2);
	cr_assert_eq(apitoken_msg_parse(b, APITOKEN_MSG_MAX + 1, &m),
	    APITOKEN_ERR_INVALID);
}
