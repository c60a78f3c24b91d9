/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_http.c - apitokend's HTTP forward-auth endpoint with curl (issue
 * 12): every status and header, scheme case, Basic with a wrong user,
 * the client address and trusted proxies, throttling per token and per
 * client address (listed and cleared by tokenctl), the log line, header
 * size limits, a slow client dropped without hurting others, 500
 * concurrent connections, a Unix socket, a reload, and a stale fleet
 * replica (500).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

static struct th H;

static void
setup(void)
{
	tl_watchdog(180);
	H.d = NULL;
}

static void
teardown(void)
{
	th_stop(&H);
}

TestSuite(http, .init = setup, .fini = teardown);

static char *
url(const char *path)
{
	return tl_fmt("%s%s", H.base, path);
}

/* GET /auth/<svc> with an Authorization header (NULL: none) and one
 * more curl argument pair (NULL: none). */
static struct th_resp
ask2(const char *svc, const char *auth, const char *opt, const char *arg)
{
	char *u = tl_fmt("%s/auth/%s", H.base, svc);
	char *h = auth ? tl_fmt("Authorization: %s", auth) : NULL;
	struct th_resp r;

	if (h != NULL && opt != NULL)
		r = th_curl(u, "-H", h, opt, arg, NULL);
	else if (h != NULL)
		r = th_curl(u, "-H", h, NULL);
	else if (opt != NULL)
		r = th_curl(u, opt, arg, NULL);
	else
		r = th_curl(u, NULL);
	free(u);
	free(h);
	return r;
}

static struct th_resp
ask(const char *svc, const char *auth)
{
	return ask2(svc, auth, NULL, NULL);
}

static int
status(const char *svc, const char *auth)
{
	struct th_resp r = ask(svc, auth);
	int s = r.status;

	th_resp_free(&r);
	return s;
}

static char *
bearer(const char *scheme, const char *tok)
{
	return tl_fmt("%s %s", scheme, tok);
}

static char *
basic(const char *user, const char *tok)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	char *in = tl_fmt("%s:%s", user, tok), *out;
	size_t n = strlen(in), i, o = 0;

	out = calloc(1, n / 3 * 4 + 16);
	cr_assert_not_null(out);
	o = (size_t)sprintf(out, "Basic ");
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	free(in);
	return out;
}

/* The token with another secret (and a valid checksum). */
static char *
forge(const char *tok)
{
	char *f = tl_fmt("%s", tok);
	size_t n = strlen(f);

	f[n - 7] = f[n - 7] == 'a' ? 'b' : 'a';
	tl_token_recrc(f);
	return f;
}

static char *
id_of(const char *tok)
{
	return tl_fmt("%.12s", tok + 7);
}

static void
expect_header(const struct th_resp *r, const char *name, const char *want)
{
	char *v = th_header(r, name);

	if (want == NULL) {
		cr_expect_null(v, "%s: %s present", name, v);
	} else {
		cr_expect_not_null(v, "%s missing in:\n%s", name, r->head);
		if (v != NULL)
			cr_expect_str_eq(v, want, "%s", name);
	}
	free(v);
}

/* Status, WWW-Authenticate and an empty body, as apitokend(8) says. */
static void
expect_answer(const char *svc, const char *auth, int want,
    const char *challenge)
{
	struct th_resp r = ask(svc, auth);

	cr_expect_eq(r.status, want, "%s: got %d, want %d", auth ? auth :
	    "(none)", r.status, want);
	expect_header(&r, "www-authenticate", challenge);
	expect_header(&r, "content-length", "0");
	expect_header(&r, "cache-control", "no-store");
	if (want != 200)
		expect_header(&r, "x-apitoken-user", NULL);
	th_resp_free(&r);
}

#define INVALID(s) "Bearer realm=\"" s "\", error=\"invalid_token\""
#define SCOPE(s) "Bearer realm=\"" s "\", error=\"insufficient_scope\""
#define REQUEST(s) "Bearer realm=\"" s "\", error=\"invalid_request\""

