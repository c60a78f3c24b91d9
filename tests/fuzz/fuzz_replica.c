/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_replica.c - a fleet replica's state file "<store>.replica"
 * (apitoken-store(5), REPLICA STATE) from arbitrary bytes.
 *
 * Each input is written as the state file of a private 0700 temp dir
 * whose config names a postgresql server, then:
 *  - apitoken_replica_state_read: 0 (every field in range, text fields
 *    terminated and free of control characters), or a code that leaves
 *    the state zeroed and a one-line message naming the file;
 *  - a state that reads is written back and read again: the same state
 *    (round trip), and read twice the file gives the same bytes;
 *  - apitoken_replica_stale agrees with the rule: stale unless it read
 *    and last_sync is within max_staleness (24h) of now.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

#define NOW ((time_t)1750000000)

static struct apitoken_config *cfg;
static char path[700];

static void
check_text(const char *s, size_t size, const char *what)
{
	size_t i, n = strnlen(s, size);

	FUZZ_ASSERT(n < size, "%s not terminated", what);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
		    "%s holds a control character", what);
}

static void
check_state(const struct apitoken_replica_state *st)
{
	FUZZ_ASSERT(st->cursor_seq >= 0 && st->last_sync >= 0 &&
	    st->updated >= 0 && st->pending_reports >= 0 && st->pid >= 0,
	    "a negative field");
	FUZZ_ASSERT(st->connected == 0 || st->connected == 1, "connected %d",
	    st->connected);
	check_text(st->server, sizeof(st->server), "server");
	check_text(st->error, sizeof(st->error), "error");
}

static void
round_trip(const struct apitoken_replica_state *st)
{
	struct apitoken_replica_state again;
	char err[512];
	int r;

	r = apitoken_replica_state_write(cfg, st, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "a state that read does not write: %s", err);
	r = apitoken_replica_state_read(cfg, &again, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "a written state does not read: %s", err);
	FUZZ_ASSERT(memcmp(st, &again, sizeof(again)) == 0,
	    "the state changed through write and read");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apitoken_replica_state st;
	char err[512];
	int r, stale, want;

	tl_write_file(path, data, size, 0600);
	memset(&st, 0x5a, sizeof(st));
	memset(err, 0x5a, sizeof(err));
	r = apitoken_replica_state_read(cfg, &st, err, sizeof(err));
	stale = apitoken_replica_stale(cfg, NOW);
	if (r == 0) {
		check_state(&st);
		want = st.last_sync == 0 || NOW - st.last_sync > 86400;
		FUZZ_ASSERT(stale == want, "stale %d, last_sync %lld", stale,
		    (long long)st.last_sync);
		round_trip(&st);
		return 0;
	}
	FUZZ_ASSERT(stale == 1, "an unreadable state is not stale (%d)", r);
	FUZZ_ASSERT(r == APITOKEN_ERR_STORE_FORMAT, "state_read returned %d",
	    r);
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL, "err not terminated");
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0,
	    "message does not name the file: %s", err);
	FUZZ_ASSERT(strpbrk(err, "\r\n") == NULL, "message is not one line: %s",
	    err);
	FUZZ_ASSERT(st.last_sync == 0 && st.server[0] == '\0',
	    "state not cleared on error");
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct fuzz_env *e = fuzz_env();
	char text[1400], err[512];

	(void)argc;
	(void)argv;
	snprintf(text, sizeof(text), "store: %s\nstate_dir: %s\npostgresql:\n"
	    "  conninfo: host=/nonexistent dbname=apitoken\n", e->store,
	    e->state);
	tl_write_file(e->conf, text, strlen(text), 0600);
	if (apitoken_config_load(e->conf, &cfg, err, sizeof(err)) != 0)
		fuzz_fail(__FILE__, __LINE__, "config", "%s", err);
	snprintf(path, sizeof(path), "%s.replica", e->store);
	return 0;
}
