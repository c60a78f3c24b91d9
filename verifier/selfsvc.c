/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * selfsvc.c - self-service (issue 16): the self_service settings that
 * config.c's walker fills, and apitoken_self_check, the one place that
 * decides whether an ordinary user may make a change to their own
 * tokens through apitokend.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum {
	SK_ENABLED, SK_SERVICES, SK_MAX_LIFETIME, SK_MAX_TOKENS, SK_FROM,
	SK_USERS, SK_GROUPS, SK_REAUTH, SK_COUNT
};

static const struct {
	const char *name;
	int is_list;
	const char *msg;	/* what a bad value is told */
} self_keys[SK_COUNT] = {
	[SK_ENABLED] = { "enabled", 0, "must be true or false" },
	[SK_SERVICES] = { "services", 1,
	    "expected a list of PAM service names (1 to 64 of "
	    "[A-Za-z0-9._+-])" },
	[SK_MAX_LIFETIME] = { "max_lifetime", 0,
	    "must be a duration such as 30m, 12h, 90d, 2w, 1y, or \"never\"" },
	[SK_MAX_TOKENS] = { "max_tokens", 0,
	    "must be a whole number from 1 to 10000" },
	[SK_FROM] = { "allow_from_required", 0, "must be true or false" },
	[SK_USERS] = { "users", 1, "expected a list of user names" },
	[SK_GROUPS] = { "groups", 1, "expected a list of group names" },
	[SK_REAUTH] = { "reauth_service", 0,
	    "must be a PAM service name (1 to 64 of [A-Za-z0-9._+-])" },
};

#define SELF_DEFAULT_LIFETIME (90LL * 24 * 3600)
#define SELF_DEFAULT_TOKENS 20
#define SELF_TOKENS_MAX 10000

void
self_conf_clear(struct self_conf *s)
{
	apitoken_record_list_clear(&s->pub.services, &s->pub.n_services);
	apitoken_record_list_clear(&s->pub.users, &s->pub.n_users);
	apitoken_record_list_clear(&s->pub.groups, &s->pub.n_groups);
	memset(s, 0, sizeof(*s));
}

/* Everything as if the mapping were absent (or before its keys). */
int
self_conf_default(struct self_conf *s)
{
	unsigned seen = s->seen;

	self_conf_clear(s);
	s->seen = seen;
	s->pub.max_lifetime = SELF_DEFAULT_LIFETIME;
	s->pub.max_tokens = SELF_DEFAULT_TOKENS;
	snprintf(s->reauth, sizeof(s->reauth), "%s",
	    APITOKEN_SELF_REAUTH_SERVICE);
	s->pub.reauth_service = s->reauth;
	return 0;
}

int
self_key(const char *name, int *is_list)
{
	int i;

	for (i = 0; i < SK_COUNT; i++)
		if (strcmp(self_keys[i].name, name) == 0) {
			*is_list = self_keys[i].is_list;
			return i;
		}
	return -1;
}

static int
bool_parse(const char *v, int *out)
{
	if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A user or group name: one word of printable text, no comma. */
static int
name_ok(const char *v)
{
	return apitoken_text_valid(v, APITOKEN_USER_MAX) == 0 && v[0] != '\0' &&
	    strpbrk(v, " \t,:") == NULL;
}

static const char *
list_add(char ***list, size_t *n, size_t max, const char *v)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i], v) == 0)
			return "listed twice";
	if (*n >= max)
		return "more entries than the limit";
	return apitoken_record_list_add(list, n, v) == 0 ? NULL :
	    "out of memory";
}

static const char *
set_scalar(struct self_conf *s, int key, const char *val)
{
	int64_t d;
	char *end;
	unsigned long n;

	switch (key) {
	case SK_ENABLED:
		return bool_parse(val, &s->pub.enabled) ? self_keys[key].msg :
		    NULL;
	case SK_FROM:
		return bool_parse(val, &s->pub.from_required) ?
		    self_keys[key].msg : NULL;
	case SK_MAX_LIFETIME:
		if (apitoken_duration_parse(val, &d) != APITOKEN_OK || d == 0)
			return self_keys[key].msg;
		s->pub.max_lifetime = d;
		return NULL;
	case SK_MAX_TOKENS:
		n = strtoul(val, &end, 10);
		if (val[0] < '0' || val[0] > '9' || *end != '\0' || n < 1 ||
		    n > SELF_TOKENS_MAX)
			return self_keys[key].msg;
		s->pub.max_tokens = n;
		return NULL;
	case SK_REAUTH:
		if (apitoken_service_valid(val) != 0)
			return self_keys[key].msg;
		snprintf(s->reauth, sizeof(s->reauth), "%s", val);
		return NULL;
	}
	return "unknown key";
}

