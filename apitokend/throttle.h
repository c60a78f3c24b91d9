/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throttle.h - failure counts and lockouts, in memory (apitokend(8),
 * THROTTLING).  Three tables: per (caller uid, target user), per token
 * id and per HTTP client address, each capped at THROTTLE_MAX entries,
 * so that a flood of distinct user names cannot push out the per-token
 * counts.  Not thread-safe: the
 * core's mutex guards it.
 */
#ifndef APITOKEND_THROTTLE_H
#define APITOKEND_THROTTLE_H

#include <stdint.h>
#include <sys/types.h>

#include "core.h"

#define THROTTLE_MAX 16384	/* entries per table */
#define THROTTLE_BUCKETS 4096

/* T_ADDR: an HTTP client address that is not loopback, so in practice
 * one a trusted proxy named (apitokend(8), HTTP), in its one spelling
 * (apitoken_addr_canon). */
enum tkind { T_USER, T_TOKEN, T_ADDR, T_KINDS };

struct tentry;

struct ttable {
	struct tentry *b[THROTTLE_BUCKETS];
	size_t n;
	int64_t last_purge;	/* when a full table was last swept */
	int64_t full_logged;	/* when "table full" was last logged */
};

struct throttle {
	struct ttable t[T_KINDS];	/* by enum tkind */
	int64_t max;		/* max_failures */
	int64_t window;		/* failure_window, s */
	int64_t lockout;	/* lockout, s */
};

/* A key: T_USER (uid, name), T_TOKEN (name = id) or T_ADDR (name =
 * address). */
struct tkey {
	enum tkind kind;
	uid_t uid;
	const char *name;
};

void throttle_init(struct throttle *t, int64_t max, int64_t window,
    int64_t lockout);
void throttle_clear(struct throttle *t);
/* 1 and *until if k is locked out at now, else 0. */
int throttle_blocked(struct throttle *t, const struct tkey *k, int64_t now,
    int64_t *until);
/* Count a failure; 1 if k became locked out by it, else 0. */
int throttle_fail(struct throttle *t, const struct tkey *k, int64_t now);
/* A success: forget k. */
void throttle_ok(struct throttle *t, const struct tkey *k);
/* Each lockout current at now, as an entry line (core.h). */
int throttle_lockouts(struct throttle *t, int64_t now, core_entry_fn fn,
    void *ctx);
/* Forget every entry of kind with that name (any uid); fn gets each one
 * that was locked out at now.  Returns that number. */
int throttle_unlock(struct throttle *t, enum tkind kind, const char *name,
    int64_t now, core_entry_fn fn, void *ctx);

#endif
