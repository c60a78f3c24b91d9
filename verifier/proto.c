/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.c - the apitokend wire format (apitoken.h, "apitokend protocol";
 * apitokend(8), PROTOCOL): a 4-byte big-endian body length, then version,
 * op and tag-length-value fields.  The one encoder and the one parser,
 * shared by the daemon and the client.  Every tag has a hard cap (caps[]
 * below, listed in apitokend(8)); anything the parser does not know is
 * malformed, never skipped.
 */
#include <string.h>

#include "internal.h"

/* Largest value of each tag, bytes; 0 = not a tag. */
static const uint16_t caps[] = {
	[APITOKEN_T_USER] = APITOKEN_USER_MAX,
	[APITOKEN_T_SERVICE] = APITOKEN_SERVICE_MAX,
	[APITOKEN_T_RHOST] = 64,
	[APITOKEN_T_TOKEN] = APITOKEN_INPUT_MAX,
	[APITOKEN_T_REASON] = 32,
	[APITOKEN_T_ID] = APITOKEN_ID_LEN,
	[APITOKEN_T_LABEL] = APITOKEN_LABEL_MAX * 4,
	[APITOKEN_T_OWNER] = APITOKEN_USER_MAX,
	[APITOKEN_T_EXPIRES] = 20,
	[APITOKEN_T_DETAIL] = 256,
	[APITOKEN_T_ENTRY] = 512,
	[APITOKEN_T_ARG] = 1024,
	[APITOKEN_T_STYLE] = 2,
	[APITOKEN_T_TEXT] = 512,
	[APITOKEN_T_STATUS] = 3,
	[APITOKEN_T_LASTUSE] = APITOKEN_LASTUSE_LINE_MAX,
};

#define NCAPS (sizeof(caps) / sizeof(caps[0]))
#define HDR_LEN 4		/* the length prefix */
#define FIELD_HDR 3		/* tag and 2-byte length */

/* The cap of tag, or 0 for an unknown tag. */
static size_t
tag_cap(unsigned tag)
{
	return tag < NCAPS ? caps[tag] : 0;
}

/* 1 for an op the protocol defines: requests, self-service, replies. */
static int
op_known(unsigned op)
{
	return (op >= APITOKEN_OP_VERIFY && op <= APITOKEN_OP_UNLOCK) ||
	    (op >= 16 && op <= 63) ||
	    (op >= APITOKEN_OP_REPLY && op <= APITOKEN_OP_ANSWER);
}

void
apitoken_msg_init(struct apitoken_msg *m, uint8_t op)
{
	m->op = op;
	m->n = 0;
}

int
apitoken_msg_add(struct apitoken_msg *m, uint8_t tag, const char *val,
    size_t len)
{
	size_t cap = tag_cap(tag);

	if (cap == 0 || (val == NULL && len > 0))
		return APITOKEN_ERR_INVALID;
	if (len > cap || m->n >= APITOKEN_MSG_FIELDS)
		return APITOKEN_ERR_TOO_LONG;
	if (len > 0 && memchr(val, '\0', len) != NULL)
		return APITOKEN_ERR_INVALID;
	m->f[m->n].tag = tag;
	m->f[m->n].len = (uint16_t)len;
	m->f[m->n].val = len > 0 ? val : "";
	m->n++;
	return APITOKEN_OK;
}

int
apitoken_msg_add_str(struct apitoken_msg *m, uint8_t tag, const char *s)
{
	return apitoken_msg_add(m, tag, s, strlen(s));
}

static void
put_be(unsigned char *p, uint32_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

int
apitoken_msg_encode(const struct apitoken_msg *m, unsigned char *buf,
    size_t bufsize, size_t *outlen)
{
	size_t body = 2, i, o;

	*outlen = 0;
	if (m->n > APITOKEN_MSG_FIELDS || !op_known(m->op))
		return APITOKEN_ERR_INVALID;
	for (i = 0; i < m->n; i++) {
		if (tag_cap(m->f[i].tag) < m->f[i].len ||
		    tag_cap(m->f[i].tag) == 0)
			return APITOKEN_ERR_INVALID;
		body += FIELD_HDR + m->f[i].len;
	}
	if (body > APITOKEN_MSG_MAX || bufsize < HDR_LEN + body)
		return APITOKEN_ERR_TOO_LONG;
	put_be(buf, (uint32_t)body, HDR_LEN);
	buf[4] = APITOKEN_PROTO_VERSION;
	buf[5] = m->op;
	for (i = 0, o = HDR_LEN + 2; i < m->n; i++) {
		buf[o] = m->f[i].tag;
		put_be(buf + o + 1, m->f[i].len, 2);
		if (m->f[i].len > 0)
			memcpy(buf + o + FIELD_HDR, m->f[i].val, m->f[i].len);
		o += FIELD_HDR + m->f[i].len;
	}
	*outlen = o;
	return APITOKEN_OK;
}

/* One field at body[*off], appended to m; 0 or -1 if malformed. */
static int
parse_field(const unsigned char *body, size_t len, size_t *off,
    struct apitoken_msg *m)
{
	size_t o = *off, flen, cap;

	if (len - o < FIELD_HDR || m->n >= APITOKEN_MSG_FIELDS)
		return -1;
	cap = tag_cap(body[o]);
	flen = (size_t)body[o + 1] << 8 | body[o + 2];
	if (cap == 0 || flen > cap || flen > len - o - FIELD_HDR)
		return -1;
	if (flen > 0 && memchr(body + o + FIELD_HDR, '\0', flen) != NULL)
		return -1;
	m->f[m->n].tag = body[o];
	m->f[m->n].len = (uint16_t)flen;
	m->f[m->n].val = (const char *)body + o + FIELD_HDR;
	m->n++;
	*off = o + FIELD_HDR + flen;
	return 0;
}

int
apitoken_msg_parse(const unsigned char *body, size_t len,
    struct apitoken_msg *m)
{
	size_t off = 2;

	m->op = 0;
	m->n = 0;
	if (len < 2 || len > APITOKEN_MSG_MAX ||
	    body[0] != APITOKEN_PROTO_VERSION || !op_known(body[1]))
		return APITOKEN_ERR_INVALID;
	while (off < len)
		if (parse_field(body, len, &off, m) != 0) {
			m->n = 0;
			return APITOKEN_ERR_INVALID;
		}
	m->op = body[1];
	return APITOKEN_OK;
}

int
apitoken_msg_get(const struct apitoken_msg *m, uint8_t tag, char *buf,
    size_t bufsize)
{
	size_t i;

	if (bufsize > 0)
		buf[0] = '\0';
	for (i = 0; i < m->n && i < APITOKEN_MSG_FIELDS; i++) {
		if (m->f[i].tag != tag)
			continue;
		if ((size_t)m->f[i].len >= bufsize)
			return APITOKEN_ERR_TOO_LONG;
		memcpy(buf, m->f[i].val, m->f[i].len);
		buf[m->f[i].len] = '\0';
		return APITOKEN_OK;
	}
	return APITOKEN_ERR_NOT_FOUND;
}
