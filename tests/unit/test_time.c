/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_time.c - durations, WHEN expressions, the store's time format.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "helpers.h"

static void
dur_ok(const char *s, int64_t want)
{
	int64_t v = 12345;

	cr_expect_eq(apitoken_duration_parse(s, &v), 0, "\"%s\" refused", s);
	cr_expect_eq(v, want, "\"%s\" = %lld, want %lld", s, (long long)v,
	    (long long)want);
}

static void
dur_bad(const char *s)
{
	int64_t v = 12345;

	cr_expect_eq(apitoken_duration_parse(s, &v), APITOKEN_ERR_INVALID,
	    "\"%s\" accepted as %lld", s, (long long)v);
}

Test(duration, units)
{
	dur_ok("1s", 1);
	dur_ok("59s", 59);
	dur_ok("2m", 120);
	dur_ok("3h", 3 * 3600);
	dur_ok("4d", 4 * 86400);
	dur_ok("90d", 90 * 86400);
	dur_ok("5w", 5 * 7 * 86400);
	dur_ok("1y", 365 * 86400);
	dur_ok("10y", 10LL * 365 * 86400);
	dur_ok("never", APITOKEN_NEVER);
	dur_ok("86400s", 86400);
}

Test(duration, rejects)
{
	dur_bad("");
	dur_bad("s");
	dur_bad("10");
	dur_bad("10x");
	dur_bad("10 s");
	dur_bad(" 1d");
	dur_bad("1d ");
	dur_bad("-1d");
	dur_bad("+1d");
	dur_bad("1.5d");
	dur_bad("1dd");
	dur_bad("0x10s");
	dur_bad("1e3s");
	dur_bad("nevermore");
	dur_bad("d1");
}

Test(duration, zero_is_invalid)
{
	dur_bad("0s");
	dur_bad("0d");
	dur_bad("00s");
}

Test(duration, overflow)
{
	dur_bad("99999999999999y");
	dur_bad("9223372036854775808s");
	dur_bad("99999999999999999999999s");
	dur_bad("15250284452472w");	/* * 604800 > INT64_MAX */
	dur_bad("106751991167301d");	/* * 86400 > INT64_MAX */
}

/* ------------------------------------------------------------- when */

#define NOW ((time_t)1700000000)

static void
when_ok(const char *s, int64_t want)
{
	int64_t v = 12345;

	cr_expect_eq(apitoken_when_parse(s, NOW, &v), 0, "\"%s\" refused", s);
	cr_expect_eq(v, want, "\"%s\" = %lld, want %lld", s, (long long)v,
	    (long long)want);
}

static void
when_bad(const char *s)
{
	int64_t v = 12345;

	cr_expect_eq(apitoken_when_parse(s, NOW, &v), APITOKEN_ERR_INVALID,
	    "\"%s\" accepted as %lld", s, (long long)v);
}

Test(when, durations_from_now)
{
	when_ok("90d", NOW + 90 * 86400);
	when_ok("1h", NOW + 3600);
	when_ok("1y", NOW + 365 * 86400);
	when_ok("never", APITOKEN_NEVER);
}

Test(when, iso_forms)
{
	when_ok("2030-01-02", 1893542400);
	when_ok("2030-01-02T03:04Z", 1893542400 + 3 * 3600 + 4 * 60);
	when_ok("2030-01-02T03:04:05Z", 1893542400 + 3 * 3600 + 4 * 60 + 5);
	when_ok("2024-02-29", 1709164800);
	when_ok("2000-02-29T23:59:59Z", 951868799);
	when_ok("2023-12-31T23:59:59Z", 1704067199);
}

Test(when, rejects)
{
	when_bad("");
	when_bad("tomorrow");
	when_bad("0s");
	when_bad("2030-02-30");
	when_bad("2023-02-29");
	when_bad("2030-04-31");
	when_bad("2030-13-01");
	when_bad("2030-00-10");
	when_bad("2030-1-2");
	when_bad("30-01-02");
	when_bad("2030-01-02T03:04:05");
	when_bad("2030-01-02T03:04");
	when_bad("2030-01-02T24:00Z");
	when_bad("2030-01-02T03:60Z");
	when_bad("2030-01-02T03:04:61Z");
	when_bad("2030-01-02 03:04Z");
	when_bad("2030-01-02T03:04:05+02:00");
	when_bad("2030-01-02Z");
	when_bad("2030-01-02x");
	when_bad(" 2030-01-02");
	when_bad("2030/01/02");
}

Test(when, overflow)
{
	when_bad("99999999999999y");
	when_bad("9223372036854775807s");	/* now + that overflows */
}

/* --------------------------------------------------------- time fmt */

static void
fmt_is(int64_t t, const char *want)
{
	char buf[32];
	int64_t back = -1;

	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(apitoken_time_format(t, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(apitoken_time_parse(buf, &back), 0, "%s", buf);
	cr_assert_eq(back, t, "round trip of %s", buf);
}

Test(timefmt, known_values_round_trip)
{
	fmt_is(0, "1970-01-01T00:00:00Z");
	fmt_is(1700000000, "2023-11-14T22:13:20Z");
	fmt_is(951782400, "2000-02-29T00:00:00Z");
	fmt_is(1709164800, "2024-02-29T00:00:00Z");
	fmt_is(2147483647, "2038-01-19T03:14:07Z");
	fmt_is(2147483648LL, "2038-01-19T03:14:08Z");
	fmt_is(4102444800LL, "2100-01-01T00:00:00Z");
	fmt_is(253402300799LL, "9999-12-31T23:59:59Z");
}

Test(timefmt, buffer_size)
{
	char buf[32];

	cr_assert_eq(apitoken_time_format(1700000000, buf, 21), 0);
	cr_assert_str_eq(buf, "2023-11-14T22:13:20Z");
	cr_assert_neq(apitoken_time_format(1700000000, buf, 20), 0,
	    "20-byte buffer accepted");
	cr_assert_neq(apitoken_time_format(1700000000, buf, 0), 0);
}

static void
tparse_bad(const char *s)
{
	int64_t v = 12345;

	cr_expect_neq(apitoken_time_parse(s, &v), 0, "\"%s\" accepted", s);
}

Test(timefmt, strict_parse)
{
	int64_t v;

	cr_assert_eq(apitoken_time_parse("2023-11-14T22:13:20Z", &v), 0);
	cr_assert_eq(v, 1700000000);
	tparse_bad("");
	tparse_bad("2023-11-14T22:13:20");
	tparse_bad("2023-11-14T22:13Z");
	tparse_bad("2023-11-14");
	tparse_bad("2023-11-14 22:13:20Z");
	tparse_bad("2023-11-14t22:13:20z");
	tparse_bad(" 2023-11-14T22:13:20Z");
	tparse_bad("2023-11-14T22:13:20Z ");
	tparse_bad("2023-11-14T22:13:20.5Z");
	tparse_bad("2023-11-14T22:13:60Z");
	tparse_bad("2023-11-14T24:00:00Z");
	tparse_bad("2023-02-29T00:00:00Z");
	tparse_bad("2023-04-31T00:00:00Z");
	tparse_bad("2023-00-10T00:00:00Z");
	tparse_bad("20231114T221320Z");
	tparse_bad("+2023-11-14T22:13:20Z");
	tparse_bad("2023-11-14T22:13:20+00:00");
	tparse_bad("1700000000");
	tparse_bad("2023-1-14T22:13:20Z");
}
