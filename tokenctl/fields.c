/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fields.c - validate token metadata given on the command line (issue,
 * edit) or in a --batch line, and apply it to a record.  The value rules
 * are the library's (apitoken_label_valid, apitoken_cidr_valid, ...);
 * the policy rules (existing account, unique label, lifetime limits,
 * live parent) are tokenctl's.
 *
 * Exit statuses: CTL_EXIT_USAGE for a value that is malformed,
 * CTL_EXIT_REJECT for one refused by policy or the store's content.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/*
 * The one list of what a request may give: its option (USER: the
 * operand), its getopt value (CTL_FIELD_OPTIONS; 0: none), its key in a
 * --batch line, and where struct ctl_fields keeps it: a string, or a
 * list with its count and "given" flag.  The keys are the --batch
 * format's (tokenctl(8)), not the record's field names ("service").
 */
#define STR(m)	offsetof(struct ctl_fields, m), 0, 0
#define LIST(m)	offsetof(struct ctl_fields, m), \
	offsetof(struct ctl_fields, n_##m), offsetof(struct ctl_fields, m##_set)

static const struct req_field {
	const char *opt;
	int val;
	const char *key;
	size_t at, n_at, set_at;	/* n_at == 0: a string */
} req[] = {
	{ "USER", 0, "user", STR(user) },
	{ "--label", 'l', "label", STR(label) },
	{ "--description", 'd', "description", STR(description) },
	{ "--external-id", 'e', "external_id", STR(external_id) },
	{ "--service", 's', "service", LIST(services) },
	{ "--from", 'f', "from", LIST(from) },
	{ "--host", 'H', "host", LIST(hosts) },
	{ "--expires", 'x', "expires", STR(expires) },
	{ "--parent", 0, "parent", STR(parent) },
};
#define NREQ	(sizeof(req) / sizeof(req[0]))

/* The name of a field in messages: the option, or the --batch key. */
static const char *
fname(const struct ctl_fields *f, const char *opt)
{
	size_t i;

	for (i = 0; f->json && i < NREQ; i++)
		if (strcmp(req[i].opt, opt) == 0)
			return req[i].key;
	return opt;
}

static struct ctl_field_ref
ref(struct ctl_fields *f, const struct req_field *q)
{
	struct ctl_field_ref r = { NULL, NULL, NULL, NULL };
	char *base = (char *)f;

	if (q->n_at == 0) {
		r.str = (const char **)(void *)(base + q->at);
	} else {
		r.list = (const char ***)(void *)(base + q->at);
		r.n = (size_t *)(void *)(base + q->n_at);
		r.set = (int *)(void *)(base + q->set_at);
	}
	return r;
}

int
fields_ref(struct ctl_fields *f, const char *key, struct ctl_field_ref *r)
{
	size_t i;

	for (i = 0; i < NREQ; i++)
		if (strcmp(req[i].key, key) == 0) {
			*r = ref(f, &req[i]);
			return 0;
		}
	return -1;
}

void
fields_keys(char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < NREQ && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i > 0 ? ", " : "", req[i].key);
}

static int
fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

static void
set_str(char **field, const char *v)
{
	if (apitoken_record_set(field, v) != APITOKEN_OK) {
		ctl_err("out of memory");
		exit(CTL_EXIT_SYSTEM);
	}
}

static void
list_add(char ***list, size_t *n, const char *v)
{
	if (apitoken_record_list_add(list, n, v) != APITOKEN_OK) {
		ctl_err("out of memory");
		exit(CTL_EXIT_SYSTEM);
	}
}

void
fields_add(const char ***list, size_t *n, int *set, const char *v)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = v;
	*set = 1;
}

