/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lastuse.c - when a token last logged in, kept in state_dir/lastuse/<id>
 * (one small file per token) so that logins never rewrite the store.
 *
 * File format, one line:  v1 TAB <YYYY-MM-DDTHH:MM:SSZ> TAB <service>
 * TAB <remote address> LF   (service and address may be empty).
 * Writes are throttled by the file's mtime, go to a temp file and are
 * renamed into place; no fsync (losing a last-use time in a crash is
 * harmless, and the login must stay fast).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Open state_dir/lastuse (creating it 0700 if create), checked. */
static int
open_lastuse_dir(const struct apitoken_config *cfg, int create, int *fdp,
    char *err, size_t errlen)
{
	const char *sd = apitoken_config_state_dir(cfg);
	struct stat st;
	int dfd, fd = -1, r;

	*fdp = -1;
	/* walked from "/", every component checked (issue 14 item 3) */
	if ((r = safe_open_dir(sd, &dfd, err, errlen)) != APITOKEN_OK)
		return r == APITOKEN_ERR_STORE_MISSING ?
		    APITOKEN_ERR_NOT_FOUND : r;
	fd = openat(dfd, "lastuse", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {	/* first use only */
		if (mkdirat(dfd, "lastuse", 0700) != 0 && errno != EEXIST) {
			r = set_err(err, errlen, APITOKEN_ERR_SYSTEM,
			    "%s/lastuse: %s", sd, strerror(errno));
			goto out;
		}
		fd = openat(dfd, "lastuse", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		r = set_err(err, errlen, errno == ENOENT ?
		    APITOKEN_ERR_NOT_FOUND : APITOKEN_ERR_SYSTEM,
		    "%s/lastuse: %s", sd, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 ||
	    safe_check(&st, "lastuse", 1, err, errlen) != APITOKEN_OK) {
		close(fd);
		r = APITOKEN_ERR_STORE_UNSAFE;
		goto out;
	}
	*fdp = fd;
	r = APITOKEN_OK;
out:
	close(dfd);
	return r;
}

static int
write_lastuse(int dfd, const char *id, const char *line, time_t now,
    char *err, size_t errlen)
{
	struct timespec ts[2] = { { now, 0 }, { now, 0 } };
	char tmp[64], sfx[7];
	size_t len = strlen(line);
	int fd, r = APITOKEN_ERR_SYSTEM;

	if (base62_random(sfx, 6) != APITOKEN_OK)
		return APITOKEN_ERR_CRYPTO;
	sfx[6] = '\0';
	snprintf(tmp, sizeof(tmp), ".%s.%s", id, sfx);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return set_err(err, errlen, r, "lastuse/%s: %s", tmp,
		    strerror(errno));
	if (write(fd, line, len) == (ssize_t)len && futimens(fd, ts) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		if (renameat(dfd, tmp, dfd, id) == 0)
			return APITOKEN_OK;
	}
	r = set_err(err, errlen, r, "lastuse/%s: %s", id, strerror(errno));
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dfd, tmp, 0);
	return r;
}

int
apitoken_lastuse_record(const struct apitoken_config *cfg, const char *id,
    const char *service, const char *rhost, time_t now, int64_t min_interval,
    char *err, size_t errlen)
{
	char line[APITOKEN_LASTUSE_LINE_MAX + 1];
	struct apitoken_lastuse lu;
	struct stat st;
	int dfd, r;

	if (apitoken_id_valid(id) != 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "bad token id");
	if (now == 0)
		now = time(NULL);
	if ((r = open_lastuse_dir(cfg, 1, &dfd, err, errlen)) != APITOKEN_OK)
		return r;
	if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime <= now && (int64_t)(now - st.st_mtime) < min_interval) {
		close(dfd);
		return APITOKEN_OK;	/* throttled */
	}
	memset(&lu, 0, sizeof(lu));
	lu.when = (int64_t)now;
	if (service != NULL && apitoken_service_valid(service) == 0)
		snprintf(lu.service, sizeof(lu.service), "%s", service);
	if (rhost != NULL && apitoken_addr_valid(rhost) == 0 &&
	    strlen(rhost) < sizeof(lu.rhost))
		snprintf(lu.rhost, sizeof(lu.rhost), "%s", rhost);
	if (apitoken_lastuse_format(&lu, line, sizeof(line) - 1) != 0) {
		close(dfd);
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "bad last "
		    "use");
	}
	strcat(line, "\n");
	r = write_lastuse(dfd, id, line, now, err, errlen);
	close(dfd);
	return r;
}

