/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.c - who is asking, from SO_PEERCRED (never from the request), and
 * the caller policy (apitokend(8), WHO MAY ASK): uid 0 may verify any
 * user for any service; another uid its own user; a caller named in
 * daemon_callers by user name or by one of its groups ("@group") the
 * listed services for any user.  Nothing else.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

/* The program name from /proc/<pid>/comm (informative only: a caller
 * can set its own). */
static void
read_comm(pid_t pid, char *buf, size_t n)
{
	char path[64];
	ssize_t r;
	int fd;

	snprintf(buf, n, "-");
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller's program name, from cc when read for the same pid and
 * uid less than COMM_TTL_MS ago (a long-lived caller such as an nginx
 * worker asks many times a second; a name is informative only). */
static void
caller_comm(struct caller *who, struct comm_cache *cc)
{
	char comm[20];
	int64_t now = now_ms();
	size_t i = (size_t)who->pid % COMM_SLOTS;

	if (cc->e[i].pid == who->pid && cc->e[i].uid == who->uid &&
	    now < cc->e[i].until) {
		memcpy(who->comm, cc->e[i].comm, sizeof(who->comm));
		return;
	}
	read_comm(who->pid, comm, sizeof(comm));
	apitoken_log_escape(who->comm, sizeof(who->comm), comm, 0);
	cc->e[i].pid = who->pid;
	cc->e[i].uid = who->uid;
	cc->e[i].until = now + COMM_TTL_MS;
	memcpy(cc->e[i].comm, who->comm, sizeof(cc->e[i].comm));
}

int
peer_init(struct peer *p, int fd, struct comm_cache *cc)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr))
		return -1;
	p->who.uid = cr.uid;
	p->who.gid = cr.gid;
	p->who.pid = cr.pid;
	caller_comm(&p->who, cc);
	return 0;
}

static void
lookup_name(struct peer *p)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	p->named = 1;
	if (getpwuid_r(p->who.uid, &pw, buf, sizeof(buf), &pwp) == 0 &&
	    pwp != NULL && strlen(pw.pw_name) < sizeof(p->who.name))
		snprintf(p->who.name, sizeof(p->who.name), "%s", pw.pw_name);
}

/* The caller's groups as "@name": its primary group (from SO_PEERCRED)
 * and the supplementary groups of its user name. */
static void
lookup_groups(struct peer *p)
{
	gid_t gids[PEER_GROUPS_MAX];
	struct group gr, *grp;
	char buf[8192];
	int n = PEER_GROUPS_MAX, i;

	p->grouped = 1;
	if (p->who.name[0] == '\0' ||
	    getgrouplist(p->who.name, p->who.gid, gids, &n) < 0)
		n = (gids[0] = p->who.gid, 1);
	for (i = 0; i < n && p->ngroups < PEER_GROUPS_MAX; i++) {
		grp = NULL;
		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &grp) != 0 ||
		    grp == NULL || strlen(gr.gr_name) > 33)
			continue;
		snprintf(p->groups[p->ngroups++], sizeof(p->groups[0]), "@%s",
		    gr.gr_name);
	}
}

int
peer_may_verify(struct peer *p, const struct apitoken_config *cfg,
    const char *user, const char *service)
{
	size_t i;

	if (p->who.uid == 0)
		return 1;
	if (!p->named)
		lookup_name(p);
	if (p->who.name[0] == '\0')
		return 0;	/* a uid without a name: nothing granted */
	if (strcmp(p->who.name, user) == 0 ||
	    apitoken_config_caller_allowed(cfg, p->who.name, service))
		return 1;
	if (!p->grouped)
		lookup_groups(p);
	for (i = 0; i < p->ngroups; i++)
		if (apitoken_config_caller_allowed(cfg, p->groups[i], service))
			return 1;
	return 0;
}
