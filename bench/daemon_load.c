/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon_load - load generator for apitokend's socket, for the benchmark.
 *
 *   daemon_load [-p PID] CONFIG SAMPLE_FILE closed THREADS SECONDS [keep]
 *	Closed loop: THREADS clients, each verifying one random sampled
 *	token after another for SECONDS.  Without "keep", every request
 *	is one apitoken_client_verify() - connect, check the server, send,
 *	read the reply, close - as pam_apitoken does per login.  With
 *	"keep", each client connects once and sends every request on that
 *	connection (apitoken_client_call); if the daemon closes the
 *	connection after a reply, the run prints "keep_supported 0".
 *   daemon_load [-p PID] CONFIG SAMPLE_FILE paced RATE SECONDS [THREADS]
 *	Open loop: RATE requests a second on a fixed schedule, spread over
 *	THREADS (default 4) clients, connect per request.  A request's
 *	latency runs from the time it was due, not from when it was sent,
 *	so a stall counts for every request it delays (no coordinated
 *	omission).  Also the service latency: from the send when the
 *	client was idle at the due time (its own timer wake-up, 130 us
 *	median on a 2-vCPU guest, is not the daemon's), from due when it
 *	was still busy with its previous request.
 *   daemon_load CONFIG SAMPLE_FILE wait SECONDS
 *	Until the daemon accepts the first sampled token (it is starting):
 *	exit 0, or 1 after SECONDS or on any other answer.
 *
 * CONFIG names the daemon's socket (daemon_socket).  SAMPLE_FILE is
 * mkstore's "token TAB user" list; a line without a TAB is a token of
 * root's.  Every token is verified for its user, service sshd, address
 * 10.1.2.3, and every sampled token once before the clock starts (the
 * daemon writes each one's first last-use then).  Any answer other than
 * "accepted" stops the run.  Prints "key value" lines: requests,
 * verifications per second, latency median/p99/p99.9/max in
 * microseconds, and the CPU time per request of this process (every
 * client, user and system) and, with -p PID (the daemon's), of the
 * daemon, both over the timed part only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "apitoken.h"

struct tok {
	char token[APITOKEN_TOKEN_MAX + 1];
	char user[APITOKEN_USER_MAX + 1];
};

struct run {
	const struct apitoken_config *cfg;
	struct tok *v;
	size_t n;
	int keep;		/* closed: one connection per client */
	double rate;		/* paced: requests/s in all; 0 = closed */
	uint64_t start, end;	/* CLOCK_MONOTONIC ns */
	unsigned threads;
};

struct client {
	struct run *run;
	unsigned no;
	uint64_t rng;
	uint64_t *lat;		/* ns, one per request, from due */
	uint64_t *svc;		/* paced: ns, from when it could be sent */
	size_t nlat, cap;
	uint64_t free_at;	/* paced: when the last request ended */
	int fd;			/* keep: the connection, else -1 */
	int keep_failed;
	pthread_t tid;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
	    (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static size_t
pick(struct client *c)
{
	/* xorshift64*, one state per client */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (size_t)((c->rng * 2685821657736338717ULL) >> 11) % c->run->n;
}

static void
add_tok(struct tok **v, size_t *n, size_t *cap, const char *token,
    const char *user)
{
	if (strlen(token) >= sizeof((*v)->token) ||
	    strlen(user) >= sizeof((*v)->user)) {
		fprintf(stderr, "daemon_load: sample line too long\n");
		exit(1);
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		if ((*v = realloc(*v, *cap * sizeof(**v))) == NULL)
			exit(1);
	}
	memcpy((*v)[*n].token, token, strlen(token) + 1);
	memcpy((*v)[*n].user, user, strlen(user) + 1);
	(*n)++;
}

static void
load_sample(struct run *r, const char *path)
{
	char line[1024], *tab;
	struct tok *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(stderr, "daemon_load: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((tab = strchr(line, '\t')) != NULL)
			*tab++ = '\0';
		add_tok(&v, &n, &cap, line, tab ? tab : "root");
	}
	apitoken_wipe(line, sizeof(line));
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "daemon_load: %s: no tokens\n", path);
		exit(1);
	}
	r->v = v;
	r->n = n;
}

static void
refused(const struct tok *t, const char *why, const char *detail)
{
	fprintf(stderr, "daemon_load: token for %s: %s%s%s\n", t->user, why,
	    detail && *detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* One request on a connection of our own (keep mode); 0 or -1. */
static int
call_kept(struct client *c, const struct tok *t)
{
	static const char svc[] = "sshd", rhost[] = "10.1.2.3";
	struct apitoken_msg req, reply;
	unsigned char buf[APITOKEN_MSG_MAX + 4];
	char err[256] = "", reason[64];
	int r;

	if (c->fd < 0 && apitoken_client_connect(c->run->cfg,
	    APITOKEN_CLIENT_TIMEOUT_MS, &c->fd, err, sizeof(err)) != 0)
		refused(t, "connect", err);
	apitoken_msg_init(&req, APITOKEN_OP_VERIFY);
	r = apitoken_msg_add_str(&req, APITOKEN_T_USER, t->user);
	r |= apitoken_msg_add_str(&req, APITOKEN_T_SERVICE, svc);
	r |= apitoken_msg_add_str(&req, APITOKEN_T_RHOST, rhost);
	r |= apitoken_msg_add_str(&req, APITOKEN_T_TOKEN, t->token);
	if (r != 0)
		refused(t, "message", NULL);
	r = apitoken_client_call(c->fd, &req, &reply, buf, sizeof(buf),
	    APITOKEN_CLIENT_TIMEOUT_MS, err, sizeof(err));
	if (r == 0 && apitoken_msg_get(&reply, APITOKEN_T_REASON, reason,
	    sizeof(reason)) != 0)
		snprintf(reason, sizeof(reason), "no reason");
	apitoken_wipe(buf, sizeof(buf));	/* the request went out of it */
	if (r != 0)
		return -1;
	if (strcmp(reason, "accepted") != 0)
		refused(t, "reply", reason);
	return 0;
}

/* One verification, timed from due (ns); stores its latency, and for
 * a paced run its service latency: from due if this client was still
 * busy with the one before (a stall counts for every request it
 * delays), else from the send (not the client's own timer wake-up). */
static int
one(struct client *c, uint64_t due, int record)
{
	uint64_t sent = now_ns();
	const struct tok *t = &c->run->v[pick(c)];
	struct apitoken_request req = { t->user, "sshd", "10.1.2.3", 0 };
	struct apitoken_result res;
	enum apitoken_reason why;
	uint64_t done;

	if (c->run->keep) {
		if (call_kept(c, t) != 0)
			return -1;
	} else {
		why = apitoken_client_verify(c->run->cfg, t->token,
		    strlen(t->token), &req, &res);
		if (why != APITOKEN_ACCEPTED)
			refused(t, apitoken_reason_str(why), res.detail);
	}
	done = now_ns();
	if (!record)
		return 0;
	if (c->nlat == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 65536;
		if ((c->lat = realloc(c->lat, c->cap * sizeof(*c->lat))) ==
		    NULL || (c->svc = realloc(c->svc, c->cap *
		    sizeof(*c->svc))) == NULL)
			exit(1);
	}
	c->svc[c->nlat] = done - (c->free_at > due ? due : sent);
	c->lat[c->nlat++] = done - due;
	c->free_at = done;
	return 0;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct run *r = c->run;
	uint64_t k, due, t;

	if (r->rate > 0) {
		/* request k (of all clients') is due at start + k / rate */
		for (k = c->no;; k += r->threads) {
			due = r->start + (uint64_t)((double)k * 1e9 / r->rate);
			if (due >= r->end)
				break;
			sleep_until(due);
			(void)one(c, due, 1);
		}
		return NULL;
	}
	sleep_until(r->start);
	while ((t = now_ns()) < r->end) {
		if (one(c, t, 1) != 0) {
			c->keep_failed = 1;
			break;
		}
	}
	return NULL;
}

/* Verify every sampled token once, over the clients (not timed). */
static void
warm_up(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct apitoken_request req = { r->v[i].user, "sshd",
		    "10.1.2.3", 0 };
		struct apitoken_result res;
		enum apitoken_reason why;

		why = apitoken_client_verify(r->cfg, r->v[i].token,
		    strlen(r->v[i].token), &req, &res);
		if (why != APITOKEN_ACCEPTED)
			refused(&r->v[i], apitoken_reason_str(why), res.detail);
	}
}

/* The "wait" mode: poll until the daemon answers. */
static int
wait_ready(const struct run *r, double secs)
{
	const struct tok *t = &r->v[0];
	struct apitoken_request req = { t->user, "sshd", "10.1.2.3", 0 };
	struct apitoken_result res;
	enum apitoken_reason why;
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);

	for (;;) {
		why = apitoken_client_verify(r->cfg, t->token, strlen(t->token),
		    &req, &res);
		if (why == APITOKEN_ACCEPTED)
			return 0;
		if (why != APITOKEN_R_UNAVAILABLE || now_ns() >= end) {
			fprintf(stderr, "daemon_load: %s%s%s\n",
			    apitoken_reason_str(why), *res.detail ? ": " : "",
			    res.detail);
			return 1;
		}
		sleep_until(now_ns() + 20000000u);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* CPU time of this process (every thread), user + system, in us. */
static double
cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* CPU time of process pid (user + system) in us; 0 without one. */
static double
proc_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* fields 14 and 15 (utime, stime), counted after "(comm) " */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

struct cpu {
	pid_t daemon;
	double self, other;	/* at the start, then spent */
};

/* p50, p99, p99.9 and max of every client's lat (svc: their svc). */
static void
percentiles(const char *name, const char *what, struct client *cl,
    unsigned n, size_t total, int svc)
{
	uint64_t *all;
	size_t i, k = 0;
	unsigned j;

	if ((all = malloc(total * sizeof(*all))) == NULL)
		exit(1);
	for (j = 0; j < n; j++)
		for (i = 0; i < cl[j].nlat; i++)
			all[k++] = svc ? cl[j].svc[i] : cl[j].lat[i];
	qsort(all, total, sizeof(*all), cmp_u64);
	printf("%s_%sp50_us %.1f\n", name, what, (double)all[total / 2] / 1e3);
	printf("%s_%sp99_us %.1f\n", name, what,
	    (double)all[total * 99 / 100] / 1e3);
	printf("%s_%sp999_us %.1f\n", name, what,
	    (double)all[total * 999 / 1000] / 1e3);
	printf("%s_%smax_us %.1f\n", name, what,
	    (double)all[total - 1] / 1e3);
	free(all);
}

static void
report(const char *name, struct client *cl, unsigned n, double secs,
    const struct cpu *cpu)
{
	size_t total = 0;
	unsigned j;

	for (j = 0; j < n; j++)
		total += cl[j].nlat;
	if (total == 0) {
		fprintf(stderr, "daemon_load: no request completed\n");
		exit(1);
	}
	printf("%s_requests %zu\n", name, total);
	printf("%s_vps %.0f\n", name, (double)total / secs);
	percentiles(name, "", cl, n, total, 0);
	if (cl[0].svc != NULL && strcmp(name, "paced") == 0)
		percentiles(name, "svc_", cl, n, total, 1);
	printf("%s_client_cpu_us %.1f\n", name, cpu->self / (double)total);
	if (cpu->daemon > 0)
		printf("%s_daemon_cpu_us %.1f\n", name,
		    cpu->other / (double)total);
}

static void
usage(void)
{
	fprintf(stderr, "usage: daemon_load [-p PID] CONFIG SAMPLE closed "
	    "THREADS SECONDS [keep]\n"
	    "       daemon_load [-p PID] CONFIG SAMPLE paced RATE SECONDS "
	    "[THREADS]\n"
	    "       daemon_load CONFIG SAMPLE wait SECONDS\n");
	exit(2);
}

static void
parse_mode(struct run *r, int argc, char **argv, double *secs)
{
	if (argc < 6 || argc > 7)
		usage();
	*secs = strtod(argv[5], NULL);
	if (strcmp(argv[3], "closed") == 0) {
		r->threads = (unsigned)strtoul(argv[4], NULL, 10);
		if (argc == 7 && strcmp(argv[6], "keep") != 0)
			usage();
		r->keep = argc == 7;
	} else if (strcmp(argv[3], "paced") == 0) {
		r->rate = strtod(argv[4], NULL);
		r->threads = argc == 7 ?
		    (unsigned)strtoul(argv[6], NULL, 10) : 4;
		if (r->rate <= 0)
			usage();
	} else
		usage();
	if (r->threads == 0 || r->threads > 256 || *secs <= 0)
		usage();
}

int
main(int argc, char **argv)
{
	struct apitoken_config *cfg = NULL;
	struct client *cl;
	struct run r;
	char err[512] = "";
	struct cpu cpu = { 0, 0, 0 };
	double secs;
	unsigned j, failed = 0;

	memset(&r, 0, sizeof(r));
	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		cpu.daemon = (pid_t)strtol(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc < 4)
		usage();
	if (strcmp(argv[3], "wait") != 0)
		parse_mode(&r, argc, argv, &secs);
	else if (argc != 5 || (secs = strtod(argv[4], NULL)) <= 0)
		usage();
	load_sample(&r, argv[2]);
	if (apitoken_config_load(argv[1], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "daemon_load: %s\n", err);
		return 1;
	}
	r.cfg = cfg;
	if (strcmp(argv[3], "wait") == 0)
		return wait_ready(&r, secs);
	warm_up(&r);
	if ((cl = calloc(r.threads, sizeof(*cl))) == NULL)
		return 1;
	r.start = now_ns() + 50000000u;		/* all clients set off at once */
	r.end = r.start + (uint64_t)(secs * 1e9);
	cpu.self = cpu_us();
	cpu.other = proc_cpu_us(cpu.daemon);
	for (j = 0; j < r.threads; j++) {
		cl[j].run = &r;
		cl[j].no = j;
		cl[j].fd = -1;
		cl[j].rng = 0x9e3779b97f4a7c15ULL * (j + 1);
		if (pthread_create(&cl[j].tid, NULL, client_main, &cl[j]) != 0)
			return 1;
	}
	for (j = 0; j < r.threads; j++)
		pthread_join(cl[j].tid, NULL);
	cpu.self = cpu_us() - cpu.self;
	cpu.other = proc_cpu_us(cpu.daemon) - cpu.other;
	for (j = 0; j < r.threads; j++) {
		failed += (unsigned)cl[j].keep_failed;
		if (cl[j].fd >= 0)
			close(cl[j].fd);
	}
	if (r.keep)
		printf("keep_supported %d\n", failed == 0);
	if (!r.keep || failed == 0)
		report(r.rate > 0 ? "paced" : r.keep ? "keep" : "conn", cl,
		    r.threads, secs, &cpu);
	for (j = 0; j < r.threads; j++) {
		free(cl[j].lat);
		free(cl[j].svc);
	}
	free(cl);
	free(r.v);
	apitoken_config_free(cfg);
	return 0;
}
