/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txnnew.c - staging a new token in a write transaction: the one place
 * that makes a secret, gives its id and hash to a record and inserts it,
 * retrying with a fresh id while one is taken.  tokenctl (issue, rotate)
 * and apitokend (self-service issue, rotate) both go through it.
 */
#include <string.h>

#include "internal.h"

int
apitoken_txn_insert_new(struct apitoken_txn *txn, const char *prefix,
    struct apitoken_record *rec, char *token, size_t tokensize, char *err,
    size_t errlen)
{
	struct apitoken_token parts;
	char hash[APITOKEN_HASH_MAX] = "";
	int r = APITOKEN_ERR_EXISTS, tries, said = 0;

	memset(&parts, 0, sizeof(parts));
	for (tries = 0; tries < APITOKEN_TXN_NEW_TRIES &&
	    r == APITOKEN_ERR_EXISTS; tries++) {
		said = 0;
		r = apitoken_token_generate(prefix, token, tokensize, &parts,
		    hash);
		if (r != APITOKEN_OK)
			break;
		memcpy(rec->id, parts.id, sizeof(rec->id));
		apitoken_token_clear(&parts);
		if ((r = apitoken_record_set(&rec->hash, hash)) != 0) {
			r = APITOKEN_ERR_NOMEM;
			break;
		}
		r = apitoken_txn_insert(txn, rec, err, errlen);
		said = 1;	/* insert's err says why */
	}
	apitoken_token_clear(&parts);
	apitoken_wipe(hash, sizeof(hash));
	if (r == APITOKEN_OK)
		return r;
	apitoken_wipe(token, tokensize);
	if (!said)
		return set_err(err, errlen, r, "cannot make a token: %s",
		    apitoken_strerror(r));
	if (r == APITOKEN_ERR_EXISTS)
		return set_err(err, errlen, r, "cannot make a token: %d "
		    "fresh IDs were all taken", APITOKEN_TXN_NEW_TRIES);
	return r;
}
