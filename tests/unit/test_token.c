/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_token.c - token parsing (every rejection), generation, checksum
 * (against an independent CRC-32 + base62 oracle), ids, hashes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define P APITOKEN_DEFAULT_PREFIX
/* apitok_ + 12 + _ + 32 + 6 */
#define DEFLEN (6 + 1 + APITOKEN_ID_LEN + 1 + APITOKEN_SECRET_LEN + \
		APITOKEN_CRC_LEN)

static const char ID[] = "Ab3dEf6hIj9K";
static const char SECRET[] = "0123456789ABCDEFGHIJabcdefghijXY";

static int
is_b62(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static enum apitoken_format
parse(const char *prefix, const char *s,
    size_t len, struct apitoken_token *t)
{
	return apitoken_token_parse(prefix, s, len, t);
}

static enum apitoken_format
parse_str(const char *s)
{
	struct apitoken_token t;
	enum apitoken_format f;

	f = parse(P, s, strlen(s), &t);
	apitoken_token_clear(&t);
	return f;
}

static void
good(char *buf, size_t n)
{
	tl_token_build(P, ID, SECRET, buf, n);
	cr_assert_eq(strlen(buf), (size_t)DEFLEN);
}

/* ---------------------------------------------------------- accept */

Test(token_parse, accepts_built_token)
{
	char tok[128];
	struct apitoken_token t;

	good(tok, sizeof(tok));
	cr_assert_eq(parse(P, tok, strlen(tok), &t), APITOKEN_FMT_OK);
	cr_assert_str_eq(t.id, ID);
	cr_assert_str_eq(t.secret, SECRET);
	apitoken_token_clear(&t);
}

Test(token_parse, accepts_generated_token)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token g, t;

	cr_assert_eq(apitoken_token_generate(P, tok, sizeof(tok), &g, hash),
	    0);
	cr_assert_eq(parse(P, tok, strlen(tok), &t), APITOKEN_FMT_OK,
	    "generated %s not accepted", tok);
	cr_assert_str_eq(t.id, g.id);
	cr_assert_str_eq(t.secret, g.secret);
	apitoken_token_clear(&t);
	apitoken_token_clear(&g);
}

Test(token_parse, input_need_not_be_nul_terminated)
{
	char tok[128];
	char *exact;
	struct apitoken_token t;

	good(tok, sizeof(tok));
	exact = malloc(DEFLEN);	/* no room for a NUL: ASan catches overreads */
	cr_assert_not_null(exact);
	memcpy(exact, tok, DEFLEN);
	cr_assert_eq(parse(P, exact, DEFLEN, &t), APITOKEN_FMT_OK);
	cr_assert_str_eq(t.id, ID);
	apitoken_token_clear(&t);
	/* len is authoritative: a prefix of a longer buffer */
	memcpy(tok + DEFLEN, "ZZZ", 4);
	cr_assert_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_OK);
	apitoken_token_clear(&t);
	free(exact);
}

Test(token_parse, custom_prefix)
{
	char tok[128];
	struct apitoken_token t;

	tl_token_build("ab12", ID, SECRET, tok, sizeof(tok));
	cr_assert_eq(parse("ab12", tok, strlen(tok), &t), APITOKEN_FMT_OK);
	cr_assert_str_eq(t.secret, SECRET);
	apitoken_token_clear(&t);
	cr_assert_eq(parse(P, tok, strlen(tok), &t), APITOKEN_FMT_PREFIX);
	apitoken_token_clear(&t);
}

Test(token_parse, sixteen_char_prefix_is_token_max)
{
	char tok[128];
	struct apitoken_token t;
	const char *p16 = "abcdefghij012345";

	tl_token_build(p16, ID, SECRET, tok, sizeof(tok));
	cr_assert_eq(strlen(tok), (size_t)APITOKEN_TOKEN_MAX);
	cr_assert_eq(parse(p16, tok, strlen(tok), &t), APITOKEN_FMT_OK);
	apitoken_token_clear(&t);
}

/* ------------------------------------------------------- rejections */

Test(token_parse, empty)
{
	struct apitoken_token t;

	cr_assert_eq(parse(P, "", 0, &t), APITOKEN_FMT_EMPTY);
	cr_assert_eq(parse(P, "x", 0, &t), APITOKEN_FMT_EMPTY);
}

Test(token_parse, too_long_token_max_plus_one)
{
	char s[APITOKEN_TOKEN_MAX + 2];

	memset(s, 'a', sizeof(s));
	memcpy(s, "apitok_", 7);
	s[APITOKEN_TOKEN_MAX + 1] = '\0';
	cr_assert_eq(parse_str(s), APITOKEN_FMT_TOO_LONG);
}

