/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * th.h - helpers for the HTTP endpoint tests (tests/daemon/test_http*.c):
 * a free loopback port, apitokend started with http_listen on it, curl
 * as the client, and a raw socket client for what curl will not send.
 */
#ifndef TESTS_DAEMON_TH_H
#define TESTS_DAEMON_TH_H

#include "td.h"

/* An apitokend with HTTP on 127.0.0.1:port (and yaml_extra). */
struct th {
	struct td *d;
	int port;
	char base[64];		/* "http://127.0.0.1:PORT" */
};

/* A loopback TCP port nothing listens on now (bind to 0, read, close). */
int th_free_port(void);
/* Start apitokend with http_listen on a free port; waits until the port
 * answers too. */
void th_start(struct th *h, const char *yaml_extra);
void th_stop(struct th *h);
/* Poll until 127.0.0.1:port accepts a connection (dies after 30 s). */
void th_wait_port(int port);

/* One HTTP answer. */
struct th_resp {
	int status;		/* 0: none (connection closed, timed out) */
	char *head;		/* the response head, lower-cased names */
	char *body;
};

/* curl -s URL with the extra arguments (NULL-terminated): the head and
 * the body. */
struct th_resp th_curl(const char *url, ...);
/* The value of header name (lower case) in r, malloc'ed, or NULL. */
char *th_header(const struct th_resp *r, const char *name);
void th_resp_free(struct th_resp *r);

/* A connected TCP socket to 127.0.0.1:port with timeout_ms on reads
 * and writes; -1 on failure. */
int th_connect(int port, int timeout_ms);
/* Send the whole of req; 0 or -1. */
int th_send(int fd, const char *req, size_t len);
/* Read one response head (up to "\r\n\r\n") and return its status, 0
 * when the connection closed or timed out first. */
int th_read_status(int fd);

#endif