Test(http, accepted_with_identity_headers_any_scheme_case)
{
	char *tok, *id, *a;
	static const char *const schemes[] = { "Bearer", "bearer", "BEARER",
	    "ApiKey", "apikey", "APIKEY" };
	size_t i;
	struct th_resp r;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "billing ci", "--service",
	    "billing-api", NULL);
	id = id_of(tok);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		a = bearer(schemes[i], tok);
		r = ask("billing-api", a);
		cr_expect_eq(r.status, 200, "%s: %d", schemes[i], r.status);
		expect_header(&r, "x-apitoken-user", tl_user());
		expect_header(&r, "x-apitoken-id", id);
		expect_header(&r, "x-apitoken-label", "billing ci");
		expect_header(&r, "www-authenticate", NULL);
		expect_header(&r, "location", NULL);
		th_resp_free(&r);
		free(a);
	}
	a = basic(tl_user(), tok);
	r = ask("billing-api", a);
	cr_expect_eq(r.status, 200);
	expect_header(&r, "x-apitoken-user", tl_user());
	th_resp_free(&r);
	a[0] = 'b';	/* "basic" */
	cr_expect_eq(status("billing-api", a), 200);
	free(a);
	free(id);
	free(tok);
}

Test(http, no_credential_is_401_without_an_error)
{
	th_start(&H, NULL);
	expect_answer("billing-api", NULL, 401, "Bearer realm=\"billing-api\"");
}

Test(http, refused_tokens_are_401_invalid_token)
{
	char *tok, *bad, *a, *dis, *rev, *id;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "t", NULL);
	dis = td_issue(H.d, tl_user(), "--label", "dis", NULL);
	rev = td_issue(H.d, tl_user(), "--label", "rev", NULL);
	id = id_of(dis);
	cr_assert_eq(td_ctl(H.d, NULL, "disable", id, NULL), 0);
	free(id);
	id = id_of(rev);
	cr_assert_eq(td_ctl(H.d, NULL, "revoke", id, NULL), 0);
	free(id);
	bad = forge(tok);		/* wrong secret */
	a = bearer("Bearer", bad);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	a = bearer("Bearer", "apitok_000000000000_"
	    "00000000000000000000000000000000000000");	/* bad checksum */
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	expect_answer("svc", "Bearer not-a-token", 401, INVALID("svc"));
	a = bearer("ApiKey", dis);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	a = bearer("ApiKey", rev);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	/* Basic: the given user must own the token */
	a = basic("nobody-else", tok);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	a = basic(tl_user(), bad);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	free(bad);
	free(tok);
	free(dis);
	free(rev);
}

Test(http, expired_is_401)
{
	char *tok, *a;
	int64_t end;
	int s = 0;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "short", "--expires", "2s",
	    NULL);
	a = bearer("Bearer", tok);
	end = tl_now_ms() + 20000;
	while (tl_now_ms() < end && (s = status("svc", a)) == 200)
		usleep(200 * 1000);
	cr_assert_eq(s, 401);
	expect_answer("svc", a, 401, INVALID("svc"));
	free(a);
	free(tok);
}

Test(http, scope_is_403_insufficient_scope)
{
	char *svc, *from, *a;

	th_start(&H, NULL);
	svc = td_issue(H.d, tl_user(), "--label", "svc", "--service",
	    "billing-api", NULL);
	from = td_issue(H.d, tl_user(), "--label", "from", "--from",
	    "10.0.0.0/8", NULL);
	a = bearer("Bearer", svc);
	expect_answer("other-api", a, 403, SCOPE("other-api"));
	expect_answer("billing-api", a, 200, NULL);
	free(a);
	a = bearer("Bearer", from);	/* the peer is 127.0.0.1 */
	expect_answer("any", a, 403, SCOPE("any"));
	free(a);
	free(svc);
	free(from);
}

/* A fleet replica (postgresql configured) that never synced: 500, as a
 * store that cannot be read, and the reason in the log. */
