/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * account.c - the account behind PAM_USER: does it exist (passwd).
 * Whether it is locked is the library's apitoken_account_locked().
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "pam_apitoken.h"

#define BUF_START 16384
#define BUF_MAX 1048576

/* The account must exist: an unknown user never succeeds (CVE-2020-27780). */
int
account_exists(struct decision *d)
{
	struct passwd pw, *found = NULL;
	size_t size = BUF_START;
	char *buf = NULL;
	int r;

	for (;;) {
		char *nbuf = realloc(buf, size);

		if (nbuf == NULL) {
			d->why = WHY_NOMEM;
			r = -1;
			goto out;
		}
		buf = nbuf;
		r = getpwnam_r(d->user, &pw, buf, size, &found);
		if (r != ERANGE || size >= BUF_MAX)
			break;
		size *= 2;
	}
	if (r == ENOMEM)
		d->why = WHY_NOMEM;
	else if (r != 0)
		d->why = WHY_USER_LOOKUP;
	else if (found == NULL)
		d->why = WHY_USER_UNKNOWN;
	r = (r == 0 && found != NULL) ? 0 : -1;
	d->user_exists = r == 0;
out:
	free(buf);
	return r;
}
