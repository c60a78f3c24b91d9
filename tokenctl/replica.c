/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica.c - tokenctl replica status: this host's replica of the
 * fleet's PostgreSQL store, as apitokend last wrote it in the replica
 * state (apitoken_replica_state_read): connected or not, cursor, last
 * sync and its age, staleness against max_staleness, last-use reports
 * not sent yet, the server, the last error.
 *
 * Exit status (tokenctl(8)): 0 synced within max_staleness, 1 stale or
 * never synced, 3 no postgresql in the config, 4 the state unreadable.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

struct status {
	struct apitoken_replica_state st;
	int have;		/* a state file (else never synced) */
	int running;		/* the apitokend that wrote it is alive */
	int stale;
	int64_t max;		/* max_staleness, or APITOKEN_NEVER */
};

/* "24h", "90s", "never". */
static void
span(int64_t s, char *buf, size_t size)
{
	if (s == APITOKEN_NEVER)
		snprintf(buf, size, "never");
	else if (s > 0 && s % 86400 == 0)
		snprintf(buf, size, "%" PRId64 "d", s / 86400);
	else if (s > 0 && s % 3600 == 0)
		snprintf(buf, size, "%" PRId64 "h", s / 3600);
	else if (s > 0 && s % 60 == 0)
		snprintf(buf, size, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, size, "%" PRId64 "s", s);
}

static int
alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static const char *
connection(const struct status *s)
{
	if (!s->have)
		return "disconnected (never synced)";
	if (!s->running)
		return "disconnected (apitokend not running)";
	return s->st.connected ? "connected" : "disconnected";
}

static int
print_text(const struct ctl *ctl, const struct status *s)
{
	const struct apitoken_replica_state *st = &s->st;
	char when[96], max[32], *esc;

	span(s->max, max, sizeof(max));
	ctl_time_both(st->last_sync, ctl->now, "never", when, sizeof(when));
	esc = ctl_escape(st->server[0] != '\0' ? st->server : "-");
	printf("server:           %s\n", esc);
	free(esc);
	printf("connection:       %s\n", connection(s));
	printf("cursor:           %" PRIu64 ":%" PRId64 "\n", st->cursor_xid,
	    st->cursor_seq);
	printf("last sync:        %s\n", when);
	printf("staleness:        %s (max_staleness %s)\n", st->last_sync <= 0 ?
	    "never synced" : s->stale ? "stale" : "fresh", max);
	printf("pending reports:  %" PRId64 "\n", st->pending_reports);
	esc = ctl_escape(st->error[0] != '\0' ? st->error : "-");
	printf("last error:       %s\n", esc);
	free(esc);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_SYSTEM;
}

static json_t *
time_or_null(int64_t t)
{
	char buf[32];

	if (t <= 0 || apitoken_time_format(t, buf, sizeof(buf)) != 0)
		return json_null();
	return json_string(buf);
}

static int
print_json(const struct ctl *ctl, const struct status *s)
{
	const struct apitoken_replica_state *st = &s->st;
	json_t *o = json_object();
	char cur[48];

	snprintf(cur, sizeof(cur), "%" PRIu64 ":%" PRId64, st->cursor_xid,
	    st->cursor_seq);
	json_object_set_new(o, "server", st->server[0] != '\0' ?
	    json_string(st->server) : json_null());
	json_object_set_new(o, "running", json_boolean(s->running));
	json_object_set_new(o, "connected", json_boolean(s->running &&
	    st->connected));
	json_object_set_new(o, "cursor", json_string(cur));
	json_object_set_new(o, "last_sync", time_or_null(st->last_sync));
	json_object_set_new(o, "age", st->last_sync > 0 ?
	    json_integer(ctl->now - st->last_sync) : json_null());
	json_object_set_new(o, "max_staleness", s->max == APITOKEN_NEVER ?
	    json_null() : json_integer(s->max));
	json_object_set_new(o, "stale", json_boolean(s->stale));
	json_object_set_new(o, "pending_reports",
	    json_integer(st->pending_reports));
	json_object_set_new(o, "error", st->error[0] != '\0' ?
	    json_string(st->error) : json_null());
	return json_print(o, 0);
}

/* The state and what follows from it; exit status. */
static int
load_status(const struct ctl *ctl, struct status *s)
{
	char err[CTL_ERR_MAX];
	int r;

	memset(s, 0, sizeof(*s));
	if (apitoken_config_pg_conninfo(ctl->cfg) == NULL) {
		ctl_err("%s: no postgresql mapping: this host is no replica",
		    ctl->config_path);
		return CTL_EXIT_CONFIG;
	}
	r = apitoken_replica_state_read(ctl->cfg, &s->st, err, sizeof(err));
	if (r != 0 && r != APITOKEN_ERR_NOT_FOUND)
		return ctl_lib_fail(r, "replica state", err);
	s->have = r == 0;
	if (!s->have)
		memset(&s->st, 0, sizeof(s->st));
	s->running = s->have && alive(s->st.pid);
	s->max = apitoken_config_max_staleness(ctl->cfg);
	s->stale = apitoken_replica_stale(ctl->cfg, ctl->now) != 0;
	return CTL_EXIT_OK;
}

/* tokenctl replica status [--json] */
int
cmd_replica(struct ctl *ctl, int argc, char **argv)
{
	struct status s;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("replica", argc, argv, o)) != CTL_GO)
		return r;
	if (optind >= argc || strcmp(argv[optind], "status") != 0) {
		ctl_err(optind >= argc ? "no subcommand given (status)" :
		    "unknown subcommand (try 'status')");
		return ctl_help("replica", 0);
	}
	if (optind + 1 != argc) {
		ctl_err("unexpected argument '%s'", argv[optind + 1]);
		return ctl_help("replica", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK ||
	    (r = load_status(ctl, &s)) != CTL_EXIT_OK)
		return r;
	r = json ? print_json(ctl, &s) : print_text(ctl, &s);
	if (r != CTL_EXIT_OK)
		return r;
	return s.stale || s.st.last_sync <= 0 ? CTL_EXIT_REJECT : CTL_EXIT_OK;
}