Test(http, a_stale_fleet_replica_is_500)
{
	char *tok, *a, *yaml;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "fleet", NULL);
	a = bearer("Bearer", tok);
	expect_answer("billing-api", a, 200, NULL);
	yaml = tl_fmt("http_listen: [\"127.0.0.1:%d\"]\npostgresql:\n"
	    "  conninfo: host=/nonexistent dbname=apitoken\n", H.port);
	td_config(H.d, yaml);
	td_reload(H.d);
	expect_answer("billing-api", a, 500, NULL);
	cr_assert(td_log_wait(H.d, "reason=replica-stale", 5000));
	free(yaml);
	free(a);
	free(tok);
}

Test(http, malformed_header_is_400)
{
	static const char *const bad[] = { "Token abc", "Bearer", "Bearer  x",
	    "Basic", "Basic !!!!", "Basic YWxpY2U=", "Digest a=b", "x" };
	struct th_resp r;
	char *u;
	size_t i;

	th_start(&H, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_answer("svc", bad[i], 400, REQUEST("svc"));
	/* two Authorization headers */
	u = url("/auth/svc");
	r = th_curl(u, "-H", "Authorization: Bearer a", "-H",
	    "Authorization: Bearer b", NULL);
	cr_expect_eq(r.status, 400);
	th_resp_free(&r);
	free(u);
}

Test(http, other_paths_are_404)
{
	static const char *const paths[] = { "/", "/auth", "/auth/",
	    "/auth//a", "/auth/a%20b", "/Auth/svc", "/auth/a:b/", "/x/auth/a",
	    "/authx/a" };
	struct th_resp r;
	size_t i;
	char *u;

	th_start(&H, NULL);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		u = url(paths[i]);
		r = th_curl(u, "--path-as-is", "-H", "Authorization: Bearer x",
		    NULL);
		cr_expect_eq(r.status, 404, "%s: %d", paths[i], r.status);
		th_resp_free(&r);
		free(u);
	}
	/* what follows the service is Envoy's appended request path */
	expect_answer("billing-api/v1/items?x=1", NULL, 401,
	    "Bearer realm=\"billing-api\"");
	expect_answer("billing-api/", NULL, 401,
	    "Bearer realm=\"billing-api\"");
}

Test(http, any_method_and_a_body_never_read)
{
	char *tok, *a, *u, *req;
	struct th_resp r;
	int64_t t0;
	int fd;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "m", NULL);
	a = tl_fmt("Authorization: Bearer %s", tok);
	u = url("/auth/svc");
	r = th_curl(u, "-X", "DELETE", "-H", a, NULL);
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	r = th_curl(u, "-I", "-H", a, NULL);
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	r = th_curl(u, "-d", "x=1", NULL);
	cr_expect_eq(r.status, 401);
	th_resp_free(&r);
	/* a body announced and never sent: the answer does not wait */
	req = tl_fmt("POST /auth/svc HTTP/1.1\r\nHost: a\r\n%s\r\n"
	    "Content-Length: 100000000\r\n\r\nxyz", a);
	fd = th_connect(H.port, 10000);
	cr_assert(fd >= 0);
	t0 = tl_now_ms();
	cr_assert_eq(th_send(fd, req, strlen(req)), 0);
	cr_expect_eq(th_read_status(fd), 200);
	cr_expect(tl_now_ms() - t0 < 3000, "waited for the body");
	close(fd);
	free(req);
	free(u);
	free(a);
	free(tok);
}

/* ------------------------------------------------ client address */

Test(http, forwarded_headers_ignored_from_an_untrusted_peer)
{
	char *tok, *a;
	struct th_resp r;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "f", "--from", "10.1.0.0/16",
	    NULL);
	a = bearer("Bearer", tok);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3");
	cr_expect_eq(r.status, 403);
	th_resp_free(&r);
	r = ask2("svc", a, "-H", "X-Real-IP: 10.1.2.3");
	cr_expect_eq(r.status, 403);
	th_resp_free(&r);
	free(a);
	free(tok);
}

