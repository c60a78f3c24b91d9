/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_http_nginx.c - apitokend's HTTP endpoint behind real nginx with
 * auth_request (issue 12), configured as apitokend(8) shows: the right
 * Bearer, ApiKey and Basic credentials reach the upstream with
 * X-Apitoken-User set; a wrong, revoked (while nginx runs), disabled,
 * expired, other-service and out-of-range-source token does not, with
 * 401 or 403; a client's own X-Apitoken-User or X-Forwarded-For never
 * gets through.  nginx runs in the foreground (master_process off) in a
 * temp dir on free loopback ports.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

#define NGINX "/usr/sbin/nginx"

static struct th H;
static pid_t ngx_pid;
static char ngx_dir[256];
static char front[64];		/* "http://127.0.0.1:PORT" of nginx */

/*
 * The snippet of apitokend(8), HTTP, "nginx", in a test server: the
 * auth subrequest overwrites X-Forwarded-For with the client's address,
 * and the proxied request's X-Apitoken-User is always the one from the
 * decision (an empty value removes a header the client sent).  The
 * upstream echoes the header it got.
 */
static const char conf_fmt[] =
    "master_process off;\n"
    "daemon off;\n"
    "pid @DIR@/nginx.pid;\n"
    "error_log @DIR@/error.log warn;\n"
    "events { worker_connections 1024; }\n"
    "http {\n"
    "  access_log off;\n"
    "  client_body_temp_path @DIR@/t/body;\n"
    "  proxy_temp_path @DIR@/t/proxy;\n"
    "  fastcgi_temp_path @DIR@/t/fastcgi;\n"
    "  uwsgi_temp_path @DIR@/t/uwsgi;\n"
    "  scgi_temp_path @DIR@/t/scgi;\n"
    "  upstream apitokend {\n"
    "    server 127.0.0.1:@AUTH@;\n"
    "    keepalive 16;\n"
    "  }\n"
    "  server {\n"
    "    listen 127.0.0.1:@PORT@;\n"
    "    location = /_apitoken {\n"
    "      internal;\n"
    "      proxy_pass http://apitokend/auth/billing-api;\n"
    "      proxy_http_version 1.1;\n"
    "      proxy_set_header Connection \"\";\n"
    "      proxy_pass_request_body off;\n"
    "      proxy_set_header Content-Length \"\";\n"
    "      proxy_set_header X-Forwarded-For $remote_addr;\n"
    "    }\n"
    "    location /api/ {\n"
    "      auth_request /_apitoken;\n"
    "      auth_request_set $apitoken_user $upstream_http_x_apitoken_user;\n"
    "      proxy_set_header X-Apitoken-User $apitoken_user;\n"
    "      proxy_pass http://127.0.0.1:@UP@;\n"
    "    }\n"
    "  }\n"
    "  server {\n"
    "    listen 127.0.0.1:@UP@;\n"
    "    location / { return 200 \"upstream user=[$http_x_apitoken_user]\"; }\n"
    "  }\n"
    "}\n";

/* conf_fmt with each @NAME@ replaced. */
static char *
subst(const char *fmt, const char *dir, int auth, int port, int up)
{
	char *out = tl_fmt("%s", ""), *next;
	const char *p = fmt, *at;
	char num[16];

	while ((at = strchr(p, '@')) != NULL) {
		const char *v = NULL;

		if (strncmp(at, "@DIR@", 5) == 0)
			v = dir;
		else if (strncmp(at, "@AUTH@", 6) == 0)
			snprintf(num, sizeof(num), "%d", auth), v = num;
		else if (strncmp(at, "@PORT@", 6) == 0)
			snprintf(num, sizeof(num), "%d", port), v = num;
		else if (strncmp(at, "@UP@", 4) == 0)
			snprintf(num, sizeof(num), "%d", up), v = num;
		cr_assert_not_null(v);
		next = tl_fmt("%s%.*s%s", out, (int)(at - p), p, v);
		free(out);
		out = next;
		p = strchr(at + 1, '@') + 1;
	}
	next = tl_fmt("%s%s", out, p);
	free(out);
	return next;
}

