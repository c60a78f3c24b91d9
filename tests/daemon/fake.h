/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake.h - a tiny stand-in for apitokend, forked by a test on a private
 * socket, for the client's side of the protocol: it checks the request it
 * gets and answers what the test scripted, or misbehaves on purpose
 * (silent, hangs up, garbage, half an answer...).  One connection each.
 */
#ifndef TESTS_DAEMON_FAKE_H
#define TESTS_DAEMON_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "apitoken.h"

#define FAKE_FIELDS 16

/* What the fake server does with its one connection. */
enum fake_act {
	FAKE_REPLY,	/* check the request, send the scripted reply */
	FAKE_SILENT,	/* check the request, never answer */
	FAKE_CLOSE,	/* check the request, hang up */
	FAKE_GARBAGE,	/* answer bytes that are not a message */
	FAKE_BAD_LEN,	/* a length past APITOKEN_MSG_MAX */
	FAKE_HALF,	/* half an answer, then hang up */
	FAKE_SLAM,	/* hang up before reading anything */
};

struct fake {
	char dir[64];		/* temp dir, 0755 */
	char sock[96];		/* dir/d.sock: daemon_socket */
	char conf[96];		/* dir/apitoken.yaml naming it */
	struct apitoken_config *cfg;
	pid_t pid;		/* the server, or -1 */
	/* the request it expects: op, and (tag, value) pairs it must hold */
	uint8_t want_op;
	size_t nwant;
	uint8_t want_tag[FAKE_FIELDS];
	const char *want_val[FAKE_FIELDS];
	/* the reply it sends */
	uint8_t op;
	size_t n;
	uint8_t tag[FAKE_FIELDS];
	const char *val[FAKE_FIELDS];
};

void fake_setup(struct fake *f);
void fake_teardown(struct fake *f);
void fake_expect(struct fake *f, uint8_t tag, const char *val);
void fake_reply(struct fake *f, uint8_t tag, const char *val);
/* Bind f->sock and fork the server; returns once it listens.  uid != 0:
 * the server listens as uid (the socket file stays root's). */
void fake_serve(struct fake *f, enum fake_act a, uid_t uid);
/* Wait for the server: its exit status (0: the request was as expected,
 * 3: it was not), or 128 + signal. */
int fake_wait(struct fake *f);
/* A socket bound to path (not listening); dies on failure. */
int fake_bind(const char *path);

#endif