Test(http, trusted_proxy_names_the_client_rightmost)
{
	char *tok, *a;
	struct th_resp r;

	th_start(&H, "http_trusted_proxies: [127.0.0.1]\n");
	tok = td_issue(H.d, tl_user(), "--label", "f", "--from", "10.1.0.0/16",
	    NULL);
	a = bearer("Bearer", tok);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3");
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	/* only the last entry, the one the proxy added, counts */
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3, 192.168.1.1");
	cr_expect_eq(r.status, 403);
	th_resp_free(&r);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 192.168.1.1,10.1.9.9");
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3:8080");
	cr_expect_eq(r.status, 403, "not an address: unknown");
	th_resp_free(&r);
	r = ask2("svc", a, "-H", "X-Real-IP: 10.1.4.4");
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	r = ask2("svc", a, NULL, NULL);	/* the peer, 127.0.0.1 */
	cr_expect_eq(r.status, 403);
	th_resp_free(&r);
	cr_assert(td_log_wait(H.d, "rhost=10.1.9.9", 5000));
	free(a);
	free(tok);
}

/* ------------------------------------------------ throttling, log */

Test(http, failures_throttle_the_token_and_the_client_address)
{
	char *tok, *bad, *a, *b, *other, *o;
	int i;

	th_start(&H, "http_trusted_proxies: [127.0.0.1]\nmax_failures: 3\n");
	tok = td_issue(H.d, tl_user(), "--label", "t", NULL);
	other = td_issue(H.d, tl_user(), "--label", "o", NULL);
	bad = forge(tok);
	a = bearer("Bearer", tok);
	b = bearer("Bearer", bad);
	o = bearer("Bearer", other);
	/* per token id: three wrong secrets from three addresses */
	for (i = 0; i < 3; i++) {
		char *xff = tl_fmt("X-Forwarded-For: 192.0.2.%d", i + 1);
		struct th_resp r = ask2("svc", b, "-H", xff);

		cr_expect_eq(r.status, 401);
		th_resp_free(&r);
		free(xff);
	}
	{
		struct th_resp r = ask2("svc", a, "-H",
		    "X-Forwarded-For: 198.51.100.1");

		cr_expect_eq(r.status, 401, "token not throttled: %d",
		    r.status);
		expect_header(&r, "www-authenticate", INVALID("svc"));
		th_resp_free(&r);
	}
	cr_assert(td_log_wait(H.d, "reason=throttled", 5000));
	/* per client address: three unknown tokens from 203.0.113.9 */
	for (i = 0; i < 3; i++) {
		char *u = tl_fmt("Bearer apitok_%012d_%s", i, bad + 20);
		struct th_resp r;

		tl_token_recrc(u + 7);
		r = ask2("svc", u, "-H", "X-Forwarded-For: 203.0.113.9");
		cr_expect_eq(r.status, 401);
		th_resp_free(&r);
		free(u);
	}
	{
		struct th_resp r = ask2("svc", o, "-H",
		    "X-Forwarded-For: 203.0.113.9");

		cr_expect_eq(r.status, 401, "address not throttled");
		th_resp_free(&r);
		r = ask2("svc", o, "-H", "X-Forwarded-For: 203.0.113.10");
		cr_expect_eq(r.status, 200, "another address throttled too");
		th_resp_free(&r);
	}
	cr_assert(td_log_wait(H.d, "lockout rhost=203.0.113.9", 5000));
	free(a);
	free(b);
	free(o);
	free(bad);
	free(tok);
	free(other);
}

Test(http, loopback_failures_do_not_lock_out_everyone)
{
	char *tok, *a;
	int i;

	th_start(&H, "max_failures: 2\n");
	tok = td_issue(H.d, tl_user(), "--label", "t", NULL);
	a = bearer("Bearer", tok);
	for (i = 0; i < 5; i++) {
		char *u = tl_fmt("Bearer apitok_%012d_%s", i, tok + 20);

		tl_token_recrc(u + 7);
		cr_expect_eq(status("svc", u), 401);
		free(u);
	}
	cr_expect_eq(status("svc", a), 200);
	free(a);
	/* nor do Basic failures lock the user out for every client */
	for (i = 0; i < 5; i++) {
		char *u = tl_fmt("apitok_%012d_%s", i, tok + 20);

		tl_token_recrc(u);
		a = basic(tl_user(), u);
		cr_expect_eq(status("svc", a), 401);
		free(a);
		free(u);
	}
	a = basic(tl_user(), tok);
	cr_expect_eq(status("svc", a), 200);
	free(a);
	free(tok);
}

