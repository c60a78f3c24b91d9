/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_oracle.c - token grammar from the token format, implemented
 * separately from the library (checksum: tests/lib/oracle.c) so the
 * fuzzers can compare verdicts.
 */
#include "fuzz_oracle.h"

#include <string.h>

#include "apitoken.h"
#include "tl.h"

void
oracle_crc6(const char *s, size_t n, char out[6])
{
	char crc[7];

	tl_base62_6(tl_crc32(s, n), crc);
	memcpy(out, crc, 6);
}

static int
all_b62(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!tl_is_b62((unsigned char)s[i]))
			return 0;
	return 1;
}

int
oracle_token_ok(const char *prefix, const char *s, size_t n,
    int *crc_only_bad)
{
	size_t plen = strlen(prefix), body;
	char crc[6];

	*crc_only_bad = 0;
	body = plen + 1 + APITOKEN_ID_LEN + 1 + APITOKEN_SECRET_LEN;
	if (plen == 0 || plen > APITOKEN_PREFIX_MAX ||
	    n != body + APITOKEN_CRC_LEN ||
	    strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789") != plen)
		return 0;
	if (memcmp(s, prefix, plen) != 0 || s[plen] != '_' ||
	    !all_b62(s + plen + 1, APITOKEN_ID_LEN) ||
	    s[plen + 1 + APITOKEN_ID_LEN] != '_' ||
	    !all_b62(s + plen + 2 + APITOKEN_ID_LEN,
	    APITOKEN_SECRET_LEN + APITOKEN_CRC_LEN))
		return 0;
	oracle_crc6(s, body, crc);
	if (memcmp(crc, s + body, 6) != 0) {
		*crc_only_bad = 1;
		return 0;
	}
	return 1;
}