const char *
self_conf_set(struct self_conf *s, int key, const char *val)
{
	switch (key) {
	case SK_SERVICES:
		if (apitoken_service_valid(val) != 0)
			return self_keys[key].msg;
		return list_add(&s->pub.services, &s->pub.n_services,
		    APITOKEN_SERVICES_MAX, val);
	case SK_USERS:
		if (!name_ok(val))
			return self_keys[key].msg;
		return list_add(&s->pub.users, &s->pub.n_users,
		    SELF_LIST_MAX, val);
	case SK_GROUPS:
		if (!name_ok(val))
			return self_keys[key].msg;
		return list_add(&s->pub.groups, &s->pub.n_groups,
		    SELF_LIST_MAX, val);
	}
	return set_scalar(s, key, val);
}

/*
 * An unset max_lifetime follows a shorter global max_lifetime (as
 * default_lifetime does); one given longer than it is an error.
 */
const char *
self_conf_finish(struct self_conf *s, int64_t global_max)
{
	if (global_max == APITOKEN_NEVER)
		return NULL;
	if (s->pub.max_lifetime != APITOKEN_NEVER &&
	    s->pub.max_lifetime <= global_max)
		return NULL;
	if (s->seen & (1u << SK_MAX_LIFETIME))
		return "self_service.max_lifetime is longer than max_lifetime";
	s->pub.max_lifetime = global_max;
	return NULL;
}

/* ------------------------------------------------------------ check */

static int
in_list(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* 1 if user (with primary group gid) is a member of group name. */
static int
member_of(const char *user, gid_t gid, const char *name)
{
	struct group gr, *g = NULL;
	gid_t gids[256];
	int n = (int)(sizeof(gids) / sizeof(gids[0])), i;
	char buf[16384];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &g) != 0 || g == NULL)
		return 0;
	if (getgrouplist(user, gid, gids, &n) < 0)
		return 0;	/* more groups than we look at: not proven */
	for (i = 0; i < n; i++)
		if (gids[i] == g->gr_gid)
			return 1;
	return 0;
}

static int
who_ok(const struct apitoken_self_service *s, const char *user, char *err,
    size_t errlen)
{
	struct passwd pw, *p = NULL;
	char buf[16384];
	size_t i;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &p) != 0 || p == NULL)
		return set_err(err, errlen, APITOKEN_ERR_ACCESS,
		    "self-service: no account named %s", user);
	if (s->n_users == 0 && s->n_groups == 0)
		return APITOKEN_OK;
	if (in_list(s->users, s->n_users, user))
		return APITOKEN_OK;
	for (i = 0; i < s->n_groups; i++)
		if (member_of(user, p->pw_gid, s->groups[i]))
			return APITOKEN_OK;
	return set_err(err, errlen, APITOKEN_ERR_ACCESS,
	    "self-service is not allowed for user %s "
	    "(self_service.users and groups)", user);
}

static int
same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

static int
services_ok(const struct apitoken_self_service *s,
    const struct apitoken_record *r, char *err, size_t errlen)
{
	size_t i;

	if (r->n_services == 0)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "a self-issued "
		    "token must name at least one service (--service)");
	for (i = 0; i < r->n_services; i++)
		if (!in_list(s->services, s->n_services, r->services[i]))
			return set_err(err, errlen, APITOKEN_ERR_RULE,
			    "service %s is not one a self-issued token may "
			    "name (self_service.services)", r->services[i]);
	return APITOKEN_OK;
}

