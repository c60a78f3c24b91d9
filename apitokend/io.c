/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io.c - whole messages over a blocking socket with SO_RCVTIMEO and
 * SO_SNDTIMEO set (the self-service worker threads; the event loop has
 * its own non-blocking reads in sock.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"

static int
send_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
recv_all(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;	/* closed, or timed out (EAGAIN) */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
msg_send(int fd, const struct apitoken_msg *m)
{
	unsigned char buf[4 + APITOKEN_MSG_MAX];
	size_t n = 0;
	int r = -1;

	if (apitoken_msg_encode(m, buf, sizeof(buf), &n) == 0)
		r = send_all(fd, buf, n);
	apitoken_wipe(buf, n);	/* an ANSWER or TOKEN may be in it */
	return r;
}

int
msg_recv(int fd, unsigned char *buf, size_t bufsize, struct apitoken_msg *m)
{
	unsigned char hdr[4];
	size_t len;

	apitoken_msg_init(m, 0);
	if (recv_all(fd, hdr, 4) != 0)
		return -1;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (len < 2 || len > APITOKEN_MSG_MAX || len > bufsize ||
	    recv_all(fd, buf, len) != 0)
		return -1;
	return apitoken_msg_parse(buf, len, m) == 0 ? 0 : -1;
}
