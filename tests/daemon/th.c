/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * th.c - the HTTP endpoint test helpers (th.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

int
th_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		tl_die("no free port");
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
th_connect(int port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
th_wait_port(int port)
{
	int64_t end = tl_now_ms() + 30000;
	struct timespec ts = { 0, 10 * 1000000L };
	int fd;

	while (tl_now_ms() < end) {
		if ((fd = th_connect(port, 1000)) >= 0) {
			close(fd);
			return;
		}
		nanosleep(&ts, NULL);
	}
	tl_die("nothing answers on 127.0.0.1:%d within 30 s", port);
}

void
th_start(struct th *h, const char *extra)
{
	char *yaml;

	h->port = th_free_port();
	snprintf(h->base, sizeof(h->base), "http://127.0.0.1:%d", h->port);
	yaml = tl_fmt("http_listen: [\"127.0.0.1:%d\"]\n%s", h->port,
	    extra ? extra : "");
	h->d = td_start(yaml);
	free(yaml);
	th_wait_port(h->port);
}

void
th_stop(struct th *h)
{
	if (h->d != NULL && td_stop(h->d) != 0)
		tl_die("apitokend did not exit cleanly");
	h->d = NULL;
}

int
th_send(int fd, const char *req, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, req, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		req += n;
		len -= (size_t)n;
	}
	return 0;
}

int
th_read_status(int fd)
{
	char buf[8192];
	size_t o = 0;
	ssize_t n;
	int status = 0;

	while (o + 1 < sizeof(buf)) {
		n = recv(fd, buf + o, 1, 0);
		if (n <= 0)
			return 0;
		o += (size_t)n;
		buf[o] = '\0';
		if (o >= 4 && memcmp(buf + o - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	return status;
}

struct th_resp
th_curl(const char *url, ...)
{
	const char *argv[64];
	struct tl_cmd c = { 0 };
	struct tl_proc p;
	struct th_resp r = { 0, NULL, NULL };
	char hdr[] = "/tmp/th-head.XXXXXX";
	va_list ap;
	size_t n = 0, i;
	int fd = mkstemp(hdr);

	if (fd < 0)
		tl_die("mkstemp");
	close(fd);
	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "-D";
	argv[n++] = hdr;
	argv[n++] = "--max-time";
	argv[n++] = "20";
	va_start(ap, url);
	while ((argv[n] = va_arg(ap, const char *)) != NULL && n < 60)
		n++;
	va_end(ap);
	argv[n++] = url;
	argv[n] = NULL;
	c.argv = argv;
	c.search_path = 1;
	tl_run(&c, &p);
	r.body = p.out ? p.out : tl_fmt("%s", "");
	p.out = NULL;
	tl_proc_free(&p);
	r.head = tl_read_file(hdr, NULL);
	unlink(hdr);
	if (r.head == NULL)
		r.head = tl_fmt("%s", "");
	/* the last head (after any 100 Continue) */
	if (sscanf(r.head, "HTTP/1.%*d %d", &r.status) != 1)
		r.status = 0;
	for (i = 0; r.head[i] != '\0'; i++)	/* names lower case */
		if (i == 0 || r.head[i - 1] == '\n')
			for (; r.head[i] && r.head[i] != ':' &&
			    r.head[i] != '\n'; i++)
				r.head[i] = (char)tolower((unsigned char)
				    r.head[i]);
	return r;
}

char *
th_header(const struct th_resp *r, const char *name)
{
	char *want = tl_fmt("\n%s: ", name), *p, *end;
	size_t n;

	p = strstr(r->head, want);
	n = strlen(want);
	free(want);
	if (p == NULL)
		return NULL;
	p += n;
	end = p + strcspn(p, "\r\n");
	return tl_fmt("%.*s", (int)(end - p), p);
}

void
th_resp_free(struct th_resp *r)
{
	free(r->head);
	free(r->body);
	r->head = NULL;
	r->body = NULL;
}