Test(token_parse, too_long_valid_token_with_tail)
{
	char tok[256];

	good(tok, sizeof(tok));
	/* a valid token followed by enough alphabet bytes to exceed the max */
	memset(tok + DEFLEN, 'a', APITOKEN_TOKEN_MAX + 1 - DEFLEN);
	tok[APITOKEN_TOKEN_MAX + 1] = '\0';
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_TOO_LONG);
}

Test(token_parse, too_long_input_max)
{
	char *s;
	size_t n = APITOKEN_INPUT_MAX + 1;
	struct apitoken_token t;

	s = malloc(n);
	cr_assert_not_null(s);
	memset(s, '-', n);	/* also outside the alphabet: length wins */
	cr_assert_eq(parse(P, s, n, &t), APITOKEN_FMT_TOO_LONG);
	free(s);
	/* a huge buffer with a NUL: refused by length, unread */
	n = 1u << 20;
	s = calloc(1, n);
	cr_assert_not_null(s);
	cr_assert_eq(parse(P, s, n, &t), APITOKEN_FMT_TOO_LONG);
	free(s);
}

Test(token_parse, nul_inside)
{
	char tok[128];
	struct apitoken_token t;
	size_t pos[] = { 0, 3, 7, 10, 25, DEFLEN - 1 };
	size_t i;

	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		good(tok, sizeof(tok));
		tok[pos[i]] = '\0';
		cr_expect_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_ALPHABET,
		    "NUL at %zu", pos[i]);
	}
}

Test(token_parse, non_ascii_byte)
{
	char tok[128];
	struct apitoken_token t;

	good(tok, sizeof(tok));
	tok[30] = (char)0xc3;
	tok[31] = (char)0xa9;	/* UTF-8 e-acute, same length */
	cr_assert_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_ALPHABET);
	good(tok, sizeof(tok));
	tok[20] = (char)0x80;
	cr_assert_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_ALPHABET);
	good(tok, sizeof(tok));
	tok[DEFLEN - 1] = (char)0xff;
	cr_assert_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_ALPHABET);
}

Test(token_parse, bad_alphabet)
{
	const char bad[] = "-. +/=:!~\t\n\r\\$@";
	char tok[128];
	size_t i;

	for (i = 0; i < sizeof(bad) - 1; i++) {
		good(tok, sizeof(tok));
		tok[40] = bad[i];	/* inside the secret */
		cr_expect_eq(parse_str(tok), APITOKEN_FMT_ALPHABET,
		    "byte 0x%02x", (unsigned char)bad[i]);
		good(tok, sizeof(tok));
		tok[2] = bad[i];	/* inside the prefix */
		cr_expect_eq(parse_str(tok), APITOKEN_FMT_ALPHABET,
		    "byte 0x%02x in prefix", (unsigned char)bad[i]);
	}
	/* a password, not a token */
	cr_assert_eq(parse_str("correct horse battery staple"),
	    APITOKEN_FMT_ALPHABET);
}

Test(token_parse, wrong_prefix)
{
	const char *others[] = { "ghp", "apitoc", "apito", "apitokk",
	    "xapitok", "glpat", "a" };
	char tok[128];
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		tl_token_build(others[i], ID, SECRET, tok, sizeof(tok));
		cr_expect_eq(parse_str(tok), APITOKEN_FMT_PREFIX,
		    "prefix %s", others[i]);
	}
}

Test(token_parse, prefix_case_matters)
{
	char tok[128];

	tl_token_build("APITOK", ID, SECRET, tok, sizeof(tok));
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_PREFIX);
	tl_token_build("apiTok", ID, SECRET, tok, sizeof(tok));
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_PREFIX);
}

Test(token_parse, prefix_without_separator)
{
	char tok[128];

	good(tok, sizeof(tok));
	tok[6] = 'x';	/* "apitokx..." */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_PREFIX);
	cr_assert_eq(parse_str("apitok"), APITOKEN_FMT_PREFIX);
	cr_assert_eq(parse_str("api"), APITOKEN_FMT_PREFIX);
}

Test(token_parse, missing_second_separator)
{
	char tok[128];

	good(tok, sizeof(tok));
	tok[19] = 'x';	/* same length, no separator */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	good(tok, sizeof(tok));
	memmove(tok + 19, tok + 20, DEFLEN - 19);	/* removed */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	cr_assert_eq(parse_str("apitok_"), APITOKEN_FMT_SHAPE);
	cr_assert_eq(parse_str("apitok__"), APITOKEN_FMT_SHAPE);
}