int
fields_option(struct ctl_fields *f, int c, const char *arg)
{
	const struct req_field *q;
	char *base = (char *)f;

	for (q = req; q < req + NREQ && (c == 0 || q->val != c); q++)
		;
	if (q == req + NREQ)
		return 0;
	if (q->n_at == 0)
		*(const char **)(void *)(base + q->at) = arg;
	else
		fields_add((const char ***)(void *)(base + q->at),
		    (size_t *)(void *)(base + q->n_at),
		    (int *)(void *)(base + q->set_at), arg);
	return 1;
}

void
fields_free(struct ctl_fields *f)
{
	free(f->services);
	free(f->from);
	free(f->hosts);
	memset(f, 0, sizeof(*f));
}

/* A duration in the largest unit that divides it: "1y", "90d", "36h". */
static void
fmt_duration(int64_t s, char *buf, size_t size)
{
	static const struct { int64_t secs; char unit; } u[] = {
		{ 365LL * 86400, 'y' }, { 7 * 86400, 'w' }, { 86400, 'd' },
		{ 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (s % u[i].secs == 0)
			break;
	if (i == sizeof(u) / sizeof(u[0]))
		i--;
	snprintf(buf, size, "%lld%c", (long long)(s / u[i].secs), u[i].unit);
}

/* The parent's expiry caps a derived token's: 0 = no cap. */
static int64_t
parent_cap(const struct ctl_db *db, const char *parent)
{
	const struct apitoken_record *p;

	if (parent == NULL || parent[0] == '\0' ||
	    (p = db_find(db, parent)) == NULL)
		return 0;
	return p->expires;
}

int
fields_expiry(const struct ctl *ctl, const struct ctl_db *db,
    const char *name, const char *when, const char *parent,
    int64_t *expires, char *err, size_t errlen)
{
	int64_t max = apitoken_config_max_lifetime(ctl->cfg);
	int64_t cap = parent_cap(db, parent), t, now = (int64_t)ctl->now;
	char maxs[32], caps[32];

	*expires = 0;
	if (when == NULL) {
		t = apitoken_config_default_lifetime(ctl->cfg);
		if (t != APITOKEN_NEVER)
			t = now + t;
		if (max != APITOKEN_NEVER &&
		    (t == APITOKEN_NEVER || t > now + max))
			t = now + max;
		if (cap != 0 && (t == APITOKEN_NEVER || t > cap))
			t = cap;
		if (t != APITOKEN_NEVER && t <= now)
			return fail(err, errlen, CTL_EXIT_REJECT, "parent %s "
			    "has expired; a derived token cannot outlive it",
			    parent);
		*expires = t == APITOKEN_NEVER ? 0 : t;
		return CTL_EXIT_OK;
	}
	if (apitoken_when_parse(when, ctl->now, &t) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': "
		    "give a duration (45s, 30m, 12h, 90d, 2w, 1y), a date "
		    "YYYY-MM-DD, a UTC time YYYY-MM-DDTHH:MM[:SS]Z, or never",
		    name, when);
	fmt_duration(max, maxs, sizeof(maxs));
	if (t == APITOKEN_NEVER && max != APITOKEN_NEVER)
		return fail(err, errlen, CTL_EXIT_REJECT, "%s never: refused, "
		    "max_lifetime is %s", name, maxs);
	if (t != APITOKEN_NEVER && t <= now)
		return fail(err, errlen, CTL_EXIT_REJECT, "%s '%s' is in the "
		    "past", name, when);
	if (t != APITOKEN_NEVER && max != APITOKEN_NEVER && t - now > max)
		return fail(err, errlen, CTL_EXIT_REJECT, "%s '%s' is beyond "
		    "max_lifetime (%s)", name, when, maxs);
	if (cap != 0 && (t == APITOKEN_NEVER || t > cap)) {
		ctl_time_abs(cap, caps, sizeof(caps));
		return fail(err, errlen, CTL_EXIT_REJECT, "%s '%s' is after "
		    "the expiry of parent %s (%s); a derived token cannot "
		    "outlive it", name, when, parent, caps);
	}
	*expires = t == APITOKEN_NEVER ? 0 : t;
	return CTL_EXIT_OK;
}

static int
apply_text(const struct ctl_fields *f, const char *opt, const char *v,
    size_t max, char **field, char *err, size_t errlen)
{
	if (v == NULL)
		return CTL_EXIT_OK;
	if (apitoken_text_valid(v, max) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s: must be "
		    "one line of at most %zu bytes of UTF-8 text without "
		    "control characters", fname(f, opt), max);
	set_str(field, v);
	return CTL_EXIT_OK;
}

static int
seen(char **list, size_t n, const char *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

/* One list option (--service, --from, --host): its "everything" word, what it
 * cannot be combined with, the check of one value, the largest count. */
struct list_opt {
	const char *name;
	const char *every;
	const char *others;
	int (*check)(const char *opt, const char *v, char *err,
	    size_t errlen);
	size_t max;
};

static int
check_service(const char *opt, const char *v, char *err, size_t errlen)
{
	if (apitoken_service_valid(v) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': a "
		    "PAM service name is 1..%d of [A-Za-z0-9._+-]", opt, v,
		    APITOKEN_SERVICE_MAX);
	return CTL_EXIT_OK;
}

static int
check_from(const char *opt, const char *v, char *err, size_t errlen)
{
	char net[64];

	if (apitoken_cidr_valid(v) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': "
		    "give an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8 "
		    "or 2001:db8::/32", opt, v);
	if (apitoken_cidr_strict(v, net, sizeof(net)) != 0)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': "
		    "address bits set past the prefix length (the network is "
		    "%s)", opt, v, net);
	return CTL_EXIT_OK;
}

static int
check_host(const char *opt, const char *v, char *err, size_t errlen)
{
	if (v[0] == '@' && apitoken_host_group_valid(v + 1) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': a "
		    "host group is @ and 1..%d of [A-Za-z0-9._-]", opt, v,
		    APITOKEN_HOST_GROUP_MAX);
	if (apitoken_host_valid(v) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s '%s': "
		    "give a host name (labels of [A-Za-z0-9-] joined by dots), "
		    "a pattern of one with * ? or [...] such as build-*, or "
		    "@GROUP", opt, v);
	return CTL_EXIT_OK;
}

static const struct list_opt services_opt = { "--service", "all",
	"other services", check_service, APITOKEN_SERVICES_MAX };
static const struct list_opt from_opt = { "--from", "any", "addresses",
	check_from, APITOKEN_FROM_MAX };
static const struct list_opt hosts_opt = { "--host", "all", "other hosts",
	check_host, APITOKEN_HOSTS_MAX };

/* Replace *list by the values given: the "everything" word alone means
 * an empty list; duplicates are dropped. */
static int
apply_list(const struct ctl_fields *f, const struct list_opt *o,
    const char *const *vals, size_t n, char ***list, size_t *nlist, char *err,
    size_t errlen)
{
	const char *opt = fname(f, o->name);
	size_t i;
	int r;

	apitoken_record_list_clear(list, nlist);
	if (n == 1 && strcmp(vals[0], o->every) == 0)
		return CTL_EXIT_OK;
	for (i = 0; i < n; i++) {
		if (strcmp(vals[i], o->every) == 0)
			return fail(err, errlen, CTL_EXIT_USAGE, "%s %s cannot "
			    "be combined with %s", opt, o->every, o->others);
		if ((r = o->check(opt, vals[i], err, errlen)) != CTL_EXIT_OK)
			return r;
		if (!seen(*list, *nlist, vals[i]))
			list_add(list, nlist, vals[i]);
	}
	if (*nlist > o->max)
		return fail(err, errlen, CTL_EXIT_USAGE, "too many %s values "
		    "(at most %zu)", opt, o->max);
	return CTL_EXIT_OK;
}

/* USER and --parent, for a new record only. */
static int
apply_owner(const struct ctl_db *db, const struct ctl_fields *f,
    struct apitoken_record *rec, char *err, size_t errlen)
{
	const struct apitoken_record *p;

	if (f->user == NULL || f->user[0] == '\0')
		return fail(err, errlen, CTL_EXIT_USAGE, "missing %s",
		    fname(f, "USER"));
	if (strlen(f->user) > APITOKEN_USER_MAX || !ctl_user_exists(f->user))
		return fail(err, errlen, CTL_EXIT_REJECT, "no such user '%s' "
		    "(%s must be an existing account)", f->user,
		    fname(f, "USER"));
	set_str(&rec->user, f->user);
	if (f->parent == NULL)
		return CTL_EXIT_OK;
	if ((p = db_find(db, f->parent)) == NULL)
		return fail(err, errlen, CTL_EXIT_REJECT, "%s: no token with "
		    "ID '%s'", fname(f, "--parent"), f->parent);
	if (p->status == APITOKEN_REVOKED)
		return fail(err, errlen, CTL_EXIT_REJECT, "%s: token %s is "
		    "revoked", fname(f, "--parent"), p->id);
	set_str(&rec->parent, p->id);
	return CTL_EXIT_OK;
}

static int
apply_label(const struct ctl_db *db, const struct ctl_fields *f,
    struct apitoken_record *rec, int is_new, char *err, size_t errlen)
{
	const struct apitoken_record *o;

	if (f->label == NULL && is_new)
		return fail(err, errlen, CTL_EXIT_USAGE, "%s is required",
		    fname(f, "--label"));
	if (f->label == NULL)
		return CTL_EXIT_OK;
	if (apitoken_label_valid(f->label) != APITOKEN_OK)
		return fail(err, errlen, CTL_EXIT_USAGE, "invalid %s: must be "
		    "one line of 1..%d bytes of UTF-8 text without control "
		    "characters", fname(f, "--label"), APITOKEN_LABEL_MAX);
	o = db_label_taken(db, rec->user, f->label, is_new ? NULL : rec->id);
	if (o != NULL)
		return fail(err, errlen, CTL_EXIT_REJECT, "user %s already has "
		    "a token labelled '%s' (%s); labels are unique among a "
		    "user's non-revoked tokens", rec->user, f->label, o->id);
	set_str(&rec->label, f->label);
	return CTL_EXIT_OK;
}

int
fields_apply(const struct ctl *ctl, const struct ctl_db *db,
    const struct ctl_fields *f, struct apitoken_record *rec, int is_new,
    char *err, size_t errlen)
{
	int r;

	if (is_new && (r = apply_owner(db, f, rec, err, errlen)) != 0)
		return r;
	if ((r = apply_label(db, f, rec, is_new, err, errlen)) != 0 ||
	    (r = apply_text(f, "--description", f->description,
	    APITOKEN_DESCRIPTION_MAX, &rec->description, err, errlen)) != 0 ||
	    (r = apply_text(f, "--external-id", f->external_id,
	    APITOKEN_EXTERNAL_ID_MAX, &rec->external_id, err, errlen)) != 0 ||
	    (f->services_set && (r = apply_list(f, &services_opt,
	    f->services, f->n_services, &rec->services, &rec->n_services, err,
	    errlen)) != 0) ||
	    (f->from_set && (r = apply_list(f, &from_opt, f->from, f->n_from,
	    &rec->from, &rec->n_from, err, errlen)) != 0) ||
	    (f->hosts_set && (r = apply_list(f, &hosts_opt, f->hosts,
	    f->n_hosts, &rec->hosts, &rec->n_hosts, err, errlen)) != 0))
		return r;
	if (is_new || f->expires != NULL)
		return fields_expiry(ctl, db, fname(f, "--expires"),
		    f->expires, rec->parent, &rec->expires, err, errlen);
	return CTL_EXIT_OK;
}
