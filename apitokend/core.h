/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.h - apitokend's shared core: one verification path for every front
 * end (the Unix socket in sock.c, HTTP in http.c), with the store kept
 * open, throttling, last use and the decision log line.  Every function
 * here is safe to call from several threads at once (a mutex inside).
 *
 * Policy lives in libapitoken (apitoken_verify); who may ask is the front
 * end's business (sock.c: SO_PEERCRED and daemon_callers), never
 * core_verify's.
 */
#ifndef APITOKEND_CORE_H
#define APITOKEND_CORE_H

#include <stddef.h>
#include <sys/types.h>

#include "apitoken.h"

#define APITOKEND_VERSION "0.1.0"

struct core;

struct ask {			/* one verification, from any front end */
	uid_t uid;		/* caller (socket); (uid_t)-1 for HTTP */
	pid_t pid;		/* caller pid, 0 for HTTP */
	const char *comm;	/* caller program name or NULL */
	const char *front;	/* "socket" or "http", for the log */
	const char *method;	/* HTTP: "bearer" "apikey" "basic"; or NULL */
	const char *user;	/* claimed user; NULL = the token's owner */
	const char *service;
	const char *rhost;	/* IP literal or NULL */
	const char *token;	/* secret, len bytes */
	size_t len;
};

/*
 * Throttle check, store re-open when tokenctl committed (the store's
 * dev/ino/mtime/size compared at each request), apitoken_verify,
 * throttle update, last use on success, one syslog(LOG_AUTHPRIV)
 * decision line.  Fills *res; returns res->reason.  Never logs the
 * token or a hash.
 */
enum apitoken_reason core_verify(struct core *c, const struct ask *a,
    struct apitoken_result *res);

/* --- life cycle (main.c) */

/* A core on cfg (taken over: freed by core_free).  0, or -1 with err. */
int core_new(struct apitoken_config *cfg, struct core **cp, char *err,
    size_t errlen);
void core_free(struct core *c);
/* Swap in a new config (taken over) for the next requests; the store
 * is re-opened under it.  Requests in flight finish with the old one. */
void core_set_config(struct core *c, struct apitoken_config *cfg);

/* The current config, held until core_config_put: valid while held,
 * even across a reload.  Never NULL. */
const struct apitoken_config *core_config_get(struct core *c);
void core_config_put(struct core *c, const struct apitoken_config *cfg);

/* --- throttling (throttle.c), for the LOCKOUTS and UNLOCK ops
 *
 * Lockout entries, one line each (apitokend(8), THROTTLING):
 *   token <id> <until> <failures>
 *   user <uid> <user> <until> <failures>
 *   address <address> <until> <failures>
 * until is Unix seconds.  fn gets each; a non-zero return stops.
 */
typedef int (*core_entry_fn)(const char *entry, void *ctx);
/* Every current lockout. */
int core_lockouts(struct core *c, core_entry_fn fn, void *ctx);
/* Clear the lockouts (and failure counts) of token id, of user for
 * every caller, or of HTTP client address addr (apitoken_addr_canon's
 * spelling); exactly one of id, user and addr non-NULL.  fn gets each
 * lockout cleared.  Returns how many lockouts were cleared. */
int core_unlock(struct core *c, const char *id, const char *user,
    const char *addr, core_entry_fn fn, void *ctx);
/* Count one failure for (uid, user) outside core_verify (self-service's
 * wrong password).  1 if that pair is now locked out, else 0. */
int core_fail(struct core *c, uid_t uid, const char *user);
/* A success for (uid, user) outside core_verify (self-service's right
 * password): its failure count is forgotten, as a login's success does. */
void core_ok(struct core *c, uid_t uid, const char *user);
/* 1 if (uid, user) is locked out now. */
int core_locked(struct core *c, uid_t uid, const char *user);

/* 1 if a reply for reason r carries the record (T_LABEL, T_OWNER,
 * T_EXPIRES): only reasons reached with the right secret. */
int core_reply_has_record(enum apitoken_reason r);

/* --- logging (log.c): syslog, and stderr too in the foreground */
/* openlog(3) for the daemon; to_stderr: every line on stderr too. */
void core_log_open(int to_stderr);
void core_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The decision line of one verification (core_verify writes it; a front
 * end that refuses before core_verify, e.g. caller-not-allowed, too). */
void core_log_decision(const struct ask *a,
    const struct apitoken_result *res);

/* --- the Unix socket front end (sock.c) and self-service dispatch */

struct caller {			/* who is on a connection (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char comm[64];		/* /proc/<pid>/comm, escaped (log-safe);
				   "-" unknown */
	char name[APITOKEN_USER_MAX + 1];	/* user name; "" unknown */
};

/*
 * Self-service (ops 16..63, issue 16): the one dispatch point, written by
 * apitokend/self*.c.  Called in a worker thread of its own (at most
 * SELF_THREADS at once), so that a PAM conversation (OP_PROMPT and
 * OP_ANSWER on fd, each read bounded in time) never blocks the event
 * loop.  req is the first request, already parsed (its fields valid
 * during the call; a T_TOKEN or T_TEXT in it is wiped after).  The
 * function writes its replies on fd (blocking; fd has SO_SNDTIMEO and
 * SO_RCVTIMEO of IO_TIMEOUT_MS) and returns; the caller closes fd.
 * Returns 0, or -1 when the connection was abandoned (logged).
 */
int self_dispatch(struct core *c, int fd, const struct caller *who,
    const struct apitoken_msg *req);
#define SELF_THREADS 4

/* Bounded waits (apitokend(8), LIMITS). */
#define IO_TIMEOUT_MS 5000	/* a request must arrive within this */
#define IDLE_TIMEOUT_MS 10000	/* an idle kept-open connection closes */
#define MAX_CONNS 256		/* concurrent socket connections */
#define MAX_CONNS_UID 128	/* of them, one uid's (root: no limit) */

/* Write a whole message to a blocking fd (MSG_NOSIGNAL); 0 or -1.
 * Read one whole message from a blocking fd into buf (bufsize >=
 * APITOKEN_MSG_MAX) and parse it: 0, or -1 (closed, timed out or
 * malformed).  For self*.c. */
int msg_send(int fd, const struct apitoken_msg *m);
int msg_recv(int fd, unsigned char *buf, size_t bufsize,
    struct apitoken_msg *m);

/* --- front ends other than the socket (main.c starts them in order) */
struct front {
	const char *name;
	/* start with the core; 0, or -1 with err (the daemon exits) */
	int (*start)(struct core *c, char *err, size_t errlen);
	/* after a reload (may be NULL) */
	void (*reload)(struct core *c);
	/* stop before exit (may be NULL) */
	void (*stop)(void);
};

#endif
