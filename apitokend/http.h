/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h - the HTTP forward-auth front end (http.c) and its helpers:
 * client addresses and trusted proxies (http_addr.c), the request
 * deadline that drops slow clients (http_reap.c).
 */
#ifndef APITOKEND_HTTP_H
#define APITOKEND_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core.h"

/* Limits (apitokend(8), HTTP). */
#define HTTP_THREADS 2		/* libmicrohttpd's pool, per address */
#define HTTP_MAX_CONNS 1024	/* concurrent connections, per address */
#define HTTP_IDLE_TIMEOUT 10	/* s without a byte: closed */
#define HTTP_REQUEST_TIMEOUT 5	/* s to send a whole request head */
#define HTTP_CONN_MEMORY 16384	/* per connection: bounds the head */

#define HTTP_HDR_USER "X-Apitoken-User"
#define HTTP_HDR_ID "X-Apitoken-Id"
#define HTTP_HDR_LABEL "X-Apitoken-Label"

extern const struct front http_front;

/* http.c: the status for a decision; *error the RFC 6750 error code
 * for WWW-Authenticate, or NULL. */
unsigned http_status(enum apitoken_reason reason, const char **error);

/* http_addr.c */
/* Take cfg's http_trusted_proxies for the next requests; 0 or -1. */
int http_proxies_set(const struct apitoken_config *cfg);
void http_proxies_clear(void);
/* 1 if peer (an address literal, or "unix") is a trusted proxy. */
int http_proxy_trusted(const char *peer);
/* The last entry of an X-Forwarded-For value into out, "" if it is not
 * an address literal. */
void http_xff_last(const char *xff, char *out, size_t outsize);
/* s (n bytes, blanks around it dropped) into out if it is an address
 * literal, in its one spelling (apitoken_addr_canon), else "". */
void http_addr_copy(const char *s, size_t n, char *out, size_t outsize);
/* The sockaddr of a parsed http_listen entry. */
void http_sockaddr(const struct apitoken_listen *l,
    struct sockaddr_storage *ss, socklen_t *len);
/* Remove a leftover Unix socket at path (only a socket); 0 or -1. */
int http_unlink_stale(const char *path);

/* http_reap.c: each connection must complete a request head within
 * HTTP_REQUEST_TIMEOUT of its start or of its last answer; a reaper
 * thread shuts down those that do not (a client sending a byte a
 * second is dropped without holding a thread). */
int http_reap_start(char *err, size_t errlen);
void http_reap_stop(void);
void http_reap_notify(void *cls, struct MHD_Connection *conn,
    void **socket_ctx, enum MHD_ConnectionNotificationCode code);
void http_reap_completed(void *cls, struct MHD_Connection *conn,
    void **req, enum MHD_RequestTerminationCode code);

#endif