Test(token_parse, extra_separator)
{
	char tok[128];

	good(tok, sizeof(tok));
	tok[40] = '_';	/* '_' inside the secret, same length */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	good(tok, sizeof(tok));
	tok[10] = '_';	/* inside the id */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
}

/* Longer than a default-prefix token but within APITOKEN_TOKEN_MAX: the
 * header allows SHAPE or (as "longer than any token") TOO_LONG. */
static void
assert_shape_or_long(const char *s, const char *what)
{
	enum apitoken_format f = parse_str(s);

	cr_expect(f == APITOKEN_FMT_SHAPE || f == APITOKEN_FMT_TOO_LONG,
	    "%s: got %d (%s)", what, f, apitoken_format_str(f));
}

Test(token_parse, id_wrong_length)
{
	char tok[128];
	char secret33[APITOKEN_SECRET_LEN + 2];
	char secret31[APITOKEN_SECRET_LEN];

	/* 11-char id, the separator moved: total length unchanged */
	snprintf(secret33, sizeof(secret33), "K%s", SECRET);
	tl_token_build(P, "Ab3dEf6hIj9", secret33, tok, sizeof(tok));
	cr_assert_eq(strlen(tok), (size_t)DEFLEN);
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	/* 13-char id, secret one shorter: same total */
	memcpy(secret31, SECRET + 1, APITOKEN_SECRET_LEN);
	tl_token_build(P, "Ab3dEf6hIj9KZ", secret31, tok, sizeof(tok));
	cr_assert_eq(strlen(tok), (size_t)DEFLEN);
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	/* 13-char id, full secret: one longer */
	tl_token_build(P, "Ab3dEf6hIj9KZ", SECRET, tok, sizeof(tok));
	assert_shape_or_long(tok, "13-char id");
	/* 11-char id: one shorter */
	tl_token_build(P, "Ab3dEf6hIj9", SECRET, tok, sizeof(tok));
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	/* empty id */
	tl_token_build(P, "", SECRET, tok, sizeof(tok));
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
}

Test(token_parse, secret_or_crc_wrong_length)
{
	char tok[128];
	char s31[APITOKEN_SECRET_LEN];

	memcpy(s31, SECRET, APITOKEN_SECRET_LEN - 1);
	s31[APITOKEN_SECRET_LEN - 1] = '\0';
	tl_token_build(P, ID, s31, tok, sizeof(tok));	/* tail 37 */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	good(tok, sizeof(tok));
	tok[DEFLEN - 1] = '\0';			/* crc 5 chars */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	good(tok, sizeof(tok));
	tok[20] = '\0';				/* no tail at all */
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_SHAPE);
	good(tok, sizeof(tok));
	tok[DEFLEN] = 'a';			/* crc 7 chars */
	tok[DEFLEN + 1] = '\0';
	assert_shape_or_long(tok, "tail 39");
	good(tok, sizeof(tok));
	tok[DEFLEN] = '_';			/* trailing separator */
	tok[DEFLEN + 1] = '\0';
	assert_shape_or_long(tok, "trailing _");
}

Test(token_parse, checksum_one_char_off)
{
	char tok[128];
	size_t pos[] = { 7, 18, 20, 51, 52, DEFLEN - 1 };
	size_t i;

	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		good(tok, sizeof(tok));
		tok[pos[i]] = tok[pos[i]] == 'z' ? 'y' : 'z';
		cr_expect_eq(parse_str(tok), APITOKEN_FMT_CHECKSUM,
		    "changed byte %zu: %s", pos[i], tok);
	}
	/* a single-bit case change */
	good(tok, sizeof(tok));
	tok[30] ^= 0x20;	/* 'A' -> 'a' */
	cr_assert(is_b62(tok[30]));
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_CHECKSUM);
}

Test(token_parse, checksum_overflowing_digits)
{
	/* 62^6 > 2^32: "zzzzzz" and crc + 2^32 must not wrap to a match */
	char tok[128], c[7];
	uint64_t crc, v;
	int i;

	good(tok, sizeof(tok));
	memcpy(tok + DEFLEN - 6, "zzzzzz", 6);
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_CHECKSUM);
	good(tok, sizeof(tok));
	crc = tl_crc32(tok, DEFLEN - 6);
	v = crc + 0x100000000ull;
	for (i = 5; i >= 0; i--) {
		c[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz"[v % 62];
		v /= 62;
	}
	cr_assert_eq(v, 0u);
	memcpy(tok + DEFLEN - 6, c, 6);
	cr_assert_eq(parse_str(tok), APITOKEN_FMT_CHECKSUM,
	    "crc + 2^32 accepted: %s", tok);
}