static void
nginx_start(void)
{
	int port = th_free_port(), up = th_free_port();
	char *conf, *path, *t;

	tl_tmpdir(ngx_dir, sizeof(ngx_dir), "apitoken-nginx");
	t = tl_fmt("%s/t", ngx_dir);
	cr_assert_eq(mkdir(t, 0700), 0);
	free(t);
	conf = subst(conf_fmt, ngx_dir, H.port, port, up);
	path = tl_fmt("%s/nginx.conf", ngx_dir);
	tl_write_str(path, conf, 0600);
	snprintf(front, sizeof(front), "http://127.0.0.1:%d", port);
	ngx_pid = tl_fork();
	if (ngx_pid == 0) {
		char *err = tl_fmt("%s/stderr", ngx_dir);

		if (freopen(err, "a", stderr) == NULL)
			_exit(125);
		execl(NGINX, "nginx", "-p", ngx_dir, "-e", "stderr", "-c", path,
		    (char *)NULL);
		_exit(126);
	}
	free(conf);
	free(path);
	th_wait_port(port);
}

static void
nginx_stop(void)
{
	int st;

	if (ngx_pid > 0) {
		kill(ngx_pid, SIGTERM);
		waitpid(ngx_pid, &st, 0);
		ngx_pid = 0;
	}
	if (ngx_dir[0] != '\0')
		tl_rmrf(ngx_dir);
	ngx_dir[0] = '\0';
}

static void
setup(void)
{
	tl_watchdog(180);
	H.d = NULL;
	ngx_pid = 0;
	ngx_dir[0] = '\0';
	if (access(NGINX, X_OK) != 0)
		TL_SKIP("no %s (Debian package nginx-light)", NGINX);
	th_start(&H, "http_trusted_proxies: [127.0.0.1]\n");
	nginx_start();
}

static void
teardown(void)
{
	nginx_stop();
	th_stop(&H);
}

TestSuite(nginx, .init = setup, .fini = teardown);

/* GET /api/x through nginx with the header lines (NULL-ended). */
static struct th_resp
get(const char *h1, const char *h2)
{
	char *u = tl_fmt("%s/api/x", front);
	struct th_resp r;

	if (h1 != NULL && h2 != NULL)
		r = th_curl(u, "-H", h1, "-H", h2, NULL);
	else if (h1 != NULL)
		r = th_curl(u, "-H", h1, NULL);
	else
		r = th_curl(u, NULL);
	free(u);
	return r;
}

static void
expect_upstream(const char *h1, const char *h2, const char *user)
{
	struct th_resp r = get(h1, h2);
	char *want = tl_fmt("upstream user=[%s]", user);

	cr_expect_eq(r.status, 200, "%s: %d", h1 ? h1 : "-", r.status);
	cr_expect_str_eq(r.body, want, "%s", h1 ? h1 : "-");
	free(want);
	th_resp_free(&r);
}

static void
expect_denied(const char *h1, const char *h2, int status,
    const char *challenge)
{
	struct th_resp r = get(h1, h2);
	char *v = th_header(&r, "www-authenticate");

	cr_expect_eq(r.status, status, "%s: %d, want %d", h1 ? h1 : "-",
	    r.status, status);
	cr_expect_null(strstr(r.body, "upstream"), "reached the upstream");
	if (challenge != NULL) {
		cr_expect_not_null(v, "no WWW-Authenticate");
		if (v != NULL)
			cr_expect_str_eq(v, challenge);
	}
	free(v);
	th_resp_free(&r);
}

static char *
hdr(const char *scheme, const char *tok)
{
	return tl_fmt("Authorization: %s %s", scheme, tok);
}

#define INVALID "Bearer realm=\"billing-api\", error=\"invalid_token\""

