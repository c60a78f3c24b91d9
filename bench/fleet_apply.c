/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet_apply - how long a replica takes to apply a burst of changes,
 * for bench/fleet.sh:
 *
 *   fleet_apply REPLICA_CONFIG BURST_CMD TARGET_CMD
 *
 * Runs sh -c BURST_CMD (it commits the burst: psql exits right after
 * its COMMIT), then sh -c TARGET_CMD, whose output is the change log's
 * newest "xid seq", and polls the replica's state (<store>.replica,
 * apitoken_replica_state_read) every 2 ms until its cursor has reached
 * that change.  Prints "burst_commit_ms" (BURST_CMD's wall time) and
 * "burst_apply_ms" (from BURST_CMD's exit to the cursor reached: the
 * notification, the reads and the atomic rewrites of the store), and
 * "burst_apply_cpu_ms", the CPU time apitokend (the pid in its state)
 * spent meanwhile: the figure a loaded machine changes least.  Exits 1
 * if the replica does not get there within 10 minutes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apitoken.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
sh(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (p == NULL)
		return -1;
	if (out != NULL) {
		n = fread(out, 1, size - 1, p);
		out[n] = '\0';
	} else
		while (fgetc(p) != EOF)
			;
	return pclose(p) == 0 ? 0 : -1;
}

/* CPU time (user + system, ms) of process pid so far, or -1. */
static double
cpu_ms(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "(comm)": state and 10 more fields, then utime stime */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %*s %*s "
	    "%*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

/* The replica's state; 1 if its cursor is at (xid, seq) or past it. */
static int
reached(const struct apitoken_config *cfg, uint64_t xid, int64_t seq,
    long *pid)
{
	struct apitoken_replica_state st;
	char err[256];

	memset(&st, 0, sizeof(st));
	if (apitoken_replica_state_read(cfg, &st, err, sizeof(err)) != 0)
		return 0;
	*pid = st.pid;
	return st.cursor_xid > xid || (st.cursor_xid == xid &&
	    st.cursor_seq >= seq);
}

int
main(int argc, char **argv)
{
	struct apitoken_config *cfg = NULL;
	struct timespec nap = { 0, 2000000L };
	char err[512], out[128];
	double t0, t1, c0, c1;
	long pid = 0;
	uint64_t xid;
	int64_t seq;

	if (argc != 4) {
		fprintf(stderr, "usage: fleet_apply REPLICA_CONFIG BURST_CMD "
		    "TARGET_CMD\n");
		return 2;
	}
	if (apitoken_config_load(argv[1], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fleet_apply: %s\n", err);
		return 2;
	}
	(void)reached(cfg, 0, 0, &pid);	/* apitokend's pid */
	c0 = cpu_ms(pid);
	t0 = now_ms();
	if (sh(argv[2], NULL, 0) != 0) {
		fprintf(stderr, "fleet_apply: the burst failed\n");
		return 1;
	}
	t1 = now_ms();
	if (sh(argv[3], out, sizeof(out)) != 0 ||
	    sscanf(out, "%" SCNu64 " %" SCNd64, &xid, &seq) != 2) {
		fprintf(stderr, "fleet_apply: no target cursor: %s\n", out);
		return 1;
	}
	while (!reached(cfg, xid, seq, &pid)) {
		if (now_ms() - t1 > 600000) {
			fprintf(stderr, "fleet_apply: not applied in 10 min\n");
			return 1;
		}
		nanosleep(&nap, NULL);
	}
	printf("burst_commit_ms %.0f\nburst_apply_ms %.0f\n", t1 - t0,
	    now_ms() - t1);
	if (c0 >= 0 && (c1 = cpu_ms(pid)) >= 0)
		printf("burst_apply_cpu_ms %.0f\n", c1 - c0);
	apitoken_config_free(cfg);
	return 0;
}
