/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token.c - the token string: <prefix>_<id>_<secret><crc>.
 *
 * The parser looks at nothing but the string, so malformed input never
 * reaches the store.  CRC-32 (IEEE, reflected 0xEDB88320) covers
 * "<prefix>_<id>_<secret>" and is written as 6 base62 digits, most
 * significant first (62^6 > 2^32).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int
is_base62(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static int
is_token_char(unsigned char c)
{
	return is_base62(c) || c == '_';
}

int
prefix_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > APITOKEN_PREFIX_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
			return 0;
	return 1;
}

static uint32_t
crc32_ieee(const char *s, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

void
base62_encode_u32(uint32_t v, char out[APITOKEN_CRC_LEN])
{
	int i;

	for (i = APITOKEN_CRC_LEN - 1; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
}

/* n uniform base62 digits: bytes >= 248 (= 4 * 62) are rejected. */
int
base62_random(char *out, size_t n)
{
	unsigned char buf[64];
	size_t have = 0, i;
	int r = APITOKEN_OK;

	while (have < n) {
		if ((r = crypto_random(buf, sizeof(buf))) != APITOKEN_OK)
			break;
		for (i = 0; i < sizeof(buf) && have < n; i++)
			if (buf[i] < 248)
				out[have++] = b62[buf[i] % 62];
	}
	apitoken_wipe(buf, sizeof(buf));
	return r;
}

void
apitoken_token_clear(struct apitoken_token *t)
{
	apitoken_wipe(t, sizeof(*t));
}

enum apitoken_format
apitoken_token_parse(const char *prefix, const char *s, size_t len,
    struct apitoken_token *out)
{
	size_t plen = strlen(prefix), i;
	const char *id, *secret, *crc;
	char want[APITOKEN_CRC_LEN];

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return APITOKEN_FMT_EMPTY;
	if (len > APITOKEN_TOKEN_MAX)
		return APITOKEN_FMT_TOO_LONG;
	for (i = 0; i < len; i++)
		if (!is_token_char((unsigned char)s[i]))
			return APITOKEN_FMT_ALPHABET;
	if (!prefix_valid(prefix) || len <= plen ||
	    memcmp(s, prefix, plen) != 0 || s[plen] != '_')
		return APITOKEN_FMT_PREFIX;
	id = s + plen + 1;
	if (len != plen + 2 + APITOKEN_ID_LEN + APITOKEN_SECRET_LEN +
	    APITOKEN_CRC_LEN || id[APITOKEN_ID_LEN] != '_')
		return APITOKEN_FMT_SHAPE;
	secret = id + APITOKEN_ID_LEN + 1;
	crc = secret + APITOKEN_SECRET_LEN;
	for (i = 0; i < APITOKEN_ID_LEN; i++)
		if (id[i] == '_')
			return APITOKEN_FMT_SHAPE;
	for (i = 0; i < APITOKEN_SECRET_LEN + APITOKEN_CRC_LEN; i++)
		if (secret[i] == '_')
			return APITOKEN_FMT_SHAPE;
	base62_encode_u32(crc32_ieee(s, (size_t)(crc - s)), want);
	if (memcmp(want, crc, APITOKEN_CRC_LEN) != 0)
		return APITOKEN_FMT_CHECKSUM;
	memcpy(out->id, id, APITOKEN_ID_LEN);
	memcpy(out->secret, secret, APITOKEN_SECRET_LEN);
	return APITOKEN_FMT_OK;
}

static int
match_scheme(const char *s, size_t len, const char *scheme)
{
	size_t n = strlen(scheme);

	return len >= n && strncasecmp(s, scheme, n) == 0 &&
	    (len == n || s[n] == ' ' || s[n] == '\t');
}

/*
 * "Bearer <t>" / "ApiKey <t>": scheme case-insensitive, then exactly one
 * space, then a token with no leading blank.  Anything else is returned
 * as it is (the token parser then judges it).
 */
int
apitoken_strip_scheme(const char *s, size_t len, const char **tok,
    size_t *toklen)
{
	static const char *const schemes[] = { "Bearer", "ApiKey" };
	size_t i, n;

	*tok = s;
	*toklen = 0;
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (!match_scheme(s, len, schemes[i]))
			continue;
		n = strlen(schemes[i]);
		if (len < n + 2 || s[n] != ' ' || s[n + 1] == ' ' ||
		    s[n + 1] == '\t')
			return APITOKEN_ERR_INVALID;
		*tok = s + n + 1;
		*toklen = len - n - 1;
		return APITOKEN_OK;
	}
	*toklen = len;
	return APITOKEN_OK;
}

int
apitoken_hash(const struct apitoken_token *t, char out[APITOKEN_HASH_MAX])
{
	char buf[APITOKEN_ID_LEN + 1 + APITOKEN_SECRET_LEN];
	char hex[65];
	int r;

	memset(out, 0, APITOKEN_HASH_MAX);
	memcpy(buf, t->id, APITOKEN_ID_LEN);
	buf[APITOKEN_ID_LEN] = '_';
	memcpy(buf + APITOKEN_ID_LEN + 1, t->secret, APITOKEN_SECRET_LEN);
	r = crypto_sha256_hex(buf, sizeof(buf), hex);
	apitoken_wipe(buf, sizeof(buf));
	if (r == APITOKEN_OK)
		memcpy(out, "sha256$", 7), memcpy(out + 7, hex, 65);
	return r;
}

int
apitoken_hash_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s + 7;
	unsigned bad = 0;
	size_t i;

	if (strncmp(s, "sha256$", 7) != 0)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i < 64; i++) {
		if (p[i] == '\0')
			return APITOKEN_ERR_INVALID;
		bad |= !((unsigned)(p[i] - '0') < 10u || (unsigned)(p[i] - 'a') < 6u);
	}
	return bad || p[64] != '\0' ? APITOKEN_ERR_INVALID : APITOKEN_OK;
}

