/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h - the Unix socket front end: the listening socket (passed by
 * systemd or made in the foreground), the event loop, and the requests
 * (ops.c) with the caller policy.  Private to apitokend/.
 */
#ifndef APITOKEND_SOCK_H
#define APITOKEND_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define PEER_GROUPS_MAX 64

/* Program names of recent callers by pid (peer.c), one per event loop:
 * /proc/<pid>/comm is read at most once a COMM_TTL_MS per process. */
#define COMM_SLOTS 64
#define COMM_TTL_MS 1000
struct comm_cache {
	struct {
		pid_t pid;
		uid_t uid;
		int64_t until;		/* monotonic ms */
		char comm[64];		/* escaped, as struct caller's */
	} e[COMM_SLOTS];
};

/* A caller and what was looked up about it (lazily, once a connection). */
struct peer {
	struct caller who;
	int named;		/* who.name looked up */
	int grouped;		/* groups looked up */
	size_t ngroups;
	char groups[PEER_GROUPS_MAX][36];	/* "@name" */
};

/* One reply and the storage its fields point into. */
struct reply {
	struct apitoken_msg m;
	struct apitoken_result res;
	char expires[24];
	char detail[128];
	char entries[APITOKEN_MSG_MAX];
	size_t used;		/* bytes of entries */
	size_t body;		/* encoded body size so far */
	size_t dropped;		/* entries that did not fit */
};

/* peer.c: fill p->who from the connection (SO_PEERCRED, /proc comm
 * through cc); 0 or -1. */
int peer_init(struct peer *p, int fd, struct comm_cache *cc);
/* 1 if p may verify user for service under cfg (apitokend(8), WHO MAY
 * ASK), else 0. */
int peer_may_verify(struct peer *p, const struct apitoken_config *cfg,
    const char *user, const char *service);

/* ops.c: answer req from p into *rp.  0: send rp->m; -1: malformed or
 * unknown (logged; close without a reply). */
int ops_handle(struct core *c, struct peer *p, const struct apitoken_msg *req,
    struct reply *rp);
/* 1 for a self-service op (16..63). */
int ops_is_self(uint8_t op);
/* A reply with only a reason (and a detail, may be NULL). */
void reply_reason(struct reply *rp, enum apitoken_reason r,
    const char *detail);

/* listen.c: the listening socket */
/* systemd's passed socket: 1 and *fdp, 0 if none passed, -1 (err). */
int listen_passed(const char *path, int *fdp, char *err, size_t errlen);
/* Create path's directory (0755) if missing, remove a stale socket
 * (nobody answering), bind, chmod 0666, listen.  0 or -1 (err). */
int listen_create(const char *path, int *fdp, char *err, size_t errlen);

/* sock_self.c: hand the self-service request body (len bytes) on fd to
 * a worker thread: 0 (fd is the worker's now), 1 (all busy: reply rp
 * instead), -1 (drop the connection). */
int sock_self_start(struct core *c, int fd, const struct peer *p,
    const unsigned char *body, size_t len, struct reply *rp);

/* sock.c: the event loops (one per CPU, at most 4), the first in the
 * calling thread.  on_signal is called for each signal read from sigfd
 * (in the calling thread); the loops end when it returns non-zero. */
int sock_run(struct core *c, int lfd, int sigfd,
    int (*on_signal)(int signo, void *ctx), void *ctx);

#endif
