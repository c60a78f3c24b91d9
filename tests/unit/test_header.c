/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_header.c - apitoken_strip_scheme: the Authorization-header forms.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static int
strip(const char *s, const char **tok, size_t *len)
{
	*tok = NULL;
	*len = 12345;
	return apitoken_strip_scheme(s, strlen(s), tok, len);
}

/* s must strip to exactly want, a slice of s */
static void
ok(const char *s, const char *want)
{
	const char *tok;
	size_t len;
	int r = strip(s, &tok, &len);

	cr_assert_eq(r, 0, "strip(\"%s\") = %d", s, r);
	cr_assert_not_null(tok);
	cr_assert(tok >= s && tok + len <= s + strlen(s),
	    "strip(\"%s\"): result is not a slice of the input", s);
	cr_assert_eq(len, strlen(want), "strip(\"%s\"): length %zu", s, len);
	cr_assert(memcmp(tok, want, len) == 0, "strip(\"%s\") = \"%.*s\"", s,
	    (int)len, tok);
}

static void
bad(const char *s)
{
	const char *tok;
	size_t len;

	cr_assert_eq(strip(s, &tok, &len), APITOKEN_ERR_INVALID,
	    "strip(\"%s\") should be INVALID", s);
}

Test(strip_scheme, bearer_any_case)
{
	ok("Bearer t", "t");
	ok("bearer t", "t");
	ok("BEARER t", "t");
	ok("bEaReR t", "t");
	ok("Bearer apitok_abc", "apitok_abc");
}

Test(strip_scheme, apikey_any_case)
{
	ok("ApiKey t", "t");
	ok("apikey t", "t");
	ok("APIKEY t", "t");
	ok("ApiKey apitok_abc", "apitok_abc");
}

Test(strip_scheme, trailing_newline_dropped)
{
	ok("Bearer t\n", "t");
	ok("Bearer t\r\n", "t");
	ok("ApiKey tok\n", "tok");
	ok("apikey tok\r\n", "tok");
}

Test(strip_scheme, slice_points_into_input)
{
	const char *s = "Bearer apitok_x";
	const char *tok;
	size_t len;

	cr_assert_eq(apitoken_strip_scheme(s, strlen(s), &tok, &len), 0);
	cr_assert_eq(tok, s + 7);
	cr_assert_eq(len, 8u);
}

Test(strip_scheme, len_is_authoritative)
{
	/* "Bearer tok" followed by garbage beyond len */
	const char s[] = "Bearer tokXXXX";
	const char *tok;
	size_t len;

	cr_assert_eq(apitoken_strip_scheme(s, 10, &tok, &len), 0);
	cr_assert_eq(len, 3u);
	cr_assert(memcmp(tok, "tok", 3) == 0);
}

Test(strip_scheme, two_spaces_is_error)
{
	bad("Bearer  t");
	bad("ApiKey  t");
	bad("bearer   t");
}

Test(strip_scheme, tab_is_error)
{
	bad("Bearer\tt");
	bad("ApiKey\tt");
	bad("Bearer \tt");
}

Test(strip_scheme, scheme_alone_is_error)
{
	bad("Bearer");
	bad("Bearer ");
	bad("bearer\n");
	bad("Bearer \r\n");
	bad("ApiKey");
	bad("APIKEY ");
}

Test(strip_scheme, raw_token_unchanged)
{
	const char *s = "apitok_Ab3dEf6hIj9K_0123456789";
	const char *tok;
	size_t len;

	cr_assert_eq(apitoken_strip_scheme(s, strlen(s), &tok, &len), 0);
	cr_assert_eq(tok, s);
	cr_assert_eq(len, strlen(s));
}

Test(strip_scheme, other_scheme_unchanged_then_not_a_token)
{
	const char *s = "Basic t";
	const char *tok;
	size_t len;
	struct apitoken_token t;
	enum apitoken_format f;

	cr_assert_eq(apitoken_strip_scheme(s, strlen(s), &tok, &len), 0);
	cr_assert_eq(tok, s);
	cr_assert_eq(len, strlen(s));
	f = apitoken_token_parse(APITOKEN_DEFAULT_PREFIX, tok, len, &t);
	cr_assert_neq(f, APITOKEN_FMT_OK);
	apitoken_token_clear(&t);
}

Test(strip_scheme, stripped_generated_token_parses)
{
	char tok[APITOKEN_TOKEN_MAX + 1], hdr[128];
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token g, t;
	const char *pre[] = { "Bearer ", "ApiKey ", "bearer ", "" };
	const char *post[] = { "", "", "\r\n", "" };
	const char *p;
	size_t len, i;

	cr_assert_eq(apitoken_token_generate(APITOKEN_DEFAULT_PREFIX, tok,
	    sizeof(tok), &g, hash), 0);
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		snprintf(hdr, sizeof(hdr), "%s%s%s", pre[i], tok, post[i]);
		cr_assert_eq(apitoken_strip_scheme(hdr, strlen(hdr), &p, &len),
		    0, "form %zu", i);
		cr_assert_eq(apitoken_token_parse(APITOKEN_DEFAULT_PREFIX, p,
		    len, &t), APITOKEN_FMT_OK, "form %zu: %s", i, hdr);
		cr_assert_str_eq(t.secret, g.secret);
		apitoken_token_clear(&t);
	}
	apitoken_token_clear(&g);
}
