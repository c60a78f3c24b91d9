/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpauth.c - the credential in an HTTP Authorization header, for
 * apitokend's forward-auth endpoint: "Bearer <token>", "ApiKey <token>"
 * (apitoken_strip_scheme's rule: scheme case-insensitive, exactly one
 * space) or "Basic <base64 of user:token>" (RFC 7617).  Only the syntax
 * is checked here; whether the token is one is apitoken_verify's call.
 */
#include <string.h>
#include <strings.h>

#include "internal.h"

/* The longest header value read: a Basic credential of the longest user
 * and input, base64-encoded, with its scheme. */
#define AUTH_VALUE_MAX (6 + (APITOKEN_USER_MAX + 1 + APITOKEN_INPUT_MAX + \
	2) / 3 * 4)

/* 1..max bytes, none a control character (nor a space when !spaces) */
static int
field_ok(const char *s, size_t n, size_t max, int spaces)
{
	size_t i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (!spaces && s[i] == ' '))
			return 0;
	return 1;
}

static int
basic(const char *b64, size_t n, struct apitoken_auth *a)
{
	unsigned char buf[(AUTH_VALUE_MAX / 4 + 1) * 3];
	const char *colon;
	size_t len = 0, ulen;
	int r = APITOKEN_ERR_INVALID;

	if (crypto_base64_decode(b64, n, buf, sizeof(buf), &len) != 0)
		goto out;
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		goto out;
	ulen = (size_t)(colon - (const char *)buf);
	if (!field_ok((const char *)buf, ulen, APITOKEN_USER_MAX, 1) ||
	    !field_ok(colon + 1, len - ulen - 1, APITOKEN_INPUT_MAX, 1))
		goto out;
	memcpy(a->user, buf, ulen);
	a->len = len - ulen - 1;
	memcpy(a->token, colon + 1, a->len);
	a->scheme = APITOKEN_AUTH_BASIC;
	r = APITOKEN_OK;
out:
	apitoken_wipe(buf, sizeof(buf));
	return r;
}

int
apitoken_auth_parse(const char *v, size_t len, struct apitoken_auth *a)
{
	const char *tok;
	size_t toklen;
	int r = APITOKEN_ERR_INVALID;

	memset(a, 0, sizeof(*a));
	/* no control byte anywhere (apitoken_strip_scheme would drop a
	 * trailing CR or LF: fine at a prompt, never in a header) */
	if (len > AUTH_VALUE_MAX || !field_ok(v, len, AUTH_VALUE_MAX, 1))
		goto out;
	if (len > 6 && strncasecmp(v, "Basic ", 6) == 0) {
		r = basic(v + 6, len - 6, a);
		goto out;
	}
	if (apitoken_strip_scheme(v, len, &tok, &toklen) != 0 || tok == v ||
	    !field_ok(tok, toklen, APITOKEN_INPUT_MAX, 0))
		goto out;
	a->scheme = (v[0] | 0x20) == 'b' ? APITOKEN_AUTH_BEARER :
	    APITOKEN_AUTH_APIKEY;
	memcpy(a->token, tok, toklen);
	a->len = toklen;
	r = APITOKEN_OK;
out:
	if (r != APITOKEN_OK)
		apitoken_auth_clear(a);
	return r;
}

void
apitoken_auth_clear(struct apitoken_auth *a)
{
	if (a != NULL)
		apitoken_wipe(a, sizeof(*a));
}

const char *
apitoken_auth_scheme_str(enum apitoken_auth_scheme s)
{
	switch (s) {
	case APITOKEN_AUTH_BEARER: return "bearer";
	case APITOKEN_AUTH_APIKEY: return "apikey";
	case APITOKEN_AUTH_BASIC: return "basic";
	}
	return "none";
}