/* "90d", "12h", "30m" or "45s": the largest unit that divides secs. */
static void
duration_format(int64_t secs, char *buf, size_t size)
{
	static const struct { char c; int64_t n; } u[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t i = 0;

	while (i < 3 && secs % u[i].n != 0)
		i++;
	snprintf(buf, size, "%lld%c", (long long)(secs / u[i].n), u[i].c);
}

static int
expiry_ok(const struct apitoken_self_service *s,
    const struct apitoken_record *r, time_t now, char *err, size_t errlen)
{
	char lim[32];

	if (s->max_lifetime == APITOKEN_NEVER)
		return APITOKEN_OK;
	duration_format(s->max_lifetime, lim, sizeof(lim));
	if (r->expires == 0)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "a self-issued "
		    "token must expire within %s (self_service.max_lifetime)",
		    lim);
	if (r->expires > (int64_t)now + s->max_lifetime)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "expiry is "
		    "later than the self-service limit of %s from now "
		    "(self_service.max_lifetime)", lim);
	return APITOKEN_OK;
}

struct live_count {
	const char *user;
	time_t now;
	size_t n;
};

static int
count_one(struct apitoken_record **rp, void *ctx)
{
	struct live_count *lc = ctx;
	const struct apitoken_record *r = *rp;

	if (r->status != APITOKEN_REVOKED && strcmp(r->user, lc->user) == 0 &&
	    !apitoken_record_expired(r, lc->now))
		lc->n++;
	return 0;
}

static int
count_ok(const struct apitoken_self_service *s,
    const struct apitoken_self_change *c, time_t now, char *err,
    size_t errlen)
{
	struct live_count lc = { c->user, now, 0 };
	int r;

	if (c->txn == NULL)
		return set_err(err, errlen, APITOKEN_ERR_INTERNAL,
		    "self-service: no transaction to count tokens in");
	if ((r = apitoken_txn_foreach(c->txn, count_one, &lc, err,
	    errlen)) != APITOKEN_OK)
		return r;
	if (lc.n >= s->max_tokens)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "user %s has "
		    "%zu live tokens, the self-service limit "
		    "(self_service.max_tokens: %zu)", c->user, lc.n,
		    s->max_tokens);
	return APITOKEN_OK;
}

/* The rules for the token rec as it will be (op ISSUE, ROTATE, EDIT). */
static int
token_ok(const struct apitoken_self_service *s,
    const struct apitoken_self_change *c, time_t now, char *err,
    size_t errlen)
{
	const struct apitoken_record *r = c->rec, *o = c->op ==
	    APITOKEN_SELF_EDIT ? c->old : NULL;
	int e;

	if (strcmp(r->user, c->user) != 0)
		return set_err(err, errlen, APITOKEN_ERR_ACCESS,
		    "self-service: a token of another user");
	if ((o == NULL || !same_list(o->services, o->n_services, r->services,
	    r->n_services)) && (e = services_ok(s, r, err, errlen)) != 0)
		return e;
	if ((o == NULL || o->expires != r->expires) &&
	    (e = expiry_ok(s, r, now, err, errlen)) != 0)
		return e;
	if ((o == NULL || !same_list(o->from, o->n_from, r->from,
	    r->n_from)) && s->from_required && r->n_from == 0)
		return set_err(err, errlen, APITOKEN_ERR_RULE, "a self-issued "
		    "token must name the addresses it may come from (--from; "
		    "self_service.allow_from_required)");
	if (c->op == APITOKEN_SELF_ISSUE)
		return count_ok(s, c, now, err, errlen);
	return APITOKEN_OK;
}

int
apitoken_self_check(const struct apitoken_config *cfg,
    const struct apitoken_self_change *c, char *err, size_t errlen)
{
	const struct apitoken_self_service *s =
	    apitoken_config_self_service(cfg);
	time_t now = c->now != 0 ? c->now : time(NULL);
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!s->enabled)
		return set_err(err, errlen, APITOKEN_ERR_ACCESS,
		    "self-service is not enabled (self_service.enabled)");
	if (c->user == NULL || c->user[0] == '\0')
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "self-service: no user");
	if ((r = who_ok(s, c->user, err, errlen)) != APITOKEN_OK)
		return r;
	if (c->op == APITOKEN_SELF_USE)
		return APITOKEN_OK;
	if (c->rec == NULL || (c->op != APITOKEN_SELF_ISSUE && c->old == NULL))
		return set_err(err, errlen, APITOKEN_ERR_INVALID,
		    "self-service: no token to check");
	return token_ok(s, c, now, err, errlen);
}
