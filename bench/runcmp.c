/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runcmp - wall time (and peak RSS) of whole processes, for the benchmark.
 *
 *   runcmp -x [-i IN] [-o OUT] -- CMD [ARG...]
 *	Run CMD once (stdin from IN, stdout to OUT, both default /dev/null;
 *	stderr inherited).  Prints "ms <wall>" and "maxrss_kib <ru_maxrss>"
 *	(wait4); exits 0 if CMD exited 0, else 1.
 *
 *   runcmp -n ROUNDS [-w WARMUP] CASEFILE
 *	Alternating runs: each round runs every case of CASEFILE once,
 *	starting one case later each round, so drift and cache effects hit
 *	every case alike.  CASEFILE lines are TAB-separated:
 *	    NAME  STDIN_FILE  EXPECTED_EXIT  CMD  [ARG...]
 *	"{}" in STDIN_FILE is replaced by the run's number (0, 1, ...;
 *	warm-up runs included), so each run can get its own input.
 *	CMD "@UID:GID" runs the rest of the line as that uid and gid, with
 *	no supplementary groups (a non-root caller, with no extra exec).
 *	A run exiting other than EXPECTED_EXIT aborts (and is rerun once
 *	with stderr shown).  Prints per case:
 *	    NAME median_ms p10_ms p90_ms maxrss_kib rounds
 *
 * This program is kept small on purpose: a fork()ed child's ru_maxrss
 * starts from the parent's RSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CASES 16
#define MAX_ARGS 32

struct cas {
	char *name, *in;
	int expect;
	char *argv[MAX_ARGS + 1];
	double *ms;
	long maxrss;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
redirect(const char *path, int fd, int flags)
{
	int f = open(path, flags, 0600);

	if (f < 0 || dup2(f, fd) < 0) {
		fprintf(stderr, "runcmp: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (f != fd)
		close(f);
}

/* In the child: become "UID:GID" (numbers), or exit 127. */
static void
become(const char *spec)
{
	char *end;
	unsigned long uid = strtoul(spec, &end, 10), gid;

	gid = *end == ':' ? strtoul(end + 1, &end, 10) : 0;
	if (*end != '\0' || setgroups(0, NULL) != 0 ||
	    setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0) {
		fprintf(stderr, "runcmp: @%s: %s\n", spec, strerror(errno));
		_exit(127);
	}
}

/* Run argv once; returns its exit code (or 128+signal), sets ms/rss. */
static int
run(char *const argv[], const char *in, const char *out, int quiet,
    double *ms, long *maxrss)
{
	struct rusage ru;
	double t0 = now_ms();
	int st = 0;
	pid_t pid = fork();

	if (pid < 0) {
		perror("runcmp: fork");
		exit(1);
	}
	if (pid == 0) {
		redirect(in, 0, O_RDONLY);
		redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC);
		if (quiet)
			redirect("/dev/null", 2, O_WRONLY);
		if (argv[0][0] == '@')
			become(argv++[0] + 1);
		execvp(argv[0], argv);
		fprintf(stderr, "runcmp: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("runcmp: wait4");
			exit(1);
		}
	*ms = now_ms() - t0;
	*maxrss = ru.ru_maxrss;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int
once(int argc, char **argv)
{
	const char *in = "/dev/null", *out = "/dev/null";
	double ms;
	long rss;
	int c, rc;

	while ((c = getopt(argc, argv, "+xi:o:")) != -1) {
		if (c == 'i')
			in = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c != 'x')
			return 2;
	}
	if (optind >= argc)
		return 2;
	rc = run(argv + optind, in, out, 0, &ms, &rss);
	printf("ms %.3f\nmaxrss_kib %ld\n", ms, rss);
	if (rc != 0)
		fprintf(stderr, "runcmp: %s exited %d\n", argv[optind], rc);
	return rc == 0 ? 0 : 1;
}

static size_t
load_cases(const char *path, struct cas *cs, size_t rounds)
{
	char line[4096], *p, *tok;
	size_t n = 0, k;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(stderr, "runcmp: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (n < MAX_CASES && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		memset(&cs[n], 0, sizeof(cs[n]));
		for (k = 0, p = line; (tok = strsep(&p, "\t")) != NULL; k++) {
			if ((tok = strdup(tok)) == NULL)
				exit(1);
			if (k == 0)
				cs[n].name = tok;
			else if (k == 1)
				cs[n].in = tok;
			else if (k == 2)
				cs[n].expect = atoi(tok);
			else if (k - 3 < MAX_ARGS)
				cs[n].argv[k - 3] = tok;
		}
		if (k < 4 || (cs[n].ms = calloc(rounds, sizeof(double))) == NULL) {
			fprintf(stderr, "runcmp: %s: bad case line\n", path);
			exit(1);
		}
		n++;
	}
	fclose(f);
	return n;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* c->in with "{}" replaced by the run number k. */
static void
input_of(const struct cas *c, size_t k, char *buf, size_t size)
{
	const char *m = strstr(c->in, "{}");

	if (m == NULL)
		snprintf(buf, size, "%s", c->in);
	else
		snprintf(buf, size, "%.*s%zu%s", (int)(m - c->in), c->in, k,
		    m + 2);
}

static void
one_case(struct cas *c, size_t k, double *ms)
{
	char in[4096];
	double t;
	long rss;
	int rc;

	input_of(c, k, in, sizeof(in));
	rc = run(c->argv, in, "/dev/null", 1, &t, &rss);
	if (rc != c->expect) {
		fprintf(stderr, "runcmp: case %s (input %s) exited %d, expected "
		    "%d; again with stderr:\n", c->name, in, rc, c->expect);
		(void)run(c->argv, in, "/dev/null", 0, &t, &rss);
		exit(1);
	}
	if (rss > c->maxrss)
		c->maxrss = rss;
	if (ms != NULL)
		*ms = t;
}

static int
alternate(int argc, char **argv)
{
	struct cas cs[MAX_CASES];
	size_t rounds = 100, warm = 3, n, r, i;
	int c;

	while ((c = getopt(argc, argv, "n:w:")) != -1) {
		if (c == 'n')
			rounds = strtoul(optarg, NULL, 10);
		else if (c == 'w')
			warm = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind != argc - 1 || rounds == 0)
		return 2;
	n = load_cases(argv[optind], cs, rounds);
	for (r = 0; r < warm; r++)
		for (i = 0; i < n; i++)
			one_case(&cs[i], r, NULL);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++)
			one_case(&cs[(r + i) % n], warm + r,
			    &cs[(r + i) % n].ms[r]);
	for (i = 0; i < n; i++) {
		qsort(cs[i].ms, rounds, sizeof(double), cmp_d);
		printf("%s %.3f %.3f %.3f %ld %zu\n", cs[i].name,
		    cs[i].ms[rounds / 2], cs[i].ms[rounds / 10],
		    cs[i].ms[(rounds * 9) / 10], cs[i].maxrss, rounds);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-x") == 0)
		return once(argc, argv);
	return alternate(argc, argv);
}
