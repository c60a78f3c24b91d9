/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * td.h - the apitokend test fixture (tests/daemon/, the test-daemon
 * binary).  td_start() runs build/apitokend -f in a fresh 0700 temp dir
 * with its own config, store, state_dir and socket, its stderr (the log
 * lines: -f copies syslog to stderr) in dir/log, and returns once the
 * socket answers; td_stop() ends it with SIGTERM and removes the dir.
 * A raw client over the apitoken_msg API (td_call, td_verify) is here
 * for the daemon's own tests; the library's client is apitoken_client_*.
 */
#ifndef TESTS_DAEMON_TD_H
#define TESTS_DAEMON_TD_H

#include <stddef.h>
#include <sys/types.h>

#include "apitoken.h"
#include "tl.h"

#define TD_DAEMON BUILD_DIR "/apitokend"

struct td {
	char dir[256];		/* mkdtemp, 0700 */
	char conf[300];		/* dir/apitoken.yaml */
	char store[300];	/* dir/db/tokens (tokenctl init made it) */
	char state[300];	/* dir/state */
	char sock[300];		/* dir/run/apitokend.sock (made by -f) */
	char log[300];		/* dir/log: the daemon's stderr */
	pid_t pid;
};

/* Start the daemon with yaml_extra (may be NULL) appended to its
 * config; dies if it does not answer within 30 s.  Free with td_stop. */
struct td *td_start(const char *yaml_extra);
/* SIGTERM, wait (SIGKILL after 30 s), remove the dir; the daemon's exit
 * status (0 for a clean exit; 128 + signal if killed). */
int td_stop(struct td *d);
/* Send sig and wait for the daemon to end (SIGKILL after 30 s); its
 * status as td_stop's.  The dir stays: td_restart runs it again. */
int td_kill(struct td *d, int sig);
/* Start the daemon again in the same dir; returns once it answers. */
void td_restart(struct td *d);
/* Rewrite the config (yaml_extra appended) without telling the daemon. */
void td_config(struct td *d, const char *yaml_extra);
/* SIGHUP and wait until the log says the reload ended (either way). */
void td_reload(struct td *d);

/* The log so far (malloc'ed, NUL-terminated). */
char *td_log(const struct td *d);
/* 1 once the log holds needle, polled up to ms; else 0. */
int td_log_wait(const struct td *d, const char *needle, int ms);

/* Run tokenctl -c conf with the NULL-terminated arguments; its exit
 * status; stdout (malloc'ed) in *out if out is not NULL. */
int td_ctl(struct td *d, char **out, ...);
/* Issue a token for user (extra tokenctl issue arguments, NULL-ended);
 * dies on failure; the token, malloc'ed. */
char *td_issue(struct td *d, const char *user, ...);

/* A connected socket to the daemon (blocking, 10 s timeouts), or -1. */
int td_connect(const struct td *d);
/* Send req on fd and read one reply into *reply (fields in buf, at
 * least 4 + APITOKEN_MSG_MAX bytes).  0, or -1 if none came. */
int td_exchange(int fd, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf);
/* Connect, exchange, close. */
int td_call(const struct td *d, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf);
/* VERIFY (rhost may be NULL); the reason the reply names (dies if there
 * is no valid reply).  The reply stays in *reply/buf if not NULL. */
enum apitoken_reason td_verify(const struct td *d, const char *user,
    const char *service, const char *rhost, const char *token,
    struct apitoken_msg *reply, unsigned char *buf);
/* The first field tag of m as a string (static), or NULL. */
const char *td_field(const struct apitoken_msg *m, uint8_t tag);

#endif
