/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * selfmsg.c - lines longer than one protocol field (record lines of the
 * self-service ops, apitokend(8) SELF-SERVICE PROTOCOL): cut into pieces
 * of APITOKEN_LINE_PIECE bytes, the last one ending in '\n'.
 */
#include <string.h>

#include "internal.h"

int
apitoken_msg_add_line(struct apitoken_msg *m, uint8_t tag, const char *line,
    size_t len)
{
	size_t off, n;
	int r;

	if (len == 0 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL)
		return APITOKEN_ERR_INVALID;
	if (len > APITOKEN_LINE_MAX)
		return APITOKEN_ERR_TOO_LONG;
	for (off = 0; off < len; off += n) {
		n = len - off < APITOKEN_LINE_PIECE ? len - off :
		    APITOKEN_LINE_PIECE;
		if ((r = apitoken_msg_add(m, tag, line + off, n)) != 0)
			return r;
	}
	return APITOKEN_OK;
}

int
apitoken_msg_next_line(const struct apitoken_msg *m, uint8_t tag,
    size_t *pos, char *buf, size_t bufsize, size_t *lenp)
{
	const struct apitoken_msg_field *f;
	size_t len = 0, i;

	*lenp = 0;
	if (bufsize > 0)
		buf[0] = '\0';
	for (i = *pos; i < m->n; i++) {
		f = &m->f[i];
		if (f->tag != tag)
			continue;
		if (f->len == 0 || len + f->len >= bufsize) {
			*pos = m->n;
			return f->len == 0 ? APITOKEN_ERR_INVALID :
			    APITOKEN_ERR_TOO_LONG;
		}
		memcpy(buf + len, f->val, f->len);
		len += f->len;
		buf[len] = '\0';
		if (buf[len - 1] == '\n') {
			*pos = i + 1;
			*lenp = len;
			return APITOKEN_OK;
		}
	}
	*pos = m->n;
	return len == 0 ? APITOKEN_ERR_NOT_FOUND : APITOKEN_ERR_INVALID;
}
