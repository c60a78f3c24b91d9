/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_httpauth.c - apitoken_auth_parse, the Authorization header of
 * apitokend's HTTP endpoint (issue 12): the three schemes in any case,
 * strict base64 for Basic, and everything else refused (a 400 there),
 * with the output wiped on refusal.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "apitoken.h"

static struct apitoken_auth A;

static int
parse(const char *v)
{
	memset(&A, 0xa5, sizeof(A));
	return apitoken_auth_parse(v, strlen(v), &A);
}

static void
ok(const char *v, enum apitoken_auth_scheme scheme, const char *user,
    const char *token)
{
	cr_assert_eq(parse(v), 0, "refused: %s", v);
	cr_assert_eq(A.scheme, scheme, "%s", v);
	cr_assert_str_eq(A.user, user, "%s", v);
	cr_assert_str_eq(A.token, token, "%s", v);
	cr_assert_eq(A.len, strlen(token), "%s", v);
}

static void
bad(const char *v)
{
	static const struct apitoken_auth zero;

	cr_assert_eq(parse(v), APITOKEN_ERR_INVALID, "accepted: %s", v);
	cr_assert_eq(memcmp(&A, &zero, sizeof(A)), 0, "not wiped: %s", v);
}

Test(httpauth, bearer_and_apikey_any_case)
{
	ok("Bearer apitok_x", APITOKEN_AUTH_BEARER, "", "apitok_x");
	ok("bearer apitok_x", APITOKEN_AUTH_BEARER, "", "apitok_x");
	ok("BEARER apitok_x", APITOKEN_AUTH_BEARER, "", "apitok_x");
	ok("ApiKey apitok_x", APITOKEN_AUTH_APIKEY, "", "apitok_x");
	ok("apikey apitok_x", APITOKEN_AUTH_APIKEY, "", "apitok_x");
	ok("APIKEY SU-160:f45", APITOKEN_AUTH_APIKEY, "", "SU-160:f45");
	cr_assert_str_eq(apitoken_auth_scheme_str(APITOKEN_AUTH_APIKEY),
	    "apikey");
}

Test(httpauth, basic)
{
	/* "alice:apitok_x", "a:b:c" (the user ends at the first colon) */
	ok("Basic YWxpY2U6YXBpdG9rX3g=", APITOKEN_AUTH_BASIC, "alice",
	    "apitok_x");
	ok("basic YWxpY2U6YXBpdG9rX3g=", APITOKEN_AUTH_BASIC, "alice",
	    "apitok_x");
	ok("BASIC YTpiOmM=", APITOKEN_AUTH_BASIC, "a", "b:c");
	/* "al ice:t k" - spaces are allowed inside Basic */
	ok("Basic YWwgaWNlOnQgaw==", APITOKEN_AUTH_BASIC, "al ice", "t k");
	cr_assert_str_eq(apitoken_auth_scheme_str(APITOKEN_AUTH_BASIC),
	    "basic");
}

Test(httpauth, malformed)
{
	bad("");
	bad("apitok_x");			/* no scheme */
	bad("Token apitok_x");
	bad("Digest username=\"a\"");
	bad("Bearer");
	bad("Bearer ");
	bad("Bearer  apitok_x");		/* two spaces */
	bad("Bearer\tapitok_x");
	bad("Bearer apitok_x more");
	bad("Bearer apitok\x01x");
	bad("Bearer apitok_x\r");		/* found by fuzz_httpauth */
	bad("Bearer apitok_x\r\n");
	bad("ApiKey apitok_x\n");
	bad("Bearerapitok_x");
	bad("Basic");
	bad("Basic ");
	bad("Basic YWxpY2U6YXBpdG9rX3g");	/* unpadded */
	bad("Basic YWxpY2U6YXBp dG9rX3g=");	/* a space inside */
	bad("Basic YWxp=2U6YXBpdG9rX3g=");	/* '=' inside */
	bad("Basic YWxpY2U6YXBpdG9rX3g=!");
	bad("Basic YWxpY2U=");			/* "alice": no colon */
	bad("Basic OmFwaXRva194");		/* ":apitok_x": no user */
	bad("Basic YWxpY2U6");			/* "alice:": no token */
	bad("Basic YQFiOnQ=");			/* "a\x01b:t" */
	bad("Basic YTp0AA==");			/* "a:t\0" */
}

Test(httpauth, length_limits)
{
	char v[4096];

	memset(v, 0, sizeof(v));
	memcpy(v, "Bearer ", 7);
	memset(v + 7, 'a', APITOKEN_INPUT_MAX);
	cr_assert_eq(parse(v), 0);
	cr_assert_eq(A.len, APITOKEN_INPUT_MAX);
	v[7 + APITOKEN_INPUT_MAX] = 'a';
	bad(v);
	memset(v, 'A', sizeof(v) - 1);
	memcpy(v, "Basic ", 6);
	bad(v);
	apitoken_auth_clear(NULL);
}
