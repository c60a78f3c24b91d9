/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callers.c - daemon_callers: the PAM services a named non-root caller
 * of apitokend may verify for any user.  A flat list of (who, service)
 * pairs, who being a user name or "@group"; the daemon asks with the
 * caller's user name and each of its groups (apitokend(8), WHO MAY ASK).
 */
#include <string.h>

#include "internal.h"

void
callers_clear(struct svc_aliases *a)
{
	aliases_clear(a);
}

/*
 * A user or group name as daemon_callers takes it: 1 to 32 of
 * [A-Za-z0-9._-], not starting with '-', an optional final '$' (Samba
 * machine accounts); a group has a leading '@'.  0 or -1.
 */
int
caller_name_valid(const char *s)
{
	size_t i, n;

	if (*s == '@')
		s++;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '$')
		n--;
	if (n == 0 || n > 32 || s[0] == '-')
		return -1;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return -1;
	return 0;
}

/* Grant who (caller_name_valid) the service svc (apitoken_service_valid);
 * NULL, or what is wrong with the pair. */
const char *
callers_add(struct svc_aliases *a, const char *who, const char *svc)
{
	if (callers_allowed(a, who, svc))
		return "listed twice";
	if (a->n >= CALLERS_MAX)
		return "more grants than the limit of 1024";
	return pairs_append(a, who, svc) == 0 ? NULL : "out of memory";
}

int
callers_allowed(const struct svc_aliases *a, const char *who,
    const char *svc)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].from, who) == 0 &&
		    strcmp(a->v[i].to, svc) == 0)
			return 1;
	return 0;
}
