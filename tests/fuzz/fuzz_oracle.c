/*
 * fuzz_oracle.c - token grammar from the README, implemented separately
 * from the library so the fuzzers can compare verdicts.
 */
#include "fuzz_oracle.h"

#include <string.h>

#include "apitoken.h"

static const char digits62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint32_t
crc32_table_free(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1u) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

void
oracle_crc6(const char *s, size_t n, char out[6])
{
	uint32_t v = crc32_table_free((const unsigned char *)s, n);
	int i;

	for (i = 5; i >= 0; i--) {
		out[i] = digits62[v % 62];
		v /= 62;
	}
}

int
oracle_b62(unsigned char c)
{
	return c != '\0' && strchr(digits62, c) != NULL;
}

static int
all_b62(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!oracle_b62((unsigned char)s[i]))
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
