/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_httpauth.c - apitoken_auth_parse (an HTTP Authorization header,
 * apitokend's endpoint) on arbitrary bytes.
 *
 * Invariants: a refusal leaves the struct all zero; an acceptance has a
 * known scheme, 1..APITOKEN_INPUT_MAX bytes of token with no control
 * byte, NUL-terminated; Bearer/ApiKey's token is the input after
 * "<scheme> "; Basic's "user:token" encodes (by an encoder written here,
 * independent of nettle) to exactly the input after "Basic ".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

static char *
b64(const char *in, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789+/";
	char *out = calloc(1, n / 3 * 4 + 8);
	size_t i, o = 0;

	FUZZ_ASSERT(out != NULL, "out of memory");
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	return out;
}

static void
check_ok(const char *s, size_t n, const struct apitoken_auth *a)
{
	size_t i, ulen;
	char *joined, *enc;

	FUZZ_ASSERT(a->len >= 1 && a->len <= APITOKEN_INPUT_MAX, "len %zu",
	    a->len);
	FUZZ_ASSERT(a->token[a->len] == '\0', "token not terminated");
	for (i = 0; i < a->len; i++)
		FUZZ_ASSERT((unsigned char)a->token[i] >= 0x20 &&
		    a->token[i] != 0x7f, "control byte in token");
	switch (a->scheme) {
	case APITOKEN_AUTH_BEARER:
	case APITOKEN_AUTH_APIKEY:
		FUZZ_ASSERT(a->user[0] == '\0', "a user without Basic");
		i = a->scheme == APITOKEN_AUTH_BEARER ? 6 : 6;
		FUZZ_ASSERT(n == i + 1 + a->len && s[i] == ' ' &&
		    strncasecmp(s, a->scheme == APITOKEN_AUTH_BEARER ?
		    "Bearer" : "ApiKey", 6) == 0 &&
		    memcmp(s + i + 1, a->token, a->len) == 0,
		    "token is not the input after the scheme");
		FUZZ_ASSERT(memchr(a->token, ' ', a->len) == NULL,
		    "space in token");
		break;
	case APITOKEN_AUTH_BASIC:
		ulen = strlen(a->user);
		FUZZ_ASSERT(ulen >= 1 && ulen <= APITOKEN_USER_MAX &&
		    memchr(a->user, ':', ulen) == NULL, "bad user");
		joined = calloc(1, ulen + 1 + a->len + 1);
		FUZZ_ASSERT(joined != NULL, "out of memory");
		memcpy(joined, a->user, ulen);
		joined[ulen] = ':';
		memcpy(joined + ulen + 1, a->token, a->len);
		enc = b64(joined, ulen + 1 + a->len);
		FUZZ_ASSERT(strncasecmp(s, "Basic ", 6) == 0 &&
		    n == 6 + strlen(enc) && memcmp(s + 6, enc, n - 6) == 0,
		    "Basic credential does not re-encode to the input");
		free(enc);
		free(joined);
		break;
	default:
		FUZZ_ASSERT(0, "scheme %d", (int)a->scheme);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct apitoken_auth zero;
	struct apitoken_auth a;
	const char *s = (const char *)data;

	memset(&a, 0xa5, sizeof(a));
	if (apitoken_auth_parse(s, size, &a) == 0)
		check_ok(s, size, &a);
	else
		FUZZ_ASSERT(memcmp(&a, &zero, sizeof(a)) == 0,
		    "refusal left data behind");
	apitoken_auth_clear(&a);
	return 0;
}
