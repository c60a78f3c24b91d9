/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_token.c - apitoken_token_parse on arbitrary bytes.
 *
 * Input: byte 0 picks the configured prefix (and bit 3 asks for the last
 * six bytes to be replaced by the correct CRC, so the accepting path is
 * reached too); the rest is the token string.  The verdict is compared
 * with an independent implementation of apitoken-store(5)'s grammar.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_oracle.h"

static const char *const prefixes[] = {
	"apitok", "a", "tok", "abcdefghijklmnop", "x9", "0",
};
#define NPREFIX (sizeof(prefixes) / sizeof(prefixes[0]))

/* Prefix from the input itself: its leading [a-z0-9]{1,16} before '_'. */
static void
prefix_from_input(const char *s, size_t n, char out[APITOKEN_PREFIX_MAX + 1])
{
	size_t i;

	for (i = 0; i < n && i < APITOKEN_PREFIX_MAX; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			break;
		out[i] = s[i];
	}
	out[i] = '\0';
	if (i == 0 || i == n || s[i] != '_')
		strcpy(out, "apitok");
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void
check_ok(const char *prefix, const char *s, size_t n,
    const struct apitoken_token *t)
{
	size_t plen = strlen(prefix);
	char hash[APITOKEN_HASH_MAX];

	FUZZ_ASSERT(apitoken_id_valid(t->id) == 0, "parsed id not valid");
	FUZZ_ASSERT(memcmp(t->id, s + plen + 1, APITOKEN_ID_LEN) == 0,
	    "id is not the id part of the token");
	FUZZ_ASSERT(strlen(t->secret) == APITOKEN_SECRET_LEN &&
	    memcmp(t->secret, s + plen + 2 + APITOKEN_ID_LEN,
	    APITOKEN_SECRET_LEN) == 0, "secret is not the secret part");
	FUZZ_ASSERT(apitoken_hash(t, hash) == 0 &&
	    apitoken_hash_valid(hash) == 0, "hash of a parsed token");
	(void)n;
}

static void
run(const char *prefix, const char *s, size_t n)
{
	struct apitoken_token t;
	enum apitoken_format f;
	int ok, crc_bad;

	memset(&t, 0xa5, sizeof(t));
	f = apitoken_token_parse(prefix, s, n, &t);
	FUZZ_ASSERT(apitoken_format_str(f) != NULL, "format_str NULL");
	ok = oracle_token_ok(prefix, s, n, &crc_bad);
	FUZZ_ASSERT((f == APITOKEN_FMT_OK) == ok,
	    "parser says %s, oracle says %s (prefix %s, %zu bytes)",
	    apitoken_format_str(f), ok ? "ok" : "not a token", prefix, n);
	if (crc_bad)
		FUZZ_ASSERT(f == APITOKEN_FMT_CHECKSUM,
		    "only the CRC is wrong but parser says %s",
		    apitoken_format_str(f));
	if (n == 0)
		FUZZ_ASSERT(f == APITOKEN_FMT_EMPTY, "empty input: %s",
		    apitoken_format_str(f));
	if (n > APITOKEN_TOKEN_MAX)
		FUZZ_ASSERT(f == APITOKEN_FMT_TOO_LONG, "long input: %s",
		    apitoken_format_str(f));
	if (f == APITOKEN_FMT_OK)
		check_ok(prefix, s, n, &t);
	else
		FUZZ_ASSERT(all_zero(&t, sizeof(t)),
		    "*out not zeroed on %s", apitoken_format_str(f));
	apitoken_token_clear(&t);
	FUZZ_ASSERT(all_zero(&t, sizeof(t)), "token_clear left bytes");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prefix[APITOKEN_PREFIX_MAX + 1];
	char *s;
	size_t n;
	unsigned sel;

	if (size == 0)
		return 0;
	sel = data[0];
	/* exactly n bytes, no NUL after them: ASan sees any over-read */
	n = size - 1;
	if ((s = malloc(n ? n : 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	if ((sel & 7) < NPREFIX)
		strcpy(prefix, prefixes[sel & 7]);
	else
		prefix_from_input(s, n, prefix);
	if ((sel & 8) && n > APITOKEN_CRC_LEN)
		oracle_crc6(s, n - APITOKEN_CRC_LEN, s + n - APITOKEN_CRC_LEN);
	run(prefix, s, n);
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
