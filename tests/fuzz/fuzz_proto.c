/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_proto.c - the apitokend wire format (verifier/proto.c), the one
 * parser of bytes a non-root client sends to a root daemon.
 *
 * Input: a message body (what follows the 4-byte length).  Invariants:
 * a body the parser accepts has a known version and op, at most
 * APITOKEN_MSG_FIELDS fields, each within its tag's cap, without a NUL
 * byte, and lying inside the input, back to back; re-encoding the parsed
 * message gives the length prefix and exactly the input bytes; building
 * the same message field by field with apitoken_msg_add accepts every
 * field; apitoken_msg_get returns the first field of each tag, or
 * NOT_FOUND / TOO_LONG as its contract says.  A refused body leaves the
 * message empty.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static unsigned char out[4 + APITOKEN_MSG_MAX];

static void
check_fields(const uint8_t *data, size_t size, const struct apitoken_msg *m)
{
	const char *p = (const char *)data + 2;
	size_t i;

	FUZZ_ASSERT(m->n <= APITOKEN_MSG_FIELDS, "%zu fields", m->n);
	for (i = 0; i < m->n; i++) {
		FUZZ_ASSERT(m->f[i].val == p + 3, "field %zu not in place", i);
		FUZZ_ASSERT((const uint8_t *)m->f[i].val + m->f[i].len <=
		    data + size, "field %zu past the end", i);
		FUZZ_ASSERT(memchr(m->f[i].val, '\0', m->f[i].len) == NULL,
		    "NUL in field %zu", i);
		p = m->f[i].val + m->f[i].len;
	}
	FUZZ_ASSERT(p == (const char *)data + size, "bytes left over");
}

static void
check_reencode(const uint8_t *data, size_t size, const struct apitoken_msg *m)
{
	struct apitoken_msg b;
	size_t n = 0, i;

	FUZZ_ASSERT(apitoken_msg_encode(m, out, sizeof(out), &n) == 0,
	    "a parsed message does not encode");
	FUZZ_ASSERT(n == size + 4 && memcmp(out + 4, data, size) == 0,
	    "re-encoding differs");
	FUZZ_ASSERT(out[0] == (size >> 24 & 0xff) && out[1] == (size >> 16 &
	    0xff) && out[2] == (size >> 8 & 0xff) && out[3] == (size & 0xff),
	    "length prefix wrong");
	apitoken_msg_init(&b, m->op);
	for (i = 0; i < m->n; i++)
		FUZZ_ASSERT(apitoken_msg_add(&b, m->f[i].tag, m->f[i].val,
		    m->f[i].len) == 0, "field %zu refused by msg_add", i);
}

static void
check_get(const struct apitoken_msg *m)
{
	char buf[1100];
	size_t i, tag;
	int r;

	for (tag = 0; tag < 20; tag++) {
		r = apitoken_msg_get(m, (uint8_t)tag, buf, sizeof(buf));
		for (i = 0; i < m->n && m->f[i].tag != tag; i++)
			;
		if (i == m->n) {
			FUZZ_ASSERT(r == APITOKEN_ERR_NOT_FOUND, "tag %zu", tag);
			continue;
		}
		FUZZ_ASSERT(r == 0 && strlen(buf) == m->f[i].len &&
		    memcmp(buf, m->f[i].val, m->f[i].len) == 0, "get %zu", tag);
		if (m->f[i].len > 0)
			FUZZ_ASSERT(apitoken_msg_get(m, (uint8_t)tag, buf,
			    m->f[i].len) == APITOKEN_ERR_TOO_LONG, "short buf");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apitoken_msg *m;
	unsigned char *body;

	if ((m = malloc(sizeof(*m))) == NULL)
		return 0;
	/* an exact-size copy, so that ASan sees any read past the body */
	if ((body = malloc(size ? size : 1)) == NULL) {
		free(m);
		return 0;
	}
	memcpy(body, data, size);
	apitoken_msg_init(m, 99);
	m->n = 7;
	if (apitoken_msg_parse(body, size, m) != 0) {
		FUZZ_ASSERT(m->n == 0 && m->op == 0, "refused, not emptied");
	} else {
		FUZZ_ASSERT(size >= 2 && size <= APITOKEN_MSG_MAX &&
		    body[0] == APITOKEN_PROTO_VERSION && m->op == body[1],
		    "accepted a bad header");
		check_fields(body, size, m);
		check_reencode(body, size, m);
		check_get(m);
	}
	free(body);
	free(m);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