/* n unknown ids (valid checksums) from the client a trusted proxy names
 * in xff: each a 401. */
static void
guess_from(const char *xff, const char *like, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char *u = tl_fmt("Bearer apitok_%012d_%s", i, like + 20);
		struct th_resp r;

		tl_token_recrc(u + 7);
		r = ask2("svc", u, "-H", xff);
		cr_expect_eq(r.status, 401);
		th_resp_free(&r);
		free(u);
	}
}

static int
status_from(const char *auth, const char *xff)
{
	struct th_resp r = ask2("svc", auth, "-H", xff);
	int s = r.status;

	th_resp_free(&r);
	return s;
}

/* An address lockout is listed by tokenctl lockouts (text and JSON) and
 * cleared by tokenctl unlock --address, in any spelling of it. */
Test(http, address_lockouts_are_listed_and_cleared)
{
	const char *v4 = "X-Forwarded-For: 203.0.113.9";
	const char *v6 = "X-Forwarded-For: 2001:DB8:0::9";
	char *tok, *a, *out;

	TL_NEED_ROOT("tokenctl lockouts and unlock are root's");
	th_start(&H, "http_trusted_proxies: [127.0.0.1]\nmax_failures: 3\n");
	tok = td_issue(H.d, tl_user(), "--label", "t", NULL);
	a = bearer("Bearer", tok);
	guess_from(v4, tok, 3);
	guess_from(v6, tok, 3);
	cr_assert_eq(status_from(a, v4), 401, "address not throttled");
	cr_assert_eq(status_from(a, v6), 401, "address not throttled");
	cr_assert(td_log_wait(H.d, "lockout rhost=2001:db8::9", 5000));

	cr_assert_eq(td_ctl(H.d, &out, "lockouts", NULL), 0);
	cr_assert_not_null(strstr(out, "\naddress 203.0.113.9    -  "), "%s",
	    out);
	cr_assert_not_null(strstr(out, "\naddress 2001:db8::9 "), "%s", out);
	cr_assert_eq(tl_count_lines(out), 3, "%s", out);
	free(out);
	cr_assert_eq(td_ctl(H.d, &out, "lockouts", "--json", NULL), 0);
	cr_assert_not_null(strstr(out, "\"kind\": \"address\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"address\": \"203.0.113.9\""), "%s",
	    out);
	cr_assert_not_null(strstr(out, "\"failures\": 3"), "%s", out);
	free(out);

	cr_assert_eq(td_ctl(H.d, &out, "unlock", "--address",
	    "::ffff:203.0.113.9", NULL), 0);
	cr_assert_str_eq(out, "unlocked address 203.0.113.9\n");
	free(out);
	cr_assert(td_log_wait(H.d, "unlock rhost=203.0.113.9 by caller_pid=",
	    5000));
	cr_expect_eq(status_from(a, v4), 200, "still locked out");
	cr_expect_eq(status_from(a, v6), 401, "the other address unlocked");
	cr_assert_eq(td_ctl(H.d, &out, "unlock", "--address", "2001:db8::9",
	    NULL), 0);
	cr_assert_str_eq(out, "unlocked address 2001:db8::9\n");
	free(out);
	cr_expect_eq(status_from(a, v6), 200, "still locked out");
	cr_assert_eq(td_ctl(H.d, &out, "unlock", "--address", "2001:db8::9",
	    NULL), 0);
	cr_assert_str_eq(out, "address 2001:db8::9 was not locked out\n");
	free(out);
	cr_assert_eq(td_ctl(H.d, &out, "lockouts", NULL), 0);
	cr_assert_str_eq(out, "no lockouts\n");
	free(out);
	cr_assert_eq(td_ctl(H.d, &out, "unlock", "--address", "203.0.113.",
	    NULL), 2, "a bad address is a usage error");
	free(out);
	free(a);
	free(tok);
}

