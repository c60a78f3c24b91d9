/* SPDX-License-Identifier: BSD-2-Clause */
/* errmsg.c - error codes, their one string table, and wiping. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* names[i], or fallback when i is past the table or has no name. */
static const char *
pick(const char *const *names, size_t n, long i, const char *fallback)
{
	return i >= 0 && (size_t)i < n && names[i] != NULL ? names[i] :
	    fallback;
}

#define PICK(names, i, fallback) \
	pick(names, sizeof(names) / sizeof(names[0]), (long)(i), fallback)

/* Indexed by -code. */
static const char *const errors[] = {
	[-APITOKEN_OK] = "success",
	[-APITOKEN_ERR_INTERNAL] = "internal error",
	[-APITOKEN_ERR_NOMEM] = "out of memory",
	[-APITOKEN_ERR_SYSTEM] = "system error",
	[-APITOKEN_ERR_CRYPTO] = "cryptographic library error",
	[-APITOKEN_ERR_INVALID] = "invalid value",
	[-APITOKEN_ERR_CONFIG] = "configuration error",
	[-APITOKEN_ERR_STORE_MISSING] = "token store missing",
	[-APITOKEN_ERR_STORE_UNSAFE] = "token store unsafe",
	[-APITOKEN_ERR_STORE_FORMAT] = "token store corrupt",
	[-APITOKEN_ERR_STORE_VERSION] = "unknown token store version",
	[-APITOKEN_ERR_LOCK_TIMEOUT] = "timed out waiting for the store lock",
	[-APITOKEN_ERR_NOT_FOUND] = "not found",
	[-APITOKEN_ERR_EXISTS] = "already exists",
	[-APITOKEN_ERR_ACCESS] = "permission denied",
	[-APITOKEN_ERR_TOO_LONG] = "too long",
	[-APITOKEN_ERR_STALE] = "transaction already finished",
	[-APITOKEN_ERR_RULE] = "refused by a store rule",
};

static const char *const reasons[] = {
	[APITOKEN_ACCEPTED] = "accepted",
	[APITOKEN_R_MALFORMED] = "malformed",
	[APITOKEN_R_BAD_CHECKSUM] = "bad-checksum",
	[APITOKEN_R_UNKNOWN] = "unknown",
	[APITOKEN_R_WRONG_SECRET] = "wrong-secret",
	[APITOKEN_R_DISABLED] = "disabled",
	[APITOKEN_R_REVOKED] = "revoked",
	[APITOKEN_R_EXPIRED] = "expired",
	[APITOKEN_R_WRONG_USER] = "wrong-user",
	[APITOKEN_R_SERVICE] = "service-not-allowed",
	[APITOKEN_R_SOURCE] = "source-not-allowed",
	[APITOKEN_R_STORE_ERROR] = "store-error",
	[APITOKEN_R_CALLER] = "caller-not-allowed",
	[APITOKEN_R_THROTTLED] = "throttled",
	[APITOKEN_R_UNAVAILABLE] = "daemon-unavailable",
	[APITOKEN_R_HOST] = "host-not-allowed",
	[APITOKEN_R_LOCKED] = "account-locked",
	[APITOKEN_R_STALE] = "replica-stale",
};

static const char *const formats[] = {
	[APITOKEN_FMT_OK] = "well-formed",
	[APITOKEN_FMT_EMPTY] = "empty",
	[APITOKEN_FMT_TOO_LONG] = "too long",
	[APITOKEN_FMT_ALPHABET] = "character outside [0-9A-Za-z_]",
	[APITOKEN_FMT_PREFIX] = "wrong prefix",
	[APITOKEN_FMT_SHAPE] = "wrong length or separators",
	[APITOKEN_FMT_CHECKSUM] = "checksum mismatch",
};

static const char *const statuses[] = {
	[APITOKEN_ACTIVE] = "active",
	[APITOKEN_DISABLED] = "disabled",
	[APITOKEN_REVOKED] = "revoked",
};

_Static_assert(sizeof(errors) / sizeof(errors[0]) == 1 - APITOKEN_ERR_RULE,
    "a name for every APITOKEN_ERR_* code");
_Static_assert(sizeof(reasons) / sizeof(reasons[0]) == APITOKEN_R_COUNT,
    "a name for every apitoken_reason");

const char *
apitoken_strerror(int code)
{
	return PICK(errors, -(long)code, "unknown error");
}

const char *
apitoken_reason_str(enum apitoken_reason r)
{
	return PICK(reasons, r, "store-error");
}

int
apitoken_reason_parse(const char *s, enum apitoken_reason *r)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(s, reasons[i]) == 0) {
			*r = (enum apitoken_reason)i;
			return APITOKEN_OK;
		}
	return APITOKEN_ERR_INVALID;
}

const char *
apitoken_format_str(enum apitoken_format f)
{
	return PICK(formats, f, "malformed");
}

const char *
apitoken_status_str(enum apitoken_status s)
{
	return PICK(statuses, s, "invalid");
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
