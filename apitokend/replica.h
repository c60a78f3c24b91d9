/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica.h - apitokend keeps the local store a replica of the fleet's
 * PostgreSQL store (replica.c, its own thread, started only when the
 * config has a postgresql mapping; apitokend(8), REPLICA), and reports
 * the last uses it records back to it (replica_use.c).
 */
#ifndef APITOKEND_REPLICA_H
#define APITOKEND_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "fleet.h"

#define REPLICA_BATCH 20000	/* changes applied in one transaction */
#define REPLICA_POLL_MS 10000	/* backstop poll without a NOTIFY */
#define REPLICA_RECHECK_MS 200	/* after a NOTIFY that brought nothing
				   (a change behind an older open
				   transaction), looked for again ... */
#define REPLICA_RECHECKS 10	/* ... this many times */
#define REPLICA_BACKOFF_MIN_MS 500	/* reconnect: doubled per failure */
#define REPLICA_BACKOFF_MAX_MS 30000	/* up to this; jitter: each wait
					   a random time in [d/2, d] */
#define REPLICA_USE_INTERVAL 60	/* s: a token's use reported at most
				   once a minute */
#define REPLICA_USE_BATCH 5000	/* uses sent in one statement */
#define REPLICA_SCAN_S 10	/* state_dir's last uses looked at */

extern const struct front replica_front;

/* replica_use.c: the last uses not yet reported.  core.c calls
 * replica_used for each use it records (at most once a minute per
 * token); nothing is kept while no replica runs. */
void replica_used(const char *id, int64_t when);
/* Make the table (at start) or drop it (at stop): 0 or -1. */
int uses_init(void);
void uses_free(void);
/* Up to max pending uses into u (marked reported): how many. */
size_t uses_take(struct fleet_use *u, size_t max);
/* They could not be sent: pending again (unless a newer use came). */
void uses_restore(const struct fleet_use *u, size_t n);
/* How many are pending. */
int64_t uses_pending(void);
/* Note the uses recorded in cfg's state_dir since (Unix seconds). */
void uses_scan(const struct apitoken_config *cfg, int64_t since);

#endif
