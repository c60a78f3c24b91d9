/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet_prop - revocation propagation through the fleet (issue 13), for
 * bench/fleet.sh: per round, tokenctl issues a token against PostgreSQL,
 * then (once every replica takes it) revokes it; the time from
 * tokenctl's exit (its COMMIT, plus the process's exit) to the first
 * refusal is measured on every replica, by verifying as the PAM module
 * does (apitoken_verify_once on each replica's config: its local store).
 *
 *   fleet_prop TOKENCTL ADMIN_CONFIG ROUNDS USER REPLICA_CONFIG...
 *
 * Prints "key value" lines: prop_samples, prop_p50_ms, prop_p99_ms,
 * prop_max_ms (commit to refusal, every replica of every round),
 * issue_prop_p50_ms and issue_prop_p99_ms (commit to acceptance),
 * ctl_issue_ms and ctl_revoke_ms (median wall time of the tokenctl
 * runs).  Exits 1 if a replica does not follow within 60 s.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apitoken.h"

#define MAX_REPLICAS 64
#define MAX_ROUNDS 1000
#define LIMIT_MS 60000.0

static const char *ctl, *admin, *user;
static struct apitoken_config *rep[MAX_REPLICAS];
static int nrep;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
nap_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Run tokenctl -c admin with args; its stdout (up to size - 1 bytes)
 * into out if not NULL; the wall time in *ms.  0 if it exited 0. */
static int
run_ctl(const char *const *args, char *out, size_t size, double *ms)
{
	const char *argv[16] = { "tokenctl", "-c", admin };
	char drain[512];
	int p[2], st, n = 3;
	size_t len = 0;
	ssize_t r;
	double t0 = now_ms();
	pid_t pid;

	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe(p) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(ctl, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(p[1]);
	while (out != NULL && len + 1 < size &&
	    (r = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)r;
	if (out != NULL)
		out[len] = '\0';
	while (read(p[0], drain, sizeof(drain)) > 0)
		;	/* the rest, or tokenctl dies of SIGPIPE */
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	*ms = now_ms() - t0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
accepted(int i, const char *tok)
{
	struct apitoken_request req = { user, "sshd", NULL, 0 };
	struct apitoken_result res;

	return apitoken_verify_once(rep[i], tok, strlen(tok), &req, &res) ==
	    APITOKEN_ACCEPTED;
}

/* Poll every replica until each one's verdict is want (1 accepted);
 * the ms from t0 each took into ms[].  0, or -1 after LIMIT_MS. */
static int
follow(const char *tok, int want, double t0, double *ms)
{
	int i, left = nrep;

	for (i = 0; i < nrep; i++)
		ms[i] = -1;
	while (left > 0) {
		for (i = 0; i < nrep; i++)
			if (ms[i] < 0 && accepted(i, tok) == want) {
				ms[i] = now_ms() - t0;
				left--;
			}
		if (now_ms() - t0 > LIMIT_MS)
			return -1;
		if (left > 0)
			nap_ms(1);
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of v[0..n). */
static double
pct(double *v, size_t n, double p)
{
	size_t k;

	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[k == 0 ? 0 : k - 1];
}

/* One round: issue, wait for all, revoke, wait for all. */
static int
round_once(int r, double *rev, double *iss, double *ctl_i, double *ctl_r)
{
	char label[32], out[512], *id;
	const char *issue[] = { "issue", user, "--label", label, NULL };
	const char *revoke[] = { "revoke", NULL, NULL };
	double t0;
	int rc = -1;

	snprintf(label, sizeof(label), "prop-%d", r);
	if (run_ctl(issue, out, sizeof(out), ctl_i) != 0) {
		fprintf(stderr, "fleet_prop: tokenctl issue failed\n");
		return -1;
	}
	out[strcspn(out, "\n")] = '\0';
	t0 = now_ms();
	if (follow(out, 1, t0, iss) != 0) {
		fprintf(stderr, "fleet_prop: a replica does not accept the "
		    "new token\n");
		goto out;
	}
	/* the id: between the prefix's '_' and the secret's '_' */
	if ((id = strchr(out, '_')) == NULL)
		goto out;
	id[1 + APITOKEN_ID_LEN] = '\0';
	revoke[1] = id + 1;
	if (run_ctl(revoke, NULL, 0, ctl_r) != 0) {
		fprintf(stderr, "fleet_prop: tokenctl revoke failed\n");
		goto out;
	}
	id[1 + APITOKEN_ID_LEN] = '_';
	t0 = now_ms();
	if ((rc = follow(out, 0, t0, rev)) != 0)
		fprintf(stderr, "fleet_prop: a replica still accepts the "
		    "revoked token\n");
out:
	apitoken_wipe(out, sizeof(out));
	return rc;
}

static void
load_replicas(char **paths, int n)
{
	char err[512];

	for (nrep = 0; nrep < n && nrep < MAX_REPLICAS; nrep++)
		if (apitoken_config_load(paths[nrep], &rep[nrep], err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "fleet_prop: %s\n", err);
			exit(2);
		}
}

int
main(int argc, char **argv)
{
	static double rev[MAX_ROUNDS * MAX_REPLICAS];
	static double iss[MAX_ROUNDS * MAX_REPLICAS];
	static double ci[MAX_ROUNDS], cr[MAX_ROUNDS];
	int rounds, r;

	if (argc < 6 || (rounds = atoi(argv[3])) < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: fleet_prop TOKENCTL ADMIN_CONFIG "
		    "ROUNDS USER REPLICA_CONFIG...\n");
		return 2;
	}
	ctl = argv[1], admin = argv[2], user = argv[4];
	load_replicas(argv + 5, argc - 5);
	for (r = 0; r < rounds; r++)
		if (round_once(r, rev + (size_t)r * nrep,
		    iss + (size_t)r * nrep, &ci[r], &cr[r]) != 0) {
			fprintf(stderr, "fleet_prop: round %d failed\n", r);
			return 1;
		}
	printf("prop_samples %d\n", rounds * nrep);
	printf("prop_p50_ms %.0f\n", pct(rev, (size_t)(rounds * nrep), 50));
	printf("prop_p99_ms %.0f\n", pct(rev, (size_t)(rounds * nrep), 99));
	printf("prop_max_ms %.0f\n", pct(rev, (size_t)(rounds * nrep), 100));
	printf("issue_prop_p50_ms %.0f\n", pct(iss, (size_t)(rounds * nrep),
	    50));
	printf("issue_prop_p99_ms %.0f\n", pct(iss, (size_t)(rounds * nrep),
	    99));
	printf("ctl_issue_ms %.0f\n", pct(ci, (size_t)rounds, 50));
	printf("ctl_revoke_ms %.0f\n", pct(cr, (size_t)rounds, 50));
	for (r = 0; r < nrep; r++)
		apitoken_config_free(rep[r]);
	return 0;
}
