/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * td_fake.h - a tiny stand-in for apitokend, forked by a test on a private
 * socket, for the client's side of the protocol: it checks the request it
 * gets and answers what the test scripted, or misbehaves on purpose
 * (silent, hangs up, garbage, half an answer...).  One connection each.
 */
#ifndef TESTS_DAEMON_TD_FAKE_H
#define TESTS_DAEMON_TD_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "apitoken.h"

#define TD_FAKE_FIELDS 16

/* What the fake server does with its one connection. */
enum td_fake_act {
	TD_FAKE_REPLY,	/* check the request, send the scripted reply */
	TD_FAKE_SILENT,	/* check the request, never answer */
	TD_FAKE_CLOSE,	/* check the request, hang up */
	TD_FAKE_GARBAGE,	/* answer bytes that are not a message */
	TD_FAKE_BAD_LEN,	/* a length past APITOKEN_MSG_MAX */
	TD_FAKE_HALF,	/* half an answer, then hang up */
	TD_FAKE_SLAM,	/* hang up before reading anything */
};

struct td_fake {
	char dir[64];		/* temp dir, 0755 */
	char sock[96];		/* dir/d.sock: daemon_socket */
	char conf[96];		/* dir/apitoken.yaml naming it */
	struct apitoken_config *cfg;
	pid_t pid;		/* the server, or -1 */
	/* the request it expects: op, and (tag, value) pairs it must hold */
	uint8_t want_op;
	size_t nwant;
	uint8_t want_tag[TD_FAKE_FIELDS];
	const char *want_val[TD_FAKE_FIELDS];
	/* the reply it sends */
	uint8_t op;
	size_t n;
	uint8_t tag[TD_FAKE_FIELDS];
	const char *val[TD_FAKE_FIELDS];
};

void td_fake_setup(struct td_fake *f);
void td_fake_teardown(struct td_fake *f);
void td_fake_expect(struct td_fake *f, uint8_t tag, const char *val);
void td_fake_reply(struct td_fake *f, uint8_t tag, const char *val);
/* Bind f->sock and fork the server; returns once it listens.  uid != 0:
 * the server listens as uid (the socket file stays root's). */
void td_fake_serve(struct td_fake *f, enum td_fake_act a, uid_t uid);
/* Wait for the server: its exit status (0: the request was as expected,
 * 3: it was not), or 128 + signal. */
int td_fake_wait(struct td_fake *f);
/* A socket bound to path (not listening); dies on failure. */
int td_fake_bind(const char *path);

#endif
