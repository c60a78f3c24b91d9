/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netaddr.c - IPv4/IPv6 literals and CIDRs for the `from` restriction.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 CIDRs.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char b[16];
};

static int
addr_parse(const char *s, struct addr *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) != 1)
		return -1;
	a->family = AF_INET6;
	if (memcmp(a->b, mapped, sizeof(mapped)) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = AF_INET;
	}
	return 0;
}

/* Split "addr[/bits]"; bits defaults to the full length. */
static int
cidr_parse(const char *s, struct addr *net, int *bits)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int max, v = 0;
	const char *p;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strchr(buf, ':') == NULL) {
		if (inet_pton(AF_INET, buf, net->b) != 1)
			return -1;
		net->family = AF_INET;
	} else if (addr_parse(buf, net) != 0 || net->family != AF_INET6)
		return -1;	/* a mapped v4 network is spelt as v4 */
	max = net->family == AF_INET ? 32 : 128;
	*bits = max;
	if (slash == NULL)
		return 0;
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > max)
		return -1;
	*bits = v;
	return 0;
}

int
apitoken_cidr_valid(const char *s)
{
	struct addr net;
	int bits;

	return cidr_parse(s, &net, &bits) == 0 ? APITOKEN_OK :
	    APITOKEN_ERR_INVALID;
}

/* 1 if net has a bit set past the first bits (a host part). */
static int
host_bits(const struct addr *net, int bits)
{
	int len = net->family == AF_INET ? 4 : 16, i;

	for (i = bits / 8; i < len; i++)
		if (net->b[i] & (i == bits / 8 ?
		    (unsigned char)(0xff >> (bits % 8)) : 0xff))
			return 1;
	return 0;
}

int
apitoken_cidr_strict(const char *s, char *net, size_t netsize)
{
	char a[INET6_ADDRSTRLEN];
	struct addr n;
	int bits, i;

	if (net != NULL && netsize > 0)
		net[0] = '\0';
	if (cidr_parse(s, &n, &bits) != 0)
		return APITOKEN_ERR_INVALID;
	if (!host_bits(&n, bits))
		return APITOKEN_OK;
	for (i = bits / 8; i < 16; i++)
		n.b[i] &= i == bits / 8 ?
		    (unsigned char)(0xff << (8 - bits % 8)) : 0;
	if (net != NULL && inet_ntop(n.family, n.b, a, sizeof(a)) != NULL)
		snprintf(net, netsize, "%s/%d", a, bits);
	return APITOKEN_ERR_INVALID;
}

int
apitoken_addr_valid(const char *s)
{
	struct addr a;

	return s != NULL && strlen(s) < 64 && addr_parse(s, &a) == 0 ?
	    APITOKEN_OK : APITOKEN_ERR_INVALID;
}

int
apitoken_addr_canon(const char *s, char *out, size_t outsize)
{
	char buf[INET6_ADDRSTRLEN];
	struct addr a;

	if (outsize > 0)
		out[0] = '\0';
	if (apitoken_addr_valid(s) != 0 || addr_parse(s, &a) != 0 ||
	    inet_ntop(a.family, a.b, buf, sizeof(buf)) == NULL)
		return APITOKEN_ERR_INVALID;
	if (strlen(buf) >= outsize)
		return APITOKEN_ERR_TOO_LONG;
	memcpy(out, buf, strlen(buf) + 1);
	return APITOKEN_OK;
}

int
apitoken_cidr_match(const char *cidr, const char *addr)
{
	struct addr net, a;
	int bits, full, rem;
	unsigned char mask;

	if (cidr_parse(cidr, &net, &bits) != 0 || strlen(addr) >= 64 ||
	    addr_parse(addr, &a) != 0)
		return APITOKEN_ERR_INVALID;
	if (a.family != net.family)
		return 0;
	full = bits / 8;
	rem = bits % 8;
	if (memcmp(a.b, net.b, (size_t)full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rem));
	return (a.b[full] & mask) == (net.b[full] & mask);
}
