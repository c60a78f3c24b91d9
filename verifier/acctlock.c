/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acctlock.c - is an account locked (shadow)?  The one rule, shared by
 * the PAM module and apitokend.
 *
 * A locked account is one whose shadow hash is "!" followed by anything:
 * passwd -l and usermod -L put a "!" in front of the hash ("!" + hash, or
 * "!!" / "!*" for an account without a password).  A hash of "!" alone
 * is what Debian's useradd gives an account that never had a password (a
 * token-only account): not locked.  "*" is never locked either.
 */
#include <errno.h>
#include <shadow.h>
#include <string.h>

#include "apitoken.h"

#define SHADOW_BUF 16384

static int
hash_locked(const char *hash)
{
	return hash != NULL && hash[0] == '!' && hash[1] != '\0';
}

int
apitoken_account_locked(const char *user, int *unreadable)
{
	struct spwd sp, *found = NULL;
	char buf[SHADOW_BUF];
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
