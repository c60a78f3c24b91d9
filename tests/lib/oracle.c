/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * oracle.c - the token checksum, computed here from the token format
 * (apitoken-store(5), pam_apitoken(8)) and never with libapitoken: these
 * functions check the library, so they share none of its code.
 */
#include <string.h>

#include "tl.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

uint32_t
tl_crc32(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return crc ^ 0xffffffffu;
}

void
tl_base62_6(uint32_t v, char out[7])
{
	int i;

	for (i = 5; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
	out[6] = '\0';
}

int
tl_is_b62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

void
tl_token_build(const char *prefix, const char *id, const char *secret,
    char *buf, size_t bufsize)
{
	char crc[7];
	int n;

	n = snprintf(buf, bufsize, "%s_%s_%s", prefix, id, secret);
	if (n <= 0 || (size_t)n + 7 > bufsize)
		tl_die("tl_token_build: buffer of %zu bytes too small",
		    bufsize);
	tl_base62_6(tl_crc32(buf, (size_t)n), crc);
	memcpy(buf + n, crc, 7);
}

void
tl_token_recrc(char *tok)
{
	size_t len = strlen(tok);

	if (len < 6)
		tl_die("tl_token_recrc: \"%s\" is too short", tok);
	tl_base62_6(tl_crc32(tok, len - 6), tok + len - 6);
}
