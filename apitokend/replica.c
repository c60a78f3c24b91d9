/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica.c - the local store as a replica of the fleet's PostgreSQL
 * store (issue 13; apitokend(8), REPLICA).  One thread, started only
 * when the config has a postgresql mapping:
 *
 *   connect, LISTEN; a full snapshot when there is no replica state (or
 *   the change log no longer reaches back to its cursor); then changes
 *   in batches of REPLICA_BATCH, each one library transaction (the
 *   store is renamed into place: a kill mid-batch leaves the old one),
 *   the replica state written after each; last uses and this host's
 *   row reported; then wait for a NOTIFY, the poll interval or a signal.
 *   Any error: the state says disconnected and why, and the thread
 *   reconnects after an exponential backoff with jitter.
 *
 * The verify path sees each commit as any other (core.c re-opens a
 * store whose file changed) and refuses every token once the state's
 * last sync is older than max_staleness (the library's rule).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "replica.h"

struct replica {
	struct core *core;
	pthread_t th;
	int running;
	int wake;			/* eventfd: stop or reload */
	atomic_int stop, reload;
	/* the thread's own, across connections */
	struct apitoken_replica_state st;
	struct fleet_cursor cur;
	int synced;			/* cur is good: read or made */
	int lost;			/* a connection was lost; not back */
	int backoff_ms;
	unsigned seed;
	int64_t reported;		/* when the replicas row was sent */
	int64_t scanned;		/* when state_dir was last scanned */
	struct fleet_cursor reported_cur;
};

static struct replica R = { .wake = -1 };

/* ------------------------------------------------------------ waiting */

static void
wake_drain(void)
{
	uint64_t v;

	if (read(R.wake, &v, sizeof(v)) < 0)
		return;		/* EAGAIN: nothing to drain */
}

static int
asked_to_leave(void)
{
	return atomic_load(&R.stop) || atomic_load(&R.reload);
}

/* Sleep ms (-1: until woken); 1 if asked to stop or reload. */
static int
nap(int ms)
{
	struct pollfd p = { R.wake, POLLIN, 0 };

	if (poll(&p, 1, ms) > 0)
		wake_drain();
	return asked_to_leave();
}

/* The next reconnect wait: d doubles from REPLICA_BACKOFF_MIN_MS up to
 * REPLICA_BACKOFF_MAX_MS; the wait is random in [d/2, d], so that hosts
 * cut off together do not all come back in the same instant. */
static int
backoff_next(void)
{
	int d;

	if (R.backoff_ms == 0)
		R.backoff_ms = REPLICA_BACKOFF_MIN_MS;
	else if ((R.backoff_ms *= 2) > REPLICA_BACKOFF_MAX_MS)
		R.backoff_ms = REPLICA_BACKOFF_MAX_MS;
	d = R.backoff_ms;
	return d / 2 + (int)(rand_r(&R.seed) % (unsigned)(d / 2 + 1));
}

/*
 * Wait on the connection for a NOTIFY for up to ms: 0 (timed out or
 * notified: look for changes), 1 asked to stop or reload, or
 * FLEET_ERR_CONNECT when the connection broke.
 */
static int
wait_change(struct fleet *f, int ms, int *notified, char *err,
    size_t errlen)
{
	struct pollfd p[2] = { { PQsocket(f->conn), POLLIN, 0 },
		{ R.wake, POLLIN, 0 } };
	PGnotify *n;

	*notified = 0;
	/* a NOTIFY read along with a query's answer is queued already */
	if ((n = PQnotifies(f->conn)) == NULL &&
	    poll(p, 2, ms) < 0 && errno != EINTR)
		p[0].revents = POLLERR;
	if (p[1].revents != 0)
		wake_drain();
	if (asked_to_leave()) {
		PQfreemem(n);
		return 1;
	}
	if (n == NULL && p[0].revents != 0 && (!PQconsumeInput(f->conn) ||
	    PQstatus(f->conn) != CONNECTION_OK))
		return fleet_result(f, NULL, PGRES_COMMAND_OK, err, errlen);
	for (; n != NULL; n = PQnotifies(f->conn)) {
		*notified = 1;
		PQfreemem(n);
	}
	return 0;
}

/* -------------------------------------------------------------- state */

static void
state_write(const struct apitoken_config *cfg, int connected,
    const char *error)
{
	char err[512];

	R.st.cursor_xid = R.cur.xid;
	R.st.cursor_seq = R.cur.seq;
	R.st.updated = (int64_t)time(NULL);
	R.st.connected = connected;
	R.st.pending_reports = uses_pending();
	R.st.pid = (long)getpid();
	(void)snprintf(R.st.error, sizeof(R.st.error), "%s", error);
	if (apitoken_replica_state_write(cfg, &R.st, err, sizeof(err)) != 0)
		core_log(LOG_ERR, "replica: state not written: %s", err);
}

/* The cursor of the state on disk, unless this thread has one: 1 if
 * there is none to go on from (never synced: a snapshot is due). */
static int
need_snapshot(const struct apitoken_config *cfg)
{
	struct apitoken_replica_state st;
	struct apitoken_store *s = NULL;
	char err[512];

	if (R.synced)
		return 0;
	if (apitoken_replica_state_read(cfg, &st, err, sizeof(err)) != 0 ||
	    st.last_sync <= 0)
		return 1;
	if (apitoken_store_open(cfg, &s, err, sizeof(err)) != 0)
		return 1;	/* the store is gone or bad: start over */
	apitoken_store_close(s);
	R.st.last_sync = st.last_sync;
	R.cur.xid = st.cursor_xid;
	R.cur.seq = st.cursor_seq;
	R.synced = 1;
	return 0;
}

/* The number of records in the store, for the log; 0 if unknown. */
static size_t
store_size(const struct apitoken_config *cfg)
{
	struct apitoken_store *s = NULL;
	char err[512];
	size_t n;

	if (apitoken_store_open(cfg, &s, err, sizeof(err)) != 0)
		return 0;
	n = apitoken_store_count(s);
	apitoken_store_close(s);
	return n;
}

static int
snapshot(struct fleet *f, const struct apitoken_config *cfg, char *err,
    size_t errlen)
{
	int r;

	if ((r = fleet_snapshot(f, cfg, &R.cur, err, errlen)) != 0)
		return r;
	R.synced = 1;
	R.st.last_sync = (int64_t)time(NULL);
	state_write(cfg, 1, "");
	core_log(LOG_NOTICE, "replica: snapshot taken (%zu records, cursor "
	    "%" PRIu64 ":%" PRId64 ")", store_size(cfg), R.cur.xid, R.cur.seq);
	return 0;
}

/* --------------------------------------------------------- one round */

/* Changes up to the present, batch by batch, each batch's state
 * written once it is in the store. */
static int
catch_up(struct fleet *f, const struct apitoken_config *cfg, size_t *total,
    char *err, size_t errlen)
{
	size_t n;
	int r, snapped = 0;

	*total = 0;
	do {
		r = fleet_catch_up(f, cfg, &R.cur, REPLICA_BATCH, &n, err,
		    errlen);
		if (r == FLEET_ERR_SNAPSHOT && snapped++ > 0)
			r = FLEET_ERR_SQL;	/* still: do not loop on it */
		if (r == FLEET_ERR_SNAPSHOT) {
			core_log(LOG_NOTICE, "replica: %s: taking a snapshot",
			    err);
			r = snapshot(f, cfg, err, errlen);
			n = REPLICA_BATCH;	/* and on from there */
		} else if (r == 0 && n > 0) {
			*total += n;
			R.st.last_sync = (int64_t)time(NULL);
			state_write(cfg, 1, "");
			core_log(LOG_INFO, "replica: batch applied (%zu "
			    "changes, cursor %" PRIu64 ":%" PRId64 ")", n,
			    R.cur.xid, R.cur.seq);
		}
	} while (r == 0 && n == REPLICA_BATCH && !asked_to_leave());
	return r;
}

/* Pending last uses to the central store, a batch at a time. */
static int
report_uses(struct fleet *f, const struct apitoken_config *cfg, char *err,
    size_t errlen)
{
	static struct fleet_use u[REPLICA_USE_BATCH];
	int64_t now = (int64_t)time(NULL);
	size_t n;
	int r;

	if (now - R.scanned >= REPLICA_SCAN_S || now < R.scanned) {
		/* a second back: a write in the second of the last scan */
		uses_scan(cfg, R.scanned > 0 ? R.scanned - 1 : 0);
		R.scanned = now;
	}
	while ((n = uses_take(u, REPLICA_USE_BATCH)) > 0) {
		r = fleet_report_uses(f, apitoken_config_host_name(cfg), u, n,
		    err, errlen);
		if (r != 0) {
			uses_restore(u, n);
			return r;
		}
	}
	return 0;
}

/* This host's row: when the cursor moved, and once a poll interval. */
static int
report_replica(struct fleet *f, const struct apitoken_config *cfg,
    char *err, size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	int r;

	if (R.reported_cur.xid == R.cur.xid &&
	    R.reported_cur.seq == R.cur.seq &&
	    now - R.reported < REPLICA_POLL_MS / 1000)
		return 0;
	r = fleet_replica_report(f, apitoken_config_host_name(cfg), &R.cur,
	    APITOKEND_VERSION, err, errlen);
	if (r == 0) {
		R.reported = now;
		R.reported_cur = R.cur;
	}
	return r;
}

static int
round_trip(struct fleet *f, const struct apitoken_config *cfg,
    size_t *total, char *err, size_t errlen)
{
	int r;

	if ((r = catch_up(f, cfg, total, err, errlen)) != 0 ||
	    (r = report_uses(f, cfg, err, errlen)) != 0 ||
	    (r = report_replica(f, cfg, err, errlen)) != 0)
		return r;
	R.st.last_sync = (int64_t)time(NULL);
	state_write(cfg, 1, "");
	return 0;
}

/* Rounds until an error (< 0 or FLEET_ERR_*) or a stop/reload (0). */
static int
follow(struct fleet *f, const struct apitoken_config *cfg, char *err,
    size_t errlen)
{
	int r, notified = 0, rechecks = 0;
	size_t n;

	for (;;) {
		if ((r = round_trip(f, cfg, &n, err, errlen)) != 0)
			return r;
		if (n > 0)
			rechecks = 0;
		else if (notified)
			rechecks = REPLICA_RECHECKS;
		else if (rechecks > 0)
			rechecks--;
		r = wait_change(f, rechecks > 0 ? REPLICA_RECHECK_MS :
		    REPLICA_POLL_MS, &notified, err, errlen);
		if (r != 0)
			return r > 0 ? 0 : r;
	}
}

/* One connection's life: 0 when asked to stop or reload, else the
 * error (err says it). */
static int
session(const struct apitoken_config *cfg, char *err, size_t errlen)
{
	struct fleet *f = NULL;
	int r;

	if ((r = fleet_connect(cfg, "apitokend", &f, err, errlen)) != 0)
		return r;
	if ((r = fleet_exec(f, "LISTEN " FLEET_CHANNEL, err, errlen)) != 0)
		goto out;
	(void)snprintf(R.st.server, sizeof(R.st.server), "%s", f->server);
	core_log(LOG_NOTICE, "replica: %s PostgreSQL server at %s",
	    R.lost ? "connection restored to" : "connected to", f->server);
	R.lost = 0;
	R.backoff_ms = 0;
	if (need_snapshot(cfg) && (r = snapshot(f, cfg, err, errlen)) != 0)
		goto out;
	r = follow(f, cfg, err, errlen);
out:
	fleet_close(f);
	return r;
}

/* ------------------------------------------------------------- thread */

/* Logged once an outage: the server's errors (FLEET_ERR_*) as a lost
 * connection, the library's (the local store) as a failed sync. */
static void
failed(const struct apitoken_config *cfg, int r, const char *err)
{
	if (!R.lost)
		core_log(LOG_ERR, "replica: %s: %s", r <= FLEET_ERR_CONNECT ?
		    "connection lost" : "sync failed", err);
	R.lost = 1;
	state_write(cfg, 0, err);
}

static void *
replica_main(void *arg)
{
	const struct apitoken_config *cfg;
	char err[512];
	int r;

	(void)arg;
	while (!atomic_load(&R.stop)) {
		atomic_store(&R.reload, 0);
		cfg = core_config_get(R.core);
		if (apitoken_config_pg_conninfo(cfg) == NULL) {
			core_config_put(R.core, cfg);
			/* postgresql gone: idle until a reload */
			(void)nap(-1);
			continue;
		}
		err[0] = '\0';
		if ((r = session(cfg, err, sizeof(err))) != 0)
			failed(cfg, r, err);
		else
			state_write(cfg, 0, "");	/* stop or reload */
		core_config_put(R.core, cfg);
		if (r != 0)
			(void)nap(backoff_next());
	}
	return NULL;
}

static int
replica_start(struct core *c, char *err, size_t errlen)
{
	const struct apitoken_config *cfg = core_config_get(c);
	int want = apitoken_config_pg_conninfo(cfg) != NULL;

	core_config_put(c, cfg);
	if (!want || R.running)
		return 0;
	R.core = c;
	R.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	atomic_store(&R.stop, 0);
	if ((R.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		(void)snprintf(err, errlen, "replica: %s", strerror(errno));
		return -1;
	}
	if (uses_init() != 0 ||
	    (errno = pthread_create(&R.th, NULL, replica_main, NULL)) != 0) {
		(void)snprintf(err, errlen, "replica: %s", strerror(errno));
		uses_free();
		close(R.wake);
		R.wake = -1;
		return -1;
	}
	R.running = 1;
	return 0;
}

static void
poke(void)
{
	uint64_t one = 1;

	if (write(R.wake, &one, sizeof(one)) < 0)
		return;		/* the counter is full: it is awake */
}

/* A reload: the thread reconnects with the new config (or idles when
 * postgresql was removed); a first postgresql starts it. */
static void
replica_reload(struct core *c)
{
	char err[256];

	if (!R.running) {
		if (replica_start(c, err, sizeof(err)) != 0)
			core_log(LOG_ERR, "%s", err);
		return;
	}
	atomic_store(&R.reload, 1);
	poke();
}

static void
replica_stop(void)
{
	if (!R.running)
		return;
	atomic_store(&R.stop, 1);
	poke();
	pthread_join(R.th, NULL);
	R.running = 0;
	close(R.wake);
	R.wake = -1;
	uses_free();
}

const struct front replica_front = {
	"replica", replica_start, replica_reload, replica_stop
};
