/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * account.c - the account behind PAM_USER: does it exist (passwd), is
 * it locked (shadow).
 *
 * A locked account is one whose shadow hash is "!" followed by anything:
 * passwd -l and usermod -L put a "!" in front of the hash ("!" + hash, or
 * "!!" / "!*" for an account without a password).  A hash of "!" alone
 * is what Debian's useradd gives an account that never had a password (a
 * token-only account): not locked.  "*" is never locked either.
 */
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
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

static int
hash_locked(const char *hash)
{
	return hash != NULL && hash[0] == '!' && hash[1] != '\0';
}

int
account_locked(const char *user, int *unreadable)
{
	struct spwd sp, *found = NULL;
	char buf[BUF_START];
	int r, locked;

	*unreadable = 0;
	r = getspnam_r(user, &sp, buf, sizeof(buf), &found);
	if ((r == 0 || r == ENOENT) && found == NULL)
		return 0;	/* no shadow entry (an NSS account) */
	if (r == EACCES) {
		*unreadable = 1;	/* not root */
		return 0;
	}
	if (r != 0 || found == NULL)
		return -1;
	locked = hash_locked(found->sp_pwdp);
	if (found->sp_pwdp != NULL)
		apitoken_wipe(found->sp_pwdp, strlen(found->sp_pwdp));
	apitoken_wipe(buf, sizeof(buf));
	return locked;
}