Test(token_parse, out_zeroed_on_failure)
{
	char tok[128];
	struct apitoken_token t;
	struct apitoken_token zero;

	memset(&zero, 0, sizeof(zero));
	good(tok, sizeof(tok));
	tok[DEFLEN - 1] = tok[DEFLEN - 1] == 'a' ? 'b' : 'a';
	memset(&t, 'X', sizeof(t));
	cr_assert_eq(parse(P, tok, DEFLEN, &t), APITOKEN_FMT_CHECKSUM);
	cr_assert(memcmp(&t, &zero, sizeof(t)) == 0,
	    "out not zeroed after checksum failure");
	memset(&t, 'X', sizeof(t));
	cr_assert_eq(parse(P, "", 0, &t), APITOKEN_FMT_EMPTY);
	cr_assert(memcmp(&t, &zero, sizeof(t)) == 0);
}

Test(token_parse, format_str_never_null)
{
	int f;

	for (f = APITOKEN_FMT_OK; f <= APITOKEN_FMT_CHECKSUM + 5; f++)
		cr_assert_not_null(apitoken_format_str((enum apitoken_format)f));
	cr_assert_neq(strcmp(apitoken_format_str(APITOKEN_FMT_SHAPE),
	    apitoken_format_str(APITOKEN_FMT_CHECKSUM)), 0);
}

/* ------------------------------------------------------- generation */

static void
check_shape(const char *prefix, const char *tok,
    const struct apitoken_token *parts)
{
	size_t pl = strlen(prefix), i;
	char crc[7];

	cr_assert_eq(strlen(tok), pl + 2 + APITOKEN_ID_LEN +
	    APITOKEN_SECRET_LEN + APITOKEN_CRC_LEN, "length of %s", tok);
	cr_assert(strncmp(tok, prefix, pl) == 0);
	cr_assert_eq(tok[pl], '_');
	cr_assert_eq(tok[pl + 1 + APITOKEN_ID_LEN], '_');
	for (i = pl + 1; tok[i] != '\0'; i++)
		if (i != pl + 1 + APITOKEN_ID_LEN)
			cr_assert(is_b62(tok[i]), "byte %zu of %s", i, tok);
	cr_assert_eq(strlen(parts->id), (size_t)APITOKEN_ID_LEN);
	cr_assert_eq(strlen(parts->secret), (size_t)APITOKEN_SECRET_LEN);
	cr_assert(memcmp(tok + pl + 1, parts->id, APITOKEN_ID_LEN) == 0);
	cr_assert(memcmp(tok + pl + 2 + APITOKEN_ID_LEN, parts->secret,
	    APITOKEN_SECRET_LEN) == 0);
	/* independent oracle: CRC-32/IEEE of everything before, base62 */
	tl_base62_6(tl_crc32(tok, strlen(tok) - APITOKEN_CRC_LEN), crc);
	cr_assert_str_eq(tok + strlen(tok) - APITOKEN_CRC_LEN, crc,
	    "crc of %s: oracle says %s", tok, crc);
}

Test(token_generate, shape_and_crc)
{
	const char *prefixes[] = { P, "x", "ab12", "abcdefghij012345" };
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token parts;
	size_t i;
	int k;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		for (k = 0; k < 50; k++) {
			cr_assert_eq(apitoken_token_generate(prefixes[i], tok,
			    sizeof(tok), &parts, hash), 0);
			check_shape(prefixes[i], tok, &parts);
			apitoken_token_clear(&parts);
		}
	}
}

Test(token_generate, known_crc_vector)
{
	/* the oracle itself: CRC-32/IEEE("123456789") = 0xCBF43926 */
	char c[7];

	cr_assert_eq(tl_crc32("123456789", 9), 0xcbf43926u);
	tl_base62_6(0, c);
	cr_assert_str_eq(c, "000000");
	tl_base62_6(0xffffffffu, c);
	cr_assert_str_eq(c, "4gfFC3");
	tl_base62_6(61, c);
	cr_assert_str_eq(c, "00000z");
	tl_base62_6(62, c);
	cr_assert_str_eq(c, "000010");
}

