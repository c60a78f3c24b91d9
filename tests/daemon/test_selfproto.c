/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_selfproto.c - the self-service ops on the wire (issue 16;
 * apitokend(8), SELF-SERVICE PROTOCOL), without tokenctl: who may ask
 * (root never, a user only with self_service on), the caller's own
 * records only, another user's id answered as an unknown one, an op not
 * in use closing the connection, a request without its fields refused.
 */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "td.h"

static struct td *D;

static void
setup(void)
{
	tl_watchdog(120);
}

static void
teardown(void)
{
	td_stop(D);
	D = NULL;
}

TestSuite(selfproto, .init = setup, .fini = teardown);

/* As uid (a fork that drops to it), send req; the reply's reason,
 * status and first detail as "REASON STATUS DETAIL" into out, or
 * "closed" when none came. */
static void
call_as(uid_t uid, gid_t gid, const struct apitoken_msg *req, char *out,
    size_t size)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	struct apitoken_msg m;
	int p[2], st, fd;
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	pid = tl_fork();
	if (pid == 0) {
		char line[512] = "closed", why[64] = "", code[8] = "";
		char d[300];

		close(p[0]);
		if (setgid(gid) != 0 || setuid(uid) != 0)
			_exit(126);
		fd = td_connect(D);
		if (fd >= 0 && td_exchange(fd, req, &m, buf) == 0) {
			(void)!apitoken_msg_get(&m, APITOKEN_T_REASON, why,
			    sizeof(why));
			(void)!apitoken_msg_get(&m, APITOKEN_T_STATUS, code,
			    sizeof(code));
			if (apitoken_msg_get(&m, APITOKEN_T_DETAIL, d,
			    sizeof(d)) != 0)
				snprintf(d, sizeof(d), "-");
			snprintf(line, sizeof(line), "%s %s %s", why, code, d);
		}
		(void)!write(p[1], line, strlen(line));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
}

/* The daemon, its socket reachable by other users (the dir is 0700). */
static struct td *
start(const char *extra)
{
	struct td *d = td_start(extra);

	cr_assert_eq(chmod(d->dir, 0755), 0);
	return d;
}

static const struct passwd *
nobody(void)
{
	const struct passwd *pw = getpwnam("nobody");

	TL_NEED_ROOT("a request from another uid");
	if (pw == NULL)
		TL_SKIP("no user nobody");
	return pw;
}

Test(selfproto, who_may_ask)
{
	const struct passwd *pw = nobody();
	struct apitoken_msg req;
	char out[512];

	D = start(NULL);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_LIST);
	call_as(0, 0, &req, out, sizeof(out));
	cr_assert_eq(strncmp(out, "caller-not-allowed 1 root manages", 33),
	    0, "%s", out);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "caller-not-allowed 1 self-service is not "
	    "enabled (self_service.enabled)");
	td_stop(D);
	D = start("self_service:\n  enabled: true\n  users: [root]\n");
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert(strstr(out, "caller-not-allowed 1 self-service is not "
	    "allowed for user nobody") == out, "%s", out);
}

Test(selfproto, own_records_only)
{
	const struct passwd *pw = nobody();
	struct apitoken_msg req;
	char out[512], *mine, *other, *want, id[APITOKEN_ID_LEN + 1];

	D = start("self_service:\n  enabled: true\n  services: [sshd]\n");
	mine = td_issue(D, "nobody", "--label", "n", NULL);
	other = td_issue(D, "root", "--label", "r", NULL);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_LIST);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "accepted 0 -");
	/* another user's id: the same answer as an unknown one */
	snprintf(id, sizeof(id), "%.12s", strchr(other, '_') + 1);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_DISABLE);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_ID, id), 0);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	want = tl_fmt("unknown 1 no token with ID '%s'", id);
	cr_assert_str_eq(out, want);
	free(want);
	snprintf(id, sizeof(id), "%.12s", strchr(mine, '_') + 1);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_DISABLE);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_ID, id), 0);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "accepted 0 -");
	cr_assert(td_log_wait(D, "disable id=", 5000));
	cr_assert(td_log_wait(D, "via=self-service by=nobody", 5000));
	free(mine);
	free(other);
}

Test(selfproto, bad_requests)
{
	const struct passwd *pw = nobody();
	struct apitoken_msg req;
	char out[512];

	D = start("self_service:\n  enabled: true\n  services: [sshd]\n");
	apitoken_msg_init(&req, APITOKEN_OP_SELF_DISABLE);	/* no ID */
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "malformed 2 no token ID in the request");
	apitoken_msg_init(&req, APITOKEN_OP_SELF_ISSUE);	/* no record */
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert(strstr(out, "malformed 2 the request's token fields") ==
	    out, "%s", out);
	apitoken_msg_init(&req, 23);				/* not in use */
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "closed");
	cr_assert(td_log_wait(D, "self-service: unknown op 23", 5000));
}

/* A fleet host's store is a replica of PostgreSQL: a self-service change
 * would stay on this host alone, so only the list is answered. */
Test(selfproto, a_fleet_replica_takes_no_change)
{
	const struct passwd *pw = nobody();
	const char *self = "self_service:\n  enabled: true\n"
	    "  services: [sshd]\n";
	struct apitoken_msg req;
	char out[512], *mine, *extra, id[APITOKEN_ID_LEN + 1];

	D = start(self);
	mine = td_issue(D, "nobody", "--label", "n", NULL);
	extra = tl_fmt("%spostgresql:\n  conninfo: \"host=%s/nopg "
	    "dbname=apitoken\"\nmax_staleness: never\n", self, D->dir);
	td_config(D, extra);
	td_reload(D);
	snprintf(id, sizeof(id), "%.12s", strchr(mine, '_') + 1);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_DISABLE);
	cr_assert_eq(apitoken_msg_add_str(&req, APITOKEN_T_ID, id), 0);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "caller-not-allowed 1 self-service cannot "
	    "change tokens on a fleet host: its store is a replica of "
	    "PostgreSQL (ask an administrator)");
	apitoken_msg_init(&req, APITOKEN_OP_SELF_LIST);
	call_as(pw->pw_uid, pw->pw_gid, &req, out, sizeof(out));
	cr_assert_str_eq(out, "accepted 0 -");
	free(extra);
	free(mine);
}
