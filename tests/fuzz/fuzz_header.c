/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_header.c - Authorization-header forms: apitoken_strip_scheme, then
 * apitoken_token_parse on what it returns.
 *
 * Input: byte 0 bit 0 asks for the CRC of the stripped token to be
 * fixed up (so valid tokens behind a scheme are reached); the rest is
 * the header value.  strip_scheme is compared with the contract in
 * apitoken.h, and a token it accepts must still strip and parse the same
 * when re-wrapped as "bEaReR <t>\r\n" and "APIKEY <t>\n".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "fuzz_oracle.h"

/*
 * The contract: drop a trailing "\n" or "\r\n"; "Bearer"/"ApiKey"
 * (any case) followed by the end, a blank or a TAB is a scheme, and then
 * exactly one space and a non-blank rest are required; anything else is
 * returned unchanged.  Note: the library also drops a lone trailing "\r"
 * (not "\r\n"); the oracle allows it, since a CR can never be part of a
 * token anyway.
 */
static int
expect(const char *s, size_t len, size_t *off, size_t *n)
{
	static const char *const schemes[] = { "bearer", "apikey" };
	size_t i;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	for (i = 0; i < 2; i++) {
		if (len < 6 || strncasecmp(s, schemes[i], 6) != 0 ||
		    (len > 6 && s[6] != ' ' && s[6] != '\t'))
			continue;
		if (len < 8 || s[6] != ' ' || s[7] == ' ' || s[7] == '\t')
			return APITOKEN_ERR_INVALID;
		*off = 7;
		*n = len - 7;
		return APITOKEN_OK;
	}
	*off = 0;
	*n = len;
	return APITOKEN_OK;
}

static void
rewrap(const char *scheme, const char *tok, size_t toklen, const char *eol)
{
	struct apitoken_token t1, t2;
	const char *t;
	size_t n, tn, sl = strlen(scheme), el = strlen(eol);
	char *buf;
	int r;

	n = sl + 1 + toklen + el;
	if ((buf = malloc(n)) == NULL)
		return;
	memcpy(buf, scheme, sl);
	buf[sl] = ' ';
	memcpy(buf + sl + 1, tok, toklen);
	memcpy(buf + sl + 1 + toklen, eol, el);
	r = apitoken_strip_scheme(buf, n, &t, &tn);
	FUZZ_ASSERT(r == 0 && t == buf + sl + 1 && tn == toklen,
	    "re-wrapped token not stripped back (%d)", r);
	FUZZ_ASSERT(apitoken_token_parse("apitok", t, tn, &t2) ==
	    APITOKEN_FMT_OK, "re-wrapped token does not parse");
	FUZZ_ASSERT(apitoken_token_parse("apitok", tok, toklen, &t1) ==
	    APITOKEN_FMT_OK && memcmp(&t1, &t2, sizeof(t1)) == 0,
	    "re-wrapped token parses differently");
	apitoken_token_clear(&t1);
	apitoken_token_clear(&t2);
	free(buf);
}

static void
run(char *s, size_t len, int fix_crc)
{
	struct apitoken_token t;
	const char *tok = NULL;
	size_t toklen = 99, off = 0, en = 0;
	int r, want;

	r = apitoken_strip_scheme(s, len, &tok, &toklen);
	want = expect(s, len, &off, &en);
	FUZZ_ASSERT(r == want, "strip_scheme = %d, contract says %d", r, want);
	if (r != 0)
		return;
	FUZZ_ASSERT(tok == s + off && toklen == en,
	    "slice [%td, +%zu), contract says [%zu, +%zu)", tok - s, toklen,
	    off, en);
	if (fix_crc && toklen > APITOKEN_CRC_LEN)
		oracle_crc6(tok, toklen - APITOKEN_CRC_LEN,
		    s + off + toklen - APITOKEN_CRC_LEN);
	if (apitoken_token_parse("apitok", tok, toklen, &t) != APITOKEN_FMT_OK)
		return;
	apitoken_token_clear(&t);
	rewrap("bEaReR", tok, toklen, "\r\n");
	rewrap("APIKEY", tok, toklen, "\n");
	rewrap("Bearer", tok, toklen, "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size == 0)
		return 0;
	n = size - 1;
	if (n > APITOKEN_INPUT_MAX)	/* callers refuse longer input unread */
		return 0;
	if ((s = malloc(n ? n : 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	run(s, n, data[0] & 1);
	free(s);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
