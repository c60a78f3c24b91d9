/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config_http.c - apitokend's HTTP keys (issue 12): http_listen,
 * a list of Unix sockets and loopback TCP addresses (anything else is
 * refused, naming the line), http_trusted_proxies, a list of CIDRs, both
 * empty (off) when absent; and apitoken_listen_parse itself.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static struct tu_env E;

/* The unit helpers' config loaders (helpers.h), on this suite's E. */
#define load(extra, cfgp) tu_config_load(&E, (extra), (cfgp))
#define load_ok(extra) tu_config_load_ok(&E, (extra))
#define load_bad(extra, line, text) \
	tu_config_load_bad(&E, (extra), (line), (text))

static void
setup(void)
{
	tl_watchdog(20);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(config_http, .init = setup, .fini = teardown);

Test(config_http, off_when_absent)
{
	struct apitoken_config *c = load_ok("");

	cr_assert_null(apitoken_config_http_listen(c, 0));
	cr_assert_null(apitoken_config_http_trusted_proxy(c, 0));
	apitoken_config_free(c);
	c = load_ok("http_listen: []\nhttp_trusted_proxies: []\n");
	cr_assert_null(apitoken_config_http_listen(c, 0));
	cr_assert_null(apitoken_config_http_trusted_proxy(c, 0));
	apitoken_config_free(c);
}

Test(config_http, lists_in_order)
{
	struct apitoken_config *c = load_ok("http_listen:\n"
	    "  - unix:/run/apitoken/http.sock\n"
	    "  - 127.0.0.1:9180\n"
	    "  - \"[::1]:9180\"\n"
	    "  - 127.8.9.10:1\n"
	    "http_trusted_proxies: [127.0.0.1, '::1', 10.0.0.0/8, "
	    "'fd00::/8', unix]\n");

	cr_assert_str_eq(apitoken_config_http_listen(c, 0),
	    "unix:/run/apitoken/http.sock");
	cr_assert_str_eq(apitoken_config_http_listen(c, 1), "127.0.0.1:9180");
	cr_assert_str_eq(apitoken_config_http_listen(c, 2), "[::1]:9180");
	cr_assert_str_eq(apitoken_config_http_listen(c, 3), "127.8.9.10:1");
	cr_assert_null(apitoken_config_http_listen(c, 4));
	cr_assert_str_eq(apitoken_config_http_trusted_proxy(c, 0),
	    "127.0.0.1");
	cr_assert_str_eq(apitoken_config_http_trusted_proxy(c, 3), "fd00::/8");
	cr_assert_str_eq(apitoken_config_http_trusted_proxy(c, 4), "unix");
	cr_assert_null(apitoken_config_http_trusted_proxy(c, 5));
	apitoken_config_free(c);
}

Test(config_http, bad_listen_names_its_line)
{
	load_bad("http_listen: 127.0.0.1:80\n", 3, "expected a list");
	load_bad("http_listen:\n  a: b\n", 4, "expected a list");
	load_bad("http_listen:\n  - [x]\n", 4, "expected a list");
	load_bad("http_listen:\n  - 127.0.0.1:80\n  - 0.0.0.0:80\n", 5,
	    "\"0.0.0.0:80\": not a loopback address");
	load_bad("http_listen: ['192.168.1.1:80']\n", 3, "not a loopback");
	load_bad("http_listen: ['[::]:80']\n", 3, "not a loopback");
	load_bad("http_listen: ['[::ffff:127.0.0.1]:80']\n", 3,
	    "not a loopback");
	load_bad("http_listen: ['127.0.0.1']\n", 3, "loopback address and port");
	load_bad("http_listen: ['127.0.0.1:0']\n", 3, "and port");
	load_bad("http_listen: ['127.0.0.1:65536']\n", 3, "and port");
	load_bad("http_listen: ['127.0.0.1:080']\n", 3, "and port");
	load_bad("http_listen: ['localhost:80']\n", 3, "and port");
	load_bad("http_listen: ['::1:80']\n", 3, "and port");
	load_bad("http_listen: ['[127.0.0.1]:80']\n", 3, "and port");
	load_bad("http_listen: ['unix:run/x.sock']\n", 3, "absolute path");
	load_bad("http_listen: ['unix:/run/../x.sock']\n", 3, "absolute path");
	load_bad("http_listen: [\"a\\0b\"]\n", 3, "NUL byte");
	load_bad("http_listen: []\nhttp_listen: []\n", 4, "given twice");
}

Test(config_http, listen_limit)
{
	char text[2048];
	size_t n = 0;
	int i;

	n += (size_t)sprintf(text, "http_listen: [");
	for (i = 0; i < 16; i++)
		n += (size_t)sprintf(text + n, "%s127.0.0.1:%d", i ? ", " : "",
		    1000 + i);
	sprintf(text + n, "]\n");
	apitoken_config_free(load_ok(text));
	sprintf(text + n, ", 127.0.0.1:2000]\n");
	load_bad(text, 3, "at most 16");
}

Test(config_http, bad_proxies_name_their_line)
{
	load_bad("http_trusted_proxies: 10.0.0.0/8\n", 3, "expected a list");
	load_bad("http_trusted_proxies:\n  - 10.0.0.0/8\n  - 10.1.2.3/8\n", 5,
	    "\"10.1.2.3/8\": must be \"unix\", an address or a CIDR");
	load_bad("http_trusted_proxies: [proxy.example.com]\n", 3,
	    "an address or a CIDR");
	load_bad("http_trusted_proxies: ['0.0.0.0/0']\n", 3, "every address");
	load_bad("http_trusted_proxies: ['::/0']\n", 3, "every address");
	load_bad("http_trusted_proxies: [unix:/x]\n", 3, "\"unix\", an address");
}

/* ------------------------------------------------ apitoken_listen_parse */

Test(config_http, listen_parse)
{
	struct apitoken_listen l;
	char err[256];

	cr_assert_eq(apitoken_listen_parse("unix:/run/a.sock", &l, err,
	    sizeof(err)), 0);
	cr_assert_eq(l.kind, APITOKEN_LISTEN_UNIX);
	cr_assert_str_eq(l.path, "/run/a.sock");
	cr_assert_eq(apitoken_listen_parse("127.0.0.1:8080", &l, err,
	    sizeof(err)), 0);
	cr_assert_eq(l.kind, APITOKEN_LISTEN_TCP4);
	cr_assert_str_eq(l.addr, "127.0.0.1");
	cr_assert_eq(l.port, 8080);
	cr_assert_eq(apitoken_listen_parse("[::1]:65535", &l, err,
	    sizeof(err)), 0);
	cr_assert_eq(l.kind, APITOKEN_LISTEN_TCP6);
	cr_assert_str_eq(l.addr, "::1");
	cr_assert_eq(l.port, 65535);
	cr_assert_eq(apitoken_listen_parse("10.0.0.1:80", &l, err,
	    sizeof(err)), APITOKEN_ERR_INVALID);
	cr_assert_eq(l.kind, 0, "not zeroed on failure");
	cr_assert_not_null(strstr(err, "loopback"));
	cr_assert_eq(apitoken_listen_parse("unix:", &l, NULL, 0),
	    APITOKEN_ERR_INVALID);
	memset(err, 'x', 200);
	err[200] = '\0';
	cr_assert_eq(apitoken_listen_parse("unix:/", &l, NULL, 0),
	    APITOKEN_ERR_INVALID);
	/* sun_path holds 108 bytes with the NUL */
	snprintf(err, sizeof(err), "unix:/%0107d", 0);
	cr_assert_eq(apitoken_listen_parse(err, &l, NULL, 0),
	    APITOKEN_ERR_INVALID);
	snprintf(err, sizeof(err), "unix:/%0106d", 0);
	cr_assert_eq(apitoken_listen_parse(err, &l, NULL, 0), 0);
	cr_assert_eq(strlen(l.path), 107);
}
