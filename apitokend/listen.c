/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.c - the listening socket: the one systemd passes
 * (apitokend.socket), or, without systemd, one made here: its directory
 * created 0755 when missing, a stale socket file (one nobody answers on)
 * replaced, never another kind of file, mode 0666 (who may ask is decided
 * per request from SO_PEERCRED, not by the file's mode).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sock.h"

int
listen_passed(const char *path, int *fdp, char *err, size_t errlen)
{
	int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START;

	*fdp = -1;
	if (n <= 0)
		return n == 0 ? 0 : (snprintf(err, errlen, "sd_listen_fds: %s",
		    strerror(-n)), -1);
	if (n != 1) {
		snprintf(err, errlen, "systemd passed %d sockets; "
		    "apitokend.socket must listen on one", n);
		return -1;
	}
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		snprintf(err, errlen, "the socket systemd passed is not a "
		    "listening Unix stream socket");
		return -1;
	}
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, path, 0) <= 0)
		core_log(LOG_WARNING, "the socket systemd passed is not "
		    "daemon_socket %s; clients look there", path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	*fdp = fd;
	return 1;
}

/* The socket's directory exists (made 0755 if missing, one level). */
static int
make_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0755) == 0)	/* 0755 whatever the umask */
		return chmod(dir, 0755) == 0 ? 0 : (snprintf(err, errlen,
		    "%s: %s", dir, strerror(errno)), -1);
	if (errno == EEXIST && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "%s: %s", dir, errno == EEXIST ?
	    "not a directory" : strerror(errno));
	return -1;
}

/* Remove path if it is a socket nobody listens on; refuse anything
 * else that is there. */
static int
remove_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s",
		    sa->sun_path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket; "
		    "not replaced", sa->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another apitokend answers there",
		    sa->sun_path);
		return -1;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
listen_create(const char *path, int *fdp, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	*fdp = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: longer than a socket path may be",
		    path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_dir(path, err, errlen) != 0 ||
	    remove_stale(&sa, err, errlen) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}
