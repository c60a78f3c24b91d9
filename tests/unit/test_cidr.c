/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cidr.c - CIDR and address validation and matching.
 */
#include <criterion/criterion.h>

#include "helpers.h"

static void
cidr_ok(const char *s)
{
	cr_expect_eq(apitoken_cidr_valid(s), 0, "\"%s\" refused", s);
}

static void
cidr_bad(const char *s)
{
	cr_expect_eq(apitoken_cidr_valid(s), APITOKEN_ERR_INVALID,
	    "\"%s\" accepted", s);
}

Test(cidr, valid_forms)
{
	cidr_ok("10.0.0.0/8");
	cidr_ok("10.0.0.1");
	cidr_ok("0.0.0.0/0");
	cidr_ok("255.255.255.255/32");
	cidr_ok("192.168.1.0/24");
	cidr_ok("::/0");
	cidr_ok("::1");
	cidr_ok("2001:db8::/32");
	cidr_ok("fe80::1/128");
	cidr_ok("2001:db8::/64");
}

Test(cidr, invalid_forms)
{
	cidr_bad("");
	cidr_bad("10.0.0.0/33");
	cidr_bad("::/129");
	cidr_bad("10.0.0/8");
	cidr_bad("10.0.0.0/");
	cidr_bad("/8");
	cidr_bad("10.0.0.0/-1");
	cidr_bad("10.0.0.0/8x");
	cidr_bad("10.0.0.0/8/8");
	cidr_bad("10.0.0.0 /8");
	cidr_bad("10.0.0.0/ 8");
	cidr_bad(" 10.0.0.0/8");
	cidr_bad("10.0.0.0/8 ");
	cidr_bad("256.0.0.0/8");
	cidr_bad("abc");
	cidr_bad("example.com");
	cidr_bad("2001:db8::/");
	cidr_bad("2001:db8:::/32");
	cidr_bad("[2001:db8::]/32");
	cidr_bad("10.0.0.0,10.1.0.0");
	cidr_bad("10.0.0.0/99999999999999999999");
	cidr_bad("fe80::1%eth0");
}

static void
match(const char *cidr, const char *addr, int want)
{
	int got = apitoken_cidr_match(cidr, addr);

	cr_expect_eq(got, want, "match(%s, %s) = %d, want %d", cidr, addr,
	    got, want);
}

Test(cidr, match_ipv4)
{
	match("10.0.0.0/8", "10.0.0.0", 1);
	match("10.0.0.0/8", "10.255.255.255", 1);
	match("10.0.0.0/8", "11.0.0.0", 0);
	match("10.0.0.0/8", "9.255.255.255", 0);
	match("172.16.0.0/12", "172.31.255.255", 1);
	match("172.16.0.0/12", "172.32.0.0", 0);
	match("172.16.0.0/12", "172.15.255.255", 0);
	match("192.168.1.7/32", "192.168.1.7", 1);
	match("192.168.1.7/32", "192.168.1.8", 0);
	match("192.168.1.7", "192.168.1.7", 1);	/* host route */
	match("192.168.1.7", "192.168.1.6", 0);
	match("0.0.0.0/0", "1.2.3.4", 1);
	match("0.0.0.0/0", "255.255.255.255", 1);
	match("10.1.2.2/31", "10.1.2.3", 1);
	match("10.1.2.2/31", "10.1.2.4", 0);
}