Test(http, decisions_are_logged_never_the_token)
{
	char *tok, *a, *log;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "logged", "--service",
	    "billing-api", NULL);
	a = bearer("ApiKey", tok);
	cr_expect_eq(status("billing-api", a), 200);
	cr_expect_eq(status("other", a), 403);
	free(a);
	a = basic(tl_user(), tok);
	cr_expect_eq(status("billing-api", a), 200);
	cr_assert(td_log_wait(H.d, "method=basic", 5000));
	log = td_log(H.d);
	cr_expect_not_null(strstr(log, "accepted token="));
	cr_expect_not_null(strstr(log, "service=billing-api rhost=127.0.0.1 "
	    "reason=accepted front=http"));
	cr_expect_not_null(strstr(log, "reason=service-not-allowed "
	    "front=http"));
	cr_expect_not_null(strstr(log, "method=apikey"));
	cr_expect_null(strstr(log, tok + 20), "the secret is in the log");
	cr_expect_null(strstr(log, a + 6), "the Basic credential is logged");
	free(log);
	free(a);
	free(tok);
}

/* ------------------------------------------------ hostile clients */

Test(http, header_size_limits)
{
	char *tok, *big, *a, *u;
	struct th_resp r;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "h", NULL);
	a = tl_fmt("Authorization: Bearer %s", tok);
	u = url("/auth/svc");
	big = calloc(1, 70000);
	cr_assert_not_null(big);
	memcpy(big, "X-Filler: ", 10);
	memset(big + 10, 'a', 4000);
	r = th_curl(u, "-H", a, "-H", big, NULL);
	cr_expect_eq(r.status, 200, "a 4 KiB header: %d", r.status);
	th_resp_free(&r);
	memset(big + 10, 'a', 65000);
	r = th_curl(u, "-H", a, "-H", big, NULL);
	cr_expect(r.status != 200 && (r.status == 0 || r.status >= 400),
	    "a 64 KiB header: %d", r.status);
	th_resp_free(&r);
	memset(big + 21, 'a', 65000);	/* a huge Authorization value */
	memcpy(big, "Authorization: Bearer ", 22);
	r = th_curl(u, "-H", big, NULL);
	cr_expect(r.status != 200, "a 64 KiB credential: %d", r.status);
	th_resp_free(&r);
	r = th_curl(u, "-H", a, NULL);
	cr_expect_eq(r.status, 200, "not serving after: %d", r.status);
	th_resp_free(&r);
	free(big);
	free(u);
	free(a);
	free(tok);
}

Test(http, slow_client_dropped_without_hurting_others)
{
	static const char req[] = "GET /auth/svc HTTP/1.1\r\nHost: a\r\n"
	    "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	char *tok, *a;
	int64_t start, took;
	size_t i;
	int fd, closed = 0;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "s", NULL);
	a = bearer("Bearer", tok);
	fd = th_connect(H.port, 2000);
	cr_assert(fd >= 0);
	start = tl_now_ms();
	for (i = 0; i < sizeof(req) - 1 && tl_now_ms() - start < 30000; i++) {
		int64_t t0 = tl_now_ms();
		char c;

		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1 ||
		    recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
			closed = 1;
			break;
		}
		/* others are served at once meanwhile */
		cr_expect_eq(status("svc", a), 200);
		took = tl_now_ms() - t0;
		cr_expect(took < 5000, "a request took %lld ms",
		    (long long)took);
		if (took < 1000)
			usleep((useconds_t)(1000 - took) * 1000);
	}
	took = tl_now_ms() - start;
	cr_expect(closed, "the slow client was never dropped");
	cr_expect(took < 15000, "dropped after %lld ms", (long long)took);
	close(fd);
	cr_assert(td_log_wait(H.d, "no whole request", 5000));
	free(a);
	free(tok);
}

