/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sha256.c - the store's hash of a token, computed with OpenSSL: an
 * oracle independent of the library's nettle code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tl.h"

void
tl_sha256_hash(const char *id, const char *secret, char out[72])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *in;
	int i;

	in = tl_fmt("%s_%s", id, secret);
	if (EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		tl_die("EVP_Digest(SHA-256) failed");
	free(in);
	memcpy(out, "sha256$", 7);
	for (i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}