Test(cidr, match_ipv6)
{
	match("2001:db8::/32", "2001:db8::1", 1);
	match("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1);
	match("2001:db8::/32", "2001:db9::", 0);
	match("2001:db8::/32", "2001:db7:ffff::1", 0);
	match("2001:db8:0:1::/65", "2001:db8:0:1:7fff::1", 1);
	match("2001:db8:0:1::/65", "2001:db8:0:1:8000::1", 0);
	match("::/0", "::1", 1);
	match("::/0", "2001:db8::1", 1);
	match("::1", "::1", 1);
	match("::1/128", "::2", 0);
	match("fe80::/10", "febf::1", 1);
	match("fe80::/10", "fec0::1", 0);
	match("2001:DB8::/32", "2001:db8::5", 1);
}

Test(cidr, families_do_not_mix)
{
	match("0.0.0.0/0", "::1", 0);
	match("::/0", "127.0.0.1", 0);
	match("10.0.0.0/8", "2001:db8::1", 0);
	match("2001:db8::/32", "10.0.0.1", 0);
}

Test(cidr, errors_are_negative_never_a_match)
{
	cr_assert_lt(apitoken_cidr_match("10.0.0.0/33", "10.0.0.1"), 0);
	cr_assert_lt(apitoken_cidr_match("bogus", "10.0.0.1"), 0);
	cr_assert_lt(apitoken_cidr_match("", "10.0.0.1"), 0);
	cr_assert_neq(apitoken_cidr_match("10.0.0.0/8", "bogus"), 1);
	cr_assert_neq(apitoken_cidr_match("10.0.0.0/8", ""), 1);
	cr_assert_neq(apitoken_cidr_match("10.0.0.0/8", "10.0.0.1/32"), 1);
	cr_assert_neq(apitoken_cidr_match("10.0.0.0/8", "10.1"), 1);
	cr_assert_neq(apitoken_cidr_match("0.0.0.0/0", "host"), 1);
	cr_assert_neq(apitoken_cidr_match("::/0", "host"), 1);
}

Test(cidr, addr_valid)
{
	cr_assert_eq(apitoken_addr_valid("1.2.3.4"), 0);
	cr_assert_eq(apitoken_addr_valid("0.0.0.0"), 0);
	cr_assert_eq(apitoken_addr_valid("::1"), 0);
	cr_assert_eq(apitoken_addr_valid("2001:db8::1"), 0);
	cr_assert_eq(apitoken_addr_valid("::ffff:1.2.3.4"), 0);
	cr_assert_eq(apitoken_addr_valid(""), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("1.2.3"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("1.2.3.4/32"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("256.1.1.1"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("example.com"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid(" 1.2.3.4"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("[::1]"), APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_addr_valid("1.2.3.4:22"), APITOKEN_ERR_INVALID);
}

/* issue 14 item 20: "10.20.1.2/0" means every address; new input with
 * host bits is refused, and the network it denotes is named. */
Test(cidr, strict_refuses_host_bits)
{
	char net[64];

	cr_expect_eq(apitoken_cidr_strict("10.0.0.0/8", net, sizeof(net)), 0);
	cr_expect_eq(apitoken_cidr_strict("10.0.0.1", NULL, 0), 0);
	cr_expect_eq(apitoken_cidr_strict("0.0.0.0/0", NULL, 0), 0);
	cr_expect_eq(apitoken_cidr_strict("2001:db8::/32", NULL, 0), 0);
	cr_expect_eq(apitoken_cidr_strict("10.1.3.0/23", NULL, 0),
	    APITOKEN_ERR_INVALID);
	cr_expect_eq(apitoken_cidr_strict("10.20.1.2/0", net, sizeof(net)),
	    APITOKEN_ERR_INVALID);
	cr_expect_str_eq(net, "0.0.0.0/0");
	cr_expect_eq(apitoken_cidr_strict("192.168.1.77/26", net,
	    sizeof(net)), APITOKEN_ERR_INVALID);
	cr_expect_str_eq(net, "192.168.1.64/26");
	cr_expect_eq(apitoken_cidr_strict("2001:db8::1/32", net, sizeof(net)),
	    APITOKEN_ERR_INVALID);
	cr_expect_str_eq(net, "2001:db8::/32");
	cr_expect_eq(apitoken_cidr_strict("10.0.0.0/33", net, sizeof(net)),
	    APITOKEN_ERR_INVALID);
	cr_expect_str_eq(net, "");
	/* a stored one keeps loading and matches what it always matched */
	cr_expect_eq(apitoken_cidr_valid("10.20.1.2/0"), 0);
	cr_expect_eq(apitoken_cidr_match("10.20.1.2/0", "192.0.2.1"), 1);
}

static void
canon_is(const char *s, const char *want)
{
	char out[46];

	cr_expect_eq(apitoken_addr_canon(s, out, sizeof(out)), 0,
	    "\"%s\" refused", s);
	cr_expect_str_eq(out, want, "\"%s\"", s);
}

/* One spelling per address: the key apitokend throttles an HTTP client
 * address by, and what tokenctl unlock --address is matched against. */
Test(cidr, addr_canon)
{
	char out[46], tiny[8];

	canon_is("203.0.113.9", "203.0.113.9");
	canon_is("2001:DB8:0:0::1", "2001:db8::1");
	canon_is("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	canon_is("::ffff:203.0.113.9", "203.0.113.9");
	canon_is("::FFFF:cb00:7109", "203.0.113.9");
	canon_is("::1", "::1");
	cr_expect_eq(apitoken_addr_canon("203.0.113.9/32", out, sizeof(out)),
	    APITOKEN_ERR_INVALID);
	cr_expect_str_empty(out);
	cr_expect_eq(apitoken_addr_canon("example.org", out, sizeof(out)),
	    APITOKEN_ERR_INVALID);
	cr_expect_eq(apitoken_addr_canon("", out, sizeof(out)),
	    APITOKEN_ERR_INVALID);
	cr_expect_eq(apitoken_addr_canon("2001:db8::1", tiny, sizeof(tiny)),
	    APITOKEN_ERR_TOO_LONG);
	cr_expect_str_empty(tiny);
}
