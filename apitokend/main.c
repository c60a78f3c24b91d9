/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - apitokend: options, config, the listening socket, the front
 * ends, signals (SIGHUP reloads, SIGTERM and SIGINT end), readiness for
 * systemd.  See apitokend(8).
 *
 * Exit status: 0 clean exit (or --check-config found the config good),
 * 1 the config or the socket could not be set up, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "http.h"
#include "replica.h"
#include "sock.h"

/* Front ends besides the socket, started in this order (http.c adds
 * itself here). */
static const struct front *const fronts[] = {
	&http_front,
	&replica_front,
	NULL
};

struct opts {
	const char *config;
	int foreground;
	int check;
};

struct daemon {
	struct opts o;
	struct core *core;
	int created;		/* the socket file is ours to remove */
	char path[108];
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: apitokend [-c CONFIG] [-f|--foreground] "
	    "[--check-config]\n"
	    "  -c CONFIG       the configuration (default %s)\n"
	    "  -f, --foreground  stay in the foreground, create the socket,\n"
	    "                  log to stderr too\n"
	    "  --check-config  check the configuration and exit\n"
	    "  -h, --help      this help\n"
	    "  --version       the version\n", APITOKEN_DEFAULT_CONFIG);
}

/* A relative -c made absolute: a reload after daemon(3)'s chdir("/")
 * must find the same file. */
static int
absolute(struct opts *o)
{
	static char path[PATH_MAX];
	char cwd[PATH_MAX];

	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", cwd, o->config) >=
	    sizeof(path)) {
		fprintf(stderr, "apitokend: %s: cannot make it absolute\n",
		    o->config);
		return -1;
	}
	o->config = path;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->config = APITOKEN_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:fh", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'C': o->check = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("apitokend %s\n", APITOKEND_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->config[0] != '/' && absolute(o) != 0)
		return -1;
	if (optind != argc) {
		fprintf(stderr, "apitokend: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static struct apitoken_config *
load(const char *path)
{
	struct apitoken_config *cfg = NULL;
	char err[1024];

	if (apitoken_config_load(path, &cfg, err, sizeof(err)) != 0) {
		core_log(LOG_ERR, "%s", err);
		return NULL;
	}
	return cfg;
}

static void
reload(struct daemon *d)
{
	struct apitoken_config *cfg;
	struct timespec ts;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	if ((cfg = load(d->o.config)) == NULL)
		core_log(LOG_ERR, "reload failed; the old configuration "
		    "stays in force");
	else {
		if (strcmp(apitoken_config_daemon_socket(cfg), d->path) != 0)
			core_log(LOG_WARNING, "daemon_socket changed to %s: "
			    "takes effect at the next start",
			    apitoken_config_daemon_socket(cfg));
		core_set_config(d->core, cfg);
		for (i = 0; fronts[i] != NULL; i++)
			if (fronts[i]->reload != NULL)
				fronts[i]->reload(d->core);
		core_log(LOG_NOTICE, "configuration %s reloaded", d->o.config);
	}
	sd_notify(0, "READY=1");
}

static int
on_signal(int signo, void *ctx)
{
	struct daemon *d = ctx;

	if (signo == SIGHUP) {
		reload(d);
		return 0;
	}
	core_log(LOG_NOTICE, "signal %d: stopping", signo);
	return 1;
}

/* The listening socket: systemd's, or made here (then detached into the
 * background unless -f or systemd runs us). */
static int
get_socket(struct daemon *d, int *lfdp)
{
	char err[512];
	int r;

	if ((r = listen_passed(d->path, lfdp, err, sizeof(err))) < 0) {
		core_log(LOG_ERR, "%s", err);
		return -1;
	}
	if (r == 1)
		return 0;
	if (listen_create(d->path, lfdp, err, sizeof(err)) != 0) {
		core_log(LOG_ERR, "%s", err);
		return -1;
	}
	d->created = 1;
	if (!d->o.foreground && getenv("NOTIFY_SOCKET") == NULL &&
	    daemon(0, 0) != 0) {
		core_log(LOG_ERR, "daemon: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* blocked before any thread starts, so every thread inherits it */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int
start_fronts(struct core *c)
{
	char err[512];
	size_t i;

	for (i = 0; fronts[i] != NULL; i++)
		if (fronts[i]->start(c, err, sizeof(err)) != 0) {
			core_log(LOG_ERR, "%s: %s", fronts[i]->name, err);
			return -1;
		}
	return 0;
}

static void
stop_fronts(void)
{
	size_t i;

	for (i = 0; fronts[i] != NULL; i++)
		;
	while (i-- > 0)
		if (fronts[i]->stop != NULL)
			fronts[i]->stop();
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	struct apitoken_config *cfg;
	int lfd = -1, sigfd, rc = 1;

	if (parse_opts(argc, argv, &d.o) != 0)
		return 2;
	core_log_open(d.o.foreground || d.o.check);
	if ((cfg = load(d.o.config)) == NULL)
		return 1;
	if (d.o.check) {
		printf("%s: OK\n", d.o.config);
		apitoken_config_free(cfg);
		return 0;
	}
	snprintf(d.path, sizeof(d.path), "%s",
	    apitoken_config_daemon_socket(cfg));
	if (get_socket(&d, &lfd) != 0 || (sigfd = signals()) < 0 ||
	    core_new(cfg, &d.core, (char[64]){ 0 }, 64) != 0) {
		apitoken_config_free(cfg);
		goto out;
	}
	if (start_fronts(d.core) == 0) {
		core_log(LOG_NOTICE, "listening on %s", d.path);
		sd_notify(0, "READY=1");
		rc = sock_run(d.core, lfd, sigfd, on_signal, &d) == 0 ? 0 : 1;
		sd_notify(0, "STOPPING=1");
	}
	stop_fronts();
	close(sigfd);
out:
	if (lfd >= 0)
		close(lfd);
	if (d.created)
		unlink(d.path);
	core_free(d.core);
	return rc;
}
