/* SPDX-License-Identifier: BSD-2-Clause */
/* errmsg.c - error codes, their one string table, and wiping. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *
apitoken_strerror(int code)
{
	switch (code) {
	case APITOKEN_OK:			return "success";
	case APITOKEN_ERR_INTERNAL:		return "internal error";
	case APITOKEN_ERR_NOMEM:		return "out of memory";
	case APITOKEN_ERR_SYSTEM:		return "system error";
	case APITOKEN_ERR_CRYPTO:		return "cryptographic library error";
	case APITOKEN_ERR_INVALID:		return "invalid value";
	case APITOKEN_ERR_CONFIG:		return "configuration error";
	case APITOKEN_ERR_STORE_MISSING:	return "token store missing";
	case APITOKEN_ERR_STORE_UNSAFE:		return "token store unsafe";
	case APITOKEN_ERR_STORE_FORMAT:		return "token store corrupt";
	case APITOKEN_ERR_STORE_VERSION:	return "unknown token store version";
	case APITOKEN_ERR_LOCK_TIMEOUT:		return "timed out waiting for the store lock";
	case APITOKEN_ERR_NOT_FOUND:		return "not found";
	case APITOKEN_ERR_EXISTS:		return "already exists";
	case APITOKEN_ERR_ACCESS:		return "permission denied";
	case APITOKEN_ERR_TOO_LONG:		return "too long";
	case APITOKEN_ERR_STALE:		return "transaction already finished";
	case APITOKEN_ERR_RULE:			return "refused by a store rule";
	}
	return "unknown error";
}

const char *
apitoken_reason_str(enum apitoken_reason r)
{
	switch (r) {
	case APITOKEN_ACCEPTED:		return "accepted";
	case APITOKEN_R_MALFORMED:	return "malformed";
	case APITOKEN_R_BAD_CHECKSUM:	return "bad-checksum";
	case APITOKEN_R_UNKNOWN:	return "unknown";
	case APITOKEN_R_WRONG_SECRET:	return "wrong-secret";
	case APITOKEN_R_DISABLED:	return "disabled";
	case APITOKEN_R_REVOKED:	return "revoked";
	case APITOKEN_R_EXPIRED:	return "expired";
	case APITOKEN_R_WRONG_USER:	return "wrong-user";
	case APITOKEN_R_SERVICE:	return "service-not-allowed";
	case APITOKEN_R_SOURCE:		return "source-not-allowed";
	case APITOKEN_R_STORE_ERROR:	return "store-error";
	}
	return "store-error";
}

const char *
apitoken_format_str(enum apitoken_format f)
{
	switch (f) {
	case APITOKEN_FMT_OK:		return "well-formed";
	case APITOKEN_FMT_EMPTY:	return "empty";
	case APITOKEN_FMT_TOO_LONG:	return "too long";
	case APITOKEN_FMT_ALPHABET:	return "character outside [0-9A-Za-z_]";
	case APITOKEN_FMT_PREFIX:	return "wrong prefix";
	case APITOKEN_FMT_SHAPE:	return "wrong length or separators";
	case APITOKEN_FMT_CHECKSUM:	return "checksum mismatch";
	}
	return "malformed";
}

const char *
apitoken_status_str(enum apitoken_status s)
{
	switch (s) {
	case APITOKEN_ACTIVE:	return "active";
	case APITOKEN_DISABLED:	return "disabled";
	case APITOKEN_REVOKED:	return "revoked";
	}
	return "invalid";
}

int
apitoken_status_parse(const char *s, enum apitoken_status *st)
{
	static const enum apitoken_status all[] = {
		APITOKEN_ACTIVE, APITOKEN_DISABLED, APITOKEN_REVOKED,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, apitoken_status_str(all[i])) == 0) {
			*st = all[i];
			return APITOKEN_OK;
		}
	return APITOKEN_ERR_INVALID;
}

void
apitoken_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

int
set_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
