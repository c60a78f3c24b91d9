/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto.c - the only file that calls the crypto library and getrandom.
 *
 * The library is nettle (Debian's libnettle8, already on every Debian
 * system through apt's GnuTLS), not OpenSSL: sudo, login and su do not
 * load libcrypto, and loading and initialising it cost about 2.2 ms of
 * every such authentication (measured, BENCHMARKS.md), more than the
 * whole verify.  nettle's SHA-256 needs no initialisation and allocates
 * nothing; memeql_sec is its constant-time compare.  Its base64 decoder
 * reads HTTP Basic credentials (httpauth.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "internal.h"

int
crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return APITOKEN_ERR_CRYPTO;
		}
		p += r;
		n -= (size_t)r;
	}
	return APITOKEN_OK;
}

int
crypto_sha256_hex(const void *data, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];
	int i;

	sha256_init(&ctx);
	sha256_update(&ctx, n, data);
	sha256_digest(&ctx, sizeof(md), md);
	for (i = 0; i < SHA256_DIGEST_SIZE; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(md, sizeof(md));
	return APITOKEN_OK;
}

int
crypto_equal(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n);
}

int
apitoken_ct_equal(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n) != 0;
}

/*
 * Strict base64 (RFC 4648, standard alphabet, padded): n a multiple of 4,
 * '=' only as the last one or two characters; nettle itself would skip
 * white space.  Decodes into out (outsize >= n / 4 * 3); *outlen bytes.
 * The caller wipes out.
 */
int
crypto_base64_decode(const char *in, size_t n, unsigned char *out,
    size_t outsize, size_t *outlen)
{
	struct base64_decode_ctx ctx;
	size_t i, pad = 0;
	int ok;

	*outlen = 0;
	if (n == 0 || n % 4 != 0 || outsize < n / 4 * 3)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (in[i] == '=' && i >= n - 2)
			pad++;
		else if (pad > 0 || !(is_base62(in[i]) || in[i] == '+' ||
		    in[i] == '/'))
			return APITOKEN_ERR_INVALID;
	}
	base64_decode_init(&ctx);
	ok = base64_decode_update(&ctx, outlen, out, n, in) &&
	    base64_decode_final(&ctx);
	explicit_bzero(&ctx, sizeof(ctx));
	if (!ok) {
		explicit_bzero(out, outsize);
		*outlen = 0;
		return APITOKEN_ERR_INVALID;
	}
	return APITOKEN_OK;
}