int
apitoken_id_generate(char id[APITOKEN_ID_LEN + 1])
{
	int r = base62_random(id, APITOKEN_ID_LEN);

	id[r == APITOKEN_OK ? APITOKEN_ID_LEN : 0] = '\0';
	return r;
}

int
apitoken_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < APITOKEN_ID_LEN; i++)
		if (!is_base62((unsigned char)s[i]))
			return APITOKEN_ERR_INVALID;
	return s[APITOKEN_ID_LEN] == '\0' ? APITOKEN_OK : APITOKEN_ERR_INVALID;
}

int
apitoken_token_generate(const char *prefix, char *buf, size_t bufsize,
    struct apitoken_token *parts, char hash[APITOKEN_HASH_MAX])
{
	size_t n;
	int r = APITOKEN_ERR_INVALID;

	memset(parts, 0, sizeof(*parts));
	memset(hash, 0, APITOKEN_HASH_MAX);
	if (bufsize > 0)
		buf[0] = '\0';
	if (!prefix_valid(prefix) || bufsize < APITOKEN_TOKEN_MAX + 1)
		goto out;
	if ((r = apitoken_id_generate(parts->id)) != APITOKEN_OK ||
	    (r = base62_random(parts->secret, APITOKEN_SECRET_LEN)) != APITOKEN_OK)
		goto out;
	parts->secret[APITOKEN_SECRET_LEN] = '\0';
	n = (size_t)snprintf(buf, bufsize, "%s_%s_%s", prefix, parts->id,
	    parts->secret);
	base62_encode_u32(crc32_ieee(buf, n), buf + n);
	buf[n + APITOKEN_CRC_LEN] = '\0';
	r = apitoken_hash(parts, hash);
out:
	if (r != APITOKEN_OK) {
		apitoken_token_clear(parts);
		apitoken_wipe(buf, bufsize);
	}
	return r;
}
