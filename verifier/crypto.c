/*
 * crypto.c - the only file that calls OpenSSL (and getrandom).  OpenSSL's
 * 1-is-success is turned into APITOKEN_* codes here and nowhere else.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"

/* Fill buf from getrandom(2); blocks only until the pool is initialised. */
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

/*
 * EVP_sha256() hands EVP_Digest a legacy handle that is looked up in the
 * provider store again on every call; fetch the implementation once per
 * process instead (pthread_once: thread-safe; never freed, it lives as
 * long as libcrypto).  A failed fetch falls back to EVP_sha256().
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		return EVP_sha256();
	return sha256_md;
}

int
crypto_sha256_hex(const void *data, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;
	int r = APITOKEN_ERR_CRYPTO;

	if (EVP_Digest(data, n, md, &mdlen, sha256(), NULL) != 1 ||
	    mdlen != 32)
		goto out;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	r = APITOKEN_OK;
out:
	OPENSSL_cleanse(md, sizeof(md));
	return r;
}

/* 1 if equal; constant time in the contents. */
int
crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