int
apitoken_lastuse_format(const struct apitoken_lastuse *lu, char *buf,
    size_t size)
{
	char when[32] = "never";

	buf[0] = '\0';
	if ((lu->service[0] && apitoken_service_valid(lu->service) != 0) ||
	    (lu->rhost[0] && apitoken_addr_valid(lu->rhost) != 0) ||
	    lu->when < 0 || (lu->when != 0 &&
	    apitoken_time_format(lu->when, when, sizeof(when)) != 0))
		return APITOKEN_ERR_INVALID;
	if ((size_t)snprintf(buf, size, "v1\t%s\t%s\t%s", when,
	    lu->service, lu->rhost) >= size) {
		buf[0] = '\0';
		return APITOKEN_ERR_INVALID;
	}
	return APITOKEN_OK;
}

/* The one parser of a last-use line (a file's, or a T_LASTUSE field). */
int
apitoken_lastuse_parse(const char *s, size_t len, struct apitoken_lastuse *lu)
{
	char buf[APITOKEN_LASTUSE_LINE_MAX + 1], *f[4], *p = buf;
	int i;

	memset(lu, 0, sizeof(*lu));
	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL ||
	    memchr(s, '\n', len) != NULL)
		return APITOKEN_ERR_INVALID;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (i = 0; i < 4; i++) {
		f[i] = p;
		p = strchr(p, '\t');
		if ((p == NULL) != (i == 3))
			return APITOKEN_ERR_INVALID;
		if (p != NULL)
			*p++ = '\0';
	}
	if (strcmp(f[0], "v1") != 0 || (strcmp(f[1], "never") != 0 &&
	    apitoken_time_parse(f[1], &lu->when) != 0) ||
	    (*f[2] && apitoken_service_valid(f[2]) != 0) ||
	    (*f[3] && (apitoken_addr_valid(f[3]) != 0 ||
	    strlen(f[3]) >= sizeof(lu->rhost)))) {
		memset(lu, 0, sizeof(*lu));
		return APITOKEN_ERR_INVALID;
	}
	snprintf(lu->service, sizeof(lu->service), "%s", f[2]);
	snprintf(lu->rhost, sizeof(lu->rhost), "%s", f[3]);
	return APITOKEN_OK;
}

int
apitoken_lastuse_get(const struct apitoken_config *cfg, const char *id,
    struct apitoken_lastuse *lu, char *err, size_t errlen)
{
	char buf[256];
	ssize_t n;
	int dfd, fd, r;

	memset(lu, 0, sizeof(*lu));
	if (apitoken_id_valid(id) != 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "bad token id");
	r = open_lastuse_dir(cfg, 0, &dfd, err, errlen);
	if (r == APITOKEN_ERR_NOT_FOUND)
		return APITOKEN_OK;	/* nothing recorded yet */
	if (r != APITOKEN_OK)
		return r;
	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return errno == ENOENT ? APITOKEN_OK : set_err(err, errlen,
		    APITOKEN_ERR_SYSTEM, "lastuse/%s: %s", id, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || buf[n - 1] != '\n' ||
	    apitoken_lastuse_parse(buf, (size_t)n - 1, lu) != APITOKEN_OK) {
		memset(lu, 0, sizeof(*lu));
		return set_err(err, errlen, APITOKEN_ERR_STORE_FORMAT,
		    "%s/lastuse/%s: not a last-use record",
		    apitoken_config_state_dir(cfg), id);
	}
	return APITOKEN_OK;
}

int
apitoken_lastuse_remove(const struct apitoken_config *cfg, const char *id)
{
	int dfd, r;

	if (apitoken_id_valid(id) != 0)
		return APITOKEN_ERR_INVALID;
	r = open_lastuse_dir(cfg, 0, &dfd, NULL, 0);
	if (r == APITOKEN_ERR_NOT_FOUND)
		return APITOKEN_OK;
	if (r != APITOKEN_OK)
		return r;
	r = unlinkat(dfd, id, 0) == 0 || errno == ENOENT ? APITOKEN_OK :
	    APITOKEN_ERR_SYSTEM;
	close(dfd);
	return r;
}