Test(token_generate, hash_matches_oracle)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX], h2[APITOKEN_HASH_MAX];
	char oracle[APITOKEN_HASH_MAX];
	struct apitoken_token parts;

	cr_assert_eq(apitoken_token_generate(P, tok, sizeof(tok), &parts,
	    hash), 0);
	tl_sha256_hash(parts.id, parts.secret, oracle);
	cr_assert_str_eq(hash, oracle);
	cr_assert_eq(apitoken_hash(&parts, h2), 0);
	cr_assert_str_eq(h2, oracle);
	cr_assert_eq(apitoken_hash_valid(hash), 0);
	/* the hash never contains the secret */
	cr_assert_null(strstr(hash, parts.secret));
	apitoken_token_clear(&parts);
}

Test(token_generate, bad_prefix)
{
	const char *bad[] = { "", "Apitok", "api-tok", "api_tok", "api tok",
	    "abcdefghij0123456", "apit\xc3\xb6k" };
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token parts;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(apitoken_token_generate(bad[i], tok, sizeof(tok),
		    &parts, hash), APITOKEN_ERR_INVALID, "prefix '%s'",
		    bad[i]);
}

Test(token_generate, small_buffer_refused)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token parts;

	cr_assert_neq(apitoken_token_generate(P, tok, 20, &parts, hash), 0);
}

Test(token_generate, ids_unique_secrets_differ)
{
	enum { N = 1000 };
	char (*ids)[APITOKEN_ID_LEN + 1];
	char (*secrets)[APITOKEN_SECRET_LEN + 1];
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token parts;
	int i, j;

	ids = calloc(N, sizeof(*ids));
	secrets = calloc(N, sizeof(*secrets));
	cr_assert(ids && secrets);
	for (i = 0; i < N; i++) {
		cr_assert_eq(apitoken_token_generate(P, tok, sizeof(tok),
		    &parts, hash), 0);
		memcpy(ids[i], parts.id, sizeof(ids[i]));
		memcpy(secrets[i], parts.secret, sizeof(secrets[i]));
		cr_assert_eq(apitoken_id_valid(ids[i]), 0);
		apitoken_token_clear(&parts);
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++) {
			cr_assert_str_neq(ids[i], ids[j], "id %d == id %d", i,
			    j);
			cr_assert_str_neq(secrets[i], secrets[j]);
		}
	free(ids);
	free(secrets);
}

Test(token_generate, secret_chars_unbiased)
{
	/* 4000 secrets = 128000 chars, 2064.5 expected per digit, sd ~45.
	 * Modulo bias (byte % 62) would give the first 8 digits ~2500. */
	enum { N = 4000 };
	long count[256] = { 0 };
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token parts;
	const char *d = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	double expect = N * (double)APITOKEN_SECRET_LEN / 62.0;
	int i, k;

	for (i = 0; i < N; i++) {
		cr_assert_eq(apitoken_token_generate(P, tok, sizeof(tok),
		    &parts, hash), 0);
		for (k = 0; k < APITOKEN_SECRET_LEN; k++)
			count[(unsigned char)parts.secret[k]]++;
		apitoken_token_clear(&parts);
	}
	for (k = 0; k < 62; k++) {
		double c = (double)count[(unsigned char)d[k]];

		cr_expect(c > expect - 250 && c < expect + 250,
		    "digit %c: %.0f times, expected ~%.0f", d[k], c, expect);
	}
}

Test(token_generate, clear_wipes)
{
	char tok[APITOKEN_TOKEN_MAX + 1];
	char hash[APITOKEN_HASH_MAX];
	char secret[APITOKEN_SECRET_LEN + 1];
	struct apitoken_token parts;
	unsigned char buf[16];
	size_t i;

	cr_assert_eq(apitoken_token_generate(P, tok, sizeof(tok), &parts,
	    hash), 0);
	memcpy(secret, parts.secret, sizeof(secret));
	apitoken_token_clear(&parts);
	cr_assert_null(memmem(&parts, sizeof(parts), secret,
	    APITOKEN_SECRET_LEN), "secret survives apitoken_token_clear");
	memset(buf, 0xa5, sizeof(buf));
	apitoken_wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		cr_assert_neq(buf[i], 0xa5);
	apitoken_wipe(NULL, 10);
}

/* ------------------------------------------------------------- ids */