Test(nginx, right_credentials_reach_the_upstream)
{
	char *tok = td_issue(H.d, tl_user(), "--label", "n", "--service",
	    "billing-api", NULL);
	char *h, *cred;
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	const char *argv[] = { "base64", "-w0", NULL };

	h = hdr("Bearer", tok);
	expect_upstream(h, NULL, tl_user());
	free(h);
	h = hdr("ApiKey", tok);
	expect_upstream(h, NULL, tl_user());
	free(h);
	cred = tl_fmt("%s:%s", tl_user(), tok);
	c.argv = argv;
	c.search_path = 1;
	c.input = cred;
	cr_assert_eq(tl_run(&c, &p), 0);
	h = tl_fmt("Authorization: Basic %s", p.out);
	expect_upstream(h, NULL, tl_user());
	tl_proc_free(&p);
	free(h);
	free(cred);
	free(tok);
}

Test(nginx, refused_tokens_do_not_reach_the_upstream)
{
	char *ok = td_issue(H.d, tl_user(), "--label", "ok", NULL);
	char *dis = td_issue(H.d, tl_user(), "--label", "dis", NULL);
	char *svc = td_issue(H.d, tl_user(), "--label", "svc", "--service",
	    "other-api", NULL);
	char *from = td_issue(H.d, tl_user(), "--label", "from", "--from",
	    "10.0.0.0/8", NULL);
	char *wrong = tl_fmt("%s", ok), *id, *h;

	wrong[strlen(wrong) - 7] ^= 1;
	tl_token_recrc(wrong);
	h = hdr("Bearer", wrong);
	expect_denied(h, NULL, 401, INVALID);
	free(h);
	expect_denied(NULL, NULL, 401, "Bearer realm=\"billing-api\"");
	id = tl_fmt("%.12s", dis + 7);
	cr_assert_eq(td_ctl(H.d, NULL, "disable", id, NULL), 0);
	free(id);
	h = hdr("Bearer", dis);
	expect_denied(h, NULL, 401, INVALID);
	free(h);
	/* nginx passes WWW-Authenticate on with a 401 only */
	h = hdr("Bearer", svc);
	expect_denied(h, NULL, 403, NULL);
	free(h);
	/* the client is 127.0.0.1; its own X-Forwarded-For is replaced */
	h = hdr("Bearer", from);
	expect_denied(h, NULL, 403, NULL);
	expect_denied(h, "X-Forwarded-For: 10.1.2.3", 403, NULL);
	free(h);
	h = hdr("Bearer", "garbage");
	expect_denied(h, NULL, 401, INVALID);
	free(h);
	expect_denied("Authorization: Foo bar", NULL, 500, NULL);
	free(ok);
	free(dis);
	free(svc);
	free(from);
	free(wrong);
}

Test(nginx, revoked_while_nginx_runs)
{
	char *tok = td_issue(H.d, tl_user(), "--label", "rev", NULL);
	char *h = hdr("Bearer", tok), *id = tl_fmt("%.12s", tok + 7);

	expect_upstream(h, NULL, tl_user());
	cr_assert_eq(td_ctl(H.d, NULL, "revoke", id, NULL), 0);
	expect_denied(h, NULL, 401, INVALID);
	free(id);
	free(h);
	free(tok);
}

Test(nginx, expired_while_nginx_runs)
{
	char *tok = td_issue(H.d, tl_user(), "--label", "exp", "--expires",
	    "2s", NULL);
	char *h = hdr("Bearer", tok);
	int64_t end = tl_now_ms() + 20000;
	struct th_resp r;
	int s;

	do {
		r = get(h, NULL);
		s = r.status;
		th_resp_free(&r);
		if (s == 200)
			usleep(200 * 1000);
	} while (s == 200 && tl_now_ms() < end);
	expect_denied(h, NULL, 401, INVALID);
	free(h);
	free(tok);
}

Test(nginx, a_client_cannot_set_the_identity_header)
{
	char *tok = td_issue(H.d, tl_user(), "--label", "spoof", NULL);
	char *h = hdr("Bearer", tok);

	/* with a good token: the decision's user, not the client's */
	expect_upstream(h, "X-Apitoken-User: admin", tl_user());
	/* without one: never reaches the upstream at all */
	expect_denied("X-Apitoken-User: admin", NULL, 401, NULL);
	expect_denied("Authorization: Bearer nope", "X-Apitoken-User: admin",
	    401, INVALID);
	free(h);
	free(tok);
}