Test(http, five_hundred_concurrent_connections)
{
	enum { N = 500 };
	static int fds[N];
	char *tok, *req;
	int i, ok = 0;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "c", NULL);
	req = tl_fmt("GET /auth/svc HTTP/1.1\r\nHost: a\r\nAuthorization: "
	    "Bearer %s\r\n\r\n", tok);
	for (i = 0; i < N; i++) {
		fds[i] = th_connect(H.port, 30000);
		cr_assert(fds[i] >= 0, "connection %d refused", i);
	}
	for (i = 0; i < N; i++)
		cr_assert_eq(th_send(fds[i], req, strlen(req)), 0);
	for (i = 0; i < N; i++) {
		ok += th_read_status(fds[i]) == 200;
		close(fds[i]);
	}
	cr_expect_eq(ok, N, "%d of %d answered 200", ok, N);
	free(req);
	free(tok);
}

Test(http, keep_alive_serves_many_requests_on_one_connection)
{
	char *tok, *req;
	int fd, i, ok = 0;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "k", NULL);
	req = tl_fmt("GET /auth/svc HTTP/1.1\r\nHost: a\r\nAuthorization: "
	    "Bearer %s\r\n\r\n", tok);
	fd = th_connect(H.port, 10000);
	cr_assert(fd >= 0);
	for (i = 0; i < 50; i++) {
		cr_assert_eq(th_send(fd, req, strlen(req)), 0);
		ok += th_read_status(fd) == 200;
	}
	cr_expect_eq(ok, 50);
	close(fd);
	free(req);
	free(tok);
}

/* ------------------------------------------------ Unix socket, reload */

Test(http, unix_socket_and_its_trusted_peer)
{
	char *tok, *path, *yaml, *a;
	struct th_resp r;
	char dir[256];

	tl_tmpdir(dir, sizeof(dir), "apitokend-http");
	path = tl_fmt("%s/http.sock", dir);
	yaml = tl_fmt("http_listen: [\"unix:%s\"]\n"
	    "http_trusted_proxies: [unix]\n", path);
	H.d = td_start(yaml);
	tok = td_issue(H.d, tl_user(), "--label", "u", "--from",
	    "10.1.0.0/16", NULL);
	a = tl_fmt("Authorization: Bearer %s", tok);
	for (int i = 0; i < 3000 && access(path, F_OK) != 0; i++)
		usleep(10000);
	r = th_curl("http://localhost/auth/svc", "--unix-socket", path, "-H",
	    a, "-H", "X-Forwarded-For: 10.1.2.3", NULL);
	cr_expect_eq(r.status, 200, "%d", r.status);
	th_resp_free(&r);
	r = th_curl("http://localhost/auth/svc", "--unix-socket", path, "-H",
	    a, NULL);
	cr_expect_eq(r.status, 403, "no address named: %d", r.status);
	th_resp_free(&r);
	th_stop(&H);
	cr_expect_neq(access(path, F_OK), 0, "socket left behind");
	tl_rmrf(dir);
	free(a);
	free(yaml);
	free(path);
	free(tok);
}

Test(http, reload_takes_trusted_proxies_and_warns_on_listen)
{
	char *tok, *a, *yaml;
	struct th_resp r;

	th_start(&H, NULL);
	tok = td_issue(H.d, tl_user(), "--label", "r", "--from", "10.1.0.0/16",
	    NULL);
	a = bearer("Bearer", tok);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3");
	cr_expect_eq(r.status, 403);
	th_resp_free(&r);
	yaml = tl_fmt("http_listen: [\"127.0.0.1:%d\"]\n"
	    "http_trusted_proxies: [127.0.0.0/8]\n", H.port);
	td_config(H.d, yaml);
	free(yaml);
	td_reload(H.d);
	r = ask2("svc", a, "-H", "X-Forwarded-For: 10.1.2.3");
	cr_expect_eq(r.status, 200);
	th_resp_free(&r);
	yaml = tl_fmt("http_listen: [\"127.0.0.1:%d\"]\n", th_free_port());
	td_config(H.d, yaml);
	free(yaml);
	td_reload(H.d);
	cr_expect(td_log_wait(H.d, "http_listen changed", 5000));
	cr_expect_eq(status("svc", "Bearer x"), 401, "old address gone");
	free(a);
	free(tok);
}