Test(token_id, generate_valid_unique)
{
	enum { N = 1000 };
	char (*ids)[APITOKEN_ID_LEN + 1];
	int i, j;

	ids = calloc(N, sizeof(*ids));
	cr_assert_not_null(ids);
	for (i = 0; i < N; i++) {
		cr_assert_eq(apitoken_id_generate(ids[i]), 0);
		cr_assert_eq(strlen(ids[i]), (size_t)APITOKEN_ID_LEN);
		cr_assert_eq(apitoken_id_valid(ids[i]), 0, "%s", ids[i]);
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			cr_assert_str_neq(ids[i], ids[j]);
	free(ids);
}

Test(token_id, valid_rules)
{
	cr_assert_eq(apitoken_id_valid("Ab3dEf6hIj9K"), 0);
	cr_assert_eq(apitoken_id_valid("000000000000"), 0);
	cr_assert_eq(apitoken_id_valid("zzzzzzzzzzzz"), 0);
	cr_assert_eq(apitoken_id_valid(""), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6hIj9"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6hIj9KL"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6h_j9K"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6h-j9K"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6h/j9K"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("../../etc/pw"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_id_valid("Ab3dEf6h\xc3\xa9j"), APITOKEN_ERR_INVALID);
}

/* ------------------------------------------------------------ hash */

Test(token_hash, known_vector_and_validity)
{
	struct apitoken_token t;
	char h[APITOKEN_HASH_MAX], oracle[APITOKEN_HASH_MAX];
	char bad[APITOKEN_HASH_MAX + 8];
	size_t i;

	memset(&t, 0, sizeof(t));
	memcpy(t.id, ID, sizeof(ID));
	memcpy(t.secret, SECRET, sizeof(SECRET));
	cr_assert_eq(apitoken_hash(&t, h), 0);
	tl_sha256_hash(ID, SECRET, oracle);
	cr_assert_str_eq(h, oracle);
	cr_assert_eq(strlen(h), 7u + 64u);
	cr_assert_eq(apitoken_hash_valid(h), 0);

	cr_assert_neq(apitoken_hash_valid(""), 0);
	cr_assert_neq(apitoken_hash_valid("sha256$"), 0);
	cr_assert_neq(apitoken_hash_valid("sha256"), 0);
	snprintf(bad, sizeof(bad), "%.*s", 7 + 63, h);	/* 63 hex */
	cr_assert_neq(apitoken_hash_valid(bad), 0);
	snprintf(bad, sizeof(bad), "%sa", h);		/* 65 hex */
	cr_assert_neq(apitoken_hash_valid(bad), 0);
	snprintf(bad, sizeof(bad), "md5$%s", h + 7);
	cr_assert_neq(apitoken_hash_valid(bad), 0);
	snprintf(bad, sizeof(bad), "SHA256$%s", h + 7);
	cr_assert_neq(apitoken_hash_valid(bad), 0);
	snprintf(bad, sizeof(bad), "%s", h);
	for (i = 7; bad[i]; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	cr_assert_neq(apitoken_hash_valid(bad), 0, "uppercase hex accepted");
	snprintf(bad, sizeof(bad), "%s", h);
	bad[20] = 'g';
	cr_assert_neq(apitoken_hash_valid(bad), 0);
}

/* --------------------------------------------------------- strings */

Test(token_strings, strerror_total)
{
	int c;

	for (c = 5; c >= -30; c--) {
		const char *s = apitoken_strerror(c);

		cr_assert_not_null(s, "strerror(%d)", c);
	}
	for (c = APITOKEN_ERR_INTERNAL; c >= APITOKEN_ERR_STALE; c--) {
		cr_assert_neq(strlen(apitoken_strerror(c)), 0u);
		cr_assert_str_neq(apitoken_strerror(c),
		    apitoken_strerror(c - 1 >= APITOKEN_ERR_STALE ? c - 1 :
		    APITOKEN_ERR_INTERNAL), "code %d", c);
	}
}

Test(token_strings, reason_and_status_names)
{
	static const char *names[] = { "accepted", "malformed", "bad-checksum",
	    "unknown", "wrong-secret", "disabled", "revoked", "expired",
	    "wrong-user", "service-not-allowed", "source-not-allowed",
	    "store-error" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_str_eq(apitoken_reason_str((enum apitoken_reason)i),
		    names[i]);
	cr_assert_not_null(apitoken_reason_str((enum apitoken_reason)99));
	cr_assert_str_eq(apitoken_status_str(APITOKEN_ACTIVE), "active");
	cr_assert_str_eq(apitoken_status_str(APITOKEN_DISABLED), "disabled");
	cr_assert_str_eq(apitoken_status_str(APITOKEN_REVOKED), "revoked");
}
